/**
 * ONNX nodes for `Unflatten` (a Reshape; `torch.onnx.export` 1.13 has no
 * mapping for it at all), and the modules the exporter refuses by design:
 * `CosineSimilarity` and `PairwiseDistance` take two inputs, and an
 * exported graph has one, the image.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { Unflatten } from "../layers/unflatten.ts";
import { CosineSimilarity, PairwiseDistance } from "../layers/distance.ts";
import { type Emitter, shapeText } from "./graph.ts";
import type { Dim } from "./proto.ts";
import { where } from "./shapes.ts";

/**
 * Dimension `dim` split into `unflattenedSize`. A fixed dimension has its -1
 * worked out; the symbolic batch can be split only with a -1 in the sizes
 * (the Reshape target keeps -1 there), since fixed sizes would fix the batch.
 */
const unflatten: Emitter<Unflatten> = (scope, m, x) => {
  const r = x.shape.length;
  const d = m.dim < 0 ? m.dim + r : m.dim;
  if (d < 0 || d >= r) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: dim ${m.dim} is outside ${shapeText(x.shape)}`,
    );
  }
  const n = x.shape[d], sizes = m.unflattenedSize;
  const known = sizes.reduce((a, s) => (s === -1 ? a : a * s), 1);
  const inferred = sizes.includes(-1);
  let split: Dim[];
  if (typeof n === "number") {
    if (inferred ? known === 0 || n % known !== 0 : known !== n) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: sizes [${sizes}] don't multiply up to the size ${n} ` +
          `of dimension ${m.dim} of its input ${shapeText(x.shape)}`,
      );
    }
    split = sizes.map((s) => (s === -1 ? n / known : s));
  } else {
    if (!inferred || known === 0) {
      throw new Error(
        `exportOnnx: ${where(scope, m)} splits dimension ${m.dim} of ${shapeText(x.shape)}, ` +
          `the dynamic batch "${n}", into [${sizes}], which would fix its size; put -1 for one ` +
          `size (new nn.Unflatten(${m.dim}, [${sizes.map((s, i) => (i === 0 ? -1 : s))}])) or ` +
          "export with a fixed batch (inputShape: [2, ...])",
      );
    }
    split = sizes.map((s) => (s !== -1 ? s : known === 1 ? n : `${n}/${known}`));
  }
  const shape = [...x.shape.slice(0, d), ...split, ...x.shape.slice(d + 1)];
  // Reshape's target: fixed sizes as numbers, a symbolic dimension before
  // `dim` as 0 (copied from the same index), any other symbolic one as -1.
  const target = shape.map((s, i) => (typeof s === "number" ? s : i < d ? 0 : -1));
  if (target.filter((t) => t === -1).length > 1) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: its output ${shapeText(shape)} would have more than one ` +
        "dynamic size after the batch, which one Reshape cannot express; export with a fixed batch",
    );
  }
  const g = scope.graph, name = scope.path || "unflatten";
  return g.node("Reshape", name, [x.name, g.int64s(`${name}.shape`, target)], shape);
};

const TWO_INPUTS = "it takes two inputs (forward(x1, x2)), and an exported graph takes one, " +
  "the image; compute it outside the exported model, on the outputs of the models you export";

/** The emitters of `unflatten.ts`, by class. */
export const LAYERS_MORE = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [Unflatten, unflatten],
]);

/** Module classes that cannot be exported by design, with the reason, for the refusal. */
export const REFUSED = new Map<unknown, string>([
  [CosineSimilarity, TWO_INPUTS],
  [PairwiseDistance, TWO_INPUTS],
]);
