/**
 * ONNX nodes for the 1-D layers (Conv1d, ConvTranspose1d, MaxPool1d,
 * AvgPool1d and the adaptive 1-D pools, on [N, C, L] values; Dropout1d,
 * the identity in eval mode) and for PixelShuffle
 * (DepthToSpace, mode CRD: torch's channel order) and PixelUnshuffle
 * (Reshape, Transpose, Reshape: SpaceToDepth's channel order is not
 * torch's). Embedding, Fold and Unfold are refused by name: the graph's
 * input is a float image, which an embedding cannot index, and opset 17
 * has no im2col / col2im op; so are MaxUnpool1d/2d/3d, whose second input
 * (a max pool's indices) the layer-to-layer graph cannot carry.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { Conv1d } from "../layers/conv1d.ts";
import { ConvTranspose1d } from "../layers/conv_transpose1d.ts";
import { Dropout1d } from "../layers/dropout1d.ts";
import { AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, MaxPool1d } from "../layers/pool1d.ts";
import { PixelShuffle, PixelUnshuffle } from "../layers/pixel_shuffle.ts";
import { Embedding } from "../layers/embedding.ts";
import { Fold, Unfold } from "../layers/fold.ts";
import { MaxUnpool1d, MaxUnpool2d, MaxUnpool3d } from "../layers/max_unpool.ts";
import { single } from "../tensor/ops/conv1d.ts";
import type { Emitter, Scope, Value } from "./graph.ts";
import { binMatrixT } from "./pooling.ts";
import { expect, outSize, spatial, tooSmall, where } from "./shapes.ts";

/** ONNX Pad's mode for a Conv1d padding mode (opset 17 has no "wrap"). */
const PAD_MODES: Record<string, string> = { reflect: "reflect", replicate: "edge" };

const conv1d: Emitter<Conv1d> = (scope, m, x) => {
  expect(scope, m, x, 3, m.inChannels);
  let [l] = spatial(scope, m, x);
  const [k] = m.kernelSize, [s] = m.stride, [d] = m.dilation;
  let [left, right] = m.paddingAmounts;
  const g = scope.graph;
  let input = x;
  if (m.paddingMode !== "zeros" && left + right > 0) {
    const mode = PAD_MODES[m.paddingMode];
    if (!mode) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: paddingMode "${m.paddingMode}" has no ONNX Pad mode ` +
          'in opset 17 ("wrap" came in opset 19); use "zeros", "reflect" or "replicate"',
      );
    }
    if (m.paddingMode === "reflect" && Math.max(left, right) >= l) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: reflect padding ${left}, ${right} needs an input ` +
          `longer than that, but its input would be of length ${l}`,
      );
    }
    const amounts = g.int64s(scope.at("pads"), [0, 0, left, 0, 0, right]);
    const padded = [x.shape[0], x.shape[1], l + left + right];
    input = g.node("Pad", scope.at("pad"), [x.name, amounts], padded, { mode });
    [l, left, right] = [l + left + right, 0, 0];
  }
  const ol = Math.floor((l + left + right - d * (k - 1) - 1) / s) + 1;
  tooSmall(scope, m, x, ol, 1);
  const inputs = [input.name, g.floats(scope.at("weight"), m.weight)];
  if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
  return g.node("Conv", scope.path, inputs, [x.shape[0], m.outChannels, ol], {
    kernel_shape: [k],
    strides: [s],
    pads: [left, right],
    dilations: [d],
    group: m.groups,
  });
};

/**
 * ONNX's ConvTranspose with a 1-D kernel: torch's weight layout [in, out /
 * groups, k] and its output_padding; the output length is written out, as
 * torch's.
 */
const convTranspose1d: Emitter<ConvTranspose1d> = (scope, m, x) => {
  expect(scope, m, x, 3, m.inChannels);
  const [l] = spatial(scope, m, x);
  const [k] = m.kernelSize, [s] = m.stride, [p] = m.padding;
  const [d] = m.dilation, [op] = m.outputPadding;
  const ol = (l - 1) * s - 2 * p + d * (k - 1) + op + 1;
  tooSmall(scope, m, x, ol, 1);
  const g = scope.graph;
  const inputs = [x.name, g.floats(scope.at("weight"), m.weight)];
  if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
  return g.node("ConvTranspose", scope.path, inputs, [x.shape[0], m.outChannels, ol], {
    kernel_shape: [k],
    strides: [s],
    pads: [p, p],
    dilations: [d],
    output_padding: [op],
    group: m.groups,
  });
};

