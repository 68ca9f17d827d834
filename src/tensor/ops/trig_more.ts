/**
 * The trigonometric, hyperbolic and error functions torch users reach for,
 * each one native kernel (`lits_unary_f32`, its backward
 * `lits_unary_backward_f32`): `tan`, `asin`, `acos`, `atan`, `sinh`,
 * `cosh`, `asinh`, `acosh`, `atanh`, `erf`, `erfc`, `erfinv`, and the
 * binary `atan2` (`lits_binary_f32`, broadcasting), with torch's aliases
 * `arcsin`, `arccos`, `arctan`, `arctan2`, `arcsinh`, `arccosh` and
 * `arctanh`.
 *
 * Values are torch's CPU ones within float32 rounding, domains included:
 * asin and acos outside [-1, 1], acosh below 1 and atanh and erfinv outside
 * [-1, 1] give NaN; atanh(±1) and erfinv(±1) are ±inf. Gradients are torch's
 * formulas (asin: 1 / sqrt(1 - x²), erfinv: sqrt(pi) / 2 e^{erfinv(x)²}, ...),
 * so they are inf or NaN exactly where torch's are. int32 tensors are
 * converted to float32 first, as torch promotes integers for these ops.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { add, binaryRaw, mul, neg, requireFloat, unary, type UnaryName } from "./elementwise.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { promoted } from "./int_arith.ts";
import { sumToShape } from "./reduce.ts";
import { reciprocal } from "./trig.ts";

/**
 * The kernel `kernel` on x, x checked (its errors name `name`, the function
 * called: an alias's own) and an int32 x made float32.
 */
function op(kernel: UnaryName, x: Tensor, given: number, name: string = kernel): Tensor {
  const usage = `${name}(x)`;
  if (given > 1) {
    throw new Error(`${name}: takes one tensor, got ${given} arguments; write ${usage}`);
  }
  expectTensor(x, name, usage);
  const f = promoted(x);
  requireFloat(f, name);
  return unary(kernel, f);
}

/**
 * tan x, elementwise (torch.tan); gradient 1 + tan² x.
 *
 * @example
 * ```ts
 * import { tan, tensor } from "@lits/vision";
 * console.log(tan(tensor([0, Math.PI / 4])).toList()); // [0, 1]
 * ```
 */
export function tan(x: Tensor): Tensor {
  return op("tan", x, arguments.length);
}

/**
 * The arcsine (torch.asin), in [-pi/2, pi/2]; NaN outside [-1, 1], as
 * torch's. Gradient 1 / sqrt(1 - x²) (inf at ±1).
 *
 * @example
 * ```ts
 * import { asin, tensor } from "@lits/vision";
 * console.log(asin(tensor([0, 1, 2])).toList()); // [0, 1.5707963..., NaN]
 * ```
 */
export function asin(x: Tensor): Tensor {
  return op("asin", x, arguments.length);
}

/**
 * The arccosine (torch.acos), in [0, pi]; NaN outside [-1, 1]. Gradient
 * -1 / sqrt(1 - x²).
 *
 * @example
 * ```ts
 * import { acos, tensor } from "@lits/vision";
 * console.log(acos(tensor([1, -1])).toList()); // [0, 3.1415927...]
 * ```
 */
export function acos(x: Tensor): Tensor {
  return op("acos", x, arguments.length);
}

/**
 * The arctangent (torch.atan), in (-pi/2, pi/2). Gradient 1 / (1 + x²).
 *
 * @example
 * ```ts
 * import { atan, tensor } from "@lits/vision";
 * console.log(atan(tensor([0, 1])).toList()); // [0, 0.7853982...]
 * ```
 */
export function atan(x: Tensor): Tensor {
  return op("atan", x, arguments.length);
}

/**
 * The hyperbolic sine (torch.sinh); ±inf beyond |x| ≈ 89.4 in float32.
 * Gradient cosh x.
 *
 * @example
 * ```ts
 * import { sinh, tensor } from "@lits/vision";
 * console.log(sinh(tensor([0, 1])).toList()); // [0, 1.1752012...]
 * ```
 */
export function sinh(x: Tensor): Tensor {
  return op("sinh", x, arguments.length);
}

