/**
 * Reordering along dimensions: `flip` (torch.flip), a take along the
 * dimension at reversed indices (its gradient the take's scatter-add), and
 * `roll` (torch.roll), a take at rotated indices. Test-time flips and
 * circular shifts of CT slices are their common use.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { clone, normDim, reshape } from "./shape.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { around, hostResult } from "./host_values.ts";

/** A value as an error shows it (NaN and Infinity by name, where JSON says null). */
const shown = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(String).join(", ")}]` : typeof v === "string" ? `"${v}"` : String(v);

/**
 * y's slices along `d` at `index` (a permutation): the gather kernel for
 * float32; for int32 labels an exact copy on the host (the kernel is
 * float32 only, and labels are small), with no gradient.
 */
function takeRows(y: Tensor, d: number, index: Int32Array, what: string): Tensor {
  if (y.dtype === "float32") {
    return takeAlong(y, d, indexVector(index, y.device), "row", false, what);
  }
  const v = y.toArray();
  const [outer, r, inner] = around(y.shape, d);
  const out = new Int32Array(v.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < r; j++) {
      out.set(
        v.subarray((o * r + index[j]) * inner, (o * r + index[j] + 1) * inner),
        (o * r + j) * inner,
      );
    }
  }
  return hostResult(out, y.shape, "int32", y.device);
}

/** Throws unless x is float32 or int32 (the two this library has; a clear message otherwise). */
function requireFloatOrInt(x: Tensor, what: string): void {
  if (x.dtype !== "int32") requireFloat(x, what);
}

/** The dims as a list of distinct normalised dimensions. */
function dimList(where: string, x: Tensor, dims: unknown, usage: string): number[] {
  const list = typeof dims === "number" ? [dims] : dims;
  if (!Array.isArray(list) || !list.every((d) => Number.isInteger(d))) {
    throw new Error(
      `${where}: dims must be an integer or an array of them, got ${shown(dims)}; write ${usage}`,
    );
  }
  const out = list.map((d) => normDim(d, Math.max(x.ndim, 1), where));
  if (where === "flip" && new Set(out).size !== out.length) {
    throw new Error(`flip: dimension repeated in [${list}]`);
  }
  return out;
}

/**
 * `x` with the order of its elements reversed along each of `dims`, as
 * `torch.flip` (a copy, as torch's). `flip(x, 3)` mirrors an [N, C, H, W]
 * batch left to right. float32 or int32 (a label map flipped with its
 * image stays int32).
 *
 * @example
 * ```ts
 * import { flip, tensor } from "@lits/vision";
 * console.log(flip(tensor([[1, 2, 3], [4, 5, 6]]), [1]).toList()); // [[3, 2, 1], [6, 5, 4]]
 * ```
 */
export function flip(x: Tensor, dims: number | number[]): Tensor {
  const usage = "flip(x, [2, 3]) (or x.flip([2, 3]))";
  if (arguments.length > 2) {
    throw new Error(`flip: takes (x, dims), got ${arguments.length} arguments; write ${usage}`);
  }
  expectTensor(x, "flip", usage);
  requireFloatOrInt(x, "flip");
  let y = x.ndim === 0 ? reshape(x, [1]) : x;
  for (const d of dimList("flip", x, dims, usage)) {
    const n = y.shape[d];
    if (n <= 1) continue;
    const index = Int32Array.from({ length: n }, (_, i) => n - 1 - i);
    y = takeRows(y, d, index, "flip");
  }
  if (x.ndim === 0) return reshape(y, []);
  return y === x ? clone(x) : y; // a copy even when nothing moves, as torch's
}

/**
 * One shift, out[i] = y[(i - shift) mod n]: a take at rotated positions,
 * whose gradient is the take's scatter-add (each position once).
 */
function rollAlong(y: Tensor, d: number, shift: number): Tensor {
  const n = y.shape[d];
  const s = n === 0 ? 0 : ((shift % n) + n) % n;
  if (s === 0) return y;
  // One gather pass, as flip's: a cat of two strided views went through the
  // strided copy, several times slower on images.
  const index = Int32Array.from({ length: n }, (_, j) => (j - s + n) % n);
  return takeRows(y, d, index, "roll");
}

/**
 * `x` shifted circularly by `shifts` along `dims`, as `torch.roll`:
 * elements pushed past the end come back at the start. Without `dims` the
 * tensor is rolled as if flattened, then given its shape back. A negative
 * shift rolls the other way. float32 or int32 (labels stay int32, as
 * torch's int64).
 *
 * @example
 * ```ts
 * import { roll, tensor } from "@lits/vision";
 * console.log(roll(tensor([1, 2, 3, 4]), 1).toList()); // [4, 1, 2, 3]
 * console.log(roll(tensor([[1, 2], [3, 4]]), [1, -1], [0, 1]).toList()); // [[4, 3], [2, 1]]
 * ```
 */
export function roll(x: Tensor, shifts: number | number[], dims?: number | number[]): Tensor {
  const usage = "roll(x, 2, 1) or roll(x, [1, -1], [2, 3])";
  if (arguments.length > 3) {
    throw new Error(`roll: takes (x, shifts, dims), got ${arguments.length} arguments`);
  }
  expectTensor(x, "roll", usage);
  requireFloatOrInt(x, "roll");
  const shiftList = typeof shifts === "number" ? [shifts] : shifts;
  if (!Array.isArray(shiftList) || !shiftList.every((s) => Number.isInteger(s))) {
    throw new Error(
      `roll: shifts must be an integer or an array of them, got ${shown(shifts)}; write ${usage}`,
    );
  }
  if (dims === undefined || (Array.isArray(dims) && dims.length === 0)) {
    if (shiftList.length !== 1) {
      throw new Error(
        `roll: without dims, shifts must be one integer (the flattened tensor's), got [${shiftList}]`,
      );
    }
    const flat = reshape(x, [x.numel()]);
    const y = rollAlong(flat, 0, shiftList[0]);
    return y === flat ? clone(x) : reshape(y, [...x.shape]);
  }
  if (x.ndim === 0) {
    // torch: "Dimension specified as 0 but tensor has no dimensions".
    throw new Error("roll: a 0-d tensor has no dimension to roll along; leave dims out");
  }
  const dimsList = dimList("roll", x, dims, usage);
  if (dimsList.length !== shiftList.length) {
    throw new Error(
      `roll: shifts [${shiftList}] and dims [${dims}] must have the same length; write ${usage}`,
    );
  }
  let y = x.ndim === 0 ? reshape(x, [1]) : x;
  dimsList.forEach((d, i) => (y = rollAlong(y, d, shiftList[i])));
  if (x.ndim === 0) return reshape(y, []);
  return y === x ? clone(x) : y;
}
