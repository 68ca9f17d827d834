/**
 * torch.Tensor methods built over existing ops (the tensor_docs audit):
 * `x.unfold(dim, size, step)` as a strided view with its gradient,
 * `x.take(index)`, `x.indexFill(dim, index, value)` and the random fills
 * `x.uniform_(a, b)` / `x.normal_(mean, std)`.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { isGradEnabled, noGrad, record } from "../autograd.ts";
import { narrow, normDim, permute, reshape } from "./shape.ts";
import { expectTensor } from "./compare.ts";
import { fromHost, zeros } from "./creation.ts";
import { indexSelect, indexVector } from "./gather.ts";
import { indexAdd } from "./scatter.ts";
import { maskedFill } from "./where.ts";
import { fillNormal, fillUniform } from "./random.ts";
import { inPlace } from "./in_place_ops.ts";

/** The windows' view (no checks, no autograd): dim d counts windows, a last dim of `size`. */
function windows(x: Tensor, d: number, size: number, step: number): Tensor {
  const count = Math.floor((x.shape[d] - size) / step) + 1;
  const shape = [...x.shape, size], strides = [...x.strides, x.strides[d]];
  shape[d] = count;
  strides[d] = x.strides[d] * step;
  return x._view(shape, strides, x.offset);
}

/**
 * @internal torch's `x.unfold(dimension, size, step)`: every window of `size`
 * elements along `dim`, `step` apart, as a view (a write into a window
 * reaches x); the windows count along `dim` and their elements along a new
 * last dimension. Overlapping windows add their gradients.
 */
export function unfoldView(x: Tensor, dim: number, size: number, step: number): Tensor {
  const usage = "x.unfold(dim, size, step) (F.unfold is the image patches' im2col)";
  expectTensor(x, "unfold", usage);
  const d = x.ndim === 0 ? 0 : normDim(dim, x.ndim, "unfold");
  const n = x.ndim === 0 ? 1 : x.shape[d];
  if (!Number.isInteger(size) || size < 0 || size > n) {
    throw new Error(
      `unfold: size ${size} must be an integer in [0, ${n}] (dimension ${d}); ${usage}`,
    );
  }
  if (!Number.isInteger(step) || step < 1) {
    throw new Error(`unfold: step must be a positive integer, got ${step}; ${usage}`);
  }
  // torch: a 0-d x gives [size] (size 0 or 1), a view of its element.
  if (x.ndim === 0) return narrow(reshape(x, [1]), 0, 0, size);
  const out = windows(x, d, size, step);
  const inShape = [...x.shape], count = out.shape[d];
  return record(out, {
    name: "unfold",
    inputs: [x],
    saved: [],
    backward: (g) => [
      noGrad(() => {
        // [.., count, .., size] -> [.., count * size, ..], added at w * step + k along d.
        const order = [...inShape.keys()];
        order.splice(d + 1, 0, inShape.length);
        const rows = reshape(permute(g, order), [
          ...inShape.slice(0, d),
          count * size,
          ...inShape.slice(d + 1),
        ]);
        const at = new Int32Array(count * size);
        for (let w = 0; w < count; w++) {
          for (let k = 0; k < size; k++) at[w * size + k] = w * step + k;
        }
        return indexAdd(zeros(inShape, { device: g.device }), d, indexVector(at, g.device), rows);
      }),
    ],
  });
}

/** Index values on the host, negative ones counted from `n`, each checked against [-n, n). */
function wrapped(where: string, index: Tensor, n: number, usage: string): Int32Array {
  expectTensor(index, `${where}: index`, usage);
  if (index.dtype !== "int32") {
    throw new Error(
      `${where}: index must be an int32 tensor, got ${index.dtype}; convert with .int()`,
    );
  }
  const at = Int32Array.from(index.toArray());
  at.forEach((v, i) => {
    if (v < -n || v >= n) {
      throw new Error(`${where}: index ${v} is out of range for ${n} elements`);
    }
    if (v < 0) at[i] = v + n;
  });
  return at;
}

