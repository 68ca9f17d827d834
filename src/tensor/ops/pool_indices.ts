/**
 * Max pooling with torch's indices over one to three spatial dimensions,
 * the path the 1-D, 2-D and 3-D max pools take for `returnIndices` (and
 * the 1-D and 2-D ones for `dilation`; the adaptive ones over torch's bins,
 * see `adaptiveAxis`), composed on gathers so that it runs
 * on every device: each dimension in turn (the last first) takes its
 * windows with one gather and finds each window's maximum and where it is;
 * the coordinates found for the later dimensions follow the chosen
 * position. A window's maximum over several dimensions is the maximum of
 * the maxima of its rows, so this finds torch's element: its CPU kernels
 * scan a window in (depth, row, column) order and keep the first maximum,
 * or the last NaN, which is the first row holding the maximum and its first
 * maximum there, or the last row holding a NaN and its last NaN. The
 * values are x taken at the indices, so the gradient goes where torch's
 * does.
 *
 * `windows` (the gather of one dimension's windows) also serves the 3-D
 * pools of pool3d.ts.
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { noGrad } from "../autograd.ts";
import { eq } from "./compare.ts";
import { fromHost } from "./creation.ts";
import { add, mul } from "./elementwise.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { isnan } from "./nonfinite.ts";
import { pad } from "./pad.ts";
import { max, min } from "./reduce.ts";
import { cast, contiguous, narrow, reshape, squeeze } from "./shape.ts";
import { where as select } from "./where.ts";
import { canPoolWithIndicesNatively, maxPoolWithIndicesNative } from "./pool_indices_native.ts";

/** One dimension of a pooling window: kernel, stride, padding, dilation and output size. */
export interface Axis {
  /** Kernel size (taps). */
  k: number;
  /** Stride. */
  s: number;
  /** Padding on each side. */
  p: number;
  /** Spacing of the taps. */
  dil: number;
  /** Output size. */
  out: number;
  /**
   * An adaptive pool's windows, [start, length] per output (torch's bins,
   * `k` the longest); `s` and `p` are then unused. See `adaptiveAxis`.
   */
  bins?: readonly (readonly [number, number])[];
}

/**
 * @internal The axis of an adaptive max pool of `size` to `out`: torch's
 * bins, start floor(i size / out) up to ceil((i + 1) size / out). Bins
 * that tile the input are kernel = stride; unequal (or overlapping) ones
 * are listed, the shorter ones' missing taps repeating their last tap.
 */
export function adaptiveAxis(size: number, out: number): Axis {
  if (size % out === 0) return { k: size / out, s: size / out, p: 0, dil: 1, out };
  const bins = Array.from({ length: out }, (_, i): [number, number] => {
    const start = Math.floor((i * size) / out), end = Math.ceil(((i + 1) * size) / out);
    return [start, end - start];
  });
  return { k: Math.max(...bins.map((b) => b[1])), s: 1, p: 0, dil: 1, out, bins };
}

/** The taps of each window of one dimension (see `taps`). */
interface Taps {
  /** [out * k]: where each tap reads (`size` is the -inf row of a window with no tap inside). */
  read: Int32Array;
  /** [out * k]: the position each tap counts as (a padding tap, the tap it repeats). */
  at: Float32Array;
  /** Per output: torch's index of a window with no tap inside (its first tap >= 0), else -1. */
  empty: Int32Array;
}

/**
 * The taps of the windows along a dimension of `size`. A tap in the
 * padding (or past the end in ceil mode) reads 0 for "sum"; for "max" it
 * repeats the nearest tap of its window inside the input (the first one for
 * a tap before it, the last for one after), which leaves the max and the
 * element it goes to (the first maximum, the last NaN) as they are. Only a
 * window with no tap inside (dilation stepping over the whole input) reads
 * -inf, from one padded row, at torch's index: its first tap at or after 0.
 */
