/**
 * Writing along one dimension by index, gather's inverse: `scatter`
 * (torch.scatter, one-hot labels: `zeros([n, c]).scatter(1, y.unsqueeze(1),
 * 1)`), `scatterAdd` (torch.scatter_add), `indexAdd` (torch.index_add) and
 * `takeAlongDim` (torch.take_along_dim). Indices are int32 (this library's
 * torch.long); one outside the dimension is an Error, never a native read.
 *
 * The adds run on the backend's `lits_scatter_add_f32` (in index order, so
 * deterministic). A plain scatter that writes one position twice is
 * nondeterministic in torch; here the last write in row-major index order
 * wins, computed on a host copy (as int_arith.ts computes) and handed back
 * on the input's device. int32 tensors keep their dtype (exact, no gradient).
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { clone, contiguous, expand, i64, narrow, normDim } from "./shape.ts";
import { binaryRaw, broadcastShapes, mul, requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { ones, zeros } from "./creation.ts";
import { gather, takeAlong } from "./gather.ts";
import { cat } from "./join.ts";
import { hostResult } from "./host_values.ts";
import { checkOptions } from "../../options.ts";
import { scatterWithReduce } from "./scatter_reduce.ts";

/** @internal a scatter's source: a tensor or a number. */
export type Src = Tensor | number;

/** @internal a dimension of an ndim tensor, checked and normalised. */
export function checkDim(where: string, dim: unknown, ndim: number, usage: string): number {
  if (typeof dim !== "number" || !Number.isInteger(dim)) {
    throw new Error(
      `${where}: dim must be an integer, got ${JSON.stringify(dim) ?? String(dim)}; write ${usage}`,
    );
  }
  return normDim(dim, Math.max(ndim, 1), where);
}

