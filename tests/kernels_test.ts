/**
 * The CPU kernel paths that the op tests' small shapes do not reach: tiled
 * convolution (row tiles, tiles of several images, a batch of one split over
 * threads, pointwise), the vectorised max pooling, split GEMMs, and the
 * deferred batch norm / ReLU / add (`ops/fusion.ts`) against the plain path.
 * Each is compared with a float64 reference written out in loops here, or
 * with the plain path on the same inputs.
 */
import assert from "node:assert/strict";
import { endStep, functional as F, manualSeed, randn, scope, type Tensor, tensor } from "../mod.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { assertClose, fusedAndPlain, twoBlocks, withEnv } from "./helpers.ts";

/** Deterministic values in [-1, 1) (a few exact ties and zeros included). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.round(((s >>> 8) / 2 ** 24 * 2 - 1) * 64) / 64;
  }
  return out;
}

interface ConvCase {
  name: string;
  x: number[];
  w: number[];
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}

/** out [n, k, oh, ow] = sum x * w (+ b) in float64, PyTorch's geometry. */
function convRef(c: ConvCase, x: Float32Array, w: Float32Array, b: Float32Array) {
  const [n, ci, h, wd] = c.x, [k, cg, r, s] = c.w;
  const [sh, sw] = c.stride ?? [1, 1], [ph, pw] = c.padding ?? [0, 0];
  const [dh, dw] = c.dilation ?? [1, 1], groups = c.groups ?? 1, kg = k / groups;
  const oh = Math.floor((h + 2 * ph - dh * (r - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (s - 1) - 1) / sw) + 1;
  const y = new Float64Array(n * k * oh * ow);
  for (let ni = 0; ni < n; ni++) {
    for (let ko = 0; ko < k; ko++) {
      const g = Math.floor(ko / kg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let acc = b[ko];
          for (let cc = 0; cc < cg; cc++) {
            const chan = g * cg + cc;
            for (let kr = 0; kr < r; kr++) {
              const iy = oy * sh - ph + kr * dh;
              if (iy < 0 || iy >= h) continue;
              for (let ks = 0; ks < s; ks++) {
                const ix = ox * sw - pw + ks * dw;
                if (ix < 0 || ix >= wd) continue;
                acc += x[((ni * ci + chan) * h + iy) * wd + ix] *
                  w[((ko * cg + cc) * r + kr) * s + ks];
              }
            }
          }
          y[((ni * k + ko) * oh + oy) * ow + ox] = acc;
        }
      }
    }
  }
  return { y, shape: [n, k, oh, ow] };
}

