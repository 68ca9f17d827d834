/**
 * torch's top-level functions that are Tensor methods here: `torch.exp(x)`,
 * `torch.sum(x, 1)`, `torch.argmax(x, dim=1)`, `torch.softmax(x, 1)`,
 * `torch.flatten(x, 1)` ... port as `exp(x)`, `sum(x, 1)`, `argmax(x, 1)`,
 * `softmax(x, 1)`, `flatten(x, 1)`: each checks that its first argument is
 * a tensor and calls the method, with torch's argument order (keyword
 * arguments are positional, as the methods': `torch.sum(x, 1, keepdim=True)`
 * is `sum(x, 1, true)`; `torch.add(x, y, alpha=2)` is `add(x, y, { alpha: 2 })`).
 *
 * `max(x, dim)` and `min(x, dim)` give the values alone, as `x.max(dim)`
 * here (torch's give values and indices: `argmax(x, dim)` is the indices);
 * `max(x, y)` with a tensor `y` is the elementwise `maximum`, as torch's.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import type { DivOptions } from "./div_rounding.ts";

/** The input of `where`, checked to be a tensor, and the argument count to be at most `most`. */
function input(where: string, x: unknown, given: number, most: number, usage: string): Tensor {
  if (given > most) {
    throw new Error(`${where}: takes at most ${most} arguments, got ${given}; write ${usage}`);
  }
  expectTensor(x, where, usage);
  return x;
}

/**
 * x + other (a tensor, broadcasting, or a number), `other` scaled by
 * `{ alpha }` first (`torch.add`).
 *
 * @example
 * ```ts
 * import { add, tensor } from "@lits/vision";
 * console.log(add(tensor([1, 2]), tensor([10, 20]), { alpha: 2 }).toArray()); // Float32Array [21, 42]
 * ```
 */
export function add(x: Tensor, other: Tensor | number, options: { alpha?: number } = {}): Tensor {
  return input("add", x, arguments.length, 3, "add(x, y, { alpha: 2 })").add(other, options);
}

/**
 * x - other (a tensor, broadcasting, or a number), `other` scaled by
 * `{ alpha }` first (`torch.sub`).
 *
 * @example
 * ```ts
 * import { sub, tensor } from "@lits/vision";
 * console.log(sub(tensor([5, 5]), 1).toArray()); // Float32Array [4, 4]
 * ```
 */
export function sub(x: Tensor, other: Tensor | number, options: { alpha?: number } = {}): Tensor {
  return input("sub", x, arguments.length, 3, "sub(x, y, { alpha: 2 })").sub(other, options);
}

/**
 * x * other, elementwise (a tensor, broadcasting, or a number; `torch.mul`).
 *
 * @example
 * ```ts
 * import { mul, tensor } from "@lits/vision";
 * console.log(mul(tensor([1, 2]), 3).toArray()); // Float32Array [3, 6]
 * ```
 */
export function mul(x: Tensor, other: Tensor | number): Tensor {
  return input("mul", x, arguments.length, 2, "mul(x, y)").mul(other);
}

/**
 * x / other (a tensor, broadcasting, or a number; `torch.div`): true
 * division, or rounded toward zero or minus infinity with `{ roundingMode:
 * "trunc" | "floor" }` (torch's `rounding_mode=`; int32 operands then give
 * int32, and the gradient is zero, as torch's).
 *
 * @example
 * ```ts
 * import { div, tensor } from "@lits/vision";
 * console.log(div(tensor([3, 6]), 3).toArray()); // Float32Array [1, 2]
 * console.log(div(tensor([-7, 7]), 2, { roundingMode: "floor" }).toList()); // [-4, 3]
 * console.log(div(tensor([-7, 7]), 2, { roundingMode: "trunc" }).toList()); // [-3, 3]
 * ```
 */
export function div(x: Tensor, other: Tensor | number, options?: DivOptions): Tensor {
  const usage = 'div(x, y) or div(x, y, { roundingMode: "floor" })';
  return input("div", x, arguments.length, 3, usage).div(other, options);
}

/**
 * -x (`torch.neg`).
 *
 * @example
 * ```ts
 * import { neg, tensor } from "@lits/vision";
 * console.log(neg(tensor([1, -2])).toArray()); // Float32Array [-1, 2]
 * ```
 */
export function neg(x: Tensor): Tensor {
  return input("neg", x, arguments.length, 1, "neg(x)").neg();
}

/**
 * e^x, elementwise (`torch.exp`).
 *
 * @example
 * ```ts
 * import { exp, tensor } from "@lits/vision";
 * console.log(exp(tensor([0])).toArray()); // Float32Array [1]
 * ```
 */
