/**
 * The CPU bf16 convolutions (lits_conv2d_{forward,backward_data,
 * backward_filter}_bf16_f32: PyTorch's CPU autocast convolution, bf16
 * inputs and fp32 sums) against float64 loops over inputs rounded here in
 * TypeScript with c10::BFloat16's bit arithmetic. The numeric tests are
 * ignored, with the reason, on a CPU without AVX512_BF16.
 */
import assert from "node:assert/strict";
import { lastError } from "../src/ffi/native.ts";
import { bf16, randoms } from "./bf16_ref.ts";
import { bf16Convolutions, type Geo, reference, relErr, resolve } from "./conv_ref.ts";
import { assertBits, withEnv } from "./helpers.ts";

const { lib, fwd, bwdData, bwdFilter, hasSymbols, noBf16, amx } = bf16Convolutions(
  "conv_bf16_test",
);

const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

// fp32 sums against float64 ones, over up to a few thousand terms.
const TOL = 1e-5;
// Winograd's fp32 transforms (tests/winograd_test.ts bounds them alike).
const WINOGRAD_TOL = 1e-4;

/** A deferred transform relu?((v - mean) * scale + shift) per channel. */
interface Xform {
  coef: Float32Array | null; // null: the ReLU alone
  relu: boolean;
}

// With a transform, x and the coefficients sit on coarse binary grids so that
// T(x) is exact in fp32 whether or not the C compiler fuses it into an FMA
// (a one-ulp difference could flip a bf16 rounding).
function gridded(n: number, seed: number): Float32Array {
  return randoms(n, seed).map((v) => Math.round(v * 1024) / 1024);
}
function xform(c: number, relu: boolean): Xform {
  const coef = new Float32Array(3 * c);
  for (let i = 0; i < c; i++) {
    coef[i] = ((i % 5) - 2) / 16; // mean
    coef[c + i] = 0.5 + (i % 7) / 8; // scale
    coef[2 * c + i] = ((i % 3) - 1) / 8; // shift
  }
  return { coef, relu };
}
function applyXform(x: Float32Array, g: Geo, t: Xform | null): Float64Array {
  const hw = g.h * g.w;
  return Float64Array.from(x, (v, i) => {
    if (t === null) return bf16(v);
    const ch = Math.floor(i / hw) % g.c;
    const u = t.coef === null ? v : (v - t.coef[ch]) * t.coef[g.c + ch] + t.coef[2 * g.c + ch];
    return bf16(t.relu && u < 0 ? 0 : u);
  });
}

/** The three kernels on one geometry against the reference; returns their outputs. */
function check(g: Geo, t: Xform | null = null, withBias = true, seed = 1, tol = TOL) {
  const G = resolve(g), cg = g.c / G.groups;
  const nx = g.n * g.c * g.h * g.w, ny = g.n * g.k * G.oh * G.ow, nw = g.k * cg * g.r * g.s;
  const x = t === null ? randoms(nx, seed) : gridded(nx, seed);
  const w = randoms(nw, seed + 3), dy = randoms(ny, seed + 5);
  const bias = withBias ? randoms(g.k, seed + 9) : null;
  const ref = reference(
    g,
    applyXform(x, g, t),
    Float64Array.from(w, bf16),
    Float64Array.from(dy, bf16),
  );
  if (bias) ref.y.forEach((_, i) => (ref.y[i] += bias[Math.floor(i / (G.oh * G.ow)) % g.k]));
  // NaN fills catch outputs the kernels leave unwritten.
  const y = new Float32Array(ny).fill(NaN), dx = new Float32Array(nx).fill(NaN);
  const dw = new Float32Array(nw).fill(NaN);
  const coef = t ? t.coef : null, relu = t?.relu ? 1 : 0;
  const tag = `${JSON.stringify(g)}${t ? ` transform relu=${t.relu}` : ""}`;
  assert.equal(fwd!(G.params, p(x), p(coef), relu, p(w), p(bias), p(y)), 0, lastError(lib));
  assert.equal(bwdData!(G.params, p(w), p(dy), p(dx)), 0, lastError(lib));
  assert.equal(bwdFilter!(G.params, p(x), p(coef), relu, p(dy), p(dw)), 0, lastError(lib));
  for (
    const [name, got, want] of [["y", y, ref.y], ["dx", dx, ref.dx], ["dw", dw, ref.dw]] as const
  ) {
    const e = relErr(got, want);
    assert.ok(e < tol, `${tag} ${name}: max error ${e.toExponential(2)} of the rms`);
  }
  return { x, w, dy, bias, y, dx, dw };
}

