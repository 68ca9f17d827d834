/**
 * MONAI 1.3's `Spacing(pixdim, mode, padding_mode)` on host voxels: the
 * resampling behind `VolumeDataset`'s `spacing` option. Not public.
 *
 * What MONAI does (`Spacing.__call__`, `zoom_affine`, `compute_shape_offset`,
 * `spatial_resample`, `AffineTransform`), with its defaults `diagonal=False`,
 * `align_corners=False`, `scale_extent=False`, float64 arithmetic and a
 * float32 result; the same steps are taken here, in float64:
 *
 * 1. The volume's current spacing is the column norms of its affine (after
 *    `Orientation`). A target within 1e-3 of it keeps it (MONAI's
 *    `min_pixdim`/`max_pixdim` test with both unset); a target <= 0 keeps it
 *    too (`fall_back_tuple`).
 * 2. The new affine keeps the old one's rotation and drops its shear:
 *    `U = chol(LᵀL)ᵀ` of the 3x3 part L, rotation `L U⁻¹`, new 3x3 part
 *    `M = L U⁻¹ diag(pixdim)`. Axes are never flipped or swapped.
 * 3. The output shape is `round(extent + 1)` per axis (numpy's round, half
 *    to even), the extent being the spread of the 8 corner voxel centres
 *    in the new voxel grid. The new origin is the corner that is smallest
 *    along every new axis at once (within 1e-8), else the grid is centred
 *    on the old one.
 * 4. Output voxel j samples the input at voxel coordinate `K j + c`, where
 *    `[K | c] = A⁻¹ N` maps new voxels to old ones. MONAI turns this into
 *    a normalized `theta` (`to_norm_affine` with `normalize_transform`,
 *    align_corners=False) for `F.affine_grid` + `F.grid_sample`, which map
 *    the voxel centres back exactly, so the sample point is `K j + c` in
 *    voxels. For a diagonal, flipped or rotated (unsheared) affine K is
 *    `diag(new / old)` and c is 0: voxel 0 stays at voxel 0, and the last
 *    output voxel may fall past the last input voxel (the padding mode
 *    then decides). A sheared affine gives a full K.
 * 5. Nothing is resampled when the new affine equals the old one within
 *    1e-3 (or `K, c` is the identity within 1e-3) and the shape is kept.
 *
 * Here: when K is diagonal (off-diagonal terms move no sample by more than
 * 1e-9 voxel), the resampling runs as three 1-D passes, each output voxel
 * two taps per pass from per-axis tables of indices and weights, the most
 * shrinking axis first, which equals `grid_sample`'s trilinear (and
 * nearest) up to float rounding; otherwise every voxel takes grid_sample's
 * 8 taps. Taps outside the volume are skipped (`zeros`), or the coordinate
 * is clamped (`border`) or reflected about -0.5 and n - 0.5 then clamped
 * (`reflection`), as grid_sample with align_corners=False does (the
 * volume transforms' sampler, `sample3d.ts`, for the 8 taps and the
 * padding). Nearest rounds halves away from zero, as torch 1.13's 3-D
 * grid_sample; a sample exactly halfway between two voxels may round the
 * other way in MONAI, whose coordinates carry float64 noise from its
 * normalization (and newer torch rounds halves to even).
 *
 * @module
 */
import { checkOptions } from "../options.ts";
import { describe } from "./dataset_common.ts";
import type { Volume } from "./types.ts";
import {
  padCoord,
  roundHalfAway,
  sampleAffine,
  sampleMode,
  samplePadding,
} from "./transforms/volume/sample3d.ts";
import type { SampleMode, SamplePadding } from "./transforms/volume/sample3d.ts";
import type { Shape4 } from "./transforms/volume/volume.ts";

/** Interpolation of `Spacing` as run: grid_sample's names; "bilinear" is trilinear on volumes. */
export type SpacingMode = "bilinear" | "nearest";

/** Where `Spacing` samples outside the volume: grid_sample's padding modes. */
export type SpacingPaddingMode = "border" | "zeros" | "reflection";

