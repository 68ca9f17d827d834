/**
 * The DataLoader's options: their types (PyTorch's names, camelCase), the
 * torch options that have no counterpart here, and the checks that turn
 * what a user passes into the loader's settings, or throw an Error saying
 * what to write.
 *
 * @module
 */
import { type Device, type DeviceName, deviceName } from "../tensor/device.ts";
import { globalSeed } from "./rng.ts";
import { RandomSampler, type Sampler, SequentialSampler } from "./sampler.ts";
import { toSampler } from "./sampler_input.ts";
import { type BatchSamplerLike, toBatchSampler } from "./batch_sampler.ts";
import { checkDataset } from "./dataset_common.ts";
import { compose } from "./transforms/compose.ts";
import { Transform, type TransformSpec } from "./transforms/transform.ts";
import { compose as composeVolume } from "./transforms/volume/compose.ts";
import {
  PREFIX as VOLUME_PREFIX,
  VolumeTransform,
  type VolumeTransformSpec,
} from "./transforms/volume/transform.ts";
import type { Dataset } from "./types.ts";
import { checkCollateFn, type CollateFn, type SampleOf } from "./collate.ts";
import { checkStreamOptions, isIterableDataset, streamSampler } from "./iterable_loader.ts";
import type { Batch } from "./loader_batch.ts";
import { type CallContract, checkContract } from "../options.ts";

/** The most worker threads a DataLoader starts (each has its own V8 heap). */
const MAX_LOADER_WORKERS = 256;

/**
 * Options of `DataLoader` (PyTorch's names, camelCase). `T` is what the
 * loader yields (`Batch` without a `collateFn`), `D` the dataset.
 */
export interface DataLoaderOptions<T = Batch, D = Dataset> {
  /** Samples per batch (default 1; `null`, torch's None, needs a `collateFn`). */
  batchSize?: number;
  /**
   * Makes each batch from the list of its samples (torch's `collate_fn`):
   * the loader yields what it returns (awaited if a promise), and the dataset's samples
   * may then have any form (a dict with a patient id, variable-size inputs).
   * `data.defaultCollate` is torch's `default_collate`. Without it batches
   * are `Batch` (images, labels). It runs on the main thread, also with
   * `workers > 0`: the workers read and augment the samples and send them
   * over (copied; plain data only: typed arrays, numbers, strings, arrays,
   * plain objects), as a function cannot be sent to a worker thread. A
   * `transform` augments each sample's `image` first (samples then need
   * `{ image, label, ...more }`). The tensors in what it returns are yours,
   * as a `Batch`'s are; it cannot be combined with `device: "cuda"` (make
   * the tensors there in the collateFn, or move them in the loop).
   */
  collateFn?: CollateFn<T, SampleOf<D>>;
  /** Visit samples in a new seeded random order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /**
   * Augmentation: a transform (e.g. `transforms.ct()`), a spec, or a list of
   * them; for volume samples a volume transform (`transforms.volume.compose([...])`),
   * its spec, or a list of volume transforms.
   */
  transform?:
    | Transform
    | TransformSpec
    | readonly (Transform | TransformSpec)[]
    | VolumeTransform
    | VolumeTransformSpec
    | readonly (VolumeTransform | VolumeTransformSpec)[];
  /**
   * Seed of shuffling, sampling and augmentation (default: drawn from the
   * global stream at construction, so `manualSeed` fixes it, as torch's
   * global generator seeds PyTorch's DataLoader).
   */
  seed?: number;
  /**
   * Worker threads; 0 loads on the main thread (default 0, as PyTorch). At
   * most 256, and an epoch starts no more of them than it has batches.
   */
  workers?: number;
  /**
   * Batches in flight per worker (torch's `prefetch_factor`); default 2.
   * With 0 workers it is the main thread's read-ahead in total (torch 1.13
   * refuses a `prefetch_factor` other than 2 there).
   */
  prefetch?: number;
  /**
   * Chooses each epoch's indices: a `Sampler`, or (as torch's) an array of
   * dataset indices, the same every epoch; excludes `shuffle`.
   */
  sampler?: Sampler | ArrayLike<number>;
  /**
   * Chooses each epoch's batches (torch's `batch_sampler`): a
   * `data.BatchSampler`, your own `{ length, batches(epoch, seed) }`, or an
   * array of index arrays; excludes `batchSize`, `shuffle`, `sampler` and
   * `dropLast`.
   */
  batchSampler?: BatchSamplerLike | readonly ArrayLike<number>[];
  /**
   * Seconds to wait for one batch before failing with an Error that names
   * it (torch's `timeout`; default 0, wait for ever): the way out of a
   * dataset whose `get` never settles. Main-thread loading too.
   */
  timeout?: number;
  /**
   * Keep the workers between epochs (default false, as PyTorch's
   * `persistent_workers`): saves their start-up (module loading, JIT warm-up)
   * every epoch, but then `close()` the loader, or declare it with `using`,
   * or the idle workers keep the process alive. Needs `workers > 0`, as
   * torch's.
   */
  persistentWorkers?: boolean;
  /** Device of the batch tensors (default "cpu"). */
  device?: DeviceName;
}

