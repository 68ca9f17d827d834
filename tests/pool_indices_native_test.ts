/**
 * The CPU backend's max pool with indices and max unpool kernels
 * (native/cpu/pool_indices.c) against the composed paths that CUDA takes
 * (src/tensor/ops/pool_indices.ts, max_unpool.ts): the same values,
 * indices and gradient bits on random 1-D, 2-D and 3-D windows (kernel,
 * stride, padding, dilation, ceil mode, adaptive bins), with ties, NaN,
 * infinities and windows with no tap inside; both the AVX-512 kernels and
 * the portable C (LITS_POOL_INDICES=portable); 1 to 3 threads; the unpool's
 * repeated indices, its gradient and its error for a bad index. (Both paths
 * are checked against torch 1.13 in pool_indices_test.ts,
 * max_unpool_test.ts and adaptive_max_indices_test.ts.)
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, randn, scope, type Tensor, tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { adaptiveAxis, type Axis, maxPoolWithIndices } from "../src/tensor/ops/pool_indices.ts";
import { assertBits, AVX512, countCalls, withEnv, withoutSymbols, withThreads } from "./helpers.ts";

const POOL = "lits_maxpool_indices_f32";
const UNPOOL = "lits_max_unpool_f32";

/** A fixed loss weight for an output of n elements: sum(out * G). */
const weights = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));

/**
 * [values, indices, input gradient] of the pool of x0 [P, ...sizes] by
 * `axes`, on the native kernel or (native false) the composed path.
 */
function pool(native: boolean, x0: Tensor, axes: Axis[]): [Float32Array, Int32Array, Float32Array] {
  const go = () =>
    scope(() => {
      const x = x0.detach().requiresGrad_(true);
      const [values, indices] = maxPoolWithIndices(x, axes, "test");
      values.mul(tensor(weights(values.numel()), [...values.shape])).sum().backward();
      return [
        (values.toArray() as Float32Array).slice(),
        (indices.toArray() as Int32Array).slice(),
        (x.grad!.toArray() as Float32Array).slice(),
      ] as [Float32Array, Int32Array, Float32Array];
    });
  return native ? go() : withoutSymbols([POOL], go);
}

