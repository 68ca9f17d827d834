/**
 * torch's in-place shape changes `x.unsqueeze_(dim)` and `x.squeeze_(dim)`:
 * the tensor object itself takes the new shape, over the same elements
 * (its views and its storage are untouched, as torch's).
 *
 * A shape change is a write for autograd: the storage's version goes up
 * (torch's too), so a graph that saved x refuses to backward through its
 * old shape. A tensor in the graph (it requires grad, an op made it, or it
 * holds a .grad) is refused: torch rebuilds such a tensor's grad_fn, which
 * this library's tape does not do; `x = x.unsqueeze(0)` is the same
 * computation.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { markWritten } from "./in_place.ts";
import { squeeze, unsqueeze } from "./shape.ts";
import { noGrad } from "../autograd.ts";

/** Gives `t` the shape and strides of `view` (a view of t over the same elements). */
function takeForm(t: Tensor, what: string, call: string, view: () => Tensor): Tensor {
  expectTensor(t, `x.${what}`, call);
  if (t.requiresGrad || t.gradFn !== null || t.grad !== null) {
    throw new Error(
      `x.${what}: changes the shape of a tensor in the autograd graph (it requires grad, an ` +
        `op made it or it holds a .grad) in place; write x = ${call.replace("_(", "(")} (a ` +
        "view, the same elements)",
    );
  }
  const v = noGrad(view);
  try {
    if (v.offset !== t.offset || v.storage !== t.storage) {
      throw new Error(`x.${what}: internal: the view moved the elements`);
    }
    markWritten(t);
    t._restride(v.shape, v.strides);
  } finally {
    if (v !== t) v.dispose();
  }
  return t;
}

/**
 * @internal `x.unsqueeze_(dim)`: x given a dimension of size 1 at `dim`,
 * in place (see the module doc).
 */
export function unsqueezeInPlace(t: Tensor, dim: number): Tensor {
  return takeForm(t, "unsqueeze_", `x.unsqueeze_(${dim})`, () => unsqueeze(t, dim));
}

/**
 * @internal `x.squeeze_(dim?)`: x without its dimensions of size 1 (`dim`
 * only, when given), in place (see the module doc).
 */
export function squeezeInPlace(t: Tensor, dim?: number): Tensor {
  const call = dim === undefined ? "x.squeeze_()" : `x.squeeze_(${dim})`;
  return takeForm(t, "squeeze_", call, () => squeeze(t, dim));
}
