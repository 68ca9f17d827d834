/**
 * `F.interpolate` (torch.nn.functional.interpolate) over the 1, 2 or 3
 * spatial dimensions of [N, C, ...] tensors: nearest, nearest-exact,
 * (bi/tri)linear, bicubic and area, and bilinear and bicubic antialiased.
 *
 * Every mode but area is separable: one dimension at a time, each output
 * position is a weighted sum of a few input positions along it (1 for
 * nearest, 2 for linear, 4 for bicubic). Positions and weights are
 * computed here in float32 arithmetic with torch's own rules (its source
 * index, clamping and cubic coefficients), then applied as takes along the
 * dimension and elementwise products, so the gradient is the chain rule's
 * (on the CPU, one native pass per dimension with the same bits: resample.ts).
 * Area is adaptive average pooling, as torch's. Antialiasing widens the
 * taps when downsampling (interpolate_aa.ts): still a weighted sum per
 * output position, applied the same way.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { checkOptions } from "../../options.ts";
import { add, mul, requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost } from "./creation.ts";
import { clone, reshape } from "./shape.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { adaptiveAvgPool2d } from "./pool.ts";
import { antialiasTaps, type Taps } from "./interpolate_aa.ts";
import { canResampleNatively, resampleAlong } from "./resample.ts";

/** The interpolation modes, torch's names. */
export type InterpolateMode =
  | "nearest"
  | "nearest-exact"
  | "linear"
  | "bilinear"
  | "bicubic"
  | "trilinear"
  | "area";

/** Options of {@link interpolate}: torch's arguments in camelCase. */
export interface InterpolateOptions {
  /** Output spatial size: one number for every spatial dimension, or one each. */
  size?: number | number[];
  /** Multiplier of the spatial size (output = floor(input * scale)); one, or one each. */
  scaleFactor?: number | number[];
  /** Default "nearest". */
  mode?: InterpolateMode;
  /**
   * Linear and bicubic modes: true aligns the corner pixels' centres
   * (positions i * (in - 1) / (out - 1)); false (the default) treats pixels
   * as areas, as torch's default. Not allowed with nearest or area, as torch.
   */
  alignCorners?: boolean;
  /**
   * With `scaleFactor`: true computes the weights from the output size
   * (in / out) rather than from 1 / scaleFactor (torch's default, false).
   */
  recomputeScaleFactor?: boolean;
  /**
   * Bilinear and bicubic on 4-D input: true low-pass filters while
   * downsampling (each output averages every input pixel under its filter,
   * widened by the scale; torch's and Pillow's antialiasing, whose bicubic
   * uses a = -0.5). Default false, as torch's. Only `F.interpolate` takes
   * it; `nn.Upsample` has no antialias, as torch's.
   */
  antialias?: boolean;
}

const KNOWN = [
  "size",
  "scaleFactor",
  "mode",
  "alignCorners",
  "recomputeScaleFactor",
  "antialias",
] as const;
const USAGE = 'F.interpolate(x, { size: [224, 224], mode: "bilinear" })';
/** The input's number of dimensions each mode needs (torch's rule). */
const MODE_NDIM: Record<InterpolateMode, number[]> = {
  nearest: [3, 4, 5],
  "nearest-exact": [3, 4, 5],
  linear: [3],
  bilinear: [4],
  bicubic: [4],
  trilinear: [5],
  area: [3, 4],
};
const f32 = Math.fround;

/** One number per spatial dimension from `v` (a number, or a list of `n`). */
function perDim(name: string, v: unknown, n: number): number[] {
  const list = typeof v === "number" ? Array(n).fill(v) : v;
  if (!Array.isArray(list) || list.length !== n || !list.every((x) => typeof x === "number")) {
    throw new Error(
      `interpolate: ${name} must be a number or ${n} numbers (one per spatial dimension), ` +
        `got ${JSON.stringify(v)}; write ${USAGE}`,
    );
  }
  return list;
}

/** torch's compute_scales_value: 1 / scale when a scale is used, else in / out (float32). */
function scaleValue(scale: number | undefined, inSize: number, outSize: number): number {
  return scale !== undefined && scale > 0 ? f32(1 / scale) : f32(inSize / outSize);
}

