/**
 * The flags the commands share, each written once: value kind, the value's
 * name in `--help`, its range, its choices (read from the model registry
 * and the configuration's lists). A command takes one as it is or spreads
 * it and words the help line for its own use.
 *
 * @module
 */
import type { FlagSpec } from "./command.ts";
import { DEVICES, MAX_WORKERS, MODEL_NAMES, PRECISIONS } from "./config.ts";
import { canonicalName, imageSizeMultiple, minImageSize } from "../models/registry.ts";
import { CLASS_NAMES, type ModelSpec } from "./setup.ts";
import { UsageError } from "./errors.ts";
import { dropoutHelp } from "./dropout_help.ts";

/** The shared flags, by flag name. */
export const SHARED_FLAGS = {
  data: {
    kind: "string",
    value: "DIR",
    help: "Clean_LiTS layout: train/ val/ test/ + <split>_classes.csv",
    shownDefault: "synthetic LiTS, realistic preset, made once in the cache folder",
  },
  model: { kind: "string", value: "NAME", help: MODEL_NAMES.join(", ") },
  epochs: { kind: "int", min: 1, help: "epochs to train" },
  "batch-size": { kind: "int", min: 1, help: "training batch size" },
  lr: { kind: "number", help: "learning rate (peak rate for onecycle)" },
  "weight-decay": {
    kind: "number",
    help: "L2 penalty (adam, sgd, rmsprop, nadam, radam) or decoupled weight decay (adamw)",
  },
  dropout: { kind: "number", help: dropoutHelp() },
  "image-size": { kind: "int", min: 0, help: "side of the model input; images are resized to it" },
  device: { kind: "string", value: "NAME", choices: DEVICES, help: DEVICES.join(", ") },
  precision: {
    kind: "string",
    value: "NAME",
    choices: PRECISIONS,
    help: "fp32, or bf16: convolutions and matmuls under bf16 autocast (fp32 weights)",
  },
  workers: {
    kind: "int",
    min: 0,
    // Each worker is a thread with its own data pipeline: 100000 ran the machine out of memory.
    check: (v) => (v > MAX_WORKERS ? `must be at most ${MAX_WORKERS}` : null),
    help: "data loader worker threads (0: main thread)",
  },
  seed: { kind: "int", min: 0, help: "seed of init, dropout, shuffling, augmentation" },
  out: { kind: "string", value: "DIR", help: "run folder" },
} as const satisfies Record<string, FlagSpec>;

/**
 * The flags of the commands that read trained weights (evaluate, export,
 * predict): the weights file, and the model and input side that a plain
 * state dict (one without lits metadata) cannot say itself.
 */
export const WEIGHTS_FLAGS = {
  checkpoint: {
    kind: "string",
    value: "FILE",
    required: true,
    help: "checkpoint.safetensors, best.safetensors or best_ema.safetensors of a run, or a " +
      "state dict",
  },
  // No fixed choices: torchvision's spellings ("mobilenet_v2") are read by weightsSpec.
  model: {
    ...SHARED_FLAGS.model,
    help: `model, for a state dict without lits metadata (${MODEL_NAMES.join(", ")})`,
  },
  "image-size": { ...SHARED_FLAGS["image-size"], min: 1 },
} as const satisfies Record<string, FlagSpec>;

/**
 * @internal Refuses, as a bad flag, a split's own side that model `model` cannot take
 * (a plain state dict evaluated without `--image-size`): below its smallest
 * side, or off a ViT's patch grid; the message says what to give.
 */
export function checkDataSide(model: string, width: number, height: number): void {
  const min = minImageSize(model), multiple = imageSizeMultiple(model);
  if (width < min) {
    throw new UsageError(
      `the images are ${width}x${height} and model ${model} needs images of at least ${min} ` +
        `pixels; give --image-size ${min} or more (they are resized to it)`,
    );
  }
  if (width % multiple !== 0) {
    const below = Math.floor(width / multiple) * multiple;
    throw new UsageError(
      `the images are ${width}x${height} and model ${model} cuts them into ${multiple} x ` +
        `${multiple} patches; give --image-size ${below} or ${below + multiple}`,
    );
  }
}

/**
 * `--image-size N` that model `model` cannot take (below its smallest side,
 * off its patch grid) is a bad flag (exit 2), in train's words, not
 * models.create's error (exit 1).
 */
export function checkImageSizeFlag(model: string, imageSize: number): void {
  if (imageSize < minImageSize(model)) {
    throw new UsageError(
      `--image-size ${imageSize}: model ${model} needs images of at least ` +
        `${minImageSize(model)} pixels`,
    );
  }
  const multiple = imageSizeMultiple(model);
  if (imageSize % multiple !== 0) {
    const below = Math.floor(imageSize / multiple) * multiple;
    throw new UsageError(
      `--image-size ${imageSize}: model ${model} cuts the images into ${multiple} x ` +
        `${multiple} patches; give --image-size ${below} or ${below + multiple}`,
    );
  }
}

/**
 * The model spec of loaded weights: the one they record (which `--model`,
 * when given, must name), else one built from `--model` and `imageSize` for
 * a plain state dict. A plain state dict without the `required` flags is a
 * UsageError that says to `give` them (in the command's words).
 */
export function weightsSpec(
  stored: ModelSpec | null,
  v: { checkpoint: string; model?: string; "image-size"?: number },
  give: string,
  options: { required?: readonly ("model" | "image-size")[]; imageSize?: number } = {},
): ModelSpec {
  const { required = ["model"], imageSize = v["image-size"] } = options;
  if (v.model !== undefined) {
    const name = canonicalName(v.model);
    if (name === null) {
      throw new UsageError(
        `--model ${JSON.stringify(v.model)}: must be one of ${MODEL_NAMES.join(", ")}`,
      );
    }
    if (!MODEL_NAMES.includes(name)) {
      // models.create builds it, but the commands read 2-D slices (it would fail on imageSize).
      throw new UsageError(
        `--model ${v.model}: a volume model (input [N, C, D, H, W]); the commands take the ` +
          `2-D models: ${MODEL_NAMES.join(", ")}`,
      );
    }
    v = { ...v, model: name };
  }
  if (stored && v.model && stored.name !== v.model) {
    throw new Error(`checkpoint ${v.checkpoint} holds a ${stored.name} model, not ${v.model}`);
  }
  if (stored) return stored;
  if (!v.model || required.some((f) => v[f] === undefined)) {
    throw new UsageError(
      `${v.checkpoint} has no lits model metadata (a plain state dict); give ${give}`,
    );
  }
  if (imageSize !== undefined) checkImageSizeFlag(v.model, imageSize);
  return {
    name: v.model,
    options: { inChannels: 1, numClasses: CLASS_NAMES.length, imageSize },
  };
}
