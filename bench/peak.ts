/**
 * The machine's ceilings for the benchmarks' rooflines, measured in the run
 * that uses them: the fp32 FMA peak (`lits_measure_fma_peak`: independent
 * AVX-512 or AVX2 FMA chains in registers on every OpenMP thread) and the
 * copy bandwidth (`lits_measure_copy_bandwidth`: a 256 MiB copy on every
 * thread, bytes read + written), the bf16 dot-product peak where the CPU
 * has one (`lits_measure_bf16_peak`: vdpbf16ps chains, 2 FLOPs per bf16
 * multiply-add), the AMX tile peak where the GEMM runs tiles
 * (`lits_measure_amx_peak`: tdpbf16ps on four accumulator tiles), and what
 * /proc/cpuinfo says about the CPU.
 * For the benchmarks only: not part of `mod.ts`.
 *
 * @module
 */
import { check, cpuLib } from "../src/ffi/native.ts";

/** The measured ceilings. */
export interface Peak {
  /** fp32 FMA peak on all threads, GFLOP/s. */
  fmaGflops: number;
  /** Copy bandwidth on all threads, GB/s (bytes read + bytes written). */
  copyGBps: number;
  /** bf16 dot-product peak on all threads, GFLOP/s; absent without AVX512_BF16 (or symbol). */
  bf16Gflops?: number;
  /** AMX tile peak on all threads, GFLOP/s; absent where the GEMM runs no AMX tiles. */
  amxGflops?: number;
}

/** The ceiling of the bf16 kernels: the AMX tile peak where they run tiles, else vdpbf16ps'. */
export function bf16Ceiling(p: Peak): number | undefined {
  return p.amxGflops ?? p.bf16Gflops;
}

/** Options of `measurePeak`. */
export interface PeakOptions {
  /** Seconds the FMA loop runs in all (runs of ~50 ms, the fastest kept; default 0.3). */
  fmaSeconds?: number;
  /** Size of the copied buffer (default 256 MiB). */
  copyBytes?: number;
}

/**
 * Measures the fp32 FMA peak, the copy bandwidth and, where the CPU has
 * AVX512_BF16, the bf16 peak, and where the GEMM runs AMX tiles their peak (about half a
 * second, plus `fmaSeconds` for each bf16 peak).
 */
export function measurePeak(options: PeakOptions = {}): Peak {
  const lib = cpuLib();
  const fma = lib.lits_measure_fma_peak, copy = lib.lits_measure_copy_bandwidth;
  if (!fma || !copy) {
    throw new Error(
      "measurePeak: the native library has no lits_measure_* (an old build?); " +
        "rebuild it with: deno task build",
    );
  }
  const seconds = options.fmaSeconds ?? 0.3, bytes = options.copyBytes ?? 256 * 2 ** 20;
  const out = new Float64Array(1);
  check(lib, fma(seconds, out), () => `lits_measure_fma_peak(${seconds} s)`);
  const fmaGflops = out[0];
  check(lib, copy(bytes, out), () => `lits_measure_copy_bandwidth(${bytes} bytes)`);
  const peak: Peak = { fmaGflops, copyGBps: out[0] };
  const level = new Int32Array(1);
  const bf16 = lib.lits_measure_bf16_peak;
  if (bf16 && lib.lits_bf16_support && lib.lits_bf16_support(level) === 0 && level[0] > 0) {
    check(lib, bf16(seconds, out), () => `lits_measure_bf16_peak(${seconds} s)`);
    peak.bf16Gflops = out[0];
    const amx = lib.lits_measure_amx_peak;
    if (amx && amx(seconds, out) === 0) peak.amxGflops = out[0]; // else no tiles here
  }
  return peak;
}

/** The CPU as /proc/cpuinfo names it, and its vector flags. */
export interface CpuInfo {
  /** "model name" ("?" where /proc/cpuinfo cannot be read). */
  model: string;
  /** "cpu family" and "model" ("?" where absent): what tells an AMD EPYC's generation. */
  family: string;
  modelNumber: string;
  /** Logical CPUs listed. */
  cpus: number;
  /** AVX-512 (avx512f), AVX512-BF16 and AMX (amx_tile) as the kernel reports them. */
  avx512: boolean;
  avx512bf16: boolean;
  amx: boolean;
}

/** Reads /proc/cpuinfo. */
export function cpuInfo(): CpuInfo {
  let text = "";
  try {
    text = Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    // not Linux: unknown
  }
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? "").split(/\s+/));
  return {
    model: /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? "?",
    family: /^cpu family\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? "?",
    modelNumber: /^model\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? "?",
    cpus: (text.match(/^processor\s*:/gm) ?? []).length,
    avx512: flags.has("avx512f"),
    avx512bf16: flags.has("avx512_bf16"),
    amx: flags.has("amx_tile"),
  };
}

/** "AMD EPYC (family 25, model 17; 2 CPUs; AVX-512 yes, AVX512-BF16 yes, AMX no)". */
export function describeCpu(c: CpuInfo = cpuInfo()): string {
  const yn = (b: boolean) => (b ? "yes" : "no");
  return `${c.model} (family ${c.family}, model ${c.modelNumber}; ${c.cpus} CPUs; AVX-512 ${
    yn(c.avx512)
  }, AVX512-BF16 ${yn(c.avx512bf16)}, AMX ${yn(c.amx)})`;
}

/** One line: the ceilings ("n/a" for a bf16 peak not measured) and the CPU. */
export function describePeak(p: Peak, c: CpuInfo = cpuInfo()): string {
  const bf16 = p.bf16Gflops === undefined ? "n/a" : `${p.bf16Gflops.toFixed(1)} GFLOP/s`;
  const amx = p.amxGflops === undefined ? "" : `, AMX tile peak ${p.amxGflops.toFixed(1)} GFLOP/s`;
  return `fp32 FMA peak ${
    p.fmaGflops.toFixed(1)
  } GFLOP/s, bf16 peak ${bf16}${amx}, copy bandwidth ${
    p.copyGBps.toFixed(1)
  } GB/s (read + write), ${describeCpu(c)}`;
}

if (import.meta.main) {
  console.log(describePeak(measurePeak()));
}
