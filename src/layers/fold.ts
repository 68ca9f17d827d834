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
import { checkCall, checkOptions } from "../options.ts";

/** `nn.Unfold`'s arguments in one object, as torch's keywords (`kernel_size=(2, 3)`). */
export interface UnfoldLayerOptions extends FoldOptions {
  /** The block size. */
  kernelSize: Pair;
}

/** `nn.Fold`'s arguments in one object, as torch's keywords (`output_size=(4, 5), kernel_size=2`). */
export interface FoldLayerOptions extends UnfoldLayerOptions {
  /** The image size [H, W] the blocks sum into. */
  outputSize: Pair;
}

const isOptions = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Torch's all-keyword form (`nn.Fold(output_size=..., kernel_size=...)`):
 * one object with the sizes named in `sizes`, split into the sizes and the
 * options; null for the positional form.
 */
function keywordForm(
  where: string,
  given: number,
  first: unknown,
  sizes: readonly string[],
  usage: string,
): { sizes: Pair[]; options: FoldOptions } | null {
  if (given !== 1 || !isOptions(first)) return null;
  checkOptions(where, first, [...sizes, ...FOLD_OPTIONS], usage); // kernel_size: "write 'kernelSize'"
  const { outputSize, kernelSize, ...rest } = first;
  const known = { outputSize, kernelSize } as Record<string, unknown>;
  for (const name of sizes) {
    if (known[name] === undefined) {
      throw new Error(`${where}: ${name} is required; write ${usage}`);
    }
  }
  return { sizes: sizes.map((n) => known[n] as Pair), options: rest };
}

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
 * // torch's keywords, nn.Unfold(kernel_size=(2, 3)):
 * console.log(new nn.Unfold({ kernelSize: [2, 3] })(randn([2, 5, 3, 4])).shape); // [2, 30, 4]
 * ```
 */
export class Unfold extends Module {
  /** The block size. */
  readonly kernelSize: Pair;
  /** dilation, padding and stride. */
  readonly options: FoldOptions;
  constructor(kernelSize: Pair | UnfoldLayerOptions, options: FoldOptions = {}) {
    super();
    const where = "nn.Unfold", usage = "new nn.Unfold(3, { padding: 1 })";
    const keywords = keywordForm(where, arguments.length, kernelSize, ["kernelSize"], usage);
    this.kernelSize = keywords ? keywords.sizes[0] : kernelSize as Pair;
    const given = keywords ? 2 : arguments.length;
    this.options = checked(where, given, 2, keywords?.options ?? options, usage);
    pair(this.kernelSize, `${where}: kernelSize`, 1);
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
 * // torch's keywords, nn.Fold(output_size=(4, 5), kernel_size=(2, 2)):
 * console.log(new nn.Fold({ outputSize: [4, 5], kernelSize: [2, 2] })(randn([1, 12, 12])).shape); // [1, 3, 4, 5]
 * ```
 */
export class Fold extends Module {
  /** The image size [H, W]. */
  readonly outputSize: Pair;
  /** The block size. */
  readonly kernelSize: Pair;
  /** dilation, padding and stride. */
  readonly options: FoldOptions;
  constructor(outputSize: Pair | FoldLayerOptions, kernelSize?: Pair, options: FoldOptions = {}) {
    super();
    const where = "nn.Fold", usage = "new nn.Fold([28, 28], 3)";
    const names = ["outputSize", "kernelSize"];
    const keywords = keywordForm(where, arguments.length, outputSize, names, usage);
    [this.outputSize, this.kernelSize] = keywords
      ? keywords.sizes
      : [outputSize as Pair, kernelSize as Pair];
    const given = keywords ? 3 : arguments.length;
    this.options = checked(where, given, 3, keywords?.options ?? options, usage);
    pair(this.outputSize, `${where}: outputSize`, 1);
    pair(this.kernelSize, `${where}: kernelSize`, 1);
  }
  /** x [N, C kh kw, L] -> [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    return fold(x, this.outputSize, this.kernelSize, this.options);
  }
}
