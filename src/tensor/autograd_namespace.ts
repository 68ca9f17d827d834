/**
 * PyTorch's `torch.autograd`, as the `autograd` namespace: custom ops with
 * their own backward (`autograd.Function`), `autograd.grad` and
 * `autograd.backward`.
 *
 * @example
 * ```ts
 * import { autograd, tensor } from "@lits/vision";
 * const x = tensor([2], undefined, { requiresGrad: true });
 * console.log(autograd.grad(x.mul(x).sum(), x)[0].item()); // 4
 * ```
 *
 * @module
 */
export * from "./function.ts";
export { backward, type BackwardOptions, grad, type GradOptions } from "./autograd_grad.ts";
