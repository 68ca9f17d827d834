/**
 * lits_gemm_f32's products with one short side and many columns, which go
 * through packed_gemm.c's GEMM on AVX-512 CPUs (gemm_wide.c: a linear
 * layer's gradients): against float64 sums, with A as it is and
 * transposed, column counts that cut the threads' slabs and the panels,
 * short sides that cut the row blocks, NaN; and the same products on
 * OpenBLAS (`LITS_GEMM_WIDE=off`) within fp32's rounding of them.
 */
import assert from "node:assert/strict";
import { cpuLib } from "../src/ffi/native.ts";
import { randoms } from "./bf16_ref.ts";
import { relErr } from "./conv_ref.ts";
import { withEnv } from "./helpers.ts";

const lib = cpuLib();
const p = (x: Float32Array) => Deno.UnsafePointer.of(x);

interface Case {
  name: string;
  transA: 0 | 1;
  m: number;
  n: number;
  k: number;
}

const cases: Case[] = [
  { name: "dx = dy W: 16 rows, a sum of 256, 4100 columns", transA: 0, m: 16, n: 4100, k: 256 },
  { name: "dW = dy^T x: 70 rows, a sum of 16, 5000 columns", transA: 1, m: 70, n: 5000, k: 16 },
  { name: "one row, a sum of 600, 4096 columns", transA: 0, m: 1, n: 4096, k: 600 },
  { name: "13 rows, a sum of 3, 4131 columns", transA: 1, m: 13, n: 4131, k: 3 },
];

/** C = op(A) B by lits_gemm_f32, and its float64 reference. */
function run(c: Case, seed: number): { got: Float32Array; want: Float64Array } {
  const a = randoms(c.m * c.k, seed), b = randoms(c.k * c.n, seed + 1);
  const got = new Float32Array(c.m * c.n).fill(7); // beta 0: overwritten
  const lda = c.transA ? c.m : c.k;
  const status = lib.lits_gemm_f32(
    c.transA,
    0,
    c.m,
    c.n,
    c.k,
    1,
    p(a),
    lda,
    p(b),
    c.n,
    0,
    p(got),
    c.n,
    1,
    0,
    0,
    0,
  );
  assert.equal(status, 0);
  const want = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let t = 0; t < c.k; t++) {
      const av = c.transA ? a[t * c.m + i] : a[i * c.k + t];
      for (let j = 0; j < c.n; j++) want[i * c.n + j] += av * b[t * c.n + j];
    }
  }
  return { got, want };
}

for (const c of cases) {
  Deno.test(`wide GEMM: ${c.name}, against float64 and OpenBLAS`, () => {
    const { got, want } = run(c, c.m + c.k);
    const tol = 2e-6 * Math.sqrt(c.k);
    assert.ok(relErr(got, want) < tol, `${relErr(got, want)} from float64`);
    const blas = withEnv({ LITS_GEMM_WIDE: "off" }, () => run(c, c.m + c.k).got);
    assert.ok(relErr(blas, want) < tol, `OpenBLAS ${relErr(blas, want)} from float64`);
  });
}

Deno.test("wide GEMM: a NaN in A spreads along its row of C only", () => {
  const [m, n, k] = [16, 4096, 32];
  const a = randoms(m * k, 3), b = randoms(k * n, 4), y = new Float32Array(m * n);
  a[5 * k + 2] = NaN;
  assert.equal(
    lib.lits_gemm_f32(0, 0, m, n, k, 1, p(a), k, p(b), n, 0, p(y), n, 1, 0, 0, 0),
    0,
  );
  assert.ok(y.subarray(5 * n, 6 * n).every(Number.isNaN), "the NaN row");
  assert.ok(y.subarray(0, 5 * n).every(Number.isFinite), "rows above it");
  assert.ok(y.subarray(6 * n).every(Number.isFinite), "rows below it");
});
