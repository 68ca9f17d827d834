/**
 * ONNX nodes for the layers, in eval mode: each emitter checks its input's
 * shape as the layer's forward would, adds its nodes, and returns its output
 * with the shape the layer would give. Weights become initializers under
 * their state-dict names (`layer1.0.conv1.weight`).
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { BatchNorm1d } from "../layers/batchnorm1d.ts";
import type { BatchNormBase } from "../layers/batchnorm_base.ts";
import { Dropout, Flatten, Identity, ReLU } from "../layers/basic.ts";
import { Dropout2d } from "../layers/dropout2d.ts";
import { LeakyReLU, LogSoftmax, Sigmoid, Softmax, Tanh } from "../layers/activation.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { pair } from "../tensor/ops/conv.ts";
import { adaptiveSize } from "../tensor/ops/pool.ts";
import { type Emitter, type Scope, shapeText, type Value } from "./graph.ts";
import type { Dim } from "./proto.ts";

/** "features.3 (Conv2d)" for messages. */
export function where(scope: Scope, m: Module): string {
  return `${scope.path || "the model"} (${m.constructor.name})`;
}

/** Throws unless `x` has rank `rank` and, where given, `channels` in dimension 1. */
function expect(scope: Scope, m: Module, x: Value, rank: number, channels?: number): void {
  const ok = x.shape.length === rank && (channels === undefined || x.shape[1] === channels);
  if (!ok) {
    const c = channels ?? "C";
    const want = rank === 2 ? `[N, ${c}]` : rank === 4 ? `[N, ${c}, H, W]` : `rank ${rank}`;
    throw new Error(
      `exportOnnx: ${where(scope, m)} expects ${want}, but its input would be ${
        shapeText(x.shape)
      }`,
    );
  }
}

/** PyTorch's pooled or convolved size; ceil mode's last window must start inside. */
function outSize(size: number, k: number, s: number, p: number, ceil = false): number {
  const span = size + 2 * p - k;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

function spatial(scope: Scope, m: Module, x: Value): [number, number] {
  const [h, w] = x.shape.slice(2);
  if (typeof h !== "number" || typeof w !== "number") {
    throw new Error(`exportOnnx: ${where(scope, m)} needs a fixed height and width`);
  }
  return [h, w];
}

function tooSmall(scope: Scope, m: Module, x: Value, oh: number, ow: number): void {
  if (oh < 1 || ow < 1) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: input ${shapeText(x.shape)} is too small for it`,
    );
  }
}

const conv: Emitter<Conv2d> = (scope, m, x) => {
  expect(scope, m, x, 4, m.inChannels);
  const [h, w] = spatial(scope, m, x);
  const [kh, kw] = m.weight.shape.slice(2);
  const [sh, sw] = pair(m.options.stride, "Conv2d stride", 1);
  const [ph, pw] = pair(m.options.padding, "Conv2d padding", 0);
  const [dh, dw] = pair(m.options.dilation, "Conv2d dilation", 1);
  const oh = outSize(h, dh * (kh - 1) + 1, sh, ph), ow = outSize(w, dw * (kw - 1) + 1, sw, pw);
  tooSmall(scope, m, x, oh, ow);
  const g = scope.graph;
  const inputs = [x.name, g.floats(scope.at("weight"), m.weight)];
  if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
  return g.node("Conv", scope.path, inputs, [x.shape[0], m.outChannels, oh, ow], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [ph, pw, ph, pw],
    dilations: [dh, dw],
    group: m.options.groups,
  });
};

/** Eval-mode batch norm as BatchNormalization on the running statistics (not folded). */
const batchNorm: Emitter<BatchNormBase> = (scope, m, x) => {
  const c = m.numFeatures;
  if (m instanceof BatchNorm2d) expect(scope, m, x, 4, c);
  else if (x.shape.length !== 2 && x.shape.length !== 3 || x.shape[1] !== c) {
    expect(scope, m, x, 2, c);
  }
  if (!m.runningMean || !m.runningVar) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} keeps no running statistics (trackRunningStats: false), ` +
        "so even in eval mode it normalises with each batch's own statistics; an exported " +
        "graph would give a sample different results in different batches",
    );
  }
  const g = scope.graph;
  const weight = m.weight ?? new Float32Array(c).fill(1);
  const bias = m.bias ?? new Float32Array(c);
  return g.node(
    "BatchNormalization",
    scope.path,
    [
      x.name,
      g.floats(scope.at(m.weight ? "weight" : "unit_weight"), weight),
      g.floats(scope.at(m.bias ? "bias" : "zero_bias"), bias),
      g.floats(scope.at("running_mean"), m.runningMean),
      g.floats(scope.at("running_var"), m.runningVar),
    ],
    x.shape,
    { epsilon: { f: m.eps } },
  );
};

