/**
 * A host-side 3-D sampler with `F.grid_sample`'s semantics on 5-D inputs
 * (trilinear, which torch calls "bilinear", and nearest; zeros, border and
 * reflection padding; both `align_corners`), for grids that are affine in
 * the output voxel index: what `F.affine_grid` makes, and what MONAI's
 * `Rotate`, `Affine` and `RandAffine` sample with. The voxels stay on the
 * host (the library's `F.gridSample` is 2-D only). Coordinates are computed
 * in float64; values are read and written as float32. Not public.
 *
 * @module
 */
import { fmt } from "../image.ts";
import { emptyVol, type Vol } from "./volume.ts";

/**
 * The interpolation names the resampling transforms take, as MONAI resolves
 * them for torch's grid_sample (`resolves_modes`): "bilinear", "linear" and
 * "trilinear" are all grid_sample's "bilinear" (trilinear on a volume),
 * "nearest" is nearest. `Rotate` and `Spacing` also take the spline name
 * "1" (and `Rotate` the number 1), which MONAI maps to "bilinear".
 */
export type SampleMode = "bilinear" | "nearest" | "linear" | "trilinear";
/**
 * The padding names the resampling transforms take: grid_sample's
 * "zeros", "border", "reflection", and scipy's names that MONAI maps to
 * them for torch ("constant" and "grid-constant" are "zeros", "nearest" is
 * "border", "reflect", "wrap", "grid-wrap" and "grid-mirror" are
 * "reflection").
 */
export type SamplePadding =
  | "zeros"
  | "border"
  | "reflection"
  | "constant"
  | "grid-constant"
  | "nearest"
  | "reflect"
  | "wrap"
  | "grid-wrap"
  | "grid-mirror";

/** What grid_sample runs: its own mode names. */
export type SampleKernel = "bilinear" | "nearest";
/** grid_sample's padding modes. */
export type SamplePad = "zeros" | "border" | "reflection";

/** MONAI's names for grid_sample's modes (InterpolateMode, then `resolves_modes`). */
const MODE_NAMES: Record<string, SampleKernel> = {
  bilinear: "bilinear",
  linear: "bilinear",
  trilinear: "bilinear",
  nearest: "nearest",
};
/** MONAI's names for grid_sample's padding (`_to_torch_resample_padding_mode`). */
const PAD_NAMES: Record<string, SamplePad> = {
  zeros: "zeros",
  border: "border",
  reflection: "reflection",
  constant: "zeros",
  "grid-constant": "zeros",
  nearest: "border",
  reflect: "reflection",
  wrap: "reflection",
  "grid-wrap": "reflection",
  "grid-mirror": "reflection",
};

/** How a transform's MONAI code path treats spline orders (0-5). */
export interface SplineRoute {
  /** A number: MONAI's scipy path (refused here), or torch's (str(order), as Rotate). */
  numbers: "scipy" | "torch";
  /** A digit string "0".."5": the scipy path (Resample) or torch's (Rotate, Spacing). */
  strings: "scipy" | "torch";
}

/**
 * Checks a resampling mode (MONAI's `mode`) and resolves it as MONAI 1.3
 * does for torch's grid_sample on a volume, or throws naming `name` and
 * `key`: what MONAI refuses, or sends to scipy's map_coordinates (a spline
 * order, on the transforms whose MONAI code does), is refused here.
 */
export function sampleMode(
  name: string,
  key: string,
  v: unknown,
  fallback: SampleKernel,
  route: SplineRoute = { numbers: "torch", strings: "torch" },
): SampleKernel {
  if (v === undefined || v === null) return fallback;
  const digit = typeof v === "string" && /^[0-5]$/.test(v);
  const order = Number.isInteger(v) ? v as number : digit ? Number(v) : null;
  const scipy = order !== null && (digit ? route.strings : route.numbers) === "scipy";
  if (typeof v === "string" && v in MODE_NAMES) return MODE_NAMES[v];
  if (order === 1 && !scipy) return "bilinear";
  const known = `"bilinear" (trilinear on a volume; "linear" and "trilinear" too) or "nearest"`;
  let why = "";
  if (scipy && order >= 0 && order <= 5) {
    why = ` (MONAI runs spline order ${order} through scipy's map_coordinates, which is not ` +
      `available here: write ${order === 0 ? '"nearest"' : '"bilinear"'}, torch's grid_sample)`;
  } else if (v === "bicubic" || order === 3) {
    why = " (torch 1.13's grid_sample: bicubic interpolation only supports 4D input, and a " +
      'volume is 5-D there, so MONAI fails too: write "bilinear")';
  } else if (v === "nearest-exact" || order === 0) {
    why =
      ' (MONAI resolves it to "nearest-exact", which grid_sample does not have: write "nearest")';
  } else if (v === "area") {
    why =
      ' ("area" is an F.interpolate mode (Resize, Zoom); grid_sample has none: write "bilinear")';
  }
  throw new Error(`${name}: ${key} must be ${known}, got ${fmt(v)}${why}`);
}

