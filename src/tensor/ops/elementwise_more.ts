/**
 * Elementwise ops composed from the existing kernels, as torch's: `clip`
 * (clamp), `log2`, `log10`, `logit`, `xlogy`, `frac`, `deg2rad`,
 * `rad2deg`, `fmax` / `fmin` (NaN-ignoring), `copysign`, `signbit`,
 * `heaviside`, `hypot`, `logaddexp` and `logaddexp2`. Gradients follow
 * torch's formulas (fmax's goes to the chosen operand, ties to the first).
 * int32 inputs are converted to float32 where torch gives a floating
 * result; the others refuse int32, naming the conversion.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import {
  abs,
  add,
  binaryRaw,
  div,
  exp,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  requireFloat,
  rsub,
  sigmoid,
  sqrt,
  sub,
} from "./elementwise.ts";
import { clamp } from "./clamp.ts";
import { trunc } from "./rounding.ts";
import { expectTensor, ge, gt, le } from "./compare.ts";
import { isinf, isnan } from "./nonfinite.ts";
import { logicalAnd, logicalOr } from "./logical.ts";
import { where } from "./where.ts";
import { promoted } from "./int_arith.ts";
import { hostResult, noDerivative } from "./host_values.ts";
import { contiguous } from "./shape.ts";
import { sumToShape } from "./reduce.ts";
import { scalarTensor } from "./compare.ts";
import { zeros } from "./creation.ts";

function one(where: string, x: unknown, usage: string, arity: number, most: number): Tensor {
  if (arity > most) {
    throw new Error(`${where}: takes at most ${most} arguments, got ${arity}; write ${usage}`);
  }
  expectTensor(x, where, usage);
  const f = promoted(x);
  requireFloat(f, where);
  return f;
}

/** Both operands as float32 tensors (a number becomes a 0-d tensor on the other's device). */
function two(
  where: string,
  a: unknown,
  b: unknown,
  usage: string,
  arity: number,
  ints: boolean,
): [Tensor, Tensor] {
  if (arity > 2) throw new Error(`${where}: takes 2 arguments, got ${arity}; write ${usage}`);
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new Error(`${where}: expected at least one Tensor; write ${usage}`);
  }
  const dev = (a instanceof Tensor ? a : b as Tensor).device;
  const side = (v: unknown, name: string): Tensor => {
    if (typeof v === "number") return scalarTensor(v, dev);
    expectTensor(v, `${where}: ${name}`, usage);
    if (v.dtype === "int32" && !ints) {
      throw new Error(
        `${where}: expected float32 tensors, got int32 [${v.shape}]; convert with .float()`,
      );
    }
    const f = promoted(v);
    requireFloat(f, where);
    return f;
  };
  const at = side(a, "the first argument"), bt = side(b, "the second argument");
  if (at.device !== bt.device) {
    throw new Error(`${where}: tensors are on different devices (${at.device} and ${bt.device})`);
  }
  return [at, bt];
}

/**
 * `x` limited to [min, max], torch's alias `clip` of `clamp`.
 *
 * @example
 * ```ts
 * import { clip, tensor } from "@lits/vision";
 * console.log(clip(tensor([-1, 0.5, 2]), 0, 1).toList()); // [0, 0.5, 1]
 * ```
 */
export function clip(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if (arguments.length > 3) {
    throw new Error(`clip: takes (x, min, max), got ${arguments.length} arguments`);
  }
  return clamp(x, min, max);
}

/**
 * The base-2 logarithm, as `torch.log2` (int32 gives float32).
 *
 * @example
 * ```ts
 * import { log2, tensor } from "@lits/vision";
 * console.log(log2(tensor([1, 8])).toList()); // [0, 3]
 * ```
 */
export function log2(x: Tensor): Tensor {
  return mul(log(one("log2", x, "log2(x)", arguments.length, 1)), Math.LOG2E);
}

/**
 * The base-10 logarithm, as `torch.log10` (int32 gives float32).
 *
 * @example
 * ```ts
 * import { log10, tensor } from "@lits/vision";
 * console.log(log10(tensor([1, 100])).toList()); // [0, 2]
 * ```
 */
export function log10(x: Tensor): Tensor {
  return mul(log(one("log10", x, "log10(x)", arguments.length, 1)), Math.LOG10E);
}

