/**
 * Max pooling with torch's indices and max unpooling as native ops (the CPU
 * backend's native/cpu/pool_indices.c), forward and backward. They give the
 * bits of the composed paths that other devices take (pool_indices.ts,
 * max_unpool.ts): the same values, indices and gradient sums, in one pass
 * instead of a gather, an argmax and a take per dimension.
 *
 * @module
 */
import { check, int32Params } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous } from "./shape.ts";
import type { Axis } from "./pool_indices.ts";

/**
 * @internal Whether `x` can take the native pool with indices: float32 on a
 * backend with the kernels (the CPU's; CUDA composes gathers). Tests hide
 * `lits_maxpool_indices_f32` to take the composed path.
 */
export function canPoolWithIndicesNatively(x: Tensor): boolean {
  return x.dtype === "float32" && x.lib.lits_maxpool_indices_f32 !== null &&
    x.lib.lits_maxpool_indices_backward_f32 !== null;
}

/**
 * @internal Whether `x` can take the native unpool (as
 * {@link canPoolWithIndicesNatively}; tests hide `lits_max_unpool_f32`).
 */
export function canUnpoolNatively(x: Tensor): boolean {
  return x.dtype === "float32" && x.lib.lits_max_unpool_f32 !== null &&
    x.lib.lits_max_unpool_backward_f32 !== null;
}

/** A dimension of size 1 that a 1-D or 2-D pool adds in front (one tap, one output). */
const UNIT: Axis = { k: 1, s: 1, p: 0, dil: 1, out: 1 };

/**
 * lits_pool_nd_params of a pool of `sizes` by `axes` (one to three
 * dimensions, padded in front to three), in its field order.
 */
function poolParams(sizes: readonly number[], axes: readonly Axis[], what: () => string) {
  const pad = 3 - axes.length;
  const all = [...Array(pad).fill(UNIT), ...axes] as Axis[];
  const size = [...Array(pad).fill(1), ...sizes];
  const field = (f: (a: Axis) => number) => all.map(f);
  return int32Params([
    ...size,
    ...field((a) => a.out),
    ...field((a) => a.k),
    ...field((a) => a.s),
    ...field((a) => a.p),
    ...field((a) => a.dil),
    // An adaptive axis with unequal bins: torch's bins (its k and s unused).
    ...field((a) => (a.bins ? 1 : 0)),
  ], what);
}

/**
 * @internal `maxPoolWithIndices` on the native kernel: x [P, ...sizes],
 * `[values, indices]` both [P, ...outs], the bits of the composed path
 * (the first maximum, the last NaN, -inf at torch's index for a window with
 * no tap inside). The gradient adds dy at the indices, each plane's outputs
 * in order. Call only where {@link canPoolWithIndicesNatively}.
 */
export function maxPoolWithIndicesNative(
  x: Tensor,
  axes: readonly Axis[],
  what: string,
): [Tensor, Tensor] {
  const lib = x.lib;
  const [planes, ...sizes] = x.shape;
  const outs = axes.map((a) => a.out);
  const desc = () => `${what} [${x.shape}] to [${outs}] per plane`;
  const params = poolParams(sizes, axes, desc);
  const src = contiguous(x);
  const values = Tensor.empty([planes, ...outs], "float32", x.device);
  const indices = Tensor.empty([planes, ...outs], "int32", x.device);
  try {
    check(
      lib,
      lib.lits_maxpool_indices_f32!(params, src.ptr, values.ptr, indices.ptr, planes),
      desc,
    );
  } catch (e) {
    values.dispose();
    indices.dispose();
    throw e;
  }
  record(values, {
    name: what,
    inputs: [x],
    saved: [indices],
    backward: (g) => {
      const dy = contiguous(g);
      const dx = Tensor.empty([...x.shape], "float32", x.device);
      check(
        lib,
        lib.lits_maxpool_indices_backward_f32!(params, dy.ptr, indices.ptr, dx.ptr, planes),
        () => `${desc()}, backward`,
      );
      return [dx];
    },
  });
  return [values, indices];
}

/**
 * @internal `maxUnpool`'s scatter on the native kernel: x and its int32
 * indices [...lead, ...inSizes] put back in planes of zeros `out`, a
 * repeated index keeping its last value; the gradient gathers at the
 * indices. `badIndex` throws the composed path's error for an index out of
 * range (the kernel refuses it without writing). Call only where
 * {@link canUnpoolNatively}.
 */
export function maxUnpoolNative(
  where: string,
  x: Tensor,
  indices: Tensor,
  out: readonly number[],
  badIndex: (idx: Tensor) => void,
): Tensor {
  const lib = x.lib, nd = out.length;
  const lead = x.shape.slice(0, x.ndim - nd);
  const planes = numel(lead), kIn = numel(x.shape.slice(x.ndim - nd)), r = numel(out);
  const desc = () => `${where} x [${x.shape}] to [${out}] per plane`;
  const src = contiguous(x), idx = contiguous(indices);
  const y = Tensor.empty([...lead, ...out], "float32", x.device);
  const status = lib.lits_max_unpool_f32!(src.ptr, idx.ptr, y.ptr, planes, kIn, r);
  if (status !== 0) {
    y.dispose();
    badIndex(idx); // the composed path's words for a bad index
    check(lib, status, desc);
  }
  return record(y, {
    name: where,
    inputs: [x],
    saved: [idx],
    backward: (g) => {
      const dy = contiguous(g);
      const dx = Tensor.empty([...x.shape], "float32", x.device);
      check(
        lib,
        lib.lits_max_unpool_backward_f32!(dy.ptr, idx.ptr, dx.ptr, planes, kIn, r),
        () => `${desc()}, backward`,
      );
      return [dx];
    },
  });
}
