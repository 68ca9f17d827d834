/**
 * ONNX nodes for the 3-D layers in eval mode: `Conv3d` (Conv, with a Pad
 * node first for reflect and replicate padding), `MaxPool3d`, `AvgPool3d`,
 * `AdaptiveAvgPool3d`, `AdaptiveMaxPool3d`, `BatchNorm3d`, `InstanceNorm3d`
 * and `Dropout3d` (the identity). ONNX's Conv, MaxPool, AveragePool and the
 * normalisations take 3-D kernels and volumes as they take 2-D ones; ceil
 * mode and torch's divisors are written as explicit pads, as pooling.ts
 * does for 2-D.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { AdaptiveAvgPool3d, AdaptiveMaxPool3d, AvgPool3d, MaxPool3d } from "../layers/pool3d.ts";
import { BatchNorm3d, InstanceNorm3d } from "../layers/norm3d.ts";
import { Dropout3d } from "../layers/dropout3d.ts";
import { paddingSides, triple } from "../tensor/ops/conv3d.ts";
import { adaptiveSize3d } from "../tensor/ops/pool3d.ts";
import { binMatrix, binMatrixT } from "./pooling.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import type { Dim } from "./proto.ts";
import { expect, outSize, spatial, where } from "./shapes.ts";

/** Throws when a window leaves no output in some dimension. */
function tooSmall3d(scope: Scope, m: Module, x: Value, out: number[]): void {
  if (out.some((o) => o < 1)) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: input [${x.shape.join(", ")}] is too small for it`,
    );
  }
}

/** ONNX Pad's modes for Conv3d's padding modes (ONNX's "wrap" came in opset 19). */
const PAD_MODES: Record<string, string | undefined> = { reflect: "reflect", replicate: "edge" };

const conv: Emitter<Conv3d> = (scope, m, x) => {
  expect(scope, m, x, 5, m.inChannels);
  let dhw = spatial(scope, m, x);
  const sides = paddingSides(m.padding, m.kernelSize, m.dilation, m.stride, "Conv3d");
  const g = scope.graph;
  let input = x, pads = [...sides.map((s) => s[0]), ...sides.map((s) => s[1])];
  if (m.paddingMode !== "zeros") {
    const mode = PAD_MODES[m.paddingMode];
    if (!mode) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: paddingMode "${m.paddingMode}" has no ONNX Pad mode ` +
          "in opset 17 (wrap came in 19); use reflect, replicate or zeros",
      );
    }
    dhw = dhw.map((v, i) => v + sides[i][0] + sides[i][1]);
    const amounts = g.int64s(scope.at("pads"), [0, 0, ...pads.slice(0, 3), 0, 0, ...pads.slice(3)]);
    input = g.node("Pad", scope.at("pad"), [x.name, amounts], [x.shape[0], x.shape[1], ...dhw], {
      mode,
    });
    pads = [0, 0, 0, 0, 0, 0];
  }
  const out = dhw.map((v, i) => {
    const span = v + pads[i] + pads[i + 3] - m.dilation[i] * (m.kernelSize[i] - 1) - 1;
    return Math.floor(span / m.stride[i]) + 1;
  });
  tooSmall3d(scope, m, x, out);
  const inputs = [input.name, g.floats(scope.at("weight"), m.weight)];
  if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
  return g.node("Conv", scope.path, inputs, [x.shape[0], m.outChannels, ...out], {
    kernel_shape: m.kernelSize,
    strides: m.stride,
    pads,
    dilations: m.dilation,
    group: m.groups,
  });
};

/** Output size with dilation and ceil mode (torch's pooling_output_shape). */
function poolOut(size: number, k: number, s: number, p: number, dil: number, ceil: boolean) {
  return outSize(size, dil * (k - 1) + 1, s, p, ceil);
}

/** A 3-D pool layer's windows: kernel, stride, padding, dilation, output per dimension. */
function windows(m: MaxPool3d | AvgPool3d, dhw: number[]) {
  const name = m.constructor.name;
  const k = triple(m.kernelSize, `${name} kernel`, 1);
  const s = triple(m.options.stride ?? k, `${name} stride`, 1);
  const p = triple(m.options.padding ?? 0, `${name} padding`, 0);
  const dil = triple((m.options as { dilation?: number }).dilation ?? 1, `${name} dilation`, 1);
  const ceil = m.options.ceilMode ?? false;
  const out = dhw.map((v, i) => poolOut(v, k[i], s[i], p[i], dil[i], ceil));
  return { k, s, p, dil, out };
}

