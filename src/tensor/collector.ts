/**
 * The safety net for tensors nobody disposes: a `FinalizationRegistry` gives
 * an unreachable tensor's storage back to the allocator, so that a PyTorch
 * style loop (a fresh `tensor(...)` every step, no `dispose()`) stays flat.
 *
 * Only tensors without an owner are watched (yours, kept ones, gradients):
 * a scope or the step holds the others and frees them itself. The registry
 * holds a lease (storage, bytes), never the tensor; `dispose()` takes the
 * lease back, so a storage is dropped once, by dispose or by the collector.
 *
 * V8 does not see native bytes, so this module counts them and forces a
 * full GC (`--expose-gc`, set at run time through `node:v8`) when the bytes
 * watched since the last one, and not disposed since, pass a bound. Deno runs finalizers only when
 * the event loop turns (a timer, I/O, a worker message: an `await` of an
 * already resolved promise is not enough), so a loop that never yields frees
 * its undisposed native tensors only at its end: see `collectGarbage`.
 *
 * Tensors made from host data (`tensor(...)`) live in memory V8 owns
 * (`HostBufferStorage`), which the GC itself frees, finalizer or not: their
 * lease holds a reference-count handle, never the storage, and every
 * `HOST_BOUND` bytes of them force a GC even while finalizers wait, so the
 * PyTorch loop (a fresh input each step, nothing disposed, never yielding)
 * stays flat.
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import type { Droppable, Storage } from "./storage.ts";
import { leakCheckEnabled, noteCollected, noteCreated, noteDisposed } from "./leak_check.ts";

/** What the registry holds for a watched tensor (never the tensor itself). */
export interface Lease {
  /** The storage to drop (or its handle, see `Storage.collectorHandle`), or null once dropped. */
  storage: Droppable | null;
  /** Bytes of the storage, for the pressure count and the leak report. */
  readonly bytes: number;
  /** Whether the GC frees the memory by itself (a host buffer, see `Storage.collectorHandle`). */
  readonly host: boolean;
  /** Forced GCs before it was watched (see `pending`). */
  readonly epoch: number;
  /** Shape and device, for the leak report. */
  readonly what: string;
  /** Kept on purpose (`noteKept`): a parameter, a gradient, optimizer state. */
  kept: boolean;
}

/** A tensor as the collector sees it. */
export interface Collectable {
  /** @internal its lease while watched. */
  lease: Lease | null;
  /** Whether it still has memory. */
  readonly isAlive: boolean;
  /** Its storage. */
  readonly storage: Storage;
  /** Its shape, for the leak report. */
  readonly shape: readonly number[];
}

const SENTINEL = null;
const registry = new FinalizationRegistry<Lease | typeof SENTINEL>(finalize);

/**
 * Bytes watched since the last forced GC and not disposed since (garbage, if
 * anything is), and the bound that forces one. `epoch` counts forced GCs, so
 * that a disposal takes back only bytes counted since the last one.
 */
let pending = 0;
/**
 * Of `pending`, the bytes of tensors kept on purpose: a new model's
 * parameters, their gradients and the optimizer's state are no undisposed
 * temporaries, so they count toward a forced GC but not toward the warning.
 */
let keptPending = 0;
let epoch = 0;
const MIN_BOUND = 16 * 2 ** 20;
/** Bytes watched and neither disposed nor collected. */
let watchedBytes = 0;
/** The native part of them (the bound grows with it). */
let watchedNative = 0;
/**
 * Bytes of watched host-buffer tensors since the last forced GC and not
 * disposed since; past `HOST_BOUND` a GC is forced even while finalizers
 * wait. The bound is what a loop that never yields grows by before memory
 * comes back: 16 MiB kept the bench's sync loop within 5% of its RSS at
 * about 65 ms a GC here (8 MiB: within 1%, at twice the GCs).
 */
