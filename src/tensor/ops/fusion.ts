/**
 * Op fusion: who defers what, and every check of whether a deferred value
 * can be read as it is. Ops call the hooks below and never look inside a
 * recipe; the storages themselves are `fusion_storage.ts`.
 *
 * A batch norm's output, a residual add and a ReLU make tensors whose memory
 * is not written yet (the recipe `relu?(T_x(x) + T_r(r))`, T a per-channel
 * transform). ReLU's backward makes a gradient not written yet (dy masked by
 * the pre-activation). Any use not in this table writes the memory first
 * (`ptr`), so nothing observable changes:
 *
 * | producer \ consumer     | conv2d            | maxPool2d    | relu           | add (same shape) | batchNorm backward | conv2d backward  |
 * | ----------------------- | ----------------- | ------------ | -------------- | ---------------- | ------------------ | ---------------- |
 * | batchNorm output T(x)   | input(): reads it | input()      | extends recipe | operand          | -                  | -                |
 * | relu output relu(T(x))  | input(): reads it | input()      | same recipe    | written          | -                  | -                |
 * | add output T(x) + T(r)  | written           | written      | extends recipe | written          | -                  | -                |
 * | relu gradient (masked)  | -                 | -            | -              | -                | maskedDy(): folds  | withChannelSums()|
 *
 * Max pooling's gradient is unwritten too (`poolGrad`); when a ReLU's
 * gradient of it is written (the small CNN's conv -> ReLU -> pool, read by
 * the convolution's backward), both are written in one pass, the mask taken
 * from the pool's output, each window's value being the ReLU's output at its
 * argmax (`lits_maxpool2d_backward_relu_out_f32`: a quarter of the bytes of
 * the ReLU's input for 2x2 windows), or from that input where the output was
 * written since (`lits_maxpool2d_backward_relu_f32`); any other use writes it
 * alone.
 *
 * A ReLU output that is written anyway (a residual sum that a convolution
 * reads) is written with its mask as bits when its backward is recorded
 * (`keepReluBits`); that backward reads the bits instead of the output, 1/32
 * of its bytes (ResNet-50's residual ReLUs: 16 of its step's memory-bound
 * passes).
 *
 * Under autocast, a batch norm's dx for a 1x1 convolution before it is
 * written in bf16 and read so by that convolution's backward
 * (`bf16_grad.ts`): its own deferred storage, widened for any other use.
 * And a residual block's output whose first reader is a 1x1 stride-1
 * convolution (a bottleneck's conv1) is written as bf16, which that
 * convolution's forward and filter gradient and the next block's residual
 * add read as it is (`bf16Input`, `bf16_act.c`); any other use widens it.
 *
 * In the backward pass, the sum of two gradients that reach one tensor (a
 * residual block's input: its shortcut's and its first convolution's) is an
 * add of op results, so it stays a recipe too, and a ReLU's backward that
 * receives it adds the two as it masks (`lits_relu_mask_backward_f32`'s dy2)
 * instead of reading a written sum.
 *
 * In evaluation without gradients, a ResNet bottleneck's output skips even
 * its recipe: conv3 writes relu(bn3(conv3) + shortcut) itself
 * (`conv_epilogue.ts`, called by the block, which knows the pattern).
 *
 * Only tensors a step or a scope owns (op results; inside a scope, any
 * tensor made there) are folded into recipes. One may still be written in
 * place later (`x.mul_(-1)`, an optimizer's step on a parameter made in a scope):
 * every in-place write first writes out the recipes that read its memory
 * (`beforeWrite`, `Storage.settleReaders`), so that a deferred value keeps
 * what its op read, as an eager one does. Backends without the
 * `LITS_OPTIONAL` kernels of `lits.h` (all or none) never defer, so they
 * only ever see the identity transform.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { numel } from "../tensor.ts";
import { autocastDtype } from "../autocast.ts";
import {
  FusedStorage,
  type FusedValue,
  maskedGrad,
  MaskedGradStorage,
  type Operand,
  operandPtr,
  poolGradTensor,
  whole,
} from "./fusion_storage.ts";

export {
  activationWritten,
  fusedTensor,
  type FusedValue,
  type Operand,
  operandPtr,
  recipeOf,
  relu6Grad,
} from "./fusion_storage.ts";

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
    lib.lits_relu_mask_backward_f32 !== null && lib.lits_batchnorm2d_stats_f32 !== null &&
    lib.lits_batchnorm2d_backward_relu_f32 !== null;
}

/** `t`'s recipe when it is an unwritten fused value seen whole. */
export function fusedOf(t: Tensor): FusedValue | null {
  if (!t.isAlive) return null;
  const s = t.storage;
  return s instanceof FusedStorage && whole(t) ? s.value : null;
}

