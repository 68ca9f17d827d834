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
import { VolumeTransform } from "./transform.ts";
import { emptyVol, spatial, type Vol } from "./volume.ts";

/**
 * MONAI's pad modes that Zoom takes (its `Pad`: torch's F.pad for
 * "constant", "reflect", "replicate" and "circular", with numpy's "edge"
 * and "wrap" mapped to the last two; numpy.pad for the rest).
 */
export type ZoomPadMode =
  | "edge"
  | "constant"
  | "reflect"
  | "symmetric"
  | "wrap"
  | "replicate"
  | "circular"
  | "linear_ramp"
  | "maximum"
  | "mean"
  | "median"
  | "minimum"
  | "empty";
const PAD_MODES: readonly ZoomPadMode[] = [
  "edge",
  "constant",
  "reflect",
  "symmetric",
  "wrap",
  "replicate",
  "circular",
  "linear_ramp",
  "maximum",
  "mean",
  "median",
  "minimum",
  "empty",
];
/** The modes that copy voxels (an index per padded voxel); the others compute values per axis. */
type IndexPad = "edge" | "constant" | "reflect" | "symmetric" | "wrap" | "replicate" | "circular";
const INDEX_PADS: readonly string[] = PAD_MODES.slice(0, 7);

/**
 * The input index that index `i` (outside [0, n) where it pads) of an axis
 * of `n` voxels reads under `mode` (numpy's pad rules); -1 for "constant"
 * outside the volume.
 */
function padIndex(i: number, n: number, mode: IndexPad): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case "constant":
      return -1;
    case "edge":
    case "replicate":
      return i < 0 ? 0 : n - 1;
    case "wrap":
    case "circular":
      return ((i % n) + n) % n;
    case "symmetric": {
      const k = ((i % (2 * n)) + 2 * n) % (2 * n);
      return k < n ? k : 2 * n - 1 - k;
    }
    case "reflect": {
      if (n === 1) return 0;
      const p = 2 * (n - 1), k = ((i % p) + p) % p;
      return k < n ? k : p - k;
    }
  }
}

/**
 * MONAI's `ResizeWithPadOrCrop` to `size` with pad `mode`: per axis a
 * centred crop (start size // 2 - roi // 2) or a symmetric pad
 * (floor(extra / 2) before), the pad's values given by `mode`.
 */
function padOrCrop(name: string, v: Vol, size: readonly number[], mode: ZoomPadMode): Vol {
  if (!INDEX_PADS.includes(mode)) {
    // Crop first (MONAI crops, then pads), then numpy.pad's axis-by-axis statistics.
    const cropped = padOrCrop(name, v, spatial(v).map((n, a) => Math.min(n, size[a])), "constant");
    return numpyPad(cropped, size, mode);
  }
  const dhw = spatial(v);
  const maps = dhw.map((n, a) => {
    const t = size[a];
    const start = n >= t ? Math.floor(n / 2) - Math.floor(t / 2) : -Math.floor((t - n) / 2);
    if (mode === "reflect" && n < t && Math.max(-start, t - n + start) >= n) {
      throw new Error(
        `${name}: paddingMode "reflect" pads ${Math.max(-start, t - n + start)} voxels ` +
          `onto an axis of ${n} (torch's reflect pad needs fewer, and MONAI stops there); ` +
          `use "symmetric" or "edge", or a zoom closer to 1`,
      );
    }
    return Int32Array.from({ length: t }, (_, o) => padIndex(start + o, n, mode as IndexPad));
  });
  const [c] = v.shape;
  const out = emptyVol([c, size[0], size[1], size[2]]);
  const [, h, w] = dhw;
  const src = v.data, dst = out.data;
  let o = 0;
  for (let ch = 0; ch < c; ch++) {
    const cBase = ch * dhw[0] * h * w;
    for (const z of maps[0]) {
      for (const y of maps[1]) {
        if (z < 0 || y < 0) {
          o += size[2];
          continue;
        }
        const row = cBase + (z * h + y) * w;
        for (const x of maps[2]) dst[o++] = x < 0 ? 0 : src[row + x];
      }
    }
  }
  return out;
}

/** float32 rounding. */
const f32 = Math.fround;

/** numpy's median of float32 values (the mean of the two middle ones for an even count). */
function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : f32((s[m - 1] + s[m]) / 2);
}

/**
 * numpy.pad of `v` (every axis <= `size`) to `size`, symmetric (floor(extra
 * / 2) before), with the modes that compute values: "maximum", "minimum",
 * "mean", "median" (the statistic of the whole line along the axis),
 * "linear_ramp" (from the edge value to 0 at the outer end) and "empty"
 * (numpy leaves it uninitialized; 0 here). As numpy, the axes are padded
 * in order D, H, W, each over the values the earlier axes padded (so the
 * corners come from the last axis).
 */
function numpyPad(v: Vol, size: readonly number[], mode: ZoomPadMode): Vol {
  let cur = v;
  for (let a = 0; a < 3; a++) {
    const n = cur.shape[a + 1], t = size[a];
    if (n === t) continue;
    const before = Math.floor((t - n) / 2), after = t - n - before;
    const shape = [...cur.shape] as [number, number, number, number];
    shape[a + 1] = t;
    const out = emptyVol(shape);
    // Lines along axis a: outer (channels and earlier axes) x inner (later axes).
    const inner = shape.slice(a + 2).reduce((p, q) => p * q, 1);
    const outer = shape.slice(0, a + 1).reduce((p, q) => p * q, 1);
    const src = cur.data, dst = out.data;
    const line = new Array<number>(n);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const sBase = o * n * inner + i, dBase = o * t * inner + i;
        for (let k = 0; k < n; k++) {
          line[k] = src[sBase + k * inner];
          dst[dBase + (before + k) * inner] = line[k];
        }
        let lo = 0, hi = 0;
        if (mode === "maximum") lo = hi = Math.max(...line);
        else if (mode === "minimum") lo = hi = Math.min(...line);
        else if (mode === "mean") lo = hi = f32(line.reduce((p, q) => p + q, 0) / n);
        else if (mode === "median") lo = hi = median(line);
        for (let k = 0; k < before; k++) {
          // numpy's linspace(0, edge, before, endpoint=False) in float32.
          const val = mode === "linear_ramp" ? f32(f32(line[0] / before) * k) : lo;
          dst[dBase + k * inner] = mode === "empty" ? 0 : val;
        }
        for (let k = 0; k < after; k++) {
          const val = mode === "linear_ramp" ? f32(f32(line[n - 1] / after) * k) : hi;
          dst[dBase + (t - 1 - k) * inner] = mode === "empty" ? 0 : val;
        }
      }
    }
    cur = out;
  }
  return cur;
}

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
  const padMode = params.paddingMode ?? "edge";
  if (!PAD_MODES.includes(padMode)) {
    const grid: Record<string, string> = {
      zeros: "constant",
      border: "edge",
      reflection: "reflect",
    };
    const hint = typeof padMode === "string" && padMode in grid
      ? ` (Zoom pads as MONAI's SpatialPad, with numpy's and torch's pad names; MONAI refuses ` +
        `grid_sample's "${padMode}": write "${grid[padMode]}")`
      : "";
    throw new Error(
      `${name}: paddingMode must be one of ${PAD_MODES.join(", ")}, got ${
        fmt(params.paddingMode)
      }${hint}`,
    );
  }
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
  return padOrCrop(name, zoomed, dhw, o.padMode);
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
