/**
 * ResNet's stem in evaluation as one kernel (`lits_conv2d_relu_maxpool3s2_f32`
 * and its bf16 twin; native/cpu/conv_stem_pool.c, src/tensor/ops/conv_pool.ts):
 * the bits of conv2d -> batch norm -> ReLU -> maxPool2d(3, stride 2,
 * padding 1) run one by one (batches of one, odd stem outputs whose last
 * window is cut, rows of 16 to 49 pixels, output channels not a multiple
 * of 8, a bias, no batch norm, NaN), the same bits for 1, 2 and 3 threads,
 * the geometries and switches it leaves to the ops one by one, calls it
 * refuses, and the ResNet that uses it only where nothing is skipped.
 */
import assert from "node:assert/strict";
import {
  autocast,
  functional as F,
  manualSeed,
  models,
  nn,
  noGrad,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { conv2dReluMaxPool3s2 } from "../src/tensor/ops/conv_pool.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { STATUS } from "../src/ffi/codes.ts";
import { assertBits, AVX512, countCalls, randomEvalStats, withEnv } from "./helpers.ts";
import { bf16Convolutions, resolve } from "./conv_ref.ts";

// The stem kernel runs on AVX-512 CPUs (AVX512); elsewhere the ops one by one.
const { noBf16 } = bf16Convolutions("conv_stem_pool_test.ts");
const KERNELS = ["lits_conv2d_relu_maxpool3s2_f32", "lits_conv2d_relu_maxpool3s2_bf16_f32"];
const counting = <T>(fn: () => T) => countCalls(KERNELS, fn);
const POOL = { stride: 2, padding: 1 };

interface Case {
  name: string;
  /** Input [n, 1, h, w]; filters [k, 1, r, s]; the convolution's padding. */
  x: number[];
  w: number[];
  padding: [number, number];
  bias?: boolean;
  bn?: boolean;
  /** A NaN in the input: the windows over its outputs are NaN, as the pool's. */
  nan?: boolean;
}

const cases: Case[] = [
  {
    name: "ResNet's stem (7x7, padding 3), 40 x 100, batch norm",
    x: [2, 1, 40, 100],
    w: [16, 1, 7, 7],
    padding: [3, 3],
    bn: true,
  },
  {
    name: "batch 1, 13 channels, odd stem output 11 x 34, bias and batch norm, a NaN",
    x: [1, 1, 21, 67],
    w: [13, 1, 7, 7],
    padding: [3, 3],
    bias: true,
    bn: true,
    nan: true,
  },
  {
    name: "5x3 filter, padding 2 and 0, stem rows of 18, no batch norm",
    x: [3, 1, 15, 37],
    w: [9, 1, 5, 3],
    padding: [2, 0],
  },
  {
    name: "rows of 16 (the fewest), 24 channels, batch norm",
    x: [2, 1, 9, 37],
    w: [24, 1, 7, 7],
    padding: [1, 1],
    bn: true,
  },
];

/** The case's pooled stem both ways (null where the kernel declined), and the kernel's calls. */
function run(c: Case, bf16 = false): [Float32Array | null, Float32Array, number] {
  return noGrad(() =>
    scope(() => {
      manualSeed(c.x.reduce((a, b) => a + b, 0) + c.w[0]);
      const k = c.w[0];
      const values = randn(c.x).toArray() as Float32Array;
      if (c.nan) values[3 * c.x[3] + 7] = NaN;
      const x = tensor(values, c.x), w = randn(c.w), b = c.bias ? randn([k]) : null;
      const stats = c.bn ? randomEvalStats(k) : null;
      const opts = { stride: 2, padding: c.padding };
      const inP = <T>(fn: () => T) => bf16 ? autocast("bfloat16", fn) : fn();
      const [y, calls] = counting(() => inP(() => conv2dReluMaxPool3s2(x, w, b, opts, stats)));
      let v = inP(() => F.conv2d(x, w, b, opts));
      if (stats) {
        v = F.batchNorm(v, stats.runningMean, stats.runningVar, stats.weight, stats.bias);
      }
      const plain = F.maxPool2d(F.relu(v), 3, POOL).toArray() as Float32Array;
      return [y ? y.toArray() as Float32Array : null, plain, calls];
    })
  );
}

for (const c of cases) {
  Deno.test(`stem + relu + max pool: ${c.name}, the bits of the separate ops`, () => {
    const [fused, plain, calls] = run(c);
    if (!AVX512) return assert.equal(fused, null); // the ops one by one
    assert.ok(fused !== null, "the kernel did not apply");
    assert.equal(calls, 1);
    assertBits(fused, plain, c.name);
    if (c.nan) assert.ok(plain.some(Number.isNaN), "the NaN reached no window");
  });
  Deno.test({
    name: `stem + relu + max pool (bf16 autocast): ${c.name}, the bits of the separate ops`,
    ignore: noBf16 || !AVX512,
    fn: () => {
      const [fused, plain, calls] = run(c, true);
      assert.ok(fused !== null, "the kernel did not apply");
      assert.equal(calls, 1);
      assertBits(fused, plain, c.name);
    },
  });
}

Deno.test("stem + relu + max pool: the same bits with 1, 2 and 3 threads", () => {
  const lib = cpuLib();
  const before = new Int32Array(1);
  assert.equal(lib.lits_get_num_threads(before), 0);
  try {
    const [one, two, three] = [1, 2, 3].map((t) => {
      assert.equal(lib.lits_set_num_threads(t), 0);
      return run(cases[1])[0];
    });
    if (!AVX512) return assert.equal(one, null);
    assertBits(two!, one!, "1 and 2 threads");
    assertBits(three!, one!, "1 and 3 threads");
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
});

Deno.test("stem + relu + max pool: geometries and switches it leaves to the ops one by one", () => {
  const stem = cases[0];
  const declined: [string, Case, Record<string, string>][] = [
    ["3 input channels", { ...stem, x: [1, 3, 40, 100], w: [16, 3, 7, 7] }, {}],
    ["stem rows of 15 (under 16)", { ...stem, x: [1, 1, 40, 29] }, {}],
    ["LITS_CONV_STEM=off", stem, { LITS_CONV_STEM: "off" }],
  ];
  for (const [what, c, env] of declined) {
    const [fused, , calls] = withEnv(env, () => run(c));
    assert.equal(fused, null, what);
    assert.equal(calls, 0, what);
  }
  // Stride 1: the stem kernel is for stride 2.
  noGrad(() =>
    scope(() => {
      const y = conv2dReluMaxPool3s2(randn([1, 1, 20, 40]), randn([8, 1, 3, 3]), null, {
        padding: 1,
      }, null);
      assert.equal(y, null, "stride 1");
    })
  );
  // bf16 where the CPU offers none (LITS_BF16=off; read by the native side on every call).
  const g = resolve({ n: 1, c: 1, h: 40, w: 100, k: 16, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 });
  const takes = new Int32Array(1);
  const lib = cpuLib();
  assert.equal(lib.lits_conv2d_relu_maxpool3s2_takes!(g.params, 0, takes), 0);
  assert.equal(takes[0], AVX512 ? 1 : 0, "fp32");
  withEnv({ LITS_BF16: "off" }, () => {
    assert.equal(lib.lits_conv2d_relu_maxpool3s2_takes!(g.params, 1, takes), 0);
  });
  assert.equal(takes[0], 0, "bf16 with LITS_BF16=off");
});

Deno.test("stem + relu + max pool: calls it refuses name the reason", () => {
  const lib = cpuLib();
  const P = Deno.UnsafePointer.of;
  const g = resolve({ n: 1, c: 3, h: 20, w: 40, k: 8, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 });
  const x = new Float32Array(3 * 20 * 40), w = new Float32Array(8 * 3 * 49);
  const y = new Float32Array(8 * 5 * 10);
  const takes = new Int32Array([7]);
  assert.equal(lib.lits_conv2d_relu_maxpool3s2_takes!(g.params, 0, takes), 0);
  assert.equal(takes[0], 0);
  const st = lib.lits_conv2d_relu_maxpool3s2_f32!(g.params, P(x), P(w), null, null, P(y));
  assert.equal(st, STATUS.errUnavailable);
  assert.match(lastError(lib), /not served for this geometry or CPU/);
  const one = resolve({ n: 1, c: 1, h: 20, w: 40, k: 8, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 });
  assert.notEqual(
    lib.lits_conv2d_relu_maxpool3s2_f32!(one.params, null, P(w), null, null, P(y)),
    0,
  );
  assert.match(lastError(lib), /x, weight or y is NULL/);
  assert.notEqual(lib.lits_conv2d_relu_maxpool3s2_takes!(one.params, 0, null), 0);
});

/** A small ResNet-50 in evaluation, its batch norms' statistics from a few batches. */
function resnet(): models.ResNet {
  manualSeed(11);
  const net = models.resnet50({ inChannels: 1, numClasses: 3 });
  for (let i = 0; i < 2; i++) noGrad(() => scope(() => void net.forward(randn([2, 1, 64, 48]))));
  return net.eval();
}

Deno.test("stem + relu + max pool: ResNet-50 in evaluation, fused and plain", () => {
  using net = resnet();
  using x = randn([2, 1, 64, 48]);
  for (const bf16 of noBf16 ? [false] : [false, true]) {
    const forward = () =>
      noGrad(() =>
        scope(() => {
          const y = bf16 ? autocast("bfloat16", () => net.forward(x)) : net.forward(x);
          return (y as Tensor).toArray() as Float32Array;
        })
      );
    const [fused, calls] = counting(forward);
    assert.equal(calls, AVX512 ? 1 : 0, bf16 ? "bf16" : "fp32");
    const was = setFusion(false);
    try {
      const [plain, none] = counting(forward);
      assert.equal(none, 0);
      assertBits(fused, plain, bf16 ? "ResNet-50 logits, bf16" : "ResNet-50 logits");
    } finally {
      setFusion(was);
    }
  }
});

Deno.test("stem + relu + max pool: not with gradients, a hook, another pool, or training", () => {
  using net = resnet();
  using x = randn([2, 1, 64, 48], { requiresGrad: true });
  scope(() => {
    const [out, calls] = counting(() => net.forward(x));
    assert.equal(calls, 0);
    out.sum().backward();
    assert.ok(x.grad !== null);
    net.zeroGrad();
    let seen = 0;
    const handle = net.relu.registerForwardHook(() => void seen++);
    const [, hooked] = counting(() => noGrad(() => net.forward(x)));
    handle.remove();
    assert.equal(hooked, 0);
    assert.ok(seen >= 1);
    const pool = net.maxpool;
    net.maxpool = new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true });
    const [, ceil] = counting(() => noGrad(() => net.forward(x)));
    net.maxpool = pool;
    assert.equal(ceil, 0, "ceilMode");
    net.train();
    const [, training] = counting(() => noGrad(() => net.forward(x)));
    assert.equal(training, 0);
  });
});
