/**
 * In-place initialisers, as `torch.nn.init` (same fan and gain rules, same
 * argument checks); the structured ones (orthogonal, eye, dirac, truncated
 * normal) are in init_structured.ts.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { fillNormal, fillUniform } from "../tensor/ops/random.ts";
import { fillInPlace } from "../tensor/ops/creation.ts";
import { checkArity, checkCall } from "../options.ts";

export { dirac_, eye_, orthogonal_, sparse_, truncNormal_ } from "./init_structured.ts";
export * from "./init_names.ts";

const FLOAT32_MAX = 3.4028234663852886e38;

/** @internal throws unless `t` is a tensor, naming the initialiser. */
export function checkTensor(where: string, t: unknown, usage: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) {
    throw new Error(`nn.init.${where}: the first argument must be a tensor; write ${usage}`);
  }
}

/** @internal a number argument, or throws naming it and the call to write. */
export function numberArg(where: string, name: string, v: unknown, usage: string): number {
  if (typeof v !== "number" || Number.isNaN(v)) {
    const got = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
    throw new Error(`nn.init.${where}: ${name} must be a number, got ${got}; write ${usage}`);
  }
  return v;
}

/**
 * Fan-in and fan-out of a weight [out, in, ...kernel].
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * console.log(nn.init.fans(zeros([16, 8, 3, 3]))); // [72, 144]
 * ```
 */
export function fans(t: Tensor): [number, number] {
  checkTensor("fans", t, "nn.init.fans(w)");
  if (t.ndim < 2) throw new Error(`init: fan needs at least 2 dimensions, got [${t.shape}]`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

/** The nonlinearities `calculateGain` knows (PyTorch's names). */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "selu";

const GAINS: Record<Exclude<Nonlinearity, "leaky_relu">, number> = {
  linear: 1,
  conv1d: 1,
  conv2d: 1,
  conv3d: 1,
  conv_transpose1d: 1,
  conv_transpose2d: 1,
  conv_transpose3d: 1,
  sigmoid: 1,
  tanh: 5 / 3,
  relu: Math.SQRT2,
  selu: 3 / 4,
};

/**
 * The recommended gain of a nonlinearity (`torch.nn.init.calculate_gain`):
 * `a` is leaky_relu's negative slope (default 0.01, also for null). An
 * unknown name throws, as PyTorch's does, rather than giving 1.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * console.log(nn.init.calculateGain("tanh"), nn.init.calculateGain("selu")); // 1.6666666666666667 0.75
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity, a: number | null = 0.01): number {
  if (nonlinearity === "leaky_relu") {
    const slope = a ?? 0.01;
    if (typeof slope !== "number" || !Number.isFinite(slope)) {
      throw new Error(
        `nn.init.calculateGain: negative_slope ${String(slope)} is not a valid number`,
      );
    }
    return Math.sqrt(2 / (1 + slope * slope));
  }
  const gain = Object.hasOwn(GAINS, nonlinearity)
    ? GAINS[nonlinearity as keyof typeof GAINS]
    : undefined;
  if (gain === undefined) {
    throw new Error(
      `nn.init.calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}; ` +
        `one of ${[...Object.keys(GAINS), "leaky_relu"].join(", ")}`,
    );
  }
  return gain;
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (default 0). */
  a?: number;
  /** Preserve the variance of the forward ("fan_in", default) or backward pass. */
  mode?: "fan_in" | "fan_out";
  /** Nonlinearity after the layer (default "leaky_relu"; any `calculateGain` name). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(where: string, given: number, t: Tensor, options: unknown): number {
  const usage = `nn.init.${where}(w, { a: Math.sqrt(5), mode: "fan_in" })`;
  checkTensor(where, t, usage);
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
  const [fanIn, fanOut] = fans(t);
  const gain = calculateGain(nonlinearity, o.a ?? 0); // an unknown name throws there
  return gain / Math.sqrt(mode === "fan_in" ? fanIn : fanOut);
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

/**
 * Fills with N(0, std^2), std = gain / sqrt(fan).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.kaimingNormal_(zeros([64, 32, 3, 3]), { mode: "fan_out", nonlinearity: "relu" });
 * console.log(w.shape); // [64, 32, 3, 3]
 * ```
 */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  fillNormal(
    t,
    0,
    kaimingStd("kaimingNormal_", arguments.length, t, options),
    "nn.init.kaimingNormal_",
  );
  return t;
}

/**
 * Fills with U(low, high).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.uniform_(zeros([100]), -0.1, 0.1);
 * console.log(w.abs().max().item() <= 0.1); // true
 * ```
 */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  const usage = "nn.init.uniform_(w, -0.1, 0.1)";
  checkArity("nn.init.uniform_", arguments.length, 3, usage);
  checkTensor("uniform_", t, usage);
  numberArg("uniform_", "low", low, usage);
  numberArg("uniform_", "high", high, usage);
  // As PyTorch: a range float32 cannot hold would fill Infinity or NaN.
  if (
    !(Math.abs(low) <= FLOAT32_MAX && Math.abs(high) <= FLOAT32_MAX && high - low <= FLOAT32_MAX)
  ) {
    throw new Error(
      `nn.init.uniform_: [${low}, ${high}) is beyond float32's range (high - low must be at ` +
        `most ${FLOAT32_MAX})`,
    );
  }
  fillUniform(t, low, high, "nn.init.uniform_");
  return t;
}