let hostPending = 0;
const HOST_BOUND = MIN_BOUND;
/** A forced GC whose finalizers have not run yet (the event loop has not turned). */
let awaitingTurn = false;
let warned = false;
let collected = { tensors: 0, bytes: 0 };
/** Forced GCs so far and the time they took, for the cost of the safety net. */
let forced = { count: 0, ms: 0 };

function finalize(lease: Lease | typeof SENTINEL): void {
  // Any finalizer means the event loop turned after the forced GC.
  awaitingTurn = false;
  if (lease === SENTINEL) return;
  const s = lease.storage;
  if (s === null) return;
  lease.storage = null;
  forgetBytes(lease);
  collected = { tensors: collected.tensors + 1, bytes: collected.bytes + lease.bytes };
  if (leakCheckEnabled()) noteCollected(lease);
  s.drop();
}

/** A lease's bytes leave the watched counts. */
function forgetBytes(lease: Lease): void {
  watchedBytes -= lease.bytes;
  if (!lease.host) watchedNative -= lease.bytes;
}

let gcFn: (() => void) | null | undefined;
/**
 * V8's `gc()`, made available at run time; null where the flag cannot be set.
 * In Deno it runs two compacting GCs that also shrink the JS heap: twice the
 * time of the one `--v8-flags=--expose-gc` gives, which left the bench's
 * sync loop 14% larger by step 300 (the heap grows between GCs), so not that.
 */
function gcFunction(): (() => void) | null {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString("--expose-gc");
      const fn = vm.runInNewContext("gc");
      gcFn = typeof fn === "function" ? fn as () => void : null;
    } catch {
      gcFn = null;
    }
  }
  return gcFn;
}

/** Forces a full GC now; returns whether one ran. */
function forceGc(): boolean {
  const gc = gcFunction();
  if (gc === null) return false;
  // Fresh sentinels die in this GC: a finalizer says the event loop turned
  // (several, as the stack scan may keep the latest object alive).
  for (let i = 0; i < 4; i++) registry.register({}, SENTINEL);
  awaitingTurn = true;
  pending = 0;
  keptPending = 0;
  hostPending = 0;
  epoch++;
  const t0 = performance.now();
  gc();
  forced = { count: forced.count + 1, ms: forced.ms + performance.now() - t0 };
  return true;
}

function pressure(bytes: number, host: boolean): void {
  if (host) {
    // The GC frees these by itself: no need to wait for the event loop.
    hostPending += bytes;
    if (hostPending >= HOST_BOUND) forceGc();
    return;
  }
  pending += bytes;
  const bound = Math.max(MIN_BOUND, watchedNative / 2);
  if (pending < bound) return;
  if (!awaitingTurn) {
    forceGc();
  } else if (!warned && pending - keptPending - bytes > 8 * MIN_BOUND) {
    // (This tensor's bytes not yet: one made to be kept is marked just after.)
    warned = true;
    console.warn(
      `lits: ${((pending - keptPending) / 2 ** 20).toFixed(0)} MiB of tensors made outside ` +
        "any scope and never disposed are waiting for the event loop to turn before the " +
        "collector can free them; in a loop that never awaits, dispose() them, declare them " +
        "with `using`, or `await collectGarbage()` now and then",
    );
  }
}

let off: boolean | undefined;
/** `LITS_COLLECTOR=0` turns the collector off (to measure what it saves). */
function collectorOff(): boolean {
  if (off === undefined) {
    try {
      const perm = Deno.permissions.querySync({ name: "env", variable: "LITS_COLLECTOR" });
      off = perm.state === "granted" && Deno.env.get("LITS_COLLECTOR") === "0";
    } catch {
      off = false;
    }
  }
  return off;
}

