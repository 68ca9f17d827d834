/**
 * Spatial transforms of volumes, MONAI's: `Resize` (through `F.interpolate`,
 * or `F.adaptiveAvgPool3d` for "area", which is what torch's area mode is),
 * `Flip` and `Rotate90` and their random forms. Flips and quarter turns
 * only move voxels, so they equal torch.flip and torch.rot90 exactly.
 *
 * @module
 */
import { noGrad } from "../../../tensor/autograd.ts";
import { tensor } from "../../../tensor/ops/creation.ts";
import { interpolate } from "../../../tensor/ops/interpolate.ts";
import { adaptiveAvgPool3d } from "../../../tensor/ops/pool3d.ts";
import { scope } from "../../../tensor/ownership.ts";
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { bool, num } from "../transform.ts";
import { flip, rot90 } from "./ops.ts";
import { type Spacing, VolumeTransform } from "./transform.ts";
import { axes, plane, resolveSize, size3, spatial, type Vol } from "./volume.ts";

/**
 * The interpolation names Resize and Zoom take: F.interpolate's for 3-D
 * inputs, and the names MONAI 1.3 resolves to them (`resolves_modes` with
 * three spatial dims): "linear" and "bilinear" are "trilinear", and the
 * spline orders 0 and 1 (numbers or "0", "1") are "nearest-exact" and
 * "trilinear".
 */
export type ResizeMode =
  | "area"
  | "nearest"
  | "nearest-exact"
  | "trilinear"
  | "linear"
  | "bilinear"
  | 0
  | 1
  | "0"
  | "1";

/** What F.interpolate runs on a volume. */
export type InterpKernel = "area" | "nearest" | "nearest-exact" | "trilinear";

const INTERP: Record<string, InterpKernel> = {
  area: "area",
  nearest: "nearest",
  "nearest-exact": "nearest-exact",
  trilinear: "trilinear",
  linear: "trilinear",
  bilinear: "trilinear",
  "0": "nearest-exact",
  "1": "trilinear",
};

/**
 * @internal Checks an F.interpolate mode (MONAI's `mode` of Resize and
 * Zoom) and resolves it as MONAI does on a volume, or throws what torch
 * (or MONAI's option lookup) would refuse, saying what to write.
 */
export function interpMode(name: string, v: unknown): InterpKernel {
  if (v === undefined || v === null) return "area";
  const key = typeof v === "string" ? v : Number.isInteger(v) ? String(v) : null;
  if (key !== null && key in INTERP) return INTERP[key];
  const why = v === "bicubic" || key === "3"
    ? ' (MONAI resolves it to "bicubic", and torch\'s F.interpolate refuses it on a volume: ' +
      'Got 5D input, but bicubic mode needs 4D input; write "trilinear")'
    : key !== null && /^[245]$/.test(key)
    ? ` (spline order ${key} has no F.interpolate mode; MONAI refuses it too)`
    : "";
  throw new Error(
    `${name}: mode must be "area", "nearest", "nearest-exact" or "trilinear" ("linear", ` +
      `"bilinear" and spline order 1 are trilinear on a volume, order 0 is "nearest-exact"), ` +
      `got ${fmt(v)}${why}`,
  );
}

/** @internal Python's round(): halves to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Resizes the spatial dimensions to `spatialSize` (MONAI's `Resize`).
 * With `sizeMode` "all" (default): a number for all three, or [D, H, W]
 * where an entry <= 0 keeps that size. With `sizeMode` "longest":
 * `spatialSize` is one integer, the longest side becomes it and the others
 * keep the aspect ratio, each `round(n * spatialSize / max(D, H, W))`
 * (Python's round, halves to even), as MONAI's. Mode "area" (MONAI's
 * default: averaging, torch's adaptive average pooling), "nearest" (label
 * maps; torch's legacy floor rule, as MONAI's), "nearest-exact" or
 * "trilinear" (MONAI's "linear", "bilinear" and spline order 1 are
 * trilinear on a volume, order 0 "nearest-exact"); `alignCorners`
 * (trilinear only) defaults to false, which is what MONAI's None gives.
 * Runs `F.interpolate` on [1, C, D, H, W] on the CPU, so the numbers are
 * torch's. A volume already of that size is returned as it is, as MONAI
 * does. No anti-aliasing (MONAI's `anti_aliasing` default, false).
 *
 * @example
 * ```ts
 * import { data, zeros } from "@lits/vision";
 * const t = new data.transforms.volume.Resize({ spatialSize: [32, 64, 64], mode: "trilinear" });
 * using x = zeros([1, 40, 128, 128]);
 * using y = t.apply(x);
 * using z = new data.transforms.volume.Resize({ spatialSize: 64, sizeMode: "longest" }).apply(x);
 * console.log(y.shape, z.shape); // [1, 32, 64, 64] [1, 20, 64, 64]
 * ```
 */
