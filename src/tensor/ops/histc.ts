/**
 * `histc`: torch.histc's histogram of a tensor's values (HU histograms of
 * CT slices), computed on a host copy with torch's float32 arithmetic so
 * that every value lands in torch's bin.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { contiguous } from "./shape.ts";
import { hostResult, noDerivative } from "./host_values.ts";

const f = Math.fround;

/**
 * The histogram of `x`'s values in `bins` equal bins over [min, max], as
 * `torch.histc(x, bins=100, min=0, max=0)` (a float32 tensor of counts;
 * the shape is flattened). Values outside [min, max] and NaN are not
 * counted (torch's documented rule; torch 1.13's CPU kernel counts NaN in
 * the first bin); max itself falls in the last bin. Where min equals max (the
 * default 0, 0) the data's own minimum and maximum are used, and where
 * those are equal too the range is widened by 1 on each side, as torch's.
 * float32 only (torch 1.13 refuses integer tensors); no gradient.
 *
 * @example
 * ```ts
 * import { histc, tensor } from "@lits/vision";
 * console.log(histc(tensor([1, 2, 1]), 4, 0, 3).toList()); // [0, 2, 1, 0]
 * console.log(histc(tensor([-1000, 0, 40]), 2).toList()); // [1, 2]
 * ```
 */
export function histc(x: Tensor, bins = 100, min = 0, max = 0): Tensor {
  const usage = "histc(x, 100, -1000, 1000) (bins, min, max)";
  expectTensor(x, "histc", usage);
  if (arguments.length > 4) {
    throw new Error(`histc: takes (x, bins, min, max), got ${arguments.length}`);
  }
  if (x.dtype !== "float32") {
    throw new Error(
      `histc: expected a float32 tensor, got ${x.dtype} (torch 1.13: "histogram_cpu" not ` +
        "implemented for integers); convert with x.float()",
    );
  }
  if (typeof bins !== "number" || !Number.isInteger(bins) || bins <= 0) {
    throw new Error(`histc: bins must be an integer > 0, got ${String(bins)}; write ${usage}`);
  }
  for (const [name, v] of [["min", min], ["max", max]] as const) {
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new Error(`histc: ${name} must be a number, got ${String(v)}; write ${usage}`);
    }
  }
  const v = contiguous(x).toArray() as Float32Array;
  let lo = f(min), hi = f(max);
  if (lo === hi && v.length > 0) {
    lo = Infinity;
    hi = -Infinity;
    for (const e of v) {
      // torch's min() and max() propagate NaN, which then fails the finiteness check.
      if (Number.isNaN(e)) lo = hi = NaN;
      if (!Number.isNaN(lo)) {
        if (e < lo) lo = e;
        if (e > hi) hi = e;
      }
    }
  }
  if (lo === hi) {
    lo = f(lo - 1);
    hi = f(hi + 1);
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new Error(`histc: range of [${lo}, ${hi}] is not finite; give finite min and max`);
  }
  if (lo > hi) {
    throw new Error(`histc: max must be larger than min, got min ${min} and max ${max}`);
  }
  const counts = new Float32Array(bins);
  const width = f(hi - lo);
  for (const e of v) {
    if (!(e >= lo && e <= hi)) continue;
    // torch: (elt - leftmost) / (rightmost - leftmost) * bins in float32, truncated.
    let pos = Math.trunc(f(f(f(e - lo) / width) * bins));
    if (pos === bins) pos -= 1;
    counts[pos] += 1;
  }
  const out = hostResult(counts, [bins], "float32", x.device);
  return noDerivative(out, [x], "histc", "a histogram has no gradient; detach x first");
}
