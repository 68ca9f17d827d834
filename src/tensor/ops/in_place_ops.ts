/**
 * PyTorch's in-place methods (`x.mul_(0.99).add_(p, { alpha: 0.01 })` for an
 * EMA of weights, `bias.zero_()`, mixup's `x.mul_(lam)`), outside autograd:
 * the result is computed as the out-of-place op would, then written into
 * x's own elements (through a view, as `writeInPlace` does), counted in its
 * version so that a graph that saved x refuses to backward through the old
 * values, as PyTorch's does.
 *
 * Where autograd would have to record the write (x or the operand requires
 * grad while gradients are recorded), the call is refused: run it inside
 * `noGrad`, the port of `with torch.no_grad():`, which is where such code
 * runs in PyTorch too.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { isGradEnabled, noGrad } from "../autograd.ts";
import { writeInPlace } from "./in_place.ts";
import { fillInPlace } from "./creation.ts";
import { expand } from "./shape.ts";

/**
 * @internal writes `compute()` (a tensor of t's shape, or one that
 * broadcasts to it) into `t`; returns `t`.
 */
export function inPlace(
  t: Tensor,
  what: string,
  operands: readonly unknown[],
  compute: () => Tensor,
): Tensor {
  notRecorded(t, what, operands);
  noGrad(() => {
    const value = compute();
    if (value.shape.join() !== t.shape.join()) {
      // torch: "output with shape [3] doesn't match the broadcast shape [2, 3]".
      const fits = value.ndim <= t.ndim &&
        value.shape.every((s, i) => s === 1 || s === t.shape[t.ndim - value.ndim + i]);
      if (!fits) {
        throw new Error(
          `x.${what}: the result [${value.shape}] does not fit tensor [${t.shape}] (an in-place ` +
            "op cannot change the shape)",
        );
      }
    }
    const dense = value.shape.join() === t.shape.join()
      ? value.contiguous()
      : expand(value, [...t.shape]).contiguous();
    if (dense.storage === t.storage) {
      const same = dense.offset === t.offset && dense.strides.join() === t.strides.join();
      if (same) return; // x.copy_(x): nothing to write
      // torch refuses a partial overlap; reading the written memory would mix old and new.
      throw new Error(
        `x.${what}: the operand and the tensor share memory locations; clone() the operand ` +
          "first",
      );
    }
    if (dense.device !== t.device) {
      throw new Error(`x.${what}: the operand is on ${dense.device}, the tensor on ${t.device}`);
    }
    if (dense.dtype !== t.dtype) {
      throw new Error(`x.${what}: the result is ${dense.dtype}, the tensor ${t.dtype}`);
    }
    writeInPlace(t, `x.${what}`, (d) => {
      check(d.lib, d.lib.lits_copy_d2d(d.ptr, dense.ptr, d.numel() * 4), () => `x.${what}`);
    });
  });
  return t;
}

/** What builds the value out of place, for the in-place methods without an x.name twin. */
const OUT_OF_PLACE: Record<string, string> = {
  copy_: "build the new tensor out of place (src.clone(), or cat / where of the parts)",
  fill_: "write fullLike(x, value)",
  zero_: "write zerosLike(x)",
};

/** Throws where autograd would have to record the write (see the module doc). */
function notRecorded(t: Tensor, what: string, operands: readonly unknown[]): void {
  const recorded = isGradEnabled() &&
    [t, ...operands].some((v) => v instanceof Tensor && v.requiresGrad);
  if (!recorded) return;
  const instead = OUT_OF_PLACE[what] ?? `use the out-of-place x.${what.slice(0, -1)}`;
  throw new Error(
    `x.${what}: an in-place write to a tensor in the autograd graph (it or its operand ` +
      `requires grad); run it inside noGrad(() => ...), as PyTorch's torch.no_grad(), or ` +
      instead,
  );
}

/** @internal `x.fill_(value)` and `x.zero_()`: a constant into every element. */
export function fillIn(t: Tensor, what: string, value: number): Tensor {
  if (typeof value !== "number") {
    // torch's x.fill_(t) takes a one-element tensor: its number is t.item() here.
    const hint = (value as unknown) instanceof Tensor
      ? `a Tensor; write x.${what}(t.item())`
      : typeof value;
    throw new Error(`x.${what}: the value must be a number, got ${hint}`);
  }
  notRecorded(t, what, []);
  fillInPlace(t, value, `x.${what}`);
  return t;
}
