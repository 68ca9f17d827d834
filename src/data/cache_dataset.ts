/**
 * `CacheDataset`: MONAI's `CacheDataset` (`monai.data.CacheDataset`). The
 * wrapped dataset's `get(i)` (file reading plus its deterministic
 * transforms) runs once per cached item, when the cache fills; its samples
 * stay in memory, and only the loader's random transforms run every epoch.
 *
 * The cached voxels live in a few large `SharedArrayBuffer`s: a loader
 * worker gets this dataset's `workerSpec()`, whose structured clone shares
 * those buffers instead of copying them, so `workers: 2` reads the same
 * memory, every epoch, and no worker decodes a file again.
 *
 * @module
 */
import { type CallContract, checkContract } from "../options.ts";
import {
  cheapLabels,
  checkDataset,
  countClasses,
  describe,
  type LabelsOf,
  openSpec,
  specOf,
  type WorkerSpec,
  wrapIndex,
} from "./dataset_common.ts";
import type { FillGet, FillInit } from "./cache_dataset_worker.ts";
import { checkSample } from "./sample_form.ts";
import type { Dataset, Sample, Volume, VolumeSample } from "./types.ts";

/** Options of `CacheDataset.create` (MONAI's names, camelCase). */
export interface CacheDatasetOptions {
  /**
   * The most items to cache (MONAI's `cache_num`; default all). The cache
   * holds the first `min(cacheNum, floor(length * cacheRate), length)` items;
   * the others are read through `get(i)` of the wrapped dataset on every call.
   */
  cacheNum?: number;
  /** The share of the items to cache, in [0, 1] (MONAI's `cache_rate`; default 1). */
  cacheRate?: number;
  /**
   * How many items are read at once while the cache fills (MONAI's
   * `num_workers`; default 1; null: one per CPU core, as MONAI's None). With
   * 2 or more and a wrapped dataset that has a `workerSpec()` (VolumeDataset,
   * LiTSDataset, TensorDataset and wrappers of them), that many worker
   * threads read it; otherwise the main thread keeps that many `get(i)`
   * calls in flight.
   */
  numWorkers?: number | null;
  /**
   * Whether `get(i)` hands out a copy of a cached sample (MONAI's
   * `copy_cache`; default true), so that editing it in place cannot change
   * the cache. With false it hands out a view of the cache itself: faster,
   * but writing into `image.data` then changes that item for every later
   * epoch and every worker. The loader's workers always read views: they
   * copy each sample into the batch and never write it.
   */
  copyCache?: boolean;
  /** Print "Loading dataset: k/n" to stderr while the cache fills (default false). */
  progress?: boolean;
}

const WHERE = "data.CacheDataset";
const USAGE = "await data.CacheDataset.create(dataset, { cacheRate: 1.0, numWorkers: 2 })";

const CREATE: CallContract<CacheDatasetOptions> = {
  where: `${WHERE}.create`,
  most: 2,
  known: ["cacheNum", "cacheRate", "numWorkers", "copyCache", "progress"],
  usage: USAGE,
};

/**
 * Floats per shared buffer (64 MiB): samples are packed into a few large
 * buffers rather than one each (35,000 LiTS slices would be 35,000), and a
 * buffer's last float is never handed out, so no sample's view spans a
 * whole buffer (the transforms' `recycle` pool takes only such arrays).
 */
const CHUNK = 16 << 20;

/** The cache as plain data: what a worker spec carries (the chunks shared, the rest copied). */
interface StoreSpec {
  /** The voxels, samples packed one after another. */
  chunks: SharedArrayBuffer[];
  /** Per item: its chunk. */
  chunk: Int32Array;
  /** Per item: its first float within the chunk. */
  offset: Float64Array;
  /** Per item: depth, height, width (depth 0 for a 2-D image). */
  dims: Int32Array;
  /** Per item: a volume's channels, or 0 where the sample gave none (one). */
  channels: Int32Array;
  /** Per item: the volume's spacing along D, H, W, or NaN where it has none. */
  spacing: Float64Array;
  /** Per item: its label. */
  labels: Int32Array;
}

/** The cached samples: filled once, read many times (from any thread). */
class Store {
  readonly spec: StoreSpec;
  /** Bytes of cached voxels. */
  bytes: number;
  #used = 0;
  #filled = 0;

  /** A filled store (a worker's), or an empty one to fill. */
  constructor(spec: StoreSpec, filled = true) {
    this.spec = spec;
    this.bytes = filled ? Store.bytesOf(spec) : 0;
  }

