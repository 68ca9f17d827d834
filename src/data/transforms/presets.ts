/**
 * Ready-made augmentation pipelines, and why each transform suits axial CT
 * slices for liver / lesion classification or not.
 *
 * The `ct` preset, in order:
 *
 * | step | transform | why |
 * | --- | --- | --- |
 * | (opt.) | `CropForeground` + `Resize` | normalises the field of view: scanners reconstruct 32-50 cm circles, so the body fills more or less of the slice |
 * | 1 | `RandomAffine` degrees 10, translate 5 %, scale 0.9-1.1, p 0.5 | patients lie supine but a few degrees of roll, off-centre positioning and body size vary; one warp does rotation, translation and zoom at once |
 * | 2 | `RandomShiftScaleIntensity` offsets 0.05, factors 0.1, p 0.5 | contrast timing and scanner calibration shift organ brightness a little (0.05 is 5 HU of the train command's default 25..125 HU window, ~20 HU of a 450 HU one) |
 * | 3 | `RandomGamma` 0.87-1.15, p 0.3 | different display windows change mid-grey contrast between liver, lesion and spleen |
 * | 4 | `RandomGaussianNoise` std up to 0.02, p 0.5 | quantum noise varies with dose: 0.02 is 2 HU of the default 100 HU window and ~9 HU of a 450 HU one (real noise: 8-25 HU) |
 * | (opt.) | `Normalize` | fixed mean / std the model expects |
 *
 * Probabilities follow MONAI's MedNIST classification tutorial (rotation
 * and zoom each with prob 0.5): half the slices keep their true geometry.
 * The warp is most of the preset's cost (about 0.2 ms per 256^2 slice when
 * applied, 3x the intensity steps together), so its p also sets much of the
 * loader's throughput.
 *
 * Left out on purpose:
 *
 * - **Flips.** CT has fixed laterality (the patient's right, where the liver
 *   is, shows on the image's left; the spine is at the bottom). A mirrored
 *   slice puts the liver where the spleen is, a similarly bright organ, and
 *   throws away the strongest cue for class 1; an upside-down abdomen never
 *   occurs. Use them only for symmetric tasks.
 * - **Strong shear / large rotation.** Axial slices are not sheared in
 *   practice (gantry tilt shears along z, not within the slice); rotations
 *   beyond ~15 degrees put the spine where no scan has it.
 * - **Random crop, random erasing.** Both can remove the liver or the
 *   lesion and silently change the true label (2 -> 1, 1 -> 0).
 * - **Strong blur, elastic deformation.** Plausible (smooth reconstruction
 *   kernels, breathing, organ shape), but they can wipe out the 5-10 mm
 *   lesions that define class 2, and elastic is ~10x the cost of an affine.
 *   Add them mildly if the model overfits.
 * - **Colour jitter (brightness, hue, saturation).** Slices are one
 *   channel of calibrated Hounsfield units; there is no colour, and
 *   brightness is already covered, mildly, by step 2.
 * - **HU window (`ScaleIntensityRange`).** A preprocessing step for raw HU
 *   (NIfTI imports), not an augmentation: the course PNGs are windowed.
 *
 * @module
 */
import { type CallContract, checkContract } from "../../options.ts";
import { Compose } from "./compose.ts";
import { CropForeground } from "./crop.ts";
import { RandomAffine, Resize } from "./geometry.ts";
import {
  Normalize,
  RandomGamma,
  RandomGaussianNoise,
  RandomShiftScaleIntensity,
} from "./intensity.ts";
import type { Transform } from "./transform.ts";

/** Options of the `ct` preset. */
export interface CtPresetOptions {
  /** Crop to the body (threshold 0.1, margin 4 px) and resize to this size first. */
  size?: number | [number, number];
  /** Normalise at the end with this mean and std. */
  normalize?: { mean: number; std: number };
  /** Scale the augmentation strength: 0 turns augmentation off, 1 is the default. */
  strength?: number;
}

const CT_PRESET: CallContract<CtPresetOptions> = {
  where: "transforms.ct",
  most: 1,
  known: ["size", "normalize", "strength"],
  usage: "transforms.ct({ size: 128, strength: 1 })",
};

/**
 * The CT augmentation preset: small rotations and translations, mild zoom,
 * mild intensity jitter and noise; no flips, no colour ops, no strong shear
 * (see the module doc for the reasons).
 *
 * Its input is a slice already windowed to [0, 1] (the course PNGs, or raw
 * HU through `ScaleIntensityRange({ ..., clip: true })` first): the warp
 * fills with 0 (air, at the window's low end), and the intensity steps are
 * sized in units of the window (an offset of 0.05 is 5 HU of the train
 * command's default 25..125 HU window, 22 HU of a 450 HU one). On raw HU the
 * fill would be water and the jitter a fraction of 1 HU.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = data.transforms.ct({ size: 128 });
 * const img = { data: new Float32Array(256 * 256).fill(0.5), width: 256, height: 256 };
 * const out = t.apply(img, data.Rng.forSample(0, 0, 0));
 * console.log(out.width, out.height); // 128 128
 * ```
 */
export function ct(options: CtPresetOptions = {}): Compose {
  options = checkContract(CT_PRESET, arguments.length, options);
  const s = options.strength ?? 1;
  if (!(s >= 0 && s <= 3)) throw new Error(`ct preset: strength must be in [0, 3], got ${s}`);
  const steps: Transform[] = [];
  if (options.size !== undefined) {
    const size = typeof options.size === "number" ? [options.size, options.size] : options.size;
    steps.push(
      new CropForeground({ threshold: 0.1, margin: 4 }),
      new Resize({ size: size as [number, number] }),
    );
  }
  if (s > 0) {
    steps.push(
      new RandomAffine({
        degrees: 10 * s,
        translate: [0.05 * s, 0.05 * s],
        scale: [1 - 0.1 * s, 1 + 0.1 * s],
        interpolation: "bilinear",
        p: 0.5,
      }),
      new RandomShiftScaleIntensity({ offsets: 0.05 * s, factors: 0.1 * s, p: 0.5 }),
      new RandomGamma({ gamma: [1 / (1 + 0.15 * s), 1 + 0.15 * s], p: 0.3 }),
      new RandomGaussianNoise({ std: 0.02 * s, p: 0.5 }),
    );
  }
  if (options.normalize) steps.push(new Normalize(options.normalize));
  return new Compose({ transforms: steps });
}
