/**
 * The evaluation bottleneck's output as one kernel
 * (`lits_conv2d_forward_epilogue_f32`, src/tensor/ops/conv_epilogue.ts):
 * the same bits as the ops one by one, on the paths that fuse it into the
 * GEMM's stores (1x1, blocks of 12, 8 and cut rows, two passes of input
 * channels, streamed outputs, a downsampling shortcut's deferred batch norm)
 * and on those that make a pass after the convolution (3x3), and the cases
 * that must not fuse (gradients, hooks, training).
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
} from "../mod.ts";
import { conv2dBatchNormAddRelu } from "../src/tensor/ops/conv_epilogue.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { assertBits, countCalls, randomEvalStats } from "./helpers.ts";

const EPILOGUES = ["lits_conv2d_forward_epilogue_f32", "lits_conv2d_forward_epilogue_bf16_f32"];

/** fn's result, and how many times an epilogue kernel (fp32 or bf16) ran. */
const countingEpilogue = <T>(fn: () => T) => countCalls(EPILOGUES, fn);

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride?: number;
  padding?: number;
  bias?: boolean;
  /** The residual as a downsampling shortcut's batch norm (deferred), not memory. */
  shortcutBN?: boolean;
}

const cases: Case[] = [
  { name: "1x1, 12 + 8 rows, a cut panel", x: [2, 24, 9, 7], w: [20, 24, 1, 1] },
  { name: "1x1, 7 rows (an edge block), bias", x: [2, 16, 8, 8], w: [7, 16, 1, 1], bias: true },
  { name: "1x1, 600 input channels in two passes", x: [2, 600, 8, 8], w: [24, 600, 1, 1] },
  {
    name: "1x1, the shortcut's deferred batch norm",
    x: [3, 32, 8, 8],
    w: [64, 32, 1, 1],
    shortcutBN: true,
  },
  // 1 x 40 x 256 x 256: a 10 MiB output, streamed as it is written.
  { name: "1x1, a streamed output", x: [1, 24, 256, 256], w: [40, 24, 1, 1] },
  { name: "1x1 stride 2, bias", x: [2, 16, 16, 16], w: [12, 16, 1, 1], stride: 2, bias: true },
  { name: "3x3 through im2col and the GEMM", x: [2, 8, 10, 9], w: [12, 8, 3, 3], padding: 1 },
  // Algorithms that write y first, then a pass applies the epilogue.
  { name: "3x3 Winograd (a pass after)", x: [2, 16, 8, 32], w: [32, 16, 3, 3], padding: 1 },
  {
    name: "1x1 on OpenBLAS, tiles of 2 images (a pass after)",
    x: [3, 40, 20, 20],
    w: [24, 40, 1, 1],
  },
];

/** The case's output both ways: one kernel, and the ops one by one (with deferral on). */
function run(c: Case, bf16 = false): [Float32Array, Float32Array, number] {
  // (Everything made here is freed at the scope's end: later test files
  // measure the allocator's cache.)
  return noGrad(() => scope(() => runIn(c, bf16)));
}

function runIn(c: Case, bf16: boolean): [Float32Array, Float32Array, number] {
  manualSeed(c.x.reduce((a, b) => a + b, 0));
  const k = c.w[0];
  const x = randn(c.x), w = randn(c.w), b = c.bias ? randn([k]) : null;
  const bn = () => randomEvalStats(k);
  const stats = bn(), short = bn();
  const opts = { stride: c.stride ?? 1, padding: c.padding ?? 0 };
  const [n, , h, wd] = c.x;
  const oh = Math.floor((h + 2 * opts.padding - c.w[2]) / opts.stride) + 1;
  const ow = Math.floor((wd + 2 * opts.padding - c.w[3]) / opts.stride) + 1;
  const raw = randn([n, k, oh, ow]);
  // A deferred batch norm of an op result, as a downsampling shortcut's is.
  const residual = () =>
    c.shortcutBN
      ? F.batchNorm(raw.mul(1), short.runningMean, short.runningVar, short.weight, short.bias)
      : raw;
  const unfused = () =>
    F.relu(
      F.batchNorm(
        F.conv2d(x, w, b, opts),
        stats.runningMean,
        stats.runningVar,
        stats.weight,
        stats.bias,
      ).add(residual()),
    );
  const inPrecision = <T>(fn: () => T): T => bf16 ? autocast("bfloat16", fn) : fn();
  const [y, calls] = countingEpilogue(() =>
    inPrecision(() => conv2dBatchNormAddRelu(x, w, b, opts, stats, residual()))
  );
  assert.ok(y !== null, "the kernel did not apply");
  const plain = inPrecision(unfused);
  return [y.toArray() as Float32Array, plain.toArray() as Float32Array, calls];
}