export function exp(x: Tensor): Tensor {
  return input("exp", x, arguments.length, 1, "exp(x)").exp();
}

/**
 * The natural logarithm, elementwise (`torch.log`).
 *
 * @example
 * ```ts
 * import { log, tensor } from "@lits/vision";
 * console.log(log(tensor([1])).toArray()); // Float32Array [0]
 * ```
 */
export function log(x: Tensor): Tensor {
  return input("log", x, arguments.length, 1, "log(x)").log();
}

/**
 * x * x (`torch.square`).
 *
 * @example
 * ```ts
 * import { square, tensor } from "@lits/vision";
 * console.log(square(tensor([-3])).toArray()); // Float32Array [9]
 * ```
 */
export function square(x: Tensor): Tensor {
  return input("square", x, arguments.length, 1, "square(x)").square();
}

/**
 * 1 / sqrt(x) (`torch.rsqrt`).
 *
 * @example
 * ```ts
 * import { rsqrt, tensor } from "@lits/vision";
 * console.log(rsqrt(tensor([4])).toArray()); // Float32Array [0.5]
 * ```
 */
export function rsqrt(x: Tensor): Tensor {
  return input("rsqrt", x, arguments.length, 1, "rsqrt(x)").rsqrt();
}

/**
 * max(x, 0) (`torch.relu`; `F.relu` and `nn.ReLU` are the same).
 *
 * @example
 * ```ts
 * import { relu, tensor } from "@lits/vision";
 * console.log(relu(tensor([-1, 2])).toArray()); // Float32Array [0, 2]
 * ```
 */
export function relu(x: Tensor): Tensor {
  return input("relu", x, arguments.length, 1, "relu(x)").relu();
}

/**
 * 1 / (1 + e^-x) (`torch.sigmoid`).
 *
 * @example
 * ```ts
 * import { sigmoid, tensor } from "@lits/vision";
 * console.log(sigmoid(tensor([0])).toArray()); // Float32Array [0.5]
 * ```
 */
export function sigmoid(x: Tensor): Tensor {
  return input("sigmoid", x, arguments.length, 1, "sigmoid(x)").sigmoid();
}

/**
 * The hyperbolic tangent (`torch.tanh`).
 *
 * @example
 * ```ts
 * import { tanh, tensor } from "@lits/vision";
 * console.log(tanh(tensor([0])).toArray()); // Float32Array [0]
 * ```
 */
export function tanh(x: Tensor): Tensor {
  return input("tanh", x, arguments.length, 1, "tanh(x)").tanh();
}

/**
 * Softmax along `dim` (`torch.softmax(x, dim)`).
 *
 * @example
 * ```ts
 * import { softmax, tensor } from "@lits/vision";
 * console.log(softmax(tensor([[1, 1]]), 1).toArray()); // Float32Array [0.5, 0.5]
 * ```
 */
export function softmax(x: Tensor, dim: number): Tensor {
  return input("softmax", x, arguments.length, 2, "softmax(x, 1)").softmax(dim);
}

/**
 * log(softmax(x)) along `dim`, computed stably (`torch.log_softmax(x, dim)`).
 *
 * @example
 * ```ts
 * import { logSoftmax, tensor } from "@lits/vision";
 * console.log(logSoftmax(tensor([[0, 0]]), 1).exp().toArray()); // Float32Array [0.5, 0.5]
 * ```
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return input("logSoftmax", x, arguments.length, 2, "logSoftmax(x, 1)").logSoftmax(dim);
}

/**
 * The sum over `dim` (all elements when left out; `torch.sum(x, dim,
 * keepdim)`). Exact on int32, with an int32 result (torch's is int64).
 *
 * @example
 * ```ts
 * import { sum, tensor } from "@lits/vision";
 * console.log(sum(tensor([[1, 2], [3, 4]]), 1).toArray()); // Float32Array [3, 7]
 * ```
 */
export function sum(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return input("sum", x, arguments.length, 3, "sum(x, 1, true)").sum(dim, keepDim);
}

/**
 * The mean over `dim` (all elements when left out; `torch.mean(x, dim,
 * keepdim)`); float32 only, as torch's refuses integers.
 *
 * @example
 * ```ts
 * import { mean, tensor } from "@lits/vision";
 * console.log(mean(tensor([1, 2, 3, 6])).item()); // 3
 * ```
 */
export function mean(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return input("mean", x, arguments.length, 3, "mean(x, 1, true)").mean(dim, keepDim);
}

