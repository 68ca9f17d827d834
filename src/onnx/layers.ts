/**
 * ONNX nodes for the core layers in eval mode (convolution, linear,
 * flatten, the identities, Sequential): each emitter checks its input's
 * shape as the layer's forward would, adds its nodes, and returns its output
 * with the shape the layer would give. Weights become initializers under
 * their state-dict names (`layer1.0.conv1.weight`). Activations, norms,
 * pooling and resizing have files of their own.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { ConvTranspose2d } from "../layers/conv_transpose.ts";
import { Dropout, Flatten, Identity } from "../layers/basic.ts";
import { Dropout2d } from "../layers/dropout2d.ts";
import { Linear } from "../layers/linear.ts";
import { Sequential } from "../layers/sequential.ts";
import { pair } from "../tensor/ops/conv.ts";
import { type Emitter, type Scope, shapeText, type Value } from "./graph.ts";
import type { Dim } from "./proto.ts";
import { expect, spatial, tooSmall, where } from "./shapes.ts";

/** ONNX Pad's modes for Conv2d's padding modes (ONNX's "wrap" came in opset 19). */
const PAD_MODES: Record<string, string | undefined> = { reflect: "reflect", replicate: "edge" };

const conv: Emitter<Conv2d> = (scope, m, x) => {
  expect(scope, m, x, 4, m.inChannels);
  let [h, w] = spatial(scope, m, x);
  const [kh, kw] = m.weight.shape.slice(2);
  const [sh, sw] = pair(m.options.stride, "Conv2d stride", 1);
  const [dh, dw] = pair(m.options.dilation, "Conv2d dilation", 1);
  // ONNX's order: [top, left, bottom, right]; "same" of an even kernel is uneven.
  const [pl, pr, pt, pb] = m.paddingAmounts;
  let pads = [pt, pl, pb, pr];
  const g = scope.graph;
  let input = x.name;
  if (m.paddingMode !== "zeros") {
    const mode = PAD_MODES[m.paddingMode];
    if (!mode) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: paddingMode "${m.paddingMode}" has no ONNX Pad mode ` +
          "in opset 17 (wrap came in 19); use reflect, replicate or zeros",
      );
    }
    [h, w] = [h + pt + pb, w + pl + pr];
    const amounts = g.int64s(scope.at("pads"), [0, 0, pt, pl, 0, 0, pb, pr]);
    input = g.node("Pad", scope.at("pad"), [x.name, amounts], [x.shape[0], x.shape[1], h, w], {
      mode,
    }).name;
    pads = [0, 0, 0, 0];
  }
  const out = (size: number, k: number, s: number, before: number, after: number) =>
    Math.floor((size + before + after - k) / s) + 1;
  const oh = out(h, dh * (kh - 1) + 1, sh, pads[0], pads[2]);
  const ow = out(w, dw * (kw - 1) + 1, sw, pads[1], pads[3]);
  tooSmall(scope, m, x, oh, ow);
  const inputs = [input, g.floats(scope.at("weight"), m.weight)];
  if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
  return g.node("Conv", scope.path, inputs, [x.shape[0], m.outChannels, oh, ow], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads,
    dilations: [dh, dw],
    group: m.options.groups,
  });
};

/**
 * ONNX's ConvTranspose takes torch's weight layout [in, out / groups, kh,
 * kw] and its output_padding; the output size is written out, as torch's.
 */
const convTranspose: Emitter<ConvTranspose2d> = (scope, m, x) => {
  expect(scope, m, x, 4, m.inChannels);
  const [h, w] = spatial(scope, m, x);
  const [kh, kw] = m.kernelSize, [sh, sw] = m.stride, [ph, pw] = m.padding;
  const [dh, dw] = m.dilation, [oph, opw] = m.outputPadding;
  const oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const ow = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  tooSmall(scope, m, x, oh, ow);
  const g = scope.graph;
  const inputs = [x.name, g.floats(scope.at("weight"), m.weight)];
  if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
  return g.node("ConvTranspose", scope.path, inputs, [x.shape[0], m.outChannels, oh, ow], {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads: [ph, pw, ph, pw],
    dilations: [dh, dw],
    output_padding: [oph, opw],
    group: m.groups,
  });
};

/**
 * Gemm for [N, in]; on more dimensions (torch's Linear reads the last),
 * MatMul by the transposed weight, then Add of the bias.
 */
const linear: Emitter<Linear> = (scope, m, x) => {
  const r = x.shape.length;
  if (r < 2 || x.shape[r - 1] !== m.inFeatures) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} expects [N, ${m.inFeatures}] or [N, ..., ${m.inFeatures}], ` +
        `but its input would be ${shapeText(x.shape)}`,
    );
  }
  const g = scope.graph;
  const weight = g.floats(scope.at("weight"), m.weight);
  const shape = [...x.shape.slice(0, -1), m.outFeatures];
  if (r === 2) {
    const inputs = [x.name, weight];
    if (m.bias) inputs.push(g.floats(scope.at("bias"), m.bias));
    return g.node("Gemm", scope.path, inputs, shape, { transB: 1 });
  }
  const wT = g.node("Transpose", scope.at("weight_t"), [weight], [m.inFeatures, m.outFeatures], {
    perm: [1, 0],
  });
  const name = m.bias ? scope.at("matmul") : scope.path;
  const y = g.node("MatMul", name, [x.name, wT.name], shape);
  if (!m.bias) return y;
  return g.node("Add", scope.path, [y.name, g.floats(scope.at("bias"), m.bias)], shape);
};

