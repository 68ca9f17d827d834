/**
 * The DataLoader: batches of samples as tensors, with PyTorch's options.
 *
 * Each iteration is one epoch. The sampler fixes the epoch's order from
 * (seed, epoch); sample k of the epoch is augmented with
 * `Rng.forSample(seed, epoch, k)`. Nothing depends on which thread loads
 * what, so the same seed gives the same batches with 0, 1 or 8 workers.
 *
 * Samples are 2-D images `{ data, width, height }`, batched as
 * [N, 1, H, W], or volumes `{ data, width, height, depth, channels? }`
 * ([C, D, H, W] row-major, C = `channels`, default 1; `VolumeDataset` reads
 * them from NIfTI files), batched as [N, C, D, H, W] (a batch's volumes
 * agree in C) and augmented by a volume transform
 * (`transforms.volume.compose([...])`) on host voxels, in workers too.
 * A dataset holds one kind: the first batch of the loader fixes it, and a
 * sample of the other kind (in that batch or a later one, any epoch) stops
 * the loader with an Error naming it.
 *
 * With `workers > 0` and a dataset that has `workerSpec()`, each worker
 * rebuilds the dataset and the transform (from its spec) in its own thread
 * and loads whole batches; up to `workers * prefetch` batches are loading
 * while the model works on the current one, and their pixels come back as
 * transferred buffers (no copy), which go back to their worker for reuse
 * once copied into the batch tensor. Workers start with the iteration and
 * are all terminated when it ends, breaks or fails (with
 * `persistentWorkers`, a complete epoch keeps them for the next until
 * `close()`). Iterate with `for await` (or call the iterator's `return()`):
 * an iterator abandoned half-way keeps its workers, and so the process,
 * alive.
 *
 * Kept workers are shared by every iteration of the loader running at the
 * same time (a new epoch started before the last one ended, two iterators):
 * one that breaks off or fails leaves them to the others, and the last one
 * out decides, as a lone iteration does (keep after a complete epoch, stop
 * otherwise).
 *
 * @module
 */
import { tensor } from "../tensor/ops/creation.ts";
import { disown } from "../tensor/ownership.ts";
import { type Device, type DeviceName, deviceName } from "../tensor/device.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  BatchError,
  type BatchTask,
  BufferPool,
  loadBatch,
  type RawBatch,
  type SampleTransform,
} from "./batch.ts";
import { globalSeed } from "./rng.ts";
import { RandomSampler, type Sampler, SequentialSampler } from "./sampler.ts";
import { checkOrder, toSampler } from "./sampler_input.ts";
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
import { addLoaderNameHints } from "./loader_names.ts";
import { unbatchedFields, unbatchedWarning } from "./sample_form.ts";
import { checkWorkerTransform } from "./worker_transform.ts";
import { WorkerPool } from "./worker_pool.ts";
import {
  type AnyDataset,
  checkCollateFn,
  type CollateFn,
  disownTensors,
  type SampleOf,
} from "./collate.ts";
import { loadSamples } from "./sample_batch.ts";
import {
  checkStreamOptions,
  isIterableDataset,
  streamError,
  streamLength,
  StreamReader,
  streamSampler,
} from "./iterable_loader.ts";
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
  /** Batches in flight per worker (with 0 workers: in total); default 2. */
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
   * or the idle workers keep the process alive.
   */
  persistentWorkers?: boolean;
  /** Device of the batch tensors (default "cpu"). */
  device?: DeviceName;
}

/**
 * One batch. The tensors are yours, wherever the loop runs (inside
 * `noGrad(async ...)` or `scope(async ...)` too): dispose them, iterate with
 * `for await (using b of loader)`, or drop them for the collector. It is also iterable as `[images, labels]`,
 * so PyTorch's `for x, y in loader:` ports as
 * `for await (const [x, y] of loader)` (the named fields stay), and
 * `batch[0]`, `batch[1]` are the same two tensors (MONAI's
 * `batch_data[0].to(device)`).
 */