/** dx, dw, db of sum(y * gy) for the same convolution, in float64. */
function convGradRef(c: ConvCase, x: Float32Array, w: Float32Array, gy: Float32Array) {
  const [n, ci, h, wd] = c.x, [k, cg, r, s] = c.w;
  const [sh, sw] = c.stride ?? [1, 1], [ph, pw] = c.padding ?? [0, 0];
  const [dh, dw] = c.dilation ?? [1, 1], groups = c.groups ?? 1, kg = k / groups;
  const oh = Math.floor((h + 2 * ph - dh * (r - 1) - 1) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - dw * (s - 1) - 1) / sw) + 1;
  const dx = new Float64Array(x.length), dwt = new Float64Array(w.length);
  const db = new Float64Array(k);
  for (let ni = 0; ni < n; ni++) {
    for (let ko = 0; ko < k; ko++) {
      const g = Math.floor(ko / kg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const gv = gy[((ni * k + ko) * oh + oy) * ow + ox];
          db[ko] += gv;
          for (let cc = 0; cc < cg; cc++) {
            const chan = g * cg + cc;
            for (let kr = 0; kr < r; kr++) {
              const iy = oy * sh - ph + kr * dh;
              if (iy < 0 || iy >= h) continue;
              for (let ks = 0; ks < s; ks++) {
                const ix = ox * sw - pw + ks * dw;
                if (ix < 0 || ix >= wd) continue;
                const xi = ((ni * ci + chan) * h + iy) * wd + ix;
                const wi = ((ko * cg + cc) * r + kr) * s + ks;
                dx[xi] += gv * w[wi];
                dwt[wi] += gv * x[xi];
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw: dwt, db };
}

const convCases: ConvCase[] = [
  // The direct 3x3 kernels (AVX-512 builds): 8k output channels, rows of 32+.
  {
    name: "direct 3x3: 1 channel, width not a multiple of 16",
    x: [2, 1, 19, 37],
    w: [16, 1, 3, 3],
    padding: [1, 1],
  },
  {
    name: "direct 3x3: batch 1, 8 -> 8 (backward data direct too)",
    x: [1, 8, 5, 50],
    w: [8, 8, 3, 3],
    padding: [1, 1],
  },
  { name: "direct 3x3: 3 -> 16, width 32", x: [3, 3, 6, 32], w: [16, 3, 3, 3], padding: [1, 1] },
  // One input channel, images larger than a tile: several row tiles per image.
  { name: "c=1 3x3 pad 1, row tiles", x: [2, 1, 131, 127], w: [4, 1, 3, 3], padding: [1, 1] },
  // Batch 1: the rows (forward) and the channels (backward data) split over threads.
  { name: "batch 1, 3x3 pad 1", x: [1, 3, 40, 33], w: [5, 3, 3, 3], padding: [1, 1] },
  // Small images: tiles of several images (5 = 3 + 2), output gathered in scratch.
  { name: "tiles of several images", x: [5, 8, 6, 7], w: [6, 8, 3, 3], padding: [1, 1] },
  {
    name: "stride 2, odd sizes",
    x: [3, 4, 17, 13],
    w: [7, 4, 3, 3],
    stride: [2, 2],
    padding: [1, 1],
  },
  {
    name: "7x7 stride 2 pad 3 (ResNet stem)",
    x: [2, 1, 37, 35],
    w: [8, 1, 7, 7],
    stride: [2, 2],
    padding: [3, 3],
  },
  // Winograd F(2x2, 3x3): odd sizes leave partial 2x2 tiles at the edges.
  { name: "winograd 3x3: odd sizes, batch 2", x: [2, 5, 7, 9], w: [6, 5, 3, 3], padding: [1, 1] },
  {
    name: "winograd 3x3: batch 1, 1 channel, 4 x 3",
    x: [1, 1, 4, 3],
    w: [3, 1, 3, 3],
    padding: [1, 1],
  },
  // 270 tiles: several blocks per thread, the last one partial.
  {
    name: "winograd 3x3: blocks of tiles across images",
    x: [3, 16, 20, 18],
    w: [24, 16, 3, 3],
    padding: [1, 1],
  },
  // Wide enough in channels and columns, and with tiles enough, for the
  // default choice to take Winograd F(4x4, 3x3) (winograd_wins and
  // enough_tiles in conv.c).
  {
    name: "winograd 3x3: 128 -> 128 channels, 8 x 9, 6 images (the default there)",
    x: [6, 128, 8, 9],
    w: [128, 128, 3, 3],
    padding: [1, 1],
  },
  { name: "pointwise, batch 1", x: [1, 6, 9, 11], w: [5, 6, 1, 1] },
  { name: "pointwise, several images", x: [4, 6, 5, 3], w: [9, 6, 1, 1] },
  { name: "pointwise stride 2", x: [2, 6, 9, 11], w: [5, 6, 1, 1], stride: [2, 2] },
  // The AVX-512 pointwise GEMM (packed_gemm.c): blocks of 12, 8 and 4
  // output channels and cut ones, column panels cut by the image's end,
  // input channels in two passes (of up to 512), tiles of several images.
  { name: "pointwise GEMM: 70 -> 30 channels, 40 x 40", x: [2, 70, 40, 40], w: [30, 70, 1, 1] },
  { name: "pointwise GEMM: 8 -> 8 channels, 10 x 10", x: [2, 8, 10, 10], w: [8, 8, 1, 1] },
  { name: "pointwise GEMM: 600 -> 64 channels, 9 x 8", x: [3, 600, 9, 8], w: [64, 600, 1, 1] },
  // The kernels take k steps in pairs: an odd pass leaves one step over
  // (37; 523 = a pass of 512, then one of 11).
  { name: "pointwise GEMM: 37 -> 20 channels, 12 x 12", x: [3, 37, 12, 12], w: [20, 37, 1, 1] },
  { name: "pointwise GEMM: 523 -> 12 channels, 9 x 8", x: [2, 523, 9, 8], w: [12, 523, 1, 1] },
  // 16 rows as two blocks of 8 (block_rows), alone and after a 12.
  { name: "pointwise GEMM: 40 -> 16 channels, 9 x 7", x: [2, 40, 9, 7], w: [16, 40, 1, 1] },
  { name: "pointwise GEMM: 40 -> 28 channels, 9 x 7", x: [2, 40, 9, 7], w: [28, 40, 1, 1] },
  // y and dx of 10 MiB each: written with streaming stores (stream_output),
  // the bias added as y is written.
  {
    name: "pointwise GEMM: streamed y and dx, 40 -> 40 channels, 256 x 256",
    x: [1, 40, 256, 256],
    w: [40, 40, 1, 1],
  },
  // Strided 1x1 (ResNet's downsampling): columns gathered by offset.
  {
    name: "pointwise GEMM: stride 2, 20 -> 24 channels, 70 x 66",
    x: [2, 20, 70, 66],
    w: [24, 20, 1, 1],
    stride: [2, 2],
  },
  {
    name: "pointwise GEMM: stride 2, tiles of several 16 x 16 images",
    x: [5, 16, 16, 16],
    w: [12, 16, 1, 1],
    stride: [2, 2],
  },
  // 32 output columns a row: panels of every other input column, the last
  // one ending on x's last element (63 columns: the kernel reads 63, not 64).
  {
    name: "pointwise GEMM: stride 2, 63 columns, panels of every other column",
    x: [2, 12, 5, 63],
    w: [20, 12, 1, 1],
    stride: [2, 2],
  },
  // dx of 8.5 MiB (streamed), four row tiles an image, the last one
  // ending on an odd row count.
  {
    name: "pointwise GEMM: stride 2, dx streamed, row tiles, 528 -> 16 channels, 63 x 64",
    x: [1, 528, 63, 64],
    w: [16, 528, 1, 1],
    stride: [2, 2],
  },
  {
    name: "pointwise GEMM: stride 2 x 3, 21 x 100",
    x: [2, 10, 21, 100],
    w: [9, 10, 1, 1],
    stride: [2, 3],
  },
  {
    name: "groups 2, dilation 2, rectangular",
    x: [2, 4, 15, 12],
    w: [6, 2, 3, 2],
    padding: [2, 1],
    dilation: [2, 2],
    groups: 2,
  },
];

/** Runs fn with LITS_CONV_ALGO set. */
function withAlgo<T>(algo: string | undefined, fn: () => T): T {
  return withEnv({ LITS_CONV_ALGO: algo }, fn);
}

// Each case on the default choice, and the direct and Winograd cases forced
// to their algorithm and to GEMM (the direct kernels decline shapes that are
// not theirs); Winograd with each of its tiles forced, F(4x4, 3x3) (the
// forward's default; the filter gradient's where tiles are many) and
// F(2x2, 3x3).
for (const c of convCases) {
  const family = /^(direct|winograd) /.exec(c.name)?.[1];
  const variants: { algo?: string; tile?: string }[] = [{}];
  if (family) variants.push({ algo: "gemm" });
  if (family === "direct") variants.push({ algo: family });
  if (family === "winograd") {
    variants.push({ algo: family, tile: "4" }, { algo: family, tile: "2" });
  }
  for (const { algo, tile } of variants) {
    const set = [algo && `LITS_CONV_ALGO=${algo}`, tile && `LITS_WINOGRAD_TILE=${tile}`];
    const label = algo ? ` (${set.filter(Boolean).join(", ")})` : "";
    // F(4x4, 3x3) runs the Winograd cases but where GEMM or the 2x2 tile is forced.
    const winograd4 = family === "winograd" && algo !== "gemm" && tile !== "2";
    Deno.test(`conv2d kernels: ${c.name}${label}`, () =>
      withEnv({ LITS_WINOGRAD_TILE: tile }, () => withAlgo(algo, () => convCase(c, winograd4))));
  }
}

/**
 * The tolerance of a pass through F(4x4, 3x3) Winograd, which rounds to a
 * few times the other algorithms' error, in proportion to the output's
 * scale rather than to each element (tests/winograd_test.ts measures it
 * against float64): its cases allow 1e-4 of the output's root mean square.
 */
function forwardTolerance(ref: Float64Array, winograd4: boolean): { rtol: number; atol: number } {
  if (!winograd4) return { rtol: 1e-5, atol: 1e-5 };
  let ss = 0;
  for (const v of ref) ss += v * v;
  return { rtol: 1e-5, atol: 1e-4 * Math.sqrt(ss / ref.length) };
}

function convCase(c: ConvCase, winograd4 = false): void {
  {
    scope(() => {
      const xv = values(c.x.reduce((a, b) => a * b), 1),
        wv = values(c.w.reduce((a, b) => a * b), 2);
      const bv = values(c.w[0], 3);
      const x = tensor(xv, c.x, { requiresGrad: true });
      const w = tensor(wv, c.w, { requiresGrad: true });
      const b = tensor(bv, [c.w[0]], { requiresGrad: true });
      const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
      const y = F.conv2d(x, w, b, opts);
      const ref = convRef(c, xv, wv, bv);
      assert.deepEqual(y.shape, ref.shape);
      const tol = forwardTolerance(ref.y, winograd4);
      assertClose(y, ref.y, { ...tol, what: `${c.name} forward` });
      const gy = values(y.numel(), 4);
      y.mul(tensor(gy, [...y.shape])).sum().backward();
      const g = convGradRef(c, xv, wv, gy);
      const dxTol = forwardTolerance(g.dx, winograd4);
      assertClose(x.grad!, g.dx, { ...dxTol, what: `${c.name} backward data` });
      const dwTol = winograd4 ? forwardTolerance(g.dw, true) : { rtol: 1e-5, atol: 1e-4 };
      assertClose(w.grad!, g.dw, { ...dwTol, what: `${c.name} backward filter` });
      assertClose(b.grad!, g.db, { rtol: 1e-5, atol: 1e-4, what: `${c.name} backward bias` });
      for (const t of [x, w, b]) t.dispose();
    });
  }
}

/** PyTorch's max pooling in float64 loops: values and flat argmax indices. */
function maxPoolRef(
  x: Float32Array,
  [n, c, h, w]: number[],
  k: number,
  s: number,
  p: number,
  oh: number,
  ow: number,
) {
  const y = new Float32Array(n * c * oh * ow), idx = new Int32Array(y.length);
  for (let pl = 0; pl < n * c; pl++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const y0 = Math.max(oy * s - p, 0), y1 = Math.min(oy * s - p + k, h);
        const x0 = Math.max(ox * s - p, 0), x1 = Math.min(ox * s - p + k, w);
        let best = y0 * w + x0, m = -Infinity;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const v = x[pl * h * w + iy * w + ix];
            if (v > m || Number.isNaN(v)) {
              m = v;
              best = iy * w + ix;
            }
          }
        }
        y[pl * oh * ow + oy * ow + ox] = m;
        idx[pl * oh * ow + oy * ow + ox] = best;
      }
    }
  }
  return { y, idx };
}

