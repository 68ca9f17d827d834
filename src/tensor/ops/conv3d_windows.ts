/**
 * Conv3d's depth windows: the chunks one `conv2d` call takes (whole
 * samples, or output depths of one sample, within a byte budget), the
 * gather that lays a chunk's input depths out as channels (a depth in the
 * padding reads 0), and the copies of a chunk's result into the output and
 * of the output's gradient back (`conv3d.ts`).
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { i64 } from "./shape.ts";
import { indexVector } from "./gather.ts";
import type { Geometry3d } from "./conv3d.ts";
/**
 * Bytes of depth windows (`[b, kD * C, H, W]`) that one `conv2d` call
 * reads at most: larger inputs are convolved in chunks of whole samples,
 * or of output depths of one sample, each written into the output as it
 * is done. Whole samples cost no speed; depth slices of one sample did
 * (conv2d is slower on small batches: 4 slices of 24 depths took 138 ms
 * against 125 for 2 samples of 48, Conv3d(32, 32, 3) on [2, 32, 48, 96,
 * 96]), so slices are for samples whose windows alone pass 256 MiB.
 */
let windowBytes = 256 * 2 ** 20;

/** @internal Sets the chunks' window budget in bytes (tests make many chunks); returns the old. */
export function setConv3dWindowBytes(bytes: number): number {
  const old = windowBytes;
  windowBytes = bytes;
  return old;
}

/** One conv2d call's share: samples n0 .. n0 + nn, output depths d0 .. d0 + cd of each. */
export interface Chunk {
  n0: number;
  nn: number;
  d0: number;
  cd: number;
}

/** The chunks of n samples of od output depths whose windows take `depthBytes` each. */
export function chunksOf(n: number, od: number, depthBytes: number): Chunk[] {
  const chunks: Chunk[] = [];
  const sample = od * depthBytes;
  if (sample <= windowBytes) {
    const nn = Math.max(1, Math.floor(windowBytes / sample));
    for (let n0 = 0; n0 < n; n0 += nn) chunks.push({ n0, nn: Math.min(nn, n - n0), d0: 0, cd: od });
    return chunks;
  }
  // Even slices of one sample's depths.
  const cd = Math.ceil(od / Math.ceil(sample / windowBytes));
  for (let n0 = 0; n0 < n; n0++) {
    for (let d0 = 0; d0 < od; d0 += cd) chunks.push({ n0, nn: 1, d0, cd: Math.min(cd, od - d0) });
  }
  return chunks;
}

/** conv3d's sizes: input [n, c, d, h, w], weight [k, cg, kd, kh, kw], output [od, oh, ow]. */
export interface Sizes {
  n: number;
  c: number;
  d: number;
  hw: number;
  k: number;
  kd: number;
  od: number;
  ohw: number;
  g: Geometry3d;
}

/**
 * For output depths d0 .. d0 + cd, the rows of x [C * D, H W] that their
 * windows read, as [cd, groups, kD, C / groups] channels: (channel, depth
 * od * stride - pad + kd * dilation), or -1 in the padding (the gather
 * reads 0 there and the scatter-add skips it).
 */
export function windowIndex(z: Sizes, d0: number, cd: number, device: Tensor["device"]): Tensor {
  const { c, d, kd, g } = z;
  const cg = c / g.groups;
  const index = new Int32Array(cd * kd * c);
  let at = 0;
  for (let o = d0; o < d0 + cd; o++) {
    for (let gi = 0; gi < g.groups; gi++) {
      for (let j = 0; j < kd; j++) {
        const depth = o * g.stride[0] - g.pads[0][0] + j * g.dilation[0];
        const inside = depth >= 0 && depth < d;
        for (let ci = 0; ci < cg; ci++) index[at++] = inside ? (gi * cg + ci) * d + depth : -1;
      }
    }
  }
  return indexVector(index, device);
}

/** `t`'s element `i` (a native pointer; no views made). */
export const at = (t: Tensor, i: number) =>
  i === 0 ? t.ptr : Deno.UnsafePointer.offset(t.ptr as Deno.PointerObject, i * 4)!;

/** The depth windows of one chunk of cx: [nn * cd, kD * C, H, W], one gather (no autograd). */
export function gatherWindows(cx: Tensor, z: Sizes, ch: Chunk, index: Tensor): Tensor {
  const [, , , h, w] = cx.shape;
  const cols = Tensor.empty([ch.nn * ch.cd, z.kd * z.c, h, w], "float32", cx.device);
  check(
    cx.lib,
    cx.lib.lits_gather_f32(
      at(cx, ch.n0 * z.c * z.d * z.hw),
      index.ptr,
      i64([0, 1, 0]),
      cols.ptr,
      ch.nn,
      z.c * z.d,
      ch.cd * z.kd * z.c,
      z.hw,
      0,
    ),
    () => `conv3d depth windows of [${cx.shape}] (${z.kd} taps)`,
  );
  return cols;
}

/**
 * A chunk's conv2d result y [nn * cd, K, H' W'] written into its place in
 * out [N, K, D', H', W']: whole samples are one strided copy; the depths
 * of one sample, not dense there, are added in one scatter-add (into out
 * filled with the bias or zeros: b + y is y + b, conv2d's sum exactly).
 */
export function chunkToOutput(y: Tensor, out: Tensor, z: Sizes, ch: Chunk): void {
  const { k, od, ohw } = z;
  const desc = () => `conv3d output [${out.shape}], chunk of ${ch.nn} x ${ch.cd} depths`;
  if (ch.cd === od) {
    const shape = [ch.nn, k, od, ohw], strides = [od * k * ohw, ohw, k * ohw, 1];
    check(
      y.lib,
      y.lib.lits_strided_copy(4, i64(shape), y.ptr, i64(strides), at(out, ch.n0 * k * od * ohw)),
      desc,
    );
    return;
  }
  // Row (dd, ki) of y goes to row ki * D' + d0 + dd of out[n0] [K * D', H' W'].
  const rows = new Int32Array(ch.cd * k);
  for (let dd = 0; dd < ch.cd; dd++) {
    for (let ki = 0; ki < k; ki++) rows[dd * k + ki] = ki * od + ch.d0 + dd;
  }
  const index = indexVector(rows, y.device);
  check(
    y.lib,
    y.lib.lits_scatter_add_f32(
      y.ptr,
      index.ptr,
      i64([0, 1, 0]),
      at(out, ch.n0 * k * od * ohw),
      1,
      k * od,
      ch.cd * k,
      ohw,
    ),
    desc,
  );
  index.dispose();
}

/** A chunk's gradient dy [nn * cd, K, H' W'] copied out of the output's gradient g. */
export function chunkOfOutput(g: Tensor, z: Sizes, ch: Chunk): Tensor {
  const { k, od, ohw } = z;
  const dy = Tensor.empty([ch.nn * ch.cd, k, ohw], "float32", g.device);
  const shape = [ch.nn, ch.cd, k, ohw], strides = [k * od * ohw, ohw, od * ohw, 1];
  check(
    g.lib,
    g.lib.lits_strided_copy(
      4,
      i64(shape),
      at(g, (ch.n0 * k * od + ch.d0) * ohw),
      i64(strides),
      dy.ptr,
    ),
    () => `conv3d backward, output gradient [${g.shape}], chunk of ${ch.nn} x ${ch.cd} depths`,
  );
  return dy;
}
