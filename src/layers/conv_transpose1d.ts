/**
 * `ConvTranspose1d`, as `torch.nn.ConvTranspose1d`, on `F.convTranspose1d`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { type Single, single } from "../tensor/ops/conv1d.ts";
import {
  CONV_TRANSPOSE1D_OPTIONS,
  convTranspose1d,
  type ConvTranspose1dOptions,
  type ConvTranspose1dSettings,
  transpose1dOptions,
  transposedLength,
} from "../tensor/ops/conv_transpose1d.ts";
import { Module, Parameter } from "./module.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { fans, kaimingUniform_, uniform_ } from "./init.ts";
import { type CallContract, checkContract, checkOptions } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** Options of `ConvTranspose1d`: those of `convTranspose1d`, and `bias`. */
export interface ConvTranspose1dLayerOptions extends ConvTranspose1dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
}

const NEW_CONV_TRANSPOSE1D: CallContract<ConvTranspose1dLayerOptions> = {
  where: "nn.ConvTranspose1d",
  most: 4,
  known: [...CONV_TRANSPOSE1D_OPTIONS, "bias"],
  usage: "new nn.ConvTranspose1d(64, 32, 2, { stride: 2 })",
};

/**
 * Transposed 1-D convolution over [N, C, L] (or unbatched [C, L]): the
 * up-sampling step of a 1-D decoder. The weight is [inChannels,
 * outChannels / groups, k], as PyTorch's, initialised as PyTorch's:
 * kaiming-uniform with a = sqrt(5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * with fan_in = (outChannels / groups) * k (torch reads the fan from the
 * weight's second dimension).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const up = new nn.ConvTranspose1d(8, 4, 2, { stride: 2 });
 * console.log(up(randn([1, 8, 5])).shape); // [1, 4, 10]
 * console.log(up(randn([1, 8, 5]), [11]).shape); // [1, 4, 11]: torch's output_size
 * ```
 */
export class ConvTranspose1d extends Module {
  /** [inChannels, outChannels / groups, k]. */
  weight: Parameter;
  /** [outChannels], or null. */
  bias: Parameter | null;
  /** The options in effect. */
  readonly options: ConvTranspose1dSettings;

  /** Input channels, read from the weight. */
  get inChannels(): number {
    return tensorShape(this, "weight")[0];
  }

  /** Output channels, read from the weight. */
  get outChannels(): number {
    return tensorShape(this, "weight")[1] * this.options.groups;
  }

  /** [k], read from the weight. */
  get kernelSize(): [number] {
    return [tensorShape(this, "weight")[2]];
  }

  /** [s]; assignable. */
  get stride(): [number] {
    return [this.options.stride];
  }
  set stride(v: Single) {
    this.#setGeometry({ stride: v });
  }

  /** [p]: positions cut from each end of the full output; assignable. */
  get padding(): [number] {
    return [this.options.padding];
  }
  set padding(v: Single) {
    this.#setGeometry({ padding: v });
  }

  /** [op]: positions added at the end; assignable. */
  get outputPadding(): [number] {
    return [this.options.outputPadding];
  }
  set outputPadding(v: Single) {
    this.#setGeometry({ outputPadding: v });
  }

  /** [d]; assignable. */
  get dilation(): [number] {
    return [this.options.dilation];
  }
  set dilation(v: Single) {
    this.#setGeometry({ dilation: v });
  }

  /** Channel groups. */
  get groups(): number {
    return this.options.groups;
  }

