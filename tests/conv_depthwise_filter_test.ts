/**
 * The filter gradient of depthwise convolutions through our kernel
 * (native/cpu/conv_depthwise_filter.c), fp32 and bf16 autocast: against
 * float64 (bf16: over rounded operands) on kernels of 3x3 to 7x7, non-square,
 * strided, dilated, unpadded and padded past the image, with a channel
 * multiplier, block-partial channel counts and images narrower and wider
 * than a vector, with and without a transformed input; against im2col +
 * GEMM (LITS_CONV_ALGO=gemm); values outside every window reach nothing, a
 * NaN in dy reaches every tap of its channel, padding included, and no
 * other; the same bits
 * for 1, 2 and 3 threads; and oneDNN no longer runs it by default.
 */
import assert from "node:assert/strict";
import { lastError } from "../src/ffi/native.ts";
import { bf16, randoms } from "./bf16_ref.ts";
import {
  bf16Convolutions,
  coefs,
  type Geo,
  onednnChild,
  onednnHere,
  reference,
  relErr,
  resolve,
} from "./conv_ref.ts";
import { assertBits, AVX512, withEnv } from "./helpers.ts";

const { lib, bwdFilter, noBf16 } = bf16Convolutions("conv_depthwise_filter_test");
const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

/** A depthwise convolution of c channels (k = c * mult), r x s, stride st, padding pad. */
function dw(n: number, c: number, h: number, w: number, r: number, more: Partial<Geo> = {}): Geo {
  return { n, c, h, w, k: c, r, s: r, ph: r >> 1, pw: r >> 1, groups: c, ...more };
}

const shapes: [string, Geo][] = [
  ["3x3, 20 channels (a partial block), 13 x 11", dw(2, 20, 13, 11, 3)],
  ["3x3 stride 2, 33 channels (three blocks)", dw(3, 33, 17, 19, 3, { sh: 2, sw: 2 })],
  ["5x5", dw(2, 16, 9, 8, 5)],
  ["5x5 stride 2", dw(1, 16, 15, 15, 5, { sh: 2, sw: 2 })],
  ["7x7, 21 columns (wider than a vector)", dw(2, 32, 20, 21, 7)],
  ["7x7 dilation 2", dw(1, 16, 18, 18, 7, { dh: 2, dw: 2, ph: 6, pw: 6 })],
  ["3x5, stride 1 x 2, padding 1 x 2", dw(2, 16, 10, 13, 3, { s: 5, sw: 2, pw: 2 })],
  ["3x3, channel multiplier 2", dw(2, 16, 9, 9, 3, { k: 32 })],
  ["4x4 stride 2, no padding", dw(2, 17, 12, 12, 4, { ph: 0, pw: 0, sh: 2, sw: 2 })],
  ["7x7 on a 2 x 3 image", dw(2, 16, 2, 3, 7)],
  ["2x2, 3 channels", dw(3, 3, 6, 6, 2, { ph: 0, pw: 0 })],
];

/** The filter gradient of g in one precision (x_relu with a transform) and its float64 reference. */
function filterOf(g: Geo, precision: "f32" | "bf16", transform: boolean, seed: number) {
  const G = resolve(g), hw = g.h * g.w, round = precision === "bf16" ? bf16 : (v: number) => v;
  const nx = g.n * g.c * hw, ny = g.n * g.k * G.oh * G.ow, nw = g.k * g.r * g.s;
  const x = randoms(nx, seed), dy = randoms(ny, seed + 5), coef = transform ? coefs(g.c) : null;
  const xt = Float64Array.from(x, (v, i) => {
    if (coef === null) return round(v);
    const ch = Math.floor(i / hw) % g.c;
    const u = Math.fround((v - coef[ch]) * coef[g.c + ch] + coef[2 * g.c + ch]);
    return round(u < 0 ? 0 : u);
  });
  const want = reference(g, xt, new Float64Array(nw), Float64Array.from(dy, round)).dw;
  const got = new Float32Array(nw).fill(NaN);
  const filter = precision === "f32" ? lib.lits_conv2d_backward_filter_f32 : bwdFilter!;
  assert.equal(
    filter(G.params, p(x), p(coef), transform ? 1 : 0, p(dy), p(got)),
    0,
    lastError(lib),
  );
  return { got, want, x, dy, coef };
}

for (const precision of ["f32", "bf16"] as const) {
  Deno.test({
    name: `${precision} depthwise filter gradients match float64 and im2col + GEMM`,
    ignore: precision === "bf16" && noBf16,
    fn() {
      shapes.forEach(([name, g], i) => {
        for (const transform of [false, true]) {
          const { got, want } = filterOf(g, precision, transform, 7 + i);
          const e = relErr(got, want);
          assert.ok(e < 1e-5, `${precision} ${name} transform ${transform}: ${e.toExponential(2)}`);
          const gemm = withEnv(
            { LITS_CONV_ALGO: "gemm" },
            () => filterOf(g, precision, transform, 7 + i).got,
          );
          assert.ok(relErr(got, gemm) < 1e-5, `${precision} ${name}: against im2col + GEMM`);
        }
      });
    },
  });
}

