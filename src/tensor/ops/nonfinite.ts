/**
 * Tests for NaN and infinity (torch.isnan, isinf, isfinite) and
 * torch.nan_to_num.
 *
 * The tests return float32 masks of 1 and 0 without a gradient, as the
 * comparisons do (compare.ts: this library has no bool dtype). An int32
 * tensor holds no NaN or infinity, so its masks are constant, as torch's.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { checkCall } from "../../options.ts";
import { binaryRaw, mul, unary } from "./elementwise.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { whereRaw } from "./where.ts";
import { clone, detach } from "./shape.ts";

/** A float32 mask of `t`'s shape holding `value` everywhere (an int32 tensor's answer). */
function constantMask(t: Tensor, value: 0 | 1): Tensor {
  const out = Tensor.empty(t.shape, "float32", t.device);
  check(out.lib, out.lib.lits_fill_f32(out.ptr, out.numel(), value), () => `mask [${t.shape}]`);
  return out;
}

/** 1 where |x| is infinite (x is float32; no autograd). */
function infMask(x: Tensor): Tensor {
  const view = detach(x);
  const a = unary("abs", view);
  view.dispose();
  const inf = scalarTensor(Infinity, x.device);
  const out = binaryRaw("eq", a, inf);
  a.dispose();
  inf.dispose();
  return out;
}

/** 1 where x is NaN (x is float32; no autograd): NaN alone is not equal to itself. */
function nanMask(x: Tensor): Tensor {
  return binaryRaw("ne", x, x);
}

/**
 * 1 where `x` is NaN, else 0 (a float32 mask, no gradient), as `torch.isnan`.
 *
 * @example
 * ```ts
 * import { isnan, tensor } from "@lits/vision";
 * console.log(isnan(tensor([1, NaN, Infinity])).toArray()); // Float32Array [0, 1, 0]
 * ```
 */
export function isnan(x: Tensor): Tensor {
  expectTensor(x, "isnan", "isnan(x) or x.isnan()");
  return x.dtype === "int32" ? constantMask(x, 0) : nanMask(x);
}

/**
 * 1 where `x` is +inf or -inf, else 0 (a float32 mask, no gradient), as
 * `torch.isinf`.
 *
 * @example
 * ```ts
 * import { isinf, tensor } from "@lits/vision";
 * console.log(isinf(tensor([1, NaN, -Infinity])).toArray()); // Float32Array [0, 0, 1]
 * ```
 */
export function isinf(x: Tensor): Tensor {
  expectTensor(x, "isinf", "isinf(x) or x.isinf()");
  return x.dtype === "int32" ? constantMask(x, 0) : infMask(x);
}

/**
 * 1 where `x` is neither NaN nor infinite, else 0 (a float32 mask, no
 * gradient), as `torch.isfinite`.
 *
 * @example
 * ```ts
 * import { isfinite, tensor } from "@lits/vision";
 * console.log(isfinite(tensor([1, NaN, Infinity])).toArray()); // Float32Array [1, 0, 0]
 * ```
 */
export function isfinite(x: Tensor): Tensor {
  expectTensor(x, "isfinite", "isfinite(x) or x.isfinite()");
  if (x.dtype === "int32") return constantMask(x, 1);
  // x - x is 0 exactly where x is finite (inf - inf and NaN - NaN are NaN).
  const d = binaryRaw("sub", x, x);
  const zero = scalarTensor(0, x.device);
  const out = binaryRaw("eq", d, zero);
  d.dispose();
  zero.dispose();
  return out;
}

/** Options of `nanToNum`: what replaces NaN, +inf and -inf. */
export interface NanToNumOptions {
  /** Replaces NaN (default 0). */
  nan?: number;
  /** Replaces +inf (default float32's largest value, 3.4028234663852886e38). */
  posinf?: number;
  /** Replaces -inf (default float32's lowest value, -3.4028234663852886e38). */
  neginf?: number;
}

const F32_MAX = 3.4028234663852886e38;
const USAGE = "F.nanToNum(x, { nan: 0, posinf: 1, neginf: -1 })";

function replacement(o: NanToNumOptions, key: keyof NanToNumOptions, fallback: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== "number") {
    throw new Error(`nanToNum: ${key} must be a number, got ${typeof v}; write ${USAGE}`);
  }
  if (Number.isFinite(v) && Math.abs(v) > F32_MAX) {
    throw new Error(`nanToNum: ${key} ${v} is beyond float32's range (it would become infinite)`);
  }
  return v;
}

/** 1 where x equals `value` (no autograd). */
function equalTo(x: Tensor, value: number): Tensor {
  const v = scalarTensor(value, x.device);
  const out = binaryRaw("eq", x, v);
  v.dispose();
  return out;
}

/** `value` where `mask` holds, else `src`; frees the mask, and `src` unless it is `keep`. */
function replaceWhere(mask: Tensor, value: number, src: Tensor, keep?: Tensor): Tensor {
  const v = scalarTensor(value, src.device);
  const out = whereRaw(mask, v, src);
  for (const t of [mask, v, src]) if (t !== keep) t.dispose();
  return out;
}

/**
 * `x` with NaN, +inf and -inf replaced, as `torch.nan_to_num`: by 0,
 * float32's largest and its lowest value unless `options` say otherwise.
 * The gradient passes where x is finite and is 0 at the replaced elements,
 * as torch's. An int32 tensor is copied unchanged.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([NaN, Infinity, -Infinity, 1.5]);
 * console.log(F.nanToNum(x, { posinf: 1, neginf: -1 }).toArray()); // Float32Array [0, 1, -1, 1.5]
 * console.log(F.nanToNum(x).toArray()[1]); // 3.4028234663852886e+38
 * ```
 */
export function nanToNum(x: Tensor, options: NanToNumOptions = {}): Tensor {
  const o = checkCall<NanToNumOptions>(
    "nanToNum",
    arguments.length,
    2,
    options,
    ["nan", "posinf", "neginf"],
    USAGE,
  );
  expectTensor(x, "nanToNum", USAGE);
  const nan = replacement(o, "nan", 0);
  const posinf = replacement(o, "posinf", F32_MAX);
  const neginf = replacement(o, "neginf", -F32_MAX);
  if (x.dtype === "int32") return clone(x);
  let out = replaceWhere(nanMask(x), nan, x, x);
  out = replaceWhere(equalTo(x, Infinity), posinf, out);
  out = replaceWhere(equalTo(x, -Infinity), neginf, out);
  return record(out, {
    name: "nanToNum",
    inputs: [x],
    backward: (g) => [mul(g, isfinite(x))], // torch's grad * isfinite(x)
  });
}