/** Checks a padding mode (MONAI's `padding_mode`) and resolves it for grid_sample, or throws. */
export function samplePadding(
  name: string,
  key: string,
  v: unknown,
  fallback: SamplePad,
): SamplePad {
  if (v === undefined || v === null) return fallback;
  if (typeof v === "string" && v in PAD_NAMES) return PAD_NAMES[v];
  const hints: Record<string, SamplePad> = {
    edge: "border",
    replicate: "border",
    mirror: "reflection",
    symmetric: "reflection",
    circular: "reflection",
  };
  const hint = typeof v === "string" && v in hints
    ? ` ("${v}" is a pad mode (SpatialPad, Zoom); MONAI's resampling refuses it: write ` +
      `"${hints[v]}")`
    : "";
  throw new Error(
    `${name}: ${key} must be one of "zeros", "border", "reflection" (grid_sample's names) or ` +
      `scipy's "constant", "grid-constant", "nearest", "reflect", "wrap", "grid-wrap", ` +
      `"grid-mirror" (MONAI maps them), got ${fmt(v)}${hint}`,
  );
}

/** How the sampler reads between and outside voxels. */
export interface SampleOptions {
  /** Interpolation. */
  mode: SampleKernel;
  /** Points outside the volume. */
  padding: SamplePad;
  /** grid_sample's align_corners: whether -1 and 1 are the corner voxels' centres. */
  alignCorners: boolean;
}

/** A 4x4 matrix, rows of 4 (the last row [0, 0, 0, 1] for an affine map). */
export type Mat4 = number[][];

/** The 4x4 identity. */
export function eye4(): Mat4 {
  return [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
}

/** a @ b for 4x4 matrices. */
export function matmul4(a: Mat4, b: Mat4): Mat4 {
  return a.map((row) =>
    [0, 1, 2, 3].map((j) =>
      row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j] + row[3] * b[3][j]
    )
  );
}

/** A map that scales axis i by `scale[i]` and then adds `shift[i]`. */
export function axisMap(scale: readonly number[], shift: readonly number[]): Mat4 {
  const m = eye4();
  for (let i = 0; i < 3; i++) {
    m[i][i] = scale[i];
    m[i][3] = shift[i];
  }
  return m;
}

/** The inverse of a 4x4 matrix (Gauss-Jordan with partial pivoting). */
export function inverse4(a: Mat4): Mat4 {
  const m = a.map((row, i) => [...row, ...eye4()[i]]);
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (m[p][c] === 0) throw new Error("inverse4: the matrix is singular");
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    for (let j = 0; j < 8; j++) m[c][j] /= d;
    for (let r = 0; r < 4; r++) {
      if (r === c || m[r][c] === 0) continue;
      const f = m[r][c];
      for (let j = 0; j < 8; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(4));
}

/**
 * F.affine_grid's base coordinate of output voxel j, per axis, as a map:
 * linspace(-1, 1, n) (align_corners) or that times (n - 1) / n; 0 for n = 1.
 */
export function baseGrid(size: readonly number[], alignCorners: boolean): Mat4 {
  const scale = size.map((n) => n <= 1 ? 0 : alignCorners ? 2 / (n - 1) : 2 / n);
  const shift = size.map((n) => n <= 1 ? 0 : alignCorners ? -1 : 1 / n - 1);
  return axisMap(scale, shift);
}

/**
 * grid_sample's unnormalization of a grid value to a voxel coordinate, per
 * axis: (g + 1) / 2 * (n - 1) (align_corners), else ((g + 1) * n - 1) / 2.
 */
export function unnormalize(size: readonly number[], alignCorners: boolean): Mat4 {
  return alignCorners
    ? axisMap(size.map((n) => (n - 1) / 2), size.map((n) => (n - 1) / 2))
    : axisMap(size.map((n) => n / 2), size.map((n) => (n - 1) / 2));
}

/**
 * `F.grid_sample(x, F.affine_grid(theta, [1, C, ...size]))` on a host
 * volume: `theta` is torch's 3 x 4 matrix on normalized (x, y, z) = (W, H,
 * D) coordinates, `size` the output [D, H, W].
 */
export function affineGridSample(
  v: Vol,
  size: readonly number[],
  theta: readonly (readonly number[])[],
  o: SampleOptions,
): Vol {
  // theta in (D, H, W) order: torch's axis 0 is x (W).
  const t = eye4();
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) t[r][c] = theta[2 - r][2 - c];
    t[r][3] = theta[2 - r][3];
  }
  const m = matmul4(
    matmul4(unnormalize(v.shape.slice(1), o.alignCorners), t),
    baseGrid(size, o.alignCorners),
  );
  return sampleAffine(v, size, m, o);
}

