/**
 * ONNX nodes for MONAI's DenseNet for volumes (`models.DenseNet3d`), read as
 * its `forward`: `features`, then `class_layers` (ReLU, GlobalAveragePool,
 * Flatten, Gemm). A dense layer is its `layers` Sequential followed by a
 * Concat of its input and their output along the channels (named
 * `<layer>.cat`); dense blocks and transitions are `nn.Sequential`s and go
 * through the Sequential emitter, the layers themselves through
 * layers_3d.ts.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { checkVolumeSize, DenseNet3d } from "../models/densenet3d.ts";
import { DenseLayer3d } from "../models/densenet3d_blocks.ts";
import type { Emitter } from "./graph.ts";
import { expect, spatial, where } from "./shapes.ts";

const denseNet3d: Emitter<DenseNet3d> = (s, m, x) => {
  // The model's own input check, on the shape alone (the batch may be symbolic).
  checkVolumeSize(x.shape, m.inputSpec);
  x = s.child("features", m.features, x);
  return s.child("class_layers", m.class_layers, x);
};

const denseLayer3d: Emitter<DenseLayer3d> = (s, m, x) => {
  expect(s, m, x, 5);
  const dhw = spatial(s, m, x);
  const y = s.child("layers", m.layers, x);
  if (y.shape.length !== 5 || y.shape.slice(2).join() !== dhw.join()) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: cannot concatenate its layers' output ` +
        `[${y.shape}] with its input [${x.shape}] along the channels`,
    );
  }
  const channels = (x.shape[1] as number) + (y.shape[1] as number);
  const shape = [x.shape[0], channels, ...dhw];
  return s.graph.node("Concat", s.at("cat"), [x.name, y.name], shape, { axis: 1 });
};

/** The 3-D DenseNet emitters, by class. */
export const DENSENET3D = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [DenseNet3d, denseNet3d],
  [DenseLayer3d, denseLayer3d],
]);
