/**
 * The CPU bf16 GEMM (lits_gemm_bf16_f32: PyTorch CPU autocast's matmul,
 * bf16 inputs and fp32 sums) and the rounding it relies on
 * (lits_round_bf16_f32), against float64 loops over inputs rounded here in
 * TypeScript with c10::BFloat16's bit arithmetic. The GEMM tests are
 * ignored, with the reason, on a CPU without AVX512_BF16.
 */
import assert from "node:assert/strict";
import { full, tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { bf16, bf16Bits, randoms } from "./bf16_ref.ts";
import { withEnv } from "./helpers.ts";

const lib = cpuLib();
const level = new Int32Array(1);
const hasSymbols = lib.lits_bf16_support !== undefined && lib.lits_gemm_bf16_f32 !== undefined;
if (hasSymbols) assert.equal(lib.lits_bf16_support!(level), 0, lastError(lib));
const noBf16 = !hasSymbols || level[0] === 0;
if (noBf16) {
  console.warn(
    "bf16_gemm_test: GEMM tests ignored: " +
      (hasSymbols ? "this CPU has no AVX512_BF16" : "the library has no lits_gemm_bf16_f32"),
  );
}

const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

interface Case {
  m: number;
  n: number;
  k: number;
  ta?: boolean;
  tb?: boolean;
  alpha?: number;
  beta?: number;
  pad?: number; // extra elements in each leading dimension
}

/** Runs a case; returns C, the float64 reference on rounded inputs, and on raw ones. */
function run(c: Case, seed = 1) {
  const { m, n, k, ta = false, tb = false, alpha = 1, beta = 0, pad = 0 } = c;
  const [ar, ac] = ta ? [k, m] : [m, k], [br, bc] = tb ? [n, k] : [k, n];
  const lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  const a = randoms(ar * lda, seed), b = randoms(br * ldb, seed + 7);
  const c0 = beta === 0 ? new Float32Array(m * ldc).fill(NaN) : randoms(m * ldc, seed + 13);
  const out = c0.slice();
  const st = lib.lits_gemm_bf16_f32!(
    ta ? 1 : 0,
    tb ? 1 : 0,
    m,
    n,
    k,
    alpha,
    p(a),
    lda,
    p(b),
    ldb,
    beta,
    p(out),
    ldc,
  );
  assert.equal(st, 0, lastError(lib));
  const A = (i: number, q: number) => (ta ? a[q * lda + i] : a[i * lda + q]);
  const B = (q: number, j: number) => (tb ? b[j * ldb + q] : b[q * ldb + j]);
  const ref = new Float64Array(m * n), raw = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let q = 0; q < k; q++) {
        s += bf16(A(i, q)) * bf16(B(q, j));
        t += A(i, q) * B(q, j);
      }
      const keep = beta === 0 ? 0 : beta * c0[i * ldc + j];
      ref[i * n + j] = alpha * s + keep;
      raw[i * n + j] = alpha * t + keep;
    }
  }
  const got = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) got[i * n + j] = out[i * ldc + j];
  // Padding between rows of C is left alone.
  for (let i = 0; i < m; i++) {
    for (let j = n; j < ldc; j++) assert.ok(Object.is(out[i * ldc + j], c0[i * ldc + j]));
  }
  return { got, ref, raw };
}

/** max |x - y| / rms(y). */
function relErr(x: Float64Array, y: Float64Array): number {
  let e = 0, r = 0;
  for (let i = 0; i < x.length; i++) {
    e = Math.max(e, Math.abs(x[i] - y[i]));
    r += y[i] * y[i];
  }
  return e / Math.max(Math.sqrt(r / x.length), 1e-30);
}

const TOL = 1e-5;

