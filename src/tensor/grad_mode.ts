/**
 * torch's grad-mode switches beside `noGrad`: `enableGrad` (`torch.enable_grad()`)
 * and `setGradEnabled` (`torch.set_grad_enabled(mode)`, as a block or a plain call).
 *
 * @module
 */
import {
  checkNoParameters,
  gradModeChain,
  runNoGrad,
  setGradMode,
  withGradMode,
} from "./autograd.ts";
import { AsyncFunction, isThenable, reportLateRejection } from "./ownership.ts";

/** `enableGrad(fn)` under the name the caller used. */
function runEnableGrad<T>(fn: () => T, where: string, usage: string): T {
  checkNoParameters(fn, where);
  if (fn instanceof AsyncFunction) {
    return gradModeChain(true, fn as () => Promise<unknown>) as T;
  }
  const result = withGradMode(true, fn);
  if (isThenable(result)) {
    reportLateRejection(where, result);
    throw new Error(
      `${where}: fn returned a Promise but is not an async function, so its work after the ` +
        `first await ran with the outer mode (it still ran); write \`await ${usage}\``,
    );
  }
  return result;
}

/**
 * Runs `fn` with operations recorded, also inside `noGrad`: PyTorch's
 * `with torch.enable_grad():`. Nested switches restore the mode of the
 * enclosing one on exit, also when `fn` throws.
 *
 * Unlike `noGrad`, it is not a scope: torch's `enable_grad` is not about
 * memory, and what `fn` makes is the graph a later `backward()` walks
 * (`const loss = enableGrad(() => criterion(model(x), y))` inside
 * `noGrad`, then `loss.backward()`), so freeing it on return would leave
 * that backward nothing to read. What `fn` makes belongs to the enclosing
 * owner as if `enableGrad` were not there: the enclosing `noGrad` or `scope`
 * frees it when that returns, and outside every scope the training step
 * does (at the next `zeroGrad()` after `backward()`, or `endStep()`).
 *
 * An async `fn` gets a promise: operations are recorded in its whole call
 * chain, through every `await`, while code outside the chain keeps its own
 * mode. A plain function that returns a promise is an Error.
 *
 * @example
 * ```ts
 * import { enableGrad, noGrad, tensor } from "@lits/vision";
 * const w = tensor([1, 2], undefined, { requiresGrad: true });
 * const y = noGrad(() => {
 *   const y = enableGrad(() => w.mul(3).sum()); // recorded, and not freed here
 *   y.backward();
 *   return w.grad!.toArray();
 * });
 * console.log(y); // Float32Array(2) [ 3, 3 ]
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  if (typeof fn !== "function") {
    throw new Error(
      `enableGrad: expected a function, got ${typeof fn}; write enableGrad(() => ...)`,
    );
  }
  return runEnableGrad(fn, "enableGrad", "enableGrad(async () => { ... })");
}

/** The value for an error message. */
function show(v: unknown): string {
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (v === null) return "null";
  if (typeof v === "object") return `a ${v.constructor?.name ?? "object"}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * PyTorch's `torch.set_grad_enabled(mode)`. With `fn`: `mode ?
 * enableGrad(fn) : noGrad(fn)`, the port of `with
 * torch.set_grad_enabled(phase == "train"):` in a loop that trains and
 * validates. For `true` what `fn` makes outlives it (the graph a later
 * `backward()` walks, freed by the step's `zeroGrad()` or an enclosing
 * scope); for `false` it is freed when `fn` returns, except what `fn`
 * returns. Compute the loss inside `fn` as the tutorial does and both
 * phases stay flat in memory.
 *
 * Without `fn`, as torch's plain call (`torch.set_grad_enabled(False)` at
 * the top of an inference script): sets the mode for the code that follows,
 * read by `isGradEnabled()`. Inside `noGrad`, `enableGrad` or a
 * `setGradEnabled(mode, fn)` it sets that block's mode until the block ends,
 * which restores the mode from before it, as torch's with-blocks do; inside
 * the async call chain of one of them, the mode of the rest of that chain.
 *
 * @example
 * ```ts
 * import { isGradEnabled, nn, setGradEnabled, tensor } from "@lits/vision";
 * const model = new nn.Linear(2, 1);
 * const x = tensor([[1, 2]]);
 * for (const phase of ["train", "val"]) {
 *   const out = setGradEnabled(phase === "train", () => model.forward(x));
 *   console.log(phase, out.requiresGrad); // train true, then val false
 * }
 * setGradEnabled(false); // from here on nothing is recorded
 * console.log(isGradEnabled()); // false
 * setGradEnabled(true);
 * ```
 */
export function setGradEnabled(mode: boolean): void;
/** `mode ? enableGrad(fn) : noGrad(fn)`: the block form (see above). */
export function setGradEnabled<T>(mode: boolean, fn: () => T): T;
export function setGradEnabled<T>(...args: unknown[]): T | void {
  const usage =
    'setGradEnabled(phase === "train", () => model.forward(x)) or setGradEnabled(false)';
  if (args.length === 0 || args.length > 2) {
    throw new Error(
      `setGradEnabled: takes a mode and optionally a function, got ${args.length} arguments; ` +
        `write ${usage}`,
    );
  }
  const [mode, fn] = args;
  if (typeof mode !== "boolean") {
    throw new Error(
      `setGradEnabled: mode must be true or false, got ${show(mode)}; write ${usage}` +
        (typeof mode === "function" ? " (the mode comes first)" : ""),
    );
  }
  if (args.length === 1) return setGradMode(mode);
  if (typeof fn !== "function") {
    throw new Error(
      `setGradEnabled: expected a function after the mode, got ${show(fn)}; write ${usage}`,
    );
  }
  const async = "setGradEnabled(mode, async () => { ... })";
  return mode
    ? runEnableGrad(fn as () => T, "setGradEnabled", async)
    : runNoGrad(fn as () => T, "setGradEnabled", async);
}
