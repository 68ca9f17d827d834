/**
 * MobileNet's evaluation fusions: a convolution, its batch norm and ReLU6
 * (or no activation, with the block's residual) as one kernel
 * (`conv2dBatchNormAct`, relu code 2 of `lits.h`) on the paths that apply it
 * as they write (1x1 through the GEMM, depthwise blocks) and those that make
 * a pass after (3x3), and ReLU6 in one pass through a batch norm's unwritten
 * output: the bits of the ops one by one.
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
import { conv2dBatchNormAct, type EpilogueActivation } from "../src/tensor/ops/conv_epilogue.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { assertBits, countCalls, randomEvalStats, withoutSymbols } from "./helpers.ts";

const EPILOGUES = ["lits_conv2d_forward_epilogue_f32", "lits_conv2d_forward_epilogue_bf16_f32"];

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride?: number;
  padding?: number;
  groups?: number;
}

const cases: Case[] = [
  { name: "1x1 expand (the GEMM's stores)", x: [2, 16, 12, 10], w: [96, 16, 1, 1] },
  { name: "1x1 project", x: [2, 96, 9, 7], w: [24, 96, 1, 1] },
  { name: "depthwise 3x3", x: [2, 40, 11, 13], w: [40, 1, 3, 3], padding: 1, groups: 40 },
  {
    name: "depthwise 3x3 stride 2",
    x: [2, 24, 14, 14],
    w: [24, 1, 3, 3],
    padding: 1,
    stride: 2,
    groups: 24,
  },
  { name: "3x3 dense (a pass after)", x: [2, 8, 10, 9], w: [12, 8, 3, 3], padding: 1 },
];

/** The case both ways: one kernel, and the ops one by one; and the epilogue calls. */
function run(c: Case, act: EpilogueActivation, withResidual: boolean, bf16: boolean) {
  return noGrad(() =>
    scope(() => {
      manualSeed(c.x.reduce((a, b) => a + b, 7));
      const k = c.w[0];
      // Spread wide enough that ReLU6's upper bound is reached.
      const x = randn(c.x).mul(3), w = randn(c.w);
      const stats = randomEvalStats(k);
      const opts = { stride: c.stride ?? 1, padding: c.padding ?? 0, groups: c.groups ?? 1 };
      const plain = (): Tensor => {
        const y = F.conv2d(x, w, null, opts);
        const z = F.batchNorm(y, stats.runningMean, stats.runningVar, stats.weight, stats.bias);
        const r: Tensor = residual ? z.add(residual) : z;
        if (act === "silu") return F.silu(r);
        return act === "relu6" ? F.relu6(r) : act === "relu" ? F.relu(r) : r;
      };
      const inPrecision = <T>(fn: () => T): T => bf16 ? autocast("bfloat16", fn) : fn();
      const shape: number[] = [...F.conv2d(x, w, null, opts).shape];
      const residual: Tensor | null = withResidual ? randn(shape).mul(3) : null;
      const [y, calls] = countCalls(
        EPILOGUES,
        () => inPrecision(() => conv2dBatchNormAct(x, w, null, opts, stats, act, residual)),
      );
      assert.ok(y !== null, "the kernel did not apply");
      const want = inPrecision(plain).toArray() as Float32Array;
      return { got: y.toArray() as Float32Array, want, calls };
    })
  );
}

for (const c of cases) {
  for (const [act, res] of [["relu6", false], ["none", true], ["relu6", true]] as const) {
    const what = `${c.name}, ${act}${res ? " + residual" : ""}`;
    Deno.test(`conv epilogue (mobile): ${what}, the bits of the separate ops`, () => {
      const { got, want, calls } = run(c, act, res, false);
      assert.equal(calls, 1);
      assertBits(got, want, what);
      if (act === "relu6") assert.ok(got.some((v) => v === 6), "ReLU6's bound never reached");
    });
  }
  Deno.test(`conv epilogue (mobile) under autocast: ${c.name}, the bits of the separate ops`, () => {
    const { got, want, calls } = run(c, "relu6", false, true);
    assert.equal(calls, 1);
    assertBits(got, want, `${c.name} under autocast`);
  });
}