/** MONAI's `Spacing(pixdim, mode, padding_mode)`, as `VolumeDataset`'s `spacing` option. */
export interface SpacingOptions {
  /**
   * Target voxel size along D, H, W (after `orientation`): one number for
   * all three, or a list (a shorter one repeats its last entry, a longer
   * one is cut to three, as MONAI's); an entry <= 0 keeps that axis's
   * spacing.
   */
  pixdim: number | readonly number[];
  /**
   * "bilinear" (MONAI's default; trilinear for volumes; "linear" and
   * "trilinear" too, as MONAI resolves them) or "nearest".
   */
  mode?: SampleMode;
  /**
   * "border" (MONAI's default), "zeros" or "reflection", or scipy's names
   * that MONAI maps to them ("constant", "nearest", "reflect", ...).
   */
  paddingMode?: SamplePadding;
}

/** `SpacingOptions` checked: three numbers and both modes. */
export interface SpacingSpec {
  /** Target spacing per axis (<= 0: keep). */
  pixdim: [number, number, number];
  /** Interpolation. */
  mode: SpacingMode;
  /** Padding. */
  paddingMode: SpacingPaddingMode;
}

const USAGE = 'spacing: { pixdim: [1.5, 1.5, 2], mode: "bilinear", paddingMode: "border" }';
/** MONAI's AFFINE_TOL. */
const TOL = 1e-3;

/**
 * The `spacing` option checked and filled with MONAI's defaults; errors
 * start with `where` and say what to write.
 */
export function checkSpacing(where: string, v: unknown): SpacingSpec {
  const at = `${where}: spacing`;
  if (typeof v === "number" || Array.isArray(v)) {
    const shown = Array.isArray(v) ? `[${v.join(", ")}]` : String(v);
    throw new Error(
      `${at} is an options object with the target voxel size in pixdim, got ${describe(v)}; ` +
        `write spacing: { pixdim: ${shown} }`,
    );
  }
  const o = checkOptions<SpacingOptions>(at, v ?? null, ["pixdim", "mode", "paddingMode"], USAGE);
  return {
    pixdim: checkPixdim(at, o.pixdim),
    mode: checkMode(at, o.mode),
    paddingMode: checkPadding(at, o.paddingMode),
  };
}

/**
 * MONAI's `Spacing(pixdim)`: one number for all three axes, or a list that
 * is cut to three and, when shorter, padded with its last value (MONAI's
 * `pixdim[:sr]` then `np.append(out_d, [out_d[-1]] * ...)`: [1, 2] is
 * [1, 2, 2]).
 */
function checkPixdim(at: string, p: unknown): [number, number, number] {
  if (p === undefined) {
    throw new Error(`${at}: pixdim (the target voxel size) is required; write ${USAGE}`);
  }
  const bad = (what: string): never => {
    throw new Error(
      `${at}: pixdim must be one finite number (all three axes) or a list of them (D, H, W; a ` +
        `shorter list repeats its last, as MONAI's; <= 0 keeps an axis), ${what}; write e.g. ` +
        USAGE,
    );
  };
  if (typeof p === "number") {
    if (!Number.isFinite(p)) bad(`got ${p}`);
    return [p, p, p];
  }
  if (!Array.isArray(p) && !ArrayBuffer.isView(p)) bad(`got ${describe(p)}`);
  const a = Array.from(p as ArrayLike<unknown>);
  if (a.length === 0) bad("got an empty list (MONAI fails on it too)");
  a.forEach((x, i) => {
    if (typeof x !== "number" || !Number.isFinite(x)) bad(`but entry ${i} is ${describe(x)}`);
  });
  const n = a as number[];
  return [0, 1, 2].map((i) => n[Math.min(i, n.length - 1)]) as [number, number, number];
}

/**
 * The interpolation, as MONAI's `spatial_resample` resolves it for torch:
 * "bilinear", "linear", "trilinear" (and the string "1") are grid_sample's
 * "bilinear", "nearest" is nearest; an integer is MONAI's scipy path,
 * refused here.
 */
function checkMode(at: string, m: unknown): SpacingMode {
  return sampleMode(at, "mode", m, "bilinear", { numbers: "scipy", strings: "torch" });
}

/** The padding, as MONAI resolves it for grid_sample (scipy's names map to its three). */
function checkPadding(at: string, p: unknown): SpacingPaddingMode {
  return samplePadding(at, "paddingMode", p, "border");
}

// ---- MONAI's plan: output shape and the voxel transform -----------------------

/** What `Spacing` does to one volume. */
export interface SpacingPlan {
  /** Output size along D, H, W. */
  shape: [number, number, number];
  /** Output voxel j samples input voxel coordinate `k j + c`. */
  k: number[][];
  /** The translation of the voxel transform. */
  c: number[];
  /** The new voxel size along D, H, W. */
  pixdim: [number, number, number];
  /** False when MONAI returns the input unchanged. */
  resample: boolean;
}

