/**
 * Accumulates a gradient into a leaf's `.grad`, which the leaf owns.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";
import { release } from "./ownership.ts";
import { fillInPlace } from "./ops/creation.ts";
import { markWritten } from "./ops/in_place.ts";
import { check } from "../ffi/native.ts";

/**
 * Adds `g` into `leaf.grad` (creating it), outside every scope and step.
 * `adoptable` says that nothing else holds `g` (backward made it and passes
 * it on nowhere else): a first gradient then takes over its memory instead of
 * copying it.
 */
export function keepGrad(leaf: Tensor, g: Tensor, adoptable = false): void {
  const same = g.shape.join() === leaf.shape.join();
  if (
    adoptable && same && leaf.grad === null && g.offset === 0 && g.isContiguous &&
    g.storage.refCount === 1 && g.size * 4 === g.storage.bytes
  ) {
    g.ptr; // a deferred gradient is written out now
    release(g);
    leaf.grad = g;
    return;
  }
  const shaped = same ? g : g.reshape([...leaf.shape]);
  const old = leaf.grad;
  if (old === null) {
    // A fresh dense copy: g may be a view of memory the graph still uses.
    const next = shaped.clone();
    release(next);
    leaf.grad = next;
    return;
  }
  const sum = old.add(shaped);
  if (!old.isContiguous) {
    // A strided one the user assigned: replaced, not freed (the user holds it).
    release(sum);
    leaf.grad = sum;
    return;
  }
  // In place, as PyTorch's accumulation: a .grad someone holds sees the sum.
  try {
    check(
      old.lib,
      old.lib.lits_copy_d2d(old.ptr, sum.ptr, old.size * 4),
      () => `backward: accumulating the gradient of [${leaf.shape}]`,
    );
  } finally {
    sum.dispose();
  }
  markWritten(old);
}

/** Frees a leaf's gradient and sets it to null (zeroGrad). */
export function dropGrad(leaf: Tensor): void {
  const g = leaf.grad;
  leaf.grad = null;
  g?.dispose();
}

/**
 * @internal `zeroGrad`'s clearing of `params`' gradients: to null, or
 * (`setToNone` false) each existing one filled with zeros in place.
 */
export function clearGrads(params: readonly Tensor[], setToNone: boolean): void {
  for (const p of params) {
    if (setToNone) dropGrad(p);
    else if (p.grad !== null) fillInPlace(p.grad, 0);
  }
}
