/**
 * Small linear algebra as torch names it: `diag`, `diagonal`, `outer`,
 * `dot`, `mv`, `inner`, `addmm` and `baddbmm`, built on the GEMM
 * (`matmul`, `mm`, `bmm`) and the index kernels. Gradients flow through the
 * ops they are made of. `diagonal` is a view, as torch's; `diag` a copy.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import { add, broadcastShapes, mul, requireFloat, sameDevice } from "./elementwise.ts";
import { bmm, matmul, mm } from "./matmul.ts";
import { clone, normDim, reshape, transpose } from "./shape.ts";
import { expectTensor } from "./compare.ts";
import { zeros } from "./creation.ts";
import { indexVector } from "./gather.ts";
import { indexAdd } from "./scatter.ts";
import { checkOptions } from "../../options.ts";
import { checkElements } from "../sizes.ts";
import { inFloat32 } from "../autocast.ts";

function floatTensor(where: string, x: unknown, usage: string): asserts x is Tensor {
  expectTensor(x, where, usage);
  requireFloat(x, where);
}

function intArg(where: string, name: string, v: unknown, usage: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new Error(
      `${where}: ${name} must be an integer, got ${JSON.stringify(v)}; write ${usage}`,
    );
  }
  return v;
}

/** Flat positions of the diagonal `offset` of an n1 x n2 matrix, and its length. */
function diagPositions(n1: number, n2: number, offset: number): Int32Array {
  const len = Math.max(0, Math.min(n1 - Math.max(0, -offset), n2 - Math.max(0, offset)));
  const start = offset >= 0 ? offset : -offset * n2;
  return Int32Array.from({ length: len }, (_, i) => start + i * (n2 + 1));
}

/**
 * The diagonal `offset` (above the main one when positive) of the
 * matrices in dimensions `dim1` and `dim2`, as `torch.diagonal`: those
 * dimensions removed and the diagonal appended last. A view, as torch's:
 * `x.diagonal().fill_(0)` writes into x (a copy made that write vanish
 * silently). The gradient goes back onto the diagonal.
 *
 * @example
 * ```ts
 * import { diagonal, tensor, zeros } from "@lits/vision";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * console.log(diagonal(x).toList(), diagonal(x, 1).toList()); // [1, 5] [2, 6]
 * const m = zeros([2, 2]);
 * diagonal(m).fill_(7);
 * console.log(m.toList()); // [[7, 0], [0, 7]]
 * ```
 */
export function diagonal(x: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  const usage = "diagonal(x, offset, dim1, dim2)";
  expectTensor(x, "diagonal", usage);
  if (arguments.length > 4) {
    throw new Error(`diagonal: takes (x, offset, dim1, dim2), got ${arguments.length}`);
  }
  intArg("diagonal", "offset", offset, usage);
  if (x.ndim < 2) throw new Error(`diagonal: x must have at least 2 dimensions, got [${x.shape}]`);
  const a = normDim(intArg("diagonal", "dim1", dim1, usage), x.ndim, "diagonal");
  const b = normDim(intArg("diagonal", "dim2", dim2, usage), x.ndim, "diagonal");
  if (a === b) throw new Error(`diagonal: dim1 and dim2 cannot be the same dimension (${a})`);
  const shape = [...x.shape];
  const out = diagonalView(x, offset, a, b);
  return record(out, {
    name: "diagonal",
    inputs: [x],
    saved: [],
    backward: (g) => [
      noGrad(() => {
        const z = zeros(shape, { device: g.device });
        diagonalView(z, offset, a, b).copy_(g).dispose();
        return z;
      }),
    ],
  });
}

/** The strided view of the diagonal (no checks, no autograd): one stride s1 + s2. */
function diagonalView(x: Tensor, offset: number, a: number, b: number): Tensor {
  const n1 = x.shape[a], n2 = x.shape[b];
  const len = Math.max(0, Math.min(n1 - Math.max(0, -offset), n2 - Math.max(0, offset)));
  const rest = [...x.shape.keys()].filter((d) => d !== a && d !== b);
  const s = x.strides;
  // An empty diagonal starts at x's own offset (torch's too): no element is read.
  const start = len === 0 ? 0 : offset >= 0 ? offset * s[b] : -offset * s[a];
  return x._view(
    [...rest.map((d) => x.shape[d]), len],
    [...rest.map((d) => s[d]), s[a] + s[b]],
    x.offset + start,
  );
}

/**
 * A 1-D x as the diagonal `diagonal` of a square matrix (zeros elsewhere),
 * or the diagonal of a 2-D x as a vector, as `torch.diag`.
 *
 * @example
 * ```ts
 * import { diag, tensor } from "@lits/vision";
 * console.log(diag(tensor([1, 2])).toList()); // [[1, 0], [0, 2]]
 * console.log(diag(tensor([[1, 2], [3, 4]]), -1).toList()); // [3]
 * ```
 */