const linear: Emitter<Linear> = (scope, m, x) => {
  expect(scope, m, x, 2, m.inFeatures);
  const g = scope.graph;
  const inputs = [x.name, g.floats(scope.at("weight"), m.weight)];
  if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
  return g.node("Gemm", scope.path, inputs, [x.shape[0], m.outFeatures], { transB: 1 });
};

const maxPool: Emitter<MaxPool2d> = (scope, m, x) => {
  expect(scope, m, x, 4);
  const [h, w] = spatial(scope, m, x);
  const [kh, kw] = pair(m.kernelSize, "MaxPool2d kernel", 1);
  const [sh, sw] = pair(m.options.stride ?? [kh, kw], "MaxPool2d stride", 1);
  const [ph, pw] = pair(m.options.padding ?? 0, "MaxPool2d padding", 0);
  const ceil = m.options.ceilMode ?? false;
  const oh = outSize(h, kh, sh, ph, ceil), ow = outSize(w, kw, sw, pw, ceil);
  tooSmall(scope, m, x, oh, ow);
  // Ceil mode as extra end padding (which max pooling ignores) rather than
  // ceil_mode, whose last-window rule has differed between ONNX versions,
  // runtimes and PyTorch; explicit pads mean the same everywhere.
  const end = (size: number, k: number, s: number, p: number, o: number) =>
    o === outSize(size, k, s, p) ? p : (o - 1) * s + k - size - p;
  return scope.graph.node("MaxPool", scope.path, [x.name], [x.shape[0], x.shape[1], oh, ow], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [ph, pw, end(h, kh, sh, ph, oh), end(w, kw, sw, pw, ow)],
  });
};

const avgPool: Emitter<AvgPool2d> = (scope, m, x) => {
  expect(scope, m, x, 4);
  if (m.options.ceilMode) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} with ceilMode is not exported: ONNX divides the ` +
        "windows past the edge by another count than PyTorch does",
    );
  }
  const [h, w] = spatial(scope, m, x);
  const [kh, kw] = pair(m.kernelSize, "AvgPool2d kernel", 1);
  const [sh, sw] = pair(m.options.stride ?? [kh, kw], "AvgPool2d stride", 1);
  const [ph, pw] = pair(m.options.padding ?? 0, "AvgPool2d padding", 0);
  const oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
  tooSmall(scope, m, x, oh, ow);
  return scope.graph.node("AveragePool", scope.path, [x.name], [x.shape[0], x.shape[1], oh, ow], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [ph, pw, ph, pw],
    count_include_pad: (m.options.countIncludePad ?? true) ? 1 : 0,
  });
};

/** PyTorch's adaptive bins of `size` into `out` as an [out, size] averaging matrix. */
function binMatrix(size: number, out: number): Float32Array {
  const a = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor(i * size / out), stop = Math.ceil((i + 1) * size / out);
    for (let j = start; j < stop; j++) a[i * size + j] = 1 / (stop - start);
  }
  return a;
}

/**
 * ONNX has no adaptive pooling: GlobalAveragePool for 1 x 1, AveragePool
 * when the bins are equal, else the bins as two averaging matrices
 * (`A_h x A_w^T`, exact for any sizes, as AlexNet's 6 x 6 on small images).
 */
const adaptiveAvgPool: Emitter<AdaptiveAvgPool2d> = (scope, m, x) => {
  expect(scope, m, x, 4);
  const [h, w] = spatial(scope, m, x);
  // null keeps that input dimension (torch's None).
  const [oh, ow] = adaptiveSize("AdaptiveAvgPool2d", m.outputSize, h, w);
  const out = [x.shape[0], x.shape[1], oh, ow];
  const gr = scope.graph;
  if (oh === 1 && ow === 1) return gr.node("GlobalAveragePool", scope.path, [x.name], out);
  if (h % oh === 0 && w % ow === 0) {
    const kernel = [h / oh, w / ow];
    return gr.node("AveragePool", scope.path, [x.name], out, {
      kernel_shape: kernel,
      strides: kernel,
    });
  }
  const rows = gr.floats(scope.at("rows"), binMatrix(h, oh), [oh, h]);
  const colsT = binMatrix(w, ow); // [ow, w], needed as [w, ow]
  const cols = new Float32Array(w * ow);
  for (let i = 0; i < ow; i++) for (let j = 0; j < w; j++) cols[j * ow + i] = colsT[i * w + j];
  const byCols = gr.node("MatMul", scope.at("cols"), [
    x.name,
    gr.floats(scope.at("cols"), cols, [w, ow]),
  ], [x.shape[0], x.shape[1], h, ow]);
  return gr.node("MatMul", scope.path, [rows, byCols.name], out);
};

const flatten: Emitter<Flatten> = (scope, m, x) => {
  const r = x.shape.length;
  const start = m.startDim < 0 ? m.startDim + r : m.startDim;
  const end = m.endDim < 0 ? m.endDim + r : m.endDim;
  if (start < 0 || end >= r || start > end) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} cannot flatten dims ${m.startDim}..${m.endDim} ` +
        `of ${shapeText(x.shape)}`,
    );
  }
  return flattenValue(scope, x, start, end);
};