const maxPool: Emitter<MaxPool3d> = (scope, m, x) => {
  expect(scope, m, x, 5);
  if (m.options.returnIndices) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: MaxPool3d with returnIndices is not exported (its ` +
        "indices are a second output, and the graph passes one tensor between layers); " +
        "export a model whose MaxPool3d gives no indices",
    );
  }
  const dhw = spatial(scope, m, x);
  const { k, s, p, dil, out } = windows(m, dhw);
  tooSmall3d(scope, m, x, out);
  // Ceil mode as extra end padding, which max pooling ignores.
  const end = out.map((o, i) =>
    o === poolOut(dhw[i], k[i], s[i], p[i], dil[i], false)
      ? p[i]
      : (o - 1) * s[i] + dil[i] * (k[i] - 1) + 1 - dhw[i] - p[i]
  );
  return scope.graph.node("MaxPool", scope.path, [x.name], [x.shape[0], x.shape[1], ...out], {
    kernel_shape: k,
    strides: s,
    pads: [...p, ...end],
    dilations: dil,
  });
};

/** torch's divisor per output position along one dimension. */
function divisors(size: number, k: number, s: number, p: number, out: number, include: boolean) {
  return Array.from({ length: out }, (_, o) => {
    const start = o * s - p, end = Math.min(start + k, size + p);
    return include ? end - start : Math.min(end, size) - Math.max(start, 0);
  });
}

/**
 * Average pooling with torch's divisors, as pooling.ts's 2-D emitter:
 * counted padding made real zeros first, ceil mode's overhang as uncounted
 * end pads. A `divisorOverride` then multiplies by each window's divisor
 * over the override (a constant of the output's shape).
 */
const avgPool: Emitter<AvgPool3d> = (scope, m, x) => {
  expect(scope, m, x, 5);
  const dhw = spatial(scope, m, x);
  const { k, s, p, out } = windows(m, dhw);
  tooSmall3d(scope, m, x, out);
  const include = m.options.countIncludePad ?? true;
  const over = out.map((o, i) => Math.max(0, (o - 1) * s[i] + k[i] - dhw[i] - 2 * p[i]));
  const g = scope.graph;
  const shape = [x.shape[0], x.shape[1], ...out];
  const override = m.options.divisorOverride ?? null;
  const name = override === null ? scope.path : scope.at("average");
  let y: Value;
  if (over.every((v) => v === 0)) {
    y = g.node("AveragePool", name, [x.name], shape, {
      kernel_shape: k,
      strides: s,
      pads: [...p, ...p],
      count_include_pad: include ? 1 : 0,
    });
  } else {
    let input = x, pads = [...p, ...p.map((v, i) => v + over[i])];
    if (include && p.some((v) => v > 0)) {
      const padded = [x.shape[0], x.shape[1], ...dhw.map((v, i) => v + 2 * p[i])];
      const amounts = g.int64s(scope.at("pads"), [0, 0, ...p, 0, 0, ...p]);
      input = g.node("Pad", scope.at("pad"), [x.name, amounts], padded);
      pads = [0, 0, 0, ...over];
    }
    y = g.node("AveragePool", name, [input.name], shape, {
      kernel_shape: k,
      strides: s,
      pads,
      count_include_pad: 0,
    });
  }
  if (override === null) return y;
  const [dd, dh, dw] = [0, 1, 2].map((i) => divisors(dhw[i], k[i], s[i], p[i], out[i], include));
  const scale = new Float32Array(out[0] * out[1] * out[2]);
  let at = 0;
  for (const a of dd) for (const b of dh) for (const c of dw) scale[at++] = (a * b * c) / override;
  return g.node(
    "Mul",
    scope.path,
    [y.name, g.floats(scope.at("divisor_scale"), scale, out)],
    shape,
  );
};

/**
 * PyTorch's adaptive average bins: GlobalAveragePool for 1 x 1 x 1,
 * AveragePool where the bins are equal, else the bins as averaging
 * matrices (width, then height, then depth as [od, D] on [N, C, D, oh*ow]).
 */
const adaptiveAvgPool: Emitter<AdaptiveAvgPool3d> = (scope, m, x) => {
  expect(scope, m, x, 5);
  const [d, h, w] = spatial(scope, m, x);
  const [od, oh, ow] = adaptiveSize3d("AdaptiveAvgPool3d", m.outputSize, [d, h, w]);
  const [n, c] = x.shape;
  const out = [n, c, od, oh, ow];
  const g = scope.graph;
  if (od === 1 && oh === 1 && ow === 1) {
    return g.node("GlobalAveragePool", scope.path, [x.name], out);
  }
  if (d % od === 0 && h % oh === 0 && w % ow === 0) {
    const kernel = [d / od, h / oh, w / ow];
    return g.node("AveragePool", scope.path, [x.name], out, {
      kernel_shape: kernel,
      strides: kernel,
    });
  }
  const cols = g.floats(scope.at("cols"), binMatrixT(w, ow), [w, ow]);
  const byCols = g.node("MatMul", scope.at("by_cols"), [x.name, cols], [n, c, d, h, ow]);
  const rows = g.floats(scope.at("rows"), binMatrix(h, oh), [oh, h]);
  const byRows = g.node("MatMul", scope.at("by_rows"), [rows, byCols.name], [n, c, d, oh, ow]);
  const flat: Dim[] = [n, c, d, oh * ow];
  const planes = g.node("Reshape", scope.at("planes"), [
    byRows.name,
    g.int64s(scope.at("planes_shape"), [0, 0, d, oh * ow]),
  ], flat);
  const depth = g.floats(scope.at("depths"), binMatrix(d, od), [od, d]);
  const byDepth = g.node("MatMul", scope.at("by_depths"), [depth, planes.name], [
    n,
    c,
    od,
    oh * ow,
  ]);
  return g.node("Reshape", scope.path, [
    byDepth.name,
    g.int64s(scope.at("out_shape"), [0, 0, od, oh, ow]),
  ], out);
};

/** GlobalMaxPool for 1 x 1 x 1, MaxPool where the bins tile the input; unequal bins refused. */
const adaptiveMaxPool: Emitter<AdaptiveMaxPool3d> = (scope, m, x) => {
  expect(scope, m, x, 5);
  if (m.returnIndices) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: AdaptiveMaxPool3d with returnIndices is not exported (its ` +
        "indices are a second output, and the graph passes one tensor between layers); " +
        "export a model whose AdaptiveMaxPool3d gives no indices",
    );
  }
  const dhw = spatial(scope, m, x);
  const o = adaptiveSize3d("AdaptiveMaxPool3d", m.outputSize, dhw);
  const out = [x.shape[0], x.shape[1], ...o];
  const g = scope.graph;
  if (o.every((v) => v === 1)) return g.node("GlobalMaxPool", scope.path, [x.name], out);
  if (dhw.some((v, i) => v % o[i] !== 0)) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: ${dhw.join(" x ")} to ${o.join(" x ")} has bins of ` +
        "unequal size, which ONNX's MaxPool cannot express; use an output size that divides " +
        "the input",
    );
  }
  const kernel = dhw.map((v, i) => v / o[i]);
  return g.node("MaxPool", scope.path, [x.name], out, { kernel_shape: kernel, strides: kernel });
};

/** The layer's `weight` and `bias`, or ones and zeros of [c] in their place. */
function affine(scope: Scope, m: { weight: Tensor | null; bias: Tensor | null }, c: number) {
  const g = scope.graph;
  return [
    m.weight
      ? g.floats(scope.at("weight"), m.weight)
      : g.floats(scope.at("unit_weight"), new Float32Array(c).fill(1)),
    m.bias
      ? g.floats(scope.at("bias"), m.bias)
      : g.floats(scope.at("zero_bias"), new Float32Array(c)),
  ];
}

/** BatchNormalization on running statistics. */
function onRunningStats(
  scope: Scope,
  m: BatchNorm3d | InstanceNorm3d,
  x: Value,
  mean: Tensor,
  variance: Tensor,
): Value {
  const g = scope.graph;
  return g.node(
    "BatchNormalization",
    scope.path,
    [
      x.name,
      ...affine(scope, m, mean.shape[0]),
      g.floats(scope.at("running_mean"), mean),
      g.floats(scope.at("running_var"), variance),
    ],
    x.shape,
    { epsilon: { f: m.eps } },
  );
}

const batchNorm: Emitter<BatchNorm3d> = (scope, m, x) => {
  expect(scope, m, x, 5, m.numFeatures);
  if (!m.runningMean || !m.runningVar) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} keeps no running statistics (trackRunningStats: false), ` +
        "so even in eval mode it normalises with each batch's own statistics; an exported " +
        "graph would give a sample different results in different batches",
    );
  }
  return onRunningStats(scope, m, x, m.runningMean, m.runningVar);
};

