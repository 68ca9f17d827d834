/**
 * Rotation of volumes by any angle, MONAI's `Rotate` and `RandRotate`:
 * MONAI's `create_rotate` about the volume's centre, read by torch's
 * grid_sample through MONAI's `AffineTransform` (the host sampler of
 * sample3d.ts). With `keepSize: false` the output grows to hold the
 * rotated corners, as MONAI's.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { bool, num } from "../transform.ts";
import { createRotate, createTranslate } from "./affine.ts";
import {
  axisMap,
  baseGrid,
  inverse4,
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
import { spatial, type Vol } from "./volume.ts";

/** MONAI's `normalize_transform`: voxel coordinates to grid_sample's [-1, 1]. */
function normalizeTransform(size: readonly number[], alignCorners: boolean): Mat4 {
  return alignCorners
    ? axisMap(size.map((n) => 2 / ((n <= 1 ? 2 : n) - 1)), [-1, -1, -1])
    : axisMap(size.map((n) => 2 / n), size.map((n) => 1 / n - 1));
}

/**
 * MONAI's `rotate`: the output size (the input's, or with `keepSize` false
 * the extent of the rotated corners, rounded), and the voxel map
 * translate((in - 1) / 2) @ R @ translate(-(out - 1) / 2), which MONAI's
 * `AffineTransform` normalizes for torch (to_norm_affine) before
 * affine_grid and grid_sample; composed here into one map from output
 * voxel to source voxel.
 */
export function rotateVol(
  v: Vol,
  angles: readonly number[],
  keepSize: boolean,
  o: SampleOptions,
): Vol {
  const dhw = spatial(v);
  const r = createRotate(angles);
  let size = dhw;
  if (!keepSize) {
    // The corners (0 or n per axis) turned; the size is their extent + 0.5, truncated.
    const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    for (let k = 0; k < 8; k++) {
      const p = [k >> 2, (k >> 1) & 1, k & 1].map((b, i) => b * dhw[i]);
      for (let i = 0; i < 3; i++) {
        const q = r[i][0] * p[0] + r[i][1] * p[1] + r[i][2] * p[2];
        lo[i] = Math.min(lo[i], q);
        hi[i] = Math.max(hi[i], q);
      }
    }
    size = [0, 1, 2].map((i) => Math.trunc(hi[i] - lo[i] + 0.5)) as [number, number, number];
  }
  const xform = matmul4(
    matmul4(createTranslate(dhw.map((n) => (n - 1) / 2)), r),
    createTranslate(size.map((n) => -(n - 1) / 2)),
  );
  const align = o.alignCorners;
  // to_norm_affine, then grid_sample's unnormalization and affine_grid's base grid.
  const theta = matmul4(
    matmul4(normalizeTransform(dhw, align), xform),
    inverse4(normalizeTransform(size, align)),
  );
  const m = matmul4(matmul4(unnormalize(dhw, align), theta), baseGrid(size, align));
  return sampleAffine(v, size, m, o);
}

/** The resampling options of Rotate and RandRotate. */
function rotateOptions(
  name: string,
  params: { mode?: SampleMode | 1 | "1"; paddingMode?: SamplePadding; alignCorners?: boolean },
): SampleOptions {
  return {
    mode: sampleMode(name, "mode", params.mode, "bilinear"),
    padding: samplePadding(name, "paddingMode", params.paddingMode, "border"),
    alignCorners: bool(name, "alignCorners", params.alignCorners, false),
  };
}

/**
 * Rotates the volume by `angle` radians about its centre (MONAI's
 * `Rotate`): a number turns by that angle about all three axes (MONAI's
 * `ensure_tuple_rep`), or [a0, a1, a2] composes R0 @ R1 @ R2, Ri a turn
 * about spatial axis i (a0 turns each depth slice in the H-W plane).
 * `keepSize` (default true) keeps the size; false grows it to hold the
 * turned corners. `mode` "bilinear" (trilinear; default; MONAI also takes
 * "linear", "trilinear" and spline order 1 for it) or "nearest",
 * `paddingMode` "border" (default), "zeros" or "reflection" (or the scipy
 * names MONAI maps to them: "constant", "nearest", "reflect", ...),
 * `alignCorners` (default false), as MONAI's.
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.Rotate({ angle: [0.3, 0, 0], keepSize: false });
 * using x = randn([1, 4, 20, 30]);
 * using y = t.apply(x);
 * console.log(y.shape); // [1, 4, 28, 35]
 * ```
 */
