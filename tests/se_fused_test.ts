/**
 * Squeeze-and-excitation folded into the convolutions around it in
 * evaluation (`lits.h`'s lits_conv2d_forward_epilogue_pool_f32,
 * lits_squeeze_excitation_gate_f32 and
 * lits_conv2d_forward_epilogue_scaled_f32; `src/models/squeeze_fused.ts`),
 * against the modules run one by one: the depthwise output and the
 * projection's output the same bits, the pooled means and the gate within
 * a few ulps (their sums go in another order), EfficientNet's logits within
 * rounding; the paths that do not apply (training, gradients, a replaced
 * child, a backend without the kernels) run the modules, and under bf16
 * autocast the kernels' bf16 forms run (se_fused_bf16_test.ts).
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
} from "../mod.ts";
import { conv2dBatchNormAct, type EpilogueActivation } from "../src/tensor/ops/conv_epilogue.ts";
import { squeezeExcitationGate } from "../src/tensor/ops/squeeze_excitation.ts";
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
import { smallEfficientNet } from "./se_small_net.ts";

const POOL = "lits_conv2d_forward_epilogue_pool_f32";
const GATE = "lits_squeeze_excitation_gate_f32";
const SCALED = "lits_conv2d_forward_epilogue_scaled_f32";
const KERNELS = [POOL, GATE, SCALED];
/** Whether the test device's library has the kernels (the CUDA one has none: its ops compose). */
const native = testDevice === "cpu";
const dev = { device: testDevice };

// ------------------------------------------------ the depthwise convolution's pool

interface DwCase {
  name: string;
  x: number[];
  k: number;
  stride: number;
  dense?: boolean;
}

const dwCases: DwCase[] = [
  {
    name: "3x3, rows of 37 (vectors along a row, a masked last one)",
    x: [2, 5, 37, 37],
    k: 3,
    stride: 1,
  },
  { name: "3x3, 8 x 8 planes (two rows a vector)", x: [3, 6, 8, 8], k: 3, stride: 1 },
  { name: "5x5 stride 2, 21 x 19", x: [2, 4, 21, 19], k: 5, stride: 2 },
  { name: "3x3 stride 2, 12 x 12 (pairs of rows)", x: [2, 4, 12, 12], k: 3, stride: 2 },
  {
    name: "5x5 stride 2, 16 x 16 (the channels-last kernel, then a pass)",
    x: [2, 3, 16, 16],
    k: 5,
    stride: 2,
  },
  { name: "3x3 dense (a pass)", x: [2, 3, 9, 11], k: 3, stride: 1, dense: true },
];

/** y = silu(bn(conv(x))) with and without the pool, the pooled means and the means in double. */
function poolCase(c: DwCase) {
  return noGrad(() =>
    scope(() => {
      manualSeed(c.x.reduce((a, b) => a + b, 3));
      const ch = c.x[1], out = c.dense ? 7 : ch;
      const x = randn(c.x, dev).mul(2);
      const w = randn([out, c.dense ? ch : 1, c.k, c.k], dev);
      const opts = { stride: c.stride, padding: (c.k - 1) >> 1, groups: c.dense ? 1 : ch };
      const s = randomEvalStats(out, testDevice);
      const plain = conv2dBatchNormAct(x, w, null, opts, s, "silu", null);
      const pooled = randn([c.x[0], out], dev); // overwritten
      const [y, calls] = countCalls(
        [POOL],
        () => conv2dBatchNormAct(x, w, null, opts, s, "silu", null, { pooled }),
      );
      if (!native) { // no kernel: the caller runs the modules
        assert.equal(y, null);
        return null;
      }
      assert.ok(y !== null && plain !== null, "the kernel did not apply");
      assert.equal(calls, 1);
      const yv = y.toArray() as Float32Array, hw = y.shape[2] * y.shape[3];
      const exact = new Float32Array(pooled.numel());
      exact.forEach((_, i) => {
        let t = 0;
        for (let j = 0; j < hw; j++) t += yv[i * hw + j];
        exact[i] = t / hw;
      });
      return {
        y: yv,
        plain: plain.toArray() as Float32Array,
        pooled: pooled.toArray() as Float32Array,
        avgpool: F.adaptiveAvgPool2d(plain, 1).toArray() as Float32Array,
        exact,
      };
    })
  );
}

