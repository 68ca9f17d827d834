/**
 * torch's snake_case names of `F` (`torch.nn.functional`) that this library
 * spells in camelCase: `F.nll_loss(x, y)` was "F.nll_loss is not a
 * function". Each is a function that throws, naming ours (`F.nllLoss`), and
 * is marked deprecated, so an editor strikes it through with the same
 * advice. `F.pad`, `F.interpolate`, `F.relu`, `F.softmax` and the other
 * one-word names are the same in both.
 *
 * @example
 * ```ts
 * import { functional as F } from "@lits/vision";
 * try {
 *   F.nll_loss();
 * } catch (e) {
 *   console.log((e as Error).message.includes("F.nllLoss")); // true
 * }
 * ```
 *
 * @module
 */

/** torch's name -> ours. */
const F_NAMES: Readonly<Record<string, string>> = {
  adaptive_avg_pool1d: "adaptiveAvgPool1d",
  adaptive_avg_pool2d: "adaptiveAvgPool2d",
  adaptive_avg_pool3d: "adaptiveAvgPool3d",
  adaptive_max_pool1d: "adaptiveMaxPool1d",
  adaptive_max_pool2d: "adaptiveMaxPool2d",
  adaptive_max_pool3d: "adaptiveMaxPool3d",
  affine_grid: "affineGrid",
  alpha_dropout: "alphaDropout",
  avg_pool1d: "avgPool1d",
  avg_pool2d: "avgPool2d",
  avg_pool3d: "avgPool3d",
  batch_norm: "batchNorm",
  binary_cross_entropy: "binaryCrossEntropy",
  binary_cross_entropy_with_logits: "binaryCrossEntropyWithLogits",
  channel_shuffle: "channelShuffle",
  conv_transpose1d: "convTranspose1d",
  conv_transpose2d: "convTranspose2d",
  cosine_embedding_loss: "cosineEmbeddingLoss",
  cosine_similarity: "cosineSimilarity",
  cross_entropy: "crossEntropy",
  embedding_bag: "embeddingBag",
  focal_loss: "focalLoss",
  gaussian_nll_loss: "gaussianNllLoss",
  grid_sample: "gridSample",
  gumbel_softmax: "gumbelSoftmax",
  group_norm: "groupNorm",
  hinge_embedding_loss: "hingeEmbeddingLoss",
  huber_loss: "huberLoss",
  instance_norm: "instanceNorm",
  kl_div: "klDiv",
  l1_loss: "l1Loss",
  layer_norm: "layerNorm",
  leaky_relu: "leakyRelu",
  local_response_norm: "localResponseNorm",
  log_softmax: "logSoftmax",
  margin_ranking_loss: "marginRankingLoss",
  max_pool1d: "maxPool1d",
  max_pool2d: "maxPool2d",
  max_pool3d: "maxPool3d",
  max_unpool1d: "maxUnpool1d",
  max_unpool2d: "maxUnpool2d",
  max_unpool3d: "maxUnpool3d",
  mse_loss: "mseLoss",
  multilabel_soft_margin_loss: "multilabelSoftMarginLoss",
  nll_loss: "nllLoss",
  one_hot: "oneHot",
  pairwise_distance: "pairwiseDistance",
  pixel_shuffle: "pixelShuffle",
  pixel_unshuffle: "pixelUnshuffle",
  poisson_nll_loss: "poissonNllLoss",
  scaled_dot_product_attention: "scaledDotProductAttention",
  sigmoid_focal_loss: "sigmoidFocalLoss",
  smooth_l1_loss: "smoothL1Loss",
  soft_margin_loss: "softMarginLoss",
  stochastic_depth: "stochasticDepth",
  triplet_margin_loss: "tripletMarginLoss",
};

function hint(name: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(
      `F.${name} is torch's name: write F.${F_NAMES[name]}(...) (torch's keyword arguments go ` +
        "in one options object, in camelCase)",
    );
  };
}

