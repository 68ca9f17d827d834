/**
 * Comparisons `gt lt ge le eq ne` with broadcasting, against a tensor or a
 * number.
 *
 * PyTorch returns bool tensors; we have float32 and int32 only, so a mask
 * is float32 holding 1 where the comparison holds and 0 elsewhere. That is
 * what PyTorch users do with a mask anyway (`mask.sum()` counts,
 * `x.mul(mask)` selects, `where(mask, a, b)` picks), and `where` takes any
 * nonzero value as true. NaN compares as IEEE says: every comparison with
 * NaN is false except `ne`. Masks never require gradients. An int32 tensor
 * against an int32 tensor or a number is compared exactly on the host, as
 * torch's integer comparison (as float32, 16777216 == 16777217 held): such
 * tensors are labels and indices, read to the host once either way.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import type { Device } from "../device.ts";
import { binaryRaw, broadcastShapes } from "./elementwise.ts";
import { fromHost } from "./creation.ts";
import { cast } from "./shape.ts";
import { atMostArgs } from "./arity.ts";

/** The comparison ops. */
export type CompareOp = "gt" | "lt" | "ge" | "le" | "eq" | "ne";

/** @internal a 0-d float32 tensor holding `value` on `device` (an op result). */
export function scalarTensor(value: number, device: Device): Tensor {
  const t = Tensor.empty([], "float32", device);
  check(t.lib, t.lib.lits_fill_f32(t.ptr, 1, value), () => `fill ${value}`);
  return t;
}

/** @internal throws unless `x` is a Tensor (`what` names the argument). */
export function expectTensor(x: unknown, what: string, usage: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    const got = x === null ? "null" : Array.isArray(x) ? "an array" : typeof x;
    throw new Error(`${what}: expected a Tensor, got ${got}; write ${usage}`);
  }
}

const HOST_OPS: Record<CompareOp, (x: number, y: number) => boolean> = {
  gt: (x, y) => x > y,
  lt: (x, y) => x < y,
  ge: (x, y) => x >= y,
  le: (x, y) => x <= y,
  eq: (x, y) => x === y,
  ne: (x, y) => x !== y,
};

/**
 * `op` of int32 `a` and an int32 tensor or a number, exactly, on the host;
 * null for other operands (float32 on the device).
 */
function exactIntCompare(op: CompareOp, a: Tensor, b: Tensor | number): Tensor | null {
  if (a.dtype !== "int32" || (typeof b !== "number" && b.dtype !== "int32")) return null;
  const av = a.toArray() as Int32Array;
  const bv = typeof b === "number" ? null : b.toArray() as Int32Array;
  const bShape = typeof b === "number" ? [] : b.shape;
  const shape = broadcastShapes(a.shape, bShape, op);
  const stridesOf = (s: readonly number[]) => {
    const lead = shape.length - s.length;
    let step = 1;
    const out = new Array<number>(shape.length).fill(0);
    for (let i = s.length - 1; i >= 0; i--) {
      out[lead + i] = s[i] === 1 ? 0 : step;
      step *= s[i];
    }
    return out;
  };
  const sa = stridesOf(a.shape), sb = stridesOf(bShape);
  const out = new Float32Array(shape.reduce((p, d) => p * d, 1));
  const test = HOST_OPS[op];
  for (let k = 0; k < out.length; k++) {
    let rest = k, ia = 0, ib = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rest % shape[d];
      rest = (rest - i) / shape[d];
      ia += i * sa[d];
      ib += i * sb[d];
    }
    out[k] = test(av[ia], bv === null ? (b as number) : bv[ib]) ? 1 : 0;
  }
  return fromHost(out, shape, { device: a.device }, true);
}

