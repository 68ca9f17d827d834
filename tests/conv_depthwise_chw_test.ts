/**
 * The NCHW depthwise forward (native/cpu/conv_depthwise_chw.c) against the
 * channels-last kernel it replaced for these layers (LITS_DW_CHW=0), to the
 * bit: every vector layout it has (16 columns of a row down a column chunk
 * or along a wide row, whole rows of a narrow plane, two rows of a stride-2
 * plane side by side), the row-shared sums of square kernels, edge rows and
 * columns of 3x3 to 7x7 windows with "same" and smaller padding, an output
 * large enough to be streamed, with the epilogue (batch norm, residual with
 * and without its transform, ReLU, ReLU6, SiLU) applied as it writes, and
 * the bits of the ops one by one; under bf16 autocast (each plane and its
 * taps rounded first) the channels-last kernel's bits too; SiLU at large inputs (|v| > 87,
 * infinities, NaN); a NaN weight reaching
 * its whole channel through the padding, as the other kernels' zeros carry
 * it; and the one-channel stride-2 stem's epilogue, now applied as the stem
 * writes (conv_stem.c), against the ops. Where the CPU has no AVX-512 both
 * runs take the other kernels, and the checks still hold.
 */
import assert from "node:assert/strict";
import {
  autocast,
  functional as F,
  manualSeed,
  noGrad,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { bf16Unavailable } from "../src/tensor/autocast.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { conv2dBatchNormAct, type EpilogueActivation } from "../src/tensor/ops/conv_epilogue.ts";
import { assertBits, randomEvalStats, withEnv } from "./helpers.ts";

interface Case {
  name: string;
  /** n, c, h, w */
  x: [number, number, number, number];
  k: number;
  stride: number;
  padding?: number;
}

const cases: Case[] = [
  { name: "3x3, 128 columns (along the row, streamed)", x: [4, 40, 128, 128], k: 3, stride: 1 },
  { name: "3x3 stride 2, 128 columns (along the row)", x: [2, 24, 128, 96], k: 3, stride: 2 },
  { name: "3x3, 40 columns (down the chunks, a partial one)", x: [2, 20, 23, 40], k: 3, stride: 1 },
  { name: "5x5, 16 x 16 (row-shared sums)", x: [3, 18, 16, 16], k: 5, stride: 1 },
  { name: "5x5 stride 2, 32 columns", x: [2, 17, 31, 32], k: 5, stride: 2 },
  { name: "3x3, 8 x 8 (two rows a vector)", x: [3, 21, 8, 8], k: 3, stride: 1 },
  { name: "5x5, 8 x 8 (two rows a vector)", x: [2, 19, 8, 8], k: 5, stride: 1 },
  { name: "3x3, 5 x 5 (three rows a vector)", x: [2, 16, 5, 5], k: 3, stride: 1 },
  { name: "3x3, 7 x 7, odd rows", x: [2, 16, 7, 7], k: 3, stride: 1 },
  { name: "3x3 stride 2, 16 x 16 (pairs of rows)", x: [3, 22, 16, 16], k: 3, stride: 2 },
  { name: "5x5 stride 2, 13 x 13 (pairs, an odd last row)", x: [2, 17, 13, 13], k: 5, stride: 2 },
  { name: "7x7, 14 x 14", x: [2, 16, 14, 14], k: 7, stride: 1 },
  { name: "7x7 stride 2, 28 x 28", x: [1, 16, 28, 28], k: 7, stride: 2 },
  { name: "3x3 without padding, 20 x 19", x: [2, 16, 20, 19], k: 3, stride: 1, padding: 0 },
  { name: "5x5 padding 1, stride 2", x: [2, 16, 21, 21], k: 5, stride: 2, padding: 1 },
];

/** The case's output both ways (new kernel, channels-last kernel), and the ops one by one. */
function run(c: Case, act: EpilogueActivation, residual: "none" | "plain" | "bn") {
  return noGrad(() =>
    scope(() => {
      manualSeed(c.x.reduce((a, b) => a * 3 + b, c.k + c.stride));
      const ch = c.x[1];
      const x = randn(c.x).mul(2), w = randn([ch, 1, c.k, c.k]), b = randn([ch]);
      const stats = randomEvalStats(ch);
      const opts = { stride: c.stride, padding: c.padding ?? (c.k >> 1), groups: ch };
      const shape = [...F.conv2d(x, w, b, opts).shape];
      // A residual that is a batch norm's unwritten output reaches the kernel with its transform.
      const r: Tensor | null = residual === "none"
        ? null
        : residual === "plain"
        ? randn(shape)
        : F.batchNorm(randn(shape), ...evalArgs(randomEvalStats(ch)));
      const fused = () => {
        const y = conv2dBatchNormAct(x, w, b, opts, stats, act, r);
        assert.ok(y !== null, "the fused kernel did not apply");
        return y.toArray() as Float32Array;
      };
      const plain = () => {
        const z = F.batchNorm(F.conv2d(x, w, b, opts), ...evalArgs(stats));
        const s = r ? z.add(r) : z;
        const a = act === "silu"
          ? F.silu(s)
          : act === "relu6"
          ? F.relu6(s)
          : act === "relu"
          ? F.relu(s)
          : s;
        return a.toArray() as Float32Array;
      };
      const conv = () => F.conv2d(x, w, b, opts).toArray() as Float32Array;
      return {
        chw: fused(),
        cl: withEnv({ LITS_DW_CHW: "0" }, fused),
        ops: plain(),
        convChw: conv(),
        convCl: withEnv({ LITS_DW_CHW: "0" }, conv),
      };
    })
  );
}

function evalArgs(s: ReturnType<typeof randomEvalStats>) {
  return [s.runningMean, s.runningVar, s.weight, s.bias] as const;
}

for (const c of cases) {
  Deno.test(`depthwise NCHW forward: ${c.name}, the channels-last kernel's bits`, () => {
    for (
      const [act, res] of [
        ["none", "none"],
        ["relu6", "none"],
        ["silu", "none"],
        ["relu", "plain"],
        ["none", "bn"],
      ] as const
    ) {
      const what = `${c.name}, ${act}, residual ${res}`;
      const { chw, cl, ops, convChw, convCl } = run(c, act, res);
      assertBits(convChw, convCl, `${c.name}: the convolution alone`);
      if (act !== "silu") {
        assertBits(chw, cl, what);
        assertBits(chw, ops, `${what}: against the ops one by one`);
        continue;
      }
      // SiLU: the channels-last kernel's epilogue (and the SiLU op) take a plane's last
      // values past a multiple of 16 through scalar expf, which may differ from the vector
      // form by an ulp; this kernel takes every value through the vector form.
      for (const [want, of] of [[cl, "the channels-last kernel"], [ops, "the ops"]] as const) {
        for (let i = 0; i < chw.length; i++) {
          const tol = 2 ** -22 * Math.max(2 ** -10, Math.abs(want[i]));
          assert.ok(Math.abs(chw[i] - want[i]) <= tol, `${what}: element ${i} against ${of}`);
        }
      }
    }
  });
}

Deno.test({
  name:
    "depthwise NCHW forward under bf16 autocast: each plane rounded, the channels-last kernel's bits",
  ignore: bf16Unavailable(cpuLib(), "cpu") !== null,
  fn() {
    for (const c of cases) {
      noGrad(() =>
        scope(() => {
          manualSeed(c.x.reduce((a, b) => a * 5 + b, c.k));
          const ch = c.x[1];
          const x = randn(c.x).mul(2), w = randn([ch, 1, c.k, c.k]), b = randn([ch]);
          const stats = randomEvalStats(ch);
          const opts = { stride: c.stride, padding: c.padding ?? (c.k >> 1), groups: ch };
          const run = () =>
            autocast("bfloat16", () => {
              const y = conv2dBatchNormAct(x, w, b, opts, stats, "relu6", null);
              assert.ok(y !== null, "the fused kernel did not apply");
              return [y, F.conv2d(x, w, b, opts)].map((t) => t.toArray() as Float32Array);
            });
          const [fused, conv] = run();
          // oneDNN, which takes strided and narrow layers otherwise, sums in another order.
          const [clFused, clConv] = withEnv({ LITS_DW_CHW: "0", LITS_ONEDNN: "off" }, run);
          assertBits(fused, clFused, `${c.name}: with the epilogue`);
          assertBits(conv, clConv, `${c.name}: the convolution`);
          const fp32 = F.conv2d(x, w, b, opts).toArray() as Float32Array;
          assert.ok(conv.some((v, i) => v !== fp32[i]), `${c.name}: rounded, unlike fp32`);
        })
      );
    }
  },
});

Deno.test("depthwise NCHW forward: a NaN weight reaches every output of its channel", () => {
  noGrad(() =>
    scope(() => {
      manualSeed(3);
      const x = randn([2, 16, 9, 9]);
      const wv = randn([16, 1, 3, 3]).toArray() as Float32Array;
      wv[5 * 9] = NaN; // channel 5's top-left tap: the padding carries it to the border too
      const w = tensor(wv, [16, 1, 3, 3]);
      const conv = () => F.conv2d(x, w, null, { padding: 1, groups: 16 }).toArray() as Float32Array;
      const chw = conv(), cl = withEnv({ LITS_DW_CHW: "0" }, conv);
      assertBits(chw, cl, "a NaN weight");
      for (let i = 0; i < 2; i++) {
        const plane = chw.subarray((i * 16 + 5) * 81, (i * 16 + 6) * 81);
        assert.ok(plane.every(Number.isNaN), "channel 5 is NaN everywhere");
      }
      assert.ok(chw.subarray(0, 5 * 81).every(Number.isFinite), "the other channels are not");
    })
  );
});

Deno.test("depthwise NCHW forward: SiLU past expf's fast range (|v| > 87, inf, NaN), the bits", () => {
  noGrad(() =>
    scope(() => {
      manualSeed(9);
      // 16 x 16 planes: the channels-last kernel's epilogue takes every value through
      // the vector expf too, so the bits must agree exactly.
      const x = randn([2, 16, 16, 16]).mul(80);
      const xv = x.toArray() as Float32Array;
      xv[3] = Infinity, xv[300] = -Infinity, xv[600] = NaN;
      const xs = tensor(xv, [2, 16, 16, 16]);
      const w = randn([16, 1, 3, 3]), stats = randomEvalStats(16);
      const opts = { padding: 1, groups: 16 };
      const fused = () => conv2dBatchNormAct(xs, w, null, opts, stats, "silu", null)!.toArray();
      const chw = fused() as Float32Array;
      const cl = withEnv({ LITS_DW_CHW: "0" }, fused) as Float32Array;
      assertBits(chw, cl, "SiLU over large values");
      const big = chw.filter((v) => Math.abs(v) > 87).length;
      assert.ok(big > 10, `too few values past expf's fast range: ${big}`);
      assert.ok(chw.some(Number.isNaN), "a NaN went through");
    })
  );
});

Deno.test("stem (one input channel, stride 2): its evaluation epilogue as it writes, the ops' bits", () => {
  for (const [h, w] of [[64, 64], [40, 42]]) {
    for (const act of ["relu6", "silu", "relu", "none"] as const) {
      noGrad(() =>
        scope(() => {
          manualSeed(h + w);
          const x = randn([2, 1, h, w]).mul(3), wt = randn([24, 1, 3, 3]);
          const stats = randomEvalStats(24), opts = { stride: 2, padding: 1 };
          const y = conv2dBatchNormAct(x, wt, null, opts, stats, act, null);
          assert.ok(y !== null);
          const z = F.batchNorm(F.conv2d(x, wt, null, opts), ...evalArgs(stats));
          const a = act === "silu"
            ? F.silu(z)
            : act === "relu6"
            ? F.relu6(z)
            : act === "relu"
            ? F.relu(z)
            : z;
          const got = y.toArray() as Float32Array, want = a.toArray() as Float32Array;
          const what = `stem ${h} x ${w}, ${act}`;
          // SiLU: the ops take a plane's last values past a multiple of 16 through scalar expf.
          if (act !== "silu" || (h * w / 4) % 16 === 0) assertBits(got, want, what);
          else {
            for (let i = 0; i < got.length; i++) {
              const tol = 2 ** -22 * Math.max(2 ** -10, Math.abs(want[i]));
              assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}: element ${i}`);
            }
          }
        })
      );
    }
  }
});
