/**
 * Grouped convolutions through oneDNN, fp32 and bf16 autocast (the
 * weights as oneDNN's 5-D goihw: the same bytes as our [k, c / groups, r,
 * s]): every pass against float64 with LITS_ONEDNN=all, the default and
 * off; and the default choice where libdnnl is installed: depthwise layers
 * ours on AVX-512 CPUs (bf16 narrow images' forward and backward data
 * oneDNN's), groups of 16-channel multiples on oneDNN; groups of 4 channels ours in
 * fp32 (no JIT kernel on nChw16c), and in bf16 oneDNN's channels-last
 * forward and backward data, the filter gradient fp32 im2col + GEMM over
 * rounded copies.
 */
import assert from "node:assert/strict";
import {
  bf16Convolutions,
  convPasses,
  type Geo,
  onednnChild,
  onednnHere,
  relErr,
} from "./conv_ref.ts";
import { AVX512, withEnv } from "./helpers.ts";

const { noBf16 } = bf16Convolutions("conv_grouped_onednn_test");

/** The three calls of one precision on g (x_relu with a transform) against float64. */
function check(g: Geo, precision: "f32" | "bf16", transform: boolean, seed: number) {
  const { got, want } = convPasses(g, precision, transform, seed);
  got.forEach((v, j) => {
    const e = relErr(v, want[j]);
    const what = `${precision} ${JSON.stringify(g)} ${["y", "dx", "dw"][j]}`;
    assert.ok(e < 1e-5, `${what}: max error ${e.toExponential(2)}`);
  });
}

/** A 3x3 convolution of `groups` groups, padding 1 (stride st). */
const grouped = (n: number, c: number, h: number, w: number, groups: number, st = 1): Geo => ({
  n,
  c,
  h,
  w,
  k: c,
  r: 3,
  s: 3,
  sh: st,
  sw: st,
  ph: 1,
  pw: 1,
  groups,
});

// Depthwise at strides 1 and 2, sizes off the 16-pixel blocks; groups of
// 16 and 32 channels; groups of 4 and 8 channels (bf16: channels-last
// oneDNN, their filter gradient fp32 im2col + GEMM over rounded copies;
// fp32: ours); a depthwise channel multiplier of 2 (k = 2c: ours); a 5x5
// depthwise (its filter gradient declined by oneDNN).
const shapes: Geo[] = [
  grouped(2, 16, 9, 7, 16),
  grouped(1, 32, 11, 10, 32, 2),
  { ...grouped(2, 16, 6, 6, 16), k: 32 },
  grouped(2, 32, 7, 9, 2),
  grouped(1, 64, 6, 5, 2),
  grouped(2, 16, 6, 6, 4),
  grouped(1, 32, 9, 9, 4, 2),
  { ...grouped(2, 16, 9, 8, 16), r: 5, s: 5, ph: 2, pw: 2 },
  // Little work: oneDNN 2.6's bf16 filter gradient read scratchpad it had
  // not written here (conv_bf16_onednn.c), garbage up to 1e39 in dW.
  { ...grouped(1, 32, 1, 1, 2), r: 5, s: 5, sw: 2, ph: 2, pw: 2 },
];

for (const precision of ["f32", "bf16"] as const) {
  Deno.test({
    name: `${precision} grouped convolutions (LITS_ONEDNN=all, default, off) match float64`,
    ignore: precision === "bf16" && noBf16,
    fn() {
      for (const env of ["all", undefined, "off"]) {
        // Scratch NaN-filled: a kernel that reads scratch it did not write shows.
        withEnv({ LITS_ONEDNN: env, LITS_SCRATCH_FILL: "nan" }, () => {
          shapes.forEach((g, i) => {
            check(g, precision, false, 10 + i);
            check(g, precision, true, 30 + i);
          });
        });
      }
    },
  });
}

const ALL = ["forward_training", "backward_data", "backward_weights"];
const DEFAULT = { LITS_ONEDNN: "", LITS_CONV_ALGO: "" };

/** Which passes of g ran on oneDNN by default. */
async function chosen(precision: "f32" | "bf16", g: Geo) {
  return (await onednnChild(precision, g, DEFAULT)).which;
}

for (const precision of ["f32", "bf16"] as const) {
  Deno.test({
    name: `${precision} grouped convolutions: oneDNN's by default where it has a JIT kernel`,
    ignore: precision === "bf16" && noBf16,
    async fn() {
      const want = onednnHere() ? ALL : [];
      // Depthwise: ours on AVX-512 CPUs but, under bf16, the backward data
      // of narrow images (conv_depthwise_test.ts).
      const depthwise = await chosen(precision, grouped(2, 32, 8, 8, 32));
      const dwWant = !AVX512 ? want : precision === "f32" ? [] : want.slice(1, 2);
      assert.deepEqual(depthwise, dwWant, "depthwise");
      assert.deepEqual(await chosen(precision, grouped(2, 32, 8, 8, 2)), want, "16-channel groups");
      // Grouped 1x1: oneDNN's in fp32, ours under bf16 (1.5-6x oneDNN's there).
      const pointwise = { ...grouped(2, 64, 8, 8, 4), r: 1, s: 1, ph: 0, pw: 0 };
      assert.deepEqual(await chosen(precision, pointwise), precision === "f32" ? want : [], "1x1");
      // Groups of 4 channels: fp32 has no JIT kernel for them (nChw16c); bf16
      // runs the forward and backward data channels-last, the filter
      // gradient on ours.
      const g4 = await chosen(precision, grouped(2, 32, 8, 8, 8));
      const g4Want = precision === "f32" ? [] : want.slice(0, 2);
      assert.deepEqual(g4, g4Want, "4-channel groups");
    },
  });
}
