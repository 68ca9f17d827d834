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
import { checkImage, resizeNearest, scratchImage, toSize } from "../image.ts";
import { type Interpolation, warpAffine, type WarpOptions } from "./warp.ts";

export { type Interpolation, warpAffine, type WarpOptions } from "./warp.ts";

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
 * Bilinear resize to [height, width], as PyTorch's
 * `F.interpolate(mode="bilinear", align_corners=False, antialias=False)`;
 * `interpolation: "nearest"` as its mode "nearest" (torchvision 0.14's
 * `F.resize` on tensors, without antialiasing).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0, 1, 2, 3]), width: 2, height: 2 };
 * const big = data.transforms.F.resize(img, [4, 4]);
 * console.log(big.width, big.data[0], big.data[15]); // 4 0 3
 * ```
 */
export function resize(
  image: Image,
  size: number | [number, number],
  interpolation: Interpolation = "bilinear",
): Image {
  checkImage(image, "resize");
  const [oh, ow] = toSize(size, "resize");
  if (interpolation === "nearest") return resizeNearest(image, oh, ow);
  if (interpolation !== "bilinear") {
    throw new Error(
      `resize: interpolation must be "bilinear" or "nearest", got ${JSON.stringify(interpolation)}`,
    );
  }
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
  return warpAffine(image, affineMatrix(image.width, image.height, params), params);
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
