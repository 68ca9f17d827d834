/**
 * A small CNN stage in evaluation as one kernel
 * (`lits_conv2d_relu_maxpool2_f32`, src/tensor/ops/conv_pool.ts): the bits
 * of conv2d -> batch norm? -> ReLU -> maxPool2d(2) run one by one (batches
 * of one, one input channel, odd sizes whose last row and column the pool
 * drops, rows cut by 32-column blocks, NaN), the geometries it leaves to
 * the ops one by one, and the SimpleCNN that uses it only where nothing is
 * skipped (no gradients, no hooks).
 */
import assert from "node:assert/strict";
import {
  autocast,
  functional as F,
  manualSeed,
  models,
  noGrad,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { conv2dReluMaxPool2 } from "../src/tensor/ops/conv_pool.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { assertBits, AVX512, countCalls, randomEvalStats } from "./helpers.ts";
import { bf16Convolutions } from "./conv_ref.ts";

// The kernel serves where the direct 3x3 kernel runs: AVX-512 builds (this
// machine's), layers of few channels on any of them.
const KERNEL = "lits_conv2d_relu_maxpool2_f32";

/** fn's result, and how many times the kernel ran. */
const counting = <T>(fn: () => T) => countCalls([KERNEL], fn);

interface Case {
  name: string;
  x: number[];
  w: number[];
  bias?: boolean;
  bn?: boolean;
  /** x[0] set to NaN: its window's maximum is NaN, as the pool's. */
  nan?: boolean;
}

const cases: Case[] = [
  { name: "1 -> 16 channels, 40 x 40, bias", x: [2, 1, 40, 40], w: [16, 1, 3, 3], bias: true },
  {
    name: "batch 1, 16 -> 8, 37 x 35 (the last row and column dropped)",
    x: [1, 16, 37, 35],
    w: [8, 16, 3, 3],
    bias: true,
  },
  {
    name: "8 -> 16, 70 wide (blocks of 32 columns, the last cut), batch norm",
    x: [2, 8, 12, 70],
    w: [16, 8, 3, 3],
    bias: true,
    bn: true,
  },
  { name: "no bias, batch norm, a NaN", x: [2, 4, 9, 33], w: [8, 4, 3, 3], bn: true, nan: true },
];

/**
 * The case's output both ways (null where the kernel declined), and the
 * kernel's calls; under bf16 autocast where bf16 (the bf16 kernel).
 */
function run(c: Case, padding = 1, bf16 = false): [Float32Array | null, Float32Array, number] {
  const precision = <T>(fn: () => T) => bf16 ? autocast("bfloat16", fn) : fn();
  const count = <T>(fn: () => T) => countCalls([bf16 ? BF16_KERNEL : KERNEL], fn);
  return noGrad(() =>
    precision(() =>
      scope(() => {
        manualSeed(c.x.reduce((a, b) => a + b, 0));
        const k = c.w[0];
        const values = randn(c.x).toArray() as Float32Array;
        if (c.nan) values[0] = NaN;
        const x = tensor(values, c.x), w = randn(c.w), b = c.bias ? randn([k]) : null;
        const stats = c.bn ? randomEvalStats(k) : null;
        const opts = { padding };
        const [y, calls] = count(() => conv2dReluMaxPool2(x, w, b, opts, stats));
        let v = F.conv2d(x, w, b, opts);
        if (stats) {
          v = F.batchNorm(v, stats.runningMean, stats.runningVar, stats.weight, stats.bias);
        }
        const plain = F.maxPool2d(F.relu(v), 2).toArray() as Float32Array;
        return [y ? y.toArray() as Float32Array : null, plain, calls];
      })
    )
  );
}

// Under bf16 autocast the kernel serves a stage of one input channel, whose
// bf16 convolution is the fp32 direct kernel over bf16-rounded operands
// (conv_bf16_rounded.c): the bits of that convolution, then the pool.
const BF16_KERNEL = "lits_conv2d_relu_maxpool2_bf16_f32";
const { noBf16 } = bf16Convolutions("conv_pool_test");

Deno.test({
  name: "conv + relu + max pool under bf16 autocast: one input channel, the bits of the ops",
  ignore: noBf16,
  fn() {
    const oneChannel: Case[] = [
      cases[0],
      {
        name: "1 -> 8, batch norm, a NaN",
        x: [3, 1, 33, 37],
        w: [8, 1, 3, 3],
        bn: true,
        nan: true,
      },
    ];
    for (const c of oneChannel) {
      const [fused, plain, calls] = run(c, 1, true);
      assert.ok(fused !== null, `${c.name}: the kernel did not apply`);
      assert.equal(calls, 1);
      assertBits(fused, plain, c.name);
      // And not the fp32 result: the operands were rounded.
      const [fp32] = run(c);
      assert.ok(fp32!.some((v, i) => !Object.is(v, fused[i])), `${c.name}: fp32's bits`);
    }
    for (const c of cases.slice(1)) { // more input channels: the bf16 kernels, one by one
      const [fused, , calls] = run(c, 1, true);
      assert.equal(fused, null, c.name);
      assert.equal(calls, 0, c.name);
    }
  },
});

for (const c of cases) {
  Deno.test(`conv + relu + max pool: ${c.name}, the bits of the separate ops`, () => {
    const [fused, plain, calls] = run(c);
    if (!AVX512) return assert.equal(fused, null); // the ops one by one
    assert.ok(fused !== null, "the kernel did not apply");
    assert.equal(calls, 1);
    assertBits(fused, plain, c.name);
  });
}

Deno.test("conv + relu + max pool: geometries it leaves to the ops one by one", () => {
  const declined: [Case, number][] = [
    [{ name: "12 output channels (not 8k)", x: [1, 4, 8, 40], w: [12, 4, 3, 3] }, 1],
    [{ name: "rows of 20 (under 32)", x: [1, 4, 8, 20], w: [8, 4, 3, 3] }, 1],
    [{ name: "5x5", x: [1, 4, 12, 40], w: [8, 4, 5, 5] }, 2],
    [{ name: "no padding", x: [1, 4, 12, 40], w: [8, 4, 3, 3] }, 0],
  ];
  for (const [c, padding] of declined) {
    const [fused, , calls] = run(c, padding);
    assert.equal(fused, null, c.name);
    assert.equal(calls, 0, c.name);
  }
});

/** A SimpleCNN with batch norm, in evaluation after a few batches' statistics. */
function simpleNet(): models.SimpleCNN {
  manualSeed(5);
  const net = models.simpleCNN({ imageSize: 64, batchNorm: true });
  for (let i = 0; i < 2; i++) noGrad(() => scope(() => void net.forward(randn([4, 1, 64, 64]))));
  net.eval();
  return net;
}

Deno.test("conv + relu + max pool: SimpleCNN in evaluation, fused and plain", () => {
  using net = simpleNet();
  using x = randn([2, 1, 64, 64]);
  const forward = () => noGrad(() => scope(() => (net.forward(x) as Tensor).toArray()));
  const [fused, calls] = counting(forward);
  // The first stage (1 -> 16 at 64 x 64) everywhere; the second (16 -> 32
  // at 32 x 32) where the direct kernel, not Winograd, is its choice.
  assert.ok(AVX512 ? calls >= 1 : calls === 0, `${calls} calls`);
  const was = setFusion(false);
  try {
    assertBits(fused as Float32Array, forward() as Float32Array, "SimpleCNN logits");
  } finally {
    setFusion(was);
  }
  if (noBf16) return;
  // Under bf16 autocast: the first stage fused, the same bits as plain ops.
  const bf16 = () => autocast("bfloat16", forward);
  const [fusedBf16, bf16Calls] = countCalls([BF16_KERNEL], bf16);
  assert.equal(bf16Calls, 1);
  setFusion(false);
  try {
    assertBits(fusedBf16 as Float32Array, bf16() as Float32Array, "SimpleCNN logits, bf16");
  } finally {
    setFusion(was);
  }
});

Deno.test("conv + relu + max pool: not with gradients, a hook, or batch norm in training", () => {
  using net = simpleNet();
  using x = randn([2, 1, 64, 64], { requiresGrad: true });
  scope(() => {
    const [out, calls] = counting(() => net.forward(x));
    assert.equal(calls, 0);
    out.sum().backward();
    assert.ok(x.grad !== null);
    let seen = 0;
    const handle = net.features[2].registerForwardHook(() => void seen++); // the first ReLU
    const [, hooked] = counting(() => noGrad(() => net.forward(x)));
    handle.remove();
    assert.equal(hooked, 0);
    assert.equal(seen, 1);
    net.train();
    const [, training] = counting(() => noGrad(() => net.forward(x)));
    assert.equal(training, 0);
  });
});
