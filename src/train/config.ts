/**
 * The training configuration: every knob of a run as one plain object, with
 * the defaults `deno task train` uses and the checks that turn a bad value
 * into a message naming the flag. The resolved object is what `config.json`
 * in the run folder holds, so a run can be repeated or resumed from it.
 *
 * @module
 */
import { UsageError } from "./errors.ts";
import { augmentSpecs } from "./augment.ts";
import { checkOptions } from "../options.ts";
import { isWindow } from "./intensity_window.ts";
import {
  canonicalName,
  imageSizeMultiple,
  minImageSize,
  names,
  takesOption,
  trainSizeRule,
} from "../models/registry.ts";
import { GLOBAL_POOLS, type GlobalPool } from "../models/simple_cnn.ts";

/** Optimizers `--optimizer` accepts. */
export const OPTIMIZERS = ["adam", "adamw", "sgd", "rmsprop", "nadam", "radam"] as const;
/** The most data loader workers a run takes (threads, each with its own data pipeline). */
export const MAX_WORKERS = 64;

/** Schedules `--scheduler` accepts. */
export const SCHEDULERS = ["none", "step", "cosine", "plateau", "onecycle"] as const;
/** Precisions `--precision` accepts: fp32, or bf16 autocast (`autocast("bfloat16", ...)`). */
export const PRECISIONS = ["fp32", "bf16"] as const;
/** Warm-up methods `--lr-warmup-method` accepts (torchvision's `LinearLR` / `ConstantLR`). */
export const WARMUP_METHODS = ["linear", "constant"] as const;
/** Optimizers that have no momentum (their betas play its part). */
const BETA_OPTIMIZERS: readonly string[] = ["adam", "adamw", "nadam", "radam"];
/** Devices `--device` accepts. */
export const DEVICES = ["auto", "cpu", "cuda"] as const;
/** The model names `--model` accepts: the registry's (`models.names()`). */
export const MODEL_NAMES: readonly string[] = names();

