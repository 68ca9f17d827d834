/**
 * Winograd F(4x4, 3x3), the default for most 3x3 layers (pick_algo in
 * native/cpu/conv.c), measured against float64 loops: its rounding error
 * grows with the output's scale (the transforms scale tiles by up to 8 and
 * 1/24), so it is bounded relative to the output's root mean square, on
 * ResNet-50's channel counts, for the forward and the backward-data pass,
 * beside F(2x2, 3x3)'s and GEMM's error on the same inputs.
 */
import assert from "node:assert/strict";
import {
  areWinogradConvolutionsEnabled,
  functional as F,
  manualSeed,
  noGrad,
  randn,
  scope,
  type Tensor,
  useWinogradConvolutions,
} from "../mod.ts";
import { withEnv } from "./helpers.ts";

const ALGOS = {
  "F(4x4)": { LITS_CONV_ALGO: "winograd", LITS_WINOGRAD_TILE: "4" },
  "F(2x2)": { LITS_CONV_ALGO: "winograd", LITS_WINOGRAD_TILE: "2" },
  gemm: { LITS_CONV_ALGO: "gemm", LITS_WINOGRAD_TILE: "4" },
};

/** y = 3x3 convolution (padding 1) of x [n, c, h, w] by w [k, c, 3, 3], in float64. */
function conv3x3(
  x: Float32Array,
  w: Float32Array,
  n: number,
  c: number,
  h: number,
  wd: number,
  k: number,
) {
  const y = new Float64Array(n * k * h * wd);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < k; o++) {
      for (let yy = 0; yy < h; yy++) {
        for (let xx = 0; xx < wd; xx++) {
          let s = 0;
          for (let ci = 0; ci < c; ci++) {
            for (let a = 0; a < 3; a++) {
              const iy = yy + a - 1;
              if (iy < 0 || iy >= h) continue;
              for (let b = 0; b < 3; b++) {
                const ix = xx + b - 1;
                if (ix < 0 || ix >= wd) continue;
                s += x[((i * c + ci) * h + iy) * wd + ix] * w[((o * c + ci) * 3 + a) * 3 + b];
              }
            }
          }
          y[((i * k + o) * h + yy) * wd + xx] = s;
        }
      }
    }
  }
  return y;
}

/** [w transposed to [c, k, 3, 3] and flipped]: backward data is this convolution of dy. */
function flipTranspose(w: Float32Array, k: number, c: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < k; o++) {
    for (let i = 0; i < c; i++) {
      for (let t = 0; t < 9; t++) out[(i * k + o) * 9 + (8 - t)] = w[(o * c + i) * 9 + t];
    }
  }
  return out;
}

/** Largest and root-mean-square error of got against ref, both over ref's root mean square. */
function errors(got: Float32Array, ref: Float64Array): { max: number; rms: number } {
  let ss = 0, se = 0, max = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i] - ref[i]);
    ss += ref[i] * ref[i];
    se += e * e;
    if (e > max) max = e;
  }
  const scale = Math.sqrt(ss / ref.length);
  return { max: max / scale, rms: Math.sqrt(se / ref.length) / scale };
}

/** The bounds F(4x4, 3x3) is held to (the worst measured: max 3e-5, rms 3e-6). */
const MAX_ERR = 1e-4, RMS_ERR = 1e-5;

