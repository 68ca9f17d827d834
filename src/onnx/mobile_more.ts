/**
 * ONNX nodes for MobileNetV3 and ShuffleNetV2, each read as its `forward`.
 * MobileNetV3's block is its Sequential plus, with the residual connection,
 * an Add of the input (its hard-sigmoid squeeze-and-excitation goes through
 * mobile.ts's emitter). A ShuffleNet unit at stride 1 splits the channels
 * in halves (two Slices), runs `branch2` on the second and concatenates;
 * at stride 2 it concatenates both branches; then the channel shuffle of
 * 2 groups is Reshape [N, 2, C/2, H, W], Transpose and Reshape back. The
 * mean over height and width is a ReduceMean.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { InvertedResidualV3, MobileNetV3 } from "../models/mobilenet_v3.ts";
import { ShuffleInvertedResidual, ShuffleNetV2 } from "../models/shufflenet.ts";
import { checkInput } from "../models/input.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { flattenValue } from "./layers.ts";
import { expect, where } from "./shapes.ts";

/** The model's own input check, on the shape alone (the batch may be symbolic). */
function checkShape(model: MobileNetV3 | ShuffleNetV2, x: Value): void {
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, model.inputSpec);
}

const mobileNetV3: Emitter<MobileNetV3> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("avgpool", m.avgpool, s.child("features", m.features, x));
  return s.child("classifier", m.classifier, flattenValue(s, x, 1, x.shape.length - 1));
};

const invertedResidualV3: Emitter<InvertedResidualV3> = (s, m, x) => {
  const out = s.child("block", m.block, x);
  if (!m.useResConnect) return out;
  if (x.shape.join() !== out.shape.join()) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: branch [${out.shape}] and input [${x.shape}] differ, ` +
        "so the residual cannot be added",
    );
  }
  return s.graph.node("Add", s.at("add"), [x.name, out.name], x.shape);
};

/** Channels [from, to) of x [N, C, H, W]. */
function channels(s: Scope, x: Value, from: number, to: number, name: string): Value {
  const g = s.graph, at = s.at(name);
  return g.node("Slice", at, [
    x.name,
    g.int64s(`${at}.starts`, [from]),
    g.int64s(`${at}.ends`, [to]),
    g.int64s(`${at}.axes`, [1]),
  ], [x.shape[0], to - from, x.shape[2], x.shape[3]]);
}

const shuffleUnit: Emitter<ShuffleInvertedResidual> = (s, m, x) => {
  expect(s, m, x, 4);
  const g = s.graph;
  let a: Value, b: Value;
  if (m.stride === 1) {
    const c = x.shape[1] as number, half = Math.ceil(c / 2); // torch.chunk's sizes
    a = channels(s, x, 0, half, "x1");
    b = s.child("branch2", m.branch2, channels(s, x, half, c, "x2"));
  } else {
    a = s.child("branch1", m.branch1, x);
    b = s.child("branch2", m.branch2, x);
  }
  if (a.shape.slice(2).join() !== b.shape.slice(2).join()) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: branches [${a.shape}] and [${b.shape}] differ in size`,
    );
  }
  const c = (a.shape[1] as number) + (b.shape[1] as number);
  const [n, , h, w] = a.shape;
  const both = g.node("Concat", s.at("cat"), [a.name, b.name], [n, c, h, w], { axis: 1 });
  if (c % 2 !== 0) {
    throw new Error(`exportOnnx: ${where(s, m)}: ${c} channels cannot be shuffled in 2 groups`);
  }
  const at = s.at("shuffle");
  const split = g.node("Reshape", `${at}.split`, [
    both.name,
    g.int64s(`${at}.split_shape`, [0, 2, c / 2, h as number, w as number]),
  ], [n, 2, c / 2, h, w]);
  const swapped = g.node("Transpose", `${at}.swap`, [split.name], [n, c / 2, 2, h, w], {
    perm: [0, 2, 1, 3, 4],
  });
  return g.node("Reshape", at, [
    swapped.name,
    g.int64s(`${at}.shape`, [0, c, h as number, w as number]),
  ], [n, c, h, w]);
};

const shuffleNetV2: Emitter<ShuffleNetV2> = (s, m, x) => {
  checkShape(m, x);
  x = s.child("maxpool", m.maxpool, s.child("conv1", m.conv1, x));
  for (const name of ["stage2", "stage3", "stage4"] as const) x = s.child(name, m[name], x);
  x = s.child("conv5", m.conv5, x);
  const pooled = s.graph.node("ReduceMean", s.at("mean"), [x.name], [x.shape[0], x.shape[1]], {
    axes: [2, 3],
    keepdims: 0,
  });
  return s.child("fc", m.fc, pooled);
};

/** The emitters of MobileNetV3 and ShuffleNetV2, by class. */
export const MOBILE_MORE = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [MobileNetV3, mobileNetV3],
  [InvertedResidualV3, invertedResidualV3],
  [ShuffleNetV2, shuffleNetV2],
  [ShuffleInvertedResidual, shuffleUnit],
]);
