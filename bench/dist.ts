/**
 * `deno task bench:dist`: all-reduce time and bandwidth over bucket sizes
 * (2 ranks, over TCP and over shared memory), then the training step of the
 * small CNN and ResNet-50 with 1 and 2 ranks of one thread each (the same
 * batch per rank): scaling efficiency and the share of the step spent
 * waiting for the gradient all-reduces. Prints a Markdown section; with
 * `--out FILE` also appends it there (bench/RESULTS.md).
 *
 * Flags: --size N (image side, default 64), --batch N (per rank, default 4),
 * --steps N (timed steps, default 3), --models a,b (default simple,resnet50).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureMpi, mpirunArgs } from "../src/dist/setup.ts";
import { models } from "../mod.ts";

const USAGE = "deno task bench:dist [--size 64] [--batch 4] [--steps 3] " +
  "[--models simple,resnet50] [--out bench/RESULTS.md]";
// Strict: an unknown flag, or --help, must not start a long run.
const { values: flags } = (() => {
  try {
    return parseArgs({
      args: Deno.args,
      strict: true,
      options: {
        out: { type: "string", default: "" },
        size: { type: "string", default: "64" },
        batch: { type: "string", default: "4" },
        steps: { type: "string", default: "3" },
        models: { type: "string", default: "simple,resnet50" },
        help: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message}\nusage: ${USAGE}`);
    Deno.exit(2);
  }
})();
if (flags.help) {
  console.log(`usage: ${USAGE}\n(see the comment at the top of bench/dist.ts)`);
  Deno.exit(0);
}
ensureMpi();
const rankScript = new URL("./dist_rank.ts", import.meta.url).pathname;
const env = { NO_COLOR: "1", OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" };

type Row = Record<string, number | string>;

async function job(nproc: number, args: string[], tcp = true): Promise<Row[]> {
  const cmd = nproc === 0
    ? [Deno.execPath(), "run", "-A", rankScript, ...args]
    : ["mpirun", ...mpirunArgs(nproc, { tcp }), Deno.execPath(), "run", "-A", rankScript, ...args];
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return text.split("\n").filter((l) => l.startsWith("RESULT ")).map((l) => JSON.parse(l.slice(7)));
}

const cpu = new TextDecoder().decode(
  new Deno.Command("lscpu", { stdout: "piped" }).outputSync().stdout,
).match(/Model name:\s*(.+)/)?.[1] ?? "unknown CPU";
const mpi = new TextDecoder().decode(
  new Deno.Command("mpirun", { args: ["--version"], stdout: "piped" }).outputSync().stdout,
).split("\n")[0];
const lines: string[] = [];
const say = (l = "") => {
  lines.push(l);
  console.log(l);
};

say(`### ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC: bench:dist`);
say();
const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
say(
  `Machine: ${cpu}, ${navigator.hardwareConcurrency} cores (load average ${load} at the start: ` +
    `other jobs share them); ${mpi}; Deno ${Deno.version.deno}; 1 thread per rank`,
);
say();
say("All-reduce (average) of float32 buffers in place, 2 ranks, median call:");
say();
say("| bytes | TCP ms | TCP GB/s | shared memory ms | shared memory GB/s |");
say("|---:|---:|---:|---:|---:|");
const tcp = await job(2, ["bandwidth"], true);
const shm = await job(2, ["bandwidth"], false);
for (const [i, r] of tcp.entries()) {
  const bytes = r.bytes as number, s = shm[i];
  const gbs = (ms: number) => (bytes / (ms / 1000) / 1e9).toFixed(3);
  say(
    `| ${bytes} | ${(r.ms as number).toFixed(3)} | ${gbs(r.ms as number)} | ` +
      `${(s.ms as number).toFixed(3)} | ${gbs(s.ms as number)} |`,
  );
}
say();
say(
  `Training step (SGD), ${flags.batch} images of 1 x ${flags.size} x ${flags.size} per rank, ` +
    `median of ${flags.steps} steps; 2 ranks over TCP. Efficiency = images/s of 2 ranks / ` +
    "(2 x images/s of 1); wait = time at the end of backward waiting for all-reduces.",
);
say();
say(
  "| model | MB all-reduced per step | buckets | ranks | step ms | backward ms | wait ms | wait share | images/s | efficiency |",
);
say("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
const hide: string[] = [];
for (const model of flags.models.split(",")) {
  const args = ["step", model, flags.size, flags.batch, flags.steps];
  const one = (await job(0, args))[0];
  const two = (await job(2, args, true))[0];
  const num = (r: Row, k: string) => r[k] as number;
  const ips = (r: Row) => num(r, "world") * Number(flags.batch) / (num(r, "stepMs") / 1000);
  for (const r of [one, two]) {
    const cells = [
      model,
      (num(r, "bytesPerStep") / 1e6).toFixed(1),
      r.buckets,
      r.world,
      num(r, "stepMs").toFixed(1),
      num(r, "backwardMs").toFixed(1),
      num(r, "waitMs").toFixed(1),
      `${(100 * num(r, "waitMs") / num(r, "stepMs")).toFixed(0)}%`,
      ips(r).toFixed(1),
      r === two ? `${(100 * ips(two) / (2 * ips(one))).toFixed(0)}%` : "",
    ];
    say(`| ${cells.join(" | ")} |`);
  }
  const gbs = num(two, "bytesPerStep") / (num(one, "backwardMs") / 1000) / 1e9;
  hide.push(`${model} ${gbs.toFixed(2)} GB/s`);
}
say();
say(
  "Link speed at which the all-reduce of 2 ranks (a ring moves 2(N-1)/N = 1 x the bytes per " +
    `rank) fits in one rank's backward on this CPU: ${hide.join(", ")}.`,
);
say();
say(
  "Gradient bytes all-reduced per step for each zoo model (1 input channel, 3 classes, the " +
    "model's default image size); a ring all-reduce moves 2(N-1)/N of them in and out of each " +
    "rank, so communication hides behind backward when link bytes/s >= 2(N-1)/N x bytes / " +
    "backward seconds.",
);
say();
say("| model | parameters | MB per step | ring MB per rank, 8 ranks |");
say("|---|---:|---:|---:|");
for (const name of models.names()) {
  const m = models.create(name, { inChannels: 1, numClasses: 3 });
  const n = m.numParameters();
  m.dispose();
  await new Promise((r) => setTimeout(r, 0)); // the collector frees initialisation's temporaries
  say(`| ${name} | ${n} | ${(n * 4 / 1e6).toFixed(1)} | ${(2 * 7 / 8 * n * 4 / 1e6).toFixed(1)} |`);
}
say();
if (flags.out) {
  await Deno.writeTextFile(flags.out, "\n" + lines.join("\n") + "\n", { append: true });
}