const poolCases: [string, number[], number, number, number, boolean][] = [
  ["2x2 stride 2, odd sizes (a row and a column in no window)", [2, 3, 9, 11], 2, 2, 0, false],
  ["2x2 stride 2, ceil mode", [1, 2, 7, 5], 2, 2, 0, true],
  ["3x3 stride 2 pad 1 (ResNet), rows wider than a block", [1, 2, 9, 1100], 3, 2, 1, false],
  ["3x3 stride 1", [2, 1, 6, 7], 3, 1, 0, false],
];

for (const [name, shape, k, s, p, ceil] of poolCases) {
  Deno.test(`maxPool2d kernels: ${name}`, () => {
    scope(() => {
      const xv = values(shape.reduce((a, b) => a * b), 5);
      xv[3] = NaN; // NaN wins its window
      xv[10] = xv[11]; // a tie: the first one wins
      const x = tensor(xv, shape, { requiresGrad: true });
      const y = F.maxPool2d(x, k, { stride: s, padding: p, ceilMode: ceil });
      const [, , oh, ow] = y.shape;
      const ref = maxPoolRef(xv, shape, k, s, p, oh, ow);
      const got = y.toArray();
      for (let i = 0; i < got.length; i++) {
        assert.ok(
          Object.is(got[i], ref.y[i]),
          `${name}: y[${i}] = ${got[i]}, expected ${ref.y[i]}`,
        );
      }
      const gy = values(y.numel(), 6);
      y.mul(tensor(gy, [...y.shape])).sum().backward();
      const dx = new Float64Array(xv.length);
      const plane = shape[2] * shape[3], oplane = oh * ow;
      for (let i = 0; i < gy.length; i++) {
        dx[Math.floor(i / oplane) * plane + ref.idx[i]] += gy[i];
      }
      assertClose(x.grad!, dx, { what: `${name} backward` });
      x.dispose();
    });
  });
}

