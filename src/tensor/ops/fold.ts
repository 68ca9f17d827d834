/**
 * `F.unfold` (im2col) and `F.fold` (col2im), as torch's: sliding blocks of
 * an image as columns, and columns summed back into an image. Both are one
 * pass of the backend's gather or scatter-add kernel over [N C, H W] with
 * one index of kernel x block positions (-1 for a position in the padding,
 * which the gather reads as 0 and the scatter-add skips), so the values are
 * exact copies and sums, and each one's gradient is the other.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { refuseKeywords } from "./keyword_args.ts";
import type { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous, i64, reshape } from "./shape.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost, zeros } from "./creation.ts";
import { takeAlong } from "./gather.ts";
import { type Pair, pair } from "./conv.ts";
import { checkCall } from "../../options.ts";

/** Options of `unfold` and `fold` (torch's `dilation`, `padding`, `stride`). */
export interface FoldOptions {
  /** Spacing of the kernel's taps (default 1). */
  dilation?: Pair;
  /** Zeros on each side of the image (default 0). */
  padding?: Pair;
  /** Step between blocks (default 1). */
  stride?: Pair;
}

/** The option names of `unfold` and `fold`. */
export const FOLD_OPTIONS: (keyof FoldOptions)[] = ["dilation", "padding", "stride"];

/** The checked geometry of blocks of `kernel` over an h x w image. */
function blocks(where: string, h: number, w: number, kernel: unknown, o: FoldOptions) {
  const [kh, kw] = pair(kernel as Pair, `${where}: kernelSize`, 1);
  const [dh, dw] = pair(o.dilation ?? 1, `${where}: dilation`, 1);
  const [ph, pw] = pair(o.padding ?? 0, `${where}: padding`, 0);
  const [sh, sw] = pair(o.stride ?? 1, `${where}: stride`, 1);
  const bh = Math.floor((h + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const bw = Math.floor((w + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (bh < 1 || bw < 1) {
    throw new Error(
      `${where}: an image of ${h} x ${w} with kernelSize [${kh}, ${kw}], dilation [${dh}, ` +
        `${dw}], padding [${ph}, ${pw}] and stride [${sh}, ${sw}] has ${bh} x ${bw} sliding ` +
        "blocks; each must be at least one",
    );
  }
  return { kh, kw, dh, dw, ph, pw, sh, sw, bh, bw };
}

/**
 * For kernel tap (i, j) and block (y, x), in that order, the position of
 * the image pixel it covers in [0, h w), or -1 in the padding.
 */
function blockIndex(h: number, w: number, g: ReturnType<typeof blocks>): Int32Array {
  const { kh, kw, dh, dw, ph, pw, sh, sw, bh, bw } = g;
  const index = new Int32Array(kh * kw * bh * bw);
  let at = 0;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let y = 0; y < bh; y++) {
        const r = y * sh - ph + i * dh;
        for (let x = 0; x < bw; x++) {
          const c = x * sw - pw + j * dw;
          index[at++] = r >= 0 && r < h && c >= 0 && c < w ? r * w + c : -1;
        }
      }
    }
  }
  return index;
}

/**
 * The sliding blocks of x [N, C, H, W] (or unbatched [C, H, W]) as columns,
 * as `F.unfold` (im2col): [N, C kh kw, L], L the number of blocks; channel
 * c kh kw + i kw + j of column l is tap (i, j) of block l. Padding reads as
 * zeros. The gradient sums each column's gradient back into the pixels it
 * read (`fold`).
 *
 * @example
 * ```ts
 * import { arange, functional as F } from "@lits/vision";
 * const cols = F.unfold(arange(9).reshape([1, 1, 3, 3]), 2);
 * console.log(cols.shape, cols.toList()); // [1, 4, 4] [[[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]]]
 * ```
 */
export function unfold(x: Tensor, kernelSize: Pair, options: FoldOptions = {}): Tensor {
  refuseKeywords("F.unfold", kernelSize, "x", ["kernelSize"], [], true);
  const where = "unfold", usage = "F.unfold(x, 3, { padding: 1, stride: 1 })";
  expectTensor(x, where, usage);
  const o = checkCall<FoldOptions>(where, arguments.length, 3, options, FOLD_OPTIONS, usage);
  requireFloat(x, where);
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new Error(
      `${where}: expected a 3-D (unbatched [C, H, W]) or 4-D ([N, C, H, W]) input, got [${x.shape}]`,
    );
  }
  const [h, w] = x.shape.slice(-2), c = x.shape[x.ndim - 3];
  const n = x.ndim === 4 ? x.shape[0] : 1;
  const g = blocks(where, h, w, kernelSize, o);
  const index = fromHost(blockIndex(h, w, g), [g.kh * g.kw * g.bh * g.bw], {
    dtype: "int32",
    device: x.device,
  }, true);
  const cols = takeAlong(reshape(x, [n * c, h * w]), 1, index, "row", false, where);
  const shape = [c * g.kh * g.kw, g.bh * g.bw];
  return reshape(cols, x.ndim === 4 ? [n, ...shape] : shape);
}

