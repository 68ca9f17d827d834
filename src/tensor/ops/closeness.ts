/**
 * Comparing whole tensors: `isclose`, `allclose` and `equal`, as torch's.
 * `isclose` is a float32 0/1 mask (the library's bool stand-in, as `eq`'s);
 * `allclose` and `equal` are booleans, as torch's Python bools.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad } from "../autograd.ts";
import { checkOptions } from "../../options.ts";
import { eq, expectTensor, le, ne } from "./compare.ts";
import { abs, add, binaryRaw, mul, sameDevice, sub } from "./elementwise.ts";
import { isfinite, isnan } from "./nonfinite.ts";
import { cast } from "./shape.ts";

/** Options of `isclose` and `allclose`, as torch's keywords. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
  /** NaN is close to NaN (default false). */
  equalNan?: boolean;
}

function checkPair(where: string, a: unknown, b: unknown, usage: string): [Tensor, Tensor] {
  expectTensor(a, `${where}: a`, usage);
  expectTensor(b, `${where}: b`, usage);
  for (const t of [a, b]) {
    if (t.dtype !== "float32" && t.dtype !== "int32") {
      throw new Error(`${where}: expected float32 or int32 tensors, got ${t.dtype}`);
    }
  }
  sameDevice(a, b, where);
  return [a, b];
}

function closeMask(where: string, a: Tensor, b: Tensor, options: unknown, given: number): Tensor {
  const usage = `${where}(a, b, { rtol: 1e-5, atol: 1e-8, equalNan: false })`;
  if (given > 3) {
    throw new Error(`${where}: takes (a, b, options), got ${given} arguments; ${usage}`);
  }
  checkPair(where, a, b, usage);
  const o = checkOptions<CloseOptions>(where, options, ["rtol", "atol", "equalNan"], usage);
  const rtol = o.rtol ?? 1e-5, atol = o.atol ?? 1e-8, equalNan = o.equalNan ?? false;
  for (const [name, v] of [["rtol", rtol], ["atol", atol]] as const) {
    if (typeof v !== "number" || !(v >= 0)) {
      // torch: "rtol must be greater than or equal to zero, but got -1"
      throw new Error(`${where}: ${name} must be a number >= 0, got ${JSON.stringify(v)}`);
    }
  }
  if (typeof equalNan !== "boolean") {
    throw new Error(`${where}: equalNan must be a boolean, got ${JSON.stringify(equalNan)}`);
  }
  if (a.dtype !== b.dtype) {
    // torch: "Long did not match Float"
    throw new Error(
      `${where}: a is ${a.dtype} and b ${b.dtype}; torch compares one dtype: convert one ` +
        "with .float() or .int()",
    );
  }
  return noGrad(() => {
    // torch's: a == b, or |a - b| finite and <= atol + |rtol * b|; NaN with NaN if asked.
    let close = eq(a, b);
    const af = a.dtype === "float32" ? a : cast(a, "float32");
    const bf = b.dtype === "float32" ? b : cast(b, "float32");
    const actual = abs(sub(af, bf));
    const allowed = add(abs(mul(bf, rtol)), atol);
    const within = binaryRaw("mul", isfinite(actual), le(actual, allowed));
    close = binaryRaw("maximum", close, within);
    if (equalNan && a.dtype === "float32") {
      close = binaryRaw("maximum", close, binaryRaw("mul", isnan(af), isnan(bf)));
    }
    return close;
  });
}

/**
 * 1 where `a` and `b` are close, else 0, as `torch.isclose`: |a - b| <=
 * atol + rtol |b| (rtol 1e-5, atol 1e-8), or equal (infinities of one
 * sign); NaN only with `equalNan`. A float32 mask; broadcasting; a and b
 * of one dtype, as torch's.
 *
 * @example
 * ```ts
 * import { isclose, tensor } from "@lits/vision";
 * console.log(isclose(tensor([1, 2, NaN]), tensor([1.000001, 2.1, NaN])).toList()); // [1, 0, 0]
 * ```
 */
export function isclose(a: Tensor, b: Tensor, options: CloseOptions = {}): Tensor {
  return closeMask("isclose", a, b, options, arguments.length);
}

/**
 * Whether every element of `a` is close to `b`'s (see `isclose`), as
 * `torch.allclose`: a boolean.
 *
 * @example
 * ```ts
 * import { allclose, tensor } from "@lits/vision";
 * console.log(allclose(tensor([1, 2]), tensor([1, 2.000001])), allclose(tensor([1]), tensor([1.1]))); // true false
 * ```
 */
export function allclose(a: Tensor, b: Tensor, options: CloseOptions = {}): boolean {
  return noGrad(() => {
    const mask = closeMask("allclose", a, b, options, arguments.length);
    return mask.numel() === 0 || mask.min().item() === 1;
  });
}

/**
 * Whether `a` and `b` have the same shape and the same values, as
 * `torch.equal`: a boolean (NaN is never equal; int32 against float32
 * compares the values).
 *
 * @example
 * ```ts
 * import { equal, tensor } from "@lits/vision";
 * console.log(equal(tensor([1, 2]), tensor([1, 2])), equal(tensor([1, 2]), tensor([[1, 2]]))); // true false
 * ```
 */
export function equal(a: Tensor, b: Tensor): boolean {
  const usage = "equal(a, b) (a.equal(b))";
  if (arguments.length !== 2) {
    throw new Error(`equal: takes (a, b), got ${arguments.length} arguments; write ${usage}`);
  }
  checkPair("equal", a, b, usage);
  if (a.ndim !== b.ndim || a.shape.some((s, i) => s !== b.shape[i])) return false;
  if (a.numel() === 0) return true;
  return noGrad(() => ne(a, b).max().item() === 0);
}
