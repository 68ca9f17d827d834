/**
 * The inverse-mapping resampler behind every rotation, affine and zoom:
 * each output pixel reads the source at an affine function of its position,
 * bilinearly (or nearest), taps outside the image reading `fill`.
 *
 * At the border this differs from torchvision's bilinear `affine` with a
 * nonzero fill, which warps a mask beside the image and blends
 * `v * m + (1 - m) * fill`: the ring of partly covered pixels is not the
 * same, and a constant -1000 HU slice does not stay -1000 there. Here every
 * tap outside reads `fill`, so constant air stays air. torchvision's
 * functional ops with `fill=None` (their default) read zeros outside, as
 * these with fill 0; its `RandomRotation` and `RandomAffine` always pass
 * a fill list (`[0.0]` by default), so with bilinear interpolation their
 * ring is darkened by the mask (v * m) where this one is not (nearest, their
 * default and this one's, agrees exactly).
 *
 * Nearest warps match torchvision's `F.affine` / `F.rotate` with
 * `InterpolationMode.NEAREST` bit for bit, ties included: torchvision
 * computes the sampling grid in float32 (`_gen_affine_grid`: the matrix
 * rounded to float32 and divided by half the size, a `bmm` with the base
 * grid, then grid_sample's unnormalize `(g + 1) * size / 2 - 0.5` and
 * `nearbyint`), and where the exact source position is k + 0.5 that
 * rounding decides the side; `warpNearestTheta` replays it (see
 * `nearestGrid`). Bilinear reads at the double-precision position, which
 * matches torchvision's to about 1e-5 relative.
 *
 * Speed matters here (it is most of the `ct` preset's cost): along a row the
 * source position moves by a constant step, so each row splits into spans
 * that need no bounds checks, spans near the border, and spans whose source
 * lies wholly outside the content (the body, for CT) and are just `fill`.
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, scratchImage } from "../image.ts";

/** How a warp reads between pixels. */
export type Interpolation = "bilinear" | "nearest";

/** Options of the warping ops. */
export interface WarpOptions {
  /**
   * Nearest neighbour or bilinear: `rotate` and `affine` default to
   * "nearest" (torchvision's `F.rotate` / `F.affine`), `warpAffine`, `zoom`
   * and `elastic` to "bilinear".
   */
  interpolation?: Interpolation;
  /** Value read outside the image (default 0: air after min-max scaling). */
  fill?: number;
}

/**
 * Resamples `image` through an inverse affine map (see `affineMatrix`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2 };
 * const same = data.transforms.F.warpAffine(img, [1, 0, 0, 0, 1, 0]);
 * console.log([...same.data]); // [1, 2, 3, 4]
 * ```
 */
export function warpAffine(
  image: Image,
  m: readonly number[],
  opts: WarpOptions & { size?: readonly [number, number] } = {},
): Image {
  checkImage(image, "warpAffine");
  const { data, width: w, height: h } = image;
  const fill = opts.fill ?? 0;
  // The output may differ in size from the input (rotate's expand): [oh, ow].
  const [oh, ow] = opts.size ?? [h, w];
  const out = scratchImage(ow, oh);
  const o = out.data;
  const [m0, m1, m2, m3, m4, m5] = m;
  if (opts.interpolation === "nearest") {
    // torchvision's matrix is in centred coordinates: (0, 0) is the image centre.
    const cx = (w - 1) / 2, cy = (h - 1) / 2, qx = (ow - 1) / 2, qy = (oh - 1) / 2;
    const theta = [m0, m1, m0 * qx + m1 * qy + m2 - cx, m3, m4, m3 * qx + m4 * qy + m5 - cy];
    return nearestGrid(image, theta, fill, out);
  }
  // Outside the box of pixels that differ from `fill` (the body, for CT with
  // air as fill) every tap reads `fill`, so those outputs need no arithmetic.
  const box = contentBox(data, w, h, fill);
  if (!box) return (o.fill(fill), out);
  const [bx0, by0, bx1, by1] = box;
  for (let y = 0; y < oh; y++) {
    const sx0 = m1 * y + m2, sy0 = m4 * y + m5, row = y * ow;
    // [oa, ob): columns whose source may touch the box; [ia, ib): columns whose
    // four taps are all inside the image (no bounds checks, `| 0` is floor).
    const [oa, ob] = both(
      span(sx0, m0, bx0 - 1, bx1 + 1, ow, false),
      span(sy0, m3, by0 - 1, by1 + 1, ow, false),
    );
    if (oa >= ob) {
      o.fill(fill, row, row + ow);
      continue;
    }
    let [ia, ib] = both(span(sx0, m0, 0, w - 1, ow, true), span(sy0, m3, 0, h - 1, ow, true));
    ia = Math.max(ia, oa);
    ib = Math.min(ib, ob);
    if (ia >= ib) ia = ib = ob;
    o.fill(fill, row, row + oa);
    for (let x = oa; x < ia; x++) o[row + x] = tap(data, w, h, sx0 + m0 * x, sy0 + m3 * x, fill);
    let sx = sx0 + m0 * ia, sy = sy0 + m3 * ia;
    for (let x = ia; x < ib; x++, sx += m0, sy += m3) {
      const fx = sx | 0, fy = sy | 0;
      const lx = sx - fx, ly = sy - fy;
      const i = fy * w + fx;
      const p00 = data[i], p01 = data[i + 1], p10 = data[i + w], p11 = data[i + w + 1];
      const top = p00 + (p01 - p00) * lx;
      o[row + x] = top + (p10 + (p11 - p10) * lx - top) * ly;
    }
    for (let x = ib; x < ob; x++) o[row + x] = tap(data, w, h, sx0 + m0 * x, sy0 + m3 * x, fill);
    o.fill(fill, row + ob, row + ow);
  }
  return out;
}

