/**
 * The two things `fit` opens and must close, whatever happens:
 *
 * - `RunData`: the three splits of the data folder, with what they decide
 *   about the run (the image size, the input statistics, the model spec
 *   and the transforms);
 * - `Session`: the objects that train (model, optimizer, loss, schedule,
 *   loaders), built from the seed in a fixed order so a run is repeatable;
 *   disposing it frees the model's weights and the optimizer's state
 *   (Adam's moments), so run after run in one process keeps nothing.
 *
 * @module
 */
import { type BatchMixer, batchMixer } from "./batch_mix.ts";
import { dataWindow, sliceScaling, windowTransform, windowWarning } from "./intensity_window.ts";
import { DataLoader } from "../data/loader.ts";
import type { LiTSDataset } from "../data/lits_dataset.ts";
import { classBalancedSampler, RandomSampler } from "../data/sampler.ts";
import { CrossEntropyLoss } from "../layers/loss.ts";
import type { Module } from "../layers/module.ts";
import { defaultDevice, type Device, device } from "../tensor/device.ts";
import { manualSeed } from "../tensor/mod.ts";
import type { TrainConfig } from "./config.ts";
import {
  checkDataLayout,
  defaultSyntheticData,
  emptyClassWarnings,
  openSplit,
  pixelStats,
  type RunTransforms,
  runTransforms,
  unlistedImageWarnings,
} from "./data.ts";
import { UsageError } from "./errors.ts";
import { imageSizeMultiple, minImageSize, trainSizeRule } from "../models/registry.ts";
import { textChecksum } from "./checkpoint_info.ts";
import {
  type AnyOptimizer,
  buildModel,
  buildOptimizer,
  buildSchedule,
  CLASS_NAMES,
  dataPreprocessing,
  emaDecay,
  type ModelSpec,
  modelSpec,
  type Schedule,
} from "./setup.ts";
import type { SplitLoading } from "./test_report.ts";
import { rankBatchSize, type RunGroup, shardSampler, trainingModel } from "./distributed.ts";
import { ExponentialMovingAverage } from "../optim/swa.ts";

/**
 * The device a configuration names: "auto" is CUDA when it is available,
 * else the CPU; a named device that cannot run here says why, under the flag.
 */
export function resolveDevice(name: TrainConfig["device"]): Device {
  if (name === "auto") return defaultDevice();
  try {
    return device(name);
  } catch (e) {
    throw new Error(`--device ${name}: ${(e as Error).message}`);
  }
}

/** A run's data and what it decides. */
export interface RunData extends Disposable {
  /** The data folder. */
  root: string;
  /** The open splits. */
  train: LiTSDataset;
  val: LiTSDataset;
  test: LiTSDataset;
  /** The configuration with data and image size resolved (what config.json holds). */
  config: TrainConfig;
  /** The model to build. */
  spec: ModelSpec;
  /** Training and evaluation transforms. */
  transforms: RunTransforms;
  /** A checksum of each split's slices and labels (`splitsChecksum`). */
  splits: string;
}

/**
 * A checksum of which slices, with which labels, each split holds: a
 * checkpoint keeps it, and `--resume` refuses data that changed under the
 * run (regenerated with another seed, a patient moved from train to test).
 */
export function splitsChecksum(splits: Record<string, LiTSDataset>): string {
  const lines: string[] = [];
  for (const [name, ds] of Object.entries(splits)) {
    for (let i = 0; i < ds.length; i++) lines.push(`${name},${ds.filename(i)},${ds.labels[i]}`);
  }
  return textChecksum(lines.join("\n"));
}

