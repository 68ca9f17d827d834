/**
 * `deno task train`'s command line: one table of flags drives the parser
 * (`node:util` parseArgs, strict), the `--help` text and the conversion to
 * a checked `TrainConfig`, so the three cannot drift apart.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  checkConfig,
  DEFAULTS,
  DEVICES,
  MODEL_NAMES,
  OPTIMIZERS,
  SCHEDULERS,
  type TrainConfig,
} from "./config.ts";
import { UsageError } from "./errors.ts";

type Kind = "string" | "int" | "number" | "boolean";

/** One flag: its config key, value kind and help line. */
interface Flag {
  key: keyof TrainConfig | "resume" | "help";
  kind: Kind;
  help: string;
  /** Shown as the default when the config's default needs words. */
  shownDefault?: string;
}

/** The flags of `deno task train`, in the order `--help` lists them. */
const FLAGS: Record<string, Flag> = {
  data: {
    key: "data",
    kind: "string",
    help: "Clean_LiTS layout: train/ val/ test/ + <split>_classes.csv",
    shownDefault: "synthetic LiTS, realistic preset, made once in the cache folder",
  },
  model: { key: "model", kind: "string", help: MODEL_NAMES.join(", ") },
  epochs: { key: "epochs", kind: "int", help: "epochs to train" },
  "batch-size": { key: "batchSize", kind: "int", help: "training batch size" },
  lr: { key: "lr", kind: "number", help: "learning rate (peak rate for onecycle)" },
  optimizer: { key: "optimizer", kind: "string", help: OPTIMIZERS.join(", ") },
  "weight-decay": {
    key: "weightDecay",
    kind: "number",
    help: "L2 penalty (adam, sgd) or decoupled weight decay (adamw)",
  },
  dropout: {
    key: "dropout",
    kind: "number",
    help: "dropout before the last layer (simple, alexnet)",
    shownDefault: "the model's own (0.5)",
  },
  "batch-norm": {
    key: "batchNorm",
    kind: "boolean",
    help: "batch norm after each convolution (simple)",
    shownDefault: "on for simple",
  },
  augment: {
    key: "augment",
    kind: "string",
    help: "none, ct, or transform names (RandomAffine,RandomGamma,...)",
  },
  normalize: {
    key: "normalize",
    kind: "boolean",
    help: "standardise inputs with the training split's mean and std",
  },
  scheduler: { key: "scheduler", kind: "string", help: SCHEDULERS.join(", ") },
  "early-stopping": {
    key: "earlyStopping",
    kind: "int",
    help: "stop after PATIENCE validations without a lower val loss; restore the best (0: off)",
  },
  "image-size": {
    key: "imageSize",
    kind: "int",
    help: "side of the model input; images are resized to it",
    shownDefault: "0 (the data's own size)",
  },
  balanced: { key: "balanced", kind: "boolean", help: "class-balanced sampling" },
  device: { key: "device", kind: "string", help: DEVICES.join(", ") },
  workers: { key: "workers", kind: "int", help: "data loader worker threads (0: main thread)" },
  seed: { key: "seed", kind: "int", help: "seed of init, dropout, shuffling, augmentation" },
  out: {
    key: "out",
    kind: "string",
    help: "run folder",
    shownDefault: "runs/<model>-<date>-<time>",
  },
  resume: {
    key: "resume",
    kind: "boolean",
    help: "continue the run in --out (or the newest in runs/) from its checkpoint",
  },
  "val-every": { key: "valEvery", kind: "int", help: "validate every N epochs" },
  "log-every": { key: "logEvery", kind: "int", help: "step line in metrics.jsonl every N steps" },
  help: { key: "help", kind: "boolean", help: "show this help" },
};

/** The value's name in `--help` (default: N for integers, X for numbers). */
const PLACEHOLDERS: Record<string, string> = {
  data: "DIR",
  out: "DIR",
  model: "NAME",
  optimizer: "NAME",
  scheduler: "NAME",
  device: "NAME",
  augment: "LIST",
  "early-stopping": "PATIENCE",
};

/** What the command line asks for. */
export interface ParsedTrainArgs {
  /** The checked configuration (defaults filled in). */
  config: TrainConfig;
  /** `--resume` was given. */
  resume: boolean;
  /** `--help` was given. */
  help: boolean;
  /** Config keys set on the command line (the rest are defaults). */
  given: Set<keyof TrainConfig>;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]++;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

