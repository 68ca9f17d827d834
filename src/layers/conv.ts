/**
 * `Conv2d`, as `torch.nn.Conv2d`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import {
  conv2d,
  CONV2D_OPTIONS,
  type Conv2dOptions,
  paddingPair,
  type Pair,
  pair,
} from "../tensor/ops/conv.ts";
import { pad, type PadMode } from "../tensor/ops/pad.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { Module, Parameter } from "./module.ts";
import { type ConvPaddingMode, paddingModeCheck } from "./conv_setup.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { fans, kaimingUniform_, uniform_ } from "./init.ts";
import { type CallContract, checkContract } from "../options.ts";
import { getRngState, setRngState } from "../tensor/rng_state.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** Options of `Conv2d`: those of `conv2d`, `bias` and `paddingMode`. */
export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  /** What the padding holds (torch's `padding_mode`, default "zeros"). */
  paddingMode?: ConvPaddingMode;
}

/**
 * [[top, bottom], [left, right]] of a padding: "same" puts the odd one
 * after (bottom, right), as torch's for an even kernel.
 */
function paddingSides(
  given: Conv2dOptions["padding"],
  kernel: [number, number],
  dilation: [number, number],
  stride: [number, number],
): [[number, number], [number, number]] {
  if (given !== "same" || stride[0] !== 1 || stride[1] !== 1) {
    const [ph, pw] = paddingPair(given ?? 0, kernel, dilation, stride, "Conv2d");
    return [[ph, ph], [pw, pw]];
  }
  const side = (i: number): [number, number] => {
    const total = dilation[i] * (kernel[i] - 1);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  return [side(0), side(1)];
}

/** torch's positional arguments after the kernel size, in its order. */
const TORCH_CONV_TAIL = ["stride", "padding", "dilation", "groups", "bias", "paddingMode"];

/**
 * @internal throws when torch's positional form reached a convolution's
 * options slot (`nn.Conv2d(1, 32, 3, 1)`, the MNIST example's and the
 * "Defining a Neural Network" recipe's), spelling the call with the user's
 * own values as options.
 */
export function refusePositionalConv(where: string, args: IArguments): void {
  const given = [...args].slice(3);
  const first = given[0];
  if (
    given.length === 0 || (typeof first === "object" && first !== null && !Array.isArray(first))
  ) {
    return;
  }
  const shown = given.slice(0, TORCH_CONV_TAIL.length).map((v, i) =>
    `${TORCH_CONV_TAIL[i]}: ${JSON.stringify(v) ?? String(v)}`
  );
  const lead = [...args].slice(0, 3).map((v) => JSON.stringify(v) ?? String(v)).join(", ");
  throw new Error(
    `${where}: torch's positional arguments after the kernel size (${
      TORCH_CONV_TAIL.slice(0, given.length).join(", ")
    }) are options here; write new ${where}(${lead}, { ${shown.join(", ")} })`,
  );
}

const NEW_CONV2D: CallContract<Conv2dLayerOptions> = {
  where: "nn.Conv2d",
  most: 4,
  known: [...CONV2D_OPTIONS, "bias", "paddingMode"],
  usage: "new nn.Conv2d(1, 16, 3, { stride: 1, padding: 1 })",
};

/**
 * 2-D convolution over [N, C, H, W]. Initialised as PyTorch: weight
 * kaiming-uniform with a = sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 * A `paddingMode` other than "zeros" ("reflect", "replicate", "circular"),
 * or "same" padding of an even kernel (one more after than before, as
 * torch's), pads the input with `F.pad` first, then convolves unpadded.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const conv = new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 });
 * console.log(conv.forward(randn([2, 3, 8, 8])).shape); // [2, 4, 4, 4]
 * const reflect = new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: "reflect" });
 * console.log(reflect.forward(randn([2, 3, 8, 8])).shape); // [2, 4, 8, 8]
 * ```
 */
export class Conv2d extends Module {
  /** [outChannels, inChannels / groups, kh, kw]. */
  weight: Parameter;
  /** [outChannels], or null. */
  bias: Parameter | null;
  /** The options in effect ("valid" and "same" padding as the numbers they mean). */
  readonly options: Required<Omit<Conv2dLayerOptions, "bias" | "padding" | "paddingMode">> & {
    padding: [number, number];
  };

  /** Input channels, read from the weight (a weight swapped for a one-channel one counts). */
  get inChannels(): number {
    return tensorShape(this, "weight")[1] * this.options.groups;
  }

  /** Output channels, read from the weight. */
  get outChannels(): number {
    return tensorShape(this, "weight")[0];
  }

  /** [kh, kw], read from the weight. */
  get kernelSize(): [number, number] {
    const [, , kh, kw] = tensorShape(this, "weight");
    return [kh, kw];
  }

  /**
   * [sh, sw]: `new nn.Conv2d(1, 64, 7, { stride: m.conv1.stride, padding: m.conv1.padding })`
   * ports torch's copy of a layer. Assignable, as torch's (`conv.stride = [1, 1]`, the
   * "last stride 1" trick of re-identification models); "same" padding is then recomputed
   * (and refused for a stride, as torch's).
   */
  get stride(): [number, number] {
    return [...(this.options.stride as [number, number])];
  }
  set stride(v: Pair) {
    this.#setGeometry({ stride: pair(v, "Conv2d: stride", 1) });
  }

  /**
   * [ph, pw] ("same" and "valid" as the numbers they mean: the top and left
   * sides where "same" pads one more after); assignable, "same" and "valid" too.
   */
  get padding(): [number, number] {
    return [...this.options.padding];
  }
  set padding(v: Conv2dOptions["padding"]) {
    this.#setGeometry({ padding: v ?? 0 }); // checked first: a refused value changes nothing
    this.#paddingMode = v === "same" || v === "valid" ? v : null;
  }

  /** [dh, dw]; assignable ("same" padding is recomputed). */
  get dilation(): [number, number] {
    return [...(this.options.dilation as [number, number])];
  }
  set dilation(v: Pair) {
    this.#setGeometry({ dilation: pair(v, "Conv2d: dilation", 1) });
  }

  /** "same" or "valid" when the padding was given so: recomputed when stride or dilation change. */
  #paddingMode: "same" | "valid" | null = null;

  /** [left, right, top, bottom], F.pad's order: what the padding adds on each side. */
  #sides: [number, number, number, number] = [0, 0, 0, 0];

  #fill: ConvPaddingMode = "zeros";

  /**
   * What the padding holds (torch's `padding_mode`): "zeros", "reflect",
   * "replicate" or "circular"; assignable (`conv.paddingMode = "reflect"`).
   */
  get paddingMode(): ConvPaddingMode {
    return this.#fill;
  }
  set paddingMode(v: ConvPaddingMode) {
    this.#fill = paddingModeCheck("nn.Conv2d")(v);
  }

  /** [left, right, top, bottom] (F.pad's order): the padding on each side of the input. */
  get paddingAmounts(): [number, number, number, number] {
    return [...this.#sides];
  }

  /**
   * @internal Whether forward pads the input itself before the kernel (a
   * paddingMode other than zeros, or uneven "same" padding): the fused
   * paths that read `options` decline such a layer.
   */
  get padsInput(): boolean {
    const [l, r, t, b] = this.#sides;
    return this.#fill !== "zeros" || l !== r || t !== b;
  }

  /** New stride, dilation or padding, checked as the constructor checks them, then kept. */
  #setGeometry(
    change: {
      stride?: [number, number];
      dilation?: [number, number];
      padding?: Conv2dOptions["padding"];
    },
  ) {
    const stride = change.stride ?? (this.options.stride as [number, number]);
    const dilation = change.dilation ?? (this.options.dilation as [number, number]);
    const given = change.padding ?? this.#paddingMode ?? this.options.padding;
    const [[t, b], [l, r]] = paddingSides(given, this.kernelSize, dilation, stride);
    Object.assign(this.options, { stride, dilation, padding: [t, l] });
    this.#sides = [l, r, t, b];
  }

  /** Channel groups (fixed: the weight's shape depends on them). */
  get groups(): number {
    return this.options.groups;
  }

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    refusePositionalConv("nn.Conv2d", arguments);
    const o = checkContract(NEW_CONV2D, arguments.length, options);
    const groups = o.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups) {
      throw new Error(
        `Conv2d: channels ${inChannels} -> ${outChannels} are not divisible by groups ${groups}`,
      );
    }
    if (
      !Number.isInteger(inChannels) || inChannels < 1 || !Number.isInteger(outChannels) ||
      outChannels < 1
    ) {
      throw new Error(
        `Conv2d: channels must be positive integers, got ${inChannels} -> ${outChannels}`,
      );
    }
    const [kh, kw] = pair(kernelSize, "Conv2d: kernel size", 1);
    const stride = pair(o.stride ?? 1, "Conv2d: stride", 1);
    const dilation = pair(o.dilation ?? 1, "Conv2d: dilation", 1);
    this.#fill = paddingModeCheck("nn.Conv2d")(o.paddingMode ?? "zeros");
    const [[t, b], [l, r]] = paddingSides(o.padding ?? 0, [kh, kw], dilation, stride);
    this.#sides = [l, r, t, b];
    this.options = { stride, padding: [t, l], dilation, groups };
    if (o.padding === "same" || o.padding === "valid") this.#paddingMode = o.padding;
    const w = Tensor.empty([outChannels, inChannels / groups, kh, kw], "float32", "cpu", false);
    this.weight = new Parameter(kaimingUniform_(w, { a: Math.sqrt(5) }));
    this.bias = null;
    if (o.bias ?? true) {
      const bound = 1 / Math.sqrt(fans(this.weight)[0]);
      this.bias = new Parameter(
        uniform_(Tensor.empty([outChannels], "float32", "cpu", false), -bound, bound),
      );
    }
  }

  /** x [N, inChannels, H, W] -> [N, outChannels, H', W']. */
  forward(x: Tensor): Tensor {
    if (!this.padsInput) return conv2d(x, this.weight, this.bias, this.options);
    if (!(x instanceof Tensor) || x.ndim !== 4) {
      throw new Error(
        `nn.Conv2d: expected a 4-D input [N, C, H, W], got ${
          x instanceof Tensor ? `[${x.shape}]` : showValue(x)
        }`,
      );
    }
    const mode: PadMode = this.#fill === "zeros" ? "constant" : this.#fill;
    const padded = pad(x, this.paddingAmounts, mode);
    return conv2d(padded, this.weight, this.bias, { ...this.options, padding: 0 });
  }

  /**
   * @internal A Conv2d of this one's geometry (stride, dilation, groups,
   * paddingMode, and the padding with its "same"/"valid" and uneven sides,
   * which the options alone cannot say) holding `weight` and `bias` (taken
   * over), in this one's training mode and without its hooks: the fused copy
   * of nn.utils.fuseConvBnEval. The generator is left as it was (torch's
   * deepcopy draws nothing).
   */
  withWeights(weight: Parameter, bias: Parameter | null): Conv2d {
    const rng = getRngState();
    const c = new Conv2d(this.inChannels, this.outChannels, this.kernelSize, {
      groups: this.groups,
      paddingMode: this.#fill,
      bias: false,
    });
    setRngState(rng);
    c.#paddingMode = this.#paddingMode;
    c.#sides = [...this.#sides];
    const o = this.options;
    Object.assign(c.options, {
      stride: [...(o.stride as number[])],
      padding: [...o.padding],
      dilation: [...(o.dilation as number[])],
    });
    c.weight = weight;
    c.bias = bias;
    c.training = this.training;
    return c;
  }
}

// torch's attribute names (`m.conv1.kernel_size`), read in ports that copy a layer.
addNameHints(Conv2d.prototype, "nn.Conv2d", {
  in_channels: "write conv.inChannels",
  out_channels: "write conv.outChannels",
  kernel_size: "write conv.kernelSize",
  padding_mode: "write conv.paddingMode",
});
