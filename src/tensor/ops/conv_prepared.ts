/**
 * Prepared convolution weights: where a convolution's weights will not
 * change under it (no gradient is recorded for them: `noGrad`, or frozen
 * layers), its forward keeps them in the form the kernel reads (Winograd's
 * transformed, packed planes; the GEMM convolutions' packed weights) in a
 * buffer tied to the weight's storage, so that an evaluation pays that
 * transform once instead of once per call. The
 * kernel hashes the weights on every call and remakes the buffer when they
 * differ (`lits.h`), so no write to them, by any path, goes unseen. A
 * forward that records the weights' gradient lets the buffer go: training
 * changes them every step, and holds its memory for activations.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import type { Storage } from "../storage.ts";
import type { Tensor } from "../tensor.ts";

/** A weight storage's buffer (V8's memory: the garbage collector frees it with the storage). */
const buffers = new WeakMap<Storage, Uint8Array>();
/** The same for the bf16 evaluation chain's layout (`conv_nhwc_bf16.ts`). */
const chainBuffers = new WeakMap<Storage, Uint8Array>();
const bytesOut = new BigInt64Array(1);

/** The buffer and its size, as `lits_conv2d_forward_prepared_f32` takes them. */
export interface PreparedWeights {
  /** The buffer's first byte. */
  readonly ptr: Deno.PointerObject;
  /** Its length in bytes. */
  readonly bytes: bigint;
}

/**
 * The prepared-weights buffer of `weight` for a convolution of `params`
 * (lits_conv2d_params), or null where the backend or the algorithm has
 * nothing to prepare, or `weight` is not a stored tensor of its own (an op
 * result or a view is made afresh each time). One buffer per weight serves
 * every image size: Winograd's planes and packed weights depend on the
 * channels only.
 */
export function preparedWeights(weight: Tensor, params: Int32Array): PreparedWeights | null {
  const lib = weight.lib;
  if (lib.lits_conv2d_prepared_bytes === null || lib.lits_conv2d_forward_prepared_f32 === null) {
    return null;
  }
  return bufferOf(buffers, weight, params, lib.lits_conv2d_prepared_bytes);
}

/**
 * @internal The buffer in which `lits_conv2d_nhwc_bf16` keeps `weight`
 * rounded to bf16 in its kernel's layout for a convolution of `params`, or
 * null as `preparedWeights` says. Without it each call of ResNet-50's
 * chained evaluation rounded and laid out every weight again (9 ms of 394
 * at batch 16, 8.5 of 34.7 at batch 1, 2-core Zen 4); with it the hash
 * that guards the buffer reads them instead: 402 -> 399.5 ms at batch 16,
 * 39.9 -> 35.5 at batch 1 (three alternating runs each).
 */
export function preparedChainWeights(weight: Tensor, params: Int32Array): PreparedWeights | null {
  const ask = weight.lib.lits_conv2d_nhwc_bf16_prepared_bytes;
  return ask === null ? null : bufferOf(chainBuffers, weight, params, ask);
}

/** `weight`'s buffer in `map`, of the size `ask` says (grown where it is short), or null. */
function bufferOf(
  map: WeakMap<Storage, Uint8Array>,
  weight: Tensor,
  params: Int32Array,
  ask: (params: Int32Array, out: Deno.PointerValue) => number,
): PreparedWeights | null {
  if (weight.owner !== null || weight.offset !== 0 || !weight.isContiguous) return null;
  check(
    weight.lib,
    ask(params, Deno.UnsafePointer.of(bytesOut)),
    () => `prepared weights for [${weight.shape}]`,
  );
  const bytes = Number(bytesOut[0]);
  if (bytes === 0) return null;
  let buffer = map.get(weight.storage);
  if (buffer === undefined || buffer.byteLength < bytes) {
    buffer = new Uint8Array(bytes);
    map.set(weight.storage, buffer);
  }
  return { ptr: Deno.UnsafePointer.of(buffer)!, bytes: BigInt(buffer.byteLength) };
}

/** Lets `weight`'s buffers go (its gradient is being recorded: it is about to change). */
export function releasePreparedWeights(weight: Tensor): void {
  buffers.delete(weight.storage);
  chainBuffers.delete(weight.storage);
}
