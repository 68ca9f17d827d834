/**
 * MONAI's transform names that are no volume transform here, each a
 * function that throws naming what to write (`new V.EnsureChannelFirst()`
 * was "not a constructor"): the loading and channel ones (the dataset does
 * their work), the dictionary forms of the 3-D classification tutorial (the
 * array transform of the same name, without keys) and the post-transforms
 * (tensor methods). Not volume transforms, so `fromSpec` does not know them
 * (its own hint names the same).
 *
 * @module
 */
import { type MonaiName, monaiName } from "../../monai_names.ts";

const V = "data.transforms.volume";
const CHANNEL_FIRST = "data.VolumeDataset reads each file channel-first ([C, D, H, W]); " +
  "leave it out: V.compose([new V.ScaleIntensity(), new V.Resize({ spatialSize: [96, 96, " +
  "96] })])";
const TENSORS = "the DataLoader makes float32 tensors; leave it out";

/** MONAI's dictionary transform `name` + "d": the array transform here, without keys. */
function dict(array: string, example: string): MonaiName {
  return monaiName(
    `${V}.${array}d`,
    `its dictionary transforms are the array transforms here, applied to the image itself ` +
      `(no keys; the label stays as it is): write ${example}`,
  );
}

/** @deprecated MONAI's name: `data.VolumeDataset` reads each file channel-first; leave it out. */
export const EnsureChannelFirst: MonaiName = monaiName(`${V}.EnsureChannelFirst`, CHANNEL_FIRST);
/** @deprecated MONAI's name: `data.VolumeDataset` reads each file channel-first; leave it out. */
export const AddChannel: MonaiName = monaiName(`${V}.AddChannel`, CHANNEL_FIRST);
/** @deprecated MONAI's name: `data.VolumeDataset` reads the files; leave it out. */
export const LoadImage: MonaiName = monaiName(
  `${V}.LoadImage`,
  "data.VolumeDataset reads the NIfTI files (channel-first); give it the paths: new " +
    "data.VolumeDataset([{ image: path, label }], { transform })",
);
/** @deprecated MONAI's name: the DataLoader makes float32 tensors; leave it out. */
export const EnsureType: MonaiName = monaiName(`${V}.EnsureType`, TENSORS);
/** @deprecated MONAI's name: the DataLoader makes float32 tensors; leave it out. */
export const ToTensor: MonaiName = monaiName(`${V}.ToTensor`, TENSORS);

/**
 * @deprecated MONAI's name: `data.VolumeDataset` reads the files, channel-first.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * try {
 *   new data.transforms.volume.LoadImaged({ keys: ["img"], ensure_channel_first: true });
 * } catch (e) {
 *   console.log((e as Error).message.includes("data.VolumeDataset")); // true
 * }
 * ```
 */
export const LoadImaged: MonaiName = monaiName(
  `${V}.LoadImaged`,
  "data.VolumeDataset reads the files channel-first; its items are MONAI's dicts with the " +
    'path as image: new data.VolumeDataset([{ image: "img.nii.gz", label: 0 }], { transform })',
);
/** @deprecated MONAI's name: `data.VolumeDataset` reads each file channel-first; leave it out. */
export const EnsureChannelFirstd: MonaiName = monaiName(`${V}.EnsureChannelFirstd`, CHANNEL_FIRST);
/** @deprecated MONAI's name: the DataLoader makes float32 tensors; leave it out. */
export const EnsureTyped: MonaiName = monaiName(`${V}.EnsureTyped`, TENSORS);
/** @deprecated MONAI's name: write `new data.transforms.volume.ScaleIntensity()`. */
export const ScaleIntensityd: MonaiName = dict("ScaleIntensity", "new V.ScaleIntensity()");
/** @deprecated MONAI's name: write `new data.transforms.volume.ScaleIntensityRange({ ... })`. */
export const ScaleIntensityRanged: MonaiName = dict(
  "ScaleIntensityRange",
  "new V.ScaleIntensityRange({ aMin: -175, aMax: 250, bMin: 0, bMax: 1, clip: true })",
);
/** @deprecated MONAI's name: write `new data.transforms.volume.Resize({ spatialSize })`. */
export const Resized: MonaiName = dict(
  "Resize",
  "new V.Resize({ spatialSize: [96, 96, 96] })",
);
/** @deprecated MONAI's name: write `new data.transforms.volume.RandRotate90({ p, spatialAxes })`. */
export const RandRotate90d: MonaiName = dict(
  "RandRotate90",
  "new V.RandRotate90({ p: 0.8, spatialAxes: [0, 2] }) (MONAI's prob is p), in the " +
    "DataLoader's transform",
);
/** @deprecated MONAI's name: write `new data.transforms.volume.RandFlip({ p, spatialAxis })`. */
export const RandFlipd: MonaiName = dict(
  "RandFlip",
  "new V.RandFlip({ p: 0.5, spatialAxis: 0 }) (MONAI's prob is p), in the DataLoader's transform",
);

/**
 * @deprecated MONAI's post-transform: write `yPred.softmax(1)` (or `.sigmoid()`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * try {
 *   new data.transforms.volume.Activations({ softmax: true });
 * } catch (e) {
 *   console.log((e as Error).message.includes("softmax(1)")); // true
 * }
 * ```
 */
export const Activations: MonaiName = monaiName(
  `${V}.Activations`,
  "a post-transform is a tensor method here, on the whole batch: Activations(softmax=True) " +
    "is yPred.softmax(1), sigmoid=True is yPred.sigmoid(); metrics.rocAucScore(y, " +
    "yPred.softmax(1)) takes the [N, C] probabilities",
);
/** @deprecated MONAI's post-transform: write `yPred.argmax(1)`; the metrics take class indices. */
export const AsDiscrete: MonaiName = monaiName(
  `${V}.AsDiscrete`,
  "a post-transform is a tensor method here, on the whole batch: AsDiscrete(argmax=True) is " +
    "yPred.argmax(1), to_onehot=C is F.oneHot(y, C); the metrics take the class indices as " +
    "they are (metrics.rocAucScore(y, yPred.softmax(1)), MONAI's ROCAUCMetric on one-hot y)",
);
