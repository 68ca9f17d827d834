/**
 * The model zoo: the course's small CNN, AlexNet, VGG-11/13/16/19 (and
 * their batch-norm variants), SqueezeNet 1.0/1.1, ResNet-18/34/50/101/152,
 * ResNeXt, Wide ResNet, DenseNet-121/161/169/201, ConvNeXt-Tiny/Small/Base/Large,
 * the Vision Transformers (ViT-B/16 ... ViT-H/14), Swin-T/S/B, Inception v3 and
 * GoogLeNet, with
 * torchvision's structure and state-dict names, so weights move between this
 * library and PyTorch unchanged.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = models.create("resnet18", { inChannels: 1, numClasses: 3 }).eval();
 * console.log(net.forward(zeros([1, 1, 64, 64])).shape); // [1, 3]
 * ```
 *
 * @module
 */
export {
  GLOBAL_POOLS,
  type GlobalPool,
  SIMPLE_CNN,
  SimpleCNN,
  simpleCNN,
  type SimpleCNNOptions,
} from "./simple_cnn.ts";
export { ALEXNET, AlexNet, alexnet, ALEXNET_MIN_SIZE, type AlexNetOptions } from "./alexnet.ts";
export {
  makeLayers,
  type MakeLayersOptions,
  VGG,
  vgg11,
  vgg11Bn,
  vgg13,
  vgg13Bn,
  vgg16,
  vgg16Bn,
  vgg19,
  vgg19Bn,
  VGG_CFGS,
  VGG_MIN_SIZE,
  type VGGCfg,
  type VGGModelOptions,
  type VGGOptions,
} from "./vgg.ts";
export {
  Fire,
  SQUEEZENET,
  SqueezeNet,
  squeezenet1_0,
  squeezenet1_1,
  SQUEEZENET_MIN_SIZE,
  type SqueezeNetModelOptions,
  type SqueezeNetOptions,
  type SqueezeNetVersion,
} from "./squeezenet.ts";
export {
  BasicBlock,
  type BlockType,
  Bottleneck,
  downsample,
  type ResidualBlock,
} from "./resnet_blocks.ts";
export {
  ResNet,
  RESNET18,
  resnet18,
  RESNET34,
  resnet34,
  RESNET50,
  resnet50,
  type ResNetConfig,
  type ResNetOptions,
} from "./resnet.ts";
export {
  RESNET101,
  resnet101,
  RESNET152,
  resnet152,
  RESNEXT101_32X8D,
  resnext101_32x8d,
  RESNEXT50_32X4D,
  resnext50_32x4d,
  WIDE_RESNET101_2,
  WIDE_RESNET50_2,
  wideResnet101_2,
  wideResnet50_2,
} from "./resnet_family.ts";
export {
  VisionTransformer,
  VIT_B_16,
  VIT_B_32,
  VIT_H_14,
  VIT_L_16,
  VIT_L_32,
  vitB16,
  vitB32,
  type ViTConfig,
  vitH14,
  vitL16,
  vitL32,
  type ViTOptions,
} from "./vit.ts";
export { Encoder, EncoderBlock, MLPBlock } from "./vit_blocks.ts";
export {
  type EmbeddingInterpolation,
  interpolateEmbeddings,
  type InterpolateEmbeddingsOptions,
} from "./vit_embeddings.ts";
export {
  type ActivationLayer,
  Conv2dNormActivation,
  type Conv2dNormActivationOptions,
  makeDivisible,
  type NormLayer,
  SqueezeExcitation,
  type SqueezeExcitationOptions,
} from "./mobile_blocks.ts";
export {
  InvertedResidual,
  MOBILENET_V2,
  MobileNetV2,
  mobilenetV2,
  type MobileNetV2Options,
} from "./mobilenet.ts";
export {
  EfficientNet,
  EFFICIENTNET_B0,
  EFFICIENTNET_B_STAGES,
  efficientnetB0,
  type EfficientNetConfig,
  type EfficientNetOptions,
  efficientnetStages,
  MBConv,
  type MBConvConfig,
} from "./efficientnet.ts";
export {
  EFFICIENTNET_B1,
  EFFICIENTNET_B2,
  EFFICIENTNET_B3,
  EFFICIENTNET_B4,
  EFFICIENTNET_B5,
  EFFICIENTNET_B6,
  EFFICIENTNET_B7,
  efficientnetB1,
  efficientnetB2,
  efficientnetB3,
  efficientnetB4,
  efficientnetB5,
  efficientnetB6,
  efficientnetB7,
} from "./efficientnet_b.ts";
export {
  InvertedResidualV3,
  MobileNetV3,
  type MobileNetV3Arch,
  type MobileNetV3BlockConfig,
  mobilenetV3Large,
  type MobileNetV3Options,
  mobilenetV3Setting,
  type MobileNetV3SettingOptions,
  mobilenetV3Small,
} from "./mobilenet_v3.ts";
export {
  ShuffleInvertedResidual,
  SHUFFLENET_V2_X0_5,
  SHUFFLENET_V2_X1_0,
  SHUFFLENET_V2_X1_5,
  SHUFFLENET_V2_X2_0,
  ShuffleNetV2,
  type ShuffleNetV2Config,
  type ShuffleNetV2Options,
  shufflenetV2X0_5,
  shufflenetV2X1_0,
  shufflenetV2X1_5,
  shufflenetV2X2_0,
} from "./shufflenet.ts";
export {
  EFFICIENTNET_V2_L,
  EFFICIENTNET_V2_M,
  EFFICIENTNET_V2_S,
  efficientnetV2L,
  efficientnetV2M,
  efficientnetV2S,
} from "./efficientnet_v2.ts";
export { FusedMBConv } from "./fused_mbconv.ts";
export { RegNet, type RegNetConfig, type RegNetOptions } from "./regnet.ts";
export {
  AnyStage,
  BottleneckTransform,
  type RegNetBlockOptions,
  type RegNetBlockParams,
  regnetBlockParams,
  type RegNetDesign,
  ResBottleneckBlock,
  SimpleStemIN,
} from "./regnet_blocks.ts";
export {
  REGNET_Y_128GF,
  REGNET_Y_16GF,
  REGNET_Y_1_6GF,
  REGNET_Y_32GF,
  REGNET_Y_3_2GF,
  REGNET_Y_400MF,
  REGNET_Y_800MF,
  REGNET_Y_8GF,
  regnetY128gf,
  regnetY16gf,
  regnetY1_6gf,
  regnetY32gf,
  regnetY3_2gf,
  regnetY400mf,
  regnetY800mf,
  regnetY8gf,
} from "./regnet_y.ts";
export {
  REGNET_X_16GF,
  REGNET_X_1_6GF,
  REGNET_X_32GF,
  REGNET_X_3_2GF,
  REGNET_X_400MF,
  REGNET_X_800MF,
  REGNET_X_8GF,
  regnetX16gf,
  regnetX1_6gf,
  regnetX32gf,
  regnetX3_2gf,
  regnetX400mf,
  regnetX800mf,
  regnetX8gf,
} from "./regnet_x.ts";
export {
  DenseNet,
  DENSENET121,
  densenet121,
  DENSENET161,
  densenet161,
  DENSENET169,
  densenet169,
  DENSENET201,
  densenet201,
  DENSENET_MIN_SIZE,
  type DenseNetConfig,
  type DenseNetFeatures,
  denseNetMinSize,
  type DenseNetOptions,
} from "./densenet.ts";
export { DenseBlock, DenseLayer, Transition } from "./densenet_blocks.ts";
export {
  ConvNeXt,
  CONVNEXT_BASE,
  CONVNEXT_LARGE,
  CONVNEXT_SMALL,
  CONVNEXT_TINY,
  convnextBase,
  type ConvNeXtConfig,
  convnextLarge,
  type ConvNeXtOptions,
  convnextSmall,
  convnextTiny,
} from "./convnext.ts";
export { CNBlock, CNBlockConfig, Permute } from "./convnext_blocks.ts";
export {
  SWIN_B,
  SWIN_S,
  SWIN_T,
  swinB,
  type SwinConfig,
  type SwinOptions,
  swinS,
  swinT,
  SwinTransformer,
} from "./swin.ts";
export {
  PatchMerging,
  SwinTransformerBlock,
  type SwinTransformerBlockOptions,
} from "./swin_blocks.ts";
export {
  relativePositionIndex,
  ShiftedWindowAttention,
  shiftedWindowAttention,
  type ShiftedWindowAttentionModuleOptions,
  type ShiftedWindowAttentionOptions,
  shiftedWindowMask,
  type Size2,
} from "./swin_attention.ts";
export {
  Inception3,
  type Inception3Options,
  INCEPTION_V3_AUX_MIN_SIZE,
  INCEPTION_V3_MIN_SIZE,
  inceptionV3,
} from "./inception.ts";
export {
  BasicConv2d,
  type BasicConv2dOptions,
  InceptionA,
  InceptionAux,
  InceptionB,
  InceptionC,
  InceptionD,
  InceptionE,
} from "./inception_blocks.ts";
export {
  GoogLeNet,
  googlenet,
  GOOGLENET_MIN_SIZE,
  GoogLeNetAux,
  GoogLeNetInception,
  type GoogLeNetOptions,
} from "./googlenet.ts";
export { GoogLeNetOutputs, InceptionOutputs } from "./aux_outputs.ts";
export {
  ResNet3d,
  RESNET3D10,
  resnet3d10,
  RESNET3D18,
  resnet3d18,
  RESNET3D34,
  resnet3d34,
  RESNET3D50,
  resnet3d50,
  type ResNet3dConfig,
  type ResNet3dOptions,
} from "./resnet3d.ts";
export {
  ResNet3dBlock,
  type ResNet3dBlockType,
  ResNet3dBottleneck,
  type ResNet3dShortcut,
  ZeroPadShortcut,
} from "./resnet3d_blocks.ts";
export {
  DenseNet3d,
  densenet3d121,
  densenet3d169,
  densenet3d201,
  densenet3d264,
  type DenseNet3dAct,
  type DenseNet3dClassLayers,
  type DenseNet3dFeatures,
  type DenseNet3dNorm,
  type DenseNet3dOptions,
} from "./densenet3d.ts";
export { DenseNet121, DenseNet169, DenseNet201, DenseNet264 } from "./monai_names.ts";
export {
  DenseBlock3d,
  DenseLayer3d,
  type DenseLayer3dLayers,
  Transition3d,
} from "./densenet3d_blocks.ts";
export {
  canonicalName,
  create,
  type ImageModel,
  imageSizeMultiple,
  type ModelOptions,
  names,
  takesOption,
  volumeNames,
} from "./registry.ts";
export { ModelSummary, summary, type SummaryOptions, type SummaryRow } from "./summary.ts";
export {
  adaptInputConv,
  loadPretrained,
  type LoadPretrainedOptions,
  type LoadPretrainedReport,
} from "./pretrained.ts";
export { type InputSpec } from "./input.ts";
