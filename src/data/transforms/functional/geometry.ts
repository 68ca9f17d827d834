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
  fmt,
  oneGrey,
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

/**
 * How `resize` reads between pixels: the warps' modes, bicubic, and
 * "nearest-exact" (F.interpolate's mode; PIL's nearest).
 */
export type ResizeInterpolation = Interpolation | "bicubic" | "nearest-exact";

/** Parameters of `affine` (torchvision's `F.affine`). */
export interface AffineParams extends WarpOptions {
  /** Rotation in degrees, clockwise (default 0). */
  angle?: number;
  /** Translation in pixels, [x, y] (default [0, 0]). */
  translate?: [number, number];
  /** Isotropic scale, > 0 (default 1). */
  scale?: number;
  /** Shear in degrees, [x, y] or x alone (default [0, 0]). */
  shear?: number | [number, number];
  /**
   * The pivot [x, y] as torchvision's `center`, in its convention: pixel
   * (x - 0.5, y - 0.5), so [w / 2, h / 2] is the centre (the default).
   */
  center?: [number, number];
}

/** Options of `rotate` (torchvision's `F.rotate`'s keywords). */
export interface RotateOptions extends WarpOptions {
  /** Grow the output to hold the whole rotated image (torchvision's `expand`; default false). */
  expand?: boolean;
  /** The pivot [x, y] as torchvision's `center` (see `AffineParams.center`). */
  center?: [number, number];
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
 * range, as torch's), "nearest" (torch's mode "nearest") or "nearest-exact"
 * (torch's mode of that name, which is PIL's nearest: a `Resize` before
 * `ToTensor` in a `Compose` takes it, as torchvision's PIL path).
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
  size: number | [number] | [number, number],
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
  // torchvision's [s] (a list of one) is the smaller edge, as s.
  if (Array.isArray(size) && size.length === 1) size = size[0];
  const given = toSize(size, "resize");
  const [oh, ow] = typeof size === "number"
    ? smallerEdgeSize(image.width, image.height, given[0])
    : given;
  const [mode, aa] = resizeParams("resize", interpolation, antialias);
  if (mode === "nearest" || mode === "nearest-exact") {
    return resizeNearest(image, oh, ow, mode === "nearest-exact");
  }
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
 * `outSize` ([height, width], default the image's) is a larger or smaller
 * output whose centre maps to the image's, as rotate's `expand`.
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
  outSize: readonly [number, number] = [height, width],
): [number, number, number, number, number, number] {
  const { angle = 0, translate = [0, 0], scale = 1 } = params;
  const shear = shearPair("affine", params.shear);
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
  // The pivot relative to the image centre (torchvision's center_f), then in
  // input pixels (p) and in output pixels (q): they differ when the output's size does.
  const [fx, fy] = centerOffset(width, height, params.center);
  const px = (width - 1) / 2 + fx, py = (height - 1) / 2 + fy;
  const qx = (outSize[1] - 1) / 2 + fx, qy = (outSize[0] - 1) / 2 + fy;
  const m2 = m0 * (-qx - tx) + m1 * (-qy - ty) + px;
  const m5 = m3 * (-qx - tx) + m4 * (-qy - ty) + py;
  return [m0, m1, m2, m3, m4, m5];
}

/** torchvision's `center_f`: the pivot relative to the image centre (0, 0 without one). */
function centerOffset(width: number, height: number, center: unknown): [number, number] {
  if (center === undefined || center === null) return [0, 0];
  if (!Array.isArray(center) || center.length !== 2 || !center.every(Number.isFinite)) {
    throw new Error(`affine: center must be [x, y] in pixels, got ${fmt(center)}`);
  }
  return [center[0] - width * 0.5, center[1] - height * 0.5];
}

/** torchvision's shear argument as [x, y]: a number or a list of one is x alone. */
function shearPair(op: string, shear: unknown): [number, number] {
  const s = shear === undefined || shear === null
    ? [0, 0]
    : typeof shear === "number"
    ? [shear, 0]
    : Array.isArray(shear) && shear.length === 1
    ? [shear[0], 0]
    : shear;
  if (!Array.isArray(s) || s.length !== 2 || !s.every(Number.isFinite)) {
    throw new Error(`${op}: shear must be degrees x, or [x, y], got ${fmt(shear)}`);
  }
  return [s[0], s[1]];
}

/**
 * torchvision's `_compute_affine_output_size`: the size [height, width]
 * that holds the whole image under the centred inverse matrix `theta`
 * (corners at +-size / 2, edges truncated to 1e-4 before ceil and floor).
 */
function expandedSize(width: number, height: number, theta: readonly number[]): [number, number] {
  const f = Math.fround;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [px, py] of [[-1, -1], [-1, 1], [1, 1], [1, -1]]) {
    const cx = f(px * 0.5 * width), cy = f(py * 0.5 * height);
    const x = f(f(f(cx * f(theta[0])) + f(cy * f(theta[1]))) + f(theta[2]));
    const y = f(f(f(cx * f(theta[3])) + f(cy * f(theta[4]))) + f(theta[5]));
    [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  }
  const tol = 1e-4;
  const edge = (v: number, half: number, round: (v: number) => number) =>
    round(f(Math.trunc(f(f(v + half) / tol)) * tol));
  const w = edge(x1, width * 0.5, Math.ceil) - edge(x0, width * 0.5, Math.floor);
  const h = edge(y1, height * 0.5, Math.ceil) - edge(y0, height * 0.5, Math.floor);
  return [h, w];
}

/** A fill as torchvision takes it: a number, a one-value list, or null/undefined (0). */
function fillValue(op: string, fill: unknown): number {
  const v = oneGrey(op, fill) ?? 0;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${op}: fill must be a finite number (one grey value), got ${fmt(fill)}`);
  }
  return v;
}

/** The warp's interpolation: "nearest" or "bilinear" (`fallback` when left out). */
function warpMode(op: string, v: unknown, fallback: Interpolation): Interpolation {
  if (v === undefined || v === null) return fallback;
  if (v === "nearest" || v === "bilinear") return v;
  throw new Error(
    `${op}: interpolation must be "nearest" (torchvision's default) or "bilinear", got ${fmt(v)}`,
  );
}

/** Keys an options object of `op` may hold; anything else throws (a dropped option is silent). */
function checkKeys(op: string, o: unknown, keys: readonly string[], usage: string): void {
  if (o === undefined || o === null) return;
  if (typeof o !== "object" || Array.isArray(o)) {
    throw new Error(`${op}: options must be an object, got ${fmt(o)}; write ${usage}`);
  }
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) {
      throw new Error(`${op}: unknown option '${k}' (expected ${keys.join(", ")}); write ${usage}`);
    }
  }
}