/**
 * The standard deviation over `dim`, unbiased unless `unbiased` is false
 * (`torch.std(x, dim, unbiased, keepdim)`).
 *
 * @example
 * ```ts
 * import { std, tensor } from "@lits/vision";
 * console.log(std(tensor([1, 3])).item().toFixed(4)); // "1.4142"
 * ```
 */
export function std(x: Tensor, dim?: number | number[], unbiased = true, keepDim = false): Tensor {
  return input("std", x, arguments.length, 4, "std(x, 1, false, true)").std(dim, unbiased, keepDim);
}

/**
 * The variance over `dim`, unbiased unless `unbiased` is false
 * (`torch.var(x, dim, unbiased, keepdim)`), exported as `var`.
 *
 * @example
 * ```ts
 * import * as lits from "@lits/vision";
 * console.log(lits.var(lits.tensor([1, 3])).item()); // 2
 * ```
 */
function variance(x: Tensor, dim?: number | number[], unbiased = true, keepDim = false): Tensor {
  return input("var", x, arguments.length, 4, "var(x, 1, false, true)").var(dim, unbiased, keepDim);
}
export { variance as var };

/**
 * `torch.max`: the maximum of all elements (`max(x)`), the maximum values
 * over `dim` (`max(x, 1)`, `max(x, 1, true)`: the values alone, as
 * `x.max(1)` here; `argmax(x, 1)` gives the indices torch's also returns),
 * or with a tensor second the elementwise maximum (`max(x, y)`, as
 * `maximum`). Exact on int32 (class labels: `max(y)`), with int32 results.
 *
 * @example
 * ```ts
 * import { max, tensor } from "@lits/vision";
 * const x = tensor([[1, 5], [7, 2]]);
 * console.log(max(x).item(), max(x, 1).toArray()); // 7 Float32Array [5, 7]
 * console.log(max(x, tensor([3])).toArray()); // Float32Array [3, 5, 7, 3]
 * ```
 */
export function max(x: Tensor, dim?: number | number[] | Tensor, keepDim = false): Tensor {
  return extreme("max", x, dim, keepDim, arguments.length);
}

/**
 * `torch.min`: as `max`, for the minimum (`min(x)`, `min(x, dim,
 * keepDim)` the values, `min(x, y)` the elementwise `minimum`).
 *
 * @example
 * ```ts
 * import { min, tensor } from "@lits/vision";
 * const y = tensor(new Int32Array([2, 0, 1]), [3]);
 * console.log(min(y).item(), max(y).item()); // 0 2
 * ```
 */
export function min(x: Tensor, dim?: number | number[] | Tensor, keepDim = false): Tensor {
  return extreme("min", x, dim, keepDim, arguments.length);
}

function extreme(
  name: "max" | "min",
  x: Tensor,
  dim: number | number[] | Tensor | undefined,
  keepDim: boolean,
  given: number,
): Tensor {
  const t = input(name, x, given, 3, `${name}(x, 1, true), or ${name}(x, y) elementwise`);
  if (dim instanceof Tensor) {
    const usage = `${name}(x, y) (torch's ${name}(x, other) takes no keepdim)`;
    if (given > 2) {
      throw new Error(`${name}: takes 2 arguments with a tensor second; write ${usage}`);
    }
    return name === "max" ? t.maximum(dim) : t.minimum(dim);
  }
  return name === "max" ? t.max(dim, keepDim) : t.min(dim, keepDim);
}

/**
 * The maximum over `dim` (all elements when left out), ties sharing the
 * gradient (`torch.amax(x, dim, keepdim)`).
 *
 * @example
 * ```ts
 * import { amax, tensor } from "@lits/vision";
 * console.log(amax(tensor([[1, 5], [7, 2]]), 0).toArray()); // Float32Array [7, 5]
 * ```
 */
export function amax(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return input("amax", x, arguments.length, 3, "amax(x, 1, true)").amax(dim, keepDim);
}

/**
 * The minimum over `dim` (all elements when left out), ties sharing the
 * gradient (`torch.amin(x, dim, keepdim)`).
 *
 * @example
 * ```ts
 * import { amin, tensor } from "@lits/vision";
 * console.log(amin(tensor([[1, 5], [7, 2]]), 1).toArray()); // Float32Array [1, 2]
 * ```
 */
export function amin(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  return input("amin", x, arguments.length, 3, "amin(x, 1, true)").amin(dim, keepDim);
}

/**
 * The index of the first maximum along `dim` (int32), over all elements
 * flattened when left out (`torch.argmax(x, dim, keepdim)`): the predicted
 * class of logits is `argmax(logits, 1)`.
 *
 * @example
 * ```ts
 * import { argmax, tensor } from "@lits/vision";
 * console.log(argmax(tensor([[0.1, 0.9], [0.8, 0.2]]), 1).toList()); // [1, 0]
 * ```
 */
