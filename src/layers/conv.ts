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
import { Module, Parameter } from "./module.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { fans, kaimingUniform_, uniform_ } from "./init.ts";
import { type CallContract, checkContract } from "../options.ts";

/** Options of `Conv2d`: those of `conv2d`, and `bias`. */
export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
}

const NEW_CONV2D: CallContract<Conv2dLayerOptions> = {
  where: "nn.Conv2d",
  most: 4,
  known: [...CONV2D_OPTIONS, "bias"],
  usage: "new nn.Conv2d(1, 16, 3, { stride: 1, padding: 1 })",
};

/**
 * 2-D convolution over [N, C, H, W]. Initialised as PyTorch: weight
 * kaiming-uniform with a = sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const conv = new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 });
 * console.log(conv.forward(randn([2, 3, 8, 8])).shape); // [2, 4, 4, 4]
 * ```
 */
export class Conv2d extends Module {
  /** [outChannels, inChannels / groups, kh, kw]. */
  weight: Parameter;
  /** [outChannels], or null. */
  bias: Parameter | null;
  /** The options in effect ("valid" and "same" padding as the numbers they mean). */
  readonly options: Required<Omit<Conv2dLayerOptions, "bias" | "padding">> & {
    padding: [number, number];
  };

  /** Input channels, read from the weight (a weight swapped for a one-channel one counts). */
  get inChannels(): number {
    return this.weight.shape[1] * this.options.groups;
  }

  /** Output channels, read from the weight. */
  get outChannels(): number {
    return this.weight.shape[0];
  }

  /** [kh, kw], read from the weight. */
  get kernelSize(): [number, number] {
    return [this.weight.shape[2], this.weight.shape[3]];
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

  /** [ph, pw] ("same" and "valid" as the numbers they mean); assignable, "same" and "valid" too. */
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
    const padding = paddingPair(given, this.kernelSize, dilation, stride, "Conv2d");
    Object.assign(this.options, { stride, dilation, padding });
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
    this.options = {
      stride,
      padding: paddingPair(o.padding ?? 0, [kh, kw], dilation, stride, "Conv2d"),
      dilation,
      groups,
    };
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
    return conv2d(x, this.weight, this.bias, this.options);
  }
}

// torch's attribute names (`m.conv1.kernel_size`), read in ports that copy a layer.
addNameHints(Conv2d.prototype, "nn.Conv2d", {
  in_channels: "write conv.inChannels",
  out_channels: "write conv.outChannels",
  kernel_size: "write conv.kernelSize",
  padding_mode: "padding is zeros here (torch's default); there is no other mode",
});
