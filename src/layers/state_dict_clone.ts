/**
 * `cloneStateDict`: the port of PyTorch's `copy.deepcopy(model.state_dict())`,
 * the transfer-learning tutorial's way of keeping the best weights while
 * training goes on.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";

/**
 * A copy of a state dict whose tensors are new memory, kept: later steps,
 * `zeroGrad()`, `scope`/`noGrad` blocks and in-place updates of the model
 * leave it as it was, until `model.loadStateDict(copy)` puts it back. The
 * copies are yours: free an older one with `for (const t of old.values())
 * t.dispose()` (the garbage collector frees it otherwise).
 *
 * @example
 * ```ts
 * import { nn, noGrad } from "@lits/vision";
 * const model = new nn.Linear(2, 1);
 * const best = nn.utils.cloneStateDict(model.stateDict());
 * noGrad(() => model.weight.mul_(0)); // training moves on
 * model.loadStateDict(best);
 * console.log(model.weight.abs().sum().item() > 0); // true
 * ```
 */
export function cloneStateDict(sd: Map<string, Tensor>): Map<string, Tensor> {
  const where = "nn.utils.cloneStateDict";
  if (!(sd instanceof Map)) {
    throw new Error(
      `${where}: expected a state dict (model.stateDict(), a Map), got ` +
        (sd === null ? "null" : Array.isArray(sd) ? "an array" : typeof sd),
    );
  }
  const out = new Map<string, Tensor>();
  for (const [k, v] of sd) {
    if (!(v instanceof Tensor)) {
      throw new Error(`${where}: entry '${k}' is not a tensor`);
    }
    out.set(k, v.detach().clone().keep());
  }
  return out;
}
