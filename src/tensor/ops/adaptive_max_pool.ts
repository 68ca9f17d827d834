/**
 * `F.adaptiveMaxPool2d`: max pooling of x [N, C, H, W] (or [C, H, W]) to a
 * given output size, over torch's bins (rows floor(i H / oh) up to
 * ceil((i + 1) H / oh), columns the same).
 *
 * The 1 x 1 head is a max over each flattened plane; where the bins tile
 * the image evenly (H and W multiples of the output) it is max pooling with
 * kernel = stride = H / oh, on the backend's kernel. Otherwise each bin is a max over its flattened
 * block. Either way the gradient goes to the first maximum of each bin in
 * row-major order, as torch's.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { max } from "./reduce.ts";
import { flatten, narrow, squeeze, unsqueeze } from "./shape.ts";
import { stack } from "./join.ts";
import { type AdaptiveSize, adaptiveSize, maxPool2d } from "./pool.ts";

/**
 * Adaptive max pooling of x [N, C, H, W] (or unbatched [C, H, W]) to
 * [N, C, oh, ow], as `F.adaptive_max_pool2d(x, outputSize)`: `outputSize`
 * is one number or [oh, ow], where null keeps that input dimension. The
 * average and max heads of many classifiers concatenate this with
 * `adaptiveAvgPool2d`. torch's `return_indices` is not offered.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[[[1, 5, 2], [4, 3, 6]]]]);
 * console.log(F.adaptiveMaxPool2d(x, 1).toArray()); // Float32Array [6]
 * console.log(F.adaptiveMaxPool2d(x, [1, 2]).toArray()); // Float32Array [5, 6]
 * ```
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const where = "adaptiveMaxPool2d";
  if (arguments.length > 2) {
    throw new Error(
      `${where}: takes (x, outputSize), got ${arguments.length} arguments (returnIndices is ` +
        "not offered)",
    );
  }
  expectTensor(x, where, "F.adaptiveMaxPool2d(x, [1, 1])");
  requireFloat(x, where);
  if (x.ndim === 3) return squeeze(adaptiveMaxPool2d(unsqueeze(x, 0), outputSize), 0);
  if (x.ndim !== 4) {
    throw new Error(`${where}: expected [N, C, H, W] or [C, H, W], got [${x.shape}]`);
  }
  const [, , h, w] = x.shape;
  if (h < 1 || w < 1) throw new Error(`${where}: input [${x.shape}] has an empty plane`);
  const [oh, ow] = adaptiveSize(where, outputSize, h, w);
  // The global pool as a reduction: the pooling kernel walks a whole plane per output (100x slower).
  if (oh === 1 && ow === 1) return unsqueeze(unsqueeze(max(flatten(x, 2), 2), 2), 3);
  if (h % oh === 0 && w % ow === 0) return maxPool2d(x, [h / oh, w / ow]);
  const rows: Tensor[] = [];
  for (let i = 0; i < oh; i++) {
    const h0 = Math.floor((i * h) / oh), h1 = Math.ceil(((i + 1) * h) / oh);
    const band = narrow(x, 2, h0, h1 - h0);
    const bins: Tensor[] = [];
    for (let j = 0; j < ow; j++) {
      const w0 = Math.floor((j * w) / ow), w1 = Math.ceil(((j + 1) * w) / ow);
      bins.push(max(flatten(narrow(band, 3, w0, w1 - w0), 2), 2));
    }
    rows.push(stack(bins, 2));
  }
  return stack(rows, 2);
}
