/**
 * Shared helper of the kernel benchmarks: registers a `Deno.bench` case that
 * also records its fastest iteration, and prints at exit what that means in
 * GFLOP/s (or GB/s) and as a share of the machine's ceilings measured in the
 * same run: the fp32 FMA peak for a GFLOP/s case, the copy bandwidth for a
 * GB/s case, the bf16 peak (the AMX tile peak where the GEMM runs tiles)
 * for a bf16 case (all from `peak.ts`, measured before and after the cases,
 * the higher counts: the machine is shared and a busy moment lowers one),
 * and the SGEMM ceiling where the file measured it (`measureCeiling`, as
 * `gemm_bench.ts` and `conv_bench.ts` do). The block ends with the ceilings
 * and the CPU (model, AVX-512 / AVX512-BF16 / AMX flags).
 *
 * @module
 */

import { noGrad, randn } from "../mod.ts";
import { bf16Ceiling, describePeak, measurePeak, type Peak } from "./peak.ts";

interface Rate {
  name: string;
  /** Floating-point operations per iteration (0: a memory-bound kernel). */
  flops: number;
  /** Bytes read and written per iteration (for GB/s). */
  bytes: number;
  /** A bf16 product: compared with the bf16 peak, not the fp32 ones. */
  bf16: boolean;
  best: number;
}

const rates: Rate[] = [];
let ceiling = 0;
/** The FMA peak and copy bandwidth before the cases (this module loads with the bench file). */
const peakBefore = measurePeak();

/**
 * Measures the SGEMM ceiling (a 2048^3 product, fastest of 5) that the
 * GFLOP/s of this file's cases are compared with. Each bench file runs in its
 * own isolate, so each measures it, under the same load as its cases.
 */
export function measureCeiling(): number {
  const n = 2048;
  const a = randn([n, n]), b = randn([n, n]);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    noGrad(() => a.matmul(b).dispose());
    best = Math.min(best, performance.now() - t0);
  }
  a.dispose();
  b.dispose();
  ceiling = 2 * n ** 3 / best / 1e6;
  return ceiling;
}

/**
 * A benchmark case whose work is `flops` (and `bytes` moved); `fn` runs one
 * iteration, `setup` (untimed) runs once before the first.
 */
export function rateBench(
  group: string,
  name: string,
  work: { flops?: number; bytes?: number; bf16?: boolean },
  fn: () => void,
): Rate {
  const r: Rate = {
    name,
    flops: work.flops ?? 0,
    bytes: work.bytes ?? 0,
    bf16: work.bf16 ?? false,
    best: Infinity,
  };
  rates.push(r);
  Deno.bench(name, { group }, (b) => {
    b.start();
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    b.end();
    if (dt < r.best) r.best = dt;
  });
  return r;
}

/** GFLOP/s of a case's fastest iteration. */
export function gflops(r: Rate): number {
  return r.flops / r.best / 1e6;
}

addEventListener("unload", () => {
  if (rates.length === 0 || rates.every((r) => r.best === Infinity)) return;
  const lines = [
    "",
    `kernel rates, ${new URL(Deno.mainModule).pathname.split("/").pop()} (fastest iteration):`,
  ];
  const after = measurePeak();
  const peak: Peak = {
    fmaGflops: Math.max(peakBefore.fmaGflops, after.fmaGflops),
    copyGBps: Math.max(peakBefore.copyGBps, after.copyGBps),
  };
  if (peakBefore.bf16Gflops !== undefined && after.bf16Gflops !== undefined) {
    peak.bf16Gflops = Math.max(peakBefore.bf16Gflops, after.bf16Gflops);
  }
  if (peakBefore.amxGflops !== undefined && after.amxGflops !== undefined) {
    peak.amxGflops = Math.max(peakBefore.amxGflops, after.amxGflops);
  }
  const bf16Peak = bf16Ceiling(peak);
  const pct = (x: number, of: number) => {
    const v = 100 * x / of;
    return `${v < 10 ? v.toFixed(1) : v.toFixed(0)}%`;
  };
  for (const r of rates) {
    if (r.best === Infinity) continue;
    const parts = [`${r.best.toFixed(3)} ms`];
    if (r.flops > 0) {
      const g = gflops(r);
      parts.push(`${g.toFixed(1)} GFLOP/s`);
      if (r.bf16) {
        parts.push(
          bf16Peak
            ? `${pct(g, bf16Peak)} of the ${peak.amxGflops ? "AMX tile" : "bf16"} peak`
            : "no bf16 peak",
        );
      } else {
        if (ceiling > 0) parts.push(`${pct(g, ceiling)} of the SGEMM ceiling`);
        parts.push(`${pct(g, peak.fmaGflops)} of the FMA peak`);
      }
    }
    if (r.bytes > 0) {
      const gbps = r.bytes / r.best / 1e6;
      parts.push(`${gbps.toFixed(1)} GB/s`, `${pct(gbps, peak.copyGBps)} of the copy bandwidth`);
    }
    lines.push(`  ${r.name.padEnd(52)} ${parts.join(", ")}`);
  }
  if (ceiling > 0) {
    lines.push(`  (SGEMM ceiling measured in this run: ${ceiling.toFixed(1)} GFLOP/s)`);
  }
  lines.push(
    `  (measured in this run, the higher of before and after the cases: ${describePeak(peak)})`,
    `  (before: FMA ${peakBefore.fmaGflops.toFixed(1)} GFLOP/s, copy ${
      peakBefore.copyGBps.toFixed(1)
    } GB/s; after: ${after.fmaGflops.toFixed(1)}, ${after.copyGBps.toFixed(1)})`,
  );
  console.log(lines.join("\n"));
});