for (const c of cases) {
  Deno.test(`conv epilogue: ${c.name}, the bits of the separate ops`, () => {
    const [fused, plain, calls] = run(c);
    assert.equal(calls, 1);
    assertBits(fused, plain, c.name);
  });
}

// One image's tile of more than 1 MiB: the bf16 GEMM finishes it in pieces
// of 512 columns (the last one 416, or 512 x 18 of a streamed output).
const pieces: Case[] = [
  { name: "1x1, pieces of one image's tile", x: [2, 16, 40, 36], w: [256, 16, 1, 1], bias: true },
  {
    name: "1x1, pieces streamed to y, the shortcut's batch norm",
    x: [1, 16, 96, 96],
    w: [256, 16, 1, 1],
    shortcutBN: true,
  },
];

// Under autocast: the bf16 GEMM's tiles (one image, several images), and a
// pass after the direct 3x3 kernel (and after fp32 where the CPU has no bf16).
for (const c of [cases[0], cases[3], cases[5], cases[7], ...pieces]) {
  Deno.test(`conv epilogue under autocast: ${c.name}, the bits of the separate ops`, () => {
    const [fused, plain, calls] = run(c, true);
    assert.equal(calls, 1);
    assertBits(fused, plain, c.name);
  });
}

/** A ResNet-50 bottleneck with a downsampling shortcut, in evaluation after a few training steps' statistics. */
function bottleneck(): models.Bottleneck {
  manualSeed(21);
  const block = new models.Bottleneck(32, 16, 2, models.downsample(32, 64, 2));
  // Running statistics of two training batches.
  for (let i = 0; i < 2; i++) noGrad(() => scope(() => void block.forward(randn([4, 32, 16, 16]))));
  block.eval();
  return block;
}

Deno.test("conv epilogue: an evaluation bottleneck fuses its output, with the bits of the plain path", () => {
  using block = bottleneck();
  using x = randn([2, 32, 16, 16]);
  const [fused, calls] = countingEpilogue(() =>
    noGrad(() => scope(() => block.forward(x).toArray() as Float32Array))
  );
  assert.equal(calls, 1);
  const was = setFusion(false);
  try {
    const plain = noGrad(() => scope(() => block.forward(x).toArray() as Float32Array));
    assertBits(fused, plain, "bottleneck");
  } finally {
    setFusion(was);
  }
});

Deno.test("conv epilogue: not while training, recording gradients, or with a hook on conv3", () => {
  using block = bottleneck();
  using x = randn([2, 32, 16, 16], { requiresGrad: true });
  scope(() => {
    // Gradients in evaluation (Grad-CAM): the ops one by one, and the gradient flows.
    const [out, calls] = countingEpilogue(() => block.forward(x));
    assert.equal(calls, 0);
    out.sum().backward();
    assert.ok(x.grad !== null);
    let seen = 0;
    const handle = block.conv3.registerForwardHook(() => void seen++);
    const [, hooked] = countingEpilogue(() => noGrad(() => block.forward(x)));
    handle.remove();
    assert.equal(hooked, 0);
    assert.equal(seen, 1);
    block.train();
    const [, training] = countingEpilogue(() => noGrad(() => block.forward(x)));
    assert.equal(training, 0);
  });
});

Deno.test("conv epilogue: an evaluation bottleneck under autocast, fused and plain", () => {
  using block = bottleneck();
  using x = randn([2, 32, 16, 16]);
  const forward = () =>
    noGrad(() =>
      scope(() => autocast("bfloat16", () => block.forward(x)).toArray() as Float32Array)
    );
  const [fused, calls] = countingEpilogue(forward);
  assert.equal(calls, 1);
  const was = setFusion(false);
  try {
    assertBits(fused, forward(), "bottleneck under autocast");
  } finally {
    setFusion(was);
  }
});

Deno.test("conv epilogue: ResNet-50 in evaluation, fused and plain", () => {
  manualSeed(3);
  using net = models.create("resnet50", { inChannels: 1, numClasses: 3 });
  net.eval();
  using x = randn([1, 1, 64, 64]);
  const [fused, calls] = countingEpilogue(() =>
    noGrad(() => scope(() => (net.forward(x) as Tensor).toArray() as Float32Array))
  );
  assert.equal(calls, 16); // one per bottleneck
  const was = setFusion(false);
  try {
    const plain = noGrad(() => scope(() => (net.forward(x) as Tensor).toArray() as Float32Array));
    assertBits(fused, plain, "resnet50 logits");
  } finally {
    setFusion(was);
  }
});