const shapes: Geo[] = [
  { n: 2, c: 24, h: 9, w: 9, k: 20, r: 1, s: 1 }, // 1x1, tiles of several images
  { n: 1, c: 8, h: 40, w: 40, k: 12, r: 1, s: 1 }, // 1x1, x read in place, two row tiles
  { n: 2, c: 6, h: 11, w: 13, k: 10, r: 3, s: 3, ph: 1, pw: 1 }, // 3x3 pad 1
  { n: 3, c: 5, h: 15, w: 15, k: 7, r: 3, s: 3, sh: 2, sw: 2, ph: 1, pw: 1 }, // 3x3 stride 2
  { n: 2, c: 1, h: 37, w: 37, k: 16, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 }, // ResNet stem
  { n: 2, c: 8, h: 10, w: 10, k: 6, r: 3, s: 3, ph: 1, pw: 1, groups: 2 },
  { n: 2, c: 4, h: 12, w: 12, k: 5, r: 3, s: 3, ph: 2, pw: 2, dh: 2, dw: 2 }, // dilation 2
  { n: 1, c: 1, h: 9, w: 7, k: 1, r: 3, s: 3, ph: 1, pw: 1 }, // one image, one channel
  { n: 1, c: 64, h: 20, w: 20, k: 16, r: 3, s: 3, ph: 1, pw: 1 }, // K = 576: two K passes
  { n: 4, c: 3, h: 48, w: 48, k: 8, r: 3, s: 3, ph: 1, pw: 1 }, // filter K = 4608 columns
  { n: 2, c: 20, h: 6, w: 6, k: 150, r: 3, s: 3, ph: 1, pw: 1 }, // 150 and 180 rows: two A blocks
  { n: 2, c: 3, h: 10, w: 9, k: 4, r: 3, s: 2, sh: 2, sw: 1, ph: 1, pw: 0, dh: 1, dw: 2 },
];

Deno.test({
  name: "bf16 convolutions: forward, backward data and filter match bf16-rounded float64",
  ignore: noBf16,
  fn() {
    shapes.forEach((g, i) => check(g, null, i % 2 === 0, i + 1));
  },
});

