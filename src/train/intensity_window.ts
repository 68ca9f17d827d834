/**
 * `--input-window`: the Hounsfield-unit window a run clips its inputs to, as a
 * radiologist reads the liver in a narrow soft-tissue window rather than
 * the course's wide [-200, 250] HU of the PNGs (MONAI's LiTS pipelines do
 * the same with `ScaleIntensityRange(a_min, a_max, clip=True)`). The slices
 * on disk are 8-bit PNGs of a known HU window, so the HU window becomes a
 * window on the [0, 1] intensities the dataset gives.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TransformSpec } from "../data/transforms/transform.ts";
import { DATA_WINDOW } from "./setup.ts";

/**
 * The HU range a data folder's PNGs span: the window its
 * `synthetic_lits.json` records, else the course's [-200, 250]
 * (`DATA_WINDOW`: what `deno task import-lits` writes by default).
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(train.dataWindow("no/such/folder")); // [-200, 250]
 * ```
 */
export function dataWindow(root: string): [number, number] {
  const file = join(root, "synthetic_lits.json");
  if (!existsSync(file)) return [DATA_WINDOW[0], DATA_WINDOW[1]];
  let window: unknown;
  try {
    window = JSON.parse(Deno.readTextFileSync(file))?.summary?.settings?.window;
  } catch (e) {
    throw new Error(`${file}: not readable JSON (${(e as Error).message})`);
  }
  if (!isWindow(window)) {
    throw new Error(`${file}: summary.settings.window must be [lo, hi] in HU`);
  }
  return [window[0], window[1]];
}

/**
 * Whether `w` is a window: two finite numbers, the first below the second.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(train.isWindow([25, 125]), train.isWindow([125, 25])); // true false
 * ```
 */
export function isWindow(w: unknown): w is [number, number] {
  return Array.isArray(w) && w.length === 2 && w.every(Number.isFinite) && w[0] < w[1];
}

/**
 * The transform that clips [0, 1] inputs of images spanning `data` HU to
 * `window` HU and rescales them to [0, 1].
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const t = train.windowTransform([0, 150], [-200, 250]);
 * console.log(t.aMin.toFixed(4), t.aMax.toFixed(4)); // "0.4444" "0.7778"
 * ```
 */
export function windowTransform(
  window: readonly [number, number],
  data: readonly [number, number],
): TransformSpec & { aMin: number; aMax: number } {
  const unit = (hu: number) => (hu - data[0]) / (data[1] - data[0]);
  return {
    name: "ScaleIntensityRange",
    aMin: unit(window[0]),
    aMax: unit(window[1]),
    bMin: 0,
    bMax: 1,
    clip: true,
  };
}

/**
 * The warning a run prints when its `window` reaches outside the HU range
 * the data's images hold: those Hounsfield units were clipped when the
 * images were written, so the window's ends see no tissue and the data fill
 * only part of [0, 1]. Null when the window lies within the data's range.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(train.windowWarning([25, 125], [-200, 250])); // null
 * console.log(train.windowWarning([-1000, 1000], [-200, 250])!.slice(0, 34)); // "warning: --input-window -1000,1000"
 * ```
 */
export function windowWarning(
  window: readonly [number, number],
  data: readonly [number, number],
): string | null {
  if (window[0] >= data[0] && window[1] <= data[1]) return null;
  const lo = Math.max(0, (data[0] - window[0]) / (window[1] - window[0]));
  const hi = Math.min(1, (data[1] - window[0]) / (window[1] - window[0]));
  const share = lo < hi ? `[${lo.toFixed(3)}, ${hi.toFixed(3)}]` : "none";
  return `warning: --input-window ${window[0]},${window[1]} reaches outside the ${data[0]}..` +
    `${data[1]} HU that the data's images hold (the rest was clipped when they were written); ` +
    `the inputs fill ${share} of [0, 1]`;
}

/**
 * How a run's slices are scaled to [0, 1] before its transforms: each by its
 * own min and max (the course's default), but by the bit depth's maximum
 * when the transforms clip an input window, which is in units of the data's
 * HU window: stretched first, a slice that does not reach both ends of it
 * was clipped at the wrong Hounsfield units.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(train.sliceScaling([train.windowTransform([25, 125], [-200, 250])])); // "none"
 * ```
 */
export function sliceScaling(transforms: readonly TransformSpec[]): "minmax" | "none" {
  return transforms.some((t) => t.name === "ScaleIntensityRange") ? "none" : "minmax";
}