function unknownFlag(arg: string): UsageError {
  const name = arg.replace(/^-+/, "").split("=")[0];
  const near = Object.keys(FLAGS).filter((f) => distance(f, name) <= 2);
  const hint = near.length > 0 ? ` (did you mean --${near[0]}?)` : "";
  return new UsageError(`unknown flag ${arg.split("=")[0]}${hint}; see --help`);
}

/**
 * A negative number after a value flag (`--lr -1`) is its value: parseArgs
 * would call it ambiguous, and the range check then says what is wrong.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = FLAGS[args[i].replace(/^--/, "")];
    if (
      args[i].startsWith("--") && flag && flag.kind !== "boolean" && i + 1 < args.length &&
      /^-(\d|\.\d|inf|nan)/i.test(args[i + 1])
    ) {
      out.push(`${args[i]}=${args[++i]}`);
    } else out.push(args[i]);
  }
  return out;
}

function convert(name: string, kind: Kind, raw: string): number | string {
  if (kind === "string") return raw;
  const v = Number(raw);
  if (raw.trim() === "" || Number.isNaN(v)) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)}: not a number`);
  }
  if (kind === "int" && !Number.isInteger(v)) {
    throw new UsageError(`--${name} ${JSON.stringify(raw)}: must be an integer`);
  }
  return v;
}

/**
 * Parses `deno task train`'s arguments into a checked configuration. Unknown
 * flags, missing values and bad values throw a `UsageError` that names the
 * flag (the command exits with code 2).
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const { config, given } = train.parseTrainArgs(["--epochs", "3", "--optimizer", "sgd"]);
 * console.log(config.epochs, config.optimizer, [...given]); // 3 "sgd" ["epochs", "optimizer"]
 * ```
 */
export function parseTrainArgs(args: readonly string[]): ParsedTrainArgs {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map(([name, f]) => [
      name,
      { type: f.kind === "boolean" ? "boolean" as const : "string" as const },
    ]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(args),
      options,
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    }));
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw unknownFlag(err.message.match(/'([^']+)'/)?.[1] ?? "?");
    }
    if (err.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
      throw new UsageError(`${err.message.split(".")[0]}; flags take the form --name value`);
    }
    throw new UsageError(err.message.split("\n")[0]);
  }
  const config = { ...DEFAULTS } as Record<string, unknown>;
  const given = new Set<keyof TrainConfig>();
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const flag = FLAGS[name];
    if (flag.key === "resume" || flag.key === "help") continue;
    config[flag.key] = typeof v === "boolean" ? v : convert(name, flag.kind, v);
    given.add(flag.key);
  }
  // Batch norm is a default of the simple model only: the others have their own or none.
  if (!given.has("batchNorm") && String(config.model).toLowerCase() !== "simple") {
    config.batchNorm = false;
  }
  return {
    config: values.help
      ? config as unknown as TrainConfig
      : checkConfig(config as unknown as TrainConfig),
    resume: values.resume === true,
    help: values.help === true,
    given,
  };
}

/** The flag name of a config key (`batchSize` -> `batch-size`). */
export function flagName(key: keyof TrainConfig): string {
  return Object.entries(FLAGS).find(([, f]) => f.key === key)?.[0] ?? key;
}

/**
 * The `--help` text: every flag with its default.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(train.trainHelp().includes("--early-stopping")); // true
 * ```
 */
export function trainHelp(): string {
  const lines = Object.entries(FLAGS).map(([name, f]) => {
    const value = f.kind === "boolean"
      ? ""
      : ` ${PLACEHOLDERS[name] ?? (f.kind === "int" ? "N" : "X")}`;
    const head = `  ${
      f.kind === "boolean" && f.key !== "help" && f.key !== "resume" ? "--[no-]" : "--"
    }${name}${value}`;
    const def = f.key === "help" || f.key === "resume"
      ? ""
      : ` (default: ${f.shownDefault ?? String(DEFAULTS[f.key as keyof TrainConfig])})`;
    return `${head.padEnd(28)} ${f.help}${def}`;
  });
  return [
    "deno task train [flags]: trains a CT slice classifier (0 no liver, 1 liver, 2 liver + lesion)",
    "and writes a run folder: config.json, metrics.jsonl, best.safetensors, checkpoint.safetensors,",
    "report.html.",
    "",
    ...lines,
    "",
    "Exit codes: 0 done, 1 error (bad data, bad checkpoint, write failure), 2 bad command line,",
    "3 the loss became NaN or infinite.",
  ].join("\n");
}