/**
 * log(x / (1 - x)), the inverse of sigmoid, as `torch.logit(x, eps)`: with
 * `eps`, x is first clamped to [eps, 1 - eps] and the gradient is 0
 * outside it, as torch's.
 *
 * @example
 * ```ts
 * import { logit, tensor } from "@lits/vision";
 * console.log(logit(tensor([0.5])).toList()); // [0]
 * console.log(logit(tensor([0, 1]), 0.25).toList()); // [-1.0986123..., 1.0986123...]
 * ```
 */
export function logit(x: Tensor, eps?: number | null): Tensor {
  const f = one("logit", x, "logit(x, 1e-6)", arguments.length, 2);
  if (eps !== undefined && eps !== null && (typeof eps !== "number" || Number.isNaN(eps))) {
    throw new Error(
      `logit: eps must be a number or null, got ${String(eps)}; write logit(x, 1e-6)`,
    );
  }
  const z = eps === undefined || eps === null ? f : clamp(f, eps, 1 - eps);
  return log(div(z, rsub(1, z)));
}

/**
 * x * log(y), 0 where x is 0 (unless y is NaN), as `torch.xlogy`: the
 * entropy term that stays finite at p = 0. Either operand may be a number.
 *
 * @example
 * ```ts
 * import { tensor, xlogy } from "@lits/vision";
 * console.log(xlogy(tensor([0, 2]), tensor([0, 1])).toList()); // [0, 0]
 * ```
 */
export function xlogy(x: Tensor | number, y: Tensor | number): Tensor {
  const [a, b] = two("xlogy", x, y, "xlogy(x, y)", arguments.length, true);
  const zero = noGrad(() =>
    logicalAnd(binaryRaw("eq", a, scalarTensor(0, a.device)), isnan(b).eq(0))
  );
  const out = noGrad(() => where(zero, 0, mul(a, log(b))));
  return record(out, {
    name: "xlogy",
    inputs: [a, b],
    saved: [a, b],
    backward: (g) => {
      // torch: xlogy(g, y) masked to 0 where x == 0 and y <= 0, for x; g * x / y for y.
      const none = logicalOr(
        logicalAnd(binaryRaw("eq", a, scalarTensor(0, a.device)), le(b, 0)),
        logicalAnd(binaryRaw("eq", g, scalarTensor(0, g.device)), isnan(b).eq(0)),
      );
      return [
        a.requiresGrad ? sumToShape(where(none, 0, mul(g, log(b))), a.shape) : null,
        b.requiresGrad ? sumToShape(div(mul(g, a), b), b.shape) : null,
      ];
    },
  });
}

/**
 * The fractional part x - trunc(x), as `torch.frac` (gradient 1).
 *
 * @example
 * ```ts
 * import { frac, tensor } from "@lits/vision";
 * console.log(frac(tensor([1.5, -2.25])).toList()); // [0.5, -0.25]
 * ```
 */
export function frac(x: Tensor): Tensor {
  expectTensor(x, "frac", "frac(x)");
  requireFloat(x, "frac");
  if (arguments.length > 1) throw new Error(`frac: takes 1 argument, got ${arguments.length}`);
  return sub(x, trunc(x));
}

/**
 * Degrees to radians, as `torch.deg2rad`.
 *
 * @example
 * ```ts
 * import { deg2rad, tensor } from "@lits/vision";
 * console.log(deg2rad(tensor([180])).item().toFixed(5)); // "3.14159"
 * ```
 */
export function deg2rad(x: Tensor): Tensor {
  return mul(one("deg2rad", x, "deg2rad(x)", arguments.length, 1), Math.PI / 180);
}

/**
 * Radians to degrees, as `torch.rad2deg`.
 *
 * @example
 * ```ts
 * import { rad2deg, tensor } from "@lits/vision";
 * console.log(rad2deg(tensor([Math.PI])).item().toFixed(3)); // "180.000"
 * ```
 */
export function rad2deg(x: Tensor): Tensor {
  return mul(one("rad2deg", x, "rad2deg(x)", arguments.length, 1), 180 / Math.PI);
}

function nanIgnoring(name: "fmax" | "fmin", a: Tensor, b: Tensor): Tensor {
  // torch: a where (a >= b) or b is NaN (ties and NaN pairs to a), else b; gradients alike.
  const pick = noGrad(() => logicalOr(name === "fmax" ? ge(a, b) : le(a, b), isnan(b)));
  return where(pick, a, b);
}

