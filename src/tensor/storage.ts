/**
 * `Storage`: the native memory behind tensors (its own module so that the
 * deferred storages of `ops/fusion_storage.ts` can extend it without an import cycle
 * through `tensor.ts`).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { NativeSymbols } from "../ffi/symbols.ts";
import type { Device } from "./device.ts";

/** lits_alloc's out-parameter, shared: a fresh typed array per allocation
 * would be a fresh backing store each time (native heap churn, page faults). */
const allocOut = new BigUint64Array(1);

/** What the collector's lease drops when a watched tensor is collected. */
export interface Droppable {
  /** One tensor let go. */
  drop(): void;
}

/** The reference count of a storage, apart from it (see `collectorHandle`). */
interface RefCount {
  refs: number;
}

/**
 * A handle that counts a collected tensor's reference down without reaching
 * the storage: made outside any method, so that it cannot capture `this`.
 */
function countDown(count: RefCount): Droppable {
  return { drop: () => void count.refs-- };
}

/**
 * Native memory shared by a tensor and its views; freed with the last one.
 * A deferred storage (see `ops/fusion.ts`) gets its memory and contents on
 * the first use of `ptr`: values that fused kernels consume are never
 * written out unless something else reads them.
 */
export class Storage {
  readonly #count: RefCount = { refs: 1 };
  #ptr: Deno.PointerObject | null = null;
  /**
   * How many in-place writes its memory has had (PyTorch's version counter,
   * shared by a tensor and its views): autograd compares it with the value
   * an op saw when it saved a tensor for its gradient.
   */
  version = 0;

  constructor(
    readonly lib: NativeSymbols,
    readonly device: Device,
    readonly bytes: number,
    deferred = false,
  ) {
    if (!deferred) this.#ptr = this.allocate();
  }

  /** Base pointer (device memory); computes a deferred storage's contents first. */
  get ptr(): Deno.PointerObject {
    return this.#ptr ?? (this.#ptr = this.materialize());
  }

  /** Whether the memory exists (false only for a deferred storage not yet used). */
  get isMaterialized(): boolean {
    return this.#ptr !== null;
  }

  /** @internal allocates this storage's bytes (once, by the constructor or `materialize`). */
  protected allocate(): Deno.PointerObject {
    const out = allocOut;
    if (!Number.isSafeInteger(this.bytes)) {
      // Past 2^53 the count is no longer exact (and lits_alloc saw another number).
      throw new Error(
        `alloc: cannot allocate ${
          Number.isInteger(this.bytes) ? BigInt(this.bytes) : this.bytes
        } bytes on ${this.device} (too large)`,
      );
    }
    check(
      this.lib,
      this.lib.lits_alloc(this.bytes, out),
      () => `alloc ${this.bytes} bytes on ${this.device}`,
    );
    return Deno.UnsafePointer.create(out[0])!;
  }

  /** @internal a deferred storage allocates and fills itself here. */
  protected materialize(): Deno.PointerObject {
    return this.allocate();
  }

