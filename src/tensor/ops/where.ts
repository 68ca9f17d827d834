/**
 * `where(cond, a, b)`: a where cond is nonzero, b elsewhere, with
 * broadcasting (torch.where).
 *
 * It is its own kernel, not `cond * a + (1 - cond) * b`: that sum turns an
 * inf or NaN in the unchosen branch into NaN (0 * inf), so
 * `where(x.gt(0), x.log(), 0)` would give NaN where x <= 0. The kernel reads
 * only the chosen value. The gradient goes to a where cond holds and to b
 * elsewhere, as PyTorch's where(cond, g, 0): what an op before `where`
 * makes of that zero (log's 0 / 0 = NaN at x = 0) is PyTorch's result too.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { broadcastOperand, broadcastShapes, sameDevice } from "./elementwise.ts";
import { sumToShape } from "./reduce.ts";
import { cast, i64 } from "./shape.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { atMostArgs } from "./arity.ts";
import { broadcastIndex, hostResult } from "./host_values.ts";

const USAGE = "where(x.gt(0), x, 0)";

/** @internal the where kernel over float32 tensors (no autograd). */
export function whereRaw(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  sameDevice(cond, a, "where");
  sameDevice(a, b, "where");
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, "where"), b.shape, "where");
  const out = Tensor.empty(shape, "float32", a.device);
  check(
    a.lib,
    a.lib.lits_where_f32(
      shape.length,
      i64(shape),
      ...broadcastOperand(cond, shape),
      ...broadcastOperand(a, shape),
      ...broadcastOperand(b, shape),
      out.ptr,
    ),
    () => `where cond [${cond.shape}], a [${a.shape}], b [${b.shape}]`,
  );
  return out;
}

function branch(x: Tensor | number, name: string, device: Tensor["device"]): Tensor {
  if (typeof x === "number") return scalarTensor(x, device);
  expectTensor(x, `where: ${name}`, `${USAGE} (a Tensor or a number)`);
  // An int32 branch beside a float32 one or a fraction: torch promotes to float32.
  return x.dtype === "float32" ? x : cast(x, "float32");
}

const isInt = (v: unknown): v is Tensor => v instanceof Tensor && v.dtype === "int32";

/**
 * Whether `where(cond, a, b)` stays int32, as torch keeps int64
 * (`where(y.eq(2), 1, y)`): an int32 tensor, and the other branch one too
 * or an integer number.
 */
function intBranches(a: unknown, b: unknown): boolean {
  const intLike = (v: unknown) => isInt(v) || (typeof v === "number" && Number.isInteger(v));
  return (isInt(a) || isInt(b)) && intLike(a) && intLike(b);
}

/** The int32 where, exact, on a host copy (int tensors are labels: small); no gradient. */
function intWhere(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  for (const [v, name] of [[a, "a"], [b, "b"]] as const) {
    if (v instanceof Tensor) sameDevice(cond, v, "where");
    else if (v < -(2 ** 31) || v >= 2 ** 31) {
      throw new Error(
        `where: ${name} = ${v} is beyond int32, this library's integer type (torch's int64 ` +
          "holds it); convert the int32 branch to float32 first (.float())",
      );
    }
  }
  const shapeOf = (v: Tensor | number) => (typeof v === "number" ? [] : v.shape);
  const shape = broadcastShapes(
    broadcastShapes(cond.shape, shapeOf(a), "where"),
    shapeOf(b),
    "where",
  );
  const values = (v: Tensor | number) => (typeof v === "number" ? [v] : v.toArray());
  const cv = cond.toArray(), av = values(a), bv = values(b);
  const ic = broadcastIndex(cond.shape, shape);
  const ia = broadcastIndex(shapeOf(a), shape), ib = broadcastIndex(shapeOf(b), shape);
  const out = new Int32Array(ic.length);
  // NaN in a float32 cond is nonzero, so true, as in the float kernel.
  for (let k = 0; k < out.length; k++) out[k] = cv[ic[k]] !== 0 ? av[ia[k]] : bv[ib[k]];
  return hostResult(out, shape, "int32", cond.device);
}

