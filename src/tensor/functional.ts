/**
 * The functional ops, as `torch.nn.functional` users expect them.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const p = F.softmax(tensor([[1, 2, 3]]), 1);
 * console.log(p.sum().item().toFixed(3)); // "1.000"
 * ```
 *
 * @module
 */
export { conv2d, type Conv2dOptions, type Pair } from "./ops/conv.ts";
export {
  convTranspose2d,
  type ConvTranspose2dOptions,
  type ConvTransposeSettings,
} from "./ops/conv_transpose.ts";
export {
  adaptiveAvgPool2d,
  type AdaptiveSize,
  avgPool2d,
  maxPool2d,
  type Pool2dOptions,
} from "./ops/pool.ts";
export { adaptiveMaxPool2d, type AdaptiveMaxPoolOptions } from "./ops/adaptive_max_pool.ts";
export { elu, softplus } from "./ops/activation_smooth.ts";
export { mish, prelu, softmin } from "./ops/activation_more.ts";
export { localResponseNorm } from "./ops/lrn.ts";
export { pairwiseDistance } from "./ops/distance.ts";
export { cosineSimilarity, norm, normalize, type NormOrder } from "./ops/vector_norm.ts";
export { pad, type PadMode } from "./ops/pad.ts";
export { batchNorm, type BatchNormOptions } from "./ops/norm.ts";
export { crossEntropy, type CrossEntropyOptions, type Reduction } from "./ops/loss.ts";
export { bmm, linear, matmul, mm } from "./ops/matmul.ts";
export { ceil, floor, round, sign, trunc } from "./ops/rounding.ts";
export { cos, reciprocal, sin } from "./ops/trig.ts";
export { einsum } from "./ops/einsum.ts";
export { cumsum } from "./ops/cumsum.ts";
export { kthvalue, median } from "./ops/median.ts";
export { bernoulli, stochasticDepth } from "./ops/bernoulli.ts";
export {
  scaledDotProductAttention,
  type ScaledDotProductAttentionOptions,
} from "./ops/attention.ts";
export { all, any, logsumexp } from "./ops/logsumexp.ts";
export { lerp } from "./ops/lerp.ts";
export { logSoftmax, softmax } from "./ops/softmax.ts";
export { dropout } from "./ops/random.ts";
export {
  abs,
  add,
  div,
  exp,
  expm1,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  relu,
  sigmoid,
  sqrt,
  sub,
  tanh,
} from "./ops/elementwise.ts";
export { amax, amin, argmax, max, mean, min, sum } from "./ops/reduce.ts";
export { pow } from "./ops/pow.ts";
export { gelu, type GeluOptions, leakyRelu } from "./ops/activation.ts";
export { dropout2d } from "./ops/dropout2d.ts";
export { conv3d, type Conv3dOptions, type Padding3d, type Triple } from "./ops/conv3d.ts";
export {
  adaptiveAvgPool3d,
  adaptiveMaxPool3d,
  type AdaptiveSize3d,
  avgPool3d,
  type AvgPool3dOptions,
  maxPool3d,
  type MaxPool3dOptions,
} from "./ops/pool3d.ts";
export { dropout3d } from "./ops/dropout3d.ts";
export {
  type BceWithLogitsOptions,
  binaryCrossEntropyWithLogits,
  mseLoss,
  type MseLossOptions,
  nllLoss,
  type NllLossOptions,
} from "./ops/losses_extra.ts";
export {
  type BceOptions,
  binaryCrossEntropy,
  huberLoss,
  type HuberLossOptions,
  l1Loss,
  type L1LossOptions,
  smoothL1Loss,
  type SmoothL1LossOptions,
} from "./ops/losses_more.ts";
export { klDiv, type KlDivOptions, type KlDivReduction } from "./ops/losses_probs.ts";
export {
  focalLoss,
  type FocalLossOptions,
  sigmoidFocalLoss,
  type SigmoidFocalLossOptions,
} from "./ops/losses_focal.ts";
export {
  cosineEmbeddingLoss,
  type CosineEmbeddingLossOptions,
  hingeEmbeddingLoss,
  type HingeEmbeddingLossOptions,
  marginRankingLoss,
  type MarginRankingLossOptions,
  multilabelSoftMarginLoss,
  type MultilabelSoftMarginLossOptions,
  softMarginLoss,
  type SoftMarginLossOptions,
  tripletMarginLoss,
  type TripletMarginLossOptions,
} from "./ops/losses_margin.ts";
export {
  gaussianNllLoss,
  type GaussianNllLossOptions,
  poissonNllLoss,
  type PoissonNllLossOptions,
} from "./ops/losses_likelihood.ts";
export { std, variance as var } from "./ops/stats.ts";
export { isfinite, isinf, isnan, nanToNum, type NanToNumOptions } from "./ops/nonfinite.ts";
export { chunk, split } from "./ops/split.ts";
export { oneHot } from "./ops/one_hot.ts";
export { hardsigmoid, hardswish, relu6, silu } from "./ops/activation_hard.ts";
export { groupNorm, layerNorm } from "./ops/layer_norm.ts";
export { instanceNorm, type InstanceNormOptions } from "./ops/instance_norm.ts";
export { interpolate, type InterpolateMode, type InterpolateOptions } from "./ops/interpolate.ts";
export { gather, indexSelect } from "./ops/gather.ts";
export { flip, roll } from "./ops/reorder.ts";
export { argsort, sort, topk } from "./ops/sort.ts";
export { quantile } from "./ops/quantile.ts";
export { maskedFill } from "./ops/where.ts";
export {
  gridSample,
  type GridSampleMode,
  type GridSampleOptions,
  type GridSamplePaddingMode,
} from "./ops/grid_sample.ts";
export { affineGrid, type AffineGridOptions } from "./ops/affine_grid.ts";
export { conv1d, type Conv1dOptions } from "./ops/conv1d.ts";
export { convTranspose1d, type ConvTranspose1dOptions } from "./ops/conv_transpose1d.ts";
export { dropout1d } from "./ops/dropout1d.ts";
export {
  adaptiveAvgPool1d,
  adaptiveMaxPool1d,
  avgPool1d,
  maxPool1d,
  type Pool1dOptions,
} from "./ops/pool1d.ts";
export {
  maxUnpool1d,
  type MaxUnpool1dOptions,
  maxUnpool2d,
  type MaxUnpool2dOptions,
  maxUnpool3d,
  type MaxUnpool3dOptions,
} from "./ops/max_unpool.ts";
export { embedding, type EmbeddingOptions } from "./ops/embedding.ts";
export {
  embeddingBag,
  type EmbeddingBagMode,
  type EmbeddingBagOptions,
} from "./ops/embedding_bag.ts";
export { pixelShuffle, pixelUnshuffle } from "./ops/pixel_shuffle.ts";
export { fold, type FoldOptions, unfold } from "./ops/fold.ts";
export {
  hardshrink,
  hardtanh,
  softshrink,
  softsign,
  tanhshrink,
  threshold,
} from "./ops/activation_shrink.ts";
export { celu, glu, logsigmoid, selu } from "./ops/activation_scaled.ts";
export { alphaDropout, rrelu } from "./ops/activation_random.ts";
export { channelShuffle } from "./ops/channel_shuffle.ts";
export { bilinear } from "./ops/bilinear.ts";
export { gumbelSoftmax, type GumbelSoftmaxOptions } from "./ops/gumbel_softmax.ts";
export * from "./functional_names.ts";
