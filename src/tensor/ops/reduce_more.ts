/**
 * Products and the reductions torch has beside sum and argmax: `prod`,
 * `cumprod`, `argmin`, `countNonzero`.
 *
 * `prod` multiplies halves on the device (log2 n elementwise products).
 * Its gradient is torch's `prod_backward`: `grad * result / x` where the
 * input holds no zero, else the product of every other element (exclusive
 * running products from both ends, read on the host as torch reads its zero
 * count), and over all elements with two zeros or more the zero tensor, as
 * torch's outside `create_graph`. `cumprod` runs on the host in double, as
 * torch's CPU kernel (exactly its values), and its gradient is torch's
 * O(n) `cumprod_backward` with the first-zero cases. Integer products are
 * exact (int32 results, torch's int64: a product int32 cannot hold is an
 * Error).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import { expectTensor, ne } from "./compare.ts";
import { binaryRaw, div, mul, neg, requireFloat } from "./elementwise.ts";
import { argExtremeInt, argmax, sum } from "./reduce.ts";
import { cast, narrow, normDim, reshape } from "./shape.ts";
import { cat } from "./join.ts";
import { filledOp } from "./creation.ts";
import { around, dimOf, hostResult } from "./host_values.ts";
import { hasOut, outError, showValue } from "./show_value.ts";

const INT32_MIN = -(2n ** 31n), INT32_MAX = 2n ** 31n - 1n;

function checkKeepDim(where: string, keepDim: unknown): void {
  if (typeof keepDim !== "boolean") {
    if (hasOut(keepDim)) throw outError(where, `x.${where}(dim, keepDim)`);
    throw new Error(
      `${where}: keepDim is the third argument, true or false, as in x.${where}(1, true); got ` +
        showValue(keepDim),
    );
  }
}

function checkNumeric(where: string, x: unknown, usage: string): asserts x is Tensor {
  expectTensor(x, where, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
}

/** The product along `d` (kept, size 1) by halves on the device; no autograd. */
function productAlong(x: Tensor, d: number): Tensor {
  return noGrad(() => {
    let t = x, r = x.shape[d];
    if (r === 0) return filledOp(x.shape.map((s, i) => (i === d ? 1 : s)), 1, x.device);
    while (r > 1) {
      const h = Math.floor(r / 2);
      let p = binaryRaw("mul", narrow(t, d, 0, h), narrow(t, d, h, h));
      if (r % 2 === 1) p = cat([p, narrow(t, d, 2 * h, 1)], d);
      t = p;
      r = p.shape[d];
    }
    return t === x ? binaryRaw("mul", x, filledOp([], 1, x.device)) : t;
  });
}

/** An int32 tensor's values as a BigInt product along `d` (exact), checked to fit int32. */
function intProducts(x: Tensor, d: number, running: boolean, what: string): Int32Array {
  const v = x.toArray() as Int32Array;
  const [outer, r, inner] = around(x.shape, d);
  const out = new Int32Array(running ? v.length : outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let p = 1n;
      for (let j = 0; j < r; j++) {
        p = BigInt.asIntN(64, p * BigInt(v[(o * r + j) * inner + i]));
        if (running) out[(o * r + j) * inner + i] = fitInt32(p, what);
      }
      if (!running) out[o * inner + i] = fitInt32(p, what);
    }
  }
  return out;
}

function fitInt32(p: bigint, what: string): number {
  if (p < INT32_MIN || p > INT32_MAX) {
    throw new Error(
      `${what}: the product ${p} does not fit int32, this library's integer type (torch's ` +
        "int64); take the product of x.float() instead",
    );
  }
  return Number(p);
}

/** The product of every element but one, per element along `d` (torch's safe-zeros backward). */
function exclusiveProducts(x: Tensor, d: number): Tensor {
  const v = x.toArray();
  const [outer, r, inner] = around(x.shape, d);
  const w = new Float32Array(v.length);
  const f = Math.fround;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => (o * r + j) * inner + i;
      // Running products in double, each stored as float32: torch's cumprod on the CPU.
      let p = 1;
      for (let j = 0; j < r; j++) {
        w[at(j)] = f(p);
        p *= v[at(j)];
      }
      p = 1;
      for (let j = r - 1; j >= 0; j--) {
        w[at(j)] = f(w[at(j)] * f(p));
        p *= v[at(j)];
      }
    }
  }
  return hostResult(w, x.shape, "float32", x.device);
}

