/**
 * Deferred values for fused kernels. A batch norm's output, a residual add
 * and a ReLU make tensors whose memory is not written yet: the value
 * `relu?(T_x(x) + T_r(r))` is kept as its recipe (T a per-channel transform,
 * see `lits.h`). The next op reads the recipe when it can fuse it (a
 * convolution or max pooling applies it while reading its input, a ReLU or
 * an add extends it, batch norm's backward folds in the ReLU's mask); any
 * other use of the tensor (`ptr`: any op, `toArray`, ...) writes it out
 * first. So nothing observable changes, and ResNet's batch norm and ReLU
 * outputs never take memory or a pass of their own.
 *
 * Only op results are folded into recipes: they are never modified in place
 * (parameters, buffers and tensors you create can be).
 *
 * Backends without the fused kernels (`lits_fused_affine_f32` and friends
 * are optional in `lits.h`) take the plain path everywhere.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import type { NativeSymbols } from "../../ffi/symbols.ts";
import { numel, Tensor } from "../tensor.ts";
import { Storage } from "../storage.ts";
import { adopt } from "../ownership.ts";

/** A stored tensor (at an element offset), seen through an optional per-channel transform. */
export interface Operand {
  /** Materialised memory. */
  readonly storage: Storage;
  /** First element, in elements. */
  readonly offset: number;
  /** mean[c], scale[c], shift[c], or null for the identity. */
  readonly coef: Storage | null;
}

/** relu?(T_x(x) + T_r(r)) over a tensor viewed as [n, c, hw]. */
export interface FusedValue {
  readonly x: Operand;
  readonly r: Operand | null;
  readonly relu: boolean;
  readonly n: number;
  readonly c: number;
  readonly hw: number;
}

function retainOperand(o: Operand | null): void {
  if (!o) return;
  o.storage.retain();
  o.coef?.retain();
}

function dropOperand(o: Operand | null): void {
  if (!o) return;
  o.storage.drop();
  o.coef?.drop();
}

/** Native pointer of an operand's first element. */
export function operandPtr(o: Operand): Deno.PointerObject {
  return o.offset === 0 ? o.storage.ptr : Deno.UnsafePointer.offset(o.storage.ptr, o.offset * 4)!;
}

/** Storage whose contents are a `FusedValue`, written on first use. */
class FusedStorage extends Storage {
  #value: FusedValue | null;

  constructor(lib: NativeSymbols, device: Tensor["device"], value: FusedValue) {
    super(lib, device, value.n * value.c * value.hw * 4, true);
    retainOperand(value.x);
    retainOperand(value.r);
    this.#value = value;
  }

  /** The recipe while the memory is not written. */
  get value(): FusedValue | null {
    return this.isMaterialized ? null : this.#value;
  }

  protected override materialize(): Deno.PointerObject {
    const v = this.#value!;
    const ptr = this.allocate();
    const lib = this.lib;
    check(
      lib,
      lib.lits_fused_affine_f32!(
        operandPtr(v.x),
        v.x.coef?.ptr ?? null,
        v.r ? operandPtr(v.r) : null,
        v.r?.coef?.ptr ?? null,
        ptr,
        v.n,
        v.c,
        v.hw,
        v.relu ? 1 : 0,
      ),
      () => `fused value [${v.n}, ${v.c}, ${v.hw}]`,
    );
    // Readers now use the memory; the inputs are no longer needed for it.
    this.#value = null;
    dropOperand(v.x);
    dropOperand(v.r);
    return ptr;
  }

