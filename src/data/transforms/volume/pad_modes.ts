/**
 * MONAI's pad modes on host volumes, one implementation for every volume
 * pad (`SpatialPad`, `ResizeWithPadOrCrop`, `CropForeground` and `Zoom`'s
 * keepSize): MONAI 1.3's `pad_nd` on a float32 tensor, that is torch's
 * F.pad for "constant", "reflect", "replicate" and "circular" (numpy's
 * "edge" and "wrap" mapped to the last two, and a circular pad wider than
 * the axis falling back to numpy's "wrap"), and numpy.pad for "symmetric",
 * "linear_ramp", "maximum", "mean", "median", "minimum" and "empty".
 * Not public.
 *
 * @module
 */
import { fmt } from "../image.ts";
import { box } from "./ops.ts";
import { emptyVol, spatial, type Vol } from "./volume.ts";

/**
 * MONAI's pad modes: torch's F.pad names ("constant", "reflect",
 * "replicate", "circular") and numpy.pad's ("edge", "wrap", "symmetric",
 * "linear_ramp", "maximum", "mean", "median", "minimum", "empty").
 */
export type PadMode =
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

/** Every pad mode, the ones that copy voxels first. */
export const PAD_MODES: readonly PadMode[] = [
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

/** grid_sample's padding names, which MONAI's pads refuse, and the pad mode to write. */
const GRID_NAMES: Record<string, PadMode> = {
  zeros: "constant",
  border: "edge",
  reflection: "reflect",
};

/**
 * Checks a pad mode (`key` of transform `name`; undefined gives
 * `fallback`): one of `PAD_MODES`, else an Error listing them, and for
 * grid_sample's names the one to write.
 */
export function checkPadMode(
  name: string,
  key: string,
  mode: unknown,
  fallback: PadMode,
): PadMode {
  const m = mode ?? fallback;
  if ((PAD_MODES as readonly unknown[]).includes(m)) return m as PadMode;
  const hint = typeof m === "string" && m in GRID_NAMES
    ? ` (MONAI's pads take numpy's and torch's pad names; MONAI refuses grid_sample's ` +
      `"${m}": write "${GRID_NAMES[m]}")`
    : "";
  throw new Error(
    `${name}: ${key} must be one of ${PAD_MODES.join(", ")}, got ${fmt(mode)}${hint}`,
  );
}

/**
 * The input index that index `i` (outside [0, n) where it pads) of an axis
 * of `n` voxels reads under `mode` (numpy's pad rules, which torch's
 * reflect, replicate and circular share where torch allows them); -1 for
 * "constant" outside the volume.
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

/** Where a pad error names the transform's option and what else to try. */
export interface PadWhere {
  /** The transform, as errors name it. */
  name: string;
  /** Its option that holds the mode ("mode", "paddingMode"). */
  key: string;
  /** What else to try, appended to a refused reflect pad's message. */
  hint?: string;
}

/**
 * MONAI's `pad_nd` of `v`: `before[a]` and `after[a]` voxels (>= 0) onto
 * spatial axis a, with `mode`; "constant" fills with `value`. A "reflect"
 * pad as wide as its axis or wider is an Error, as torch's reflect pad (and
 * so MONAI) refuses it; circular wraps any width (MONAI falls back to
 * numpy's "wrap" where torch's circular pad refuses).
 */
export function padVol(
  where: PadWhere,
  v: Vol,
  before: readonly number[],
  after: readonly number[],
  mode: PadMode,
  value = 0,
): Vol {
  if (before.every((b) => b === 0) && after.every((a) => a === 0)) return v;
  if (!INDEX_PADS.includes(mode)) return numpyPad(v, before, after, mode);
  const dhw = spatial(v);
  const maps = dhw.map((n, a) => {
    const wide = Math.max(before[a], after[a]);
    if (mode === "reflect" && wide >= n) {
      throw new Error(
        `${where.name}: ${where.key} "reflect" pads ${wide} voxels onto an axis of ${n} ` +
          `(torch's reflect pad needs fewer, and MONAI stops there); use "symmetric" or ` +
          `"edge"${where.hint ?? ""}`,
      );
    }
    const t = before[a] + n + after[a];
    return Int32Array.from({ length: t }, (_, o) => padIndex(o - before[a], n, mode as IndexPad));
  });
  const [c] = v.shape, [, h, w] = dhw;
  const size = maps.map((m) => m.length);
  const out = emptyVol([c, size[0], size[1], size[2]]);
  const src = v.data, dst = out.data;
  let o = 0;
  for (let ch = 0; ch < c; ch++) {
    const cBase = ch * dhw[0] * h * w;
    for (const z of maps[0]) {
      for (const y of maps[1]) {
        if (z < 0 || y < 0) {
          dst.fill(value, o, o + size[2]);
          o += size[2];
          continue;
        }
        const row = cBase + (z * h + y) * w;
        for (const x of maps[2]) dst[o++] = x < 0 ? value : src[row + x];
      }
    }
  }
  return out;
}

/** MONAI's `CenterSpatialCrop` box: start max(size // 2 - roi // 2, 0), clipped to the volume. */
export function centerBox(dhw: readonly number[], roi: readonly number[]): [number[], number[]] {
  const start = dhw.map((s, i) => Math.max(Math.floor(s / 2) - Math.floor(roi[i] / 2), 0));
  const size = dhw.map((s, i) => Math.min(start[i] + roi[i], s) - start[i]);
  return [start, size];
}

/** How a pad splits its voxels: both sides (the extra one after) or all at the end. */
export type PadMethod = "symmetric" | "end";

/**
 * MONAI's `SpatialPad` to at least `size` per axis: "symmetric" puts
 * floor(extra / 2) before and the rest after, "end" all after; an axis as
 * large or larger is left as it is.
 */
export function spatialPad(
  where: PadWhere,
  v: Vol,
  size: readonly number[],
  method: PadMethod,
  mode: PadMode,
  value = 0,
): Vol {
  const width = spatial(v).map((s, i) => Math.max(size[i] - s, 0));
  const before = width.map((w) => method === "symmetric" ? Math.floor(w / 2) : 0);
  return padVol(where, v, before, width.map((w, i) => w - before[i]), mode, value);
}

/**
 * MONAI's `ResizeWithPadOrCrop` to exactly `size`: the centre box of an
 * axis larger than `size` (`CenterSpatialCrop`), then `spatialPad`.
 */
export function padOrCrop(
  where: PadWhere,
  v: Vol,
  size: readonly number[],
  method: PadMethod,
  mode: PadMode,
  value = 0,
): Vol {
  const dhw = spatial(v);
  const cropped = size.some((s, i) => s < dhw[i]) ? box(v, ...centerBox(dhw, size)) : v;
  return spatialPad(where, cropped, size, method, mode, value);
}

/** float32 rounding. */
const f32 = Math.fround;

/**
 * numpy's median of float32 values: NaN when one is NaN, else the middle
 * one, or for an even count the float32 mean of the two middle ones.
 */
function median(xs: number[]): number {
  if (xs.some(Number.isNaN)) return NaN;
  const s = xs.slice().sort((a, b) => a < b ? -1 : a > b ? 1 : 0), m = s.length >> 1;
  return s.length % 2 ? s[m] : f32(f32(s[m - 1] + s[m]) / 2);
}

/**
 * numpy's float32 sum of `xs` (every operation rounded to float32): along
 * the array's innermost axis `np.add.reduce`'s pairwise summation (under 8
 * values one by one; up to 128 in 8 running sums; longer halved at a
 * multiple of 8), else row by row, one value after another.
 */
function sumF32(xs: readonly number[], pairwise: boolean, lo = 0, n = xs.length): number {
  if (!pairwise || n < 8) {
    let s = 0;
    for (let i = lo; i < lo + n; i++) s = f32(s + xs[i]);
    return s;
  }
  if (n <= 128) {
    const r = xs.slice(lo, lo + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f32(r[j] + xs[lo + i + j]);
    let s = f32(
      f32(f32(r[0] + r[1]) + f32(r[2] + r[3])) + f32(f32(r[4] + r[5]) + f32(r[6] + r[7])),
    );
    for (; i < n; i++) s = f32(s + xs[lo + i]);
    return s;
  }
  const n2 = (n >> 1) - ((n >> 1) % 8);
  return f32(sumF32(xs, true, lo, n2) + sumF32(xs, true, lo + n2, n - n2));
}

/**
 * numpy.pad of `v` by `before` / `after` per axis with the modes that
 * compute values: "maximum", "minimum", "mean", "median" (the statistic of
 * the whole line along the axis; NaN where it holds a NaN, as numpy's),
 * "linear_ramp" (from the edge value to 0 at the outer end) and "empty"
 * (numpy leaves it uninitialized; 0 here). As numpy, the axes are padded in
 * order D, H, W, each over the values the earlier axes padded (so the
 * corners come from the last axis), in float32 as numpy computes them: the
 * mean's sum pairwise along the innermost axis (W, or an earlier one when
 * the later axes have one voxel), row by row along the others; the ramp as
 * `np.linspace(0, edge, width, endpoint=False)`, which computes k * (edge /
 * width), or (k / width) * edge when any line's edge / width is 0. (numpy
 * takes that "any" over the whole edge plane, including the pad of later
 * axes that it has not filled yet and holds uninitialized memory; that part
 * is taken as nonzero here.)
 */
function numpyPad(v: Vol, before: readonly number[], after: readonly number[], mode: PadMode): Vol {
  let cur = v;
  for (let a = 0; a < 3; a++) {
    const n = cur.shape[a + 1], lo = before[a], hi = after[a], t = n + lo + hi;
    if (n === t) continue;
    const shape = [...cur.shape] as [number, number, number, number];
    shape[a + 1] = t;
    const out = emptyVol(shape);
    // Lines along axis a: outer (channels and earlier axes) x inner (later axes).
    const inner = shape.slice(a + 2).reduce((p, q) => p * q, 1);
    const outer = shape.slice(0, a + 1).reduce((p, q) => p * q, 1);
    const src = cur.data, dst = out.data;
    const line = new Array<number>(n);
    // numpy's reduction runs along axis a innermost when the later axes have one voxel.
    const pairwise = cur.shape.slice(a + 2).every((s) => s === 1);
    // linspace's switch: any edge / width of 0 on that side.
    let zeroLo = false, zeroHi = false;
    if (mode === "linear_ramp") {
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * n * inner + i;
          if (lo > 0 && f32(src[base] / lo) === 0) zeroLo = true;
          if (hi > 0 && f32(src[base + (n - 1) * inner] / hi) === 0) zeroHi = true;
        }
      }
    }
    const ramp = (edge: number, width: number, k: number, zero: boolean) =>
      (zero ? f32(f32(k / width) * edge) : f32(k * f32(edge / width))) + 0;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const sBase = o * n * inner + i, dBase = o * t * inner + i;
        for (let k = 0; k < n; k++) {
          line[k] = src[sBase + k * inner];
          dst[dBase + (lo + k) * inner] = line[k];
        }
        let stat = 0;
        if (mode === "maximum") stat = Math.max(...line);
        else if (mode === "minimum") stat = Math.min(...line);
        else if (mode === "mean") stat = f32(sumF32(line, pairwise) / n);
        else if (mode === "median") stat = median(line);
        for (let k = 0; k < lo; k++) {
          // numpy's linspace(0, edge, before, endpoint=False) in float32.
          const val = mode === "linear_ramp" ? ramp(line[0], lo, k, zeroLo) : stat;
          dst[dBase + k * inner] = mode === "empty" ? 0 : val;
        }
        for (let k = 0; k < hi; k++) {
          const val = mode === "linear_ramp" ? ramp(line[n - 1], hi, k, zeroHi) : stat;
          dst[dBase + (t - 1 - k) * inner] = mode === "empty" ? 0 : val;
        }
      }
    }
    cur = out;
  }
  return cur;
}

