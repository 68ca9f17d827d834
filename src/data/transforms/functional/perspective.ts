/**
 * Perspective warp, as torchvision's `F.perspective` (`RandomPerspective`
 * draws the corners):
 * four corners move, and each output pixel reads the source through the
 * projective map that takes the moved corners back to the original ones.
 *
 * Coordinates follow torchvision exactly, including its mix of conventions:
 * the corner points are pixel indices, but the map is evaluated at pixel
 * centres x + 0.5 (Pillow's convention) and the result read back at
 * index - 0.5 (grid_sample, align_corners=False).
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, fmt, scratchImage } from "../image.ts";
import type { Interpolation } from "./geometry.ts";

/** Four [x, y] corners: top-left, top-right, bottom-right, bottom-left. */
export type Corners = [number, number][];

function checkCorners(op: string, points: unknown, what: string): Corners {
  const ok = Array.isArray(points) && points.length === 4 &&
    points.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite));
  if (!ok) {
    throw new Error(
      `${op}: ${what} must be 4 [x, y] points (top-left, top-right, bottom-right, bottom-left), got ${
        fmt(points)
      }`,
    );
  }
  return points as Corners;
}

/**
 * The 8 coefficients (a..h) of the projective map from `endpoints` to
 * `startpoints`, x' = (a x + b y + c) / (g x + h y + 1) and
 * y' = (d x + e y + f) / (g x + h y + 1), as torchvision's
 * `_get_perspective_coeffs` (solved exactly here, in float64).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const sq: [number, number][] = [[0, 0], [9, 0], [9, 9], [0, 9]];
 * console.log(data.transforms.F.perspectiveCoefficients(sq, sq).map((v) => Math.round(v))); // [1, 0, 0, 0, 1, 0, 0, 0]
 * ```
 */
export function perspectiveCoefficients(startpoints: Corners, endpoints: Corners): number[] {
  const s = checkCorners("perspective", startpoints, "startpoints");
  const e = checkCorners("perspective", endpoints, "endpoints");
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = e[i], [u, v] = s[i];
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  // Gaussian elimination with partial pivoting on the augmented 8 x 9 matrix.
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    if (Math.abs(a[p][c]) < 1e-12) {
      throw new Error(
        `perspective: the corners ${fmt(e)} are degenerate (three in a line); no map exists`,
      );
    }
    [a[c], a[p]] = [a[p], a[c]];
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const f = a[r][c] / a[c][c];
      for (let k = c; k < 9; k++) a[r][k] -= f * a[c][k];
    }
  }
  return a.map((row, i) => row[8] / row[i]);
}

/**
 * Warps so that `startpoints` move to `endpoints` (torchvision's
 * `F.perspective`). Without `fill`, taps outside the image read 0
 * (grid_sample's zero padding, torchvision's `fill=None`); with a number,
 * torchvision's fill rule: bilinear output = sampled * inside + (1 - inside) * fill,
 * where `inside` is the interpolated share of in-image taps. Nearest picks
 * round half to even, as grid_sample; at exact half-pixel ties torchvision's
 * float32 grid may land on the other neighbour.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(16).fill(1), width: 4, height: 4 };
 * const sq: [number, number][] = [[0, 0], [3, 0], [3, 3], [0, 3]];
 * console.log([...data.transforms.F.perspective(img, sq, sq).data].every((v) => v === 1)); // true
 * ```
 */
export function perspective(
  image: Image,
  startpoints: Corners,
  endpoints: Corners,
  interpolation: Interpolation = "bilinear",
  fill?: number,
): Image {
  checkImage(image, "perspective");
  if (interpolation !== "bilinear" && interpolation !== "nearest") {
    throw new Error(
      `perspective: interpolation must be "bilinear" or "nearest", got ${fmt(interpolation)}`,
    );
  }
  if (fill !== undefined && !Number.isFinite(fill)) {
    throw new Error(`perspective: fill must be a finite number, got ${fmt(fill)}`);
  }
  const [ca, cb, cc, cd, ce, cf, cg, ch] = perspectiveCoefficients(startpoints, endpoints);
  const { data, width: w, height: h } = image;
  const out = scratchImage(w, h);
  for (let y = 0; y < h; y++) {
    const Y = y + 0.5;
    for (let x = 0; x < w; x++) {
      const X = x + 0.5, den = cg * X + ch * Y + 1;
      const sx = (ca * X + cb * Y + cc) / den - 0.5, sy = (cd * X + ce * Y + cf) / den - 0.5;
      out.data[y * w + x] = interpolation === "nearest"
        ? nearestTap(data, w, h, sx, sy, fill ?? 0)
        : bilinearTap(data, w, h, sx, sy, fill);
    }
  }
  return out;
}

/** grid_sample's nearest tap (round half to even); outside reads `fill`. */
function nearestTap(d: Float32Array, w: number, h: number, sx: number, sy: number, fill: number) {
  const rx = Math.round(sx), ry = Math.round(sy);
  const ix = Math.abs(sx % 1) === 0.5 && rx % 2 !== 0 ? rx - 1 : rx;
  const iy = Math.abs(sy % 1) === 0.5 && ry % 2 !== 0 ? ry - 1 : ry;
  return ix >= 0 && ix < w && iy >= 0 && iy < h ? d[iy * w + ix] : fill;
}

/** Bilinear with zero padding, then torchvision's fill blend when `fill` is given. */
function bilinearTap(
  d: Float32Array,
  w: number,
  h: number,
  sx: number,
  sy: number,
  fill: number | undefined,
): number {
  const fx = Math.floor(sx), fy = Math.floor(sy), lx = sx - fx, ly = sy - fy;
  let value = 0, inside = 0;
  for (let j = 0; j < 2; j++) {
    const yy = fy + j, wy = j ? ly : 1 - ly;
    if (yy < 0 || yy >= h) continue;
    for (let i = 0; i < 2; i++) {
      const xx = fx + i, wgt = (i ? lx : 1 - lx) * wy;
      if (xx < 0 || xx >= w) continue;
      value += wgt * d[yy * w + xx];
      inside += wgt;
    }
  }
  return fill === undefined ? value : value * inside + (1 - inside) * fill;
}
