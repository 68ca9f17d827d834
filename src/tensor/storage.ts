/**
 * `Storage`: the native memory behind tensors (its own module so that the
 * deferred storages of `ops/fusion.ts` can extend it without an import cycle
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

/**
 * Native memory shared by a tensor and its views; freed with the last one.
 * A deferred storage (see `ops/fusion.ts`) gets its memory and contents on
 * the first use of `ptr`: values that fused kernels consume are never
 * written out unless something else reads them.
 */
export class Storage {
  #refs = 1;
  #ptr: Deno.PointerObject | null = null;

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

  /** @internal how many tensors share this storage. */
  get refCount(): number {
    return this.#refs;
  }

  /** Another tensor shares this storage. */
  retain(): this {
    this.#refs++;
    return this;
  }

  /** One tensor let go; the last one frees the memory. */
  drop(): void {
    if (--this.#refs !== 0) return;
    if (this.#ptr !== null) this.lib.lits_free(this.#ptr);
    this.released();
  }
}
