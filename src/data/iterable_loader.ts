/**
 * Iterable datasets (PyTorch's `IterableDataset`): a stream of samples with
 * no `get(i)`, which the DataLoader batches in the order the stream gives
 * them. What torch refuses for one (shuffle, sampler, batch_sampler) is
 * refused with torch's own words; worker threads are refused too (each
 * torch worker replays the whole stream unless `__iter__` splits it by
 * `get_worker_info()`, so every sample came N times).
 *
 * @module
 */
import { BatchError, type BatchTask } from "./batch.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Sampler } from "./sampler.ts";
import type { Dataset } from "./types.ts";

/**
 * A stream of samples, as PyTorch's `IterableDataset`: extend it and define
 * `override async *[Symbol.asyncIterator]()` (or `*[Symbol.iterator]()`),
 * which the DataLoader calls once per epoch (torch's `__iter__`). Batches come in the stream's order, the
 * last one short unless `dropLast`; a batch's `indices` are the samples'
 * positions in the epoch's stream. `shuffle`, `sampler`, `batchSampler` and
 * `workers > 0` are refused, and `loader.length` is known only when the
 * dataset has a `length`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * class Counter extends data.IterableDataset<{ x: number }> {
 *   override async *[Symbol.asyncIterator]() {
 *     for (let i = 0; i < 5; i++) yield { x: i };
 *   }
 * }
 * const loader = new data.DataLoader(new Counter(), { batchSize: 2, collateFn: data.defaultCollate });
 * for await (const b of loader) console.log(b.x.toArray()); // Int32Array [0, 1], [2, 3], [4]
 * ```
 */
export abstract class IterableDataset<S = unknown> implements AsyncIterable<S> {
  /**
   * The stream: a subclass defines this, or `*[Symbol.iterator]()`, which
   * this then reads (torch's `__iter__`).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<S> {
    const self = this as unknown as Partial<Iterable<S>> & { __iter__?: unknown };
    if (typeof self[Symbol.iterator] !== "function") {
      const ported = typeof self.__iter__ === "function" ? " (torch's __iter__)" : "";
      throw new Error(
        `${this.constructor.name}: an IterableDataset defines its stream${ported}: write ` +
          "async *[Symbol.asyncIterator]() { yield sample; } or *[Symbol.iterator]() { ... }",
      );
    }
    for (const sample of self as Iterable<S>) yield sample;
  }
}

/** Whether `value` is a stream of samples (an iterable with no get(i), not an array). */
export function isIterableDataset(
  value: unknown,
): value is Iterable<unknown> | AsyncIterable<unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  // A tensor throws when iterated (the hint of torch_names.ts): it is no stream.
  if (ArrayBuffer.isView(value) || value instanceof Tensor) return false;
  const v = value as Record<string | symbol, unknown>;
  if (typeof v.get === "function") return false;
  return typeof v[Symbol.asyncIterator] === "function" || typeof v[Symbol.iterator] === "function";
}

/** torch's ValueError for an option an iterable dataset cannot take. */
function unspecified(option: string, got: string): Error {
  return new Error(
    `DataLoader with IterableDataset: expected unspecified ${option} option, but got ` +
      `${option}=${got}`,
  );
}

/** The loader options as the stream checks see them. */
interface StreamOptions {
  shuffle?: unknown;
  sampler?: unknown;
  batchSampler?: unknown;
  workers?: unknown;
  prefetch?: unknown;
}

/** Throws for an option a loader over an iterable dataset cannot honour, saying what to write. */
export function checkStreamOptions(options: StreamOptions): void {
  const shown = (v: unknown) =>
    v === true ? "True" : Array.isArray(v) ? `[${v.slice(0, 8)}]` : String(v?.constructor?.name);
  if (options.shuffle !== undefined && options.shuffle !== null && options.shuffle !== false) {
    throw unspecified("shuffle", shown(options.shuffle));
  }
  if (options.sampler !== undefined && options.sampler !== null) {
    throw unspecified("sampler", shown(options.sampler));
  }
  if (options.batchSampler !== undefined && options.batchSampler !== null) {
    throw unspecified("batch_sampler", shown(options.batchSampler));
  }
  if (options.workers !== undefined && options.workers !== 0) {
    throw new Error(
      `DataLoader: an iterable dataset is read on the main thread here (workers: 0), got ` +
        `workers ${String(options.workers)}: torch would give each of its workers the whole ` +
        "stream (every sample once per worker, unless __iter__ splits it with " +
        "get_worker_info()); leave workers out, or give a dataset with length and get(i), " +
        "which workers load in parallel",
    );
  }
  if (options.prefetch !== undefined && options.prefetch !== 2) {
    // torch 1.13 refuses prefetch_factor without workers too.
    throw new Error(
      `DataLoader: prefetch ${String(options.prefetch)} has no effect on an iterable dataset ` +
        "(read in order on the main thread, one batch when asked); leave it out",
    );
  }
}

/** torch's `_InfiniteConstantSampler`: the sampler of a loader over a stream, which has none. */
export function streamSampler(): Sampler {
  const none = () => {
    throw new Error(
      "DataLoader: a loader over an iterable dataset has no sampler: the stream's order is " +
        "the batches' order",
    );
  };
  return {
    get length(): number {
      return none();
    },
    indices: none,
  };
}

/**
 * Batches per epoch over a stream: from the dataset's own `length` when it
 * has one (as torch's `len(loader)`), else an Error (torch's TypeError).
 */