/**
 * The elementwise maximum that ignores NaN (NaN only where both are), as
 * `torch.fmax`; the gradient goes to the chosen operand (x on ties).
 *
 * @example
 * ```ts
 * import { fmax, tensor } from "@lits/vision";
 * console.log(fmax(tensor([1, NaN, NaN]), tensor([2, 3, NaN])).toList()); // [2, 3, NaN]
 * ```
 */
export function fmax(x: Tensor, other: Tensor): Tensor {
  const [a, b] = two(
    "fmax",
    x,
    other,
    "fmax(x, other) with float32 tensors",
    arguments.length,
    false,
  );
  return nanIgnoring("fmax", a, b);
}

/**
 * The elementwise minimum that ignores NaN, as `torch.fmin`.
 *
 * @example
 * ```ts
 * import { fmin, tensor } from "@lits/vision";
 * console.log(fmin(tensor([1, NaN]), tensor([2, 3])).toList()); // [1, 3]
 * ```
 */
export function fmin(x: Tensor, other: Tensor): Tensor {
  const [a, b] = two(
    "fmin",
    x,
    other,
    "fmin(x, other) with float32 tensors",
    arguments.length,
    false,
  );
  return nanIgnoring("fmin", a, b);
}

/**
 * 1 where x's sign bit is set (negative numbers, -0 and -NaN), else 0, as
 * `torch.signbit` (a float32 mask, as the comparisons give; no gradient).
 *
 * @example
 * ```ts
 * import { signbit, tensor } from "@lits/vision";
 * console.log(signbit(tensor([-1, -0, 0, 2])).toList()); // [1, 1, 0, 0]
 * ```
 */
export function signbit(x: Tensor): Tensor {
  expectTensor(x, "signbit", "signbit(x)");
  if (arguments.length > 1) throw new Error(`signbit: takes 1 argument, got ${arguments.length}`);
  const v = contiguous(x).toArray();
  const bits = v instanceof Float32Array ? new Uint32Array(v.buffer, v.byteOffset, v.length) : null;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = bits ? bits[i] >>> 31 : v[i] < 0 ? 1 : 0;
  return hostResult(out, x.shape, "float32", x.device);
}

/**
 * |x| with the sign of `other` (its sign bit: -0 counts as negative), as
 * `torch.copysign`; the gradient reaches x (0 where x is 0), not other.
 *
 * @example
 * ```ts
 * import { copysign, tensor } from "@lits/vision";
 * console.log(copysign(tensor([1, -2, 3]), tensor([-1, 1, -0])).toList()); // [-1, 2, -3]
 * ```
 */
export function copysign(x: Tensor, other: Tensor | number): Tensor {
  const [a, b] = two("copysign", x, other, "copysign(x, other)", arguments.length, true);
  const out = noGrad(() => mul(abs(a), rsub(1, mul(signbit(b), 2))));
  return record(out, {
    name: "copysign",
    inputs: [a, b],
    saved: [a, out],
    backward: (g) => {
      // torch: g * out / x, 0 where x is 0; other's gradient is zeros.
      const ratio = where(binaryRaw("eq", a, scalarTensor(0, a.device)), 0, div(out, a));
      return [
        a.requiresGrad ? sumToShape(mul(g, ratio), a.shape) : null,
        b.requiresGrad ? zeros([...b.shape], { device: b.device }) : null,
      ];
    },
  });
}

/**
 * The step function: 0 where x < 0, `values` where x is 0, 1 where x > 0,
 * as `torch.heaviside(x, values)` (broadcasting; no gradient, as torch's).
 *
 * @example
 * ```ts
 * import { heaviside, tensor } from "@lits/vision";
 * console.log(heaviside(tensor([-1, 0, 2]), tensor([0.5])).toList()); // [0, 0.5, 1]
 * ```
 */
export function heaviside(x: Tensor, values: Tensor): Tensor {
  const usage = "heaviside(x, values) with float32 tensors";
  if (!(values instanceof Tensor)) {
    throw new Error(
      `heaviside: values must be a Tensor (torch's is), got ${typeof values}; write ${usage}`,
    );
  }
  const [a, b] = two("heaviside", x, values, usage, arguments.length, false);
  const out = noGrad(() => where(binaryRaw("eq", a, scalarTensor(0, a.device)), b, gt(a, 0)));
  return noDerivative(
    out,
    [a, b],
    "heaviside",
    "heaviside is a step; use a smooth stand-in such as sigmoid(k * x)",
  );
}

