/**
 * The RegNetX models of torchvision 0.14 (Radosavovic et al., 2020;
 * torchvision's designs, without squeeze-and-excitation):
 * each a `RegNet` of its design, named as torchvision's `regnet_x_*`.
 *
 * @module
 */
import { checkArity } from "../options.ts";
import { RegNet, type RegNetConfig, type RegNetOptions } from "./regnet.ts";

/** torchvision's `regnet_x_400mf`: depth 22, w0 24, wa 24.48, wm 2.54, group width 16. */
export const REGNET_X_400MF: RegNetConfig = {
  name: "RegNetX-400MF",
  design: { depth: 22, w0: 24, wa: 24.48, wm: 2.54, groupWidth: 16 },
};

/** torchvision's `regnet_x_800mf`: depth 16, w0 56, wa 35.73, wm 2.28, group width 16. */
export const REGNET_X_800MF: RegNetConfig = {
  name: "RegNetX-800MF",
  design: { depth: 16, w0: 56, wa: 35.73, wm: 2.28, groupWidth: 16 },
};

/** torchvision's `regnet_x_1_6gf`: depth 18, w0 80, wa 34.01, wm 2.25, group width 24. */
export const REGNET_X_1_6GF: RegNetConfig = {
  name: "RegNetX-1.6GF",
  design: { depth: 18, w0: 80, wa: 34.01, wm: 2.25, groupWidth: 24 },
};

/** torchvision's `regnet_x_3_2gf`: depth 25, w0 88, wa 26.31, wm 2.25, group width 48. */
export const REGNET_X_3_2GF: RegNetConfig = {
  name: "RegNetX-3.2GF",
  design: { depth: 25, w0: 88, wa: 26.31, wm: 2.25, groupWidth: 48 },
};

/** torchvision's `regnet_x_8gf`: depth 23, w0 80, wa 49.56, wm 2.88, group width 120. */
export const REGNET_X_8GF: RegNetConfig = {
  name: "RegNetX-8GF",
  design: { depth: 23, w0: 80, wa: 49.56, wm: 2.88, groupWidth: 120 },
};

/** torchvision's `regnet_x_16gf`: depth 22, w0 216, wa 55.59, wm 2.1, group width 128. */
export const REGNET_X_16GF: RegNetConfig = {
  name: "RegNetX-16GF",
  design: { depth: 22, w0: 216, wa: 55.59, wm: 2.1, groupWidth: 128 },
};

/** torchvision's `regnet_x_32gf`: depth 23, w0 320, wa 69.86, wm 2, group width 168. */
export const REGNET_X_32GF: RegNetConfig = {
  name: "RegNetX-32GF",
  design: { depth: 23, w0: 320, wa: 69.86, wm: 2, groupWidth: 168 },
};

/**
 * torchvision's `regnet_x_400mf` (5,495,976 parameters with the defaults,
 * 5,095,603 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetX400mf({ inChannels: 1, numClasses: 3 }).numParameters()); // 5095603
 * ```
 */
export function regnetX400mf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetX400mf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetX400mf", arguments.length, 1, usage);
  return new RegNet(REGNET_X_400MF, options);
}

/**
 * torchvision's `regnet_x_800mf` (7,259,656 parameters with the defaults,
 * 6,588,099 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetX800mf({ inChannels: 1, numClasses: 3 }).numParameters()); // 6588099
 * ```
 */
export function regnetX800mf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetX800mf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetX800mf", arguments.length, 1, usage);
  return new RegNet(REGNET_X_800MF, options);
}

/**
 * torchvision's `regnet_x_1_6gf` (9,190,136 parameters with the defaults,
 * 8,279,299 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetX1_6gf({ inChannels: 1, numClasses: 3 }).numParameters()); // 8279299
 * ```
 */
export function regnetX1_6gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetX1_6gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetX1_6gf", arguments.length, 1, usage);
  return new RegNet(REGNET_X_1_6GF, options);
}

/**
 * torchvision's `regnet_x_3_2gf` (15,296,552 parameters with the defaults,
 * 14,290,003 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetX3_2gf({ inChannels: 1, numClasses: 3 }).numParameters()); // 14290003
 * ```
 */
export function regnetX3_2gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetX3_2gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetX3_2gf", arguments.length, 1, usage);
  return new RegNet(REGNET_X_3_2GF, options);
}

/**
 * torchvision's `regnet_x_8gf` (39,572,648 parameters with the defaults,
 * 37,656,835 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetX8gf({ inChannels: 1, numClasses: 3 }).numParameters()); // 37656835
 * ```
 */
export function regnetX8gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetX8gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetX8gf", arguments.length, 1, usage);
  return new RegNet(REGNET_X_8GF, options);
}

/**
 * torchvision's `regnet_x_16gf` (54,278,536 parameters with the defaults,
 * 52,235,107 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetBlockParams(models.REGNET_X_16GF.design).widths); // [256, 512, 896, 2048]
 * ```
 */
export function regnetX16gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetX16gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetX16gf", arguments.length, 1, usage);
  return new RegNet(REGNET_X_16GF, options);
}

/**
 * torchvision's `regnet_x_32gf` (107,811,560 parameters with the defaults,
 * 105,297,547 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetBlockParams(models.REGNET_X_32GF.design).widths); // [336, 672, 1344, 2520]
 * ```
 */
export function regnetX32gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetX32gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetX32gf", arguments.length, 1, usage);
  return new RegNet(REGNET_X_32GF, options);
}
