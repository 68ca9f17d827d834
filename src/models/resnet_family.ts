/**
 * The deeper, grouped and wider members of torchvision's ResNet family:
 * ResNet-101/152 (He et al., 2016, Table 1), ResNeXt-50 32x4d and
 * ResNeXt-101 32x8d (Xie et al., "Aggregated Residual Transformations for
 * Deep Neural Networks", CVPR 2017: the Bottleneck's 3x3 convolution in 32
 * groups) and Wide ResNet-50-2 / 101-2 (Zagoruyko & Komodakis, BMVC 2016:
 * the Bottleneck's inner width doubled), each as torchvision 0.14 builds it
 * (`groups`, `width_per_group`), with its state-dict names.
 *
 * @module
 */
import { Bottleneck } from "./resnet_blocks.ts";
import { ResNet, type ResNetConfig, type ResNetOptions } from "./resnet.ts";
import { checkArity } from "../options.ts";

/** Table 1, 101-layer column. */
export const RESNET101: ResNetConfig = {
  name: "ResNet-101",
  block: Bottleneck,
  layers: [3, 4, 23, 3],
};
/** Table 1, 152-layer column. */
export const RESNET152: ResNetConfig = {
  name: "ResNet-152",
  block: Bottleneck,
  layers: [3, 8, 36, 3],
};
/** ResNeXt-50, cardinality 32, width 4 per group. */
export const RESNEXT50_32X4D: ResNetConfig = {
  name: "ResNeXt-50 32x4d",
  block: Bottleneck,
  layers: [3, 4, 6, 3],
  groups: 32,
  widthPerGroup: 4,
};
/** ResNeXt-101, cardinality 32, width 8 per group. */
export const RESNEXT101_32X8D: ResNetConfig = {
  name: "ResNeXt-101 32x8d",
  block: Bottleneck,
  layers: [3, 4, 23, 3],
  groups: 32,
  widthPerGroup: 8,
};
/** Wide ResNet-50-2: ResNet-50 with twice the Bottleneck's inner width. */
export const WIDE_RESNET50_2: ResNetConfig = {
  name: "Wide ResNet-50-2",
  block: Bottleneck,
  layers: [3, 4, 6, 3],
  widthPerGroup: 128,
};
/** Wide ResNet-101-2: ResNet-101 with twice the Bottleneck's inner width. */
export const WIDE_RESNET101_2: ResNetConfig = {
  name: "Wide ResNet-101-2",
  block: Bottleneck,
  layers: [3, 4, 23, 3],
  widthPerGroup: 128,
};

function build(name: string, config: ResNetConfig, given: number, options: ResNetOptions): ResNet {
  checkArity(`models.${name}`, given, 1, `models.${name}({ inChannels: 1, numClasses: 3 })`);
  return new ResNet(config, options);
}

/**
 * ResNet-101 (Bottleneck, [3, 4, 23, 3]; 44,549,160 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.RESNET101.layers); // [3, 4, 23, 3]
 * ```
 */
export function resnet101(options: ResNetOptions = {}): ResNet {
  return build("resnet101", RESNET101, arguments.length, options);
}

/**
 * ResNet-152 (Bottleneck, [3, 8, 36, 3]; 60,192,808 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.RESNET152.layers); // [3, 8, 36, 3]
 * ```
 */
export function resnet152(options: ResNetOptions = {}): ResNet {
  return build("resnet152", RESNET152, arguments.length, options);
}

/**
 * torchvision's `resnext50_32x4d` (25,028,904 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.resnext50_32x4d({ inChannels: 1, numClasses: 3 });
 * const block = net.layer1[0] as models.Bottleneck;
 * console.log(block.conv2.options.groups, block.conv2.weight.shape); // 32 [128, 4, 3, 3]
 * ```
 */
export function resnext50_32x4d(options: ResNetOptions = {}): ResNet {
  return build("resnext50_32x4d", RESNEXT50_32X4D, arguments.length, options);
}

/**
 * torchvision's `resnext101_32x8d` (88,791,336 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.RESNEXT101_32X8D.groups, models.RESNEXT101_32X8D.widthPerGroup); // 32 8
 * ```
 */
export function resnext101_32x8d(options: ResNetOptions = {}): ResNet {
  return build("resnext101_32x8d", RESNEXT101_32X8D, arguments.length, options);
}

/**
 * torchvision's `wide_resnet50_2` (68,883,240 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.WIDE_RESNET50_2.widthPerGroup); // 128
 * ```
 */
export function wideResnet50_2(options: ResNetOptions = {}): ResNet {
  return build("wideResnet50_2", WIDE_RESNET50_2, arguments.length, options);
}

/**
 * torchvision's `wide_resnet101_2` (126,886,696 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.WIDE_RESNET101_2.widthPerGroup); // 128
 * ```
 */
export function wideResnet101_2(options: ResNetOptions = {}): ResNet {
  return build("wideResnet101_2", WIDE_RESNET101_2, arguments.length, options);
}