/** @internal watches a tensor that lost its owner (see the module doc). */
export function watch(t: Collectable): void {
  if (t.lease !== null || !t.isAlive || collectorOff()) return;
  const storage = t.storage;
  const handle = storage.collectorHandle();
  const lease: Lease = {
    storage: handle,
    bytes: storage.bytes,
    host: handle !== storage,
    epoch,
    what: `[${t.shape}] on ${storage.device}`,
    kept: false,
  };
  t.lease = lease;
  registry.register(t, lease, lease);
  watchedBytes += lease.bytes;
  if (!lease.host) watchedNative += lease.bytes;
  if (leakCheckEnabled()) noteCreated(lease);
  pressure(lease.bytes, lease.host);
}

/**
 * @internal stops watching (dispose, or a new owner); returns the storage the
 * lease held, which the caller now drops (or keeps).
 */
export function unwatch(t: Collectable): void {
  const lease = t.lease;
  if (lease === null) return;
  t.lease = null;
  registry.unregister(lease);
  if (lease.storage !== null) {
    forgetBytes(lease);
    // Disposed, so not garbage: it no longer pushes toward a forced GC.
    if (lease.epoch === epoch) {
      if (lease.host) hostPending -= lease.bytes;
      else pending -= lease.bytes;
      if (lease.kept && !lease.host) keptPending -= lease.bytes;
    }
    if (leakCheckEnabled()) noteDisposed(lease);
  }
  lease.storage = null;
}

/** @internal `t` (watched) is kept on purpose: see `keptPending`. */
export function noteKept(t: Collectable): void {
  const lease = t.lease;
  if (lease === null || lease.kept) return;
  lease.kept = true;
  if (lease.epoch === epoch && !lease.host && lease.storage !== null) keptPending += lease.bytes;
}

/** @internal a watched tensor's storage was replaced (`Module.to`). */
export function rewatch(t: Collectable): void {
  if (t.lease === null) return;
  unwatch(t);
  watch(t);
}

/** What the collector has freed so far. */
export interface CollectorStats {
  /** Tensors freed by the collector because nothing referenced them. */
  tensorsCollected: number;
  /** Their bytes. */
  bytesCollected: number;
  /**
   * Bytes of watched tensors (yours, kept, gradients) not yet disposed or
   * collected. A `tensor(...)` input that a GC freed counts here until the
   * event loop turns and its finalizer runs.
   */
  bytesWatched: number;
  /** Full garbage collections the collector forced. */
  forcedGcs: number;
  /** Milliseconds they took. */
  forcedGcMs: number;
}

/**
 * How many undisposed tensors the collector has freed, and how many bytes of
 * tensors without an owner it watches.
 *
 * @example
 * ```ts
 * import { collectorStats, zeros } from "@lits/vision";
 * const before = collectorStats().bytesWatched;
 * using t = zeros([256]);
 * console.log(collectorStats().bytesWatched - before); // 1024
 * ```
 */
export function collectorStats(): CollectorStats {
  return {
    tensorsCollected: collected.tensors,
    bytesCollected: collected.bytes,
    bytesWatched: watchedBytes,
    forcedGcs: forced.count,
    forcedGcMs: forced.ms,
  };
}

/**
 * Forces a garbage collection and waits one turn of the event loop, so that
 * tensors nobody references any more are freed now. Loops that await I/O,
 * timers or a `DataLoader` with workers get this by themselves, and inputs
 * made with `tensor(...)` are freed even in a loop that never yields; such a
 * loop that drops other tensors undisposed (`zeros`, `randn`, `keep()`)
 * can `await collectGarbage()` now and then (a full GC: tens of ms).
 *
 * @example
 * ```ts
 * import { collectGarbage, collectorStats, tensor } from "@lits/vision";
 * for (let i = 0; i < 3; i++) tensor(new Float32Array(1024)); // never disposed
 * await collectGarbage();
 * console.log(collectorStats().tensorsCollected >= 3); // true
 * ```
 */
export async function collectGarbage(): Promise<void> {
  forceGc();
  // Finalizers run as a task of their own: a timer lets them run first.
  await new Promise((resolve) => setTimeout(resolve, 0));
}
