/**
 * `ConvTranspose2d`, as `torch.nn.ConvTranspose2d`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { type Pair, pair } from "../tensor/ops/conv.ts";
import {
  CONV_TRANSPOSE2D_OPTIONS,
  convTranspose2d,
  type ConvTranspose2dOptions,
  type ConvTransposeSettings,
  transposeOptions,
} from "../tensor/ops/conv_transpose.ts";
import { Module, Parameter } from "./module.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { fans, kaimingUniform_, uniform_ } from "./init.ts";
import { type CallContract, checkContract, checkOptions } from "../options.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** Options of `ConvTranspose2d`: those of `convTranspose2d`, and `bias`. */
export interface ConvTranspose2dLayerOptions extends ConvTranspose2dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
}

const NEW_CONV_TRANSPOSE2D: CallContract<ConvTranspose2dLayerOptions> = {
  where: "nn.ConvTranspose2d",
  most: 4,
  known: [...CONV_TRANSPOSE2D_OPTIONS, "bias"],
  usage: "new nn.ConvTranspose2d(64, 32, 2, { stride: 2 })",
};

/**
 * Transposed 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]):
 * the up-sampling step of a U-Net's decoder. The weight is
 * [inChannels, outChannels / groups, kh, kw], as PyTorch's, and it is
 * initialised as PyTorch's: kaiming-uniform with a = sqrt(5), bias
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = (outChannels / groups) *
 * kh * kw (torch reads the fan from the weight's second dimension).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const up = new nn.ConvTranspose2d(8, 4, 2, { stride: 2 });
 * console.log(up.forward(randn([1, 8, 5, 5])).shape); // [1, 4, 10, 10]
 * ```
 */
export class ConvTranspose2d extends Module {
  /** [inChannels, outChannels / groups, kh, kw]. */
  weight: Parameter;
  /** [outChannels], or null. */
  bias: Parameter | null;
  /** The options in effect, as pairs. */
  readonly options: ConvTransposeSettings;

  /** Input channels, read from the weight. */
  get inChannels(): number {
    return tensorShape(this, "weight")[0];
  }

  /** Output channels, read from the weight. */
  get outChannels(): number {
    return tensorShape(this, "weight")[1] * this.options.groups;
  }

  /** [kh, kw], read from the weight. */
  get kernelSize(): [number, number] {
    return [tensorShape(this, "weight")[2], tensorShape(this, "weight")[3]];
  }

  /** [sh, sw]; assignable. */
  get stride(): [number, number] {
    return [...this.options.stride];
  }
  set stride(v: Pair) {
    this.#setGeometry({ stride: v });
  }

  /** [ph, pw]: rows and columns cut from each side of the full output; assignable. */
  get padding(): [number, number] {
    return [...this.options.padding];
  }
  set padding(v: Pair) {
    this.#setGeometry({ padding: v });
  }

  /** [oph, opw]: rows and columns added at the bottom and right; assignable. */
  get outputPadding(): [number, number] {
    return [...this.options.outputPadding];
  }
  set outputPadding(v: Pair) {
    this.#setGeometry({ outputPadding: v });
  }

  /** [dh, dw]; assignable. */
  get dilation(): [number, number] {
    return [...this.options.dilation];
  }
  set dilation(v: Pair) {
    this.#setGeometry({ dilation: v });
  }

  /** Channel groups. */
  get groups(): number {
    return this.options.groups;
  }

