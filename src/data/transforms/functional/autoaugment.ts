/**
 * The ops of torchvision's automatic augmentations (AutoAugment,
 * RandAugment, TrivialAugmentWide, AugMix) given their parameters: one op
 * by name and magnitude (torchvision's `_apply_op`), and AugMix's mixing of
 * augmentation chains. The classes in ../autoaugment.ts draw the
 * parameters; these apply them.
 *
 * Value range: torchvision runs these on uint8 images (its posterize and
 * equalize refuse floats, and its Solarize magnitudes are uint8 thresholds,
 * 255 down to 0). Images here are floats whose `valueRange` (default
 * [0, 1]) plays uint8's 0..255: the geometric ops, Brightness, Contrast,
 * Sharpness, AutoContrast and Invert run as torchvision's on a float image
 * (no rounding to 1/255 steps); Posterize and Equalize quantise to 8-bit
 * levels as `convert_image_dtype` does and convert back (`F.posterize`,
 * `F.equalize`); Solarize's threshold is `lo + (hi - lo) * magnitude / 255`.
 * On an image on the 1/255 grid all of these equal torchvision's uint8
 * result divided by 255, except that the float ops are not rounded. CT in
 * Hounsfield units must be mapped to [0, 1] first (`ScaleIntensityRange`)
 * or given its window as `valueRange`: with the default range every value
 * below 0 is black and above 1 white.
 *
 * @module
 */
import { checkOptions } from "../../../options.ts";
import type { Image } from "../../types.ts";
import { checkImage, checkValueRange, fmt, oneGrey, recycle, scratchImage } from "../image.ts";
import {
  adjustBrightness,
  adjustSharpness,
  autocontrast,
  blendContrast,
  equalize,
  invert,
  posterize,
  solarize,
  type ValueRange,
} from "./color.ts";
import { affine, affineMatrix, rotate } from "./geometry.ts";
import { type Interpolation, inverseAffineTheta, warpAffine, warpNearestTheta } from "./warp.ts";

/** The ops of torchvision's `_apply_op`. */
export type AugmentOpName =
  | "Identity"
  | "ShearX"
  | "ShearY"
  | "TranslateX"
  | "TranslateY"
  | "Rotate"
  | "Brightness"
  | "Color"
  | "Contrast"
  | "Sharpness"
  | "Posterize"
  | "Solarize"
  | "AutoContrast"
  | "Equalize"
  | "Invert";

const OPS: readonly AugmentOpName[] = [
  "Identity",
  "ShearX",
  "ShearY",
  "TranslateX",
  "TranslateY",
  "Rotate",
  "Brightness",
  "Color",
  "Contrast",
  "Sharpness",
  "Posterize",
  "Solarize",
  "AutoContrast",
  "Equalize",
  "Invert",
];

/** One drawn op: its name and signed magnitude (torchvision's units, see `applyAugmentOp`). */
export interface AugmentOp {
  /** The op. */
  op: AugmentOpName;
  /** Its magnitude, sign included. */
  magnitude: number;
}

/** Options of `applyAugmentOp` and `augMix`. */
export interface AugmentOpOptions {
  /** How the geometric ops read between pixels: "nearest" (default, torchvision's) or "bilinear". */
  interpolation?: Interpolation;
  /**
   * Value of the pixels the geometric ops uncover (default black, the
   * range's `lo`: torchvision's `fill=None`). With bilinear interpolation a
   * fill other than black gives other border pixels than torchvision's (see
   * functional/warp.ts); nearest matches. A list of one value too, as
   * torchvision's `fill=[v]`.
   */
  fill?: number | [number];
  /** Black and white, [lo, hi] (default [0, 1]): what uint8's 0 and 255 are. */
  valueRange?: ValueRange;
}

const KEYS = ["interpolation", "fill", "valueRange"] as const;

