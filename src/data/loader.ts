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
import type { Device } from "../tensor/device.ts";
import {
  BatchError,
  type BatchTask,
  BufferPool,
  loadBatch,
  type RawBatch,
  type SampleTransform,
} from "./batch.ts";
import type { Sampler } from "./sampler.ts";
import { checkOrder } from "./sampler_input.ts";
import type { BatchSamplerLike } from "./batch_sampler.ts";
import type { Transform } from "./transforms/transform.ts";
import type { VolumeTransform } from "./transforms/volume/transform.ts";
import type { Dataset } from "./types.ts";
import { addLoaderNameHints } from "./loader_names.ts";
import { unbatchedFields, unbatchedWarning } from "./sample_form.ts";
import { checkWorkerTransform } from "./worker_transform.ts";
import { WorkerPool } from "./worker_pool.ts";
import { type AnyDataset, disownTensors } from "./collate.ts";
import { loadSamples } from "./sample_batch.ts";
import { streamEpoch, streamLength } from "./iterable_loader.ts";
import { type Batch, checkKind, toBatch } from "./loader_batch.ts";
import { type DataLoaderOptions, settleOptions, type UnbatchedOptions } from "./loader_options.ts";

export type { Batch, DataLoaderOptions, UnbatchedOptions };

/** A worker pool and how many iterations are using it. */
interface Lease {
  pool: WorkerPool;
  users: number;
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
  readonly #autoBatch: boolean;

  /** `batchSize: null` (torch's batch_size=None): the collateFn gets one sample at a time. */
  constructor(dataset: D, options: UnbatchedOptions<T, D>);
  /** See `DataLoaderOptions`. */
  constructor(dataset: D, options?: DataLoaderOptions<T, D>);
  constructor(dataset: D, given: DataLoaderOptions<T, D> | UnbatchedOptions<T, D> = {}) {
    const settled = settleOptions(dataset, given, arguments.length);
    this.dataset = dataset;
    this.#source = dataset as unknown as Dataset;
    this.#collate = settled.collate;
    this.#stream = settled.stream;
    this.#autoBatch = settled.autoBatch;
    this.batchSize = settled.batchSize;
    this.dropLast = settled.dropLast;
    this.workers = settled.workers;
    this.prefetch = settled.prefetch;
    this.seed = settled.seed;
    this.batchSampler = settled.batchSampler;
    this.sampler = settled.sampler;
    this.timeout = settled.timeout;
    this.transform = settled.transform;
    this.persistentWorkers = settled.persistentWorkers;
    this.#device = settled.device;
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
        const batch = toBatch(raw, task.indices, this.#device);
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

  /** One epoch over a stream (an iterable dataset): see `streamEpoch`. */
  #streamEpoch(epoch: number): AsyncGenerator<T> {
    return streamEpoch<T>(epoch, {
      dataset: this.dataset as Iterable<unknown>,
      size: this.#autoBatch ? this.batchSize : 1,
      seed: this.seed,
      dropLast: this.dropLast,
      waitFor: <R>(p: Promise<R>, stalled: string) => this.#waitFor(p, stalled),
      load: (chunk: Dataset, task: BatchTask) =>
        this.#collate
          ? loadSamples(chunk, this.transform, task)
          : loadBatch(this.#watched(chunk), this.transform, task),
      wrap: (e: unknown, task: BatchTask, what: string) => this.#wrap(e, task, what),
      emit: (got: unknown, task: BatchTask) => {
        if (this.#collate) return this.#collated(got as unknown[], task, "stream items");
        this.#checkKind(got as RawBatch, task);
        return toBatch(got as RawBatch, task.indices, this.#device) as T;
      },
    });
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
    this.#kind = checkKind(raw, task, this.#kind);
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
   * using loader = new data.DataLoader(ds, { workers: 2, persistentWorkers: true });
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
