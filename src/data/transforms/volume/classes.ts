/**
 * Every volume transform class: the one list `volume.fromSpec`'s registry
 * is built from, so exporting a class here is what registers it.
 *
 * @module
 */
export * from "./croppad.ts";
export * from "./intensity.ts";
export * from "./spatial.ts";
export { Affine, RandAffine } from "./affine.ts";
export { RandRotate, Rotate } from "./rotate.ts";
export type { SampleMode, SamplePadding } from "./sample3d.ts";
export { RandZoom, Zoom, type ZoomPadMode } from "./zoom.ts";
export {
  AdjustContrast,
  RandAdjustContrast,
  ScaleIntensity,
  ScaleIntensityRangePercentiles,
  ShiftIntensity,
  ThresholdIntensity,
} from "./intensity_more.ts";
export { RandBiasField, RandHistogramShift } from "./intensity_rand.ts";
export {
  type GaussianApprox,
  GaussianSharpen,
  GaussianSmooth,
  RandGaussianSharpen,
  RandGaussianSmooth,
} from "./smooth.ts";
