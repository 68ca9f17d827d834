/**
 * Zoom of volumes, MONAI's `Zoom` and `RandZoom`: F.interpolate with
 * scale_factor and recompute_scale_factor=True (that is, `Resize` to
 * floor(size * zoom), which this file runs), then, with `keepSize`, a
 * centred crop or pad back to the input size with MONAI's pad modes.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { bool, num } from "../transform.ts";
import { type InterpKernel, interpMode, Resize, type ResizeMode } from "./spatial.ts";
import { checkPadMode, type PadMode, padOrCrop } from "./pad_modes.ts";
import { VolumeTransform } from "./transform.ts";
import { spatial, type Vol } from "./volume.ts";

/**
 * MONAI's pad modes that Zoom takes (its `Pad`: torch's F.pad for
 * "constant", "reflect", "replicate" and "circular", with numpy's "edge"
 * and "wrap" mapped to the last two; numpy.pad for the rest): the volume
 * pads' `PadMode`.
 */
export type ZoomPadMode = PadMode;

/** Zoom's resampling options. */
interface ZoomOptions {
  mode: InterpKernel;
  padMode: ZoomPadMode;
  alignCorners: boolean | undefined;
  keepSize: boolean;
}

/** Checks `mode`, `paddingMode`, `alignCorners` and `keepSize`. */
function zoomOptions(
  name: string,
  params: {
    mode?: ResizeMode;
    paddingMode?: ZoomPadMode;
    alignCorners?: boolean;
    keepSize?: boolean;
  },
): ZoomOptions {
  const mode = interpMode(name, params.mode);
  const padMode = checkPadMode(name, "paddingMode", params.paddingMode, "edge");
  if (params.alignCorners !== undefined && mode !== "trilinear") {
    throw new Error(
      `${name}: alignCorners applies to mode "trilinear" only, not "${mode}" (as torch)`,
    );
  }
  return {
    mode,
    padMode,
    alignCorners: params.alignCorners === undefined
      ? undefined
      : bool(name, "alignCorners", params.alignCorners, false),
    keepSize: bool(name, "keepSize", params.keepSize, true),
  };
}

/** MONAI's zoom: Resize to floor(n * z), then (keepSize) crop or pad back. */
function zoomVol(name: string, v: Vol, zoom: readonly number[], o: ZoomOptions, rng: Rng): Vol {
  const dhw = spatial(v);
  const size = dhw.map((n, i) => Math.floor(n * zoom[i]));
  const empty = size.findIndex((s) => s < 1);
  if (empty >= 0) {
    throw new Error(
      `${name}: zoom ${zoom[empty]} makes axis ${empty} of ${dhw[empty]} voxels ` +
        `${size[empty]} voxels (floor(size * zoom) must be >= 1)`,
    );
  }
  const resize = new Resize({
    spatialSize: size as [number, number, number],
    mode: o.mode,
    ...(o.alignCorners === undefined ? {} : { alignCorners: o.alignCorners }),
  });
  const zoomed = resize.applyHost(v, rng); // deterministic: draws nothing
  if (!o.keepSize || size.every((s, i) => s === dhw[i])) return zoomed;
  const where = { name, key: "paddingMode", hint: ", or a zoom closer to 1" };
  return padOrCrop(where, zoomed, dhw, "symmetric", o.padMode);
}

/** Zoom factors: a number (all three axes) or `len` numbers in `lens`, each > 0. */
function factors(name: string, key: string, v: unknown, lens: readonly number[]): number[] {
  const list = typeof v === "number" ? [v] : Array.isArray(v) ? v : null;
  if (!list || !lens.includes(list.length)) {
    throw new Error(
      `${name}: ${key} must be a number or ${
        lens.length > 1 ? "a list of 1, 2 or 3" : "[depth, height, width]"
      } zoom factors (> 0), got ${fmt(v)}`,
    );
  }
  return list.map((z) => num(name, key, z, { above: 0 }));
}

/**
 * Zooms the volume by `zoom` (MONAI's `Zoom`): a number for all three
 * axes or [D, H, W] factors (> 1 magnifies). F.interpolate with
 * scale_factor and recompute_scale_factor=True: the size becomes
 * floor(size * zoom), with `mode` "area" (default, as MONAI's),
 * "trilinear", "nearest" or "nearest-exact" (`alignCorners` for trilinear;
 * MONAI's "linear", "bilinear" and spline order 1 are trilinear on a
 * volume, order 0 "nearest-exact"). With `keepSize` (default true) the
 * result is centre-cropped or padded back to the input size, padding with
 * `paddingMode` (default "edge", as MONAI's; "constant" pads 0, "reflect",
 * "symmetric", "wrap", torch's "replicate" and "circular", and numpy's
 * "linear_ramp", "maximum", "mean", "median", "minimum" and "empty", which
 * numpy leaves uninitialized and which pads 0 here).
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * using x = randn([1, 8, 16, 16]);
 * using y = new data.transforms.volume.Zoom({ zoom: 1.5, mode: "trilinear" }).apply(x);
 * using z = new data.transforms.volume.Zoom({ zoom: [1, 0.5, 0.5], keepSize: false }).apply(x);
 * console.log(y.shape, z.shape); // [1, 8, 16, 16] [1, 8, 8, 8]
 * ```
 */
