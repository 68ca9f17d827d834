/**
 * The inverse-mapping resampler behind every rotation, affine and zoom:
 * each output pixel reads the source at an affine function of its position,
 * bilinearly (or nearest), taps outside the image reading `fill`.
 *
 * At the border this differs from torchvision's bilinear `affine` with a
 * nonzero fill, which warps a mask beside the image and blends
 * `v * m + (1 - m) * fill`: the ring of partly covered pixels is not the
 * same, and a constant -1000 HU slice does not stay -1000 there. Here every
 * tap outside reads `fill`, so constant air stays air (torchvision's
 * `RandomAffine` passes fill 0, where both agree).
 *
 * Speed matters here (it is most of the `ct` preset's cost): along a row the
 * source position moves by a constant step, so each row splits into spans
 * that need no bounds checks, spans near the border, and spans whose source
 * lies wholly outside the content (the body, for CT) and are just `fill`.
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, roundHalfEven, scratchImage } from "../image.ts";

/** How a warp reads between pixels. */
export type Interpolation = "bilinear" | "nearest";

/** Options of the warping ops. */
export interface WarpOptions {
  /** Bilinear (default) or nearest neighbour. */
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
export function warpAffine(image: Image, m: readonly number[], opts: WarpOptions = {}): Image {
  checkImage(image, "warpAffine");
  const { data, width: w, height: h } = image;
  const fill = opts.fill ?? 0;
  const out = scratchImage(w, h);
  const o = out.data;
  const [m0, m1, m2, m3, m4, m5] = m;
  if (opts.interpolation === "nearest") {
    for (let y = 0; y < h; y++) {
      const sx0 = m1 * y + m2, sy0 = m4 * y + m5, row = y * w;
      for (let x = 0; x < w; x++) {
        // Ties to even, as grid_sample's nearest (nearbyint).
        const ix = roundHalfEven(sx0 + m0 * x), iy = roundHalfEven(sy0 + m3 * x);
        o[row + x] = ix >= 0 && ix < w && iy >= 0 && iy < h ? data[iy * w + ix] : fill;
      }
    }
    return out;
  }
  // Outside the box of pixels that differ from `fill` (the body, for CT with
  // air as fill) every tap reads `fill`, so those outputs need no arithmetic.
  const box = contentBox(data, w, h, fill);
  if (!box) return (o.fill(fill), out);
  const [bx0, by0, bx1, by1] = box;
  for (let y = 0; y < h; y++) {
    const sx0 = m1 * y + m2, sy0 = m4 * y + m5, row = y * w;
    // [oa, ob): columns whose source may touch the box; [ia, ib): columns whose
    // four taps are all inside the image (no bounds checks, `| 0` is floor).
    const [oa, ob] = both(
      span(sx0, m0, bx0 - 1, bx1 + 1, w, false),
      span(sy0, m3, by0 - 1, by1 + 1, w, false),
    );
    if (oa >= ob) {
      o.fill(fill, row, row + w);
      continue;
    }
    let [ia, ib] = both(span(sx0, m0, 0, w - 1, w, true), span(sy0, m3, 0, h - 1, w, true));
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
    o.fill(fill, row + ob, row + w);
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
