/**
 * What `nn.Conv1d` and `nn.Conv3d` check and make alike: the channel,
 * group, padding-mode and bias options, and torch's initial weight
 * (kaiming-uniform, a = sqrt(5)) and bias (U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in))).
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { Parameter } from "./module.ts";
import { fans, kaimingUniform_, uniform_ } from "./init.ts";

/** What a convolution's padding holds: torch's `padding_mode`. */
export type ConvPaddingMode = "zeros" | "reflect" | "replicate" | "circular";

const PADDING_MODES: ConvPaddingMode[] = ["zeros", "reflect", "replicate", "circular"];

/**
 * @internal A check of a convolution's `paddingMode` (an assignable setting,
 * `conv.paddingMode = "reflect"`), with `convChoices`'s message.
 */
export function paddingModeCheck(where: string): (v: unknown) => ConvPaddingMode {
  return (mode) => {
    if (!PADDING_MODES.includes(mode as ConvPaddingMode)) {
      // torch: "padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular']".
      throw new Error(
        `${where}: paddingMode must be one of ${PADDING_MODES.join(", ")}, got ${showValue(mode)}`,
      );
    }
    return mode as ConvPaddingMode;
  };
}

/** The options `convSetup` checks. */
interface ConvLayerChoices {
  groups?: number;
  paddingMode?: ConvPaddingMode;
  bias?: boolean;
}

/**
 * @internal The checked groups and padding mode of a convolution layer
 * `where` from inChannels to outChannels (and its bias option).
 */
export function convChoices(
  where: string,
  inChannels: number,
  outChannels: number,
  o: ConvLayerChoices,
): { groups: number; mode: ConvPaddingMode } {
  for (const [name, v] of [["inChannels", inChannels], ["outChannels", outChannels]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${where}: ${name} must be a positive integer, got ${showValue(v)}`);
    }
  }
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups) {
    throw new Error(
      `${where}: channels ${inChannels} -> ${outChannels} are not divisible by groups ` +
        `${showValue(groups)}`,
    );
  }
  const mode = paddingModeCheck(where)(o.paddingMode ?? "zeros");
  if (o.bias !== undefined && typeof o.bias !== "boolean") {
    throw new Error(`${where}: bias must be true or false, got ${showValue(o.bias)}`);
  }
  return { groups, mode };
}

/**
 * @internal A convolution's weight [outChannels, inChannels / groups,
 * ...kernel] and bias [outChannels] (or null), initialised as torch's.
 */
export function convParameters(
  inChannels: number,
  outChannels: number,
  groups: number,
  kernel: readonly number[],
  withBias: boolean,
): { weight: Parameter; bias: Parameter | null } {
  const w = Tensor.empty([outChannels, inChannels / groups, ...kernel], "float32", "cpu", false);
  const weight = new Parameter(kaimingUniform_(w, { a: Math.sqrt(5) }));
  if (!withBias) return { weight, bias: null };
  const bound = 1 / Math.sqrt(fans(weight)[0]);
  const bias = uniform_(Tensor.empty([outChannels], "float32", "cpu", false), -bound, bound);
  return { weight, bias: new Parameter(bias) };
}
