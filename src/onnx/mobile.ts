/**
 * ONNX nodes for MobileNetV2 and EfficientNet, each read as its `forward`:
 * an inverted residual or MBConv block is its Sequential plus, where it has
 * the residual connection, an Add of the input (stochastic depth is the
 * identity in eval mode); squeeze-and-excitation multiplies its input by the
 * gate its children compute (a Mul broadcasting [N, C, 1, 1]); MobileNetV2
 * ends in GlobalAveragePool (torchvision's functional adaptive_avg_pool2d),
 * Flatten and the classifier. `Conv2dNormActivation` is a Sequential (its
 * own forward only fuses the same layers in evaluation) and goes through
 * the Sequential emitter.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { StochasticDepth } from "../layers/stochastic_depth.ts";
import { MobileNetV2 } from "../models/mobilenet.ts";
import { InvertedResidual } from "../models/mobilenet.ts";
import { EfficientNet, MBConv } from "../models/efficientnet.ts";
import { Conv2dNormActivation, SqueezeExcitation } from "../models/mobile_blocks.ts";
import { checkInput } from "../models/input.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { flattenValue, sequential } from "./layers.ts";
import { expect, where } from "./shapes.ts";

/** The model's own input check, on the shape alone (the batch may be symbolic). */
function checkShape(model: MobileNetV2 | EfficientNet, x: Value): void {
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, model.inputSpec);
}

/** x + branch: the residual add, named `name` under the block. */
function add(s: Scope, m: Module, x: Value, branch: Value, name: string): Value {
  if (x.shape.join() !== branch.shape.join()) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: branch [${branch.shape}] and input [${x.shape}] differ, ` +
        "so the residual cannot be added",
    );
  }
  return s.graph.node("Add", s.at(name), [x.name, branch.name], x.shape);
}

const mobileNetV2: Emitter<MobileNetV2> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("features", m.features, x);
  const pooled = s.graph.node("GlobalAveragePool", s.at("avgpool"), [x.name], [
    x.shape[0],
    x.shape[1],
    1,
    1,
  ]);
  return s.child("classifier", m.classifier, flattenValue(s, pooled, 1, 3));
};

const invertedResidual: Emitter<InvertedResidual> = (s, m, x) => {
  const out = s.child("conv", m.conv, x);
  return m.useResConnect ? add(s, m, x, out, "add") : out;
};

const efficientNet: Emitter<EfficientNet> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("avgpool", m.avgpool, s.child("features", m.features, x));
  return s.child("classifier", m.classifier, flattenValue(s, x, 1, x.shape.length - 1));
};

const mbConv: Emitter<MBConv> = (s, m, x) => {
  const out = s.child("block", m.block, x);
  if (!m.useResConnect) return out;
  return add(s, m, x, s.child("stochastic_depth", m.stochastic_depth, out), "add");
};

const squeezeExcitation: Emitter<SqueezeExcitation> = (s, m, x) => {
  expect(s, m, x, 4);
  let scale = s.child("avgpool", m.avgpool, x);
  scale = s.child("activation", m.activation, s.child("fc1", m.fc1, scale));
  scale = s.child("scale_activation", m.scale_activation, s.child("fc2", m.fc2, scale));
  return s.graph.node("Mul", s.at("mul"), [scale.name, x.name], x.shape);
};

/** StochasticDepth is the identity in eval mode, which the graph computes. */
const identity: Emitter = (_s, _m, x) => x;

/** The emitters of MobileNetV2 and EfficientNet, by class. */
export const MOBILE = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [MobileNetV2, mobileNetV2],
  [InvertedResidual, invertedResidual],
  [EfficientNet, efficientNet],
  [MBConv, mbConv],
  [SqueezeExcitation, squeezeExcitation],
  [Conv2dNormActivation, sequential],
  [StochasticDepth, identity],
]);
