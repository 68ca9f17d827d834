/**
 * `clamp(x, min, max)` (torch.clamp) and its one-sided forms.
 *
 * Forward is max(x, min) then min(., max), with the kernels' NaN rule: NaN
 * stays NaN, and min > max gives max everywhere, as PyTorch. The gradient is
 * PyTorch's clamp_backward: the upstream gradient where min <= x <= max
 * (boundaries included), 0 elsewhere and at NaN, picked with `where` so an
 * inf gradient outside the range does not become NaN. An int32 `x` with
 * integer bounds gives exact int32; a fractional bound promotes to float32,
 * as torch 1.13.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { binaryRaw, requireFloat } from "./elementwise.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { whereRaw } from "./where.ts";
import { intClamp } from "./int_arith.ts";
import { cast } from "./shape.ts";

function checkBound(value: unknown, name: string): void {
  if (value === null || value === undefined || typeof value === "number") return;
  const got = value instanceof Tensor ? `a Tensor [${value.shape}]` : typeof value;
  throw new Error(
    `clamp: ${name} must be a number, null or undefined, got ${got}; ` +
      "write x.clamp(0, 1), x.clamp(0) or x.clamp(null, 1) (tensor bounds: maximum/minimum)",
  );
}

/**
 * `x` limited to `[min, max]`; either bound may be left out (null or
 * undefined), not both. Gradient 1 inside the range, boundaries included,
 * and 0 outside, as torch.clamp.
 *
 * @example
 * ```ts
 * import { clamp, tensor } from "@lits/vision";
 * const x = tensor([-2, 0, 1, 3], undefined, { requiresGrad: true });
 * const y = clamp(x, 0, 1);
 * console.log(y.toArray()); // Float32Array [0, 0, 1, 1]
 * y.sum().backward();
 * console.log(x.grad!.toArray()); // Float32Array [0, 1, 1, 0]
 * console.log(clamp(tensor([-2, 5]), null, 1).toArray()); // Float32Array [-2, 1]
 * ```
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  expectTensor(x, "clamp: the input", "clamp(x, 0, 1) or x.clamp(0, 1)");
  if (arguments.length > 3) {
    throw new Error(`clamp: takes (x, min, max), got ${arguments.length} arguments`);
  }
  checkBound(min, "min");
  checkBound(max, "max");
  const lo = min ?? null, hi = max ?? null;
  if (lo === null && hi === null) {
    throw new Error(
      "clamp: at least one of min and max must be given; write x.clamp(0), x.clamp(null, 1)",
    );
  }
  if (x instanceof Tensor && x.dtype === "int32") {
    // torch: integer bounds keep an integer tensor's type; a fractional one promotes.
    const integral = [lo, hi].every((b) => b === null || Number.isInteger(b));
    return integral ? intClamp(x, lo, hi) : clamp(cast(x, "float32"), lo, hi);
  }
  requireFloat(x, "clamp");
  const loT = lo === null ? null : scalarTensor(lo, x.device);
  const hiT = hi === null ? null : scalarTensor(hi, x.device);
  const low = loT ? binaryRaw("maximum", x, loT) : x;
  const out = hiT ? binaryRaw("minimum", low, hiT) : low;
  if (low !== x && low !== out) low.dispose();
  loT?.dispose();
  hiT?.dispose();
  return record(out, {
    name: "clamp",
    inputs: [x],
    backward: (g) => [clampGrad(g, x, lo, hi)],
  });
}

/** g where lo <= x <= hi (each bound when given), else 0. */
function clampGrad(g: Tensor, x: Tensor, lo: number | null, hi: number | null): Tensor {
  const geLo = lo === null ? null : binaryRaw("ge", x, scalarTensor(lo, x.device));
  const leHi = hi === null ? null : binaryRaw("le", x, scalarTensor(hi, x.device));
  const mask = geLo && leHi ? binaryRaw("mul", geLo, leHi) : (geLo ?? leHi)!;
  return whereRaw(mask, g, scalarTensor(0, g.device));
}

/**
 * `x` limited from below: `clamp(x, min)` (torch.clamp_min).
 *
 * @example
 * ```ts
 * import { clampMin, tensor } from "@lits/vision";
 * console.log(clampMin(tensor([-1, 2]), 0).toArray()); // Float32Array [0, 2]
 * ```
 */
export function clampMin(x: Tensor, min: number): Tensor {
  if (typeof min !== "number") {
    throw new Error(`clampMin: min must be a number, got ${typeof min}; write clampMin(x, 0)`);
  }
  return clamp(x, min, null);
}

/**
 * `x` limited from above: `clamp(x, null, max)` (torch.clamp_max).
 *
 * @example
 * ```ts
 * import { clampMax, tensor } from "@lits/vision";
 * console.log(clampMax(tensor([-1, 2]), 1).toArray()); // Float32Array [-1, 1]
 * ```
 */
export function clampMax(x: Tensor, max: number): Tensor {
  if (typeof max !== "number") {
    throw new Error(`clampMax: max must be a number, got ${typeof max}; write clampMax(x, 1)`);
  }
  return clamp(x, null, max);
}