/** How many elements of x are 0 (read on the host, as torch's prod_backward reads it). */
function zeroCount(x: Tensor): number {
  return noGrad(() => sum(binaryRaw("eq", x, filledOp([], 0, x.device))).item());
}

/**
 * The product of all elements (a 0-d tensor), or along `dim` (one
 * dimension, as torch's), as `torch.prod`. Float32 gives float32 with
 * torch's gradient (exact with zeros in the input); int32 gives the exact
 * int32 product (torch's int64; one beyond int32 is an Error). Float32
 * products are taken in halves (pairwise), not left to right as torch's
 * CPU loop: the last bits may differ, and a partial product that
 * overflows in torch ([1e20, 1e20, 1e-20, 1e-20]: inf) may not here (1).
 *
 * @example
 * ```ts
 * import { prod, tensor } from "@lits/vision";
 * console.log(prod(tensor([[1, 2], [3, 4]])).item(), prod(tensor([[1, 2], [3, 4]]), 1).toList()); // 24 [2, 12]
 * ```
 */
export function prod(x: Tensor, dim?: number, keepDim = false): Tensor {
  const usage = "prod(x) or prod(x, dim, keepDim) (x.prod(1))";
  if (arguments.length > 3) {
    throw new Error(`prod: takes (x, dim, keepDim), got ${arguments.length} arguments`);
  }
  checkNumeric("prod", x, usage);
  checkKeepDim("prod", keepDim);
  if (Array.isArray(dim)) {
    throw new Error(
      `prod: reduces one dimension or all, as torch's, got [${dim}]; write x.prod(d1).prod(d0)`,
    );
  }
  const all = dim === undefined;
  const d = all ? 0 : dimOf(x, dim, "prod");
  const flat = all || x.ndim === 0 ? reshape(x, [x.numel()]) : x;
  const outShape = all || x.ndim === 0
    ? []
    : x.shape.map((s, i) => (i === d ? 1 : s)).filter((_, i) => keepDim || i !== d);
  if (x.dtype === "int32") {
    return hostResult(intProducts(flat, d, false, "prod"), outShape, "int32", x.device);
  }
  const keepShape = flat.shape.map((s, i) => (i === d ? 1 : s));
  const kept = productAlong(flat, d);
  const out = reshape(kept, outShape);
  return record(out, {
    name: "prod",
    inputs: [x],
    saved: [x, kept],
    backward: (g) => {
      if (x.ndim === 0) return [g];
      const zeros = zeroCount(x);
      if (all && zeros > 1) return [filledOp(x.shape, 0, x.device)];
      const gk = reshape(g, keepShape);
      const dx = zeros === 0 ? mul(gk, div(kept, flat)) : mul(gk, exclusiveProducts(flat, d));
      return [reshape(dx, [...x.shape])];
    },
  });
}

/** cumprod of float32 `v` along [outer, r, inner], in double, stored as float32. */
function runningProducts(v: Float32Array, outer: number, r: number, inner: number): Float32Array {
  const y = new Float32Array(v.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let p = 1;
      for (let j = 0; j < r; j++) {
        const at = (o * r + j) * inner + i;
        p *= v[at];
        y[at] = p;
      }
    }
  }
  return y;
}

/** torch's cumprod_backward (no create_graph) on host values. */
function cumprodGrad(
  x: Float32Array,
  y: Float32Array,
  g: Float32Array,
  [outer, r, inner]: [number, number, number],
): Float32Array {
  const f = Math.fround;
  const dx = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => (o * r + j) * inner + i;
      let z1 = r;
      for (let j = 0; j < r; j++) {
        if (x[at(j)] === 0) {
          z1 = j;
          break;
        }
      }
      // Before the first zero: the reversed running sum of y * g (in double), over x.
      let s = 0;
      for (let j = z1 - 1; j >= 0; j--) {
        s += f(y[at(j)] * g[at(j)]);
        dx[at(j)] = f(f(s) / x[at(j)]);
      }
      if (z1 === r) continue;
      // At the first zero: the products past it up to the second zero, times what came before.
      let z2 = r;
      for (let j = z1 + 1; j < r; j++) {
        if (x[at(j)] === 0) {
          z2 = j;
          break;
        }
      }
      let p = 1, t = 0;
      for (let j = z1; j < z2; j++) {
        if (j > z1) p *= x[at(j)];
        t += f(f(p) * g[at(j)]);
      }
      dx[at(z1)] = f(f(t) * (z1 === 0 ? 1 : y[at(z1 - 1)]));
    }
  }
  return dx;
}