// Shapes of the direct kernels (conv_bf16_direct.c and conv_bf16_filter.c:
// no groups or dilation, 16+ or 8 output columns, 4+ channels, not 1x1; backward
// data there for stride 1, the filter gradient for an even ow): chunks of 16
// columns with tails, a second chunk on the next row, odd channels, panels
// of 7 + 6 rows, strides 2 and 3 (column phases, even and odd padding),
// unequal paddings, batch 1 split by rows.
const directShapes: Geo[] = [
  { n: 3, c: 7, h: 18, w: 21, k: 26, r: 3, s: 3, ph: 1, pw: 1 }, // 3x3, ow 21, k 12 + 7 + 7
  { n: 1, c: 5, h: 33, w: 35, k: 13, r: 3, s: 3, sh: 2, sw: 2, ph: 1, pw: 1 }, // 3x3/2, batch 1
  { n: 2, c: 16, h: 34, w: 34, k: 20, r: 1, s: 2, sh: 2, sw: 2 }, // 1x2/2: one column phase
  { n: 2, c: 32, h: 16, w: 16, k: 24, r: 3, s: 3, ph: 1, pw: 1 }, // ow 16: chunk pairs span rows
  { n: 1, c: 5, h: 20, w: 40, k: 5, r: 3, s: 3, ph: 0, pw: 2 }, // pads 0 and 2
  { n: 1, c: 4, h: 40, w: 40, k: 16, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 }, // stem-like, batch 1
  { n: 1, c: 4, h: 50, w: 50, k: 6, r: 3, s: 3, sh: 3, sw: 3, ph: 1, pw: 1 }, // stride 3
  { n: 2, c: 9, h: 16, w: 17, k: 4, r: 2, s: 4, ph: 1, pw: 2 }, // even kernel, 4 rows
  { n: 1, c: 256, h: 64, w: 32, k: 5, r: 3, s: 3, ph: 1, pw: 1 }, // rows halved for XP_BYTES
  { n: 2, c: 6, h: 20, w: 37, k: 40, r: 3, s: 3, sh: 1, sw: 2, ph: 1, pw: 2 }, // filter: k 32 + 8
  { n: 2, c: 10, h: 7, w: 8, k: 14, r: 3, s: 3, ph: 1, pw: 1 }, // rows of 8 in pairs, 7 rows
  { n: 1, c: 6, h: 16, w: 16, k: 5, r: 3, s: 3, sh: 2, sw: 2, ph: 1, pw: 1 }, // 8 x 8 out, split
  { n: 1, c: 1, h: 34, w: 35, k: 13, r: 3, s: 4, sh: 2, sw: 2, ph: 1, pw: 2 }, // stem: tap pairs
  // Filter gradients of under 4 channels and 32+ filters: panels of taps.
  { n: 2, c: 1, h: 38, w: 40, k: 40, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 }, // stem: 4 + 3 taps
  { n: 1, c: 3, h: 20, w: 36, k: 33, r: 3, s: 5, ph: 1, pw: 2 }, // stride 1: panels of 5 taps
  { n: 2, c: 2, h: 30, w: 48, k: 32, r: 3, s: 4, sh: 3, sw: 3, ph: 1, pw: 1 }, // stride 3: 2 + 1 + 1
  // im2col + GEMM with conv_bf16_cols.c's stride-2 gather and col2im:
  { n: 3, c: 16, h: 35, w: 69, k: 20, r: 1, s: 1, sh: 2, sw: 2 }, // 1x1/2: ow 35, a 3-float tail
  { n: 2, c: 6, h: 15, w: 15, k: 7, r: 1, s: 1, sh: 1, sw: 2 }, // stride 1 x 2, small images
];

Deno.test({
  name: "bf16 convolutions: the direct kernels' shapes, and the same through im2col + GEMM",
  ignore: noBf16,
  fn() {
    // Where the GEMM runs AMX tiles, im2col + GEMM is the default and
    // LITS_AMX=off brings the direct kernels (vdpbf16ps) back.
    const direct = <T>(fn: () => T) => withEnv({ LITS_AMX: "off" }, fn);
    direct(() => directShapes.forEach((g, i) => check(g, null, i % 2 === 1, 20 + i)));
    withEnv({ LITS_CONV_ALGO: "gemm" }, () => {
      directShapes.forEach((g, i) => check(g, null, i % 2 === 0, 40 + i));
      shapes.forEach((g, i) => check(g, null, i % 2 === 1, 60 + i)); // K passes of packed W
    });
    for (const run of [direct, <T>(fn: () => T) => fn()]) {
      run(() => {
        check(directShapes[0], xform(7, true)); // the transform applied while rounding
        check(directShapes[2], xform(16, false), false);
        check(directShapes[5], xform(4, true));
        check(directShapes[3], xform(32, true)); // and in the filter gradient's rounding
        check(directShapes[16], xform(16, true)); // applied after the stride-2 gather
        check(directShapes[12], xform(1, false));
        check(directShapes[13], xform(1, true)); // tap panels: the transform while rounding
        check(directShapes[15], xform(2, false));
        check(directShapes[10], xform(10, true));
      });
    }
    // 1x1/2 backward data writes dx whole (conv_bf16_cols.c's scatter_s2):
    // even sizes (a last odd row of zeros), tiles of several images, and
    // batch 1 in channel blocks.
    check({ n: 3, c: 5, h: 10, w: 12, k: 3, r: 1, s: 1, sh: 2, sw: 2 }, null, true, 57);
    check({ n: 1, c: 6, h: 40, w: 46, k: 4, r: 1, s: 1, sh: 2, sw: 2 }, null, false, 58);
  },
});

