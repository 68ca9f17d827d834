/**
 * Scatters that combine what lands on one position: `scatterReduce`
 * (torch.scatter_reduce with "sum", "prod", "mean", "amax", "amin" and
 * include_self), torch's older `scatter(..., reduce="add" | "multiply")`,
 * and `indexCopy` (torch.index_copy: whole slices replaced at an index).
 *
 * They run on a host copy, as the plain scatter's last-write-wins does
 * (scatter.ts): each output position's group of values is combined in
 * double, in index order, and rounded to float32 once, so the result does
 * not depend on a kernel's order of atomic adds. int32 stays int32,
 * exactly (a result beyond int32 is an Error; "mean" floors, as torch's
 * integer mean). The gradients are torch 1.13's: "prod" gives each member
 * the product of the others (zeros included), "amax"/"amin" share the
 * gradient evenly among the members equal to the result (x's own value
 * counted among them even with `includeSelf: false`, as torch 1.13's), and
 * a position that `includeSelf: false` replaced gives x no gradient.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { checkOptions } from "../../options.ts";
import { expectTensor } from "./compare.ts";
import { hostResult, noDerivative } from "./host_values.ts";
import {
  checkDim,
  checkIndex,
  checkSelf,
  checkSrc,
  hostIndex,
  scatterCommon,
  type Src,
} from "./scatter.ts";
import { contiguous } from "./shape.ts";

/** torch.scatter_reduce's reductions. */
export type ScatterReduction = "sum" | "prod" | "mean" | "amax" | "amin";

/** Options of `scatterReduce`, as torch's keyword. */
export interface ScatterReduceOptions {
  /** Whether x's own value joins each group it is scattered into (default true, as torch). */
  includeSelf?: boolean;
}

const REDUCTIONS: readonly string[] = ["sum", "prod", "mean", "amax", "amin"];

/** The groups: for each position of the corner, the src elements that land on it. */
interface Plan {
  /** The src element's output position, per src element (row-major over index). */
  target: Int32Array;
  /** How many src elements land on each output position. */
  hits: Int32Array;
}

function plan(c: Tensor, d: number, index: Tensor, idx: Int32Array): Plan {
  const outer = c.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const r = c.shape[d], k = index.shape[d];
  const inner = c.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const target = new Int32Array(idx.length);
  const hits = new Int32Array(c.numel());
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const t = (o * k + j) * inner + i;
        const at = (o * r + idx[t]) * inner + i;
        target[t] = at;
        hits[at]++;
      }
    }
  }
  return { target, hits };
}

const maxOf = (a: number, b: number) => (a !== a || b !== b ? NaN : a > b ? a : b);
const minOf = (a: number, b: number) => (a !== a || b !== b ? NaN : a < b ? a : b);

/** The reduced values of each position (float64), x's own where nothing lands. */
function reduceForward(
  self: ArrayLike<number>,
  src: ArrayLike<number>,
  p: Plan,
  reduce: ScatterReduction,
  includeSelf: boolean,
  isInt: boolean,
  where: string,
): Float64Array {
  const out = Float64Array.from(self);
  const first = new Uint8Array(out.length); // a replaced position not yet written
  for (let at = 0; at < out.length; at++) first[at] = p.hits[at] > 0 && !includeSelf ? 1 : 0;
  for (let t = 0; t < p.target.length; t++) {
    const at = p.target[t], v = src[t];
    if (first[at]) {
      out[at] = v;
      first[at] = 0;
      continue;
    }
    const o = out[at];
    out[at] = reduce === "prod"
      ? o * v
      : reduce === "amax"
      ? maxOf(o, v)
      : reduce === "amin"
      ? minOf(o, v)
      : o + v;
    if (isInt && (out[at] < -(2 ** 31) || out[at] >= 2 ** 31)) {
      throw new Error(
        `${where}: a "${reduce}" reaches ${out[at]}, beyond int32, this library's integer ` +
          "type (torch's int64 holds it); convert to float32 first (x.float())",
      );
    }
  }
  if (reduce === "mean") {
    for (let at = 0; at < out.length; at++) {
      const n = p.hits[at] + (includeSelf ? 1 : 0);
      if (p.hits[at] > 0) out[at] = isInt ? Math.floor(out[at] / n) : out[at] / n;
    }
  }
  return out;
}

