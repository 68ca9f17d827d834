/**
 * `chain`: layers applied in order, whose intermediate results are freed as
 * soon as they are used when no gradient is recorded.
 *
 * @module
 */
import { isGradEnabled } from "../tensor/autograd.ts";
import { currentScope, scope } from "../tensor/ownership.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * Applies `steps` to `x` in order. Inside `noGrad`, each step runs in a scope
 * of its own (its temporaries are freed when it returns) and each
 * intermediate result is freed once the next step has used it, as PyTorch
 * frees a tensor with its last reference: an evaluation forward then holds
 * about one block's tensors at a time rather than the whole network's. With
 * gradients the intermediates belong to the backward pass and stay; `x`
 * itself is never freed.
 *
 * @example
 * ```ts
 * import { nn, noGrad, randn } from "@lits/vision";
 * const x = randn([2, 4]);
 * const a = new nn.Linear(4, 8), b = new nn.Linear(8, 3);
 * const y = noGrad(() => nn.chain(x, [(t) => a.forward(t), (t) => b.forward(t)]));
 * console.log(y.shape); // [2, 3]
 * ```
 */
export function chain(x: Tensor, steps: readonly ((t: Tensor) => Tensor)[]): Tensor {
  if (isGradEnabled() || currentScope() === null) {
    for (const step of steps) x = step(x);
    return x;
  }
  const mine = currentScope();
  let cur = x;
  for (const step of steps) {
    const input = cur;
    const next = scope(() => step(input));
    // A view of the input keeps its memory alive; the input itself goes.
    if (input !== x && input !== next && input.owner === mine) input.dispose();
    cur = next;
  }
  return cur;
}
