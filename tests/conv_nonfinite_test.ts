/**
 * Winograd's transforms mix every value of a tile, so a NaN, an Inf or a
 * value near FLT_MAX (which overflows there) in one pixel would spoil outputs
 * a direct sum never reaches (one NaN pixel of a 64 -> 64 layer at 32^2:
 * 25 positions NaN instead of PyTorch's 9, and NaN from 1e38). A pass whose
 * Winograd result holds NaN or Inf runs again on another algorithm
 * (LITS_WG_NONFINITE in native/cpu/conv_internal.h): every output is then
 * NaN, +Inf, -Inf or finite exactly where a direct sum's is, in float32 and
 * under bf16 autocast, and stays close to it where finite.
 */
import assert from "node:assert/strict";
import { convPasses, type Geo, relErr } from "./conv_ref.ts";
import { withEnv } from "./helpers.ts";

/** A 3x3 layer Winograd takes by default in both precisions (on CPUs without AMX). */
const G: Geo = { n: 1, c: 64, h: 32, w: 32, k: 64, r: 3, s: 3, ph: 1, pw: 1 };

/** Each value's class: NaN, +Inf, -Inf or finite. */
const classes = (v: ArrayLike<number>) =>
  Array.from(v, (u) => Number.isNaN(u) ? "n" : u === Infinity ? "+" : u === -Infinity ? "-" : "f");

Deno.test("winograd non-finite: the layer below is Winograd's by default (else this file tests nothing)", () => {
  for (const precision of ["f32", "bf16"] as const) {
    const def = convPasses(G, precision, true, 1).got;
    const gemm = withEnv({ LITS_CONV_ALGO: "gemm" }, () => convPasses(G, precision, true, 1).got);
    def.forEach((got, pass) => {
      assert.ok(got.some((v, i) => !Object.is(v, gemm[pass][i])), `${precision} pass ${pass}`);
    });
  }
});

for (const precision of ["f32", "bf16"] as const) {
  for (const bad of [NaN, Infinity, -Infinity, 1e38]) {
    Deno.test(`winograd non-finite: ${bad} in one pixel of x and of dy, ${precision}: NaN and Inf where a direct sum has them`, () => {
      // Pixel (13, 17) of channel 5 (inside a tile) in both, and a corner of
      // x's channel 40. (Not of dy: the filter gradient's taps past the
      // border multiply it by the padding's zeros, NaN as im2col's, where
      // the float64 loop skips them.)
      const { got, want } = convPasses(G, precision, false, 2, (x, dy) => {
        x[(5 * 32 + 13) * 32 + 17] = dy[(5 * 32 + 13) * 32 + 17] = bad;
        x[40 * 32 * 32] = bad;
      });
      ["y", "dx", "dW"].forEach((name, pass) => {
        // (want in float32: 1e38 * 1e38 is Inf there.)
        const a = classes(got[pass]), b = classes(Float32Array.from(want[pass]));
        const wrong = a.filter((v, i) => v !== b[i]).length;
        assert.equal(wrong, 0, `${name}: ${wrong} outputs of another class than a direct sum's`);
        assert.ok(b.includes("f") && (Number.isFinite(bad) || b.some((v) => v !== "f")));
        const fin = (v: ArrayLike<number>) => Array.from(v).filter((_, i) => b[i] === "f");
        const err = relErr(fin(got[pass]), fin(want[pass]));
        // (Winograd's own bound where it kept its result: winograd_test.ts.)
        assert.ok(err < (precision === "f32" ? 1e-4 : 1e-3), `${name}: error ${err}`);
      });
    });
  }
}
