/**
 * `deno task bench:step`: training step and evaluation forward of the small
 * CNN and ResNet-50 with this library and, when `/usr/bin/python3 -c
 * "import torch"` works, with PyTorch on the same shapes (as installed, and
 * with jemalloc preloaded with decay off, a caching allocator), and, for the
 * evaluation forward, with ONNX Runtime on the same architectures exported
 * from PyTorch, in the same run. Every measurement is a fresh process (so
 * peak memory is its own); the variants take turns, round after round, so
 * that background load falls on all of them alike; each reports medians
 * over all timed steps.
 *
 * Options: --models simple,resnet50 (also densenet121, mobilenetv2, efficientnetb0)
 * --modes train,eval  --rounds N
 * --batch 16  --size 256  --threads N (default: all cores)
 * --variants lits,torch,torch+jemalloc,onnxruntime (also: lits-nospin, OpenMP
 * threads sleeping at once after a parallel region; lits-nofuse, deferred ops off)
 * --steps N (timed steps per run, both passes; default by model: simple 10
 * train and 20 eval, resnet50 4 and 8)
 * --precision fp32|bf16|fp32,bf16 (default fp32; bf16: each lits and torch
 * variant also, or only, as NAME-bf16: this library under
 * `autocast("bfloat16", ...)`, PyTorch under `torch.autocast("cpu",
 * dtype=torch.bfloat16)`, around the forward and the loss; ONNX Runtime
 * stays fp32. A bf16 row's speedup is against lits-bf16, its share of the
 * peak against the bf16 dot-product peak)
 * --wait-idle SECONDS (before each run, wait up to that long for an idle machine)
 * --kernels (also run the kernel benchmarks and add their rates)
 * --out FILE (append the markdown report)  --no-data (skip the loader)  --help.
 *
 * Each row also gives the step's GFLOP/s and its share of the fp32 FMA peak
 * measured in the same run (`../peak.ts`, before and after the runs, the
 * higher of the two); the FLOPs are the
 * model's Conv2d and Linear multiply-adds at the run's input shape
 * (`../flops.ts`), 2 per multiply-add, and a training step counts 3x its
 * forward's, less the stem's input gradient, which neither side computes.
 *
 * onnxruntime: npm `onnxruntime-node` 1.30 (CPU provider, --threads intra-op
 * threads, 1 inter-op thread, all graph optimisations; `ort_worker.ts`),
 * eval pass only (it does not train: no train row), on each model exported
 * once per run by `/usr/bin/python3 bench/step/onnx_export.py`
 * (`torch.onnx.export` of the torch worker's model at the fixed batch) into
 * a temporary folder. Skipped with a note where PyTorch or
 * `onnxruntime-node` does not load (`BENCH_ORT_MODULE=file:///nonexistent`
 * shows the note).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { benchModelOptions, failureReason, type WorkerResult } from "./protocol.ts";
import { emptyCache, models } from "../../mod.ts";
import { bf16Unavailable } from "../../src/tensor/autocast.ts";
import { check, cpuLib } from "../../src/ffi/native.ts";
import { CFLAGS } from "../../src/ffi/build.ts";
import { countForward, type ForwardWork } from "../flops.ts";
import { cpuInfo, describeCpu, describePeak, measurePeak } from "../peak.ts";
import { report, type Row } from "./report.ts";

const PYTHON = "/usr/bin/python3";
const JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
const here = new URL(".", import.meta.url).pathname;

/** The options (`--key value`) and flags this bench takes; anything else is an error. */
const OPTIONS = {
  models: { type: "string", default: "simple,resnet50" },
  modes: { type: "string", default: "train,eval" },
  rounds: { type: "string" },
  batch: { type: "string", default: "16" },
  size: { type: "string", default: "256" },
  threads: { type: "string" },
  variants: { type: "string", default: "lits,torch,torch+jemalloc,onnxruntime" },
  steps: { type: "string" },
  "wait-idle": { type: "string", default: "0" },
  precision: { type: "string", default: "fp32" },
  out: { type: "string" },
  "no-data": { type: "boolean", default: false },
  kernels: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;
let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];
try {
  values = parseArgs({ args: Deno.args, options: OPTIONS, strict: true }).values;
} catch (e) {
  console.error(`bench:step: ${(e as Error).message}`);
  Deno.exit(2);
}
if (values.help) {
  const doc = Deno.readTextFileSync(new URL(import.meta.url)).split("*/")[0];
  console.log(doc.replace(/^\/\*\*\n/, "").replace(/^ \* ?/gm, "").replace("@module", "").trim());
  Deno.exit(0);
}
const args = {
  models: values.models,
  modes: values.modes,
  rounds: values.rounds,
  steps: values.steps,
  batch: values.batch,
  size: values.size,
  threads: values.threads,
  out: values.out,
  data: !values["no-data"],
};
const batch = Number(args.batch), size = Number(args.size);
if (args.steps && !(Number.isInteger(Number(args.steps)) && Number(args.steps) >= 1)) {
  console.error(`bench:step: --steps must be an integer >= 1, got '${args.steps}'`);
  Deno.exit(2);
}
const threads = Number(args.threads ?? navigator.hardwareConcurrency);
if (!(Number.isInteger(threads) && threads >= 1)) {
  console.error(`bench:step: --threads must be an integer >= 1, got '${args.threads}'`);
  Deno.exit(2);
}
// bench/torch_models.py's MODELS: another name would have no PyTorch twin to compare.
const TORCH_TWINS = ["simple", "resnet50", "densenet121", "mobilenetv2", "efficientnetb0"];
const unknownModel = args.models.split(",").find((m) => !TORCH_TWINS.includes(m));
if (unknownModel !== undefined) {
  console.error(
    `bench:step: --models: no PyTorch twin of '${unknownModel}' in bench/torch_models.py ` +
      `(have: ${TORCH_TWINS.join(", ")})`,
  );
  Deno.exit(2);
}
const precisions = values.precision.split(",");
if (precisions.some((p) => p !== "fp32" && p !== "bf16")) {
  console.error(`bench:step: --precision takes fp32, bf16 or fp32,bf16, got '${values.precision}'`);
  Deno.exit(2);
}
const noBf16 = precisions.includes("bf16") ? bf16Unavailable(cpuLib(), "cpu") : null;
if (noBf16 !== null) { // autocast would warn and time float32 under the -bf16 names
  console.error(`bench:step: --precision bf16: ${noBf16}; the -bf16 rows would time float32`);
  Deno.exit(2);
}

