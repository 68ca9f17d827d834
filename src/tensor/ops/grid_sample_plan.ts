/**
 * The host pass of `gridSample`: torch 1.13's CPU position formulas
 * (unnormalisation, border clip, reflection, nearest's half-to-even, the
 * bicubic taps) run once over the grid in float32, giving for every output
 * pixel the flat input index of each tap (-1 outside the input) and, where
 * they are needed, bilinear's weights, the fractional parts and the
 * positions' derivatives, uploaded as tensors. No index is computed in
 * native code from a coordinate: a NaN or an infinity never becomes an
 * address.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import type { Device } from "../device.ts";
import { check } from "../../ffi/native.ts";
import type { GridSamplePaddingMode } from "./grid_sample.ts";

const f32 = Math.fround;

/**
 * torch's ComputeLocation for one axis of `size` pixels (float32, as its
 * vectorised CPU kernel): unnormalisation, border clip, reflection, and
 * the derivative of a reflection (`mult`, set by `reflect`).
 */
export class Axis {
  readonly scale: number;
  readonly max: number;
  readonly low: number;
  readonly twiceSpan: number;
  readonly empty: boolean;
  mult = 0;

  constructor(
    readonly size: number,
    readonly align: boolean,
    readonly padding: GridSamplePaddingMode,
  ) {
    this.scale = f32(align ? (size - 1) / 2 : size / 2);
    this.max = size - 1;
    this.low = align ? 0 : -0.5;
    this.twiceSpan = align ? 2 * (size - 1) : 2 * size;
    this.empty = align ? size <= 1 : size <= 0;
  }

  /** [-1, 1] to pixel units: (g + 1) (size - 1) / 2, or (g + 1) size / 2 - 0.5. */
  unnormalize(g: number): number {
    const v = f32(f32(g + 1) * this.scale);
    return this.align ? v : f32(v - 0.5);
  }

  /** Clamped to [0, size - 1]; NaN gives 0 (torch's max(in, 0) with NaN first). */
  clip(v: number): number {
    return v > 0 ? (v < this.max ? v : this.max) : 0;
  }

  /** The clip's derivative: 0 at and beyond the edges, as torch ("borders are out of bounds"). */
  clipGrad(v: number): number {
    return v > 0 && v < this.max ? 1 : 0;
  }

  /** Reflected into [low, low + span]; `mult` becomes its derivative (+1 or -1, 0 if empty). */
  reflect(v: number): number {
    if (this.empty) {
      this.mult = 0;
      return 0;
    }
    const shifted = f32(v - this.low);
    const abs = Math.abs(shifted);
    const flips = Math.trunc(f32(abs / this.twiceSpan));
    const extra = f32(abs - f32(flips * this.twiceSpan));
    const reflected = f32(this.twiceSpan - extra);
    const more = extra > reflected;
    this.mult = more !== shifted < 0 ? -1 : 1;
    // NaN stays NaN (torch's minimum propagates it); the clip makes it 0.
    return f32((more ? reflected : extra) + this.low);
  }

  /**
   * The pixel that bicubic tap position c (a whole number) reads after
   * padding, or -1 outside the input (torch: compute_coordinates, then
   * truncation; NaN and values beyond int32 are outside).
   */
  tap(c: number): number {
    const v = this.padding === "zeros"
      ? c
      : this.clip(this.padding === "border" ? c : this.reflect(c));
    const t = Math.trunc(v);
    return t >= 0 && t < this.size ? t + 0 : -1;
  }
}

/**
 * What the host pass made, as tensors on the input's device. `index`
 * holds one block of N * P input rows ([N * H * W, C] channels last) per
 * tap, -1 where the tap is outside the input; the others are null where
 * the mode or the gradient needs none of them.
 */
