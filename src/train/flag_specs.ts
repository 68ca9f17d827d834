/**
 * The flags the commands share, each written once: value kind, the value's
 * name in `--help`, its range, its choices (read from the model registry
 * and the configuration's lists). A command takes one as it is or spreads
 * it and words the help line for its own use.
 *
 * @module
 */
import type { FlagSpec } from "./command.ts";
import { DEVICES, MODEL_NAMES } from "./config.ts";

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
    help: "L2 penalty (adam, sgd) or decoupled weight decay (adamw)",
  },
  dropout: { kind: "number", help: "dropout before the last layer (simple, alexnet)" },
  "image-size": { kind: "int", min: 0, help: "side of the model input; images are resized to it" },
  device: { kind: "string", value: "NAME", choices: DEVICES, help: DEVICES.join(", ") },
  workers: { kind: "int", min: 0, help: "data loader worker threads (0: main thread)" },
  seed: { kind: "int", min: 0, help: "seed of init, dropout, shuffling, augmentation" },
  out: { kind: "string", value: "DIR", help: "run folder" },
} as const satisfies Record<string, FlagSpec>;