// ResNet-50's 3x3 layers' channels and sizes, on 2 images and 8 output
// channels (the float64 loops' cost), with He-scaled weights as trained
// nets have them.
for (const [c, s] of [[64, 32], [256, 16], [512, 8]]) {
  Deno.test(`winograd F(4x4, 3x3): ${c} channels, ${s} x ${s}, forward and backward data against float64`, () => {
    scope(() => {
      manualSeed(7);
      const n = 2, k = 8;
      const x = randn([n, c, s, s]), w = randn([k, c, 3, 3]).mul(Math.sqrt(2 / (9 * c)));
      const dy = randn([n, k, s, s]);
      const xv = x.toArray() as Float32Array, wv = w.toArray() as Float32Array;
      const yRef = conv3x3(xv, wv, n, c, s, s, k);
      const dxRef = conv3x3(dy.toArray() as Float32Array, flipTranspose(wv, k, c), n, k, s, s, c);
      const found: Record<
        string,
        { y: { max: number; rms: number }; dx: { max: number; rms: number } }
      > = {};
      for (const [name, env] of Object.entries(ALGOS)) {
        withEnv(env, () => {
          const y = noGrad(() => F.conv2d(x, w, null, { padding: 1 }));
          const xg = x.detach().requiresGrad_();
          const out = F.conv2d(xg, w, null, { padding: 1 });
          out.backward(dy);
          found[name] = {
            y: errors(y.toArray() as Float32Array, yRef),
            dx: errors((xg.grad as Tensor).toArray() as Float32Array, dxRef),
          };
        });
      }
      const f4 = found["F(4x4)"], f2 = found["F(2x2)"];
      const say = JSON.stringify(found);
      for (const pass of ["y", "dx"] as const) {
        assert.ok(
          f4[pass].max <= MAX_ERR,
          `${pass}: largest error ${f4[pass].max} > ${MAX_ERR}: ${say}`,
        );
        assert.ok(
          f4[pass].rms <= RMS_ERR,
          `${pass}: rms error ${f4[pass].rms} > ${RMS_ERR}: ${say}`,
        );
        // F(2x2) and GEMM stay at float32's usual few ulps.
        assert.ok(f2[pass].rms <= 2e-6 && found.gemm[pass].rms <= 2e-6, say);
      }
    });
  });
}

/** dw [k, c, 3, 3] of a 3x3 convolution (padding 1) of x [n, c, h, w], given dy, in float64. */
function filterGrad(
  x: Float32Array,
  dy: Float32Array,
  n: number,
  c: number,
  h: number,
  wd: number,
  k: number,
): Float64Array {
  const dw = new Float64Array(k * c * 9);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < k; o++) {
      for (let ci = 0; ci < c; ci++) {
        const xb = (i * c + ci) * h * wd, db = (i * k + o) * h * wd;
        for (let a = 0; a < 3; a++) {
          for (let b = 0; b < 3; b++) {
            let s = 0;
            for (let yy = Math.max(0, 1 - a); yy < Math.min(h, h + 1 - a); yy++) {
              const row = xb + (yy + a - 1) * wd + b - 1;
              for (let xx = Math.max(0, 1 - b); xx < Math.min(wd, wd + 1 - b); xx++) {
                s += dy[db + yy * wd + xx] * x[row + xx];
              }
            }
            dw[((o * c + ci) * 3 + a) * 3 + b] += s;
          }
        }
      }
    }
  }
  return dw;
}

// The filter gradient, F(4x4, 3x3) where its tiles are many (filter_tile in
// conv_winograd.c), on ResNet-50's channels and on a long sum (8 images of
// 64 x 64): measured max 1.5e-5 and rms 1.7e-6 of dw's rms, against F(2x2)'s
// and GEMM's 2e-6 and 5e-7.
for (const [c, s, n] of [[64, 32, 2], [256, 16, 2], [512, 8, 2], [64, 64, 8]]) {
  Deno.test(`winograd F(4x4, 3x3): ${c} channels, ${s} x ${s}, ${n} images, filter gradient against float64`, () => {
    scope(() => {
      manualSeed(9);
      const k = 8;
      const x = randn([n, c, s, s]), dy = randn([n, k, s, s]);
      const ref = filterGrad(
        x.toArray() as Float32Array,
        dy.toArray() as Float32Array,
        n,
        c,
        s,
        s,
        k,
      );
      const found: Record<string, { max: number; rms: number }> = {};
      for (const [name, env] of Object.entries(ALGOS)) {
        withEnv(env, () => {
          const w = randn([k, c, 3, 3]).requiresGrad_();
          F.conv2d(x, w, null, { padding: 1 }).backward(dy);
          found[name] = errors((w.grad as Tensor).toArray() as Float32Array, ref);
        });
      }
      const say = JSON.stringify(found);
      assert.ok(found["F(4x4)"].max <= MAX_ERR && found["F(4x4)"].rms <= RMS_ERR, say);
      assert.ok(found["F(2x2)"].rms <= 2e-6 && found.gemm.rms <= 2e-6, say);
    });
  });
}