/** Everything that defines a training run. */
export interface TrainConfig {
  /** Data folder in the Clean_LiTS layout; null: synthetic LiTS in the cache folder. */
  data: string | null;
  /** Model name (see `models.names()`). */
  model: string;
  /** Epochs to train. */
  epochs: number;
  /** Samples per training batch. */
  batchSize: number;
  /** Learning rate (the peak rate for onecycle). */
  lr: number;
  /**
   * "adam", "adamw", "sgd" (SGD with momentum 0.9), "rmsprop", "nadam" or
   * "radam" (torch 1.13's defaults besides lr and weight decay).
   */
  optimizer: (typeof OPTIMIZERS)[number];
  /** L2 penalty (adam, sgd) or decoupled decay (adamw). */
  weightDecay: number;
  /** Dropout probability of a model that has dropout (where it acts: --help); null: its own. */
  dropout: number | null;
  /** Batch norm after each convolution (simple). */
  batchNorm: boolean;
  /** Global pooling of the last feature map before the classifier (simple): "max", "avg" or "none". */
  globalPool: GlobalPool;
  /** Training augmentation: "none", "ct", or a comma list of transform names. */
  augment: string;
  /**
   * Hounsfield window [low, high] the inputs are clipped to and rescaled to
   * [0, 1] by, before standardisation (MONAI's `ScaleIntensityRange` with
   * `clip`); null: the images as they are. Read against the HU range the
   * data's PNGs span (`dataWindow`).
   */
  inputWindow: [number, number] | null;
  /** Standardise inputs with the training split's mean and std (torchvision's Normalize). */
  normalize: boolean;
  /** LR schedule. */
  scheduler: (typeof SCHEDULERS)[number];
  /** Stop after this many validations without a lower validation loss (0: never). */
  earlyStopping: number;
  /** Side of the square model input; images are resized to it. 0: the data's own size. */
  imageSize: number;
  /** Draw every class equally often (class-balanced sampling with replacement). */
  balanced: boolean;
  /**
   * Label smoothing of the training loss, in [0, 1] (`CrossEntropyLoss`'s
   * `labelSmoothing`; validation and test losses stay plain cross-entropy).
   */
  labelSmoothing: number;
  /**
   * MixUp's alpha (`transforms.MixUp` on each training batch; 0: off). With
   * `cutmixAlpha` too, each batch takes one of the two at random, as
   * torchvision's reference recipe.
   */
  mixupAlpha: number;
  /** CutMix's alpha (`transforms.CutMix` on each training batch; 0: off). */
  cutmixAlpha: number;
  /** "auto" (cuda when available, else cpu), "cpu" or "cuda". */
  device: (typeof DEVICES)[number];
  /**
   * "fp32", or "bf16": the forward passes and losses (training, validation
   * and test) run under `autocast("bfloat16", ...)`; weights, gradients and
   * optimizer state stay fp32.
   */
  precision: (typeof PRECISIONS)[number];
  /** Loader worker threads (0: load on the main thread). */
  workers: number;
  /** Seed of initialisation, dropout, shuffling and augmentation. */
  seed: number;
  /** Run folder. */
  out: string;
  /** Validate every N epochs (the last epoch is always validated). */
  valEvery: number;
  /** Write a step line to metrics.jsonl every N optimizer steps. */
  logEvery: number;
  /** Processes of data-parallel training (`batchSize` is split over them). */
  nproc: number;
  /** With several processes, batch norm over the global batch (default: each rank's own). */
  syncBatchNorm: boolean;
  /**
   * Epochs of learning-rate warm-up before the schedule (torchvision's
   * `--lr-warmup-epochs`; 0: none): `lrWarmupMethod`'s `LinearLR` or
   * `ConstantLR` from `lrWarmupDecay` times the rate, then `SequentialLR`
   * into the schedule, which runs over the remaining epochs. Not with onecycle.
   */
  lrWarmupEpochs: number;
  /**
   * "constant" (`ConstantLR(factor: decay)`; the default, as torchvision's
   * train.py) or "linear" (`LinearLR(startFactor: decay)`).
   */
  lrWarmupMethod: (typeof WARMUP_METHODS)[number];
  /** The warm-up's first factor of the lr, in (0, 1]. */
  lrWarmupDecay: number;
  /**
   * Keep an exponential moving average of the weights and buffers
   * (torchvision's `--model-ema`), validated beside the model each
   * validation; its best weights go to best_ema.safetensors.
   */
  modelEma: boolean;
  /** Update the average every N optimizer steps (at each epoch's step 0, N, 2N, ...). */
  modelEmaSteps: number;
  /**
   * The average's decay per step before torchvision's adjustment
   * (`1 - min(1, (1 - decay) * batchSize * modelEmaSteps / epochs)` per update).
   */
  modelEmaDecay: number;
  /** Clip the gradients' total 2-norm to this before each step (`nn.utils.clipGradNorm_`); null: off. */
  clipGradNorm: number | null;
  /** Weight decay of the normalisation layers' parameters (`optim.setWeightDecay`); null: `weightDecay`. */
  normWeightDecay: number | null;
  /** Weight decay of every parameter named `bias` (`optim.setWeightDecay`); null: as the others. */
  biasWeightDecay: number | null;
  /** Momentum of sgd and rmsprop; null: 0.9 for sgd, 0 for rmsprop (and none for the others). */
  momentum: number | null;
  /**
   * Pretrained weights the model starts from (torchvision's `--weights`, a
   * local file; `models.loadPretrained`'s rules), as an absolute path once
   * the run starts; null: the model's own initialisation.
   */
  weights: string | null;
  /** SHA-256 of the `weights` file the run started from (set by the run, not a flag); null without. */
  weightsSha256: string | null;
}

