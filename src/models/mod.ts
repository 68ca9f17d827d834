/**
 * The model zoo: the course's small CNN, AlexNet and ResNet-18/34/50, with
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
export { create, type ImageModel, type ModelOptions, names } from "./registry.ts";
export { ModelSummary, summary, type SummaryOptions, type SummaryRow } from "./summary.ts";
export { type InputSpec } from "./input.ts";
