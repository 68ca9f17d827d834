/**
 * `deno task gpu:check`: the whole CUDA check, for any machine with an NVIDIA
 * GPU, in one run of about eight minutes at most:
 *
 * 1. builds the CUDA library (nvcc, sm_80 + sm_90 + PTX);
 * 2. starts it and prints what it found (GPU, driver, cuBLAS, cuDNN, where);
 * 3. runs the tests that touch the GPU with `LITS_TEST_DEVICE=cuda` (the op
 *    tests on the GPU, every backend function compared with the CPU, device
 *    plumbing, bf16 autocast's GPU functions in tests/cuda_bf16_test.ts and
 *    autocast itself in tests/autocast_test.ts), then tests/cuda_bf16_test.ts
 *    again with cuDNN held to deterministic algorithms and without Winograd
 *    (LITS_DETERMINISTIC=1, LITS_WINOGRAD=0: other bf16 algorithms, some of
 *    which cuDNN may not have for a shape);
 * 4. trains the small CNN a few hundred steps on synthetic data on the GPU:
 *    the loss must fall and device memory must stay flat;
 * 5. times a training step of the small CNN and of ResNet-50 (batch 64,
 *    1 x 256 x 256, fp32, TF32 off; then under bf16 autocast, against
 *    torch.autocast) here and, when python3 has torch with CUDA, in PyTorch
 *    on the same GPU, and prints one table;
 * 5b. with Open MPI installed, runs NCCL for real on one rank
 *    (bench/gpu/nccl_check.ts: collectives on CUDA tensors, and
 *    DistributedDataParallel against plain training);
 * 6. runs the rest of `tests/` (CPU only; the MPI tests only where Open MPI
 *    is installed) in the budget left, unless `--gpu-tests-only`.
 *
 * The run is appended to bench/GPU.md (and, where the environment sets OUT,
 * written to $OUT/gpu_check.md with the full log in $OUT/gpu_check.log).
 * Exits non-zero when anything failed. Options: --steps N (training steps,
 * default 300), --no-torch, --gpu-tests-only, --budget SECONDS (default 470),
 * and for a dry run of this script itself (say with LITS_CUDA_LIB pointing at
 * the CPU library) --batch N --size N (default 64, 256) --no-record.
 *
 * On a GPU machine without Deno or network: run `bash scripts/gpu_pack.sh`
 * here, carry `.device`, run `bash scripts/gpu_device.sh` there, and back here
 * `deno task gpu:check --record FILE` appends the run's $OUT/gpu_check.md to
 * bench/GPU.md (the machine's own copy of the repository does not come back).
 *
 * @module
 */
import { buildCuda } from "../src/ffi/build_cuda.ts";
import { mpiReady, mpirunArgs } from "../src/dist/setup.ts";

const root = new URL("../", import.meta.url).pathname;
const started = performance.now();
const mdPath = `${root}bench/GPU.md`;

/** Appends one run's section to bench/GPU.md (dropping the "no run yet" line). */
function appendRecord(section: string): void {
  let md = "";
  try {
    md = Deno.readTextFileSync(mdPath);
  } catch { /* a fresh file */ }
  md = md.replace(/\nNo run has been made yet\.\n/, "\n");
  Deno.writeTextFileSync(mdPath, `${md.trimEnd()}\n\n${section.trim()}\n`);
}

function option(key: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${key}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

const recordFrom = option("record", "");
if (recordFrom) {
  const section = Deno.readTextFileSync(recordFrom);
  if (!/^## .*: (passed|FAILED)/.test(section)) {
    throw new Error(`${recordFrom} is not a gpu:check report (no "## date: passed|FAILED" line)`);
  }
  appendRecord(section);
  console.log(`appended ${recordFrom} to ${mdPath}`);
  Deno.exit(0);
}
const budgetS = Number(option("budget", "470"));
const trainSteps = Number(option("steps", "300"));
const python = Deno.env.get("PYTHON") ?? "python3";

const log: string[] = [];
const say = (line: string) => {
  console.log(line);
  log.push(line);
};
const elapsed = () => (performance.now() - started) / 1000;
const left = () => budgetS - elapsed();

interface Ran {
  ok: boolean;
  stdout: string;
  stderr: string;
  seconds: number;
  timedOut: boolean;
}

/** Runs a command with a time limit; never throws. */
async function run(
  cmd: string,
  args: string[],
  timeoutS: number,
  env: Record<string, string> = {},
): Promise<Ran> {
  const t0 = performance.now();
  const signal = AbortSignal.timeout(Math.max(1, timeoutS) * 1000);
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env: { NO_COLOR: "1", ...env },
      cwd: root,
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
    const dec = new TextDecoder();
    return {
      ok: out.success,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      seconds: (performance.now() - t0) / 1000,
      timedOut: signal.aborted,
    };
  } catch (e) {
    return {
      ok: false,
      stdout: "",
      stderr: String(e),
      seconds: (performance.now() - t0) / 1000,
      timedOut: signal.aborted,
    };
  }
}

