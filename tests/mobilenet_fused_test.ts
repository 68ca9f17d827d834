/**
 * MobileNetV2's inverted residual block in evaluation as one kernel
 * (`lits.h`'s lits_inverted_residual_f32; `src/tensor/ops/inverted_residual.ts`,
 * `src/models/inverted_residual_fused.ts`), against the three fused
 * convolutions run one by one (`conv2dBatchNormAct`), which the modules
 * run: the same bits, over band boundaries, strides, odd sizes, a batch
 * smaller than the threads, no expansion, and the portable path; the
 * paths that do not apply (training, gradients, autocast, a hooked child,
 * a backend without the kernel) run the modules.
 */
import assert from "node:assert/strict";
import { autocast, manualSeed, models, nn, noGrad, randn, scope, type Tensor } from "../mod.ts";
import { conv2dBatchNormAct, type EpilogueActivation } from "../src/tensor/ops/conv_epilogue.ts";
import { type ConvBnStage, invertedResidualEval } from "../src/tensor/ops/inverted_residual.ts";
import { inferCoef } from "../src/tensor/ops/norm.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import {
  assertBits,
  assertNearMean,
  countCalls,
  randomEvalStats,
  testDevice,
  withEnv,
  withoutSymbols,
} from "./helpers.ts";

const IR = "lits_inverted_residual_f32";
/** Whether the test device's library has the kernel (the CUDA one has none: its modules run). */
const native = testDevice === "cpu";
const dev = { device: testDevice };

/** A stage: weights of [out, in, k, k] scaled to keep values of order one. */
function stage(out: number, inPerGroup: number, k: number, options: ConvBnStage["options"]) {
  const fan = inPerGroup * k * k;
  return {
    weight: randn([out, inPerGroup, k, k], dev).mul(1.5 / Math.sqrt(fan)),
    options,
    bn: randomEvalStats(out, testDevice),
  };
}

interface Case {
  name: string;
  x: number[];
  hidden: number; // = x[1] without expansion
  out: number;
  stride: number;
  k?: number;
  expand?: boolean;
  act?: EpilogueActivation;
  residual?: boolean;
}

const cases: Case[] = [
  { name: "t = 6, 16 x 16, residual", x: [2, 8, 16, 16], hidden: 48, out: 8, stride: 1 },
  {
    name: "several bands of rows (96 x 40 x 64), residual",
    x: [2, 16, 40, 64],
    hidden: 96,
    out: 16,
    stride: 1,
  },
  {
    name: "several bands, stride 2, odd rows (96 x 45 x 64)",
    x: [3, 16, 45, 64],
    hidden: 96,
    out: 24,
    stride: 2,
    residual: false,
  },
  {
    name: "rows of 37 (vectors along a row, a masked last one), relu",
    x: [2, 6, 23, 37],
    hidden: 36,
    out: 6,
    stride: 1,
    act: "relu",
  },
  { name: "8 x 8 planes (two rows a vector)", x: [3, 16, 8, 8], hidden: 96, out: 16, stride: 1 },
  { name: "stride 2, 12 x 12 (pairs of rows)", x: [2, 8, 12, 12], hidden: 48, out: 12, stride: 2 },
  {
    name: "one image (bands split over the threads), residual",
    x: [1, 16, 48, 48],
    hidden: 96,
    out: 16,
    stride: 1,
  },
  {
    name: "5x5 stride 2, silu",
    x: [2, 8, 21, 32],
    hidden: 32,
    out: 16,
    stride: 2,
    k: 5,
    act: "silu",
    residual: false,
  },
  {
    name: "no expansion (t = 1), 32 x 40 x 40",
    x: [2, 32, 40, 40],
    hidden: 32,
    out: 16,
    stride: 1,
    expand: false,
    residual: false,
  },
  {
    name: "no expansion, stride 2, residual-free",
    x: [2, 16, 17, 33],
    hidden: 16,
    out: 16,
    stride: 2,
    expand: false,
    residual: false,
  },
];