Deno.test("relu6: one pass through a batch norm's unwritten output, the bits and gradient of three", () => {
  const both = (on: boolean) =>
    scope(() => {
      const was = setFusion(on);
      try {
        manualSeed(5);
        const x = randn([2, 6, 5, 5]).mul(4);
        const s = randomEvalStats(6);
        const weight = randn([6], { requiresGrad: true });
        const y = F.relu6(F.batchNorm(x, s.runningMean, s.runningVar, weight, s.bias));
        y.mul(randn([2, 6, 5, 5])).sum().backward();
        return [y.toArray() as Float32Array, weight.grad!.toArray() as Float32Array];
      } finally {
        setFusion(was);
      }
    });
  const [fy, fg] = both(true), [py, pg] = both(false);
  assertBits(fy, py, "relu6 output");
  assertBits(fg, pg, "weight gradient through relu6");
  assert.ok(fy.some((v) => v === 6) && fy.some((v) => v === 0));
});

Deno.test("relu6: NaN stays NaN, infinities clamp, 0 and 6 kept; the gradient is torch's", () => {
  for (const on of [true, false]) {
    const was = setFusion(on);
    try {
      scope(() => {
        const x = tensor([NaN, -Infinity, -1, 0, 3, 6, 7, Infinity, 5.999999], undefined, {
          requiresGrad: true,
        });
        const y = F.relu6(x);
        assert.deepEqual(Array.from(y.toArray() as Float32Array), [
          NaN,
          0,
          0,
          0,
          3,
          6,
          6,
          6,
          Math.fround(5.999999),
        ]);
        y.mul(tensor([2, 2, 2, 2, 2, 2, 2, 2, 2])).sum().backward();
        // hardtanh's backward: 0 where x <= 0 or x >= 6, else the gradient (NaN included).
        assert.deepEqual(Array.from(x.grad!.toArray() as Float32Array), [
          2,
          0,
          0,
          0,
          2,
          0,
          0,
          0,
          2,
        ]);
      });
    } finally {
      setFusion(was);
    }
  }
});

Deno.test("conv epilogue (mobile): MobileNetV2 in evaluation fuses each block, with the bits of the plain path", () => {
  manualSeed(4);
  using net = models.create("mobilenetv2", { inChannels: 1, numClasses: 3 });
  // Running statistics of a training batch, so that the batch norms are not the identity.
  noGrad(() => scope(() => void net(randn([4, 1, 48, 48]))));
  net.eval();
  using x = randn([2, 1, 48, 48]);
  // Without the whole-block kernel (tests/mobilenet_fused_test.ts), which takes the blocks.
  const forward = () =>
    withoutSymbols(
      ["lits_inverted_residual_f32"],
      () => noGrad(() => scope(() => (net(x) as Tensor).toArray() as Float32Array)),
    );
  const [fused, calls] = countCalls(EPILOGUES, forward);
  // The stem, 17 blocks (2 or 3 convolutions each: 52 in all) and the last 1x1.
  assert.equal(calls, 52);
  const was = setFusion(false);
  try {
    const [plain, none] = countCalls(EPILOGUES, forward);
    assert.equal(none, 0);
    assertBits(fused, plain, "mobilenetv2 logits");
  } finally {
    setFusion(was);
  }
});