/**
 * @internal torch's `x.take(index)`: x read as if flattened, at `index` (any shape,
 * negative counting from the end); the result has index's shape.
 */
export function take(x: Tensor, index: Tensor): Tensor {
  const usage = "x.take(index) with an int32 index";
  expectTensor(x, "take", usage);
  const at = wrapped("take", index, x.numel(), usage);
  const flat = indexSelect(reshape(x, [x.numel()]), 0, indexVector(at, x.device));
  return reshape(flat, [...index.shape]);
}

/**
 * @internal torch's `x.index_fill(dim, index, value)`: the slices at `index` along
 * `dim` (negative counting from the end) set to `value` (a number or a 0-d
 * tensor); x elsewhere.
 */
export function indexFill(x: Tensor, dim: number, index: Tensor, value: number | Tensor): Tensor {
  const usage = "x.indexFill(dim, index, value) with a 1-D int32 index";
  expectTensor(x, "indexFill", usage);
  const d = x.ndim === 0 ? 0 : normDim(dim, x.ndim, "indexFill");
  if (index instanceof Tensor && index.ndim > 1) {
    throw new Error(`indexFill: index must be 1-D (or 0-d), got [${index.shape}]; ${usage}`);
  }
  const n = x.ndim === 0 ? 1 : x.shape[d];
  const at = wrapped("indexFill", index, n, usage);
  // maskedFill checks these too, but its errors would name maskedFill.
  if (value instanceof Tensor && value.ndim !== 0) {
    throw new Error(
      `indexFill: value must be a number or a 0-d tensor, got a tensor of shape ` +
        `[${value.shape}] (torch's index_fill takes one value)`,
    );
  }
  if (x.dtype === "int32" && typeof value === "number" && !Number.isInteger(value)) {
    throw new Error(
      `indexFill: value ${value} is not an integer and x is int32 [${x.shape}] (torch would ` +
        "truncate it); write an integer, or convert x with x.float()",
    );
  }
  const mask = new Float32Array(n);
  for (const i of at) mask[i] = 1;
  const shape = x.shape.map((s, i) => (i === d ? s : 1));
  const m = fromHost(mask, shape, { device: x.device }, true);
  return maskedFill(x, m, value);
}

/** Checks a random fill's target and bounds; `what` is torch's method name. */
function fillTarget(x: Tensor, what: string, a: number, b: number, names: [string, string]): void {
  if (x.dtype !== "float32") {
    throw new Error(`x.${what}: random values need a float32 tensor, got ${x.dtype} [${x.shape}]`);
  }
  if (isGradEnabled() && x.requiresGrad) {
    // inPlace's own message would offer an out-of-place x.uniform that does not exist.
    throw new Error(
      `x.${what}: an in-place fill of a tensor that requires grad; run it inside ` +
        `noGrad(() => x.${what}(...)) (torch's with torch.no_grad(), which nn.init uses too)`,
    );
  }
  [a, b].forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`x.${what}: ${names[i]} must be a finite number, got ${String(v)}`);
    }
  });
}

/** @internal torch's `x.uniform_(from, to)`: uniform numbers in [from, to) written into x. */
export function uniformIn(x: Tensor, low: number, high: number): Tensor {
  fillTarget(x, "uniform_", low, high, ["from", "to"]);
  if (!(low <= high)) throw new Error(`x.uniform_: from ${low} is greater than to ${high}`);
  return inPlace(x, "uniform_", [], () => {
    const r = Tensor.empty(x.shape, "float32", x.device);
    fillUniform(r, low, high, "x.uniform_");
    return r;
  });
}

/** @internal torch's `x.normal_(mean, std)`: N(mean, std^2) numbers written into x. */
export function normalIn(x: Tensor, mean: number, std: number): Tensor {
  fillTarget(x, "normal_", mean, std, ["mean", "std"]);
  if (std < 0) throw new Error(`x.normal_: std must be >= 0, got ${std}`);
  return inPlace(x, "normal_", [], () => {
    const r = Tensor.empty(x.shape, "float32", x.device);
    fillNormal(r, mean, std, "x.normal_");
    return r;
  });
}
