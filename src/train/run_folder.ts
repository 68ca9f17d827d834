/**
 * The run folder and its files:
 *
 * ```
 * runs/simple-20250101-120000/
 *   config.json              the resolved configuration
 *   metrics.jsonl            one JSON line per N steps, per epoch, and the test result
 *   checkpoint.safetensors   full state after the latest epoch (resume from it)
 *   best.safetensors         model weights with the lowest validation loss
 *   best_ema.safetensors     with --model-ema: the EMA's weights with its lowest validation loss
 *   report.html              evaluation on the test split
 * ```
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import type { TrainConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { faultAt } from "./faults.ts";
import { toJson } from "./checkpoint.ts";

/** The paths of one run's files. */
export interface RunPaths {
  /** The folder. */
  dir: string;
  /** Resolved configuration. */
  config: string;
  /** Metrics log. */
  metrics: string;
  /** Full checkpoint. */
  checkpoint: string;
  /** Best weights. */
  best: string;
  /** The model EMA's best weights (`--model-ema`). */
  bestEma: string;
  /** HTML report. */
  report: string;
}

/** The file paths inside run folder `dir`. */
export function runPaths(dir: string): RunPaths {
  const abs = resolve(dir);
  return {
    dir: abs,
    config: join(abs, "config.json"),
    metrics: join(abs, "metrics.jsonl"),
    checkpoint: join(abs, "checkpoint.safetensors"),
    best: join(abs, "best.safetensors"),
    bestEma: join(abs, "best_ema.safetensors"),
    report: join(abs, "report.html"),
  };
}

/** The folder a new run writes to when `--out` is not given. */
export function defaultRunDir(model: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-` +
    `${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join("runs", `${model}-${stamp}`);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The most recently changed run folder under `runs/` that has a config.json. */
export function latestRun(root = "runs"): string | null {
  let best: { dir: string; time: number } | null = null;
  try {
    for (const entry of Deno.readDirSync(root)) {
      if (!entry.isDirectory) continue;
      const config = join(root, entry.name, "config.json");
      if (!exists(config)) continue;
      const time = Deno.statSync(config).mtime?.getTime() ?? 0;
      if (!best || time > best.time) best = { dir: join(root, entry.name), time };
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return best?.dir ?? null;
}

/**
 * Prepares the folder of a new run: refuses one that already holds a run
 * (so a typo cannot overwrite hours of training), then writes config.json.
 */
export async function createRun(config: TrainConfig): Promise<RunPaths> {
  const paths = runPaths(config.out);
  if (config.out === "") throw new UsageError("--out needs a folder");
  if (exists(paths.dir) && !Deno.statSync(paths.dir).isDirectory) {
    throw new UsageError(`--out ${config.out} is a file; a run needs a folder`);
  }
  if (exists(paths.config) || exists(paths.checkpoint)) {
    throw new UsageError(
      `${paths.dir} already holds a run; continue it with --resume --out ${config.out}, ` +
        `or choose another --out`,
    );
  }
  // Files of the names a run writes, without a run: the user's own, which
  // the run would overwrite (a report, weights kept from elsewhere).
  const taken = [paths.metrics, paths.best, paths.bestEma, paths.report].filter(exists);
  if (taken.length > 0) {
    throw new UsageError(
      `--out ${config.out} holds ${taken.map((p) => basename(p)).join(", ")}, which a run ` +
        "would overwrite; choose another --out",
    );
  }
  await Deno.mkdir(paths.dir, { recursive: true });
  await writeFileAtomic(paths.config, new TextEncoder().encode(toJson(config, 2) + "\n"));
  await Deno.writeTextFile(paths.metrics, "");
  return paths;
}

/** Reads a run's config.json. */
export async function readRunConfig(paths: RunPaths): Promise<TrainConfig> {
  try {
    return JSON.parse(await Deno.readTextFile(paths.config)) as TrainConfig;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`${paths.dir} is not a run folder (no config.json) to --resume`);
    }
    throw new Error(`${paths.config}: unreadable: ${(e as Error).message}`);
  }
}

/** One line of metrics.jsonl. */
export type MetricsRecord =
  & { type: "step" | "epoch" | "ema" | "test" | "ema_test" | "stop"; epoch: number }
  & Record<string, unknown>;

/**
 * Appends JSON lines to metrics.jsonl, in order. On resume, lines of epochs
 * after the checkpoint (written before the process died) are dropped first,
 * so the file reads as one uninterrupted run.
 *
 * `append` queues a line without waiting (the step lines, written from
 * inside an epoch); a failed append (a full disk) is kept and thrown by the
 * next `write` or `flush`, naming the file, never left as an unhandled
 * rejection, and nothing is appended after it.
 */
export class MetricsLog {
  #tail: Promise<void> = Promise.resolve();
  #error: Error | null = null;
  #appends = 0;

  constructor(readonly path: string) {}

  /** Keeps the lines of epochs <= `epoch` (step lines of later epochs go too). */
  async truncateAfter(epoch: number): Promise<void> {
    await this.flush();
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    const kept = text.split("\n").filter((line) => {
      if (line.trim() === "") return false;
      try {
        const r = JSON.parse(line) as MetricsRecord;
        return r.epoch <= epoch && r.type !== "test" && r.type !== "ema_test" &&
          r.type !== "stop";
      } catch {
        return false; // a line cut short by the kill
      }
    });
    await writeFileAtomic(this.path, new TextEncoder().encode(kept.map((l) => l + "\n").join("")));
  }

  /** Queues one record after those before it. */
  append(record: MetricsRecord): void {
    const line = toJson(record) + "\n";
    this.#tail = this.#tail.then(async () => {
      if (this.#error) return;
      try {
        if (faultAt("metrics-write") === ++this.#appends) {
          throw new Error("No space left on device (os error 28) [injected by LITS_TRAIN_FAULT]");
        }
        await Deno.writeTextFile(this.path, line, { append: true });
      } catch (e) {
        this.#error = new Error(`cannot append to ${this.path}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    });
  }

  /** Waits for the queued records; throws the first failed append. */
  async flush(): Promise<void> {
    await this.#tail;
    if (this.#error) throw this.#error;
  }

  /** Appends one record and waits for it (and all before it). */
  async write(record: MetricsRecord): Promise<void> {
    this.append(record);
    await this.flush();
  }
}
