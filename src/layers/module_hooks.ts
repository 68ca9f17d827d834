/**
 * A module's hooks, PyTorch's: forward pre-hooks (`register_forward_pre_hook`),
 * forward hooks (`register_forward_hook`), full backward hooks
 * (`register_full_backward_hook`) and backward pre-hooks
 * (`register_full_backward_pre_hook`).
 *
 * While a module has any, its instance's `forward` is a wrapper that runs
 * them around the class's own, in torch's order: pre-hooks, the inputs
 * passed through an identity op whose gradient calls the backward hooks,
 * `forward`, forward hooks, then the outputs through an identity op whose
 * gradient calls the backward pre-hooks and keeps `gradOutput`. The
 * wrapper being the instance's own `forward` is also what turns off the
 * models' fused paths, which would skip the module's call (models/plain.ts).
 *
 * Backward hooks get copies of the gradients made in the scopes of
 * `backward()`'s caller (Grad-CAM keeps `gradOutput[0]` past backward),
 * and run there, as tensor hooks do.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { Function, type FunctionCtx } from "../tensor/function.ts";
import { backwardCallerDepth, isGradEnabled } from "../tensor/autograd.ts";
import { atScopeDepth, isThenable, reportLateRejection } from "../tensor/ownership.ts";
import { clone } from "../tensor/ops/shape.ts";
import type { Module } from "./module.ts";

/**
 * Called before a module's `forward` with the module and its arguments
 * (torch's forward pre-hook): an array returned replaces the arguments, a
 * single tensor the only one; nothing keeps them.
 */
// deno-lint-ignore no-explicit-any
export type ForwardPreHook = (module: Module, inputs: any[]) => unknown;

/**
 * Called after a module's `forward` with the module, its inputs and its
 * output; a returned tensor replaces the output (PyTorch's forward hook).
 */
export type ForwardHook = (module: Module, inputs: Tensor[], output: Tensor) => Tensor | void;

/**
 * Called once the gradients for a module's inputs are computed (torch's
 * full backward hook): one entry per positional argument in `gradInput`
 * (null for arguments that are not float tensors, or where no input
 * needs a gradient) and one per output in `gradOutput` (null for an output
 * that got no gradient). An array returned replaces `gradInput`.
 */
export type BackwardHook = (
  module: Module,
  gradInput: (Tensor | null)[],
  gradOutput: (Tensor | null)[],
) => (Tensor | null)[] | void;

/**
 * Called when the gradients for a module's outputs are computed, before
 * those for its inputs (torch's full backward pre-hook): an array returned
 * replaces `gradOutput`.
 */
export type BackwardPreHook = (
  module: Module,
  gradOutput: (Tensor | null)[],
) => (Tensor | null)[] | void;

/** What `registerForwardHook` and the other hook methods return: `remove()` takes the hook off. */
export interface RemovableHandle {
  /** Removes the hook (a second call does nothing). */
  remove(): void;
}

/** The four lists of one module, in the order their hooks were registered. */
export class ModuleHooks {
  readonly pre: ForwardPreHook[] = [];
  readonly forward: ForwardHook[] = [];
  readonly backward: BackwardHook[] = [];
  readonly backwardPre: BackwardPreHook[] = [];
  #unwrap: (() => void) | null = null;

