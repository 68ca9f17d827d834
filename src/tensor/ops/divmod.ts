/**
 * Division with rounding: `remainder` (torch.remainder, Python's `%`: the
 * sign of the divisor), `fmod` (C's fmod: the sign of the dividend) and
 * `floorDivide` (torch 1.13's floor_divide: rounds toward minus infinity,
 * as Python's `//`; it truncated before 1.13).
 *
 * They run on a host copy, exactly as torch's CPU kernels compute them:
 * float32 `fmod` is exact, which a device `a - trunc(a / b) * b` is not
 * (`1 % 0.1` came out 0 where torch gives 0.1). Int32 with int32 (or an
 * integer number) gives int32, exact, and a zero divisor is an Error, as
 * torch's "ZeroDivisionError"; anything with float32 (or a fractional
 * number) gives float32, where x / 0 follows IEEE. Gradients are torch's:
 * the dividend's is the upstream gradient, the divisor's is minus it times
 * the rounded quotient (floor for remainder, trunc for fmod);
 * floor_divide has none in torch, and a backward through it throws.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { expectTensor } from "./compare.ts";
import { broadcastShapes, mul, sameDevice } from "./elementwise.ts";
import { sumToShape } from "./reduce.ts";
import { broadcastIndex, hostResult, noDerivative } from "./host_values.ts";

type Kind = "remainder" | "fmod" | "floorDivide";
const f = Math.fround;

/** torch's div_floor_floating in float32. */
function floorDiv(a: number, b: number): number {
  if (b === 0) return f(a / b);
  const mod = a % b;
  let div = f(f(a - mod) / b);
  if (mod !== 0 && (b < 0) !== (mod < 0)) div = f(div - 1);
  if (div === 0) return Object.is(f(a / b), -0) || f(a / b) < 0 ? -0 : 0;
  let q = Math.floor(div);
  if (div - q > 0.5) q += 1;
  return q;
}

const FLOAT: Record<Kind, (a: number, b: number) => number> = {
  remainder: (a, b) => {
    const mod = a % b;
    return mod !== 0 && (b < 0) !== (mod < 0) ? f(mod + b) : mod;
  },
  fmod: (a, b) => a % b,
  floorDivide: floorDiv,
};

const INT: Record<Kind, (a: number, b: number) => number> = {
  remainder: (a, b) => {
    const mod = a % b;
    return mod !== 0 && (b < 0) !== (mod < 0) ? mod + b : mod;
  },
  fmod: (a, b) => a % b,
  floorDivide: (a, b) => Math.floor(a / b),
};

/** The rounded quotient the divisor's gradient reads: floor (remainder) or trunc (fmod). */
const QUOTIENT: Record<"remainder" | "fmod", (a: number, b: number) => number> = {
  remainder: floorDiv,
  fmod: (a, b) => Math.trunc(f(a / b)),
};

