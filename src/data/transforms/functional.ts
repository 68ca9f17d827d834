/**
 * The functional transforms (`transforms.F`): pure functions of an image and
 * explicit parameters (and an `Rng` where they draw noise), as
 * torchvision's `transforms.functional`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const { F } = data.transforms;
 * const img = { data: new Float32Array(64 * 64).fill(0.5), width: 64, height: 64 };
 * const out = F.normalize(F.rotate(F.resize(img, [32, 32]), 10), 0.5, 0.25);
 * console.log(out.width, out.height); // 32 32
 * ```
 *
 * @module
 */
export {
  affine,
  affineMatrix,
  type AffineParams,
  displace,
  hflip,
  type Interpolation,
  resize,
  rotate,
  vflip,
  type WarpOptions,
  zoom,
} from "./geometric.ts";
export { warpAffine } from "./warp.ts";
export {
  type Box,
  centerCrop,
  crop,
  cropForeground,
  erase,
  foregroundBox,
  pad,
  type PadMode,
} from "./crop.ts";
export {
  adjustContrast,
  gaussianBlur,
  gaussianKernel,
  gaussianNoise,
  normalize,
  scaleIntensityRange,
  scaleShift,
} from "./intensity.ts";
export { type Displacement, elastic, elasticField } from "./elastic.ts";
export {
  adjustBrightness,
  blendContrast,
  invert,
  posterize,
  solarize,
  type ValueRange,
} from "./color.ts";
export { type Corners, perspective, perspectiveCoefficients } from "./perspective.ts";
export { resizedCrop } from "./resized_crop.ts";