export class Resize extends VolumeTransform {
  readonly #size: [number, number, number];
  readonly #longest: boolean;
  readonly #mode: InterpKernel;
  readonly #alignCorners: boolean | undefined;
  /** `spatialSize`, `sizeMode` ("all"), `mode` (default "area"), `alignCorners` (trilinear; default false). */
  constructor(
    params: {
      spatialSize: number | [number, number, number];
      sizeMode?: "all" | "longest";
      mode?: ResizeMode;
      alignCorners?: boolean;
    },
  ) {
    super(params, arguments.length, {
      keys: ["spatialSize", "sizeMode", "mode", "alignCorners"],
      p: null,
      usage: '{ spatialSize: [64, 128, 128], mode: "trilinear" }',
    });
    const sizeMode = params.sizeMode ?? "all";
    if (sizeMode !== "all" && sizeMode !== "longest") {
      throw new Error(
        `${this.name}: sizeMode must be "all" or "longest" (MONAI's size_mode), got ` +
          `${fmt(params.sizeMode)}`,
      );
    }
    this.#longest = sizeMode === "longest";
    if (this.#longest) {
      const s = params.spatialSize;
      if (!Number.isInteger(s) || (s as number) < 1) {
        throw new Error(
          `${this.name}: with sizeMode "longest", spatialSize must be one integer >= 1 (the ` +
            `longest side's new size, as MONAI's), got ${fmt(s)}`,
        );
      }
      this.#size = [s as number, s as number, s as number];
    } else {
      this.#size = size3(this.name, "spatialSize", params.spatialSize);
    }
    const mode = interpMode(this.name, params.mode);
    this.#mode = mode;
    if (params.alignCorners !== undefined && mode !== "trilinear") {
      throw new Error(
        `${this.name}: alignCorners applies to mode "trilinear" only, not "${mode}" (as torch)`,
      );
    }
    this.#alignCorners = params.alignCorners === undefined
      ? undefined
      : bool(this.name, "alignCorners", params.alignCorners, false);
  }
  /** The output size for a volume of spatial size `dhw`. */
  #sizeFor(dhw: [number, number, number]): [number, number, number] {
    if (!this.#longest) return resolveSize(this.#size, dhw);
    const scale = this.#size[0] / Math.max(...dhw);
    const size = dhw.map((n) => roundHalfEven(n * scale)) as [number, number, number];
    const empty = size.findIndex((n) => n < 1);
    if (empty >= 0) {
      throw new Error(
        `${this.name}: sizeMode "longest" to ${this.#size[0]} makes axis ${empty} of ` +
          `${dhw[empty]} voxels ${size[empty]} voxels (round(n * ${this.#size[0]} / ` +
          `${Math.max(...dhw)})); torch's F.interpolate needs sizes >= 1`,
      );
    }
    return size;
  }
  /** F.interpolate (or adaptive average pooling for "area") on [1, C, D, H, W]. */
  protected run(v: Vol): Vol {
    const dhw = spatial(v);
    const size = this.#sizeFor(dhw);
    if (size.every((s, i) => s === dhw[i])) return v;
    const data = scope(() =>
      noGrad(() => {
        const x = tensor(v.data, [1, ...v.shape]);
        const y = this.#mode === "area" ? adaptiveAvgPool3d(x, size) : interpolate(x, {
          size,
          mode: this.#mode,
          ...(this.#alignCorners === undefined ? {} : { alignCorners: this.#alignCorners }),
        });
        return y.toArray() as Float32Array;
      })
    );
    return { data, shape: [v.shape[0], size[0], size[1], size[2]] };
  }
}

/**
 * Reverses the order of voxels along `spatialAxis` (MONAI's `Flip`): one
 * axis (0, 1, 2 = D, H, W, or -3..-1), a list, or null/left out for all
 * three, as MONAI's None. torch.flip on dims axis + 1.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * using x = tensor(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
 * using y = new data.transforms.volume.Flip({ spatialAxis: 1 }).apply(x);
 * console.log([...y.toArray()]); // [3, 4, 1, 2]
 * ```
 */
