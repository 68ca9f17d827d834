/**
 * Crops and pads of volumes, MONAI's: `SpatialPad`, `CenterSpatialCrop`,
 * `ResizeWithPadOrCrop`, `CropForeground` and `RandSpatialCrop`.
 *
 * As MONAI's, crops never pad: a `roiSize` larger than the volume keeps the
 * volume's size along that axis (so outputs can be smaller than asked; end
 * with `ResizeWithPadOrCrop` or `SpatialPad` for one size), and pads never
 * crop. Entries <= 0 in a size keep the volume's size (MONAI's
 * `fall_back_tuple`).
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { bool, num } from "../transform.ts";
import { box } from "./ops.ts";
import {
  centerBox,
  type PadMethod,
  type PadMode,
  padModeValue,
  padOrCrop,
  padVol,
  type PadWhere,
  spatialPad,
} from "./pad_modes.ts";
import { VolumeTransform } from "./transform.ts";
import { resolveSize, size3, spatial, type Vol } from "./volume.ts";

export type { PadMethod, PadMode } from "./pad_modes.ts";

/** Checks a pad's method, mode and fill value. */
class PadArgs {
  readonly method: PadMethod;
  readonly mode: PadMode;
  readonly value: number;
  readonly #where: PadWhere;
  constructor(name: string, params: { method?: PadMethod; mode?: PadMode; value?: number }) {
    const method = params.method ?? "symmetric";
    if (method !== "symmetric" && method !== "end") {
      throw new Error(`${name}: method must be "symmetric" or "end", got ${fmt(params.method)}`);
    }
    this.method = method;
    ({ mode: this.mode, value: this.value } = padModeValue(name, params, "constant"));
    this.#where = { name, key: "mode", hint: ", or a smaller spatialSize" };
  }

  /** Pads `v` to at least `target` per axis. */
  pad(v: Vol, target: readonly number[]): Vol {
    return spatialPad(this.#where, v, target, this.method, this.mode, this.value);
  }

  /** Crops (centre) or pads `v` to `target` per axis. */
  padOrCrop(v: Vol, target: readonly number[]): Vol {
    return padOrCrop(this.#where, v, target, this.method, this.mode, this.value);
  }
}

/**
 * Pads each spatial axis up to `spatialSize` (MONAI's `SpatialPad`):
 * "symmetric" puts floor(extra / 2) before and the rest after, "end" all
 * after. An axis already as large or larger is left as it is (a pad never
 * crops). `mode` is MONAI's (default "constant", which fills with `value`,
 * default 0; `value` is refused with any other mode, as MONAI's): torch's
 * "reflect" (refused where the pad is as wide as the axis, as torch's),
 * "replicate" and "circular" (any width, as numpy's "wrap"), numpy's
 * "edge", "wrap", "symmetric", "linear_ramp", "maximum", "mean",
 * "median", "minimum" (statistics of the whole line along the axis, the
 * axes padded in order D, H, W, as numpy.pad) and "empty" (numpy leaves it
 * uninitialized; 0 here).
 *
 * @example
 * ```ts
 * import { data, ones } from "@lits/vision";
 * using x = ones([1, 3, 4, 4]);
 * using y = new data.transforms.volume.SpatialPad({ spatialSize: [4, 4, 2] }).apply(x);
 * using z = new data.transforms.volume.SpatialPad({ spatialSize: 6, mode: "reflect" }).apply(x);
 * console.log(y.shape, z.shape); // [1, 4, 4, 4] [1, 6, 6, 6]
 * ```
 */
export class SpatialPad extends VolumeTransform {
  readonly #size: [number, number, number];
  readonly #pad: PadArgs;
  /** `spatialSize`, `method` ("symmetric"), `mode` ("constant"), `value` (0, mode "constant"). */
  constructor(
    params: {
      spatialSize: number | [number, number, number];
      method?: PadMethod;
      mode?: PadMode;
      value?: number;
    },
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["spatialSize", "method", "mode", "value"],
      p: null,
      usage: "{ spatialSize: [64, 128, 128] }",
    });
    this.#size = size3(this.name, "spatialSize", params.spatialSize);
    this.#pad = new PadArgs(this.name, params);
  }
  /** The pad, per axis. */
  protected run(v: Vol): Vol {
    return this.#pad.pad(v, resolveSize(this.#size, spatial(v)));
  }
}