/** The block in one call and as the three fused convolutions, with the kernel's call count. */
function blockCase(c: Case) {
  return noGrad(() =>
    scope(() => {
      manualSeed(c.x.reduce((a, b) => a + b, 11));
      const k = c.k ?? 3, act = c.act ?? "relu6", expand = c.expand ?? true;
      const residual = c.residual ?? (c.stride === 1 && c.x[1] === c.out);
      const x = randn(c.x, dev);
      const e = expand ? stage(c.hidden, c.x[1], 1, {}) : null;
      const d = stage(c.hidden, 1, k, {
        stride: c.stride,
        padding: (k - 1) >> 1,
        groups: c.hidden,
      });
      const p = stage(c.out, c.hidden, 1, {});
      const r = residual ? x : null;
      const [y, calls] = countCalls([IR], () => invertedResidualEval(x, e, d, p, act, r));
      const run = (s: ConvBnStage, t: Tensor, a: EpilogueActivation, res: Tensor | null) =>
        conv2dBatchNormAct(t, s.weight, null, s.options, s.bn, a, res)!;
      const h = e ? run(e, x, act, null) : x;
      const want = run(p, run(d, h, act, null), "none", r);
      return {
        y: y?.toArray() as Float32Array | undefined,
        want: want.toArray() as Float32Array,
        shape: y?.shape,
        wantShape: want.shape,
        calls,
      };
    })
  );
}

for (const c of cases) {
  Deno.test(`mobilenet fused: ${c.name}: the three convolutions' bits`, () => {
    for (const env of [{}, { LITS_DW_CHW: "0" }, { LITS_CONV_ALGO: "openblas" }]) {
      const r = withEnv(env, () => blockCase(c));
      const what = `${c.name} ${JSON.stringify(env)}`;
      if (!native) { // no kernel: the caller runs the modules
        assert.equal(r.y, undefined, what);
        continue;
      }
      assert.equal(r.calls, 1, what);
      assert.deepEqual(r.shape, r.wantShape, what);
      assert.ok(Math.max(...r.want.map(Math.abs)) > 0.1, `${what}: values large enough`);
      assertBits(r.y!, r.want, what);
    }
  });
}

/** A small MobileNetV2 with random batch-norm statistics, in evaluation. */
function smallNet() {
  manualSeed(5);
  const net = models.mobilenetV2({ inChannels: 1, numClasses: 3, widthMult: 0.5 }).to(testDevice);
  noGrad(() => {
    for (const m of net.modules()) {
      if (!(m instanceof nn.BatchNorm2d)) continue;
      const s = randomEvalStats(m.numFeatures, testDevice);
      m.runningMean!.copy_(s.runningMean);
      m.runningVar!.copy_(s.runningVar);
      m.weight!.copy_(s.weight);
      m.bias!.copy_(s.bias);
    }
  });
  return net.eval();
}

Deno.test("mobilenet fused: MobileNetV2 in evaluation runs every block as one call, the modules' bits", () => {
  using net = smallNet();
  using x = randn([3, 1, 64, 64], dev);
  const forward = () => noGrad(() => scope(() => (net(x) as Tensor).toArray() as Float32Array));
  const [fused, calls] = countCalls([IR], forward);
  const blocks = [...net.modules()].filter((m) => m instanceof models.InvertedResidual).length;
  assert.equal(blocks, 17);
  assert.equal(calls, native ? blocks : 0);
  const plain = native ? withoutSymbols([IR], forward) : forward();
  assert.ok(Math.max(...plain.map(Math.abs)) > 1e-3, "logits large enough to compare");
  // (at 2 x 2 and 4 x 4 the modules' 1x1 convolutions go to OpenBLAS: other sums' order)
  assertNearMean(fused, plain, 1e-5, "logits");
  // each block's output against the modules run one by one (the residual added after)
  noGrad(() =>
    scope(() => {
      let t = net.features[0](x);
      for (let i = 1; i <= blocks; i++) {
        const b = net.features[i] as models.InvertedResidual;
        const y = b(t);
        const out = b.conv(t);
        const want = b.useResConnect ? t.add(out) : out;
        const got = y.toArray() as Float32Array, w = want.toArray() as Float32Array;
        // the same bits while the modules' GEMMs are the kernel's (16 x 16 and up here)
        if (y.shape[2] >= 16) assertBits(got, w, `block ${i}`);
        else assertNearMean(got, w, 1e-5, `block ${i}`);
        t = y;
      }
    })
  );
});

