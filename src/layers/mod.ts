/**
 * Layers and losses (`torch.nn`).
 *
 * @module
 */
export {
  type BackwardHook,
  type BackwardPreHook,
  type ForwardHook,
  type ForwardPreHook,
  type HookOptions,
  type IncompatibleKeys,
  type LoadOptions,
  Module,
  Parameter,
  type RemovableHandle,
} from "./module.ts";
export { Linear, type LinearOptions } from "./linear.ts";
export { Conv2d, type Conv2dLayerOptions } from "./conv.ts";
export { ConvTranspose2d, type ConvTranspose2dLayerOptions } from "./conv_transpose.ts";
export { BatchNorm2d, type BatchNormLayerOptions } from "./batchnorm.ts";
export { BatchNormBase } from "./batchnorm_base.ts";
export { NormBase } from "./norm_base.ts";
export { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d } from "./pooling.ts";
export { Dropout, type DropoutOptions, Flatten, Identity, ReLU } from "./basic.ts";
export { Sequential } from "./sequential.ts";
export { chain } from "./chain.ts";
export { CrossEntropyLoss, type CrossEntropyLossOptions } from "./loss.ts";
export * as init from "./init.ts";
export * as utils from "./utils.ts";
export * as functional from "../tensor/functional.ts";
export { ModuleDict, ModuleList } from "./containers.ts";
export {
  GELU,
  type GELUOptions,
  LeakyReLU,
  type LeakyReLUOptions,
  LogSoftmax,
  Sigmoid,
  Softmax,
  type SoftmaxOptions,
  Tanh,
} from "./activation.ts";
export { Hardsigmoid, Hardswish, ReLU6, SiLU } from "./activation_hard.ts";
export { ELU, type ELUOptions, Softplus, type SoftplusOptions } from "./activation_smooth.ts";
export { Mish, PReLU, type PReLUOptions, Softmax2d, Softmin } from "./activation_more.ts";
export {
  ConstantPad1d,
  ConstantPad2d,
  ConstantPad3d,
  ReflectionPad1d,
  ReflectionPad2d,
  ReflectionPad3d,
  ReplicationPad1d,
  ReplicationPad2d,
  ReplicationPad3d,
  ZeroPad2d,
} from "./padding.ts";
export {
  CosineSimilarity,
  type CosineSimilarityOptions,
  PairwiseDistance,
  type PairwiseDistanceOptions,
} from "./distance.ts";
export { LocalResponseNorm, type LocalResponseNormOptions } from "./lrn.ts";
export { Unflatten } from "./unflatten.ts";
export { BatchNorm1d, type BatchNorm1dOptions } from "./batchnorm1d.ts";
export {
  GroupNorm,
  type GroupNormOptions,
  LayerNorm,
  type LayerNormOptions,
} from "./norm_layers.ts";
export { LayerNorm2d } from "./layer_norm_2d.ts";
export { Dropout2d } from "./dropout2d.ts";
export { Conv3d, type Conv3dLayerOptions, type Conv3dPaddingMode } from "./conv3d.ts";
export { AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, MaxPool3d } from "./pool3d.ts";
export { BatchNorm3d, InstanceNorm3d } from "./norm3d.ts";
export { Dropout3d } from "./dropout3d.ts";
export { StochasticDepth } from "./stochastic_depth.ts";
export {
  type AttentionOutput,
  MultiheadAttention,
  type MultiheadAttentionForwardOptions,
  type MultiheadAttentionOptions,
} from "./attention.ts";
export {
  InstanceNorm1d,
  InstanceNorm2d,
  InstanceNormBase,
  type InstanceNormLayerOptions,
} from "./instance_norm.ts";
export { Upsample, UpsamplingBilinear2d, UpsamplingNearest2d } from "./upsample.ts";
export {
  BCEWithLogitsLoss,
  type BCEWithLogitsLossOptions,
  MSELoss,
  type MSELossOptions,
  NLLLoss,
  type NLLLossOptions,
} from "./losses.ts";
export {
  BCELoss,
  type BCELossOptions,
  HuberLoss,
  type HuberLossOptions,
  KLDivLoss,
  type KLDivLossOptions,
  L1Loss,
  type L1LossOptions,
  SmoothL1Loss,
  type SmoothL1LossOptions,
} from "./losses_more.ts";
export {
  FocalLoss,
  type FocalLossLayerOptions,
  SigmoidFocalLoss,
  type SigmoidFocalLossOptions,
} from "./losses_focal.ts";
export {
  CosineEmbeddingLoss,
  type CosineEmbeddingLossOptions,
  HingeEmbeddingLoss,
  type HingeEmbeddingLossOptions,
  MarginRankingLoss,
  type MarginRankingLossOptions,
  MultiLabelSoftMarginLoss,
  type MultiLabelSoftMarginLossOptions,
  SoftMarginLoss,
  type SoftMarginLossOptions,
  TripletMarginLoss,
  type TripletMarginLossOptions,
} from "./losses_margin.ts";
export {
  GaussianNLLLoss,
  type GaussianNLLLossOptions,
  PoissonNLLLoss,
  type PoissonNLLLossOptions,
} from "./losses_likelihood.ts";
export { Conv1d, type Conv1dLayerOptions, type ConvPaddingMode } from "./conv1d.ts";
export { ConvTranspose1d, type ConvTranspose1dLayerOptions } from "./conv_transpose1d.ts";
export { Dropout1d } from "./dropout1d.ts";
export { AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d } from "./pool1d.ts";
export {
  MaxUnpool1d,
  MaxUnpool2d,
  MaxUnpool3d,
  type MaxUnpoolLayerOptions,
  type MaxUnpoolOutputSize,
} from "./max_unpool.ts";
export { Embedding, type EmbeddingPretrainedOptions } from "./embedding.ts";
export { EmbeddingBag, type EmbeddingBagLayerOptions } from "./embedding_bag.ts";
export { PixelShuffle, PixelUnshuffle } from "./pixel_shuffle.ts";
export { Fold, type FoldLayerOptions, Unfold, type UnfoldLayerOptions } from "./fold.ts";
export {
  Hardshrink,
  Hardtanh,
  type HardtanhOptions,
  Softshrink,
  Softsign,
  Tanhshrink,
  Threshold,
  type ThresholdOptions,
} from "./activation_shrink.ts";
export { CELU, type CELUOptions, GLU, LogSigmoid, SELU } from "./activation_scaled.ts";
export { AlphaDropout, RReLU, type RReLUOptions } from "./activation_random.ts";
export { ParameterDict, ParameterList } from "./parameter_containers.ts";
export { ChannelShuffle } from "./channel_shuffle.ts";
export { Bilinear, type BilinearOptions } from "./bilinear.ts";
export { type TransformerActivation, type TransformerLayerOptions } from "./transformer_common.ts";
export {
  TransformerEncoder,
  type TransformerEncoderForwardOptions,
  TransformerEncoderLayer,
  type TransformerEncoderLayerForwardOptions,
  type TransformerEncoderOptions,
} from "./transformer_encoder.ts";
export {
  TransformerDecoder,
  type TransformerDecoderForwardOptions,
  TransformerDecoderLayer,
  type TransformerDecoderOptions,
} from "./transformer_decoder.ts";
export {
  Transformer,
  type TransformerForwardOptions,
  type TransformerOptions,
} from "./transformer.ts";