Deno.test({
  name: "bf16 convolutions: a deferred transform (coef, relu) on forward and filter gradient",
  ignore: noBf16,
  fn() {
    check(shapes[2], xform(6, true));
    check(shapes[2], xform(6, false), false);
    check(shapes[0], xform(24, true)); // 1x1 of several images: transformed while gathered
    check(shapes[1], xform(8, true)); // 1x1 of one image: no longer read in place
    check(shapes[4], xform(1, true)); // the stem's padding pads the transformed input
  },
});

// The larger stride-1 3x3 layers on CPUs without AMX run fp32
// Winograd over bf16-rounded operands (conv_bf16_rounded.c): x after its
// transform, the weights and dy each rounded as the transforms read them.
// LITS_CONV_ALGO=winograd sends every such layer there (AMX CPUs too), and
// LITS_WINOGRAD_TILE=2 forces F(2x2, 3x3) (its own transforms of x and dy).
// One rounding left out moves the error to about 8e-3 of the rms.
const winogradShapes: Geo[] = [
  { n: 1, c: 128, h: 32, w: 32, k: 64, r: 3, s: 3, ph: 1, pw: 1 }, // taken by default here
  { n: 2, c: 16, h: 13, w: 11, k: 20, r: 3, s: 3, ph: 1, pw: 1 }, // partial tiles at both edges
];

Deno.test({
  name: "bf16 convolutions: fp32 Winograd over bf16-rounded operands",
  ignore: noBf16,
  fn() {
    const tol = WINOGRAD_TOL;
    for (const tile of ["4", "2"]) {
      withEnv({ LITS_CONV_ALGO: "winograd", LITS_WINOGRAD_TILE: tile }, () => {
        winogradShapes.forEach((g, i) => check(g, null, i === 0, 140 + i, tol));
        check(winogradShapes[0], xform(128, true), true, 142, tol);
        check(winogradShapes[1], xform(16, false), false, 143, tol);
      });
    }
    // Without the override: this CPU's choice. Where bf16 is vdpbf16ps (not
    // AMX), the 128-channel layers take Winograd (the bits of the forced
    // run), and 32 -> 64 at 32^2 does not (an image of 32K values and under
    // 128 channels; fp32 would take Winograd there).
    const forced = (g: Geo) =>
      withEnv({ LITS_CONV_ALGO: "winograd" }, () => check(g, null, true, 144, tol));
    const byDefault = (g: Geo) => check(g, null, true, 144, tol);
    const wide = [byDefault(winogradShapes[0]), forced(winogradShapes[0])];
    // 128 channels on a 16^2 image (32K values: after oneDNN declines).
    const mid: Geo = { n: 4, c: 128, h: 16, w: 16, k: 64, r: 3, s: 3, ph: 1, pw: 1 };
    const middle = [byDefault(mid), forced(mid)];
    const small: Geo = { n: 1, c: 32, h: 32, w: 32, k: 64, r: 3, s: 3, ph: 1, pw: 1 };
    const narrow = [byDefault(small), forced(small)];
    if (!amx) {
      for (const name of ["y", "dx", "dw"] as const) {
        assertBits(wide[0][name], wide[1][name], `128 -> 64 ${name}, default and forced`);
        assertBits(middle[0][name], middle[1][name], `128 -> 64 at 16^2 ${name}`);
        assert.ok(narrow[0][name].some((v, i) => v !== narrow[1][name][i]), `32 -> 64 ${name}`);
      }
    }
  },
});

// The forward and filter gradient of one input channel, where the fp32
// path runs the direct kernels, run them over bf16-rounded operands
// (conv_bf16_rounded.c): copies of relu?(T(x)) and the weights, and dy
// rounded as the filter kernel loads it. Leaving out the rounding of x or
// of dy fails this.
Deno.test({
  name: "bf16 convolutions: one input channel through the fp32 direct kernels, rounded operands",
  ignore: noBf16,
  fn() {
    const g: Geo = { n: 2, c: 1, h: 40, w: 37, k: 16, r: 3, s: 3, ph: 1, pw: 1 };
    check(g, null, true, 150);
    check(g, xform(1, true), false, 151);
    check(g, xform(1, false), true, 152);
  },
});