Deno.test({
  name: "lits_gemm_bf16_f32: shapes, edges, transposes, alpha and beta match bf16-rounded float64",
  ignore: noBf16,
  fn() {
    const cases: Case[] = [
      { m: 1, n: 1, k: 1 },
      { m: 1, n: 1, k: 2 },
      { m: 1, n: 37, k: 5 },
      { m: 13, n: 1, k: 3 },
      { m: 12, n: 32, k: 256 }, // exactly one micro-kernel and one K pass
      { m: 25, n: 33, k: 257 }, // one row and column past the blocks, odd K past KC
      { m: 5, n: 17, k: 513, ta: true },
      { m: 7, n: 40, k: 31, tb: true },
      { m: 150, n: 70, k: 99, ta: true, tb: true, pad: 3 }, // two A blocks
      { m: 9, n: 1100, k: 6, pad: 5 }, // two B blocks of columns
      { m: 30, n: 50, k: 300, alpha: -0.5, beta: 0.25 },
      { m: 30, n: 50, k: 20, alpha: 2, beta: 1, ta: true },
      { m: 64, n: 256, k: 64, tb: true, alpha: 1, beta: -1 },
      // Two threads sharing one packed A: row slabs, then column slabs with two K passes.
      { m: 200, n: 40, k: 600, ta: true },
      { m: 40, n: 300, k: 530, alpha: 0.5, beta: 0.5, pad: 2 },
    ];
    for (const c of cases) {
      const { got, ref } = run(c);
      const e = relErr(got, ref);
      assert.ok(e < TOL, `${JSON.stringify(c)}: max error ${e.toExponential(2)} of the rms`);
      assert.ok(got.every(Number.isFinite), `${JSON.stringify(c)}: NaN in C (beta = 0 garbage?)`);
    }
  },
});

Deno.test({
  name: "lits_gemm_bf16_f32: K = 2048 (two threads, several K passes) within fp32 sum error",
  ignore: noBf16,
  fn() {
    const { got, ref } = run({ m: 100, n: 96, k: 2048, beta: 0 });
    const e = relErr(got, ref);
    assert.ok(e < TOL, `max error ${e.toExponential(2)} of the rms`);
  },
});

// A C of 8 MiB or more written once (beta 0, K <= 512) is stored past the
// caches where a tile's rows are whole 64-byte lines (here every tile but
// the last column panel's 16, which takes plain masked stores): a linear
// layer's weight gradient, dy^T x. C lies in the library's own (aligned)
// memory, as a tensor's gradient does, and starts as NaN.
Deno.test({
  name: "lits_gemm_bf16_f32: a C of 8 MiB written once, past the caches, matches float64",
  ignore: noBf16,
  fn() {
    const m = 130, n = 16400, k = 5; // 8.5 MB; 512 panels of 32 columns and one of 16
    const av = randoms(k * m, 3), bv = randoms(k * n, 4);
    const a = tensor(av, [k * m]), b = tensor(bv, [k * n]), c = full([m * n], NaN);
    const st = lib.lits_gemm_bf16_f32!(1, 0, m, n, k, 1, a.ptr, m, b.ptr, n, 0, c.ptr, n);
    assert.equal(st, 0, lastError(lib));
    const got = Float64Array.from(c.toArray() as Float32Array);
    const ra = Float64Array.from(av, bf16), rb = Float64Array.from(bv, bf16);
    const ref = new Float64Array(m * n);
    for (let q = 0; q < k; q++) {
      for (let i = 0; i < m; i++) {
        const x = ra[q * m + i];
        for (let j = 0; j < n; j++) ref[i * n + j] += x * rb[q * n + j];
      }
    }
    assert.ok(got.every(Number.isFinite), "a value of C left unwritten");
    const e = relErr(got, ref);
    assert.ok(e < TOL, `max error ${e.toExponential(2)} of the rms`);
  },
});