Deno.test("conv epilogue (mobile): not while training or recording gradients", () => {
  manualSeed(4);
  using block = new models.Conv2dNormActivation(4, 8, { activationLayer: () => new nn.ReLU6() });
  using x = randn([2, 4, 8, 8], { requiresGrad: true });
  scope(() => {
    const [, training] = countCalls(EPILOGUES, () => noGrad(() => block(x)));
    assert.equal(training, 0);
    block.eval();
    const [out, withGrad] = countCalls(EPILOGUES, () => block(x));
    assert.equal(withGrad, 0);
    out.sum().backward();
    assert.ok(x.grad !== null);
    const [, evalNoGrad] = countCalls(EPILOGUES, () => noGrad(() => block(x)));
    assert.equal(evalNoGrad, 1);
  });
});

Deno.test("lits_fused_affine_f32: an activation code other than 0 to 3 is an argument error", () => {
  const lib = cpuLib();
  const buf = new Float32Array(4);
  const p = Deno.UnsafePointer.of(buf)!;
  const st = lib.lits_fused_affine_f32!(p, null, null, null, p, 1, 1, 4n, 4);
  assert.notEqual(st, 0);
  assert.match(lastError(lib), /relu must be 0, 1, 2 or 3, got 4/);
});

Deno.test("conv epilogue (mobile): EfficientNet-B0 in evaluation fuses every convolution, within rounding of the plain path", () => {
  manualSeed(6);
  using net = models.create("efficientnetb0", { inChannels: 1, numClasses: 3 });
  noGrad(() => scope(() => void net(randn([4, 1, 48, 48]))));
  net.eval();
  using x = randn([2, 1, 48, 48]);
  const forward = () => noGrad(() => scope(() => (net(x) as Tensor).toArray() as Float32Array));
  // (The depthwise convolutions also pool, and the projections scale, for the blocks'
  // squeeze-and-excitation: tests/se_fused_test.ts.)
  const SE = ["lits_conv2d_forward_epilogue_pool_f32", "lits_conv2d_forward_epilogue_scaled_f32"];
  const [fused, calls] = countCalls([...EPILOGUES, ...SE], forward);
  // The stem, 15 expansions, 16 depthwise convolutions with SiLU, 16 projections (with the
  // residual where a block has one) and the head.
  assert.equal(calls, 49);
  const was = setFusion(false);
  try {
    const plain = forward();
    // SiLU's exp: libmvec's vector and glibc's scalar expf differ by an ulp on some values.
    plain.forEach((v, i) => assert.ok(Math.abs(fused[i] - v) <= 1e-6 + 1e-5 * Math.abs(v), `${i}`));
  } finally {
    setFusion(was);
  }
});

Deno.test("conv epilogue (mobile): SiLU after a 1x1 and a depthwise convolution, within an ulp of the separate ops", () => {
  for (const c of [cases[0], cases[2]]) {
    const { got, want, calls } = run(c, "silu", false, false);
    assert.equal(calls, 1);
    want.forEach((v, i) =>
      assert.ok(
        Math.abs(got[i] - v) <= 4e-7 * Math.abs(v) + 1e-30,
        `${c.name} ${i}: ${got[i]} ${v}`,
      )
    );
  }
});

Deno.test("silu: one pass through a batch norm's unwritten output, within an ulp; its gradient", () => {
  const both = (on: boolean) =>
    scope(() => {
      const was = setFusion(on);
      try {
        manualSeed(8);
        const x = randn([2, 6, 5, 5]).mul(4);
        const s = randomEvalStats(6);
        const weight = randn([6], { requiresGrad: true });
        const y = F.silu(F.batchNorm(x, s.runningMean, s.runningVar, weight, s.bias));
        y.mul(randn([2, 6, 5, 5])).sum().backward();
        return [y.toArray() as Float32Array, weight.grad!.toArray() as Float32Array];
      } finally {
        setFusion(was);
      }
    });
  const [fy, fg] = both(true), [py, pg] = both(false);
  py.forEach((v, i) => assert.ok(Math.abs(fy[i] - v) <= 4e-7 * Math.abs(v) + 1e-30, `${i}`));
  assertBits(fg, pg, "weight gradient through silu");
});