/**
 * The defaults of `deno task train`, tuned for the small CNN on the realistic
 * synthetic preset (2,001 training slices of 128^2) on a 2-core CPU, and
 * chosen without the test split: by macro-F1 over seeds 0, 1 and 2 on the
 * validation split and on a fresh sample of the same preset (seed 1: 30
 * unseen patients, 3,074 slices), because the validation split's 5
 * patients alone swing the F1 by +-0.05 from seed to seed:
 *
 * - a global max-pooling head (`globalPool: "max"`) with the `ct`
 *   augmentation (small affine, intensity shift and scale, gamma, noise) for
 *   20 epochs: validation macro-F1 0.797 (0.806, 0.800, 0.785) and fresh
 *   0.781 (0.778, 0.780, 0.784), against 0.733 and 0.719 for the flattening
 *   head without augmentation for 10 epochs. With the flattening head the
 *   model learnt the training patients, not the lesions: it fit its own
 *   training slices to macro-F1 0.998 by epoch 15, yet on the fresh sample
 *   it found only 0.65 of the lesions of 150-400 pixels and 0.49 of those
 *   of 60-150. With these defaults (seed 0) that is 0.78 and 0.61, and 1.00
 *   above 400 pixels: pooling makes the classifier see what was found, not
 *   where, and the augmentation keeps it from learning each patient;
 * - inputs clipped to a 25..125 HU liver window before standardisation: the
 *   100 HU around the liver, where the lesions are (20-70 HU darker), fill
 *   the input range instead of a fifth of it (with the flattening head,
 *   validation 0.733 and fresh 0.719 against 0.596 and 0.671 without it;
 *   0..150 HU gave 0.694 and 0.705, 35..115 HU 0.727 and 0.716);
 * - inputs standardised with the training split's mean and std (after the
 *   window): the network picks up the lesions in about 3 epochs instead of 10;
 * - class-balanced sampling: only 13 % of slices show a lesion (without it,
 *   seed 0 fell from 0.715 to 0.631 on the fresh sample);
 * - batch norm, AdamW (weight decay 0.5) at lr 1e-3 on a cosine schedule,
 *   keeping the last weights; no early stopping.
 *
 * Measured on an AMD EPYC 2-core VM (AVX-512, 2026-12-03, idle): test
 * macro-F1 0.772, 0.772 and 0.761 with seeds 0, 1 and 2 (the test split's 5
 * patients), 2 min 28 s to 2 min 43 s per run. On a 2-core Intel Xeon VM
 * with AMX (2026-12-04), once batch-norm statistics came from the
 * convolutions (other rounding, so another path): 0.763, 0.800 and 0.778,
 * 1 min 43 s a run.
 *
 * Also measured and not taken (seed 0, fresh sample; all with the window):
 * a global average-pooling head with `ct` for 20 epochs (0.705), the max
 * head without augmentation for 10 epochs (0.651), the flattening
 * head with `ct` for 20 epochs (0.744), RandomAffine alone (0.751) or with
 * RandomShiftScaleIntensity (0.750, 0.725, 0.745 over three seeds), `ct` at
 * strength 2 (0.747), flips (0.666, 0.638, 0.661: the liver's side is
 * information), 15 epochs without augmentation (0.728), batch size 16
 * (0.722). In earlier rounds without the window: two convolutions in the
 * first stages, averaging the weights of the last epochs, and resnet18
 * (3 epochs in 3 min 40 s) gave no gain.
 */
export const DEFAULTS: Readonly<TrainConfig> = {
  data: null,
  model: "simple",
  epochs: 20,
  batchSize: 32,
  lr: 1e-3,
  optimizer: "adamw",
  weightDecay: 0.5,
  dropout: null,
  batchNorm: true,
  globalPool: "max",
  augment: "ct",
  inputWindow: [25, 125],
  normalize: true,
  scheduler: "cosine",
  earlyStopping: 0,
  imageSize: 0,
  balanced: true,
  labelSmoothing: 0,
  mixupAlpha: 0,
  cutmixAlpha: 0,
  device: "auto",
  precision: "fp32",
  workers: 0,
  seed: 0,
  out: "",
  valEvery: 1,
  logEvery: 20,
  nproc: 1,
  syncBatchNorm: false,
  lrWarmupEpochs: 0,
  lrWarmupMethod: "constant",
  lrWarmupDecay: 0.01,
  modelEma: false,
  modelEmaSteps: 32,
  modelEmaDecay: 0.99998,
  clipGradNorm: null,
  normWeightDecay: null,
  biasWeightDecay: null,
  momentum: null,
  weights: null,
  weightsSha256: null,
};

