/**
 * `mode` (torch's): the most frequent value along a dimension and where it
 * was, e.g. the majority vote of an ensemble's predicted classes. Counted
 * on a host copy, as torch's CPU kernel counts: each slice sorted, its runs
 * of equal values counted.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad } from "../autograd.ts";
import { expectTensor } from "./compare.ts";
import { gather } from "./gather.ts";
import { isnan } from "./nonfinite.ts";
import { normDim, squeeze } from "./shape.ts";
import { ValuesIndices } from "./sort.ts";
import { around, hostResult } from "./host_values.ts";

const USAGE = "mode(x, dim, keepDim) (x.mode(1), x.mode(1, true))";

/**
 * The most frequent value along `dim` (default the last) and its int32
 * index, as `torch.mode(x, dim, keepdim)`: of values equally frequent, the
 * smallest; the index is that value's last occurrence (torch's CPU kernel
 * gives it too for slices of up to 16 elements; on longer ones its unstable
 * sort may point at another occurrence of the same value). NaN never
 * equals NaN, so each NaN counts once, sorted last: NaN is the mode only of
 * a slice of NaN alone. torch's sort leaves NaN unordered, so its answer
 * for a slice holding NaN depends on where NaN stood (`[NaN, 1, NaN, 1,
 * 2]` gives NaN there, 1 here): drop or fill NaN first for torch's numbers.
 * float32 or int32 (int32 values stay int32); the gradient goes to the
 * element each value came from, as torch's.
 *
 * @example
 * ```ts
 * import { mode, tensor } from "@lits/vision";
 * // Three models' predicted classes for four slices: the majority vote.
 * const votes = tensor([[0, 2, 1, 1], [0, 2, 2, 1], [1, 2, 1, 0]], { dtype: "int32" });
 * const { values, indices } = mode(votes, 0);
 * console.log(values.toList(), indices.toList()); // [0, 2, 1, 1] [1, 2, 2, 1]
 * ```
 */
export function mode(x: Tensor, dim = -1, keepDim = false): ValuesIndices {
  if (arguments.length > 3) {
    throw new Error(`mode: takes (x, dim, keepDim), got ${arguments.length} arguments; ${USAGE}`);
  }
  expectTensor(x, "mode", USAGE);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`mode: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  if (typeof dim !== "number" || !Number.isInteger(dim)) {
    throw new Error(`mode: dim must be an integer, got ${JSON.stringify(dim)}; write ${USAGE}`);
  }
  if (typeof keepDim !== "boolean") {
    throw new Error(`mode: keepDim must be a boolean, got ${JSON.stringify(keepDim)}; ${USAGE}`);
  }
  const d = normDim(dim, Math.max(x.ndim, 1), "mode");
  if (x.ndim === 0) {
    // Index 0, made as an op result; through isnan, as int() refuses NaN.
    return new ValuesIndices(x.reshape([]), noGrad(() => isnan(x).mul(0).int()));
  }
  if (x.shape[d] === 0) {
    throw new Error(
      `mode: dimension ${d} of [${x.shape}] is empty (torch: "Expected reduction ` +
        `dim ${d} to have non-zero size")`,
    );
  }
  const kept = x.shape.map((s, i) => (i === d ? 1 : s));
  const host = x.toArray();
  const at = modeIndex(host, x.shape, d);
  const index = hostResult(at, kept, "int32", x.device);
  // int32 values (no gradient) are read on the host; float32 ones through gather, for the gradient.
  const values = x.dtype === "int32"
    ? hostResult(pick(host, x.shape, d, at), kept, "int32", x.device)
    : gather(x, d, index);
  return keepDim
    ? new ValuesIndices(values, index)
    : new ValuesIndices(squeeze(values, d), squeeze(index, d));
}

/** The values at `at` along d (one per slice). */
function pick(
  v: Int32Array | Float32Array,
  shape: readonly number[],
  d: number,
  at: Int32Array,
): Int32Array {
  const [outer, r, inner] = around(shape, d);
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) out[o * inner + i] = v[(o * r + at[o * inner + i]) * inner + i];
  }
  return out;
}

/** For each slice along d: the index of the last occurrence of its mode. */
function modeIndex(v: Float32Array | Int32Array, shape: readonly number[], d: number): Int32Array {
  const [outer, r, inner] = around(shape, d);
  const out = new Int32Array(outer * inner);
  const order = new Int32Array(r);
  const slice = new Float64Array(r);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      for (let k = 0; k < r; k++) {
        slice[k] = v[(o * r + k) * inner + i];
        order[k] = k;
      }
      // Ascending, NaN last, equal values in index order (a stable sort).
      order.sort((a, b) => {
        const x = slice[a], y = slice[b];
        if (x < y) return -1;
        if (x > y) return 1;
        const nx = Number.isNaN(x), ny = Number.isNaN(y);
        return nx === ny ? a - b : nx ? 1 : -1;
      });
      let best = -1, bestCount = 0, count = 0;
      for (let k = 0; k < r; k++) {
        count++;
        // A run ends where the next value differs (NaN differs from everything).
        if (k === r - 1 || !(slice[order[k]] === slice[order[k + 1]])) {
          if (count > bestCount) {
            bestCount = count;
            best = order[k];
          }
          count = 0;
        }
      }
      out[o * inner + i] = best;
    }
  }
  return out;
}
