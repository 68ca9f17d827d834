/**
 * ONNX nodes for the zoo models and the residual blocks: each reads as the
 * model's own `forward`, child by child, so the graph computes what the
 * model computes in eval mode.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { SimpleCNN } from "../models/simple_cnn.ts";
import { AlexNet } from "../models/alexnet.ts";
import { ResNet } from "../models/resnet.ts";
import { BasicBlock, Bottleneck } from "../models/resnet_blocks.ts";
import { checkInput } from "../models/input.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { flattenValue } from "./layers.ts";
import { where } from "./shapes.ts";

/** The model's own input check (channels, size), on the shape alone. */
function checkShape(model: SimpleCNN | AlexNet | ResNet, x: Value): void {
  // checkInput reads only `shape` and `ndim`; the batch may be symbolic here.
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, model.inputSpec);
}

/** forward's `flatten(x, 1)`. */
function flat(scope: Scope, x: Value): Value {
  return flattenValue(scope, x, 1, x.shape.length - 1);
}

const simpleCNN: Emitter<SimpleCNN> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("features", m.features, x);
  if (m.pool) x = s.child("pool", m.pool, x);
  return s.child("classifier", m.classifier, flat(s, x));
};

const alexNet: Emitter<AlexNet> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("avgpool", m.avgpool, s.child("features", m.features, x));
  return s.child("classifier", m.classifier, flat(s, x));
};

const resNet: Emitter<ResNet> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("conv1", m.conv1, x);
  x = s.child("maxpool", m.maxpool, s.child("relu", m.relu, s.child("bn1", m.bn1, x)));
  for (const name of ["layer1", "layer2", "layer3", "layer4"] as const) {
    x = s.child(name, m[name], x);
  }
  return s.child("fc", m.fc, flat(s, s.child("avgpool", m.avgpool, x)));
};

/** relu(out + shortcut(x)): the residual add. */
function residual(s: Scope, m: BasicBlock | Bottleneck, x: Value, out: Value): Value {
  const identity = m.downsample ? s.child("downsample", m.downsample, x) : x;
  if (identity.shape.join() !== out.shape.join()) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: branch [${out.shape}] and shortcut ` +
        `[${identity.shape}] differ`,
    );
  }
  const sum = s.graph.node("Add", s.at("add"), [out.name, identity.name], out.shape);
  return s.child("relu", m.relu, sum);
}

const basicBlock: Emitter<BasicBlock> = (s, m, x) => {
  let out = s.child("relu", m.relu, s.child("bn1", m.bn1, s.child("conv1", m.conv1, x)));
  out = s.child("bn2", m.bn2, s.child("conv2", m.conv2, out));
  return residual(s, m, x, out);
};

const bottleneck: Emitter<Bottleneck> = (s, m, x) => {
  let out = s.child("relu", m.relu, s.child("bn1", m.bn1, s.child("conv1", m.conv1, x)));
  out = s.child("relu", m.relu, s.child("bn2", m.bn2, s.child("conv2", m.conv2, out)));
  out = s.child("bn3", m.bn3, s.child("conv3", m.conv3, out));
  return residual(s, m, x, out);
};

/** The model emitters, by class. */
export const MODELS = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [SimpleCNN, simpleCNN],
  [AlexNet, alexNet],
  [ResNet, resNet],
  [BasicBlock, basicBlock],
  [Bottleneck, bottleneck],
]);