  /** Adds `hook` to `list` (first where `prepend`), wrapping `module.forward` on the first hook. */
  add<T>(module: Module, list: T[], hook: T, prepend = false): RemovableHandle {
    if (this.#unwrap === null) this.#unwrap = wrapForward(module, this);
    if (prepend) list.unshift(hook);
    else list.push(hook);
    return {
      remove: () => {
        const i = list.indexOf(hook);
        if (i < 0) return;
        list.splice(i, 1);
        const left = this.pre.length + this.forward.length + this.backward.length +
          this.backwardPre.length;
        if (left === 0 && this.#unwrap !== null) {
          this.#unwrap();
          this.#unwrap = null;
        }
      },
    };
  }
}

/** Installs the instance's `forward` wrapper; returns what restores the original. */
function wrapForward(module: Module, hooks: ModuleHooks): () => void {
  // The instance's forward is wrapped while hooks exist (a class method or an own override).
  const own = Object.getOwnPropertyDescriptor(module, "forward");
  const original = module.forward;
  module.forward = (...inputs: unknown[]): unknown => {
    let args = inputs;
    for (const h of [...hooks.pre]) args = preHookResult(h(module, args), args);
    const backwardHooked = (hooks.backward.length > 0 || hooks.backwardPre.length > 0) &&
      isGradEnabled();
    const call: HookedCall = {
      module,
      hooks,
      gradOutput: null,
      inputsNeedGrad: false,
      argCount: args.length,
    };
    if (backwardHooked) args = hookInputs(call, args);
    let y = original.apply(module, args);
    for (const h of [...hooks.forward]) {
      const r = h(module, args as Tensor[], y as Tensor) as unknown;
      if (r === undefined || r === null) continue; // Python's None: the output stays
      checkHookResult(r, y);
      y = r;
    }
    return backwardHooked ? hookOutputs(call, y) : y;
  };
  return () => {
    if (own) Object.defineProperty(module, "forward", own);
    else delete (module as { forward?: unknown }).forward;
  };
}

/** A pre-hook's result: torch wraps a single value into the arguments tuple. */
function preHookResult(r: unknown, args: unknown[]): unknown[] {
  if (isThenable(r)) {
    reportLateRejection("a forward pre-hook", r);
    throw new Error("forward pre-hook: returned a Promise; hooks run synchronously inside forward");
  }
  if (r === undefined || r === null) return args;
  if (Array.isArray(r)) return r;
  if (r instanceof Tensor) return [r];
  throw new Error(
    `forward pre-hook: returned ${typeof r}, which would replace the module's arguments; a ` +
      "pre-hook returns nothing, an array of new arguments, or one Tensor (write braces: " +
      "(m, inputs) => { seen.push(inputs[0]); })",
  );
}

/**
 * Throws unless a forward hook's return value can replace the output: a
 * Tensor for a Tensor output (an expression arrow `(m, i, o) => acts.push(o)`
 * returns push's count, which would become the output), and never a promise.
 */
export function checkHookResult(r: unknown, output: unknown): void {
  if (isThenable(r)) {
    reportLateRejection("a forward hook", r);
    throw new Error(
      "forward hook: returned a Promise; hooks run synchronously inside forward, so keep " +
        "what you need (acts.push(output)) and await your work outside",
    );
  }
  if (output instanceof Tensor && !(r instanceof Tensor)) {
    const got = r === null ? "null" : Array.isArray(r) ? "an array" : typeof r;
    throw new Error(
      `forward hook: returned ${got}, which would replace the module's output; a hook returns ` +
        "nothing (or a Tensor to replace the output): write (m, inputs, output) => " +
        "{ acts.push(output); } with braces",
    );
  }
}

/** One call of a module with backward hooks: what its two identity ops share. */
interface HookedCall {
  readonly module: Module;
  readonly hooks: ModuleHooks;
  /** Copies of the outputs' gradients (the caller's), once the output op's backward ran. */
  gradOutput: (Tensor | null)[] | null;
  /** Whether an input requires grad (else the hooks fire at the outputs, as torch's). */
  inputsNeedGrad: boolean;
  /** How many positional arguments `forward` got (gradInput's length, as torch's). */
  readonly argCount: number;
}

/** The positional float tensors of a call, by argument index. */
function floatTensors(args: readonly unknown[]): number[] {
  const at: number[] = [];
  args.forEach((a, i) => {
    if (a instanceof Tensor && a.dtype === "float32") at.push(i);
  });
  return at;
}

/** Passes the call's float tensor arguments through `HookInputs` where one requires grad. */
function hookInputs(call: HookedCall, args: unknown[]): unknown[] {
  const at = floatTensors(args);
  call.inputsNeedGrad = at.some((i) => (args[i] as Tensor).requiresGrad);
  if (!call.inputsNeedGrad) return args;
  const views = HookInputs.apply(call, ...at.map((i) => args[i] as Tensor)) as Tensor[];
  const out = [...args];
  at.forEach((i, k) => out[i] = views[k]);
  return out;
}

/** Passes the output (a tensor or an array of them) through `HookOutputs`. */
function hookOutputs(call: HookedCall, y: unknown): unknown {
  const list = y instanceof Tensor ? [y] : Array.isArray(y) ? y : null;
  if (list === null || list.some((t) => !(t instanceof Tensor))) {
    throw new Error(
      `${call.module.constructor.name}: a module with backward hooks must return a Tensor or an ` +
        "array of Tensors (its gradients are what the hooks get)",
    );
  }
  if (!list.some((t: Tensor) => t.requiresGrad)) return y;
  const views = HookOutputs.apply(call, ...list) as Tensor[];
  return y instanceof Tensor ? views[0] : views;
}

/** Copies of gradients for a hook, owned by backward()'s caller (a hook may keep them). */
function copiesFor(depth: number, grads: readonly (Tensor | null)[]): (Tensor | null)[] {
  return atScopeDepth(depth, () => grads.map((g) => g === null ? null : clone(g)));
}

/** Checks a backward hook's replacement list against the gradients it replaces. */
function replacement(
  where: string,
  r: unknown,
  grads: readonly (Tensor | null)[],
): (Tensor | null)[] | null {
  if (r === undefined || r === null) return null;
  if (!Array.isArray(r) || r.length !== grads.length) {
    throw new Error(
      `${where}: returned ${Array.isArray(r) ? `${r.length} gradients` : typeof r}; it returns ` +
        `nothing or an array of ${grads.length} (one per gradient it was given, null allowed)`,
    );
  }
  return r.map((t, i) => {
    const g = grads[i];
    if (t === null || t === undefined) return null;
    if (!(t instanceof Tensor)) {
      throw new Error(`${where}: entry ${i} is ${typeof t}, not a Tensor`);
    }
    if (g !== null && t.shape.join() !== g.shape.join()) {
      throw new Error(
        `${where}: entry ${i} has shape [${t.shape}], the gradient's is [${g.shape}]`,
      );
    }
    return t;
  });
}

/** Runs the module's backward hooks on `gradInput`; returns the (maybe replaced) gradients. */
function fireBackwardHooks(call: HookedCall, gradInput: (Tensor | null)[]): (Tensor | null)[] {
  const depth = backwardCallerDepth();
  let current = gradInput;
  const gradOutput = call.gradOutput ?? [];
  for (const h of [...call.hooks.backward]) {
    const r = atScopeDepth(depth, () => h(call.module, copiesFor(depth, current), gradOutput));
    if (isThenable(r)) {
      reportLateRejection("a backward hook", r);
      throw new Error("backward hook: returned a Promise; hooks run synchronously in backward()");
    }
    current = replacement("backward hook", r, current) ?? current;
  }
  return current;
}

/** The identity on a call's float tensor inputs whose gradient calls the backward hooks. */
class HookInputs extends Function {
  static override forward(ctx: FunctionCtx, call: HookedCall, ...inputs: Tensor[]): Tensor[] {
    (ctx as unknown as { call: HookedCall }).call = call;
    // As torch's: an input that needs no gradient gets zeros in gradInput.
    ctx.markNonDifferentiable(...inputs.filter((t) => !t.requiresGrad));
    return inputs;
  }
  static override backward(ctx: FunctionCtx, ...grads: (Tensor | null)[]): (Tensor | null)[] {
    const call = (ctx as unknown as { call: HookedCall }).call;
    return [null, ...fireBackwardHooks(call, grads)];
  }
}

/** The identity on a call's outputs whose gradient runs the backward pre-hooks. */
class HookOutputs extends Function {
  static override forward(ctx: FunctionCtx, call: HookedCall, ...outputs: Tensor[]): Tensor[] {
    (ctx as unknown as { call: HookedCall }).call = call;
    ctx.markNonDifferentiable(...outputs.filter((t) => !t.requiresGrad));
    // An output that got no gradient (unused, or needing none) is null in gradOutput, as torch's.
    ctx.setMaterializeGrads(false);
    return outputs;
  }
  static override backward(ctx: FunctionCtx, ...grads: (Tensor | null)[]): (Tensor | null)[] {
    const call = (ctx as unknown as { call: HookedCall }).call;
    const depth = backwardCallerDepth();
    let current = grads;
    for (const h of [...call.hooks.backwardPre]) {
      const r = atScopeDepth(depth, () => h(call.module, copiesFor(depth, current))) as unknown;
      current = replacement("backward pre-hook", r, current) ?? current;
    }
    // Copies the caller owns: the pass frees the gradients themselves once used.
    call.gradOutput = copiesFor(depth, current);
    // No input needs a gradient: the hooks fire here, with gradInput all null (as torch's).
    if (!call.inputsNeedGrad && call.hooks.backward.length > 0) {
      fireBackwardHooks(call, Array.from({ length: call.argCount }, () => null));
    }
    return [null, ...current];
  }
}
