/**
 * ONNX nodes for `LocalResponseNorm`. ONNX's LRN sums the squares over
 * channels c - floor((size - 1) / 2) ... c + ceil((size - 1) / 2), torch over
 * c - floor(size / 2) ... c + floor((size - 1) / 2): the same window for an
 * odd size, one channel apart for an even one. So an odd size on
 * [N, C, H, W] (AlexNet's 5) is one LRN node; an even size, or another rank
 * (ONNX Runtime's LRN takes 4-d inputs only), is torch's own formula in
 * nodes, as `torch.onnx.export` (1.13) writes it for every LRN: the squares
 * as an [N, 1, C, rest] image, averaged over (size, 1) windows with the
 * channel padding counted, then x / (k + alpha * mean)^beta.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { LocalResponseNorm } from "../layers/lrn.ts";
import { type Emitter, shapeText } from "./graph.ts";
import type { Dim } from "./proto.ts";
import { where } from "./shapes.ts";

const lrn: Emitter<LocalResponseNorm> = (scope, m, x) => {
  const r = x.shape.length, c = x.shape[1];
  if (r < 3 || typeof c !== "number") {
    throw new Error(
      `exportOnnx: ${where(scope, m)} expects [N, C, ...] with at least 3 dimensions and a ` +
        `fixed C, but its input would be ${shapeText(x.shape)}`,
    );
  }
  const g = scope.graph, { size, alpha, beta, k } = m;
  if (size % 2 === 1 && r === 4) {
    return g.node("LRN", scope.path, [x.name], x.shape, {
      size,
      alpha: { f: alpha },
      beta: { f: beta },
      bias: { f: k },
    });
  }
  const rest = x.shape.slice(2);
  const restSize: Dim = rest.every((d) => typeof d === "number")
    ? (rest as number[]).reduce((a, b) => a * b, 1)
    : rest.join("*");
  const imageShape = [x.shape[0], 1, c, restSize];
  const squares = g.node("Mul", scope.at("squares"), [x.name, x.name], x.shape);
  const image = g.node("Reshape", scope.at("as_image"), [
    squares.name,
    g.int64s(scope.at("image_shape"), [0, 1, c, -1]),
  ], imageShape);
  const before = Math.floor(size / 2), after = Math.floor((size - 1) / 2);
  const mean = g.node("AveragePool", scope.at("window_mean"), [image.name], imageShape, {
    kernel_shape: [size, 1],
    strides: [1, 1],
    pads: [before, 0, after, 0],
    count_include_pad: 1,
  });
  const inputShape = g.node("Shape", scope.at("input_shape"), [x.name], [r]);
  const back = g.node("Reshape", scope.at("mean"), [mean.name, inputShape.name], x.shape);
  const scaled = g.node(
    "Mul",
    scope.at("scaled"),
    [back.name, g.scalar(scope.at("alpha"), alpha)],
    x.shape,
  );
  const shifted = g.node(
    "Add",
    scope.at("shifted"),
    [scaled.name, g.scalar(scope.at("k"), k)],
    x.shape,
  );
  const denominator = g.node("Pow", scope.at("denominator"), [
    shifted.name,
    g.scalar(scope.at("beta"), beta),
  ], x.shape);
  return g.node("Div", scope.path, [x.name, denominator.name], x.shape);
};

/** The emitters of the normalisation layers of `lrn.ts`, by class. */
export const NORMS_MORE = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [LocalResponseNorm, lrn],
]);
