/**
 * Geometric functional ops: flips, resize, and every rotation, affine and
 * zoom through one inverse-mapping resampler (warp.ts: each output pixel
 * reads the source at a computed position), so a composed affine costs one
 * pass over the image.
 *
 * Conventions follow torchvision: pixel centres sit at integer coordinates,
 * `rotate` turns counter-clockwise for positive angles, `affine`'s angle is
 * clockwise, both about the image centre ((w - 1) / 2, (h - 1) / 2); bilinear
 * taps outside the image read `fill` (0 gives grid_sample's zero padding).
 *
 * @module
 */
import type { Image } from "../../types.ts";
import {
  checkImage,
  recycle,
  resizeNearest,
  resizeParams,
  scratchImage,
  smallerEdgeSize,
  toSize,
} from "../image.ts";
import { resampleTaps } from "../../../tensor/ops/interpolate.ts";
import {
  type Interpolation,
  inverseAffineTheta,
  warpAffine,
  warpNearestTheta,
  type WarpOptions,
} from "./warp.ts";

export { type Interpolation, warpAffine, type WarpOptions } from "./warp.ts";

/** How `resize` reads between pixels: the warps' modes, and bicubic. */
export type ResizeInterpolation = Interpolation | "bicubic";

/** Parameters of `affine` (torchvision's `F.affine`). */
export interface AffineParams extends WarpOptions {
  /** Rotation in degrees, clockwise (default 0). */
  angle?: number;
  /** Translation in pixels, [x, y] (default [0, 0]). */
  translate?: [number, number];
  /** Isotropic scale, > 0 (default 1). */
  scale?: number;
  /** Shear in degrees, [x, y] (default [0, 0]). */
  shear?: [number, number];
}

/**
 * Mirrors left-right.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2 };
 * console.log([...data.transforms.F.hflip(img).data]); // [2, 1, 4, 3]
 * ```
 */
export function hflip(image: Image): Image {
  checkImage(image, "hflip");
  const { data, width: w, height: h } = image;
  const out = scratchImage(w, h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) out.data[row + x] = data[row + w - 1 - x];
  }
  return out;
}

/**
 * Mirrors top-bottom.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2 };
 * console.log([...data.transforms.F.vflip(img).data]); // [3, 4, 1, 2]
 * ```
 */
export function vflip(image: Image): Image {
  checkImage(image, "vflip");
  const { data, width: w, height: h } = image;
  const out = scratchImage(w, h);
  for (let y = 0; y < h; y++) out.data.set(data.subarray((h - 1 - y) * w, (h - y) * w), y * w);
  return out;
}

/**
 * Resizes to [height, width] as torchvision 0.14's `F.resize` on a float
 * tensor, i.e. PyTorch's `F.interpolate(mode, align_corners=False,
 * antialias)`: `interpolation` "bilinear" (default), "bicubic" (Keys' cubic,
 * a = -0.75; float output is not clamped, so it may overshoot the input's
 * range, as torch's) or "nearest" (torch's mode "nearest").
 *
 * `antialias: true` (bilinear and bicubic) low-pass filters while
 * downsampling: each output pixel averages every source pixel under its
 * filter, widened by the scale (torch's antialiased kernels, Pillow's
 * resampling, whose bicubic uses a = -0.5), so a 512 -> 224 slice keeps no
 * aliased moiré from fine texture. The default is false, torchvision
 * 0.14's tensor default (its PIL path always antialiases).
 *
 * A number `size` is the smaller edge, the other keeping the aspect ratio
 * (floored), as torchvision's; `[s, s]` is a square. torchvision's 4th
 * argument, `max_size`, is `Resize`'s `maxSize` here.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0, 1, 2, 3]), width: 2, height: 2 };
 * const big = data.transforms.F.resize(img, [4, 4]);
 * console.log(big.width, big.data[0], big.data[15]); // 4 0 3
 * const spike = { data: new Float32Array([0, 0, 0, 8, 0, 0, 0, 0]), width: 8, height: 1 };
 * const half = data.transforms.F.resize(spike, [1, 4], "bilinear", true);
 * console.log([...half.data]); // [0, 3, 1, 0] (without antialias: [0, 4, 0, 0])
 * ```
 */
export function resize(
  image: Image,
  size: number | [number, number],
  interpolation: ResizeInterpolation = "bilinear",
  antialias = false,
): Image {
  if (arguments.length > 4) {
    throw new Error(
      `resize: takes (image, size, interpolation, antialias), got ${arguments.length} ` +
        "arguments; torchvision's max_size is Resize's maxSize here: " +
        'write F.resize(image, [224, 224], "bilinear", true)',
    );
  }
  checkImage(image, "resize");
  const given = toSize(size, "resize");
  const [oh, ow] = typeof size === "number"
    ? smallerEdgeSize(image.width, image.height, given[0])
    : given;
  const [mode, aa] = resizeParams("resize", interpolation, antialias);
  if (mode === "nearest") return resizeNearest(image, oh, ow);
  if (mode === "bilinear" && !aa) return resizeBilinear(image, oh, ow);
  return resizeSeparable(image, oh, ow, mode === "bicubic" ? "bicubic" : "linear", aa);
}