// 1x1 convolutions of one image per tile read x in place and the GEMM
// transforms it as it packs (bf16_gemm.c's pack_b_x): rows of K in pairs
// for the forward, columns of the transposed operand for the filter
// gradient. Odd channel counts (a K pair with one row; 16-column groups
// with a tail), column counts off the 32-column panels and over one
// 1024-column block, batch 1 split by rows for two threads, two images for
// two threads, and the ReLU without coefficients. Small images too: a 1x1
// convolution takes one image per tile (conv_bf16.c's bf16_tiling).
const pointwiseXformShapes: Geo[] = [
  { n: 1, c: 37, h: 45, w: 45, k: 20, r: 1, s: 1 }, // batch 1: two row tiles of 1035 and 990
  { n: 2, c: 33, h: 63, w: 63, k: 13, r: 1, s: 1 }, // one image per tile, 3969 columns
  { n: 5, c: 24, h: 7, w: 9, k: 20, r: 1, s: 1 }, // small images: still one per tile (3 + 2)
  { n: 1, c: 17, h: 3, w: 5, k: 3, r: 1, s: 1 }, // 15 columns, 3 rows, one thread
];

// Filter gradients of small images through im2col + GEMM: tiles of up to
// 512 columns (7 + 6 images of 64 here), not conv_tiles.c's 4 images.
const filterTileShapes: Geo[] = [
  { n: 13, c: 64, h: 8, w: 8, k: 10, r: 3, s: 3, ph: 1, pw: 1 }, // crs 576
  { n: 13, c: 520, h: 8, w: 8, k: 6, r: 1, s: 1 }, // 1x1: x gathered
];

Deno.test({
  name: "bf16 convolutions: filter gradients of tiles of several small images",
  ignore: noBf16,
  fn() {
    filterTileShapes.forEach((g, i) => check(g, null, true, 120 + i));
    check(filterTileShapes[0], xform(64, true), false, 122);
  },
});

// 1x1 filter gradients of images under 512 pixels, or of tiles under 512
// columns: a sum over the images (conv_bf16_pointwise.c, bf16_gemm.c's
// lits_gemm_bf16_ksum), dW split between the threads by rows (c <= k) or
// by columns. Odd pixel counts (a zero pads each image's last pair), K
// blocks (of up to 1024) of 113 + 17 images of 9 pixels, of 1024 + 76
// images of one pixel, of two images of 511 and one of 576, an image of
// 1089 cut in pieces of 544 and 545, row and column slabs off the 12 x 32
// tiles, the transform's channels offset by a column slab, and batch 1
// with one channel.
const pointwiseFilterShapes: Geo[] = [
  { n: 130, c: 3, h: 3, w: 3, k: 5, r: 1, s: 1 }, // 9 pixels: blocks of 113 + 17 images
  { n: 3, c: 45, h: 15, w: 15, k: 70, r: 1, s: 1 }, // rows 36 + 34; 45 columns: 32 + 13
  { n: 2, c: 100, h: 11, w: 11, k: 30, r: 1, s: 1 }, // columns 64 + 36
  { n: 2, c: 5, h: 7, w: 73, k: 9, r: 1, s: 1 }, // 511 pixels: two images a block
  { n: 1, c: 1, h: 5, w: 7, k: 1, r: 1, s: 1 }, // batch 1, one channel
  { n: 1100, c: 7, h: 1, w: 1, k: 9, r: 1, s: 1 }, // 1 pixel: blocks of 1024 + 76 pairs
  { n: 2, c: 300, h: 24, w: 24, k: 5, r: 1, s: 1 }, // 576 pixels, tiles under 512
  { n: 1, c: 300, h: 33, w: 33, k: 3, r: 1, s: 1 }, // 1089 pixels: pieces of 544 + 545
];

