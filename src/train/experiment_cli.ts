/**
 * `deno task experiment regularization [flags]`: runs an experiment's arms
 * and writes `experiment.html` and `results.md` into its folder.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { checkConfig, type TrainConfig } from "./config.ts";
import {
  experimentBase,
  EXPERIMENTS,
  REGULARIZATION_STRENGTHS,
  type RegularizationStrengths,
  runExperiment,
} from "./experiment.ts";
import { experimentHtml, experimentMarkdown } from "./experiment_page.ts";
import { reportError } from "./cli.ts";
import { defaultSyntheticData } from "./data.ts";
import { defaultRunDir } from "./run_folder.ts";
import { Command } from "./command.ts";
import { SHARED_FLAGS as S } from "./flag_specs.ts";
import { checkPrecision } from "./precision.ts";
import { UsageError } from "./errors.ts";
import { resolveDevice } from "./session.ts";
import { writeFileAtomic } from "./atomic.ts";

const BASE = experimentBase();
const STRENGTHS = REGULARIZATION_STRENGTHS;

/** The flags' defaults are the base's and the course's strengths. */
const COMMAND = new Command({
  usage:
    `deno task experiment NAME [flags]: trains every variant of an experiment on the same data with
one seed and compares them in <out>/experiment.html and <out>/results.md.

Experiments: ${Object.keys(EXPERIMENTS).join(", ")} (no regularisation, L2, dropout, L2 + dropout,
batch norm, ct augmentation)`,
  positional: { what: "experiment name", choices: Object.keys(EXPERIMENTS) },
  flags: {
    data: { ...S.data, help: "data folder", shownDefault: "synthetic LiTS, realistic preset" },
    epochs: { ...S.epochs, help: "epochs per variant", default: BASE.epochs },
    "image-size": { ...S["image-size"], help: "model input side", default: BASE.imageSize },
    "batch-size": { ...S["batch-size"], help: "batch size", default: BASE.batchSize },
    lr: { ...S.lr, help: "Adam learning rate", default: BASE.lr },
    // The arms' own checks (checkConfig) would name the arm; these name the flag.
    "weight-decay": {
      ...S["weight-decay"],
      help: "Adam weight decay (L2) of the L2 arms",
      default: STRENGTHS.weightDecay,
      check: (v) =>
        Number.isFinite(v) && v > 0 ? null : "must be a number > 0 (the L2 arms' strength)",
    },
    dropout: {
      ...S.dropout,
      value: "P",
      help: "dropout probability of the dropout arms",
      default: STRENGTHS.dropout,
      check: (v) => v > 0 && v < 1 ? null : "must be a probability in (0, 1)",
    },
    seed: { ...S.seed, help: "seed of every variant", default: BASE.seed },
    workers: { ...S.workers, help: "loader worker threads", default: BASE.workers },
    precision: { ...S.precision, help: "precision of every variant", default: BASE.precision },
    out: { ...S.out, help: "experiment folder", shownDefault: "runs/<name>-<date>-<time>" },
    resume: {
      kind: "boolean",
      help: "continue the interrupted experiment in --out (each arm from its checkpoint)",
    },
  },
});

/** What `deno task experiment`'s command line asks for. */
export interface ParsedExperimentArgs {
  /** `--help` was given (the rest is then unchecked). */
  help: boolean;
  /** The experiment's name. */
  name: string;
  /** The base configuration every arm starts from (checked). */
  base: TrainConfig;
  /** The regulariser strengths of the arms. */
  strengths: RegularizationStrengths;
  /** `--out`, if given. */
  out?: string;
  /** `--data`, if given. */
  data?: string;
  /** `--resume`: continue the experiment in `out`. */
  resume: boolean;
}

/**
 * Parses `deno task experiment`'s arguments; bad ones throw a `UsageError`
 * naming the flag.
 */
export function parseExperimentArgs(args: readonly string[]): ParsedExperimentArgs {
  const p = COMMAND.parse(args);
  if (p.help) {
    return { help: true, name: "", base: BASE, strengths: { ...STRENGTHS }, resume: false };
  }
  const v = p.values as Record<string, number> & {
    out?: string;
    data?: string;
    precision: TrainConfig["precision"];
    resume?: boolean;
  };
  if (v.resume && v.out === undefined) {
    throw new UsageError("--resume needs the experiment's folder: --resume --out DIR");
  }
  const base = checkConfig({
    ...BASE,
    epochs: v.epochs,
    imageSize: v["image-size"],
    batchSize: v["batch-size"],
    lr: v.lr,
    seed: v.seed,
    workers: v.workers,
    precision: v.precision,
  });
  return {
    help: false,
    name: p.positional!,
    base,
    strengths: { weightDecay: v["weight-decay"], dropout: v.dropout },
    out: v.out,
    data: v.data,
    resume: v.resume ?? false,
  };
}

/**
 * Runs `deno task experiment` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(await train.experimentMain(["nonsense"])); // 2
 * ```
 */
export async function experimentMain(args: readonly string[]): Promise<number> {
  try {
    const p = parseExperimentArgs(args);
    if (p.help) {
      console.log(COMMAND.help());
      return 0;
    }
    // Before any folder or data is made: every variant would refuse it.
    checkPrecision(p.base.precision, resolveDevice(p.base.device));
    const out = resolve(p.out ?? defaultRunDir(p.name));
    const data = p.data ?? await defaultSyntheticData(console.log);
    const start = performance.now();
    const results = await runExperiment(
      EXPERIMENTS[p.name](p.strengths),
      { ...p.base, data },
      out,
      (line) => console.log(line),
      { resume: p.resume },
    );
    const md = experimentMarkdown(p.name, results);
    const enc = new TextEncoder();
    await writeFileAtomic(join(out, "results.md"), enc.encode(md));
    await writeFileAtomic(
      join(out, "experiment.html"),
      enc.encode(await experimentHtml(p.name, results)),
    );
    console.log(`\n${md.split("## Per epoch")[0].trim()}`);
    console.log(
      `\nwrote ${join(out, "experiment.html")} and ${join(out, "results.md")} ` +
        `(${((performance.now() - start) / 60000).toFixed(1)} min)`,
    );
    return 0;
  } catch (e) {
    return reportError(e);
  }
}