const identity: Emitter = (_scope, _m, x) => x; // Dropout1d is the identity in eval mode

/** The checked window of a 1-D pool layer. */
function window(m: MaxPool1d | AvgPool1d) {
  const name = m.constructor.name;
  const k = single(m.kernelSize, `${name} kernel`, 1);
  const s = single(m.options.stride ?? k, `${name} stride`, 1);
  const p = single(m.options.padding ?? 0, `${name} padding`, 0);
  return { k, s, p, ceil: m.options.ceilMode ?? false };
}

/**
 * Ceil mode as extra end padding, which max pooling ignores (as pooling.ts's
 * 2-D one); dilation as ONNX's `dilations`, the window spanning d (k - 1) + 1.
 */
const maxPool1d: Emitter<MaxPool1d> = (scope, m, x) => {
  expect(scope, m, x, 3);
  const dilation = single(m.options.dilation ?? 1, "MaxPool1d dilation", 1);
  if (m.options.returnIndices) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: MaxPool1d with returnIndices is not exported; ` +
        "export a model whose MaxPool1d gives no indices",
    );
  }
  const [l] = spatial(scope, m, x);
  const { k, s, p, ceil } = window(m);
  const span = dilation * (k - 1) + 1;
  const ol = outSize(l, span, s, p, ceil);
  tooSmall(scope, m, x, ol, 1);
  const end = ol === outSize(l, span, s, p) ? p : (ol - 1) * s + span - l - p;
  return scope.graph.node("MaxPool", scope.path, [x.name], [x.shape[0], x.shape[1], ol], {
    kernel_shape: [k],
    strides: [s],
    pads: [p, end],
    ...(dilation === 1 ? {} : { dilations: [dilation] }),
  });
};

/**
 * Average pooling with PyTorch's divisors, as pooling.ts's 2-D emitter:
 * ceil mode's overhang becomes end pads under count_include_pad = 0, and
 * counted padding is made real zeros (a Pad node) first.
 */
const avgPool1d: Emitter<AvgPool1d> = (scope, m, x) => {
  expect(scope, m, x, 3);
  const [l] = spatial(scope, m, x);
  const { k, s, p, ceil } = window(m);
  const ol = outSize(l, k, s, p, ceil);
  tooSmall(scope, m, x, ol, 1);
  const include = m.options.countIncludePad ?? true;
  const overhang = Math.max(0, (ol - 1) * s + k - l - 2 * p);
  const g = scope.graph;
  const out = [x.shape[0], x.shape[1], ol];
  const attrs = { kernel_shape: [k], strides: [s] };
  if (overhang === 0) {
    return g.node("AveragePool", scope.path, [x.name], out, {
      ...attrs,
      pads: [p, p],
      count_include_pad: include ? 1 : 0,
    });
  }
  let input = x, pads = [p, p + overhang];
  if (include && p > 0) {
    const amounts = g.int64s(scope.at("pads"), [0, 0, p, 0, 0, p]);
    input = g.node("Pad", scope.at("pad"), [x.name, amounts], [x.shape[0], x.shape[1], l + 2 * p]);
    pads = [0, overhang];
  }
  return g.node("AveragePool", scope.path, [input.name], out, {
    ...attrs,
    pads,
    count_include_pad: 0,
  });
};

/** GlobalAveragePool for 1, AveragePool for equal bins, else a MatMul by the bins' matrix. */
const adaptiveAvgPool1d: Emitter<AdaptiveAvgPool1d> = (scope, m, x) => {
  expect(scope, m, x, 3);
  const [l] = spatial(scope, m, x);
  const o = single(m.outputSize, "AdaptiveAvgPool1d output size", 1);
  const out = [x.shape[0], x.shape[1], o];
  const g = scope.graph;
  if (o === 1) return g.node("GlobalAveragePool", scope.path, [x.name], out);
  if (l % o === 0) {
    return g.node("AveragePool", scope.path, [x.name], out, {
      kernel_shape: [l / o],
      strides: [l / o],
    });
  }
  const bins = g.floats(scope.at("bins"), binMatrixT(l, o), [l, o]);
  return g.node("MatMul", scope.path, [x.name, bins], out);
};

/** GlobalMaxPool for 1, MaxPool for equal bins; unequal bins are refused. */
const adaptiveMaxPool1d: Emitter<AdaptiveMaxPool1d> = (scope, m, x) => {
  expect(scope, m, x, 3);
  if (m.returnIndices) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: AdaptiveMaxPool1d with returnIndices is not exported (its ` +
        "indices are a second output, and the graph passes one tensor between layers); " +
        "export a model whose AdaptiveMaxPool1d gives no indices",
    );
  }
  const [l] = spatial(scope, m, x);
  const o = single(m.outputSize, "AdaptiveMaxPool1d output size", 1);
  const out = [x.shape[0], x.shape[1], o];
  const g = scope.graph;
  if (o === 1) return g.node("GlobalMaxPool", scope.path, [x.name], out);
  if (l % o !== 0) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: length ${l} to ${o} has bins of unequal size, which ` +
        "ONNX's MaxPool cannot express; use an output size that divides the input",
    );
  }
  return g.node("MaxPool", scope.path, [x.name], out, {
    kernel_shape: [l / o],
    strides: [l / o],
  });
};

/** [N, C, H, W] with fixed C, H, W; returns them. */
function plane(scope: Scope, m: Module, x: Value): [number, number, number] {
  expect(scope, m, x, 4);
  const [h, w] = spatial(scope, m, x);
  return [x.shape[1] as number, h, w];
}

const pixelShuffle: Emitter<PixelShuffle> = (scope, m, x) => {
  const [c, h, w] = plane(scope, m, x);
  const r = m.upscaleFactor;
  if (c % (r * r) !== 0) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: its input's ${c} channels are not divisible by ` +
        `upscaleFactor squared (${r * r})`,
    );
  }
  return scope.graph.node("DepthToSpace", scope.path, [x.name], [
    x.shape[0],
    c / (r * r),
    h * r,
    w * r,
  ], { blocksize: r, mode: "CRD" });
};