/**
 * The hyperbolic cosine (torch.cosh). Gradient sinh x.
 *
 * @example
 * ```ts
 * import { cosh, tensor } from "@lits/vision";
 * console.log(cosh(tensor([0])).toList()); // [1]
 * ```
 */
export function cosh(x: Tensor): Tensor {
  return op("cosh", x, arguments.length);
}

/**
 * The inverse hyperbolic sine (torch.asinh). Gradient 1 / sqrt(x² + 1)
 * (0 where x² overflows, as torch's).
 *
 * @example
 * ```ts
 * import { asinh, tensor } from "@lits/vision";
 * console.log(asinh(tensor([0, 1])).toList()); // [0, 0.8813736...]
 * ```
 */
export function asinh(x: Tensor): Tensor {
  return op("asinh", x, arguments.length);
}

/**
 * The inverse hyperbolic cosine (torch.acosh); NaN below 1. Gradient
 * 1 / sqrt(x² - 1) (inf at 1).
 *
 * @example
 * ```ts
 * import { acosh, tensor } from "@lits/vision";
 * console.log(acosh(tensor([1, 0.5])).toList()); // [0, NaN]
 * ```
 */
export function acosh(x: Tensor): Tensor {
  return op("acosh", x, arguments.length);
}

/**
 * The inverse hyperbolic tangent (torch.atanh); ±inf at ±1, NaN beyond.
 * Gradient 1 / (1 - x²).
 *
 * @example
 * ```ts
 * import { atanh, tensor } from "@lits/vision";
 * console.log(atanh(tensor([0, 1, -1])).toList()); // [0, Infinity, -Infinity]
 * ```
 */
export function atanh(x: Tensor): Tensor {
  return op("atanh", x, arguments.length);
}

/**
 * The error function (torch.erf). Gradient 2 / sqrt(pi) e^{-x²}.
 *
 * @example
 * ```ts
 * import { erf, tensor } from "@lits/vision";
 * console.log(erf(tensor([0, 1])).toList()); // [0, 0.8427007...]
 * ```
 */
export function erf(x: Tensor): Tensor {
  return op("erf", x, arguments.length);
}

/**
 * The complementary error function 1 - erf x, exact where erf x rounds to
 * ±1 (torch.erfc). Gradient -2 / sqrt(pi) e^{-x²}.
 *
 * @example
 * ```ts
 * import { erfc, tensor } from "@lits/vision";
 * console.log(erfc(tensor([0, 5])).toList()); // [1, 1.5374597...e-12]
 * ```
 */
export function erfc(x: Tensor): Tensor {
  return op("erfc", x, arguments.length);
}

/**
 * The inverse error function (torch.erfinv): ±inf at ±1, NaN outside
 * [-1, 1]; torch's CPU algorithm on the CPU, CUDA's erfinvf on the GPU.
 * Gradient sqrt(pi) / 2 e^{erfinv(x)²}.
 *
 * @example
 * ```ts
 * import { erfinv, tensor } from "@lits/vision";
 * console.log(erfinv(tensor([0, 0.5, 1])).toList()); // [0, 0.4769362..., Infinity]
 * ```
 */
export function erfinv(x: Tensor): Tensor {
  return op("erfinv", x, arguments.length);
}

/** An atan2 operand as a float32 tensor on `device` (a number: a 0-d tensor there). */
function operand(name: string, v: unknown, which: string, device: Tensor["device"]): Tensor {
  const usage = `${name}(input, other) with tensors (the angle of the point (other, input))`;
  if (typeof v === "number") return scalarTensor(v, device);
  expectTensor(v, `${name}: ${which}`, usage);
  const f = promoted(v);
  requireFloat(f, `${name}: ${which}`);
  return f;
}