/** [N, C, D, H, W] only: a 4-D input would be one unbatched volume, its batch the channels. */
const instanceNorm: Emitter<InstanceNorm3d> = (scope, m, x) => {
  const { runningMean, runningVar } = m;
  expect(scope, m, x, 5, m.weight || runningMean ? m.numFeatures : undefined);
  if (runningMean && runningVar) return onRunningStats(scope, m, x, runningMean, runningVar);
  const channels = x.shape[1];
  if (typeof channels !== "number") {
    throw new Error(`exportOnnx: ${where(scope, m)} needs a fixed channel count`);
  }
  return scope.graph.node(
    "InstanceNormalization",
    scope.path,
    [
      x.name,
      ...affine(scope, m, channels),
    ],
    x.shape,
    { epsilon: { f: m.eps } },
  );
};

const identity: Emitter = (_scope, _m, x) => x; // Dropout3d is the identity in eval mode

/** The 3-D layer emitters, by class. */
export const LAYERS_3D = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [Conv3d, conv],
  [MaxPool3d, maxPool],
  [AvgPool3d, avgPool],
  [AdaptiveAvgPool3d, adaptiveAvgPool],
  [AdaptiveMaxPool3d, adaptiveMaxPool],
  [BatchNorm3d, batchNorm],
  [InstanceNorm3d, instanceNorm],
  [Dropout3d, identity],
]);