/** A transform over [n, c, hw] may only be read in its own channel layout. */
function sameLayout(v: FusedValue, n: number, c: number, hw: number): boolean {
  return v.x.coef === null || (v.n === n && v.c === c && v.hw === hw);
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
  if (v) return v.relu || v.r !== null || !sameLayout(v, n, c, hw) ? null : v.x;
  // (An unwritten ReLU gradient is not memory yet; a written one is, and so
  // is a value held as bf16: a recipe reading it as bf16 or widened.)
  const s = t.storage;
  const held = s instanceof FusedStorage && s.heldHalf !== null;
  if (!t.isContiguous || !(s.isMaterialized || held)) return null;
  return { storage: s, offset: t.offset, coef: null };
}

/** A kernel input relu?(T(x)): lits.h's x, x_coef, x_relu. */
export interface KernelInput {
  /** x's first element. */
  ptr: Deno.PointerObject;
  /** The coef array, or null for the identity. */
  coef: Deno.PointerObject | null;
  /** 1 when a ReLU follows. */
  relu: number;
}

/**
 * Hook for a consumer that applies relu?(T(x)) while reading (convolution,
 * max pooling): `t` (seen as [n, c, hw]) as that transformed input when it
 * is an unwritten value of one input, else `t`'s memory with the identity.
 */
export function input(t: Tensor, n: number, c: number, hw: number): KernelInput {
  const v = fusedOf(t);
  if (!v || v.r !== null || !sameLayout(v, n, c, hw)) return { ptr: t.ptr, coef: null, relu: 0 };
  return { ptr: operandPtr(v.x), coef: v.x.coef?.ptr ?? null, relu: v.relu ? 1 : 0 };
}

/** `t`'s memory, or null while `t` is unwritten (for kernels that may skip reading it). */
export function memoryOrNull(t: Tensor): Deno.PointerObject | null {
  return fusedOf(t) ? null : t.ptr;
}

/** The value under a ReLU of `t` when the ReLU can be deferred (relu(relu(u)) = relu(u)). */
export function reluInput(t: Tensor): FusedValue | null {
  if (!canFuse(t) || t.numel() === 0) return null;
  const v = fusedOf(t);
  if (v) return { ...v, relu: false };
  const [n, c, hw] = channelView(t.shape);
  const x = operandOf(t, n, c, hw);
  return x ? { x, r: null, relu: false, n, c, hw } : null;
}

/**
 * Hook for ReLU's backward: dy where the ReLU passed its input, deferred, with
 * the mask read from `out` (its recipe while unwritten, else its memory:
 * relu(u) > 0 exactly where u > 0, NaN passing in both). Null when `out`
 * was disposed by hand or is not dense: then the plain kernel runs.
 */
export function reluGrad(dy: Tensor, out: Tensor): Tensor | null {
  if (!out.isAlive || !out.isContiguous) return null;
  const v = fusedOf(out);
  if (v) return maskedGrad(dy, { ...v, relu: false });
  // Written: its mask's bits where they were kept (laid out as its recipe was), else its values.
  const s = out.storage;
  const bits = s instanceof FusedStorage && whole(out) ? s.bits : null;
  const x = { storage: out.storage, offset: out.offset, coef: null };
  const [n, c, hw] = bits ? [bits.n, bits.c, bits.hw] : [1, 1, out.numel()];
  return maskedGrad(dy, { x, r: null, relu: false, n, c, hw }, bits);
}

/**
 * Hook for ReLU's forward once its backward is recorded: should `out`'s
 * recipe be written (a residual sum that a convolution reads), its mask is
 * written beside it as bits, which the backward reads instead of `out`:
 * 1/32 of the bytes (ResNet-50's residual ReLUs).
 */
