/**
 * `Conv1d`, as `torch.nn.Conv1d`, on `F.conv1d`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import {
  conv1d,
  CONV1D_OPTIONS,
  type Conv1dOptions,
  type Padding1d,
  paddingAmounts,
  type Single,
  single,
} from "../tensor/ops/conv1d.ts";
import { pad, type PadMode } from "../tensor/ops/pad.ts";
import { Module, type Parameter } from "./module.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import {
  convChoices,
  type ConvPaddingMode,
  convParameters,
  paddingModeCheck,
} from "./conv_setup.ts";
import { setting } from "./settable.ts";
import { type CallContract, checkContract } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

export type { ConvPaddingMode } from "./conv_setup.ts";

/** Options of `Conv1d`: those of `conv1d`, `bias` and `paddingMode`. */
export interface Conv1dLayerOptions extends Conv1dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  /** What the padding holds: "zeros" (default), "reflect", "replicate" or "circular". */
  paddingMode?: ConvPaddingMode;
}

const NEW_CONV1D: CallContract<Conv1dLayerOptions> = {
  where: "nn.Conv1d",
  most: 4,
  known: [...CONV1D_OPTIONS, "bias", "paddingMode"],
  usage: "new nn.Conv1d(16, 32, 3, { stride: 1, padding: 1 })",
};

/**
 * 1-D convolution over [N, C, L] (or unbatched [C, L]), as `nn.Conv1d`.
 * Initialised as PyTorch: weight [out, in / groups, k] kaiming-uniform with
 * a = sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). A `paddingMode`
 * other than "zeros" pads the input with `F.pad` first, as torch's.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const conv = new nn.Conv1d(3, 8, 5, { padding: 2 });
 * console.log(conv(randn([2, 3, 20])).shape, conv.weight.shape); // [2, 8, 20] [8, 3, 5]
 * ```
 */
export class Conv1d extends Module {
  /** [outChannels, inChannels / groups, k]. */
  weight: Parameter;
  /** [outChannels], or null. */
  bias: Parameter | null;
  /** [k]. */
  readonly kernelSize: [number];
  /** [s]; assignable (`conv.stride = [2]`), read at each forward. */
  stride!: [number];
  /** [p], or "same" / "valid" as given (torch keeps the string); assignable. */
  padding!: [number] | "same" | "valid";
  /** [d]; assignable. */
  dilation!: [number];
  /** Channel groups. */
  readonly groups: number;
  /** What the padding holds; assignable (`conv.paddingMode = "reflect"`). */
  paddingMode!: ConvPaddingMode;

  /** Input channels, read from the weight. */
  get inChannels(): number {
    return tensorShape(this, "weight")[1] * this.groups;
  }

  /** Output channels, read from the weight. */
  get outChannels(): number {
    return tensorShape(this, "weight")[0];
  }

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Single,
    options: Conv1dLayerOptions = {},
  ) {
    super();
    const o = checkContract(NEW_CONV1D, arguments.length, options);
    const where = "nn.Conv1d";
    const { groups, mode } = convChoices(where, inChannels, outChannels, o);
    const k = single(kernelSize, `${where}: kernel size`, 1);
    const stride = single(o.stride ?? 1, `${where}: stride`, 1);
    const dilation = single(o.dilation ?? 1, `${where}: dilation`, 1);
    const padding: Padding1d = o.padding ?? 0;
    paddingAmounts(padding, k, dilation, stride, where); // checked now, as torch's constructor
    this.kernelSize = [k];
    // Settings (a field's place kept): each assignment checked as here, read at each forward.
    const one = (name: string, min: number) => (v: unknown): [number] => [
      single(v as Single, `${where}: ${name}`, min),
    ];
    setting(this, "stride", stride, one("stride", 1));
    setting(
      this,
      "padding",
      padding,
      (v) => v === "same" || v === "valid" ? v : one("padding", 0)(v),
    );
    setting(this, "dilation", dilation, one("dilation", 1));
    this.groups = groups;
    setting(this, "paddingMode", mode, paddingModeCheck(where));
    const { weight, bias } = convParameters(inChannels, outChannels, groups, [k], o.bias ?? true);
    this.weight = weight;
    this.bias = bias;
  }

  /** [left, right] zeros or padded values on the input, as the options mean them. */
  get paddingAmounts(): [number, number] {
    const padding = this.padding === "same" || this.padding === "valid"
      ? this.padding
      : this.padding[0];
    return paddingAmounts(padding, this.kernelSize[0], this.dilation[0], this.stride[0], "Conv1d");
  }

  /** x [N, inChannels, L] or [inChannels, L] -> [N, outChannels, L'] or [outChannels, L']. */
  forward(x: Tensor): Tensor {
    const options = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === "zeros") {
      const padding = typeof this.padding === "string" ? this.padding : this.padding[0];
      return conv1d(x, this.weight, this.bias, { ...options, padding });
    }
    if (!(x instanceof Tensor) || (x.ndim !== 2 && x.ndim !== 3)) {
      throw new Error(
        `nn.Conv1d: expected a 2-D (unbatched [C, L]) or 3-D ([N, C, L]) input, got ${
          x instanceof Tensor ? `[${x.shape}]` : showValue(x)
        }`,
      );
    }
    const padded = pad(x, this.paddingAmounts, this.paddingMode as PadMode);
    return conv1d(padded, this.weight, this.bias, { ...options, padding: 0 });
  }
}

// torch's attribute names (`m.conv.kernel_size`), read in ports that copy a layer.
addNameHints(Conv1d.prototype, "nn.Conv1d", {
  in_channels: "write conv.inChannels",
  out_channels: "write conv.outChannels",
  kernel_size: "write conv.kernelSize",
  padding_mode: "write conv.paddingMode",
});
