/**
 * ONNX nodes for EfficientNetV2's Fused-MBConv and for RegNet, each read as
 * its `forward`. A Fused-MBConv block is its Sequential plus, with the
 * residual connection, an Add of the input (stochastic depth is the
 * identity in eval mode; the EfficientNet and MBConv emitters are
 * mobile.ts's). A RegNet block is Relu(shortcut + f(x)), the shortcut its
 * `proj` or the input; its stem, transformation and stages are
 * Sequentials (the `se` child goes through mobile.ts's
 * squeeze-and-excitation); the model ends in its pool, Flatten and `fc`.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { FusedMBConv } from "../models/fused_mbconv.ts";
import { RegNet } from "../models/regnet.ts";
import { ResBottleneckBlock } from "../models/regnet_blocks.ts";
import { checkInput } from "../models/input.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { flattenValue } from "./layers.ts";
import { where } from "./shapes.ts";

/** a + b, named `name` under the block, after checking the shapes agree. */
function add(s: Scope, m: Module, a: Value, b: Value, name: string): Value {
  if (a.shape.join() !== b.shape.join()) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: branch [${b.shape}] and shortcut [${a.shape}] differ, ` +
        "so the residual cannot be added",
    );
  }
  return s.graph.node("Add", s.at(name), [a.name, b.name], a.shape);
}

const fusedMBConv: Emitter<FusedMBConv> = (s, m, x) => {
  const out = s.child("block", m.block, x);
  if (!m.useResConnect) return out;
  return add(s, m, x, s.child("stochastic_depth", m.stochastic_depth, out), "add");
};

const resBottleneckBlock: Emitter<ResBottleneckBlock> = (s, m, x) => {
  const shortcut = m.proj ? s.child("proj", m.proj, x) : x;
  const sum = add(s, m, shortcut, s.child("f", m.f, x), "add");
  return s.child("activation", m.activation, sum);
};

const regNet: Emitter<RegNet> = (s, m, x) => {
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, m.inputSpec);
  x = s.child("trunk_output", m.trunk_output, s.child("stem", m.stem, x));
  x = s.child("avgpool", m.avgpool, x);
  return s.child("fc", m.fc, flattenValue(s, x, 1, x.shape.length - 1));
};

/** The emitters of Fused-MBConv and RegNet, by class. */
export const REGNET = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [FusedMBConv, fusedMBConv],
  [ResBottleneckBlock, resBottleneckBlock],
  [RegNet, regNet],
]);
