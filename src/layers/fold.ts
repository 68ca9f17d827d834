/**
 * `Unfold` and `Fold`, as torch's: sliding blocks to columns (im2col) and
 * back (col2im), on `F.unfold` and `F.fold`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { type Pair, pair } from "../tensor/ops/conv.ts";
import { fold, FOLD_OPTIONS, type FoldOptions, unfold } from "../tensor/ops/fold.ts";
import { Module } from "./module.ts";
import { checkCall } from "../options.ts";

/** Checks the options of a Fold or Unfold layer and returns a copy. */
function checked(where: string, given: number, most: number, o: unknown, usage: string) {
  const options = { ...checkCall<FoldOptions>(where, given, most, o, FOLD_OPTIONS, usage) };
  pair(options.dilation ?? 1, `${where}: dilation`, 1);
  pair(options.padding ?? 0, `${where}: padding`, 0);
  pair(options.stride ?? 1, `${where}: stride`, 1);
  return options;
}

/**
 * Sliding blocks of [N, C, H, W] (or [C, H, W]) as columns [N, C kh kw, L],
 * as `nn.Unfold`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.Unfold(3, { padding: 1 })(randn([2, 4, 5, 5])).shape); // [2, 36, 25]
 * ```
 */
export class Unfold extends Module {
  /** dilation, padding and stride. */
  readonly options: FoldOptions;
  constructor(readonly kernelSize: Pair, options: FoldOptions = {}) {
    super();
    const where = "nn.Unfold";
    this.options = checked(where, arguments.length, 2, options, "new nn.Unfold(3, { padding: 1 })");
    pair(kernelSize, `${where}: kernelSize`, 1);
  }
  /** x [N, C, H, W] -> [N, C kh kw, L]. */
  forward(x: Tensor): Tensor {
    return unfold(x, this.kernelSize, this.options);
  }
}

/**
 * Columns [N, C kh kw, L] (or [C kh kw, L]) summed into an image
 * [N, C, H, W] of `outputSize`, as `nn.Fold`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.Fold([4, 5], 2)(randn([1, 12, 12])).shape); // [1, 3, 4, 5]
 * ```
 */
export class Fold extends Module {
  /** dilation, padding and stride. */
  readonly options: FoldOptions;
  constructor(readonly outputSize: Pair, readonly kernelSize: Pair, options: FoldOptions = {}) {
    super();
    const where = "nn.Fold";
    this.options = checked(where, arguments.length, 3, options, "new nn.Fold([28, 28], 3)");
    pair(outputSize, `${where}: outputSize`, 1);
    pair(kernelSize, `${where}: kernelSize`, 1);
  }
  /** x [N, C kh kw, L] -> [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    return fold(x, this.outputSize, this.kernelSize, this.options);
  }
}
