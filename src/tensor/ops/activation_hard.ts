/**
 * The mobile-network activations: SiLU (x * sigmoid(x)), and the
 * piecewise-linear ReLU6, hardsigmoid and hardswish, as torch 1.13 defines
 * them.
 *
 * SiLU is composed from `mul` and `sigmoid` (its gradient follows). The
 * piecewise ones record torch's own backward formulas, because at the kinks
 * torch's gradient is not what composing `clamp` would give (clamp passes
 * the gradient at its bounds, hardtanh does not), and a NaN input gets
 * torch's gradient too:
 *
 * - relu6 (hardtanh(x, 0, 6)): g, but 0 where x <= 0 or x >= 6 (NaN: g);
 * - hardsigmoid: g / 6 where -3 < x < 3, else 0 (NaN: 0);
 * - hardswish: 0 where x < -3, g (x / 3 + 0.5) where x <= 3, else g
 *   (so -0.5 g at -3 and 1.5 g at 3; NaN: g).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { binaryRaw, recordUnary, requireFloat, unary } from "./elementwise.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { whereRaw } from "./where.ts";
import { activationWritten, canFuse, recipeOf, relu6Grad } from "./fusion.ts";

function checkInput(x: Tensor, name: string): void {
  expectTensor(x, name, `F.${name}(x)`);
  requireFloat(x, name);
}

/** A comparison of x with a number, as a float32 mask (no autograd). */
function cmp(op: "gt" | "lt" | "ge" | "le", x: Tensor, value: number): Tensor {
  const v = scalarTensor(value, x.device);
  const out = binaryRaw(op, x, v);
  v.dispose();
  return out;
}

/** min(max(x + shift, 0), 6), torch's order of operations (no autograd; NaN stays NaN). */
function clamp06(x: Tensor, shift: number): Tensor {
  const zero = scalarTensor(0, x.device), six = scalarTensor(6, x.device);
  const s = shift === 0 ? x : unary("addScalar", x, shift);
  const low = binaryRaw("maximum", s, zero);
  const out = binaryRaw("minimum", low, six);
  for (const t of [zero, six, low]) t.dispose();
  if (s !== x) s.dispose();
  return out;
}

/** `a` where `mask` holds, else 0 (an inf or NaN outside stays out of the result). */
function masked(mask: Tensor, a: Tensor): Tensor {
  return whereRaw(mask, a, scalarTensor(0, a.device));
}

/**
 * SiLU (swish), as `F.silu`: x * sigmoid(x).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.silu(tensor([0, 1])).toArray()); // Float32Array [0, 0.7310585975646973]
 * ```
 */
export function silu(x: Tensor): Tensor {
  if (arguments.length > 1) throw new Error("silu: takes one tensor (no inplace); write F.silu(x)");
  checkInput(x, "silu");
  // A batch norm's unwritten output: one pass through its recipe (else one to write it, one for SiLU).
  if (canFuse(x) && recipeOf(x) !== null && !recipeOf(x)!.relu) {
    return recordUnary("silu", x, activationWritten(x, 3));
  }
  return unary("silu", x);
}

/**
 * ReLU6, as `F.relu6`: min(max(x, 0), 6). The gradient is 0 at 0 and at 6,
 * as torch's (hardtanh's backward; `clamp` would pass it there).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.relu6(tensor([-1, 3, 8])).toArray()); // Float32Array [0, 3, 6]
 * ```
 */
export function relu6(x: Tensor): Tensor {
  if (arguments.length > 1) {
    throw new Error("relu6: takes one tensor (no inplace); write F.relu6(x)");
  }
  checkInput(x, "relu6");
  // One pass where the backend fuses (through a batch norm's unwritten output); else three.
  const out = canFuse(x) && x.isContiguous && x.numel() > 0
    ? activationWritten(x, 2)
    : clamp06(x, 0);
  return record(out, {
    name: "relu6",
    inputs: [x],
    backward: (g) => {
      // Passes where neither x <= 0 nor x >= 6 holds (NaN included): two passes where fused.
      if (canFuse(x) && canFuse(g) && x.isContiguous && g.isContiguous && x.numel() > 0) {
        return [relu6Grad(g, x)];
      }
      const blocked = binaryRaw("add", cmp("le", x, 0), cmp("ge", x, 6));
      return [whereRaw(blocked, scalarTensor(0, g.device), g)];
    },
  });
}

/**
 * Hard sigmoid, as `F.hardsigmoid`: min(max(x + 3, 0), 6) / 6; gradient
 * 1/6 strictly between -3 and 3, else 0.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.hardsigmoid(tensor([-4, 0, 4])).toArray()); // Float32Array [0, 0.5, 1]
 * ```
 */
export function hardsigmoid(x: Tensor): Tensor {
  if (arguments.length > 1) {
    throw new Error("hardsigmoid: takes one tensor (no inplace); write F.hardsigmoid(x)");
  }
  checkInput(x, "hardsigmoid");
  const r = clamp06(x, 3);
  const out = unary("divScalar", r, 6);
  r.dispose();
  return record(out, {
    name: "hardsigmoid",
    inputs: [x],
    backward: (g) => {
      const inside = binaryRaw("mul", cmp("gt", x, -3), cmp("lt", x, 3));
      return [masked(inside, unary("divScalar", g, 6))];
    },
  });
}

/**
 * Hard swish, as `F.hardswish`: x * min(max(x + 3, 0), 6) / 6. Its
 * gradient is torch's: 0 below -3, x / 3 + 0.5 from -3 to 3 (both
 * included), 1 above.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.hardswish(tensor([-4, 1, 4])).toArray()); // Float32Array [-0, 0.6666666865348816, 4]
 * ```
 */
export function hardswish(x: Tensor): Tensor {
  if (arguments.length > 1) {
    throw new Error("hardswish: takes one tensor (no inplace); write F.hardswish(x)");
  }
  checkInput(x, "hardswish");
  const r = clamp06(x, 3);
  const xr = binaryRaw("mul", x, r);
  const out = unary("divScalar", xr, 6);
  r.dispose();
  xr.dispose();
  return record(out, {
    name: "hardswish",
    inputs: [x],
    backward: (g) => {
      const slope = unary("addScalar", unary("divScalar", x, 3), 0.5);
      const middle = whereRaw(cmp("le", x, 3), binaryRaw("mul", g, slope), g);
      return [whereRaw(cmp("lt", x, -3), scalarTensor(0, g.device), middle)];
    },
  });
}
