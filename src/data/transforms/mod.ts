/**
 * Image transforms for CT slices, in two styles as torchvision:
 *
 * - functional, `transforms.F.*`: pure functions of an image and explicit
 *   parameters (`F.rotate(image, 10)`, `F.resize(image, [224, 224])`);
 * - composable classes with random parameters drawn from an explicit `Rng`,
 *   each random one applied with probability `p` (as MONAI's `prob`).
 *
 * Every composable transform is plain data underneath (`t.spec`, e.g.
 * `{ name: "RandomAffine", degrees: 10, p: 0.8 }`), so a `DataLoader` can
 * send it to its worker threads, which rebuild it with `fromSpec`.
 * `ct()` is the documented CT augmentation preset (see presets.ts for why
 * each transform is in it or not). torchvision's photo augmentations
 * (`RandomResizedCrop`, `RandomPerspective`, `ColorJitter`, `RandomInvert`,
 * `RandomPosterize`, `RandomSolarize`, `RandomAdjustSharpness`,
 * `RandomAutocontrast`, `RandomEqualize`), its automatic ones
 * (`AutoAugment`, `RandAugment`, `TrivialAugmentWide`, `AugMix`: on [0, 1]
 * images, or a CT window given as `valueRange`) and its random containers
 * (`RandomApply`, `RandomChoice`, `RandomOrder`) are here too, each
 * documenting why it helps or hurts CT.
 *
 * `apply(input, rng?)` takes an `Image` or a `[N, 1, H, W]` batch tensor;
 * without `rng` it draws from the stream `manualSeed` seeds.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const T = data.transforms;
 * const aug = T.compose([
 *   new T.RandomAffine({ degrees: 10, translate: [0.05, 0.05], p: 0.8 }),
 *   new T.RandomGaussianNoise({ std: 0.02, p: 0.5 }),
 *   new T.Normalize({ mean: 0.2, std: 0.25 }),
 * ]);
 * const img = { data: new Float32Array(64 * 64).fill(0.2), width: 64, height: 64 };
 * const out = aug.apply(img, data.Rng.forSample(42, 0, 0));
 * const again = T.fromSpec(JSON.parse(JSON.stringify(aug.spec))).apply(img, data.Rng.forSample(42, 0, 0));
 * console.log(out.data.every((v, i) => v === again.data[i])); // true
 * ```
 *
 * @module
 */
export * as F from "./functional/mod.ts";
export { Transform, type TransformOptions, type TransformSpec } from "./transform.ts";
export { Compose, compose, fromSpec, transformNames } from "./compose.ts";
export * from "./classes.ts";
export { ct, type CtPresetOptions } from "./presets.ts";
export { CutMix, type MixOptions, MixUp } from "./mix.ts";
export * as volume from "./volume/mod.ts";