/**
 * Reads a pad's `mode` and `value` (MONAI's `mode` and pad kwarg `value`):
 * `value` (default 0) only with mode "constant", as MONAI's `pad_nd`
 * ("'value' argument is only valid when mode='constant'").
 */
export function padModeValue(
  name: string,
  params: { mode?: unknown; value?: unknown },
  fallback: PadMode,
): { mode: PadMode; value: number } {
  const mode = checkPadMode(name, "mode", params.mode, fallback);
  if (params.value !== undefined && mode !== "constant") {
    throw new Error(
      `${name}: value applies to mode "constant" only, not "${mode}" (MONAI: "'value' ` +
        `argument is only valid when mode='constant'"); leave value out, or write mode: "constant"`,
    );
  }
  const value = params.value === undefined ? 0 : params.value;
  // Any number, NaN and the infinities included, as torch's F.pad and numpy.pad take; not
  // null (JSON's NaN, from a spec written before specs kept it: see transform.ts's jsonSafe).
  if (typeof value !== "number") {
    throw new Error(
      `${name}: value must be a number (NaN and Infinity too), got ${fmt(value)} (a spec's ` +
        `JSON writes NaN and the infinities as "NaN", "Infinity", "-Infinity")`,
    );
  }
  return { mode, value: value as number };
}