/**
 * Throws a `UsageError` when a configuration has a key that `TrainConfig`
 * lacks (`weight_decay`) or lacks one it needs: a config is a full record,
 * so start from `train.DEFAULTS`.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * try {
 *   train.checkConfigKeys({ ...train.DEFAULTS, weight_decay: 1e-5 } as never, "fit");
 * } catch (e) {
 *   console.log((e as Error).message.includes("'weightDecay'")); // true
 * }
 * ```
 */
export function checkConfigKeys(c: TrainConfig, where: string): void {
  const usage = 'train.fit({ ...train.DEFAULTS, lr: 1e-3, out: "runs/a" })';
  const keys = Object.keys(DEFAULTS) as (keyof TrainConfig)[];
  try {
    checkOptions<TrainConfig>(`${where}: config`, c, keys, usage);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const missing = keys.filter((k) => c?.[k] === undefined);
  if (c === undefined || missing.length > 0) {
    throw new UsageError(
      `${where}: config lacks ${c === undefined ? "everything" : missing.join(", ")}; ` +
        `start from the defaults: ${usage}`,
    );
  }
}

function fail(flag: string, value: unknown, rule: string): never {
  throw new UsageError(`--${flag} ${JSON.stringify(value)}: ${rule}`);
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) fail(flag, v, `must be one of ${allowed.join(", ")}`);
  return v as T;
}

function int(flag: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) fail(flag, v, `must be an integer >= ${min}`);
  return v;
}

/**
 * Checks every field of a configuration and returns it with names
 * normalised; throws a `UsageError` (exit code 2) naming the flag.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const config = train.checkConfig({ ...train.DEFAULTS, lr: 0.01 });
 * console.log(config.lr); // 0.01
 * ```
 */
export function checkConfig(c: TrainConfig): TrainConfig {
  return checkValues(c, true);
}

/**
 * @internal The checks of a `--resume` command line: each value's own
 * range, not the recipe flags' combinations with flags not given (the
 * run's config.json holds those; `resumeConfig` checks the whole after).
 */
export function checkResumeFlags(c: TrainConfig): TrainConfig {
  return checkValues(c, false);
}

