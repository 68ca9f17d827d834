/**
 * ONNX nodes for DenseNet, read as its `forward`: a dense block concatenates
 * (Concat on the channels) its input with every earlier layer's output
 * before each layer and at its end; a dense layer is its six children in
 * order (its dropout is the identity in eval mode); the model ends in ReLU,
 * GlobalAveragePool, Flatten and the classifier. Transitions are
 * `nn.Sequential`s and go through the Sequential emitter.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { DenseNet } from "../models/densenet.ts";
import { DenseBlock, DenseLayer } from "../models/densenet_blocks.ts";
import { checkInput } from "../models/input.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { flattenValue } from "./layers.ts";
import { expect, spatial, where } from "./shapes.ts";

/** Concat of `parts` along the channels, named `name`; they must agree elsewhere. */
function concat(s: Scope, m: Module, parts: readonly Value[], name: string): Value {
  const [first] = parts;
  for (const p of parts) {
    const same = p.shape.length === 4 &&
      p.shape.every((d, i) => i === 1 || d === first.shape[i]);
    if (!same) {
      throw new Error(
        `exportOnnx: ${where(s, m)}: cannot concatenate [${p.shape}] with [${first.shape}] ` +
          "along the channels (the other dimensions differ)",
      );
    }
  }
  const channels = parts.reduce((n, p) => n + (p.shape[1] as number), 0);
  const shape = [first.shape[0], channels, first.shape[2], first.shape[3]];
  return s.graph.node("Concat", s.at(name), parts.map((p) => p.name), shape, { axis: 1 });
}

const denseNet: Emitter<DenseNet> = (s, m, x) => {
  // The model's own input check, on the shape alone (the batch may be symbolic).
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, m.inputSpec);
  x = s.child("features", m.features, x);
  const g = s.graph;
  x = g.node("Relu", s.at("relu"), [x.name], x.shape);
  x = g.node("GlobalAveragePool", s.at("avgpool"), [x.name], [x.shape[0], x.shape[1], 1, 1]);
  return s.child("classifier", m.classifier, flattenValue(s, x, 1, 3));
};

const denseBlock: Emitter<DenseBlock> = (s, m, x) => {
  expect(s, m, x, 4);
  spatial(s, m, x);
  const features = [x];
  for (const [name, layer] of m.namedChildren()) {
    const input = features.length === 1 ? x : concat(s, m, features, `${name}.cat`);
    features.push(s.child(name, layer, input));
  }
  return concat(s, m, features, "cat");
};

const denseLayer: Emitter<DenseLayer> = (s, m, x) => {
  x = s.child("relu1", m.relu1, s.child("norm1", m.norm1, x));
  x = s.child("conv1", m.conv1, x);
  x = s.child("relu2", m.relu2, s.child("norm2", m.norm2, x));
  return s.child("conv2", m.conv2, x);
};

/** The DenseNet emitters, by class. */
export const DENSENET = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [DenseNet, denseNet],
  [DenseBlock, denseBlock],
  [DenseLayer, denseLayer],
]);