export function streamLength(dataset: object, batchSize: number, dropLast: boolean): number {
  const n = (dataset as { length?: unknown }).length;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new Error(
      `DataLoader: the length of a loader over an iterable dataset (${
        dataset.constructor?.name ?? "object"
      }) is unknown until the stream ends (torch's len(loader): TypeError: object has no len()); ` +
        "give the dataset a length (get length() { return n; }) or count the batches",
    );
  }
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * A batch's failure over a stream, where `sample N` is the Nth sample of the
 * stream: the messages say so (and "the iterator yielded", not "get(i) returned").
 */
export function streamError(e: unknown): unknown {
  if (!(e instanceof Error) || !/^sample \d+: /.test(e.message)) return e;
  const message = e.message
    .replace(/^sample (\d+): get\(i\) returned/, "stream item $1: the dataset's iterator yielded")
    .replace(/^sample (\d+): /, "stream item $1: ");
  return new BatchError({ message, index: (e as BatchError).index }, { cause: e });
}

/** One-shot iterators (generator objects) a loader has already started. */
const started = new WeakSet<object>();

/** One epoch's pass over a stream: `take(n)` the next samples, `close()` at the end. */
export class StreamReader {
  readonly #it: Iterator<unknown> | AsyncIterator<unknown>;
  #position = 0;
  #done = false;
  /** Set while a `take` has not settled (a timeout): close() then does not wait for it. */
  #busy = false;

  /** Starts the stream of `dataset` for `epoch`. */
  constructor(dataset: Iterable<unknown> | AsyncIterable<unknown>, epoch: number) {
    const d = dataset as Partial<AsyncIterable<unknown> & Iterable<unknown>>;
    const it = typeof d[Symbol.asyncIterator] === "function"
      ? d[Symbol.asyncIterator]!()
      : d[Symbol.iterator]!();
    if ((it as unknown) === dataset) {
      if (started.has(dataset)) {
        throw new Error(
          `DataLoader: epoch ${epoch}: the dataset is a one-shot iterator (a generator object, ` +
            "which the first epoch used up), so this epoch would be empty; give an object whose " +
            "[Symbol.asyncIterator]() starts a new stream each epoch: a class extending " +
            "data.IterableDataset, or { async *[Symbol.asyncIterator]() { ... } }",
        );
      }
      started.add(dataset);
    }
    this.#it = it;
  }

  /** Position in the stream of the next sample. */
  get position(): number {
    return this.#position;
  }

  /** Up to `n` next samples (fewer at the end of the stream). */
  async take(n: number): Promise<unknown[]> {
    const out: unknown[] = [];
    this.#busy = true;
    while (!this.#done && out.length < n) {
      let r: IteratorResult<unknown>;
      try {
        r = await this.#it.next();
        if (r === null || typeof r !== "object") {
          throw new Error(`next() returned ${String(r)}, not an iterator result { value, done }`);
        }
        // As for await over a sync iterable of promises.
        if (!r.done) r = { done: false, value: await r.value };
      } catch (e) {
        this.#done = true;
        throw new Error(
          `the dataset's iterator failed at stream item ${this.#position}: ` +
            `${(e as Error)?.message ?? String(e)}`,
          { cause: e },
        );
      }
      if (r.done) {
        this.#done = true;
        break;
      }
      out.push(r.value);
      this.#position++;
    }
    this.#busy = false;
    return out;
  }

  /** Ends the stream early (its `finally` blocks run), unless it ran to its end. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    const ended = this.#it.return?.();
    // A stream stuck in a next() (a timeout) would never finish its return().
    if (this.#busy) Promise.resolve(ended).catch(() => {});
    else await ended;
  }
}

/** What one epoch over a stream needs from its DataLoader. */
export interface StreamEpoch<T> {
  /** The stream (the loader's dataset). */
  dataset: Iterable<unknown> | AsyncIterable<unknown>;
  /** Samples per batch (1 for `batchSize: null`). */
  size: number;
  /** The loader's seed, part of every batch task. */
  seed: number;
  /** Whether a short last batch is dropped. */
  dropLast: boolean;
  /** `p`, or the loader's timeout Error, which then ends with `stalled`. */
  waitFor<R>(p: Promise<R>, stalled: string): Promise<R>;
  /** Reads and augments the task's samples from `chunk` (indexed by stream position). */
  load(chunk: Dataset, task: BatchTask): Promise<unknown>;
  /** `e` as the loader reports a batch's failure. */
  wrap(e: unknown, task: BatchTask, what: string): Error;
  /** What the loader yields for a loaded batch. */
  emit(got: unknown, task: BatchTask): T | Promise<T>;
}

/**
 * One epoch over a stream (an iterable dataset): batches in the stream's
 * order, sample k of the epoch augmented with `Rng.forSample(seed, epoch,
 * k)`; the stream is ended (its `finally` blocks run) when the loop breaks.
 */
export async function* streamEpoch<T>(epoch: number, loader: StreamEpoch<T>): AsyncGenerator<T> {
  const reader = new StreamReader(loader.dataset, epoch);
  const size = loader.size;
  try {
    for (let id = 0;; id++) {
      const start = reader.position;
      let items: unknown[];
      try {
        items = await loader.waitFor(reader.take(size), "the dataset's iterator did not yield");
      } catch (e) {
        throw new Error(`DataLoader: batch ${id} of epoch ${epoch}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      if (items.length === 0 || (loader.dropLast && items.length < size)) return;
      const indices = Int32Array.from(items, (_, k) => start + k);
      const task: BatchTask = {
        id,
        epoch,
        seed: loader.seed,
        start,
        offset: 0,
        stride: 1,
        indices,
      };
      const chunk = { length: start + items.length, get: (i: number) => items[i - start] };
      let got: unknown;
      try {
        got = await loader.load(chunk as Dataset, task);
      } catch (e) {
        throw loader.wrap(streamError(e), task, "stream items");
      }
      yield await loader.emit(got, task);
    }
  } finally {
    await reader.close();
  }
}