/** Native and composed: the same values, indices and gradient bits. */
function assertPoolSame(x: Tensor, axes: Axis[], what: string): void {
  const [v, i, g] = pool(true, x, axes);
  const [vc, ic, gc] = pool(false, x, axes);
  assertBits(v, vc, `${what}: values`);
  assert.deepEqual(i, ic, `${what}: indices`);
  assertBits(g, gc, `${what}: gradient`);
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

/**
 * A random axis over `size` as torch allows it (padding at most half the
 * kernel; in ceil mode the last window starts inside the input or its left
 * padding), or adaptive bins; null where no window fits.
 */
function randomAxis(size: number, int: (lo: number, hi: number) => number): Axis | null {
  if (int(0, 3) === 0) return adaptiveAxis(size, int(1, size + 3));
  const k = int(1, 5), dil = int(1, 3), s = int(1, 4), p = int(0, Math.floor(k / 2));
  const ceil = int(0, 1) === 1;
  const span = size + 2 * p - dil * (k - 1) - 1;
  if (span < 0) return null;
  let out = Math.floor((span + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return { k, s, p, dil, out };
}

/** Values with ties, NaN, infinities and signed zeros mixed into small integers. */
function awkward(n: number, next: () => number): Float32Array {
  const special = [NaN, Infinity, -Infinity, -0, 0];
  return Float32Array.from({ length: n }, () => {
    const u = next();
    return u < 0.08 ? special[Math.floor(next() * special.length)] : Math.floor(u * 7) - 3;
  });
}

Deno.test("maxPoolWithIndices: the native kernel gives the composed path's bits on random cases", () => {
  manualSeed(3);
  const next = prng(77);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  let done = 0;
  for (let c = 0; done < 120; c++) {
    const nd = int(1, 3);
    const sizes = Array.from({ length: nd }, () => int(1, nd === 3 ? 9 : 24));
    const axes = sizes.map((s) => randomAxis(s, int));
    if (axes.some((a) => a === null)) continue;
    done++;
    const shape = [int(1, 4), ...sizes];
    const what = `case ${c} [${shape}] ${JSON.stringify(axes)}`;
    scope(() => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = next() < 0.5 ? randn(shape) : tensor(awkward(n, next), shape);
      assertPoolSame(x, axes as Axis[], what);
      if (AVX512) {
        withEnv({ LITS_POOL_INDICES: "portable" }, () => assertPoolSame(x, axes as Axis[], what));
      }
    });
  }
});

Deno.test("maxPool: the public pools with indices take the native kernel once, forward and back", () => {
  scope(() => {
    const x = randn([2, 3, 11, 13]).requiresGrad_(true);
    const run = () => [
      F.maxPool2d(x, 3, { stride: 2, padding: 1, returnIndices: true }),
      F.maxPool2d(x, 2, { dilation: 2 }),
      F.maxPool1d(x.reshape([6, 11, 13]), 3, { returnIndices: true }),
      F.maxPool3d(x.unsqueeze(0), 2, { returnIndices: true }),
      F.adaptiveMaxPool2d(x, [4, 5], { returnIndices: true }),
    ];
    const [outs, forward] = countCalls([POOL], run);
    assert.equal(forward, 5);
    const loss = outs.map((o) => (Array.isArray(o) ? o[0] : o).sum()).reduce((a, b) => a.add(b));
    const [, backward] = countCalls(["lits_maxpool_indices_backward_f32"], () => loss.backward());
    assert.equal(backward, 5);
  });
});

// Large enough to thread; rows of the vector path (strides 1 to 4) with
// remainders of 16 outputs, borders in the padding, dilation.
const LARGE: [number[], Axis[]][] = [
  [[6, 67, 45], [{ k: 2, s: 2, p: 0, dil: 1, out: 33 }, { k: 2, s: 2, p: 0, dil: 1, out: 22 }]],
  [[3, 40, 70], [{ k: 3, s: 2, p: 1, dil: 1, out: 20 }, { k: 3, s: 2, p: 1, dil: 1, out: 35 }]],
  [[2, 33, 101], [{ k: 3, s: 1, p: 1, dil: 1, out: 33 }, { k: 3, s: 1, p: 1, dil: 1, out: 101 }]],
  [[4, 30, 90], [{ k: 3, s: 1, p: 0, dil: 2, out: 26 }, { k: 2, s: 2, p: 1, dil: 3, out: 45 }]],
  [[2, 9, 30, 40], [
    { k: 2, s: 2, p: 0, dil: 1, out: 4 },
    { k: 2, s: 2, p: 0, dil: 1, out: 15 },
    { k: 2, s: 2, p: 0, dil: 1, out: 20 },
  ]],
  [[5, 1000], [{ k: 5, s: 3, p: 2, dil: 1, out: 334 }]],
  // Strides 3 and 4: taps spanning three and four vectors.
  [[3, 50, 125], [{ k: 4, s: 4, p: 0, dil: 1, out: 12 }, { k: 4, s: 4, p: 0, dil: 1, out: 31 }]],
  [[3, 20, 125], [{ k: 3, s: 3, p: 1, dil: 2, out: 6 }, { k: 3, s: 3, p: 1, dil: 2, out: 41 }]],
];

Deno.test("maxPoolWithIndices: native = composed on large inputs, 1-3 threads, the same bits", () => {
  manualSeed(11);
  for (const [shape, axes] of LARGE) {
    scope(() => {
      const x = randn(shape);
      const what = `[${shape}] ${JSON.stringify(axes)}`;
      const composed = pool(false, x, axes);
      for (const threads of [1, 2, 3]) {
        const got = withThreads(threads, () => pool(true, x, axes));
        assertBits(got[0], composed[0], `${what}, ${threads} threads: values`);
        assert.deepEqual(got[1], composed[1], `${what}, ${threads} threads: indices`);
        assertBits(got[2], composed[2], `${what}, ${threads} threads: gradient`);
      }
    });
  }
});

/**
 * [out, input gradient] of `F.maxUnpool2d(x0, indices, kernel, options)` on
 * the native kernel or the composed path.
 */
function unpool(
  native: boolean,
  x0: Tensor,
  indices: Tensor,
  kernel: number,
  options: F.MaxUnpool2dOptions,
): Float32Array[] {
  const go = () =>
    scope(() => {
      const x = x0.detach().requiresGrad_(true);
      const y = F.maxUnpool2d(x, indices, kernel, options);
      y.mul(tensor(weights(y.numel()), [...y.shape])).sum().backward();
      return [y, x.grad!].map((t) => (t.toArray() as Float32Array).slice());
    });
  return native ? go() : withoutSymbols([UNPOOL], go);
}

Deno.test("maxUnpool: native = composed, repeated indices keep their last value", () => {
  manualSeed(4);
  scope(() => {
    // Overlapping windows (stride 1) repeat indices; random indices too.
    const x = randn([2, 3, 9, 10]);
    const [v, i] = F.maxPool2d(x, 3, { stride: 1, returnIndices: true });
    const pooled = [
      [v, i, 3, { stride: 1 }],
      [...F.maxPool2d(x, 2, { returnIndices: true }), 2, { outputSize: [9, 10] }],
    ] as const;
    for (const [values, indices, k, options] of pooled) {
      const [y, g] = unpool(true, values, indices, k, options);
      const [yc, gc] = unpool(false, values, indices, k, options);
      assertBits(y, yc, `kernel ${k}: output`);
      assertBits(g, gc, `kernel ${k}: gradient`);
    }
    const next = prng(8);
    const idx = Int32Array.from({ length: 2 * 3 * 16 }, () => Math.floor(next() * 20));
    const values = randn([2, 3, 4, 4]), indices = tensor(idx, [2, 3, 4, 4], { dtype: "int32" });
    const [y, g] = unpool(true, values, indices, 2, {});
    const [yc, gc] = unpool(false, values, indices, 2, {});
    assertBits(g, gc, "random repeated indices: gradient");
    assertBits(y, yc, "random repeated indices");
  });
});

/** The message of the Error that fn throws. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail("no error thrown");
}

Deno.test("maxUnpool: a bad index gives the composed path's error, not a crash", () => {
  scope(() => {
    const values = randn([1, 2, 2, 2]);
    const idx = new Int32Array([0, 1, 4, 5, 2, 99, 3, -1]);
    const indices = tensor(idx, [1, 2, 2, 2], { dtype: "int32" });
    const unpoolIt = () => thrown(() => F.maxUnpool2d(values, indices, 2));
    const native = unpoolIt();
    assert.match(native, /invalid max index 99 \(at flat position 5 of the indices\)/);
    assert.equal(native, withoutSymbols([UNPOOL], unpoolIt));
    // The kernel itself refuses it, naming the first.
    const y = randn([1, 2, 4, 4]);
    const lib = cpuLib();
    assert.notEqual(lib.lits_max_unpool_f32!(values.ptr, indices.ptr, y.ptr, 2, 4, 16), 0);
    assert.match(lastError(lib), /invalid max index 99 \(at flat position 5/);
    assert.notEqual(lib.lits_max_unpool_backward_f32!(y.ptr, indices.ptr, values.ptr, 2, 4, 16), 0);
  });
});

Deno.test("maxUnpool: -0 keeps its sign, as torch's CPU kernel writes the value", () => {
  scope(() => {
    const values = tensor([-0, 2], [1, 1, 2]);
    const indices = tensor([1, 2], [1, 1, 2], { dtype: "int32" });
    const y = F.maxUnpool1d(values, indices, 2).toArray() as Float32Array;
    assert.ok(Object.is(y[1], -0) && Object.is(y[0], 0), `got ${[...y]}`);
  });
});

Deno.test("lits_maxpool_indices_f32: bad parameters are an error, not a crash", () => {
  const lib = cpuLib();
  scope(() => {
    const x = randn([1, 4, 4]), y = randn([1, 2, 2]);
    const idx = tensor(new Int32Array(4), [1, 2, 2], { dtype: "int32" });
    // size[3], out[3], kernel[3], stride[3], padding[3], dilation[3], adaptive[3]
    const params = new Int32Array([1, 4, 4, 1, 2, 2, 1, 2, 2, 1, 0, 2, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    assert.notEqual(lib.lits_maxpool_indices_f32!(params, x.ptr, y.ptr, idx.ptr, 1), 0);
    assert.match(lastError(lib), /stride 0/);
    params[10] = 2;
    params[1] = 0;
    assert.notEqual(lib.lits_maxpool_indices_f32!(params, x.ptr, y.ptr, idx.ptr, 1), 0);
    assert.match(lastError(lib), /size 0/);
  });
});
