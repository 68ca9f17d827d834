/**
 * The Swin Transformer's building blocks as torchvision 0.14 has them:
 * `SwinTransformerBlock` (pre-norm window attention and MLP, each branch
 * through stochastic depth, each with a residual) and `PatchMerging` (each
 * 2 x 2 neighbourhood's channels concatenated, LayerNorm, Linear to twice
 * the channels). Both work on channels-last maps [B, H, W, C]. Names are
 * torchvision's: `norm1.weight`, `attn.qkv.weight`, `mlp.0.weight`,
 * `mlp.3.bias`, `reduction.weight`, `norm.bias`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { pad } from "../tensor/ops/pad.ts";
import { Module } from "../layers/module.ts";
import { Linear } from "../layers/linear.ts";
import { LayerNorm } from "../layers/norm_layers.ts";
import { StochasticDepth } from "../layers/stochastic_depth.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkCount, checkProbability } from "./mobile_blocks.ts";
import { MLPBlock } from "./vit_blocks.ts";
import { ShiftedWindowAttention, type Size2 } from "./swin_attention.ts";

/** torchvision's Swin norm layer: `partial(nn.LayerNorm, eps=1e-5)`. */
const layerNorm = (dim: number) => new LayerNorm(dim, { eps: 1e-5 });

/** Throws unless `x` is a channels-last map [B, H, W, dim]. */
function checkMap(where: string, x: Tensor, dim: number): void {
  if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[3] !== dim) {
    const got = x instanceof Tensor ? `[${x.shape}]` : String(x);
    throw new Error(
      `${where}: expected a channels-last map [B, H, W, ${dim}], got ${got}; an [N, C, H, W] ` +
        "map becomes one with x.permute(0, 2, 3, 1)",
    );
  }
}

/** Options of `SwinTransformerBlock` (torchvision's keywords, camelCase). */
export interface SwinTransformerBlockOptions {
  /** Width of the MLP's hidden layer over dim (default 4). */
  mlpRatio?: number;
  /** Dropout after the attention's projection and in the MLP, in training (default 0). */
  dropout?: number;
  /** Dropout on the attention weights, in training (default 0). */
  attentionDropout?: number;
  /** Probability of dropping each residual branch per sample, in training (default 0). */
  stochasticDepthProb?: number;
}

const BLOCK_USAGE =
  "new models.SwinTransformerBlock(96, 3, [7, 7], [3, 3], { stochasticDepthProb: 0.1 })";

/**
 * torchvision's `SwinTransformerBlock` (V1): x + stochasticDepth(attn(norm1(x))),
 * then x + stochasticDepth(mlp(norm2(x))), on channels-last [B, H, W, dim].
 * `attn` is a `ShiftedWindowAttention`; `mlp` is torchvision's `MLP`
 * (Linear to int(dim * mlpRatio), GELU, Dropout, Linear back, Dropout, named
 * "0" to "4"; weights xavier-uniform and biases N(0, 1e-6^2), as the block
 * initialises them); LayerNorms have eps 1e-5. The one `stochastic_depth`
 * module serves both branches, drawing for each, as torchvision's.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const block = new models.SwinTransformerBlock(8, 2, [4, 4], [2, 2]);
 * console.log(block.forward(randn([2, 6, 6, 8])).shape); // [2, 6, 6, 8]
 * ```
 */
export class SwinTransformerBlock extends Module {
  /** LayerNorm before the attention. */
  norm1: LayerNorm;
  /** Window attention (shifted when shiftSize is not 0). */
  attn: ShiftedWindowAttention;
  /** Drops a branch per sample, in training. */
  stochastic_depth: StochasticDepth;
  /** LayerNorm before the MLP. */
  norm2: LayerNorm;
  /** Linear, GELU, Dropout, Linear, Dropout. */
  mlp: MLPBlock;

