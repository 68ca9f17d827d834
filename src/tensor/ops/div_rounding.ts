/**
 * torch's `div(a, b, rounding_mode=...)`: true division, or the quotient
 * rounded toward zero ("trunc") or toward minus infinity ("floor"). Code
 * from torch 1.13 writes `torch.div(i, w, rounding_mode="floor")` where it
 * once wrote `i // w` (floor_divide warned then): it must not run as true
 * division.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import { expectTensor } from "./compare.ts";
import { broadcastShapes, div, sameDevice } from "./elementwise.ts";
import { zeros } from "./creation.ts";
import { floorDivide } from "./divmod.ts";
import { trunc } from "./rounding.ts";
import { broadcastIndex, hostResult } from "./host_values.ts";
import { checkOptions } from "../../options.ts";

/** The rounding of `div`'s quotient: none (true division), toward 0, or toward -infinity. */
export type RoundingMode = "trunc" | "floor" | null;

/** Options of `div`: torch's `rounding_mode=`. */
export interface DivOptions {
  /** "trunc", "floor", or null / left out for true division (torch's `rounding_mode`). */
  roundingMode?: RoundingMode;
}

/**
 * @internal `a / b` with torch's `rounding_mode` (read from `options`;
 * `where` names the caller in errors): int32 operands give exact int32
 * (a zero divisor is an Error, as torch's ZeroDivisionError), float32 ones
 * float32 (x / 0 is inf or NaN). Rounded quotients have a zero gradient, as
 * torch's; true division is `div`'s, gradient included.
 */
export function divRounded(
  where: string,
  a: Tensor,
  b: Tensor | number,
  options: unknown,
): Tensor {
  const usage = `${where}(y, { roundingMode: "floor" }) (torch's rounding_mode="floor")`;
  const o = checkOptions<DivOptions>(where, options, ["roundingMode"], usage);
  const mode = o.roundingMode ?? null;
  if (mode !== null && mode !== "trunc" && mode !== "floor") {
    throw new Error(
      `${where}: roundingMode must be "trunc", "floor" or null (true division), got ` +
        `${JSON.stringify(mode)}`,
    );
  }
  if (mode === null) return div(a, b);
  const isTensor = typeof b !== "number";
  if (isTensor) {
    expectTensor(b, where, usage);
    sameDevice(a, b, where);
  }
  const isInt = a.dtype === "int32" && (isTensor ? b.dtype === "int32" : Number.isInteger(b));
  if (isInt && mode === "trunc") return truncInt(where, a, b);
  const out = noGrad(() => mode === "floor" ? floorDivide(a, b) : trunc(div(a, b)));
  if (isInt) return out;
  const inputs = [a, ...(isTensor ? [b] : [])].filter((t) => t.dtype === "float32");
  return record(out, {
    name: `div_${mode}`,
    inputs,
    saved: [],
    // A step function: torch's gradient is zeros (not none, not an error).
    backward: (g) => inputs.map((t) => zeros([...t.shape], { device: g.device })),
  });
}

/** Exact int32 a / b rounded toward zero, as C's integer division. */
function truncInt(where: string, a: Tensor, b: Tensor | number): Tensor {
  const bShape = typeof b === "number" ? [] : b.shape;
  const shape = broadcastShapes(a.shape, bShape, where);
  const av = a.toArray(), bv = typeof b === "number" ? Int32Array.of(b) : b.toArray();
  const ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(bShape, shape);
  const out = new Int32Array(ia.length);
  for (let k = 0; k < ia.length; k++) {
    const y = bv[ib[k]];
    if (y === 0) {
      throw new Error(
        `${where}: integer division by zero (torch: "ZeroDivisionError"); divide x.float() for ` +
          "IEEE's inf and NaN",
      );
    }
    const v = Math.trunc(av[ia[k]] / y);
    if (v >= 2 ** 31) throw new Error(`${where}: ${av[ia[k]]} by ${y} gives ${v}, beyond int32`);
    out[k] = v;
  }
  return hostResult(out, shape, "int32", a.device);
}