/**
 * Crops the centre box of `roiSize` (MONAI's `CenterSpatialCrop`): it
 * starts at max(size // 2 - roi // 2, 0), so an odd excess puts the extra
 * voxel at the start (torchvision rounds it the other way). An axis smaller
 * than the roi is kept whole: no padding, as MONAI.
 *
 * @example
 * ```ts
 * import { data, zeros } from "@lits/vision";
 * using x = zeros([1, 10, 12, 12]);
 * using y = new data.transforms.volume.CenterSpatialCrop({ roiSize: [8, 8, 16] }).apply(x);
 * console.log(y.shape); // [1, 8, 8, 12]
 * ```
 */
export class CenterSpatialCrop extends VolumeTransform {
  readonly #roi: [number, number, number];
  /** `roiSize`: a number or [D, H, W] (<= 0 keeps that size). */
  constructor(params: { roiSize: number | [number, number, number] }) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["roiSize"],
      p: null,
      usage: "{ roiSize: [64, 128, 128] }",
    });
    this.#roi = size3(this.name, "roiSize", params.roiSize);
  }
  /** The centre box. */
  protected run(v: Vol): Vol {
    const dhw = spatial(v);
    return box(v, ...centerBox(dhw, resolveSize(this.#roi, dhw)));
  }
}

/**
 * Crops (centre) or pads each spatial axis to exactly `spatialSize`
 * (MONAI's `ResizeWithPadOrCrop`: `CenterSpatialCrop` then `SpatialPad`,
 * with its `method`, `mode` and `value`), so every output has one size,
 * ready to batch.
 *
 * @example
 * ```ts
 * import { data, zeros } from "@lits/vision";
 * using x = zeros([1, 10, 40, 20]);
 * const t = new data.transforms.volume.ResizeWithPadOrCrop({ spatialSize: 32, mode: "edge" });
 * using y = t.apply(x);
 * console.log(y.shape); // [1, 32, 32, 32]
 * ```
 */
export class ResizeWithPadOrCrop extends VolumeTransform {
  readonly #size: [number, number, number];
  readonly #pad: PadArgs;
  /** `spatialSize`, `method` ("symmetric"), `mode` ("constant"), `value` (0, mode "constant"). */
  constructor(
    params: {
      spatialSize: number | [number, number, number];
      method?: PadMethod;
      mode?: PadMode;
      value?: number;
    },
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["spatialSize", "method", "mode", "value"],
      p: null,
      usage: "{ spatialSize: [64, 128, 128] }",
    });
    this.#size = size3(this.name, "spatialSize", params.spatialSize);
    this.#pad = new PadArgs(this.name, params);
  }
  /** Centre crop, then pad. */
  protected run(v: Vol): Vol {
    return this.#pad.padOrCrop(v, resolveSize(this.#size, spatial(v)));
  }
}

/**
 * Crops to the bounding box of the foreground (MONAI's `CropForeground`):
 * voxels above `threshold` (default 0: MONAI's `select_fn`, x > 0) in any
 * of the channels `channelIndices` (default all, as MONAI's None; the
 * dictionary form's `source_key` picks the image instead), grown by
 * `margin` voxels (a number or [D, H, W]). With `allowSmaller` (default
 * true, as MONAI's) the grown box stops at the volume's edge; false pads
 * past it with `mode` (MONAI's pad modes, as `SpatialPad`'s: default
 * "constant", filling with `value`, default 0). A volume with no foreground is returned whole (MONAI
 * returns an empty volume). `selectFn` is not taken, as a function cannot
 * travel in a spec: write `threshold`.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const v = new Float32Array(4 * 4 * 4);
 * v[1 * 16 + 1 * 4 + 2] = 5; // one voxel at (1, 1, 2)
 * using x = tensor(v, [1, 4, 4, 4]);
 * using y = new data.transforms.volume.CropForeground({ margin: 1 }).apply(x);
 * console.log(y.shape); // [1, 3, 3, 3]
 * ```
 */
