/**
 * ONNX nodes for torchvision's Swin Transformer (models/swin.ts), each read
 * as its module's forward in eval mode. The maps stay channels-last
 * [N, H, W, C] between the stem's Permute and the model's, as in the
 * forward. `ShiftedWindowAttention` pads to whole windows, then does the
 * cyclic shift and the window partition as one Gather (the forward's own
 * gather order), attention per window written out in MatMul and Softmax
 * (opset 17 has no attention op), the relative position bias as a Gather of
 * `relative_position_bias_table` by `relative_position_index` (both under
 * their state-dict names), the shifted-window mask as a constant, then the
 * windows back, the shift undone and the padding cut as a second Gather.
 * `PatchMerging` is a Reshape and Transpose of 2 x 2 neighbourhoods.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { SwinTransformer } from "../models/swin.ts";
import { PatchMerging, SwinTransformerBlock } from "../models/swin_blocks.ts";
import {
  ShiftedWindowAttention,
  shiftedWindowMask,
  windowOrder,
} from "../models/swin_attention.ts";
import { checkInput } from "../models/input.ts";
import { type Emitter, type Scope, shapeText, type Value } from "./graph.ts";
import type { Dim } from "./proto.ts";
import { where } from "./shapes.ts";

/** The fixed [H, W] of a channels-last map [N, H, W, dim]; throws on anything else. */
function channelsLast(s: Scope, m: Module, x: Value, dim: number): [number, number] {
  const [, h, w, c] = x.shape;
  if (x.shape.length !== 4 || c !== dim || typeof h !== "number" || typeof w !== "number") {
    throw new Error(
      `exportOnnx: ${where(s, m)} expects a channels-last map [N, H, W, ${dim}] of fixed H ` +
        `and W, but its input would be ${shapeText(x.shape)}`,
    );
  }
  return [h, w];
}

/** Reshape of x to `target` (0 copies the batch, -1 is inferred), declared as `shape`. */
function reshape(s: Scope, name: string, x: Value, target: number[], shape: Dim[]): Value {
  const g = s.graph;
  return g.node("Reshape", s.at(name), [x.name, g.int64s(s.at(`${name}.shape`), target)], shape);
}

/** Transpose of x to `perm`. */
function transpose(s: Scope, name: string, x: Value, perm: number[]): Value {
  return s.graph.node("Transpose", s.at(name), [x.name], perm.map((p) => x.shape[p]), { perm });
}

/** Zeros after the end of each axis of a map (ONNX Pad's [begins..., ends...]). */
function padEnd(s: Scope, x: Value, ends: number[]): Value {
  if (ends.every((e) => e === 0)) return x;
  const g = s.graph;
  const shape = x.shape.map((d, i) => (typeof d === "number" ? d + ends[i] : d));
  const pads = g.int64s(s.at("pads"), [...ends.map(() => 0), ...ends]);
  return g.node("Pad", s.at("pad"), [x.name, pads], shape);
}

/** The batch times `k` (a symbolic batch stays symbolic). */
const times = (n: Dim, k: number): Dim => (typeof n === "number" ? n * k : `${n}*${k}`);

/** x[..., from:from + size] of [B, L, E]. */
function lastAxis(s: Scope, name: string, x: Value, from: number, size: number): Value {
  const g = s.graph;
  const inputs = [
    x.name,
    g.int64s(s.at(`${name}.starts`), [from]),
    g.int64s(s.at(`${name}.ends`), [from + size]),
    g.int64s(s.at(`${name}.axes`), [2]),
  ];
  return g.node("Slice", s.at(name), inputs, [x.shape[0], x.shape[1], size]);
}

const swinTransformer: Emitter<SwinTransformer> = (s, m, x) => {
  // The model's own input check (channels, smallest side), on the shape alone.
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, m.inputSpec);
  x = s.child("features", m.features, x);
  x = s.child("permute", m.permute, s.child("norm", m.norm, x));
  x = s.child("flatten", m.flatten, s.child("avgpool", m.avgpool, x));
  return s.child("head", m.head, x);
};

const swinBlock: Emitter<SwinTransformerBlock> = (s, m, input) => {
  channelsLast(s, m, input, m.dim);
  const g = s.graph;
  let y = s.child("attn", m.attn, s.child("norm1", m.norm1, input));
  y = s.child("stochastic_depth", m.stochastic_depth, y);
  const x = g.node("Add", s.at("residual_1"), [input.name, y.name], input.shape);
  y = s.child("mlp", m.mlp, s.child("norm2", m.norm2, x));
  y = s.child("stochastic_depth", m.stochastic_depth, y);
  return g.node("Add", s.at("residual_2"), [x.name, y.name], input.shape);
};

const patchMerging: Emitter<PatchMerging> = (s, m, x) => {
  const [h, w] = channelsLast(s, m, x, m.dim);
  const n = x.shape[0], c = m.dim, h2 = Math.ceil(h / 2), w2 = Math.ceil(w / 2);
  x = padEnd(s, x, [0, h % 2, w % 2, 0]);
  // [N, H/2, dy, W/2, dx, C] -> [N, H/2, W/2, dx, dy, C]: torchvision's channel order.
  x = reshape(s, "pairs", x, [0, h2, 2, w2, 2, c], [n, h2, 2, w2, 2, c]);
  x = transpose(s, "pairs_t", x, [0, 1, 3, 4, 2, 5]);
  x = reshape(s, "merged", x, [0, h2, w2, 4 * c], [n, h2, w2, 4 * c]);
  return s.child("reduction", m.reduction, s.child("norm", m.norm, x));
};

