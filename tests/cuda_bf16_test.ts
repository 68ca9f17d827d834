/**
 * bf16 autocast in the CUDA library (native/cuda/bf16_gemm.cu, conv_bf16.cu):
 *
 * - everywhere: each of lits.h's seven bf16 functions has one CUDA definition,
 *   in the file named as the CPU's;
 * - where nvcc exists (no GPU needed): the built library exports the seven
 *   (`nm -D`), Deno opens them (not null), and without a GPU they say why
 *   they cannot run (`LITS_BF16=off` reports level 0 without a device);
 * - on a GPU (skipped elsewhere; `deno task gpu:check` runs it): each against
 *   the CPU library's fp32 functions on bf16-rounded inputs (the CPU's own
 *   bf16 kernels need AVX512_BF16, which a GPU machine may lack). The GEMM
 *   keeps fp32 sums, so it must agree tightly; cuDNN's BFLOAT16 convolutions
 *   round their outputs to bf16, so those agree within bf16's step.
 */
import assert from "node:assert/strict";
import { buildCuda, findNvcc } from "../src/ffi/build_cuda.ts";
import { lastError } from "../src/ffi/native.ts";
import { type NativeSymbols, symbols } from "../src/ffi/symbols.ts";
import { cpu, freeAll, gpu, gpuReady, ok, type Pair, pair, Rng } from "./cuda_pair.ts";

const cudaDir = new URL("../native/cuda/", import.meta.url).pathname;
const cpuDir = new URL("../native/cpu/", import.meta.url).pathname;

/** The bf16 functions of lits.h and the CPU file of each (the CUDA one is named alike). */
const BF16_FILES: Record<string, string> = {
  lits_bf16_support: "bf16_gemm",
  lits_gemm_bf16_f32: "bf16_gemm",
  lits_gemm_bf16_batched_f32: "bf16_gemm_batched",
  lits_round_bf16_f32: "bf16_gemm",
  lits_conv2d_forward_bf16_f32: "conv_bf16",
  lits_conv2d_backward_data_bf16_f32: "conv_bf16",
  lits_conv2d_backward_filter_bf16_f32: "conv_bf16",
};
const BF16 = Object.keys(BF16_FILES);

Deno.test("the seven bf16 functions: one CUDA definition each, in the file named as the CPU's", () => {
  for (const name of BF16) {
    const file = BF16_FILES[name];
    assert.match(
      Deno.readTextFileSync(`${cpuDir}${file}.c`),
      new RegExp(`^int ${name}\\(`, "m"),
      `${name} is not in native/cpu/${file}.c`,
    );
    const where = [...Deno.readDirSync(cudaDir)]
      .filter((e) => e.isFile && e.name.endsWith(".cu"))
      .flatMap((e) =>
        [
          ...Deno.readTextFileSync(`${cudaDir}${e.name}`).matchAll(
            new RegExp(`^extern "C" int ${name}\\(`, "gm"),
          ),
        ].map(() => e.name)
      );
    assert.deepEqual(where, [`${file}.cu`], `${name} is defined in ${where.join(", ") || "none"}`);
  }
});

const nvcc = findNvcc();