Deno.test("matmul kernels: products split over threads by columns and by rows", () => {
  scope(() => {
    for (const [m, k, n] of [[3, 300, 1000], [700, 64, 40], [257, 129, 131]]) {
      const av = values(m * k, 7), bv = values(k * n, 8);
      const y = tensor(av, [m, k]).matmul(tensor(bv, [k, n]));
      const ref = new Float64Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let l = 0; l < k; l++) {
          const a = av[i * k + l];
          for (let j = 0; j < n; j++) ref[i * n + j] += a * bv[l * n + j];
        }
      }
      assertClose(y, ref, { rtol: 1e-5, atol: 1e-4, what: `matmul ${m}x${k}x${n}` });
    }
  });
});

const bothPaths = fusedAndPlain;

function assertSame(a: Float32Array[], b: Float32Array[], what: string): void {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assertClose(v, b[i], { rtol: 1e-6, atol: 1e-7, what: `${what} #${i}` }));
}

/**
 * A ResNet bottleneck's pattern: conv, batch norm and ReLU into a 3x3
 * convolution, a pointwise one and max pooling, then a batch norm plus a
 * batch-normed shortcut into a ReLU. Deferred and plain give the same values
 * and gradients.
 */
function block(training: boolean): Tensor[] {
  manualSeed(11);
  const x = randn([3, 4, 9, 7], { requiresGrad: true });
  const w1 = randn([6, 4, 3, 3], { requiresGrad: true });
  const w2 = randn([6, 6, 3, 3], { requiresGrad: true });
  const w3 = randn([5, 6, 1, 1], { requiresGrad: true });
  const wd = randn([5, 4, 1, 1], { requiresGrad: true });
  const gamma = randn([6], { requiresGrad: true }), beta = randn([6], { requiresGrad: true });
  const g5 = randn([5], { requiresGrad: true }), b5 = randn([5], { requiresGrad: true });
  const rm = randn([6]), rv = randn([6]).abs().add(0.5);
  const rm5 = randn([5]), rv5 = randn([5]).abs().add(0.5);
  const bn = (t: Tensor, g: Tensor, b: Tensor, m: Tensor, v: Tensor) =>
    F.batchNorm(t, m, v, g, b, { training });
  const z1 = F.conv2d(x, w1, null, { padding: 1 });
  const a1 = F.relu(bn(z1, gamma, beta, rm, rv));
  const z2 = F.conv2d(a1, w2, null, { padding: 1 });
  const a2 = F.relu(bn(z2, gamma, beta, rm, rv));
  const pooled = F.maxPool2d(a2, 3, { stride: 2, padding: 1 });
  const z3 = F.conv2d(a2, w3, null);
  const zd = F.conv2d(x, wd, null);
  const out = F.relu(bn(z3, g5, b5, rm5, rv5).add(bn(zd, g5, b5, rm5, rv5)));
  const loss = out.mul(out).sum().add(pooled.sum()).add(a1.mean());
  loss.backward();
  return [
    out,
    pooled,
    a1,
    x.grad!,
    w1.grad!,
    w2.grad!,
    w3.grad!,
    wd.grad!,
    gamma.grad!,
    g5.grad!,
    b5.grad!,
    rm,
    rv,
  ];
}

