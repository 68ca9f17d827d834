/**
 * `deno task train`'s command line: one table of flags (on `command.ts`,
 * like `evaluate` and `experiment`) drives the parser, the `--help` text and
 * the conversion to a checked `TrainConfig`, so the three cannot drift apart.
 *
 * @module
 */
import {
  checkConfig,
  checkResumeFlags,
  DEFAULTS,
  OPTIMIZERS,
  SCHEDULERS,
  type TrainConfig,
  WARMUP_METHODS,
} from "./config.ts";
import { Command, type FlagSpec } from "./command.ts";
import { SHARED_FLAGS as S } from "./flag_specs.ts";
import { UsageError } from "./errors.ts";
import { dropoutDefaultHelp } from "./dropout_help.ts";
import { isWindow } from "./intensity_window.ts";
import { GLOBAL_POOLS } from "../models/simple_cnn.ts";
import { canonicalName } from "../models/registry.ts";

/**
 * The flags of `deno task train`, in the order `--help` lists them. Each
 * sets the config key of its camel-cased name (`--batch-size`: `batchSize`).
 */
const FLAGS: Record<string, FlagSpec> = {
  data: S.data,
  model: S.model,
  weights: {
    kind: "string",
    value: "FILE",
    help: "pretrained weights to start from: torchvision's .pth, a .safetensors state dict, a " +
      "checkpoint dict, a run's best.safetensors; the first conv's RGB filters are summed to 1 " +
      "channel (timm's rule), a classifier of another class count stays at init; the file's path " +
      "and SHA-256 go to config.json",
    shownDefault: "none",
  },
  epochs: S.epochs,
  "batch-size": S["batch-size"],
  lr: S.lr,
  optimizer: { kind: "string", value: "NAME", help: OPTIMIZERS.join(", ") },
  "weight-decay": { ...S["weight-decay"], shownDefault: "0.5 with adamw, 0 with the others" },
  "norm-weight-decay": {
    kind: "number",
    help: "weight decay of the normalisation layers' parameters (torchvision's set_weight_decay)",
    shownDefault: "--weight-decay's",
  },
  "bias-weight-decay": {
    kind: "number",
    help: "weight decay of every bias, the norm layers' too (torchvision's set_weight_decay)",
    shownDefault: "--weight-decay's",
  },
  momentum: {
    kind: "number",
    help: "momentum of sgd and rmsprop (adam, adamw, nadam, radam: betas, not this); " +
      "rmsprop keeps torch's eps and alpha, not torchvision's recipe's 0.0316 and 0.9",
    shownDefault: "0.9 with sgd, 0 with rmsprop",
  },
  dropout: {
    ...S.dropout,
    shownDefault: dropoutDefaultHelp(),
  },
  "batch-norm": {
    kind: "boolean",
    negatable: true,
    help: "batch norm after each convolution (simple)",
    shownDefault: "on for simple",
  },
  "global-pool": {
    kind: "string",
    value: "NAME",
    choices: GLOBAL_POOLS,
    help: "pooling of the last feature map before the classifier: max, avg, none (simple)",
    shownDefault: "max for simple",
  },
  augment: {
    kind: "string",
    value: "LIST",
    help: "none, ct, or transform names (RandomAffine,RandomGamma,...)",
  },
  "input-window": {
    kind: "string",
    value: "LO,HI",
    help: "Hounsfield window the inputs are clipped to, then standardised (none: as they are)",
  },
  normalize: {
    kind: "boolean",
    negatable: true,
    help: "standardise inputs with the training split's mean and std",
  },
  scheduler: {
    kind: "string",
    value: "NAME",
    help: `${SCHEDULERS.join(", ")} (step: x0.1 at 1/3 and 2/3 of the epochs; plateau: x0.1 ` +
      "at the 3rd validation in a row without a lower val loss; onecycle: per step)",
  },
  "lr-warmup-epochs": {
    kind: "int",
    value: "N",
    help: "epochs of lr warm-up, then --scheduler over the rest (not with onecycle; 0: none)",
  },
  "lr-warmup-method": {
    kind: "string",
    value: "NAME",
    choices: WARMUP_METHODS,
    help: "linear (LinearLR from X*lr up to lr) or constant (ConstantLR: X*lr, then lr)",
  },
  "lr-warmup-decay": {
    kind: "number",
    help: "the warm-up's first factor X of the lr, in (0, 1]",
  },
  "early-stopping": {
    kind: "int",
    value: "PATIENCE",
    help: "stop after PATIENCE validations without a lower val loss; restore the best (0: off)",
  },
  "image-size": { ...S["image-size"], shownDefault: "0 (the data's own size)" },
  balanced: { kind: "boolean", negatable: true, help: "class-balanced sampling" },
  "label-smoothing": {
    kind: "number",
    help: "label smoothing of the training loss, in [0, 1] (validation loss stays plain)",
  },
  "mixup-alpha": {
    kind: "number",
    help: "MixUp on each training batch with Beta(X, X) (0: off); with --cutmix-alpha, " +
      "one of the two per batch",
  },
  "cutmix-alpha": {
    kind: "number",
    help: "CutMix on each training batch with Beta(X, X) (0: off)",
  },
  "clip-grad-norm": {
    kind: "number",
    help: "clip the gradients' total 2-norm to X before each optimizer step",
    shownDefault: "off",
  },
  "model-ema": {
    kind: "boolean",
    negatable: true,
    help: "keep an EMA of the weights, validated beside the model; best_ema.safetensors",
  },
  "model-ema-steps": {
    kind: "int",
    value: "N",
    help: "update the EMA every N optimizer steps of an epoch (the count restarts each epoch, " +
      "as torchvision's)",
  },
  "model-ema-decay": {
    kind: "number",
    help: "EMA decay per step, before torchvision's adjustment by batch size, N and epochs",
  },
  device: S.device,
  precision: S.precision,
  workers: S.workers,
  seed: S.seed,
  out: { ...S.out, shownDefault: "runs/<model>-<date>-<time>" },
  resume: {
    kind: "boolean",
    help: "continue the run in --out (or the newest in runs/) from its checkpoint",
  },
  "val-every": { kind: "int", help: "validate every N epochs" },
  "log-every": { kind: "int", help: "step line in metrics.jsonl every N steps" },
  nproc: {
    kind: "int",
    value: "N",
    help: "data-parallel processes (starts mpirun; --batch-size is the global batch)",
  },
  "sync-batch-norm": {
    kind: "boolean",
    negatable: true,
    help: "with --nproc: batch norm statistics over the global batch, not each process's",
  },
};

