/**
 * EfficientNetV2: Tan & Le, "EfficientNetV2: Smaller Models and Faster
 * Training", ICML 2021, Table 4 (S) and torchvision 0.14's M and L stage
 * tables: Fused-MBConv stages first, then MBConv with squeeze-and-excitation,
 * a last 1x1 convolution to 1280 channels, batch norm eps 1e-3 (momentum
 * PyTorch's 0.1), dropout 0.2 (S), 0.3 (M), 0.4 (L) and stochastic depth
 * 0.2. The `EfficientNet` class of `efficientnet.ts` with explicit stages;
 * state-dict names are torchvision's: `features.1.0.block.0.0.weight` (a
 * Fused-MBConv's k x k convolution), `features.4.0.block.2.fc1.weight`
 * (an MBConv's squeeze-and-excitation), `features.7.1.running_var`.
 *
 * @module
 */
import { checkArity } from "../options.ts";
import {
  EfficientNet,
  type EfficientNetConfig,
  type EfficientNetOptions,
  type MBConvConfig,
} from "./efficientnet.ts";

/** A row of a stage table: block, expansion, kernel, stride, input, output channels, layers. */
type Row = ["FusedMBConv" | "MBConv", number, number, number, number, number, number];

const stages = (rows: Row[]): MBConvConfig[] =>
  rows.map(([block, expandRatio, kernel, stride, inputChannels, outChannels, numLayers]) => ({
    expandRatio,
    kernel,
    stride,
    inputChannels,
    outChannels,
    numLayers,
    block,
  }));

/** torchvision's `efficientnet_v2_s`: Table 4's six stages, dropout 0.2, batch norm eps 1e-3. */
export const EFFICIENTNET_V2_S: EfficientNetConfig = {
  name: "EfficientNetV2-S",
  widthMult: 1,
  depthMult: 1,
  dropout: 0.2,
  normEps: 1e-3,
  lastChannel: 1280,
  stages: stages([
    ["FusedMBConv", 1, 3, 1, 24, 24, 2],
    ["FusedMBConv", 4, 3, 2, 24, 48, 4],
    ["FusedMBConv", 4, 3, 2, 48, 64, 4],
    ["MBConv", 4, 3, 2, 64, 128, 6],
    ["MBConv", 6, 3, 1, 128, 160, 9],
    ["MBConv", 6, 3, 2, 160, 256, 15],
  ]),
};

/** torchvision's `efficientnet_v2_m`: seven stages, dropout 0.3, batch norm eps 1e-3. */
export const EFFICIENTNET_V2_M: EfficientNetConfig = {
  name: "EfficientNetV2-M",
  widthMult: 1,
  depthMult: 1,
  dropout: 0.3,
  normEps: 1e-3,
  lastChannel: 1280,
  stages: stages([
    ["FusedMBConv", 1, 3, 1, 24, 24, 3],
    ["FusedMBConv", 4, 3, 2, 24, 48, 5],
    ["FusedMBConv", 4, 3, 2, 48, 80, 5],
    ["MBConv", 4, 3, 2, 80, 160, 7],
    ["MBConv", 6, 3, 1, 160, 176, 14],
    ["MBConv", 6, 3, 2, 176, 304, 18],
    ["MBConv", 6, 3, 1, 304, 512, 5],
  ]),
};

/** torchvision's `efficientnet_v2_l`: seven stages, dropout 0.4, batch norm eps 1e-3. */
export const EFFICIENTNET_V2_L: EfficientNetConfig = {
  name: "EfficientNetV2-L",
  widthMult: 1,
  depthMult: 1,
  dropout: 0.4,
  normEps: 1e-3,
  lastChannel: 1280,
  stages: stages([
    ["FusedMBConv", 1, 3, 1, 32, 32, 4],
    ["FusedMBConv", 4, 3, 2, 32, 64, 7],
    ["FusedMBConv", 4, 3, 2, 64, 96, 7],
    ["MBConv", 4, 3, 2, 96, 192, 10],
    ["MBConv", 6, 3, 1, 192, 224, 19],
    ["MBConv", 6, 3, 2, 224, 384, 25],
    ["MBConv", 6, 3, 1, 384, 640, 7],
  ]),
};

/**
 * torchvision's `efficientnet_v2_s` (21,458,488 parameters with the
 * defaults, 20,180,899 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetV2S({ inChannels: 1, numClasses: 3 }).numParameters()); // 20180899
 * ```
 */
export function efficientnetV2S(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetV2S({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetV2S", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_V2_S, options);
}

/**
 * torchvision's `efficientnet_v2_m` (54,139,356 parameters with the
 * defaults, 52,861,767 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetV2M({ inChannels: 1, numClasses: 3 }).numParameters()); // 52861767
 * ```
 */
export function efficientnetV2M(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetV2M({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetV2M", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_V2_M, options);
}

/**
 * torchvision's `efficientnet_v2_l` (118,515,272 parameters with the
 * defaults, 117,237,539 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetV2L({ inChannels: 1, numClasses: 3 }).numParameters()); // 117237539
 * ```
 */
export function efficientnetV2L(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetV2L({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetV2L", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_V2_L, options);
}
