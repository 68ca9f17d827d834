/**
 * Depthwise convolutions through our kernels (native/cpu/conv_depthwise.c,
 * conv_depthwise_filter.c), fp32 and bf16 autocast: every pass against
 * float64 (bf16: over rounded operands) with a bias and a transformed
 * input, on kernels of 2x2 to 7x7, non-square, strided (the backward data
 * of strided layers is the other kernels'), dilated, unpadded and padded
 * past the image, with a channel multiplier, block-partial channel counts
 * and images narrower and wider than a vector; against im2col + GEMM;
 * values outside every window reach nothing; a NaN in dy reaches every
 * filter tap of its channel, and a NaN weight every output of its channel,
 * through the padding too, as im2col's zeros carry them; the same bits for
 * 1, 2 and 3 threads; which passes oneDNN still runs by default; and
 * images too large for the copies go to the other kernels.
 */
import assert from "node:assert/strict";
import { lastError } from "../src/ffi/native.ts";
import { randoms } from "./bf16_ref.ts";
import {
  bf16Convolutions,
  convPasses,
  type Geo,
  onednnChild,
  onednnHere,
  relErr,
  resolve,
} from "./conv_ref.ts";
import { assertBits, AVX512, withEnv } from "./helpers.ts";

const { lib, fwd, noBf16 } = bf16Convolutions("conv_depthwise_test");
const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

/** A depthwise convolution of c channels, r x r, padding r / 2 unless given. */
function dw(n: number, c: number, h: number, w: number, r: number, more: Partial<Geo> = {}): Geo {
  return { n, c, h, w, k: c, r, s: r, ph: r >> 1, pw: r >> 1, groups: c, ...more };
}

const shapes: [string, Geo][] = [
  ["3x3, 20 channels (a partial block), 13 x 11", dw(2, 20, 13, 11, 3)],
  ["3x3 stride 2, 33 channels (three blocks)", dw(3, 33, 17, 19, 3, { sh: 2, sw: 2 })],
  ["5x5, 9 x 8", dw(2, 16, 9, 8, 5)],
  ["5x5 stride 2", dw(1, 16, 15, 15, 5, { sh: 2, sw: 2 })],
  ["7x7, 21 columns", dw(2, 32, 20, 21, 7)],
  ["7x7 dilation 2", dw(1, 16, 18, 18, 7, { dh: 2, dw: 2, ph: 6, pw: 6 })],
  ["3x5, stride 1 x 2, padding 1 x 2", dw(2, 16, 10, 13, 3, { s: 5, sw: 2, pw: 2 })],
  ["3x3, channel multiplier 3", dw(2, 16, 9, 9, 3, { k: 48 })],
  ["4x4 stride 2, no padding", dw(2, 17, 12, 12, 4, { ph: 0, pw: 0, sh: 2, sw: 2 })],
  ["7x7 on a 2 x 3 image", dw(2, 16, 2, 3, 7)],
  ["2x2, 3 channels, no padding", dw(3, 3, 6, 6, 2, { ph: 0, pw: 0 })],
  ["3x3, padding 2 (past the image)", dw(2, 16, 7, 9, 3, { ph: 2, pw: 2 })],
];

const NAMES = ["y", "dx", "dW"];