const AFFINE_KEYS = ["angle", "translate", "scale", "shear", "center", "interpolation", "fill"];
const AFFINE_USAGE = "F.affine(image, { angle: 10, translate: [2, 0], scale: 1, shear: [0, 0] }) " +
  'or torchvision\'s F.affine(image, 10, [2, 0], 1, [0, 0], "nearest")';

/** One warp about torchvision's pivot, to `outSize` (default the image's), as its F.affine. */
function warpAbout(
  op: string,
  image: Image,
  params: AffineParams,
  fallback: Interpolation,
  expand = false,
): Image {
  const { angle = 0, translate = [0, 0], scale = 1 } = params;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new Error(`affine: scale must be a positive number, got ${scale}`);
  }
  const shear = shearPair(op, params.shear);
  const interpolation = warpMode(op, params.interpolation, fallback);
  const fill = fillValue(op, params.fill);
  const center = centerOffset(image.width, image.height, params.center);
  let size: [number, number] = [image.height, image.width];
  if (expand) {
    size = expandedSize(
      image.width,
      image.height,
      inverseAffineTheta(center, angle, [0, 0], 1, [0, 0]),
    );
  }
  if (interpolation !== "nearest") {
    const m = affineMatrix(image.width, image.height, { ...params, shear }, size);
    return warpAffine(image, m, { interpolation, fill, size });
  }
  // torchvision's float32 grid decides the half-pixel ties (warp.ts).
  const theta = inverseAffineTheta(center, angle, translate, scale, shear);
  return warpNearestTheta(image, theta, fill, size);
}

/**
 * Affine transform about the centre, as torchvision's `F.affine` (angle
 * clockwise in degrees, translate in pixels, scale, shear in degrees,
 * `center`, and nearest interpolation by default, as torchvision's). Takes
 * an options object or torchvision's positional form
 * `affine(image, angle, translate, scale, shear, interpolation, fill, center)`.
 * Bilinear with a `fill` differs from torchvision's in the ring of border
 * pixels the warp half covers (torchvision blends a warped mask; here taps
 * outside read `fill`; see `warp.ts`); nearest, and bilinear without a
 * fill, agree.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(16).fill(1), width: 4, height: 4 };
 * const out = data.transforms.F.affine(img, { angle: 5, scale: 1.1, translate: [1, 0] });
 * const same = data.transforms.F.affine(img, 5, [1, 0], 1.1, [0, 0]);
 * console.log(out.width, out.height, out.data.every((v, i) => v === same.data[i])); // 4 4 true
 * ```
 */