/** `getRelativePositionBias()`: the table gathered by the index, [1, heads, N, N]. */
function relativeBias(s: Scope, m: ShiftedWindowAttention, size: number): Value {
  const g = s.graph, heads = m.numHeads;
  const table = g.floats(s.at("relative_position_bias_table"), m.relative_position_bias_table);
  const index = g.int64s(
    s.at("relative_position_index"),
    Array.from(m.relativePositionIndex.toArray() as Int32Array),
  );
  const rows = g.node("Gather", s.at("bias.rows"), [table, index], [size * size, heads], {
    axis: 0,
  });
  const square = reshape(s, "bias.square", rows, [size, size, heads], [size, size, heads]);
  const byHead = transpose(s, "bias.t", square, [2, 0, 1]);
  return reshape(s, "position_bias", byHead, [1, heads, size, size], [1, heads, size, size]);
}

const shiftedWindowAttention: Emitter<ShiftedWindowAttention> = (s, m, input) => {
  const [h, w] = channelsLast(s, m, input, m.dim);
  const g = s.graph, n = input.shape[0], c = m.dim, heads = m.numHeads, d = c / heads;
  const [wh, ww] = m.windowSize;
  // As the forward: pad right and bottom to whole windows; no shift along an
  // axis that one window covers.
  const ph = h + ((wh - (h % wh)) % wh), pw = w + ((ww - (w % ww)) % ww);
  const shift: [number, number] = [wh >= ph ? 0 : m.shiftSize[0], ww >= pw ? 0 : m.shiftSize[1]];
  const [into, back] = windowOrder([ph, pw], m.windowSize, shift, [h, w]);
  const windows = (ph / wh) * (pw / ww), size = wh * ww, bw = times(n, windows);
  let x = padEnd(s, input, [0, ph - h, pw - w, 0]);
  x = reshape(s, "flat", x, [0, ph * pw, c], [n, ph * pw, c]);
  x = g.node("Gather", s.at("windows"), [x.name, g.int64s(s.at("windows.order"), [...into])], [
    n,
    ph * pw,
    c,
  ], { axis: 1 });
  x = reshape(s, "tokens", x, [-1, size, c], [bw, size, c]);
  const qkv = s.child("qkv", m.qkv, x);
  // [B', N, 3C] -> q, k, v [B', N, heads, d] -> [B', heads, N, d] (k: [B', heads, d, N]).
  const part = (name: string, i: number, perm: number[]) => {
    const split = reshape(s, `${name}.heads`, lastAxis(s, name, qkv, i * c, c), [
      0,
      0,
      heads,
      d,
    ], [bw, size, heads, d]);
    return transpose(s, `${name}.t`, split, perm);
  };
  const q = part("q", 0, [0, 2, 1, 3]), k = part("k", 1, [0, 2, 3, 1]);
  const v = part("v", 2, [0, 2, 1, 3]);
  const qs = g.node("Mul", s.at("q.scaled"), [q.name, g.scalar(s.at("scale"), d ** -0.5)], q.shape);
  let scores = g.node("MatMul", s.at("scores"), [qs.name, k.name], [bw, heads, size, size]);
  const bias = relativeBias(s, m, size);
  scores = g.node("Add", s.at("scores.bias"), [scores.name, bias.name], scores.shape);
  if (shift[0] + shift[1] > 0) {
    const mask = g.floats(s.at("mask"), shiftedWindowMask([ph, pw], m.windowSize, shift), [
      1,
      windows,
      1,
      size,
      size,
    ]);
    const perImage = reshape(s, "scores.windows", scores, [-1, windows, heads, size, size], [
      n,
      windows,
      heads,
      size,
      size,
    ]);
    const masked = g.node("Add", s.at("scores.mask"), [perImage.name, mask], perImage.shape);
    scores = reshape(s, "scores.masked", masked, [-1, heads, size, size], scores.shape as Dim[]);
  }
  const weights = g.node("Softmax", s.at("softmax"), [scores.name], scores.shape, { axis: -1 });
  const out = g.node("MatMul", s.at("attend"), [weights.name, v.name], [bw, heads, size, d]);
  const merged = reshape(s, "merge", transpose(s, "merge.t", out, [0, 2, 1, 3]), [0, 0, c], [
    bw,
    size,
    c,
  ]);
  x = s.child("proj", m.proj, merged);
  // Windows back to the map, the shift undone and the padding cut: one Gather.
  x = reshape(s, "unwindow", x, [-1, windows * size, c], [n, windows * size, c]);
  x = g.node("Gather", s.at("map"), [x.name, g.int64s(s.at("map.order"), [...back])], [
    n,
    h * w,
    c,
  ], { axis: 1 });
  return reshape(s, "out", x, [0, h, w, c], [n, h, w, c]);
};

/** The Swin emitters, by class. */
export const SWIN = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [SwinTransformer, swinTransformer],
  [SwinTransformerBlock, swinBlock],
  [PatchMerging, patchMerging],
  [ShiftedWindowAttention, shiftedWindowAttention],
]);