  static empty(n: number): Store {
    return new Store({
      chunks: [],
      chunk: new Int32Array(n),
      offset: new Float64Array(n),
      dims: new Int32Array(3 * n),
      channels: new Int32Array(n),
      spacing: new Float64Array(3 * n).fill(NaN),
      labels: new Int32Array(n),
    }, false);
  }

  get count(): number {
    return this.spec.labels.length;
  }

  /** Copies sample `k` (already checked) into shared memory. */
  put(k: number, { image, label }: Sample | VolumeSample): void {
    const s = this.spec, size = image.data.length;
    let last = s.chunks.length - 1;
    const room = last < 0 ? 0 : s.chunks[last].byteLength / 4 - 1 - this.#used;
    if (size > room) {
      // Sized for the items still to come when they are alike (a small dataset: one buffer).
      const floats = Math.max(size, Math.min(CHUNK, size * (this.count - this.#filled)));
      s.chunks.push(new SharedArrayBuffer(4 * (floats + 1)));
      last++;
      this.#used = 0;
    }
    new Float32Array(s.chunks[last], 4 * this.#used, size).set(image.data);
    s.chunk[k] = last;
    s.offset[k] = this.#used;
    this.#used += size;
    this.#filled++;
    this.bytes += 4 * size;
    const depth = "depth" in image ? image.depth : 0;
    s.dims.set([depth, image.height, image.width], 3 * k);
    s.channels[k] = depth > 0 ? (image as { channels?: number }).channels ?? 0 : 0;
    const sp = (image as { spacing?: unknown }).spacing;
    if (depth > 0 && Array.isArray(sp) && sp.length === 3) s.spacing.set(sp, 3 * k);
    s.labels[k] = label;
  }

  /** Sample `k`: a copy, or a view of the shared memory. */
  get(k: number, copy: boolean): Sample | VolumeSample {
    const s = this.spec;
    const [depth, height, width] = s.dims.subarray(3 * k, 3 * k + 3);
    const channels = s.channels[k];
    const size = Math.max(depth, 1) * height * width * Math.max(channels, 1);
    const view = new Float32Array(s.chunks[s.chunk[k]], 4 * s.offset[k], size);
    const data = copy ? view.slice() : view;
    const label = s.labels[k];
    if (depth === 0) return { image: { data, width, height }, label };
    const sp = s.spacing.subarray(3 * k, 3 * k + 3);
    const image: Volume = Number.isNaN(sp[0])
      ? { data, width, height, depth }
      : { data, width, height, depth, spacing: [sp[0], sp[1], sp[2]] as [number, number, number] };
    if (channels > 0) image.channels = channels;
    return { image, label };
  }

  /** Bytes of the cached voxels, counted from the items' sizes. */
  static bytesOf(spec: StoreSpec): number {
    let floats = 0;
    for (let k = 0; k < spec.labels.length; k++) {
      floats += Math.max(spec.dims[3 * k], 1) * spec.dims[3 * k + 1] * spec.dims[3 * k + 2] *
        Math.max(spec.channels[k], 1);
    }
    return 4 * floats;
  }
}

/** A `CacheDataset`'s worker spec: the cache shared, and the wrapped one where items are not cached. */
interface CacheSpec {
  base: WorkerSpec | null;
  length: number;
  cacheRate: number;
  numWorkers: number;
  store: StoreSpec;
}

/** What the private constructor gets (from `create` or `openDataset` only). */
interface Parts {
  base: Dataset | null;
  length: number;
  cacheRate: number;
  numWorkers: number;
  copyCache: boolean;
  store: Store;
}

/** Set only while `create` or `openDataset` builds one. */
let building: Parts | null = null;

/** The options checked, with MONAI's defaults. */
function checkValues(o: CacheDatasetOptions) {
  const rate = o.cacheRate ?? 1;
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new Error(
      `${WHERE}: cacheRate must be a number in [0, 1] (the share of items to cache), got ` +
        `${describe(rate)}` +
        (typeof rate === "number" && rate > 1 && rate <= 100
          ? ` (a percentage? write ${rate / 100})`
          : ""),
    );
  }
  const num = o.cacheNum ?? Infinity;
  if (typeof num !== "number" || !(Number.isInteger(num) || num === Infinity) || num < 0) {
    throw new Error(
      `${WHERE}: cacheNum must be an integer >= 0 (the most items to cache), got ` +
        `${describe(num)}; leave it out to cache every item (MONAI's sys.maxsize)`,
    );
  }
  let workers = o.numWorkers === null ? navigator.hardwareConcurrency : o.numWorkers ?? 1;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new Error(
      `${WHERE}: numWorkers must be an integer >= 0 (items read at once while the cache ` +
        `fills) or null (one per CPU core), got ${describe(workers)}`,
    );
  }
  workers = Math.max(workers, 1);
  for (const key of ["copyCache", "progress"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      throw new Error(`${WHERE}: ${key} must be true or false, got ${describe(o[key])}`);
    }
  }
  return { rate, num, workers, copy: o.copyCache ?? true, progress: o.progress ?? false };
}

/** MONAI's first argument (the items) or its `transform` option, refused with what to write. */
function checkMonaiForm(dataset: unknown, options: unknown): void {
  const form = "await data.CacheDataset.create(new data.VolumeDataset(items, { transform }), " +
    "{ cacheRate: 1.0 })";
  if (Array.isArray(dataset)) {
    throw new Error(
      `${WHERE}: the first argument is ${describe(dataset)}, not a Dataset; MONAI's ` +
        `CacheDataset(data=items, transform=...) reads the items itself, here the wrapped ` +
        `dataset does (its get(i) runs the deterministic transforms once per item): ${form}`,
    );
  }
  if (options !== null && typeof options === "object" && "transform" in options) {
    throw new Error(
      `${WHERE}: unknown option 'transform'; the deterministic transforms belong to the ` +
        `wrapped dataset (they run once, when the cache fills), the random ones to the ` +
        `DataLoader's transform: ${form}`,
    );
  }
}

/** Fill progress on stderr, MONAI's "Loading dataset" bar as a counter. */
function progressBar(n: number, on: boolean): () => void {
  if (!on) return () => {};
  const encoder = new TextEncoder();
  let done = 0;
  return () => {
    done++;
    const end = done === n ? "\n" : "\r";
    Deno.stderr.writeSync(encoder.encode(`Loading dataset: ${done}/${n}${end}`));
  };
}

/** An error of item `k`, naming it. */
function itemError(k: number, e: unknown): Error {
  return new Error(
    `${WHERE}: filling the cache: item ${k}: ${(e as Error)?.message ?? String(e)}`,
    { cause: e },
  );
}

/** Reads items 0..n-1 on the main thread, `lanes` `get(i)` calls in flight. */
async function fillHere(
  dataset: Dataset,
  n: number,
  lanes: number,
  put: (k: number, sample: unknown) => void,
): Promise<void> {
  let next = 0, failed = false;
  const lane = async () => {
    while (next < n && !failed) {
      const k = next++;
      try {
        put(k, await dataset.get(k));
      } catch (e) {
        failed = true;
        throw itemError(k, e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
}

let live = 0;

/** @internal number of cache fill workers started and not yet terminated. */
export function liveFillWorkers(): number {
  return live;
}

/** Reads items 0..n-1 in `count` worker threads, each rebuilding the dataset from `spec`. */
async function fillInWorkers(
  spec: WorkerSpec,
  n: number,
  count: number,
  put: (k: number, sample: unknown) => void,
): Promise<void> {
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0, done = 0, settled = false;
      const fail = (e: Error) => {
        settled = true;
        reject(e);
      };
      for (let w = 0; w < Math.min(count, n); w++) {
        const worker = new Worker(new URL("./cache_dataset_worker.ts", import.meta.url), {
          type: "module",
        });
        live++;
        workers.push(worker);
        const ask = () => {
          if (next < n) worker.postMessage({ type: "get", index: next++ } satisfies FillGet);
        };
        worker.onmessage = (e: MessageEvent) => {
          if (settled) return;
          const m = e.data as { type: string; index: number; sample?: unknown; message?: string };
          if (m.type === "error") return fail(itemError(m.index, new Error(m.message)));
          try {
            put(m.index, m.sample);
          } catch (err) {
            return fail(itemError(m.index, err));
          }
          if (++done === n) {
            settled = true;
            resolve();
          } else ask();
        };
        worker.onerror = (e) => {
          e.preventDefault(); // else an uncaught worker error also kills this thread
          if (!settled) fail(new Error(`${WHERE}: fill worker ${w} crashed: ${e.message}`));
        };
        worker.onmessageerror = () => {
          if (!settled) {
            fail(new Error(`${WHERE}: fill worker ${w} sent a sample that cannot be read`));
          }
        };
        try {
          worker.postMessage({ type: "init", base: spec } satisfies FillInit);
        } catch (e) {
          throw new Error(
            `${WHERE}: the dataset's workerSpec() cannot be sent to a worker ` +
              `(${(e as Error).message}); write numWorkers: 1 to fill on the main thread`,
            { cause: e },
          );
        }
        // Two requests each: a worker reads the next item while its last one is posted.
        ask();
        ask();
      }
    });
  } finally {
    for (const worker of workers) {
      worker.terminate();
      live--;
    }
  }
}

/**
 * A dataset whose samples are computed once and kept in memory, as MONAI's
 * `CacheDataset(data, transform, cache_rate=1.0, num_workers=4)`: here the
 * wrapped dataset holds the items and the deterministic transforms
 * (`new data.VolumeDataset(items, { transform: pre })`), and
 * `await data.CacheDataset.create(dataset, options)` reads its first
 * `cacheNum = min(cacheNum, floor(length * cacheRate), length)` items
 * (MONAI's formula) once, `numWorkers` at a time (in worker threads where
 * the dataset has a `workerSpec()`); the random transforms go to the
 * DataLoader, so each epoch draws them afresh. Items past `cacheNum` are
 * read through the wrapped dataset's `get(i)` on every call. Samples may
 * differ in size (volumes of different shapes are fine).
 *
 * Construction is an async factory, not `new`: filling the cache calls the
 * wrapped dataset's async `get(i)`, and MONAI fills at construction (so the
 * first epoch is as fast as the others, and a bad file fails here, naming
 * the item, not mid-training).
 *
 * `get(i)` of a cached item returns a copy of it (MONAI's
 * `copy_cache=True`), so an in-place edit cannot change the cache;
 * `copyCache: false` returns views of the cache instead. The cache lives in
 * shared memory that the loader's workers read without a copy: with
 * `workers > 0` they rebuild this dataset from `workerSpec()` (the wrapped
 * one only when some items are not cached, and then only where it has a
 * `workerSpec()`), and read each cached sample in place. `cachedBytes`
 * counts the cached voxels; `labels` and `classCounts()` are there when the
 * wrapped dataset has them (or every item is cached).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const V = data.transforms.volume;
 * const pre = new V.ScaleIntensityRange({ aMin: 0, aMax: 200, bMin: 0, bMax: 1, clip: true });
 * const items = [{ image: "tests/fixtures/nifti/anatomical.nii", label: 1 }];
 * const ds = await data.CacheDataset.create(new data.VolumeDataset(items, { transform: pre }), {
 *   cacheRate: 1.0,
 *   numWorkers: 2,
 * });
 * console.log(ds.length, ds.cacheNum, ds.cachedBytes); // 1 1 135300
 * const loader = new data.DataLoader(ds, {
 *   batchSize: 1,
 *   shuffle: true,
 *   transform: V.compose([new V.RandFlip({ p: 0.5, spatialAxis: 0 })]),
 * });
 * for await (using batch of loader) console.log(batch.images.shape); // [1, 1, 33, 41, 25]
 * ```
 */
export class CacheDataset<D extends Dataset = Dataset> implements Dataset {
  /** The wrapped dataset. */
  readonly dataset: D;
  /** Items cached: the first `cacheNum` (MONAI's `cache_num` after the rate). */
  readonly cacheNum: number;
  /** The share of items asked to be cached (MONAI's `cache_rate`). */
  readonly cacheRate: number;
  /** Items read at once while the cache filled. */
  readonly numWorkers: number;
  /** Whether `get(i)` hands out copies of cached samples (MONAI's `copy_cache`). */
  readonly copyCache: boolean;
  /** Each item's label, where the wrapped dataset holds them or every item is cached. */
  readonly labels: LabelsOf<D>;
  /** Items per class, where the wrapped dataset counts them or every item is cached. */
  readonly classCounts?: () => number[];
  /** How a loader worker rebuilds it (see the class doc). */
  readonly workerSpec?: () => WorkerSpec;
  readonly #length: number;
  readonly #store: Store;

  private constructor(parts: Parts) {
    if (building !== parts || parts === null) {
      throw new Error(
        `${WHERE}: filling the cache reads every item, which is async, so build it with ` +
          `${USAGE}`,
      );
    }
    const { base, length, store } = parts;
    this.dataset = base as D;
    this.#length = length;
    this.#store = store;
    this.cacheNum = store.count;
    this.cacheRate = parts.cacheRate;
    this.numWorkers = parts.numWorkers;
    this.copyCache = parts.copyCache;
    const all = store.count === length;
    const given = base ? cheapLabels(base) : undefined;
    const labels = given ? Int32Array.from(given) : all ? store.spec.labels.slice() : undefined;
    this.labels = labels as LabelsOf<D>;
    if (typeof base?.classCounts === "function") this.classCounts = () => base.classCounts!();
    else if (labels) this.classCounts = () => countClasses(labels, 0, "CacheDataset.classCounts");
    const spec = (b: WorkerSpec | null): WorkerSpec => ({
      module: import.meta.url,
      spec: {
        base: b,
        length,
        cacheRate: this.cacheRate,
        numWorkers: this.numWorkers,
        store: store.spec,
      } satisfies CacheSpec,
    });
    if (all) this.workerSpec = () => spec(null);
    else if (typeof base?.workerSpec === "function") {
      // The wrapped one gave no spec this time: neither has this one (read on the main thread).
      this.workerSpec = () => {
        const b = specOf(base);
        return (b && spec(b)) as WorkerSpec;
      };
    }
  }

  /**
   * Wraps `dataset` and fills the cache: see the class doc and
   * `CacheDatasetOptions`. A sample the loader could not read, or an item
   * whose `get(i)` throws, is an Error naming the item (no worker is left
   * running).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const base = {
   *   length: 4,
   *   get: (i: number) => Promise.resolve({ image: { data: new Float32Array(4).fill(i), width: 2, height: 2 }, label: i % 2 }),
   * };
   * const ds = await data.CacheDataset.create(base, { cacheRate: 0.5 });
   * console.log(ds.cacheNum, ds.cachedBytes, [...(await ds.get(1)).image.data]); // 2 32 [1, 1, 1, 1]
   * ```
   */
  static async create<D extends Dataset>(
    dataset: D,
    options: CacheDatasetOptions = {},
  ): Promise<CacheDataset<D>> {
    checkMonaiForm(dataset, options);
    options = checkContract(CREATE, arguments.length, options);
    checkDataset(WHERE, dataset);
    const { rate, num, workers, copy, progress } = checkValues(options);
    const length = dataset.length;
    const n = Math.min(num, Math.floor(length * rate), length);
    const store = Store.empty(n);
    const tick = progressBar(n, progress);
    const put = (k: number, sample: unknown) => {
      store.put(k, checkSample(sample));
      tick();
    };
    const spec = workers >= 2 && n > 1 ? specOf(dataset) : undefined;
    if (spec) await fillInWorkers(spec, n, workers, put);
    else await fillHere(dataset, n, workers, put);
    return build({
      base: dataset,
      length,
      cacheRate: rate,
      numWorkers: workers,
      copyCache: copy,
      store,
    }) as CacheDataset<D>;
  }

  /** Number of items (cached or not). */
  get length(): number {
    return this.#length;
  }

  /** Bytes of the cached voxels (4 per float32 value). */
  get cachedBytes(): number {
    return this.#store.bytes;
  }

  /**
   * Item `i` (negative counts from the end, as torch's): a cached item's
   * sample (a copy unless `copyCache: false`), else the wrapped dataset's
   * `get(i)`.
   */
  get(i: number): Promise<Sample | VolumeSample> {
    try {
      const k = wrapIndex("CacheDataset.get", i, this.#length);
      if (k >= this.cacheNum) return this.dataset.get(k);
      return Promise.resolve(this.#store.get(k, this.copyCache));
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/** The private constructor, for `create` and `openDataset`. */
function build(parts: Parts): CacheDataset {
  building = parts;
  try {
    return new (CacheDataset as unknown as new (parts: Parts) => CacheDataset)(parts);
  } finally {
    building = null;
  }
}

/** @internal rebuilds a `CacheDataset` in a loader worker from its `workerSpec().spec`. */
export async function openDataset(spec: CacheSpec): Promise<CacheDataset> {
  return build({
    base: spec.base ? await openSpec(`${WHERE} (worker)`, spec.base) : null,
    length: spec.length,
    cacheRate: spec.cacheRate,
    numWorkers: spec.numWorkers,
    // The loader copies each sample into its batch and never writes it: views suffice.
    copyCache: false,
    store: new Store(spec.store),
  });
}