/** Plain bilinear, PyTorch's source index rule, both dimensions in one pass. */
function resizeBilinear(image: Image, oh: number, ow: number): Image {
  const { data, width: w, height: h } = image;
  // Per-column taps and weights, computed once (PyTorch's source index rule).
  const x0 = new Int32Array(ow), x1 = new Int32Array(ow), lx = new Float32Array(ow);
  const sx = w / ow;
  for (let x = 0; x < ow; x++) {
    const src = Math.max(sx * (x + 0.5) - 0.5, 0);
    const i = Math.floor(src);
    x0[x] = i;
    x1[x] = i < w - 1 ? i + 1 : i;
    lx[x] = src - i;
  }
  const out = scratchImage(ow, oh);
  const sy = h / oh;
  for (let y = 0; y < oh; y++) {
    const src = Math.max(sy * (y + 0.5) - 0.5, 0);
    const j = Math.floor(src);
    const ly = src - j;
    const r0 = j * w, r1 = (j < h - 1 ? j + 1 : j) * w;
    const o = y * ow;
    for (let x = 0; x < ow; x++) {
      const a = x0[x], b = x1[x], l = lx[x];
      const top = data[r0 + a] * (1 - l) + data[r0 + b] * l;
      const bot = data[r1 + a] * (1 - l) + data[r1 + b] * l;
      out.data[o + x] = top * (1 - ly) + bot * ly;
    }
  }
  return out;
}

/** One dimension's resampling as one window per output (see `windows`). */
interface Windows {
  taps: number;
  start: Int32Array;
  count: Int32Array;
  weight: Float32Array;
}

/**
 * F.interpolate's taps as one window per output: `count[o]` consecutive
 * source pixels from `start[o]`, weights `weight[o * taps + k]` (a clamped
 * index that repeats, bicubic's at the border, adds its weight to that
 * pixel's). Kept per size pair: a dataset resizes every slice alike, and
 * the taps cost about as much as a pass.
 */
function windows(mode: "linear" | "bicubic", antialias: boolean, n: number, out: number): Windows {
  const key = `${mode} ${antialias} ${n} ${out}`;
  const hit = windowCache.get(key);
  if (hit) return hit;
  const t = resampleTaps(mode, n, out, false, antialias);
  const taps = t.index.length;
  const start = new Int32Array(out), count = new Int32Array(out);
  const weight = new Float32Array(out * taps);
  for (let o = 0; o < out; o++) {
    const live = t.count?.[o] ?? taps;
    let lo = t.index[0][o], hi = lo;
    for (let k = 1; k < live; k++) {
      lo = Math.min(lo, t.index[k][o]);
      hi = Math.max(hi, t.index[k][o]);
    }
    start[o] = lo;
    count[o] = hi - lo + 1;
    for (let k = 0; k < live; k++) {
      weight[o * taps + t.index[k][o] - lo] += t.weight ? t.weight[k][o] : 1;
    }
  }
  if (windowCache.size >= 64) windowCache.clear(); // random crops make many sizes
  const w = { taps, start, count, weight };
  windowCache.set(key, w);
  return w;
}
const windowCache = new Map<string, Windows>();

/** Each of `rows` rows of `src` (`w` wide) resampled to `ow` columns in `dst`. */
function resampleRows(
  src: Float32Array,
  rows: number,
  w: number,
  ow: number,
  t: Windows,
  dst: Float32Array,
): void {
  const { taps, start, count, weight } = t;
  for (let y = 0; y < rows; y++) {
    const row = y * w, o = y * ow;
    for (let x = 0; x < ow; x++) {
      const b = x * taps, n = count[x], p = row + start[x];
      let acc = 0;
      for (let k = 0; k < n; k++) acc += src[p + k] * weight[b + k];
      dst[o + x] = acc;
    }
  }
}

/** The rows of `src` (`w` wide) resampled to `oh` rows in `dst`, a whole row at a time. */
function resampleColumns(
  src: Float32Array,
  w: number,
  oh: number,
  t: Windows,
  dst: Float32Array,
): void {
  const { taps, start, count, weight } = t;
  for (let y = 0; y < oh; y++) {
    const b = y * taps, n = count[y], row = y * w, r0 = start[y] * w, w0 = weight[b];
    for (let x = 0; x < w; x++) dst[row + x] = src[r0 + x] * w0;
    for (let k = 1; k < n; k++) {
      const r = r0 + k * w, wk = weight[b + k];
      for (let x = 0; x < w; x++) dst[row + x] += src[r + x] * wk;
    }
  }
}

