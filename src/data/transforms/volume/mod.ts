/**
 * Volume transforms for CT, MONAI's array transforms on one float32
 * [C, D, H, W] tensor (channel-first; spatial axes 0, 1, 2 are D, H, W),
 * with MONAI's names and defaults and camelCase options:
 *
 * - deterministic: `ScaleIntensityRange` (CT window), `NormalizeIntensity`,
 *   `Resize` (F.interpolate), `SpatialPad`, `CenterSpatialCrop`,
 *   `ResizeWithPadOrCrop`, `Flip`, `Rotate90`, `CropForeground`; and the
 *   resampling ones `Rotate` (any angle), `Zoom`, `Affine`; the intensity
 *   ones `ScaleIntensity` (min-max), `ScaleIntensityRangePercentiles`,
 *   `ThresholdIntensity`, `ShiftIntensity`, `AdjustContrast` (gamma),
 *   `GaussianSmooth`, `GaussianSharpen`;
 * - random, each applied with probability `p` (MONAI's `prob`, default
 *   0.1 as MONAI's): `RandFlip`, `RandRotate90`, `RandRotate`, `RandZoom`,
 *   `RandAffine`, `RandScaleIntensity`,
 *   `RandShiftIntensity`, `RandGaussianNoise`, `RandAdjustContrast`,
 *   `RandGaussianSmooth`, `RandGaussianSharpen`, `RandHistogramShift`,
 *   `RandBiasField`; and `RandSpatialCrop`, which
 *   always crops (MONAI's has no prob).
 *
 * `apply(volume, rng?)` returns a new tensor; the draws come from the `Rng`
 * given (or from the stream `manualSeed` seeds). Each transform is plain
 * data (`t.spec`, `{ name: "volume.RandFlip", p: 0.5, spatialAxis: 0 }`),
 * which `volume.fromSpec` rebuilds. Volume and 2-D transforms do not mix:
 * a volume `Compose` refuses a 2-D transform, the 2-D `fromSpec` does not
 * know "volume." names, and a volume transform refuses a 2-D `Image`.
 *
 * The `DataLoader` takes a volume pipeline as its `transform` for volume
 * samples (`data.VolumeDataset`), applies it per sample with the sample's
 * own `Rng`, in workers too, and batches them as [N, C, D, H, W].
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const V = data.transforms.volume;
 * const pipeline = V.compose([
 *   new V.ScaleIntensityRange({ aMin: -175, aMax: 250, bMin: 0, bMax: 1, clip: true }),
 *   new V.CropForeground({ margin: 2 }),
 *   new V.Resize({ spatialSize: [16, 32, 32], mode: "trilinear" }),
 *   new V.RandFlip({ p: 0.5, spatialAxis: 0 }),
 *   new V.RandGaussianNoise({ p: 0.5, std: 0.01 }),
 * ]);
 * using ct = randn([1, 20, 48, 48]).mul(300);
 * using x = pipeline.apply(ct, new data.Rng(7));
 * const again = V.fromSpec(JSON.parse(JSON.stringify(pipeline.spec)));
 * using y = again.apply(ct, new data.Rng(7));
 * console.log(x.shape, x.toArray().every((v, i) => v === y.toArray()[i])); // [1, 16, 32, 32] true
 * ```
 *
 * @module
 */
export { VolumeTransform, type VolumeTransformSpec } from "./transform.ts";
export { Compose, compose, fromSpec, transformNames, type VolumeTransformLike } from "./compose.ts";
export * from "./classes.ts";
export * from "./monai_names.ts";