/** @internal throws unless x is a float32 or int32 tensor. */
export function checkSelf(where: string, x: unknown, usage: string): asserts x is Tensor {
  expectTensor(x, where, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
}

/** @internal throws unless index is an int32 tensor on x's device. */
export function checkIndex(
  where: string,
  x: Tensor,
  index: unknown,
  usage: string,
): asserts index is Tensor {
  expectTensor(index, `${where}: index`, usage);
  if (index.dtype !== "int32") {
    throw new Error(
      `${where}: index must be an int32 tensor, got ${index.dtype} [${index.shape}]; ` +
        "convert with index.int()",
    );
  }
  sameDevice(x, index, where);
}

/** @internal throws unless `src` is a tensor of x's dtype and device, or a number fit for x. */
export function checkSrc(
  where: string,
  x: Tensor,
  src: unknown,
  usage: string,
): asserts src is Src {
  if (typeof src === "number") {
    if (Number.isNaN(src) && x.dtype === "int32") {
      throw new Error(`${where}: value NaN cannot be written into an int32 tensor`);
    }
    if (x.dtype === "int32" && !Number.isInteger(src)) {
      throw new Error(
        `${where}: value ${src} is not an integer and x is int32 (torch would truncate it); ` +
          "write an integer, or convert x with x.float()",
      );
    }
    return;
  }
  expectTensor(src, `${where}: src`, usage);
  if (src.dtype !== x.dtype) {
    throw new Error(
      `${where}: src is ${src.dtype} and x is ${x.dtype} (torch: "Expected self.dtype to be ` +
        `equal to src.dtype"); convert src with src.${x.dtype === "int32" ? "int" : "float"}()`,
    );
  }
  sameDevice(x, src, where);
}

/**
 * Checks index's shape against x's and src's as torch does: the same number
 * of dimensions, no larger than src anywhere and than x outside `d`.
 */
function checkShapes(where: string, x: Tensor, d: number, index: Tensor, src: Src): void {
  if (index.ndim !== x.ndim) {
    throw new Error(
      `${where}: index [${index.shape}] must have as many dimensions as x [${x.shape}]`,
    );
  }
  if (src instanceof Tensor && src.ndim !== x.ndim) {
    throw new Error(`${where}: src [${src.shape}] must have as many dimensions as x [${x.shape}]`);
  }
  index.shape.forEach((s, i) => {
    if (i !== d && s > x.shape[i]) {
      throw new Error(
        `${where}: index [${index.shape}] is larger than x [${x.shape}] in dimension ${i}, ` +
          `which is not the scattered dimension ${d}`,
      );
    }
    if (src instanceof Tensor && s > src.shape[i]) {
      throw new Error(
        `${where}: index [${index.shape}] is larger than src [${src.shape}] in dimension ${i}`,
      );
    }
  });
}

/** @internal the index's values on the host, each checked to lie in [0, r). */
export function hostIndex(where: string, index: Tensor, d: number, r: number): Int32Array {
  const v = contiguous(index).toArray() as Int32Array;
  for (let t = 0; t < v.length; t++) {
    if (v[t] < 0 || v[t] >= r) {
      throw new Error(
        `${where}: index ${v[t]} is out of bounds for dimension ${d} with size ${r} ` +
          "(indices run from 0 to size - 1; negative ones are not wrapped)",
      );
    }
  }
  return v;
}

/** `t` narrowed to `shape` (no larger anywhere) from the origin. */
function corner(t: Tensor, shape: readonly number[], skip = -1): Tensor {
  let out = t;
  shape.forEach((s, i) => {
    if (i !== skip && s < t.shape[i]) out = narrow(out, i, 0, s);
  });
  return out;
}

/** `x` with `part` (x's corner at the origin) in place of that corner. */
function embed(x: Tensor, part: Tensor): Tensor {
  let cur = part;
  for (let d = x.ndim - 1; d >= 0; d--) {
    if (cur.shape[d] === x.shape[d]) continue;
    let rest = narrow(x, d, cur.shape[d], x.shape[d] - cur.shape[d]);
    for (let e = 0; e < d; e++) {
      if (cur.shape[e] < x.shape[e]) rest = narrow(rest, e, 0, cur.shape[e]);
    }
    cur = cat([cur, rest], d);
  }
  return cur;
}

/** The kernels' [outer, r, k, inner] of x's corner `c` and index along `d`. */
function dims(c: Tensor, index: Tensor, d: number): [number, number, number, number] {
  return [
    numel(c.shape.slice(0, d)),
    c.shape[d],
    index.shape[d],
    numel(c.shape.slice(d + 1)),
  ];
}

/** @internal `dx[o, index, i] += src[o, j, i]` into a dense copy of `base` (float32). */
function addInto(
  base: Tensor,
  d: number,
  index: Tensor,
  src: Tensor,
  form: "dense" | "row",
  what: string,
): Tensor {
  const out = clone(base);
  const outer = numel(base.shape.slice(0, d)), r = base.shape[d];
  const inner = numel(base.shape.slice(d + 1));
  const k = form === "row" ? index.numel() : index.shape[d];
  const strides = i64(form === "row" ? [0, 1, 0] : [k * inner, inner, 1]);
  const s = contiguous(src), idx = contiguous(index);
  check(
    base.lib,
    base.lib.lits_scatter_add_f32(s.ptr, idx.ptr, strides, out.ptr, outer, r, k, inner),
    () => `${what} [${base.shape}] along dimension ${d} at index [${index.shape}]`,
  );
  return out;
}

/** @internal the shared front of scatter, scatterAdd and scatterReduce: checks, 0-d, the corner. */
export function scatterCommon(
  where: string,
  x: unknown,
  dim: unknown,
  index: unknown,
  src: unknown,
  usage: string,
  body: (c: Tensor, d: number, index: Tensor, src: Src, idx: Int32Array) => Tensor,
): Tensor {
  checkSelf(where, x, usage);
  const d = checkDim(where, dim, x.ndim, usage);
  checkIndex(where, x, index, usage);
  checkSrc(where, x, src, usage);
  if (x.ndim === 0) {
    // torch treats 0-d tensors as one element along dimension 0.
    const s = src instanceof Tensor && src.ndim === 0 ? src.reshape([1]) : src;
    const ix = index.ndim === 0 ? index.reshape([1]) : index;
    return scatterCommon(where, x.reshape([1]), 0, ix, s, usage, body).reshape([]);
  }
  if (index.numel() === 0) return clone(x);
  checkShapes(where, x, d, index, src);
  const idx = hostIndex(where, index, d, x.shape[d]);
  const c = corner(x, index.shape, d);
  const s = src instanceof Tensor ? corner(src, index.shape) : src;
  const part = body(c, d, index, s, idx);
  return c === x ? part : embed(x, part);
}

/** Last-write-wins scatter of the corner on the host (float32 or int32). */
function hostScatter(
  c: Tensor,
  d: number,
  index: Tensor,
  src: Src,
  idx: Int32Array,
  add: boolean,
): Tensor {
  const [outer, r, k, inner] = dims(c, index, d);
  const out = Float64Array.from(contiguous(c).toArray());
  const sv = src instanceof Tensor ? contiguous(src).toArray() : null;
  const value = typeof src === "number" ? src : 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const t = (o * k + j) * inner + i;
        const at = (o * r + idx[t]) * inner + i;
        const v = sv ? sv[t] : value;
        out[at] = add ? out[at] + v : v;
      }
    }
  }
  if (c.dtype === "int32") {
    const bad = out.findIndex((v) => v !== (v | 0));
    if (bad >= 0) throw new Error(`scatterAdd: the sum ${out[bad]} is beyond int32`);
  }
  return hostResult(out, c.shape, c.dtype, c.device);
}