function checkValues(c: TrainConfig, combinations: boolean): TrainConfig {
  checkConfigKeys(c, "checkConfig");
  // torchvision's spellings too ("mobilenet_v2"): the run records the registry's name.
  const model = canonicalName(String(c.model)) ?? String(c.model).toLowerCase();
  oneOf("model", model, MODEL_NAMES);
  int("epochs", c.epochs, 1);
  int("batch-size", c.batchSize, 1);
  if (!(Number.isFinite(c.lr) && c.lr > 0)) fail("lr", c.lr, "must be a number > 0");
  const optimizer = oneOf("optimizer", String(c.optimizer).toLowerCase(), OPTIMIZERS);
  if (!(Number.isFinite(c.weightDecay) && c.weightDecay >= 0)) {
    fail("weight-decay", c.weightDecay, "must be a number >= 0");
  }
  if (c.dropout !== null && !(c.dropout >= 0 && c.dropout < 1)) {
    fail("dropout", c.dropout, "must be a probability in [0, 1)");
  }
  if (c.dropout !== null && !takesOption(model, "dropout")) {
    const have = MODEL_NAMES.filter((m) => takesOption(m, "dropout")).join(", ");
    // A DenseNet's drop_rate is dropout after every dense layer, not before the classifier.
    const dense = takesOption(model, "dropRate")
      ? `; its dropRate (after each dense layer) is models.create's option`
      : "";
    fail("dropout", c.dropout, `model ${model} has no dropout (${have} do)${dense}`);
  }
  if (c.batchNorm && model !== "simple") {
    fail(
      "batch-norm",
      true,
      `only the simple model takes it (${model} has its own or none); ` +
        `give --no-batch-norm (batchNorm: false over train.DEFAULTS)`,
    );
  }
  oneOf("global-pool", c.globalPool, GLOBAL_POOLS);
  oneOf("precision", c.precision, PRECISIONS);
  if (c.globalPool !== "none" && model !== "simple") {
    fail(
      "global-pool",
      c.globalPool,
      `only the simple model takes it (${model} pools its own way); ` +
        `give --global-pool none (globalPool: "none" over train.DEFAULTS)`,
    );
  }
  oneOf("scheduler", c.scheduler, SCHEDULERS);
  int("early-stopping", c.earlyStopping, 0);
  if (!(c.labelSmoothing >= 0 && c.labelSmoothing <= 1)) {
    fail("label-smoothing", c.labelSmoothing, "must be a number in [0, 1]");
  }
  for (
    const [flag, v] of [["mixup-alpha", c.mixupAlpha], ["cutmix-alpha", c.cutmixAlpha]] as const
  ) {
    if (!(Number.isFinite(v) && v >= 0)) fail(flag, v, "must be a number >= 0 (0: off)");
  }
  int("image-size", c.imageSize, 0);
  // Refused here (exit 2), not when the model is built (exit 1): models.create's words.
  const aux = trainSizeRule(model);
  if (aux !== null && c.imageSize !== 0 && c.imageSize < aux.minSize) {
    fail("image-size", c.imageSize, `model ${aux.rule}; give --image-size ${aux.minSize}`);
  }
  const minSize = minImageSize(model);
  if (c.imageSize !== 0 && c.imageSize < minSize) {
    fail("image-size", c.imageSize, `model ${model} needs images of at least ${minSize} pixels`);
  }
  const multiple = imageSizeMultiple(model);
  if (c.imageSize % multiple !== 0) {
    const below = Math.floor(c.imageSize / multiple) * multiple;
    fail(
      "image-size",
      c.imageSize,
      `model ${model} cuts images into ${multiple} x ${multiple} patches: give ` +
        `--image-size ${below} or ${below + multiple}`,
    );
  }
  oneOf("device", c.device, DEVICES);
  int("workers", c.workers, 0);
  if (c.workers > MAX_WORKERS) fail("workers", c.workers, `must be at most ${MAX_WORKERS}`);
  int("seed", c.seed, 0);
  if (c.seed > 2 ** 32) fail("seed", c.seed, "must be below 2^32");
  int("val-every", c.valEvery, 1);
  int("log-every", c.logEvery, 1);
  int("nproc", c.nproc, 1);
  if (c.inputWindow !== null && !isWindow(c.inputWindow)) {
    fail(
      "input-window",
      c.inputWindow,
      "must be [low, high] in HU with low < high, or null (none)",
    );
  }
  if (c.augment.trim() === "") fail("augment", c.augment, "give none, ct, or transform names");
  augmentSpecs(c.augment); // throws a UsageError naming a bad transform
  if (c.weights !== null && (typeof c.weights !== "string" || c.weights.trim() === "")) {
    fail(
      "weights",
      c.weights,
      "must be a weights file (a .pth, a .safetensors state dict or a checkpoint)",
    );
  }
  if (c.weightsSha256 !== null && !/^[0-9a-f]{64}$/.test(String(c.weightsSha256))) {
    throw new UsageError(
      `weightsSha256 ${JSON.stringify(c.weightsSha256)}: must be null or 64 hex digits (SHA-256)`,
    );
  }
  checkRecipe(c, optimizer, combinations);
  return { ...c, model, optimizer };
}

/** A finite number (not a numeric string). */
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Refuses a flag that acts only together with `needs`, which was not given. */
function unused(flag: string, v: unknown, needs: string): never {
  fail(flag, v, `acts only with ${needs}; give it too, or leave this flag out`);
}