/**
 * sqrt(x² + other²), as `torch.hypot`; gradients x / out and other / out.
 * Scaled as std::hypot is, m sqrt(1 + (n / m)²) with m the larger
 * magnitude, so squares neither overflow (3e20, 4e20 gives 5e20) nor
 * underflow (1e-30, 1e-30 gives 1.41e-30); an infinite side gives
 * infinity, even beside NaN.
 *
 * @example
 * ```ts
 * import { hypot, tensor } from "@lits/vision";
 * console.log(hypot(tensor([3]), tensor([4])).toList()); // [5]
 * ```
 */
export function hypot(x: Tensor, other: Tensor): Tensor {
  const [a, b] = two(
    "hypot",
    x,
    other,
    "hypot(x, other) with float32 tensors",
    arguments.length,
    false,
  );
  const out = noGrad(() => {
    const ma = abs(a), mb = abs(b);
    const m = maximum(ma, mb);
    const r = div(minimum(ma, mb), m);
    const scaled = mul(m, sqrt(add(mul(r, r), 1)));
    const zero = binaryRaw("eq", m, scalarTensor(0, m.device));
    const inf = logicalOr(isinf(a), isinf(b));
    return where(inf, Infinity, where(zero, 0, scaled));
  });
  return record(out, {
    name: "hypot",
    inputs: [a, b],
    saved: [a, b, out],
    backward: (g) => {
      // torch's: g x / out and g other / out (NaN at 0, 0, as there).
      const q = div(g, out);
      return [
        a.requiresGrad ? sumToShape(mul(q, a), a.shape) : null,
        b.requiresGrad ? sumToShape(mul(q, b), b.shape) : null,
      ];
    },
  });
}

function logAddExpWith(name: string, a: Tensor, b: Tensor, base2: boolean): Tensor {
  const k = base2 ? Math.LN2 : 1;
  const out = noGrad(() => {
    const m = maximum(a, b);
    const d = mul(abs(sub(a, b)), -k); // -|a - b| (times ln 2)
    const v = add(m, base2 ? mul(log1p(exp(d)), 1 / Math.LN2) : log1p(exp(d)));
    // torch: equal infinities give themselves (not inf - inf = NaN).
    return where(logicalAnd(isinf(a), binaryRaw("eq", a, b)), a, v);
  });
  return record(out, {
    name,
    inputs: [a, b],
    saved: [a, b],
    backward: (g) => {
      // torch: g / (1 + exp(b - a)) for a (base 2: 2^(b - a)), and the mirror for b.
      return [
        a.requiresGrad ? sumToShape(mul(g, sigmoid(mul(sub(a, b), k))), a.shape) : null,
        b.requiresGrad ? sumToShape(mul(g, sigmoid(mul(sub(b, a), k))), b.shape) : null,
      ];
    },
  });
}

/**
 * log(exp(x) + exp(other)) without overflow, as `torch.logaddexp`.
 *
 * @example
 * ```ts
 * import { logaddexp, tensor } from "@lits/vision";
 * console.log(logaddexp(tensor([0]), tensor([0])).item().toFixed(4)); // "0.6931"
 * ```
 */
export function logaddexp(x: Tensor, other: Tensor): Tensor {
  const [a, b] = two(
    "logaddexp",
    x,
    other,
    "logaddexp(x, other) with float32 tensors",
    arguments.length,
    false,
  );
  return logAddExpWith("logaddexp", a, b, false);
}

/**
 * log2(2^x + 2^other), as `torch.logaddexp2`.
 *
 * @example
 * ```ts
 * import { logaddexp2, tensor } from "@lits/vision";
 * console.log(logaddexp2(tensor([1]), tensor([1])).toList()); // [2]
 * ```
 */
export function logaddexp2(x: Tensor, other: Tensor): Tensor {
  const [a, b] = two(
    "logaddexp2",
    x,
    other,
    "logaddexp2(x, other) with float32 tensors",
    arguments.length,
    false,
  );
  return logAddExpWith("logaddexp2", a, b, true);
}
