/**
 * ONNX nodes for MONAI's 3-D ResNet (`models.ResNet3d`) and its blocks, read
 * as their `forward`: the stem (its max-pool left out with `noMaxPool`),
 * the four stages, GlobalAveragePool through `avgpool`, Flatten and, where
 * the model has one, `fc`. A block adds its shortcut and applies the ReLU;
 * shortcut "A" (`ZeroPadShortcut`) is an AveragePool of kernel 1 with the
 * stride and a Pad of zeros along the channels. The layers themselves go
 * through layers_3d.ts.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { checkVolume, ResNet3d } from "../models/resnet3d.ts";
import { ResNet3dBlock, ResNet3dBottleneck, ZeroPadShortcut } from "../models/resnet3d_blocks.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { flattenValue } from "./layers.ts";
import { expect, spatial, where } from "./shapes.ts";

const resNet3d: Emitter<ResNet3d> = (s, m, x) => {
  // The model's own input check, on the shape alone (the batch may be symbolic).
  checkVolume(x.shape, m.inputSpec);
  x = s.child("relu", m.relu, s.child("bn1", m.bn1, s.child("conv1", m.conv1, x)));
  if (!m.options.noMaxPool) x = s.child("maxpool", m.maxpool, x);
  for (const name of ["layer1", "layer2", "layer3", "layer4"] as const) {
    x = s.child(name, m[name], x);
  }
  x = s.child("avgpool", m.avgpool, x);
  x = flattenValue(s, x, 1, x.shape.length - 1);
  return m.fc ? s.child("fc", m.fc, x) : x;
};

/** relu(out + shortcut(x)): the residual add. */
function residual(s: Scope, m: ResNet3dBlock | ResNet3dBottleneck, x: Value, out: Value): Value {
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

const block: Emitter<ResNet3dBlock> = (s, m, x) => {
  let out = s.child("relu", m.relu, s.child("bn1", m.bn1, s.child("conv1", m.conv1, x)));
  out = s.child("bn2", m.bn2, s.child("conv2", m.conv2, out));
  return residual(s, m, x, out);
};

const bottleneck: Emitter<ResNet3dBottleneck> = (s, m, x) => {
  let out = s.child("relu", m.relu, s.child("bn1", m.bn1, s.child("conv1", m.conv1, x)));
  out = s.child("relu", m.relu, s.child("bn2", m.bn2, s.child("conv2", m.conv2, out)));
  out = s.child("bn3", m.bn3, s.child("conv3", m.conv3, out));
  return residual(s, m, x, out);
};

const zeroPadShortcut: Emitter<ZeroPadShortcut> = (s, m, x) => {
  expect(s, m, x, 5);
  const dhw = spatial(s, m, x);
  const c = x.shape[1] as number;
  if (c > m.planes) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: input ${x.shape[1]} channels exceed its ${m.planes}`,
    );
  }
  const g = s.graph;
  const k = m.stride;
  const out = dhw.map((v) => Math.floor((v - 1) / k) + 1);
  if (k !== 1) {
    x = g.node("AveragePool", s.at("pool"), [x.name], [x.shape[0], c, ...out], {
      kernel_shape: [1, 1, 1],
      strides: [k, k, k],
    });
  }
  const pads = g.int64s(s.at("pads"), [0, 0, 0, 0, 0, 0, m.planes - c, 0, 0, 0]);
  return g.node("Pad", s.path, [x.name, pads], [x.shape[0], m.planes, ...out]);
};

/** The 3-D ResNet emitters, by class. */
export const RESNET3D = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [ResNet3d, resNet3d],
  [ResNet3dBlock, block],
  [ResNet3dBottleneck, bottleneck],
  [ZeroPadShortcut, zeroPadShortcut],
]);
