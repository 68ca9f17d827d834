/**
 * Checkpoints: everything a run needs to continue exactly where it stopped,
 * in one safetensors file. Tensors are the model's state dict
 * (`model.<name>`, torchvision's names), the optimizer's state tensors
 * (`optimizer.<param index>.<exp_avg|...>`) and, with `--model-ema`, the
 * moving average's state dict (`ema.n_averaged`, `ema.module.<name>`); `__metadata__["lits.checkpoint"]`
 * holds the rest as JSON: the model spec, epoch and step, optimizer groups
 * and per-parameter step counts, the LR schedule, the random generator's
 * state, the loader's epoch, the trainer's history and early-stopping state,
 * the configuration, and a checksum of every tensor's bytes;
 * `__metadata__["lits.checkpoint.checksum"]` is a checksum of that JSON.
 *
 * Files are replaced atomically (`writeFileAtomic`), and a file whose
 * checksum, header or layout is wrong is refused with a message, never read
 * half.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { decodeSafetensors, encodeSafetensors, safetensorsMetadata } from "../io/safetensors.ts";
import { Module } from "../layers/module.ts";
import type { OptimizerStateDict, ParamState } from "../optim/optimizer.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { HistoryEntry } from "../eval/report/types.ts";
import type { TrainConfig } from "./config.ts";
import type { AnyOptimizer, ModelSpec } from "./setup.ts";
import { writeFileAtomic } from "./atomic.ts";
import { checkArity, checkOptions } from "../options.ts";
import { infoProblem, textChecksum } from "./checkpoint_info.ts";

const FORMAT = "lits-checkpoint";
const VERSION = 1;
const CHECKPOINT_KEY = "lits.checkpoint";
/** FNV-1a of the CHECKPOINT_KEY text (`checkpoint_info.ts`); files from before it lack it. */
const INFO_CHECKSUM_KEY = "lits.checkpoint.checksum";
const MODEL_KEY = "lits.model";

/** The trainer's own state: what early stopping and the report need. */
export interface TrainerState {
  /** Per-epoch history so far. */
  history: HistoryEntry[];
  /** Lowest validation loss so far (Infinity before the first validation). */
  bestValLoss: number;
  /** Epoch of that loss (0: none yet). */
  bestEpoch: number;
  /** Validations since the best one (early stopping's counter). */
  badValidations: number;
  /** Seconds spent training so far, over all sessions of the run. */
  seconds: number;
  /** With `--model-ema`: the EMA's lowest validation loss so far (absent: none yet). */
  bestEmaValLoss?: number;
  /** The epoch of that loss, whose EMA weights best_ema.safetensors holds. */
  bestEmaEpoch?: number;
}

/** The JSON part of a checkpoint. */
export interface CheckpointInfo {
  /** "lits-checkpoint". */
  format: string;
  /** Format version. */
  version: number;
  /** What builds the model. */
  model: ModelSpec;
  /** Completed epochs. */
  epoch: number;
  /** Completed optimizer steps. */
  step: number;
  /** Optimizer class name ("Adam", "AdamW", "SGD"). */
  optimizer: string;
  /** Optimizer groups: options and parameter indices. */
  paramGroups: OptimizerStateDict["paramGroups"];
  /** Per-parameter step counts and state tensor names, by parameter index. */
  paramState: { index: number; step: number; tensors: string[] }[];
  /** LR schedule position. */
  scheduler: Record<string, number | number[]> | null;
  /** Random generator (`manualSeed` stream) as decimal strings. */
  rng: { seed: string; counter: string };
  /** Data loader position: the next epoch it will run and its seed. */
  loader: { epoch: number; seed: number };
  /** The trainer's state. */
  trainer: TrainerState;
  /** The run's configuration. */
  config: TrainConfig;
  /**
   * What the run trains on: a checksum of each split's slices and labels
   * (`splitsChecksum`), so that a resume over regenerated data is refused.
   * Absent in checkpoints from before it.
   */
  data?: { splits: string };
  /** FNV-1a of every tensor's bytes, in file order. */
  checksum: string;
}

/** JSON that keeps Infinity and NaN (the best loss before any validation is Infinity). */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_, v) => typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v,
    indent,
  );
}

