/**
 * Softmax and log-softmax along one dimension, with their own backward
 * kernels (stable: the maximum is subtracted first).
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { contiguous, normDim } from "./shape.ts";
import { requireFloat } from "./elementwise.ts";
import { recordKernelGrad } from "./kernel_grad.ts";

function softmaxAlong(t: Tensor, dim: number, log: boolean): Tensor {
  const what = log ? "logSoftmax" : "softmax";
  requireFloat(t, what);
  const d = normDim(dim, t.ndim, what);
  const x = contiguous(t);
  const outer = numel(t.shape.slice(0, d));
  const r = t.ndim === 0 ? 1 : t.shape[d];
  const inner = numel(t.shape.slice(d + 1));
  const y = Tensor.empty(t.shape, "float32", t.device);
  check(
    t.lib,
    t.lib.lits_softmax_f32(x.ptr, y.ptr, outer, r, inner, log ? 1 : 0),
    () => `${what} [${t.shape}] dim ${dim}`,
  );
  return recordKernelGrad(
    y,
    what,
    x,
    (dy, dx) =>
      t.lib.lits_softmax_backward_f32(y.ptr, dy.ptr, dx.ptr, outer, r, inner, log ? 1 : 0),
    () => `${what} backward [${t.shape}]`,
    { readsX: false, reads: [y] }, // its output's values
  );
}

/** Softmax along `dim`. */
export const softmax = (t: Tensor, dim: number): Tensor => softmaxAlong(t, dim, false);
/** Log-softmax along `dim`. */
export const logSoftmax = (t: Tensor, dim: number): Tensor => softmaxAlong(t, dim, true);