Deno.test({
  name: "bf16 convolutions: 1x1 filter gradients of small images summed image by image",
  ignore: noBf16,
  fn() {
    for (const [i, g] of pointwiseFilterShapes.entries()) {
      check(g, null, i % 2 === 0, 130 + i);
      check(g, xform(g.c, true), false, 140 + i);
      check(g, { coef: null, relu: true }, true, 150 + i);
    }
    check(pointwiseFilterShapes[2], xform(100, false), true, 160);
  },
});

Deno.test({
  name: "bf16 convolutions: a 1x1 convolution transforms x while packing it",
  ignore: noBf16,
  fn() {
    for (const [i, g] of pointwiseXformShapes.entries()) {
      check(g, xform(g.c, true), true, 80 + i);
      check(g, xform(g.c, false), false, 90 + i);
      check(g, { coef: null, relu: true }, i % 2 === 0, 100 + i);
      check(g, null, i % 2 === 1, 110 + i); // and backward data, with no transform
    }
  },
});

/** n floats at a 64-byte aligned address (as the library's tensors are). */
function aligned(n: number): Float32Array {
  const buf = new Float32Array(n + 16);
  const at = Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf))) % 64;
  const off = ((64 - at) % 64) / 4;
  return buf.subarray(off, off + n);
}

// Outputs of 8 MiB and more written in one K pass go out with streaming
// stores (bf16_gemm.c; stream_store.h's threshold), on 64-byte aligned
// rows only: y and dx of 2 x 16 x 256^2 floats here, K of 16; and the
// stride-2 backward data's dx (conv_bf16_cols.c's scatter_s2).
Deno.test({
  name: "bf16 convolutions: 1x1 outputs past 8 MiB (streaming stores) are right",
  ignore: noBf16,
  fn() {
    const geos: Geo[] = [
      { n: 2, c: 16, h: 256, w: 256, k: 16, r: 1, s: 1 },
      { n: 2, c: 16, h: 256, w: 256, k: 4, r: 1, s: 1, sh: 2, sw: 2 },
    ];
    for (const [i, g] of geos.entries()) {
      const G = resolve(g), nx = g.n * g.c * g.h * g.w, ny = g.n * g.k * G.oh * G.ow;
      const x = randoms(nx, 171 + i), w = randoms(g.k * g.c, 173 + i);
      const dy = randoms(ny, 175 + i);
      const ref = reference(g, x.map(bf16), w.map(bf16), dy.map(bf16));
      const y = aligned(ny).fill(NaN), dx = aligned(nx).fill(NaN);
      assert.equal(fwd!(G.params, p(x), null, 0, p(w), null, p(y)), 0, lastError(lib));
      assert.equal(bwdData!(G.params, p(w), p(dy), p(dx)), 0, lastError(lib));
      for (const [name, got, want] of [["y", y, ref.y], ["dx", dx, ref.dx]] as const) {
        const e = relErr(got, want);
        assert.ok(e < TOL, `${JSON.stringify(g)} ${name}: max error ${e.toExponential(2)}`);
      }
    }
  },
});

Deno.test({
  name: "bf16 convolutions: the inputs are rounded (far from the fp32 convolution)",
  ignore: noBf16,
  fn() {
    const g = shapes[2], G = resolve(g);
    const { x, w, dy, bias, y, dx, dw } = check(g, null, true, 7);
    const y32 = new Float32Array(y.length), dx32 = new Float32Array(dx.length);
    const dw32 = new Float32Array(dw.length);
    assert.equal(lib.lits_conv2d_forward_f32(G.params, p(x), null, 0, p(w), p(bias), p(y32)), 0);
    assert.equal(lib.lits_conv2d_backward_data_f32(G.params, p(w), p(dy), p(dx32)), 0);
    assert.equal(lib.lits_conv2d_backward_filter_f32(G.params, p(x), null, 0, p(dy), p(dw32)), 0);
    // bf16 keeps 8 significant bits: results move by ~1e-3 of their rms.
    for (const [name, a, b] of [["y", y, y32], ["dx", dx, dx32], ["dw", dw, dw32]] as const) {
      const e = relErr(a, b);
      assert.ok(e > 100 * TOL, `${name} only ${e.toExponential(2)} from the fp32 convolution`);
    }
  },
});