/**
 * Columns x [N, C kh kw, L] (or unbatched [C kh kw, L]) summed into an
 * image [N, C, H, W] of `outputSize` [H, W], as `F.fold` (col2im): the
 * inverse arrangement of `unfold`, where overlapping blocks add and
 * entries in the padding are dropped. L must be the number of blocks that
 * `unfold` would give for that image. The gradient is `unfold`'s gather.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const img = F.fold(ones([1, 4, 4]), [3, 3], 2);
 * console.log(img.toList()); // [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]]
 * ```
 */
export function fold(
  x: Tensor,
  outputSize: Pair,
  kernelSize: Pair,
  options: FoldOptions = {},
): Tensor {
  refuseKeywords("F.fold", outputSize, "x", ["outputSize", "kernelSize"], [], true);
  refuseKeywords(
    "F.fold",
    kernelSize,
    `x, ${JSON.stringify(outputSize)}`,
    ["kernelSize"],
    [],
    true,
  );
  const where = "fold", usage = "F.fold(cols, [H, W], 3, { padding: 1, stride: 1 })";
  expectTensor(x, where, usage);
  const o = checkCall<FoldOptions>(where, arguments.length, 4, options, FOLD_OPTIONS, usage);
  requireFloat(x, where);
  if (x.ndim !== 2 && x.ndim !== 3) {
    throw new Error(
      `${where}: expected a 2-D (unbatched [C kh kw, L]) or 3-D ([N, C kh kw, L]) input, ` +
        `got [${x.shape}]`,
    );
  }
  const [h, w] = pair(outputSize, `${where}: outputSize`, 1);
  const g = blocks(where, h, w, kernelSize, o);
  const [ckk, l] = x.shape.slice(-2), n = x.ndim === 3 ? x.shape[0] : 1;
  const kk = g.kh * g.kw;
  if (ckk % kk !== 0) {
    throw new Error(
      `${where}: dimension ${x.ndim - 2} of the input [${x.shape}] (${ckk}) must be divisible ` +
        `by the product of kernelSize [${g.kh}, ${g.kw}] (${kk})`,
    );
  }
  if (l !== g.bh * g.bw) {
    throw new Error(
      `${where}: outputSize [${h}, ${w}] with kernelSize [${g.kh}, ${g.kw}] and these options ` +
        `has ${g.bh} x ${g.bw} = ${g.bh * g.bw} sliding blocks, but the input [${x.shape}] has ` +
        `${l} in its last dimension`,
    );
  }
  const c = ckk / kk, rows = n * c, k = kk * l;
  const index = fromHost(blockIndex(h, w, g), [k], { dtype: "int32", device: x.device }, true);
  const cols = contiguous(x);
  const out = zeros([rows, h * w], { device: x.device });
  const strides = i64([0, 1, 0]);
  if (rows > 0) {
    check(
      x.lib,
      x.lib.lits_scatter_add_f32(cols.ptr, index.ptr, strides, out.ptr, rows, h * w, k, 1),
      () => `${where} [${x.shape}] into ${h} x ${w}`,
    );
  }
  const inShape = [...x.shape];
  const y = record(out, {
    name: where,
    inputs: [cols],
    saved: [index],
    backward: (dy) => [
      reshape(
        takeAlong(reshape(dy, [rows, h * w]), 1, index, "row", false, "fold backward"),
        inShape,
      ),
    ],
  });
  return reshape(y, x.ndim === 3 ? [n, c, h, w] : [c, h, w]);
}
