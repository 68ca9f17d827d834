/**
 * One separable resampling step of `interpolate` as one native op (the CPU
 * backend's native/cpu/resample.c): along one dimension, each output
 * position is a weighted sum of a few input positions (its taps). It gives
 * the bits of the composed path (a gather, a product and an add per tap),
 * in one pass instead of three whole-tensor passes per tap, and its
 * gradient in one pass too.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous } from "./shape.ts";
import type { Taps } from "./interpolate_aa.ts";

/**
 * @internal Whether `x` can take the native step: float32 on a backend with
 * the kernels (the CPU's; CUDA composes the step from tensor ops). Tests
 * hide `lits_resample_f32` to take the composed path.
 */
export function canResampleNatively(x: Tensor): boolean {
  return x.dtype === "float32" && x.lib.lits_resample_f32 !== null &&
    x.lib.lits_resample_backward_f32 !== null;
}

/** The taps side by side, [taps, k] each, as the kernel reads them. */
function packTaps(taps: Taps): { index: Int32Array; weight: Float32Array | null } {
  const k = taps.index[0].length, n = taps.index.length;
  const index = new Int32Array(n * k);
  taps.index.forEach((ix, t) => index.set(ix, t * k));
  if (taps.weight === null) return { index, weight: null };
  const weight = new Float32Array(n * k);
  taps.weight.forEach((w, t) => weight.set(w, t * k));
  return { index, weight };
}

/**
 * @internal `x` resampled along dimension `dim` by `taps`:
 * `out[..., j, ...] = sum over t of weight[t][j] * x[..., index[t][j], ...]`,
 * products rounded before they are added, taps in order (the composed
 * path's bits). Its gradient adds `weight[t][j] * dy[..., j, ...]` at
 * `index[t][j]`. Call only where {@link canResampleNatively}.
 */
export function resampleAlong(x: Tensor, dim: number, taps: Taps): Tensor {
  const lib = x.lib;
  const { index, weight } = packTaps(taps);
  const count = taps.index.length, k = taps.index[0].length;
  const outer = numel(x.shape.slice(0, dim)), r = x.shape[dim];
  const inner = numel(x.shape.slice(dim + 1));
  const what = () => `interpolate [${x.shape}] along dimension ${dim} to ${k}`;
  const src = contiguous(x);
  const out = Tensor.empty(x.shape.map((s, d) => (d === dim ? k : s)), "float32", x.device);
  try {
    check(
      lib,
      lib.lits_resample_f32!(src.ptr, index, weight, out.ptr, outer, r, k, inner, count),
      what,
    );
  } catch (e) {
    out.dispose();
    throw e;
  }
  return record(out, {
    name: "interpolate",
    inputs: [x],
    // The gradient reads only the taps (kept by this closure), not x.
    saved: [],
    backward: (g) => {
      const dy = contiguous(g);
      const dx = Tensor.empty([...x.shape], "float32", x.device);
      check(
        lib,
        lib.lits_resample_backward_f32!(dy.ptr, index, weight, dx.ptr, outer, r, k, inner, count),
        () => `${what()}, backward`,
      );
      return [dx];
    },
  });
}