/** A warm-up that can act: with its epochs given, before the schedule's last epoch, not onecycle's. */
function checkWarmup(c: TrainConfig): void {
  if (c.lrWarmupEpochs === 0) {
    if (c.lrWarmupMethod !== DEFAULTS.lrWarmupMethod) {
      unused("lr-warmup-method", c.lrWarmupMethod, "--lr-warmup-epochs N");
    }
    if (c.lrWarmupDecay !== DEFAULTS.lrWarmupDecay) {
      unused("lr-warmup-decay", c.lrWarmupDecay, "--lr-warmup-epochs N");
    }
  } else if (c.lrWarmupEpochs >= c.epochs) {
    fail(
      "lr-warmup-epochs",
      c.lrWarmupEpochs,
      `must be less than --epochs (${c.epochs}): the schedule after the warm-up needs an epoch`,
    );
  } else if (c.scheduler === "onecycle") {
    fail(
      "lr-warmup-epochs",
      c.lrWarmupEpochs,
      "--scheduler onecycle warms up by itself (over its first 30% of the steps); give " +
        "--scheduler cosine, step, plateau or none for a warm-up, or leave it out",
    );
  }
}

/**
 * The checks of torchvision's reference-recipe settings (warm-up, model
 * EMA, clipping, per-group weight decay, momentum): ranges, and
 * combinations that could not do what they ask.
 */
function checkRecipe(c: TrainConfig, optimizer: string, combinations: boolean): void {
  int("lr-warmup-epochs", c.lrWarmupEpochs, 0);
  oneOf("lr-warmup-method", c.lrWarmupMethod, WARMUP_METHODS);
  if (!(isNum(c.lrWarmupDecay) && c.lrWarmupDecay > 0 && c.lrWarmupDecay <= 1)) {
    fail("lr-warmup-decay", c.lrWarmupDecay, "must be a number in (0, 1]");
  }
  if (combinations) checkWarmup(c);
  int("model-ema-steps", c.modelEmaSteps, 1);
  if (!(isNum(c.modelEmaDecay) && c.modelEmaDecay >= 0 && c.modelEmaDecay < 1)) {
    fail("model-ema-decay", c.modelEmaDecay, "must be a number in [0, 1)");
  }
  if (typeof c.modelEma !== "boolean") fail("model-ema", c.modelEma, "must be true or false");
  if (combinations && !c.modelEma) {
    if (c.modelEmaSteps !== DEFAULTS.modelEmaSteps) {
      unused("model-ema-steps", c.modelEmaSteps, "--model-ema");
    }
    if (c.modelEmaDecay !== DEFAULTS.modelEmaDecay) {
      unused("model-ema-decay", c.modelEmaDecay, "--model-ema");
    }
  }
  if (c.clipGradNorm !== null && !(Number.isFinite(c.clipGradNorm) && c.clipGradNorm > 0)) {
    fail("clip-grad-norm", c.clipGradNorm, "must be a number > 0 (leave it out: no clipping)");
  }
  for (
    const [flag, v] of [
      ["norm-weight-decay", c.normWeightDecay],
      ["bias-weight-decay", c.biasWeightDecay],
    ] as const
  ) {
    if (v !== null && !(Number.isFinite(v) && v >= 0)) {
      fail(flag, v, "must be a number >= 0 (leave it out: --weight-decay's)");
    }
  }
  if (c.momentum !== null) {
    if (combinations && BETA_OPTIMIZERS.includes(optimizer)) {
      fail(
        "momentum",
        c.momentum,
        `--optimizer ${optimizer} has no momentum: its betas (torch's default (0.9, 0.999)) ` +
          "play that part; give --optimizer sgd or rmsprop, or leave --momentum out",
      );
    }
    if (!(Number.isFinite(c.momentum) && c.momentum >= 0 && c.momentum < 1)) {
      fail("momentum", c.momentum, "must be a number in [0, 1)");
    }
  }
}
