/**
 * Helpers for comparing the CUDA backend with the CPU backend call by call
 * (tests/cuda_ops_test.ts): buffers made from the same host data on both
 * libraries, a status check that shows the library's error text, and a
 * closeness check that names the worst element.
 *
 * Without a GPU, `LITS_CUDA_LIB=native/build/liblits_cpu.so` lets the CPU
 * library stand in for CUDA: every comparison then runs CPU against CPU,
 * which checks these tests themselves (tests/cuda_standin_test.ts does).
 *
 * @module
 */
import { cpuLib, cudaLib, lastError } from "../src/ffi/native.ts";
import type { NativeSymbols } from "../src/ffi/symbols.ts";
import { cudaAvailable } from "../mod.ts";

/** True where the CUDA backend runs (a GPU, its driver, cuBLAS, cuDNN, the built library). */
export const gpuReady: boolean = cudaAvailable();
/** The CPU library. */
export const cpu: NativeSymbols = cpuLib();
/** The CUDA library (only touch it when gpuReady). */
export const gpu: NativeSymbols = gpuReady ? cudaLib() : cpu;

type Host = Float32Array | Int32Array;

/** One buffer on one library. */
export class Buf {
  readonly ptr: Deno.PointerObject;
  constructor(readonly lib: NativeSymbols, readonly bytes: number) {
    const out = new BigUint64Array(1);
    ok(lib, lib.lits_alloc(bytes, out), `alloc ${bytes}`);
    this.ptr = Deno.UnsafePointer.create(out[0])!;
  }
  /** The first `n` floats. */
  f32(n = this.bytes / 4): Float32Array {
    const h = new Float32Array(n);
    if (n > 0) ok(this.lib, this.lib.lits_copy_d2h(h, this.ptr, h.byteLength), "d2h");
    return h;
  }
  /** The first `n` int32 values. */
  i32(n = this.bytes / 4): Int32Array {
    const h = new Int32Array(n);
    if (n > 0) ok(this.lib, this.lib.lits_copy_d2h(h, this.ptr, h.byteLength), "d2h");
    return h;
  }
}

/** The same data on both libraries: `c` on the CPU, `g` on the GPU. */
export interface Pair {
  c: Buf;
  g: Buf;
  n: number;
}

const live: Buf[] = [];

/** Buffers holding `host` on both libraries (or `n` zeroed floats). */
export function pair(host: Host | number): Pair {
  const data = typeof host === "number" ? new Float32Array(host) : host;
  const bytes = Math.max(4, data.byteLength);
  const c = new Buf(cpu, bytes), g = new Buf(gpu, bytes);
  for (const b of [c, g]) {
    if (data.byteLength > 0) ok(b.lib, b.lib.lits_copy_h2d(b.ptr, data, data.byteLength), "h2d");
    live.push(b);
  }
  return { c, g, n: data.length };
}

/** Frees every buffer `pair` made (call at the end of each test). */
export function freeAll(): void {
  for (const b of live.splice(0)) b.lib.lits_free(b.ptr);
}

/** Asserts a status of 0, else throws with the library's error text. */
export function ok(lib: NativeSymbols, status: number, what: string): void {
  if (status !== 0) {
    const side = lib === cpu ? "cpu" : "cuda";
    throw new Error(`${side} ${what}: status ${status}: ${lastError(lib)}`);
  }
}

/** Runs the same call on both libraries; `f` gets the library and a side picker. */
export function both(
  what: string,
  f: (lib: NativeSymbols, s: (p: Pair) => Deno.PointerObject) => number,
): void {
  ok(cpu, f(cpu, (p) => p.c.ptr), what);
  ok(gpu, f(gpu, (p) => p.g.ptr), what);
}

/**
 * Asserts |cuda - cpu| <= rtol * |cpu| + atol elementwise, NaN matching NaN.
 * atol defaults to rtol times the root mean square of the CPU values, so
 * elements that cancel to near zero are judged against the tensor's scale.
 */
export function assertPairClose(
  p: Pair,
  what: string,
  options: { rtol?: number; atol?: number; n?: number; int?: boolean } = {},
): void {
  const n = options.n ?? p.n;
  if (options.int) {
    const a = p.g.i32(n), b = p.c.i32(n);
    const bad = a.findIndex((v, i) => v !== b[i]);
    if (bad >= 0) throw new Error(`${what}: element ${bad}: cuda ${a[bad]}, cpu ${b[bad]}`);
    return;
  }
  const a = p.g.f32(n), b = p.c.f32(n);
  const rtol = options.rtol ?? 1e-4;
  let ss = 0, finite = 0;
  for (const v of b) {
    if (Number.isFinite(v)) {
      ss += v * v;
      finite++;
    }
  }
  const atol = options.atol ?? rtol * Math.sqrt(ss / Math.max(1, finite));
  let worst = -1, worstExcess = 0, count = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    if (a[i] === b[i]) continue;
    const allowed = atol + rtol * Math.abs(b[i]);
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= allowed)) {
      count++;
      const excess = Number.isNaN(diff) ? Infinity : diff / allowed;
      if (worst < 0 || excess > worstExcess) [worst, worstExcess] = [i, excess];
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: ${count} of ${n} elements differ; worst [${worst}]: cuda ${a[worst]}, cpu ${
        b[worst]
      } (allowed ${(atol + rtol * Math.abs(b[worst])).toExponential(2)})`,
    );
  }
}

/** A small seeded generator, so failures reproduce. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s / 4294967296;
  }
  /** n uniform floats in [lo, hi). */
  floats(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => lo + (hi - lo) * this.next());
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}