export function affine(image: Image, params: AffineParams): Image;
/** torchvision's positional form: `affine(image, angle, translate, scale, shear, interpolation, fill, center)`. */
export function affine(
  image: Image,
  angle: number,
  translate: [number, number],
  scale: number,
  shear: number | [number, number],
  interpolation?: Interpolation,
  fill?: number | [number] | null,
  center?: [number, number] | null,
): Image;
export function affine(image: Image, first: AffineParams | number, ...rest: unknown[]): Image {
  checkImage(image, "affine");
  let params: AffineParams;
  if (typeof first === "number") {
    // torchvision's positional form: all of angle, translate, scale and shear are required.
    const [translate, scale, shear, interpolation, fill, center] = rest;
    if (rest.length < 3 || rest.length > 6) {
      throw new Error(
        `affine: torchvision's positional form is (image, angle, translate, scale, shear, ` +
          `interpolation?, fill?, center?), got ${
            rest.length + 2
          } arguments; write ${AFFINE_USAGE}`,
      );
    }
    if (
      !Array.isArray(translate) || translate.length !== 2 || !translate.every(Number.isFinite)
    ) {
      throw new Error(`affine: translate must be [x, y] pixels, got ${fmt(translate)}`);
    }
    params = {
      angle: first,
      translate: translate as [number, number],
      scale: scale as number,
      shear: shear as [number, number],
      interpolation: interpolation as Interpolation,
      fill: fill as number,
      center: center as [number, number],
    };
  } else {
    if (rest.length > 0 || first === null || typeof first !== "object") {
      throw new Error(
        `affine: takes (image, params) or torchvision's positional form; write ${AFFINE_USAGE}`,
      );
    }
    checkKeys("affine", first, AFFINE_KEYS, AFFINE_USAGE);
    params = first;
  }
  return warpAbout("affine", image, params, "nearest");
}

const ROTATE_KEYS = ["interpolation", "expand", "center", "fill"];
const ROTATE_USAGE = 'F.rotate(image, 30, { interpolation: "bilinear", expand: true, fill: 0 }) ' +
  'or torchvision\'s F.rotate(image, 30, "bilinear", true)';

/**
 * Rotation, counter-clockwise in degrees, as torchvision's `F.rotate`:
 * nearest by default, `expand` (an output that holds the whole rotated
 * image), `center` (torchvision's pivot, see `AffineParams.center`) and
 * `fill`. Takes an options object or torchvision's positional form
 * `rotate(image, angle, interpolation, expand, center, fill)`. Bilinear
 * with a `fill` differs from torchvision's at the border, as `affine`'s.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2 };
 * console.log([...data.transforms.F.rotate(img, 90).data]); // [2, 4, 1, 3]
 * const wide = { data: new Float32Array(6).fill(1), width: 3, height: 2 };
 * const turned = data.transforms.F.rotate(wide, 90, { expand: true });
 * console.log(turned.width, turned.height); // 2 3
 * ```
 */
export function rotate(image: Image, angle: number, opts?: RotateOptions): Image;
/** torchvision's positional form: `rotate(image, angle, interpolation, expand, center, fill)`. */
export function rotate(
  image: Image,
  angle: number,
  interpolation: Interpolation,
  expand?: boolean,
  center?: [number, number] | null,
  fill?: number | [number] | null,
): Image;
export function rotate(image: Image, angle: number, ...rest: unknown[]): Image {
  checkImage(image, "rotate");
  if (typeof angle !== "number" || !Number.isFinite(angle)) {
    throw new Error(`rotate: angle must be a finite number of degrees, got ${fmt(angle)}`);
  }
  let o: RotateOptions;
  if (typeof rest[0] === "string") {
    if (rest.length > 4) {
      throw new Error(
        `rotate: torchvision's positional form is (image, angle, interpolation, expand, center, ` +
          `fill), got ${rest.length + 2} arguments; write ${ROTATE_USAGE}`,
      );
    }
    const [interpolation, expand, center, fill] = rest;
    o = { interpolation, expand, center, fill } as RotateOptions;
  } else {
    if (rest.length > 1) {
      throw new Error(`rotate: takes (image, angle, options); write ${ROTATE_USAGE}`);
    }
    checkKeys("rotate", rest[0], ROTATE_KEYS, ROTATE_USAGE);
    o = (rest[0] ?? {}) as RotateOptions;
  }
  const expand = o.expand ?? false;
  if (typeof expand !== "boolean") {
    throw new Error(`rotate: expand must be true or false, got ${fmt(o.expand)}`);
  }
  const { interpolation, center, fill } = o;
  return warpAbout(
    "rotate",
    image,
    { angle: -angle, interpolation, center, fill },
    "nearest",
    expand,
  );
}

/**
 * Zooms about the centre keeping the size (factor > 1 magnifies), as
 * MONAI's `Zoom(keep_size=True)` but in one bilinear pass (bilinear by
 * default, MONAI's nearest-free default).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(64).fill(1), width: 8, height: 8 };
 * console.log(data.transforms.F.zoom(img, 0.5).data[0]); // 0: the border shows fill
 * ```
 */
export function zoom(image: Image, factor: number, opts: WarpOptions = {}): Image {
  checkImage(image, "zoom");
  checkKeys("zoom", opts, ["interpolation", "fill"], "F.zoom(image, 1.1, { fill: 0 })");
  return warpAbout("zoom", image, { ...opts, scale: factor }, "bilinear");
}
