/**
 * ONNX nodes for the normalisation layers in eval mode. Batch norm, and
 * instance norm with running statistics, normalise with those statistics
 * (BatchNormalization, not folded into the convolution); layer, group and
 * plain instance norm use each sample's own (LayerNormalization,
 * InstanceNormalization). Learned parameters keep their state-dict names;
 * where a layer has none, unit scales and zero shifts stand in.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { BatchNorm1d } from "../layers/batchnorm1d.ts";
import type { BatchNormBase } from "../layers/batchnorm_base.ts";
import { InstanceNorm1d, InstanceNorm2d } from "../layers/instance_norm.ts";
import { GroupNorm, LayerNorm } from "../layers/norm_layers.ts";
import { type Emitter, type Scope, shapeText, type Value } from "./graph.ts";
import type { Dim } from "./proto.ts";
import { expect, where } from "./shapes.ts";

/** The layer's `weight` and `bias`, or ones and zeros of `dims` in their place. */
function affine(
  scope: Scope,
  m: { weight: Tensor | null; bias: Tensor | null },
  dims: readonly number[],
): [string, string] {
  const g = scope.graph, n = dims.reduce((a, b) => a * b, 1);
  return [
    m.weight
      ? g.floats(scope.at("weight"), m.weight)
      : g.floats(scope.at("unit_weight"), new Float32Array(n).fill(1), dims),
    m.bias
      ? g.floats(scope.at("bias"), m.bias)
      : g.floats(scope.at("zero_bias"), new Float32Array(n), dims),
  ];
}

/** BatchNormalization of x on the layer's running statistics. */
function onRunningStats(
  scope: Scope,
  m: { weight: Tensor | null; bias: Tensor | null; eps: number },
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
      ...affine(scope, m, [mean.shape[0]]),
      g.floats(scope.at("running_mean"), mean),
      g.floats(scope.at("running_var"), variance),
    ],
    x.shape,
    { epsilon: { f: m.eps } },
  );
}

const batchNorm: Emitter<BatchNormBase> = (scope, m, x) => {
  expect(scope, m, x, m instanceof BatchNorm2d ? 4 : [2, 3], m.numFeatures);
  if (!m.runningMean || !m.runningVar) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} keeps no running statistics (trackRunningStats: false), ` +
        "so even in eval mode it normalises with each batch's own statistics; an exported " +
        "graph would give a sample different results in different batches",
    );
  }
  return onRunningStats(scope, m, x, m.runningMean, m.runningVar);
};

/**
 * InstanceNorm1d takes [N, C, L] and InstanceNorm2d [N, C, H, W]; one rank
 * less is one unbatched sample to them, whose "channels" here would be the
 * batch, so that is refused rather than exported.
 */
const instanceNorm: Emitter<InstanceNorm1d | InstanceNorm2d> = (scope, m, x) => {
  const rank = m instanceof InstanceNorm1d ? 3 : 4;
  if (x.shape.length === rank - 1) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: its input would be ${shapeText(x.shape)}, which it ` +
        "takes as one unbatched sample, normalising across the batch; give it a batched " +
        `input of rank ${rank}`,
    );
  }
  const { runningMean, runningVar } = m;
  const c = m.weight || runningMean ? m.numFeatures : undefined;
  expect(scope, m, x, rank, c);
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
      ...affine(scope, m, [channels]),
    ],
    x.shape,
    { epsilon: { f: m.eps } },
  );
};

/** LayerNormalization over the trailing `normalizedShape`. */
const layerNorm: Emitter<LayerNorm> = (scope, m, x) => {
  const k = m.normalizedShape.length;
  const trailing = x.shape.slice(-k);
  if (x.shape.length < k || trailing.join() !== m.normalizedShape.join()) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} normalises the trailing ${
        shapeText(m.normalizedShape)
      } of its input, but its input would be ${shapeText(x.shape)}`,
    );
  }
  return scope.graph.node(
    "LayerNormalization",
    scope.path,
    [
      x.name,
      ...affine(scope, m, m.normalizedShape),
    ],
    x.shape,
    { axis: -k, epsilon: { f: m.eps } },
  );
};

/**
 * ONNX's GroupNormalization came in opset 18 (and scaled per group until
 * 21), so: [N, C, ...] as [N, G, rest], InstanceNormalization of each
 * group, back to the input's shape, then the per-channel weight and bias.
 */
const groupNorm: Emitter<GroupNorm> = (scope, m, x) => {
  const rank = x.shape.length;
  expect(scope, m, x, rank >= 2 ? rank : 2, m.numChannels);
  const g = scope.graph, groups = m.numGroups;
  const rest = x.shape.slice(1);
  const perGroup: Dim = rest.every((d) => typeof d === "number")
    ? (rest as number[]).reduce((a, b) => a * b, 1) / groups
    : `${rest.join("*")}/${groups}`;
  const groupedShape = [x.shape[0], groups, perGroup];
  const grouped = g.node("Reshape", scope.at("grouped"), [
    x.name,
    g.int64s(scope.at("grouped_shape"), [0, groups, -1]),
  ], groupedShape);
  const normed = g.node(
    "InstanceNormalization",
    scope.at("normalized"),
    [
      grouped.name,
      g.floats(scope.at("group_scale"), new Float32Array(groups).fill(1)),
      g.floats(scope.at("group_shift"), new Float32Array(groups)),
    ],
    groupedShape,
    { epsilon: { f: m.eps } },
  );
  const shape = g.node("Shape", scope.at("input_shape"), [x.name], [rank]);
  const name = m.weight || m.bias ? scope.at("ungrouped") : scope.path;
  let y = g.node("Reshape", name, [normed.name, shape.name], x.shape);
  // [C] broadcast over [N, C, ...]: as [C, 1, ...].
  const perChannel = (key: string, t: Tensor) =>
    g.floats(scope.at(key), t, [m.numChannels, ...Array(rank - 2).fill(1)]);
  if (m.weight) {
    const last = !m.bias;
    y = g.node("Mul", last ? scope.path : scope.at("scaled"), [
      y.name,
      perChannel("weight", m.weight),
    ], x.shape);
  }
  if (m.bias) y = g.node("Add", scope.path, [y.name, perChannel("bias", m.bias)], x.shape);
  return y;
};

/** The normalisation emitters, by class. */
export const NORMS = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [BatchNorm2d, batchNorm],
  [BatchNorm1d, batchNorm],
  [InstanceNorm1d, instanceNorm],
  [InstanceNorm2d, instanceNorm],
  [LayerNorm, layerNorm],
  [GroupNorm, groupNorm],
]);