/**
 * Bicubic or antialiased resize with F.interpolate's taps: along the width
 * into a float32 buffer, then along the height (torch's order); a
 * dimension that keeps its size is not resampled: torch's weights there
 * are the identity (antialiased: 1 and a 0 beside it; bicubic 0, 1, 0, 0),
 * the same numbers for finite pixels (a NaN or inf beside one spreads in
 * torch's).
 */
function resizeSeparable(
  image: Image,
  oh: number,
  ow: number,
  mode: "linear" | "bicubic",
  antialias: boolean,
): Image {
  const { data, width: w, height: h } = image;
  let src = data;
  if (ow !== w) {
    const rows = scratchImage(ow, h).data;
    resampleRows(data, h, w, ow, windows(mode, antialias, w, ow), rows);
    src = rows;
  }
  const out = scratchImage(ow, oh);
  if (oh === h) out.data.set(src);
  else resampleColumns(src, ow, oh, windows(mode, antialias, h, oh), out.data);
  if (src !== data) recycle(src);
  return out;
}

/**
 * torchvision's inverse affine matrix, in pixel coordinates: the source
 * position of output pixel (x, y) is (m[0] x + m[1] y + m[2], m[3] x + m[4] y + m[5]).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const m = data.transforms.F.affineMatrix(5, 5, { angle: 0, translate: [1, 0] });
 * console.log(m[2]); // -1: output x reads source x - 1
 * ```
 */
export function affineMatrix(
  width: number,
  height: number,
  params: AffineParams,
): [number, number, number, number, number, number] {
  const { angle = 0, translate = [0, 0], scale = 1, shear = [0, 0] } = params;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new Error(`affine: scale must be a positive number, got ${scale}`);
  }
  const rot = angle * Math.PI / 180, sx = shear[0] * Math.PI / 180, sy = shear[1] * Math.PI / 180;
  const [tx, ty] = translate;
  // Rotation-scale-shear as torchvision's _get_inverse_affine_matrix, inverted.
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = -Math.cos(rot - sy) * Math.tan(sx) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = -Math.sin(rot - sy) * Math.tan(sx) / Math.cos(sy) + Math.cos(rot);
  const m0 = d / scale, m1 = -b / scale, m3 = -c / scale, m4 = a / scale;
  // Centred coordinates (origin at the image centre) back to pixel indices.
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  const m2 = m0 * (-cx - tx) + m1 * (-cy - ty) + cx;
  const m5 = m3 * (-cx - tx) + m4 * (-cy - ty) + cy;
  return [m0, m1, m2, m3, m4, m5];
}

/**
 * Affine transform about the centre, as torchvision's `F.affine`
 * (angle clockwise in degrees, translate in pixels, scale, shear in degrees).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(16).fill(1), width: 4, height: 4 };
 * const out = data.transforms.F.affine(img, { angle: 5, scale: 1.1, translate: [1, 0] });
 * console.log(out.width, out.height); // 4 4
 * ```
 */
export function affine(image: Image, params: AffineParams): Image {
  checkImage(image, "affine");
  const m = affineMatrix(image.width, image.height, params);
  if (params.interpolation !== "nearest") return warpAffine(image, m, params);
  // torchvision's float32 grid decides the half-pixel ties (warp.ts).
  const { angle = 0, translate = [0, 0], scale = 1, shear = [0, 0] } = params;
  const theta = inverseAffineTheta([0, 0], angle, translate, scale, shear);
  return warpNearestTheta(image, theta, params.fill);
}

/**
 * Rotation about the centre, counter-clockwise in degrees (torchvision's
 * `F.rotate`, without `expand`; bilinear by default here).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2 };
 * const r = data.transforms.F.rotate(img, 90);
 * console.log([...r.data].map(Math.round)); // [2, 4, 1, 3]
 * ```
 */
export function rotate(image: Image, angle: number, opts: WarpOptions = {}): Image {
  return affine(image, { ...opts, angle: -angle });
}

/**
 * Zooms about the centre keeping the size (factor > 1 magnifies), as
 * MONAI's `Zoom(keep_size=True)` but in one bilinear pass.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(64).fill(1), width: 8, height: 8 };
 * console.log(data.transforms.F.zoom(img, 0.5).data[0]); // 0: the border shows fill
 * ```
 */
export function zoom(image: Image, factor: number, opts: WarpOptions = {}): Image {
  return affine(image, { ...opts, scale: factor });
}
