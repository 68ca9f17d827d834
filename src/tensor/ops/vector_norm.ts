/**
 * Vector norms and what is built on them: `norm` (torch.norm over
 * dimensions), `normalize` (F.normalize) and `cosineSimilarity`
 * (F.cosine_similarity), with torch 1.13's gradients.
 *
 * `norm` records torch's own backward (x / ||x|| for p = 2, and 0 for a zero
 * vector, where composing sqrt would give NaN). `cosineSimilarity` divides
 * each input by its norm clamped at eps, as torch 1.13 does; torch clamps
 * those norms in place without autograd, so its gradient treats the clamp
 * as the identity and the norm's own backward divides by the clamped value.
 * `clampedNorm` records exactly that, so a near-zero vector gets torch's
 * (large) gradient and not a different one.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { noGrad, record } from "../autograd.ts";
import {
  abs,
  binaryRaw,
  broadcastShapes,
  div,
  mul,
  pow,
  requireFloat,
  sqrt,
} from "./elementwise.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { amax, sum } from "./reduce.ts";
import { clampMin } from "./clamp.ts";
import { whereRaw } from "./where.ts";
import { sign } from "./rounding.ts";
import { expand, normDim, reshape } from "./shape.ts";

/** The order of a norm: a number > 0, Infinity, or torch's "fro" (= 2). */
export type NormOrder = number | "fro";

function order(where: string, p: unknown): number {
  if (p === "fro") return 2;
  if (typeof p !== "number" || !(p > 0)) {
    throw new Error(
      `${where}: p must be a number > 0, Infinity or "fro", got ${
        typeof p === "number" ? String(p) : JSON.stringify(p) ?? String(p)
      } (torch's p=0, p=-inf and "nuc" have no form here)`,
    );
  }
  return p;
}

function dimsOf(where: string, x: Tensor, dim: unknown): number[] {
  if (dim === undefined || dim === null) return x.shape.map((_, i) => i);
  const list = Array.isArray(dim) ? dim : [dim];
  if (list.some((d) => !Number.isInteger(d))) {
    throw new Error(
      `${where}: dim must be an integer or a list of them, got ${JSON.stringify(dim)}`,
    );
  }
  const dims = list.map((d) => normDim(d as number, Math.max(x.ndim, 1), where));
  if (new Set(dims).size !== dims.length) {
    throw new Error(`${where}: dim ${JSON.stringify(dim)} names a dimension twice`);
  }
  return dims;
}

/** ||x||_p over `dims` with the reduced dimensions kept (no autograd). */
function normValue(x: Tensor, p: number, dims: number[]): Tensor {
  if (p === 2) return sqrt(sum(mul(x, x), dims, true));
  if (p === 1) return sum(abs(x), dims, true);
  if (p === Infinity) {
    // The largest of nothing is 0 here (torch's norm of an empty slice).
    if (dims.some((d) => x.shape[d] === 0)) return sum(abs(x), dims, true);
    return amax(abs(x), dims, true);
  }
  return pow(sum(pow(abs(x), p), dims, true), 1 / p);
}

/** torch's norm backward for g of the kept shape; 0 where the norm is 0. */
function normGrad(x: Tensor, p: number, dims: number[], n: Tensor, g: Tensor): Tensor {
  const zero = scalarTensor(0, n.device);
  const nonzero = binaryRaw("ne", n, zero);
  // g / n is inf or NaN at a zero norm, where torch's gradient is 0.
  const safe = (v: Tensor) => whereRaw(nonzero, v, zero);
  if (p === 1) return mul(sign(x), g);
  if (p === 2) return mul(x, safe(div(g, n)));
  if (p === Infinity) {
    const hits = binaryRaw("eq", abs(x), n);
    return mul(mul(sign(x), hits), div(g, sum(hits, dims, true)));
  }
  const scale = safe(div(g, pow(n, p - 1)));
  const part = p < 1 ? mul(sign(x), pow(abs(x), p - 1)) : mul(x, pow(abs(x), p - 2));
  // A zero element meets 0^(p - 2) = inf below p = 2: torch gives it 0.
  return mul(whereRaw(binaryRaw("ne", x, zero), part, zero), scale);
}

/**
 * The p-norm of x over `dim` (a dimension, a list, or all when left out),
 * as `torch.norm(x, p, dim, keepdim)`: p = 2 (default; also "fro"), 1,
 * Infinity (the largest |x|), or any p > 0. The gradient is torch's; a zero
 * vector gets 0 (not NaN).
 *
 * @example
 * ```ts
 * import { norm, tensor } from "@lits/vision";
 * console.log(norm(tensor([[3, 4], [6, 8]]), 2, 1).toArray()); // Float32Array [5, 10]
 * ```
 */
