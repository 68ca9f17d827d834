/**
 * `repeatInterleave` (torch.repeat_interleave): each slice along a
 * dimension repeated in place, by one count or a count per slice. The
 * index of the result is made on the host from the counts (as torch's
 * reads a tensor of counts to size its result), and a float32 tensor is
 * taken along it on its device, so the gradient sums each slice's copies;
 * int32 is taken on a host copy.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { reshape } from "./shape.ts";
import { checkElements, hostArray } from "../sizes.ts";
import { around, dimOf, hostResult } from "./host_values.ts";

/** The counts, one per slice along a dimension of `size` (a single count is shared). */
function countsOf(repeats: unknown, size: number, usage: string): number[] {
  let counts: number[];
  if (typeof repeats === "number") {
    counts = [repeats];
  } else {
    expectTensor(repeats, "repeatInterleave: repeats", usage);
    if (repeats.dtype !== "int32") {
      throw new Error(
        `repeatInterleave: repeats must be a number or an int32 tensor, got ${repeats.dtype}; ` +
          "convert with .int()",
      );
    }
    if (repeats.ndim > 1) {
      // torch: "repeats must be 0-dim or 1-dim tensor"
      throw new Error(`repeatInterleave: repeats must be 0-d or 1-D, got [${repeats.shape}]`);
    }
    counts = [...repeats.toArray()];
  }
  const bad = counts.find((r) => !Number.isInteger(r) || r < 0);
  if (bad !== undefined) {
    // torch: "repeats can not be negative"
    throw new Error(`repeatInterleave: repeats must be integers >= 0, got ${bad}; write ${usage}`);
  }
  if (counts.length === 1) return Array(size).fill(counts[0]);
  if (counts.length !== size) {
    // torch: "repeats must have the same size as input along dim"
    throw new Error(
      `repeatInterleave: ${counts.length} repeats for ${size} slices; give one count per ` +
        "slice along dim, or one count",
    );
  }
  return counts;
}

/** Position j repeated counts[j] times, for j in order. */
function spread(counts: number[], rest = 1): Int32Array {
  const total = counts.reduce((a, b) => a + b, 0);
  // The result's elements (total slices of `rest` each), before anything is allocated.
  checkElements(total * rest, "repeatInterleave");
  const index = hostArray(Int32Array, total, "repeatInterleave");
  let at = 0;
  counts.forEach((c, j) => {
    index.fill(j, at, at + c);
    at += c;
  });
  return index;
}

/**
 * Each element (or each slice along `dim`) repeated in place, as
 * `torch.repeat_interleave(x, repeats, dim)`: `repeats` is one count or an
 * int32 tensor of one count per slice. Without `dim` x is flattened first
 * (a 1-D result). The one-argument form `repeatInterleave(counts)` is
 * torch's `repeat_interleave(repeats)`: each index j repeated counts[j]
 * times (int32). Float32 gradients sum each slice's copies.
 *
 * @example
 * ```ts
 * import { repeatInterleave, tensor } from "@lits/vision";
 * const x = tensor([[1, 2], [3, 4]]);
 * console.log(repeatInterleave(x, 2).toList()); // [1, 1, 2, 2, 3, 3, 4, 4]
 * console.log(repeatInterleave(x, tensor(new Int32Array([1, 2]), [2]), 0).toList()); // [[1, 2], [3, 4], [3, 4]]
 * ```
 */
export function repeatInterleave(x: Tensor, repeats?: number | Tensor, dim?: number): Tensor {
  const usage = "repeatInterleave(x, 2, dim) or repeatInterleave(x, counts, dim)";
  if (arguments.length > 3) {
    throw new Error(`repeatInterleave: takes (x, repeats, dim), got ${arguments.length} arguments`);
  }
  expectTensor(x, "repeatInterleave", usage);
  if (repeats === undefined) {
    if (arguments.length > 1) {
      throw new Error(`repeatInterleave: repeats is undefined; write ${usage}`);
    }
    // torch.repeat_interleave(repeats): the indices 0, 1, ... each repeated its count.
    if (x.dtype !== "int32" || x.ndim !== 1) {
      throw new Error(
        `repeatInterleave: the one-argument form takes a 1-D int32 tensor of counts, got ` +
          `${x.dtype} [${x.shape}]; write ${usage}`,
      );
    }
    const index = spread(countsOf(x, x.shape[0], usage));
    return hostResult(index, [index.length], "int32", x.device);
  }
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`repeatInterleave: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  if (repeats instanceof Tensor && repeats.device !== x.device) {
    throw new Error(
      `repeatInterleave: repeats is on ${repeats.device} and x on ${x.device}; move one`,
    );
  }
  const src = dim === undefined ? reshape(x, [x.numel()]) : x;
  const d = dim === undefined ? 0 : dimOf(x, dim, "repeatInterleave");
  const flat = src.ndim === 0 ? reshape(src, [1]) : src;
  const index = spread(countsOf(repeats, flat.shape[d], usage), flat.numel() / flat.shape[d] || 0);
  let out: Tensor;
  if (x.dtype === "int32") {
    const v = flat.toArray();
    const [outer, r, inner] = around(flat.shape, d);
    const k = index.length;
    const taken = hostArray(Int32Array, outer * k * inner, "repeatInterleave");
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < inner; i++) {
          taken[(o * k + j) * inner + i] = v[(o * r + index[j]) * inner + i];
        }
      }
    }
    out = hostResult(taken, flat.shape.map((s, i) => (i === d ? k : s)), "int32", x.device);
  } else {
    out = takeAlong(flat, d, indexVector(index, x.device), "row", false, "repeatInterleave");
  }
  // torch keeps a 0-d x's repeats 1-D, as here.
  return out;
}