/** Checked options: interpolation, fill, range. */
function opOptions(
  op: string,
  options: unknown,
): { interpolation: Interpolation; fill: number; range: [number, number] } {
  const o = checkOptions<AugmentOpOptions>(op, options, [...KEYS], '{ interpolation: "nearest" }');
  const interpolation = o.interpolation ?? "nearest";
  if (interpolation !== "nearest" && interpolation !== "bilinear") {
    throw new Error(
      `${op}: interpolation must be "nearest" or "bilinear", got ${fmt(interpolation)}`,
    );
  }
  const range = checkValueRange(op, o.valueRange ?? [0, 1]);
  const fill = oneGrey(op, o.fill) ?? range[0];
  if (typeof fill !== "number" || !Number.isFinite(fill)) {
    throw new Error(`${op}: fill must be a finite number (one grey value), got ${fmt(fill)}`);
  }
  return { interpolation, fill, range };
}

/**
 * Shear about the top-left corner, as torchvision's `_apply_op` (its
 * `F.affine(..., center=[0, 0])`: the pivot is pixel (-0.5, -0.5)), by
 * `degrees` along x or y.
 */
function shear(
  image: Image,
  degrees: [number, number],
  interpolation: Interpolation,
  fill: number,
) {
  if (interpolation === "nearest") {
    // torchvision's center_f for center [0, 0], and its float32 grid (warp.ts).
    const center: [number, number] = [-image.width * 0.5, -image.height * 0.5];
    return warpNearestTheta(image, inverseAffineTheta(center, 0, [0, 0], 1, degrees), fill);
  }
  const m = affineMatrix(image.width, image.height, { shear: degrees });
  const p = -0.5;
  m[2] = p - m[0] * p - m[1] * p;
  m[5] = p - m[3] * p - m[4] * p;
  return warpAffine(image, m, { interpolation, fill });
}

/**
 * One op of the automatic augmentations, as torchvision's `_apply_op(img,
 * op_name, magnitude, interpolation, fill)`; the magnitude is in
 * torchvision's units:
 *
 * - ShearX, ShearY: the shear factor (the shear angle is atan(magnitude)),
 *   about the top-left corner;
 * - TranslateX, TranslateY: pixels, truncated to an integer;
 * - Rotate: degrees, counter-clockwise, about the centre;
 * - Brightness, Contrast, Sharpness: the factor minus 1 (`F.adjustBrightness`,
 *   `F.blendContrast`, `F.adjustSharpness`); Color too, and it changes
 *   nothing: a grey image has no saturation (torchvision returns a
 *   one-channel image unchanged);
 * - Posterize: bits, truncated to an integer (`F.posterize`);
 * - Solarize: the threshold in uint8 units, 0..255 (`F.solarize` at
 *   `lo + (hi - lo) * magnitude / 255`);
 * - AutoContrast, Equalize, Invert, Identity: no magnitude.
 *
 * See the module doc for the value range. Identity and Color return the
 * input image itself.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const { F } = data.transforms;
 * const img = { data: new Float32Array([0.25, 0.5, 0.75, 1]), width: 4, height: 1 };
 * console.log([...F.applyAugmentOp(img, "TranslateX", 1.7).data]); // [0, 0.25, 0.5, 0.75]
 * console.log([...F.applyAugmentOp(img, "Solarize", 127.5).data]); // [0.25, 0.5, 0.25, 0]
 * ```
 */