type M3 = number[][];

const matmul = (a: M3, b: M3): M3 =>
  a.map((row) => [0, 1, 2].map((j) => row[0] * b[0][j] + row[1] * b[1][j] + row[2] * b[2][j]));
const matvec = (a: M3, v: number[]): number[] =>
  a.map((row) => row[0] * v[0] + row[1] * v[1] + row[2] * v[2]);

/**
 * `A⁻¹ B` for a 3x3 `A` and the columns of `B`, as LAPACK's `gesv` (LU
 * with partial pivoting, substitutions that divide by the pivot), so that
 * a diagonal `A` divides exactly as numpy and torch do: the output shape
 * is a rounding of these numbers, and 5 mm to 2 mm over 100 slices lands
 * on 247.5 + 1 exactly (numpy rounds it to 248; one ulp more gives 249).
 */
function solve(A: M3, B: number[][]): number[][] {
  const a = A.map((r) => [...r]), b = B.map((r) => [...r]);
  for (let j = 0; j < 3; j++) {
    let p = j;
    for (let i = j + 1; i < 3; i++) if (Math.abs(a[i][j]) > Math.abs(a[p][j])) p = i;
    [a[j], a[p]] = [a[p], a[j]];
    [b[j], b[p]] = [b[p], b[j]];
    for (let i = j + 1; i < 3; i++) {
      const l = a[i][j] / a[j][j];
      for (let k = j; k < 3; k++) a[i][k] -= l * a[j][k];
      for (let k = 0; k < b[i].length; k++) b[i][k] -= l * b[j][k];
    }
  }
  for (let i = 2; i >= 0; i--) {
    for (let k = 0; k < b[i].length; k++) {
      let x = b[i][k];
      for (let m = i + 1; m < 3; m++) x -= a[i][m] * b[m][k];
      b[i][k] = x / a[i][i];
    }
  }
  return b;
}

/** The inverse of an upper triangular 3x3 matrix, as LAPACK's `trti2` (diagonal 1 / u). */
function invertUpper(u: M3): M3 {
  const inv: M3 = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let j = 0; j < 3; j++) {
    inv[j][j] = 1 / u[j][j];
    for (let i = 0; i < j; i++) {
      let x = 0;
      for (let k = i; k < j; k++) x += inv[i][k] * u[k][j];
      inv[i][j] = -inv[j][j] * x;
    }
  }
  return inv;
}

/** numpy's round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * MONAI's `Spacing` plan for a volume of `shape` [D, H, W] whose
 * voxel-to-world affine (after orientation) is the 3x4 `affine`.
 */
