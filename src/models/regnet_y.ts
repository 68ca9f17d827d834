/**
 * The RegNetY models of torchvision 0.14 (Radosavovic et al., 2020;
 * torchvision's designs with squeeze-and-excitation at ratio 0.25):
 * each a `RegNet` of its design, named as torchvision's `regnet_y_*`.
 *
 * @module
 */
import { checkArity } from "../options.ts";
import { RegNet, type RegNetConfig, type RegNetOptions } from "./regnet.ts";

/** torchvision's `regnet_y_400mf`: depth 16, w0 48, wa 27.89, wm 2.09, group width 8, SE 0.25. */
export const REGNET_Y_400MF: RegNetConfig = {
  name: "RegNetY-400MF",
  design: { depth: 16, w0: 48, wa: 27.89, wm: 2.09, groupWidth: 8, seRatio: 0.25 },
};

/** torchvision's `regnet_y_800mf`: depth 14, w0 56, wa 38.84, wm 2.4, group width 16, SE 0.25. */
export const REGNET_Y_800MF: RegNetConfig = {
  name: "RegNetY-800MF",
  design: { depth: 14, w0: 56, wa: 38.84, wm: 2.4, groupWidth: 16, seRatio: 0.25 },
};

/** torchvision's `regnet_y_1_6gf`: depth 27, w0 48, wa 20.71, wm 2.65, group width 24, SE 0.25. */
export const REGNET_Y_1_6GF: RegNetConfig = {
  name: "RegNetY-1.6GF",
  design: { depth: 27, w0: 48, wa: 20.71, wm: 2.65, groupWidth: 24, seRatio: 0.25 },
};

/** torchvision's `regnet_y_3_2gf`: depth 21, w0 80, wa 42.63, wm 2.66, group width 24, SE 0.25. */
export const REGNET_Y_3_2GF: RegNetConfig = {
  name: "RegNetY-3.2GF",
  design: { depth: 21, w0: 80, wa: 42.63, wm: 2.66, groupWidth: 24, seRatio: 0.25 },
};

/** torchvision's `regnet_y_8gf`: depth 17, w0 192, wa 76.82, wm 2.19, group width 56, SE 0.25. */
export const REGNET_Y_8GF: RegNetConfig = {
  name: "RegNetY-8GF",
  design: { depth: 17, w0: 192, wa: 76.82, wm: 2.19, groupWidth: 56, seRatio: 0.25 },
};

/** torchvision's `regnet_y_16gf`: depth 18, w0 200, wa 106.23, wm 2.48, group width 112, SE 0.25. */
export const REGNET_Y_16GF: RegNetConfig = {
  name: "RegNetY-16GF",
  design: { depth: 18, w0: 200, wa: 106.23, wm: 2.48, groupWidth: 112, seRatio: 0.25 },
};

/** torchvision's `regnet_y_32gf`: depth 20, w0 232, wa 115.89, wm 2.53, group width 232, SE 0.25. */
export const REGNET_Y_32GF: RegNetConfig = {
  name: "RegNetY-32GF",
  design: { depth: 20, w0: 232, wa: 115.89, wm: 2.53, groupWidth: 232, seRatio: 0.25 },
};

/** torchvision's `regnet_y_128gf`: depth 27, w0 456, wa 160.83, wm 2.52, group width 264, SE 0.25. */
export const REGNET_Y_128GF: RegNetConfig = {
  name: "RegNetY-128GF",
  design: { depth: 27, w0: 456, wa: 160.83, wm: 2.52, groupWidth: 264, seRatio: 0.25 },
};

/**
 * torchvision's `regnet_y_400mf` (4,344,144 parameters with the defaults,
 * 3,903,891 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetY400mf({ inChannels: 1, numClasses: 3 }).numParameters()); // 3903891
 * ```
 */
export function regnetY400mf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY400mf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY400mf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_400MF, options);
}

/**
 * torchvision's `regnet_y_800mf` (6,432,512 parameters with the defaults,
 * 5,649,291 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetY800mf({ inChannels: 1, numClasses: 3 }).numParameters()); // 5649291
 * ```
 */
export function regnetY800mf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY800mf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY800mf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_800MF, options);
}

/**
 * torchvision's `regnet_y_1_6gf` (11,202,430 parameters with the defaults,
 * 10,315,521 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetY1_6gf({ inChannels: 1, numClasses: 3 }).numParameters()); // 10315521
 * ```
 */
export function regnetY1_6gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY1_6gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY1_6gf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_1_6GF, options);
}

/**
 * torchvision's `regnet_y_3_2gf` (19,436,338 parameters with the defaults,
 * 17,927,301 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetY3_2gf({ inChannels: 1, numClasses: 3 }).numParameters()); // 17927301
 * ```
 */
export function regnetY3_2gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY3_2gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY3_2gf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_3_2GF, options);
}

/**
 * torchvision's `regnet_y_8gf` (39,381,472 parameters with the defaults,
 * 37,369,947 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetY8gf({ inChannels: 1, numClasses: 3 }).numParameters()); // 37369947
 * ```
 */
export function regnetY8gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY8gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY8gf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_8GF, options);
}

/**
 * torchvision's `regnet_y_16gf` (83,590,140 parameters with the defaults,
 * 80,573,639 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetBlockParams(models.REGNET_Y_16GF.design).widths); // [224, 448, 1232, 3024]
 * ```
 */
export function regnetY16gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY16gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY16gf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_16GF, options);
}

/**
 * torchvision's `regnet_y_32gf` (145,046,770 parameters with the defaults,
 * 141,344,333 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetBlockParams(models.REGNET_Y_32GF.design).widths); // [232, 696, 1392, 3712]
 * ```
 */
export function regnetY32gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY32gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY32gf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_32GF, options);
}

/**
 * torchvision's `regnet_y_128gf` (644,812,894 parameters with the defaults;
 * 2.6 GB of float32 weights).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.regnetBlockParams(models.REGNET_Y_128GF.design).widths); // [528, 1056, 2904, 7392]
 * ```
 */
export function regnetY128gf(options: RegNetOptions = {}): RegNet {
  const usage = "models.regnetY128gf({ inChannels: 1, numClasses: 3 })";
  checkArity("models.regnetY128gf", arguments.length, 1, usage);
  return new RegNet(REGNET_Y_128GF, options);
}
