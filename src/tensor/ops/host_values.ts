/**
 * What the ops computed on a host copy share (the data-dependent shapes of
 * `maskedSelect`, `nonzero`, `unique`, `bincount`, and the exact integer
 * and floating remainders): reading a tensor's values, broadcasting index
 * maps, results made from host values as op results, and the node that
 * refuses a backward where torch has no derivative.
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { fromHost } from "./creation.ts";
import { expectTensor } from "./compare.ts";
import { normDim } from "./shape.ts";
import { hasOut, outError, showValue } from "./show_value.ts";

/** @internal the values of `t` in row-major order (a host copy). */
export function hostValues(t: Tensor): Float32Array | Int32Array {
  return t.toArray();
}

/**
 * @internal for each element of `shape` (row-major), the flat index of the
 * element of a tensor of `src` shape that broadcasting reads there.
 */
export function broadcastIndex(src: readonly number[], shape: readonly number[]): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  if (src.length === shape.length && src.every((s, i) => s === shape[i])) {
    for (let k = 0; k < n; k++) out[k] = k;
    return out;
  }
  const lead = shape.length - src.length;
  const strides = new Array<number>(shape.length).fill(0);
  let step = 1;
  for (let i = src.length - 1; i >= 0; i--) {
    strides[lead + i] = src[i] === 1 ? 0 : step;
    step *= src[i];
  }
  for (let k = 0; k < n; k++) {
    let rest = k, at = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      const i = rest % shape[d];
      rest = (rest - i) / shape[d];
      at += i * strides[d];
    }
    out[k] = at;
  }
  return out;
}

/** @internal host values as an op result (the step or scope frees it) on `device`. */
export function hostResult(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: Tensor["dtype"],
  device: Tensor["device"],
): Tensor {
  return fromHost(values, shape, { dtype, device }, true);
}

/**
 * @internal records `out` as made from `inputs` with no derivative, as
 * torch's `NotImplemented` nodes: the result requires a gradient where an
 * input does, and a backward through it throws, naming the op (rather than
 * a gradient that silently stops there).
 */
export function noDerivative(out: Tensor, inputs: Tensor[], what: string, instead: string): Tensor {
  return record(out, {
    name: what,
    inputs,
    saved: [],
    backward: () => {
      throw new Error(
        `backward: ${what} has no gradient (torch: "the derivative for '${what}' is not ` +
          `implemented"); ${instead}`,
      );
    },
  });
}

/** @internal throws unless `t` is an int32 tensor (`what` names the argument). */
export function requireInt(t: Tensor, what: string, usage: string): void {
  expectTensor(t, what, usage);
  if (t.dtype !== "int32") {
    throw new Error(
      `${what}: expected an int32 tensor, got ${t.dtype} [${t.shape}]; convert it with .int() ` +
        `(or .long()); write ${usage}`,
    );
  }
}

/** @internal a dimension of `t` (0-d tensors take 0 and -1), normalised. */
export function dimOf(t: Tensor, dim: unknown, what: string): number {
  if (typeof dim !== "number" || !Number.isInteger(dim)) {
    if (hasOut(dim)) throw outError(what, `${what}(x, ...)`);
    throw new Error(`${what}: dim must be an integer, got ${showValue(dim)}`);
  }
  return normDim(dim, Math.max(t.ndim, 1), what);
}

/** @internal [outer, r, inner] of `shape` around dimension `d`. */
export function around(shape: readonly number[], d: number): [number, number, number] {
  return [numel(shape.slice(0, d)), shape[d] ?? 1, numel(shape.slice(d + 1))];
}