export function norm(
  x: Tensor,
  p: NormOrder = 2,
  dim?: number | number[] | null,
  keepDim = false,
): Tensor {
  const where = "norm";
  if (arguments.length > 4) {
    throw new Error(`norm: takes (x, p, dim, keepDim), got ${arguments.length} arguments`);
  }
  expectTensor(x, where, "norm(x, 2, 1)");
  requireFloat(x, where);
  if (typeof keepDim !== "boolean") {
    throw new Error(`norm: keepDim must be a boolean, got ${JSON.stringify(keepDim)}`);
  }
  const q = order(where, p);
  const dims = dimsOf(where, x, dim);
  const kept = noGrad(() => normValue(x, q, dims));
  const outShape = x.shape.filter((_, i) => !dims.includes(i));
  const out = keepDim ? kept : reshape(kept, outShape);
  const inShape = [...x.shape];
  return record(out, {
    name: "norm",
    inputs: [x],
    saved: [x, kept],
    backward: (g) => [normGrad(x, q, dims, kept, expand(reshape(g, [...kept.shape]), inShape))],
  });
}

/**
 * max(||x||_2 over `dim` (kept), eps), whose gradient is x / that value: the
 * clamp passes the gradient as the identity (torch 1.13's cosine_similarity).
 */
function clampedNorm(x: Tensor, dim: number, eps: number): Tensor {
  const n = noGrad(() => clampMin(sqrt(sum(mul(x, x), dim, true)), eps));
  return record(n, {
    name: "cosineSimilarity norm",
    inputs: [x],
    saved: [x, n],
    backward: (g) => [mul(x, div(g, n))],
  });
}

/**
 * x divided by its p-norm over `dim` (default 1), the norm clamped at `eps`
 * (default 1e-12), as `F.normalize(x, p, dim, eps)`: unit feature vectors
 * for cosine heads and embeddings.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.normalize(tensor([[3, 4]])).toArray()); // Float32Array [0.6000000238418579, 0.800000011920929]
 * ```
 */
export function normalize(x: Tensor, p: NormOrder = 2, dim = 1, eps = 1e-12): Tensor {
  refuseKeywords("F.normalize", p, "x", ["p", "dim", "eps"], [2, 1, 1e-12]);
  if (arguments.length > 4) {
    throw new Error(`normalize: takes (x, p, dim, eps), got ${arguments.length} arguments`);
  }
  expectTensor(x, "normalize", "F.normalize(x, 2, 1)");
  if (!Number.isInteger(dim)) {
    throw new Error(`normalize: dim must be an integer, got ${JSON.stringify(dim)}`);
  }
  if (typeof eps !== "number" || !(eps >= 0)) {
    throw new Error(`normalize: eps must be a number >= 0, got ${String(eps)}`);
  }
  return div(x, clampMin(norm(x, p, dim, true), eps));
}

/**
 * The cosine of the angle between x1 and x2 along `dim` (default 1), as
 * `F.cosine_similarity(x1, x2, dim, eps)`: the inputs broadcast, each is
 * divided by its norm clamped at `eps` (default 1e-8), and the products are
 * summed. Values and gradients are torch 1.13's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.cosineSimilarity(tensor([[1, 0]]), tensor([[1, 1]])).toArray()); // Float32Array [0.7071067690849304]
 * ```
 */
export function cosineSimilarity(x1: Tensor, x2: Tensor, dim = 1, eps = 1e-8): Tensor {
  refuseKeywords("F.cosineSimilarity", dim, "x1, x2", ["dim", "eps"], [1, 1e-8]);
  const usage = "F.cosineSimilarity(x1, x2, 1, 1e-8)";
  if (arguments.length > 4) {
    throw new Error(
      `cosineSimilarity: takes (x1, x2, dim, eps), got ${arguments.length} arguments`,
    );
  }
  expectTensor(x1, "cosineSimilarity: x1", usage);
  expectTensor(x2, "cosineSimilarity: x2", usage);
  requireFloat(x1, "cosineSimilarity");
  requireFloat(x2, "cosineSimilarity");
  if (typeof eps !== "number" || !(eps >= 0)) {
    throw new Error(`cosineSimilarity: eps must be a number >= 0, got ${String(eps)}`);
  }
  const shape = broadcastShapes(x1.shape, x2.shape, "cosineSimilarity");
  if (!Number.isInteger(dim)) {
    throw new Error(`cosineSimilarity: dim must be an integer, got ${JSON.stringify(dim)}`);
  }
  const d = normDim(dim, Math.max(shape.length, 1), "cosineSimilarity");
  const a = x1.shape.join() === shape.join() ? x1 : expand(x1, shape);
  const b = x2.shape.join() === shape.join() ? x2 : expand(x2, shape);
  const u = div(a, clampedNorm(a, d, eps)), v = div(b, clampedNorm(b, d, eps));
  return sum(mul(u, v), d);
}
