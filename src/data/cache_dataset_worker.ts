/**
 * A `CacheDataset` fill worker: rebuilds the wrapped dataset from its
 * `workerSpec()` and reads the items the main thread asks for, so that
 * decoding and the deterministic transforms run off the main thread while
 * the cache fills. Messages in:
 *
 * - `{ type: "init", base }`: open the dataset from `base` (a worker spec);
 * - `{ type: "get", index }`: read item `index` and post back
 *   `{ type: "sample", index, sample }` (the sample's voxels copied by the
 *   structured clone; the main thread copies them into the cache's shared
 *   memory), or `{ type: "error", index, message }`.
 *
 * The loader's own workers (worker.ts) post packed batches, which keep no
 * volume `spacing`; these post the sample as `get(i)` returned it.
 *
 * @module
 */
import { openSpec, type WorkerSpec } from "./dataset_common.ts";
import { checkSample } from "./sample_form.ts";
import type { Dataset } from "./types.ts";

/** The first message a fill worker gets. */
export interface FillInit {
  /** Discriminator. */
  type: "init";
  /** The wrapped dataset's worker spec. */
  base: WorkerSpec;
}

/** A request to read one item. */
export interface FillGet {
  /** Discriminator. */
  type: "get";
  /** The item's index in the wrapped dataset. */
  index: number;
}

let dataset: Promise<Dataset> | null = null;

/** This worker's side of the channel (typed without the worker lib, which JSR bans). */
const worker = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
};

async function read(index: number): Promise<void> {
  try {
    if (!dataset) throw new Error("fill worker got a request before init");
    const { image, label } = checkSample(await (await dataset).get(index));
    // Only the fields the cache keeps: anything else might not survive a structured clone.
    const { data, width, height } = image;
    const out: Record<string, unknown> = { data, width, height };
    if ("depth" in image) out.depth = image.depth;
    if ("channels" in image && image.channels !== undefined) out.channels = image.channels;
    if ("spacing" in image && image.spacing) out.spacing = [...image.spacing];
    worker.postMessage({ type: "sample", index, sample: { image: out, label } });
  } catch (e) {
    worker.postMessage({ type: "error", index, message: (e as Error)?.message ?? String(e) });
  }
}

worker.onmessage = (e: MessageEvent<FillInit | FillGet>) => {
  const msg = e.data;
  if (msg.type === "init") {
    dataset = openSpec("data.CacheDataset (fill worker)", msg.base);
    dataset.catch(() => {}); // reported with each item that needs it
  } else {
    void read(msg.index);
  }
};