/** Kernels that read their input as (params, x, x_coef, x_relu, ...): counted
 * only when the transform is not the identity. */
const TRANSFORMING = new Set([
  "lits_conv2d_forward_f32",
  "lits_conv2d_backward_filter_f32",
  "lits_maxpool2d_forward_f32",
]);

/** Counts calls of the named native functions while `fn` runs. */
function counting<T>(names: string[], fn: () => T): [T, Map<string, number>] {
  const lib = cpuLib() as unknown as Record<string, (...a: unknown[]) => number>;
  const counts = new Map(names.map((n) => [n, 0]));
  const saved = names.map((n) => lib[n]);
  names.forEach((n, i) => {
    lib[n] = (...a: unknown[]) => {
      if (!TRANSFORMING.has(n) || a[2] !== null || a[3] !== 0) counts.set(n, counts.get(n)! + 1);
      return saved[i](...a);
    };
  });
  try {
    return [fn(), counts];
  } finally {
    names.forEach((n, i) => (lib[n] = saved[i]));
  }
}

Deno.test("fusion: a training bottleneck gives the same values and gradients deferred and plain", () => {
  const fusedKernels = [
    "lits_conv2d_forward_f32",
    "lits_conv2d_backward_filter_f32",
    "lits_maxpool2d_forward_f32",
    "lits_batchnorm2d_backward_relu_f32",
    "lits_batchnorm2d_stats_f32",
  ];
  const [[fused, plain], counts] = counting(fusedKernels, () => bothPaths(() => block(true)));
  for (const [name, n] of counts) assert.ok(n > 0, `${name} was not used`);
  assertSame(fused, plain, "training block");
});

Deno.test("fusion: an evaluation bottleneck (running statistics) gives the same values", () => {
  const [fused, plain] = bothPaths(() => block(false));
  assertSame(fused, plain, "evaluation block");
});

