/**
 * Reductions over dimensions: sum, mean, max, min, argmax, and the
 * broadcast-undoing `sumToShape` that binary ops' gradients need. On int32
 * (class labels), sum, max, min, amax, amin and argmax are exact, on a host
 * copy, with int32 results; mean refuses int32, as torch's.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { REDUCE_OP as REDUCE } from "../../ffi/codes.ts";
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous, expand, normDim, permute, reshape } from "./shape.ts";
import { binaryRaw, div, mul, neg, requireFloat } from "./elementwise.ts";
import { arange, fromHost } from "./creation.ts";
import { hasOut, outError, showValue } from "./show_value.ts";

type ReduceName = keyof typeof REDUCE;

function normDims(t: Tensor, dims: number | number[] | undefined, what: string): number[] {
  if (dims === undefined) return [...t.shape.keys()];
  if (t.ndim === 0) {
    // A 0-d tensor has its dims 0 and -1 as torch's: reducing it is the identity.
    for (const d of Array.isArray(dims) ? dims : [dims]) {
      if (d !== 0 && d !== -1) {
        throw new Error(`${what}: dimension ${d} is out of range for a 0-d tensor (0 or -1)`);
      }
    }
    return [];
  }
  const list = (Array.isArray(dims) ? dims : [dims]).map((d) => normDim(d, t.ndim, what));
  if (new Set(list).size !== list.length) {
    throw new Error(`${what}: repeated dimension in [${dims}]`);
  }
  return list.length === 0 ? [...t.shape.keys()] : list.sort((a, b) => a - b);
}

/** @internal reduces `dims` of `t` (no autograd); returns [result, keepDim shape]. */
function reduceRaw(name: ReduceName, t: Tensor, dims: number[]): [Tensor, number[]] {
  const keepShape = t.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const isBlock = dims.every((d, i) => i === 0 || d === dims[i - 1] + 1);
  let src: Tensor;
  let outer: number, r: number, inner: number;
  if (isBlock && dims.length > 0) {
    src = contiguous(t);
    outer = numel(t.shape.slice(0, dims[0]));
    r = numel(dims.map((d) => t.shape[d]));
    inner = numel(t.shape.slice(dims[dims.length - 1] + 1));
  } else {
    const kept = [...t.shape.keys()].filter((i) => !dims.includes(i));
    src = contiguous(permute(t, [...kept, ...dims]));
    outer = numel(kept.map((i) => t.shape[i]));
    r = numel(dims.map((d) => t.shape[d]));
    inner = 1;
  }
  if (r === 0 && (name === "max" || name === "min")) {
    throw new Error(`${name}: cannot reduce an empty dimension of [${t.shape}]`);
  }
  const out = Tensor.empty(keepShape, "float32", t.device);
  check(
    t.lib,
    t.lib.lits_reduce_f32(REDUCE[name], src.ptr, out.ptr, outer, r, inner),
    () => `${name} over [${dims}] of [${t.shape}]`,
  );
  return [out, keepShape];
}

/** keepDim is positional: `x.sum(1, { keepdim: false })` would keep it (an object is true). */
function checkKeepDim(name: string, keepDim: unknown): void {
  if (typeof keepDim === "boolean") return;
  if (hasOut(keepDim)) throw outError(name, `x.${name}(dim, keepDim)`);
  throw new Error(
    `${name}: keepDim is the second argument, true or false, as in x.${name}(1, true); got ` +
      showValue(keepDim),
  );
}

