/**
 * Accumulates a gradient into a leaf's `.grad`, in place once it exists, as
 * PyTorch does: a `.grad` someone holds, or assigned, sees the sum.
 *
 * A gradient backward made is the leaf's: `zeroGrad()` and `dispose()` free
 * it at once; setting the leaf's `.grad` (to null, as PyTorch's manual
 * loops do) frees it at the next backward(), zeroGrad() or endStep(). One the user assigned, or `keep()`s, is theirs: those only
 * unlink it, and the collector frees it once nothing holds it.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";
import { release } from "./ownership.ts";
import { fillInPlace } from "./ops/creation.ts";
import { beforeWrite, markWritten, writeInPlace } from "./ops/in_place.ts";
import { binaryRaw } from "./ops/elementwise.ts";
import { clone } from "./ops/shape.ts";
import { check } from "../ffi/native.ts";

/** Gradients backward made and nobody else claimed (see the module doc). */
const made = new WeakSet<Tensor>();

/** @internal `t` is the user's now (assigned as a `.grad`, or kept): not freed by `dropGrad`. */
export function claimGrad(t: Tensor): void {
  made.delete(t);
}

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
    g.storage.refCount === 1 && g.numel() * 4 === g.storage.bytes
  ) {
    g.ptr; // a deferred gradient is written out now
    release(g);
    leaf.grad = g;
    made.add(g);
    return;
  }
  const shaped = same ? g : g.reshape([...leaf.shape]);
  const old = leaf.grad;
  if (old === null) {
    // A fresh dense copy: g may be a view of memory the graph still uses.
    const next = clone(shaped);
    release(next);
    leaf.grad = next;
    made.add(next);
    return;
  }
  const what = `backward: accumulating the gradient of [${leaf.shape}]`;
  if (old.isContiguous) {
    // The usual case: one pass, old += g, written where it is read.
    beforeWrite(old);
    binaryRaw("add", old, shaped, old);
    markWritten(old);
    return;
  }
  // A strided .grad the user assigned: through its strides (an expanded one is refused).
  const sum = old.add(shaped);
  try {
    writeInPlace(old, what, (d) => {
      check(d.lib, d.lib.lits_copy_d2d(d.ptr, sum.ptr, d.numel() * 4), () => what);
    });
  } finally {
    sum.dispose();
  }
}

/** Sets a leaf's gradient to null, freeing it when backward made it (zeroGrad, dispose). */
export function dropGrad(leaf: Tensor): void {
  const g = leaf.grad;
  leaf.grad = null; // the setter queues one backward made (`replacedGrad`): freed now instead
  const i = g === null ? -1 : replaced.lastIndexOf(g);
  if (i >= 0) replaced.splice(i, 1)[0].dispose();
}

/** Gradients backward made that their leaf let go of, freed at the next boundary. */
const replaced: Tensor[] = [];

/**
 * @internal a leaf's `.grad` was replaced (set to null or another tensor):
 * `old`, when backward made it and nobody claimed it, is freed at the next
 * backward(), zeroGrad() or endStep(), so that PyTorch's manual loop
 * (`w.grad = None` after each update, no zero_grad) stays flat even if it
 * never lets the collector run, while a gradient read out first (`g =
 * w.grad; w.grad = null`, then used) lives until then, as in PyTorch.
 */
export function replacedGrad(old: Tensor): void {
  if (made.delete(old)) replaced.push(old);
}

/** @internal frees the gradients leaves let go of (see `replacedGrad`). */
export function freeReplacedGrads(): void {
  for (const g of replaced.splice(0)) g.dispose();
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