function compareOp(op: CompareOp, a: Tensor, b: Tensor | number): Tensor {
  expectTensor(a, `${op}: the first argument`, `${op}(x, 0) or x.${op}(0)`);
  if (typeof b !== "number") {
    expectTensor(b, `${op}: the second argument`, `${op}(x, y) with a Tensor or a number y`);
  }
  const exact = exactIntCompare(op, a, b);
  if (exact) return exact;
  const af = a.dtype === "float32" ? a : cast(a, "float32");
  let bf: Tensor;
  if (typeof b === "number") {
    bf = scalarTensor(b, a.device);
  } else {
    expectTensor(b, `${op}: the second argument`, `${op}(x, y) with a Tensor or a number y`);
    bf = b.dtype === "float32" ? b : cast(b, "float32");
  }
  try {
    return binaryRaw(op, af, bf);
  } finally {
    if (af !== a) af.dispose();
    if (bf !== b) bf.dispose();
  }
}

/**
 * 1 where `a > b`, else 0 (a float32 mask; broadcasting; no gradient).
 *
 * @example
 * ```ts
 * import { gt, tensor } from "@lits/vision";
 * console.log(gt(tensor([1, 2, 3]), 2).toArray()); // Float32Array [0, 0, 1]
 * ```
 */
export function gt(a: Tensor, b: Tensor | number): Tensor {
  atMostArgs("gt", arguments.length, 2, "gt(a, b)", arguments[2]);
  return compareOp("gt", a, b);
}

/**
 * 1 where `a < b`, else 0 (a float32 mask; broadcasting; no gradient).
 *
 * @example
 * ```ts
 * import { lt, tensor } from "@lits/vision";
 * console.log(lt(tensor([1, 2, 3]), tensor([2])).toArray()); // Float32Array [1, 0, 0]
 * ```
 */
export function lt(a: Tensor, b: Tensor | number): Tensor {
  atMostArgs("lt", arguments.length, 2, "lt(a, b)", arguments[2]);
  return compareOp("lt", a, b);
}

/**
 * 1 where `a >= b`, else 0 (a float32 mask; broadcasting; no gradient).
 *
 * @example
 * ```ts
 * import { ge, tensor } from "@lits/vision";
 * console.log(ge(tensor([1, 2, 3]), 2).toArray()); // Float32Array [0, 1, 1]
 * ```
 */
export function ge(a: Tensor, b: Tensor | number): Tensor {
  atMostArgs("ge", arguments.length, 2, "ge(a, b)", arguments[2]);
  return compareOp("ge", a, b);
}

/**
 * 1 where `a <= b`, else 0 (a float32 mask; broadcasting; no gradient).
 *
 * @example
 * ```ts
 * import { le, tensor } from "@lits/vision";
 * console.log(le(tensor([1, 2, 3]), 2).toArray()); // Float32Array [1, 1, 0]
 * ```
 */
export function le(a: Tensor, b: Tensor | number): Tensor {
  atMostArgs("le", arguments.length, 2, "le(a, b)", arguments[2]);
  return compareOp("le", a, b);
}

/**
 * 1 where `a == b`, else 0 (a float32 mask; broadcasting; no gradient).
 *
 * @example
 * ```ts
 * import { eq, tensor } from "@lits/vision";
 * const labels = tensor(new Int32Array([0, 2, 1]), [3]);
 * console.log(eq(labels, tensor(new Int32Array([0, 1, 1]), [3])).sum().item()); // 2
 * ```
 */
export function eq(a: Tensor, b: Tensor | number): Tensor {
  atMostArgs("eq", arguments.length, 2, "eq(a, b)", arguments[2]);
  return compareOp("eq", a, b);
}

/**
 * 1 where `a != b` (NaN != NaN), else 0 (a float32 mask; broadcasting; no
 * gradient).
 *
 * @example
 * ```ts
 * import { ne, tensor } from "@lits/vision";
 * console.log(ne(tensor([1, NaN, 3]), tensor([1, NaN, 0])).toArray()); // Float32Array [0, 1, 1]
 * ```
 */
export function ne(a: Tensor, b: Tensor | number): Tensor {
  atMostArgs("ne", arguments.length, 2, "ne(a, b)", arguments[2]);
  return compareOp("ne", a, b);
}
