/**
 * MONAI's class names of the 3-D DenseNets (`monai.networks.nets.
 * DenseNet121(spatial_dims=3, in_channels=1, out_channels=2)`), each a
 * function that throws naming the builder (`new models.DenseNet121(...)`
 * was "not a constructor").
 *
 * @module
 */
import { type MonaiName, monaiName } from "../data/monai_names.ts";

function builder(depth: number): MonaiName {
  return monaiName(
    `models.DenseNet${depth}`,
    `write models.densenet3d${depth}({ inChannels: 1, numClasses: 2 }) for spatial_dims=3 ` +
      `(MONAI's state-dict names; out_channels is numClasses), or models.densenet${depth}() ` +
      `for torchvision's 2-D DenseNet`,
  );
}

/**
 * @deprecated MONAI's name: write `models.densenet3d121({ inChannels, numClasses })`.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * try {
 *   new models.DenseNet121({ spatial_dims: 3, in_channels: 1, out_channels: 2 });
 * } catch (e) {
 *   console.log((e as Error).message.includes("models.densenet3d121({ inChannels: 1, numClasses: 2 })")); // true
 * }
 * ```
 */
export const DenseNet121: MonaiName = builder(121);
/** @deprecated MONAI's name: write `models.densenet3d169({ inChannels, numClasses })`. */
export const DenseNet169: MonaiName = builder(169);
/** @deprecated MONAI's name: write `models.densenet3d201({ inChannels, numClasses })`. */
export const DenseNet201: MonaiName = builder(201);
/** @deprecated MONAI's name: write `models.densenet3d264({ inChannels, numClasses })`. */
export const DenseNet264: MonaiName = builder(264);
