/**
 * The deferred storages behind op fusion (the rules of who fuses with whom
 * are `fusion.ts`): a `FusedStorage` holds the recipe
 * `relu?(T_x(x) + T_r(r))` (T a per-channel transform, see `lits.h`) and a
 * `MaskedGradStorage` ReLU's gradient `dy where the pre-activation > 0`;
 * either writes its memory on first use (`ptr`), so nothing observable
 * changes.
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

/** `reader` holds `o` until it is written (see `Storage.settleReaders`). */
function retainOperand(o: Operand | null, reader: Storage): void {
  if (!o) return;
  retainRead(o.storage, reader);
  if (o.coef) retainRead(o.coef, reader);
}

function dropOperand(o: Operand | null, reader: Storage): void {
  if (!o) return;
  dropRead(o.storage, reader);
  if (o.coef) dropRead(o.coef, reader);
}

/** `reader` holds `s`, and is written before `s` is written in place. */
function retainRead(s: Storage, reader: Storage): void {
  s.retain();
  s.addReader(reader);
}

function dropRead(s: Storage, reader: Storage): void {
  s.removeReader(reader);
  s.drop();
}

/** Native pointer of an operand's first element. */
export function operandPtr(o: Operand): Deno.PointerObject {
  return o.offset === 0 ? o.storage.ptr : Deno.UnsafePointer.offset(o.storage.ptr, o.offset * 4)!;
}

/**
 * A written ReLU output's mask as bits (`lits_fused_relu_mask_f32`): 16
 * elements a 16-bit word, each plane of its [n, c, hw] starting a word.
 */
export interface ReluBits {
  readonly bits: Storage;
  readonly n: number;
  readonly c: number;
  readonly hw: number;
}

/**
 * Storage whose contents are a `FusedValue`, written on first use. A
 * residual block's output under autocast may be written as bf16 instead
 * (`half`, `bf16_act.c`), for a convolution that reads bf16 as it is; any
 * other use then widens it to fp32 (`ptr`): the same bf16 values.
 */
export class FusedStorage extends Storage {
  #value: FusedValue | null;
  #wantsBits = false;
  #bits: ReluBits | null = null;
  /** May be written as bf16 (`keepBits` under autocast). */
  #bf16 = false;
  /** The values as bf16 while the fp32 memory is not written. */
  #half: Storage | null = null;

  constructor(lib: NativeSymbols, device: Tensor["device"], value: FusedValue) {
    super(lib, device, value.n * value.c * value.hw * 4, true);
    retainOperand(value.x, this);
    retainOperand(value.r, this);
    this.#value = value;
  }

  /** The recipe while the memory is not written (as fp32 or as bf16). */
  get value(): FusedValue | null {
    return this.isMaterialized || this.#half ? null : this.#value;
  }

  /**
   * Asks a ReLU's recipe, should it be written, to write its mask as bits
   * beside it: its recorded backward then reads 1/32 of its bytes. With
   * `bf16` (autocast), a residual sum's may be written as bf16 (`half`).
   */
  keepBits(bf16 = false): void {
    const v = this.#value, lib = this.lib;
    if (!v?.relu || !lib.lits_fused_relu_mask_f32) return;
    this.#wantsBits = true;
    this.#bf16 = bf16 && v.r !== null && lib.lits_fused_relu_mask_bf16_f32 !== null;
  }

  /** Whether `half` would write the values as bf16 now. */
  get mayHalve(): boolean {
    return this.#bf16 && this.#value !== null && !this.isMaterialized && this.#half === null;
  }

  /** The values as bf16 where they are held so (not widened since), else null. */
  get heldHalf(): Storage | null {
    return this.isMaterialized ? null : this.#half;
  }

