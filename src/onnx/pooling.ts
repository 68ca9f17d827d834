/**
 * ONNX nodes for the pooling layers. PyTorch's ceil mode and its divisors
 * are written as explicit pads, which mean the same in every ONNX version
 * and runtime, rather than as `ceil_mode`, whose last-window rule has
 * differed between them.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { pair } from "../tensor/ops/conv.ts";
import { adaptiveSize, avgDivisors } from "../tensor/ops/pool.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { expect, outSize, spatial, tooSmall, where } from "./shapes.ts";

/**
 * MaxPool; ceil mode as extra end padding, dilation as ONNX's `dilations`
 * (a window spanning d (k - 1) + 1). The indices of `returnIndices` are
 * refused: the graph carries one tensor from layer to layer.
 */
const maxPool: Emitter<MaxPool2d> = (scope, m, x) => {
  expect(scope, m, x, 4);
  if (m.options.returnIndices) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: MaxPool2d with returnIndices is not exported (its ` +
        "indices are a second output, and the graph passes one tensor between layers); " +
        "export a model whose MaxPool2d gives no indices",
    );
  }
  const [h, w] = spatial(scope, m, x);
  const [kh, kw] = pair(m.kernelSize, "MaxPool2d kernel", 1);
  const [sh, sw] = pair(m.options.stride ?? [kh, kw], "MaxPool2d stride", 1);
  const [ph, pw] = pair(m.options.padding ?? 0, "MaxPool2d padding", 0);
  const [dh, dw] = pair(m.options.dilation ?? 1, "MaxPool2d dilation", 1);
  const ceil = m.options.ceilMode ?? false;
  const spanH = dh * (kh - 1) + 1, spanW = dw * (kw - 1) + 1;
  const oh = outSize(h, spanH, sh, ph, ceil), ow = outSize(w, spanW, sw, pw, ceil);
  tooSmall(scope, m, x, oh, ow);
  // Ceil mode as extra end padding, which max pooling ignores.
  const end = (size: number, k: number, s: number, p: number, o: number) =>
    o === outSize(size, k, s, p) ? p : (o - 1) * s + k - size - p;
  return scope.graph.node("MaxPool", scope.path, [x.name], [x.shape[0], x.shape[1], oh, ow], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [ph, pw, end(h, spanH, sh, ph, oh), end(w, spanW, sw, pw, ow)],
    ...(dh === 1 && dw === 1 ? {} : { dilations: [dh, dw] }),
  });
};

/**
 * Average pooling with PyTorch's divisors. A window is divided by its
 * elements inside the input, or with `countIncludePad` inside the input
 * and its padding, but never by what ceil mode's last window hangs past
 * the padding. So the overhang becomes extra end pads under
 * `count_include_pad = 0`, and counted padding is made real zeros first
 * (a Pad node) so that the divisor counts it.
 */
const avgPool: Emitter<AvgPool2d> = (scope, m, x) => {
  expect(scope, m, x, 4);
  const [h, w] = spatial(scope, m, x);
  const [kh, kw] = pair(m.kernelSize, "AvgPool2d kernel", 1);
  const [sh, sw] = pair(m.options.stride ?? [kh, kw], "AvgPool2d stride", 1);
  const [ph, pw] = pair(m.options.padding ?? 0, "AvgPool2d padding", 0);
  const ceil = m.options.ceilMode ?? false;
  const oh = outSize(h, kh, sh, ph, ceil), ow = outSize(w, kw, sw, pw, ceil);
  tooSmall(scope, m, x, oh, ow);
  const include = m.options.countIncludePad ?? true;
  const overhang = (size: number, k: number, s: number, p: number, o: number) =>
    Math.max(0, (o - 1) * s + k - size - 2 * p);
  const eh = overhang(h, kh, sh, ph, oh), ew = overhang(w, kw, sw, pw, ow);
  const g = scope.graph;
  const out = [x.shape[0], x.shape[1], oh, ow];
  const attrs = { kernel_shape: [kh, kw], strides: [sh, sw] };
  const override = m.options.divisorOverride ?? null;
  const name = override === null ? scope.path : scope.at("average");
  let y: Value;
  if (eh === 0 && ew === 0) {
    y = g.node("AveragePool", name, [x.name], out, {
      ...attrs,
      pads: [ph, pw, ph, pw],
      count_include_pad: include ? 1 : 0,
    });
  } else {
    let input = x, pads = [ph, pw, ph + eh, pw + ew];
    if (include && (ph > 0 || pw > 0)) {
      const padded = [x.shape[0], x.shape[1], h + 2 * ph, w + 2 * pw];
      const amounts = g.int64s(scope.at("pads"), [0, 0, ph, pw, 0, 0, ph, pw]);
      input = g.node("Pad", scope.at("pad"), [x.name, amounts], padded);
      pads = [0, 0, eh, ew];
    }
    y = g.node("AveragePool", name, [input.name], out, { ...attrs, pads, count_include_pad: 0 });
  }
  if (override === null) return y;
  // divisorOverride: each mean times its window's divisor over the override (as layers_3d.ts).
  const dh = avgDivisors(h, kh, sh, ph, oh, include), dw = avgDivisors(w, kw, sw, pw, ow, include);
  const scale = Float32Array.from(dh.flatMap((a) => dw.map((b) => (a * b) / override)));
  const factors = g.floats(scope.at("divisor_scale"), scale, [oh, ow]);
  return g.node("Mul", scope.path, [y.name, factors], out);
};

/** PyTorch's adaptive bins of `size` into `out` as an [out, size] averaging matrix. */
export function binMatrix(size: number, out: number): Float32Array {
  const a = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor(i * size / out), stop = Math.ceil((i + 1) * size / out);
    for (let j = start; j < stop; j++) a[i * size + j] = 1 / (stop - start);
  }
  return a;
}

/** The transpose of `binMatrix(size, out)`: [size, out], to multiply rows on the right. */
export function binMatrixT(size: number, out: number): Float32Array {
  const a = binMatrix(size, out), t = new Float32Array(size * out);
  for (let i = 0; i < out; i++) for (let j = 0; j < size; j++) t[j * out + i] = a[i * size + j];
  return t;
}

/**
 * x [N, C, h, w] averaged into PyTorch's adaptive [oh, ow] bins. ONNX has
 * no adaptive pooling: GlobalAveragePool for 1 x 1, AveragePool when the
 * bins are equal, else the bins as two averaging matrices (`A_h x A_w^T`,
 * exact for any sizes, as AlexNet's 6 x 6 on small images).
 */
export function adaptiveAverage(scope: Scope, x: Value, oh: number, ow: number): Value {
  const [h, w] = x.shape.slice(2) as number[];
  const out = [x.shape[0], x.shape[1], oh, ow];
  const g = scope.graph;
  if (oh === 1 && ow === 1) return g.node("GlobalAveragePool", scope.path, [x.name], out);
  if (h % oh === 0 && w % ow === 0) {
    const kernel = [h / oh, w / ow];
    return g.node("AveragePool", scope.path, [x.name], out, {
      kernel_shape: kernel,
      strides: kernel,
    });
  }
  const rows = g.floats(scope.at("rows"), binMatrix(h, oh), [oh, h]);
  const cols = g.floats(scope.at("cols"), binMatrixT(w, ow), [w, ow]);
  const byCols = g.node("MatMul", scope.at("by_cols"), [x.name, cols], [
    x.shape[0],
    x.shape[1],
    h,
    ow,
  ]);
  return g.node("MatMul", scope.path, [rows, byCols.name], out);
}

const adaptiveAvgPool: Emitter<AdaptiveAvgPool2d> = (scope, m, x) => {
  expect(scope, m, x, 4);
  spatial(scope, m, x);
  // null keeps that input dimension (torch's None); spatial() made h and w numbers.
  const [h, w] = [x.shape[2] as number, x.shape[3] as number];
  const [oh, ow] = adaptiveSize("AdaptiveAvgPool2d", m.outputSize, h, w);
  return adaptiveAverage(scope, x, oh, ow);
};

/**
 * ONNX has no adaptive max pooling: GlobalMaxPool for 1 x 1, MaxPool with
 * kernel = stride where the bins tile the input evenly; unequal bins are
 * refused.
 */
const adaptiveMaxPool: Emitter<AdaptiveMaxPool2d> = (scope, m, x) => {
  expect(scope, m, x, 4);
  if (m.returnIndices) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: AdaptiveMaxPool2d with returnIndices is not exported (its ` +
        "indices are a second output, and the graph passes one tensor between layers); " +
        "export a model whose AdaptiveMaxPool2d gives no indices",
    );
  }
  const [h, w] = spatial(scope, m, x);
  const [oh, ow] = adaptiveSize("AdaptiveMaxPool2d", m.outputSize, h, w);
  const out = [x.shape[0], x.shape[1], oh, ow];
  const g = scope.graph;
  if (oh === 1 && ow === 1) return g.node("GlobalMaxPool", scope.path, [x.name], out);
  if (h % oh !== 0 || w % ow !== 0) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: ${h} x ${w} to ${oh} x ${ow} has bins of unequal size, ` +
        "which ONNX's MaxPool cannot express; use an output size that divides the input",
    );
  }
  const kernel = [h / oh, w / ow];
  return g.node("MaxPool", scope.path, [x.name], out, { kernel_shape: kernel, strides: kernel });
};

/** The pooling emitters, by class. */
export const POOLING = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [MaxPool2d, maxPool],
  [AvgPool2d, avgPool],
  [AdaptiveAvgPool2d, adaptiveAvgPool],
  [AdaptiveMaxPool2d, adaptiveMaxPool],
]);