/**
 * Fills with N(mean, std^2).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.normal_(zeros([1000]), 0, 0.01);
 * console.log(w.abs().max().item() < 0.1); // true
 * ```
 */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  const usage = "nn.init.normal_(w, 0, 0.01)";
  checkArity("nn.init.normal_", arguments.length, 3, usage);
  checkTensor("normal_", t, usage);
  numberArg("normal_", "mean", mean, usage);
  numberArg("normal_", "std", std, usage);
  fillNormal(t, mean, std, "nn.init.normal_");
  return t;
}

/**
 * Fills with a constant.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * console.log(nn.init.constant_(zeros([2]), 0.5).toArray()); // Float32Array [0.5, 0.5]
 * ```
 */
export function constant_(t: Tensor, value: number): Tensor {
  const usage = "nn.init.constant_(w, 0.5)";
  checkArity("nn.init.constant_", arguments.length, 2, usage);
  checkTensor("constant_", t, usage);
  numberArg("constant_", "value", value, usage);
  const fits = t.dtype === "int32"
    ? Number.isFinite(value) && Math.trunc(value) >= -(2 ** 31) && Math.trunc(value) < 2 ** 31
    : !Number.isFinite(value) || Math.abs(value) <= FLOAT32_MAX;
  if (!fits) {
    throw new Error(
      `nn.init.constant_: value ${value} cannot be converted to ${t.dtype} without overflow`,
    );
  }
  fillInPlace(t, value, "nn.init.constant_");
  return t;
}

/**
 * Fills with zeros.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(nn.init.zeros_(ones([2])).toArray()); // Float32Array [0, 0]
 * ```
 */
export function zeros_(t: Tensor): Tensor {
  checkArity("nn.init.zeros_", arguments.length, 1, "nn.init.zeros_(w)");
  return constant_(t, 0);
}

/**
 * Fills with ones.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * console.log(nn.init.ones_(zeros([2])).toArray()); // Float32Array [1, 1]
 * ```
 */
export function ones_(t: Tensor): Tensor {
  checkArity("nn.init.ones_", arguments.length, 1, "nn.init.ones_(w)");
  return constant_(t, 1);
}

/** Options of the Xavier initialisers. */
export interface XavierOptions {
  /** Scaling factor (default 1; `calculateGain` of the nonlinearity after). */
  gain?: number;
}

function xavierStd(where: string, given: number, t: Tensor, options: unknown): number {
  const usage = `nn.init.${where}(w, { gain: nn.init.calculateGain("tanh") })`;
  checkTensor(where, t, usage);
  const o = checkCall<XavierOptions>(`nn.init.${where}`, given, 2, options, ["gain"], usage);
  const gain = numberArg(where, "gain", o.gain ?? 1, usage);
  const [fanIn, fanOut] = fans(t);
  return gain * Math.sqrt(2 / (fanIn + fanOut));
}

/**
 * Fills with U(-bound, bound), bound = gain * sqrt(6 / (fanIn + fanOut))
 * (`torch.nn.init.xavier_uniform_`).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.xavierUniform_(zeros([4, 2]));
 * console.log(w.abs().max().item() <= 1); // true
 * ```
 */
export function xavierUniform_(t: Tensor, options: XavierOptions = {}): Tensor {
  const bound = Math.sqrt(3) * xavierStd("xavierUniform_", arguments.length, t, options);
  fillUniform(t, -bound, bound, "nn.init.xavierUniform_");
  return t;
}

/**
 * Fills with N(0, std^2), std = gain * sqrt(2 / (fanIn + fanOut))
 * (`torch.nn.init.xavier_normal_`).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.xavierNormal_(zeros([64, 64]), { gain: 2 });
 * console.log(w.abs().max().item() > 0); // true
 * ```
 */
export function xavierNormal_(t: Tensor, options: XavierOptions = {}): Tensor {
  const std = xavierStd("xavierNormal_", arguments.length, t, options);
  fillNormal(t, 0, std, "nn.init.xavierNormal_");
  return t;
}
