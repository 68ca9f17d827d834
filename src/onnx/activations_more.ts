/**
 * ONNX nodes for the activations of `activation_more.ts`, as
 * `torch.onnx.export` (1.13, opset 17) writes them: PReLU as PRelu with its
 * slopes shaped [C, 1, ...] to broadcast along dimension 1, Mish as
 * Softplus, Tanh and Mul (ONNX's Mish came in opset 18), Softmin as Neg and
 * Softmax, Softmax2d as Softmax along axis -3.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { Mish, PReLU, Softmax2d, Softmin } from "../layers/activation_more.ts";
import { type Emitter, shapeText } from "./graph.ts";
import { where } from "./shapes.ts";

/**
 * PRelu: one slope ([1]) broadcasts over anything; C slopes become
 * [C, 1, ..., 1] so that they fall on dimension 1 (ONNX broadcasts the
 * slope from the last dimension), as torch reshapes them.
 */
const prelu: Emitter<PReLU> = (scope, m, x) => {
  const n = m.weight.numel(), r = x.shape.length;
  const channels = r >= 2 ? x.shape[1] : 1;
  if (n !== 1 && n !== channels) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} has ${n} slopes, but its input would be ` +
        `${shapeText(x.shape)}, with ${channels} channel${channels === 1 ? "" : "s"} ` +
        "(dimension 1); give it one slope or one per channel",
    );
  }
  const dims = n === 1 ? [1] : [n, ...Array<number>(r - 2).fill(1)];
  const g = scope.graph;
  return g.node(
    "PRelu",
    scope.path,
    [x.name, g.floats(scope.at("weight"), m.weight, dims)],
    x.shape,
  );
};

/** x tanh(softplus(x)); ONNX's Softplus has no threshold, which changes no float32 value here. */
const mish: Emitter = (s, _m, x) => {
  const g = s.graph;
  const soft = g.node("Softplus", s.at("softplus"), [x.name], x.shape);
  const tanh = g.node("Tanh", s.at("tanh"), [soft.name], x.shape);
  return g.node("Mul", s.path, [x.name, tanh.name], x.shape);
};

/** softmax(-x) along `dim`. */
const softmin: Emitter<Softmin> = (s, m, x) => {
  const r = x.shape.length;
  const axis = m.dim < 0 ? m.dim + r : m.dim;
  if (axis < 0 || axis >= r) {
    throw new Error(`exportOnnx: ${where(s, m)}: dim ${m.dim} is outside ${shapeText(x.shape)}`);
  }
  const neg = s.graph.node("Neg", s.at("neg"), [x.name], x.shape);
  return s.graph.node("Softmax", s.path, [neg.name], x.shape, { axis });
};

/** Softmax over the channels of [N, C, H, W] (or of one [C, H, W] sample): axis -3. */
const softmax2d: Emitter<Softmax2d> = (s, m, x) => {
  if (x.shape.length !== 3 && x.shape.length !== 4) {
    throw new Error(
      `exportOnnx: ${where(s, m)} expects [N, C, H, W] or [C, H, W], but its input would be ` +
        `${shapeText(x.shape)}; for other shapes use nn.Softmax(dim)`,
    );
  }
  return s.graph.node("Softmax", s.path, [x.name], x.shape, { axis: -3 });
};

/** The emitters of the activations of `activation_more.ts`, by class. */
export const ACTIVATIONS_MORE = new Map<abstract new (...args: never[]) => Module, Emitter<never>>(
  [
    [PReLU, prelu],
    [Mish, mish],
    [Softmin, softmin],
    [Softmax2d, softmax2d],
  ],
);