const lastJson = (text: string) => JSON.parse(text.trim().split("\n").pop() ?? "null");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

const record: string[] = [];
let failed = false;
const fail = (what: string) => {
  failed = true;
  record.push(`- FAILED: ${what}`);
  say(`FAILED: ${what}`);
};

// ---- 0. the machine -----------------------------------------------------------
const smi = await run("nvidia-smi", [
  "--query-gpu=name,driver_version,memory.total",
  "--format=csv,noheader",
], 30);
const gpuLine = smi.ok ? smi.stdout.trim().split("\n")[0] : "nvidia-smi unavailable";
say(`gpu: ${gpuLine}`);
record.push(`- GPU (nvidia-smi): ${gpuLine}`);
record.push(`- Deno ${Deno.version.deno}; budget ${budgetS} s`);

// ---- 1. build ---------------------------------------------------------------------
let built = false;
{
  const t0 = performance.now();
  try {
    const lib = await buildCuda({ force: true });
    const s = ((performance.now() - t0) / 1000).toFixed(0);
    say(`build: ${lib} (${s} s)`);
    record.push(`- build: ok (${s} s)`);
    built = true;
  } catch (e) {
    fail(`build: ${(e as Error).message.slice(0, 3000)}`);
  }
}

// ---- 2. start -----------------------------------------------------------------------
let running = false;
if (built) {
  const info = await run(Deno.execPath(), [
    "eval",
    `import { backendInfo } from "${root}mod.ts"; console.log(backendInfo("cuda"));`,
  ], 120);
  if (info.ok) {
    say(info.stdout.trim());
    record.push(`- backend: ${info.stdout.trim()}`);
    running = true;
  } else {
    const text = info.stderr || info.stdout;
    const why = /Error: (.*)/.exec(text)?.[1] ?? text.trim().slice(-2000);
    fail(`the CUDA backend did not start: ${why}`);
  }
}

// ---- 3. tests ----------------------------------------------------------------------
// The tests that touch the GPU run first; the CPU-only rest (which CI runs on
// every landing anyway) runs last, in whatever budget is left.
const testFiles = [...Deno.readDirSync(`${root}tests`)]
  .map((e) => e.name).filter((n) => n.endsWith("_test.ts")).sort();
const gpuFiles = testFiles.filter((n) =>
  /LITS_TEST_DEVICE|testDevice|gpuReady|["']cuda["']/.test(
    Deno.readTextFileSync(`${root}tests/${n}`),
  )
);

/**
 * Runs `deno test` on some test files with LITS_TEST_DEVICE=cuda (and `env`);
 * records the counts.
 */