  /** A new stride, padding, outputPadding or dilation, checked as the constructor checks them. */
  #setGeometry(change: ConvTranspose1dOptions): void {
    Object.assign(
      this.options,
      transpose1dOptions({ ...this.options, ...change }, "nn.ConvTranspose1d"),
    );
  }

  /**
   * `new nn.ConvTranspose1d(inChannels, outChannels, kernelSize, { stride, padding,
   * outputPadding, groups, bias, dilation })`, torch's arguments in torch's order.
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Single,
    options: ConvTranspose1dLayerOptions = {},
  ) {
    super();
    const o = checkContract(NEW_CONV_TRANSPOSE1D, arguments.length, options);
    const where = "nn.ConvTranspose1d";
    for (const [name, v] of [["inChannels", inChannels], ["outChannels", outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(`${where}: ${name} must be a positive integer, got ${showValue(v)}`);
      }
    }
    const { bias, ...geometry } = o;
    if (bias !== undefined && typeof bias !== "boolean") {
      throw new Error(`${where}: bias must be true or false, got ${showValue(bias)}`);
    }
    this.options = transpose1dOptions(geometry, where);
    const groups = this.options.groups;
    if (inChannels % groups || outChannels % groups) {
      throw new Error(
        `${where}: channels ${inChannels} -> ${outChannels} are not divisible by groups ${groups}`,
      );
    }
    const k = single(kernelSize, `${where}: kernel size`, 1);
    const w = Tensor.empty([inChannels, outChannels / groups, k], "float32", "cpu", false);
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
   * x [N, inChannels, L] or [inChannels, L] -> [N, outChannels, L'] or
   * [outChannels, L']. `outputSize` ([L'], or the whole shape), as torch's
   * `forward(input, output_size)`, picks the output padding that gives that
   * length (one of the `stride` lengths a strided convolution maps back
   * from), in place of the layer's `outputPadding`; `{ outputSize }` too.
   */
  forward(x: Tensor, size?: readonly number[] | { outputSize?: readonly number[] }): Tensor {
    // torch's keyword output_size=..., as an options object.
    const outputSize = size !== null && typeof size === "object" && !Array.isArray(size)
      ? checkOptions<{ outputSize?: readonly number[] }>(
        "nn.ConvTranspose1d.forward",
        size,
        ["outputSize"],
        "up(x, x0.shape) or up(x, { outputSize: x0.shape })",
      ).outputSize
      : size as readonly number[] | undefined;
    const outputPadding = outputSize === undefined
      ? this.options.outputPadding
      : this.#outputPaddingFor(x, outputSize);
    return convTranspose1d(x, this.weight, this.bias, { ...this.options, outputPadding });
  }

  /** torch's `_output_padding`: the output padding that makes the output `size`. */
  #outputPaddingFor(x: Tensor, size: readonly number[]): number {
    const where = "nn.ConvTranspose1d";
    if (!(x instanceof Tensor) || (x.ndim !== 2 && x.ndim !== 3)) {
      throw new Error(
        `${where}: expected a 2-D (unbatched [C, L]) or 3-D ([N, C, L]) input, got ${
          x instanceof Tensor ? `[${x.shape}]` : showValue(x)
        }`,
      );
    }
    if (!Array.isArray(size) || (size.length !== 1 && size.length !== x.ndim)) {
      throw new Error(
        `${where}: for ${x.ndim}-D input, outputSize must have 1 or ${x.ndim} elements ` +
          `([L'] or the whole shape), got ${showValue(size)}`,
      );
    }
    const want = size[size.length - 1];
    const l = x.shape[x.ndim - 1];
    const min = transposedLength(l, this.kernelSize[0], { ...this.options, outputPadding: 0 });
    const max = min + this.options.stride - 1;
    if (!Number.isInteger(want) || want < min || want > max) {
      throw new Error(
        `${where}: requested an output size of [${showValue(want)}], but valid sizes range ` +
          `from [${min}] to [${max}] (for an input of [${l}])`,
      );
    }
    return want - min;
  }
}

// torch's attribute names (`m.up.kernel_size`), read in ports that copy a layer.
addNameHints(ConvTranspose1d.prototype, "nn.ConvTranspose1d", {
  in_channels: "write up.inChannels",
  out_channels: "write up.outChannels",
  kernel_size: "write up.kernelSize",
  output_padding: "write up.outputPadding",
  padding_mode: "padding is zeros here (torch's only mode for transposed convolutions)",
});
