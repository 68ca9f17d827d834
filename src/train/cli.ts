/**
 * `deno task train`: command line to `fit`, and every failure to a message
 * and an exit code (2 bad command line, 3 diverged, 1 anything else).
 *
 * @module
 */
import { checkConfig, DEFAULTS, type TrainConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
import { flagName, parseTrainArgs, trainHelp } from "./flags.ts";
import { fit } from "./trainer.ts";
import { RESUMABLE } from "./resume.ts";
import { progressBar } from "./progress.ts";
import { defaultRunDir, latestRun, readRunConfig, runPaths } from "./run_folder.ts";
import { CLASS_NAMES } from "./setup.ts";
import { resolve } from "node:path";
import { joinRunGroup, launchRanks, leaveRunGroup, rankBatchSize } from "./distributed.ts";
import { launchedByMpi, launcherRank } from "../dist/process_group.ts";

/**
 * The configuration of `--resume`: the run folder's config.json, with only
 * the flags that cannot change the result allowed to differ.
 */
export async function resumeConfig(
  config: TrainConfig,
  given: Set<keyof TrainConfig>,
): Promise<TrainConfig> {
  const dir = given.has("out") ? config.out : latestRun();
  if (!dir) {
    throw new UsageError("--resume: no run found in runs/; give the run folder with --out DIR");
  }
  const paths = runPaths(dir);
  const saved = await readRunConfig(paths);
  for (const key of given) {
    if (RESUMABLE.has(key)) continue;
    const path = key === "data" || key === "weights" ? config[key] : null;
    const mine = path ? resolve(path) : config[key];
    if (JSON.stringify(mine) !== JSON.stringify(saved[key])) {
      throw new UsageError(
        `--resume continues ${dir} with its own configuration: --${flagName(key)} ` +
          `${JSON.stringify(config[key])} differs from the run's ${JSON.stringify(saved[key])}`,
      );
    }
  }
  // A key newer than the run takes the value that behaves as before it existed, not today's default.
  const before: Partial<TrainConfig> = { inputWindow: null, globalPool: "none", precision: "fp32" };
  const out: TrainConfig = { ...DEFAULTS, ...before, ...saved, out: dir };
  for (const key of RESUMABLE) {
    if (given.has(key)) (out as unknown as Record<string, unknown>)[key] = config[key];
  }
  try {
    return checkConfig(out); // a hand-edited config.json is checked as the flags are
  } catch (e) {
    throw new UsageError(`${paths.config}: ${(e as Error).message}`);
  }
}

/** Prints an error as the commands do; returns its exit code. */
export function reportError(e: unknown): number {
  const err = e as Error & { exitCode?: number };
  const debug = (() => {
    try {
      return Deno.env.get("LITS_DEBUG") !== undefined;
    } catch {
      return false;
    }
  })();
  console.error(`error: ${err?.message ?? String(e)}`);
  if (debug || !(err instanceof Error)) console.error(err?.stack ?? "");
  return typeof err?.exitCode === "number" ? err.exitCode : 1;
}

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m} min ${(seconds - 60 * m).toFixed(0)} s` : `${seconds.toFixed(1)} s`;
}

/**
 * Runs `deno task train` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(await train.trainMain(["--lr", "-1"])); // 2 (after "error: --lr -1: must be a number > 0")
 * ```
 */
export async function trainMain(args: readonly string[]): Promise<number> {
  const start = performance.now();
  try {
    const parsed = parseTrainArgs(args);
    if (parsed.help) {
      console.log(trainHelp());
      return 0;
    }
    let config = parsed.config;
    if (parsed.resume) config = await resumeConfig(config, parsed.given);
    else if (!config.out) config = { ...config, out: defaultRunDir(config.model) };
    // --nproc N: this process starts N ranks with mpirun (each runs this command) and waits.
    if (config.nproc > 1 && !launchedByMpi()) {
      rankBatchSize({ rank: 0, world: config.nproc, writer: true }, config.batchSize); // before any start
      return await launchRanks(args, config.nproc, config.out);
    }
    const group = joinRunGroup(config.nproc);
    if (!group.writer) {
      await fit(config, { resume: parsed.resume });
      leaveRunGroup(group);
      return 0;
    }
    const result = await fit(config, {
      resume: parsed.resume,
      log: (line) => console.log(line),
      progress: progressBar(),
    });
    leaveRunGroup(group);
    const t = result.test;
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    // Which weights: best.safetensors (what evaluate reads) holds the best epoch's.
    const tested = result.testedEpoch === result.bestEpoch || result.bestEpoch === 0
      ? `epoch ${result.testedEpoch}`
      : `epoch ${result.testedEpoch}, the last; best.safetensors is epoch ${result.bestEpoch}'s`;
    console.log(
      `test (weights of ${tested}): accuracy ${pct(t.accuracy)}  macro-F1 ${
        t.macroF1.toFixed(3)
      }  ` +
        `balanced accuracy ${pct(t.balancedAccuracy)}  macro ROC AUC ${t.macroAuc.toFixed(3)}  ` +
        `loss ${t.loss.toFixed(4)}`,
    );
    console.log(
      `F1 per class: ${CLASS_NAMES.map((n, i) => `${n} ${t.f1[i].toFixed(3)}`).join(", ")}`,
    );
    const e = result.emaTest;
    if (e) {
      // best_ema.safetensors (evaluate reads it too) holds the EMA of its best epoch.
      const at = result.bestEmaEpoch === result.history.at(-1)?.epoch || result.bestEmaEpoch === 0
        ? "the last epoch"
        : `the last epoch; best_ema.safetensors is epoch ${result.bestEmaEpoch}'s`;
      console.log(
        `test of the model EMA (after ${at}): accuracy ${pct(e.accuracy)}  macro-F1 ` +
          `${e.macroF1.toFixed(3)}  balanced accuracy ${pct(e.balancedAccuracy)}  ` +
          `macro ROC AUC ${e.macroAuc.toFixed(3)}  loss ${e.loss.toFixed(4)}`,
      );
    }
    console.log(
      `run folder: ${result.paths.dir} (report.html, best.safetensors from epoch ${result.bestEpoch}, ` +
        (e ? `best_ema.safetensors (the EMA) from epoch ${result.bestEmaEpoch}, ` : "") +
        `checkpoint.safetensors, metrics.jsonl, config.json)`,
    );
    console.log(`total time ${duration((performance.now() - start) / 1000)}`);
    return 0;
  } catch (e) {
    // Under mpirun every rank prints to the same terminal: say which one failed.
    if (launchedByMpi() && e instanceof Error) e.message = `rank ${launcherRank()}: ${e.message}`;
    return reportError(e);
  }
}