export function planSpacing(shape: number[], affine: number[][], spec: SpacingSpec): SpacingPlan {
  const L: M3 = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[r][c]));
  const t = [0, 1, 2].map((r) => affine[r][3]);
  // affine_to_spacing, then the keep test of min_pixdim / max_pixdim.
  const orig = [0, 1, 2].map((c) => Math.sqrt(L[0][c] ** 2 + L[1][c] ** 2 + L[2][c] ** 2) || 1);
  const outD = spec.pixdim.map((p, a) => p - TOL <= orig[a] && orig[a] <= p + TOL ? orig[a] : p);
  // zoom_affine(diagonal=False): fall_back_tuple, then the rotation of L without its shear.
  const scale = outD.map((p, a) => (p > 0 ? p : orig[a]));
  const G = matmul([0, 1, 2].map((i) => [0, 1, 2].map((j) => L[j][i])), L);
  const C: M3 = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let j = 0; j < 3; j++) {
    let d = G[j][j];
    for (let k = 0; k < j; k++) d -= C[j][k] * C[j][k];
    if (!(d > 0)) {
      throw new Error(
        `the affine's 3x3 part ${JSON.stringify(L)} is singular, so the voxels have no ` +
          `spacing to resample from; leave spacing out`,
      );
    }
    C[j][j] = Math.sqrt(d);
    for (let i = j + 1; i < 3; i++) {
      let s = G[i][j];
      for (let k = 0; k < j; k++) s -= C[i][k] * C[j][k];
      C[i][j] = s / C[j][j];
    }
  }
  const U: M3 = [0, 1, 2].map((i) => [0, 1, 2].map((j) => C[j][i]));
  const M = matmul(matmul(L, invertUpper(U)), [[scale[0], 0, 0], [0, scale[1], 0], [
    0,
    0,
    scale[2],
  ]]);
  // compute_shape_offset: the corners in the new grid (translation 0).
  const Qq = solve(M, L.map((row, r) => [...row, t[r]]));
  const n = shape.map((s) => s - 1);
  const corners: number[][] = [];
  for (let i = 0; i < 8; i++) {
    corners.push([(i >> 2) & 1, (i >> 1) & 1, i & 1].map((b, a) => b * n[a]));
  }
  const dist = corners.map((v) => Qq.map((r) => r[0] * v[0] + r[1] * v[1] + r[2] * v[2] + r[3]));
  const out = [0, 1, 2].map((a) => {
    const xs = dist.map((d) => d[a]);
    return roundHalfEven(Math.max(...xs) - Math.min(...xs) + 1);
  }) as [number, number, number];
  let offset: number[] | null = null;
  for (let i = 0; i < 8 && offset === null; i++) {
    const smallest = [0, 1, 2].every((a) =>
      Math.abs(Math.min(...dist.map((d) => d[a] - dist[i][a]))) <= 1e-8
    );
    if (smallest) offset = matvec(L, corners[i]).map((x, a) => x + t[a]);
  }
  if (offset === null) {
    const mid = matvec(L, shape.map((s) => s / 2)), outMid = matvec(M, out.map((s) => s / 2));
    offset = [0, 1, 2].map((a) => mid[a] + t[a] - outMid[a]);
  }
  // spatial_resample: xform = solve(A, N), and its no-change test (torch.allclose, atol 1e-3).
  const kc = solve(L, M.map((row, r) => [...row, offset![r] - t[r]]));
  const k = kc.map((r) => r.slice(0, 3)), c = kc.map((r) => r[3]);
  const close = (x: number, y: number) => Math.abs(x - y) <= TOL + 1e-5 * Math.abs(y);
  const sameShape = out.every((s, a) => s === shape[a]);
  const sameAffine = [0, 1, 2].every((r) =>
    [0, 1, 2].every((j) => close(L[r][j], M[r][j])) && close(t[r], offset![r])
  );
  const identity = [0, 1, 2].every((r) =>
    [0, 1, 2].every((j) => close(k[r][j], r === j ? 1 : 0)) && close(c[r], 0)
  );
  return {
    shape: out,
    k,
    c,
    pixdim: scale as [number, number, number],
    resample: !(sameShape && (sameAffine || identity)),
  };
}

// ---- grid_sample on the host ------------------------------------------------------

/** One axis's taps: output j reads input i0[j] (weight w0) and i1[j] (w1); -1 is no tap. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w0: Float64Array;
  w1: Float64Array;
}

/** The taps of `m` outputs at coordinates `k j + c` on an input axis of `n` voxels. */
function axisTaps(
  n: number,
  m: number,
  k: number,
  c: number,
  mode: SpacingMode,
  padding: SpacingPaddingMode,
): Taps {
  const t: Taps = {
    i0: new Int32Array(m).fill(-1),
    i1: new Int32Array(m).fill(-1),
    w0: new Float64Array(m),
    w1: new Float64Array(m),
  };
  for (let j = 0; j < m; j++) {
    const x = padCoord(k * j + c, n, padding, false);
    if (mode === "nearest") {
      const i = roundHalfAway(x);
      if (i >= 0 && i < n) {
        t.i0[j] = i;
        t.w0[j] = 1;
      }
      continue;
    }
    const f = Math.floor(x);
    if (f >= 0 && f < n) {
      t.i0[j] = f;
      t.w0[j] = f + 1 - x;
    }
    if (f + 1 >= 0 && f + 1 < n) {
      t.i1[j] = f + 1;
      t.w1[j] = x - f;
    }
  }
  return t;
}

/** Whether the taps copy the axis unchanged. */
function isIdentity(t: Taps, n: number): boolean {
  if (t.i0.length !== n) return false;
  for (let j = 0; j < n; j++) {
    if (t.i0[j] !== j || t.w0[j] !== 1 || (t.i1[j] >= 0 && t.w1[j] !== 0)) return false;
  }
  return true;
}

