/**
 * MONAI's names for what `data` does otherwise, each a function that
 * throws naming what to write (`new data.ImageDataset(...)` was "not a
 * constructor"), marked deprecated so an editor strikes it through with the
 * same advice. The transforms' names are in transforms/volume/monai_names.ts.
 *
 * @module
 */

/** A MONAI name kept only to throw: called or constructed, it says what to write. */
export type MonaiName = { new (...args: unknown[]): never; (...args: unknown[]): never };

/** A function that throws `say` when called or constructed (MONAI's classes are both here). */
export function monaiName(where: string, say: string): MonaiName {
  const refuse = function (): never {
    throw new Error(`${where} is MONAI's name: ${say}`);
  };
  return refuse as unknown as MonaiName;
}

/**
 * @deprecated MONAI's name: write `new data.VolumeDataset(items, { transform })`
 * with `items = images.map((image, i) => ({ image, label: labels[i] }))`, and
 * give random transforms to the DataLoader.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * try {
 *   new data.ImageDataset({ image_files: ["a.nii.gz"], labels: [0] });
 * } catch (e) {
 *   console.log((e as Error).message.includes("data.VolumeDataset")); // true
 * }
 * ```
 */
export const ImageDataset: MonaiName = monaiName(
  "data.ImageDataset",
  "write new data.VolumeDataset(images.map((image, i) => ({ image, label: labels[i] })), " +
    "{ transform: V.compose([new V.ScaleIntensity(), new V.Resize({ spatialSize: [96, 96, " +
    "96] })]) }) (V = data.transforms.volume; it reads each file channel-first, so " +
    "EnsureChannelFirst is left out), and give the random transforms to the loader: new " +
    "data.DataLoader(ds, { batchSize: 2, shuffle: true, transform: V.compose([new " +
    "V.RandRotate90()]) }); batch[0] and batch[1] are the images and labels",
);

const DECOLLATE = "the metrics take the batch tensors as they are " +
  "(metrics.rocAucScore(y, yPred.softmax(1))); y.unbind(0) gives the per-sample tensors";

/**
 * @deprecated MONAI's name: the metrics take batch tensors; `x.unbind(0)` gives the samples.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * try {
 *   data.decollateBatch([]);
 * } catch (e) {
 *   console.log((e as Error).message.includes("unbind(0)")); // true
 * }
 * ```
 */
export const decollateBatch: MonaiName = monaiName("data.decollateBatch", DECOLLATE);

/**
 * @deprecated MONAI's name: the metrics take batch tensors; `x.unbind(0)` gives the samples.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * try {
 *   data.decollate_batch([]);
 * } catch (e) {
 *   console.log((e as Error).message.includes("rocAucScore")); // true
 * }
 * ```
 */
export const decollate_batch: MonaiName = monaiName("data.decollate_batch", DECOLLATE);
