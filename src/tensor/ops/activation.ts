/**
 * Activations beyond ReLU, sigmoid and tanh: GELU (exact or tanh) and leaky
 * ReLU, on the backend's unary kernels (exact GELU needs erf, which no
 * composition of the other ops gives to float accuracy).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { checkArity, checkOptions } from "../../options.ts";
import { requireFloat, unary } from "./elementwise.ts";

/** Options of `gelu`. */
export interface GeluOptions {
  /** "none" (default): x * Phi(x) with erf; "tanh": PyTorch's tanh approximation. */
  approximate?: "none" | "tanh";
}

/** Reads GELU's `approximate` from an options object or the bare string; checks it. */
export function geluApproximate(where: string, options: unknown, usage: string): "none" | "tanh" {
  const o = typeof options === "string"
    ? { approximate: options }
    : checkOptions<GeluOptions>(where, options, ["approximate"], usage);
  const a = o.approximate ?? "none";
  if (a !== "none" && a !== "tanh") {
    throw new Error(
      `${where}: approximate must be "none" or "tanh", got ${JSON.stringify(a)}; write ${usage}`,
    );
  }
  return a;
}

/**
 * Gaussian error linear unit, as `F.gelu`: x * Phi(x), with Phi the normal
 * CDF (`approximate: "none"`, exact with erf), or
 * 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) with `approximate: "tanh"`.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.gelu(tensor([-1, 0, 1])).toArray()); // Float32Array [-0.15865525603294373, 0, 0.8413447141647339]
 * console.log(F.gelu(tensor([1]), { approximate: "tanh" }).item().toFixed(4)); // "0.8412"
 * ```
 */
export function gelu(x: Tensor, options?: GeluOptions | "none" | "tanh"): Tensor {
  checkArity("gelu", arguments.length, 2, 'F.gelu(x, { approximate: "tanh" })');
  const a = geluApproximate("gelu", options, 'F.gelu(x, { approximate: "tanh" })');
  requireFloat(x, "gelu");
  return unary(a === "tanh" ? "geluTanh" : "gelu", x);
}

/** Checks a leaky ReLU slope: a finite number. */
export function checkSlope(where: string, slope: unknown, usage: string): number {
  if (typeof slope !== "number" || !Number.isFinite(slope)) {
    throw new Error(
      `${where}: negativeSlope must be a finite number, got ${
        typeof slope === "number" ? slope : JSON.stringify(slope)
      }; write ${usage}`,
    );
  }
  return slope;
}

/**
 * Leaky ReLU, as `F.leaky_relu`: x where x > 0, else negativeSlope * x
 * (default 0.01). The gradient at 0 is the slope, as PyTorch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.leakyRelu(tensor([-2, 3]), 0.5).toArray()); // Float32Array [-1, 3]
 * ```
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  refuseKeywords("F.leakyRelu", negativeSlope, "x", ["negativeSlope"], [0.01]);
  checkArity("leakyRelu", arguments.length, 2, "F.leakyRelu(x, 0.2)");
  checkSlope("leakyRelu", negativeSlope, "F.leakyRelu(x, 0.2)");
  requireFloat(x, "leakyRelu");
  return unary("leakyRelu", x, negativeSlope);
}