function checkNumeric(where: string, x: unknown, name: string, usage: string): asserts x is Tensor {
  expectTensor(x, `${where}: ${name}`, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
}

function divmod(kind: Kind, a: Tensor, b: Tensor | number, given: number): Tensor {
  const usage = `${kind}(x, 2) or x.${kind}(y)`;
  if (given !== 2) {
    throw new Error(`${kind}: takes (x, other), got ${given} arguments; write ${usage}`);
  }
  checkNumeric(kind, a, "x", usage);
  const bNumber = typeof b === "number";
  if (!bNumber) {
    checkNumeric(kind, b, "other", `${usage} (other a Tensor or a number)`);
    sameDevice(a, b, kind);
  }
  const isInt = a.dtype === "int32" &&
    (bNumber ? Number.isInteger(b) : (b as Tensor).dtype === "int32");
  const bShape = bNumber ? [] : (b as Tensor).shape;
  const shape = broadcastShapes(a.shape, bShape, kind);
  const av = a.toArray(), bv = bNumber ? Float32Array.of(b as number) : (b as Tensor).toArray();
  const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(bShape, shape);
  const n = ia.length;
  const out = isInt ? new Int32Array(n) : new Float32Array(n);
  if (isInt) {
    const op = INT[kind];
    const bi = bNumber ? [b as number] : bv;
    for (let k = 0; k < n; k++) {
      const y = bi[ib[k]];
      if (y === 0) {
        throw new Error(
          `${kind}: integer division by zero (torch: "ZeroDivisionError"); divide x.float() ` +
            "for IEEE's inf and NaN",
        );
      }
      const v = op(av[ia[k]], y);
      if (v >= 2 ** 31) throw new Error(`${kind}: ${av[ia[k]]} by ${y} gives ${v}, beyond int32`);
      out[k] = v;
    }
    return hostResult(out, shape, "int32", a.device);
  }
  const op = FLOAT[kind];
  // float32 operands: ints and a number are rounded to float32 first, as torch promotes them.
  for (let k = 0; k < n; k++) out[k] = op(f(av[ia[k]]), f(bv[ib[k]]));
  const y = hostResult(out, shape, "float32", a.device);
  const inputs = [a, ...(bNumber ? [] : [b as Tensor])].filter((t) => t.dtype === "float32");
  if (kind === "floorDivide") {
    return noDerivative(y, inputs, "floor_divide", "floor division is piecewise constant");
  }
  return record(y, {
    name: kind,
    inputs,
    saved: [],
    backward: (g) =>
      inputs.map((t) => {
        if (!t.requiresGrad) return null;
        if (t === a) return sumToShape(g, a.shape);
        const q = new Float32Array(n);
        const quotient = QUOTIENT[kind];
        for (let k = 0; k < n; k++) q[k] = -quotient(f(av[ia[k]]), f(bv[ib[k]]));
        return sumToShape(mul(g, hostResult(q, shape, "float32", g.device)), t.shape);
      }),
  });
}

/**
 * The remainder of `x / other` with the sign of `other`, as
 * `torch.remainder` and Python's `%`: `remainder(-7, 2)` is 1. Broadcasts;
 * int32 operands give exact int32 (a zero divisor is an Error), float32
 * ones float32, exact as torch's (`remainder(1, 0.1)` is 0.1 - 1.5e-9).
 * The gradient is 1 for x and -floor(x / other) for other, as torch's.
 *
 * @example
 * ```ts
 * import { remainder, tensor } from "@lits/vision";
 * console.log(remainder(tensor(new Int32Array([-7, 7, 5]), [3]), 3).toList()); // [2, 1, 2]
 * ```
 */
export function remainder(x: Tensor, other: Tensor | number): Tensor {
  return divmod("remainder", x, other, arguments.length);
}

/**
 * The remainder of `x / other` with the sign of `x`, as `torch.fmod` and
 * C's fmod: `fmod(-7, 2)` is -1. Broadcasts; int32 operands give exact
 * int32 (a zero divisor is an Error), float32 ones float32. The gradient is
 * 1 for x and -trunc(x / other) for other, as torch's.
 *
 * @example
 * ```ts
 * import { fmod, tensor } from "@lits/vision";
 * console.log(fmod(tensor([-7, 7, 5.5]), 2).toList()); // [-1, 1, 1.5]
 * ```
 */
export function fmod(x: Tensor, other: Tensor | number): Tensor {
  return divmod("fmod", x, other, arguments.length);
}

/**
 * `x / other` rounded toward minus infinity, as torch 1.13's
 * `floor_divide` and Python's `//` (it truncated toward zero before 1.13):
 * `floorDivide(-7, 2)` is -4. Broadcasts; int32 operands give exact int32
 * (a zero divisor is an Error), float32 ones float32 (x / 0 is inf or NaN).
 * No gradient, as torch's: a backward through it throws.
 *
 * @example
 * ```ts
 * import { floorDivide, tensor } from "@lits/vision";
 * console.log(floorDivide(tensor(new Int32Array([-7, 7]), [2]), 2).toList()); // [-4, 3]
 * ```
 */
export function floorDivide(x: Tensor, other: Tensor | number): Tensor {
  return divmod("floorDivide", x, other, arguments.length);
}
