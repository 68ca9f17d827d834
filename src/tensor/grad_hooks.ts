/**
 * Hooks into `backward()` for data-parallel training: one after a leaf's
 * gradient is complete (PyTorch's `register_post_accumulate_grad_hook`),
 * one after the whole backward pass (the engine's final callback, which
 * PyTorch's DistributedDataParallel queues). They let
 * `DistributedDataParallel` start each bucket's all-reduce while backward
 * still runs, and finish them before `optimizer.step()`.
 *
 * @module
 */
import type { Tensor } from "./tensor.ts";

/** Removes a hook (a second call does nothing). */
export interface HookHandle {
  /** Takes the hook off. */
  remove(): void;
}

const leafHooks = new WeakMap<Tensor, ((t: Tensor) => void)[]>();
const endHooks: (() => void)[] = [];

function remover<T>(list: T[], item: T, after?: () => void): HookHandle {
  return {
    remove() {
      const i = list.indexOf(item);
      if (i >= 0) list.splice(i, 1);
      after?.();
    },
  };
}

/** @internal runs `hook(leaf)` each time backward has finished `leaf.grad`. */
export function registerPostAccumulateGradHook(
  leaf: Tensor,
  hook: (leaf: Tensor) => void,
): HookHandle {
  let list = leafHooks.get(leaf);
  if (!list) leafHooks.set(leaf, list = []);
  list.push(hook);
  return remover(list, hook, () => {
    if (list.length === 0) leafHooks.delete(leaf);
  });
}

/** @internal runs `hook()` at the end of every successful backward(). */
export function registerBackwardEndHook(hook: () => void): HookHandle {
  endHooks.push(hook);
  return remover(endHooks, hook);
}

/** @internal called by autograd once `leaf.grad` holds this pass's gradient. */
export function runPostAccumulateGradHooks(leaf: Tensor): void {
  const list = leafHooks.get(leaf);
  if (list) { for (const h of [...list]) h(leaf); }
}

/** @internal called by autograd after a backward pass. */
export function runBackwardEndHooks(): void {
  for (const h of [...endHooks]) h();
}