export function keepReluBits(out: Tensor): void {
  const s = out.storage;
  if (s instanceof FusedStorage && whole(out) && out.lib.lits_relu_bits_backward_f32) {
    s.keepBits(autocastDtype() === "bfloat16");
  }
}

/**
 * Hook for a convolution under autocast that reads bf16 as it is (a 1x1
 * stride-1 layer): `t`'s values as bf16 where it is a residual block's
 * output held so, or written so now (`FusedStorage.half`), else null (then
 * it reads `t` as it would). `existing`: only where it is held so already.
 */
export function bf16Input(t: Tensor, existing = false): Deno.PointerObject | null {
  const s = t.storage;
  if (!(s instanceof FusedStorage) || !whole(t)) return null;
  return (existing ? s.heldHalf : s.half())?.ptr ?? null;
}

/** Whether `t` may be read as bf16 (`bf16Input`), before asking the backend for the geometry. */
export function mayReadBf16(t: Tensor): boolean {
  const s = t.storage;
  return s instanceof FusedStorage && whole(t) && (s.heldHalf !== null || s.mayHalve);
}

/**
 * Hook for max pooling's backward: x's gradient from dy (the output's,
 * contiguous) and the argmax indices, deferred, so that a ReLU's gradient
 * of it (the small CNN's conv -> ReLU -> pool) is written with it in one
 * pass (`MaskedGradStorage`), its mask read from `out`, the pool's output,
 * unless that was written since the forward; null where the backend lacks
 * that kernel or fusion is off (then the plain kernel runs).
 */
export function poolGrad(
  dy: Tensor,
  indices: Tensor,
  params: Int32Array,
  x: Tensor,
  out: PoolOutput,
): Tensor | null {
  if (!canFuse(x) || !x.lib.lits_maxpool2d_backward_relu_f32 || !whole(dy) || !whole(indices)) {
    return null;
  }
  // The output as the forward wrote it (not written in place since) holds the ReLU's mask.
  const y = out.y.isAlive && whole(out.y) && out.y.storage.version === out.version
    ? out.y.storage
    : null;
  return poolGradTensor(x, x.shape, { dy: dy.storage, indices: indices.storage, params, y });
}

/** Max pooling's output and its storage's version when the forward wrote it. */
export interface PoolOutput {
  readonly y: Tensor;
  readonly version: number;
}

/**
 * Hook for batch norm's backward: when `g` is the unwritten gradient of a
 * ReLU applied directly to this batch norm's deferred output (input `x`,
 * transform `coef`), the unmasked dy to hand the fused kernel; else null.
 */
export function maskedDy(g: Tensor, x: Tensor, coef: Tensor | null): Deno.PointerObject | null {
  const s = g.storage;
  const m = s instanceof MaskedGradStorage && whole(g) ? s.parts : null;
  if (m === null || coef === null || m.pre.r !== null) return null;
  const own = m.pre.x.storage === x.storage && m.pre.x.offset === x.offset &&
    m.pre.x.coef === coef.storage;
  return own ? operandPtr(m.dy) : null;
}

/**
 * Hook for a convolution's backward: writes ReLU's deferred gradient `g` and
 * its per-channel sums over the [n, c, hw] view into `sums` (the bias
 * gradient) in one pass. False when `g` is not such a gradient (or one whose
 * mask is tied to another channel layout); then nothing is written.
 */
export function withChannelSums(
  g: Tensor,
  sums: Tensor,
  n: number,
  c: number,
  hw: number,
): boolean {
  const s = g.storage;
  if (n === 0 || !(s instanceof MaskedGradStorage) || !whole(g) || s.isMaterialized) return false;
  const pre = s.parts!.pre;
  // A per-channel transform in the mask belongs to its own [n, c, hw] view.
  const own = pre.n === n && pre.c === c && pre.hw === hw;
  if (!own && (pre.x.coef !== null || (pre.r?.coef ?? null) !== null)) return false;
  s.fill(sums.ptr, n, c, hw);
  return true;
}

/** [n, c, hw] of a shape [N, C, ...] (a vector is one channel). */
export function channelView(shape: readonly number[]): [number, number, number] {
  if (shape.length < 2) return [1, 1, numel(shape)];
  return [shape[0], shape[1], numel(shape.slice(2))];
}
