/**
 * ONNX nodes for ConvNeXt, each read as its `forward`: a `CNBlock` is its
 * Sequential (the Permutes become Transposes, the channels-last LayerNorm a
 * LayerNormalization over the last axis, each Linear a MatMul and Add),
 * then a Mul by `layer_scale` [C, 1, 1] and an Add of the input (stochastic
 * depth is the identity in eval mode); `LayerNorm2d` is a
 * LayerNormalization between Transposes to channels-last and back, as
 * torchvision's forward permutes; the model ends in its AdaptiveAvgPool2d
 * and classifier (LayerNorm2d, Flatten, Linear).
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { LayerNorm2d } from "../layers/layer_norm_2d.ts";
import { ConvNeXt } from "../models/convnext.ts";
import { CNBlock, Permute } from "../models/convnext_blocks.ts";
import { checkInput } from "../models/input.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { expect, where } from "./shapes.ts";

/** Transpose of x to `perm` (a Permute's dims, or LayerNorm2d's), named `name`. */
function transpose(s: Scope, x: Value, perm: readonly number[], name: string): Value {
  return s.graph.node("Transpose", name, [x.name], perm.map((d) => x.shape[d]), {
    perm: [...perm],
  });
}

const convNeXt: Emitter<ConvNeXt> = (s, m, x) => {
  // The model's own input check (channels, smallest side), on the shape alone.
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, m.inputSpec);
  x = s.child("avgpool", m.avgpool, s.child("features", m.features, x));
  return s.child("classifier", m.classifier, x);
};

const cnBlock: Emitter<CNBlock> = (s, m, x) => {
  expect(s, m, x, 4, m.dim);
  const branch = s.child("block", m.block, x);
  if (branch.shape.join() !== x.shape.join()) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: branch [${branch.shape}] and input [${x.shape}] differ, ` +
        "so the residual cannot be added",
    );
  }
  const g = s.graph;
  const scaled = g.node("Mul", s.at("mul"), [
    g.floats(s.at("layer_scale"), m.layer_scale),
    branch.name,
  ], x.shape);
  const kept = s.child("stochastic_depth", m.stochastic_depth, scaled);
  return g.node("Add", s.at("add"), [kept.name, x.name], x.shape);
};

const permute: Emitter<Permute> = (s, m, x) => {
  const n = x.shape.length, dims = m.dims.map((d) => (d < 0 ? d + n : d));
  if (dims.length !== n || new Set(dims).size !== n || dims.some((d) => d < 0 || d >= n)) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: [${m.dims}] is not a permutation of its input's ${n} ` +
        "dimensions",
    );
  }
  return transpose(s, x, dims, s.path);
};

const layerNorm2d: Emitter<LayerNorm2d> = (s, m, x) => {
  const c = m.numChannels, g = s.graph;
  expect(s, m, x, 4, c);
  const last = transpose(s, x, [0, 2, 3, 1], s.at("to_last"));
  const scale = m.weight
    ? g.floats(s.at("weight"), m.weight)
    : g.floats(s.at("unit_weight"), new Float32Array(c).fill(1), [c]);
  const bias = m.bias
    ? g.floats(s.at("bias"), m.bias)
    : g.floats(s.at("zero_bias"), new Float32Array(c), [c]);
  const y = g.node("LayerNormalization", s.at("norm"), [last.name, scale, bias], last.shape, {
    axis: -1,
    epsilon: { f: m.eps },
  });
  return transpose(s, y, [0, 3, 1, 2], s.path);
};

/** The emitters of ConvNeXt, by class. */
export const CONVNEXT = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [ConvNeXt, convNeXt],
  [CNBlock, cnBlock],
  [Permute, permute],
  [LayerNorm2d, layerNorm2d],
]);