async function runTests(
  what: string,
  files: string[],
  timeoutS: number,
  env: Record<string, string> = {},
): Promise<void> {
  const t = await run(
    Deno.execPath(),
    ["test", "-A", ...files.map((n) => `tests/${n}`)],
    timeoutS,
    { LITS_TEST_DEVICE: "cuda", ...env },
  );
  const text = t.stdout + t.stderr;
  log.push(`---- deno test, ${what} (LITS_TEST_DEVICE=cuda) ----`, text);
  const summary =
    /(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/
      .exec(text);
  const counts = summary
    ? `${summary[2]} passed, ${summary[4]} failed, ${summary[5] ?? 0} ignored`
    : "no summary";
  const head = `tests, ${what} (${files.length} files, LITS_TEST_DEVICE=cuda)`;
  say(
    `${head}: ${counts} (${t.seconds.toFixed(0)} s)${t.timedOut ? ", stopped at the budget" : ""}`,
  );
  if (t.ok) {
    record.push(`- ${head}: ${counts} (${t.seconds.toFixed(0)} s)`);
  } else {
    // Deno names each failure twice (ERRORS, then FAILURES).
    const failures = [...new Set([...text.matchAll(/^(.+) => \.\/tests\/.*$/gm)].map((m) => m[1]))]
      .slice(0, 20);
    const stopped = t.timedOut ? ` (stopped at the budget, ${t.seconds.toFixed(0)} s)` : "";
    fail(`${head}: ${counts}${stopped}; failing: ${failures.join("; ")}`);
  }
}

if (running && left() < 200) fail(`tests: skipped, only ${left().toFixed(0)} s of the budget left`);
else if (running) await runTests("on the GPU", gpuFiles, Math.min(300, left() - 140));

// bf16 once more where cuDNN's search may pick other algorithms: the
// deterministic ones only, and none of Winograd's (each mode its own plans).
const bf16Modes: [string, Record<string, string>][] = [
  ["bf16, deterministic algorithms", { LITS_DETERMINISTIC: "1" }],
  ["bf16, no Winograd", { LITS_WINOGRAD: "0" }],
];
for (const [what, env] of bf16Modes) {
  if (!running) break;
  if (left() < 230) {
    say(`tests, ${what}: skipped, only ${left().toFixed(0)} s of the budget left`);
    record.push(`- tests, ${what}: not run (budget)`);
  } else {
    await runTests(what, ["cuda_bf16_test.ts"], Math.min(90, left() - 200), env);
  }
}

// ---- 4. training ------------------------------------------------------------------
if (running && left() < 110) {
  fail(`training: skipped, only ${left().toFixed(0)} s of the budget left`);
} else if (running) {
  const t = await run(Deno.execPath(), [
    "run",
    "-A",
    "bench/gpu/train_check.ts",
    `${trainSteps}`,
    "cuda",
  ], Math.min(150, left() - 100));
  log.push("---- training ----", t.stdout, t.stderr);
  if (!t.ok) {
    fail(`training: ${t.timedOut ? "timed out" : t.stderr.trim().slice(-2000)}`);
  } else {
    const r = lastJson(t.stdout);
    const line = `small CNN, ${r.steps} steps of 32 x 1 x 64 x 64: loss ${
      r.firstLoss.toFixed(3)
    } -> ${r.lastLoss.toFixed(4)}, held-out accuracy ${
      (100 * r.accuracy).toFixed(0)
    }%, memory flat: in use ${r.flatInUse ? "yes" : "NO"} (${mb(r.bytesInUse)}), from cudaMalloc ${
      r.flatFromSystem ? "yes" : "NO"
    } (${mb(r.bytesFromSystem)}), ${r.seconds.toFixed(1)} s`;
    say(`training: ${line}`);
    record.push(`- training: ${line}`);
    if (!(r.lastLoss < 0.5 * r.firstLoss)) fail("training: the loss did not fall by half");
    if (!r.flatInUse || !r.flatFromSystem) fail("training: device memory grew in steady steps");
  }
}

// ---- 5. timing ---------------------------------------------------------------------
const BATCH = Number(option("batch", "64")), SIZE = Number(option("size", "256"));
const PLAN: Record<string, { warm: number; steps: number }> = {
  simple: { warm: 5, steps: 20 },
  resnet50: { warm: 3, steps: 10 },
};
interface Timing {
  ms: number | null;
  note: string;
  /** Device memory the caching allocator holds after the timed steps (in use + cached; PyTorch's max reserved). */
  reserved?: number;
}
const rows: { model: string; precision: string; lits: Timing; torch: Timing }[] = [];
const withTorch = !Deno.args.includes("--no-torch") && running &&
  (await run(python, [
    "-c",
    "import torch, torchvision; assert torch.cuda.is_available()",
  ], 60)).ok;
if (running && !withTorch) say(`timing: PyTorch side skipped (${python} has no torch with CUDA)`);
// fp32 first (the check's own figures), then bf16 autocast against torch.autocast.
const timed = ["fp32", "bf16"].flatMap((precision) =>
  ["simple", "resnet50"].map((model) => ({ model, precision }))
);
for (const { model, precision } of timed) {
  if (!running) break;
  // The bf16 rows come after the check's own figures: short of budget they are left out, not failed.
  if (precision === "bf16" && left() < 60) {
    say(`timing ${model} bf16: skipped, only ${left().toFixed(0)} s of the budget left`);
    record.push(`- timing ${model} bf16: not run (budget)`);
    continue;
  }
  const { warm, steps } = PLAN[model];
  const time = async (cmd: string, args: string[]): Promise<Timing> => {
    if (left() < 30) return { ms: null, note: "no time left" };
    const t = await run(cmd, args, Math.min(180, left() - 10));
    log.push(`---- timing ${model} ${precision} ${cmd} ----`, t.stdout, t.stderr);
    if (!t.ok) {
      return {
        ms: null,
        note: t.timedOut ? "timed out" : t.stderr.trim().split("\n").slice(-3).join(" "),
      };
    }
    const r = lastJson(t.stdout);
    return { ms: median(r.times), note: "", reserved: r.reservedBytes };
  };
  const args = [`${warm}`, `${steps}`, `${BATCH}`, `${SIZE}`, precision];
  const lits = await time(Deno.execPath(), ["run", "-A", "bench/gpu/lits_step.ts", model, ...args]);
  const torch = withTorch
    ? await time(python, ["bench/gpu/torch_step.py", model, ...args])
    : { ms: null, note: "no PyTorch" };
  if (lits.ms === null) fail(`timing ${model} ${precision}: ${lits.note}`);
  rows.push({ model, precision, lits, torch });
}
if (rows.length > 0) {
  const ips = (ms: number | null) => (ms === null ? "-" : (BATCH / (ms / 1000)).toFixed(1));
  const fmt = (t: Timing) => (t.ms === null ? `- (${t.note})` : t.ms.toFixed(1));
  const gib = (b?: number) => (b === undefined ? "-" : (b / 2 ** 30).toFixed(1));
  const table = [
    `Training step, batch ${BATCH}, 1 x ${SIZE} x ${SIZE}, Adam; fp32 with TF32 off, bf16 the ` +
    `forward and loss under autocast("bfloat16") and torch.autocast("cuda", ` +
    `dtype=torch.bfloat16); median ms per step:`,
    "",
    "| model | precision | lits ms | lits img/s | torch ms | torch img/s | lits / torch (img/s) | lits GiB held | torch GiB reserved |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${r.model} | ${r.precision} | ${fmt(r.lits)} | ${ips(r.lits.ms)} | ${fmt(r.torch)} | ${
        ips(r.torch.ms)
      } | ${r.lits.ms && r.torch.ms ? (r.torch.ms / r.lits.ms).toFixed(2) : "-"} | ${
        gib(r.lits.reserved)
      } | ${gib(r.torch.reserved)} |`
    ),
  ];
  say("");
  for (const l of table) say(l);
  record.push("", ...table);
}

// ---- 5b. NCCL, one rank --------------------------------------------------------------
if (running && !mpiReady()) {
  say("nccl: skipped (no mpirun/mpicc here: NCCL's unique id travels over MPI)");
  record.push("- NCCL: not run (no Open MPI on this machine)");
} else if (running && left() < 60) {
  fail(`nccl: skipped, only ${left().toFixed(0)} s of the budget left`);
} else if (running) {
  const t = await run("mpirun", [
    ...mpirunArgs(1),
    Deno.execPath(),
    "run",
    "-A",
    "bench/gpu/nccl_check.ts",
  ], Math.min(120, left() - 40));
  log.push("---- nccl ----", t.stdout, t.stderr);
  const line = t.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (!t.ok || !line) {
    fail(`nccl: ${t.timedOut ? "timed out" : (t.stderr || t.stdout).trim().slice(-2000)}`);
  } else {
    const r = JSON.parse(line.slice(7));
    const text = `NCCL, one rank under mpirun (${r.info}): all-reduce sum and avg of 1 to ` +
      `6,553,600 floats and broadcast on CUDA tensors ${
        r.collectivesBad.length ? `WRONG: ${r.collectivesBad.join(", ")}` : "exact"
      }; 25 MB all-reduce ${r.allReduce25MBms.toFixed(3)} ms; DistributedDataParallel over NCCL, ` +
      `8 SGD steps of the small CNN: losses ${
        r.ddpSame ? "equal" : "NOT equal"
      } to plain training's`;
    say(`nccl: ${text}`);
    record.push(`- ${text}`);
    if (r.collectivesBad.length || !r.ddpSame) fail("nccl: see above");
  }
}

