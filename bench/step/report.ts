/**
 * The markdown report of `deno task bench:step` (`main.ts` measures, this
 * writes): the machine and its ceilings, the conventions, one row per model,
 * pass and variant, and on request the kernel and data-loader rates.
 *
 * @module
 */
import type { ForwardWork } from "../flops.ts";
import type { CpuInfo, Peak } from "../peak.ts";

/** One variant's figures for one model and pass. */
export interface Row {
  model: string;
  mode: string;
  variant: string;
  medianMs: number;
  roundMedians: number[];
  peakRssMb: number;
  faultsPerStep: number;
  processFaults: number;
  /** Largest freshBufferBytes of the variant's runs (undefined: not reported). */
  freshBufferBytes?: number;
  /** Conv2d + Linear FLOPs of one step (train: 3x the forward's, less the stem's input gradient). */
  flops: number;
  /** Set when the variant (a reference) could not run the case: why, and the numbers are absent. */
  failed?: string;
}

/** Text for one table cell: a pipe would end it. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** What a run measured, for `report`. */
export interface ReportInput {
  rows: Row[];
  /** The ceilings the shares are against: the higher of start and end. */
  peak: { fmaGflops: number; copyGBps: number; bf16Gflops: number; amxGflops?: number };
  peakStart: Peak;
  peakEnd: Peak;
  cpu: CpuInfo;
  /** The machine line (CPU, cores, memory, versions, environment). */
  machine: string;
  batch: number;
  size: number;
  /** Each model's forward work at the run's input. */
  work: Map<string, ForwardWork>;
  /** Whether bf16 variants ran (then the bf16 peak is reported). */
  bf16: boolean;
  loadAtStart: string;
  /** The machine's busy share just before each run. */
  busyBefore: number[];
  notes: string[];
  /** Also run and add the kernel benchmarks' rates. */
  kernels: boolean;
  /** Also run and add the data loader's rates. */
  data: boolean;
}

/** The data loader's throughput, from the data pipeline's own benchmark. */
function loaderRates(): string[] {
  const script = new URL("../data_bench.ts", import.meta.url).pathname;
  try {
    Deno.statSync(script);
  } catch {
    return ["(no bench/data_bench.ts)"];
  }
  const out = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    env: { DATA_BENCH_SLICES: "768" },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    return [`(bench/data_bench.ts failed: ${new TextDecoder().decode(out.stderr).slice(-300)})`];
  }
  return text.trim().split("\n");
}

/**
 * With --kernels: runs the kernel benchmarks (bench/*_bench.ts but the data
 * pipeline's) and returns their "kernel rates" blocks (GFLOP/s and the share
 * of the SGEMM ceiling measured in the same run, GB/s).
 */