export class CropForeground extends VolumeTransform {
  readonly #threshold: number;
  readonly #channels: number[] | null;
  readonly #margin: [number, number, number];
  readonly #allowSmaller: boolean;
  readonly #mode: PadMode;
  readonly #value: number;
  /** `threshold` (0), `channelIndices` (all), `margin` (0), `allowSmaller` (true), `mode`, `value`. */
  constructor(
    params: {
      threshold?: number;
      channelIndices?: number | number[] | null;
      margin?: number | [number, number, number];
      allowSmaller?: boolean;
      mode?: PadMode;
      value?: number;
    } = {},
  ) {
    if (params !== null && typeof params === "object" && "selectFn" in params) {
      throw new Error(
        `volume.CropForeground: selectFn is not taken (a function cannot travel in a spec); ` +
          `write threshold: t for voxels > t (MONAI's default select_fn is x > 0: threshold 0)`,
      );
    }
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["threshold", "channelIndices", "margin", "allowSmaller", "mode", "value"],
      p: null,
      usage: "{ threshold: 0, margin: 4 }",
    });
    this.#threshold = num(this.name, "threshold", params.threshold ?? 0);
    const ch = params.channelIndices;
    const list = typeof ch === "number" ? [ch] : ch;
    if (list !== undefined && list !== null && !Array.isArray(list)) {
      throw new Error(`${this.name}: channelIndices must be a channel or a list, got ${fmt(ch)}`);
    }
    this.#channels =
      list?.map((c) => num(this.name, "channelIndices", c, { min: 0, integer: true })) ?? null;
    const m = params.margin ?? 0;
    const margin = typeof m === "number" ? [m, m, m] : Array.isArray(m) ? m : [];
    if (margin.length !== 3) {
      throw new Error(
        `${this.name}: margin must be a number or [D, H, W] numbers of voxels, got ${fmt(m)}`,
      );
    }
    this.#margin = margin.map((x) => num(this.name, "margin", x, { min: 0, integer: true })) as [
      number,
      number,
      number,
    ];
    this.#allowSmaller = bool(this.name, "allowSmaller", params.allowSmaller, true);
    ({ mode: this.#mode, value: this.#value } = padModeValue(this.name, params, "constant"));
  }
  /** The box of voxels > threshold, grown by the margin. */
  protected run(v: Vol): Vol {
    const [c, d, h, w] = v.shape;
    const channels = this.#channels ?? Array.from({ length: c }, (_, i) => i);
    for (const k of channels) {
      if (k >= c) {
        throw new Error(
          `${this.name}: channelIndices has ${k}, but the volume [${v.shape}] has ${c} channels`,
        );
      }
    }
    const lo = [Infinity, Infinity, Infinity], hi = [-1, -1, -1];
    const t = this.#threshold, x = v.data;
    for (const k of channels) {
      for (let z = 0; z < d; z++) {
        for (let y = 0; y < h; y++) {
          const row = ((k * d + z) * h + y) * w;
          for (let i = 0; i < w; i++) {
            if (!(x[row + i] > t)) continue;
            if (z < lo[0]) lo[0] = z;
            if (z > hi[0]) hi[0] = z;
            if (y < lo[1]) lo[1] = y;
            if (y > hi[1]) hi[1] = y;
            if (i < lo[2]) lo[2] = i;
            if (i > hi[2]) hi[2] = i;
          }
        }
      }
    }
    if (hi[0] < 0) return v;
    const dhw = [d, h, w];
    const start = lo.map((l, i) => l - this.#margin[i]);
    const end = hi.map((e, i) => e + this.#margin[i] + 1);
    // MONAI's crop_pad: the part inside the volume, then (allowSmaller false) the pad past it.
    const inStart = start.map((s) => Math.max(s, 0));
    const inEnd = end.map((e, i) => Math.min(e, dhw[i]));
    const cropped = box(v, inStart, inEnd.map((e, i) => e - inStart[i]));
    if (this.#allowSmaller) return cropped;
    const where = { name: this.name, key: "mode", hint: ", or a smaller margin" };
    const before = start.map((s) => Math.max(-s, 0));
    const after = end.map((e, i) => Math.max(e - dhw[i], 0));
    return padVol(where, cropped, before, after, this.#mode, this.#value);
  }
}

/**
 * Crops a box of `roiSize` at a random position (MONAI's `RandSpatialCrop`;
 * always applies, so it takes no `p`, as MONAI's has no prob). An axis
 * smaller than the roi is kept whole (no padding, as MONAI). With
 * `randomCenter: false` the box is the centre one; with `randomSize: true`
 * (default false, MONAI 1.3's) each size is drawn uniformly from
 * roiSize..maxRoiSize (default the volume's size), which is an error where
 * roiSize exceeds it, as MONAI's.
 *
 * @example
 * ```ts
 * import { data, zeros } from "@lits/vision";
 * const t = new data.transforms.volume.RandSpatialCrop({ roiSize: [16, 32, 32] });
 * using x = zeros([1, 20, 40, 40]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 16, 32, 32]
 * ```
 */
export class RandSpatialCrop extends VolumeTransform {
  readonly #roi: [number, number, number];
  readonly #maxRoi: [number, number, number] | null;
  readonly #randomCenter: boolean;
  readonly #randomSize: boolean;
  /** `roiSize`, `maxRoiSize` (default: the volume), `randomCenter` (true), `randomSize` (false). */
  constructor(
    params: {
      roiSize: number | [number, number, number];
      maxRoiSize?: number | [number, number, number] | null;
      randomCenter?: boolean;
      randomSize?: boolean;
    },
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["roiSize", "maxRoiSize", "randomCenter", "randomSize"],
      p: null,
      usage: "{ roiSize: [64, 128, 128] }",
    });
    this.#roi = size3(this.name, "roiSize", params.roiSize);
    this.#maxRoi = params.maxRoiSize === undefined || params.maxRoiSize === null
      ? null
      : size3(this.name, "maxRoiSize", params.maxRoiSize);
    this.#randomCenter = bool(this.name, "randomCenter", params.randomCenter, true);
    this.#randomSize = bool(this.name, "randomSize", params.randomSize, false);
    if (this.#maxRoi && !this.#randomSize) {
      throw new Error(`${this.name}: maxRoiSize applies with randomSize: true only`);
    }
  }
  /** Draws the size (randomSize), then the corner (randomCenter), one axis after another. */
  protected run(v: Vol, rng: Rng): Vol {
    const dhw = spatial(v);
    let size: number[] = resolveSize(this.#roi, dhw);
    if (this.#randomSize) {
      const max = this.#maxRoi ? resolveSize(this.#maxRoi, dhw) : dhw;
      if (size.some((s, i) => s > max[i])) {
        throw new Error(
          `${this.name}: roiSize [${size}] is larger than the largest size [${max}] ` +
            `(maxRoiSize, or the volume [${v.shape}])`,
        );
      }
      size = size.map((s, i) => rng.int(s, max[i] + 1));
    }
    if (!this.#randomCenter) return box(v, ...centerBox(dhw, size));
    const valid = size.map((s, i) => Math.min(s, dhw[i]));
    const start = valid.map((s, i) => dhw[i] > s ? rng.int(0, dhw[i] - s + 1) : 0);
    return box(v, start, valid);
  }
}