// ---- 6. the CPU-only tests, last -----------------------------------------------------
if (running && !Deno.args.includes("--gpu-tests-only")) {
  let others = testFiles.filter((n) => !gpuFiles.includes(n));
  if (!mpiReady()) {
    // Without Open MPI they would try to install it, and this machine may have no network.
    const dist = others.filter((n) => n.startsWith("dist_"));
    others = others.filter((n) => !dist.includes(n));
    say(`tests: ${dist.length} MPI files left out (no mpirun/mpicc here): ${dist.join(", ")}`);
    record.push(`- tests left out: ${dist.join(", ")} (no Open MPI on this machine)`);
  }
  if (left() < 60) fail(`tests, CPU only: skipped, only ${left().toFixed(0)} s of the budget left`);
  else await runTests("CPU only", others, left() - 15);
} else if (running) {
  record.push("- the CPU-only tests were not run here (--gpu-tests-only; CI runs them)");
}

// ---- the record ----------------------------------------------------------------------
const when = new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC";
const section = [
  `## ${when}: ${failed ? "FAILED" : "passed"}`,
  "",
  ...record,
  "",
  `Total ${elapsed().toFixed(0)} s.`,
  "",
].join("\n");
if (running && !Deno.args.includes("--no-record")) {
  appendRecord(section);
  say(`recorded in ${mdPath}`);
} else {
  say(
    `not recorded in ${mdPath}: ${running ? "--no-record" : "the CUDA backend did not run here"}`,
  );
}
const out = Deno.env.get("OUT");
if (out) {
  Deno.writeTextFileSync(`${out}/gpu_check.md`, section);
  Deno.writeTextFileSync(`${out}/gpu_check.log`, log.join("\n"));
  say(`also written to ${out}/gpu_check.md and ${out}/gpu_check.log`);
}
Deno.exit(failed ? 1 : 0);
