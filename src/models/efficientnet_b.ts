/**
 * EfficientNet-B1 to B7: B0 (`efficientnet.ts`) scaled by torchvision
 * 0.14's width and depth multipliers, each with its own classifier
 * dropout, and for B5-B7 the batch norm torchvision passes them (eps 1e-3,
 * momentum 0.01). Same structure and state-dict names as B0.
 *
 * @module
 */
import { checkArity } from "../options.ts";
import { EfficientNet, type EfficientNetConfig, type EfficientNetOptions } from "./efficientnet.ts";

/** torchvision's `efficientnet_b1`: width 1, depth 1.1, dropout 0.2. */
export const EFFICIENTNET_B1: EfficientNetConfig = {
  name: "EfficientNet-B1",
  widthMult: 1,
  depthMult: 1.1,
  dropout: 0.2,
};

/** torchvision's `efficientnet_b2`: width 1.1, depth 1.2, dropout 0.3. */
export const EFFICIENTNET_B2: EfficientNetConfig = {
  name: "EfficientNet-B2",
  widthMult: 1.1,
  depthMult: 1.2,
  dropout: 0.3,
};

/** torchvision's `efficientnet_b3`: width 1.2, depth 1.4, dropout 0.3. */
export const EFFICIENTNET_B3: EfficientNetConfig = {
  name: "EfficientNet-B3",
  widthMult: 1.2,
  depthMult: 1.4,
  dropout: 0.3,
};

/** torchvision's `efficientnet_b4`: width 1.4, depth 1.8, dropout 0.4. */
export const EFFICIENTNET_B4: EfficientNetConfig = {
  name: "EfficientNet-B4",
  widthMult: 1.4,
  depthMult: 1.8,
  dropout: 0.4,
};

/** torchvision's `efficientnet_b5`: width 1.6, depth 2.2, dropout 0.4, batch norm eps 1e-3 and momentum 0.01. */
export const EFFICIENTNET_B5: EfficientNetConfig = {
  name: "EfficientNet-B5",
  widthMult: 1.6,
  depthMult: 2.2,
  dropout: 0.4,
  normEps: 1e-3,
  normMomentum: 0.01,
};

/** torchvision's `efficientnet_b6`: width 1.8, depth 2.6, dropout 0.5, batch norm eps 1e-3 and momentum 0.01. */
export const EFFICIENTNET_B6: EfficientNetConfig = {
  name: "EfficientNet-B6",
  widthMult: 1.8,
  depthMult: 2.6,
  dropout: 0.5,
  normEps: 1e-3,
  normMomentum: 0.01,
};

/** torchvision's `efficientnet_b7`: width 2, depth 3.1, dropout 0.5, batch norm eps 1e-3 and momentum 0.01. */
export const EFFICIENTNET_B7: EfficientNetConfig = {
  name: "EfficientNet-B7",
  widthMult: 2,
  depthMult: 3.1,
  dropout: 0.5,
  normEps: 1e-3,
  normMomentum: 0.01,
};

/**
 * torchvision's `efficientnet_b1` (7,794,184 parameters with the defaults,
 * 6,516,451 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB1({ inChannels: 1, numClasses: 3 }).numParameters()); // 6516451
 * ```
 */
export function efficientnetB1(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetB1({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetB1", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_B1, options);
}

/**
 * torchvision's `efficientnet_b2` (9,109,994 parameters with the defaults,
 * 7,704,645 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB2({ inChannels: 1, numClasses: 3 }).numParameters()); // 7704645
 * ```
 */
export function efficientnetB2(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetB2({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetB2", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_B2, options);
}

/**
 * torchvision's `efficientnet_b3` (12,233,232 parameters with the defaults,
 * 10,700,123 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB3({ inChannels: 1, numClasses: 3 }).numParameters()); // 10700123
 * ```
 */
export function efficientnetB3(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetB3({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetB3", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_B3, options);
}

/**
 * torchvision's `efficientnet_b4` (19,341,616 parameters with the defaults,
 * 17,553,131 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB4({ inChannels: 1, numClasses: 3 }).numParameters()); // 17553131
 * ```
 */
export function efficientnetB4(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetB4({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetB4", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_B4, options);
}

/**
 * torchvision's `efficientnet_b5` (30,389,784 parameters with the defaults,
 * 28,346,067 for 1 input channel and 3 classes); its batch norms have eps 1e-3 and momentum 0.01.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB5({ inChannels: 1, numClasses: 3 }).numParameters()); // 28346067
 * ```
 */
export function efficientnetB5(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetB5({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetB5", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_B5, options);
}

/**
 * torchvision's `efficientnet_b6` (43,040,704 parameters with the defaults,
 * 40,741,611 for 1 input channel and 3 classes); its batch norms have eps 1e-3 and momentum 0.01.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB6({ inChannels: 1, numClasses: 3 }).numParameters()); // 40741611
 * ```
 */
export function efficientnetB6(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetB6({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetB6", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_B6, options);
}

/**
 * torchvision's `efficientnet_b7` (66,347,960 parameters with the defaults,
 * 63,793,491 for 1 input channel and 3 classes); its batch norms have eps 1e-3 and momentum 0.01.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB7({ inChannels: 1, numClasses: 3 }).numParameters()); // 63793491
 * ```
 */
export function efficientnetB7(options: EfficientNetOptions = {}): EfficientNet {
  const usage = "models.efficientnetB7({ inChannels: 1, numClasses: 3 })";
  checkArity("models.efficientnetB7", arguments.length, 1, usage);
  return new EfficientNet(EFFICIENTNET_B7, options);
}