/** The config key a flag sets (`batch-size` -> `batchSize`). */
const keyOf = (flag: string) =>
  flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof TrainConfig;

/** `--help` shows each flag's default from `DEFAULTS`, where it needs no words. */
const COMMAND = new Command({
  usage:
    "deno task train [flags]: trains a CT slice classifier (0 no liver, 1 liver, 2 liver + lesion)\n" +
    "and writes a run folder: config.json, metrics.jsonl, best.safetensors, checkpoint.safetensors,\n" +
    "report.html; with --model-ema also best_ema.safetensors (the EMA's weights of its lowest\n" +
    "validation loss; best.safetensors stays the model's own).",
  flags: Object.fromEntries(
    Object.entries(FLAGS).map(([name, f]) => [
      name,
      name === "resume"
        ? f
        : { ...f, shownDefault: f.shownDefault ?? String(DEFAULTS[keyOf(name)]) },
    ]),
  ),
  footer:
    "Exit codes: 0 done, 1 error (bad data, bad checkpoint, write failure), 2 bad command line,\n" +
    "3 the loss became NaN or infinite.",
});

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
  const parsed = COMMAND.parse(args);
  if (parsed.help) {
    return { config: { ...DEFAULTS }, resume: false, help: true, given: new Set() };
  }
  const config = { ...DEFAULTS } as Record<string, unknown>;
  const given = new Set<keyof TrainConfig>();
  for (const name of parsed.given) {
    if (name === "resume") continue;
    const value = parsed.values[name];
    config[keyOf(name)] = name === "input-window" ? windowFlag(String(value)) : value;
    given.add(keyOf(name));
  }
  // Batch norm is a default of the simple model only: the others have their own or none.
  const simple = (canonicalName(String(config.model)) ?? String(config.model)) === "simple";
  if (!given.has("batchNorm") && !simple) config.batchNorm = false;
  if (!given.has("globalPool") && !simple) config.globalPool = "none";
  // 0.5 is a decoupled decay (AdamW's); as Adam's or SGD's L2 penalty it is
  // another, far stronger, regulariser: theirs defaults to 0, as in torch.
  if (!given.has("weightDecay") && String(config.optimizer).toLowerCase() !== "adamw") {
    config.weightDecay = 0;
  }
  // config.json says which momentum ran: SGD's has been 0.9 here, RMSprop's torch's 0.
  const optimizer = String(config.optimizer).toLowerCase();
  if (!given.has("momentum") && (optimizer === "sgd" || optimizer === "rmsprop")) {
    config.momentum = optimizer === "sgd" ? 0.9 : 0;
  }
  const resume = parsed.values.resume === true;
  if (!resume) checkCompanions(config as unknown as TrainConfig, given);
  // A resumed run's other flags are in its config.json: resumeConfig checks the whole.
  const check = resume ? checkResumeFlags : checkConfig;
  return {
    config: check(config as unknown as TrainConfig),
    resume,
    help: false,
    given,
  };
}

/**
 * Refuses a flag given without the one it acts with, even at its default
 * value (`--model-ema-steps 32` without `--model-ema` would train with no
 * EMA: torchvision ignores it silently).
 */
function checkCompanions(c: TrainConfig, given: Set<keyof TrainConfig>): void {
  const pairs: [keyof TrainConfig, string, boolean, string][] = [
    ["lrWarmupMethod", "lr-warmup-method", c.lrWarmupEpochs > 0, "--lr-warmup-epochs N"],
    ["lrWarmupDecay", "lr-warmup-decay", c.lrWarmupEpochs > 0, "--lr-warmup-epochs N"],
    ["modelEmaSteps", "model-ema-steps", c.modelEma, "--model-ema"],
    ["modelEmaDecay", "model-ema-decay", c.modelEma, "--model-ema"],
  ];
  for (const [key, flag, active, needs] of pairs) {
    if (given.has(key) && !active) {
      throw new UsageError(
        `--${flag} ${JSON.stringify(c[key])}: acts only with ${needs}; give it too, or leave ` +
          "this flag out",
      );
    }
  }
}

/** `--input-window 0,150` as [0, 150]; `none` as null. */
function windowFlag(raw: string): [number, number] | null {
  if (raw.trim() === "none") return null;
  const parts = raw.split(",").map((p) => p.trim());
  const w = parts.map(Number);
  if (parts.length !== 2 || parts.some((p) => p === "") || !isWindow(w)) {
    throw new UsageError(
      `--input-window ${JSON.stringify(raw)}: give LO,HI in Hounsfield units with LO < HI ` +
        `(e.g. 0,150), or none`,
    );
  }
  return [w[0], w[1]];
}

/** The flag name of a config key (`batchSize` -> `batch-size`). */
export function flagName(key: keyof TrainConfig): string {
  return Object.keys(FLAGS).find((name) => keyOf(name) === key) ?? key;
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
  return COMMAND.help();
}