// Edges: tiles cut by the image's border (sizes not multiples of 4), images
// smaller than a tile, one image or one channel, and blocks of tiles that
// span images (blocks hold at least 128 tiles).
const edgeShapes: [string, number[], number][] = [
  ["1 x 1 image", [2, 3, 1, 1], 4],
  ["2 x 3 image", [1, 2, 2, 3], 5],
  ["13 x 6 image, one channel", [1, 1, 13, 6], 3],
  ["batch 1, 7 x 9", [1, 5, 7, 9], 6],
  ["blocks across 5 images of 36 x 35", [5, 16, 36, 35], 16],
  // 128+ channels and blocks of 32+ tiles: the planes' products through the
  // AVX-512 GEMM (conv_winograd.c), 130 output channels cutting its panels.
  ["128 -> 130 channels, 4 images of 16 x 16", [4, 128, 16, 16], 130],
  // From 64 channels on Intel (lits_wg_packs), OpenBLAS's elsewhere.
  ["96 -> 20 channels, 3 images of 20 x 20", [3, 96, 20, 20], 20],
];
for (const [name, [n, c, h, wd], k] of edgeShapes) {
  Deno.test(`winograd F(4x4, 3x3): ${name}, forward and backward data against float64`, () => {
    scope(() => {
      manualSeed(11);
      const x = randn([n, c, h, wd]), w = randn([k, c, 3, 3]), dy = randn([n, k, h, wd]);
      const wv = w.toArray() as Float32Array;
      const yRef = conv3x3(x.toArray() as Float32Array, wv, n, c, h, wd, k);
      const dxRef = conv3x3(dy.toArray() as Float32Array, flipTranspose(wv, k, c), n, k, h, wd, c);
      withEnv(ALGOS["F(4x4)"], () => {
        const xg = x.detach().requiresGrad_();
        const y = F.conv2d(xg, w, null, { padding: 1 });
        y.backward(dy);
        const ey = errors(y.toArray() as Float32Array, yRef);
        const edx = errors((xg.grad as Tensor).toArray() as Float32Array, dxRef);
        assert.ok(ey.max <= MAX_ERR && ey.rms <= RMS_ERR, `forward: ${JSON.stringify(ey)}`);
        assert.ok(
          edx.max <= MAX_ERR && edx.rms <= RMS_ERR,
          `backward data: ${JSON.stringify(edx)}`,
        );
      });
    });
  });
}

// The filter gradient's planes through gemm_nt.c (32+ input channels on
// AVX-512 CPUs), each against float64 and against OpenBLAS's NT SGEMM
// (LITS_CONV_ALGO=openblas): output channels cutting its blocks of 12 rows
// (13: a zero-padded panel; 28: 12 + 8 + 8), input channels cutting its
// panels of 32 (40) and its blocks of 256 (300), and a block of 256 tiles
// (2 images of 128 x 128, 32 channels; conv_winograd.c's blocks stay under
// gemm_nt.c's chunks of 512).
const ntShapes: [string, number[], number][] = [
  ["40 -> 13 channels, 3 images of 12 x 12", [3, 40, 12, 12], 13],
  ["300 -> 28 channels, 1 image of 8 x 8", [1, 300, 8, 8], 28],
  ["32 -> 20 channels, 2 images of 128 x 128", [2, 32, 128, 128], 20],
];
for (const [name, [n, c, h, wd], k] of ntShapes) {
  Deno.test(`winograd F(4x4, 3x3): ${name}, filter gradient (gemm_nt.c) against float64 and OpenBLAS`, () => {
    scope(() => {
      manualSeed(13);
      const x = randn([n, c, h, wd]), dy = randn([n, k, h, wd]);
      const ref = filterGrad(
        x.toArray() as Float32Array,
        dy.toArray() as Float32Array,
        n,
        c,
        h,
        wd,
        k,
      );
      const grad = (env: Record<string, string>) =>
        withEnv(env, () => {
          const w = randn([k, c, 3, 3]).requiresGrad_();
          F.conv2d(x, w, null, { padding: 1 }).backward(dy);
          return (w.grad as Tensor).toArray() as Float32Array;
        });
      const ours = grad(ALGOS["F(4x4)"]);
      const blas = grad({ ...ALGOS["F(4x4)"], LITS_CONV_ALGO: "openblas" });
      const e = errors(ours, ref);
      assert.ok(e.max <= MAX_ERR && e.rms <= RMS_ERR, `against float64: ${JSON.stringify(e)}`);
      const scale = Math.sqrt(ref.reduce((s, v) => s + v * v, 0) / ref.length);
      const most = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - blas[i])), 0);
      assert.ok(most <= MAX_ERR * scale, `against OpenBLAS: ${most} (rms ${scale})`);
    });
  });
}