export class Rotate extends VolumeTransform {
  readonly #angles: number[];
  readonly #keepSize: boolean;
  readonly #options: SampleOptions;
  /** `angle`, `keepSize` (true), `mode` ("bilinear"), `paddingMode` ("border"), `alignCorners` (false). */
  constructor(
    params: {
      angle: number | [number, number, number];
      keepSize?: boolean;
      mode?: SampleMode | 1 | "1";
      paddingMode?: SamplePadding;
      alignCorners?: boolean;
    },
  ) {
    super(params, arguments.length, {
      keys: ["angle", "keepSize", "mode", "paddingMode", "alignCorners"],
      p: null,
      usage: "{ angle: [0.2, 0, 0] }",
    });
    const a: unknown = params.angle;
    const list = typeof a === "number" ? [a, a, a] : a;
    if (!Array.isArray(list) || list.length !== 3 || !list.every((x) => Number.isFinite(x))) {
      const hint = Array.isArray(a) && a.length === 1
        ? "; a 2-D angle turns each slice: write [angle, 0, 0]"
        : Array.isArray(a) && a.length === 2
        ? "; a volume has three angles (about axes 0, 1, 2): write [a0, a1, a2]"
        : "";
      throw new Error(
        `${this.name}: angle must be finite radians, a number (about all three axes, as ` +
          `MONAI's) or [a0, a1, a2], got ${fmt(a)}${hint}`,
      );
    }
    this.#angles = list;
    this.#keepSize = bool(this.name, "keepSize", params.keepSize, true);
    this.#options = rotateOptions(this.name, params);
  }
  /** The rotation, resampled. */
  protected run(v: Vol): Vol {
    return rotateVol(v, this.#angles, this.#keepSize, this.#options);
  }
}

/**
 * RandRotate's range of one angle: a number r is [-|r|, |r|] (MONAI sorts
 * the pair), or [a, b] drawn as numpy's `uniform(a, b)`, also when a > b
 * (as MONAI, which passes the pair on unsorted).
 */
function angleRange(name: string, key: string, v: unknown): [number, number] {
  if (typeof v === "number") {
    const r = Math.abs(num(name, key, v));
    return [-r, r];
  }
  if (!Array.isArray(v) || v.length !== 2) {
    throw new Error(
      `${name}: ${key} must be a number r (for [-r, r]) or an [a, b] pair, got ${fmt(v)}`,
    );
  }
  return [num(name, key, v[0]), num(name, key, v[1])];
}

/**
 * With probability `p` (default 0.1), rotates by angles drawn uniformly
 * from `rangeX`, `rangeY`, `rangeZ` (radians, about spatial axes 0, 1, 2;
 * each a number r for [-r, r) or an [a, b] pair, drawn as numpy's
 * `uniform(a, b)` also when a > b, as MONAI's; default 0), as a
 * `Rotate` with angle [x, y, z] (MONAI's `RandRotate`). Draws, after the
 * one for `p`: x, y, then z. `keepSize`, `mode`, `paddingMode` ("border")
 * and `alignCorners` as Rotate's.
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.RandRotate({ p: 1, rangeX: 0.26 });
 * using x = randn([1, 8, 16, 16]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 8, 16, 16]
 * ```
 */
export class RandRotate extends VolumeTransform {
  readonly #ranges: [number, number][];
  readonly #keepSize: boolean;
  readonly #options: SampleOptions;
  /** `rangeX`, `rangeY`, `rangeZ` (0), `p` (0.1), `keepSize` (true), `mode`, `paddingMode`, `alignCorners`. */
  constructor(
    params: {
      rangeX?: number | [number, number];
      rangeY?: number | [number, number];
      rangeZ?: number | [number, number];
      p?: number;
      keepSize?: boolean;
      mode?: SampleMode | 1 | "1";
      paddingMode?: SamplePadding;
      alignCorners?: boolean;
    } = {},
  ) {
    super(params, arguments.length, {
      keys: ["rangeX", "rangeY", "rangeZ", "keepSize", "mode", "paddingMode", "alignCorners"],
      p: 0.1,
      usage: "{ p: 0.5, rangeX: 0.26 }",
    });
    const n = this.name;
    this.#ranges = (["rangeX", "rangeY", "rangeZ"] as const).map((k) =>
      angleRange(n, k, params[k] ?? 0)
    );
    this.#keepSize = bool(n, "keepSize", params.keepSize, true);
    this.#options = rotateOptions(n, params);
  }
  /** Draws x, y, z, then rotates. */
  protected run(v: Vol, rng: Rng): Vol {
    const angles = this.#ranges.map(([lo, hi]) => rng.uniform(lo, hi));
    return rotateVol(v, angles, this.#keepSize, this.#options);
  }
}