/** Parses `toJson` output. */
export function fromJson<T>(text: string): T {
  return JSON.parse(
    text,
    (_, v) =>
      v !== null && typeof v === "object" && typeof v.$number === "string" &&
        Object.keys(v).length === 1
        ? Number(v.$number)
        : v,
  );
}

/** 32-bit FNV-1a over the tensors' bytes (word by word: fast enough for 100 MB). */
function checksum(tensors: Iterable<Tensor>): string {
  let h = 0x811c9dc5;
  for (const t of tensors) {
    const a = t.toArray();
    const words = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
    h = Math.imul(h ^ a.length, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** What `saveCheckpoint` writes besides the model and optimizer tensors. */
export type CheckpointFields = Omit<
  CheckpointInfo,
  "format" | "version" | "optimizer" | "paramGroups" | "paramState" | "checksum"
>;

/**
 * Writes a full checkpoint atomically; `ema`, a moving average of the
 * model's weights (`optim.swaUtils.ExponentialMovingAverage`), is stored
 * with it.
 *
 * @example
 * ```ts
 * import { models, optim, train } from "@lits/vision";
 * const spec = { name: "simple", options: { imageSize: 16 } };
 * const model = models.create(spec.name, spec.options);
 * const opt = new optim.Adam(model.parameters());
 * const path = `${await Deno.makeTempDir()}/checkpoint.safetensors`;
 * await train.saveCheckpoint(path, model, opt, {
 *   model: spec, epoch: 0, step: 0, scheduler: null, rng: { seed: "0", counter: "0" },
 *   loader: { epoch: 0, seed: 0 }, config: train.DEFAULTS,
 *   trainer: { history: [], bestValLoss: Infinity, bestEpoch: 0, badValidations: 0, seconds: 0 },
 * });
 * const loaded = await train.loadCheckpoint(path);
 * console.log(loaded.info.model.name, loaded.info.trainer.bestValLoss); // simple Infinity
 * loaded.dispose();
 * ```
 */
export async function saveCheckpoint(
  path: string,
  model: Module,
  optimizer: AnyOptimizer,
  fields: CheckpointFields,
  ema: Module | null = null,
): Promise<void> {
  // The fields are a full record: a misspelled or missing one would be lost on resume.
  const keys = ["model", "epoch", "step", "scheduler", "rng", "loader", "config", "trainer"];
  const usage =
    "train.saveCheckpoint(path, model, opt, { model, epoch, step, scheduler, rng, loader, config, trainer })";
  checkArity("train.saveCheckpoint", arguments.length, 5, usage);
  checkOptions("train.saveCheckpoint fields", fields, [...keys, "data"], usage);
  const missing = keys.filter((k) =>
    (fields as unknown as Record<string, unknown>)?.[k] === undefined
  );
  if (fields === undefined || missing.length > 0) {
    throw new Error(`train.saveCheckpoint: fields lack ${missing.join(", ")}; write ${usage}`);
  }
  if (ema !== null && !(ema instanceof Module)) {
    throw new Error(
      "train.saveCheckpoint: ema must be the model's moving average (an nn.Module, " +
        "optim.swaUtils.ExponentialMovingAverage) or null",
    );
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of model.stateDict()) tensors.set(`model.${name}`, t);
  for (const [name, t] of ema?.stateDict() ?? []) tensors.set(`ema.${name}`, t);
  const sd = optimizer.stateDict();
  const paramState: CheckpointInfo["paramState"] = [];
  for (const [index, s] of sd.state) {
    paramState.push({ index, step: s.step, tensors: [...s.tensors.keys()] });
    for (const [name, t] of s.tensors) tensors.set(`optimizer.${index}.${name}`, t);
  }
  const info: CheckpointInfo = {
    format: FORMAT,
    version: VERSION,
    ...fields,
    optimizer: optimizer.constructor.name,
    paramGroups: sd.paramGroups,
    paramState,
    checksum: checksum(tensors.values()),
  };
  const text = toJson(info);
  const bytes = encodeSafetensors(tensors, {
    metadata: {
      [CHECKPOINT_KEY]: text,
      [INFO_CHECKSUM_KEY]: textChecksum(text),
      [MODEL_KEY]: JSON.stringify(fields.model),
    },
  });
  await writeFileAtomic(path, bytes, { checkpoint: true });
}

/** A checkpoint read back: its JSON and its tensors (yours to dispose). */
export interface LoadedCheckpoint {
  /** The JSON part. */
  info: CheckpointInfo;
  /** The model's state dict (names without the `model.` prefix). */
  modelState: Map<string, Tensor>;
  /** The optimizer's state dict. */
  optimizerState: OptimizerStateDict;
  /** The model EMA's state dict (`n_averaged`, `module.<name>`); empty without one. */
  emaState: Map<string, Tensor>;
  /** Frees every tensor read. */
  dispose(): void;
}

/**
 * Reads and verifies a checkpoint written by `saveCheckpoint`. A truncated,
 * altered or foreign file throws an Error that says so; nothing of it is used.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const path = `${await Deno.makeTempDir()}/checkpoint.safetensors`;
 * await Deno.writeFile(path, new Uint8Array(100));
 * await train.loadCheckpoint(path).catch((e) => console.log(e.message)); // "checkpoint ... is corrupt ..."
 * ```
 */
export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  return parseCheckpoint(await readCheckpointFile(path), path);
}

async function readCheckpointFile(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`checkpoint ${path} does not exist`);
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
}

function parseCheckpoint(bytes: Uint8Array, path: string): LoadedCheckpoint {
  const bad = (why: string) =>
    new Error(`checkpoint ${path} is corrupt or not a checkpoint: ${why}`);
  let meta: Record<string, string>;
  try {
    meta = safetensorsMetadata(bytes, path);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!meta[CHECKPOINT_KEY]) {
    throw bad(
      meta[MODEL_KEY]
        ? "it holds model weights only (best.safetensors?); resume needs checkpoint.safetensors"
        : "no lits.checkpoint metadata (a plain safetensors file?)",
    );
  }
  const text = meta[CHECKPOINT_KEY];
  const sum = meta[INFO_CHECKSUM_KEY];
  if (sum !== undefined && sum !== textChecksum(text)) {
    throw bad("metadata checksum mismatch (its epoch, learning rates or state were altered)");
  }
  let info: CheckpointInfo;
  try {
    info = fromJson<CheckpointInfo>(text);
  } catch (e) {
    throw bad(`unreadable metadata: ${(e as Error).message}`);
  }
  if (info?.format !== FORMAT || info.version !== VERSION) {
    throw bad(`format ${info?.format} v${info?.version}, expected ${FORMAT} v${VERSION}`);
  }
  const problem = infoProblem(info);
  if (problem) throw bad(problem);
  let tensors: Map<string, Tensor>;
  try {
    tensors = decodeSafetensors(bytes, path);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const dispose = () => tensors.forEach((t) => t.dispose());
  if (checksum(tensors.values()) !== info.checksum) {
    dispose();
    throw bad("checksum mismatch (the tensor data was altered)");
  }
  const modelState = new Map<string, Tensor>();
  const emaState = new Map<string, Tensor>();
  const state = new Map<number, ParamState>();
  for (const p of info.paramState) state.set(p.index, { step: p.step, tensors: new Map() });
  for (const [name, t] of tensors) {
    if (name.startsWith("model.")) modelState.set(name.slice(6), t);
    else if (name.startsWith("ema.")) emaState.set(name.slice(4), t);
    else {
      const m = name.match(/^optimizer\.(\d+)\.(.+)$/);
      const s = m ? state.get(Number(m[1])) : undefined;
      if (!m || !s) {
        dispose();
        throw bad(`unexpected tensor '${name}'`);
      }
      s.tensors.set(m[2], t);
    }
  }
  return {
    info,
    modelState,
    optimizerState: { state, paramGroups: info.paramGroups },
    emaState,
    dispose,
  };
}

/**
 * Writes the model's weights (PyTorch-loadable names) with its spec in the
 * metadata, so `deno task evaluate` can rebuild it.
 *
 * @example
 * ```ts
 * import { models, train } from "@lits/vision";
 * const spec = { name: "simple", options: { imageSize: 16 } };
 * using model = models.create(spec.name, spec.options);
 * const path = `${await Deno.makeTempDir()}/best.safetensors`;
 * await train.saveWeights(path, model, spec);
 * const w = await train.loadWeights(path);
 * console.log(w.spec?.name, w.state.has("classifier.3.bias")); // simple true
 * w.dispose();
 * ```
 */
export async function saveWeights(
  path: string,
  model: Module,
  spec: ModelSpec,
  extra: Record<string, string> = {},
): Promise<void> {
  checkArity(
    "train.saveWeights",
    arguments.length,
    4,
    'train.saveWeights(path, model, spec, { note: "..." })',
  );
  const bytes = encodeSafetensors(model.stateDict(), {
    metadata: { format: "pt", [MODEL_KEY]: JSON.stringify(spec), ...extra },
  });
  await writeFileAtomic(path, bytes);
}

/** Model weights from a checkpoint or a weights file, with the spec when it has one. */
export interface LoadedWeights {
  /** The model spec stored with the weights, or null (a foreign file). */
  spec: ModelSpec | null;
  /** The run's configuration when the file is a full checkpoint. */
  config: TrainConfig | null;
  /** The state dict (yours to dispose). */
  state: Map<string, Tensor>;
  /**
   * What `saveWeights` recorded beside the weights (best.safetensors: epoch,
   * valLoss; best_ema.safetensors: weights "ema" too); {} for a checkpoint
   * or a foreign file.
   */
  metadata: Record<string, string>;
  /** Frees the tensors. */
  dispose(): void;
}

/**
 * The configuration of the run `weights` (read from `path`) came from: a
 * full checkpoint's own, else the `config.json` beside the file, else null
 * (weights outside a run folder).
 */
export async function runConfigOf(
  weights: LoadedWeights,
  path: string,
): Promise<TrainConfig | null> {
  if (weights.config) return weights.config;
  try {
    return JSON.parse(await Deno.readTextFile(join(dirname(path), "config.json")));
  } catch {
    return null; // not inside a run folder
  }
}

/**
 * Reads model weights from `checkpoint.safetensors`, `best.safetensors`, or
 * any safetensors state dict (PyTorch's included); see `saveWeights` for an
 * example.
 */
export async function loadWeights(path: string): Promise<LoadedWeights> {
  return decodeWeights(await readCheckpointFile(path), path);
}

/**
 * @internal `loadWeights` of the file's bytes, read already (`--weights`
 * decodes the bytes it hashed, never the path a second time).
 */
export function decodeWeights(bytes: Uint8Array, path: string): LoadedWeights {
  let meta: Record<string, string>;
  try {
    meta = safetensorsMetadata(bytes, path);
  } catch (e) {
    throw new Error(`checkpoint ${path} is corrupt or not safetensors: ${(e as Error).message}`);
  }
  if (meta[CHECKPOINT_KEY]) {
    const c = parseCheckpoint(bytes, path);
    c.optimizerState.state.forEach((s) => s.tensors.forEach((t) => t.dispose()));
    c.emaState.forEach((t) => t.dispose());
    return {
      spec: c.info.model,
      config: c.info.config,
      state: c.modelState,
      metadata: {},
      dispose: () => c.modelState.forEach((t) => t.dispose()),
    };
  }
  let state: Map<string, Tensor>;
  try {
    state = decodeSafetensors(bytes, path);
  } catch (e) {
    throw new Error(`checkpoint ${path} is corrupt: ${(e as Error).message}`);
  }
  return {
    spec: meta[MODEL_KEY] ? JSON.parse(meta[MODEL_KEY]) as ModelSpec : null,
    config: null,
    state,
    metadata: meta,
    dispose: () => state.forEach((t) => t.dispose()),
  };
}

/**
 * Loads a state dict into a model, turning a mismatch (a checkpoint of
 * another model or size) into one message that names both.
 */
export function loadModelState(
  model: Module,
  state: Map<string, Tensor>,
  what: string,
  spec: ModelSpec,
): void {
  try {
    model.loadStateDict(state, { strict: true });
  } catch (e) {
    throw new Error(
      `${what} does not fit model ${spec.name} (${JSON.stringify(spec.options)}): ${
        (e as Error).message
      }`,
    );
  }
}