/**
 * The columns [a, b) of 0..w-1 where lo <= s0 + m * x <= hi, rounded
 * inwards by a column when `inner` (every column surely inside, and at
 * least one pixel from hi) or outwards when not (every column left out is
 * surely outside).
 */
function span(
  s0: number,
  m: number,
  lo: number,
  hi: number,
  w: number,
  inner: boolean,
): [number, number] {
  if (inner) {
    lo += 1;
    hi -= 1;
    // A side of one pixel has no inner range: every tap needs the checked path.
    if (lo > hi) return [0, 0];
  }
  if (Math.abs(m) < 1e-12) return s0 >= lo && s0 <= hi ? [0, w] : [0, 0];
  const t0 = (lo - s0) / m, t1 = (hi - s0) / m;
  const a = inner ? Math.ceil(Math.min(t0, t1)) + 1 : Math.floor(Math.min(t0, t1)) - 1;
  const b = inner ? Math.floor(Math.max(t0, t1)) : Math.ceil(Math.max(t0, t1)) + 2;
  return [Math.max(0, a), Math.min(w, b)];
}

/** The intersection of two column ranges. */
function both(p: [number, number], q: [number, number]): [number, number] {
  const a = Math.max(p[0], q[0]), b = Math.min(p[1], q[1]);
  return a < b ? [a, b] : [0, 0];
}

/** [x0, y0, x1, y1] (inclusive) bounding the pixels that are not `v`, or null. */
function contentBox(d: Float32Array, w: number, h: number, v: number): number[] | null {
  const rowIsV = (y: number) => {
    for (let i = y * w, e = i + w; i < e; i++) if (d[i] !== v) return false;
    return true;
  };
  let y0 = 0, y1 = h - 1;
  while (y0 < h && rowIsV(y0)) y0++;
  if (y0 === h) return null;
  while (y1 > y0 && rowIsV(y1)) y1--;
  // Each row is scanned from both ends only up to the extent found so far.
  let x0 = w, x1 = -1;
  for (let y = y0; y <= y1; y++) {
    const r = y * w;
    let a = 0;
    while (a < x0 && d[r + a] === v) a++;
    if (a < x0) x0 = a;
    let b = w - 1;
    while (b > x1 && d[r + b] === v) b--;
    if (b > x1) x1 = b;
  }
  return [x0, y0, x1, y1];
}

/** Bilinear read at (sx, sy) anywhere: taps outside the image read `fill`. */
function tap(data: Float32Array, w: number, h: number, sx: number, sy: number, fill: number) {
  const fx = Math.floor(sx), fy = Math.floor(sy);
  return tapBilinear(data, w, h, fx, fy, sx - fx, sy - fy, fill);
}

/** @internal bilinear read near or beyond the border: outside taps read `fill`. */
export function tapBilinear(
  data: Float32Array,
  w: number,
  h: number,
  fx: number,
  fy: number,
  lx: number,
  ly: number,
  fill: number,
): number {
  const x0 = fx >= 0 && fx < w, x1 = fx + 1 >= 0 && fx + 1 < w;
  const y0 = fy >= 0 && fy < h, y1 = fy + 1 >= 0 && fy + 1 < h;
  const i = fy * w + fx;
  const p00 = x0 && y0 ? data[i] : fill, p01 = x1 && y0 ? data[i + 1] : fill;
  const p10 = x0 && y1 ? data[i + w] : fill, p11 = x1 && y1 ? data[i + w + 1] : fill;
  const top = p00 * (1 - lx) + p01 * lx;
  return top * (1 - ly) + (p10 * (1 - lx) + p11 * lx) * ly;
}

/**
 * @internal torchvision's `_get_inverse_affine_matrix(center, angle,
 * translate, scale, shear)` (inverted), in its order of double operations
 * (`math.radians` is `x * (pi / 180)`): the source of centred output
 * position (x, y) is (t[0] x + t[1] y + t[2], t[3] x + t[4] y + t[5]),
 * (0, 0) being the image centre; `center` is torchvision's `center_f`
 * (`center - size / 2`, [0, 0] for the centre).
 */