  /**
   * The values as bf16, written so now (with the mask) where the recipe may
   * be (`keepBits(true)`) and is not written yet; else null.
   */
  half(): Storage | null {
    if (this.isMaterialized || this.#half) return this.heldHalf;
    const v = this.#value;
    if (!this.#bf16 || !v) return null;
    const lib = this.lib, count = v.n * v.c * v.hw;
    const half = new Storage(lib, this.device, Math.max(1, count) * 2);
    const bits = new Storage(lib, this.device, v.n * v.c * Math.ceil(v.hw / 16) * 2);
    // The residual as bf16 where it is held so (the block before's output).
    const r16 = v.r && v.r.coef === null && v.r.offset === 0 &&
        v.r.storage instanceof FusedStorage && v.r.storage.bytes === this.bytes
      ? v.r.storage.heldHalf
      : null;
    try {
      check(
        lib,
        lib.lits_fused_relu_mask_bf16_f32!(
          operandPtr(v.x),
          v.x.coef?.ptr ?? null,
          v.r && !r16 ? operandPtr(v.r) : null,
          r16?.ptr ?? null,
          v.r?.coef?.ptr ?? null,
          half.ptr,
          bits.ptr,
          v.n,
          v.c,
          v.hw,
        ),
        () => `fused value as bf16 [${v.n}, ${v.c}, ${v.hw}]`,
      );
    } catch (e) { // the recipe stays as it was
      half.drop();
      bits.drop();
      throw e;
    }
    this.#half = half;
    this.#bits = { bits, n: v.n, c: v.c, hw: v.hw };
    this.#value = null;
    dropOperand(v.x, this);
    dropOperand(v.r, this);
    return half;
  }

  /** The mask written with the value (after `keepBits`), else null. */
  get bits(): ReluBits | null {
    return this.#bits;
  }

  protected override materialize(): Deno.PointerObject {
    const ptr = this.allocate();
    const lib = this.lib;
    if (this.#half) { // written as bf16: widened, exactly
      const half = this.#half;
      check(lib, lib.lits_bf16_widen_f32!(half.ptr, ptr, this.bytes / 4), () => "fused value");
      this.#half = null;
      half.drop();
      return ptr;
    }
    const v = this.#value!;
    const what = () => `fused value [${v.n}, ${v.c}, ${v.hw}]`;
    const x = operandPtr(v.x), r = v.r ? operandPtr(v.r) : null;
    const xc = v.x.coef?.ptr ?? null, rc = v.r?.coef?.ptr ?? null;
    if (this.#wantsBits) {
      const bits = new Storage(lib, this.device, v.n * v.c * Math.ceil(v.hw / 16) * 2);
      this.#bits = { bits, n: v.n, c: v.c, hw: v.hw };
      check(lib, lib.lits_fused_relu_mask_f32!(x, xc, r, rc, ptr, bits.ptr, v.n, v.c, v.hw), what);
    } else {
      check(
        lib,
        lib.lits_fused_affine_f32!(x, xc, r, rc, ptr, v.n, v.c, v.hw, v.relu ? 1 : 0),
        what,
      );
    }
    // Readers now use the memory; the inputs are no longer needed for it.
    this.#value = null;
    dropOperand(v.x, this);
    dropOperand(v.r, this);
    return ptr;
  }

  protected override released(): void {
    if (this.#value) {
      dropOperand(this.#value.x, this);
      dropOperand(this.#value.r, this);
      this.#value = null;
    }
    this.#half?.drop();
    this.#half = null;
    this.#bits?.bits.drop();
    this.#bits = null;
  }
}

/** `s`'s recipe when it is an unwritten x + r, neither transformed, no ReLU. */
function plainSum(s: Storage): FusedValue | null {
  const v = s instanceof FusedStorage ? s.value : null;
  if (v === null || v.relu || v.r === null || v.x.coef !== null || v.r.coef !== null) return null;
  return v;
}

/** What max pooling's gradient is made of: the output's gradient, the argmax indices, the geometry. */
export interface PoolGradParts {
  readonly dy: Storage;
  readonly indices: Storage;
  /** lits_pool2d_params. */
  readonly params: Int32Array;
  /** The pool's output as its forward wrote it (a ReLU's mask at each argmax), or null. */
  readonly y: Storage | null;
}

/**
 * Storage of max pooling's gradient (dy scattered to the argmax positions),
 * written on first use; a ReLU's deferred gradient of it is written in one
 * pass with it (`lits_maxpool2d_backward_relu_f32`).
 */
export class PoolGradStorage extends Storage {
  #parts: PoolGradParts | null;

  constructor(lib: NativeSymbols, device: Tensor["device"], bytes: number, parts: PoolGradParts) {
    super(lib, device, bytes, true);
    retainRead(parts.dy, this);
    retainRead(parts.indices, this);
    if (parts.y) retainRead(parts.y, this);
    this.#parts = parts;
  }

  /** Its parts while the memory is not written. */
  get parts(): PoolGradParts | null {
    return this.isMaterialized ? null : this.#parts;
  }

  protected override materialize(): Deno.PointerObject {
    const { dy, indices, params } = this.#parts!;
    const ptr = this.allocate();
    // x and y: the CPU kernel reads neither (only it makes this storage).
    check(
      this.lib,
      this.lib.lits_maxpool2d_backward_f32(params, null, null, dy.ptr, indices.ptr, ptr),
      () => `maxPool2d backward [${Array.from(params.subarray(0, 4))}]`,
    );
    this.released();
    return ptr;
  }

  protected override released(): void {
    if (this.#parts) {
      dropRead(this.#parts.dy, this);
      dropRead(this.#parts.indices, this);
      if (this.#parts.y) dropRead(this.#parts.y, this);
      this.#parts = null;
    }
  }
}

/**
 * Storage of ReLU's gradient, dy where the pre-activation is > 0, written on
 * first use; with `bits`, the mask of `pre` (its written output) as bits.
 */
export class MaskedGradStorage extends Storage {
  #parts: { dy: Storage; dyOffset: number; pre: FusedValue; bits: ReluBits | null } | null;

  constructor(
    lib: NativeSymbols,
    device: Tensor["device"],
    dy: Tensor,
    pre: FusedValue,
    bits: ReluBits | null,
  ) {
    super(lib, device, pre.n * pre.c * pre.hw * 4, true);
    retainRead(dy.storage, this);
    retainOperand(pre.x, this);
    retainOperand(pre.r, this);
    bits?.bits.retain();
    this.#parts = { dy: dy.storage, dyOffset: dy.offset, pre, bits };
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
    // dy still max pooling's unwritten gradient: scattered and masked in one pass.
    const pool = dyOffset === 0 && dy instanceof PoolGradStorage ? dy.parts : null;
    const p = pool?.params;
    if (
      p && pre.r === null && lib.lits_maxpool2d_backward_relu_f32 && pre.n === n && pre.c === c &&
      pre.hw === hw && p[0] === n && p[1] === c && p[2] * p[3] === hw
    ) {
      const what = () => `maxPool2d + relu backward [${n}, ${c}, ${hw}]`;
      const y = pool!.y, dyp = pool!.dy.ptr, ip = pool!.indices.ptr;
      // The mask from the pool's output where it is the forward's: a quarter of x's bytes (2x2).
      check(
        lib,
        y && lib.lits_maxpool2d_backward_relu_out_f32
          ? lib.lits_maxpool2d_backward_relu_out_f32(p, dyp, ip, y.ptr, ptr, sums)
          : lib.lits_maxpool2d_backward_relu_f32(
            p,
            dyp,
            ip,
            operandPtr(pre.x),
            pre.x.coef?.ptr ?? null,
            ptr,
            sums,
          ),
        what,
      );
      this.released();
      return ptr;
    }
    // dy still a deferred sum of two gradients: the kernel adds them as it reads.
    const sum = dyOffset === 0 && dy.bytes === this.bytes ? plainSum(dy) : null;
    const g = sum ? operandPtr(sum.x) : operandPtr({ storage: dy, offset: dyOffset, coef: null });
    const g2 = sum ? operandPtr(sum.r!) : null;
    // The mask's bits where they are laid out as this call's planes.
    const b = this.#parts!.bits;
    if (b && lib.lits_relu_bits_backward_f32 && b.n === n && b.c === c && b.hw === hw) {
      check(
        lib,
        lib.lits_relu_bits_backward_f32(g, g2, b.bits.ptr, ptr, n, c, hw, sums),
        () => `relu backward [${n}, ${c}, ${hw}]`,
      );
      this.released();
      return ptr;
    }
    check(
      lib,
      lib.lits_relu_mask_backward_f32!(
        g,
        g2,
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
      dropRead(this.#parts.dy, this);
      dropOperand(this.#parts.pre.x, this);
      dropOperand(this.#parts.pre.r, this);
      this.#parts.bits?.bits.drop();
      this.#parts = null;
    }
  }
}

/** A dense tensor over all of its storage (what a recipe describes). */
export function whole(t: Tensor): boolean {
  return t.offset === 0 && t.isContiguous && t.numel() * 4 === t.storage.bytes;
}

/** A new op result of `shape` holding the deferred `value`. */
export function fusedTensor(like: Tensor, shape: readonly number[], value: FusedValue): Tensor {
  const t = new Tensor(new FusedStorage(like.lib, like.device, value), shape, "float32");
  adopt(t, true);
  return t;
}

/** A new op result of `shape`: max pooling's gradient, written when first used. */
export function poolGradTensor(
  like: Tensor,
  shape: readonly number[],
  parts: PoolGradParts,
): Tensor {
  const bytes = numel(shape) * 4;
  const t = new Tensor(new PoolGradStorage(like.lib, like.device, bytes, parts), shape, "float32");
  adopt(t, true);
  return t;
}

/** A new op result of `dy`'s shape: ReLU's gradient, written when first used. */
export function maskedGrad(dy: Tensor, pre: FusedValue, bits: ReluBits | null = null): Tensor {
  const s = new MaskedGradStorage(dy.lib, dy.device, dy, pre, bits);
  const t = new Tensor(s, dy.shape, "float32");
  adopt(t, true);
  return t;
}

/** The recipe `t` holds while unwritten (seen whole), else null. */
export function recipeOf(t: Tensor): FusedValue | null {
  const s = t.storage;
  return s instanceof FusedStorage && whole(t) ? s.value : null;
}

/**
 * ReLU6 (`act` 2) or SiLU (3) of `t` written in one pass
 * (`lits_fused_affine_f32`): through its recipe while it is unwritten (a
 * batch norm's output: one pass from the convolution's output instead of
 * writing the batch norm first), else from its memory. A recipe's ReLU is
 * kept for SiLU and subsumed by ReLU6 (relu6(relu(u)) = relu6(u)). The
 * caller checks that the backend fuses.
 */
export function activationWritten(t: Tensor, act: 2 | 3): Tensor {
  let v = recipeOf(t);
  if (v?.relu && act === 3) v = null; // silu(relu(u)): write relu(u) first
  const y = Tensor.empty(t.shape, "float32", t.device);
  const lib = t.lib;
  const n = v ? v.n : 1, c = v ? v.c : 1, hw = v ? v.hw : t.numel();
  check(
    lib,
    lib.lits_fused_affine_f32!(
      v ? operandPtr(v.x) : t.ptr,
      v?.x.coef?.ptr ?? null,
      v?.r ? operandPtr(v.r) : null,
      v?.r?.coef?.ptr ?? null,
      y.ptr,
      n,
      c,
      hw,
      act,
    ),
    () => `${act === 2 ? "relu6" : "silu"} [${t.shape}]`,
  );
  return y;
}

/**
 * ReLU6's backward in two passes of `lits_relu_mask_backward_f32` (in
 * place the second time): dy where x > 0, then where 6 - x > 0 (x's
 * transform mean 0, scale -1, shift 6: exactly 6 - x, so exactly x < 6);
 * NaN passes both, as torch's hardtanh backward. `dy` and `x` dense
 * float32 of one size; the caller checks that the backend fuses.
 */
export function relu6Grad(dy: Tensor, x: Tensor): Tensor {
  const lib = x.lib, n = x.numel();
  const coef = Tensor.empty([3], "float32", x.device);
  const host = new Float32Array([0, -1, 6]);
  check(lib, lib.lits_copy_h2d(coef.ptr, host, 12), () => "relu6 backward");
  const dx = Tensor.empty(x.shape, "float32", x.device);
  const mask = (g: Deno.PointerObject, c: Deno.PointerObject | null) =>
    check(
      lib,
      lib.lits_relu_mask_backward_f32!(g, null, x.ptr, c, null, null, dx.ptr, 1, 1, n, null),
      () => `relu6 backward [${x.shape}]`,
    );
  mask(dy.ptr, null);
  mask(dx.ptr, coef.ptr);
  coef.dispose();
  return dx;
}