function taps(size: number, a: Axis, fill: "sum" | "max", reverse = false): Taps {
  const read = new Int32Array(a.out * a.k), at = new Float32Array(a.out * a.k);
  const empty = new Int32Array(a.out).fill(-1);
  for (let o = 0; o < a.out; o++) {
    const [start, len] = a.bins ? a.bins[o] : [o * a.s - a.p, a.k];
    const inside = (j: number, t: number) => j < len && t >= 0 && t < size;
    let first = -1, last = -1;
    for (let j = 0; j < a.k; j++) {
      const t = start + j * a.dil;
      if (inside(j, t)) {
        if (first < 0) first = t;
        last = t;
      }
    }
    if (first < 0) {
      let t = start;
      while (t < 0) t += a.dil;
      empty[o] = t;
    }
    for (let j = 0; j < a.k; j++) {
      const t = start + j * a.dil, slot = o * a.k + (reverse ? a.k - 1 - j : j);
      let v = t;
      if (!inside(j, t)) {
        if (fill === "sum") v = -1;
        else if (first < 0) v = size; // the -inf row
        else v = t < 0 ? first : last;
      }
      read[slot] = v;
      at[slot] = first < 0 && fill === "max" ? empty[o] : v;
    }
  }
  return { read, at, empty };
}

/**
 * @internal t [outer, L, inner] -> [outer, out, k, inner]: the windows
 * along the middle dimension (in reverse tap order where `reverse`), one
 * gather with no padded copy (see `taps` for what a tap outside the input
 * reads). Windows that tile it are a reshape.
 */
export function windows(t: Tensor, a: Axis, fill: "sum" | "max", reverse = false): Tensor {
  const [outer, size, inner] = t.shape;
  if (!a.bins && a.dil === 1 && a.s === a.k && a.p === 0 && a.out * a.k <= size && !reverse) {
    const used = a.out * a.k < size ? narrow(t, 1, 0, a.out * a.k) : t;
    return reshape(used, [outer, a.out, a.k, inner]);
  }
  const { read, empty } = taps(size, a, fill, reverse);
  const src = fill === "max" && empty.some((v) => v >= 0)
    ? pad(t, [0, 0, 0, 1], "constant", -Infinity)
    : t;
  const taken = takeAlong(src, 1, indexVector(read, t.device), "row", false, "pool windows");
  return reshape(taken, [outer, a.out, a.k, inner]);
}

/**
 * Each window's max along the middle dimension of t [outer, L, inner]
 * and where it is, torch's element: the first maximum, or the last NaN.
 * Both [outer, out, inner]; the position is a float (exact: < 2^24).
 */
function maxAndWhere(t: Tensor, a: Axis): { top: Tensor; at: Tensor } {
  const win = windows(t, a, "max");
  const at = fromHost(taps(t.shape[1], a, "max").at, [1, a.out, a.k, 1], {
    device: t.device,
  }, true);
  const top = max(win, 2, true);
  const first = min(select(eq(win, top), at, Infinity), 2);
  const lastNaN = max(select(isnan(win), at, -1), 2);
  const best = squeeze(top, 2);
  return { top: best, at: select(isnan(best), lastNaN, first) };
}

/**
 * @internal Max pooling of x [P, ...sizes] (one to three spatial
 * dimensions, one `Axis` each) with torch's indices: `[values, indices]`,
 * both [P, ...outs], the indices int32 and flat within each plane
 * (d H W + h W + w), as torch's `max_poolNd_with_indices` (its CPU
 * kernels' first maximum, last NaN; a window with no tap inside is -inf at
 * its first taps at or after 0). The values are x at the indices, so the
 * gradient goes there. Flat indices are summed as floats on the device
 * where they stay below `exactBelow` (2^24, exact), on the host above.
 * The CPU takes the native kernel (pool_indices_native.ts), the same bits.
 */
