/**
 * `Conv3d`, as `torch.nn.Conv3d`, on `F.conv3d`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import {
  conv3d,
  CONV3D_OPTIONS,
  type Conv3dOptions,
  paddingSides,
  type Triple,
  triple,
} from "../tensor/ops/conv3d.ts";
import { pad, type PadMode } from "../tensor/ops/pad.ts";
import { showValue } from "../tensor/ops/show_value.ts";
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
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** What `Conv3d`'s padding holds: torch's `padding_mode` (`ConvPaddingMode`). */
export type Conv3dPaddingMode = ConvPaddingMode;

/** Options of `Conv3d`: those of `conv3d`, `bias` and `paddingMode`. */
export interface Conv3dLayerOptions extends Conv3dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  /** What the padding holds: "zeros" (default), "reflect", "replicate" or "circular". */
  paddingMode?: Conv3dPaddingMode;
}

const NEW_CONV3D: CallContract<Conv3dLayerOptions> = {
  where: "nn.Conv3d",
  most: 4,
  known: [...CONV3D_OPTIONS, "bias", "paddingMode"],
  usage: "new nn.Conv3d(1, 16, 3, { stride: 1, padding: 1 })",
};

/**
 * 3-D convolution over volumes [N, C, D, H, W] (or one unbatched
 * [C, D, H, W]), as `nn.Conv3d`.
 * Initialised as PyTorch: weight [out, in / groups, kD, kH, kW]
 * kaiming-uniform with a = sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 * A `paddingMode` other than "zeros" pads the input with `F.pad` first, as
 * torch's. State-dict keys are torch's (`weight`, `bias`).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const conv = new nn.Conv3d(1, 8, 3, { stride: [1, 2, 2], padding: 1 });
 * console.log(conv.forward(randn([2, 1, 8, 16, 16])).shape); // [2, 8, 8, 8, 8]
 * console.log(conv.weight.shape); // [8, 1, 3, 3, 3]
 * ```
 */
export class Conv3d extends Module {
  /** [outChannels, inChannels / groups, kD, kH, kW]. */
  weight: Parameter;
  /** [outChannels], or null. */
  bias: Parameter | null;
  /** [kD, kH, kW]. */
  readonly kernelSize: [number, number, number];
  /** [sd, sh, sw]; assignable (`conv.stride = [1, 2, 2]`), read at each forward. */
  stride!: [number, number, number];
  /** [pd, ph, pw], or "same" / "valid" as given (torch keeps the string); assignable. */
  padding!: [number, number, number] | "same" | "valid";
  /** [dd, dh, dw]; assignable. */
  dilation!: [number, number, number];
  /** Channel groups. */
  readonly groups: number;
  /** What the padding holds; assignable (`conv.paddingMode = "replicate"`). */
  paddingMode!: Conv3dPaddingMode;

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
    kernelSize: Triple,
    options: Conv3dLayerOptions = {},
  ) {
    super();
    const o = checkContract(NEW_CONV3D, arguments.length, options);
    const where = "nn.Conv3d";
    const { groups, mode } = convChoices(where, inChannels, outChannels, o);
    this.kernelSize = triple(kernelSize, `${where}: kernel size`, 1);
    const three = (name: string, min: number) => (v: unknown) =>
      triple(v as Triple, `${where}: ${name}`, min);
    // Settings (a field's place kept): each assignment checked as here, read at each forward.
    setting(this, "stride", o.stride ?? 1, three("stride", 1));
    setting(this, "dilation", o.dilation ?? 1, three("dilation", 1));
    const padding = o.padding ?? 0;
    // Checked now, as torch's constructor ("same" with a stride is refused here).
    paddingSides(padding, this.kernelSize, this.dilation, this.stride, where);
    setting(
      this,
      "padding",
      padding,
      (v) => v === "same" || v === "valid" ? v : three("padding", 0)(v),
    );
    this.groups = groups;
    setting(this, "paddingMode", mode, paddingModeCheck(where));
    const { weight, bias } = convParameters(
      inChannels,
      outChannels,
      groups,
      this.kernelSize,
      o.bias ?? true,
    );
    this.weight = weight;
    this.bias = bias;
  }

  /**
   * x [N, inChannels, D, H, W] -> [N, outChannels, D', H', W'] (or one
   * unbatched volume [inChannels, D, H, W] -> [outChannels, D', H', W']).
   */
  forward(x: Tensor): Tensor {
    const options = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === "zeros") {
      return conv3d(x, this.weight, this.bias, { ...options, padding: this.padding });
    }
    if (!(x instanceof Tensor) || (x.ndim !== 5 && x.ndim !== 4)) {
      throw new Error(
        `nn.Conv3d: expected an input [N, C, D, H, W] (or unbatched [C, D, H, W]), got ${
          x instanceof Tensor ? `[${x.shape}]` : showValue(x)
        }`,
      );
    }
    // torch: F.pad(x, reversed padding repeated twice, mode), then no padding.
    const sides = paddingSides(this.padding, this.kernelSize, this.dilation, this.stride, "Conv3d");
    if (this.paddingMode === "reflect") {
      // Checked here, so that the message names the input (F.pad pads one dimension at a time).
      sides.forEach(([before, after], i) => {
        const dim = x.ndim - 3 + i, size = x.shape[dim];
        if (Math.max(before, after) >= size) {
          throw new Error(
            `nn.Conv3d: reflect padding of ${Math.max(before, after)} must be less than the ` +
              `size ${size} of dimension ${dim} of the input [${x.shape}]; use a smaller ` +
              'padding, or paddingMode "replicate" or "zeros"',
          );
        }
      });
    }
    const amounts = [...sides].reverse().flat();
    const padded = pad(x, amounts, this.paddingMode as PadMode);
    return conv3d(padded, this.weight, this.bias, { ...options, padding: 0 });
  }
}

// torch's attribute names (`m.conv1.kernel_size`), read in ports that copy a layer.
addNameHints(Conv3d.prototype, "nn.Conv3d", {
  in_channels: "write conv.inChannels",
  out_channels: "write conv.outChannels",
  kernel_size: "write conv.kernelSize",
  padding_mode: "write conv.paddingMode",
});
