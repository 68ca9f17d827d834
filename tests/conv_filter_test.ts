/**
 * The fp32 filter gradient of 1x1 convolutions, both of our AVX-512
 * kernels (LITS_FILTER1X1=dot: native/cpu/conv_filter_pointwise.c; =outer:
 * conv_filter_outer.c on packed_gemm.c's micro-kernel) against float64
 * loops: batches of one, one channel, sizes that are not multiples of the
 * kernels' blocks (4 x 6; 12, 8 or 4 rows by 32 channels), of their 16
 * lanes or of their chunks of columns (1024; 512), strides 1 to 3, and the
 * deferred batch norm and ReLU (x_coef, x_relu) read as x is packed. Their
 * bits do not depend on the number of threads, and OpenBLAS
 * (LITS_CONV_ALGO=openblas) agrees with them.
 */
import assert from "node:assert/strict";
import { manualSeed, rand, randn, type Tensor } from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { assertClose, withEnv } from "./helpers.ts";
import { type Geo, reference as convReference, resolve } from "./conv_ref.ts";

const lib = cpuLib();

interface Case {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  stride: number;
  xf?: boolean;
  relu?: boolean;
}

/** dW[k, c] in float64: sum over images and output pixels of dy T(x). */
function reference(g: Case, x: Float32Array, dy: Float32Array, coef: Float32Array | null) {
  const { n, c, h, w, k, stride } = g;
  const oh = Math.floor((h - 1) / stride) + 1, ow = Math.floor((w - 1) / stride) + 1;
  const out = new Float64Array(k * c);
  const col = new Float64Array(oh * ow);
  for (let i = 0; i < n; i++) {
    for (let ci = 0; ci < c; ci++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let v = x[((i * c + ci) * h + oy * stride) * w + ox * stride];
          if (coef) v = (v - coef[ci]) * coef[c + ci] + coef[2 * c + ci];
          if (g.relu && v < 0) v = 0;
          col[oy * ow + ox] = v;
        }
      }
      for (let ki = 0; ki < k; ki++) {
        const d = (i * k + ki) * oh * ow;
        let s = 0;
        for (let j = 0; j < oh * ow; j++) s += dy[d + j] * col[j];
        out[ki * c + ci] += s;
      }
    }
  }
  return out;
}

/** The kernel's dW for case g (the same inputs for a given seed). */
function gradient(g: Case, seed: number): { got: Float32Array; want: Float64Array } {
  manualSeed(seed);
  const { n, c, h, w, k, stride } = g;
  const oh = Math.floor((h - 1) / stride) + 1, ow = Math.floor((w - 1) / stride) + 1;
  const x = randn([n, c, h, w]), dy = randn([n, k, oh, ow]), dw = randn([k, c, 1, 1]);
  const coef: Tensor | null = g.xf ? rand([3 * c]).add(0.25) : null;
  const geom = new Int32Array([n, c, h, w, k, 1, 1, stride, stride, 0, 0, 1, 1, 1]);
  const st = lib.lits_conv2d_backward_filter_f32(
    geom,
    x.ptr,
    coef ? coef.ptr : null,
    g.relu ? 1 : 0,
    dy.ptr,
    dw.ptr,
  );
  assert.equal(st, 0);
  const want = reference(
    g,
    x.toArray() as Float32Array,
    dy.toArray() as Float32Array,
    coef ? coef.toArray() as Float32Array : null,
  );
  return { got: dw.toArray() as Float32Array, want };
}

function check(g: Case, seed = 1): Float32Array {
  const { got, want } = gradient(g, seed);
  // A float32 sum of n oh ow products: tolerance by the size of the sum.
  const scale = Math.sqrt(g.n * Math.ceil(g.h / g.stride) * Math.ceil(g.w / g.stride));
  assertClose(got, want, { rtol: 1e-5, atol: 1e-5 * scale, what: JSON.stringify(g) });
  return got;
}