export interface Plan {
  taps: number;
  index: Tensor;
  /** Bilinear: the 4 corners' weights, [4, N * P, 1]. */
  weights: Tensor | null;
  /** The positions' fractional parts: x's then y's, [2, N * P]. */
  frac: Tensor | null;
  /** d position / d grid, in the grid's layout [N * P, 2]. */
  mult: Tensor | null;
}

/**
 * Host arrays reused from call to call: a large batch's arrays would fault
 * in fresh pages on every call, which costs more than the loops that fill
 * them (these VMs' page faults are slow). Their contents are copied into
 * tensors before the call returns; arrays over KEEP_LIMIT elements are not
 * kept.
 */
const kept = new Map<string, Float32Array | Int32Array>();
// At most 16 MiB an array, a handful of arrays: what stays held between calls is bounded.
const KEEP_LIMIT = 1 << 22;

function host<T extends Float32Array | Int32Array>(
  name: string,
  length: number,
  make: new (n: number) => T,
): T {
  const have = kept.get(name);
  if (have instanceof make && have.length >= length) return have.subarray(0, length) as T;
  const fresh = new make(length);
  if (length <= KEEP_LIMIT) kept.set(name, fresh);
  return fresh;
}

/** A tensor on `device` (an op result) with a copy of `values`. */
function upload(values: Float32Array | Int32Array, shape: number[], device: Device): Tensor {
  const dtype = values instanceof Int32Array ? "int32" : "float32";
  const t = Tensor.empty(shape, dtype, device, true);
  check(
    t.lib,
    t.lib.lits_copy_h2d(t.ptr, values, values.byteLength),
    () => `gridSample [${shape}]`,
  );
  return t;
}

/** half to even, as torch's nearest (Vectorized round: nearbyint). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Each grid entry's position along one axis (g[2j + axis]) into `pos`,
 * and with `mult` its derivative into mult[2j + axis]: the padding is
 * decided once, outside the loop.
 */
function positions(
  g: Float32Array,
  axis: number,
  ax: Axis,
  pos: Float32Array,
  mult: Float32Array | null,
): void {
  const count = pos.length, scale = ax.scale;
  if (ax.padding === "zeros") {
    for (let j = 0; j < count; j++) pos[j] = ax.unnormalize(g[2 * j + axis]);
    for (let j = 0; mult !== null && j < count; j++) mult[2 * j + axis] = scale;
  } else if (ax.padding === "border") {
    for (let j = 0; j < count; j++) {
      const u = ax.unnormalize(g[2 * j + axis]);
      pos[j] = ax.clip(u);
      if (mult !== null) mult[2 * j + axis] = ax.clipGrad(u) * scale;
    }
  } else {
    for (let j = 0; j < count; j++) {
      const r = ax.reflect(ax.unnormalize(g[2 * j + axis]));
      pos[j] = ax.clip(r);
      if (mult !== null) mult[2 * j + axis] = ax.mult * ax.clipGrad(r) * scale;
    }
  }
}

/** Both axes' positions (x's, y's) and, with `grad`, their derivatives. */
function gridPositions(g: Float32Array, ax: Axis, ay: Axis, grad: boolean) {
  const count = g.length / 2;
  const xs = host("x", count, Float32Array), ys = host("y", count, Float32Array);
  const mult = grad ? host("mult", 2 * count, Float32Array) : null;
  positions(g, 0, ax, xs, mult);
  positions(g, 1, ay, ys, mult);
  return { xs, ys, mult };
}