/**
 * The running products along `dim`, as `torch.cumprod(x, dim)`: element j
 * is x[0] * ... * x[j], multiplied in double as torch's CPU kernel (on the
 * host: a CUDA tensor makes a round trip). The gradient is torch's,
 * zeros in the input included. Int32 products are exact (int32 results).
 *
 * @example
 * ```ts
 * import { cumprod, tensor } from "@lits/vision";
 * console.log(cumprod(tensor([1, 2, 3, 4]), 0).toList()); // [1, 2, 6, 24]
 * ```
 */
export function cumprod(x: Tensor, dim: number): Tensor {
  const usage = "cumprod(x, dim) (x.cumprod(1))";
  if (arguments.length !== 2) {
    throw new Error(`cumprod: takes (x, dim), got ${arguments.length} arguments; write ${usage}`);
  }
  checkNumeric("cumprod", x, usage);
  const d = dimOf(x, dim, "cumprod");
  const sizes = around(x.shape, d);
  if (x.dtype === "int32") {
    return hostResult(intProducts(x, d, true, "cumprod"), x.shape, "int32", x.device);
  }
  const xv = x.toArray() as Float32Array;
  const yv = runningProducts(xv, ...sizes);
  const out = hostResult(yv, x.shape, "float32", x.device);
  return record(out, {
    name: "cumprod",
    inputs: [x],
    saved: [x],
    backward: (g) => {
      if (x.numel() <= 1 || sizes[1] === 1) return [g];
      const gv = g.toArray() as Float32Array;
      return [hostResult(cumprodGrad(xv, yv, gv, sizes), x.shape, "float32", x.device)];
    },
  });
}

/**
 * The index of the first minimum along `dim` (int32; torch's int64), or of
 * all elements flattened when left out, as `torch.argmin`; NaN counts as
 * the minimum, as torch's.
 *
 * @example
 * ```ts
 * import { argmin, tensor } from "@lits/vision";
 * console.log(argmin(tensor([[3, 1, 1], [0, 5, 2]]), 1).toList()); // [1, 0]
 * ```
 */
export function argmin(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (arguments.length > 3) {
    throw new Error(`argmin: takes (x, dim, keepDim), got ${arguments.length} arguments`);
  }
  expectTensor(x, "argmin", "argmin(x, dim)");
  if (x.dtype === "int32") return argExtremeInt(x, dim, keepDim, false);
  requireFloat(x, "argmin");
  checkKeepDim("argmin", keepDim);
  if (dim !== undefined && x.ndim > 0) {
    const d = normDim(dim, x.ndim, "argmin");
    if (x.shape[d] === 0) {
      throw new Error(`argmin: cannot reduce an empty dimension of [${x.shape}]`);
    }
  } else if (x.numel() === 0) {
    throw new Error(`argmin: cannot reduce an empty tensor [${x.shape}]`);
  }
  return noGrad(() => argmax(neg(x), dim, keepDim));
}

/**
 * How many elements are nonzero (NaN counts), over `dim` (one or a list;
 * all when left out), as `torch.count_nonzero`: int32 (torch's int64).
 *
 * @example
 * ```ts
 * import { countNonzero, tensor } from "@lits/vision";
 * console.log(countNonzero(tensor([[0, 1, 2], [0, 0, 3]]), 1).toList()); // [2, 1]
 * ```
 */
export function countNonzero(x: Tensor, dim?: number | number[]): Tensor {
  if (arguments.length > 2) {
    throw new Error(`countNonzero: takes (x, dim), got ${arguments.length} arguments`);
  }
  checkNumeric("countNonzero", x, "countNonzero(x, dim)");
  if (dim !== undefined) {
    for (const d of Array.isArray(dim) ? dim : [dim]) dimOf(x, d, "countNonzero");
  }
  return noGrad(() => cast(sum(ne(x, 0), dim), "int32"));
}