Deno.test({
  name: "the built CUDA library exports the seven bf16 functions, which say why without a GPU",
  ignore: nvcc === null,
  sanitizeResources: false,
  async fn() {
    // Opened from a copy: this process may hold an older build under the
    // built path (tests/cuda_pair.ts asks for CUDA), and dlopen would return that.
    const dir = await Deno.makeTempDir();
    try {
      const lib = `${dir}/liblits_cuda.so`;
      await Deno.copyFile(await buildCuda(), lib); // built only when out of date
      const nm = await new Deno.Command("nm", { args: ["-D", "--defined-only", lib] }).output()
        .catch(() => null); // no binutils: Deno's dlopen below still checks
      if (nm !== null && nm.success) {
        const exported = new TextDecoder().decode(nm.stdout).trim().split("\n")
          .map((l) => l.split(" ").pop()!);
        for (const name of BF16) assert.ok(exported.includes(name), `${name} is not exported`);
      }
      const dl = Deno.dlopen(lib, symbols);
      try {
        checkOpened(dl.symbols as unknown as NativeSymbols);
      } finally {
        dl.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The seven are there; LITS_BF16=off needs no device; without a GPU each says why. */
function checkOpened(syms: NativeSymbols): void {
  for (const name of BF16) {
    assert.notEqual(syms[name as keyof NativeSymbols], null, `${name} did not open`);
  }
  const level = new Int32Array([7]);
  const saved = Deno.env.get("LITS_BF16");
  try {
    Deno.env.set("LITS_BF16", "off");
    assert.equal(syms.lits_bf16_support!(level), 0, lastError(syms));
    assert.equal(level[0], 0, "LITS_BF16=off reports level 0");
    Deno.env.delete("LITS_BF16");
    const started = syms.lits_init() === 0;
    level[0] = 7;
    const st = syms.lits_bf16_support!(level);
    if (started) {
      // The backend starts only on compute capability 8.0 and later: bf16 tensor cores.
      assert.equal(st, 0, lastError(syms));
      assert.equal(level[0], 1);
      return;
    }
    assert.equal(st, 3, "LITS_ERR_UNAVAILABLE without a GPU");
    assert.equal(level[0], 0);
    assert.match(lastError(syms), /^lits_bf16_support: the CUDA backend is unavailable: /);
    assert.equal(syms.lits_round_bf16_f32!(null, null, 0), 3);
    assert.equal(
      syms.lits_gemm_bf16_f32!(0, 0, 1, 1, 1, 1, null, 1, null, 1, 0, null, 1),
      3,
      "the GEMM needs the GPU",
    );
    assert.match(lastError(syms), /^lits_gemm_bf16_f32: the CUDA backend is unavailable: /);
    assert.equal(
      syms.lits_gemm_bf16_batched_f32!(0, 0, 1, 1, 1, 1, null, 1, null, 1, 0, null, 1, 2, 1, 1, 1),
      3,
      "the batched GEMM needs the GPU",
    );
    assert.match(
      lastError(syms),
      /^lits_gemm_bf16_batched_f32: the CUDA backend is unavailable: /,
    );
    const conv = Int32Array.from([1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal(syms.lits_conv2d_forward_bf16_f32!(conv, null, null, 0, null, null, null), 3);
    assert.equal(syms.lits_conv2d_backward_data_bf16_f32!(conv, null, null, null), 3);
    assert.equal(syms.lits_conv2d_backward_filter_bf16_f32!(conv, null, null, 0, null, null), 3);
  } finally {
    if (saved === undefined) Deno.env.delete("LITS_BF16");
    else Deno.env.set("LITS_BF16", saved);
  }
}

// ---- on a GPU -------------------------------------------------------------------------

const test = (name: string, fn: () => void) =>
  Deno.test({
    name: `cuda bf16 vs cpu fp32 on rounded inputs: ${name}`,
    ignore: !gpuReady,
    fn() {
      try {
        fn();
      } finally {
        freeAll();
      }
    },
  });

/** Rounds the CPU copy of p to bf16 in place. */
function roundCpu(p: Pair): void {
  ok(cpu, cpu.lits_round_bf16_f32!(p.c.ptr, p.c.ptr, p.n), "round_bf16 (cpu)");
}

/** Asserts |got - want| <= rtol * |want| + atol * rms(want), NaN matching NaN. */
function assertClose(
  got: Float32Array,
  want: Float32Array,
  rtol: number,
  atol: number,
  what: string,
) {
  let ss = 0;
  for (const v of want) ss += Number.isFinite(v) ? v * v : 0;
  const scale = atol * Math.sqrt(ss / Math.max(1, want.length));
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    const allowed = rtol * Math.abs(want[i]) + scale;
    assert.ok(
      got[i] === want[i] || Math.abs(got[i] - want[i]) <= allowed,
      `${what}: element ${i}: cuda ${got[i]}, cpu ${want[i]} (allowed ${allowed.toExponential(2)})`,
    );
  }
}

test("lits_bf16_support reports 1", () => {
  const level = new Int32Array(1);
  ok(gpu, gpu.lits_bf16_support!(level), "bf16_support");
  assert.equal(level[0], Deno.env.get("LITS_BF16") === "off" ? 0 : 1);
});

test("lits_round_bf16_f32, bit for bit, in place too", () => {
  const u = Uint32Array.from([
    0,
    0x80000000,
    0x3f800000,
    0x7f800000,
    0xff800000,
    0x7fc00000,
    0xffc12345,
    0x7f800001,
    0x3f808000,
    0x3f818000,
    0x3f808001,
    0x7f7fffff,
    0x00000001,
    0x80018000,
  ]);
  const rng = new Rng(5);
  const host = new Float32Array(1000);
  host.set(new Float32Array(u.buffer));
  for (let i = u.length; i < host.length; i++) {
    host[i] = (rng.next() - 0.5) * 10 ** rng.int(-40, 38);
  }
  const x = pair(host), y = pair(host.length);
  ok(cpu, cpu.lits_round_bf16_f32!(x.c.ptr, y.c.ptr, x.n), "round (cpu)");
  ok(gpu, gpu.lits_round_bf16_f32!(x.g.ptr, y.g.ptr, x.n), "round (cuda)");
  ok(gpu, gpu.lits_round_bf16_f32!(x.g.ptr, x.g.ptr, x.n), "round in place (cuda)");
  const want = new Uint32Array(y.c.f32().buffer);
  for (const got of [new Uint32Array(y.g.f32().buffer), new Uint32Array(x.g.f32().buffer)]) {
    const bad = got.findIndex((v, i) => v !== want[i]);
    assert.equal(
      bad,
      -1,
      `element ${bad}: cuda 0x${got[bad]?.toString(16)}, cpu 0x${want[bad]?.toString(16)}`,
    );
  }
});

test("lits_gemm_bf16_f32: transposes, strided operands, beta, k = 0", () => {
  const rng = new Rng(11);
  for (
    const [ta, tb, m, n, k, alpha, beta] of [
      [0, 0, 33, 17, 65, 1, 0],
      [1, 0, 8, 40, 19, 0.5, 0.25],
      [0, 1, 64, 64, 128, 1, 1],
      [1, 1, 5, 3, 7, -2, 0],
      [0, 0, 6, 9, 0, 1, 0.5],
    ] as const
  ) {
    const aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
    const lda = aCols + 3, ldb = bCols + 1, ldc = n + 2;
    const a = pair(rng.floats(Math.max(1, aRows * lda), -2, 2));
    const b = pair(rng.floats(Math.max(1, bRows * ldb), -2, 2));
    const cHost = rng.floats(m * ldc);
    if (beta === 0) cHost[3] = NaN; // beta 0 must not read C
    const c = pair(cHost);
    roundCpu(a);
    roundCpu(b);
    const what = `gemm ta=${ta} tb=${tb} ${m}x${n}x${k}`;
    ok(
      cpu,
      cpu.lits_gemm_f32(
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        a.c.ptr,
        lda,
        b.c.ptr,
        ldb,
        beta,
        c.c.ptr,
        ldc,
        1,
        0,
        0,
        0,
      ),
      what,
    );
    ok(
      gpu,
      gpu.lits_gemm_bf16_f32!(
        ta,
        tb,
        m,
        n,
        k,
        alpha,
        a.g.ptr,
        lda,
        b.g.ptr,
        ldb,
        beta,
        c.g.ptr,
        ldc,
      ),
      what,
    );
    // Exact products, fp32 sums in another order: fp32 agreement.
    assertClose(c.g.f32(), c.c.f32(), 1e-5, 1e-5, what);
  }
});

test("lits_gemm_bf16_batched_f32: strided batches, a shared operand (stride 0), beta", () => {
  const rng = new Rng(13);
  for (
    const [ta, tb, m, n, k, batch, shareA, shareB, beta] of [
      [0, 1, 197, 197, 64, 6, false, false, 0], // attention's q k^T
      [0, 0, 49, 32, 49, 9, false, false, 0], // weights x v of Swin windows
      [1, 0, 8, 40, 19, 3, true, false, 0.5],
      [1, 1, 5, 3, 7, 4, false, true, 1],
      [0, 0, 6, 9, 0, 2, false, false, 0.5],
    ] as const
  ) {
    const aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
    const lda = aCols + 3, ldb = bCols + 1, ldc = n + 2;
    // Matrices a few floats further apart than they span; a shared operand has stride 0.
    const sa = shareA ? 0 : aRows * lda + 5, sb = shareB ? 0 : bRows * ldb + 2;
    const sc = m * ldc + 1;
    const aLen = shareA ? aRows * lda : batch * sa, bLen = shareB ? bRows * ldb : batch * sb;
    const a = pair(rng.floats(Math.max(1, aLen), -2, 2));
    const b = pair(rng.floats(Math.max(1, bLen), -2, 2));
    const cHost = rng.floats(batch * sc);
    if (beta === 0) cHost[3] = NaN; // beta 0 must not read C
    const c = pair(cHost);
    roundCpu(a);
    roundCpu(b);
    const what = `batched gemm ta=${ta} tb=${tb} ${batch} x ${m}x${n}x${k}`;
    const args = (side: "c" | "g") =>
      [
        ta,
        tb,
        m,
        n,
        k,
        1,
        a[side].ptr,
        lda,
        b[side].ptr,
        ldb,
        beta,
        c[side].ptr,
        ldc,
        batch,
        sa,
        sb,
        sc,
      ] as const;
    ok(cpu, cpu.lits_gemm_f32(...args("c")), what);
    ok(gpu, gpu.lits_gemm_bf16_batched_f32!(...args("g")), what);
    // Exact products, fp32 sums in another order: fp32 agreement (the gaps between matrices too).
    assertClose(c.g.f32(), c.c.f32(), 1e-5, 1e-5, what);
  }
});

interface ConvCase {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  s: number;
  stride: number;
  pad: number;
  dil: number;
  groups: number;
}

function params(g: ConvCase): { buf: Int32Array; oh: number; ow: number } {
  const oh = Math.floor((g.h + 2 * g.pad - g.dil * (g.r - 1) - 1) / g.stride) + 1;
  const ow = Math.floor((g.w + 2 * g.pad - g.dil * (g.s - 1) - 1) / g.stride) + 1;
  const buf = Int32Array.from([
    g.n,
    g.c,
    g.h,
    g.w,
    g.k,
    g.r,
    g.s,
    g.stride,
    g.stride,
    g.pad,
    g.pad,
    g.dil,
    g.dil,
    g.groups,
  ]);
  return { buf, oh, ow };
}

const CASES: ConvCase[] = [
  { n: 2, c: 8, h: 12, w: 10, k: 16, r: 3, s: 3, stride: 1, pad: 1, dil: 1, groups: 1 },
  { n: 3, c: 6, h: 9, w: 9, k: 4, r: 3, s: 3, stride: 2, pad: 2, dil: 2, groups: 2 },
  { n: 1, c: 16, h: 7, w: 7, k: 32, r: 1, s: 1, stride: 1, pad: 0, dil: 1, groups: 1 },
];

/** The CPU reference input: relu?(T(x)) (x_coef, x_relu) rounded to bf16, as a fresh pair's CPU side. */
function transformedInput(x: Pair, coef: Pair | null, relu: boolean, g: ConvCase): Pair {
  const t = pair(x.n);
  const st = cpu.lits_fused_affine_f32 === null ? -1 : cpu.lits_fused_affine_f32(
    x.c.ptr,
    coef?.c.ptr ?? null,
    null,
    null,
    t.c.ptr,
    g.n,
    g.c,
    g.h * g.w,
    relu ? 1 : 0,
  );
  ok(cpu, st, "fused_affine (cpu)");
  roundCpu(t);
  return t;
}

test("lits_conv2d_forward_bf16_f32: bias in fp32, the input transform", () => {
  const rng = new Rng(21);
  for (const g of CASES) {
    for (const transform of [false, true]) {
      const { buf, oh, ow } = params(g);
      const x = pair(rng.floats(g.n * g.c * g.h * g.w, -2, 2));
      const w = pair(rng.floats(g.k * (g.c / g.groups) * g.r * g.s, -1, 1));
      const bias = pair(rng.floats(g.k));
      const coef = transform ? pair(rng.floats(3 * g.c, -1.5, 1.5)) : null;
      const y = pair(g.n * g.k * oh * ow);
      const t = transformedInput(x, coef, transform, g);
      roundCpu(w);
      const what = `forward ${JSON.stringify(g)} transform=${transform}`;
      ok(
        cpu,
        cpu.lits_conv2d_forward_f32(buf, t.c.ptr, null, 0, w.c.ptr, bias.c.ptr, y.c.ptr),
        what,
      );
      ok(
        gpu,
        gpu.lits_conv2d_forward_bf16_f32!(
          buf,
          x.g.ptr,
          coef?.g.ptr ?? null,
          transform ? 1 : 0,
          w.g.ptr,
          bias.g.ptr,
          y.g.ptr,
        ),
        what,
      );
      // cuDNN rounds the sums to bf16 (2^-9 relative at most), then the bias is added.
      assertClose(y.g.f32(), y.c.f32(), 2 ** -8, 2 ** -8, what);
    }
  }
});

test("lits_conv2d_backward_data_bf16_f32", () => {
  const rng = new Rng(31);
  for (const g of CASES) {
    const { buf, oh, ow } = params(g);
    const w = pair(rng.floats(g.k * (g.c / g.groups) * g.r * g.s, -1, 1));
    const dy = pair(rng.floats(g.n * g.k * oh * ow, -1, 1));
    const dx = pair(g.n * g.c * g.h * g.w);
    roundCpu(w);
    roundCpu(dy);
    const what = `backward data ${JSON.stringify(g)}`;
    ok(cpu, cpu.lits_conv2d_backward_data_f32(buf, w.c.ptr, dy.c.ptr, dx.c.ptr), what);
    ok(gpu, gpu.lits_conv2d_backward_data_bf16_f32!(buf, w.g.ptr, dy.g.ptr, dx.g.ptr), what);
    assertClose(dx.g.f32(), dx.c.f32(), 2 ** -8, 2 ** -8, what);
  }
});

test("lits_conv2d_backward_filter_bf16_f32: the input transform, an empty batch", () => {
  const rng = new Rng(41);
  for (const g of CASES) {
    for (const transform of [false, true]) {
      const { buf, oh, ow } = params(g);
      const x = pair(rng.floats(g.n * g.c * g.h * g.w, -2, 2));
      const dy = pair(rng.floats(g.n * g.k * oh * ow, -1, 1));
      const coef = transform ? pair(rng.floats(3 * g.c, -1.5, 1.5)) : null;
      const dw = pair(g.k * (g.c / g.groups) * g.r * g.s);
      const t = transformedInput(x, coef, transform, g);
      roundCpu(dy);
      const what = `backward filter ${JSON.stringify(g)} transform=${transform}`;
      ok(cpu, cpu.lits_conv2d_backward_filter_f32(buf, t.c.ptr, null, 0, dy.c.ptr, dw.c.ptr), what);
      ok(
        gpu,
        gpu.lits_conv2d_backward_filter_bf16_f32!(
          buf,
          x.g.ptr,
          coef?.g.ptr ?? null,
          transform ? 1 : 0,
          dy.g.ptr,
          dw.g.ptr,
        ),
        what,
      );
      assertClose(dw.g.f32(), dw.c.f32(), 2 ** -8, 2 ** -8, what);
    }
  }
  const g = { ...CASES[0], n: 0 };
  const dw = pair(Float32Array.from({ length: g.k * g.c * g.r * g.s }, () => 5));
  ok(
    gpu,
    gpu.lits_conv2d_backward_filter_bf16_f32!(params(g).buf, null, null, 0, null, dw.g.ptr),
    "empty batch",
  );
  assert.ok(dw.g.f32().every((v) => v === 0), "an empty batch gives a zero filter gradient");
});
