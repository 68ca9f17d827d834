/**
 * `oneHot` (torch.nn.functional.one_hot): class indices to one-hot rows.
 * Labels are read to the host once and the result is built there, as the
 * int32 comparisons do (compare.ts): labels are small next to images.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { fromHost } from "./creation.ts";
import { expectTensor } from "./compare.ts";

/**
 * int32 one-hot rows of int32 class indices, as `F.one_hot`: labels of
 * shape [...] give [..., numClasses], 1 at each label's index and 0
 * elsewhere. `numClasses` -1 (the default) takes the largest label + 1.
 * torch returns int64; this library's integer dtype is int32 (`.float()`
 * gives a float32 target). A negative label, a label >= `numClasses`, or
 * an empty tensor with `numClasses` -1 is an Error, as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const y = F.oneHot(tensor(new Int32Array([0, 2]), [2]), 3);
 * console.log(y.dtype, y.shape, y.toArray()); // "int32" [2, 3] Int32Array(6) [1, 0, 0, 0, 0, 1]
 * ```
 */
export function oneHot(labels: Tensor, numClasses = -1): Tensor {
  refuseKeywords("F.oneHot", numClasses, "labels", ["numClasses"], [-1]);
  const usage = "F.oneHot(labels, 3) with int32 labels";
  if (arguments.length > 2) {
    throw new Error(`oneHot: takes (labels, numClasses), got ${arguments.length} arguments`);
  }
  expectTensor(labels, "oneHot", usage);
  if (labels.dtype !== "int32") {
    throw new Error(
      `oneHot: labels must be an int32 tensor of class indices, got ${labels.dtype} ` +
        `[${labels.shape}]; convert with labels.int()`,
    );
  }
  if (!Number.isInteger(numClasses) || numClasses < -1) {
    throw new Error(
      `oneHot: numClasses must be a non-negative integer, or -1 to infer it, got ` +
        `${JSON.stringify(numClasses)}; write ${usage}`,
    );
  }
  const values = labels.toArray() as Int32Array;
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (values.length > 0 && lo < 0) {
    throw new Error(`oneHot: class values must be non-negative, got ${lo}`);
  }
  let classes = numClasses;
  if (classes === -1) {
    if (values.length === 0) {
      throw new Error(
        "oneHot: cannot infer the number of classes from an empty tensor; give numClasses",
      );
    }
    classes = hi + 1;
  } else if (values.length > 0 && hi >= classes) {
    throw new Error(
      `oneHot: class values must be smaller than numClasses (${classes}), got ${hi}`,
    );
  }
  const out = new Int32Array(values.length * classes);
  values.forEach((v, i) => (out[i * classes + v] = 1));
  return fromHost(out, [...labels.shape, classes], { dtype: "int32", device: labels.device }, true);
}