/**
 * The gradients of x's corner and of src under torch 1.13's rules (see the
 * module doc), on the host from the upstream gradient `g`.
 */
function reduceBackward(
  g: ArrayLike<number>,
  self: ArrayLike<number>,
  src: ArrayLike<number>,
  result: ArrayLike<number>,
  p: Plan,
  reduce: ScatterReduction,
  includeSelf: boolean,
): [Float64Array, Float64Array] {
  const n = self.length;
  const gx = Float64Array.from(g);
  const gs = new Float64Array(src.length);
  const selfIn = (at: number) => includeSelf || p.hits[at] === 0;
  if (reduce === "sum") {
    for (let t = 0; t < gs.length; t++) gs[t] = g[p.target[t]];
  } else if (reduce === "mean") {
    const count = (at: number) => p.hits[at] + (includeSelf ? 1 : 0) || 1;
    for (let at = 0; at < n; at++) gx[at] = g[at] / count(at);
    for (let t = 0; t < gs.length; t++) gs[t] = g[p.target[t]] / count(p.target[t]);
  } else if (reduce === "amax" || reduce === "amin") {
    // torch 1.13 counts x's own value among the ties even where includeSelf left it out
    // (its gradient there is then zeroed below): matched, so the numbers are torch's.
    const ties = new Float64Array(n);
    for (let at = 0; at < n; at++) if (self[at] === result[at]) ties[at]++;
    for (let t = 0; t < gs.length; t++) if (src[t] === result[p.target[t]]) ties[p.target[t]]++;
    for (let at = 0; at < n; at++) gx[at] = self[at] === result[at] ? g[at] / ties[at] : 0;
    for (let t = 0; t < gs.length; t++) {
      const at = p.target[t];
      gs[t] = src[t] === result[at] ? g[at] / ties[at] : 0;
    }
  } else {
    // prod: the product of the group's other members, by prefix and suffix products.
    const members: number[][] = Array.from({ length: n }, () => []);
    for (let t = 0; t < gs.length; t++) members[p.target[t]].push(t);
    for (let at = 0; at < n; at++) {
      const list = members[at];
      const values = [...(selfIn(at) ? [self[at]] : []), ...list.map((t) => src[t])];
      const suffix = new Float64Array(values.length + 1).fill(1);
      for (let i = values.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1] * values[i];
      let prefix = 1;
      values.forEach((v, i) => {
        const others = g[at] * prefix * suffix[i + 1];
        const pos = selfIn(at) ? i - 1 : i;
        if (pos < 0) gx[at] = others;
        else gs[list[pos]] = others;
        prefix *= v;
      });
    }
  }
  if (!includeSelf) { for (let at = 0; at < n; at++) if (p.hits[at] > 0) gx[at] = 0; }
  return [gx, gs];
}

/** A reducing scatter's result, with what its backward reads. */
interface Reduced {
  out: Tensor;
  p: Plan;
  self: ArrayLike<number>;
  sv: ArrayLike<number>;
  values: Float64Array;
}

/** The reducing scatter of a corner `c` (scatterCommon's body). */
function reduceCorner(
  c: Tensor,
  d: number,
  index: Tensor,
  src: Src,
  idx: Int32Array,
  reduce: ScatterReduction,
  includeSelf: boolean,
  where: string,
): Reduced {
  const p = plan(c, d, index, idx);
  const self = contiguous(c).toArray();
  const sv = src instanceof Tensor
    ? contiguous(src).toArray()
    : new Float64Array(idx.length).fill(src);
  const isInt = c.dtype === "int32";
  const values = reduceForward(self, sv, p, reduce, includeSelf, isInt, where);
  const out = hostResult(values, c.shape, c.dtype, c.device);
  return { out, p, self, sv, values };
}

