/**
 * `cumsum` (torch.cumsum): running sums along one dimension, summed in
 * double as torch's CPU kernel. Its gradient is the upstream gradient's
 * running sums from the end (the backend's reverse pass).
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { contiguous, normDim } from "./shape.ts";

function runningSums(x: Tensor, d: number, reverse: boolean, what: string): Tensor {
  const src = contiguous(x);
  const outer = numel(x.shape.slice(0, d)), r = x.shape[d] ?? 1;
  const inner = numel(x.shape.slice(d + 1));
  const y = Tensor.empty([...x.shape], "float32", x.device);
  check(
    x.lib,
    x.lib.lits_cumsum_f32(src.ptr, y.ptr, outer, r, inner, reverse ? 1 : 0),
    () => `${what} [${x.shape}] along dimension ${d}`,
  );
  return y;
}

/**
 * The running sums of `x` along `dim`, as `torch.cumsum(x, dim)`: element j
 * is x[0] + ... + x[j]. Sums run in double (a long run of small values
 * after a large one is kept), as torch's. Cumulative histograms, CDFs of
 * intensities, ROC curves by hand.
 *
 * @example
 * ```ts
 * import { cumsum, tensor } from "@lits/vision";
 * console.log(cumsum(tensor([[1, 2, 3], [4, 5, 6]]), 1).toArray()); // Float32Array [1, 3, 6, 4, 9, 15]
 * ```
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  const usage = "cumsum(x, dim) (x.cumsum(1))";
  if (arguments.length !== 2) {
    throw new Error(`cumsum: takes (x, dim), got ${arguments.length} arguments; write ${usage}`);
  }
  expectTensor(x, "cumsum", usage);
  requireFloat(x, "cumsum");
  if (!Number.isInteger(dim)) {
    throw new Error(`cumsum: dim must be an integer, got ${JSON.stringify(dim)}; write ${usage}`);
  }
  // torch takes dim 0 or -1 of a 0-d tensor as its one element.
  const d = normDim(dim, Math.max(x.ndim, 1), "cumsum");
  const y = runningSums(x, d, false, "cumsum");
  return record(y, {
    name: "cumsum",
    inputs: [x],
    saved: [],
    backward: (g) => [runningSums(g, d, true, "cumsum backward")],
  });
}
