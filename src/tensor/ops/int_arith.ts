/**
 * Integer arithmetic on int32 tensors, as torch's on integer tensors:
 * `add`, `sub`, `mul`, `maximum`, `minimum`, `neg`, `abs`, `clamp` and
 * `pow` with a non-negative integer exponent give int32 when every operand
 * is an int32 tensor or an integer number; an operand that is a float32
 * tensor or a fractional number promotes the op to float32 (the int32
 * tensors converted first, as torch computes it), and `div` is true
 * division, always float32.
 *
 * The int32 results are exact, computed on a host copy as `floorDivide`
 * and the int32 `sum` are (int tensors are labels and indices: small), and
 * handed back on the input's device. int32 stands in for torch's int64
 * here, so a result that int32 cannot hold is an Error, never a silent
 * wrap-around. Integer results take no gradient (torch: integer tensors
 * cannot require one). A whole-valued number such as `2.0` counts as the
 * integer 2: JavaScript has one number type.
 *
 * @example
 * ```ts
 * import { tensor } from "@lits/vision";
 * const labels = tensor(new Int32Array([1, 2, 3]), [3]);
 * console.log(labels.sub(1).dtype, labels.sub(1).toList()); // int32 [0, 1, 2]
 * console.log(labels.mul(0.5).dtype, labels.div(2).toList()); // float32 [0.5, 1, 1.5]
 * ```
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { broadcastShapes, sameDevice } from "./elementwise.ts";
import { broadcastIndex, hostResult } from "./host_values.ts";
import { cast } from "./shape.ts";

/** @internal the binary ops with an int32 form. */
export type IntBinaryName = "add" | "sub" | "mul" | "maximum" | "minimum";

const MIN = -(2 ** 31), LIMIT = 2 ** 31;

const BINARY: Record<IntBinaryName, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  // Exact below 2^31 in a double, and at least 2^31 whenever the true product is.
  mul: (a, b) => a * b,
  maximum: (a, b) => (a > b ? a : b),
  minimum: (a, b) => (a < b ? a : b),
};

const SHOW: Record<IntBinaryName, (a: number, b: number) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  maximum: (a, b) => `max(${a}, ${b})`,
  minimum: (a, b) => `min(${a}, ${b})`,
};

const isIntTensor = (v: unknown): v is Tensor => v instanceof Tensor && v.dtype === "int32";

/** @internal whether an op on `a` and `b` involves an int32 tensor (so `intBinary` decides). */
export function involvesInt(a: unknown, b: unknown): boolean {
  return isIntTensor(a) || isIntTensor(b);
}

/** @internal an int32 tensor converted to float32 (torch's promotion); anything else as it is. */
export function promoted<T>(v: T): T {
  return (isIntTensor(v) ? cast(v, "float32") : v) as T;
}

/** An Error for an int32 result that int32 cannot hold. */
function beyond(name: string, expr: string, v: number): Error {
  return new Error(
    `${name}: ${expr} = ${v} is beyond int32, this library's integer type (torch's int64 ` +
      "holds it); convert to float32 first (x.float()), or keep values within -2^31 .. 2^31 - 1",
  );
}

/** Throws unless `v` fits int32, naming the op and the operands `expr` shows. */
function fits(name: string, v: number, expr: () => string): number {
  if (v < MIN || v >= LIMIT) throw beyond(name, expr(), v);
  return v;
}

/**
 * @internal `name(a, b)` where one operand is an int32 tensor: exact int32
 * when the other is one too or an integer number, else `floatOp` on float32
 * copies of the int32 tensors (torch promotes to float32).
 */
export function intBinary(
  name: IntBinaryName,
  a: Tensor,
  b: Tensor | number,
  floatOp: (a: Tensor, b: Tensor | number) => Tensor,
): Tensor {
  const integral = isIntTensor(a) && (typeof b === "number" ? Number.isInteger(b) : isIntTensor(b));
  if (!integral) return floatOp(promoted(a), promoted(b));
  const bNumber = typeof b === "number";
  if (!bNumber) sameDevice(a, b, name);
  const bShape = bNumber ? [] : b.shape;
  const shape = broadcastShapes(a.shape, bShape, name);
  const av = a.toArray(), bv = bNumber ? [b] : b.toArray();
  const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(bShape, shape);
  const op = BINARY[name];
  const out = new Int32Array(ia.length);
  for (let k = 0; k < out.length; k++) {
    const x = av[ia[k]], y = bv[ib[k]];
    out[k] = fits(name, op(x, y), () => SHOW[name](x, y));
  }
  return hostResult(out, shape, "int32", a.device);
}

/** @internal -t or |t| of an int32 tensor, exact (-(-2^31) is an Error). */
export function intUnary(name: "neg" | "abs", t: Tensor): Tensor {
  const v = t.toArray();
  const out = new Int32Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const x = v[k];
    out[k] = fits(name, name === "neg" ? -x : Math.abs(x), () => `${name}(${x})`);
  }
  return hostResult(out, t.shape, "int32", t.device);
}

/**
 * @internal `t` to a number power where `t` is int32: int32 for an integer
 * exponent >= 0 (exact; 0^0 is 1), an Error for a negative one (as torch),
 * float32 otherwise (`floatPow` on a float32 copy).
 */
export function intPow(
  t: Tensor,
  exponent: number,
  floatPow: (t: Tensor, exponent: number) => Tensor,
): Tensor {
  if (!Number.isInteger(exponent)) return floatPow(cast(t, "float32"), exponent);
  if (exponent < 0) {
    throw new Error(
      `pow: an int32 tensor to a negative integer power ${exponent} (torch: "Integers to ` +
        `negative integer powers are not allowed"); write x.float().pow(${exponent})`,
    );
  }
  const v = t.toArray();
  const out = new Int32Array(v.length);
  for (let k = 0; k < v.length; k++) {
    out[k] = fits("pow", powExact(v[k], exponent), () => `${v[k]} ** ${exponent}`);
  }
  return hostResult(out, t.shape, "int32", t.device);
}

/** x^e for integers x and e >= 0, exact where |x^e| <= 2^31, else some value beyond int32. */
function powExact(x: number, e: number): number {
  if (e === 0 || x === 1) return 1;
  if (x === 0) return 0;
  if (x === -1) return e % 2 === 0 ? 1 : -1;
  let r = 1;
  for (let i = 0; i < e; i++) {
    r *= x; // |x| >= 2: past 2^31 within 31 steps
    if (Math.abs(r) > LIMIT) return r;
  }
  return r;
}

/**
 * @internal `t` (int32) limited to `[lo, hi]` (either null), exact int32:
 * max(t, lo) then min(., hi), so lo > hi gives hi everywhere, as torch.
 * The bounds are integers; a bound beyond int32 that a value takes is an Error.
 */
export function intClamp(t: Tensor, lo: number | null, hi: number | null): Tensor {
  const v = t.toArray();
  const out = new Int32Array(v.length);
  for (let k = 0; k < v.length; k++) {
    let x: number = v[k];
    if (lo !== null && x < lo) x = lo;
    if (hi !== null && x > hi) x = hi;
    out[k] = fits("clamp", x, () => `clamp(${v[k]}, ${lo}, ${hi})`);
  }
  return hostResult(out, t.shape, "int32", t.device);
}