/**
 * `x` with `src`'s values combined along `dim` at `index`, as
 * `torch.scatter_reduce(x, dim, index, src, reduce, include_self=True)`:
 * for a 2-D x and dim 1, `out[i][index[i][j]]` is `reduce` of the
 * `src[i][j]` that land there, and of x's own value unless `includeSelf`
 * is false; positions nothing lands on keep x's value. `reduce` is "sum",
 * "prod", "mean", "amax" or "amin". `index` follows `scatter`'s rules
 * (int32, x's number of dimensions, no larger than src, nor than x
 * outside `dim`). Gradients reach x and src as torch's (see the module
 * doc); int32 x and src stay int32 (no gradient; "mean" floors).
 *
 * @example
 * ```ts
 * import { scatterReduce, tensor } from "@lits/vision";
 * const index = tensor(new Int32Array([0, 1, 0, 1, 2, 1]), [6]);
 * const src = tensor([5, 6, 7, 8, 9, 10]);
 * const x = tensor([1, 2, 3, 4]);
 * console.log(scatterReduce(x, 0, index, src, "sum").toList()); // [13, 26, 12, 4]
 * const m = scatterReduce(x, 0, index, src, "amax", { includeSelf: false });
 * console.log(m.toList()); // [7, 10, 9, 4]
 * ```
 */
export function scatterReduce(
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor,
  reduce: ScatterReduction,
  options?: ScatterReduceOptions,
): Tensor {
  const usage = 'scatterReduce(x, dim, index, src, "sum", { includeSelf: true })';
  if (arguments.length > 6) {
    throw new Error(
      `scatterReduce: takes (x, dim, index, src, reduce, options), got ${arguments.length}`,
    );
  }
  const { includeSelf = true } = checkOptions<ScatterReduceOptions>(
    "scatterReduce",
    options,
    ["includeSelf"],
    usage,
  );
  if (typeof includeSelf !== "boolean") {
    throw new Error(
      `scatterReduce: includeSelf must be a boolean, got ${String(includeSelf)}; write ${usage}`,
    );
  }
  if (typeof reduce !== "string" || !REDUCTIONS.includes(reduce)) {
    throw new Error(
      `scatterReduce: reduce must be one of "sum", "prod", "mean", "amax", "amin", got ` +
        `${JSON.stringify(reduce) ?? String(reduce)}; write ${usage}`,
    );
  }
  expectTensor(src, "scatterReduce: src", usage);
  return scatterCommon("scatterReduce", x, dim, index, src, usage, (c, d, ix, s, idx) => {
    const { out, p, self, sv, values } = reduceCorner(
      c,
      d,
      ix,
      s,
      idx,
      reduce,
      includeSelf,
      "scatterReduce",
    );
    if (c.dtype === "int32") return out;
    const st = s as Tensor;
    return record(out, {
      name: "scatterReduce",
      inputs: [c, st],
      saved: [],
      backward: (g) => {
        const [gx, gs] = reduceBackward(g.toArray(), self, sv, values, p, reduce, includeSelf);
        return [
          c.requiresGrad ? hostResult(gx, c.shape, "float32", g.device) : null,
          st.requiresGrad ? hostResult(gs, ix.shape, "float32", g.device) : null,
        ];
      },
    });
  });
}

/**
 * @internal torch's `scatter(x, dim, index, src, reduce="add" | "multiply")`
 * (src a tensor or a number): "sum" or "prod" with x's own values, and no
 * gradient, as torch 1.13's (a backward through it throws, naming it).
 */
export function scatterWithReduce(
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor | number,
  reduce: string,
): Tensor {
  const usage = 'x.scatter(dim, index, src, { reduce: "add" })';
  if (reduce !== "add" && reduce !== "multiply") {
    // torch: "reduce argument must be either add or multiply."
    throw new Error(
      `scatter: reduce must be "add" or "multiply", got ${JSON.stringify(reduce)}; for ` +
        `"sum", "prod", "mean", "amax", "amin" write scatterReduce(x, dim, index, src, reduce)`,
    );
  }
  const how: ScatterReduction = reduce === "add" ? "sum" : "prod";
  return scatterCommon("scatter", x, dim, index, src, usage, (c, d, ix, s, idx) => {
    const { out } = reduceCorner(c, d, ix, s, idx, how, true, "scatter");
    const inputs = [c, ...(s instanceof Tensor ? [s] : [])].filter((t) => t.requiresGrad);
    if (inputs.length === 0) return out;
    return noDerivative(
      out,
      inputs,
      "scatter",
      `scatter with reduce="${reduce}" has none in torch 1.13 either; for gradients write ` +
        `scatterReduce(x, dim, index, src, "${how}")`,
    );
  });
}

