/**
 * Views and copies: reshape, permute, narrow, expand, contiguous, clone,
 * casts. Views share memory; their gradients map back through the view.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import type { DType } from "../device.ts";
import { contiguousStrides, numel, Tensor } from "../tensor.ts";
import { checkDims } from "../sizes.ts";
import { record } from "../autograd.ts";
import { sumToShape } from "./reduce.ts";
import { hasOut, outError, showValue } from "./show_value.ts";

/** A dimension index in [0, ndim), negative counting from the end. */
export function normDim(dim: number, ndim: number, what: string): number {
  if (typeof dim !== "number") {
    // x.sum({ dim: 1 }) or softmax(x) without a dim: name the form, not "[object Object]".
    if (hasOut(dim)) throw outError(what, `${what}(x, ...)`);
    if (dim === null) {
      throw new Error(
        `${what}: dim is null; torch's dim=None (all elements) is written by leaving the dim ` +
          `out or as undefined (x.sum(), x.sum(undefined, true)); where a dim is required, give a number`,
      );
    }
    const got = dim === undefined ? "none" : showValue(dim);
    throw new Error(
      `${what}: dimensions are numbers given in place (x.sum(1, true), F.softmax(x, 1)), got ${got}`,
    );
  }
  if (!Number.isInteger(dim) || dim < -ndim || dim >= Math.max(ndim, 1)) {
    throw new Error(`${what}: dimension ${dim} is out of range for ${ndim} dimensions`);
  }
  return dim < 0 ? dim + ndim : dim;
}

/** @internal int64 host array for shapes and strides. */
export function i64(values: readonly number[]): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return out;
}

/** @internal a dense copy of any layout (no autograd). */
export function denseCopy(t: Tensor): Tensor {
  const out = Tensor.empty(t.shape, t.dtype, t.device);
  check(
    t.lib,
    t.lib.lits_strided_copy(t.ndim, i64(t.shape), t.ptr, i64(t.strides), out.ptr),
    () => `contiguous [${t.shape}] strides [${t.strides}]`,
  );
  return out;
}

/** The same data without autograd history (a view). */
export function detach(t: Tensor): Tensor {
  return t._view(t.shape, t.strides, t.offset);
}

/** A dense copy when the layout is not row-major, else `t` itself. */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous) return t;
  return record(denseCopy(t), { name: "contiguous", inputs: [t], saved: [], backward: (g) => [g] });
}

/** A dense copy with its own memory. */
export function clone(t: Tensor): Tensor {
  return record(denseCopy(t), { name: "clone", inputs: [t], saved: [], backward: (g) => [g] });
}

/** `shape` for `t` with a -1 inferred, checked to hold `t`'s elements (reshape's and view's). */
export function inferShape(t: Tensor, shape: number[], where: string): number[] {
  const target = [...shape];
  const infer = target.indexOf(-1);
  if (
    target.some((d, i) => !Number.isInteger(d) || (d < 0 && i !== infer)) ||
    target.lastIndexOf(-1) !== infer
  ) {
    throw new Error(`${where}: invalid shape [${shape}]`);
  }
  if (infer >= 0) {
    const rest = numel(target.filter((_, i) => i !== infer));
    if (rest === 0 || t.numel() % rest !== 0) {
      throw new Error(
        `${where}: cannot ${where} [${t.shape}] (${t.numel()} elements) into [${shape}]`,
      );
    }
    target[infer] = t.numel() / rest;
  }
  if (numel(target) !== t.numel()) {
    throw new Error(
      `${where}: cannot ${where} [${t.shape}] (${t.numel()} elements) into [${shape}]`,
    );
  }
  checkDims(target.length, where);
  return target;
}

/** Same elements in a new shape; -1 infers one size. `where` names the caller (x.view) in errors. */
export function reshape(t: Tensor, shape: number[], where = "reshape"): Tensor {
  const target = inferShape(t, shape, where);
  const src = contiguous(t);
  // torch keeps an empty tensor's strides when the shape stays (its view rule).
  const same = src.numel() === 0 && target.length === src.ndim &&
    target.every((d, i) => d === src.shape[i]);
  const out = src._view(target, same ? src.strides : contiguousStrides(target), src.offset);
  const inShape = [...t.shape];
  return record(out, {
    name: "reshape",
    inputs: [src],
    saved: [],
    backward: (g) => [reshape(g, inShape)],
  });
}

/** Flattens dimensions `startDim..endDim` into one. */
export function flatten(t: Tensor, startDim = 0, endDim = -1): Tensor {
  if (t.ndim === 0) return reshape(t, [1]);
  const s = normDim(startDim, t.ndim, "flatten");
  const e = normDim(endDim, t.ndim, "flatten");
  if (s > e) throw new Error(`flatten: startDim ${startDim} is after endDim ${endDim}`);
  const shape = [...t.shape.slice(0, s), numel(t.shape.slice(s, e + 1)), ...t.shape.slice(e + 1)];
  return reshape(t, shape);
}

/** Reorders dimensions (a view). */
export function permute(t: Tensor, dims: number[]): Tensor {
  const d = dims.map((x) => normDim(x, t.ndim, "permute"));
  if (d.length !== t.ndim || new Set(d).size !== d.length) {
    throw new Error(`permute: [${dims}] is not a permutation of ${t.ndim} dimensions`);
  }
  const out = t._view(d.map((i) => t.shape[i]), d.map((i) => t.strides[i]), t.offset);
  const inverse = new Array<number>(d.length);
  d.forEach((from, to) => (inverse[from] = to));
  return record(out, {
    name: "permute",
    inputs: [t],
    saved: [],
    backward: (g) => [permute(g, inverse)],
  });
}