export function applyAugmentOp(
  image: Image,
  op: AugmentOpName,
  magnitude: number,
  options: AugmentOpOptions = {},
): Image {
  const name = "applyAugmentOp";
  checkImage(image, name);
  if (!OPS.includes(op)) {
    throw new Error(`${name}: unknown op ${fmt(op)} (known: ${OPS.join(", ")})`);
  }
  if (typeof magnitude !== "number" || !Number.isFinite(magnitude)) {
    throw new Error(`${name}: magnitude of ${op} must be a finite number, got ${fmt(magnitude)}`);
  }
  const { interpolation, fill, range } = opOptions(name, options);
  const [lo, hi] = range;
  const factor = 1 + magnitude;
  switch (op) {
    case "Identity":
      return image;
    case "ShearX":
      return shear(image, [Math.atan(magnitude) * (180 / Math.PI), 0], interpolation, fill);
    case "ShearY":
      return shear(image, [0, Math.atan(magnitude) * (180 / Math.PI)], interpolation, fill);
    case "TranslateX":
      return affine(image, { translate: [Math.trunc(magnitude), 0], interpolation, fill });
    case "TranslateY":
      return affine(image, { translate: [0, Math.trunc(magnitude)], interpolation, fill });
    case "Rotate":
      return rotate(image, magnitude, { interpolation, fill });
    case "Brightness":
      return adjustBrightness(image, factor, range);
    case "Color":
      if (!(factor >= 0)) {
        throw new Error(`${name}: Color's factor 1 + magnitude must be >= 0, got ${factor}`);
      }
      return image;
    case "Contrast":
      return blendContrast(image, factor, range);
    case "Sharpness":
      return adjustSharpness(image, factor, range);
    case "Posterize":
      return posterize(image, Math.trunc(magnitude), range);
    case "Solarize":
      return solarize(image, lo + (hi - lo) * Math.fround(magnitude / 255), range);
    case "AutoContrast":
      return autocontrast(image, range);
    case "Equalize":
      return equalize(image, range);
    case "Invert":
      return invert(image, range);
  }
}

/** What AugMix draws: the original's weight and each chain's weight and ops. */
export interface AugMixParams {
  /** Weight of the original image (torchvision's `m[0]`, from Beta(alpha, alpha)). */
  original: number;
  /**
   * The augmentation chains: each one's weight (its Dirichlet weight times
   * `m[1]`) and its ops, applied in order to the original.
   */
  chains: { weight: number; ops: AugmentOp[] }[];
}

/**
 * AugMix given its draws: `original * x + sum(weight_i * chain_i(x))`, each
 * chain applying its ops in turn with `applyAugmentOp` (torchvision's
 * `AugMix.forward` once its random numbers are drawn; on floats nothing is
 * rounded). The weights are not checked to sum to 1.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0.2, 0.4]), width: 2, height: 1 };
 * const out = data.transforms.F.augMix(img, {
 *   original: 0.5,
 *   chains: [{ weight: 0.5, ops: [{ op: "Invert", magnitude: 0 }] }],
 * });
 * console.log([...out.data].map((v) => v.toFixed(2))); // ["0.50", "0.50"]
 * ```
 */
export function augMix(image: Image, params: AugMixParams, options: AugmentOpOptions = {}): Image {
  const name = "augMix";
  checkImage(image, name);
  opOptions(name, options);
  const weight = (v: unknown, what: string) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`${name}: ${what} must be a finite number, got ${fmt(v)}`);
    }
    return Math.fround(v);
  };
  const chains = params?.chains;
  if (!Array.isArray(chains)) {
    throw new Error(
      `${name}: params must be { original, chains: [{ weight, ops: [{ op, magnitude }] }] }, ` +
        `got ${fmt(params)}`,
    );
  }
  const m0 = weight(params.original, "params.original");
  const src = image.data, out = scratchImage(image.width, image.height), mix = out.data;
  // float32 as torchvision's: mix = m0 * x, then mix += w_i * aug_i.
  for (let i = 0; i < src.length; i++) mix[i] = m0 * src[i];
  chains.forEach((chain, c) => {
    const w = weight(chain?.weight, `params.chains[${c}].weight`);
    if (!Array.isArray(chain.ops)) {
      throw new Error(`${name}: params.chains[${c}].ops must be an array, got ${fmt(chain.ops)}`);
    }
    let aug = image;
    for (const step of chain.ops) {
      const next = applyAugmentOp(aug, step?.op, step?.magnitude, options);
      if (aug !== image && next.data !== aug.data) recycle(aug.data);
      aug = next;
    }
    const a = aug.data;
    for (let i = 0; i < mix.length; i++) mix[i] += Math.fround(w * a[i]);
    if (aug !== image) recycle(aug.data);
  });
  return out;
}
