/**
 * The DataLoader's worker thread. Messages in order:
 *
 * - `{ type: "init", module, spec, transform }`: import `module`, call its
 *   `openDataset(spec)`, rebuild the transform from its spec (a volume
 *   transform's with `transforms.volume.fromSpec`);
 * - `{ type: "batch", req, task }`: load one batch (see batch.ts) and post
 *   back `{ type: "batch", req, batch }` with its buffers transferred, or
 *   `{ type: "error", req, failure }` (`req` is the pool's request number);
 * - `{ type: "recycle", images }`: a batch buffer the loader has copied into
 *   a tensor, transferred back for the next batch to fill.
 * - `{ type: "samples", req, task }` (a loader with a collateFn): read and
 *   augment the batch's samples (see sample_batch.ts) and post back
 *   `{ type: "samples", req, samples }`, copied (not transferred: a dataset
 *   may hand out views of arrays it keeps), or `{ type: "error", ... }`.
 *
 * A worker that is ending (the dataset called `Deno.exit()` or `close()`)
 * posts `{ type: "exit" }` first.
 *
 * Batches are handled one at a time, in arrival order, so a worker holds at
 * most one batch's samples in memory.
 *
 * @module
 */
import {
  type BatchFailure,
  type BatchTask,
  BufferPool,
  loadBatch,
  type SampleTransform,
} from "./batch.ts";
import type { TransformSpec } from "./transforms/transform.ts";
import type { VolumeTransformSpec } from "./transforms/volume/transform.ts";
import type { Dataset } from "./types.ts";
import { transformFromSpec } from "./worker_transform.ts";
import { checkSendable, loadSamples } from "./sample_batch.ts";

/** The first message a worker gets. */
export interface InitMessage {
  /** Discriminator. */
  type: "init";
  /** Module URL exporting `openDataset(spec)`. */
  module: string;
  /** Argument of `openDataset`. */
  spec: unknown;
  /** The transform's spec (2-D, or volume: a "volume." name), or null. */
  transform: TransformSpec | VolumeTransformSpec | null;
}

/** A batch buffer the loader has copied out and hands back for reuse. */
export interface RecycleMessage {
  /** Discriminator. */
  type: "recycle";
  /** The buffer (transferred). */
  images: Float32Array;
}

/** A request to load one batch (`"samples"`: its samples, uncollated). */
export interface BatchMessage {
  /** Discriminator. */
  type: "batch" | "samples";
  /** Request number, unique within the pool, echoed in the reply. */
  req: number;
  /** What to load. */
  task: BatchTask;
}

let ready: Promise<{ dataset: Dataset; transform: SampleTransform | null }> | null = null;
let queue: Promise<void> = Promise.resolve();
const buffers = new BufferPool();

/** This worker's side of the message channel (typed without the worker lib, which JSR bans). */
const worker = globalThis as unknown as {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};

async function open(msg: InitMessage) {
  let mod;
  try {
    mod = await import(msg.module);
  } catch (e) {
    throw new Error(`cannot import dataset module ${msg.module}: ${(e as Error).message}`);
  }
  if (typeof mod.openDataset !== "function") {
    throw new Error(`dataset module ${msg.module} exports no openDataset(spec)`);
  }
  let dataset: Dataset;
  try {
    dataset = await mod.openDataset(msg.spec);
  } catch (e) {
    throw new Error(`openDataset(spec) of ${msg.module} failed: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  }
  return { dataset, transform: msg.transform ? transformFromSpec(msg.transform) : null };
}

async function handle(req: number, task: BatchTask, samples: boolean): Promise<void> {
  try {
    if (!ready) throw new Error("worker got a batch before init");
    const { dataset, transform } = await ready;
    if (samples) {
      const list = await loadSamples(dataset, transform, task);
      checkSendable(list, task);
      worker.postMessage({ type: "samples", req, samples: list });
      return;
    }
    const batch = await loadBatch(dataset, transform, task, buffers);
    worker.postMessage({ type: "batch", req, batch }, [
      batch.images.buffer as ArrayBuffer,
      batch.labels.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    const err = e as Error & { index?: number };
    const failure: BatchFailure = { message: err?.message ?? String(e) };
    if (typeof err?.index === "number") failure.index = err.index;
    worker.postMessage({ type: "error", req, failure });
  }
}

// A dataset that ends its worker (Deno.exit(), close()) left the loader
// waiting for ever; the pool now hears of it and fails the worker's batches.
globalThis.addEventListener("unload", () => worker.postMessage({ type: "exit" }));
const scope = globalThis as unknown as { close?: () => void };
const closeWorker = scope.close;
if (typeof closeWorker === "function") {
  scope.close = () => {
    worker.postMessage({ type: "exit" });
    closeWorker.call(globalThis);
  };
}

worker.onmessage = (e: MessageEvent<InitMessage | BatchMessage | RecycleMessage>) => {
  const msg = e.data;
  if (msg.type === "recycle") {
    buffers.give(msg.images);
  } else if (msg.type === "init") {
    ready = open(msg);
    ready.catch(() => {}); // reported with each batch that needs it
  } else {
    const { req, task } = msg;
    queue = queue.then(() => handle(req, task, msg.type === "samples"));
  }
};