// The default on narrow images (8 to 31 columns, where no direct kernel
// runs): Winograd from 32 input channels (its bits are those of
// LITS_CONV_ALGO=winograd), im2col + GEMM below (16 -> 256 at 8^2).
Deno.test("winograd: the default on narrow images takes it from 32 input channels", () => {
  scope(() => {
    manualSeed(17);
    const run = (shape: number[], k: number, env: Record<string, string | undefined>) =>
      withEnv(env, () =>
        noGrad(() => {
          manualSeed(19);
          const x = randn(shape), w = randn([k, shape[1], 3, 3]);
          return F.conv2d(x, w, null, { padding: 1 }).toArray() as Float32Array;
        }));
    const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => Object.is(v, b[i]));
    const defaults = { LITS_CONV_ALGO: undefined, LITS_WINOGRAD_TILE: undefined };
    const forced = { LITS_CONV_ALGO: "winograd", LITS_WINOGRAD_TILE: undefined };
    for (const [shape, k] of [[[16, 64, 16, 16], 128], [[16, 32, 12, 8], 64]] as const) {
      const a = run([...shape], k, defaults), b = run([...shape], k, forced);
      assert.ok(same(a, b), `${shape} -> ${k}: the default is not Winograd`);
    }
    const a = run([16, 16, 8, 8], 256, defaults), b = run([16, 16, 8, 8], 256, forced);
    assert.ok(!same(a, b), "16 -> 256 at 8^2: the default took Winograd");
  });
});

Deno.test("useWinogradConvolutions(false): every pass of the default choice is a direct sum, as PyTorch's rounding", () => {
  scope(() => {
    manualSeed(11);
    const n = 2, c = 64, k = 16, s = 32;
    const x = randn([n, c, s, s]), w = randn([k, c, 3, 3]).mul(Math.sqrt(2 / (9 * c)));
    const dy = randn([n, k, s, s]);
    const xv = x.toArray() as Float32Array, wv = w.toArray() as Float32Array;
    const dyv = dy.toArray() as Float32Array;
    const ref = {
      y: conv3x3(xv, wv, n, c, s, s, k),
      dx: conv3x3(dyv, flipTranspose(wv, k, c), n, k, s, s, c),
      dw: filterGrad(xv, dyv, n, c, s, s, k),
    };
    const run = () => {
      const xg = x.detach().requiresGrad_(), wg = w.detach().requiresGrad_();
      const y = F.conv2d(xg, wg, null, { padding: 1 });
      y.backward(dy);
      return {
        y: errors(y.toArray() as Float32Array, ref.y).rms,
        dx: errors(xg.grad!.toArray() as Float32Array, ref.dx).rms,
        dw: errors(wg.grad!.toArray() as Float32Array, ref.dw).rms,
      };
    };
    const fast = withEnv({ LITS_CONV_ALGO: undefined, LITS_WINOGRAD: undefined }, run);
    assert.equal(areWinogradConvolutionsEnabled(), true);
    useWinogradConvolutions(false);
    try {
      assert.equal(areWinogradConvolutionsEnabled(), false);
      const exact = withEnv({ LITS_CONV_ALGO: undefined }, run);
      const say = JSON.stringify({ fast, exact });
      // The default takes Winograd's forward here (about twice the rounding)...
      assert.ok(fast.y > 1.5 * exact.y, say);
      // ... and without it every pass rounds as a direct sum.
      for (const pass of ["y", "dx", "dw"] as const) assert.ok(exact[pass] <= 1e-6, say);
    } finally {
      useWinogradConvolutions(true);
    }
    assert.throws(() => useWinogradConvolutions("false" as never), /one boolean/);
  });
});