export function diag(x: Tensor, diagonalOffset = 0): Tensor {
  const usage = "diag(x, 0) with a 1-D or 2-D x";
  floatTensor("diag", x, usage);
  if (arguments.length > 2) throw new Error(`diag: takes (x, diagonal), got ${arguments.length}`);
  const k = intArg("diag", "diagonal", diagonalOffset, usage);
  // torch's diag of a matrix is a copy (diagonal is the view).
  if (x.ndim === 2) return clone(diagonal(x, k));
  if (x.ndim !== 1) throw new Error(`diag: expected a 1-D or 2-D tensor, got [${x.shape}]`);
  const m = x.shape[0] + Math.abs(k);
  checkElements([m, m], "diag");
  const pos = diagPositions(m, m, k);
  const z = zeros([m * m], { device: x.device });
  return reshape(indexAdd(z, 0, indexVector(pos, x.device), x), [m, m]);
}

function pair(where: string, a: unknown, b: unknown, usage: string): [Tensor, Tensor] {
  floatTensor(where, a, usage);
  floatTensor(where, b, usage);
  sameDevice(a, b, where);
  return [a, b];
}

/**
 * The outer product of two 1-D tensors, as `torch.outer`: `[n]` and `[m]`
 * give `[n, m]`.
 *
 * @example
 * ```ts
 * import { outer, tensor } from "@lits/vision";
 * console.log(outer(tensor([1, 2]), tensor([3, 4])).toList()); // [[3, 4], [6, 8]]
 * ```
 */
export function outer(x: Tensor, vec2: Tensor): Tensor {
  const [a, b] = pair("outer", x, vec2, "outer(a, b) with 1-D tensors");
  if (arguments.length > 2) throw new Error(`outer: takes (a, b), got ${arguments.length}`);
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new Error(`outer: expected 1-D tensors, got [${a.shape}] and [${b.shape}]`);
  }
  return mul(reshape(a, [a.shape[0], 1]), reshape(b, [1, b.shape[0]]));
}

/**
 * The dot product of two 1-D tensors of one length, as `torch.dot` (0-d).
 *
 * @example
 * ```ts
 * import { dot, tensor } from "@lits/vision";
 * console.log(dot(tensor([1, 2]), tensor([3, 4])).item()); // 11
 * ```
 */
export function dot(x: Tensor, other: Tensor): Tensor {
  const [a, b] = pair("dot", x, other, "dot(a, b) with 1-D tensors");
  if (arguments.length > 2) throw new Error(`dot: takes (a, b), got ${arguments.length}`);
  if (a.ndim !== 1 || b.ndim !== 1) {
    throw new Error(`dot: 1D tensors expected, but got ${a.ndim}D and ${b.ndim}D tensors`);
  }
  if (a.shape[0] !== b.shape[0]) {
    throw new Error(
      `dot: inconsistent tensor size, expected [${a.shape}] and [${b.shape}] to have the same ` +
        "number of elements",
    );
  }
  return inFloat32(() => matmul(a, b)); // PyTorch's autocast leaves dot in fp32
}

/**
 * A matrix [n, m] times a vector [m], as `torch.mv`: [n].
 *
 * @example
 * ```ts
 * import { mv, tensor } from "@lits/vision";
 * console.log(mv(tensor([[1, 2], [3, 4]]), tensor([1, 1])).toList()); // [3, 7]
 * ```
 */
export function mv(x: Tensor, vec: Tensor): Tensor {
  const [a, b] = pair("mv", x, vec, "mv(matrix, vector)");
  if (arguments.length > 2) throw new Error(`mv: takes (matrix, vector), got ${arguments.length}`);
  if (a.ndim !== 2 || b.ndim !== 1) {
    throw new Error(
      `mv: expected a 2-D matrix and a 1-D vector, got [${a.shape}] and [${b.shape}]`,
    );
  }
  if (a.shape[1] !== b.shape[0]) {
    throw new Error(`mv: size mismatch, matrix [${a.shape}] and vector [${b.shape}]`);
  }
  return inFloat32(() => matmul(a, b)); // PyTorch's autocast leaves mv in fp32
}

/**
 * The inner product over the last dimensions, as `torch.inner`: shape
 * `x.shape[:-1] + other.shape[:-1]`; with a 0-d operand, the product.
 *
 * @example
 * ```ts
 * import { inner, tensor } from "@lits/vision";
 * console.log(inner(tensor([[1, 2], [3, 4]]), tensor([1, 1])).toList()); // [3, 7]
 * ```
 */