/** torch's reflect_coordinates: `x` folded into [low, high] (twice the bounds given). */
function reflect(x: number, twiceLow: number, twiceHigh: number): number {
  if (twiceLow === twiceHigh) return 0;
  const min = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
  const a = Math.abs(x - min);
  const extra = a % span;
  const flips = Math.floor(a / span);
  return flips % 2 === 0 ? extra + min : span - extra + min;
}

/**
 * @internal grid_sample's source coordinate after padding (border and
 * reflection clip into [0, n - 1]).
 */
export function padCoord(x: number, n: number, padding: SamplePad, align: boolean): number {
  if (padding === "zeros") return x;
  if (padding === "reflection") x = align ? reflect(x, 0, 2 * (n - 1)) : reflect(x, -1, 2 * n - 1);
  return Math.min(n - 1, Math.max(x, 0));
}

/**
 * @internal torch 1.13's nearest index in 3-D on the CPU: std::round,
 * halves away from zero (its 2-D kernel and later torch versions use
 * nearbyint, halves to even).
 */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * The volume sampled, for every output voxel (z, y, x) of `size` [D, H, W],
 * at the source voxel coordinate m @ [z, y, x, 1] (rows D, H, W; the
 * coordinate grid_sample has after unnormalizing), with grid_sample's
 * interpolation and padding rules. All channels share the grid.
 */
export function sampleAffine(
  v: Vol,
  size: readonly number[],
  m: Mat4,
  o: SampleOptions,
): Vol {
  const [c, d, h, w] = v.shape;
  const [od, oh, ow] = size;
  const out = emptyVol([c, od, oh, ow]);
  const src = v.data, dst = out.data;
  const vox = d * h * w, outVox = od * oh * ow;
  const { padding, alignCorners: align } = o;
  const nearest = o.mode === "nearest";
  let i = 0;
  for (let z = 0; z < od; z++) {
    for (let y = 0; y < oh; y++, i += ow) {
      // Source coordinates at x = 0, and their step per x.
      const bz = m[0][0] * z + m[0][1] * y + m[0][3], sz = m[0][2];
      const by = m[1][0] * z + m[1][1] * y + m[1][3], sy = m[1][2];
      const bx = m[2][0] * z + m[2][1] * y + m[2][3], sx = m[2][2];
      for (let x = 0; x < ow; x++) {
        const iz = padCoord(bz + sz * x, d, padding, align);
        const iy = padCoord(by + sy * x, h, padding, align);
        const ix = padCoord(bx + sx * x, w, padding, align);
        if (nearest) {
          const nz = roundHalfAway(iz), ny = roundHalfAway(iy), nx = roundHalfAway(ix);
          if (nz < 0 || nz >= d || ny < 0 || ny >= h || nx < 0 || nx >= w) continue;
          const at = (nz * h + ny) * w + nx;
          for (let ch = 0; ch < c; ch++) dst[ch * outVox + i + x] = src[ch * vox + at];
          continue;
        }
        const z0 = Math.floor(iz), y0 = Math.floor(iy), x0 = Math.floor(ix);
        if (!(z0 < d && y0 < h && x0 < w && z0 >= -1 && y0 >= -1 && x0 >= -1)) continue;
        const fz = iz - z0, fy = iy - y0, fx = ix - x0;
        const at = (z0 * h + y0) * w + x0;
        if (z0 >= 0 && y0 >= 0 && x0 >= 0 && z0 + 1 < d && y0 + 1 < h && x0 + 1 < w) {
          // All eight neighbours inside: no checks.
          const w000 = (1 - fz) * (1 - fy) * (1 - fx), w001 = (1 - fz) * (1 - fy) * fx;
          const w010 = (1 - fz) * fy * (1 - fx), w011 = (1 - fz) * fy * fx;
          const w100 = fz * (1 - fy) * (1 - fx), w101 = fz * (1 - fy) * fx;
          const w110 = fz * fy * (1 - fx), w111 = fz * fy * fx;
          const hw = h * w;
          for (let ch = 0, s = at; ch < c; ch++, s += vox) {
            dst[ch * outVox + i + x] = src[s] * w000 + src[s + 1] * w001 + src[s + w] * w010 +
              src[s + w + 1] * w011 + src[s + hw] * w100 + src[s + hw + 1] * w101 +
              src[s + hw + w] * w110 + src[s + hw + w + 1] * w111;
          }
          continue;
        }
        // At the edge: only the neighbours inside the volume count (zeros padding, or
        // a clipped coordinate whose outside neighbour has weight 0).
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let k = 0; k < 8; k++) {
            const dz = k >> 2, dy = (k >> 1) & 1, dx = k & 1;
            const zz = z0 + dz, yy = y0 + dy, xx = x0 + dx;
            if (zz < 0 || zz >= d || yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            const wt = (dz ? fz : 1 - fz) * (dy ? fy : 1 - fy) * (dx ? fx : 1 - fx);
            acc += src[ch * vox + (zz * h + yy) * w + xx] * wt;
          }
          dst[ch * outVox + i + x] = acc;
        }
      }
    }
  }
  return out;
}