for (const c of dwCases) {
  Deno.test(`se fused: ${c.name}: the same y, its plane means within a few ulps`, () => {
    for (const chw of ["1", "0"]) {
      const r = withEnv({ LITS_DW_CHW: chw }, () => poolCase(c));
      if (r === null) return;
      const what = `${c.name} (LITS_DW_CHW=${chw})`;
      assertBits(r.y, r.plain, `${what}: y`);
      assertNearMean(r.pooled, r.exact, 2e-6, `${what}: pooled against the means in double`);
      assertNearMean(r.pooled, r.avgpool, 1e-5, `${what}: pooled against adaptiveAvgPool2d`);
    }
  });
}

// ------------------------------------------------ the projection's scale

interface ProjCase {
  name: string;
  x: number[];
  k: number;
  residual?: boolean;
  algo?: string;
  r?: number;
}

const projCases: ProjCase[] = [
  { name: "1x1, 8 x 8 planes, tiles of several images", x: [6, 40, 8, 8], k: 24 },
  {
    name: "1x1, 7 x 9 planes (tiles of several images on OpenBLAS: a scaled copy)",
    x: [3, 36, 7, 9],
    k: 20,
    residual: true,
  },
  { name: "1x1, 60 x 61 planes (a panel cut by a tile's end)", x: [2, 64, 60, 61], k: 12 },
  { name: "1x1, 40 x 40, residual", x: [2, 24, 40, 40], k: 16, residual: true },
  { name: "1x1, 600 input channels (two passes of 512)", x: [4, 600, 8, 8], k: 28 },
  { name: "1x1 on OpenBLAS (a scaled copy)", x: [3, 36, 8, 8], k: 20, algo: "openblas" },
  { name: "3x3 (a scaled copy)", x: [2, 12, 10, 10], k: 8, r: 3, residual: true },
];

/** The projection of gate * x: scaled as packed, and through a written product. */
function projCase(c: ProjCase) {
  return noGrad(() =>
    scope(() => {
      manualSeed(c.x.reduce((a, b) => a + b, 11));
      const [n, ch] = c.x, r = c.r ?? 1;
      const x = randn(c.x, dev), w = randn([c.k, ch, r, r], dev);
      const gate = F.sigmoid(randn([n, ch], dev).mul(2));
      const opts = { padding: (r - 1) >> 1 };
      const s = randomEvalStats(c.k, testDevice);
      const yShape = [n, c.k, c.x[2], c.x[3]];
      const res = c.residual ? randn(yShape, dev) : null;
      const scaled = gate.reshape([n, ch, 1, 1]).mul(x);
      const want = conv2dBatchNormAct(scaled, w, null, opts, s, "none", res);
      const [got, calls] = countCalls(
        [SCALED],
        () => conv2dBatchNormAct(x, w, null, opts, s, "none", res, { xScale: gate }),
      );
      if (!native) {
        assert.equal(got, null);
        return null;
      }
      assert.ok(got !== null && want !== null, "the kernel did not apply");
      assert.equal(calls, 1);
      return { got: got.toArray() as Float32Array, want: want.toArray() as Float32Array };
    })
  );
}

for (const c of projCases) {
  Deno.test(`se fused: ${c.name}: conv(gate * x) without writing gate * x, the same bits`, () => {
    const r = withEnv({ LITS_CONV_ALGO: c.algo }, () => projCase(c));
    if (r !== null) assertBits(r.got, r.want, c.name);
  });
}

// ------------------------------------------------ the gate

for (const act of ["silu", "relu", "relu6"] as const) {
  Deno.test(`se fused: SqueezeExcitation's gate (${act}) in one call, within a few ulps of the modules`, () => {
    manualSeed(act.length);
    const layer = { silu: nn.SiLU, relu: nn.ReLU, relu6: nn.ReLU6 }[act];
    using se = new models.SqueezeExcitation(37, 6, { activation: () => new layer() });
    se.to(testDevice).eval();
    noGrad(() => {
      se.fc1.bias!.copy_(randn([6], dev).mul(8)); // both signs, and past ReLU6's 6
      se.fc2.bias!.copy_(randn([37], dev));
    });
    using x = randn([3, 37, 5, 7], dev).mul(3);
    const run = () => noGrad(() => scope(() => se(x).toArray() as Float32Array));
    const [fused, calls] = countCalls([GATE], run);
    assert.equal(calls, native ? 1 : 0);
    const plain = native ? withoutSymbols([GATE], run) : run();
    assertNearMean(fused, plain, 1e-6, `SqueezeExcitation (${act})`);
  });
}