export class Flip extends VolumeTransform {
  readonly #axes: number[];
  /** `spatialAxis`: an axis, a list, or null (default: all). */
  constructor(params: { spatialAxis?: number | number[] | null } = {}) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["spatialAxis"],
      p: null,
      usage: "{ spatialAxis: 0 }",
    });
    this.#axes = axes(this.name, "spatialAxis", params.spatialAxis);
  }
  /** torch.flip. */
  protected run(v: Vol): Vol {
    return flip(v, this.#axes);
  }
}

/**
 * Flips along `spatialAxis` with probability `p` (MONAI's `RandFlip`;
 * default p 0.1, spatialAxis null = all three axes at once, as MONAI's).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * using x = tensor(new Float32Array([1, 2]), [1, 1, 1, 2]);
 * using y = new data.transforms.volume.RandFlip({ p: 1, spatialAxis: 2 }).apply(x, new data.Rng(0));
 * console.log([...y.toArray()]); // [2, 1]
 * ```
 */
export class RandFlip extends VolumeTransform {
  readonly #axes: number[];
  /** `p` (default 0.1), `spatialAxis` (default null: all). */
  constructor(params: { p?: number; spatialAxis?: number | number[] | null } = {}) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["spatialAxis"],
      p: 0.1,
      usage: "{ p: 0.5, spatialAxis: 0 }",
    });
    this.#axes = axes(this.name, "spatialAxis", params.spatialAxis);
  }
  /** torch.flip. */
  protected run(v: Vol): Vol {
    return flip(v, this.#axes);
  }
}

/**
 * Rotates by `k` quarter turns in the plane of `spatialAxes` (MONAI's
 * `Rotate90`; k 1 and axes [0, 1] by default, any integer k, taken mod 4),
 * from the first axis towards the second: torch.rot90(x, k, [a + 1, b + 1]).
 * An odd k swaps the two sizes.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * using x = tensor(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
 * using y = new data.transforms.volume.Rotate90({ k: 1, spatialAxes: [1, 2] }).apply(x);
 * console.log([...y.toArray()]); // [2, 4, 1, 3]
 * ```
 */
export class Rotate90 extends VolumeTransform {
  readonly #k: number;
  readonly #plane: [number, number];
  /** `k` (default 1), `spatialAxes` (default [0, 1]). */
  constructor(params: { k?: number; spatialAxes?: [number, number] } = {}) {
    super(params, arguments.length, {
      keys: ["k", "spatialAxes"],
      p: null,
      usage: "{ k: 1, spatialAxes: [1, 2] }",
    });
    this.#k = num(this.name, "k", params.k ?? 1, { integer: true });
    this.#plane = plane(this.name, "spatialAxes", params.spatialAxes ?? [0, 1]);
  }
  /** torch.rot90. */
  protected run(v: Vol): Vol {
    return rot90(v, this.#k, this.#plane);
  }
  /** @internal An odd number of quarter turns swaps the voxel size of its plane's two axes. */
  override spacingAfter(spacing: Spacing): Spacing {
    if (this.#k % 2 === 0) return spacing;
    const [a, b] = this.#plane, out: Spacing = [...spacing];
    [out[a], out[b]] = [spacing[b], spacing[a]];
    return out;
  }
}

/**
 * With probability `p`, rotates by k quarter turns, k uniform in 1..maxK,
 * in the plane of `spatialAxes` (MONAI's `RandRotate90`: p 0.1, maxK 3,
 * axes [0, 1] by default).
 *
 * @example
 * ```ts
 * import { data, zeros } from "@lits/vision";
 * const t = new data.transforms.volume.RandRotate90({ p: 1, maxK: 1, spatialAxes: [1, 2] });
 * using x = zeros([1, 4, 8, 6]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 4, 6, 8]
 * ```
 */
export class RandRotate90 extends VolumeTransform {
  readonly #maxK: number;
  readonly #plane: [number, number];
  /** `p` (default 0.1), `maxK` (default 3), `spatialAxes` (default [0, 1]). */
  constructor(params: { p?: number; maxK?: number; spatialAxes?: [number, number] } = {}) {
    super(params, arguments.length, {
      keys: ["maxK", "spatialAxes"],
      p: 0.1,
      usage: "{ p: 0.5, maxK: 3, spatialAxes: [1, 2] }",
    });
    this.#maxK = num(this.name, "maxK", params.maxK ?? 3, { min: 1, integer: true });
    this.#plane = plane(this.name, "spatialAxes", params.spatialAxes ?? [0, 1]);
  }
  /** Draws k in 1..maxK, then torch.rot90. */
  protected run(v: Vol, rng: Rng): Vol {
    return rot90(v, rng.int(1, this.#maxK + 1), this.#plane);
  }
}
