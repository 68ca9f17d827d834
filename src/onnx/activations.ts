/**
 * ONNX nodes for the activation layers. Where opset 17 has the function
 * (Relu, HardSwish, HardSigmoid with torch's 1/6 and 1/2) it is one node;
 * SiLU and GELU, which it lacks (Gelu came in opset 20), are their formulas
 * in elementwise nodes, as `torch.onnx.export` writes them.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { ReLU } from "../layers/basic.ts";
import { GELU, LeakyReLU, LogSoftmax, Sigmoid, Softmax, Tanh } from "../layers/activation.ts";
import { Hardsigmoid, Hardswish, ReLU6, SiLU } from "../layers/activation_hard.ts";
import { ELU, Softplus } from "../layers/activation_smooth.ts";
import { type Emitter, shapeText } from "./graph.ts";
import type { AttributeValue } from "./proto.ts";
import { where } from "./shapes.ts";

/** One node `op` of the same shape, with the module's attributes. */
function unary(
  op: string,
  attrs: (m: Module) => Record<string, AttributeValue> = () => ({}),
): Emitter {
  return (scope, m, x) => scope.graph.node(op, scope.path, [x.name], x.shape, attrs(m));
}

function softmax(op: string): Emitter<Softmax | LogSoftmax> {
  return (scope, m, x) => {
    const r = x.shape.length;
    const axis = m.dim < 0 ? m.dim + r : m.dim;
    if (axis < 0 || axis >= r) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: dim ${m.dim} is outside ${shapeText(x.shape)}`,
      );
    }
    return scope.graph.node(op, scope.path, [x.name], x.shape, { axis });
  };
}

/** min(max(x, 0), 6): Clip with its bounds as inputs (opset 11 on). */
const relu6: Emitter = (s, _m, x) => {
  const g = s.graph;
  const bounds = [g.scalar(s.at("min"), 0), g.scalar(s.at("max"), 6)];
  return g.node("Clip", s.path, [x.name, ...bounds], x.shape);
};

/** x * sigmoid(x). */
const silu: Emitter = (s, _m, x) => {
  const sigmoid = s.graph.node("Sigmoid", s.at("sigmoid"), [x.name], x.shape);
  return s.graph.node("Mul", s.path, [x.name, sigmoid.name], x.shape);
};

/**
 * 0.5 x (1 + erf(x / sqrt 2)), or with `approximate: "tanh"`
 * 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
 */
const gelu: Emitter<GELU> = (s, m, x) => {
  const g = s.graph;
  const mul = (name: string, a: string, b: string) => g.node("Mul", s.at(name), [a, b], x.shape);
  let inner: string;
  if (m.approximate === "tanh") {
    const cube = mul("cube", x.name, mul("square", x.name, x.name).name);
    const poly = g.node("Add", s.at("poly"), [
      x.name,
      mul("cube_scaled", cube.name, g.scalar(s.at("coef"), 0.044715)).name,
    ], x.shape);
    const arg = mul("arg", poly.name, g.scalar(s.at("sqrt_2_over_pi"), Math.sqrt(2 / Math.PI)));
    inner = g.node("Tanh", s.at("tanh"), [arg.name], x.shape).name;
  } else {
    const arg = mul("arg", x.name, g.scalar(s.at("rsqrt2"), Math.SQRT1_2));
    inner = g.node("Erf", s.at("erf"), [arg.name], x.shape).name;
  }
  const onePlus = g.node("Add", s.at("one_plus"), [inner, g.scalar(s.at("one"), 1)], x.shape);
  const half = mul("half_x", x.name, g.scalar(s.at("half"), 0.5));
  return g.node("Mul", s.path, [half.name, onePlus.name], x.shape);
};

/**
 * log(1 + e^(beta x)) / beta, and x where beta x > threshold: ONNX's
 * Softplus has neither beta nor threshold, and a low threshold (5) changes
 * values, so both are written out (Mul, Div, Greater, Where).
 */
const softplus: Emitter<Softplus> = (s, m, x) => {
  const g = s.graph;
  const z = m.beta === 1
    ? x.name
    : g.node("Mul", s.at("scaled"), [x.name, g.scalar(s.at("beta"), m.beta)], x.shape).name;
  let smooth = g.node("Softplus", s.at("softplus"), [z], x.shape).name;
  if (m.beta !== 1) {
    smooth = g.node("Div", s.at("unscaled"), [smooth, g.scalar(s.at("beta_div"), m.beta)], x.shape)
      .name;
  }
  const over = g.node(
    "Greater",
    s.at("over"),
    [z, g.scalar(s.at("threshold"), m.threshold)],
    x.shape,
  );
  return g.node("Where", s.path, [over.name, x.name, smooth], x.shape);
};

/** The activation emitters, by class. */
export const ACTIVATIONS = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [ReLU, unary("Relu")],
  [LeakyReLU, unary("LeakyRelu", (m) => ({ alpha: { f: (m as LeakyReLU).negativeSlope } }))],
  [Sigmoid, unary("Sigmoid")],
  [Tanh, unary("Tanh")],
  [Softmax, softmax("Softmax")],
  [LogSoftmax, softmax("LogSoftmax")],
  [ReLU6, relu6],
  // torch's min(max(x + 3, 0), 6) / 6 is ONNX's max(0, min(1, x / 6 + 1 / 2)).
  [Hardsigmoid, unary("HardSigmoid", () => ({ alpha: { f: 1 / 6 }, beta: { f: 0.5 } }))],
  [Hardswish, unary("HardSwish")],
  [SiLU, silu],
  [GELU, gelu],
  // ONNX's Elu is alpha (e^x - 1) below 0, x from 0 on: torch's at every x.
  [ELU, unary("Elu", (m) => ({ alpha: { f: (m as ELU).alpha } }))],
  [Softplus, softplus],
]);