// Where the CPU has AMX-BF16 the products run on its tiles (bf16_amx.c):
// rows in 32s and 16s (the rest on vdpbf16ps), K in 16 pairs (the rest
// added with vdpbf16ps); LITS_AMX=off keeps the vdpbf16ps kernels. Both
// against float64, and against each other. (Without AMX both are vdpbf16ps.)
Deno.test({
  name: "lits_gemm_bf16_f32: AMX tiles and LITS_AMX=off (vdpbf16ps) both match float64",
  ignore: noBf16,
  fn() {
    const cases: Case[] = [
      { m: 32, n: 32, k: 32 }, // one 32 x 32 block, one tile step of K
      { m: 48, n: 37, k: 70 }, // a 32 and a 16 row strip, 35 pairs: 2 tile steps + 3
      { m: 45, n: 64, k: 33, ta: true }, // 13 rows left to vdpbf16ps, 17 pairs: 1 step + 1
      { m: 16, n: 100, k: 1030, tb: true, alpha: 0.5, beta: 0.25 }, // 16 rows, K passes
      { m: 150, n: 70, k: 512, pad: 3 }, // 144-row A blocks: 4 x 32 + 16, then 6 rows
    ];
    for (const c of cases) {
      const amx = run(c, 21), off = withEnv({ LITS_AMX: "off" }, () => run(c, 21));
      for (const [name, r] of [["tiles", amx], ["off", off]] as const) {
        const e = relErr(r.got, r.ref);
        assert.ok(e < TOL, `${JSON.stringify(c)} ${name}: max error ${e.toExponential(2)}`);
      }
      const d = relErr(amx.got, off.got);
      assert.ok(d < TOL, `${JSON.stringify(c)}: tiles and vdpbf16ps ${d.toExponential(2)} apart`);
    }
    // NaN and Inf on the tiles: a NaN row of A stays NaN, an Inf row Inf.
    const [m, n, k] = [32, 32, 64];
    const a = randoms(m * k, 2), b = randoms(k * n, 3).map(Math.abs), y = new Float32Array(m * n);
    a[5 * k] = NaN;
    a[20 * k + 7] = Infinity;
    assert.equal(lib.lits_gemm_bf16_f32!(0, 0, m, n, k, 1, p(a), k, p(b), n, 0, p(y), n), 0);
    assert.ok(y.subarray(5 * n, 6 * n).every(Number.isNaN), "NaN row");
    assert.ok(y.subarray(20 * n, 21 * n).every((v) => v === Infinity), "Inf row");
    assert.ok(y.subarray(0, 5 * n).every(Number.isFinite), "rows above the NaN");
  },
});

Deno.test({
  name: "lits_gemm_bf16_f32: the inputs are rounded: far from the fp32 product and lits_gemm_f32",
  ignore: noBf16,
  fn() {
    const c = { m: 40, n: 48, k: 300 };
    const { got, raw } = run(c, 5);
    const e = relErr(got, raw);
    // bf16 keeps 8 significant bits: the product is off by ~1e-3 of its rms.
    assert.ok(e > 100 * TOL, `only ${e.toExponential(2)} from the unrounded product`);
    const a = randoms(c.m * c.k, 5), b = randoms(c.k * c.n, 12), y = new Float32Array(c.m * c.n);
    assert.equal(
      lib.lits_gemm_f32(0, 0, c.m, c.n, c.k, 1, p(a), c.k, p(b), c.n, 0, p(y), c.n, 1, 0, 0, 0),
      0,
    );
    assert.ok(relErr(got, Float64Array.from(y)) > 100 * TOL, "equal to the fp32 GEMM");
  },
});

Deno.test({
  name: "lits_gemm_bf16_f32: NaN and Inf in A propagate to their row only",
  ignore: noBf16,
  fn() {
    const [m, n, k] = [3, 20, 9];
    const a = randoms(m * k, 2), b = randoms(k * n, 3), y = new Float32Array(m * n);
    a[0] = NaN;
    a[2 * k + 4] = Infinity;
    b.fill(1, 4 * n, 5 * n); // row 4 of B positive: Inf * 1 = Inf
    assert.equal(lib.lits_gemm_bf16_f32!(0, 0, m, n, k, 1, p(a), k, p(b), n, 0, p(y), n), 0);
    assert.ok(y.subarray(0, n).every(Number.isNaN));
    assert.ok(y.subarray(n, 2 * n).every(Number.isFinite));
    assert.ok(y.subarray(2 * n).every((v) => v === Infinity));
  },
});