/** Flattens dims start..end of x: ONNX Flatten for [N, ...] -> [N, rest], else Reshape. */
export function flattenValue(scope: Scope, x: Value, start: number, end: number): Value {
  const merged = x.shape.slice(start, end + 1);
  const size: Dim = merged.every((d) => typeof d === "number")
    ? (merged as number[]).reduce((a, b) => a * b, 1)
    : merged.join("*");
  const shape = [...x.shape.slice(0, start), size, ...x.shape.slice(end + 1)];
  const gr = scope.graph;
  const name = scope.path || "flatten";
  if (start === 1 && end === x.shape.length - 1) {
    return gr.node("Flatten", name, [x.name], shape, { axis: 1 });
  }
  // Reshape: 0 copies a dimension (the symbolic batch), -1 is the merged one.
  const target = shape.map((d, i) => i < start ? 0 : i === start ? -1 : d as number);
  return gr.node("Reshape", name, [x.name, gr.int64s(`${name}.shape`, target)], shape);
}

const identity: Emitter = (_scope, _m, x) => x; // Dropout is the identity in eval mode

function unary(
  op: string,
  attrs: (m: Module) => Record<string, number | { f: number }> = () => ({}),
): Emitter {
  return (scope, m, x) => scope.graph.node(op, scope.path, [x.name], x.shape, attrs(m));
}

function softmax(op: string): Emitter<Softmax | LogSoftmax> {
  return (scope, m, x) => {
    const r = x.shape.length;
    const axis = m.dim < 0 ? m.dim + r : m.dim;
    if (axis < 0 || axis >= r) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: dim ${m.dim} is outside ${shapeText(x.shape)}`,
      );
    }
    return scope.graph.node(op, scope.path, [x.name], x.shape, { axis });
  };
}

const sequential: Emitter<Sequential> = (scope, m, x) => {
  for (let i = 0; i < m.length; i++) x = scope.child(String(i), m[i], x);
  return x;
};

/** The layer emitters, by exact class (a subclass may have changed forward). */
export const LAYERS = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [Sequential, sequential],
  [Conv2d, conv],
  [BatchNorm2d, batchNorm],
  [BatchNorm1d, batchNorm],
  [Linear, linear],
  [MaxPool2d, maxPool],
  [AvgPool2d, avgPool],
  [AdaptiveAvgPool2d, adaptiveAvgPool],
  [Flatten, flatten],
  [ReLU, unary("Relu")],
  [LeakyReLU, unary("LeakyRelu", (m) => ({ alpha: { f: (m as LeakyReLU).negativeSlope } }))],
  [Sigmoid, unary("Sigmoid")],
  [Tanh, unary("Tanh")],
  [Softmax, softmax("Softmax")],
  [LogSoftmax, softmax("LogSoftmax")],
  [Dropout, identity],
  [Dropout2d, identity],
  [Identity, identity],
]);