  /** A new stride, padding, outputPadding or dilation, checked as the constructor checks them. */
  #setGeometry(change: ConvTranspose2dOptions): void {
    Object.assign(
      this.options,
      transposeOptions({ ...this.options, ...change }, "nn.ConvTranspose2d"),
    );
  }

  /**
   * `new nn.ConvTranspose2d(inChannels, outChannels, kernelSize, { stride, padding,
   * outputPadding, groups, bias, dilation })`, torch's arguments in torch's order.
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: ConvTranspose2dLayerOptions = {},
  ) {
    super();
    const o = checkContract(NEW_CONV_TRANSPOSE2D, arguments.length, options);
    if (
      !Number.isInteger(inChannels) || inChannels < 1 || !Number.isInteger(outChannels) ||
      outChannels < 1
    ) {
      throw new Error(
        `ConvTranspose2d: channels must be positive integers, got ${inChannels} -> ${outChannels}`,
      );
    }
    const { bias, ...geometry } = o;
    this.options = transposeOptions(geometry, "ConvTranspose2d");
    const groups = this.options.groups;
    if (inChannels % groups || outChannels % groups) {
      throw new Error(
        `ConvTranspose2d: channels ${inChannels} -> ${outChannels} are not divisible by ` +
          `groups ${groups}`,
      );
    }
    const [kh, kw] = pair(kernelSize, "ConvTranspose2d: kernel size", 1);
    const w = Tensor.empty([inChannels, outChannels / groups, kh, kw], "float32", "cpu", false);
    this.weight = new Parameter(kaimingUniform_(w, { a: Math.sqrt(5) }));
    this.bias = null;
    if (bias ?? true) {
      const bound = 1 / Math.sqrt(fans(this.weight)[0]);
      this.bias = new Parameter(
        uniform_(Tensor.empty([outChannels], "float32", "cpu", false), -bound, bound),
      );
    }
  }

  /**
   * x [N, inChannels, H, W] -> [N, outChannels, H', W']. `outputSize`
   * ([H', W'], or the whole shape), as torch's `forward(input,
   * output_size)`, picks the output padding that gives that size (one of
   * the `stride` sizes a strided convolution maps back from), in place of
   * the layer's `outputPadding`.
   */
  forward(x: Tensor): Tensor;
  /** With `outputSize`: torch's `forward(input, output_size)`; `{ outputSize }` too. */
  forward(x: Tensor, outputSize: readonly number[] | { outputSize?: readonly number[] }): Tensor;
  forward(x: Tensor, size?: readonly number[] | { outputSize?: readonly number[] }): Tensor {
    // torch's keyword output_size=..., as an options object.
    const outputSize = size !== null && typeof size === "object" && !Array.isArray(size)
      ? checkOptions<{ outputSize?: readonly number[] }>(
        "nn.ConvTranspose2d.forward",
        size,
        ["outputSize"],
        "up(x, x0.shape) or up(x, { outputSize: x0.shape })",
      ).outputSize
      : size as readonly number[] | undefined;
    const outputPadding = outputSize === undefined
      ? this.options.outputPadding
      : this.#outputPaddingFor(x, outputSize);
    return convTranspose2d(x, this.weight, this.bias, { ...this.options, outputPadding });
  }

  /** torch's `_output_padding`: the output padding that makes the output `size`. */
  #outputPaddingFor(x: Tensor, size: readonly number[]): [number, number] {
    const lead = x.ndim === 3 ? 1 : 2;
    if (!Array.isArray(size) || (size.length !== 2 && size.length !== lead + 2)) {
      throw new Error(
        `ConvTranspose2d: for ${x.ndim}-D input, outputSize must have 2 or ${lead + 2} ` +
          `elements, got ${JSON.stringify(size) ?? String(size)}`,
      );
    }
    const want = size.slice(size.length - 2);
    const { stride, padding, dilation } = this.options;
    const k = this.kernelSize;
    const spatial = x.shape.slice(x.ndim - 2);
    const min = [0, 1].map((d) =>
      (spatial[d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (k[d] - 1) + 1
    );
    const max = min.map((m, d) => m + stride[d] - 1);
    if (want.some((s, d) => !Number.isInteger(s) || s < min[d] || s > max[d])) {
      throw new Error(
        `ConvTranspose2d: requested an output size of [${want}], but valid sizes range from ` +
          `[${min}] to [${max}] (for an input of [${spatial}])`,
      );
    }
    return [want[0] - min[0], want[1] - min[1]];
  }
}

// torch's attribute names (`m.up.kernel_size`), read in ports that copy a layer.
addNameHints(ConvTranspose2d.prototype, "nn.ConvTranspose2d", {
  in_channels: "write up.inChannels",
  out_channels: "write up.outChannels",
  kernel_size: "write up.kernelSize",
  output_padding: "write up.outputPadding",
  padding_mode: "padding is zeros here (torch's only mode for transposed convolutions)",
});