/** Opens the splits of the run's data (synthetic LiTS when none is given) and resolves the config. */
export async function openRunData(
  config: TrainConfig,
  log: (line: string) => void,
): Promise<RunData> {
  const root = config.data ?? await defaultSyntheticData(log);
  checkDataLayout(root);
  const hu = dataWindow(root);
  const window = config.inputWindow ? windowTransform(config.inputWindow, hu) : null;
  const outside = config.inputWindow ? windowWarning(config.inputWindow, hu) : null;
  if (outside) console.warn(outside);
  // The slices scaled as evaluate and predict will scale them (sliceScaling).
  const scaling = sliceScaling(window ? [window] : []);
  const train = openSplit(root, "train", scaling), val = openSplit(root, "val", scaling);
  const test = openSplit(root, "test", scaling);
  const close = () => [train, val, test].forEach((ds) => ds.close());
  try {
    // Once per run, before training: a missing class skews every metric after.
    for (const w of emptyClassWarnings({ train, val, test }, CLASS_NAMES)) console.warn(w);
    for (const w of unlistedImageWarnings({ train, val, test })) console.warn(w);
    const { width, height } = train;
    if (config.imageSize === 0 && width !== height) {
      throw new UsageError(`the images are ${width}x${height}; give a square --image-size`);
    }
    const imageSize = config.imageSize || width;
    const aux = trainSizeRule(config.model);
    if (aux !== null && imageSize < aux.minSize) {
      // The data's own side (no --image-size): refused as the flag is, before the model is built.
      throw new UsageError(
        `the images are ${width}x${height} and model ${aux.rule}; give --image-size ` +
          `${aux.minSize} (they are resized to it)`,
      );
    }
    const min = minImageSize(config.model);
    if (imageSize < min) {
      // As --image-size below it is refused (exit 2), not by models.create (exit 1).
      throw new UsageError(
        `the images are ${width}x${height} and model ${config.model} needs images of at ` +
          `least ${min} pixels; give --image-size ${min} or more (they are resized to it)`,
      );
    }
    const multiple = imageSizeMultiple(config.model);
    if (imageSize % multiple !== 0) {
      const below = Math.floor(imageSize / multiple) * multiple;
      throw new UsageError(
        `the images are ${width}x${height} and model ${config.model} cuts them into ` +
          `${multiple} x ${multiple} patches; give --image-size ${below} or ${below + multiple}`,
      );
    }
    const resolved: TrainConfig = { ...config, data: root, imageSize };
    // Computed with a window even without normalisation: pixelStats refuses
    // a split that the window leaves one flat value (blank training images).
    const measured = config.normalize || window ? pixelStats(train, 256, window) : null;
    const stats = config.normalize ? measured : null;
    const transforms = runTransforms(config.augment, imageSize, width, height, stats, window);
    return {
      root,
      train,
      val,
      test,
      config: resolved,
      // What predict needs to make its inputs as these images were made.
      spec: modelSpec(
        resolved,
        imageSize,
        stats,
        dataPreprocessing(width, height, transforms.eval, hu),
      ),
      transforms,
      splits: splitsChecksum({ train, val, test }),
      [Symbol.dispose]: close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/** The objects that train. */
export interface Session extends Disposable {
  model: Module;
  /** What the training steps call: `model`, or on several ranks its DistributedDataParallel. */
  trainModel: Module;
  optimizer: AnyOptimizer;
  lossFn: CrossEntropyLoss;
  /** MixUp / CutMix of the training batches, or null. */
  mix: BatchMixer | null;
  /** The moving average of `model`'s weights and buffers (`--model-ema`), or null. */
  ema: ExponentialMovingAverage | null;
  schedule: Schedule;
  /** The training split's loader (shuffled or class-balanced, augmented). */
  trainLoader: DataLoader;
  /** How validation and test splits are loaded. */
  evalLoading: SplitLoading;
}

/**
 * Builds model, optimizer, loss, loaders and schedule for `data` on `dev`,
 * from `config.seed` (the order of the draws is part of the run's numbers).
 * On several ranks (`group`) each loads its shard of the global batch.
 * `prepare` is called on the model once it is built, before the optimizer
 * and the model EMA take it (`--weights` loads pretrained weights there).
 */
export function buildSession(
  config: TrainConfig,
  data: RunData,
  dev: Device,
  group: RunGroup = { rank: 0, world: 1, writer: true },
  prepare: ((model: Module) => void) | null = null,
): Session {
  manualSeed(config.seed);
  const model = buildModel(data.spec).to(dev);
  let optimizer: AnyOptimizer | null = null;
  let ema: ExponentialMovingAverage | null = null;
  try {
    prepare?.(model); // draws no random numbers: the run's other draws stay as without it
    // Made before SyncBatchNorm changes the model's tree; it draws no random numbers.
    ema = config.modelEma ? new ExponentialMovingAverage(model, emaDecay(config)) : null;
    const trainModel = trainingModel(group, model, config.syncBatchNorm);
    optimizer = buildOptimizer(config, model);
    const lossFn = new CrossEntropyLoss({ labelSmoothing: config.labelSmoothing });
    const inner = config.balanced
      ? classBalancedSampler(data.train)
      : new RandomSampler(data.train.length);
    const shard = shardSampler(group, inner, config.seed);
    const trainLoader = new DataLoader(data.train, {
      batchSize: rankBatchSize(group, config.batchSize),
      shuffle: !config.balanced && !shard,
      sampler: shard ?? (config.balanced ? inner : undefined),
      transform: data.transforms.train,
      seed: config.seed,
      workers: config.workers,
      device: dev,
    });
    const evalLoading: SplitLoading = {
      batchSize: Math.max(64, config.batchSize),
      transform: data.transforms.eval,
      workers: config.workers,
      device: dev,
    };
    const schedule = buildSchedule(config, optimizer, trainLoader.length);
    const opt = optimizer, average = ema;
    return {
      model,
      trainModel,
      optimizer,
      lossFn,
      mix: batchMixer(config, CLASS_NAMES.length),
      ema,
      schedule,
      trainLoader,
      evalLoading,
      [Symbol.dispose]: () => {
        opt.dispose();
        average?.dispose();
        model.dispose();
      },
    };
  } catch (e) {
    optimizer?.dispose();
    ema?.dispose();
    model.dispose();
    throw e;
  }
}
