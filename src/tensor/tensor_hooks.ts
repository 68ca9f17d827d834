/**
 * PyTorch's tensor-level autograd hooks: `x.registerHook(fn)` (torch's
 * `register_hook`: fn sees the gradient of x during backward and may return
 * a replacement) and `x.retainGrad()` (`retain_grad`: an op result keeps its
 * `.grad` after backward, as a leaf does). Hand-written Grad-CAM uses both.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";
import type { HookHandle } from "./grad_hooks.ts";
import { disown } from "./ownership.ts";
import { clone } from "./ops/shape.ts";

/** A gradient hook: returns nothing, or a tensor of the gradient's shape to use instead. */
export type GradHook = (grad: Tensor) => Tensor | void;

const hooks = new WeakMap<Tensor, GradHook[]>();
const retained = new WeakSet<Tensor>();

function requireGraphTensor(t: Tensor, what: string): void {
  if (!t.requiresGrad) {
    throw new Error(
      `${what}: the tensor [${t.shape}] does not require grad, so backward never reaches it ` +
        "(as torch, which refuses it too)",
    );
  }
}

/** @internal `x.registerHook(fn)`; see the module doc. */
export function registerHook(t: Tensor, hook: GradHook): HookHandle {
  if (typeof hook !== "function") {
    throw new Error(
      `registerHook: expected a function, got ${typeof hook}; write x.registerHook((g) => { ... })`,
    );
  }
  requireGraphTensor(t, "registerHook");
  let list = hooks.get(t);
  if (!list) hooks.set(t, list = []);
  list.push(hook);
  return {
    remove() {
      const i = list.indexOf(hook);
      if (i >= 0) list.splice(i, 1);
    },
  };
}

/** @internal `x.retainGrad()`; see the module doc. A leaf keeps its `.grad` anyway. */
export function retainGrad(t: Tensor): void {
  requireGraphTensor(t, "retainGrad");
  if (t.gradFn !== null) retained.add(t);
}

/** @internal whether backward keeps `t.grad` for an op result (`retains_grad`). */
export function retainsGrad(t: Tensor): boolean {
  return retained.has(t);
}

/**
 * @internal runs t's hooks on its complete gradient `g` (autograd, once per
 * pass). Each hook gets a copy that is the user's to keep (a hook that
 * stores its argument, as Grad-CAM's `grads.append(g)`, must not see it
 * freed when backward ends); a returned tensor replaces the gradient.
 */
export function runGradHooks(t: Tensor, g: Tensor): Tensor {
  const list = hooks.get(t);
  if (!list || list.length === 0) return g;
  let current = g;
  for (const hook of [...list]) {
    const given = clone(current);
    disown(given);
    const r = hook(given) as unknown;
    if (r === undefined || r === null) continue;
    const ok = typeof r === "object" && "shape" in r &&
      (r as Tensor).shape.join() === t.shape.join() && (r as Tensor).device === t.device;
    if (!ok) {
      throw new Error(
        `registerHook: a hook of tensor [${t.shape}] returned ${
          typeof r === "object" && "shape" in r ? `a tensor [${(r as Tensor).shape}]` : typeof r
        }; it returns nothing, or a gradient of the tensor's shape and device`,
      );
    }
    current = r as Tensor;
  }
  return current;
}