/**
 * `x` with `src`'s values (or a number: `1`, or torch's keyword form
 * `{ value: 1 }`) written along `dim` at
 * `index`, as `torch.scatter` (the inverse of `gather`): for a 2-D x and
 * dim 1, `out[i][index[i][j]] = src[i][j]`. `index` is int32 with x's
 * number of dimensions, no larger than src, nor than x outside `dim`; an
 * index outside `[0, x.shape[dim])` is an Error. Where an index repeats,
 * the last write in row-major order wins (torch leaves it undefined).
 * torch's `reduce` option, `{ reduce: "add" }` or `{ reduce: "multiply" }`,
 * combines the values landing on a position with x's (no gradient, as
 * torch 1.13's; `scatterReduce` has one). The
 * gradient reaches x where nothing was written, and src as `gather(g, dim,
 * index)`, as torch's. int32 x and src stay int32 (no gradient).
 *
 * @example
 * ```ts
 * import { scatter, tensor, zeros } from "@lits/vision";
 * const y = tensor(new Int32Array([2, 0]), [2, 1]);
 * console.log(scatter(zeros([2, 3]), 1, y, 1).toList()); // [[0, 0, 1], [1, 0, 0]]
 * ```
 */
export function scatter(
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor | number | { value: number },
  options?: { reduce?: string },
): Tensor {
  const usage = "scatter(x, dim, index, src) with an int32 index and a tensor or number src";
  if (arguments.length > 5) {
    throw new Error(`scatter: takes (x, dim, index, src, options), got ${arguments.length}`);
  }
  if (src !== null && typeof src === "object" && !(src instanceof Tensor)) {
    // torch's keyword form, x.scatter_(0, index, value=1), ported as { value: 1 }.
    const { value, ...rest } = src as { value?: unknown };
    if (typeof value !== "number" || options !== undefined) {
      throw new Error(
        `scatter: src must be a tensor, a number or { value: number }; write ${usage}`,
      );
    }
    src = value;
    options = rest;
  }
  const o = checkOptions<{ reduce?: string }>("scatter", options, ["reduce"], usage);
  if (src === undefined) {
    throw new Error(`scatter: src (a tensor or a number) is missing; write ${usage}`);
  }
  if (o.reduce !== undefined) return scatterWithReduce(x, dim, index, src, o.reduce);
  return scatterCommon("scatter", x, dim, index, src, usage, (c, d, ix, s, idx) => {
    const out = hostScatter(c, d, ix, s, idx, false);
    if (c.dtype !== "float32") return out;
    const inputs = s instanceof Tensor ? [c, s] : [c];
    return record(out, {
      name: "scatter",
      inputs,
      saved: [ix],
      backward: (g) => {
        let gx: Tensor | null = null;
        if (c.requiresGrad) {
          // Zero where something was written: count the writes (native), keep where 0.
          const hits = addInto(
            zeros([...c.shape], { device: c.device }),
            d,
            ix,
            ones([...ix.shape], { device: c.device }),
            "dense",
            "scatter backward",
          );
          gx = mul(g, binaryRaw("eq", hits, scalarTensor(0, c.device)));
        }
        const gs = s instanceof Tensor && s.requiresGrad
          ? takeAlong(g, d, ix, "dense", false, "scatter backward")
          : null;
        return s instanceof Tensor ? [gx, gs] : [gx];
      },
    });
  });
}