/** @deprecated torch's name: write `F.adaptiveAvgPool1d`. */
export const adaptive_avg_pool1d: (...args: unknown[]) => never = hint("adaptive_avg_pool1d");
/** @deprecated torch's name: write `F.adaptiveAvgPool2d`. */
export const adaptive_avg_pool2d: (...args: unknown[]) => never = hint("adaptive_avg_pool2d");
/** @deprecated torch's name: write `F.adaptiveAvgPool3d`. */
export const adaptive_avg_pool3d: (...args: unknown[]) => never = hint("adaptive_avg_pool3d");
/** @deprecated torch's name: write `F.adaptiveMaxPool1d`. */
export const adaptive_max_pool1d: (...args: unknown[]) => never = hint("adaptive_max_pool1d");
/** @deprecated torch's name: write `F.adaptiveMaxPool2d`. */
export const adaptive_max_pool2d: (...args: unknown[]) => never = hint("adaptive_max_pool2d");
/** @deprecated torch's name: write `F.adaptiveMaxPool3d`. */
export const adaptive_max_pool3d: (...args: unknown[]) => never = hint("adaptive_max_pool3d");
/** @deprecated torch's name: write `F.affineGrid`. */
export const affine_grid: (...args: unknown[]) => never = hint("affine_grid");
/** @deprecated torch's name: write `F.alphaDropout`. */
export const alpha_dropout: (...args: unknown[]) => never = hint("alpha_dropout");
/** @deprecated torch's name: write `F.avgPool1d`. */
export const avg_pool1d: (...args: unknown[]) => never = hint("avg_pool1d");
/** @deprecated torch's name: write `F.avgPool2d`. */
export const avg_pool2d: (...args: unknown[]) => never = hint("avg_pool2d");
/** @deprecated torch's name: write `F.avgPool3d`. */
export const avg_pool3d: (...args: unknown[]) => never = hint("avg_pool3d");
/** @deprecated torch's name: write `F.batchNorm`. */
export const batch_norm: (...args: unknown[]) => never = hint("batch_norm");
/** @deprecated torch's name: write `F.binaryCrossEntropy`. */
export const binary_cross_entropy: (...args: unknown[]) => never = hint("binary_cross_entropy");
/** @deprecated torch's name: write `F.binaryCrossEntropyWithLogits`. */
export const binary_cross_entropy_with_logits: (...args: unknown[]) => never = hint(
  "binary_cross_entropy_with_logits",
);
/** @deprecated torch's name: write `F.channelShuffle`. */
export const channel_shuffle: (...args: unknown[]) => never = hint("channel_shuffle");
/** @deprecated torch's name: write `F.convTranspose1d`. */
export const conv_transpose1d: (...args: unknown[]) => never = hint("conv_transpose1d");
/** @deprecated torch's name: write `F.convTranspose2d`. */
export const conv_transpose2d: (...args: unknown[]) => never = hint("conv_transpose2d");
/** @deprecated torch's name: write `F.cosineEmbeddingLoss`. */
export const cosine_embedding_loss: (...args: unknown[]) => never = hint("cosine_embedding_loss");
/** @deprecated torch's name: write `F.cosineSimilarity`. */
export const cosine_similarity: (...args: unknown[]) => never = hint("cosine_similarity");
/** @deprecated torch's name: write `F.crossEntropy`. */
export const cross_entropy: (...args: unknown[]) => never = hint("cross_entropy");
/** @deprecated torch's name: write `F.embeddingBag`. */
export const embedding_bag: (...args: unknown[]) => never = hint("embedding_bag");
/** @deprecated torch's name: write `F.focalLoss`. */
export const focal_loss: (...args: unknown[]) => never = hint("focal_loss");
/** @deprecated torch's name: write `F.gaussianNllLoss`. */
export const gaussian_nll_loss: (...args: unknown[]) => never = hint("gaussian_nll_loss");
/** @deprecated torch's name: write `F.gridSample`. */
export const grid_sample: (...args: unknown[]) => never = hint("grid_sample");
/** @deprecated torch's name: write `F.gumbelSoftmax`. */
export const gumbel_softmax: (...args: unknown[]) => never = hint("gumbel_softmax");
/** @deprecated torch's name: write `F.groupNorm`. */
export const group_norm: (...args: unknown[]) => never = hint("group_norm");
/** @deprecated torch's name: write `F.hingeEmbeddingLoss`. */
export const hinge_embedding_loss: (...args: unknown[]) => never = hint("hinge_embedding_loss");
/** @deprecated torch's name: write `F.huberLoss`. */
export const huber_loss: (...args: unknown[]) => never = hint("huber_loss");
/** @deprecated torch's name: write `F.instanceNorm`. */
export const instance_norm: (...args: unknown[]) => never = hint("instance_norm");
/** @deprecated torch's name: write `F.klDiv`. */
export const kl_div: (...args: unknown[]) => never = hint("kl_div");
/** @deprecated torch's name: write `F.l1Loss`. */
export const l1_loss: (...args: unknown[]) => never = hint("l1_loss");
/** @deprecated torch's name: write `F.layerNorm`. */
export const layer_norm: (...args: unknown[]) => never = hint("layer_norm");
/** @deprecated torch's name: write `F.leakyRelu`. */
export const leaky_relu: (...args: unknown[]) => never = hint("leaky_relu");
/** @deprecated torch's name: write `F.localResponseNorm`. */
export const local_response_norm: (...args: unknown[]) => never = hint("local_response_norm");
/** @deprecated torch's name: write `F.logSoftmax`. */
export const log_softmax: (...args: unknown[]) => never = hint("log_softmax");
/** @deprecated torch's name: write `F.marginRankingLoss`. */
export const margin_ranking_loss: (...args: unknown[]) => never = hint("margin_ranking_loss");
/** @deprecated torch's name: write `F.maxPool1d`. */
export const max_pool1d: (...args: unknown[]) => never = hint("max_pool1d");
/** @deprecated torch's name: write `F.maxPool2d`. */
export const max_pool2d: (...args: unknown[]) => never = hint("max_pool2d");
/** @deprecated torch's name: write `F.maxPool3d`. */
export const max_pool3d: (...args: unknown[]) => never = hint("max_pool3d");
/** @deprecated torch's name: write `F.maxUnpool1d`. */
export const max_unpool1d: (...args: unknown[]) => never = hint("max_unpool1d");
/** @deprecated torch's name: write `F.maxUnpool2d`. */
export const max_unpool2d: (...args: unknown[]) => never = hint("max_unpool2d");
/** @deprecated torch's name: write `F.maxUnpool3d`. */
export const max_unpool3d: (...args: unknown[]) => never = hint("max_unpool3d");
/** @deprecated torch's name: write `F.mseLoss`. */
export const mse_loss: (...args: unknown[]) => never = hint("mse_loss");
/** @deprecated torch's name: write `F.multilabelSoftMarginLoss`. */
export const multilabel_soft_margin_loss: (...args: unknown[]) => never = hint(
  "multilabel_soft_margin_loss",
);
/** @deprecated torch's name: write `F.nllLoss`. */
export const nll_loss: (...args: unknown[]) => never = hint("nll_loss");
/** @deprecated torch's name: write `F.oneHot`. */
export const one_hot: (...args: unknown[]) => never = hint("one_hot");
/** @deprecated torch's name: write `F.pairwiseDistance`. */
export const pairwise_distance: (...args: unknown[]) => never = hint("pairwise_distance");
/** @deprecated torch's name: write `F.pixelShuffle`. */
export const pixel_shuffle: (...args: unknown[]) => never = hint("pixel_shuffle");
/** @deprecated torch's name: write `F.pixelUnshuffle`. */
export const pixel_unshuffle: (...args: unknown[]) => never = hint("pixel_unshuffle");
/** @deprecated torch's name: write `F.poissonNllLoss`. */
export const poisson_nll_loss: (...args: unknown[]) => never = hint("poisson_nll_loss");
/** @deprecated torch's name: write `F.scaledDotProductAttention`. */
export const scaled_dot_product_attention: (...args: unknown[]) => never = hint(
  "scaled_dot_product_attention",
);
/** @deprecated torch's name: write `F.sigmoidFocalLoss`. */
export const sigmoid_focal_loss: (...args: unknown[]) => never = hint("sigmoid_focal_loss");
/** @deprecated torch's name: write `F.smoothL1Loss`. */
export const smooth_l1_loss: (...args: unknown[]) => never = hint("smooth_l1_loss");
/** @deprecated torch's name: write `F.softMarginLoss`. */
export const soft_margin_loss: (...args: unknown[]) => never = hint("soft_margin_loss");
/** @deprecated torch's name: write `F.stochasticDepth`. */
export const stochastic_depth: (...args: unknown[]) => never = hint("stochastic_depth");
/** @deprecated torch's name: write `F.tripletMarginLoss`. */
export const triplet_margin_loss: (...args: unknown[]) => never = hint("triplet_margin_loss");
