/**
 * From a configuration to the objects of a run: the model (described by a
 * `ModelSpec`, which checkpoints carry so that `deno task evaluate` can
 * rebuild it), the optimizer and the LR schedule behind one small interface.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { create, type ModelOptions, takesOption } from "../models/registry.ts";
import { Adam, AdamW } from "../optim/adam.ts";
import type { GroupOptions, Optimizer } from "../optim/optimizer.ts";
import {
  CosineAnnealingLR,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
} from "../optim/scheduler.ts";
import { SGD } from "../optim/sgd.ts";
import { RMSprop } from "../optim/rmsprop.ts";
import { NAdam } from "../optim/nadam.ts";
import { RAdam } from "../optim/radam.ts";
import type { TrainConfig } from "./config.ts";
import type { PixelStats } from "./data.ts";
import type { TransformSpec } from "../data/transforms/transform.ts";
import { sliceScaling } from "./intensity_window.ts";
import { checkArity } from "../options.ts";
import { setWeightDecay } from "../optim/set_weight_decay.ts";
import { SequentialLR } from "../optim/sequential.ts";
import { ConstantLR, LinearLR } from "../optim/warmup.ts";

/** The LiTS classes, by label. */
export const CLASS_NAMES = ["no liver", "liver", "liver + lesion"] as const;

/**
 * How the training images were made from a scan, so that `deno task predict`
 * can make the same from a NIfTI volume, a DICOM series or a PNG.
 */
export interface Preprocessing {
  /**
   * The Hounsfield window [low, high] mapped to the images' 0..255 (the
   * synthetic data's and `deno task import-lits`'s default [-200, 250]).
   */
  window: [number, number];
  /**
   * Width and height of the training images on disk: a volume slice is
   * box-averaged to it before windowing, as the importer does.
   */
  dataSize: [number, number];
  /**
   * How each slice was scaled to [0, 1] before `transforms`
   * (`sliceScaling`): "minmax", by its own min and max; "none", by its bit
   * depth's maximum (runs with an intensity window). Older checkpoints say
   * "minmax" for both; readers take `sliceScaling(transforms)`.
   */
  scaling: "minmax" | "none";
  /**
   * The run's evaluation transforms after its Resize (an intensity window,
   * Normalize), replayed on every input after it is resized to the model's side.
   */
  transforms: TransformSpec[];
}

/**
 * The Hounsfield window of the run's images as checkpoints record it: the
 * synthetic data's, and `deno task import-lits`'s default (the Clean_LiTS
 * layout does not say which window its PNGs were cut with).
 */
export const DATA_WINDOW: readonly [number, number] = [-200, 250];

/**
 * What `fit` records of its data: the HU window its PNGs span (default
 * `DATA_WINDOW`), the images' size and the evaluation transforms.
 */
export function dataPreprocessing(
  width: number,
  height: number,
  evalTransforms: readonly TransformSpec[],
  window: readonly [number, number] = DATA_WINDOW,
): Preprocessing {
  const transforms = evalTransforms[0]?.name === "Resize"
    ? evalTransforms.slice(1)
    : evalTransforms;
  return {
    window: [window[0], window[1]],
    dataSize: [width, height],
    scaling: sliceScaling(transforms),
    transforms: transforms.map((t) => ({ ...t })),
  };
}

/** What builds a model and prepares its inputs: registry name, options, input standardisation. */
export interface ModelSpec {
  /** `models.create` name. */
  name: string;
  /** `models.create` options (only those the model has). */
  options: ModelOptions;
  /** Pixel mean and std the inputs are standardised with, if they are. */
  normalize?: PixelStats;
  /** How the training images were made (absent in checkpoints written before it was recorded). */
  preprocessing?: Preprocessing;
}

/** Whether two specs build the same model on the same inputs (what the data was made from aside). */
export function sameModel(a: ModelSpec, b: ModelSpec): boolean {
  const key = (s: ModelSpec) => JSON.stringify({ ...s, preprocessing: undefined });
  return key(a) === key(b);
}

/** The model a configuration asks for, on images of side `imageSize`. */
export function modelSpec(
  config: TrainConfig,
  imageSize: number,
  normalize: PixelStats | null = null,
  preprocessing: Preprocessing | null = null,
): ModelSpec {
  const options: ModelOptions = { inChannels: 1, numClasses: CLASS_NAMES.length, imageSize };
  if (config.dropout !== null && takesOption(config.model, "dropout")) {
    options.dropout = config.dropout;
  }
  if (config.model === "simple") {
    options.batchNorm = config.batchNorm;
    options.globalPool = config.globalPool;
  }
  const spec: ModelSpec = { name: config.model, options };
  if (normalize) spec.normalize = normalize;
  if (preprocessing) spec.preprocessing = preprocessing;
  return spec;
}