for (const precision of ["f32", "bf16"] as const) {
  Deno.test({
    name: `${precision} depthwise convolutions: every pass matches float64 and im2col + GEMM`,
    ignore: precision === "bf16" && noBf16,
    fn() {
      shapes.forEach(([name, g], i) => {
        for (const transform of [false, true]) {
          const { got, want } = convPasses(g, precision, transform, 11 + i);
          const gemm = withEnv(
            { LITS_CONV_ALGO: "gemm" },
            () => convPasses(g, precision, transform, 11 + i).got,
          );
          got.forEach((v, j) => {
            const what = `${precision} ${name} transform ${transform} ${NAMES[j]}`;
            const e = relErr(v, want[j]);
            assert.ok(e < 1e-5, `${what}: ${e.toExponential(2)}`);
            assert.ok(relErr(v, gemm[j]) < 1e-5, `${what}: against im2col + GEMM`);
          });
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

Deno.test("depthwise forward: a NaN weight reaches every output of its channel, through the padding too", () => {
  const g = dw(2, 18, 9, 10, 3), G = resolve(g);
  const x = randoms(g.n * g.c * g.h * g.w, 1), w = randoms(g.k * 9, 2);
  w[17 * 9] = NaN; // channel 17 (the second block), tap (0, 0)
  const y = new Float32Array(g.n * g.k * G.oh * G.ow);
  const st = lib.lits_conv2d_forward_f32(G.params, p(x), null, 0, p(w), null, p(y));
  assert.equal(st, 0, lastError(lib));
  const plane = G.oh * G.ow;
  for (let i = 0; i < g.n; i++) {
    for (let k = 0; k < g.k; k++) {
      const out = y.subarray((i * g.k + k) * plane, (i * g.k + k + 1) * plane);
      // Pixel (0, 0)'s tap (0, 0) reads the padding: NaN * 0, as im2col's.
      assert.ok(out.every((v) => Number.isNaN(v) === (k === 17)), `image ${i} channel ${k}`);
    }
  }
});

Deno.test({
  name: "depthwise convolutions: every pass the same bits for 1, 2 and 3 threads",
  ignore: !AVX512,
  fn() {
    const before = new Int32Array(1);
    assert.equal(lib.lits_get_num_threads(before), 0);
    try {
      for (const [name, g] of [shapes[1], shapes[4], shapes[7]]) {
        for (const precision of noBf16 ? ["f32" as const] : ["f32", "bf16"] as const) {
          const [one, two, three] = [1, 2, 3].map((t) => {
            assert.equal(lib.lits_set_num_threads(t), 0);
            return convPasses(g, precision, true, 1);
          });
          for (const [other, t] of [[two, 2], [three, 3]] as const) {
            other.got.forEach((v, j) => {
              assertBits(v, one.got[j], `${precision} ${name}: ${NAMES[j]}, 1 and ${t} threads`);
            });
          }
        }
      }
    } finally {
      lib.lits_set_num_threads(before[0]);
    }
  },
});

const DEFAULT = { LITS_ONEDNN: "", LITS_CONV_ALGO: "" };

Deno.test({
  name: "depthwise layers: which passes oneDNN runs by default (ours where they measured faster)",
  ignore: !AVX512 || !onednnHere(),
  async fn() {
    const wide = dw(2, 32, 16, 16, 3), narrow = dw(2, 32, 8, 8, 3);
    const strided = dw(2, 32, 16, 16, 3, { sh: 2, sw: 2 });
    // fp32: every pass ours, but the strided backward data.
    assert.deepEqual((await onednnChild("f32", wide, DEFAULT)).which, []);
    // LITS_ONEDNN=all still hands oneDNN every pass it can take.
    const all = await onednnChild("f32", wide, { ...DEFAULT, LITS_ONEDNN: "all" });
    assert.deepEqual(all.which, ["forward_training", "backward_data", "backward_weights"]);
    assert.deepEqual((await onednnChild("f32", strided, DEFAULT)).which, ["backward_data"]);
    if (noBf16) return;
    // bf16: oneDNN's backward data on narrow images and strided layers, the filter gradient
    // always ours; so is the forward where the NCHW kernel takes the layer (conv_depthwise_chw.c:
    // untransformed inputs, rounded plane by plane), and oneDNN's where it reads a transform.
    assert.deepEqual((await onednnChild("bf16", wide, DEFAULT)).which, []);
    assert.deepEqual((await onednnChild("bf16", narrow, DEFAULT)).which, ["backward_data"]);
    assert.deepEqual((await onednnChild("bf16", strided, DEFAULT)).which, ["backward_data"]);
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

Deno.test({
  name: "depthwise forward: images whose copies pass 64 MiB a thread run im2col + GEMM",
  // (bf16: the GEMM's vdpbf16ps sums pairs, so its bits differ from ours;
  // fp32 GEMM sums the taps in our order.)
  ignore: noBf16,
  fn() {
    // 742 x 742 (x, padded) + 740 x 740 (y) pixels of 16 channels: 70 MB.
    const g = dw(1, 16, 740, 740, 3), G = resolve(g);
    const x = randoms(g.c * g.h * g.w, 1), w = randoms(g.k * 9, 2);
    const run = () => {
      const y = new Float32Array(g.k * G.oh * G.ow);
      assert.equal(fwd!(G.params, p(x), null, 0, p(w), null, p(y)), 0, lastError(lib));
      return y;
    };
    // Without oneDNN, whose kernel would take it.
    const got = withEnv({ LITS_ONEDNN: "off" }, run);
    assertBits(got, withEnv({ LITS_CONV_ALGO: "gemm" }, run), "against LITS_CONV_ALGO=gemm");
  },
});