  protected override released(): void {
    if (this.#value) {
      dropOperand(this.#value.x);
      dropOperand(this.#value.r);
      this.#value = null;
    }
  }
}

/** Storage of ReLU's gradient, dy where the pre-activation is > 0, written on first use. */
class MaskedGradStorage extends Storage {
  #parts: { dy: Storage; dyOffset: number; pre: FusedValue } | null;

  constructor(lib: NativeSymbols, device: Tensor["device"], dy: Tensor, pre: FusedValue) {
    super(lib, device, pre.n * pre.c * pre.hw * 4, true);
    dy.storage.retain();
    retainOperand(pre.x);
    retainOperand(pre.r);
    this.#parts = { dy: dy.storage, dyOffset: dy.offset, pre };
  }

  /** dy and the pre-activation while the memory is not written. */
  get parts(): { dy: Operand; pre: FusedValue } | null {
    if (this.isMaterialized || !this.#parts) return null;
    return {
      dy: { storage: this.#parts.dy, offset: this.#parts.dyOffset, coef: null },
      pre: this.#parts.pre,
    };
  }

  protected override materialize(): Deno.PointerObject {
    return this.write(null, this.#parts!.pre.n, this.#parts!.pre.c, this.#parts!.pre.hw);
  }

  /** Writes the gradient out now, and its per-channel sums over a [n, c, hw] view into `sums`. */
  fill(sums: Deno.PointerObject, n: number, c: number, hw: number): void {
    this.materializeVia(() => this.write(sums, n, c, hw));
  }

  /** Writes the gradient (and, with `sums`, its channel sums); returns the memory. */
  private write(
    sums: Deno.PointerObject | null,
    n: number,
    c: number,
    hw: number,
  ): Deno.PointerObject {
    const { dy, dyOffset, pre } = this.#parts!;
    const ptr = this.allocate();
    const lib = this.lib;
    check(
      lib,
      lib.lits_relu_mask_backward_f32!(
        operandPtr({ storage: dy, offset: dyOffset, coef: null }),
        operandPtr(pre.x),
        pre.x.coef?.ptr ?? null,
        pre.r ? operandPtr(pre.r) : null,
        pre.r?.coef?.ptr ?? null,
        ptr,
        n,
        c,
        hw,
        sums,
      ),
      () => `relu backward [${n}, ${c}, ${hw}]`,
    );
    this.released();
    return ptr;
  }

  protected override released(): void {
    if (this.#parts) {
      this.#parts.dy.drop();
      dropOperand(this.#parts.pre.x);
      dropOperand(this.#parts.pre.r);
      this.#parts = null;
    }
  }
}

/**
 * Writes out ReLU's deferred gradient `g` and its per-channel sums over the
 * [n, c, hw] view into `sums` (a convolution's bias gradient) in one pass.
 * False when `g` is not such a gradient (or one whose mask is tied to
 * another channel layout); then nothing is written.
 */
export function writeMaskedGradWithSums(
  g: Tensor,
  sums: Tensor,
  n: number,
  c: number,
  hw: number,
): boolean {
  const s = g.storage;
  if (!(s instanceof MaskedGradStorage) || !whole(g) || s.isMaterialized) return false;
  const parts = s.parts!;
  // A per-channel transform in the mask belongs to its own [n, c, hw] view.
  const own = parts.pre.n === n && parts.pre.c === c && parts.pre.hw === hw;
  if (!own && (parts.pre.x.coef !== null || (parts.pre.r?.coef ?? null) !== null)) return false;
  s.fill(sums.ptr, n, c, hw);
  return true;
}

let enabled = true;

/**
 * @internal turns deferral on or off (tests compare both paths; benchmarks
 * measure the difference). Returns the previous setting.
 */
export function setFusion(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether ops may defer `t`'s consumers: float32 on a backend with the fused kernels. */
export function canFuse(t: Tensor): boolean {
  const lib = t.lib;
  return enabled && t.dtype === "float32" && lib.lits_fused_affine_f32 !== null &&
    lib.lits_relu_mask_backward_f32 !== null;
}

/** A dense tensor over all of its storage (what a recipe describes). */
function whole(t: Tensor): boolean {
  return t.offset === 0 && t.isContiguous && t.size * 4 === t.storage.bytes;
}

/** `t`'s recipe when it is an unwritten fused value seen whole. */
export function fusedOf(t: Tensor): FusedValue | null {
  if (!t.isAlive) return null;
  const s = t.storage;
  return s instanceof FusedStorage && whole(t) ? s.value : null;
}

/** ReLU's deferred gradient behind `g`, when `g` is one seen whole. */
export function maskedGradOf(g: Tensor): { dy: Operand; pre: FusedValue } | null {
  const s = g.storage;
  return s instanceof MaskedGradStorage && whole(g) ? s.parts : null;
}

/**
 * `t` as an operand of a new recipe over [n, c, hw]: an op result's memory,
 * or the single transformed input of an unwritten value without ReLU or
 * residual. Null when `t` cannot be folded in (then it is read as memory by
 * the plain path).
 */
export function operandOf(t: Tensor, n: number, c: number, hw: number): Operand | null {
  if (t.owner === null || t.dtype !== "float32") return null; // not an op result
  const v = fusedOf(t);
  if (v) {
    if (v.relu || v.r !== null) return null;
    if (v.x.coef !== null && (v.n !== n || v.c !== c || v.hw !== hw)) return null;
    return v.x;
  }
  if (!t.isContiguous || t.storage instanceof MaskedGradStorage) return null;
  if (!t.storage.isMaterialized) return null;
  return { storage: t.storage, offset: t.offset, coef: null };
}

/** A kernel input relu?(T(x)) as the `_ex` kernels take it. */
export interface FusedInput {
  /** x's first element. */
  ptr: Deno.PointerObject;
  /** The coef array, or null for the identity. */
  coef: Deno.PointerObject | null;
  /** 1 when a ReLU follows. */
  relu: number;
}

/**
 * `t` (seen as [n, c, hw]) as an `_ex` kernel's transformed input, when it
 * is an unwritten value of one input (no residual); null means: read t.
 */
export function fusedInput(t: Tensor, n: number, c: number, hw: number): FusedInput | null {
  const v = fusedOf(t);
  if (!v || v.r !== null) return null;
  if (v.x.coef !== null && (v.n !== n || v.c !== c || v.hw !== hw)) return null;
  return { ptr: operandPtr(v.x), coef: v.x.coef?.ptr ?? null, relu: v.relu ? 1 : 0 };
}

/** [n, c, hw] of a shape [N, C, ...] (a vector is one channel). */
export function channelView(shape: readonly number[]): [number, number, number] {
  if (shape.length < 2) return [1, 1, numel(shape)];
  return [shape[0], shape[1], numel(shape.slice(2))];
}

/** A new op result of `shape` holding the deferred `value`. */
export function fusedTensor(like: Tensor, shape: readonly number[], value: FusedValue): Tensor {
  const t = new Tensor(new FusedStorage(like.lib, like.device, value), shape, "float32");
  adopt(t, true);
  return t;
}

/** A new op result of `dy`'s shape: ReLU's gradient, written when first used. */
export function maskedGrad(dy: Tensor, pre: FusedValue): Tensor {
  const t = new Tensor(new MaskedGradStorage(dy.lib, dy.device, dy, pre), dy.shape, "float32");
  adopt(t, true);
  return t;
}