export function inverseAffineTheta(
  center: readonly [number, number],
  angle: number,
  translate: readonly [number, number],
  scale: number,
  shear: readonly [number, number],
): number[] {
  const rad = Math.PI / 180;
  const rot = angle * rad, sx = shear[0] * rad, sy = shear[1] * rad;
  const [cx, cy] = center, [tx, ty] = translate;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = -Math.cos(rot - sy) * Math.tan(sx) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = -Math.sin(rot - sy) * Math.tan(sx) / Math.cos(sy) + Math.cos(rot);
  const t = [d, -b, 0, -c, a, 0].map((v) => v / scale);
  t[2] += t[0] * (-cx - tx) + t[1] * (-cy - ty);
  t[5] += t[3] * (-cx - tx) + t[4] * (-cy - ty);
  t[2] += cx;
  t[5] += cy;
  return t;
}

/**
 * @internal Nearest warp through torchvision's float32 grid for the centred
 * matrix `theta` (see `inverseAffineTheta`): its `F.affine` / `F.rotate`
 * with `InterpolationMode.NEAREST`, bit for bit; taps outside read `fill`.
 */
export function warpNearestTheta(
  image: Image,
  theta: readonly number[],
  fill = 0,
  size: readonly [number, number] = [image.height, image.width],
): Image {
  checkImage(image, "warpNearestTheta");
  return nearestGrid(image, theta, fill, scratchImage(size[1], size[0]));
}

/**
 * The float32 grid of torchvision's `_gen_affine_grid` and grid_sample's
 * nearest read, replayed exactly (checked against torch 1.13 on CPU):
 *
 * - theta rounded to float32, divided by [w / 2, h / 2] (float32 division;
 *   one rounding of the double quotient is the float32 result, as for every
 *   +, -, *, / of float32 operands);
 * - the base grid x - (w - 1) / 2, y - (h - 1) / 2 (float32 linspace; exact);
 * - `bmm` over K = 3: torch's own loop when 3 * n * 2 < 400 (n = h * w
 *   pixels), summing rounded products in order, else BLAS sgemm, a chain of
 *   fused multiply-adds fma(1, r2, fma(y, r1, x * r0)): the middle one is
 *   `fma32` below;
 * - unnormalize ((g + 1) * (size / 2)) - 0.5 in float32, then `nearbyint`
 *   (ties to even), and indices outside [0, size) read `fill`.
 */
function nearestGrid(image: Image, theta: readonly number[], fill: number, out: Image): Image {
  const { data, width: w, height: h } = image;
  // The output grid may be larger or smaller than the input (rotate's expand).
  const { width: ow, height: oh } = out;
  const o = out.data;
  const f = Math.fround;
  const sw = f(0.5 * w), sh = f(0.5 * h);
  const t = theta.map(f);
  const r0 = f(t[0] / sw), r1 = f(t[1] / sw), r2 = f(t[2] / sw);
  const q0 = f(t[3] / sh), q1 = f(t[4] / sh), q2 = f(t[5] / sh);
  const fused = 3 * ow * oh * 2 >= 400;
  // x * r0 and x * q0 for each column (float32 products).
  const ax = new Float64Array(ow), bx = new Float64Array(ow);
  for (let x = 0; x < ow; x++) {
    const xc = x - (ow - 1) / 2;
    ax[x] = f(xc * r0);
    bx[x] = f(xc * q0);
  }
  for (let y = 0; y < oh; y++) {
    const yc = y - (oh - 1) / 2, row = y * ow;
    // y * r1 exactly (a product of two float32 values fits a double), and rounded.
    const py = yc * r1, qy = yc * q1, pyr = f(py), qyr = f(qy);
    for (let x = 0; x < ow; x++) {
      const gx = f((fused ? fma32(py, ax[x]) : f(ax[x] + pyr)) + r2);
      const gy = f((fused ? fma32(qy, bx[x]) : f(bx[x] + qyr)) + q2);
      const ix = nearbyint(f(f(f(gx + 1) * sw) - 0.5));
      const iy = nearbyint(f(f(f(gy + 1) * sh) - 0.5));
      o[row + x] = ix >= 0 && ix < w && iy >= 0 && iy < h ? data[iy * w + ix] : fill;
    }
  }
  return out;
}

/**
 * @internal The float32 rounding of p + c (c a float32 value, p an exact
 * product of two): a fused multiply-add. The double sum can round onto a float32
 * midpoint that the exact sum is not on; then the sum's lost part decides.
 */
export function fma32(p: number, c: number): number {
  const s = p + c, r = Math.fround(s), d = s - r;
  if (d !== 0) {
    const other = s + d; // the float32 on s's other side when s is a midpoint
    if (Math.fround(other) === other) {
      const z = s - p, err = (p - (s - z)) + (c - z); // s + err = p + c exactly
      if (err !== 0 && err > 0 === d > 0) return other;
    }
  }
  return r;
}

/** @internal Round to nearest, ties to even (C's nearbyint). */
export function nearbyint(u: number): number {
  const r = Math.round(u); // ties up
  return r - u === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}