Deno.test("se fused: the gate kernel without biases, as F's ops", () => {
  noGrad(() =>
    scope(() => {
      manualSeed(21);
      const pooled = randn([4, 19], dev), w1 = randn([3, 19, 1, 1], dev);
      const w2 = randn([19, 3, 1, 1], dev);
      const gate = squeezeExcitationGate(
        pooled,
        { weight: w1, bias: null },
        "silu",
        { weight: w2, bias: null },
      );
      if (!native) return assert.equal(gate, null);
      assert.ok(gate !== null);
      assert.deepEqual(gate.shape, [4, 19]);
      const p4 = pooled.reshape([4, 19, 1, 1]);
      const want = F.sigmoid(F.conv2d(F.silu(F.conv2d(p4, w1)), w2));
      assertNearMean(gate.toArray() as Float32Array, want.toArray() as Float32Array, 1e-6, "gate");
    })
  );
});

// ------------------------------------------------ EfficientNet

const smallNet = () => smallEfficientNet(testDevice);

Deno.test("se fused: EfficientNet in evaluation folds every block's SE, within rounding of the modules", () => {
  using net = smallNet();
  const blocks = [...net.modules()].filter((m) => m instanceof models.MBConv).length;
  using x = randn([3, 1, 40, 40], dev);
  const forward = () => noGrad(() => scope(() => (net(x) as Tensor).toArray() as Float32Array));
  const counted = KERNELS.map((k) => countCalls([k], forward));
  for (const [, calls] of counted) assert.equal(calls, native ? blocks : 0);
  const fused = counted[0][0];
  const plain = native ? withoutSymbols(KERNELS, forward) : forward();
  assert.ok(Math.max(...plain.map(Math.abs)) > 1e-2, "logits large enough to compare");
  assertNearMean(fused, plain, 1e-5, "logits");
});

Deno.test("se fused: not while training, recording gradients or under autocast; a replaced child runs as a module", () => {
  using net = smallNet();
  using x = randn([2, 1, 40, 40], dev);
  const calls = (fn: () => unknown) => countCalls(KERNELS, () => scope(() => void fn()))[1];
  // eval, but recording gradients: the modules
  assert.equal(calls(() => net(x).sum().backward()), 0);
  // under autocast: the kernels' bf16 forms (se_fused_bf16_test.ts), not these
  assert.equal(calls(() => noGrad(() => autocast("bfloat16", () => net(x)))), 0);
  net.train();
  assert.equal(calls(() => noGrad(() => net(x))), 0);
  net.eval();
  // The first block's gate activation replaced: its pool and scale stay fused, its gate runs as ops.
  const first = [...net.modules()].find((m) => m instanceof models.SqueezeExcitation)!;
  (first as models.SqueezeExcitation).scale_activation = new nn.Tanh();
  const forward = () => noGrad(() => scope(() => (net(x) as Tensor).toArray() as Float32Array));
  const [fused, gates] = countCalls([GATE], forward);
  const blocks = [...net.modules()].filter((m) => m instanceof models.MBConv).length;
  assert.equal(gates, native ? blocks - 1 : 0);
  const plain = native ? withoutSymbols(KERNELS, forward) : forward();
  assertNearMean(fused, plain, 1e-5, "logits with a tanh gate");
});

// ------------------------------------------------ bad inputs to the kernels