Deno.test({
  name: "lits_gemm_bf16_f32: bad arguments give a status and a message, empty sizes are no-ops",
  ignore: !hasSymbols,
  fn() {
    const g = lib.lits_gemm_bf16_f32!, x = new Float32Array(16);
    const call = (
      m: number,
      n: number,
      k: number,
      lda: number,
      ldb: number,
      ldc: number,
      c: Float32Array | null = x,
    ) => g(0, 0, m, n, k, 1, p(x), lda, p(x), ldb, 0, p(c), ldc);
    assert.equal(call(-1, 2, 2, 2, 2, 2), 1);
    assert.match(lastError(lib), /lits_gemm_bf16_f32: sizes m=-1 n=2 k=2 must be >= 0/);
    assert.equal(call(2, 2, 2, 1, 2, 2), 1);
    assert.match(lastError(lib), /lda=1 must be >= 2/);
    assert.equal(call(2, 2, 2, 2 ** 31, 2, 2), 1);
    assert.match(lastError(lib), /exceed the 32-bit BLAS limit/);
    assert.equal(call(2, 2, 2, 2, 2, 2, null), 1);
    assert.match(lastError(lib), /c is NULL/);
    assert.equal(g(2, 0, 2, 2, 2, 1, p(x), 2, p(x), 2, 0, p(x), 2), 1);
    assert.match(lastError(lib), /trans_a=2 must be 0 or 1/);
    assert.equal(g(0, 0, 0, 4, 3, 1, null, 3, null, 4, 0, null, 4), 0, "m = 0: no-op");
    if (noBf16) return;
    assert.equal(g(0, 0, 2, 2, 2, 1, null, 2, p(x), 2, 0, p(x), 2), 1);
    assert.match(lastError(lib), /a or b is NULL/);
    // k = 0: C = beta * C, and beta = 0 clears NaN.
    const c = new Float32Array([NaN, 2, 3, 4]);
    assert.equal(g(0, 0, 2, 2, 0, 1, null, 1, null, 2, 0, p(c), 2), 0, lastError(lib));
    assert.deepEqual([...c], [0, 0, 0, 0]);
  },
});

Deno.test("lits_round_bf16_f32: ties to even, NaN, Inf, overflow, denormals and -0", () => {
  const round = lib.lits_round_bf16_f32;
  assert.ok(round, "the library has no lits_round_bf16_f32: rebuild with deno task build");
  const cases: [number, number][] = [
    [0x3f800000, 0x3f800000], // 1
    [0x3f808000, 0x3f800000], // 1 + 2^-8, halfway: to the even 1
    [0x3f818000, 0x3f820000], // halfway above an odd bf16: up to even
    [0x3f808001, 0x3f810000], // just above halfway: up
    [0x3f807fff, 0x3f800000], // just below: down
    [0xbf818000, 0xbf820000], // negative: same magnitude rule
    [0x7f800000, 0x7f800000], // +Inf
    [0xff800000, 0xff800000], // -Inf
    [0x7f7fffff, 0x7f800000], // the largest float rounds to Inf (as PyTorch)
    [0x7fc00001, 0x7fc00000], // quiet NaN with payload
    [0xffc00000, 0x7fc00000], // negative NaN
    [0x7f800001, 0x7fc00000], // signalling NaN: stays NaN, not Inf
    [0x00000001, 0x00000000], // smallest denormal: to +0
    [0x00008000, 0x00000000], // denormal halfway: to the even 0
    [0x00018000, 0x00020000], // denormal halfway above an odd: up
    [0x00010000, 0x00010000], // a bf16 denormal stays
    [0x80000000, 0x80000000], // -0 stays -0
    [0x80000001, 0x80000000], // tiny negative: to -0
  ];
  const x = new Uint32Array(cases.map(([i]) => i)), y = new Uint32Array(x.length);
  const xf = new Float32Array(x.buffer), yf = new Float32Array(y.buffer);
  assert.equal(round(p(xf), p(yf), x.length), 0, lastError(lib));
  cases.forEach(([input, want], i) => {
    const hex = (v: number) => `0x${v.toString(16).padStart(8, "0")}`;
    assert.equal(hex(y[i]), hex(want), `bf16(${hex(input)})`);
    assert.equal(hex(bf16Bits(input)), hex(want), `the test's own bf16(${hex(input)})`);
  });
  // Random bit patterns (every class), in place, against the TypeScript rounding.
  const bits = new Uint32Array(100_003);
  let s = 12345;
  for (let i = 0; i < bits.length; i++) bits[i] = s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
  const want = bits.map(bf16Bits), inPlace = new Float32Array(bits.buffer);
  assert.equal(round(p(inPlace), p(inPlace), bits.length), 0);
  const bad = bits.findIndex((v, i) => v !== want[i]);
  assert.equal(bad, -1, `bit pattern ${bad} rounds differently`);
  assert.equal(round(p(xf), p(yf), -1), 1);
  assert.match(lastError(lib), /n must be >= 0/);
  assert.equal(round(null, p(yf), 4), 1);
  assert.match(lastError(lib), /x or y is NULL/);
  assert.equal(round(null, null, 0), 0, "n = 0: no-op");
});

