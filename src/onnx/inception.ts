/**
 * ONNX nodes for Inception v3 and GoogLeNet, read as their `forward` in
 * eval mode (no auxiliary heads): BasicConv2d is Conv, BatchNormalization
 * and Relu; each Inception block its branches, then Concat on the
 * channels; the pools inside the blocks (torchvision's `F.avg_pool2d` and
 * `F.max_pool2d`) go through the pooling layers' emitters; `transformInput`
 * is a Mul and an Add by per-channel constants.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { AvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { checkInput } from "../models/input.ts";
import { Inception3 } from "../models/inception.ts";
import {
  BasicConv2d,
  InceptionA,
  InceptionB,
  InceptionC,
  InceptionD,
  InceptionE,
} from "../models/inception_blocks.ts";
import { GoogLeNet, GoogLeNetInception } from "../models/googlenet.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { flattenValue } from "./layers.ts";
import { where } from "./shapes.ts";

/** The blocks' functional pools, as the layers whose emitters write them. */
const AVG3 = new AvgPool2d(3, { stride: 1, padding: 1 });
const MAX3S2 = new MaxPool2d(3, { stride: 2 });

/** Concat of `parts` on the channels, named `name`. */
function concat(s: Scope, m: Module, parts: readonly Value[], name: string): Value {
  const [first] = parts;
  for (const p of parts) {
    if (!p.shape.every((d, i) => i === 1 || d === first.shape[i])) {
      throw new Error(
        `exportOnnx: ${where(s, m)}: cannot concatenate [${p.shape}] with [${first.shape}] ` +
          "along the channels (the other dimensions differ)",
      );
    }
  }
  const channels = parts.reduce((n, p) => n + (p.shape[1] as number), 0);
  const shape = [first.shape[0], channels, ...first.shape.slice(2)];
  return s.graph.node("Concat", s.at(name), parts.map((p) => p.name), shape, { axis: 1 });
}

/** `children` of `m` applied in order to x. */
function path(s: Scope, m: Module, x: Value, ...children: string[]): Value {
  const named = m as unknown as Record<string, Module>;
  for (const c of children) x = s.child(c, named[c], x);
  return x;
}

const basicConv: Emitter<BasicConv2d> = (s, m, x) => {
  x = s.child("bn", m.bn, s.child("conv", m.conv, x));
  return s.graph.node("Relu", s.at("relu"), [x.name], x.shape);
};