/** torch's area_pixel_compute_scale. */
function pixelScale(inSize: number, outSize: number, align: boolean, scale?: number): number {
  if (align) return outSize > 1 ? f32((inSize - 1) / (outSize - 1)) : 0;
  return scaleValue(scale, inSize, outSize);
}

/**
 * torch's area_pixel_compute_source_index: the float32 scale times the
 * position, in double (as torch 1.13's CPU kernels compute it; rounding it
 * to float32 first moved positions by up to 1e-4 of a pixel at widths near
 * 1000).
 */
function sourceIndex(scale: number, dst: number, align: boolean, cubic: boolean): number {
  if (align) return scale * dst;
  const src = scale * (dst + 0.5) - 0.5;
  return !cubic && src < 0 ? 0 : src;
}

function nearestTaps(inSize: number, outSize: number, exact: boolean, scale?: number): Taps {
  const index = new Int32Array(outSize);
  const s = scaleValue(scale, inSize, outSize);
  for (let j = 0; j < outSize; j++) {
    if (exact) index[j] = Math.min(Math.floor(f32(f32(j + 0.5) * s)), inSize - 1);
    // torch's nearest copies when the size is kept and halves when it doubles.
    else if (outSize === inSize) index[j] = j;
    else if (outSize === 2 * inSize) index[j] = j >> 1;
    else index[j] = Math.min(Math.floor(f32(j * s)), inSize - 1);
  }
  return { index: [index], weight: null };
}

function linearTaps(inSize: number, outSize: number, align: boolean, scale?: number): Taps {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize), w1 = new Float32Array(outSize);
  const s = pixelScale(inSize, outSize, align, scale);
  for (let j = 0; j < outSize; j++) {
    if (outSize === inSize) {
      // torch copies a dimension that keeps its size, whatever the scale
      // factor (1.19 on 5 pixels is 5 pixels), as 1 * x + 0 * x: an inf
      // there becomes NaN, as torch's does.
      [i0[j], i1[j], w0[j], w1[j]] = [j, j, 1, 0];
      continue;
    }
    const real = sourceIndex(s, j, align, false);
    const lo = Math.min(Math.floor(real), inSize - 1);
    const lambda = Math.min(Math.max(real - lo, 0), 1);
    i0[j] = lo;
    i1[j] = lo + (lo < inSize - 1 ? 1 : 0);
    w1[j] = lambda;
    w0[j] = f32(1 - lambda);
  }
  return { index: [i0, i1], weight: [w0, w1] };
}

const A = -0.75; // torch's bicubic constant
const cubic1 = (x: number) => f32(f32(f32(f32((A + 2) * x) - (A + 3)) * x) * x + 1);
const cubic2 = (x: number) => f32(f32(f32(f32(f32(A * x) - 5 * A) * x) + 8 * A) * x - 4 * A);

/**
 * @internal The taps of the linear, bicubic and antialiased modes along one
 * dimension from `inSize` to `outSize` (`scale`: the scale factor, if one
 * was given), torch's positions and weights; the host image resize uses
 * them too.
 */
export function resampleTaps(
  mode: "linear" | "bicubic",
  inSize: number,
  outSize: number,
  align: boolean,
  antialias: boolean,
  scale?: number,
): Taps {
  if (antialias) {
    return antialiasTaps(
      inSize,
      outSize,
      mode === "bicubic",
      pixelScale(inSize, outSize, align, scale),
    );
  }
  return mode === "bicubic"
    ? cubicTaps(inSize, outSize, align, scale)
    : linearTaps(inSize, outSize, align, scale);
}

function cubicTaps(inSize: number, outSize: number, align: boolean, scale?: number): Taps {
  const index = [0, 1, 2, 3].map(() => new Int32Array(outSize));
  const weight = [0, 1, 2, 3].map(() => new Float32Array(outSize));
  const s = pixelScale(inSize, outSize, align, scale);
  for (let j = 0; j < outSize; j++) {
    const real = sourceIndex(s, j, align, true);
    const base = Math.floor(real);
    const t = f32(real - base);
    const c = [cubic2(f32(t + 1)), cubic1(t), cubic1(f32(1 - t)), cubic2(f32(f32(1 - t) + 1))];
    for (let m = 0; m < 4; m++) {
      index[m][j] = Math.min(Math.max(base - 1 + m, 0), inSize - 1);
      weight[m][j] = c[m];
    }
  }
  return { index, weight };
}

