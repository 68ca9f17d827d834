/**
 * The CPU backend's resampling kernel (native/cpu/resample.c, the step
 * `F.interpolate` takes per dimension) against the composed path that CUDA
 * takes (a take, a product and an add per tap, src/tensor/ops/interpolate.ts):
 * the same bits forward on random shapes, dimensions and modes (nearest,
 * nearest-exact, linear, bicubic, antialiased, scale factors, corners
 * aligned), NaN and infinities included; gradients within float32 rounding.
 * Both the AVX-512 kernels and the portable C (LITS_RESAMPLE=portable),
 * 1 to 3 threads with the same bits from run to run, views, and the
 * kernel's own argument checks. (Both paths are checked against torch 1.13
 * in torch_indexing_test.ts and antialias_test.ts.)
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, randn, scope, type Tensor, tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import {
  assertBits,
  assertClose,
  AVX512,
  countCalls,
  withEnv,
  withoutSymbols,
  withThreads,
} from "./helpers.ts";

const SYMBOL = "lits_resample_f32";
const BACKWARD = "lits_resample_backward_f32";

/**
 * [out, input gradient] of `F.interpolate(x0, options)` on the native
 * kernel or (native false: the symbol hidden) the composed path; the loss
 * is sum(out * G) for a fixed G that depends only on the output's size.
 */
function run(native: boolean, x0: Tensor, options: F.InterpolateOptions): Float32Array[] {
  const go = () =>
    scope(() => {
      const x = x0.detach().requiresGrad_(true);
      const y = F.interpolate(x, options);
      const n = y.numel();
      const g = tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37)), [
        ...y.shape,
      ]);
      y.mul(g).sum().backward();
      return [y, x.grad!].map((t) => (t.toArray() as Float32Array).slice());
    });
  return native ? go() : withoutSymbols([SYMBOL], go);
}

/** Native and composed: the same output bits, gradients within float32 rounding. */
function assertSameAsComposed(x: Tensor, options: F.InterpolateOptions, what: string): void {
  const [y, dx] = run(true, x, options);
  const [yc, dxc] = run(false, x, options);
  assertBits(y, yc, `${what}: output`);
  assertClose(dx, dxc, { rtol: 1e-5, atol: 1e-5, what: `${what}: gradient` });
}

/** A small deterministic PRNG (mulberry32), so that a failing case can be rerun. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mode = NonNullable<F.InterpolateOptions["mode"]>;
/** The separable modes by number of spatial dimensions (area is a pooling). */
const MODES: Record<number, Mode[]> = {
  1: ["nearest", "nearest-exact", "linear"],
  2: ["nearest", "nearest-exact", "bilinear", "bicubic"],
  3: ["nearest", "nearest-exact", "trilinear"],
};

/** A random case: shape, and options of every kind torch takes. */
function randomCase(next: () => number): { shape: number[]; options: F.InterpolateOptions } {
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const dims = int(1, 3);
  const mode = MODES[dims][int(0, MODES[dims].length - 1)];
  const spatial = Array.from({ length: dims }, () => int(1, dims === 3 ? 9 : 40));
  const shape = [int(1, 3), int(1, 4), ...spatial];
  const linear = !mode.startsWith("nearest");
  const options: F.InterpolateOptions = { mode };
  if (next() < 0.5) {
    options.size = spatial.map((s) => Math.max(1, Math.round(s * (0.2 + 2.5 * next()))));
  } else {
    options.scaleFactor = spatial.map(() => 0.5 + 2 * next()).map((f) => Math.round(f * 100) / 100);
    const empty = spatial.some((s, i) => Math.floor(s * (options.scaleFactor as number[])[i]) < 1);
    if (empty) options.scaleFactor = 2;
    if (next() < 0.3) options.recomputeScaleFactor = true;
  }
  if (linear && next() < 0.3) options.alignCorners = true;
  if ((mode === "bilinear" || mode === "bicubic") && next() < 0.4) options.antialias = true;
  return { shape, options };
}

Deno.test("interpolate: the native kernel gives the composed path's bits on random cases", () => {
  manualSeed(5);
  const next = prng(2024);
  for (let c = 0; c < 60; c++) {
    const { shape, options } = randomCase(next);
    const what = `case ${c} [${shape}] ${JSON.stringify(options)}`;
    scope(() => {
      const x = randn(shape);
      assertSameAsComposed(x, options, what);
      if (AVX512) {
        // The portable C gives the same output bits as the AVX-512 kernels.
        const [y] = run(true, x, options);
        const [yp] = withEnv({ LITS_RESAMPLE: "portable" }, () => run(true, x, options));
        assertBits(yp, y, `${what}: portable output`);
        withEnv({ LITS_RESAMPLE: "portable" }, () => assertSameAsComposed(x, options, what));
      }
    });
  }
});

Deno.test("interpolate: the native kernel runs once per resized dimension, forward and back", () => {
  scope(() => {
    const x = randn([2, 3, 20, 30]).requiresGrad_(true);
    const [y, forward] = countCalls(
      [SYMBOL],
      () => F.interpolate(x, { size: [9, 50], mode: "bilinear", antialias: true }),
    );
    assert.equal(forward, 2);
    const [, backward] = countCalls([BACKWARD], () => y.sum().backward());
    assert.equal(backward, 2);
    // With the symbol hidden (run(false)), the composed path's takes run instead.
    const [, takes] = countCalls(["lits_gather_f32"], () => run(false, x, { size: [9, 50] }));
    assert.equal(takes, 2);
  });
});