/** Builds the model of `spec` (with the current seed). */
export function buildModel(spec: ModelSpec): Module {
  return create(spec.name, spec.options);
}

/** The optimizer type they all share. */
export type AnyOptimizer = Optimizer<GroupOptions & { lr: number }>;

/**
 * The optimizer of a configuration (SGD with momentum 0.9 unless
 * `momentum` says otherwise), over one group of all parameters, or over
 * `optim.setWeightDecay`'s groups where `normWeightDecay` or
 * `biasWeightDecay` is set.
 */
export function buildOptimizer(config: TrainConfig, model: Module): AnyOptimizer {
  const { lr, weightDecay, normWeightDecay, biasWeightDecay } = config;
  const params = normWeightDecay === null && biasWeightDecay === null
    ? model.parameters()
    : setWeightDecay(model, weightDecay, { normWeightDecay, biasWeightDecay });
  const momentum = config.momentum ?? (config.optimizer === "sgd" ? 0.9 : 0);
  switch (config.optimizer) {
    case "adam":
      return new Adam(params, { lr, weightDecay }) as unknown as AnyOptimizer;
    case "adamw":
      return new AdamW(params, { lr, weightDecay }) as unknown as AnyOptimizer;
    case "sgd":
      return new SGD(params, { lr, momentum, weightDecay }) as unknown as AnyOptimizer;
    case "rmsprop":
      return new RMSprop(params, { lr, momentum, weightDecay }) as unknown as AnyOptimizer;
    case "nadam":
      return new NAdam(params, { lr, weightDecay }) as unknown as AnyOptimizer;
    case "radam":
      return new RAdam(params, { lr, weightDecay }) as unknown as AnyOptimizer;
  }
}

/** An LR schedule as the trainer drives it. */
export interface Schedule {
  /** After every optimizer step. */
  afterStep(): void;
  /** After every epoch, with its validation loss (null when it was not validated). */
  afterEpoch(valLoss: number | null): void;
  /** Position, for checkpoints (JSON; may hold Infinity). */
  stateDict(): Record<string, number | number[]> | null;
  /** Restores `stateDict()`. */
  loadStateDict(sd: Record<string, number | number[]> | null): void;
}

/**
 * The schedule of a configuration: step (x0.1 at 1/3 and 2/3 of the
 * epochs, rounded), cosine (to 0 over the epochs), plateau (x0.1 at the
 * third validation in a row without improvement: patience 2), onecycle (per
 * step, peak `lr`) or none.
 *
 * With `lrWarmupEpochs` W, as torchvision's reference recipe: a `LinearLR`
 * (or `ConstantLR`) warm-up over W epochs, then `SequentialLR` hands over
 * at epoch W to step or cosine laid over the remaining epochs (its
 * `T_max=args.epochs - args.lr_warmup_epochs`); none keeps the rate after
 * the warm-up; plateau counts only the validations after it.
 */
export function buildSchedule(
  config: TrainConfig,
  optimizer: AnyOptimizer,
  stepsPerEpoch: number,
): Schedule {
  const warmupEpochs = config.lrWarmupEpochs ?? 0;
  const epochs = config.epochs - warmupEpochs;
  let perEpoch: LRScheduler | null = null;
  let perStep: LRScheduler | null = null;
  let plateau: ReduceLROnPlateau | null = null;
  switch (config.scheduler) {
    case "step": {
      // Twice, at 1/3 and 2/3 (rounded): StepLR(round(E / 3)) decayed a
      // third time where E % 3 == 1.
      const milestones = [
        Math.max(1, Math.round(epochs / 3)),
        Math.max(2, Math.round(2 * epochs / 3)),
      ];
      perEpoch = new MultiStepLR(optimizer, { milestones });
      break;
    }
    case "cosine":
      perEpoch = new CosineAnnealingLR(optimizer, { tMax: epochs });
      break;
    case "onecycle":
      perStep = new OneCycleLR(optimizer, {
        maxLr: config.lr,
        totalSteps: Math.max(2, epochs * stepsPerEpoch),
      });
      break;
    case "plateau":
      plateau = new ReduceLROnPlateau(optimizer, { factor: 0.1, patience: 2 });
      break;
    case "none":
      break;
  }
  const steps = Math.max(2, epochs * stepsPerEpoch);
  if (warmupEpochs > 0) {
    const warmup = warmupSchedule(config, optimizer);
    if (perEpoch) {
      perEpoch = new SequentialLR(optimizer, {
        schedulers: [warmup, perEpoch],
        milestones: [warmupEpochs],
      });
    } else if (plateau) return warmupThenPlateau(warmup, plateau, warmupEpochs);
    else perEpoch = warmup; // none: the rate stays where the warm-up ends
  }
  return {
    afterStep: () => {
      // OneCycle refuses to step past its end; the last step needs no new rate.
      if (perStep && perStep.lastEpoch + 1 < steps) perStep.step();
    },
    afterEpoch: (valLoss) => {
      perEpoch?.step();
      if (plateau && valLoss !== null) plateau.step(valLoss);
    },
    stateDict: () => (perEpoch ?? perStep ?? plateau)?.stateDict() ?? null,
    loadStateDict: (sd) => {
      const s = perEpoch ?? perStep;
      if (s && sd) s.loadStateDict(sd);
      if (plateau && sd) plateau.loadStateDict(sd as Record<string, number>);
    },
  };
}

