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
import { around, hostResult } from "./host_values.ts";

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
 * The exact running sums of an int32 `x` along `d`, on a host copy (labels
 * and counts: small), as int32 (torch's int64); a sum int32 cannot hold is
 * an Error, never a wrap-around. No gradient (integer tensors take none).
 */
function intRunningSums(x: Tensor, d: number): Tensor {
  const v = x.toArray();
  const [outer, r, inner] = around(x.shape, d);
  const out = new Int32Array(v.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = 0;
      for (let j = 0; j < r; j++) {
        const at = (o * r + j) * inner + i;
        acc += v[at];
        if (acc < -(2 ** 31) || acc >= 2 ** 31) {
          throw new Error(
            `cumsum: a running sum reaches ${acc}, beyond int32, this library's integer type ` +
              "(torch's int64 holds it); convert to float32 first (x.float())",
          );
        }
        out[at] = acc;
      }
    }
  }
  return hostResult(out, x.shape, "int32", x.device);
}

/**
 * The running sums of `x` along `dim`, as `torch.cumsum(x, dim)`: element j
 * is x[0] + ... + x[j]. Sums run in double (a long run of small values
 * after a large one is kept), as torch's. Cumulative histograms, CDFs of
 * intensities, ROC curves by hand. An int32 x gives exact int32 sums
 * (torch's int64; beyond int32 is an Error), with no gradient.
 *
 * @example
 * ```ts
 * import { cumsum, tensor } from "@lits/vision";
 * console.log(cumsum(tensor([[1, 2, 3], [4, 5, 6]]), 1).toArray()); // Float32Array [1, 3, 6, 4, 9, 15]
 * console.log(cumsum(tensor(new Int32Array([1, 0, 1, 1]), [4]), 0).toArray()); // Int32Array [1, 1, 2, 3]
 * ```
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  const usage = "cumsum(x, dim) (x.cumsum(1))";
  if (arguments.length !== 2) {
    throw new Error(`cumsum: takes (x, dim), got ${arguments.length} arguments; write ${usage}`);
  }
  expectTensor(x, "cumsum", usage);
  if (x.dtype !== "int32") requireFloat(x, "cumsum");
  if (!Number.isInteger(dim)) {
    throw new Error(`cumsum: dim must be an integer, got ${JSON.stringify(dim)}; write ${usage}`);
  }
  // torch takes dim 0 or -1 of a 0-d tensor as its one element.
  const d = normDim(dim, Math.max(x.ndim, 1), "cumsum");
  if (x.dtype === "int32") return intRunningSums(x, d);
  const y = runningSums(x, d, false, "cumsum");
  return record(y, {
    name: "cumsum",
    inputs: [x],
    saved: [],
    backward: (g) => [runningSums(g, d, true, "cumsum backward")],
  });
}