export function maxPoolWithIndices(
  x: Tensor,
  axes: readonly Axis[],
  what: string,
  exactBelow = 2 ** 24,
): [Tensor, Tensor] {
  if (canPoolWithIndicesNatively(x)) return maxPoolWithIndicesNative(x, axes, what);
  const [planes, ...sizes] = x.shape;
  const outs = axes.map((a) => a.out);
  const plane = numel(sizes), outPlane = numel(outs);
  // Strides of the flat index, and torch's index of each output whose
  // window has no tap inside along some dimension (-1 elsewhere).
  const strides = sizes.map((_, d) => numel(sizes.slice(d + 1)));
  const empties = axes.map((a, d) => taps(sizes[d], a, "max").empty);
  const emptyAt = new Int32Array(outPlane).fill(-1);
  let anyEmpty = false;
  for (let o = 0; o < outPlane; o++) {
    let rest = o, flat = 0, empty = false;
    for (let d = axes.length - 1; d >= 0; d--) {
      const od = rest % outs[d];
      rest = Math.floor(rest / outs[d]);
      if (empties[d][od] >= 0) empty = true;
      // The first tap at or after 0 (the first inside where the dimension has one).
      flat += firstTap(axes[d], od) * strides[d];
    }
    if (empty) {
      emptyAt[o] = flat;
      anyEmpty = true;
    }
  }
  const device = x.device;
  const [index, gatherAt] = noGrad((): [Tensor, Tensor] => {
    let values = x.detach();
    const cur = [...sizes];
    let coords: Tensor[] = [];
    for (let d = axes.length - 1; d >= 0; d--) {
      const outer = planes * numel(cur.slice(0, d)), inner = numel(cur.slice(d + 1));
      const { top, at } = maxAndWhere(reshape(values, [outer, cur[d], inner]), axes[d]);
      // The later dimensions' coordinates, at the chosen position along d
      // (an empty window's reads 0: its index comes from `emptyAt`).
      const pick = cast(at, "int32");
      coords = coords.map((c) =>
        takeAlong(reshape(c, [outer, cur[d], inner]), 1, pick, "dense", false, what)
      );
      cur[d] = axes[d].out;
      values = top;
      coords = [at, ...coords].map((c) => reshape(c, [planes, ...cur]));
    }
    const exact = plane < exactBelow && emptyAt.every((v) => v < exactBelow);
    if (!exact) return onHost(coords, strides, emptyAt, plane, device);
    let flat = coords.reduce((sum: Tensor | null, c, d) => {
      const term = strides[d] === 1 ? c : mul(c, strides[d]);
      return sum === null ? term : add(sum, term);
    }, null)!;
    let at = flat;
    if (anyEmpty) {
      const mask = fromHost(Float32Array.from(emptyAt, (v) => (v >= 0 ? 1 : 0)), [1, ...outs], {
        device,
      }, true);
      const torchAt = fromHost(Float32Array.from(emptyAt), [1, ...outs], { device }, true);
      flat = select(mask, torchAt, flat);
      at = select(mask, plane, flat);
    }
    return [cast(flat, "int32"), cast(at, "int32")];
  });
  // The values: x at the index (the padded -inf column for an empty window).
  const rows = reshape(contiguous(x), [planes, plane]);
  const src = anyEmpty ? pad(rows, [0, 1], "constant", -Infinity) : rows;
  const values = takeAlong(src, 1, reshape(gatherAt, [planes, outPlane]), "dense", false, what);
  return [reshape(values, [planes, ...outs]), index];
}

/** The first tap of window `o` at or after 0 (torch's `while (start < 0) start += dilation`). */
function firstTap(a: Axis, o: number): number {
  let t = a.bins ? a.bins[o][0] : o * a.s - a.p;
  while (t < 0) t += a.dil;
  return t;
}

/** The flat indices summed on the host (exact for any int32): [index, where to read]. */
function onHost(
  coords: Tensor[],
  strides: number[],
  emptyAt: Int32Array,
  plane: number,
  device: Tensor["device"],
): [Tensor, Tensor] {
  const shape = coords[0].shape, n = numel(shape), outPlane = emptyAt.length;
  const flat = new Int32Array(n);
  coords.forEach((c, d) => {
    const v = c.toArray();
    for (let i = 0; i < n; i++) flat[i] += v[i] * strides[d];
  });
  const at = Int32Array.from(flat);
  for (let i = 0; i < n; i++) {
    const e = emptyAt[i % outPlane];
    if (e >= 0) {
      flat[i] = e;
      at[i] = plane;
    }
  }
  const opts = { dtype: "int32" as const, device };
  return [fromHost(flat, shape, opts, true), fromHost(at, shape, opts, true)];
}