Deno.test("interpolate: NaN and infinities spread as on the composed path", () => {
  const values = [NaN, Infinity, -Infinity, 0, -0, 1e38, -1e38, 3.5];
  const data = Float32Array.from({ length: 2 * 13 * 11 }, (_, i) => values[(i * 7) % 8]);
  scope(() => {
    const x = tensor(data, [1, 2, 13, 11]);
    for (
      const options of [
        { size: [13, 11], mode: "bilinear" }, // kept sizes: 1 * x + 0 * x, inf gives NaN
        { size: [5, 30], mode: "bilinear" },
        { size: [7, 4], mode: "bicubic", alignCorners: true },
        { size: [4, 5], mode: "bicubic", antialias: true },
        { size: [6, 25], mode: "nearest-exact" },
      ] as F.InterpolateOptions[]
    ) {
      const what = JSON.stringify(options);
      const [y] = run(true, x, options), [yc] = run(false, x, options);
      assertBits(y, yc, what);
      if (AVX512) {
        const [yp] = withEnv({ LITS_RESAMPLE: "portable" }, () => run(true, x, options));
        assertBits(yp, yc, `${what}, portable`);
      }
    }
  });
});

// Large enough to thread, rows longer than the kernel's 4096-column blocks
// (the volume's depth pass), odd remainders of its 16- and 64-float vectors,
// and along the last dimension windows of 16 outputs' taps of every width.
const LARGE: [number[], F.InterpolateOptions][] = [
  [[2, 3, 67, 45], { size: [33, 101], mode: "bilinear" }],
  [[1, 2, 40, 70], { size: [17, 23], mode: "bicubic", antialias: true }],
  [[1, 1, 5, 48, 90], { size: [3, 61, 77], mode: "trilinear" }],
  [[3, 2, 1000], { size: 333, mode: "linear", alignCorners: true }],
  // Along the last dimension, windows of 16 outputs' taps wider than 64 (the scalar loop).
  [[2, 2, 30, 600], { size: [30, 50], mode: "bilinear", antialias: true }],
  [[1, 1, 8, 700], { size: [8, 90], mode: "bicubic" }],
  // Upsampling by 10: the gradient's windows (16 inputs' outputs) wider than 64.
  [[1, 2, 6, 20], { size: [6, 200], mode: "bilinear" }],
];

Deno.test("interpolate: native = composed on large inputs, 1-3 threads, the same bits each run", () => {
  manualSeed(9);
  for (const [shape, options] of LARGE) {
    scope(() => {
      const x = randn(shape);
      const what = `[${shape}] ${JSON.stringify(options)}`;
      const composed = run(false, x, options);
      for (const threads of [1, 2, 3]) {
        const [a, b] = withThreads(threads, () => [run(true, x, options), run(true, x, options)]);
        assertBits(a[0], composed[0], `${what}, ${threads} threads: output`);
        assertClose(a[1], composed[1], { rtol: 1e-5, atol: 1e-5, what: `${what}: gradient` });
        assertBits(a[1], b[1], `${what}, ${threads} threads: gradient rerun`);
      }
    });
  }
});

Deno.test("interpolate: native = composed on a view (a transposed input)", () => {
  scope(() => {
    const x = randn([2, 3, 9, 14]).transpose(2, 3);
    assertSameAsComposed(x, { size: [20, 5], mode: "bicubic" }, "transposed");
  });
});

Deno.test("lits_resample_backward_f32: taps that pile onto one position (the scatter loop)", () => {
  // Every output reads position 0 or 1: transposed, one position would hold
  // all k of them, so the kernel scatters instead; the sums must not change.
  const lib = cpuLib();
  const [outer, r, k, taps] = [3, 700, 500, 2];
  const index = new Int32Array(taps * k).map((_, e) => (e < k ? 0 : e % 2));
  const weight = new Float32Array(taps * k).map((_, e) => 0.25 + (e % 7) / 8);
  scope(() => {
    const dy = randn([outer, k]), dx = randn([outer, r]);
    assert.equal(
      lib.lits_resample_backward_f32!(dy.ptr, index, weight, dx.ptr, outer, r, k, 1, taps),
      0,
    );
    const g = dy.toArray() as Float32Array, got = dx.toArray() as Float32Array;
    const want = new Float64Array(outer * r);
    for (let o = 0; o < outer; o++) {
      for (let e = 0; e < taps * k; e++) want[o * r + index[e]] += weight[e] * g[o * k + (e % k)];
    }
    assertClose(got, Float32Array.from(want), { rtol: 1e-5, atol: 1e-4, what: "piled taps" });
  });
});

Deno.test("lits_resample_f32: an index out of range or no taps is an error, not a crash", () => {
  const lib = cpuLib();
  scope(() => {
    const x = randn([2, 5, 3]), out = randn([2, 4, 3]);
    const weight = new Float32Array(4).fill(1);
    const bad = new Int32Array([0, 1, 5, 2]);
    assert.notEqual(lib.lits_resample_f32!(x.ptr, bad, weight, out.ptr, 2, 5, 4, 3, 1), 0);
    assert.match(lastError(lib), /index 5 \(tap 0, position 2\) is out of range \[0, 5\)/);
    const negative = new Int32Array([0, -1, 1, 2]);
    assert.notEqual(
      lib.lits_resample_backward_f32!(out.ptr, negative, weight, x.ptr, 2, 5, 4, 3, 1),
      0,
    );
    assert.match(lastError(lib), /index -1/);
    const ok = new Int32Array([0, 1, 2, 4]);
    assert.notEqual(lib.lits_resample_f32!(x.ptr, ok, weight, out.ptr, 2, 5, 4, 3, 0), 0);
    assert.match(lastError(lib), /taps must be >= 1/);
  });
});