function reduce(
  name: ReduceName,
  t: Tensor,
  dimsArg: number | number[] | undefined,
  keepDim: boolean,
  split = false,
) {
  if (t instanceof Tensor && t.dtype === "int32") {
    const what = split ? (name === "max" ? "amax" : "amin") : name;
    return reduceInt(name, what, t, dimsArg, keepDim);
  }
  requireFloat(t, name);
  checkKeepDim(name, keepDim);
  const dims = normDims(t, dimsArg, name);
  const [kept, keepShape] = reduceRaw(name, t, dims);
  const outShape = keepDim ? keepShape : t.shape.filter((_, i) => !dims.includes(i));
  const out = keepDim
    ? kept
    : kept._view(outShape, outShape.map((_, i) => numel(outShape.slice(i + 1))), 0);
  const inShape = [...t.shape];
  const count = numel(dims.map((d) => t.shape[d]));
  return record(out, {
    name,
    inputs: [t],
    saved: name === "sum" || name === "mean" ? [] : [t],
    backward: (g) => {
      const spread = expand(reshape(g, keepShape), inShape);
      if (name === "sum") return [spread];
      if (name === "mean") return [div(spread, count)];
      // max/min over one dim is torch.max(x, dim): the gradient goes to the
      // index it returns, the first extreme (or NaN) along the dim.
      if (!split && typeof dimsArg === "number" && dims.length === 1) {
        return [mul(spread, firstExtreme(name, t, dims[0]))];
      }
      // Otherwise the extreme elements share the gradient equally. Over
      // everything (torch.max(x)) a NaN result is those NaN elements', as
      // torch's; over dims, and in amax always, it is NaN throughout. The
      // extremes are found again: the forward's result may be gone (a scope).
      const [again] = reduceRaw(name, t, dims);
      let hits = binaryRaw("eq", t, again);
      if (!split && dimsArg === undefined && Number.isNaN(again.item())) {
        hits = binaryRaw("ne", t, t);
      }
      const [n] = reduceRaw("sum", hits, dims);
      return [div(mul(spread, hits), n)];
    },
  });
}

/** Up to this many int32 terms a double sums exactly (|partial| <= 2^52); more add BigInts. */
const SAFE_INT_TERMS = 2 ** 21;

/**
 * sum, max and min of an int32 tensor over `dims`, exact, on a host copy
 * (through float32 a label beyond 2^24 would round): the result int32, where
 * torch's is int64, so a sum int32 cannot hold is an Error. No autograd:
 * integer tensors take no gradient. mean is refused, as torch's.
 */
function reduceInt(
  name: ReduceName,
  what: string,
  t: Tensor,
  dimsArg: number | number[] | undefined,
  keepDim: boolean,
): Tensor {
  checkKeepDim(what, keepDim);
  if (name === "mean") {
    throw new Error(
      `mean: an int32 tensor has no mean (torch's refuses integer dtypes too: "could not infer ` +
        'output dtype"); write x.float().mean(), or x.sum() for the integer total',
    );
  }
  const dims = normDims(t, dimsArg, what);
  const kept = [...t.shape.keys()].filter((i) => !dims.includes(i));
  const outer = numel(kept.map((i) => t.shape[i]));
  const r = numel(dims.map((d) => t.shape[d]));
  if (r === 0 && name !== "sum") {
    throw new Error(`${what}: cannot reduce an empty dimension of [${t.shape}]`);
  }
  // The reduced dims last, so each result reads one run of r values.
  const v = contiguous(permute(t, [...kept, ...dims])).toArray() as Int32Array;
  const out = new Int32Array(outer);
  for (let o = 0; o < outer; o++) {
    const base = o * r;
    let acc: number;
    if (name === "sum") {
      acc = intSum(v, base, r);
      if (acc < -(2 ** 31) || acc >= 2 ** 31) {
        throw new Error(
          `sum: the int32 sum ${acc} does not fit int32, this library's integer type (torch's ` +
            "int64); sum x.float() instead",
        );
      }
    } else {
      acc = v[base];
      for (let k = 1; k < r; k++) {
        const x = v[base + k];
        if (name === "max" ? x > acc : x < acc) acc = x;
      }
    }
    out[o] = acc;
  }
  const keepShape = t.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const outShape = keepDim ? keepShape : kept.map((i) => t.shape[i]);
  return fromHost(out, outShape, { dtype: "int32", device: t.device }, true);
}

/** The sum of `v[base .. base + r)`, exact where int32 holds it (BigInt for long runs). */
function intSum(v: Int32Array, base: number, r: number): number {
  if (r > SAFE_INT_TERMS) {
    let big = 0n;
    for (let k = 0; k < r; k++) big += BigInt(v[base + k]);
    return Number(big);
  }
  let acc = 0;
  for (let k = 0; k < r; k++) acc += v[base + k];
  return acc;
}

/** A float mask of `t`'s shape: 1 at the first maximum (or minimum) along `dim`. */
function firstExtreme(name: "max" | "min", t: Tensor, dim: number): Tensor {
  const src = name === "max" ? t : neg(t);
  const index = argmax(src, dim, true).float();
  const along = t.shape.map((s, i) => (i === dim ? s : 1));
  const positions = reshape(arange(0, t.shape[dim], 1, { device: t.device }), along);
  return binaryRaw("eq", positions, index);
}