export function argmax(x: Tensor, dim?: number, keepDim = false): Tensor {
  return input("argmax", x, arguments.length, 3, "argmax(x, 1)").argmax(dim, keepDim);
}

/**
 * The elementwise maximum of two tensors, broadcasting (`torch.maximum`).
 *
 * @example
 * ```ts
 * import { maximum, tensor } from "@lits/vision";
 * console.log(maximum(tensor([1, 4]), tensor([3, 2])).toArray()); // Float32Array [3, 4]
 * ```
 */
export function maximum(x: Tensor, other: Tensor): Tensor {
  return input("maximum", x, arguments.length, 2, "maximum(x, y)").maximum(other);
}

/**
 * The elementwise minimum of two tensors, broadcasting (`torch.minimum`).
 *
 * @example
 * ```ts
 * import { minimum, tensor } from "@lits/vision";
 * console.log(minimum(tensor([1, 4]), tensor([3, 2])).toArray()); // Float32Array [1, 2]
 * ```
 */
export function minimum(x: Tensor, other: Tensor): Tensor {
  return input("minimum", x, arguments.length, 2, "minimum(x, y)").minimum(other);
}

/**
 * Dims `startDim` .. `endDim` merged into one (`torch.flatten(x, 1)`
 * before a classifier's linear layer).
 *
 * @example
 * ```ts
 * import { flatten, zeros } from "@lits/vision";
 * console.log(flatten(zeros([2, 3, 4, 4]), 1).shape); // [2, 48]
 * ```
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  return input("flatten", x, arguments.length, 3, "flatten(x, 1)").flatten(startDim, endDim);
}

/**
 * The same elements in another shape, one size -1 inferred
 * (`torch.reshape(x, (2, -1))`).
 *
 * @example
 * ```ts
 * import { arange, reshape } from "@lits/vision";
 * console.log(reshape(arange(6), [2, -1]).shape); // [2, 3]
 * ```
 */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const usage = "reshape(x, [2, -1])";
  const t = input("reshape", x, arguments.length, 2, usage);
  if (!Array.isArray(shape)) {
    throw new Error(`reshape: the shape is one list of sizes, got ${typeof shape}; write ${usage}`);
  }
  return t.reshape(shape);
}

/**
 * Dims `dim0` and `dim1` swapped (a view; `torch.transpose(x, 0, 1)`).
 *
 * @example
 * ```ts
 * import { transpose, zeros } from "@lits/vision";
 * console.log(transpose(zeros([2, 3]), 0, 1).shape); // [3, 2]
 * ```
 */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  return input("transpose", x, arguments.length, 3, "transpose(x, 0, 1)").transpose(dim0, dim1);
}

/**
 * The dims in the order `dims` (a view; `torch.permute(x, (0, 2, 3, 1))`).
 *
 * @example
 * ```ts
 * import { permute, zeros } from "@lits/vision";
 * console.log(permute(zeros([1, 3, 4, 5]), [0, 2, 3, 1]).shape); // [1, 4, 5, 3]
 * ```
 */
export function permute(x: Tensor, dims: number[]): Tensor {
  const usage = "permute(x, [0, 2, 3, 1])";
  const t = input("permute", x, arguments.length, 2, usage);
  if (!Array.isArray(dims)) {
    throw new Error(`permute: the dims are one list, got ${typeof dims}; write ${usage}`);
  }
  return t.permute(dims);
}

/**
 * A size-1 dim inserted at `dim` (`torch.unsqueeze(x, 0)`: a batch of one).
 *
 * @example
 * ```ts
 * import { unsqueeze, zeros } from "@lits/vision";
 * console.log(unsqueeze(zeros([3, 4]), 0).shape); // [1, 3, 4]
 * ```
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  return input("unsqueeze", x, arguments.length, 2, "unsqueeze(x, 0)").unsqueeze(dim);
}

/**
 * Size-1 dims removed: all of them, or only `dim` (`torch.squeeze(x, 1)`).
 *
 * @example
 * ```ts
 * import { squeeze, zeros } from "@lits/vision";
 * console.log(squeeze(zeros([2, 1, 3])).shape); // [2, 3]
 * ```
 */
export function squeeze(x: Tensor, dim?: number): Tensor {
  const t = input("squeeze", x, arguments.length, 2, "squeeze(x, 1)");
  return dim === undefined ? t.squeeze() : t.squeeze(dim);
}