export class Zoom extends VolumeTransform {
  readonly #zoom: number[];
  readonly #options: ZoomOptions;
  /** `zoom`, `mode` ("area"), `paddingMode` ("edge"), `alignCorners`, `keepSize` (true). */
  constructor(
    params: {
      zoom: number | [number, number, number];
      mode?: ResizeMode;
      paddingMode?: ZoomPadMode;
      alignCorners?: boolean;
      keepSize?: boolean;
    },
  ) {
    super(params, arguments.length, {
      keys: ["zoom", "mode", "paddingMode", "alignCorners", "keepSize"],
      p: null,
      usage: "{ zoom: 1.2 }",
    });
    const z = factors(this.name, "zoom", params.zoom, [1, 3]);
    this.#zoom = z.length === 1 ? [z[0], z[0], z[0]] : z;
    this.#options = zoomOptions(this.name, params);
  }
  /** Interpolate, then crop or pad back. */
  protected run(v: Vol, rng: Rng): Vol {
    return zoomVol(this.name, v, this.#zoom, this.#options, rng);
  }
}

/**
 * With probability `p` (default 0.1), zooms by factors drawn uniformly
 * from [minZoom, maxZoom) (defaults 0.9 and 1.1; numpy's `uniform(min,
 * max)`, so a minZoom above maxZoom draws from (maxZoom, minZoom], as
 * MONAI's), as `Zoom` (MONAI's `RandZoom`). One factor (a number) is drawn once for all three axes,
 * which keeps the shape's ratios; three give one per axis; two give
 * [z0, z0, z1] (the first for axes 0 and 1, the second for axis 2, as
 * MONAI's: on `VolumeDataset`'s voxels, in the file's order as MONAI's
 * [X, Y, Z], that is the two in-plane axes of an axial CT together and its
 * slice axis alone). Draws, after the one for `p`: one per factor, in order.
 * `mode` "area", `paddingMode` "edge", `keepSize` true by default.
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.RandZoom({ p: 1, minZoom: 0.8, maxZoom: 1.2, mode: "trilinear" });
 * using x = randn([1, 8, 16, 16]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 8, 16, 16]
 * ```
 */
export class RandZoom extends VolumeTransform {
  readonly #min: number[];
  readonly #max: number[];
  readonly #options: ZoomOptions;
  /** `p` (0.1), `minZoom` (0.9), `maxZoom` (1.1), `mode`, `paddingMode`, `alignCorners`, `keepSize`. */
  constructor(
    params: {
      p?: number;
      minZoom?: number | number[];
      maxZoom?: number | number[];
      mode?: ResizeMode;
      paddingMode?: ZoomPadMode;
      alignCorners?: boolean;
      keepSize?: boolean;
    } = {},
  ) {
    super(params, arguments.length, {
      keys: ["minZoom", "maxZoom", "mode", "paddingMode", "alignCorners", "keepSize"],
      p: 0.1,
      usage: "{ p: 0.5, minZoom: 0.9, maxZoom: 1.1 }",
    });
    const n = this.name;
    this.#min = factors(n, "minZoom", params.minZoom ?? 0.9, [1, 2, 3]);
    this.#max = factors(n, "maxZoom", params.maxZoom ?? 1.1, [1, 2, 3]);
    if (this.#min.length !== this.#max.length) {
      throw new Error(
        `${n}: minZoom and maxZoom must have the same length, got ${fmt(params.minZoom)} and ` +
          `${fmt(params.maxZoom)}`,
      );
    }
    this.#options = zoomOptions(n, params);
  }
  /** Draws the factors, then zooms. */
  protected run(v: Vol, rng: Rng): Vol {
    const z = this.#min.map((lo, i) => rng.uniform(lo, this.#max[i]));
    const zoom = z.length === 1 ? [z[0], z[0], z[0]] : z.length === 2 ? [z[0], z[0], z[1]] : z;
    return zoomVol(this.name, v, zoom, this.#options, rng);
  }
}