Deno.test("fusion: a residual block's input gradient is added inside the ReLU backward, not written", () => {
  const lib = cpuLib() as unknown as Record<string, (...a: unknown[]) => number>;
  // From the value or (a ReLU output written in the forward) from its mask's bits.
  const names = ["lits_relu_mask_backward_f32", "lits_relu_bits_backward_f32"];
  const masks = names.map((name) => lib[name]);
  let summed = 0; // masks that were handed two gradients (dy2 not NULL)
  names.forEach((name, i) => {
    lib[name] = (...a: unknown[]) => (summed += a[1] !== null ? 1 : 0, masks[i](...a));
  });
  let fused: Float32Array[], counts: Map<string, number>;
  try {
    [fused, counts] = counting(
      ["lits_binary_f32"],
      () => scope(() => twoBlocks().map((t) => t.toArray() as Float32Array)),
    );
  } finally {
    names.forEach((name, i) => (lib[name] = masks[i]));
  }
  const was = setFusion(false);
  try {
    assertSame(fused, scope(() => twoBlocks().map((t) => t.toArray() as Float32Array)), "blocks");
  } finally {
    setFusion(was);
  }
  assert.ok(summed >= 1, "no ReLU backward added two gradients");
  assert.equal(counts.get("lits_binary_f32"), 0, "no gradient sum was written by an add");
});

/**
 * A convolution of a deferred relu(batchNorm(x)) against the plain path:
 * values and gradients, with the input-transform kernels in use.
 */
function checkDeferredConv(
  seed: number,
  xShape: number[],
  wShape: number[],
  padding: number,
  stride = 1,
) {
  const names = ["lits_conv2d_forward_f32", "lits_conv2d_backward_filter_f32"];
  const [[fused, plain], counts] = counting(names, () =>
    bothPaths(() => {
      manualSeed(seed);
      const x = randn(xShape).mul(2);
      const w = randn(wShape, { requiresGrad: true });
      const c = xShape[1];
      const g = randn([c], { requiresGrad: true }), b = randn([c], { requiresGrad: true });
      const a = F.relu(F.batchNorm(x, null, null, g, b, { training: true }));
      const y = F.conv2d(a, w, null, { padding, stride });
      y.mul(y).mean().backward();
      return [y, w.grad!, g.grad!, b.grad!];
    }));
  for (const [name, n] of counts) assert.ok(n > 0, `${name} was not used`);
  assertSame(fused, plain, `conv ${wShape} of a deferred input ${xShape}`);
}

Deno.test("fusion: batch norm and ReLU read by the direct 3x3 kernel (rows of 40)", () => {
  checkDeferredConv(7, [3, 8, 6, 40], [16, 8, 3, 3], 1);
});

Deno.test("fusion: a pointwise conv of a deferred batch norm, in row tiles (two per 200 x 120 image)", () => {
  checkDeferredConv(5, [2, 6, 200, 120], [7, 6, 1, 1], 0);
});

Deno.test("fusion: a pointwise conv of a deferred batch norm, tiles of several images", () => {
  checkDeferredConv(6, [3, 40, 20, 20], [24, 40, 1, 1], 0);
});

Deno.test("fusion: a pointwise conv of a deferred batch norm, 600 channels in two passes", () => {
  checkDeferredConv(8, [2, 600, 16, 16], [20, 600, 1, 1], 0);
});

Deno.test("fusion: a pointwise conv of a deferred batch norm, its 10 MiB output streamed", () => {
  checkDeferredConv(3, [1, 24, 256, 256], [40, 24, 1, 1], 0);
});

Deno.test("fusion: a strided pointwise conv of a deferred batch norm", () => {
  checkDeferredConv(4, [2, 24, 30, 40], [16, 24, 1, 1], 0, 2);
});

Deno.test("fusion: a strided pointwise conv of a deferred batch norm, panels of every other column", () => {
  checkDeferredConv(2, [2, 20, 6, 64], [28, 20, 1, 1], 0, 2);
});

Deno.test("fusion: batch norm and ReLU read by the Winograd convolution", () => {
  withAlgo("winograd", () => checkDeferredConv(9, [2, 8, 9, 7], [6, 8, 3, 3], 1));
});

Deno.test("fusion: the small CNN's conv, ReLU and pooling, batch of one", () => {
  const [fused, plain] = bothPaths(() => {
    manualSeed(3);
    const x = randn([1, 1, 17, 15]);
    const w = randn([4, 1, 3, 3], { requiresGrad: true }), b = randn([4], { requiresGrad: true });
    const y = F.maxPool2d(F.relu(F.conv2d(x, w, b, { padding: 1 })), 2);
    y.mul(y).sum().backward();
    return [y, w.grad!, b.grad!];
  });
  assertSame(fused, plain, "conv relu pool");
});

