/**
 * `x.view(shape)` as torch's: a view whenever the new shape can be laid over
 * the existing strides, contiguous or not, and torch's refusal otherwise.
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { reshape } from "./shape.ts";

/**
 * The strides that show a tensor of `shape` and `strides` as `target`
 * (same number of elements) without moving data, or null where none do:
 * torch's rule for `view`. The old dimensions fall into runs that step
 * through memory evenly (each one's stride is the size times the stride of
 * the next, size-1 dimensions aside); the target must split into runs of
 * the same element counts, each of which then steps evenly from its run's
 * innermost stride. A 0-d tensor views as any shape of one element (strides
 * 1), an empty one as any shape of no elements.
 *
 * @example
 * ```ts
 * import { viewStrides } from "./view.ts";
 * // NHWC seen from NCHW memory: H and W merge, N cannot join them.
 * console.log(viewStrides([2, 4, 5, 3], [60, 5, 1, 20], [2, 20, 3])); // [60, 1, 20]
 * console.log(viewStrides([2, 4, 5, 3], [60, 5, 1, 20], [40, 3])); // null
 * ```
 */
export function viewStrides(
  shape: readonly number[],
  strides: readonly number[],
  target: readonly number[],
): number[] | null {
  if (shape.length === 0) return target.map(() => 1);
  if (numel(shape) === 0) {
    if (shape.length === target.length && shape.every((s, i) => s === target[i])) {
      return [...strides];
    }
    // torch's strides for a shape with zeros: a zero counts as one.
    const out = new Array<number>(target.length);
    for (let i = target.length - 1, s = 1; i >= 0; s *= Math.max(target[i], 1), i--) out[i] = s;
    return out;
  }
  const out = new Array<number>(target.length);
  let t = target.length - 1; // next target dimension to place, from the innermost
  let base = strides[shape.length - 1]; // innermost stride of the current run
  let runCount = 1, placedCount = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    runCount *= shape[d];
    const runEnds = d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== runCount * base);
    if (!runEnds) continue;
    // Size-1 target dimensions are placed greedily, as torch's (their stride is unused).
    while (t >= 0 && (placedCount < runCount || target[t] === 1)) {
      out[t] = placedCount * base;
      placedCount *= target[t];
      t--;
    }
    if (placedCount !== runCount) return null;
    if (d > 0) {
      base = strides[d - 1];
      runCount = 1;
      placedCount = 1;
    }
  }
  return t === -1 ? out : null;
}

/**
 * `t` seen as `shape` (sizes already inferred, same count): a view of the
 * same memory (writes through it reach `t`), or torch's error with its
 * advice where the strides do not allow one.
 */
export function viewAsShape(t: Tensor, shape: number[]): Tensor {
  if (t.isContiguous && t.numel() > 0) return reshape(t, shape, "view");
  const strides = viewStrides(t.shape, t.strides, shape);
  if (strides === null) {
    throw new Error(
      `view: [${t.shape}] with strides [${t.strides}] cannot be viewed as [${shape}]: a new ` +
        "dimension would span memory that is not evenly strided (torch: 'view size is not " +
        "compatible with input tensor's size and stride'); use .reshape(...) (which copies " +
        "here), or .contiguous().view(...)",
    );
  }
  const out = t._view(shape, strides, t.offset);
  const inShape = [...t.shape];
  return record(out, {
    name: "view",
    inputs: [t],
    saved: [],
    backward: (g) => [reshape(g, inShape)],
  });
}
