/**
 * `deno task experiment regularization [flags]`: runs an experiment's arms
 * and writes `experiment.html` and `results.md` into its folder.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { checkConfig, type TrainConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
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

const HELP = (base: TrainConfig) =>
  `deno task experiment NAME [flags]: trains every variant of an experiment on the same data with
one seed and compares them in <out>/experiment.html and <out>/results.md.

Experiments: ${Object.keys(EXPERIMENTS).join(", ")} (no regularisation, L2, dropout, L2 + dropout,
batch norm, ct augmentation)

  --data DIR        data folder (default: synthetic LiTS, realistic preset)
  --epochs N        epochs per variant (default: ${base.epochs})
  --image-size N    model input side (default: ${base.imageSize})
  --batch-size N    batch size (default: ${base.batchSize})
  --lr X            Adam learning rate (default: ${base.lr})
  --weight-decay X  Adam weight decay (L2) of the L2 arms (default: ${REGULARIZATION_STRENGTHS.weightDecay})
  --dropout P       dropout probability of the dropout arms (default: ${REGULARIZATION_STRENGTHS.dropout})
  --seed N          seed of every variant (default: ${base.seed})
  --workers N       loader worker threads (default: ${base.workers})
  --out DIR         experiment folder (default: runs/<name>-<date>-<time>)
  --help            show this help`;

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
}

/**
 * Parses `deno task experiment`'s arguments; bad ones throw a `UsageError`
 * naming the flag.
 */
export function parseExperimentArgs(args: readonly string[]): ParsedExperimentArgs {
  const base = experimentBase();
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: true,
      options: {
        data: { type: "string" },
        epochs: { type: "string" },
        "image-size": { type: "string" },
        "batch-size": { type: "string" },
        lr: { type: "string" },
        "weight-decay": { type: "string" },
        dropout: { type: "string" },
        seed: { type: "string" },
        workers: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]}; see --help`);
  }
  const { values: v, positionals } = parsed;
  const strengths = { ...REGULARIZATION_STRENGTHS };
  if (v.help) return { help: true, name: "", base, strengths };
  const name = positionals[0];
  if (positionals.length !== 1 || !Object.hasOwn(EXPERIMENTS, name)) {
    throw new UsageError(
      `give one experiment name: ${Object.keys(EXPERIMENTS).join(", ")} ` +
        `(got ${positionals.length ? positionals.join(" ") : "none"}); see --help`,
    );
  }
  const num = (flag: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === "" || Number.isNaN(n)) {
      throw new UsageError(`--${flag} ${JSON.stringify(raw)}: not a number`);
    }
    return n;
  };
  strengths.weightDecay = num("weight-decay", v["weight-decay"], strengths.weightDecay);
  strengths.dropout = num("dropout", v.dropout, strengths.dropout);
  // The arms' own checks (checkConfig) would name the arm; these name the flag.
  if (!(Number.isFinite(strengths.weightDecay) && strengths.weightDecay > 0)) {
    throw new UsageError(
      `--weight-decay ${v["weight-decay"]}: must be a number > 0 (the L2 arms' strength)`,
    );
  }
  if (!(strengths.dropout > 0 && strengths.dropout < 1)) {
    throw new UsageError(`--dropout ${v.dropout}: must be a probability in (0, 1)`);
  }
  const config = checkConfig({
    ...base,
    epochs: num("epochs", v.epochs, base.epochs),
    imageSize: num("image-size", v["image-size"], base.imageSize),
    batchSize: num("batch-size", v["batch-size"], base.batchSize),
    lr: num("lr", v.lr, base.lr),
    seed: num("seed", v.seed, base.seed),
    workers: num("workers", v.workers, base.workers),
  });
  return { help: false, name, base: config, strengths, out: v.out, data: v.data };
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
      console.log(HELP(p.base));
      return 0;
    }
    const out = resolve(p.out ?? defaultRunDir(p.name));
    const data = p.data ?? await defaultSyntheticData(console.log);
    const start = performance.now();
    const results = await runExperiment(
      EXPERIMENTS[p.name](p.strengths),
      { ...p.base, data },
      out,
      (line) => console.log(line),
    );
    const md = experimentMarkdown(p.name, results);
    await Deno.writeTextFile(join(out, "results.md"), md);
    await Deno.writeTextFile(join(out, "experiment.html"), await experimentHtml(p.name, results));
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