Deno.test("mobilenet fused: not while training, recording gradients or under autocast; a hooked child runs as a module", () => {
  using net = smallNet();
  using x = randn([2, 1, 48, 48], dev);
  const calls = (fn: () => unknown) => countCalls([IR], () => scope(() => void fn()))[1];
  assert.equal(calls(() => net(x).sum().backward()), 0); // eval, but recording gradients
  assert.equal(calls(() => noGrad(() => autocast("bfloat16", () => net(x)))), 0);
  net.train();
  assert.equal(calls(() => noGrad(() => net(x))), 0);
  net.eval();
  // A forward hook on one block's depthwise layer: that block runs its modules.
  const block = net.features[3] as models.InvertedResidual;
  let seen = 0;
  const handle = (block.conv[1] as nn.Module).registerForwardHook(() => void seen++);
  const forward = () => noGrad(() => scope(() => (net(x) as Tensor).toArray() as Float32Array));
  const [fused, n] = countCalls([IR], forward);
  assert.equal(n, native ? 16 : 0);
  assert.equal(seen, 1);
  const plain = native ? withoutSymbols([IR], forward) : forward();
  assertNearMean(fused, plain, 1e-5, "logits with a hooked block");
  handle.remove();
  // A block whose convolution has a bias: the modules.
  const conv = (net.features[5] as models.InvertedResidual).conv[2] as nn.Conv2d;
  conv.bias = new nn.Parameter(randn([conv.outChannels], dev), false);
  assert.equal(calls(() => noGrad(() => net(x))), native ? 16 : 0);
});

Deno.test("mobilenet fused: shapes or layers that do not chain are left to the modules (null)", () => {
  noGrad(() =>
    scope(() => {
      const x = randn([2, 8, 10, 10], dev);
      const e = stage(24, 8, 1, {}), p = stage(8, 24, 1, {});
      const d = stage(24, 1, 3, { padding: 1, groups: 24 });
      assert.ok(native ? invertedResidualEval(x, e, d, p, "relu6", x) : true);
      // the expansion's output is not the depthwise input
      assert.equal(invertedResidualEval(x, stage(16, 8, 1, {}), d, p, "relu6", null), null);
      // a dense 3x3 in the depthwise place
      const dense = stage(24, 24, 3, { padding: 1 });
      assert.equal(invertedResidualEval(x, e, dense, p, "relu6", null), null);
      // padding other than kernel / 2, dilation
      const pad0 = stage(24, 1, 3, { padding: 0, groups: 24 });
      assert.equal(invertedResidualEval(x, e, pad0, p, "relu6", null), null);
      const dil = stage(24, 1, 3, { padding: 2, dilation: 2, groups: 24 });
      assert.equal(invertedResidualEval(x, e, dil, p, "relu6", null), null);
      // a strided or 3x3 projection, a residual of another shape
      assert.equal(
        invertedResidualEval(x, e, d, stage(8, 24, 1, { stride: 2 }), "relu6", null),
        null,
      );
      assert.equal(
        invertedResidualEval(x, e, d, stage(8, 24, 3, { padding: 1 }), "relu6", null),
        null,
      );
      assert.equal(invertedResidualEval(x, e, d, p, "relu6", randn([2, 8, 10, 9], dev)), null);
      // batch-norm statistics of another size
      assert.equal(
        invertedResidualEval(x, e, d, { ...p, bn: randomEvalStats(7, testDevice) }, "relu6", null),
        null,
      );
    })
  );
});

Deno.test("mobilenet fused: an empty batch gives an empty output", () => {
  noGrad(() =>
    scope(() => {
      const x = randn([0, 8, 6, 6], dev);
      const e = stage(24, 8, 1, {}), p = stage(8, 24, 1, {});
      const d = stage(24, 1, 3, { stride: 2, padding: 1, groups: 24 });
      const y = invertedResidualEval(x, e, d, p, "relu6", null);
      if (native) assert.deepEqual(y?.shape, [0, 8, 3, 3]);
    })
  );
});