/**
 * Elements of `a` where `cond` is nonzero, of `b` elsewhere, broadcasting
 * all three (torch.where). `cond` is a mask from the comparisons (`x.gt(0)`)
 * or any float32 or int32 tensor: any nonzero value, NaN included, is true.
 * `a` and `b` are tensors or numbers; gradients flow to each where it was
 * chosen, and NaN or inf in the branch not chosen never shows. int32
 * labels stay int32 when the other branch is int32 or an integer number
 * (`where(y.eq(2), 1, y)` merges classes; torch keeps int64); an int32
 * tensor beside a float32 one or a fraction is promoted to float32, as
 * torch promotes.
 *
 * @example
 * ```ts
 * import { tensor, where } from "@lits/vision";
 * const x = tensor([-1, 0, 1, 2], undefined, { requiresGrad: true });
 * const y = where(x.gt(0), x.log(), 0); // log(-1) = NaN is not chosen
 * console.log(y.toArray()); // Float32Array [0, 0, 0, 0.6931471824645996]
 * y.sum().backward(); // as PyTorch: log's backward makes 0 / 0 = NaN at x = 0
 * console.log(x.grad!.toArray()); // Float32Array [-0, NaN, 1, 0.5]
 * const labels = tensor(new Int32Array([0, 2, 1, 2]), [4]);
 * console.log(where(labels.eq(2), 1, labels).toList()); // [0, 1, 1, 1] (int32)
 * ```
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  atMostArgs("where", arguments.length, 3, "where(cond, a, b)", arguments[3]);
  if (arguments.length === 1) {
    throw new Error(
      "where: takes (cond, a, b); torch's one-argument where(cond) is written " +
        "nonzero(cond, { asTuple: true }) (the indices where cond holds)",
    );
  }
  expectTensor(cond, "where: cond", USAGE);
  if (intBranches(a, b)) return intWhere(cond, a, b);
  const c = cond.dtype === "float32" ? cond : cast(cond, "float32");
  const at = branch(a, "a", cond.device);
  const bt = branch(b, "b", cond.device);
  let out: Tensor;
  try {
    out = whereRaw(c, at, bt);
  } finally {
    if (at !== a) at.dispose();
    if (bt !== b) bt.dispose();
  }
  // Per position, not per tensor: where(c, x, x) passes x twice.
  const parts: [Tensor, boolean][] = [];
  if (a instanceof Tensor) parts.push([a, true]);
  if (b instanceof Tensor) parts.push([b, false]);
  return record(out, {
    name: "where",
    inputs: parts.map(([t]) => t),
    saved: [c], // the condition's values (c is cond, or a copy of it)
    backward: (g) => {
      const zero = scalarTensor(0, g.device);
      return parts.map(([t, isA]) =>
        t.requiresGrad
          ? sumToShape(isA ? whereRaw(c, g, zero) : whereRaw(c, zero, g), t.shape)
          : null
      );
    },
  });
}

/**
 * `x` with `value` wherever `mask` is nonzero, as `torch.masked_fill`:
 * `mask` (from the comparisons, `x.lt(0)`, or any float32 or int32 tensor)
 * must broadcast to x's shape, and the result has x's shape and dtype.
 * `value` is a number or a 0-d tensor. The gradient reaches x where the
 * mask is zero. An int32 x (labels: `target.maskedFill(target.eq(2), 255)`)
 * takes an integer value and stays int32; a fraction is an Error (torch
 * would truncate it).
 *
 * @example
 * ```ts
 * import { maskedFill, tensor } from "@lits/vision";
 * const x = tensor([[1, -2], [-3, 4]]);
 * console.log(maskedFill(x, x.lt(0), 0).toList()); // [[1, 0], [0, 4]]
 * const target = tensor(new Int32Array([0, 2, 1]), [3]);
 * console.log(target.maskedFill(target.eq(2), 255).toList()); // [0, 255, 1]
 * ```
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | Tensor): Tensor {
  const usage = "maskedFill(x, mask, 0) (x.maskedFill(x.lt(0), 0))";
  if (arguments.length !== 3) {
    throw new Error(`maskedFill: takes (x, mask, value), got ${arguments.length} arguments`);
  }
  expectTensor(x, "maskedFill", usage);
  expectTensor(mask, "maskedFill: mask", usage);
  if (typeof value !== "number") {
    expectTensor(value, "maskedFill: value", `${usage} (a number or a 0-d tensor)`);
    if (value.ndim !== 0) {
      throw new Error(
        `maskedFill: value must be a number or a 0-d tensor, got a tensor of shape [${value.shape}]`,
      );
    }
  }
  if (x.dtype === "int32") {
    // torch keeps x's dtype: a fraction (or NaN) into int64 labels is silently truncated.
    const v = typeof value === "number" ? value : value.item();
    if (!Number.isInteger(v)) {
      throw new Error(
        `maskedFill: value ${v} is not an integer and x is int32 [${x.shape}] (torch would ` +
          "truncate it); write an integer, or convert x with x.float()",
      );
    }
    value = typeof value === "number" || value.dtype === "int32" ? value : v;
  } else if (typeof value !== "number" && value.dtype === "int32") {
    value = value.item(); // x's dtype wins, as torch's
  }
  const shape = broadcastShapes(mask.shape, x.shape, "maskedFill");
  if (shape.join() !== x.shape.join()) {
    throw new Error(
      `maskedFill: mask [${mask.shape}] must broadcast to x's shape [${x.shape}], not widen it`,
    );
  }
  return where(mask, value, x);
}