/**
 * The options of torch's `batch_size=None` (no automatic batching): the
 * `collateFn` gets one sample at a time (a sample's position is its batch),
 * and `dropLast` is refused, as torch's.
 */
export interface UnbatchedOptions<T, D = Dataset>
  extends Omit<DataLoaderOptions<T, D>, "batchSize" | "collateFn" | "dropLast"> {
  /** torch's None: one sample per item, given to `collateFn` as it is. */
  batchSize: null;
  /** Makes one item from one sample. */
  collateFn: (sample: SampleOf<D>) => T | Promise<T>;
  /** Only false: there is no batch to drop. */
  dropLast?: false;
}

const NEW_DATA_LOADER: CallContract<DataLoaderOptions> = {
  where: "data.DataLoader",
  most: 2,
  known: [
    "batchSize",
    "shuffle",
    "dropLast",
    "transform",
    "seed",
    "workers",
    "prefetch",
    "sampler",
    "batchSampler",
    "persistentWorkers",
    "device",
    "timeout",
    "collateFn",
  ],
  usage: "new data.DataLoader(dataset, { batchSize: 32, shuffle: true, dropLast: true })",
};

/** torch's DataLoader options that have no counterpart here, and what to write instead. */
const TORCH_ONLY: Record<string, string> = {
  generator: "torch's generator=torch.Generator().manual_seed(0) is { seed: 0 } here (the " +
    "seed of the order and the augmentation)",
  workerInitFn: "not needed: each sample draws from its own stream (Rng.forSample(seed, " +
    "epoch, k)), so one seed gives the same batches with any number of workers; leave it out " +
    "and pass { seed }",
  pinMemory: 'batches are made on the loader\'s device: { device: "cuda" } gives CUDA ' +
    "tensors (there is no pinned host copy to ask for)",
  multiprocessingContext: "workers are threads here (Web Workers), started the one way; " +
    "leave it out",
};
TORCH_ONLY.worker_init_fn = TORCH_ONLY.workerInitFn;
TORCH_ONLY.pin_memory = TORCH_ONLY.pinMemory;
TORCH_ONLY.multiprocessing_context = TORCH_ONLY.multiprocessingContext;

/** Throws for an option of torch's that has no counterpart here, saying what to write. */
function checkTorchOnly(options: unknown): void {
  if (options === null || typeof options !== "object") return;
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(TORCH_ONLY, key)) {
      throw new Error(`${NEW_DATA_LOADER.where}: unknown option '${key}': ${TORCH_ONLY[key]}`);
    }
  }
}

