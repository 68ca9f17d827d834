/**
 * The batched CPU bf16 GEMM (lits_gemm_bf16_batched_f32, bmm under
 * autocast): each matrix's bits are those of lits_gemm_bf16_f32 on it
 * alone, whether the matrices go whole to the threads (small ones: an
 * attention layer's) or one at a time over all threads (large ones, few
 * ones, or a few rows times a transposed B), for 1, 2 and 3 threads; k 0,
 * alpha and beta, padded strides; the bad calls; and `matmul` of batched
 * tensors under autocast taking it. Ignored, with the reason, on a CPU
 * without AVX512_BF16.
 */
import assert from "node:assert/strict";
import { autocast, randn, scope } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { STATUS } from "../src/ffi/codes.ts";
import { randoms } from "./bf16_ref.ts";
import { assertBits, countCalls, withEnv } from "./helpers.ts";

const lib = cpuLib();
const level = new Int32Array(1);
const ignore = lib.lits_gemm_bf16_batched_f32 === null || lib.lits_bf16_support === null ||
  lib.lits_bf16_support(level) !== 0 || level[0] === 0;
if (ignore) console.log("bf16_gemm_batched_test: ignored: no AVX512_BF16 GEMM here");

const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

interface Case {
  name: string;
  batch: number;
  m: number;
  n: number;
  k: number;
  ta?: boolean;
  tb?: boolean;
  alpha?: number;
  beta?: number;
  /** Extra floats between matrices. */
  gap?: number;
}

const cases: Case[] = [
  { name: "attention's q k^T (whole matrices)", batch: 7, m: 197, n: 197, k: 64, tb: true },
  { name: "attention's weights x v", batch: 6, m: 197, n: 64, k: 197 },
  {
    name: "A^T, gaps between matrices, alpha and beta",
    batch: 5,
    m: 49,
    n: 32,
    k: 49,
    ta: true,
    alpha: 0.5,
    beta: 2,
    gap: 3,
  },
  { name: "both transposed, odd k", batch: 4, m: 33, n: 17, k: 9, ta: true, tb: true },
  {
    name: "a few rows times B^T (the short kernel's path)",
    batch: 3,
    m: 4,
    n: 1024,
    k: 1100,
    tb: true,
  },
  { name: "large matrices (one at a time over the threads)", batch: 2, m: 300, n: 300, k: 200 },
  { name: "one matrix", batch: 1, m: 20, n: 30, k: 40 },
  { name: "k 0 (C = beta C)", batch: 3, m: 5, n: 6, k: 0, beta: 0.5 },
];

/** C of the batched call, and of one lits_gemm_bf16_f32 call per matrix. */
function run(c: Case) {
  const { batch, m, n, k, ta = false, tb = false, alpha = 1, beta = 0, gap = 0 } = c;
  const [ar, ac] = ta ? [k, m] : [m, k], [br, bc] = tb ? [n, k] : [k, n];
  const lda = Math.max(1, ac), ldb = Math.max(1, bc), ldc = n;
  const sa = ar * lda + gap, sb = br * ldb + gap, sc = m * ldc + gap;
  const a = randoms(Math.max(1, batch * sa), 3), b = randoms(Math.max(1, batch * sb), 5);
  const c0 = randoms(batch * sc, 7);
  const got = c0.slice(), want = c0.slice();
  const args = [ta ? 1 : 0, tb ? 1 : 0, m, n, k, alpha] as const;
  const st = lib.lits_gemm_bf16_batched_f32!(
    ...args,
    p(a),
    lda,
    p(b),
    ldb,
    beta,
    p(got),
    ldc,
    batch,
    sa,
    sb,
    sc,
  );
  assert.equal(st, 0, lastError(lib));
  for (let i = 0; i < batch; i++) {
    const at = (x: Float32Array, off: number) => p(x.subarray(off));
    assert.equal(
      lib.lits_gemm_bf16_f32!(
        ...args,
        at(a, i * sa),
        lda,
        at(b, i * sb),
        ldb,
        beta,
        at(want, i * sc),
        ldc,
      ),
      0,
      lastError(lib),
    );
  }
  return { got, want };
}

for (const c of cases) {
  Deno.test({
    name: `bf16 batched GEMM: ${c.name}: each matrix as lits_gemm_bf16_f32 alone`,
    ignore,
    fn() {
      const { got, want } = run(c);
      assertBits(got, want, c.name); // the gaps between matrices untouched too
    },
  });
}

Deno.test({
  name: "bf16 batched GEMM: the same bits with 1, 2 and 3 threads",
  ignore,
  fn() {
    const before = new Int32Array(1);
    assert.equal(lib.lits_get_num_threads(before), 0);
    try {
      for (const c of cases.slice(0, 4)) {
        const [one, two, three] = [1, 2, 3].map((t) => {
          assert.equal(lib.lits_set_num_threads(t), 0);
          return run(c).got;
        });
        assertBits(two, one, `${c.name}: 2 threads`);
        assertBits(three, one, `${c.name}: 3 threads`);
      }
    } finally {
      lib.lits_set_num_threads(before[0]);
    }
  },
});

Deno.test({
  name:
    "bf16 batched GEMM: overlapping outputs, NULL operands, bad strides and LITS_BF16=off are refused",
  ignore,
  fn() {
    const a = new Float32Array(64), b = new Float32Array(64), c = new Float32Array(64).fill(7);
    const f = lib.lits_gemm_bf16_batched_f32!;
    // Two 4 x 4 outputs 8 floats apart overlap.
    assert.equal(
      f(0, 0, 4, 4, 4, 1, p(a), 4, p(b), 4, 0, p(c), 4, 2, 16, 16, 8),
      STATUS.errArgument,
    );
    assert.match(lastError(lib), /lits_gemm_bf16_batched_f32: stride_c=8 must be >= 16/);
    assert.equal(
      f(0, 0, 4, 4, 4, 1, null, 4, p(b), 4, 0, p(c), 4, 2, 16, 16, 16),
      STATUS.errArgument,
    );
    assert.match(lastError(lib), /a or b is NULL/);
    assert.equal(
      f(0, 0, 4, 4, 4, 1, p(a), 4, p(b), 4, 0, p(c), 4, 0, 16, 16, 16),
      STATUS.errArgument,
    );
    withEnv({ LITS_BF16: "off" }, () => {
      assert.equal(
        f(0, 0, 4, 4, 4, 1, p(a), 4, p(b), 4, 0, p(c), 4, 2, 16, 16, 16),
        STATUS.errUnavailable,
      );
      assert.match(lastError(lib), /batched_f32: no AVX512_BF16.*use lits_gemm_f32/);
    });
    assert.ok(c.every((v) => v === 7), "c untouched");
  },
});

Deno.test({
  name: "matmul of batched tensors under autocast: one batched call, each matrix as alone",
  ignore,
  fn() {
    scope(() => {
      const q = randn([2, 3, 20, 8]), k = randn([2, 3, 8, 20]);
      const [y, calls] = countCalls(
        ["lits_gemm_bf16_batched_f32"],
        () => autocast("bfloat16", () => q.matmul(k)),
      );
      assert.equal(calls, 1);
      const qs = q.reshape([6, 20, 8]), ks = k.reshape([6, 8, 20]);
      const got = y.reshape([6, 20, 20]);
      for (let i = 0; i < 6; i++) {
        const one = autocast("bfloat16", () => qs.select(0, i).matmul(ks.select(0, i)));
        assertBits(
          got.select(0, i).toArray() as Float32Array,
          one.toArray() as Float32Array,
          `matrix ${i}`,
        );
      }
    });
  },
});