Deno.test("fusion: a deferred value read by another op is written out first", () => {
  scope(() => {
    const x = randn([2, 3, 4, 4]).mul(1); // an op result: deferral applies
    const r = F.relu(x);
    const expected = Float32Array.from(x.toArray(), (v) => (v < 0 ? 0 : v));
    assertClose(r.add(0), expected, { what: "relu read by addScalar" });
    assertClose(r, expected, { what: "relu read by toArray" });
  });
});

Deno.test("a process whose OpenMP threads spin (OMP_WAIT_POLICY=active) exits cleanly", async () => {
  // Deno closes the library at exit; built with -z nodelete it stays mapped,
  // so threads still spinning in libgomp do not run unmapped code.
  const code = `import { randn } from "${new URL("../mod.ts", import.meta.url).href}";
const x = randn([64, 512, 32]);
x.relu().sum().item();
console.log("done");`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { OMP_WAIT_POLICY: "active", OMP_NUM_THREADS: "2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "done");
  assert.equal(out.code, 0, `exit code ${out.code} (signal ${out.signal})`);
});

/** Batch norm in training against float64 loops: y, and dx, dgamma, dbeta for dL/dy = dys. */
function checkBatchNorm(n: number, c: number, h: number, w: number, seed: number): void {
  const hw = h * w, eps = 1e-5;
  const xs = values(n * c * hw, seed).map((v, i) => v * 3 + (i % 5) * 0.25 + 10); // mean far from 0
  const dys = values(n * c * hw, seed + 1);
  const gs = Array.from({ length: c }, (_, i) => 1.5 - i * 0.25);
  const bs = Array.from({ length: c }, (_, i) => 0.25 + i * 0.5);
  const x = tensor(xs, [n, c, h, w], { requiresGrad: true });
  const gamma = tensor(gs, [c], { requiresGrad: true });
  const beta = tensor(bs, [c], { requiresGrad: true });
  const y = F.batchNorm(x, null, null, gamma, beta, { training: true, eps });
  y.mul(tensor(dys, [n, c, h, w])).sum().backward();
  const at = (ni: number, ch: number, j: number) => (ni * c + ch) * hw + j;
  const wantY = new Float64Array(xs.length), wantDx = new Float64Array(xs.length);
  const wantDg: number[] = [], wantDb: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const m = n * hw;
    let sum = 0;
    for (let ni = 0; ni < n; ni++) for (let j = 0; j < hw; j++) sum += xs[at(ni, ch, j)];
    const mean = sum / m;
    let ssd = 0;
    for (let ni = 0; ni < n; ni++) {
      for (let j = 0; j < hw; j++) ssd += (xs[at(ni, ch, j)] - mean) ** 2;
    }
    const invstd = 1 / Math.sqrt(ssd / m + eps);
    let sdy = 0, dot = 0;
    for (let ni = 0; ni < n; ni++) {
      for (let j = 0; j < hw; j++) {
        const i = at(ni, ch, j);
        wantY[i] = (xs[i] - mean) * invstd * gs[ch] + bs[ch];
        sdy += dys[i];
        dot += (xs[i] - mean) * dys[i];
      }
    }
    wantDg.push(dot * invstd);
    wantDb.push(sdy);
    for (let ni = 0; ni < n; ni++) {
      for (let j = 0; j < hw; j++) {
        const i = at(ni, ch, j);
        const xhat = (xs[i] - mean) * invstd;
        wantDx[i] = (dys[i] - sdy / m - xhat * dot * invstd / m) * invstd * gs[ch];
      }
    }
  }
  assertClose(y.toArray() as Float32Array, wantY, { rtol: 1e-5, atol: 1e-5, what: "y" });
  assertClose(x.grad!.toArray() as Float32Array, wantDx, { rtol: 1e-4, atol: 1e-5, what: "dx" });
  assertClose(gamma.grad!.toArray() as Float32Array, wantDg, { rtol: 1e-4, what: "dgamma" });
  assertClose(beta.grad!.toArray() as Float32Array, wantDb, { rtol: 1e-4, what: "dbeta" });
  endStep();
}

// Planes of 37 x 29 = 1073 values: the sums run in chunks of 512 (two whole and a part).
Deno.test("batch norm statistics and gradients over planes of several sum chunks", () => {
  checkBatchNorm(3, 2, 37, 29, 3);
});