Deno.test({
  name: "se fused: the kernels refuse bad arguments with a message, not a crash",
  ignore: !native,
  fn() {
    const lib = cpuLib();
    const buf = new Float32Array(64), p = Deno.UnsafePointer.of(buf);
    const gate = lib.lits_squeeze_excitation_gate_f32!;
    assert.notEqual(gate(p, p, null, p, null, p, 2, 4, 2, 4), 0);
    assert.match(lastError(lib), /act must be 0, 1, 2 or 3, got 4/);
    assert.notEqual(gate(p, p, null, p, null, p, -1, 4, 2, 3), 0);
    assert.match(lastError(lib), /n must be >= 0, c and squeeze >= 1/);
    assert.notEqual(gate(p, p, null, p, null, p, 2, 4, 0, 3), 0);
    assert.match(lastError(lib), /squeeze=0/);
    assert.notEqual(gate(null, p, null, p, null, p, 2, 4, 2, 3), 0);
    assert.match(lastError(lib), /pooled, w1, w2 or gate is NULL/);
    assert.equal(gate(null, null, null, null, null, null, 0, 4, 2, 3), 0, "no images: nothing");
    // n c h w k r s stride_h stride_w pad_h pad_w dil_h dil_w groups
    const params = new Int32Array([1, 2, 4, 4, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
    const pool = lib.lits_conv2d_forward_epilogue_pool_f32!;
    assert.notEqual(pool(params, p, null, 0, p, null, null, null, null, 0, p, null, null, 0), 0);
    assert.match(lastError(lib), /pooled is NULL/);
    assert.notEqual(pool(params, p, null, 0, p, null, null, null, null, 7, p, p, null, 0), 0);
    assert.match(lastError(lib), /relu must be 0, 1, 2 or 3, got 7/);
    const scaled = lib.lits_conv2d_forward_epilogue_scaled_f32!;
    assert.notEqual(scaled(params, p, null, p, null, null, null, null, 0, p, null, 0), 0);
    assert.match(lastError(lib), /x or x_scale is NULL/);
    assert.notEqual(scaled(params, p, p, p, null, null, null, p, 0, p, null, 0), 0);
    assert.match(lastError(lib), /r_coef is given without r/);
    params[1] = -2; // a bad geometry: the convolution's own check
    assert.notEqual(scaled(params, p, p, p, null, null, null, null, 0, p, null, 0), 0);
    assert.match(lastError(lib), /lits_conv2d_forward_epilogue_scaled_f32/);
  },
});

Deno.test("se fused: shapes that do not chain are left to the modules (null), which report them", () => {
  noGrad(() =>
    scope(() => {
      const pooled = randn([2, 8], dev);
      const fc = (o: number, i: number) => ({ weight: randn([o, i, 1, 1], dev), bias: null });
      assert.equal(squeezeExcitationGate(pooled, fc(2, 7), "silu", fc(8, 2)), null);
      assert.equal(squeezeExcitationGate(pooled, fc(2, 8), "silu", fc(8, 3)), null);
      assert.equal(
        squeezeExcitationGate(randn([2, 8, 2, 2], dev), fc(2, 8), "relu", fc(8, 2)),
        null,
      );
      const x = randn([2, 8, 6, 6], dev),
        w = randn([8, 1, 3, 3], dev),
        s = randomEvalStats(8, testDevice);
      const opts = { padding: 1, groups: 8 };
      const act: EpilogueActivation = "silu";
      const wrong = randn([2, 7], dev);
      assert.equal(conv2dBatchNormAct(x, w, null, opts, s, act, null, { pooled: wrong }), null);
      assert.equal(conv2dBatchNormAct(x, w, null, opts, s, act, null, { xScale: wrong }), null);
      // Under autocast too (the bf16 forms: se_fused_bf16_test.ts).
      const bf = autocast(
        "bfloat16",
        () => conv2dBatchNormAct(x, w, null, opts, s, act, null, { pooled: wrong }),
      );
      assert.equal(bf, null);
    })
  );
});

Deno.test("se fused: an empty batch gives empty outputs", () => {
  noGrad(() =>
    scope(() => {
      const x = randn([0, 8, 6, 6], dev),
        w = randn([8, 1, 3, 3], dev),
        s = randomEvalStats(8, testDevice);
      const pooled = randn([0, 8], dev);
      const y = conv2dBatchNormAct(x, w, null, { padding: 1, groups: 8 }, s, "silu", null, {
        pooled,
      });
      const p = randn([8, 8, 1, 1], dev), gate = randn([0, 8], dev);
      const z = conv2dBatchNormAct(x, p, null, {}, s, "none", null, { xScale: gate });
      const fc = (o: number, i: number) => ({ weight: randn([o, i, 1, 1], dev), bias: null });
      const g = squeezeExcitationGate(pooled, fc(2, 8), "silu", fc(8, 2));
      if (!native) return;
      assert.deepEqual(y?.shape, [0, 8, 6, 6]);
      assert.deepEqual(z?.shape, [0, 8, 6, 6]);
      assert.deepEqual(g?.shape, [0, 8]);
    })
  );
});
