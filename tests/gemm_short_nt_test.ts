/**
 * lits_gemm_f32's C = alpha A B^T + beta C with few rows and a large B (a
 * linear layer's forward at a small batch), which goes through
 * gemm_short_nt.c on AVX-512 CPUs: against float64 sums, with row counts
 * that cut the 8-row tiles, column counts that cut the 3-column tiles and
 * the threads' shares, k past one 4096 block and off whole vectors, padded
 * rows (lda, ldb, ldc), alpha and beta; NaN; and the same products on
 * OpenBLAS (`LITS_GEMM_WIDE=off`). Under bf16 (lits_gemm_bf16_f32, where
 * the CPU has vdpbf16ps) the same cases against float64 over bf16-rounded
 * operands and the packed bf16 GEMM.
 */
import assert from "node:assert/strict";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { bf16, randoms } from "./bf16_ref.ts";
import { relErr } from "./conv_ref.ts";
import { withEnv } from "./helpers.ts";

const lib = cpuLib();
const p = (x: Float32Array) => Deno.UnsafePointer.of(x);
const avx512 = Deno.readTextFileSync("/proc/cpuinfo").includes(" avx512f");
const level = new Int32Array(1);
const noBf16 = lib.lits_bf16_support == null || lib.lits_gemm_bf16_f32 == null ||
  lib.lits_bf16_support(level) !== 0 || level[0] === 0;

interface Case {
  name: string;
  m: number;
  n: number;
  k: number;
  pad?: number; // extra floats at the end of every row of A, B and C
  alpha?: number;
  beta?: number;
}

const cases: Case[] = [
  { name: "AlexNet-like: 16 rows, 1024 columns, a sum of 1024", m: 16, n: 1024, k: 1024 },
  { name: "13 rows, 257 columns, a sum of 4100 (two blocks)", m: 13, n: 257, k: 4100 },
  { name: "one row (batch 1), 1000 columns, a sum of 1100", m: 1, n: 1000, k: 1100 },
  { name: "8 rows, 4099 columns, a sum of 300, padded rows", m: 8, n: 4099, k: 300, pad: 5 },
  { name: "32 rows, alpha 0.5, beta 1", m: 32, n: 256, k: 4096, alpha: 0.5, beta: 1 },
  { name: "5 rows, beta -2, padded rows", m: 5, n: 2000, k: 600, pad: 3, beta: -2 },
];

/**
 * C by lits_gemm_f32, or lits_gemm_bf16_f32 under bf16 (A [m, k], B [n, k],
 * both not transposed in memory; trans_b = 1), and its float64 reference
 * (over bf16-rounded A and B under bf16).
 */
function run(
  c: Case,
  seed: number,
  bf = false,
): { got: Float32Array; want: Float64Array; ldc: number } {
  const { m, n, k, pad = 0, alpha = 1, beta = 0 } = c;
  const round = bf ? bf16 : (v: number) => v;
  const lda = k + pad, ldb = k + pad, ldc = n + pad;
  const a = randoms(m * lda, seed), b = randoms(n * ldb, seed + 1);
  const c0 = randoms(m * ldc, seed + 2);
  const got = beta === 0 ? new Float32Array(m * ldc).fill(NaN) : c0.slice(); // beta 0 overwrites
  const args = [0, 1, m, n, k, alpha, p(a), lda, p(b), ldb, beta, p(got), ldc] as const;
  const status = bf ? lib.lits_gemm_bf16_f32!(...args) : lib.lits_gemm_f32(...args, 1, 0, 0, 0);
  assert.equal(status, 0, lastError(lib));
  const ar = a.map(round), br = b.map(round);
  const want = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += ar[i * lda + t] * br[j * ldb + t];
      want[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c0[i * ldc + j]);
    }
  }
  return { got, want, ldc };
}

/** C's m x n values without the row padding. */
function dense(got: Float32Array, m: number, n: number, ldc: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) out.set(got.subarray(i * ldc, i * ldc + n), i * n);
  return out;
}

/** One case in one precision: against float64, and against the packed GEMM. */
function check(c: Case, bf: boolean) {
  const ours = run(c, c.m + c.k, bf);
  const got = dense(ours.got, c.m, c.n, ours.ldc);
  const tol = 2e-6 * Math.sqrt(c.k);
  assert.ok(relErr(got, ours.want) < tol, `${relErr(got, ours.want)} from float64`);
  // The padding past n in C's rows is not written.
  for (let i = 0; i < c.m && ours.ldc > c.n; i++) {
    const tail = ours.got.subarray(i * ours.ldc + c.n, (i + 1) * ours.ldc);
    if (!c.beta) assert.ok(tail.every(Number.isNaN), `row ${i}'s padding was written`);
  }
  const packed = withEnv({ LITS_GEMM_WIDE: "off" }, () => run(c, c.m + c.k, bf));
  const packedGot = dense(packed.got, c.m, c.n, packed.ldc);
  assert.ok(relErr(packedGot, ours.want) < tol, `packed ${relErr(packedGot, ours.want)}`);
  // Where the CPU has AVX-512 the two are different kernels (other orders
  // of sums): some bits differ.
  if (avx512) {
    const x = new Uint32Array(got.buffer), y = new Uint32Array(packedGot.buffer);
    assert.ok(x.some((v, i) => v !== y[i]), "the default ran the packed GEMM");
  }
}

for (const c of cases) {
  Deno.test(`short A B^T: ${c.name}, against float64 and OpenBLAS`, () => check(c, false));
  Deno.test({
    name: `short A B^T under bf16: ${c.name}, against float64 and the packed bf16 GEMM`,
    ignore: noBf16,
    fn: () => check(c, true),
  });
}

Deno.test("short A B^T: a NaN in B spreads along its column of C only", () => {
  const [m, n, k] = [16, 1024, 1024];
  const a = randoms(m * k, 3), b = randoms(n * k, 4), y = new Float32Array(m * n);
  b[700 * k + 1000] = NaN;
  assert.equal(lib.lits_gemm_f32(0, 1, m, n, k, 1, p(a), k, p(b), k, 0, p(y), n, 1, 0, 0, 0), 0);
  for (let i = 0; i < m; i++) {
    const row = y.subarray(i * n, (i + 1) * n);
    assert.ok(Number.isNaN(row[700]), `row ${i}: the NaN column`);
    assert.ok(row.every((v, j) => j === 700 || Number.isFinite(v)), `row ${i}: other columns`);
  }
});