  /** Builds a block of `dim` channels; `shiftSize` [0, 0] for W-MSA, half the window for SW-MSA. */
  constructor(
    readonly dim: number,
    numHeads: number,
    windowSize: Size2,
    shiftSize: Size2,
    options: SwinTransformerBlockOptions = {},
  ) {
    super();
    const where = "models.SwinTransformerBlock";
    checkArity(where, arguments.length, 5, BLOCK_USAGE);
    const o = modelOptions(where, options, {
      mlpRatio: 4,
      dropout: 0,
      attentionDropout: 0,
      stochasticDepthProb: 0,
    }, BLOCK_USAGE);
    checkCount(where, "dim", dim, BLOCK_USAGE);
    checkMlpRatio(where, o.mlpRatio, dim, BLOCK_USAGE);
    checkProbability(where, "stochasticDepthProb", o.stochasticDepthProb, BLOCK_USAGE);
    this.norm1 = layerNorm(dim);
    this.attn = new ShiftedWindowAttention(dim, windowSize, shiftSize, numHeads, {
      attentionDropout: o.attentionDropout,
      dropout: o.dropout,
    });
    this.stochastic_depth = new StochasticDepth(o.stochasticDepthProb, "row");
    this.norm2 = layerNorm(dim);
    // Python's int(dim * mlp_ratio) truncates.
    this.mlp = new MLPBlock(dim, Math.trunc(dim * o.mlpRatio), o.dropout);
  }

  /** Channels-last x [B, H, W, dim] -> [B, H, W, dim]. */
  forward(x: Tensor): Tensor {
    checkMap(`SwinTransformerBlock(${this.dim})`, x, this.dim);
    x = x.add(this.stochastic_depth.forward(this.attn.forward(this.norm1.forward(x))));
    return x.add(this.stochastic_depth.forward(this.mlp.forward(this.norm2.forward(x))));
  }
}

/** @internal throws unless `v` is a positive number that leaves the MLP at least 1 wide. */
export function checkMlpRatio(where: string, v: unknown, dim: number, usage: string): void {
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v) || Math.trunc(dim * v) < 1) {
    throw new Error(
      `${where}: mlpRatio must be a positive number with int(dim * mlpRatio) >= 1, got ${v}; ` +
        `write ${usage}`,
    );
  }
}

/**
 * torchvision's `PatchMerging` (V1): the map padded to even sides, each
 * 2 x 2 neighbourhood's channels concatenated in torchvision's order
 * (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]), `norm`
 * LayerNorm(4 dim), then `reduction` Linear(4 dim, 2 dim) without bias:
 * [B, H, W, dim] -> [B, ceil(H / 2), ceil(W / 2), 2 dim].
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const merge = new models.PatchMerging(8);
 * console.log(merge.forward(randn([2, 5, 6, 8])).shape); // [2, 3, 3, 16]
 * console.log([...merge.stateDict().keys()]); // ["reduction.weight", "norm.weight", "norm.bias"]
 * ```
 */
export class PatchMerging extends Module {
  /** Linear(4 dim, 2 dim), no bias. */
  reduction: Linear;
  /** LayerNorm(4 dim), before the reduction. */
  norm: LayerNorm;

  /** Builds the merging of `dim`-channel maps into 2 `dim` channels. */
  constructor(readonly dim: number) {
    super();
    const usage = "new models.PatchMerging(96)";
    checkArity("models.PatchMerging", arguments.length, 1, usage);
    checkCount("models.PatchMerging", "dim", dim, usage);
    this.reduction = new Linear(4 * dim, 2 * dim, { bias: false });
    this.norm = layerNorm(4 * dim);
  }

  /** Channels-last x [B, H, W, dim] -> [B, ceil(H / 2), ceil(W / 2), 2 dim]. */
  forward(x: Tensor): Tensor {
    checkMap(`PatchMerging(${this.dim})`, x, this.dim);
    const [b, h, w, c] = x.shape;
    if (h % 2 !== 0 || w % 2 !== 0) x = pad(x, [0, 0, 0, w % 2, 0, h % 2]);
    const h2 = Math.ceil(h / 2), w2 = Math.ceil(w / 2);
    // [B, H/2, dy, W/2, dx, C] -> [B, H/2, W/2, dx, dy, C]: the 4C channels in
    // torchvision's order, (dy, dx) = (0, 0), (1, 0), (0, 1), (1, 1).
    x = x.reshape(b, h2, 2, w2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, h2, w2, 4 * c);
    return this.reduction.forward(this.norm.forward(x));
  }
}
