/**
 * `quantile` (torch.quantile): the q-th quantiles of a tensor, over one
 * dimension or all elements, with torch's interpolations between the two
 * nearest ranks. Built on `sort` (whose values carry the gradient back) and
 * takes at the two ranks, so percentile clipping of a CT slice and its
 * gradient are torch's. A slice holding NaN gives NaN, as torch's.
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { add, mul, requireFloat, sub } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost } from "./creation.ts";
import { normDim, permute, reshape, squeeze, transpose } from "./shape.ts";
import { sort } from "./sort.ts";
import { takeAlong } from "./gather.ts";
import { checkOptions } from "../../options.ts";

/** How a quantile between two ranks is read (torch's `interpolation`). */
export type QuantileInterpolation = "linear" | "lower" | "higher" | "midpoint" | "nearest";

/** Options of {@link quantile}, torch's keyword arguments. */
export interface QuantileOptions {
  /** The dimension to reduce; all elements when left out. */
  dim?: number;
  /** Keep the reduced dimension with size 1 (default false). */
  keepDim?: boolean;
  /** Default "linear". */
  interpolation?: QuantileInterpolation;
}

const MODES: QuantileInterpolation[] = ["linear", "lower", "higher", "midpoint", "nearest"];
const USAGE = "quantile(x, 0.99) or quantile(x, [0.01, 0.99], { dim: 1 })";

/** Python's round (half to even), as torch's `round` of the ranks. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torch's tensor q (`torch.quantile(x, torch.tensor([0.25, 0.75]))`) as its
 * numbers: a 0-d tensor is one q, a 1-D one a list.
 */
function hostQ(q: number | number[] | Tensor): number | number[] {
  if (q === null || typeof q !== "object" || Array.isArray(q) || !("toArray" in q)) return q;
  const t = q;
  if (t.ndim > 1) {
    throw new Error(
      `quantile: q must be a number, a list or a 0-d or 1-D tensor, got [${t.shape}]`,
    );
  }
  return t.ndim === 0 ? t.item() : Array.from(t.toArray());
}

/**
 * The `q`-th quantiles of `x` (q in [0, 1], one number or a list, or a
 * 0-d or 1-D tensor of them), as
 * `torch.quantile`: over `dim`, or over all elements when it is left out.
 * With a list of q the result has a leading dimension of q's length. The
 * default linear interpolation reads `sorted[i] + (r - i) * (sorted[i+1] -
 * sorted[i])` at rank `r = q * (n - 1)`. Differentiable.
 *
 * @example
 * ```ts
 * import { quantile, tensor } from "@lits/vision";
 * const x = tensor([0, 10, 20, 30, 40]);
 * console.log(quantile(x, 0.5).item(), quantile(x, [0.1, 0.9]).toList()); // 20 [4, 36]
 * ```
 */
export function quantile(
  x: Tensor,
  q: number | number[] | Tensor,
  options: QuantileOptions = {},
): Tensor {
  if (arguments.length > 3) {
    throw new Error(`quantile: takes (x, q, options), got ${arguments.length} arguments; ${USAGE}`);
  }
  expectTensor(x, "quantile", USAGE);
  requireFloat(x, "quantile");
  const o = checkOptions<QuantileOptions>(
    "quantile",
    options,
    ["dim", "keepDim", "interpolation"],
    USAGE,
  );
  const qn = hostQ(q);
  const qs = typeof qn === "number" ? [qn] : qn;
  if (
    !Array.isArray(qs) || qs.length === 0 ||
    !qs.every((v) => typeof v === "number" && v >= 0 && v <= 1)
  ) {
    throw new Error(
      `quantile: q must be a number in [0, 1] or a non-empty list of them, got ${
        String(q)
      }; ${USAGE}`,
    );
  }
  const mode = o.interpolation ?? "linear";
  if (!MODES.includes(mode)) {
    throw new Error(
      `quantile: interpolation must be one of ${MODES.join(", ")}, got ${String(mode)}`,
    );
  }
  const keepDim = o.keepDim ?? false;
  if (typeof keepDim !== "boolean") {
    throw new Error(`quantile: keepDim must be a boolean, got ${String(keepDim)}`);
  }
  if (x.numel() === 0) throw new Error(`quantile: input [${x.shape}] is empty`);
  // Sorted along the last dimension of a [rows, n] view: all elements, or `dim` moved last.
  let rowsView: Tensor, outShape: number[];
  if (o.dim === undefined) {
    rowsView = reshape(x, [1, x.numel()]);
    outShape = keepDim ? x.shape.map(() => 1) : [];
  } else {
    const d = normDim(o.dim, Math.max(x.ndim, 1), "quantile");
    const order = [...x.shape.keys()].filter((i) => i !== d);
    const moved = x.ndim === 0 ? reshape(x, [1]) : permute(x, [...order, d]);
    const n = moved.shape[moved.ndim - 1];
    rowsView = reshape(moved, [numel(moved.shape) / n, n]);
    outShape = x.ndim === 0
      ? []
      : keepDim
      ? x.shape.map((s, i) => (i === d ? 1 : s))
      : x.shape.filter((_, i) => i !== d);
  }
  const [rows, n] = rowsView.shape;
  const sorted = sort(rowsView, 1).values;
  const values = sorted.toArray() as Float32Array; // NaN sorts last: a row holding one ends with it
  const k = qs.length;
  const lo = new Int32Array(rows * k),
    hi = new Int32Array(rows * k),
    w = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const hasNaN = Number.isNaN(values[r * n + n - 1]);
    qs.forEach((qv, j) => {
      const rank = hasNaN ? n - 1 : Math.fround(Math.fround(qv) * (n - 1));
      let below = Math.floor(rank), above = Math.ceil(rank), weight = rank - below;
      if (mode === "lower") above = below;
      else if (mode === "higher") below = above;
      else if (mode === "nearest") below = above = roundHalfEven(rank);
      else if (mode === "midpoint") weight = below === above ? 0 : 0.5;
      lo[r * k + j] = below;
      hi[r * k + j] = above;
      w[r * k + j] = mode === "linear" || mode === "midpoint" ? weight : 0;
    });
  }
  const device = x.device;
  const at = (idx: Int32Array) =>
    takeAlong(
      sorted,
      1,
      fromHost(idx, [rows, k], { dtype: "int32", device }, true),
      "dense",
      false,
      "quantile",
    );
  const a = at(lo), b = at(hi);
  let y = add(a, mul(sub(b, a), fromHost(w, [rows, k], { device }, true))); // [rows, k]
  // torch's layout: the q dimension first, then the reduced shape.
  y = reshape(transpose(y, 0, 1), [k, ...outShape]);
  return typeof qn === "number" ? squeeze(y, 0) : y;
}
