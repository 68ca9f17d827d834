/**
 * The synthetic generator's knobs and its two presets.
 *
 * - `easy`: 64^2, balanced classes, big (25-60 mm), flat-ended, fat-dark
 *   lesions deep inside contrast-enhanced livers, little noise, no
 *   gallbladder. A tiny CNN separates the classes in seconds (about 0.9 test
 *   accuracy after 10 epochs over 24 patients' 480 slices); for unit tests.
 * - `realistic`: 128^2, LiTS's class mix (about 69 % no liver, 18 % liver,
 *   13 % liver + lesion), lesions 5-80 mm (log-uniform, so most are small),
 *   20-70 HU darker than the liver and some brighter, 25 % unenhanced scans
 *   whose vessels and gallbladder look like lesions, noise 8-25 HU. A small
 *   CNN should reach roughly 0.8-0.9 accuracy, not 1.0: the smallest and
 *   faintest lesions are at the edge of what the pixels can show.
 *
 * @module
 */
import { checkShares } from "../split_shares.ts";

/** Everything that shapes a synthetic LiTS dataset. */
export interface SynthSettings {
  /** Output image side in pixels. */
  size: number;
  /** Number of simulated patients. */
  patients: number;
  /** Axial slices per patient (pelvis to chest), before per-patient jitter of +-15 %. */
  slicesPerPatient: number;
  /** Target share of slices per class [no liver, liver, liver + lesion]. */
  classMix: [number, number, number];
  /** Per-patient noise standard deviation range (HU), drawn uniformly. */
  noiseHU: [number, number];
  /** How much darker than the liver a hypodense lesion is (HU range). */
  lesionContrastHU: [number, number];
  /** Lesion diameter range (mm), drawn log-uniformly. */
  lesionDiameterMM: [number, number];
  /**
   * Lesion shape along the body axis: 2 = ellipsoid (a lesion's first and
   * last slices show only a sliver), larger = flatter ends, so that almost
   * every labelled lesion slice shows the lesion clearly.
   */
  lesionShapePower: number;
  /** Share of lesions brighter than the liver (hyperdense). */
  hyperdenseShare: number;
  /** Share of unenhanced scans. */
  unenhancedShare: number;
  /** Share of patients with a (lesion-like, fluid-dark) gallbladder. */
  gallbladderShare: number;
  /** Amplitude (HU) of slow tissue texture. */
  textureHU: number;
  /** Display window [low, high] in HU. */
  window: [number, number];
  /** Fewest output pixels of liver for `liver_visible` (default: 0.1 % of the image, at least 4). */
  minLiverPixels?: number;
  /** Fewest output pixels of lesion for `lesion_visible` (default: size^2 / 5000, at least 2). */
  minLesionPixels?: number;
  /** Share of patients for [train, val, test]. */
  splits: [number, number, number];
}

/** The preset names. */
export type PresetName = "easy" | "realistic";

/**
 * The two presets' settings (see the module doc). Override any field through
 * `synthesizeLiTS`'s options.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * console.log(data.SYNTH_PRESETS.realistic.classMix); // [0.69, 0.18, 0.13]
 * ```
 */
export const SYNTH_PRESETS: Readonly<Record<PresetName, Readonly<SynthSettings>>> = {
  easy: {
    size: 64,
    patients: 24,
    slicesPerPatient: 20,
    classMix: [0.34, 0.33, 0.33],
    noiseHU: [4, 8],
    lesionContrastHU: [150, 200],
    lesionDiameterMM: [25, 60],
    lesionShapePower: 8,
    hyperdenseShare: 0,
    unenhancedShare: 0,
    gallbladderShare: 0,
    textureHU: 2,
    window: [-200, 250],
    splits: [0.7, 0.15, 0.15],
  },
  realistic: {
    size: 128,
    patients: 30,
    slicesPerPatient: 100,
    classMix: [0.69, 0.18, 0.13],
    noiseHU: [8, 25],
    lesionContrastHU: [20, 70],
    lesionDiameterMM: [5, 80],
    lesionShapePower: 2,
    hyperdenseShare: 0.1,
    unenhancedShare: 0.25,
    gallbladderShare: 0.75,
    textureHU: 6,
    window: [-200, 250],
    splits: [0.7, 0.15, 0.15],
  },
};

/** The settings with defaults filled in and checked. */
export function resolveSettings(s: SynthSettings): Required<SynthSettings> {
  const fail = (msg: string) => {
    throw new RangeError(`synthesizeLiTS: ${msg}`);
  };
  if (!(Number.isInteger(s.size) && s.size >= 16)) {
    fail(`size must be an integer >= 16, not ${s.size}`);
  }
  if (!(Number.isInteger(s.patients) && s.patients >= 1)) {
    fail(`patients must be >= 1, not ${s.patients}`);
  }
  if (!(Number.isInteger(s.slicesPerPatient) && s.slicesPerPatient >= 4)) {
    fail(`slicesPerPatient must be an integer >= 4, not ${s.slicesPerPatient}`);
  }
  checkShares(s.splits, "synthesizeLiTS"); // before an old dataset is cleared
  const mix = s.classMix;
  if (mix.length !== 3 || mix.some((v) => !(v >= 0)) || !(mix[1] + mix[2] > 0)) {
    fail(`classMix must be three shares with some liver, not ${JSON.stringify(mix)}`);
  }
  const total = mix[0] + mix[1] + mix[2];
  if (!(mix[0] / total > 0.05)) fail("classMix needs at least 5 % slices without liver");
  if (s.window[1] <= s.window[0]) fail(`window ${s.window} is empty`);
  return {
    ...s,
    classMix: [mix[0] / total, mix[1] / total, mix[2] / total],
    minLiverPixels: s.minLiverPixels ?? Math.max(4, Math.round(s.size * s.size * 0.001)),
    minLesionPixels: s.minLesionPixels ?? Math.max(2, Math.round((s.size * s.size) / 5000)),
  };
}