const cases: [string, Case][] = [
  ["one image, one channel, one output", { n: 1, c: 1, h: 5, w: 3, k: 1, stride: 1 }],
  ["odd channels and outputs, 7 x 9", { n: 2, c: 7, h: 7, w: 9, k: 13, stride: 1 }],
  ["blocks of 4 x 6 and edges", { n: 3, c: 25, h: 6, w: 6, k: 30, stride: 1 }],
  ["more outputs than one block of 96 rows", { n: 2, c: 9, h: 8, w: 8, k: 203, stride: 1 }],
  ["more channels than outputs (split by c)", { n: 2, c: 150, h: 5, w: 7, k: 11, stride: 1 }],
  ["columns across chunks of 1024 (n * oh * ow = 3 * 33 * 35)", {
    n: 3,
    c: 10,
    h: 33,
    w: 35,
    k: 18,
    stride: 1,
  }],
  ["one image larger than a chunk", { n: 1, c: 6, h: 40, w: 50, k: 8, stride: 1 }],
  ["blocks of 112 rows, chunks of 864 columns", { n: 2, c: 200, h: 30, w: 30, k: 220, stride: 1 }],
  ["stride 2, odd sizes", { n: 2, c: 11, h: 13, w: 17, k: 9, stride: 2 }],
  ["stride 2, rows of 8 (8 x 8 outputs)", { n: 5, c: 20, h: 16, w: 16, k: 28, stride: 2 }],
  ["stride 2, output rows of 40, across chunks", { n: 2, c: 14, h: 60, w: 80, k: 10, stride: 2 }],
  ["stride 3", { n: 2, c: 5, h: 10, w: 11, k: 7, stride: 3 }],
  ["stride 2, several blocks of 192 channels", { n: 1, c: 500, h: 9, w: 9, k: 200, stride: 2 }],
  ["batch norm", { n: 2, c: 13, h: 9, w: 9, k: 10, stride: 1, xf: true }],
  ["batch norm and ReLU", { n: 3, c: 17, h: 12, w: 10, k: 22, stride: 1, xf: true, relu: true }],
  ["ReLU alone", { n: 2, c: 8, h: 7, w: 7, k: 5, stride: 1, relu: true }],
  ["stride 2 with batch norm and ReLU", {
    n: 2,
    c: 12,
    h: 15,
    w: 14,
    k: 16,
    stride: 2,
    xf: true,
    relu: true,
  }],
  // Two chunks or more and a small dW: two groups of columns, each with a
  // dW of its own, added at the end.
  ["column groups: one image, one channel, 3 chunks", {
    n: 1,
    c: 1,
    h: 50,
    w: 50,
    k: 3,
    stride: 1,
  }],
  ["column groups: odd sizes, 2 chunks and a bit", { n: 3, c: 13, h: 27, w: 26, k: 10, stride: 1 }],
  ["column groups: batch norm and ReLU", {
    n: 2,
    c: 30,
    h: 33,
    w: 34,
    k: 7,
    stride: 1,
    xf: true,
    relu: true,
  }],
  ["column groups: stride 2 with batch norm", {
    n: 2,
    c: 9,
    h: 70,
    w: 66,
    k: 11,
    stride: 2,
    xf: true,
  }],
];

// The outer-product kernel's own edges: rows of dy in blocks of 12, 8 + 8,
// 8 or 4 and a zero-padded rest; channels of x in panels of 32 (a half or
// a bit of one) and blocks of 256; chunks of 512 columns across images.
const outerCases: [string, Case][] = [
  ["rows 12 + 1 (a padded panel), 33 channels", { n: 2, c: 33, h: 6, w: 7, k: 13, stride: 1 }],
  ["rows 12 + 8, 16 channels (half a panel)", { n: 1, c: 16, h: 5, w: 5, k: 20, stride: 1 }],
  ["rows 8 + 8, 48 channels", { n: 3, c: 48, h: 4, w: 9, k: 16, stride: 1 }],
  ["rows 12 + 8 + 8, channels in two blocks (300)", { n: 2, c: 300, h: 6, w: 6, k: 28, stride: 1 }],
  ["4 rows, 2 chunks and a bit (12 x 12 images)", { n: 8, c: 40, h: 12, w: 12, k: 4, stride: 1 }],
  ["images of 3 pixels, groups shorter than 16", { n: 7, c: 19, h: 1, w: 3, k: 21, stride: 1 }],
  ["stride 2, output rows of 8 (groups across rows)", {
    n: 4,
    c: 70,
    h: 16,
    w: 16,
    k: 36,
    stride: 2,
  }],
  ["stride 3, batch norm and ReLU", {
    n: 3,
    c: 37,
    h: 14,
    w: 13,
    k: 25,
    stride: 3,
    xf: true,
    relu: true,
  }],
  ["more channels than outputs, 3 chunks", {
    n: 2,
    c: 290,
    h: 31,
    w: 29,
    k: 14,
    stride: 1,
    xf: true,
  }],
];