/**
 * x resampled along `dim` by its taps: sum over taps of weight * x[index].
 * One native pass where the backend has it (the CPU's, the same bits);
 * else a take, a product and an add per tap.
 */
function applyTaps(x: Tensor, dim: number, taps: Taps): Tensor {
  if (canResampleNatively(x)) return resampleAlong(x, dim, taps);
  const k = taps.index[0].length;
  const along = x.shape.map((_, d) => (d === dim ? k : 1));
  let out: Tensor | null = null;
  taps.index.forEach((index, t) => {
    let part = takeAlong(x, dim, indexVector(index, x.device), "row", false, "interpolate");
    if (taps.weight !== null) {
      const w = fromHost(taps.weight[t], along, { device: x.device }, true);
      part = mul(part, w);
    }
    out = out === null ? part : add(out, part);
  });
  return out!;
}

/**
 * @internal the options of `interpolate` and `nn.Upsample` checked as far
 * as they can be without the input: names, kinds, the mode, one of size
 * and scaleFactor, and the flags each mode allows. `where` names the caller;
 * `antialias: true` only where `withAntialias` (F.interpolate, not
 * nn.Upsample, which has no antialias in torch).
 */
export function interpolateOptions(
  where: string,
  sizeOrOptions: number | number[] | InterpolateOptions | undefined,
  withAntialias = false,
): InterpolateOptions {
  const given: InterpolateOptions = typeof sizeOrOptions === "number" ||
      Array.isArray(sizeOrOptions)
    ? { size: sizeOrOptions }
    : checkOptions<InterpolateOptions>(where, sizeOrOptions, KNOWN, USAGE);
  if ((given.mode as unknown) === null) {
    throw new Error(`${where}: mode must be a mode's name, got null; write mode: "nearest"`);
  }
  // Python's None (scale_factor=None, align_corners=None, antialias=None) is "not given".
  const options = Object.fromEntries(
    Object.entries(given).filter(([, v]) => v !== null && v !== undefined),
  ) as InterpolateOptions;
  const mode = options.mode ?? "nearest";
  if (!Object.hasOwn(MODE_NDIM, mode)) {
    throw new Error(
      `${where}: unknown mode ${JSON.stringify(mode)}; modes: ${Object.keys(MODE_NDIM).join(", ")}`,
    );
  }
  for (const key of ["alignCorners", "recomputeScaleFactor", "antialias"] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== "boolean") {
      throw new Error(`${where}: ${key} must be a boolean, got ${JSON.stringify(v)}`);
    }
  }
  const linearMode = ["linear", "bilinear", "bicubic", "trilinear"].includes(mode);
  if (options.alignCorners !== undefined && !linearMode) {
    throw new Error(
      `${where}: alignCorners can only be set with the linear, bilinear, bicubic and ` +
        `trilinear modes, not "${mode}" (as torch)`,
    );
  }
  if (options.antialias && !withAntialias) {
    throw new Error(
      `${where}: antialias is not an option of torch's nn.Upsample; call ` +
        'F.interpolate(x, { size, mode: "bilinear", antialias: true }) in forward instead',
    );
  }
  if (options.antialias && mode !== "bilinear" && mode !== "bicubic") {
    throw new Error(
      `${where}: antialias is only supported for the bilinear and bicubic modes (as torch), ` +
        `got mode "${mode}"; write mode: "bilinear" or leave antialias out`,
    );
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new Error(
      `${where}: give exactly one of size and scaleFactor, got ${
        options.size === undefined ? "neither" : "both"
      }; write ${USAGE}`,
    );
  }
  if (options.size !== undefined && options.recomputeScaleFactor === true) {
    throw new Error(
      `${where}: recomputeScaleFactor is only meaningful with scaleFactor, not with size`,
    );
  }
  return options;
}