/**
 * `x` with `src`'s values added along `dim` at `index`, as
 * `torch.scatter_add`: `out[i][index[i][j]] += src[i][j]` for a 2-D x and
 * dim 1; repeated indices add up (in index order, deterministic). The
 * shapes follow `scatter`'s rules. The gradient is g for x and `gather(g,
 * dim, index)` for src. int32 x and src stay int32 (exact, no gradient).
 *
 * @example
 * ```ts
 * import { scatterAdd, tensor, zeros } from "@lits/vision";
 * const index = tensor(new Int32Array([0, 1, 0, 0]), [4]);
 * console.log(scatterAdd(zeros([2]), 0, index, tensor([1, 2, 3, 4])).toList()); // [8, 2]
 * ```
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const usage = "scatterAdd(x, dim, index, src) with an int32 index and a tensor src";
  if (arguments.length > 4) {
    throw new Error(`scatterAdd: takes (x, dim, index, src), got ${arguments.length} arguments`);
  }
  expectTensor(src, "scatterAdd: src", usage);
  return scatterCommon("scatterAdd", x, dim, index, src, usage, (c, d, ix, s, idx) => {
    const st = s as Tensor;
    if (c.dtype === "int32") return hostScatter(c, d, ix, st, idx, true);
    const out = addInto(c, d, ix, st, "dense", "scatterAdd");
    return record(out, {
      name: "scatterAdd",
      inputs: [c, st],
      saved: [ix],
      backward: (g) => [
        c.requiresGrad ? g : null,
        st.requiresGrad ? takeAlong(g, d, ix, "dense", false, "scatterAdd backward") : null,
      ],
    });
  });
}

/**
 * `x` with `alpha * source`'s slices added along `dim` at the positions a
 * 1-D int32 `index` names, as `torch.index_add(x, dim, index, source, *,
 * alpha)`: `out[:, index[j]] += alpha * source[:, j]` for dim 1. `source`
 * has x's shape except `index.numel()` along `dim`; repeats add up. An
 * index outside `[0, x.shape[dim])` is an Error. float32 only.
 *
 * @example
 * ```ts
 * import { indexAdd, tensor, zeros } from "@lits/vision";
 * const index = tensor(new Int32Array([2, 0]), [2]);
 * const out = indexAdd(zeros([2, 3]), 1, index, tensor([[1, 2], [3, 4]]), { alpha: 2 });
 * console.log(out.toList()); // [[4, 0, 2], [8, 0, 6]]
 * ```
 */