function kernelRates(): string[] {
  const files = ["gemm_bench.ts", "conv_bench.ts", "norm_pool_bench.ts", "loss_optim_bench.ts"]
    .map((f) => new URL(`../${f}`, import.meta.url).pathname);
  const out = new Deno.Command(Deno.execPath(), {
    args: ["bench", "-A", "--no-check", ...files],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  // deno bench colours its output; the rate blocks are plain lines.
  // deno-lint-ignore no-control-regex -- strips ANSI colours from deno bench output
  const plain = text.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const lines: string[] = [];
  let inBlock = false;
  for (const line of plain) {
    if (line.startsWith("kernel rates")) inBlock = true;
    else if (inBlock && !line.startsWith("  ")) inBlock = false;
    if (inBlock) lines.push(line);
  }
  return lines.length > 0 ? lines : [`(kernel benchmarks failed: ${plain.slice(-5).join(" ")})`];
}

/** The report's markdown text. */
export function report(input: ReportInput): string {
  const { rows, peak, peakStart, peakEnd, cpu, batch, size, work, notes } = input;
  const lines = [
    `### ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Machine: ${input.machine}`,
    "",
    `Ceilings measured in this run (bench/peak.ts, on the workers' threads, before and after ` +
    `the runs; ` +
    `the higher counts): fp32 FMA peak ${peak.fmaGflops.toFixed(1)} GFLOP/s (${
      peakStart.fmaGflops.toFixed(1)
    } and ${peakEnd.fmaGflops.toFixed(1)}; independent ${
      cpu.avx512 ? "AVX-512" : "AVX2"
    } FMA chains in registers), copy bandwidth ${peak.copyGBps.toFixed(1)} GB/s (${
      peakStart.copyGBps.toFixed(1)
    } and ${peakEnd.copyGBps.toFixed(1)}; a 256 MiB copy, bytes read + written)${
      input.bf16
        ? `, bf16 dot-product peak ${peak.bf16Gflops.toFixed(1)} GFLOP/s (vdpbf16ps chains)` +
          (peak.amxGflops === undefined
            ? `; the "% peak" of -bf16 rows is against it`
            : `, AMX tile peak ${peak.amxGflops.toFixed(1)} GFLOP/s (tdpbf16ps on four ` +
              `accumulator tiles; our bf16 GEMM runs tiles here: the "% peak" of -bf16 rows is ` +
              `against this one)`)
        : ""
    }.`,
    "",
    `Batch ${batch} x 1 x ${size} x ${size}, 3 classes, Adam (weight decay 1e-4), cross-entropy. ` +
    "Median ms over all timed steps of all rounds (per-round medians in brackets); " +
    "speedup = the variant's ms / lits' ms (= lits' images/s over the variant's); " +
    "peak RSS = the largest VmHWM of a run; faults = minor page faults per timed step " +
    "(in-process) and per whole run (/usr/bin/time -v); fresh buffer bytes = what lits' " +
    "allocator took from the system over all timed steps (0: every tensor buffer was reused; " +
    "the faults left are V8's JavaScript heap). Every variant warms up at the real batch; " +
    "before that, lits' workers run 30 steps on a batch of one while V8 compiles the step's " +
    "JavaScript (their optimizer and allocator cache are freed after). onnxruntime: eval " +
    "forward of the PyTorch model exported with torch.onnx.export (fixed batch), ONNX " +
    "Runtime's CPU provider, intra-op threads = threads, 1 inter-op thread, all graph " +
    "optimisations. GFLOP/s = the model's Conv2d and Linear multiply-adds at this input " +
    "(counted on a forward, bench/flops.ts), 2 FLOPs each, over the median step; a training " +
    "step counts 3x its forward's FLOPs (forward, input and weight gradients: the usual " +
    "convention), less the input gradient of the layer that reads the image, which neither " +
    "side computes; batch norm, activations, pooling and the optimizer are not counted; " +
    `% peak = that over the FMA peak above (-bf16 rows: the ${
      peak.amxGflops === undefined ? "bf16" : "AMX tile"
    } peak); the FLOPs are a direct convolution's, so a Winograd convolution, which does ` +
    `fewer, can show a share above its real use of the hardware. Work per image: ${
      [...work].map(([m, w]) => `${m} ${(w.forwardFlops / batch / 1e9).toFixed(3)} GFLOP forward`)
        .join(", ")
    }.`,
    "",
    "| model | pass | variant | median ms | rounds | images/s | GFLOP/s | % peak | lits speedup | peak RSS MB | faults/step | faults/run | fresh buffer bytes |",
    "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    if (r.failed !== undefined) {
      lines.push(
        `| ${r.model} | ${r.mode} | ${r.variant} | failed: ${cell(r.failed)} |${" |".repeat(9)}`,
      );
      continue;
    }
    // A bf16 row against lits in bf16; an fp32 row against lits in fp32.
    const bf16 = r.variant.endsWith("-bf16"), lits = bf16 ? "lits-bf16" : "lits";
    const ours = rows.find((o) => o.model === r.model && o.mode === r.mode && o.variant === lits);
    const gflops = r.flops / (r.medianMs / 1000) / 1e9;
    const ceiling = bf16 ? peak.amxGflops ?? peak.bf16Gflops : peak.fmaGflops;
    lines.push(
      `| ${r.model} | ${r.mode} | ${r.variant} | ${r.medianMs.toFixed(1)} | ${
        r.roundMedians.map((m) => m.toFixed(0)).join(", ")
      } | ${(batch / (r.medianMs / 1000)).toFixed(1)} | ${gflops.toFixed(1)} | ${
        (100 * gflops / ceiling).toFixed(1)
      }% | ${r.variant === lits || !ours ? "" : `${(r.medianMs / ours.medianMs).toFixed(2)}x`} | ${
        r.peakRssMb.toFixed(0)
      } | ${r.faultsPerStep} | ${r.processFaults} | ${r.freshBufferBytes ?? ""} |`,
    );
  }
  for (const r of rows.filter((r) => r.variant === "lits-bf16")) {
    const fp32 = rows.find((o) => o.model === r.model && o.mode === r.mode && o.variant === "lits");
    if (fp32) {
      lines.push(
        "",
        `lits-bf16 against lits (fp32), ${r.model} ${r.mode}: ${
          (fp32.medianMs / r.medianMs).toFixed(2)
        }x (${r.medianMs.toFixed(1)} vs ${fp32.medianMs.toFixed(1)} ms)`,
      );
    }
  }
  const loadAtEnd = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  const worst = Math.max(...input.busyBefore, 0);
  lines.push(
    "",
    `Load average at start ${input.loadAtStart}, at end ${loadAtEnd}; the machine was at most ${
      (100 * worst).toFixed(0)
    }% busy just before a run (other people's jobs share these 2 cores).`,
  );
  for (const n of notes) lines.push("", `Note: ${n}`);
  if (input.kernels) {
    lines.push("", "Kernels (deno bench, fastest iteration of each case):", "", "```");
    lines.push(...kernelRates(), "```");
  }
  if (input.data) {
    lines.push("", "Data loader (bench/data_bench.ts, 768 PNG slices 256x256):", "", "```");
    lines.push(...loaderRates(), "```");
  }
  return lines.join("\n") + "\n";
}