  /**
   * @internal writes a deferred storage out now through `fill` (a variant of
   * its `materialize`, e.g. one that also computes something on the way).
   */
  protected materializeVia(fill: () => Deno.PointerObject): Deno.PointerObject {
    if (this.#ptr === null) this.#ptr = fill();
    return this.#ptr;
  }

  /** @internal called once when the last tensor lets go (deferred storages drop their inputs). */
  protected released(): void {}

  /** @internal gives the memory back (once, when the last tensor lets go). */
  protected free(ptr: Deno.PointerObject): void {
    this.lib.lits_free(ptr);
  }

  /** @internal whether the garbage collector frees the memory with this object. */
  protected get freedByGc(): boolean {
    return false;
  }

  /**
   * @internal what the collector's lease holds for a tensor of this storage:
   * the storage itself, or, where the GC frees the memory, a handle that
   * does not keep the storage (and so its memory) alive until the finalizer
   * runs, which in a loop that never yields is never.
   */
  collectorHandle(): Droppable {
    return this.freedByGc ? countDown(this.#count) : this;
  }

  /** @internal how many tensors share this storage. */
  get refCount(): number {
    return this.#count.refs;
  }

  /** Another tensor shares this storage. */
  retain(): this {
    this.#count.refs++;
    return this;
  }

  /** @internal deferred storages, not written yet, that will read this memory when they are. */
  #readers: Set<Storage> | null = null;

  /** @internal `reader` (a deferred storage) reads this memory when it is written. */
  addReader(reader: Storage): void {
    (this.#readers ??= new Set()).add(reader);
  }

  /** @internal `reader` no longer needs this memory (it was written, or released). */
  removeReader(reader: Storage): void {
    this.#readers?.delete(reader);
  }

  /**
   * @internal writes out every deferred value that still reads this memory,
   * before the memory is written in place: a value keeps what its op read
   * (`y = relu(x); x.mul_(-1)` leaves y as it was, as in PyTorch).
   */
  settleReaders(): void {
    if (!this.#readers?.size) return;
    for (const reader of [...this.#readers]) void reader.ptr;
  }

  /** One tensor let go; the last one frees the memory. */
  drop(): void {
    if (--this.#count.refs !== 0) return;
    if (this.#ptr !== null) this.free(this.#ptr);
    this.released();
  }
}

/** Alignment of the memory lits_alloc hands out (native/cpu/alloc.c), which kernels may assume. */
const ALIGN = 64;

let hostBuffers: boolean | undefined;
/**
 * @internal whether CPU tensors made from host data get V8-owned memory
 * (`HostBufferStorage`); `LITS_HOST_BUFFERS=0` turns it off, to measure
 * what it saves.
 */
export function hostBuffersEnabled(): boolean {
  if (hostBuffers === undefined) {
    try {
      const perm = Deno.permissions.querySync({ name: "env", variable: "LITS_HOST_BUFFERS" });
      hostBuffers = !(perm.state === "granted" && Deno.env.get("LITS_HOST_BUFFERS") === "0");
    } catch {
      hostBuffers = true;
    }
  }
  return hostBuffers;
}

/** An aligned ArrayBuffer: its data start at `ptr`, `pad` bytes in. */
interface HostBlock {
  readonly buffer: ArrayBuffer;
  readonly pad: number;
  readonly ptr: Deno.PointerObject;
}

/**
 * Blocks that `dispose()` gave back, by data size, for the next tensor of
 * that size: a loop that disposes its input each step then allocates, zeroes
 * and faults in nothing (as with the native caching allocator). Small, so
 * that dispose still frees nearly at once: two blocks a size, 16 MiB in all.
 */
const pool = new Map<number, HostBlock[]>();
const POOL_PER_SIZE = 2;
const POOL_MAX_BYTES = 16 * 2 ** 20;
let pooledBytes = 0;

/** @internal bytes of disposed tensors' blocks kept for reuse (part of V8's external bytes). */
export function hostPoolBytes(): number {
  return pooledBytes;
}

/** A block for `bytes` bytes of data: a pooled one, or a new one, over-allocated to align. */
function takeBlock(bytes: number): HostBlock {
  const pooled = pool.get(bytes)?.pop();
  if (pooled !== undefined) {
    pooledBytes -= bytes;
    return pooled;
  }
  const buffer = new ArrayBuffer(bytes + ALIGN - 1);
  const base = Deno.UnsafePointer.of(buffer)!;
  const pad = (ALIGN - Number(Deno.UnsafePointer.value(base)) % ALIGN) % ALIGN;
  return { buffer, pad, ptr: Deno.UnsafePointer.offset(base, pad)! };
}

/** Keeps a disposed tensor's block for reuse, or frees it now (detaching frees the backing store). */
function giveBack(block: HostBlock, bytes: number): void {
  const list = pool.get(bytes) ?? [];
  if (list.length < POOL_PER_SIZE && pooledBytes + bytes <= POOL_MAX_BYTES) {
    list.push(block);
    pool.set(bytes, list);
    pooledBytes += bytes;
  } else {
    block.buffer.transfer(0);
  }
}

/**
 * CPU memory that V8 owns: an `ArrayBuffer` holding a copy of host values
 * (`tensor(data)`), for the PyTorch habit of a fresh input every step and no
 * `dispose()`. V8 counts an ArrayBuffer's bytes and a garbage collection
 * frees them at once, even in a loop that never yields to the event loop,
 * where native memory waits for finalizers that only a turn of the loop runs.
 * `dispose()` still gives the memory back at once: to a small pool that the
 * next `tensor()` of the same size reuses (16 MiB at most), or to the system.
 *
 * These bytes are not the native allocator's: `memoryStats()` does not count
 * them (`Deno.memoryUsage().external` does) and `emptyCache()` does not
 * touch them.
 */
export class HostBufferStorage extends Storage {
  /** Keeps the memory alive as long as any tensor or view of it (they hold this storage). */
  #block: HostBlock | null;

  constructor(lib: NativeSymbols, values: Float32Array | Int32Array) {
    super(lib, "cpu", values.byteLength, true);
    const block = takeBlock(values.byteLength);
    new Uint8Array(block.buffer, block.pad, values.byteLength).set(
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    );
    this.#block = block;
    this.materializeVia(() => block.ptr);
  }

  /** @internal never called: the constructor sets the pointer. */
  protected override materialize(): Deno.PointerObject {
    throw new Error("HostBufferStorage: memory is set by the constructor");
  }

  protected override get freedByGc(): boolean {
    return true;
  }

  /** The last tensor was disposed: the block goes back now, without waiting for a GC. */
  protected override free(): void {
    if (this.#block !== null) giveBack(this.#block, this.bytes);
    this.#block = null;
  }
}