/** Warm-up and timed steps per run, and rounds, by model (ResNet-50 steps take seconds). */
const PLAN: Record<string, { warmup: number; steps: number; rounds: number }> = {
  simple: { warmup: 3, steps: 10, rounds: 3 },
  resnet50: { warmup: 2, steps: 4, rounds: 2 },
  densenet121: { warmup: 2, steps: 4, rounds: 2 },
  mobilenetv2: { warmup: 3, steps: 6, rounds: 2 },
  efficientnetb0: { warmup: 3, steps: 6, rounds: 2 },
};

interface Variant {
  name: string;
  /** Passes it runs (default: all). */
  modes?: string[];
  cmd: (model: string, mode: string, warm: number, steps: number) => [string, string[]];
  env?: Record<string, string>;
}

function canRun(cmd: string, cmdArgs: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args: cmdArgs, stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const notes: string[] = [];
const litsArgs = (m: string, mode: string, w: number, s: number): [string, string[]] => [
  Deno.execPath(),
  ["run", "-A", `${here}lits_worker.ts`, m, mode, `${w}`, `${s}`, `${batch}`, `${size}`],
];
const torchArgs = (m: string, mode: string, w: number, s: number): [string, string[]] => [
  PYTHON,
  [`${here}torch_worker.py`, m, mode, `${w}`, `${s}`, `${batch}`, `${size}`, `${threads}`],
];
/** The exported ONNX graphs of this run, by model (made on first use, removed after its rows). */
const onnxFiles = new Map<string, string>();
let onnxDir: string | undefined;
function onnxFile(model: string): string {
  let file = onnxFiles.get(model);
  if (file) return file;
  onnxDir ??= Deno.makeTempDirSync({ prefix: "bench-step-onnx-" });
  file = `${onnxDir}/${model}.onnx`;
  const out = new Deno.Command(PYTHON, {
    args: [`${here}onnx_export.py`, model, `${batch}`, `${size}`, file],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) {
    throw new Error(`onnx_export.py ${model} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  onnxFiles.set(model, file);
  return file;
}
const ortArgs = (m: string, _mode: string, w: number, s: number): [string, string[]] => [
  Deno.execPath(),
  [
    "run",
    "-A",
    `${here}ort_worker.ts`,
    onnxFile(m),
    `${w}`,
    `${s}`,
    `${batch}`,
    `${size}`,
    `${threads}`,
  ],
];
/** Every variant the bench knows; --variants picks (default: lits, torch, torch+jemalloc, onnxruntime). */
const known: Variant[] = [
  // libgomp's default wait policy, as PyTorch runs: threads spin a while before sleeping.
  { name: "lits", cmd: litsArgs, env: { OMP_NUM_THREADS: `${threads}` } },
  // OpenMP threads sleep at once after a parallel region.
  {
    name: "lits-nospin",
    cmd: litsArgs,
    env: { OMP_NUM_THREADS: `${threads}`, GOMP_SPINCOUNT: "0" },
  },
  // Deferred batch norm / ReLU / add off (ops/fusion.ts): the plain kernels.
  { name: "lits-nofuse", cmd: litsArgs, env: { OMP_NUM_THREADS: `${threads}`, LITS_FUSION: "0" } },
  { name: "torch", cmd: torchArgs },
  {
    name: "torch+jemalloc",
    cmd: torchArgs,
    env: { LD_PRELOAD: JEMALLOC, MALLOC_CONF: "dirty_decay_ms:-1,muzzy_decay_ms:-1" },
  },
  { name: "onnxruntime", cmd: ortArgs, modes: ["eval"] },
];
// The bf16 twins: the same command, its forward and loss under autocast (BENCH_PRECISION).
for (const v of known.filter((v) => v.name !== "onnxruntime")) {
  known.push({ ...v, name: `${v.name}-bf16`, env: { ...v.env, BENCH_PRECISION: "bf16" } });
}
const asked = values.variants.split(",");
const wanted = precisions.flatMap((p) =>
  p === "fp32" ? asked : asked.filter((v) => v !== "onnxruntime").map((v) => `${v}-bf16`)
);
const hasTorch = canRun(PYTHON, ["-c", "import torch, torchvision"]);
if (!hasTorch) notes.push(`PyTorch skipped: '${PYTHON} -c "import torch, torchvision"' failed`);
if (!exists(JEMALLOC)) {
  notes.push(`torch+jemalloc skipped: ${JEMALLOC} is missing (apt-get install libjemalloc2)`);
}
/** ONNX Runtime's version, or why the onnxruntime variant cannot run. */
function ortVersion(): { version?: string; why?: string } {
  if (!wanted.includes("onnxruntime")) return {};
  if (!hasTorch) return { why: `the models are exported with PyTorch, which did not load` };
  const out = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${here}ort_worker.ts`, "--check"],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (out.success) return { version: new TextDecoder().decode(out.stdout).trim() };
  // deno-lint-ignore no-control-regex -- strips ANSI colours from Deno's error
  const err = new TextDecoder().decode(out.stderr).replace(/\x1b\[[0-9;]*m/g, "");
  const first = err.split("\n").find((l) => l.includes("rror")) ?? err.trim().split("\n")[0];
  return { why: `ort_worker.ts --check failed: ${first?.trim()}` };
}
const ort = ortVersion();
if (ort.why) {
  notes.push(
    `onnxruntime skipped: ${ort.why} (npm onnxruntime-node@1.30.0 and ${PYTHON} with torch needed)`,
  );
}
const variants = known.filter((v) =>
  wanted.includes(v.name) && (!v.name.startsWith("torch") || hasTorch) &&
  (!v.name.startsWith("torch+jemalloc") || exists(JEMALLOC)) &&
  (v.name !== "onnxruntime" || ort.version !== undefined)
);

/** Busy share of all cores over `ms` milliseconds (/proc/stat). */
async function busyShare(ms: number): Promise<number> {
  const read = () => {
    const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
      .map(Number);
    const idle = f[3] + f[4];
    return [f.reduce((a, b) => a + b, 0), idle];
  };
  const [t0, i0] = read();
  await new Promise((r) => setTimeout(r, ms));
  const [t1, i1] = read();
  return t1 === t0 ? 0 : 1 - (i1 - i0) / (t1 - t0);
}

/**
 * With --wait-idle SECONDS: before each run, waits (up to that long) until
 * the machine is idle, so that other people's jobs do not fall into one
 * variant's run. Returns the busy share seen last.
 */
async function waitIdle(): Promise<number> {
  const limit = Number(values["wait-idle"]);
  const end = performance.now() + limit * 1000;
  let busy = await busyShare(500);
  while (busy > 0.1 && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 2000));
    busy = await busyShare(1000);
  }
  return busy;
}

const loadAtStart = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
const busyBefore: number[] = [];

/**
 * Runs one worker under /usr/bin/time -v; returns its result and time's
 * counters, or for a reference (PyTorch, ONNX Runtime) that cannot run the
 * case, why (PyTorch 1.13 has no bf16 backward of ReLU6 on the CPU, for
 * one): the other variants' rows still come. Our own failures stop the run.
 */
function runWorker(
  v: Variant,
  model: string,
  mode: string,
  warm: number,
  steps: number,
): { failed: string } | { result: WorkerResult; timeMaxRssKb: number; timeMinorFaults: number } {
  const [cmd, cmdArgs] = v.cmd(model, mode, warm, steps);
  const timed = exists("/usr/bin/time");
  const out = new Deno.Command(timed ? "/usr/bin/time" : cmd, {
    args: timed ? ["-v", cmd, ...cmdArgs] : cmdArgs,
    env: v.env,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success && !v.name.startsWith("lits")) {
    console.error(`${v.name} ${model} ${mode} failed:\n${stderr.slice(-2000)}`);
    return { failed: failureReason(stderr) };
  }
  if (!out.success) throw new Error(`${v.name} ${model} ${mode} failed:\n${stderr.slice(-2000)}`);
  const line = stdout.trim().split("\n").pop()!;
  const result = JSON.parse(line) as WorkerResult;
  const field = (re: RegExp) => Number(re.exec(stderr)?.[1] ?? NaN);
  return {
    result,
    timeMaxRssKb: field(/Maximum resident set size \(kbytes\): (\d+)/),
    timeMinorFaults: field(/Minor \(reclaiming a frame\) page faults: (\d+)/),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The machine's ceilings, measured in this process (the workers are separate
// processes) before and again after the runs: the machine is shared, and a
// busy moment lowers a measurement, so the report's shares use the higher.
const cpu = cpuInfo();
// On the workers' thread count: a ceiling of all cores would understate a
// --threads 1 run's share of it.
check(cpuLib(), cpuLib().lits_set_num_threads(threads), () => `threads ${threads}`);
const peakStart = measurePeak();
console.error(`at the start: ${describePeak(peakStart, cpu)}`);

/** Conv2d + Linear work of each model at this run's input ([batch, 1, size, size]). */
const work = new Map<string, ForwardWork>();
function workOf(model: string): ForwardWork {
  let w = work.get(model);
  if (!w) {
    // As lits_worker.ts builds it.
    using net = models.create(model, benchModelOptions(model, size));
    w = countForward(net, [batch, 1, size, size]);
    work.set(model, w);
  }
  emptyCache(); // what the count allocated goes back to the system before the workers run
  return w;
}

const rows: Row[] = [];
for (const model of args.models.split(",")) {
  const plan = PLAN[model] ?? PLAN.resnet50;
  const modelWork = workOf(model);
  const rounds = Number(args.rounds ?? plan.rounds);
  for (const mode of args.modes.split(",")) {
    const warm = mode === "train" ? plan.warmup : plan.warmup + 1;
    const steps = args.steps ? Number(args.steps) : mode === "train" ? plan.steps : plan.steps * 2;
    const active = variants.filter((v) => !v.modes || v.modes.includes(mode));
    const acc = new Map<
      string,
      {
        times: number[];
        rounds: number[];
        rss: number[];
        f: number[];
        pf: number[];
        fresh: number[];
      }
    >();
    /** The references that could not run this case, and why (not tried again). */
    const failed = new Map<string, string>();
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round: no variant always runs first (or last).
      const order = active.map((_, i) => active[(i + r) % active.length]);
      for (const v of order) {
        if (failed.has(v.name)) continue;
        busyBefore.push(await waitIdle());
        const run = runWorker(v, model, mode, warm, steps);
        if ("failed" in run) {
          failed.set(v.name, run.failed);
          continue;
        }
        const { result, timeMaxRssKb, timeMinorFaults } = run;
        const a = acc.get(v.name) ?? { times: [], rounds: [], rss: [], f: [], pf: [], fresh: [] };
        a.times.push(...result.times);
        a.rounds.push(median(result.times));
        a.rss.push(Math.max(result.peakRssKb, isNaN(timeMaxRssKb) ? 0 : timeMaxRssKb));
        a.f.push(...result.faults);
        a.pf.push(timeMinorFaults);
        if (result.freshBufferBytes !== undefined) a.fresh.push(result.freshBufferBytes);
        acc.set(v.name, a);
        console.error(
          `${model} ${mode} round ${r + 1}/${rounds} ${v.name}: median ${
            median(result.times).toFixed(1)
          } ms, faults/step ${median(result.faults)}`,
        );
      }
    }
    for (const v of active) {
      const reason = failed.get(v.name);
      if (reason !== undefined) {
        const none = { medianMs: NaN, roundMedians: [], peakRssMb: NaN, flops: 0 };
        rows.push({
          model,
          mode,
          variant: v.name,
          ...none,
          faultsPerStep: NaN,
          processFaults: NaN,
          failed: reason,
        });
        continue;
      }
      const a = acc.get(v.name)!;
      rows.push({
        model,
        mode,
        variant: v.name,
        medianMs: median(a.times),
        roundMedians: a.rounds,
        peakRssMb: Math.max(...a.rss) / 1024,
        faultsPerStep: median(a.f),
        processFaults: median(a.pf),
        freshBufferBytes: a.fresh.length > 0 ? Math.max(...a.fresh) : undefined,
        flops: mode === "train" ? modelWork.trainStepFlops : modelWork.forwardFlops,
      });
    }
  }
  const graph = onnxFiles.get(model);
  if (graph) Deno.removeSync(graph), onnxFiles.delete(model);
}
if (onnxDir) Deno.removeSync(onnxDir, { recursive: true });
const peakEnd = measurePeak();
console.error(`at the end: ${describePeak(peakEnd, cpu)}`);
const peak = {
  fmaGflops: Math.max(peakStart.fmaGflops, peakEnd.fmaGflops),
  copyGBps: Math.max(peakStart.copyGBps, peakEnd.copyGBps),
  bf16Gflops: Math.max(peakStart.bf16Gflops ?? NaN, peakEnd.bf16Gflops ?? NaN),
  amxGflops: peakStart.amxGflops === undefined || peakEnd.amxGflops === undefined
    ? undefined
    : Math.max(peakStart.amxGflops, peakEnd.amxGflops),
};
if (variants.some((v) => v.name === "onnxruntime") && args.modes.split(",").includes("train")) {
  notes.push("onnxruntime has no train rows: ONNX Runtime does not train");
}

function machine(): string {
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1]);
  const torch = canRun(PYTHON, ["-c", "import torch"])
    ? new TextDecoder().decode(
      new Deno.Command(PYTHON, { args: ["-c", "import torch; print(torch.__version__)"] })
        .outputSync().stdout,
    ).trim()
    : "none";
  const env = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY"]
    .map((k) => `${k}=${Deno.env.get(k) ?? "(unset)"}`).join(" ");
  // The library is built here by scripts/setup.ts, with src/ffi/build.ts's flags.
  const flags = CFLAGS.filter((f) => /^-(O|march|mprefer|fno-math)/.test(f)).join(" ");
  const gcc = canRun("gcc", ["--version"])
    ? new TextDecoder().decode(new Deno.Command("gcc", { args: ["--version"] }).outputSync().stdout)
      .split("\n")[0]
    : "gcc (not found)";
  return `${describeCpu(cpu)}, ${navigator.hardwareConcurrency} cores, ${
    (memKb / 2 ** 20).toFixed(0)
  } GiB; ` +
    `Deno ${Deno.version.deno}; PyTorch ${torch}; ONNX Runtime ${
      ort.version ?? "none"
    }; threads ${threads}; ${env}; native library built with ${gcc}, ${flags}; ` +
    `command: deno task bench:step ${Deno.args.join(" ")}`.trimEnd();
}

const text = report({
  rows,
  peak,
  peakStart,
  peakEnd,
  cpu,
  machine: machine(),
  batch,
  size,
  work,
  bf16: precisions.includes("bf16"),
  loadAtStart,
  busyBefore,
  notes,
  kernels: Boolean(values.kernels),
  data: args.data,
});
console.log(text);
if (args.out) await Deno.writeTextFile(args.out, "\n" + text, { append: true });
