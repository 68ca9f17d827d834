/**
 * Data: the LiTS slice dataset, synthetic LiTS, NIfTI volumes and the
 * decoders behind them. Everything here works on plain typed arrays; batches
 * become tensors only in the loader.
 *
 * @module
 */
export type { Dataset, Image, LiTSLabel, Sample, Volume, VolumeSample } from "./types.ts";
export { LiTSDataset, type LiTSDatasetOptions, openDataset } from "./lits_dataset.ts";
export { decodeImage, encodeGreyPng, type GreyImage, minMaxNormalize } from "./image_decode.ts";
export {
  checkRelativePath,
  labelOf,
  type LabelRow,
  parseBoolean,
  parseLabelsCsv,
} from "./csv_labels.ts";
export {
  CacheDamagedError,
  type CacheHeader,
  CacheReader,
  fingerprintBytes,
  readCacheHeader,
  writeCache,
} from "./cache.ts";
export {
  SPLITS,
  synthesizeLiTS,
  type SynthesizeOptions,
  type SynthSummary,
} from "./synthetic/writer.ts";
export { type PresetName, SYNTH_PRESETS, type SynthSettings } from "./synthetic/presets.ts";
export { Rng } from "./rng.ts";
export * as transforms from "./transforms/mod.ts";
export {
  classBalancedSampler,
  classBalancedWeights,
  datasetLabels,
  RandomSampler,
  type Sampler,
  SequentialSampler,
  WeightedRandomSampler,
} from "./sampler.ts";
export { type Batch, DataLoader, type DataLoaderOptions, type UnbatchedOptions } from "./loader.ts";
export {
  type AnyDataset,
  type Collated,
  type CollateFn,
  defaultCollate,
  type NumberArray,
  type SampleOf,
} from "./collate.ts";
export { IterableDataset } from "./iterable_loader.ts";
export { SubsetRandomSampler } from "./subset_random_sampler.ts";
export { BatchSampler, type BatchSamplerLike } from "./batch_sampler.ts";
export { Subset } from "./subset.ts";
export { ConcatDataset } from "./concat.ts";
export { TensorDataset } from "./tensor_dataset.ts";
export {
  ImageFolder,
  type ImageFolderOptions,
  type ImageFolderSpec,
  IMG_EXTENSIONS,
} from "./image_folder.ts";
export { VolumeDataset, type VolumeDatasetOptions, type VolumeItem } from "./volume_dataset.ts";
export { decollate_batch, decollateBatch, ImageDataset, type MonaiName } from "./monai_names.ts";
export type {
  SpacingMode,
  SpacingOptions,
  SpacingPaddingMode,
  SpacingSpec,
} from "./volume_spacing.ts";
export { CacheDataset, type CacheDatasetOptions } from "./cache_dataset.ts";
export { PersistentDataset, type PersistentDatasetOptions } from "./persistent_dataset.ts";
export { randomSplit, type RandomSplitOptions } from "./random_split.ts";
export { TorchGenerator } from "./torch_generator.ts";
export { groupSplit, type GroupSplitOptions, volumeGroups } from "./group_split.ts";
export {
  NIFTI_DATATYPES,
  type NiftiHeader,
  type NiftiSlice,
  NiftiVolume,
  readNifti,
} from "./nifti.ts";
export {
  findLiTSPairs,
  type ImportLiTSOptions,
  type ImportLiTSSummary,
  importLiTSVolumes,
} from "./import_lits.ts";
export {
  type DicomImage,
  type DicomMeta,
  type DicomSeries,
  readDicom,
  type ReadDicomOptions,
  readDicomSeries,
  type ReadDicomSeriesOptions,
} from "./dicom/mod.ts";
