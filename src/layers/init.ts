/**
 * In-place initialisers, as `torch.nn.init` (same fan and gain rules).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { fillNormal, fillUniform } from "../tensor/ops/random.ts";
import { fillInPlace } from "../tensor/ops/creation.ts";
import { checkCall } from "../options.ts";

/** Fan-in and fan-out of a weight [out, in, ...kernel]. */
export function fans(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new Error(`init: fan needs at least 2 dimensions, got [${t.shape}]`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** The recommended gain of a nonlinearity (`torch.nn.init.calculate_gain`). */
export function calculateGain(
  nonlinearity: "linear" | "relu" | "leaky_relu" | "tanh" | "sigmoid",
  a = 0.01,
): number {
  switch (nonlinearity) {
    case "relu":
      return Math.SQRT2;
    case "leaky_relu":
      return Math.sqrt(2 / (1 + a * a));
    case "tanh":
      return 5 / 3;
    default:
      return 1;
  }
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (default 0). */
  a?: number;
  /** Preserve the variance of the forward ("fan_in", default) or backward pass. */
  mode?: "fan_in" | "fan_out";
  /** Nonlinearity after the layer (default "leaky_relu"). */
  nonlinearity?: "relu" | "leaky_relu" | "linear";
}

function kaimingStd(where: string, given: number, t: Tensor, options: unknown): number {
  const usage = `nn.init.${where}(w, { a: Math.sqrt(5), mode: "fan_in" })`;
  const o = checkCall<KaimingOptions>(
    `nn.init.${where}`,
    given,
    2,
    options,
    ["a", "mode", "nonlinearity"],
    usage,
  );
  const mode = o.mode ?? "fan_in", nonlinearity = o.nonlinearity ?? "leaky_relu";
  // A misspelled mode or nonlinearity would otherwise pick fan_out or gain 1 silently.
  if (mode !== "fan_in" && mode !== "fan_out") {
    throw new Error(
      `nn.init.${where}: mode must be "fan_in" or "fan_out", got ${JSON.stringify(mode)}`,
    );
  }
  if (!["relu", "leaky_relu", "linear"].includes(nonlinearity)) {
    throw new Error(
      `nn.init.${where}: nonlinearity must be "relu", "leaky_relu" or "linear", got ${
        JSON.stringify(nonlinearity)
      }`,
    );
  }
  const [fanIn, fanOut] = fans(t);
  return calculateGain(nonlinearity, o.a ?? 0) / Math.sqrt(mode === "fan_in" ? fanIn : fanOut);
}

/**
 * Fills with U(-bound, bound), bound = gain * sqrt(3 / fan).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.kaimingUniform_(zeros([4, 3]), { a: Math.sqrt(5) });
 * console.log(w.abs().max().item() <= 1 / Math.sqrt(3)); // true
 * ```
 */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd("kaimingUniform_", arguments.length, t, options);
  fillUniform(t, -bound, bound, "nn.init.kaimingUniform_");
  return t;
}

/** Fills with N(0, std^2), std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  fillNormal(
    t,
    0,
    kaimingStd("kaimingNormal_", arguments.length, t, options),
    "nn.init.kaimingNormal_",
  );
  return t;
}

/** Fills with U(low, high). */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  fillUniform(t, low, high, "nn.init.uniform_");
  return t;
}

/** Fills with N(mean, std^2). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  fillNormal(t, mean, std, "nn.init.normal_");
  return t;
}

/** Fills with a constant. */
export function constant_(t: Tensor, value: number): Tensor {
  fillInPlace(t, value, "nn.init.constant_");
  return t;
}

/** Fills with zeros. */
export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
/** Fills with ones. */
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);