const inceptionA: Emitter<InceptionA> = (s, m, x) =>
  concat(s, m, [
    path(s, m, x, "branch1x1"),
    path(s, m, x, "branch5x5_1", "branch5x5_2"),
    path(s, m, x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
    s.child("branch_pool", m.branch_pool, s.child("avg_pool", AVG3, x)),
  ], "cat");

const inceptionB: Emitter<InceptionB> = (s, m, x) =>
  concat(s, m, [
    path(s, m, x, "branch3x3"),
    path(s, m, x, "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
    s.child("max_pool", MAX3S2, x),
  ], "cat");

const inceptionC: Emitter<InceptionC> = (s, m, x) =>
  concat(s, m, [
    path(s, m, x, "branch1x1"),
    path(s, m, x, "branch7x7_1", "branch7x7_2", "branch7x7_3"),
    path(
      s,
      m,
      x,
      "branch7x7dbl_1",
      "branch7x7dbl_2",
      "branch7x7dbl_3",
      "branch7x7dbl_4",
      "branch7x7dbl_5",
    ),
    s.child("branch_pool", m.branch_pool, s.child("avg_pool", AVG3, x)),
  ], "cat");

const inceptionD: Emitter<InceptionD> = (s, m, x) =>
  concat(s, m, [
    path(s, m, x, "branch3x3_1", "branch3x3_2"),
    path(s, m, x, "branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"),
    s.child("max_pool", MAX3S2, x),
  ], "cat");

const inceptionE: Emitter<InceptionE> = (s, m, x) => {
  const a = path(s, m, x, "branch3x3_1");
  const d = path(s, m, x, "branch3x3dbl_1", "branch3x3dbl_2");
  return concat(s, m, [
    path(s, m, x, "branch1x1"),
    concat(s, m, [path(s, m, a, "branch3x3_2a"), path(s, m, a, "branch3x3_2b")], "cat3x3"),
    concat(s, m, [path(s, m, d, "branch3x3dbl_3a"), path(s, m, d, "branch3x3dbl_3b")], "cat3x3dbl"),
    s.child("branch_pool", m.branch_pool, s.child("avg_pool", AVG3, x)),
  ], "cat");
};

const googLeNetInception: Emitter<GoogLeNetInception> = (s, m, x) =>
  concat(s, m, ["branch1", "branch2", "branch3", "branch4"].map((b) => path(s, m, x, b)), "cat");

/** The input check, and torchvision's `_transform_input` where the model has it on. */
function input(s: Scope, m: Inception3 | GoogLeNet, x: Value): Value {
  // The model's own input check, on the shape alone (the batch may be symbolic).
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, m.inputSpec);
  if (!m.transformInput) return x;
  if (x.shape[1] !== 3) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: transformInput re-normalises three channels, got input ` +
        `[${x.shape}]`,
    );
  }
  const g = s.graph;
  const scale = g.floats(
    s.at("transform_scale"),
    Float32Array.from([0.229, 0.224, 0.225], (v) => v / 0.5),
    [1, 3, 1, 1],
  );
  const shift = g.floats(
    s.at("transform_shift"),
    Float32Array.from([0.485, 0.456, 0.406], (v) => (v - 0.5) / 0.5),
    [1, 3, 1, 1],
  );
  const scaled = g.node("Mul", s.at("transform_mul"), [x.name, scale], x.shape);
  return g.node("Add", s.at("transform_add"), [scaled.name, shift], x.shape);
}

/** avgpool, dropout (the identity), flatten, fc. */
function head(s: Scope, m: Inception3 | GoogLeNet, x: Value): Value {
  x = s.child("dropout", m.dropout, s.child("avgpool", m.avgpool, x));
  return s.child("fc", m.fc, flattenValue(s, x, 1, 3));
}

const inception3: Emitter<Inception3> = (s, m, x) => {
  x = path(
    s,
    m,
    input(s, m, x),
    "Conv2d_1a_3x3",
    "Conv2d_2a_3x3",
    "Conv2d_2b_3x3",
    "maxpool1",
    "Conv2d_3b_1x1",
    "Conv2d_4a_3x3",
    "maxpool2",
    "Mixed_5b",
    "Mixed_5c",
    "Mixed_5d",
    "Mixed_6a",
    "Mixed_6b",
    "Mixed_6c",
    "Mixed_6d",
    "Mixed_6e",
    "Mixed_7a",
    "Mixed_7b",
    "Mixed_7c",
  );
  return head(s, m, x);
};

const googLeNet: Emitter<GoogLeNet> = (s, m, x) => {
  x = path(
    s,
    m,
    input(s, m, x),
    "conv1",
    "maxpool1",
    "conv2",
    "conv3",
    "maxpool2",
    "inception3a",
    "inception3b",
    "maxpool3",
    "inception4a",
    "inception4b",
    "inception4c",
    "inception4d",
    "inception4e",
    "maxpool4",
    "inception5a",
    "inception5b",
  );
  return head(s, m, x);
};

/** The Inception v3 and GoogLeNet emitters, by class. */
export const INCEPTION = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [BasicConv2d, basicConv],
  [InceptionA, inceptionA],
  [InceptionB, inceptionB],
  [InceptionC, inceptionC],
  [InceptionD, inceptionD],
  [InceptionE, inceptionE],
  [GoogLeNetInception, googLeNetInception],
  [Inception3, inception3],
  [GoogLeNet, googLeNet],
]);