/** Swaps two dimensions (a view). */
export function transpose(t: Tensor, dim0: number, dim1: number): Tensor {
  const dims = [...t.shape.keys()];
  const a = normDim(dim0, t.ndim, "transpose");
  const b = normDim(dim1, t.ndim, "transpose");
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return permute(t, dims);
}

/** `length` elements from `start` along `dim` (a view). */
export function narrow(t: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, t.ndim, "narrow");
  if (start < 0) start += t.shape[d];
  if (
    !Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 ||
    start + length > t.shape[d]
  ) {
    throw new Error(
      `narrow: [${start}, ${start + length}) is out of range for size ${
        t.shape[d]
      } of dimension ${d}`,
    );
  }
  const shape = [...t.shape];
  shape[d] = length;
  const out = t._view(shape, t.strides, t.offset + start * t.strides[d]);
  const full = [...t.shape];
  return record(out, {
    name: "narrow",
    inputs: [t],
    saved: [],
    backward: (g) => [padInto(g, full, d, start)],
  });
}

/** A zero tensor of `shape` with `g` written at `start` along `dim`. */
function padInto(g: Tensor, shape: number[], dim: number, start: number): Tensor {
  const order = [dim, ...shape.keys()].filter((x, i) => i === 0 || x !== dim);
  const gFront = denseCopy(permute(g, order));
  const zShape = order.map((i) => shape[i]);
  const z = Tensor.empty(zShape, g.dtype, g.device);
  check(z.lib, z.lib.lits_fill_f32(z.ptr, z.numel(), 0), () => "narrow backward");
  const inner = numel(zShape.slice(1));
  const dst = z._view([gFront.numel()], [1], start * inner);
  check(
    z.lib,
    z.lib.lits_copy_d2d(dst.ptr, gFront.ptr, gFront.numel() * 4),
    () => "narrow backward",
  );
  dst.dispose();
  const back = new Array<number>(order.length);
  order.forEach((from, to) => (back[from] = to));
  return permute(z, back);
}

/** Inserts a dimension of size 1 (a view, as torch's, of a strided tensor too). */
export function unsqueeze(t: Tensor, dim: number): Tensor {
  checkDims(t.ndim + 1, "unsqueeze");
  const d = normDim(dim, t.ndim + 1, "unsqueeze");
  const shape = [...t.shape], strides = [...t.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < t.ndim ? t.strides[d] * t.shape[d] : 1);
  return sizeOneView(t, shape, strides, "unsqueeze");
}

/** Removes dimensions of size 1 (`dim` only, when given); a view, as torch's. */
export function squeeze(t: Tensor, dim?: number): Tensor {
  const keep = dim === undefined
    ? (s: number) => s !== 1
    : ((d) => (s: number, i: number) => i !== d || s !== 1)(normDim(dim, t.ndim, "squeeze"));
  const dims = [...t.shape.keys()].filter((i) => keep(t.shape[i], i));
  return sizeOneView(t, dims.map((i) => t.shape[i]), dims.map((i) => t.strides[i]), "squeeze");
}

/**
 * `t` with dimensions of size 1 added or removed: the same elements at the
 * same strides, so a non-contiguous `t` stays a view of its storage (an
 * `nn.init` fill through `w.narrow(2, 0, 1).squeeze(2)` writes into `w`).
 */
function sizeOneView(t: Tensor, shape: number[], strides: number[], name: string): Tensor {
  // An empty tensor too keeps torch's strides (zeros([3, 0]).unsqueeze(1) is [1, 0, 1]).
  if (t.isContiguous && t.numel() > 0) return reshape(t, shape);
  const out = t._view(shape, strides, t.offset);
  const inShape = [...t.shape];
  return record(out, {
    name,
    inputs: [t],
    saved: [],
    backward: (g) => [reshape(g, inShape)],
  });
}

/** Broadcasts to `shape` (a view with zero strides). */
export function expand(t: Tensor, shape: number[]): Tensor {
  if (shape.length < t.ndim) {
    throw new Error(`expand: cannot expand [${t.shape}] to fewer dimensions [${shape}]`);
  }
  checkDims(shape.length, "expand");
  const lead = shape.length - t.ndim;
  const target = shape.map((s, i) => (s === -1 && i >= lead ? t.shape[i - lead] : s));
  // A size-1 dimension takes any target: a bad one (-2, 1.5, NaN) made a
  // shape whose numel was negative or fractional, failing later, far away.
  const bad = target.findIndex((s) => !Number.isInteger(s) || s < 0);
  if (bad >= 0) {
    throw new Error(
      `expand: size ${shape[bad]} at dimension ${bad} of [${shape}] is not allowed ` +
        "(sizes are integers >= 0; -1 keeps an existing dimension's size)",
    );
  }
  const strides = target.map((s, i) => {
    if (i < lead) return 0;
    const own = t.shape[i - lead];
    if (own === s) return t.strides[i - lead];
    if (own === 1) return 0;
    throw new Error(`expand: cannot expand [${t.shape}] to [${shape}]`);
  });
  const out = t._view(target, strides, t.offset);
  const inShape = [...t.shape];
  return record(out, {
    name: "expand",
    inputs: [t],
    saved: [],
    backward: (g) => [sumToShape(g, inShape)],
  });
}

/** Converts between float32 and int32 (no gradient). */
export function cast(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return clone(t);
  const src = contiguous(t);
  const out = Tensor.empty(t.shape, dtype, t.device);
  const status = dtype === "float32"
    ? t.lib.lits_cast_i32_f32(src.ptr, out.ptr, t.numel())
    : t.lib.lits_cast_f32_i32(src.ptr, out.ptr, t.numel());
  check(t.lib, status, () => `cast [${t.shape}] ${t.dtype} -> ${dtype}`);
  return out;
}
