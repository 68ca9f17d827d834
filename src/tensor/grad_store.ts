/**
 * Accumulates a gradient into a leaf's `.grad`, which the leaf owns.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";
import { release } from "./ownership.ts";

/** Adds `g` into `leaf.grad` (creating it), outside every scope and step. */
export function keepGrad(leaf: Tensor, g: Tensor): void {
  const shaped = g.shape.join() === leaf.shape.join() ? g : g.reshape([...leaf.shape]);
  let next: Tensor;
  if (leaf.grad === null) {
    // A fresh dense copy: g may be a view of memory the graph still uses.
    next = shaped.clone();
  } else {
    next = leaf.grad.add(shaped);
    const old = leaf.grad;
    leaf.grad = null;
    old.dispose();
  }
  release(next);
  leaf.grad = next;
}

/** Frees a leaf's gradient and sets it to null (zeroGrad). */
export function dropGrad(leaf: Tensor): void {
  const g = leaf.grad;
  leaf.grad = null;
  g?.dispose();
}
