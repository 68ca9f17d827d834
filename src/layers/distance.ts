/**
 * The distance modules `CosineSimilarity` and `PairwiseDistance`, as
 * `torch.nn`'s (F.cosineSimilarity and F.pairwiseDistance hold the maths),
 * with torch's positional arguments or an options object.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { cosineSimilarity } from "../tensor/ops/vector_norm.ts";
import { checkDistanceArgs, pairwiseDistance } from "../tensor/ops/distance.ts";
import { checkArity, checkOptions } from "../options.ts";
import { Module } from "./module.ts";
import { showValue } from "../tensor/ops/show_value.ts";

/** Options of `CosineSimilarity`. */
export interface CosineSimilarityOptions {
  /** The dimension of the vectors (default 1). */
  dim?: number;
  /** The smallest norm divided by (default 1e-8). */
  eps?: number;
}

/**
 * The cosine of the angle between x1 and x2 along `dim` (default 1; eps
 * 1e-8), as `torch.nn.CosineSimilarity`; the inputs broadcast.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const cos = new nn.CosineSimilarity(1);
 * console.log(cos.forward(tensor([[1, 0]]), tensor([[2, 0]])).toArray()); // Float32Array [1]
 * ```
 */
export class CosineSimilarity extends Module {
  /** The dimension of the vectors. */
  readonly dim: number;
  /** The smallest norm divided by. */
  readonly eps: number;

  constructor(dim: number | CosineSimilarityOptions = 1, eps = 1e-8) {
    super();
    const usage =
      "new nn.CosineSimilarity(1, 1e-8) or new nn.CosineSimilarity({ dim: 1, eps: 1e-8 })";
    checkArity("nn.CosineSimilarity", arguments.length, 2, usage);
    let d: unknown = dim, e: unknown = eps;
    if (typeof dim === "object" && dim !== null) {
      if (arguments.length > 1) {
        throw new Error(`nn.CosineSimilarity: give the options object alone; write ${usage}`);
      }
      const o = checkOptions<CosineSimilarityOptions>("nn.CosineSimilarity", dim, [
        "dim",
        "eps",
      ], usage);
      d = o.dim ?? 1;
      e = o.eps ?? 1e-8;
    }
    if (!Number.isInteger(d)) {
      throw new Error(
        `nn.CosineSimilarity: dim must be an integer, got ${showValue(d)}; write ${usage}`,
      );
    }
    if (typeof e !== "number" || !(e >= 0) || e === Infinity) {
      throw new Error(
        `nn.CosineSimilarity: eps must be a finite number >= 0, got ${
          showValue(e)
        }; write ${usage}`,
      );
    }
    this.dim = d as number;
    this.eps = e;
  }

  /** The cosine similarity of x1 and x2 along `dim`. */
  forward(x1: Tensor, x2: Tensor): Tensor {
    return cosineSimilarity(x1, x2, this.dim, this.eps);
  }
}

/** Options of `PairwiseDistance`. */
export interface PairwiseDistanceOptions {
  /** The norm's order (default 2; Infinity for the largest difference). */
  p?: number;
  /** Added to the difference before the norm (default 1e-6). */
  eps?: number;
  /** Keep the last dimension, with size 1 (default false; torch's keepdim). */
  keepDim?: boolean;
}

/**
 * ||x1 - x2 + eps||_p along the last dimension, as
 * `torch.nn.PairwiseDistance(p, eps, keepdim)` (defaults 2, 1e-6, false):
 * the distance of each pair of rows, for siamese and triplet networks.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const dist = new nn.PairwiseDistance({ p: 1, eps: 0 });
 * console.log(dist.forward(tensor([[1, 2]]), tensor([[0, 0]])).toArray()); // Float32Array [3]
 * ```
 */
export class PairwiseDistance extends Module {
  /** The norm's order. */
  readonly p: number;
  /** Added to the difference. */
  readonly eps: number;
  /** Whether the last dimension is kept (torch's keepdim). */
  readonly keepDim: boolean;

  constructor(p: number | PairwiseDistanceOptions = 2, eps = 1e-6, keepDim = false) {
    super();
    const usage = "new nn.PairwiseDistance(2, 1e-6, false) or " +
      "new nn.PairwiseDistance({ p: 2, eps: 1e-6, keepDim: false })";
    checkArity("nn.PairwiseDistance", arguments.length, 3, usage);
    let o: PairwiseDistanceOptions = { p: p as number, eps, keepDim };
    if (typeof p === "object" && p !== null) {
      if (arguments.length > 1) {
        throw new Error(`nn.PairwiseDistance: give the options object alone; write ${usage}`);
      }
      o = checkOptions<PairwiseDistanceOptions>("nn.PairwiseDistance", p, [
        "p",
        "eps",
        "keepDim",
      ], usage);
    }
    this.p = o.p ?? 2;
    this.eps = o.eps ?? 1e-6;
    this.keepDim = o.keepDim ?? false;
    checkDistanceArgs("nn.PairwiseDistance", this.p, this.eps, this.keepDim, usage);
  }

  /** The distance of x1 and x2 along their last dimension. */
  forward(x1: Tensor, x2: Tensor): Tensor {
    return pairwiseDistance(x1, x2, this.p, this.eps, this.keepDim);
  }
}