/** Sum over `dims` (all when omitted). */
export const sum = (t: Tensor, dims?: number | number[], keepDim = false): Tensor =>
  reduce("sum", t, dims, keepDim);
/** Mean over `dims` (all when omitted). */
export const mean = (t: Tensor, dims?: number | number[], keepDim = false): Tensor =>
  reduce("mean", t, dims, keepDim);
/**
 * Maximum over `dims` (all when omitted). Over one dim it is
 * `torch.max(x, dim).values`: its gradient goes to the first maximum; over
 * all or several dims, ties share it (`torch.max(x)`, `torch.amax`).
 */
export const max = (t: Tensor, dims?: number | number[], keepDim = false): Tensor =>
  reduce("max", t, dims, keepDim);
/** Minimum over `dims` (all when omitted); the gradient as `max`'s. */
export const min = (t: Tensor, dims?: number | number[], keepDim = false): Tensor =>
  reduce("min", t, dims, keepDim);
/** `torch.amax`: the maximum over `dims`, its gradient shared by ties. */
export const amax = (t: Tensor, dims?: number | number[], keepDim = false): Tensor =>
  reduce("max", t, dims, keepDim, true);
/** `torch.amin`: the minimum over `dims`, its gradient shared by ties. */
export const amin = (t: Tensor, dims?: number | number[], keepDim = false): Tensor =>
  reduce("min", t, dims, keepDim, true);

/** Index of the first maximum along `dim` (int32); over all elements when omitted. */
export function argmax(t: Tensor, dim?: number, keepDim = false): Tensor {
  if (t instanceof Tensor && t.dtype === "int32") return argExtremeInt(t, dim, keepDim, true);
  requireFloat(t, "argmax");
  const { src, outer, r, inner, outShape } = argGeometry(t, dim, keepDim, "argmax");
  const out = Tensor.empty(outShape, "int32", t.device);
  check(
    t.lib,
    t.lib.lits_argmax_f32(src.ptr, out.ptr, outer, r, inner),
    () => `argmax [${t.shape}]`,
  );
  return out;
}

/** The [outer, r, inner] an arg-reduction walks, and its result's shape. */
function argGeometry(t: Tensor, dim: number | undefined, keepDim: boolean, where: string) {
  checkKeepDim(where, keepDim);
  if (t.ndim === 0 && (dim === 0 || dim === -1)) dim = undefined; // torch's 0-d dims
  const src = contiguous(t);
  let outer = 1, r = t.numel(), inner = 1;
  let outShape: number[] = keepDim ? t.shape.map(() => 1) : [];
  if (dim !== undefined) {
    const d = normDim(dim, t.ndim, where);
    outer = numel(t.shape.slice(0, d));
    r = t.shape[d];
    inner = numel(t.shape.slice(d + 1));
    outShape = keepDim
      ? t.shape.map((s, i) => (i === d ? 1 : s))
      : t.shape.filter((_, i) => i !== d);
  }
  if (r === 0) throw new Error(`${where}: cannot reduce an empty dimension of [${t.shape}]`);
  return { src, outer, r, inner, outShape };
}

/**
 * @internal argmax (`largest`) or argmin of an int32 tensor, exact, on a
 * host copy: the first index of the extreme value, as torch's.
 */
export function argExtremeInt(
  t: Tensor,
  dim: number | undefined,
  keepDim: boolean,
  largest: boolean,
): Tensor {
  const where = largest ? "argmax" : "argmin";
  const { src, outer, r, inner, outShape } = argGeometry(t, dim, keepDim, where);
  const v = src.toArray() as Int32Array;
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * r * inner + i;
      let best = 0, value = v[base];
      for (let k = 1; k < r; k++) {
        const x = v[base + k * inner];
        if (largest ? x > value : x < value) {
          best = k;
          value = x;
        }
      }
      out[o * inner + i] = best;
    }
  }
  return fromHost(out, outShape, { dtype: "int32", device: t.device }, true);
}

/** Sums `g` over the dimensions that broadcasting added to reach `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const dims = g.shape.map((_, i) => i).filter((i) =>
    i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)
  );
  if (dims.length === 0) return reshape(g, [...shape]);
  return reshape(sum(g, dims, true), [...shape]);
}