function positiveInt(key: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`DataLoader: ${key} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}

/** Whether `t` (a transform or a spec) is of the volume family. */
function isVolume(t: unknown): boolean {
  if (t instanceof VolumeTransform) return true;
  const name = (t as { name?: unknown } | null)?.name;
  return !(t instanceof Transform) && typeof name === "string" && name.startsWith(VOLUME_PREFIX);
}

function toTransform(t: DataLoaderOptions["transform"]): Transform | VolumeTransform | null {
  if (t === undefined || t === null) return null;
  if (t instanceof Transform || t instanceof VolumeTransform) return t;
  const list = (Array.isArray(t) ? t : [t]) as readonly unknown[];
  // A list with any volume transform is a volume pipeline (whose Compose
  // refuses a 2-D member, naming it); otherwise a 2-D one, as before.
  if (list.some(isVolume)) return composeVolume(list as VolumeTransformSpec[]);
  return compose(list as TransformSpec[]);
}

/** A DataLoader's options, checked and settled: what its constructor keeps. */
export interface LoaderSettings {
  /** The collateFn, or null (batches of images and labels). */
  collate: ((samples: unknown) => unknown) | null;
  /** Whether the dataset is a stream (an iterable dataset). */
  stream: boolean;
  /** False for torch's batch_size=None: the collateFn gets each sample alone. */
  autoBatch: boolean;
  batchSize: number;
  dropLast: boolean;
  workers: number;
  prefetch: number;
  seed: number;
  sampler: Sampler;
  batchSampler: BatchSamplerLike | null;
  timeout: number;
  transform: Transform | VolumeTransform | null;
  persistentWorkers: boolean;
  device: Device;
}

/**
 * Checks `new DataLoader(dataset, given)` (`nargs` arguments) and settles
 * every option; the checks run in a fixed order, so a call with several
 * faults always names the same one.
 */
export function settleOptions(dataset: unknown, given: unknown, nargs: number): LoaderSettings {
  checkTorchOnly(given);
  const options = checkContract(
    NEW_DATA_LOADER,
    nargs,
    given as DataLoaderOptions,
  ) as Omit<DataLoaderOptions, "batchSize"> & { batchSize?: number | null };
  const collate = checkCollateFn(options.collateFn);
  const stream = isIterableDataset(dataset);
  if (stream) checkStreamOptions(options);
  else checkDataset("DataLoader", dataset);
  let autoBatch = true;
  if (options.batchSize === null) {
    if (!collate) {
      // torch's batch_size=None yields each sample unbatched; `?? 1` made it batches of one.
      throw new Error(
        "DataLoader: batchSize: null (torch's batch_size=None, no batching) is not supported " +
          "without a collateFn: a batch here is [N, 1, H, W] images and [N] labels; pass " +
          "collateFn: (sample) => ... (it then gets one sample at a time), read samples one " +
          "at a time with await dataset.get(i), or take { batchSize: 1 } and " +
          "batch.images.squeeze(0)",
      );
    }
    if (options.dropLast) {
      throw new Error(
        "DataLoader: batchSize: null (torch's batch_size=None) option disables auto-batching " +
          "and is mutually exclusive with dropLast",
      );
    }
    autoBatch = false;
  }
  const batchSize = positiveInt("batchSize", options.batchSize ?? 1, 1);
  const dropLast = options.dropLast ?? false;
  const workers = positiveInt("workers", options.workers ?? 0, 0);
  if (workers > MAX_LOADER_WORKERS) {
    // Each worker is a thread with its own V8 heap: 1e6 of them took memory
    // until the process died (torch only warns, and also tries).
    throw new Error(
      `DataLoader: workers ${workers} is more than the ${MAX_LOADER_WORKERS} threads a ` +
        `loader starts (this machine has ${navigator.hardwareConcurrency} cores); write ` +
        `{ workers: ${Math.min(navigator.hardwareConcurrency, 8)} }`,
    );
  }
  const prefetch = positiveInt("prefetch", options.prefetch ?? 2, 1);
  const seed = options.seed ?? globalSeed();
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`DataLoader: seed must be a safe integer, got ${seed}`);
  }
  if (options.sampler && options.shuffle) {
    throw new Error("DataLoader: sampler option is mutually exclusive with shuffle");
  }
  let batchSampler: BatchSamplerLike | null = null;
  if (options.batchSampler !== undefined && options.batchSampler !== null) {
    const clash = (["batchSize", "shuffle", "sampler", "dropLast"] as const).filter((k) =>
      k === "batchSize"
        ? options.batchSize !== undefined && options.batchSize !== 1
        : k === "sampler"
        ? options.sampler !== undefined && options.sampler !== null
        : Boolean(options[k])
    );
    if (clash.length > 0) {
      // torch's ValueError: the batch sampler already decides all of these.
      throw new Error(
        `DataLoader: batchSampler is mutually exclusive with batchSize, shuffle, sampler and ` +
          `dropLast (got ${clash.join(", ")}); give them to the batch sampler: ` +
          "new data.BatchSampler(sampler, batchSize, dropLast)",
      );
    }
    batchSampler = toBatchSampler("DataLoader: batchSampler", options.batchSampler);
  }
  const n = (dataset as Dataset).length;
  const sampler = stream
    ? streamSampler()
    : options.sampler !== undefined && options.sampler !== null
    ? toSampler("DataLoader: sampler", options.sampler)
    : batchSampler?.sampler ??
      (options.shuffle ? new RandomSampler(n) : new SequentialSampler(n));
  const timeout = options.timeout ?? 0;
  if (typeof timeout !== "number" || !(timeout >= 0) || !Number.isFinite(timeout)) {
    // String(timeout) showed { timeout: "1" } as "got 1", which read as a valid value.
    const got = typeof timeout === "number"
      ? String(timeout)
      : `${typeof timeout} ${JSON.stringify(timeout) ?? String(timeout)}`;
    const hint = typeof timeout === "string" && Number(timeout) >= 0
      ? `; write { timeout: ${Number(timeout)} }`
      : "";
    throw new Error(
      `DataLoader: timeout must be a finite number of seconds >= 0 (0: wait for ever), got ` +
        got + hint,
    );
  }
  const weights = (sampler as { numWeights?: number }).numWeights;
  if (weights !== undefined && weights !== n) {
    // Class weights where torch wants one per sample: only indices 0..2 were ever drawn.
    throw new Error(
      `DataLoader: the sampler has ${weights} weights for a dataset of ${n} ` +
        "samples; a WeightedRandomSampler takes one weight per sample (for class weights: " +
        "labels.map((y) => classWeight[y]))",
    );
  }
  const transform = toTransform(options.transform);
  const persistentWorkers = options.persistentWorkers ?? false;
  if (typeof persistentWorkers !== "boolean") {
    throw new Error(
      `DataLoader: persistentWorkers must be true or false, got ${typeof persistentWorkers} ` +
        String(JSON.stringify(persistentWorkers)),
    );
  }
  if (persistentWorkers && workers === 0) {
    // torch's ValueError; here it was kept and silently did nothing.
    throw new Error(
      "DataLoader: persistentWorkers: true needs workers > 0 (torch: 'persistent_workers " +
        "option needs num_workers > 0'): with workers: 0 the batches load on the main " +
        "thread and there are no workers to keep; write { workers: 2, persistentWorkers: " +
        "true }, or leave persistentWorkers out",
    );
  }
  const device = deviceName(options.device ?? "cpu");
  if (collate && device !== "cpu") {
    throw new Error(
      `DataLoader: device "${device}" with a collateFn: the loader does not move what ` +
        "your collateFn returns; make its tensors there (tensor(values, shape, { device: " +
        '"cuda" })) or move them in the loop (x.to("cuda")), and leave device out',
    );
  }
  return {
    collate,
    stream,
    autoBatch,
    batchSize,
    dropLast,
    workers,
    prefetch,
    seed,
    sampler,
    batchSampler,
    timeout,
    transform,
    persistentWorkers,
    device,
  };
}
