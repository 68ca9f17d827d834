/**
 * Affine resampling of volumes, MONAI's `Affine` and `RandAffine`: the
 * matrix is built as MONAI's `AffineGrid` builds it (create_rotate @
 * create_shear @ create_translate @ create_scale, in voxels, about the
 * volume's centre), applied to the centred grid of the output voxels, and
 * the volume is read there by `Resample` (grid_sample's rules, here the
 * host sampler of sample3d.ts). Also MONAI's matrix makers, which
 * rotate.ts shares.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { bool, num } from "../transform.ts";
import {
  axisMap,
  eye4,
  type Mat4,
  matmul4,
  sampleAffine,
  type SampleMode,
  sampleMode,
  type SampleOptions,
  type SamplePadding,
  samplePadding,
  unnormalize,
} from "./sample3d.ts";
import { VolumeTransform } from "./transform.ts";
import { resolveSize, size3, spatial, type Vol } from "./volume.ts";

/**
 * MONAI's `create_rotate` for 3-D: radians[0] turns in the plane of axes 1
 * and 2 (about axis 0), radians[1] about axis 1, radians[2] about axis 2,
 * composed R0 @ R1 @ R2; missing angles are no turn.
 */
export function createRotate(radians: readonly number[]): Mat4 {
  let m = eye4();
  const [a, b, c] = radians;
  if (radians.length >= 1) {
    const s = Math.sin(a), k = Math.cos(a);
    m = [[1, 0, 0, 0], [0, k, -s, 0], [0, s, k, 0], [0, 0, 0, 1]];
  }
  if (radians.length >= 2) {
    const s = Math.sin(b), k = Math.cos(b);
    m = matmul4(m, [[k, 0, s, 0], [0, 1, 0, 0], [-s, 0, k, 0], [0, 0, 0, 1]]);
  }
  if (radians.length >= 3) {
    const s = Math.sin(c), k = Math.cos(c);
    m = matmul4(m, [[k, -s, 0, 0], [s, k, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
  }
  return m;
}

/** MONAI's `create_shear` for 3-D: [[1, c0, c1], [c2, 1, c3], [c4, c5, 1]], missing coefficients 0. */
export function createShear(coefs: readonly number[]): Mat4 {
  const c = [0, 1, 2, 3, 4, 5].map((i) => coefs[i] ?? 0);
  return [[1, c[0], c[1], 0], [c[2], 1, c[3], 0], [c[4], c[5], 1, 0], [0, 0, 0, 1]];
}

/** MONAI's `create_translate`: a shift in voxels per axis, missing ones 0. */
export function createTranslate(shift: readonly number[]): Mat4 {
  return axisMap([1, 1, 1], [0, 1, 2].map((i) => shift[i] ?? 0));
}

/** MONAI's `create_scale`: a factor per axis, missing ones 1. */
export function createScale(factors: readonly number[]): Mat4 {
  return axisMap([0, 1, 2].map((i) => factors[i] ?? 1), [0, 0, 0]);
}

/**
 * MONAI's `Resample` of a centred grid (`create_grid`, voxel coordinates
 * about the centre) moved by `affine`: output voxel j reads the source at
 * affine @ (j - (size - 1) / 2), normalized by 2 / max(2, n) per axis as
 * MONAI does for torch's grid_sample. With `o.alignCorners` (MONAI's
 * `Affine(align_corners=True)`), `AffineGrid` first scales the centred grid
 * by max(2, n) / (max(2, n) - 1) per output axis and grid_sample reads
 * with align_corners true.
 */
export function resampleCentred(
  v: Vol,
  size: readonly number[],
  affine: Mat4,
  o: SampleOptions,
): Vol {
  const dhw = spatial(v);
  const align = o.alignCorners;
  const norm = axisMap(dhw.map((n) => 2 / Math.max(2, n)), [0, 0, 0]);
  const sc = axisMap(
    size.map((n) => align ? Math.max(2, n) / (Math.max(2, n) - 1) : 1),
    [0, 0, 0],
  );
  const centre = axisMap([1, 1, 1], size.map((n) => -(n - 1) / 2));
  const m = matmul4(
    matmul4(matmul4(matmul4(unnormalize(dhw, align), norm), affine), sc),
    centre,
  );
  return sampleAffine(v, size, m, o);
}

/** MONAI's AffineGrid matrix: rotate @ shear @ translate @ scale (each skipped when empty). */
export function affineMatrix(p: AffineParams): Mat4 {
  let m = eye4();
  if (p.rotate.length) m = matmul4(m, createRotate(p.rotate));
  if (p.shear.length) m = matmul4(m, createShear(p.shear));
  if (p.translate.length) m = matmul4(m, createTranslate(p.translate));
  if (p.scale.length) m = matmul4(m, createScale(p.scale));
  return m;
}

/** The four parameter lists of an affine map, as MONAI's AffineGrid takes them. */
interface AffineParams {
  rotate: number[];
  shear: number[];
  translate: number[];
  scale: number[];
}

/** What each parameter list means, and its longest length, for the messages. */
const PARAMS = {
  rotate: { max: 3, what: "radians about axes 0, 1, 2" },
  shear: { max: 6, what: "shear coefficients [c0..c5] of [[1, c0, c1], [c2, 1, c3], [c4, c5, 1]]" },
  translate: { max: 3, what: "voxels along axes 0, 1, 2" },
  scale: { max: 3, what: "factors along axes 0, 1, 2" },
} as const;

/** A parameter list (MONAI's `ensure_tuple`: a number is a list of one), or [] when left out. */
function paramList(name: string, key: string, kind: keyof typeof PARAMS, v: unknown): number[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === "number" ? [v] : Array.isArray(v) ? v : null;
  const { max, what } = PARAMS[kind];
  if (!list || list.length > max || !list.every((x) => Number.isFinite(x))) {
    throw new Error(
      `${name}: ${key} must be a finite number or a list of up to ${max} (${what}; a number ` +
        `is the first only, as MONAI's), got ${fmt(v)}`,
    );
  }
  return list;
}

/**
 * A range list of RandAffine (MONAI's `RandRange`): per entry, a number f
 * (drawn from [-f, f), numpy's `uniform(-f, f)`, so a negative f works too)
 * or an [a, b] pair (`uniform(a, b)`, also when a > b, as numpy); a number
 * alone is one entry.
 */
function rangeList(
  name: string,
  key: string,
  kind: keyof typeof PARAMS,
  v: unknown,
): [number, number][] {
  if (v === undefined || v === null) return [];
  const list = typeof v === "number" ? [v] : Array.isArray(v) ? v : null;
  const { max, what } = PARAMS[kind];
  if (!list || list.length > max) {
    throw new Error(
      `${name}: ${key} must be a number or a list of up to ${max} entries (${what}), each a ` +
        `number f for [-f, f) or an [a, b] pair, got ${fmt(v)}`,
    );
  }
  return list.map((f) => {
    if (f === null || f === undefined) {
      throw new Error(
        `${name}: ${key} has ${fmt(f)}; write 0 for an axis without range (MONAI skips a ` +
          `None entry, which moves the later ranges to the earlier axes), got ${fmt(v)}`,
      );
    }
    if (typeof f === "number") {
      const r = num(name, key, f);
      return [-r, r];
    }
    if (!Array.isArray(f) || f.length !== 2) {
      throw new Error(
        `${name}: ${key} entries must be a number f (for [-f, f)) or an [a, b] pair, got ` +
          `${fmt(f)} in ${fmt(v)}`,
      );
    }
    return [num(name, key, f[0]), num(name, key, f[1])];
  });
}

/**
 * The resampling options: `mode`, `paddingMode` (MONAI's grid_sample ones;
 * a spline order is MONAI's scipy path here, refused), `alignCorners`
 * (Affine's; RandAffine has none, as MONAI's).
 */
function sampleOptions(
  name: string,
  params: { mode?: SampleMode; paddingMode?: SamplePadding; alignCorners?: boolean },
): SampleOptions {
  return {
    mode: sampleMode(name, "mode", params.mode, "bilinear", { numbers: "scipy", strings: "scipy" }),
    padding: samplePadding(name, "paddingMode", params.paddingMode, "reflection"),
    alignCorners: bool(name, "alignCorners", params.alignCorners, false),
  };
}

/** The optional output size (MONAI's `spatial_size`; left out, or entries <= 0: the volume's). */
function outSize(name: string, v: unknown): [number, number, number] {
  return v === undefined || v === null ? [0, 0, 0] : size3(name, "spatialSize", v);
}

/** A 4x4 matrix of finite numbers with last row [0, 0, 0, 1], or throws. */
function matrix(name: string, v: unknown): Mat4 {
  const ok = Array.isArray(v) && v.length === 4 &&
    v.every((r) => Array.isArray(r) && r.length === 4 && r.every((x) => Number.isFinite(x)));
  const m = v as Mat4;
  if (!ok || m[3][0] !== 0 || m[3][1] !== 0 || m[3][2] !== 0 || m[3][3] !== 1) {
    throw new Error(
      `${name}: affine must be a 4 x 4 affine matrix (rows of 4 finite numbers, the last ` +
        `[0, 0, 0, 1]) in voxels about the centre, got ${fmt(v)}`,
    );
  }
  return m.map((r) => [...r]);
}

/**
 * Resamples the volume through an affine map about its centre (MONAI's
 * `Affine`): output voxel j reads the input at A @ (j - centre) + centre,
 * A = rotate @ shear @ translate @ scale (MONAI's order and matrices, in
 * voxels; `translateParams` moves the sampling point, so the content moves
 * the other way, as MONAI). Each parameter is a list, or a number that is
 * the list's first entry only, as MONAI's (`scaleParams: 2` scales axis 0;
 * write [2, 2, 2] for all three). Or give the whole 4 x 4 `affine` instead.
 * `spatialSize` (default the volume's; entries <= 0 keep it) is the output
 * size, centred on the input; `mode` "bilinear" (trilinear; "linear" and
 * "trilinear" too) or "nearest", `paddingMode` "reflection" (default, as
 * MONAI's), "border" or "zeros" (or the scipy names MONAI maps to them);
 * `alignCorners` (default false, MONAI's `align_corners`): true scales the
 * centred grid by max(2, n) / (max(2, n) - 1) and samples with torch's
 * align_corners, as MONAI. Always resamples, as MONAI. MONAI's integer
 * spline orders (scipy's map_coordinates) are refused.
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.Affine({ rotateParams: [0.2, 0, 0], scaleParams: [1, 1.2, 1.2], spatialSize: [8, 24, 24] });
 * using x = randn([1, 8, 32, 32]);
 * using y = t.apply(x);
 * console.log(y.shape); // [1, 8, 24, 24]
 * ```
 */
export class Affine extends VolumeTransform {
  readonly #affine: Mat4;
  readonly #size: [number, number, number];
  readonly #options: SampleOptions;
  /** The four parameter lists or `affine`, `spatialSize`, `mode` ("bilinear"), `paddingMode` ("reflection"), `alignCorners` (false). */
  constructor(
    params: {
      rotateParams?: number | number[];
      shearParams?: number | number[];
      translateParams?: number | number[];
      scaleParams?: number | number[];
      affine?: number[][];
      spatialSize?: number | [number, number, number];
      mode?: SampleMode;
      paddingMode?: SamplePadding;
      alignCorners?: boolean;
    } = {},
  ) {
    super(params, arguments.length, {
      keys: [
        "rotateParams",
        "shearParams",
        "translateParams",
        "scaleParams",
        "affine",
        "spatialSize",
        "mode",
        "paddingMode",
        "alignCorners",
      ],
      p: null,
      usage: "{ rotateParams: [0.1, 0, 0], scaleParams: [1.1, 1.1, 1.1] }",
    });
    const n = this.name;
    const list: AffineParams = {
      rotate: paramList(n, "rotateParams", "rotate", params.rotateParams),
      shear: paramList(n, "shearParams", "shear", params.shearParams),
      translate: paramList(n, "translateParams", "translate", params.translateParams),
      scale: paramList(n, "scaleParams", "scale", params.scaleParams),
    };
    if (params.affine !== undefined && params.affine !== null) {
      if (Object.values(list).some((l) => l.length > 0)) {
        throw new Error(
          `${n}: affine replaces rotateParams, shearParams, translateParams and scaleParams ` +
            `(MONAI ignores them then): give the matrix or the parameters`,
        );
      }
      this.#affine = matrix(n, params.affine);
    } else {
      this.#affine = affineMatrix(list);
    }
    this.#size = outSize(n, params.spatialSize);
    this.#options = sampleOptions(n, params);
  }
  /** The centred grid moved by the matrix, resampled. */
  protected run(v: Vol): Vol {
    return resampleCentred(v, resolveSize(this.#size, spatial(v)), this.#affine, this.#options);
  }
}

/**
 * With probability `p` (default 0.1), an `Affine` with parameters drawn
 * uniformly (MONAI's `RandAffine`): each range is a list with an entry
 * per parameter (rotateRange up to 3 angles, shearRange up to 6
 * coefficients, translateRange and scaleRange up to 3 axes), an entry a
 * number f for [-f, f) or an [a, b] pair (numpy's `uniform(a, b)`, also
 * for a > b or a negative f, as MONAI's); a number alone is the first
 * entry only, as MONAI's (`rotateRange: 0.3` turns about axis 0 only). The
 * scale drawn is 1 + the value. Draws, after the one for `p`: the rotate,
 * shear, translate and scale entries in order. When it does not apply but
 * `spatialSize` differs from the volume's, the volume is still resampled
 * to that size (a centred crop or pad), as MONAI's. `mode` "bilinear",
 * `paddingMode` "reflection" by default, as MONAI's. No `alignCorners`
 * (MONAI's RandAffine has none: it samples with align_corners false).
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.RandAffine({
 *   p: 1, rotateRange: [0.26, 0, 0], scaleRange: [0.1, 0.1, 0.1], translateRange: [2, 4, 4],
 * });
 * using x = randn([1, 8, 16, 16]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 8, 16, 16]
 * ```
 */
export class RandAffine extends VolumeTransform {
  readonly #ranges: Record<keyof AffineParams, [number, number][]>;
  readonly #size: [number, number, number];
  readonly #options: SampleOptions;
  /** `p` (0.1), the four ranges (default none), `spatialSize`, `mode`, `paddingMode`. */
  constructor(
    params: {
      p?: number;
      rotateRange?: number | (number | [number, number])[];
      shearRange?: number | (number | [number, number])[];
      translateRange?: number | (number | [number, number])[];
      scaleRange?: number | (number | [number, number])[];
      spatialSize?: number | [number, number, number];
      mode?: SampleMode;
      paddingMode?: SamplePadding;
    } = {},
  ) {
    super(params, arguments.length, {
      keys: [
        "rotateRange",
        "shearRange",
        "translateRange",
        "scaleRange",
        "spatialSize",
        "mode",
        "paddingMode",
      ],
      p: 0.1,
      usage: "{ p: 0.5, rotateRange: [0.26, 0, 0], scaleRange: [0.1, 0.1, 0.1] }",
    });
    const n = this.name;
    this.#ranges = {
      rotate: rangeList(n, "rotateRange", "rotate", params.rotateRange),
      shear: rangeList(n, "shearRange", "shear", params.shearRange),
      translate: rangeList(n, "translateRange", "translate", params.translateRange),
      scale: rangeList(n, "scaleRange", "scale", params.scaleRange),
    };
    this.#size = outSize(n, params.spatialSize);
    this.#options = sampleOptions(n, params);
  }

  /**
   * @internal As the base, except that when the draw says "do not apply" a
   * `spatialSize` other than the volume's still resamples, as MONAI's.
   */
  override applyHost(v: Vol, rng: Rng): Vol {
    if (this.p >= 1 || rng.bernoulli(this.p)) return this.run(v, rng);
    const size = resolveSize(this.#size, spatial(v));
    if (size.every((s, i) => s === v.shape[i + 1])) return v;
    return resampleCentred(v, size, eye4(), this.#options);
  }

  /** The parameters drawn next from `rng`: the rotate, shear, translate and scale entries in order. */
  #draw(rng: Rng): AffineParams {
    const draw = (r: [number, number][], add: number) =>
      r.map(([lo, hi]) => rng.uniform(lo, hi) + add);
    const r = this.#ranges;
    return {
      rotate: draw(r.rotate, 0),
      shear: draw(r.shear, 0),
      translate: draw(r.translate, 0),
      scale: draw(r.scale, 1),
    };
  }

  /** Draws the parameters, then resamples as `Affine`. */
  protected run(v: Vol, rng: Rng): Vol {
    const size = resolveSize(this.#size, spatial(v));
    return resampleCentred(v, size, affineMatrix(this.#draw(rng)), this.#options);
  }
}