export function planBilinear(
  g: Float32Array,
  n: number,
  p: number,
  [ax, ay]: Axis[],
  grad: boolean,
  device: Device,
): Plan {
  const count = n * p, W = ax.size, H = ay.size;
  const index = host("index", 4 * count, Int32Array);
  const weights = host("weights", 4 * count, Float32Array);
  const frac = grad ? host("frac", 2 * count, Float32Array) : null;
  const { xs, ys, mult } = gridPositions(g, ax, ay, grad);
  for (let b = 0; b < n; b++) {
    const base = b * H * W;
    for (let j = b * p; j < (b + 1) * p; j++) {
      const x = xs[j], y = ys[j];
      const x0 = Math.floor(x), y0 = Math.floor(y);
      // torch's distances to the four sides and the corners' weights (float32).
      const w = x - x0, e = f32(1 - w), nd = y - y0, s = f32(1 - nd);
      weights[j] = s * e;
      weights[count + j] = s * w;
      weights[2 * count + j] = nd * e;
      weights[3 * count + j] = nd * w;
      if (frac !== null) {
        frac[j] = w;
        frac[count + j] = nd;
      }
      // NaN fails every comparison: its corners are outside.
      const west = x0 >= 0 && x0 < W, east = x0 >= -1 && x0 < W - 1;
      const north = y0 >= 0 && y0 < H, south = y0 >= -1 && y0 < H - 1;
      const nw = base + y0 * W + x0;
      index[j] = north && west ? nw : -1;
      index[count + j] = north && east ? nw + 1 : -1;
      index[2 * count + j] = south && west ? nw + W : -1;
      index[3 * count + j] = south && east ? nw + W + 1 : -1;
    }
  }
  return {
    taps: 4,
    index: upload(index, [4 * count], device),
    weights: upload(weights, [4, count, 1], device),
    frac: frac && upload(frac, [2, count], device),
    mult: mult && upload(mult, [count, 2], device),
  };
}

export function planNearest(
  g: Float32Array,
  n: number,
  p: number,
  [ax, ay]: Axis[],
  device: Device,
) {
  const W = ax.size, H = ay.size;
  const index = host("index", n * p, Int32Array);
  const { xs, ys } = gridPositions(g, ax, ay, false);
  for (let b = 0; b < n; b++) {
    for (let j = b * p; j < (b + 1) * p; j++) {
      const x = roundHalfEven(xs[j]), y = roundHalfEven(ys[j]);
      index[j] = x >= 0 && x < W && y >= 0 && y < H ? b * H * W + y * W + x : -1;
    }
  }
  return { taps: 1, index: upload(index, [n * p], device), weights: null, frac: null, mult: null };
}

export function planBicubic(
  g: Float32Array,
  n: number,
  p: number,
  [ax, ay]: Axis[],
  grad: boolean,
  device: Device,
): Plan {
  const count = n * p, W = ax.size, H = ay.size;
  const index = host("index", 16 * count, Int32Array);
  const frac = host("frac", 2 * count, Float32Array);
  // The position is not padded, so its derivative is the scale everywhere.
  const mult = grad ? host("mult", 2 * count, Float32Array) : null;
  for (let j = 0; mult !== null && j < count; j++) {
    mult[2 * j] = ax.scale;
    mult[2 * j + 1] = ay.scale;
  }
  const px = [0, 0, 0, 0], py = [0, 0, 0, 0];
  for (let b = 0; b < n; b++) {
    const base = b * H * W;
    for (let j = b * p; j < (b + 1) * p; j++) {
      // Bicubic pads each tap, not the position (torch's get_value_bounded).
      const x = ax.unnormalize(g[2 * j]), y = ay.unnormalize(g[2 * j + 1]);
      const x0 = Math.floor(x), y0 = Math.floor(y);
      frac[j] = x - x0;
      frac[count + j] = y - y0;
      for (let k = 0; k < 4; k++) {
        px[k] = ax.tap(f32(x0 + k - 1));
        py[k] = ay.tap(f32(y0 + k - 1));
      }
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) {
          const inside = px[c] >= 0 && py[r] >= 0;
          index[(4 * r + c) * count + j] = inside ? base + py[r] * W + px[c] : -1;
        }
      }
    }
  }
  return {
    taps: 16,
    index: upload(index, [16 * count], device),
    weights: null,
    frac: upload(frac, [2, count], device),
    mult: mult && upload(mult, [count, 2], device),
  };
}
