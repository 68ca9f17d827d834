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
import { atScopeDepth } from "./ownership.ts";
import { clone } from "./ops/shape.ts";
import { keepGrad } from "./grad_store.ts";

/** A gradient hook: returns nothing, or a tensor of the gradient's shape to use instead. */
export type GradHook = (grad: Tensor) => Tensor | void;

const hooks = new WeakMap<Tensor, GradHook[]>();
const retained = new WeakSet<Tensor>();
/**
 * `retainGrad()`'s place among the hooks: as torch 1.13's, the retained
 * gradient is the one the hooks registered before it made.
 */
const RETAIN: GradHook = () => {};

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
  if (t.gradFn === null || retained.has(t)) return;
  retained.add(t);
  let list = hooks.get(t);
  if (!list) hooks.set(t, list = []);
  list.push(RETAIN);
}

/** @internal whether backward keeps `t.grad` for an op result (`retains_grad`). */
export function retainsGrad(t: Tensor): boolean {
  return retained.has(t);
}

/**
 * @internal runs t's hooks, and keeps its retained gradient, on its complete
 * gradient `g` (autograd, once per pass), in the order they were
 * registered. Hooks run in the scopes of backward()'s caller (`depth` of
 * them), not in backward's own: each gets a copy, and what it keeps
 * (Grad-CAM's `grads.push(g.detach())`) belongs to the caller's scope, or
 * to the step outside every scope. A hook that writes its copy in place
 * (`g.mul_(0.5)`) and returns nothing changes the gradient, as torch's; a
 * returned tensor of the gradient's shape, dtype and device replaces it.
 */
export function runGradHooks(t: Tensor, g: Tensor, depth: number): Tensor {
  const list = hooks.get(t);
  if (!list || list.length === 0) return g;
  let current = g;
  for (const hook of [...list]) {
    if (hook === RETAIN) {
      keepGrad(t, current); // a copy: the gradient goes on
      continue;
    }
    const given = atScopeDepth(depth, () => clone(current));
    const version = given.version;
    const r = atScopeDepth(depth, () => hook(given)) as unknown;
    if (r === undefined || r === null) {
      if (given.version !== version) current = given; // written in place: the new gradient
      continue;
    }
    const same = typeof r === "object" && "shape" in r && "dtype" in r;
    const ok = same && (r as Tensor).shape.join() === t.shape.join() &&
      (r as Tensor).device === t.device && (r as Tensor).dtype === current.dtype;
    if (!ok) {
      const got = same
        ? `a tensor [${(r as Tensor).shape}] of ${(r as Tensor).dtype} on ${(r as Tensor).device}`
        : typeof r;
      throw new Error(
        `registerHook: a hook of tensor [${t.shape}] returned ${got}; it returns nothing, or a ` +
          `${current.dtype} gradient of the tensor's shape and device (as torch's)`,
      );
    }
    // The replacement, and the copy, stay with the caller until its scope ends or the next
    // zeroGrad(): the hook may have kept either (torch keeps them by reference count), and
    // backward copies the replacement into a leaf's .grad rather than adopting it.
    current = r as Tensor;
  }
  return current;
}