/**
 * `x` with its slices along `dim` at a 1-D int32 `index` replaced by
 * `source`'s, as `torch.index_copy(x, dim, index, source)`: `out[:,
 * index[j]] = source[:, j]` for dim 1. `source` has x's shape except
 * `index.numel()` along `dim`; where an index repeats, the last slice wins
 * (torch leaves that undefined). An index outside `[0, x.shape[dim])` is
 * an Error. The gradient reaches x where nothing was copied, and source
 * as `indexSelect(g, dim, index)`. int32 x and source stay int32.
 *
 * @example
 * ```ts
 * import { indexCopy, tensor, zeros } from "@lits/vision";
 * const index = tensor(new Int32Array([2, 0]), [2]);
 * const out = indexCopy(zeros([3, 2]), 0, index, tensor([[1, 2], [3, 4]]));
 * console.log(out.toList()); // [[3, 4], [0, 0], [1, 2]]
 * ```
 */
export function indexCopy(x: Tensor, dim: number, index: Tensor, source: Tensor): Tensor {
  const usage = "indexCopy(x, dim, index, source) with a 1-D int32 index";
  if (arguments.length !== 4) {
    throw new Error(`indexCopy: takes (x, dim, index, source), got ${arguments.length}`);
  }
  checkSelf("indexCopy", x, usage);
  const d = checkDim("indexCopy", dim, x.ndim, usage);
  checkIndex("indexCopy", x, index, usage);
  checkSrc("indexCopy", x, source, usage);
  if (!(source instanceof Tensor)) throw new Error(`indexCopy: source must be a tensor; ${usage}`);
  if (index.ndim > 1) {
    throw new Error(`indexCopy: index must be 1-D (or 0-d), got [${index.shape}]; ${usage}`);
  }
  const xs = x.ndim === 0 ? x.reshape([1]) : x;
  const ss = source.ndim === 0 ? source.reshape([1]) : source;
  const k = index.numel();
  const want = xs.shape.map((s, i) => (i === d ? k : s));
  if (ss.ndim !== xs.ndim || ss.shape.some((s, i) => s !== want[i])) {
    throw new Error(
      `indexCopy: source [${source.shape}] must be [${want}]: x [${x.shape}] with ` +
        `index.numel() = ${k} along dimension ${d}`,
    );
  }
  const idx = hostIndex("indexCopy", index, d, xs.shape[d]);
  const outer = xs.shape.slice(0, d).reduce((a, b) => a * b, 1);
  const r = xs.shape[d], inner = xs.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const values = xs.toArray(), sv = ss.toArray();
  const copied = new Uint8Array(values.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const to = (o * r + idx[j]) * inner, from = (o * k + j) * inner;
      values.set(sv.subarray(from, from + inner), to);
      copied.fill(1, to, to + inner);
    }
  }
  let out = hostResult(values, xs.shape, xs.dtype, xs.device);
  if (xs.dtype === "float32") {
    out = record(out, {
      name: "indexCopy",
      inputs: [xs, ss],
      saved: [],
      backward: (g) => {
        const gv = g.toArray();
        let gx: Tensor | null = null, gs: Tensor | null = null;
        if (xs.requiresGrad) {
          const kept = Float32Array.from(gv, (v, at) => (copied[at] ? 0 : v));
          gx = hostResult(kept, xs.shape, "float32", g.device);
        }
        if (ss.requiresGrad) {
          const taken = new Float32Array(ss.numel());
          for (let o = 0; o < outer; o++) {
            for (let j = 0; j < k; j++) {
              const at = (o * r + idx[j]) * inner;
              taken.set(gv.subarray(at, at + inner), (o * k + j) * inner);
            }
          }
          gs = hostResult(taken, ss.shape, "float32", g.device);
        }
        return [gx, gs];
      },
    });
  }
  return x.ndim === 0 ? out.reshape([]) : out;
}
