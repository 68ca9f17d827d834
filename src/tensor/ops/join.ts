/**
 * `cat` and `stack` (torch.cat, torch.stack): tensors joined along a
 * dimension into one new dense tensor. Each input's gradient is its slice of
 * the output's gradient (a view).
 *
 * The copy kernel writes a dense block, and each input's block of the output
 * is dense only when nothing precedes the joined dimension. Otherwise the
 * inputs are gathered with the joined dimension moved to the front, then
 * copied once more into the output's layout: one extra pass, kept because
 * cat is not on the training hot path.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { contiguousStrides, numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { sameDevice } from "./elementwise.ts";
import { denseCopy, i64, normDim } from "./shape.ts";
import { atMostArgs } from "./arity.ts";

function checkList(tensors: unknown, what: string, usage: string): asserts tensors is Tensor[] {
  if (!Array.isArray(tensors)) {
    const got = tensors instanceof Tensor ? `a Tensor [${tensors.shape}]` : typeof tensors;
    throw new Error(`${what}: expected an array of tensors, got ${got}; write ${usage}`);
  }
  if (tensors.length === 0) throw new Error(`${what}: expected a non-empty array of tensors`);
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) {
      throw new Error(`${what}: element ${i} is ${typeof t}, not a Tensor; write ${usage}`);
    }
  });
  const first = tensors[0] as Tensor;
  for (const t of tensors as Tensor[]) {
    if (t.dtype !== first.dtype) {
      throw new Error(
        `${what}: tensors have different dtypes (${describe(tensors as Tensor[])}); ` +
          "convert them first with .float() or .int()",
      );
    }
    sameDevice(first, t, what);
  }
}

function describe(tensors: Tensor[]): string {
  return tensors.map((t) => `[${t.shape}] ${t.dtype}`).join(", ");
}

/** A raw view (no autograd) of `t` with its dimensions in `order`. */
function reordered(t: Tensor, order: number[]): Tensor {
  return t._view(order.map((i) => t.shape[i]), order.map((i) => t.strides[i]), t.offset);
}

/** Copies `t` densely into `dst` starting at element `at` of its storage. */
function copyInto(t: Tensor, dst: Tensor, at: number): void {
  if (t.numel() === 0) return;
  const block = dst._view(t.shape, contiguousStrides(t.shape), dst.offset + at);
  check(
    t.lib,
    t.lib.lits_strided_copy(t.ndim, i64(t.shape), t.ptr, i64(t.strides), block.ptr),
    () => `cat: copy of [${t.shape}]`,
  );
  block.dispose();
}

/** The joined tensor, without autograd; inputs already checked. */
function joinRaw(tensors: Tensor[], d: number, shape: number[]): Tensor {
  const first = tensors[0];
  const outer = numel(shape.slice(0, d));
  if (outer === 1) {
    const out = Tensor.empty(shape, first.dtype, first.device);
    const inner = numel(shape.slice(d + 1));
    let start = 0;
    for (const t of tensors) {
      copyInto(t, out, start * inner);
      start += t.shape[d];
    }
    return out;
  }
  const order = [d, ...shape.keys()].filter((x, i) => i === 0 || x !== d);
  const front = Tensor.empty(order.map((i) => shape[i]), first.dtype, first.device);
  const block = numel(shape) / shape[d];
  let start = 0;
  for (const t of tensors) {
    const v = reordered(t, order);
    copyInto(v, front, start * block);
    v.dispose();
    start += t.shape[d];
  }
  const back = new Array<number>(order.length);
  order.forEach((from, to) => (back[from] = to));
  const view = reordered(front, back);
  const out = denseCopy(view);
  view.dispose();
  front.dispose();
  return out;
}

/** Records the gradient: input i gets the slice of g it filled, shaped like it. */
function recordJoin(out: Tensor, given: Tensor[], d: number, name: string, drop: boolean) {
  // A copy: the caller's array may grow after the call (DenseNet's
  // `features.append(new)` after `torch.cat(features, 1)`), and the node
  // must keep the inputs it was made from.
  const tensors = [...given];
  return record(out, {
    name,
    inputs: tensors,
    saved: [],
    backward: (g) => {
      let start = 0;
      return tensors.map((t) => {
        const len = drop ? 1 : t.shape[d];
        const at = start;
        start += len;
        if (!t.requiresGrad) return null;
        return g._view(
          t.shape,
          drop ? g.strides.filter((_, i) => i !== d) : g.strides,
          g.offset + at * g.strides[d],
        );
      });
    },
  });
}

/**
 * The tensors joined along `dim` (negative counts from the end), as
 * torch.cat: all have the same number of dimensions, the same sizes except
 * along `dim`, the same dtype and device; as torch's, 1-D empty tensors
 * (a `tensor([])` accumulator) are left out. Gradients flow back to each
 * input.
 *
 * @example
 * ```ts
 * import { cat, tensor } from "@lits/vision";
 * const a = tensor([[1, 2], [3, 4]]);
 * const b = tensor([[5], [6]]);
 * const c = cat([a, b], 1);
 * console.log(c.shape, c.toArray()); // [2, 3] Float32Array [1, 2, 5, 3, 4, 6]
 * ```
 */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  atMostArgs("cat", arguments.length, 2, "cat([a, b], dim)", arguments[2]);
  checkList(tensors, "cat", "cat([a, b], 0)");
  // torch skips 1-D empty tensors: the accumulator `y = tensor([])` of a
  // loop that does `y = cat([y, batch])`.
  const kept = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  if (kept.length > 0 && kept.length < tensors.length) tensors = kept;
  const first = tensors[0];
  if (first.ndim === 0) {
    throw new Error("cat: 0-d tensors cannot be concatenated; use stack([a, b]) to join scalars");
  }
  const d = normDim(dim, first.ndim, "cat");
  const shape = [...first.shape];
  shape[d] = 0;
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new Error(
        `cat: tensors must have the same shape except in dimension ${d}, got ${describe(tensors)}`,
      );
    }
    shape[d] += t.shape[d];
  }
  return recordJoin(joinRaw(tensors, d, shape), tensors, d, "cat", false);
}

/**
 * The tensors, all of one shape, stacked along a new dimension `dim`
 * (0..ndim, negative counts from the end), as torch.stack. Gradients flow
 * back to each input.
 *
 * @example
 * ```ts
 * import { stack, tensor } from "@lits/vision";
 * const s = stack([tensor([1, 2]), tensor([3, 4])], 1);
 * console.log(s.shape, s.toArray()); // [2, 2] Float32Array [1, 3, 2, 4]
 * ```
 */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  atMostArgs("stack", arguments.length, 2, "stack([a, b], dim)", arguments[2]);
  checkList(tensors, "stack", "stack([a, b], 0)");
  const first = tensors[0];
  const d = normDim(dim, first.ndim + 1, "stack");
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => s !== first.shape[i])) {
      throw new Error(`stack: tensors must all have the same shape, got ${describe(tensors)}`);
    }
  }
  // Each input as a raw view with a size-1 dimension at d (no copy).
  const views = tensors.map((t) => {
    const shape = [...t.shape], strides = [...t.strides];
    shape.splice(d, 0, 1);
    strides.splice(d, 0, 0);
    return t._view(shape, strides, t.offset);
  });
  const shape = [...views[0].shape];
  shape[d] = tensors.length;
  const out = joinRaw(views, d, shape);
  for (const v of views) v.dispose();
  return recordJoin(out, tensors, d, "stack", true);
}