const flatten: Emitter<Flatten> = (scope, m, x) => {
  const r = x.shape.length;
  const start = m.startDim < 0 ? m.startDim + r : m.startDim;
  const end = m.endDim < 0 ? m.endDim + r : m.endDim;
  if (start < 0 || end >= r || start > end) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} cannot flatten dims ${m.startDim}..${m.endDim} ` +
        `of ${shapeText(x.shape)}`,
    );
  }
  return flattenValue(scope, x, start, end);
};

/** Flattens dims start..end of x: ONNX Flatten for [N, ...] -> [N, rest], else Reshape. */
export function flattenValue(scope: Scope, x: Value, start: number, end: number): Value {
  const merged = x.shape.slice(start, end + 1);
  const size: Dim = merged.every((d) => typeof d === "number")
    ? (merged as number[]).reduce((a, b) => a * b, 1)
    : merged.join("*");
  const shape = [...x.shape.slice(0, start), size, ...x.shape.slice(end + 1)];
  const gr = scope.graph;
  const name = scope.path || "flatten";
  if (start === 1 && end === x.shape.length - 1) {
    return gr.node("Flatten", name, [x.name], shape, { axis: 1 });
  }
  // Reshape: 0 copies a dimension (the symbolic batch), -1 is the merged one.
  const target = shape.map((d, i) => i < start ? 0 : i === start ? -1 : d as number);
  return gr.node("Reshape", name, [x.name, gr.int64s(`${name}.shape`, target)], shape);
}

const identity: Emitter = (_scope, _m, x) => x; // Dropout is the identity in eval mode

/** @internal A Sequential's children in order (also MobileNet's Conv2dNormActivation). */
export const sequential: Emitter<Sequential> = (scope, m, x) => {
  // By name: a named Sequential's children keep their state-dict names.
  for (const [name, child] of m.namedChildren()) x = scope.child(name, child, x);
  return x;
};

/** The core layer emitters, by class. */
export const LAYERS = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [Sequential, sequential],
  [Conv2d, conv],
  [ConvTranspose2d, convTranspose],
  [Linear, linear],
  [Flatten, flatten],
  [Dropout, identity],
  [Dropout2d, identity],
  [Identity, identity],
]);
