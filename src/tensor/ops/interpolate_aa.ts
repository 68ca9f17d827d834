/**
 * The sampling taps of torch's antialiased resize along one dimension
 * (`F.interpolate(..., antialias=True)`, i.e. `_upsample_bilinear2d_aa` and
 * `_upsample_bicubic2d_aa`, as Pillow's resampling): output i is centred at
 * `scale * (i + 0.5)` in input pixels, and reads every input pixel within
 * the filter's support, a triangle (bilinear) or Keys' cubic with a = -0.5
 * (bicubic; Pillow's, where plain bicubic uses -0.75). When downsampling the
 * support widens by the scale, so each output averages all the pixels it
 * covers; the weights of an output are normalised to sum to 1.
 *
 * Pure arithmetic, no tensors: `F.interpolate` applies the taps as takes
 * and products (its gradient is the transposed weights, by the chain rule),
 * and the host image `F.resize` applies them in loops. The arithmetic is
 * float32 where torch's kernel computes in `float`, so the weights are
 * torch's to the bit. One difference on non-finite input: F.interpolate
 * applies as many taps to every output as the widest window needs (the
 * extra ones weigh 0 and re-read the window's last pixel), so an infinity
 * there gives NaN (0 * inf) where torch, which loops over each window's own
 * length, gives inf. The host resize loops over each window, but skips a
 * dimension that keeps its size, where torch's identity weights still
 * spread a NaN or inf to its neighbours: with non-finite pixels either can
 * differ from torch's.
 *
 * @module
 */

const f32 = Math.fround;

/**
 * @internal One dimension's resampling: output j is the sum over taps t of
 * `weight[t][j] * x[index[t][j]]` (`weight` null: one tap of weight 1).
 * `count`, where set, says how many taps of output j are live: the others
 * have weight 0 and repeat a live index.
 */
export interface Taps {
  index: Int32Array[];
  weight: Float32Array[] | null;
  count?: Int32Array;
}

/** The triangle filter of bilinear antialiasing (torch's HelperInterpLinear::aa_filter). */
function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? f32(1 - a) : 0;
}

/** Keys' cubic with a = -0.5 in float32, as torch's HelperInterpCubic::aa_filter (Pillow's). */
function keys(x: number): number {
  const a = Math.abs(x), A = -0.5;
  if (a < 1) return f32(f32(f32(f32(f32((A + 2) * a) - (A + 3)) * a) * a) + 1);
  if (a < 2) return f32(f32(f32(f32(f32(f32(A * a) - 5 * A) * a) + 8 * A) * a) - 4 * A);
  return 0;
}

/**
 * @internal The antialiased taps from `inSize` to `outSize` for `scale`,
 * torch's float32 area_pixel_compute_scale (in / out, 1 / scaleFactor, or
 * (in - 1) / (out - 1) with alignCorners; the centres are scale * (i + 0.5)
 * in every case, as torch's). As many taps as the widest window.
 */
export function antialiasTaps(
  inSize: number,
  outSize: number,
  cubic: boolean,
  scale: number,
): Taps {
  const filter = cubic ? keys : triangle;
  const half = cubic ? 2 : 1; // interp_size / 2
  const support = scale >= 1 ? f32(half * scale) : half;
  const invScale = scale >= 1 ? f32(1 / scale) : 1;
  const start = new Int32Array(outSize), count = new Int32Array(outSize);
  const windows: Float32Array[] = [];
  let taps = 1;
  for (let i = 0; i < outSize; i++) {
    const center = f32(scale * (i + 0.5));
    // torch casts to int64 (truncation), then clamps to the input.
    const lo = Math.max(Math.trunc(f32(center - support) + 0.5), 0);
    const hi = Math.min(Math.trunc(f32(center + support) + 0.5), inSize);
    const n = Math.max(hi - lo, 1);
    const w = new Float32Array(n);
    let total = 0;
    for (let j = 0; j < hi - lo; j++) {
      w[j] = filter(f32((f32(f32(j + lo) - center) + 0.5) * invScale));
      total = f32(total + w[j]);
    }
    if (total !== 0) { for (let j = 0; j < n; j++) w[j] = f32(w[j] / total); }
    start[i] = Math.min(lo, inSize - 1);
    count[i] = n;
    windows.push(w);
    taps = Math.max(taps, n);
  }
  const index = Array.from({ length: taps }, () => new Int32Array(outSize));
  const weight = Array.from({ length: taps }, () => new Float32Array(outSize));
  for (let i = 0; i < outSize; i++) {
    const w = windows[i], n = count[i];
    for (let t = 0; t < taps; t++) {
      index[t][i] = start[i] + Math.min(t, n - 1);
      weight[t][i] = t < n ? w[t] : 0;
    }
  }
  return { index, weight, count };
}