for (const kernel of ["dot", "outer"]) {
  const env = { LITS_FILTER1X1: kernel };
  for (const [name, g] of kernel === "outer" ? [...cases, ...outerCases] : cases) {
    Deno.test(`conv filter gradient 1x1 (${kernel}): ${name}`, () =>
      void withEnv(env, () => check(g)));
  }
}

/** dW of case g (seed 3) with each number of threads, restoring the setting. */
function withThreads(g: Case, counts: number[]): Float32Array[] {
  const before = new Int32Array(1);
  assert.equal(lib.lits_get_num_threads(before), 0);
  try {
    return counts.map((t) => {
      assert.equal(lib.lits_set_num_threads(t), 0);
      return gradient(g, 3).got;
    });
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
}

function assertSameBits(a: Float32Array, b: Float32Array, what: string) {
  const i = a.findIndex((v, j) => !Object.is(v, b[j]));
  assert.equal(i, -1, `${what}, element ${i}: ${a[i]} and ${b[i]}`);
}

for (const kernel of ["dot", "outer"]) {
  const env = { LITS_FILTER1X1: kernel };
  const name = `conv filter gradient 1x1 (${kernel})`;

  Deno.test(`${name}: the same bits with 1 and 2 threads, close to OpenBLAS`, () => {
    const g: Case = { n: 3, c: 40, h: 20, w: 20, k: 70, stride: 1, xf: true, relu: true };
    const [one, two] = withEnv(env, () => withThreads(g, [1, 2]));
    assertSameBits(one, two, "1 and 2 threads");
    const blas = withEnv({ LITS_CONV_ALGO: "openblas" }, () => gradient(g, 3).got);
    assertClose(one, blas, { rtol: 1e-4, atol: 1e-4, what: "against OpenBLAS" });
  });

  // Where one thread's rows need more blocks than each of two or three
  // threads' (200 channels of x: blocks of 100 or 68), the chunks stay the
  // same, and so do the bits (they changed with 3 threads before); and
  // split by rows of dy (k >= c) as well as by channels of x.
  Deno.test(`${name}: the same bits with 1, 2 and 3 threads, blocks apart`, () => {
    for (const [stride, k] of [[1, 100], [2, 100], [1, 230]]) {
      const g: Case = { n: 3, c: 200, h: 20, w: 20, k, stride, xf: true, relu: true };
      const [one, two, three] = withEnv(env, () => withThreads(g, [1, 2, 3]));
      assertSameBits(one, two, `stride ${stride}, k ${k}: 1 and 2 threads`);
      assertSameBits(one, three, `stride ${stride}, k ${k}: 1 and 3 threads`);
      withEnv(env, () => check(g, 3));
    }
  });

  Deno.test(`${name}: column groups, the same bits with 1, 2 and 3 threads`, () => {
    const g: Case = { n: 3, c: 21, h: 31, w: 30, k: 26, stride: 1, xf: true, relu: true };
    const [one, two, three] = withEnv(env, () => withThreads(g, [1, 2, 3]));
    assertSameBits(one, two, "1 and 2 threads");
    assertSameBits(one, three, "1 and 3 threads");
    withEnv(env, () => check(g, 3));
  });
}

Deno.test("conv filter gradient 1x1: the two kernels agree", () => {
  const g: Case = { n: 4, c: 96, h: 16, w: 16, k: 130, stride: 1, xf: true, relu: true };
  const dot = withEnv({ LITS_FILTER1X1: "dot" }, () => gradient(g, 5).got);
  const outer = withEnv({ LITS_FILTER1X1: "outer" }, () => gradient(g, 5).got);
  assertClose(outer, dot, { rtol: 1e-4, atol: 1e-4, what: "outer against dot" });
});

// Filters of several taps and padding through the outer-product kernel
// (LITS_FILTER_TAPS=outer; by default it takes the 3x3 stride-2 layers of
// 128+ channels, conv_s2_test.ts): x's channel-taps gathered as B's rows,
// zeros where a tap falls in the padding (after the transform: the
// convolution's input is relu(T(x)) padded with zeros).
interface TapCase {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  stride: number;
  pad: number;
  xf?: boolean;
}

/** The kernel's dW for case g, and conv_ref.ts's float64 one of relu(T(x)) padded with zeros. */
function tapGradient(g: TapCase, seed: number): { got: Float32Array; want: Float64Array } {
  manualSeed(seed);
  const { n, c, h, w, k, r, stride, pad } = g;
  const geo: Geo = { n, c, h, w, k, r, s: r, sh: stride, sw: stride, ph: pad, pw: pad };
  const G = resolve(geo);
  const x = randn([n, c, h, w]), dy = randn([n, k, G.oh, G.ow]), dw = randn([k, c, r, r]);
  const coef: Tensor | null = g.xf ? rand([3 * c]).add(0.25) : null;
  const st = withEnv(
    { LITS_FILTER_TAPS: "outer" },
    () =>
      lib.lits_conv2d_backward_filter_f32(
        G.params,
        x.ptr,
        coef?.ptr ?? null,
        g.xf ? 1 : 0,
        dy.ptr,
        dw.ptr,
      ),
  );
  assert.equal(st, 0);
  const xs = x.toArray() as Float32Array, cf = coef?.toArray() as Float32Array | undefined;
  const xt = Float64Array.from(xs, (v, i) => {
    const ch = Math.floor(i / (h * w)) % c;
    return cf ? Math.max(0, (v - cf[ch]) * cf[c + ch] + cf[2 * c + ch]) : v;
  });
  const want =
    convReference(geo, xt, new Float64Array(k * c * r * r), dy.toArray() as Float32Array).dw;
  return { got: dw.toArray() as Float32Array, want };
}

const tapCases: [string, TapCase][] = [
  ["7x7 stride 2 padding 3, one channel (a stem)", {
    n: 2,
    c: 1,
    h: 20,
    w: 22,
    k: 10,
    r: 7,
    stride: 2,
    pad: 3,
  }],
  ["3x3 stride 1 padding 1, batch norm and ReLU", {
    n: 2,
    c: 5,
    h: 9,
    w: 7,
    k: 13,
    r: 3,
    stride: 1,
    pad: 1,
    xf: true,
  }],
  ["3x3 stride 2 padding 1, batch norm and ReLU, 2 chunks", {
    n: 3,
    c: 20,
    h: 27,
    w: 25,
    k: 30,
    r: 3,
    stride: 2,
    pad: 1,
    xf: true,
  }],
  ["5x5 stride 3 padding 2", { n: 2, c: 3, h: 11, w: 13, k: 7, r: 5, stride: 3, pad: 2 }],
  ["3x3 no padding, images of 3 x 3", { n: 4, c: 6, h: 3, w: 3, k: 5, r: 3, stride: 1, pad: 0 }],
  // Stride 2 with output rows of 16 or more, cut by the padding at both ends.
  ["3x3 stride 2 padding 1, output rows of 19", {
    n: 2,
    c: 6,
    h: 9,
    w: 37,
    k: 10,
    r: 3,
    stride: 2,
    pad: 1,
    xf: true,
  }],
  ["7x7 stride 2 padding 3, output rows of 32", {
    n: 1,
    c: 2,
    h: 12,
    w: 64,
    k: 9,
    r: 7,
    stride: 2,
    pad: 3,
    xf: true,
  }],
];

for (const [name, g] of tapCases) {
  Deno.test(`conv filter gradient (outer, taps): ${name}`, () => {
    const { got, want } = tapGradient(g, 7);
    const scale = Math.sqrt(g.n * g.h * g.w);
    assertClose(got, want, { rtol: 1e-5, atol: 1e-5 * scale, what: JSON.stringify(g) });
  });
}

Deno.test("conv filter gradient (outer, taps): the same bits with 1, 2 and 3 threads", () => {
  const g: TapCase = { n: 2, c: 40, h: 15, w: 17, k: 36, r: 3, stride: 2, pad: 1, xf: true };
  const before = new Int32Array(1);
  assert.equal(lib.lits_get_num_threads(before), 0);
  try {
    const [one, two, three] = [1, 2, 3].map((t) => {
      assert.equal(lib.lits_set_num_threads(t), 0);
      return tapGradient(g, 3).got;
    });
    assertSameBits(one, two, "1 and 2 threads");
    assertSameBits(one, three, "1 and 3 threads");
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
});