export function indexAdd(
  x: Tensor,
  dim: number,
  index: Tensor,
  source: Tensor,
  options?: { alpha?: number },
): Tensor {
  const usage = "indexAdd(x, dim, index, source, { alpha }) with a 1-D int32 index";
  if (arguments.length > 5) {
    throw new Error(`indexAdd: takes (x, dim, index, source, options), got ${arguments.length}`);
  }
  const { alpha = 1 } = checkOptions<{ alpha?: number }>("indexAdd", options, ["alpha"], usage);
  if (typeof alpha !== "number" || !Number.isFinite(alpha)) {
    throw new Error(
      `indexAdd: alpha must be a finite number, got ${String(alpha)}; write ${usage}`,
    );
  }
  checkSelf("indexAdd", x, usage);
  if (x.dtype !== "float32") {
    throw new Error(`indexAdd: expected a float32 tensor, got ${x.dtype}; convert with x.float()`);
  }
  const d = checkDim("indexAdd", dim, x.ndim, usage);
  checkIndex("indexAdd", x, index, usage);
  checkSrc("indexAdd", x, source, usage);
  if (!(source instanceof Tensor)) throw new Error(`indexAdd: source must be a tensor; ${usage}`);
  if (index.ndim > 1) {
    throw new Error(`indexAdd: index must be 1-D (or 0-d), got [${index.shape}]; ${usage}`);
  }
  const xs = x.ndim === 0 ? x.reshape([1]) : x;
  const ss = source.ndim === 0 ? source.reshape([1]) : source;
  const want = xs.shape.map((s, i) => (i === d ? index.numel() : s));
  if (ss.ndim !== xs.ndim || ss.shape.some((s, i) => s !== want[i])) {
    throw new Error(
      `indexAdd: source [${source.shape}] must be [${want}]: x [${x.shape}] with ` +
        `index.numel() = ${index.numel()} along dimension ${d}`,
    );
  }
  hostIndex("indexAdd", index, d, xs.shape[d]);
  const scaled = alpha === 1 ? ss : mul(ss, alpha);
  const out = addInto(xs, d, index.reshape([-1]), scaled, "row", "indexAdd");
  const res = record(out, {
    name: "indexAdd",
    inputs: [xs, scaled],
    saved: [index],
    backward: (g) => [
      xs.requiresGrad ? g : null,
      scaled.requiresGrad
        ? takeAlong(g, d, index.reshape([-1]), "row", false, "indexAdd backward")
        : null,
    ],
  });
  return x.ndim === 0 ? res.reshape([]) : res;
}

/**
 * Values of `x` at `indices` along `dim`, as `torch.take_along_dim`: as
 * `gather`, but x and indices broadcast against each other outside `dim`;
 * without `dim` both are flattened (`takeAlongDim(x, argmax(x))` reads the
 * maximum). Indices are int32; one outside the dimension is an Error.
 *
 * @example
 * ```ts
 * import { argsort, takeAlongDim, tensor } from "@lits/vision";
 * const x = tensor([[10, 30, 20], [60, 40, 50]]);
 * console.log(takeAlongDim(x, argsort(x, 1), 1).toList()); // [[10, 20, 30], [40, 50, 60]]
 * ```
 */
export function takeAlongDim(x: Tensor, indices: Tensor, dim?: number | null): Tensor {
  const usage = "takeAlongDim(x, indices, dim) with int32 indices";
  if (arguments.length > 3) {
    throw new Error(`takeAlongDim: takes (x, indices, dim), got ${arguments.length} arguments`);
  }
  expectTensor(x, "takeAlongDim", usage);
  requireFloat(x, "takeAlongDim");
  checkIndex("takeAlongDim", x, indices, usage);
  if (dim === undefined || dim === null) {
    if (x.numel() === 0 && indices.numel() > 0) {
      throw new Error(`takeAlongDim: x [${x.shape}] is empty, there is nothing to take`);
    }
    return takeAlong(x.reshape([-1]), 0, indices.reshape([-1]), "dense", true, "takeAlongDim");
  }
  const d = checkDim("takeAlongDim", dim, x.ndim, usage);
  if (x.ndim !== indices.ndim) {
    throw new Error(
      `takeAlongDim: x [${x.shape}] and indices [${indices.shape}] must have the same number ` +
        "of dimensions",
    );
  }
  if (x.ndim === 0) return gather(x, 0, indices);
  const other = (s: readonly number[]) => s.map((v, i) => (i === d ? 1 : v));
  const b = broadcastShapes(other(x.shape), other(indices.shape), "takeAlongDim");
  const xs = expand(x, b.map((v, i) => (i === d ? x.shape[i] : v)));
  const is = expand(indices, b.map((v, i) => (i === d ? indices.shape[i] : v)));
  if (x.shape[d] === 0 && is.numel() > 0) {
    throw new Error(`takeAlongDim: x [${x.shape}] has nothing along dimension ${d} to take`);
  }
  return takeAlong(xs, d, is, "dense", true, "takeAlongDim");
}
