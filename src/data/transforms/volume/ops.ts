/**
 * The voxel copies behind the volume transforms, on host volumes: cutting
 * out (or extending with a fill value) a box, and reading the volume with
 * its spatial axes permuted and reversed (flips, rot90). Exact: voxels are
 * only moved. Not public.
 *
 * @module
 */
import { emptyVol, type Shape4, type Vol } from "./volume.ts";

/**
 * The box [start, start + size) of every channel; voxels of the box outside
 * the volume take `fill` (so a negative start or a size past the end pads).
 */
export function box(
  v: Vol,
  start: readonly number[],
  size: readonly number[],
  fill = 0,
): Vol {
  const [c, d, h, w] = v.shape;
  const out = emptyVol([c, size[0], size[1], size[2]]);
  if (fill !== 0) out.data.fill(fill);
  // The overlap of the box and the volume, in volume coordinates.
  const lo = [0, 1, 2].map((i) => Math.max(start[i], 0));
  const hi = [0, 1, 2].map((i, k) => Math.min(start[i] + size[i], [d, h, w][k]));
  if (lo.some((l, i) => l >= hi[i])) return out;
  const run = hi[2] - lo[2];
  for (let ch = 0; ch < c; ch++) {
    for (let z = lo[0]; z < hi[0]; z++) {
      for (let y = lo[1]; y < hi[1]; y++) {
        const src = ((ch * d + z) * h + y) * w + lo[2];
        const dst = ((ch * size[0] + z - start[0]) * size[1] + y - start[1]) * size[2] +
          lo[2] - start[2];
        out.data.set(v.data.subarray(src, src + run), dst);
      }
    }
  }
  return out;
}

/**
 * Output spatial axis j reads input spatial axis `from[j]`, reversed where
 * `reverse[j]`: a flip is the identity permutation with reversals, and
 * torch.rot90 a swap of two axes with one of them reversed.
 */
export function remap(v: Vol, from: readonly number[], reverse: readonly boolean[]): Vol {
  const [c] = v.shape;
  const inSize = v.shape.slice(1);
  const inStride = [inSize[1] * inSize[2], inSize[2], 1];
  const size = from.map((a) => inSize[a]);
  const out = emptyVol([c, size[0], size[1], size[2]] as Shape4);
  // Per output axis: the input offset of index 0 and the step per index.
  const base: number[] = [], step: number[] = [];
  for (let j = 0; j < 3; j++) {
    const s = inStride[from[j]];
    base.push(reverse[j] ? (size[j] - 1) * s : 0);
    step.push(reverse[j] ? -s : s);
  }
  const src = v.data, dst = out.data;
  const vox = inSize[0] * inSize[1] * inSize[2];
  let o = 0;
  for (let ch = 0; ch < c; ch++) {
    const cBase = ch * vox + base[0] + base[1] + base[2];
    for (let z = 0; z < size[0]; z++) {
      const zBase = cBase + z * step[0];
      for (let y = 0; y < size[1]; y++) {
        let i = zBase + y * step[1];
        for (let x = 0; x < size[2]; x++, i += step[2]) dst[o++] = src[i];
      }
    }
  }
  return out;
}

/** Reverses the spatial axes `axes` (torch.flip on dims axes + 1). */
export function flip(v: Vol, axes: readonly number[]): Vol {
  return remap(v, [0, 1, 2], [0, 1, 2].map((a) => axes.includes(a)));
}

/**
 * torch.rot90(x, k, [a + 1, b + 1]): k quarter turns in the plane of
 * spatial axes a and b, from a towards b (k taken mod 4).
 */
export function rot90(v: Vol, k: number, [a, b]: readonly [number, number]): Vol {
  const turns = ((k % 4) + 4) % 4;
  const from = [0, 1, 2], reverse = [false, false, false];
  if (turns === 2) {
    reverse[a] = reverse[b] = true;
  } else if (turns !== 0) {
    // rot90 once is flip(b) then transpose(a, b); three times is flip(a) then transpose.
    from[a] = b;
    from[b] = a;
    reverse[turns === 1 ? a : b] = true;
  }
  return remap(v, from, reverse);
}
