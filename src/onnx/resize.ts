/**
 * `nn.Upsample` (and `UpsamplingNearest2d`, `UpsamplingBilinear2d`, which
 * are Upsample with fixed options) as ONNX Resize, with the attributes
 * that reproduce `F.interpolate`'s sampling positions:
 *
 * | torch mode    | Resize mode | coordinate_transformation_mode | and                            |
 * | ------------- | ----------- | ------------------------------ | ------------------------------ |
 * | nearest       | nearest     | asymmetric (x / scale)         | nearest_mode floor             |
 * | nearest-exact | nearest     | half_pixel                     | nearest_mode round_prefer_ceil |
 * | (bi)linear    | linear      | half_pixel, or align_corners   |                                |
 * | bicubic       | cubic       | half_pixel, or align_corners   | cubic_coeff_a -0.75            |
 *
 * half_pixel rather than pytorch_half_pixel, which samples position 0 for
 * an output of size 1 where torch samples the middle. "area" is adaptive
 * average pooling in torch, and is exported as that.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { Upsample } from "../layers/upsample.ts";
import type { InterpolateMode } from "../tensor/ops/interpolate.ts";
import { type Emitter, type Scope, shapeText, type Value } from "./graph.ts";
import type { AttributeValue } from "./proto.ts";
import { adaptiveAverage, binMatrixT } from "./pooling.ts";
import { spatial, where } from "./shapes.ts";

/** The input ranks each mode takes (torch's rule, as `F.interpolate`'s). */
const MODE_RANKS: Record<InterpolateMode, readonly number[]> = {
  nearest: [3, 4, 5],
  "nearest-exact": [3, 4, 5],
  linear: [3],
  bilinear: [4],
  bicubic: [4],
  trilinear: [5],
  area: [3, 4],
};

/** The float32 next to the float32 `v` (> 0), above it (`step` 1) or below (-1). */
function nextFloat32(v: number, step: 1 | -1): number {
  const bits = new Uint32Array(new Float32Array([v]).buffer);
  bits[0] += step;
  return new Float32Array(bits.buffer)[0];
}

/**
 * The float32 scale to give Resize for `scale` along a dimension of `size`
 * that torch makes `out` long. torch's nearest copies a dimension that
 * keeps its size and halves indices where it doubles, and its linear modes
 * copy one that keeps its size, whatever the scale: those get 1 and 2.
 * Otherwise float32(scale), moved to a neighbouring float where needed:
 * ONNX Runtime sizes the output as float32(scale) * size in float32, and
 * its shape inference in double, and for 1.3 on 10 those give 13 and 12
 * where torch gives 13. A step moves the sampling positions by parts in 10^8.
 */
function resizeScale(mode: InterpolateMode, size: number, out: number, scale: number): number {
  const linear = mode === "linear" || mode === "bilinear" || mode === "trilinear";
  if ((mode === "nearest" || linear) && out === size) return 1;
  if (mode === "nearest" && out === 2 * size) return 2;
  const sized = (s: number) => [Math.trunc(Math.fround(s * size)), Math.floor(s * size)];
  let s = Math.fround(scale);
  for (let step = 0; step < 16; step++) {
    const [single, double] = sized(s);
    if (single === out && double === out) return s;
    s = nextFloat32(s, Math.min(single, double) < out ? 1 : -1);
  }
  throw new Error(`exportOnnx: no float32 scale resizes ${size} to ${out} (scale ${scale})`);
}

/** torch's "area": the adaptive average pooling bins, along one or two dimensions. */
function area(scope: Scope, x: Value, out: number[]): Value {
  if (out.length === 2) return adaptiveAverage(scope, x, out[0], out[1]);
  const size = x.shape[2] as number;
  const bins = scope.graph.floats(scope.at("bins"), binMatrixT(size, out[0]), [size, out[0]]);
  return scope.graph.node("MatMul", scope.path, [x.name, bins], [x.shape[0], x.shape[1], out[0]]);
}

const upsample: Emitter<Upsample> = (scope, m, x) => {
  const mode = m.mode, o = m.options, ranks = MODE_RANKS[mode];
  if (!ranks.includes(x.shape.length)) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: mode "${mode}" takes a ${ranks.join("-D, ")}-D input ` +
        `[N, C, ...spatial], but its input would be ${shapeText(x.shape)}`,
    );
  }
  const sizes = spatial(scope, m, x), n = sizes.length;
  const given = o.size ?? o.scaleFactor!;
  const per = typeof given === "number" ? sizes.map(() => given) : given;
  if (per.length !== n) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: ${o.size !== undefined ? "size" : "scaleFactor"} ` +
        `${JSON.stringify(given)} does not give one number per spatial dimension of ` +
        shapeText(x.shape),
    );
  }
  const out = o.size !== undefined ? per : sizes.map((d, i) => Math.floor(d * per[i]));
  if (out.some((d) => d < 1)) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} makes an empty output from ${shapeText(x.shape)}`,
    );
  }
  if (mode === "area") return area(scope, x, out);

  const g = scope.graph;
  let inputs: string[];
  if (o.size !== undefined || o.recomputeScaleFactor) {
    // Positions from in / out, as torch computes them without a scale. The
    // batch and channels are read from the input, so the batch stays dynamic.
    const head = g.node("Shape", scope.at("batch_channels"), [x.name], [2], { start: 0, end: 2 });
    const tail = g.int64s(scope.at("spatial_sizes"), out);
    const all = g.node("Concat", scope.at("sizes"), [head.name, tail], [n + 2], { axis: 0 });
    inputs = [x.name, "", "", all.name];
  } else {
    const scales = per.map((f, i) => resizeScale(mode, sizes[i], out[i], f));
    if (out.every((d, i) => d === sizes[i]) && scales.some((f) => f !== 1)) {
      throw new Error(
        `exportOnnx: ${where(scope, m)}: scaleFactor ${JSON.stringify(given)} keeps every ` +
          `size of ${shapeText(x.shape)}, which mode "${mode}" still resamples (as in ` +
          "PyTorch), but ONNX Runtime copies a Resize whose output shape is its input's, so " +
          "the graph would compute something else; this layer is not exported",
      );
    }
    inputs = [x.name, "", g.floats(scope.at("scales"), new Float32Array([1, 1, ...scales]))];
  }
  const nearest = mode === "nearest" || mode === "nearest-exact";
  const attrs: Record<string, AttributeValue> = {
    mode: nearest ? "nearest" : mode === "bicubic" ? "cubic" : "linear",
    coordinate_transformation_mode: mode === "nearest"
      ? "asymmetric"
      : nearest || !o.alignCorners
      ? "half_pixel"
      : "align_corners",
  };
  if (nearest) attrs.nearest_mode = mode === "nearest" ? "floor" : "round_prefer_ceil";
  if (mode === "bicubic") attrs.cubic_coeff_a = { f: -0.75 };
  return g.node("Resize", scope.path, inputs, [x.shape[0], x.shape[1], ...out], attrs);
};

/** The resizing emitters, by class (Upsample's subclasses are found through it). */
export const RESIZE = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [Upsample, upsample],
]);