export function inner(x: Tensor, other: Tensor): Tensor {
  const [a, b] = pair("inner", x, other, "inner(a, b)");
  if (arguments.length > 2) throw new Error(`inner: takes (a, b), got ${arguments.length}`);
  if (a.ndim === 0 || b.ndim === 0) return mul(a, b);
  const k = a.shape[a.ndim - 1];
  if (b.shape[b.ndim - 1] !== k) {
    throw new Error(
      `inner: the last dimensions differ, [${a.shape}] and [${b.shape}] (they must be equal)`,
    );
  }
  const la = a.shape.slice(0, -1), lb = b.shape.slice(0, -1);
  // Rows counted, not -1 (ambiguous when k is 0 and there are no elements).
  const rows = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const y = mm(reshape(a, [rows(la), k]), transpose(reshape(b, [rows(lb), k]), 0, 1));
  return reshape(y, [...la, ...lb]);
}

interface ScaleOptions {
  beta?: number;
  alpha?: number;
}

function scales(where: string, options: unknown, usage: string): [number, number] {
  const { beta = 1, alpha = 1 } = checkOptions<ScaleOptions>(
    where,
    options,
    ["beta", "alpha"],
    usage,
  );
  for (const [name, v] of [["beta", beta], ["alpha", alpha]] as const) {
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new Error(`${where}: ${name} must be a number, got ${String(v)}; write ${usage}`);
    }
  }
  return [beta, alpha];
}

/** beta * input + alpha * product; input ignored when beta is 0 (torch: its NaN do not show). */
function scaledSum(
  where: string,
  input: Tensor,
  prod: Tensor,
  beta: number,
  alpha: number,
): Tensor {
  sameDevice(input, prod, where);
  const b = broadcastShapes(input.shape, prod.shape, where);
  if (b.length !== prod.ndim || b.some((s, i) => s !== prod.shape[i])) {
    throw new Error(
      `${where}: input [${input.shape}] does not broadcast to the product [${prod.shape}]`,
    );
  }
  const term = alpha === 1 ? prod : mul(prod, alpha);
  if (beta === 0) {
    if (!input.requiresGrad) return term;
    // torch: input is not read, and its gradient is zeros (not absent).
    const out = noGrad(() => add(term, 0));
    return record(out, {
      name: where,
      inputs: [term, input],
      saved: [],
      backward: (g) => [g, zeros([...input.shape], { device: input.device })],
    });
  }
  return add(beta === 1 ? input : mul(input, beta), term);
}

/**
 * beta * input + alpha * (mat1 @ mat2), as `torch.addmm(input, mat1, mat2,
 * *, beta=1, alpha=1)`: input broadcasts to [n, p]; with beta 0 it is not
 * read (its NaN do not show), as torch's.
 *
 * @example
 * ```ts
 * import { addmm, tensor } from "@lits/vision";
 * const out = addmm(tensor([1, 1]), tensor([[1, 2]]), tensor([[3, 4], [5, 6]]), { alpha: 2 });
 * console.log(out.toList()); // [[27, 33]]
 * ```
 */
export function addmm(
  input: Tensor,
  mat1: Tensor,
  mat2: Tensor,
  options?: { beta?: number; alpha?: number },
): Tensor {
  const usage = "addmm(input, mat1, mat2, { beta: 1, alpha: 1 })";
  if (arguments.length > 4) {
    throw new Error(`addmm: takes (input, mat1, mat2, options), got ${arguments.length}`);
  }
  floatTensor("addmm", input, usage);
  const [a, b] = pair("addmm", mat1, mat2, usage);
  const [beta, alpha] = scales("addmm", options, usage);
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new Error(`addmm: mat1 and mat2 must be 2-D, got [${a.shape}] and [${b.shape}]`);
  }
  return scaledSum("addmm", input, mm(a, b), beta, alpha);
}

/**
 * beta * input + alpha * (batch1 @ batch2) over a batch, as
 * `torch.baddbmm(input, batch1, batch2, *, beta=1, alpha=1)`: batch1
 * [b, n, m], batch2 [b, m, p], input broadcasting to [b, n, p].
 *
 * @example
 * ```ts
 * import { baddbmm, ones, zeros } from "@lits/vision";
 * const out = baddbmm(zeros([2, 1, 1]), ones([2, 1, 3]), ones([2, 3, 1]), { alpha: 0.5 });
 * console.log(out.toList()); // [[[1.5]], [[1.5]]]
 * ```
 */
export function baddbmm(
  input: Tensor,
  batch1: Tensor,
  batch2: Tensor,
  options?: { beta?: number; alpha?: number },
): Tensor {
  const usage = "baddbmm(input, batch1, batch2, { beta: 1, alpha: 1 })";
  if (arguments.length > 4) {
    throw new Error(`baddbmm: takes (input, batch1, batch2, options), got ${arguments.length}`);
  }
  floatTensor("baddbmm", input, usage);
  const [a, b] = pair("baddbmm", batch1, batch2, usage);
  const [beta, alpha] = scales("baddbmm", options, usage);
  if (a.ndim !== 3 || b.ndim !== 3) {
    throw new Error(`baddbmm: batch1 and batch2 must be 3-D, got [${a.shape}] and [${b.shape}]`);
  }
  return scaledSum("baddbmm", input, bmm(a, b), beta, alpha);
}