const pixelUnshuffle: Emitter<PixelUnshuffle> = (scope, m, x) => {
  const [c, h, w] = plane(scope, m, x);
  const r = m.downscaleFactor;
  if (h % r !== 0 || w % r !== 0) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: its input's ${h} x ${w} is not divisible by ` +
        `downscaleFactor ${r}`,
    );
  }
  const g = scope.graph, n = x.shape[0];
  const split = [n, c, h / r, r, w / r, r];
  const a = g.node("Reshape", scope.at("split"), [
    x.name,
    g.int64s(scope.at("split_shape"), [0, c, h / r, r, w / r, r]),
  ], split);
  const b = g.node("Transpose", scope.at("move"), [a.name], [n, c, r, r, h / r, w / r], {
    perm: [0, 1, 3, 5, 2, 4],
  });
  const shape = [n, c * r * r, h / r, w / r];
  return g.node("Reshape", scope.path || "pixel_unshuffle", [
    b.name,
    g.int64s(scope.at("shape"), [0, c * r * r, h / r, w / r]),
  ], shape);
};

/** The emitters of this file, by class. */
export const LAYERS_1D = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [Conv1d, conv1d],
  [ConvTranspose1d, convTranspose1d],
  [Dropout1d, identity],
  [MaxPool1d, maxPool1d],
  [AvgPool1d, avgPool1d],
  [AdaptiveAvgPool1d, adaptiveAvgPool1d],
  [AdaptiveMaxPool1d, adaptiveMaxPool1d],
  [PixelShuffle, pixelShuffle],
  [PixelUnshuffle, pixelUnshuffle],
]);

const NO_COLUMNS = "ONNX opset 17 has no im2col / col2im op (Col2Im came in opset 18), so the " +
  "exporter does not write it; compute it outside the exported model, or build the model " +
  "with Conv2d, which an unfold followed by a matmul usually stands for";

const NO_UNPOOL = "it takes the indices of a max pool with returnIndices as a second input, " +
  "and the exported graph passes one tensor from layer to layer (a max pool's indices are " +
  "not exported either); export the part of the model before the pooling";

/** Module classes of this file that cannot be exported, with the reason, for the refusal. */
export const REFUSED_1D = new Map<unknown, string>([
  [
    Embedding,
    "its input is int32 indices, and an exported graph's input is a float image; export " +
    "the part of the model after the lookup, and look up outside it",
  ],
  [Fold, NO_COLUMNS],
  [Unfold, NO_COLUMNS],
  ...[MaxUnpool1d, MaxUnpool2d, MaxUnpool3d].map((c): [unknown, string] => [c, NO_UNPOOL]),
]);
