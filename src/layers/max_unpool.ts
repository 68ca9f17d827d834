/**
 * Max unpooling layers: `MaxUnpool1d`, `MaxUnpool2d`, `MaxUnpool3d`, as
 * torch.nn's, on the functional unpools of `ops/max_unpool.ts`. Called as
 * torch's, `unpool(x, indices, outputSize?)`, with the values and indices
 * of a max pool made with `returnIndices: true`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Single } from "../tensor/ops/conv1d.ts";
import type { Pair } from "../tensor/ops/conv.ts";
import type { Triple } from "../tensor/ops/conv3d.ts";
import { maxUnpool, type MaxUnpoolOptions, SIZES } from "../tensor/ops/max_unpool.ts";
import { Module } from "./module.ts";
import { checkArity, checkCall, checkOptions } from "../options.ts";

/** Options of the unpool layers (S: one size per dimension). */
export interface MaxUnpoolLayerOptions<S> {
  /** The pool's stride (default null: the kernel size). */
  stride?: S | null;
  /** The pool's padding (default 0). */
  padding?: S;
}

/** The output size of an unpool: a shape, or torch's keyword as `{ outputSize }`. */
export type MaxUnpoolOutputSize =
  | readonly number[]
  | { outputSize?: readonly number[] | null }
  | null
  | undefined;

/** What the three unpool layers share: the checked kernel, stride and padding. */
abstract class MaxUnpoolBase<S> extends Module {
  /** The options in effect. */
  readonly options: MaxUnpoolLayerOptions<S>;
  readonly #where: string;
  readonly #nd: 1 | 2 | 3;
  /** `where` is the layer's name, `given` its constructor's `arguments.length`. */
  protected constructor(
    where: string,
    nd: 1 | 2 | 3,
    readonly kernelSize: S,
    options: MaxUnpoolLayerOptions<S>,
    given: number,
  ) {
    super();
    const usage = `new ${where}(2, { stride: 2, padding: 0 })`;
    const o = checkCall<MaxUnpoolLayerOptions<S>>(
      where,
      given,
      2,
      options,
      ["stride", "padding"],
      usage,
    );
    const sizes = SIZES[nd];
    sizes(kernelSize, `${where}: kernel size`, 1);
    if (o.stride != null) sizes(o.stride, `${where}: stride`, 1);
    if (o.padding !== undefined) sizes(o.padding, `${where}: padding`, 0);
    this.options = { ...o };
    this.#where = where;
    this.#nd = nd;
  }

  /** The unpool of x at `indices` (an internal helper of the forwards). */
  protected unpool(
    given: number,
    x: Tensor,
    indices: Tensor,
    outputSize: MaxUnpoolOutputSize,
  ): Tensor {
    const where = this.#where, nd = this.#nd;
    checkArity(where, given, 3, `unpool(x, indices, input.shape), unpool a ${where}`);
    if (outputSize !== null && typeof outputSize === "object" && !Array.isArray(outputSize)) {
      // torch's keyword output_size=..., as an options object.
      outputSize = checkOptions<{ outputSize?: readonly number[] | null }>(
        `${where}.forward`,
        outputSize,
        ["outputSize"],
        "unpool(x, indices, input.shape) or unpool(x, indices, { outputSize: input.shape })",
      ).outputSize;
    }
    const options: MaxUnpoolOptions<unknown> = { ...this.options, outputSize };
    return maxUnpool(`maxUnpool${nd}d`, nd, 4, x, indices, this.kernelSize, options);
  }
}

/**
 * The partial inverse of `nn.MaxPool1d` with `returnIndices`, as
 * `nn.MaxUnpool1d`: `unpool(x, indices, outputSize?)` puts each value back
 * at its index along a length of zeros (`(L - 1) * stride - 2 * padding +
 * kernel`, or `outputSize`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const pool = new nn.MaxPool1d(2, { returnIndices: true }), unpool = new nn.MaxUnpool1d(2);
 * const [values, indices] = pool(tensor([[[1, 3, 2, 5]]]));
 * console.log(unpool(values, indices).toArray()); // Float32Array [0, 3, 0, 5]
 * ```
 */
export class MaxUnpool1d extends MaxUnpoolBase<Single> {
  constructor(kernelSize: Single, options: MaxUnpoolLayerOptions<Single> = {}) {
    super("nn.MaxUnpool1d", 1, kernelSize, options, arguments.length);
  }
  /** x [N, C, L] and its int32 indices -> [N, C, L'] (L' from outputSize where given). */
  forward(x: Tensor, indices: Tensor, outputSize?: MaxUnpoolOutputSize): Tensor {
    return this.unpool(arguments.length, x, indices, outputSize);
  }
}

/**
 * The partial inverse of `nn.MaxPool2d` with `returnIndices`, as
 * `nn.MaxUnpool2d`: `unpool(x, indices, outputSize?)` puts each value back
 * at its index (flat within its plane) in planes of zeros (`(in - 1) *
 * stride - 2 * padding + kernel` per dimension, or `outputSize`: pass the
 * pooled input's shape after an odd size). SegNet's decoders unpool so.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const pool = new nn.MaxPool2d(2, { returnIndices: true }), unpool = new nn.MaxUnpool2d(2);
 * const [values, indices] = pool(randn([1, 3, 4, 4]));
 * console.log(unpool(values, indices).shape); // [1, 3, 4, 4]
 * // After an odd size, the default (4 x 4 here) may not hold the indices: pass the size.
 * const x = randn([1, 3, 5, 5]);
 * const [v5, i5] = pool(x);
 * console.log(unpool(v5, i5, x.shape).shape); // [1, 3, 5, 5]
 * ```
 */
export class MaxUnpool2d extends MaxUnpoolBase<Pair> {
  constructor(kernelSize: Pair, options: MaxUnpoolLayerOptions<Pair> = {}) {
    super("nn.MaxUnpool2d", 2, kernelSize, options, arguments.length);
  }
  /** x [N, C, H, W] and its int32 indices -> [N, C, H', W']. */
  forward(x: Tensor, indices: Tensor, outputSize?: MaxUnpoolOutputSize): Tensor {
    return this.unpool(arguments.length, x, indices, outputSize);
  }
}

/**
 * The partial inverse of `nn.MaxPool3d` with `returnIndices`, as
 * `nn.MaxUnpool3d`: `unpool(x, indices, outputSize?)` puts each value back
 * at its index (flat within its volume) in volumes of zeros.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const pool = new nn.MaxPool3d(2, { returnIndices: true }), unpool = new nn.MaxUnpool3d(2);
 * const [values, indices] = pool(randn([1, 2, 4, 4, 4]));
 * console.log(unpool(values, indices).shape); // [1, 2, 4, 4, 4]
 * ```
 */
export class MaxUnpool3d extends MaxUnpoolBase<Triple> {
  constructor(kernelSize: Triple, options: MaxUnpoolLayerOptions<Triple> = {}) {
    super("nn.MaxUnpool3d", 3, kernelSize, options, arguments.length);
  }
  /** x [N, C, D, H, W] and its int32 indices -> [N, C, D', H', W']. */
  forward(x: Tensor, indices: Tensor, outputSize?: MaxUnpoolOutputSize): Tensor {
    return this.unpool(arguments.length, x, indices, outputSize);
  }
}