/** The fp32 filter gradient of g on x and dy (dW prefilled with 7s). */
function fp32Filter(g: Geo, x: Float32Array, dy: Float32Array): Float32Array {
  const out = new Float32Array(g.k * g.r * g.s).fill(7);
  const st = lib.lits_conv2d_backward_filter_f32(resolve(g).params, p(x), null, 0, p(dy), p(out));
  assert.equal(st, 0, lastError(lib));
  return out;
}

Deno.test("depthwise filter gradient: values outside every window reach nothing", () => {
  // 3x3 stride 2 without padding on 10 columns: column 9 is in no window.
  const g = dw(2, 18, 9, 10, 3, { ph: 0, pw: 0, sh: 2, sw: 2 }), G = resolve(g);
  const x = randoms(g.n * g.c * g.h * g.w, 3).map((v, i) => (i % g.w === 9 ? Infinity : v));
  assert.ok(fp32Filter(g, x, randoms(g.n * g.k * G.oh * G.ow, 4)).every(Number.isFinite));
});

Deno.test("depthwise filter gradient: a NaN in dy reaches every tap of its channel (padding too), no other", () => {
  const g = dw(2, 18, 9, 10, 3), G = resolve(g);
  const dy = randoms(g.n * g.k * G.oh * G.ow, 4);
  dy[(1 * g.k + 17) * G.oh * G.ow] = NaN; // image 1, channel 17 (the second block), pixel (0, 0)
  const out = fp32Filter(g, randoms(g.n * g.c * g.h * g.w, 3), dy);
  for (let k = 0; k < g.k; k++) {
    const taps = out.slice(9 * k, 9 * k + 9);
    // Pixel (0, 0)'s taps of row and column -1 read the padding's zeros: 0 * NaN, as im2col's.
    assert.ok(taps.every((v) => Number.isNaN(v) === (k === 17)), `channel ${k}: ${taps}`);
  }
});

Deno.test({
  name: "depthwise filter gradient: the same bits for 1, 2 and 3 threads",
  ignore: !AVX512,
  fn() {
    const before = new Int32Array(1);
    assert.equal(lib.lits_get_num_threads(before), 0);
    try {
      for (const [name, g] of [shapes[1], shapes[4], shapes[7]]) {
        for (const precision of noBf16 ? ["f32" as const] : ["f32", "bf16"] as const) {
          const [one, two, three] = [1, 2, 3].map((t) => {
            assert.equal(lib.lits_set_num_threads(t), 0);
            return filterOf(g, precision, true, 1).got;
          });
          assertBits(two, one, `${precision} ${name}: 1 and 2 threads`);
          assertBits(three, one, `${precision} ${name}: 1 and 3 threads`);
        }
      }
    } finally {
      lib.lits_set_num_threads(before[0]);
    }
  },
});

Deno.test("depthwise filter gradient: images whose copies pass 64 MiB a thread run im2col + GEMM", () => {
  // 740 x 742 (x, padded) + 740 x 740 (dy) pixels of 16 channels: 70 MB.
  const g = dw(1, 16, 740, 740, 3), G = resolve(g);
  const x = randoms(g.c * g.h * g.w, 1), dy = randoms(g.k * G.oh * G.ow, 2);
  // Without oneDNN, whose 3x3 kernel would take it.
  const got = withEnv({ LITS_ONEDNN: "off" }, () => fp32Filter(g, x, dy));
  const gemm = withEnv({ LITS_CONV_ALGO: "gemm" }, () => fp32Filter(g, x, dy));
  assertBits(got, gemm, "against LITS_CONV_ALGO=gemm");
});

for (const precision of ["f32", "bf16"] as const) {
  Deno.test({
    name: `${precision} depthwise filter gradient: ours by default, also where oneDNN has a kernel`,
    ignore: precision === "bf16" && noBf16 || !AVX512 || !onednnHere(),
    async fn() {
      const env = { LITS_ONEDNN: "", LITS_CONV_ALGO: "" };
      const three = await onednnChild(precision, dw(2, 32, 8, 8, 3), env);
      assert.ok(!three.which.includes("backward_weights"), JSON.stringify(three.which));
      // LITS_ONEDNN=all still hands oneDNN every pass it can take.
      const all = await onednnChild(precision, dw(2, 32, 8, 8, 3), { ...env, LITS_ONEDNN: "all" });
      assert.ok(all.which.includes("backward_weights"), JSON.stringify(all.which));
    },
  });
}
