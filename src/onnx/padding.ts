/**
 * ONNX nodes for the padding layers (`ZeroPad2d`, `ConstantPad1d/2d/3d`,
 * `ReflectionPad1d/2d/3d`, `ReplicationPad1d/2d/3d`): a Pad node in mode
 * "constant", "reflect" or "edge", as `torch.onnx.export` writes them.
 * Negative amounts (crops) become a Slice after the Pad rather than
 * negative pads: reflection and replication read the uncropped dimension
 * (torch's rule: `ReflectionPad1d([2, -1])` of [a, b, c] is [c, b, a, b]),
 * and padding first, then cropping, gives exactly that in every runtime.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import {
  ConstantPad1d,
  ConstantPad2d,
  ConstantPad3d,
  type PadNd,
  ReflectionPad1d,
  ReflectionPad2d,
  ReflectionPad3d,
  ReplicationPad1d,
  ReplicationPad2d,
  ReplicationPad3d,
  ZeroPad2d,
} from "../layers/padding.ts";
import { type Emitter, shapeText } from "./graph.ts";
import type { Dim } from "./proto.ts";
import { where } from "./shapes.ts";

/** `d + k`, for a fixed or a symbolic dimension ("N+2"). */
function grow(d: Dim, k: number): Dim {
  if (typeof d === "number") return d + k;
  return k === 0 ? d : k > 0 ? `${d}+${k}` : `${d}-${-k}`;
}

/** ONNX Pad's modes by the layers' (F.pad's) names. */
const MODES: Record<string, string> = {
  constant: "constant",
  reflect: "reflect",
  replicate: "edge",
};

const pad: Emitter<PadNd> = (scope, m, x) => {
  const r = x.shape.length, dims = m.padding.length / 2;
  const onnxMode = MODES[m.mode];
  if (!onnxMode) {
    throw new Error(`exportOnnx: ${where(scope, m)}: padding mode "${m.mode}" has no ONNX mapping`);
  }
  const names = ["W", "H, W", "D, H, W"][dims - 1];
  if (m.mode === "constant" ? r < dims : r !== dims + 1 && r !== dims + 2) {
    const want = m.mode === "constant"
      ? `an input of at least ${dims} dimension${dims > 1 ? "s" : ""}`
      : `[C, ${names}] or [N, C, ${names}]`;
    throw new Error(
      `exportOnnx: ${where(scope, m)} expects ${want}, but its input would be ${
        shapeText(x.shape)
      }`,
    );
  }
  // ONNX's pads: the begins of every dimension, then the ends; torch's list
  // is (before, after) pairs from the last dimension backwards.
  const begins = Array<number>(r).fill(0), ends = Array<number>(r).fill(0);
  for (let k = 0; k < dims; k++) {
    const d = r - 1 - k;
    [begins[d], ends[d]] = m.padding.slice(2 * k, 2 * k + 2);
    const n = x.shape[d];
    if (typeof n !== "number") continue; // the symbolic batch: constant padding only
    const most = Math.max(begins[d], ends[d]);
    if (m.mode === "reflect" && most >= n) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: padding (${begins[d]}, ${ends[d]}) must be less than ` +
          `the size ${n} of dimension ${d} of its input ${shapeText(x.shape)} (reflection does ` +
          "not repeat the edge; nn.ReplicationPad does)",
      );
    }
    if (n + begins[d] + ends[d] < 1) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: padding (${begins[d]}, ${ends[d]}) leaves dimension ` +
          `${d} of its input ${shapeText(x.shape)} with no elements`,
      );
    }
  }
  const shape = x.shape.map((d, i) => grow(d, begins[i] + ends[i]));
  const g = scope.graph;
  const crops = begins.some((p) => p < 0) || ends.some((p) => p < 0);
  let y = x;
  if (begins.some((p) => p > 0) || ends.some((p) => p > 0)) {
    const b = begins.map((p) => Math.max(p, 0)), e = ends.map((p) => Math.max(p, 0));
    const name = crops ? scope.at("pad") : scope.path;
    const inputs = [x.name, g.int64s(scope.at("pads"), [...b, ...e])];
    if (m.mode === "constant") inputs.push(g.scalar(scope.at("value"), m.value ?? 0));
    y = g.node("Pad", name, inputs, x.shape.map((d, i) => grow(d, b[i] + e[i])), {
      mode: onnxMode,
    });
  }
  if (!crops) return y;
  // Slice from -before to -after (counted from the end, so a symbolic size needs no value).
  const axes = [...Array(r).keys()].filter((i) => begins[i] < 0 || ends[i] < 0);
  return g.node("Slice", scope.path, [
    y.name,
    g.int64s(scope.at("starts"), axes.map((i) => Math.max(-begins[i], 0))),
    g.int64s(scope.at("ends"), axes.map((i) => ends[i] < 0 ? ends[i] : Number.MAX_SAFE_INTEGER)),
    g.int64s(scope.at("axes"), axes),
  ], shape);
};

/** The padding emitters, by class. */
export const PADDING = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [ZeroPad2d, pad],
  [ConstantPad1d, pad],
  [ConstantPad2d, pad],
  [ConstantPad3d, pad],
  [ReflectionPad1d, pad],
  [ReflectionPad2d, pad],
  [ReflectionPad3d, pad],
  [ReplicationPad1d, pad],
  [ReplicationPad2d, pad],
  [ReplicationPad3d, pad],
]);
