/**
 * ONNX nodes for VGG and SqueezeNet, each read as its `forward`: VGG is its
 * features, the adaptive 7 x 7 average pool, Flatten and the classifier;
 * SqueezeNet its features, the classifier (ending in the adaptive 1 x 1
 * pool) and Flatten; a Fire module its squeeze convolution and ReLU, then
 * the two expand convolutions with their ReLUs, concatenated on the
 * channels.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { VGG } from "../models/vgg.ts";
import { Fire, SqueezeNet } from "../models/squeezenet.ts";
import { checkInput } from "../models/input.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Value } from "./graph.ts";
import { flattenValue } from "./layers.ts";
import { expect, where } from "./shapes.ts";

/** The model's own input check (channels, size), on the shape alone (the batch may be symbolic). */
function checkShape(model: VGG | SqueezeNet, x: Value): void {
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, model.inputSpec);
}

const vgg: Emitter<VGG> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("avgpool", m.avgpool, s.child("features", m.features, x));
  return s.child("classifier", m.classifier, flattenValue(s, x, 1, x.shape.length - 1));
};

const squeezeNet: Emitter<SqueezeNet> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("classifier", m.classifier, s.child("features", m.features, x));
  return flattenValue(s, x, 1, x.shape.length - 1);
};

const fire: Emitter<Fire> = (s, m, x) => {
  expect(s, m, x, 4);
  const squeezed = s.child(
    "squeeze_activation",
    m.squeeze_activation,
    s.child("squeeze", m.squeeze, x),
  );
  const a = s.child(
    "expand1x1_activation",
    m.expand1x1_activation,
    s.child("expand1x1", m.expand1x1, squeezed),
  );
  const b = s.child(
    "expand3x3_activation",
    m.expand3x3_activation,
    s.child("expand3x3", m.expand3x3, squeezed),
  );
  if (a.shape.length !== 4 || a.shape.some((d, i) => i !== 1 && d !== b.shape[i])) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: the expand branches give [${a.shape}] and [${b.shape}], ` +
        "which cannot be concatenated along the channels",
    );
  }
  const shape = [
    a.shape[0],
    (a.shape[1] as number) + (b.shape[1] as number),
    a.shape[2],
    a.shape[3],
  ];
  return s.graph.node("Concat", s.at("cat"), [a.name, b.name], shape, { axis: 1 });
};

/** The emitters of VGG, SqueezeNet and Fire, by class. */
export const VGG_SQUEEZENET = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [VGG, vgg],
  [SqueezeNet, squeezeNet],
  [Fire, fire],
]);