Deno.test({
  name: "mobilenet fused: the kernel refuses bad arguments with a message, not a crash",
  ignore: !native,
  fn() {
    const lib = cpuLib();
    const f = lib.lits_inverted_residual_f32!;
    const buf = new Float32Array(4096), p = Deno.UnsafePointer.of(buf);
    // n c h w k r s stride_h stride_w pad_h pad_w dil_h dil_w groups
    const ex = () => new Int32Array([1, 4, 6, 6, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
    const dw = () => new Int32Array([1, 12, 6, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 12]);
    const pr = () => new Int32Array([1, 12, 6, 6, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
    const call = (
      e: Int32Array | null,
      d: Int32Array | null,
      q: Int32Array | null,
      o: { x?: Deno.PointerValue; we?: Deno.PointerValue; act?: number; bytes?: bigint } = {},
    ) =>
      f(
        e,
        d,
        q,
        o.x === undefined ? p : o.x,
        o.we === undefined ? (e ? p : null) : o.we,
        null,
        p,
        null,
        p,
        null,
        null,
        o.act ?? 2,
        p,
        null,
        o.bytes ?? 0n,
        null,
        0n,
      );
    assert.equal(call(ex(), dw(), pr()), 0, "a good call");
    assert.equal(
      call(null, new Int32Array([1, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4]), pr().fill(4, 1, 2)),
      0,
      "no expansion",
    );
    assert.notEqual(call(ex(), null, pr()), 0);
    assert.match(lastError(lib), /depthwise or project is NULL/);
    assert.notEqual(call(ex(), dw(), pr(), { x: null }), 0);
    assert.match(lastError(lib), /x, w_dw, w_project or y is NULL/);
    assert.notEqual(call(ex(), dw(), pr(), { act: 4 }), 0);
    assert.match(lastError(lib), /act must be 0, 1, 2 or 3, got 4/);
    assert.notEqual(call(null, dw(), pr(), { we: p }), 0);
    assert.match(lastError(lib), /w_expand or coef_expand given without expand/);
    assert.notEqual(call(ex(), dw(), pr(), { we: null }), 0);
    assert.match(lastError(lib), /w_expand is NULL/);
    assert.notEqual(call(ex(), dw(), pr(), { bytes: 64n }), 0);
    assert.match(lastError(lib), /prepared buffer is NULL with bytes/);
    const e3 = ex();
    e3.set([3, 3, 1, 1], 5); // a 3x3 expansion with padding 1
    assert.notEqual(call(e3, dw(), pr()), 0);
    assert.match(lastError(lib), /expansion must be a 1x1 convolution/);
    const dense = dw();
    dense[13] = 1;
    dense[1] = 12;
    assert.notEqual(call(ex(), dense, pr()), 0);
    assert.match(lastError(lib), /depthwise convolution must have groups = channels/);
    const pad0 = dw();
    pad0.set([0, 0], 9);
    assert.notEqual(call(ex(), pad0, pr().fill(4, 2, 4)), 0);
    assert.match(lastError(lib), /padding kernel \/ 2/);
    const p3 = pr();
    p3[7] = 2; // a strided projection
    assert.notEqual(call(ex(), dw(), p3), 0);
    assert.match(lastError(lib), /projection must be a 1x1 convolution/);
    const e16 = ex();
    e16[4] = 16; // 16 channels into a depthwise of 12
    assert.notEqual(call(e16, dw(), pr()), 0);
    assert.match(lastError(lib), /expansion's output \[1, 16, 6, 6\] is not the depthwise input/);
    const p5 = pr();
    p5[2] = 5;
    assert.notEqual(call(ex(), dw(), p5), 0);
    assert.match(lastError(lib), /depthwise output \[1, 12, 6, 6\] is not the projection's input/);
    const bad = dw();
    bad[1] = -2; // a bad geometry: the convolution's own check
    assert.notEqual(call(ex(), bad, pr()), 0);
    assert.match(lastError(lib), /lits_inverted_residual_f32/);
  },
});

Deno.test("mobilenet fused: a batch norm's evaluation coefs in one call, the ops' bits", () => {
  noGrad(() =>
    scope(() => {
      for (const affine of [true, false]) {
        const s = randomEvalStats(37, testDevice);
        const bn = affine ? s : { ...s, weight: null, bias: null };
        const [one, calls] = countCalls(["lits_batchnorm2d_infer_coef_f32"], () => inferCoef(bn));
        assert.equal(calls, native ? 1 : 0);
        const ops = native
          ? withoutSymbols(["lits_batchnorm2d_infer_coef_f32"], () => inferCoef(bn))
          : one;
        assertBits(
          one.toArray() as Float32Array,
          ops.toArray() as Float32Array,
          `affine ${affine}`,
        );
      }
    })
  );
});

Deno.test({
  name: "mobilenet fused: the coef kernel refuses bad arguments with a message",
  ignore: !native,
  fn() {
    const lib = cpuLib();
    const f = lib.lits_batchnorm2d_infer_coef_f32!;
    const buf = new Float32Array(12), p = Deno.UnsafePointer.of(buf);
    assert.equal(f(p, p, null, null, p, 4, 1e-5), 0);
    assert.notEqual(f(p, p, null, null, p, -1, 1e-5), 0);
    assert.match(lastError(lib), /c=-1 must be >= 0/);
    assert.notEqual(f(p, p, null, null, p, 4, -1), 0);
    assert.match(lastError(lib), /eps=-1 must be >= 0/);
    assert.notEqual(f(p, null, null, null, p, 4, 1e-5), 0);
    assert.match(lastError(lib), /running_mean, running_var or coef is NULL/);
    assert.equal(f(null, null, null, null, null, 0, 1e-5), 0, "no channels: nothing");
  },
});