/** The warm-up of `lrWarmupMethod` from `lrWarmupDecay` times the rate over `lrWarmupEpochs`. */
function warmupSchedule(config: TrainConfig, optimizer: AnyOptimizer): LRScheduler {
  const totalIters = config.lrWarmupEpochs, decay = config.lrWarmupDecay;
  return config.lrWarmupMethod === "constant"
    ? new ConstantLR(optimizer, { factor: decay, totalIters })
    : new LinearLR(optimizer, { startFactor: decay, totalIters });
}

/**
 * A warm-up over `epochs` epochs, then ReduceLROnPlateau on the
 * validations after it (those of warm-up epochs were made at a rate still
 * rising: they are not the plateau's).
 */
function warmupThenPlateau(
  warmup: LRScheduler,
  plateau: ReduceLROnPlateau,
  epochs: number,
): Schedule {
  return {
    afterStep: () => {},
    afterEpoch: (valLoss) => {
      if (warmup.lastEpoch < epochs) warmup.step();
      else if (valLoss !== null) plateau.step(valLoss);
    },
    stateDict: () => ({
      ...prefixed("warmup.", warmup.stateDict()),
      ...prefixed("plateau.", plateau.stateDict()),
    }),
    loadStateDict: (sd) => {
      if (!sd) return;
      warmup.loadStateDict(unprefixed("warmup.", sd));
      plateau.loadStateDict(unprefixed("plateau.", sd) as Record<string, number>);
    },
  };
}

type ScheduleState = Record<string, number | number[]>;
const prefixed = (p: string, sd: ScheduleState) =>
  Object.fromEntries(Object.entries(sd).map(([k, v]) => [p + k, v]));
const unprefixed = (p: string, sd: ScheduleState) =>
  Object.fromEntries(
    Object.entries(sd).filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]),
  );

/**
 * The decay of each `--model-ema` update, torchvision's adjustment of
 * `modelEmaDecay` (from pycls): `alpha = min(1, (1 - decay) * batchSize *
 * modelEmaSteps / epochs)`, decay `1 - alpha` (`batchSize` is the global
 * batch, torchvision's `world_size * batch_size`).
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const decay = train.emaDecay({ ...train.DEFAULTS, modelEma: true, batchSize: 32, epochs: 20 });
 * console.log(decay.toFixed(6)); // "0.998976"
 * ```
 */
export function emaDecay(config: TrainConfig): number {
  const usage = "train.emaDecay({ ...train.DEFAULTS, modelEma: true })";
  checkArity("train.emaDecay", arguments.length, 1, usage);
  const { batchSize, modelEmaSteps, epochs, modelEmaDecay } = config ?? {};
  const counts = { batchSize, modelEmaSteps, epochs };
  for (const [k, v] of Object.entries(counts)) {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new Error(`train.emaDecay: config.${k} must be an integer >= 1, got ${v}; ${usage}`);
    }
  }
  if (typeof modelEmaDecay !== "number" || !(modelEmaDecay >= 0 && modelEmaDecay < 1)) {
    throw new Error(
      `train.emaDecay: config.modelEmaDecay must be a number in [0, 1), got ${modelEmaDecay}`,
    );
  }
  const adjust = config.batchSize * config.modelEmaSteps / config.epochs;
  const alpha = Math.min(1, (1 - config.modelEmaDecay) * adjust);
  return 1 - alpha;
}

/** The learning rate of the first parameter group now. */
export function currentLr(optimizer: AnyOptimizer): number {
  return optimizer.paramGroups[0].options.lr;
}