Deno.test({
  name: "LITS_BF16=off: support 0, the GEMM and the peak say unavailable (status 3), no crash",
  ignore: !hasSymbols,
  fn() {
    Deno.env.set("LITS_BF16", "off");
    try {
      const lv = new Int32Array([9]), x = new Float32Array(4);
      assert.equal(lib.lits_bf16_support!(lv), 0);
      assert.equal(lv[0], 0);
      assert.equal(lib.lits_gemm_bf16_f32!(0, 0, 2, 2, 1, 1, p(x), 1, p(x), 2, 0, p(x), 2), 3);
      assert.match(lastError(lib), /lits_gemm_bf16_f32: no AVX512_BF16 .*use lits_gemm_f32/);
      assert.equal(lib.lits_measure_bf16_peak!(0.05, new Float64Array(1)), 3);
      assert.match(lastError(lib), /lits_measure_bf16_peak: no AVX512_BF16/);
      // Rounding is bit arithmetic: it works without the instructions.
      const y = new Float32Array([1 + 2 ** -8]);
      assert.equal(lib.lits_round_bf16_f32!(p(y), p(y), 1), 0);
      assert.equal(y[0], 1);
    } finally {
      Deno.env.delete("LITS_BF16");
    }
  },
});

Deno.test({
  name: "lits_measure_bf16_peak: bad arguments give a status; the peak is positive",
  ignore: noBf16 || lib.lits_measure_bf16_peak === undefined,
  fn() {
    const peak = lib.lits_measure_bf16_peak!, out = new Float64Array(1);
    assert.equal(peak(0, out), 1);
    assert.match(lastError(lib), /lits_measure_bf16_peak: seconds must be in \[0.01, 60\], got 0/);
    assert.equal(peak(0.05, null), 1);
    assert.match(lastError(lib), /gflops_host is NULL/);
    assert.equal(peak(0.03, out), 0, lastError(lib));
    assert.ok(out[0] > 1 && out[0] < 1e6, `bf16 peak ${out[0]} GFLOP/s`);
  },
});

Deno.test({
  name: "lits_measure_amx_peak: bad arguments give a status; unavailable without tiles",
  ignore: lib.lits_measure_amx_peak === undefined,
  fn() {
    const peak = lib.lits_measure_amx_peak!, out = new Float64Array(1);
    assert.equal(peak(0, out), 1);
    assert.match(lastError(lib), /lits_measure_amx_peak: seconds must be in \[0.01, 60\], got 0/);
    assert.equal(peak(0.05, null), 1);
    assert.match(lastError(lib), /gflops_host is NULL/);
    withEnv({ LITS_AMX: "off" }, () => {
      assert.equal(peak(0.03, out), 3);
      assert.match(lastError(lib), /lits_measure_amx_peak: no AMX tiles here/);
    });
    // Where the CPU has AMX-BF16 (level 2) the tiles run: a peak far above vdpbf16ps'
    // (16384 flops a tdpbf16ps, 64 a vdpbf16ps); elsewhere unavailable.
    const st = peak(0.03, out);
    if (level[0] === 2) {
      assert.equal(st, 0, lastError(lib));
      const dot = new Float64Array(1);
      assert.equal(lib.lits_measure_bf16_peak!(0.03, dot), 0);
      assert.ok(out[0] > 4 * dot[0], `AMX peak ${out[0]}, vdpbf16ps ${dot[0]} GFLOP/s`);
    } else {
      assert.equal(st, 3);
    }
  },
});
