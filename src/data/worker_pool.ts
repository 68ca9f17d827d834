/**
 * The loader's worker threads: start them, hand each batch to the least
 * busy one, match replies to requests, and terminate them all on close.
 * Every started worker is counted until it is terminated, so tests can
 * check that none is left running.
 *
 * @module
 */
import { BatchError, type BatchTask, type RawBatch } from "./batch.ts";
import type { BatchMessage, InitMessage, RecycleMessage } from "./worker.ts";

let live = 0;

/** @internal number of loader workers started and not yet terminated. */
export function liveWorkers(): number {
  return live;
}

interface Pending {
  resolve: (b: RawBatch | unknown[]) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Set when the worker crashed: later batches fail with it instead of hanging. */
  crashed?: Error;
}

/** Loads batches on worker threads. */
export class WorkerPool {
  #slots: Slot[] = [];
  #closed = false;
  #nextReq = 0;
  /** Which worker filled each batch buffer, to send it back there. */
  #origin = new WeakMap<ArrayBufferLike, Slot>();

  /** Starts `count` workers, each opening the dataset from `init`. */
  constructor(count: number, init: Omit<InitMessage, "type">) {
    try {
      for (let i = 0; i < count; i++) this.#start(i, init);
    } catch (e) {
      this.close(); // the ones already started must not outlive a failed start
      throw e;
    }
  }

  #start(i: number, init: Omit<InitMessage, "type">): void {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    live++;
    const slot: Slot = { worker, pending: new Map() };
    this.#slots.push(slot); // before anything else can throw, so close() reaches it
    worker.onmessage = (e) => this.#reply(slot, e.data);
    worker.onerror = (e) => {
      // Without preventDefault an uncaught worker error also kills this thread.
      e.preventDefault();
      this.#failAll(slot, new Error(`DataLoader worker ${i} crashed: ${e.message}`));
    };
    worker.onmessageerror = () => {
      this.#failAll(slot, new Error(`DataLoader worker ${i} sent a message that cannot be read`));
    };
    try {
      worker.postMessage({ type: "init", ...init } satisfies InitMessage);
    } catch (e) {
      throw new Error(
        `DataLoader: the dataset's workerSpec() cannot be sent to a worker (${
          (e as Error).message
        })`,
        { cause: e },
      );
    }
  }

  /** Loads one batch on the least busy worker. */
  run(task: BatchTask): Promise<RawBatch> {
    return this.#send("batch", task) as Promise<RawBatch>;
  }

  /** Reads one batch's samples (augmented, not collated) on the least busy worker. */
  runSamples(task: BatchTask): Promise<unknown[]> {
    return this.#send("samples", task) as Promise<unknown[]>;
  }

  #send(type: BatchMessage["type"], task: BatchTask): Promise<RawBatch | unknown[]> {
    if (this.#closed) return Promise.reject(new Error("DataLoader: worker pool is closed"));
    const slot = this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    if (slot.crashed) return Promise.reject(slot.crashed);
    const req = this.#nextReq++;
    return new Promise((resolve, reject) => {
      slot.pending.set(req, { resolve, reject });
      // The indices are copied, not transferred: the loader keeps its epoch order.
      slot.worker.postMessage({ type, req, task } satisfies BatchMessage);
    });
  }

  #reply(
    slot: Slot,
    msg: { type: string; req: number; batch?: RawBatch; samples?: unknown[]; failure?: never },
  ) {
    if (msg.type === "exit") {
      const i = this.#slots.indexOf(slot);
      this.#failAll(
        slot,
        new Error(
          `DataLoader worker ${i} exited unexpectedly (the dataset's code called Deno.exit() or ` +
            "close() in the worker thread); throw an Error from get(i) instead",
        ),
      );
      return;
    }
    const p = slot.pending.get(msg.req);
    if (!p) return;
    slot.pending.delete(msg.req);
    if (msg.type === "batch") {
      this.#origin.set(msg.batch!.images.buffer, slot);
      p.resolve(msg.batch!);
    } else if (msg.type === "samples") p.resolve(msg.samples!);
    else p.reject(new BatchError(msg.failure!));
  }

  #failAll(slot: Slot, error: Error) {
    slot.crashed ??= error;
    for (const p of slot.pending.values()) p.reject(error);
    slot.pending.clear();
  }

  /** Hands a batch's pixel buffer back to the worker that filled it, for reuse. */
  recycle(images: Float32Array): void {
    const slot = this.#origin.get(images.buffer);
    if (!slot || slot.crashed || this.#closed) return;
    slot.worker.postMessage({ type: "recycle", images } satisfies RecycleMessage, [
      images.buffer as ArrayBuffer,
    ]);
  }

  /** True once closed, or when a worker crashed (the pool cannot be reused). */
  get broken(): boolean {
    return this.#closed || this.#slots.some((s) => s.crashed);
  }

  /** Terminates every worker; batches still loading are rejected. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.worker.terminate();
      live--;
      this.#failAll(slot, new Error("DataLoader: stopped"));
    }
    this.#slots = [];
  }
}