export interface Batch extends Disposable, Iterable<Tensor> {
  /** [N, 1, H, W] float32, or [N, C, D, H, W] for volume samples. */
  images: Tensor;
  /** [N] int32 class indices. */
  labels: Tensor;
  /** The dataset indices of the N samples. */
  indices: Int32Array;
  /** `images` (read-only, not enumerable: no field of its own). */
  readonly 0: Tensor;
  /** `labels` (read-only, not enumerable). */
  readonly 1: Tensor;
  /** Yields `images`, then `labels`: `const [x, y] = batch`. */
  [Symbol.iterator](): Iterator<Tensor>;
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

/** A worker pool and how many iterations are using it. */
interface Lease {
  pool: WorkerPool;
  users: number;
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

/** "2-D images" or "volumes": what a raw batch holds. */
function kindOf(raw: RawBatch): string {
  return raw.depth > 0 ? "volumes" : "2-D images";
}

/**
 * Iterates a dataset in batches of tensors, as PyTorch's `DataLoader`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const ds = {
 *   length: 10,
 *   get: (i: number) => Promise.resolve({ image: { data: new Float32Array(64).fill(i), width: 8, height: 8 }, label: i % 3 }),
 * };
 * const loader = new data.DataLoader(ds, { batchSize: 4, shuffle: true, seed: 1, transform: data.transforms.ct() });
 * for await (using batch of loader) {
 *   console.log(batch.images.shape, batch.labels.shape); // [4, 1, 8, 8] [4], ..., [2, 1, 8, 8] [2]
 * }
 * // PyTorch's `for x, y in loader:` (a batch is also [images, labels]):
 * for await (const [x, y] of loader) {
 *   console.log(x.shape, y.shape); // [4, 1, 8, 8] [4], ...
 *   x.dispose();
 *   y.dispose();
 * }
 * // torch's collate_fn: samples of any form, batched by your function (or data.defaultCollate).
 * const notes = { length: 3, get: (i: number) => ({ values: new Float32Array(i + 1), id: `p${i}` }) };
 * const padded = new data.DataLoader(notes, {
 *   batchSize: 2,
 *   collateFn: (samples) => ({ lengths: samples.map((s) => s.values.length), ids: samples.map((s) => s.id) }),
 * });
 * for await (const b of padded) console.log(b.lengths, b.ids); // [1, 2] ["p0", "p1"], then [3] ["p2"]
 * ```
 *
 * A dataset may also be a stream of samples (torch's `IterableDataset`; see
 * `data.IterableDataset`): batched in the stream's order, with `workers: 0`.
 */
export class DataLoader<T = Batch, D extends AnyDataset = Dataset>
  implements AsyncIterable<T>, Disposable {
  /** The dataset read. */
  readonly dataset: D;
  /** Samples per batch (1 for `batchSize: null`, where each sample is its own item). */
  readonly batchSize: number;
  /** Whether a short last batch is dropped. */
  readonly dropLast: boolean;
  /** The sampler (sequential, random, or the one given). */
  readonly sampler: Sampler;
  /** The batch sampler given, or null (batches of `batchSize` from `sampler`). */
  readonly batchSampler: BatchSamplerLike | null;
  /** Seconds to wait for a batch (0: for ever). */
  readonly timeout: number;
  /** The augmentation (2-D or volume), or null. */
  readonly transform: Transform | VolumeTransform | null;
  /** Worker threads (0: main thread). */
  readonly workers: number;
  /** Batches in flight per worker. */
  readonly prefetch: number;
  /** Seed of order and augmentation. */
  readonly seed: number;
  /** Whether workers outlive an epoch (until `close()`). */
  readonly persistentWorkers: boolean;
  readonly #device: Device;
  #epoch = 0;
  /** The kept workers (`persistentWorkers`), shared by the iterations running. */
  #kept: Lease | null = null;
  #transformChecked = false;
  /** What the loader's first batch held: every later batch must hold the same. */
  #kind: string | null = null;
  /** Whether it warned of sample fields it does not batch (once per loader). */
  #warnedFields = false;
  /** The dataset as read by index (not for a stream). */
  readonly #source: Dataset;
  /** Whether the dataset is a stream (an iterable dataset). */
  readonly #stream: boolean;
  /** The collateFn, or null (batches of images and labels). */
  readonly #collate: ((samples: unknown) => unknown) | null;
  /** False for torch's batch_size=None: the collateFn gets each sample alone. */
  readonly #autoBatch: boolean = true;

  /** `batchSize: null` (torch's batch_size=None): the collateFn gets one sample at a time. */
  constructor(dataset: D, options: UnbatchedOptions<T, D>);
  /** See `DataLoaderOptions`. */
  constructor(dataset: D, options?: DataLoaderOptions<T, D>);
  constructor(dataset: D, given: DataLoaderOptions<T, D> | UnbatchedOptions<T, D> = {}) {
    checkTorchOnly(given);
    const options = checkContract(
      NEW_DATA_LOADER,
      arguments.length,
      given as DataLoaderOptions,
    ) as Omit<DataLoaderOptions, "batchSize"> & { batchSize?: number | null };
    this.#collate = checkCollateFn(options.collateFn);
    this.#stream = isIterableDataset(dataset);
    if (this.#stream) checkStreamOptions(options);
    else checkDataset("DataLoader", dataset);
    this.dataset = dataset;
    this.#source = dataset as unknown as Dataset;
    if (options.batchSize === null) {
      if (!this.#collate) {
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
      this.#autoBatch = false;
    }
    this.batchSize = positiveInt("batchSize", options.batchSize ?? 1, 1);
    this.dropLast = options.dropLast ?? false;
    this.workers = positiveInt("workers", options.workers ?? 0, 0);
    if (this.workers > MAX_LOADER_WORKERS) {
      // Each worker is a thread with its own V8 heap: 1e6 of them took memory
      // until the process died (torch only warns, and also tries).
      throw new Error(
        `DataLoader: workers ${this.workers} is more than the ${MAX_LOADER_WORKERS} threads a ` +
          `loader starts (this machine has ${navigator.hardwareConcurrency} cores); write ` +
          `{ workers: ${Math.min(navigator.hardwareConcurrency, 8)} }`,
      );
    }
    this.prefetch = positiveInt("prefetch", options.prefetch ?? 2, 1);
    this.seed = options.seed ?? globalSeed();
    if (!Number.isSafeInteger(this.seed)) {
      throw new Error(`DataLoader: seed must be a safe integer, got ${this.seed}`);
    }
    if (options.sampler && options.shuffle) {
      throw new Error("DataLoader: sampler option is mutually exclusive with shuffle");
    }
    this.batchSampler = null;
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
      this.batchSampler = toBatchSampler("DataLoader: batchSampler", options.batchSampler);
    }
    const n = this.#source.length;
    this.sampler = this.#stream
      ? streamSampler()
      : options.sampler !== undefined && options.sampler !== null
      ? toSampler("DataLoader: sampler", options.sampler)
      : this.batchSampler?.sampler ??
        (options.shuffle ? new RandomSampler(n) : new SequentialSampler(n));
    const timeout = options.timeout ?? 0;
    if (typeof timeout !== "number" || !(timeout >= 0) || !Number.isFinite(timeout)) {
      throw new Error(
        `DataLoader: timeout must be a finite number of seconds >= 0 (0: wait for ever), got ` +
          String(timeout),
      );
    }
    this.timeout = timeout;
    const weights = (this.sampler as { numWeights?: number }).numWeights;
    if (weights !== undefined && weights !== n) {
      // Class weights where torch wants one per sample: only indices 0..2 were ever drawn.
      throw new Error(
        `DataLoader: the sampler has ${weights} weights for a dataset of ${n} ` +
          "samples; a WeightedRandomSampler takes one weight per sample (for class weights: " +
          "labels.map((y) => classWeight[y]))",
      );
    }
    this.transform = toTransform(options.transform);
    this.persistentWorkers = options.persistentWorkers ?? false;
    this.#device = deviceName(options.device ?? "cpu");
    if (this.#collate && this.#device !== "cpu") {
      throw new Error(
        `DataLoader: device "${this.#device}" with a collateFn: the loader does not move what ` +
          "your collateFn returns; make its tensors there (tensor(values, shape, { device: " +
          '"cuda" })) or move them in the loop (x.to("cuda")), and leave device out',
      );
    }
    // Fail here, not in every batch of a worker, on a transform workers cannot rebuild.
    if (this.workers > 0 && this.#source.workerSpec?.()) this.#checkTransform();
  }

  /** Batches per epoch (torch's `len(loader)`). */
  get length(): number {
    if (this.#stream) return streamLength(this.dataset, this.batchSize, this.dropLast);
    if (this.batchSampler) return this.batchSampler.length;
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next iteration uses (it advances by one at each iteration's start). */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Sets the epoch the next iteration uses (as DistributedSampler.set_epoch).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const ds = { length: 4, get: (i: number) => Promise.resolve({ image: { data: new Float32Array(1), width: 1, height: 1 }, label: i }) };
   * const loader = new data.DataLoader(ds, { shuffle: true });
   * loader.setEpoch(3);
   * console.log(loader.epoch); // 3
   * ```
   */
  setEpoch(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      throw new Error(`DataLoader.setEpoch: epoch must be a non-negative integer, got ${epoch}`);
    }
    this.#epoch = epoch;
  }

  /** The epoch's batch tasks. */
  #tasks(epoch: number): BatchTask[] {
    const offset = this.sampler.positionOffset ?? 0, stride = this.sampler.positionStride ?? 1;
    const tasks: BatchTask[] = [];
    const n = this.#source.length;
    if (this.batchSampler) {
      let start = 0;
      for (const indices of this.batchSampler.batches(epoch, this.seed)) {
        checkOrder(
          `DataLoader: epoch ${epoch}: batch ${tasks.length} of the batchSampler`,
          indices,
          n,
        );
        tasks.push({ id: tasks.length, epoch, seed: this.seed, start, offset, stride, indices });
        start += indices.length;
      }
      return tasks;
    }
    const order = this.sampler.indices(epoch, this.seed);
    checkOrder(`DataLoader: epoch ${epoch}: the sampler`, order, n);
    for (let start = 0, id = 0; start < order.length; start += this.batchSize, id++) {
      const indices = order.slice(start, start + this.batchSize);
      if (this.dropLast && indices.length < this.batchSize) break;
      tasks.push({ id, epoch, seed: this.seed, start, offset, stride, indices });
    }
    return tasks;
  }

  #toBatch(raw: RawBatch, indices: Int32Array): Batch {
    const n = raw.labels.length;
    const shape = raw.depth > 0
      ? [n, raw.channels, raw.depth, raw.height, raw.width]
      : [n, 1, raw.height, raw.width];
    const images = tensor(raw.images, shape, { device: this.#device });
    let labels: Tensor;
    try {
      labels = tensor(raw.labels, [n], { dtype: "int32", device: this.#device });
    } catch (e) {
      images.dispose();
      throw e;
    }
    // Yours wherever the loop runs: inside noGrad(async ...) the chain would
    // otherwise hold every batch until the loop ends.
    disown(images);
    disown(labels);
    const batch: Omit<Batch, 0 | 1> = {
      images,
      labels,
      indices,
      [Symbol.dispose]() {
        images.dispose();
        labels.dispose();
      },
      *[Symbol.iterator]() {
        yield images;
        yield labels;
      },
    };
    // Not enumerable: keys, spreading and JSON see the named fields only.
    return Object.defineProperties(batch, { 0: { value: images }, 1: { value: labels } }) as Batch;
  }

  /** One epoch of batches; its workers (unless kept or shared) live as long as this iteration. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const epoch = this.#epoch++;
    if (this.#stream) return yield* this.#streamEpoch(epoch);
    const tasks = this.#tasks(epoch);
    if (tasks.length === 0) return;
    const lease = this.#acquire();
    const pool = lease?.pool ?? null;
    const transform: SampleTransform | null = this.transform;
    const buffers = new BufferPool();
    const collate = this.#collate;
    const run = pool
      ? (t: BatchTask) => collate ? pool.runSamples(t) : pool.run(t)
      : (t: BatchTask) =>
        collate
          ? loadSamples(this.#source, transform, t)
          : loadBatch(this.#watched(), transform, t, buffers);
    const depth = pool ? this.workers * this.prefetch : this.prefetch;
    const inflight: Promise<RawBatch | unknown[]>[] = [];
    const start = (t: BatchTask) => {
      const p = run(t);
      p.catch(() => {}); // awaited in order below; this only marks it handled meanwhile
      inflight.push(p);
    };
    let finished = false;
    try {
      let next = 0;
      while (next < tasks.length && inflight.length < depth) start(tasks[next++]);
      for (const task of tasks) {
        let got: RawBatch | unknown[];
        try {
          got = await this.#waitFor(inflight.shift()!);
        } catch (e) {
          throw this.#wrap(e, task);
        }
        // Refill before handing the batch out, so loading overlaps the consumer's work.
        if (next < tasks.length) start(tasks[next++]);
        if (collate) {
          yield await this.#collated(got as unknown[], task);
          continue;
        }
        const raw = got as RawBatch;
        this.#checkKind(raw, task);
        const batch = this.#toBatch(raw, task.indices);
        // The pixels now live in the tensor: the buffer goes back to be refilled.
        if (pool) pool.recycle(raw.images);
        else buffers.give(raw.images);
        yield batch as T;
      }
      finished = true;
    } finally {
      if (lease) this.#release(lease, finished, inflight);
    }
  }

  /**
   * One epoch over a stream (an iterable dataset): batches in the stream's
   * order, sample k of the epoch augmented with `Rng.forSample(seed, epoch,
   * k)`; the stream is ended (its `finally` blocks run) when the loop breaks.
   */
  async *#streamEpoch(epoch: number): AsyncGenerator<T> {
    const reader = new StreamReader(this.dataset as Iterable<unknown>, epoch);
    const size = this.#autoBatch ? this.batchSize : 1;
    try {
      for (let id = 0;; id++) {
        const start = reader.position;
        let items: unknown[];
        try {
          items = await this.#waitFor(reader.take(size), "the dataset's iterator did not yield");
        } catch (e) {
          throw new Error(`DataLoader: batch ${id} of epoch ${epoch}: ${(e as Error).message}`, {
            cause: e,
          });
        }
        if (items.length === 0 || (this.dropLast && items.length < size)) return;
        const indices = Int32Array.from(items, (_, k) => start + k);
        const task: BatchTask = {
          id,
          epoch,
          seed: this.seed,
          start,
          offset: 0,
          stride: 1,
          indices,
        };
        const chunk = { length: start + items.length, get: (i: number) => items[i - start] };
        let got: RawBatch | unknown[];
        try {
          got = this.#collate
            ? await loadSamples(chunk, this.transform, task)
            : await loadBatch(this.#watched(chunk as Dataset), this.transform, task);
        } catch (e) {
          throw this.#wrap(streamError(e), task, "stream items");
        }
        if (this.#collate) {
          yield await this.#collated(got as unknown[], task, "stream items");
          continue;
        }
        this.#checkKind(got as RawBatch, task);
        yield this.#toBatch(got as RawBatch, indices) as T;
      }
    } finally {
      await reader.close();
    }
  }

  /** What the collateFn makes of a batch's samples; its tensors handed to the caller. */
  async #collated(samples: unknown[], task: BatchTask, what = "samples"): Promise<T> {
    let out: unknown;
    try {
      out = await this.#collate!(this.#autoBatch ? samples : samples[0]);
    } catch (e) {
      const err = new Error(`collateFn threw: ${(e as Error)?.message ?? String(e)}`);
      throw this.#wrap(err, task, what, e);
    }
    disownTensors(out);
    return out as T;
  }

  /** `p`, or an Error once `timeout` seconds have passed without it (torch's `timeout`). */
  #waitFor<R>(p: Promise<R>, stalled?: string): Promise<R> {
    if (this.timeout === 0) return p;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new Error(
            `timed out after ${this.timeout} s waiting for the batch (timeout: ${this.timeout}); ` +
              (stalled ??
                `the dataset's get(i) ${
                  this.workers > 0 ? "(or a worker) " : ""
                }did not settle for one of its samples`),
          ),
        );
      }, this.timeout * 1000);
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  }

  /**
   * The dataset as the main thread reads it: until the loader has warned,
   * each sample is looked at for fields the batch leaves out (`landmarks`
   * beside image and label), which torch's collate would have stacked.
   */
  #watched(dataset: Dataset = this.#source): Dataset {
    if (this.#warnedFields) return dataset;
    const get = async (i: number) => {
      const sample = await dataset.get(i);
      const fields = this.#warnedFields ? [] : unbatchedFields(sample);
      if (fields.length > 0) {
        this.#warnedFields = true;
        console.warn(unbatchedWarning(fields));
      }
      return sample;
    };
    return { length: dataset.length, get };
  }

  /** The epoch's workers: the kept pool, a new one, or null for the main thread. */
  #acquire(): Lease | null {
    const spec = this.workers > 0 ? this.#source.workerSpec?.() : undefined;
    if (!spec) return null;
    const kept = this.#kept;
    if (kept && !kept.pool.broken) {
      kept.users++;
      return kept;
    }
    // A crashed kept pool nobody uses would otherwise be left running.
    if (kept && kept.users === 0) kept.pool.close();
    this.#checkTransform();
    const lease = {
      // No more workers than the epoch has batches: each costs a thread and a heap.
      pool: new WorkerPool(Math.max(1, Math.min(this.workers, this.length)), {
        module: spec.module,
        spec: spec.spec,
        transform: this.transform?.spec ?? null,
      }),
      users: 1,
    };
    if (this.persistentWorkers) this.#kept = lease;
    return lease;
  }

  /**
   * An iteration is done with its workers. The last one to leave a pool
   * stops it, unless the pool is the kept one and that iteration completed
   * its epoch: after a break or an error the workers may still be busy with
   * batches nobody will read. While others use it the pool stays, and the
   * batches still loading for this iteration go back to it when they arrive.
   */
  #release(lease: Lease, finished: boolean, inflight: Promise<RawBatch | unknown[]>[]): void {
    const { pool } = lease;
    if (--lease.users > 0) {
      // Samples for a collateFn have no pooled buffer to give back.
      if (this.#collate) return;
      for (const p of inflight) p.then((raw) => pool.recycle((raw as RawBatch).images), () => {});
      return;
    }
    const kept = lease === this.#kept;
    if (kept && finished && !pool.broken) return;
    pool.close();
    if (kept) this.#kept = null;
  }

  /** Throws unless `raw` holds the kind of sample the loader's first batch held. */
  #checkKind(raw: RawBatch, task: BatchTask): void {
    if (raw.labels.length === 0) return;
    const kind = kindOf(raw);
    this.#kind ??= kind;
    if (kind === this.#kind) return;
    const got = raw.depth > 0
      ? `a ${raw.depth}x${raw.height}x${raw.width} volume (d x h x w)`
      : `a ${raw.width}x${raw.height} image (w x h)`;
    throw new Error(
      `DataLoader: batch ${task.id} of epoch ${task.epoch}: sample ${task.indices[0]} is ` +
        `${got} but the loader's earlier batches held ${this.#kind}; a dataset holds only ` +
        `2-D images { data, width, height } or only volumes { data, width, height, depth }`,
    );
  }

  /** Once: throws unless worker threads can rebuild the transform. */
  #checkTransform(): void {
    if (this.#transformChecked) return;
    if (this.transform) checkWorkerTransform(this.transform);
    this.#transformChecked = true;
  }

  /**
   * Terminates kept workers (`persistentWorkers`); the loader stays usable
   * and starts new ones if iterated again.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const ds = { length: 2, get: (i: number) => Promise.resolve({ image: { data: new Float32Array(1), width: 1, height: 1 }, label: i }) };
   * using loader = new data.DataLoader(ds, { persistentWorkers: true });
   * for await (using b of loader) console.log(b.labels.shape); // [1], then [1]
   * loader.close();
   * ```
   */
  close(): void {
    const kept = this.#kept;
    this.#kept = null;
    kept?.pool.close();
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `e` as the loader reports it: the batch, and its samples unless one is named. */
  #wrap(e: unknown, task: BatchTask, what = "samples", cause: unknown = e): Error {
    const err = e as Error;
    const where = err instanceof BatchError && err.index !== undefined
      ? `batch ${task.id} of epoch ${task.epoch}`
      : `batch ${task.id} of epoch ${task.epoch} (${what} ${[...task.indices.slice(0, 8)]}${
        task.indices.length > 8 ? ", ..." : ""
      })`;
    return new Error(`DataLoader: ${where}: ${err?.message ?? String(e)}`, { cause });
  }
}

// torch's attribute names (`loader.batch_size`) throw, naming ours.
addLoaderNameHints(DataLoader.prototype);