// Channels walked in blocks (runs of several planes): 37 channels of 5 x 7 go in blocks of 10
// (the last of 7) through the backward; 13 of 32 x 32, batch 16, in blocks of 4 (the last of 1)
// through the statistics too.
Deno.test("batch norm statistics and gradients over blocks of channels, against float64 loops", () => {
  checkBatchNorm(16, 37, 5, 7, 7);
  checkBatchNorm(16, 13, 32, 32, 8);
});

// 8.9 MB: dx is streamed past the caches, from planes that are not 64-byte aligned.
Deno.test("batch norm gradients of 8 MiB and more (streamed), against float64 loops", () => {
  checkBatchNorm(2, 17, 257, 255, 5);
});

Deno.test("fusion: outputs of 8 MiB and more (streamed past the caches), rows not 64-byte aligned", () => {
  // The ReLU's output is written with its mask's bits, which its backward reads.
  const [[fused, plain], counts] = counting(
    ["lits_fused_relu_mask_f32", "lits_relu_bits_backward_f32", "lits_batchnorm2d_backward_f32"],
    () =>
      bothPaths(() => {
        manualSeed(12);
        const x = randn([2, 17, 257, 255], { requiresGrad: true }); // 8.9 MB, planes of 65535
        const r = randn([2, 17, 257, 255]);
        const g = randn([17], { requiresGrad: true }), b = randn([17], { requiresGrad: true });
        const a = F.relu(F.batchNorm(x, null, null, g, b, { training: true }).add(r));
        const out = a.mul(a.add(1)); // reads the deferred sum: written out
        out.mean().backward();
        return [a, x.grad!, g.grad!, b.grad!];
      }),
  );
  for (const [name, n] of counts) assert.ok(n > 0, `${name} was not used`);
  assertSame(fused, plain, "large deferred block");
});

// 8.9 MB: streamed past the caches; planes not 64-byte aligned; with and without a transform.
// Planes of 65535 and 70001 values are walked in pieces of 32768 (both threads on one plane);
// with channel sums (not streamed) and without.
Deno.test("relu mask backward adds dy2 as it masks (streamed and not), against plain loops", () => {
  const lib = cpuLib();
  const shapes = [[2, 17, 257, 255, 0], [3, 5, 7, 9, 0], [1, 1, 7, 10001, 0], [2, 3, 7, 10001, 1]];
  for (const [n, c, h, w, summed] of shapes) {
    const hw = h * w, size = n * c * hw;
    const dy = values(size, 1), dy2 = values(size, 2), x = values(size, 3), r = values(size, 4);
    const coef = Float32Array.from(
      { length: 3 * c },
      (_, i) => (i % c) * 0.01 - 0.05 + (i >= c ? 0.5 : 0),
    );
    for (const withCoef of [false, true]) {
      const t = (v: Float32Array) => tensor(v, [size]);
      const [tdy, tdy2, tx, tr, tc] = [t(dy), t(dy2), t(x), t(r), tensor(coef, [3 * c])];
      const dx = tensor(new Float32Array(size), [size]);
      const sums = tensor(new Float32Array(c), [c]);
      const status = lib.lits_relu_mask_backward_f32!(
        tdy.ptr,
        tdy2.ptr,
        tx.ptr,
        withCoef ? tc.ptr : null,
        tr.ptr,
        null,
        dx.ptr,
        n,
        c,
        hw,
        summed ? sums.ptr : null,
      );
      assert.equal(status, 0);
      const got = dx.toArray() as Float32Array;
      const wantSums = new Float64Array(c);
      for (let i = 0; i < size; i++) wantSums[Math.floor(i / hw) % c] += got[i];
      if (summed) {
        assertClose(sums.toArray() as Float32Array, Float32Array.from(wantSums), {
          rtol: 1e-6,
          what: `channel sums [${n}, ${c}, ${hw}]`,
        });
      }
      for (let i = 0; i < size; i++) {
        const ch = Math.floor(i / hw) % c;
        const tx = withCoef
          ? Math.fround(Math.fround(x[i] - coef[ch]) * coef[c + ch]) + coef[2 * c + ch]
          : x[i];
        const v = Math.fround(tx) + r[i];
        const want = v <= 0 ? 0 : Math.fround(dy[i] + dy2[i]);
        if (got[i] !== want && Math.abs(got[i] - want) > 1e-6) {
          assert.fail(
            `[${n}, ${c}, ${hw}] coef ${withCoef}: element ${i} is ${got[i]}, want ${want}`,
          );
        }
      }
    }
  }
  endStep();
});
