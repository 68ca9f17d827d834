/**
 * The backend's sort (lits_sort_f32 / lits_sort_i32 behind sort, argsort and
 * topk) against a plain stable sort, on every path of native/include/
 * lits_sort.h: insertion (columns up to 32), the bounded list of topk (k up
 * to 16 and an eighth of the column), and the byte radix sort (with its
 * skipped bytes), over NaN, infinities, -0 and +0, ties, int32 beyond 2^24,
 * columns along an inner dimension, and one and two threads.
 *
 * The torch 1.13 fixtures (torch_indexing_test.ts) fix the order's rules;
 * this file covers sizes those fixtures cannot hold.
 *
 * @module
 */
import assert from "node:assert/strict";
import { argsort, sort, type Tensor, tensor, topk } from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";

/** a before b as torch's CPU sort: NaN above every number, -0 = +0. */
function compare(a: number, b: number): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The positions that sort each column of [outer, r, inner] stably, the first k. */
function reference(
  data: ArrayLike<number>,
  outer: number,
  r: number,
  inner: number,
  k: number,
  descending: boolean,
): number[] {
  const out = new Array<number>(outer * k * inner);
  const sign = descending ? -1 : 1;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => data[(o * r + j) * inner + i];
      const pos = Array.from({ length: r }, (_, j) => j);
      pos.sort((a, b) => sign * compare(at(a), at(b)) || a - b);
      for (let j = 0; j < k; j++) out[(o * k + j) * inner + i] = pos[j];
    }
  }
  return out;
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Floats with many ties, NaN, infinities and both zeros. */
function awkwardFloats(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const pool = [NaN, -NaN, Infinity, -Infinity, 0, -0, 1, -1, 1e-40, -1e-40, 3.5, 3.5];
  return Float32Array.from({ length: n }, () => {
    const u = next();
    if (u < 0.3) return pool[Math.floor(next() * pool.length)];
    if (u < 0.6) return Math.round((next() - 0.5) * 8); // ties
    return (next() - 0.5) * 2 ** Math.floor(next() * 60 - 30);
  });
}

function check(
  x: Tensor,
  data: ArrayLike<number>,
  dim: number,
  k: number,
  descending: boolean,
  what: string,
): void {
  const d = dim < 0 ? dim + x.ndim : dim;
  const outer = x.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const r = x.shape[d];
  const want = reference(data, outer, r, inner, k, descending);
  const got = k === r
    ? argsort(x, dim, descending).toArray()
    : topk(x, k, dim, descending).indices.toArray();
  const bad = want.findIndex((w, t) => got[t] !== w);
  assert.equal(bad, -1, `${what}: position ${bad} is ${got[bad]}, want ${want[bad]}`);
}

Deno.test("sort: every path of the backend's sort against a stable reference", () => {
  const cases: [number[], number, number][] = [
    // [shape, dim, k]: insertion, list, radix, along inner dimensions.
    [[7, 20], 1, 20],
    [[3, 32], -1, 32],
    [[3, 33], -1, 33],
    [[2, 500], 1, 500],
    [[2, 500], 1, 5],
    [[2, 500], 1, 62],
    [[2, 500], 1, 63],
    [[2, 128], 1, 16],
    [[2, 128], 1, 17],
    [[1, 70000], 1, 70000],
    [[1, 70000], 1, 1],
    [[4, 300, 3], 1, 300],
    [[4, 300, 3], 1, 7],
    [[50, 9], 0, 50],
    [[3, 5, 40], 0, 2],
  ];
  let seed = 1;
  for (const [shape, dim, k] of cases) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = awkwardFloats(n, seed++);
    const x = tensor(data, shape);
    for (const descending of [false, true]) {
      check(x, data, dim, k, descending, `float [${shape}] dim ${dim} k ${k} desc ${descending}`);
    }
  }
});

Deno.test("sort: int32 values beyond 2^24 and of both signs sort exactly", () => {
  const next = rng(7);
  const data = Int32Array.from(
    { length: 600 },
    (_, j) =>
      j % 5 === 0
        ? [2147483647, -2147483648, 16777217, 16777216, 0][j % 4]
        : Math.floor((next() - 0.5) * 2 ** 32),
  );
  const x = tensor(data, [2, 300], { dtype: "int32" });
  for (const descending of [false, true]) {
    check(x, data, 1, 300, descending, `int32 desc ${descending}`);
    check(x, data, 1, 4, descending, `int32 topk desc ${descending}`);
  }
  const { values } = sort(x, 1);
  const want = Array.from(data.slice(0, 300)).sort((a, b) => a - b);
  assert.deepEqual(Array.from(values.toArray().slice(0, 300)), want);
});

Deno.test("sort: -0 and +0 tie and NaNs of any sign sort last, in their order", () => {
  const x = tensor([0, -0, NaN, -NaN, -Infinity, Infinity, -0, 0]);
  assert.deepEqual(argsort(x).toList(), [4, 0, 1, 6, 7, 5, 2, 3]);
  assert.deepEqual(argsort(x, -1, true).toList(), [2, 3, 5, 0, 1, 6, 7, 4]);
});

Deno.test("sort: equal columns (every byte skipped) keep their order", () => {
  const x = tensor(new Float32Array(100).fill(2.5), [2, 50]);
  const want = Array.from({ length: 50 }, (_, j) => j);
  assert.deepEqual(argsort(x, 1).toList(), [want, want]);
  assert.deepEqual(argsort(x, 1, true).toList(), [want, want]);
});

Deno.test("sort: the answer does not depend on the thread count", () => {
  const lib = cpuLib();
  const before = new Int32Array(1);
  lib.lits_get_num_threads(before);
  const data = awkwardFloats(64 * 700, 99);
  const x = tensor(data, [64, 700]);
  try {
    lib.lits_set_num_threads(1);
    const one = argsort(x, 1).toArray();
    lib.lits_set_num_threads(2);
    const two = argsort(x, 1).toArray();
    assert.deepEqual(one, two);
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
});

Deno.test("sort: the backend refuses bad arguments by name, without a crash", () => {
  const lib = cpuLib();
  const x = tensor([3, 1, 2]);
  const out = tensor([0, 0, 0], [3], { dtype: "int32" });
  const call = (k: number, descending: number, r = 3) =>
    lib.lits_sort_f32(x.ptr, out.ptr, 1, r, 1, k, descending);
  assert.notEqual(call(4, 0), 0, "k > r");
  assert.notEqual(call(-1, 0), 0, "k < 0");
  assert.notEqual(call(2, 2), 0, "descending 2");
  assert.notEqual(call(1, 0, -3), 0, "r < 0");
  assert.equal(lib.lits_sort_f32(null, null, 0, 3, 1, 3, 0), 0, "nothing to sort: no pointer read");
  assert.equal(call(3, 0), 0);
  assert.deepEqual(out.toList(), [1, 2, 0]);
});
