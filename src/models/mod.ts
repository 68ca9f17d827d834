/**
 * The model zoo: the course's small CNN, AlexNet, VGG-11/13/16/19 (and
 * their batch-norm variants), SqueezeNet 1.0/1.1, ResNet-18/34/50 and
 * DenseNet-121/161/169/201, with torchvision's structure and state-dict
 * names, so weights move between this library and PyTorch unchanged.
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