/** atan2 as `name` (atan2 or its alias) was called: `given` arguments. */
function atan2As(name: string, input: unknown, other: unknown, given: number): Tensor {
  if (given !== 2) {
    throw new Error(
      `${name}: takes 2 arguments (input, other), got ${given}; write ${name}(y, x)`,
    );
  }
  if (!(input instanceof Tensor) && !(other instanceof Tensor)) {
    throw new Error(
      `${name}: expected at least one Tensor, got ${typeof input} and ${typeof other}; use ` +
        `Math.atan2(y, x) for numbers, or write ${name}(tensor(y), tensor(x))`,
    );
  }
  const device = (input instanceof Tensor ? input : other as Tensor).device;
  const a = operand(name, input, "input", device), b = operand(name, other, "other", device);
  const out = binaryRaw("atan2", a, b);
  return record(out, {
    name: "atan2",
    inputs: [a, b],
    saved: [a, b],
    backward: (g) => {
      // torch's atan2_backward: recip = 1 / (a² + b²); g * b * recip and g * -a * recip.
      const recip = reciprocal(add(mul(a, a), mul(b, b)));
      return [
        a.requiresGrad ? sumToShape(mul(mul(g, b), recip), a.shape) : null,
        b.requiresGrad ? sumToShape(mul(mul(g, neg(a)), recip), b.shape) : null,
      ];
    },
  });
}

/**
 * The angle of the point (other, input) in (-pi, pi], elementwise with
 * broadcasting (torch.atan2(input, other)): the quadrant from both signs,
 * signed zeros included (atan2(0, -0) = pi). Gradients torch's:
 * other / (input² + other²) for input and -input / (input² + other²) for
 * other (NaN at (0, 0)). int32 operands become float32; a number is taken
 * as a 0-d tensor.
 *
 * @example
 * ```ts
 * import { atan2, tensor } from "@lits/vision";
 * console.log(atan2(tensor([1, 1, -1]), tensor([1, -1, 0])).toList());
 * // [0.7853982..., 2.3561945..., -1.5707963...]
 * ```
 */
export function atan2(input: Tensor | number, other: Tensor | number): Tensor {
  return atan2As("atan2", input, other, arguments.length);
}

/**
 * torch's alias of `asin`.
 *
 * @example
 * ```ts
 * import { arcsin, tensor } from "@lits/vision";
 * console.log(arcsin(tensor([0])).toList()); // [0]
 * ```
 */
export function arcsin(x: Tensor): Tensor {
  return op("asin", x, arguments.length, "arcsin");
}

/**
 * torch's alias of `acos`.
 *
 * @example
 * ```ts
 * import { arccos, tensor } from "@lits/vision";
 * console.log(arccos(tensor([1])).toList()); // [0]
 * ```
 */
export function arccos(x: Tensor): Tensor {
  return op("acos", x, arguments.length, "arccos");
}

/**
 * torch's alias of `atan`.
 *
 * @example
 * ```ts
 * import { arctan, tensor } from "@lits/vision";
 * console.log(arctan(tensor([0])).toList()); // [0]
 * ```
 */
export function arctan(x: Tensor): Tensor {
  return op("atan", x, arguments.length, "arctan");
}

/**
 * torch's alias of `atan2`.
 *
 * @example
 * ```ts
 * import { arctan2, tensor } from "@lits/vision";
 * console.log(arctan2(tensor([0]), tensor([1])).toList()); // [0]
 * ```
 */
export function arctan2(input: Tensor | number, other: Tensor | number): Tensor {
  return atan2As("arctan2", input, other, arguments.length);
}

/**
 * torch's alias of `asinh`.
 *
 * @example
 * ```ts
 * import { arcsinh, tensor } from "@lits/vision";
 * console.log(arcsinh(tensor([0])).toList()); // [0]
 * ```
 */
export function arcsinh(x: Tensor): Tensor {
  return op("asinh", x, arguments.length, "arcsinh");
}

/**
 * torch's alias of `acosh`.
 *
 * @example
 * ```ts
 * import { arccosh, tensor } from "@lits/vision";
 * console.log(arccosh(tensor([1])).toList()); // [0]
 * ```
 */
export function arccosh(x: Tensor): Tensor {
  return op("acosh", x, arguments.length, "arccosh");
}

/**
 * torch's alias of `atanh`.
 *
 * @example
 * ```ts
 * import { arctanh, tensor } from "@lits/vision";
 * console.log(arctanh(tensor([0])).toList()); // [0]
 * ```
 */
export function arctanh(x: Tensor): Tensor {
  return op("atanh", x, arguments.length, "arctanh");
}