/**
 * Resizes the spatial dimensions of `x` ([N, C, W], [N, C, H, W] or
 * [N, C, D, H, W]), as `torch.nn.functional.interpolate`: to `size`, or by
 * `scaleFactor` (exactly one of the two), with torch's modes and its
 * sampling positions, so results agree with torch's to float32 rounding.
 * `"bilinear"` with the default `alignCorners: false` is torch's (and
 * OpenCV's) image resize; `"nearest"` keeps label maps' values; `"area"`
 * averages (adaptive average pooling); `antialias: true` with bilinear or
 * bicubic low-pass filters while downsampling, as torch's (and
 * torchvision's `antialias=True`). The second argument may also be the
 * size alone (nearest). Differentiable (the antialiased modes too: the
 * gradient is the transposed weights).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[[[1, 2], [3, 4]]]]);
 * const up = F.interpolate(x, { scaleFactor: 2, mode: "bilinear" });
 * console.log(Array.from(up.toArray().slice(0, 4))); // [1, 1.25, 1.75, 2]
 * console.log(F.interpolate(x, [1, 4]).toList()); // [[[[1, 1, 2, 2]]]]
 * const spike = tensor([[[[0, 0, 0, 8, 0, 0, 0, 0]]]]);
 * const half = F.interpolate(spike, { size: [1, 4], mode: "bilinear", antialias: true });
 * console.log(half.toList()); // [[[[0, 3, 1, 0]]]] (without antialias: [[[[0, 4, 0, 0]]]])
 * ```
 */
export function interpolate(
  x: Tensor,
  sizeOrOptions?: number | number[] | InterpolateOptions,
): Tensor {
  if (arguments.length > 2) {
    throw new Error(
      `interpolate: takes (x, options), got ${arguments.length} arguments; options go in ` +
        `one object: ${USAGE}`,
    );
  }
  expectTensor(x, "interpolate", USAGE);
  requireFloat(x, "interpolate");
  const options = interpolateOptions("interpolate", sizeOrOptions, true);
  const mode = options.mode ?? "nearest";
  if (!MODE_NDIM[mode].includes(x.ndim)) {
    throw new Error(
      `interpolate: mode "${mode}" takes a ${
        MODE_NDIM[mode].join("-D, ")
      }-D input [N, C, ...spatial], got [${x.shape}]`,
    );
  }
  const spatial = x.shape.slice(2);
  const n = spatial.length;
  if (spatial.some((s) => s < 1)) {
    throw new Error(`interpolate: input [${x.shape}] has an empty spatial dimension`);
  }
  let outSize: number[];
  let scales: (number | undefined)[] = Array(n).fill(undefined);
  if (options.size !== undefined) {
    outSize = perDim("size", options.size, n);
    if (!outSize.every((s) => Number.isInteger(s) && s > 0)) {
      throw new Error(`interpolate: size must be positive integers, got [${outSize}]`);
    }
  } else {
    const factors = perDim("scaleFactor", options.scaleFactor, n);
    if (!factors.every((f) => Number.isFinite(f) && f > 0)) {
      throw new Error(`interpolate: scaleFactor must be positive and finite, got [${factors}]`);
    }
    outSize = spatial.map((s, i) => Math.floor(s * factors[i]));
    if (outSize.some((s) => s < 1)) {
      throw new Error(
        `interpolate: scaleFactor [${factors}] makes an empty output from [${spatial}]`,
      );
    }
    if (!options.recomputeScaleFactor) scales = factors;
  }
  if (mode === "area") {
    const x4 = n === 1 ? reshape(x, [...x.shape.slice(0, 2), 1, spatial[0]]) : x;
    const y = adaptiveAvgPool2d(x4, n === 1 ? [1, outSize[0]] : [outSize[0], outSize[1]]);
    return n === 1 ? reshape(y, [...x.shape.slice(0, 2), outSize[0]]) : y;
  }
  const align = options.alignCorners ?? false, antialias = options.antialias ?? false;
  // The last dimension first, as torch's loops nest (rows of rows).
  let y = x;
  for (let i = n - 1; i >= 0; i--) {
    const inSize = spatial[i], out = outSize[i];
    let taps: Taps;
    if (mode === "nearest" || mode === "nearest-exact") {
      if (mode === "nearest" && out === inSize) continue; // torch copies these rows as they are
      taps = nearestTaps(inSize, out, mode === "nearest-exact", scales[i]);
    } else {
      // A size kept with no scale factor: torch's antialiased weights are the identity
      // there. With a scaleFactor (1.19 on 5 pixels keeps 5) torch resamples at 1 / scale.
      if (antialias && out === inSize && scales[i] === undefined) continue;
      const kind = mode === "bicubic" ? "bicubic" : "linear";
      taps = resampleTaps(kind, inSize, out, align, antialias, scales[i]);
    }
    y = applyTaps(y, i + 2, taps);
  }
  return y === x ? clone(x) : y;
}
