/**
 * NaN and Inf reach the outputs of a convolution that a direct sum (and
 * PyTorch) reaches, whichever kernel runs.
 *
 * Winograd's transforms mix every value of a tile, so a NaN, an Inf or a
 * value near FLT_MAX (which overflows there) in one pixel would spoil outputs
 * a direct sum never reaches (one NaN pixel of a 64 -> 64 layer at 32^2:
 * 25 positions NaN instead of PyTorch's 9, and NaN from 1e38). A pass whose
 * Winograd result holds NaN or Inf runs again on another algorithm
 * (LITS_WG_NONFINITE in native/cpu/conv_internal.h): every output is then
 * NaN, +Inf, -Inf or finite exactly where a direct sum's is, in float32 and
 * under bf16 autocast, and stays close to it where finite.
 *
 * The depthwise and direct backward-data kernels read dy zero-padded, so a
 * NaN or Inf weight met 0 * Inf = NaN past dy's border, a product col2im
 * never forms: with such weights the backward data runs on the others
 * (conv_padded_dy_ok).
 */
import assert from "node:assert/strict";
import { convPasses, type Geo, relErr, resolve } from "./conv_ref.ts";
import { cpuLib } from "../src/ffi/native.ts";
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

Deno.test("backward data with a NaN or Inf weight: NaN and Inf where im2col + GEMM has them", () => {
  const lib = cpuLib(), p = (a: Float32Array) => Deno.UnsafePointer.of(a);
  const geos: Geo[] = [
    { n: 2, c: 32, h: 20, w: 20, k: 32, r: 3, s: 3, ph: 1, pw: 1, groups: 32 }, // depthwise
    { n: 1, c: 32, h: 27, w: 27, k: 32, r: 3, s: 3, ph: 1, pw: 1 }, // bf16's direct kernel
    { n: 1, c: 16, h: 9, w: 11, k: 24, r: 5, s: 5, ph: 2, pw: 2 },
  ];
  for (const g of geos) {
    const { params, oh, ow } = resolve(g);
    const nw = g.k * (g.c / (g.groups ?? 1)) * g.r * g.s;
    const dy = Float32Array.from({ length: g.n * g.k * oh * ow }, (_, i) => Math.cos(i));
    for (const bad of [NaN, Infinity]) {
      const w = Float32Array.from({ length: nw }, (_, i) => Math.sin(i) * 0.3);
      w[2] = w[nw - 1] = bad; // a corner tap of the first filter, the last tap of the last
      for (const precision of ["f32", "bf16"] as const) {
        const data = precision === "f32"
          ? lib.lits_conv2d_backward_data_f32
          : lib.lits_conv2d_backward_data_bf16_f32!;
        const run = (env: Record<string, string | undefined>) =>
          withEnv(env, () => {
            const dx = new Float32Array(g.n * g.c * g.h * g.w);
            assert.equal(data(params, p(w), p(dy), p(dx)), 0);
            return classes(dx);
          });
        const want = run({ LITS_CONV_ALGO: "gemm", LITS_ONEDNN: "off" });
        for (const onednn of [undefined, "off"]) {
          const got = run({ LITS_CONV_ALGO: undefined, LITS_ONEDNN: onednn });
          const wrong = got.filter((v, i) => v !== want[i]).length;
          const what = `${precision} ${JSON.stringify(g)} w ${bad} LITS_ONEDNN=${onednn}`;
          assert.equal(wrong, 0, `${what}: ${wrong} values of another class than col2im's`);
        }
      }
    }
  }
});