Deno.test({
  name: "bf16 convolutions: bad arguments give status 1 and a message; n = 0 is a no-op",
  ignore: !hasSymbols,
  fn() {
    const g = resolve({ n: 1, c: 2, h: 5, w: 5, k: 2, r: 3, s: 3 }), b = new Float32Array(64);
    const bad = (fix: (q: Int32Array) => void) => {
      const q = g.params.slice();
      fix(q);
      return q;
    };
    const cases: [Int32Array | null, RegExp][] = [
      [null, /params is NULL/],
      [bad((q) => (q[13] = 3)), /groups=3 must divide both c=2 and k=2/],
      [bad((q) => (q[5] = 9)), /dilated kernel 9x3 .* is larger than the padded input/],
      [bad((q) => (q[7] = 0)), /strides 0x1 must be > 0/],
      [bad((q) => (q[1] = -1)), /input sizes n=1 c=-1/],
    ];
    for (const [q, re] of cases) {
      assert.equal(fwd!(q, p(b), null, 0, p(b), null, p(b)), 1);
      assert.match(lastError(lib), new RegExp(`lits_conv2d_forward_bf16_f32: ${re.source}`));
      assert.equal(bwdData!(q, p(b), p(b), p(b)), 1);
      assert.match(lastError(lib), new RegExp(`lits_conv2d_backward_data_bf16_f32: ${re.source}`));
      assert.equal(bwdFilter!(q, p(b), null, 0, p(b), p(b)), 1);
      assert.match(
        lastError(lib),
        new RegExp(`lits_conv2d_backward_filter_bf16_f32: ${re.source}`),
      );
    }
    assert.equal(fwd!(g.params, null, null, 0, p(b), null, p(b)), 1);
    assert.match(lastError(lib), /x, weight or y is NULL/);
    assert.equal(bwdData!(g.params, p(b), p(b), null), 1);
    assert.match(lastError(lib), /weight, dy or dx is NULL/);
    assert.equal(bwdFilter!(g.params, p(b), null, 0, null, p(b)), 1);
    assert.match(lastError(lib), /x or dy is NULL/);
    assert.equal(bwdFilter!(g.params, p(b), null, 0, p(b), null), 1);
    assert.match(lastError(lib), /dweight is NULL/);
    // No images: nothing to read or write, and a zero filter gradient.
    const empty = bad((q) => (q[0] = 0)), dw = new Float32Array(2 * 2 * 9).fill(NaN);
    assert.equal(fwd!(empty, null, null, 0, null, null, null), 0, lastError(lib));
    assert.equal(bwdData!(empty, null, null, null), 0, lastError(lib));
    assert.equal(bwdFilter!(empty, null, null, 0, null, p(dw)), 0, lastError(lib));
    assert.ok(dw.every((v) => v === 0), "the empty batch's filter gradient is not zero");
  },
});

Deno.test({
  name: "bf16 convolutions: LITS_BF16=off gives status 3 with the fp32 function to use",
  ignore: !hasSymbols,
  fn() {
    const g = resolve({ n: 1, c: 2, h: 5, w: 5, k: 2, r: 3, s: 3 }), b = new Float32Array(64);
    const out = new Float32Array(64).fill(7);
    Deno.env.set("LITS_BF16", "off");
    try {
      assert.equal(fwd!(g.params, p(b), null, 0, p(b), null, p(out)), 3);
      assert.match(lastError(lib), /forward_bf16_f32: no AVX512_BF16.*use lits_conv2d_forward_f32/);
      assert.equal(bwdData!(g.params, p(b), p(b), p(out)), 3);
      assert.match(lastError(lib), /use lits_conv2d_backward_data_f32/);
      assert.equal(bwdFilter!(g.params, p(b), null, 0, p(b), p(out)), 3);
      assert.match(lastError(lib), /use lits_conv2d_backward_filter_f32/);
      assert.ok(out.every((v) => v === 7), "an unavailable kernel wrote its output");
    } finally {
      Deno.env.delete("LITS_BF16");
    }
  },
});