/**
 * One 1-D pass over the middle axis of `src` viewed as [outer, n, inner]:
 * `out[a, j, b] = w0[j] src[a, i0[j], b] + w1[j] src[a, i1[j], b]`.
 */
function pass(src: Float32Array, outer: number, n: number, inner: number, t: Taps): Float32Array {
  const m = t.i0.length;
  const out = new Float32Array(outer * m * inner);
  const { i0, i1, w0, w1 } = t;
  if (inner === 1) {
    for (let a = 0; a < outer; a++) {
      const s = a * n, o = a * m;
      for (let j = 0; j < m; j++) {
        const p = i0[j], q = i1[j];
        out[o + j] = p >= 0
          ? (q >= 0 ? w0[j] * src[s + p] + w1[j] * src[s + q] : w0[j] * src[s + p])
          : (q >= 0 ? w1[j] * src[s + q] : 0);
      }
    }
    return out;
  }
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < m; j++) {
      const o = (a * m + j) * inner;
      const p = i0[j] >= 0 ? (a * n + i0[j]) * inner : -1;
      const q = i1[j] >= 0 ? (a * n + i1[j]) * inner : -1;
      const u = w0[j], v = w1[j];
      if (p >= 0 && q >= 0) {
        for (let b = 0; b < inner; b++) out[o + b] = u * src[p + b] + v * src[q + b];
      } else if (p >= 0) {
        for (let b = 0; b < inner; b++) out[o + b] = u * src[p + b];
      } else if (q >= 0) {
        for (let b = 0; b < inner; b++) out[o + b] = v * src[q + b];
      }
    }
  }
  return out;
}

/**
 * @internal resampling by `plan` when its voxel transform is diagonal (the
 * off-diagonal terms are ignored): three 1-D passes, the most shrinking
 * axis first.
 */
export function resampleSeparable(
  src: Float32Array,
  shape: number[],
  plan: SpacingPlan,
  mode: SpacingMode,
  padding: SpacingPaddingMode,
): Float32Array {
  const size = [...shape];
  const taps = [0, 1, 2].map((a) =>
    axisTaps(shape[a], plan.shape[a], plan.k[a][a], plan.c[a], mode, padding)
  );
  const order = [0, 1, 2].sort((a, b) => plan.shape[a] / shape[a] - plan.shape[b] / shape[b]);
  let data = src;
  for (const a of order) {
    if (isIdentity(taps[a], shape[a])) continue;
    const outer = size.slice(0, a).reduce((x, y) => x * y, 1);
    const inner = size.slice(a + 1).reduce((x, y) => x * y, 1);
    data = pass(data, outer, size[a], inner, taps[a]);
    size[a] = plan.shape[a];
  }
  return data === src ? src.slice() : data;
}

/** @internal resampling by `plan`'s full voxel transform: grid_sample's 8 taps (or 1) per voxel. */
export function resampleGeneral(
  src: Float32Array,
  shape: number[],
  plan: SpacingPlan,
  mode: SpacingMode,
  padding: SpacingPaddingMode,
): Float32Array {
  const { k, c } = plan;
  const m = [...k.map((row, r) => [...row, c[r]]), [0, 0, 0, 1]];
  const v = { data: src, shape: [1, shape[0], shape[1], shape[2]] as Shape4 };
  return sampleAffine(v, plan.shape, m, { mode, padding, alignCorners: false }).data;
}

/**
 * @internal `volume` resampled as MONAI's `Spacing` (see the module doc), given its
 * 3x4 voxel-to-world `affine` after orientation; its `spacing` becomes the
 * new voxel size. Returns `volume` itself when MONAI would change nothing
 * (then only `spacing` is set).
 */
export function resampleToSpacing(volume: Volume, affine: number[][], spec: SpacingSpec): Volume {
  const shape = [volume.depth, volume.height, volume.width];
  const plan = planSpacing(shape, affine, spec);
  if (!plan.resample) return { ...volume, spacing: plan.pixdim };
  const { k } = plan;
  const diagonal = [0, 1, 2].every((r) =>
    [0, 1, 2].every((j) => r === j || Math.abs(k[r][j]) * Math.max(plan.shape[j] - 1, 0) <= 1e-9)
  );
  const data = (diagonal ? resampleSeparable : resampleGeneral)(
    volume.data,
    shape,
    plan,
    spec.mode,
    spec.paddingMode,
  );
  const [depth, height, width] = plan.shape;
  return { data, depth, height, width, spacing: plan.pixdim };
}
