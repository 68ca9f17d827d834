/**
 * Who frees a tensor, so that a training loop that disposes nothing by hand
 * does not grow.
 *
 * - Inside `scope(fn)` (and `noGrad(fn)`) every new tensor belongs to the
 *   scope and is freed when `fn` returns, except the tensors it returns.
 * - Outside any scope, results of operations belong to the training step.
 *   `optimizer.zeroGrad()` and `module.zeroGrad()` free those made before the
 *   latest `backward()` (so zeroGrad may come before or after the forward
 *   pass); `endStep()` frees them all.
 * - Tensors you create (`tensor`, `zeros`, `randn`, ...) outside a scope are
 *   yours: `dispose()` them or use `using`.
 * - `keep()` takes a tensor out of every rule; parameters, buffers, gradients
 *   and optimizer state are kept by their module or optimizer.
 *
 * @module
 */

/** Anything that can be released. */
export interface Owned {
  /** The set that will free it, or null when nobody will. */
  owner: Set<Owned> | null;
  /** Releases the native memory. */
  dispose(): void;
}

const scopes: Set<Owned>[] = [];
/** Op results made since the latest backward(). */
let current = new Set<Owned>();
/** Op results made before it: freed at the next zeroGrad(). */
const previous = new Set<Owned>();

/** Registers a new tensor with its owner (see the module doc). */
export function adopt(t: Owned, isOpResult: boolean): void {
  const owner = scopes.length > 0 ? scopes[scopes.length - 1] : isOpResult ? current : null;
  t.owner = owner;
  owner?.add(t);
}

/** @internal the innermost open scope's set, or null outside every scope. */
export function currentScope(): Set<Owned> | null {
  return scopes.length > 0 ? scopes[scopes.length - 1] : null;
}

/** Removes a tensor from its owner: nobody frees it automatically. */
export function release(t: Owned): void {
  t.owner?.delete(t);
  t.owner = null;
}

/** Hands a tensor to the owner a new op result would get here. */
export function handOver(t: Owned): void {
  release(t);
  adopt(t, true);
}

function collect(value: unknown, out: Set<Owned>, depth = 0): void {
  if (value === null || typeof value !== "object" || depth > 3) return;
  if ("owner" in value && "dispose" in value) {
    out.add(value as Owned);
    return;
  }
  const items = Array.isArray(value)
    ? value
    : value instanceof Map
    ? [...value.values()]
    : Object.values(value);
  for (const v of items) collect(v, out, depth + 1);
}

/**
 * Runs `fn` and frees every tensor it created, except those it returns
 * (directly, or inside arrays, Maps or plain objects), which move to the
 * enclosing scope or step.
 *
 * @example
 * ```ts
 * import { scope, tensor } from "@lits/vision";
 * using x = tensor([1, 2, 3]);
 * const total = scope(() => x.mul(2).add(1).sum()); // the temporaries are freed
 * console.log(total.item()); // 15
 * ```
 */
export function scope<T>(fn: () => T): T {
  const mine = new Set<Owned>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Owned>();
  collect(result, survivors);
  for (const t of [...mine]) {
    if (survivors.has(t)) handOver(t);
    else t.dispose();
  }
  return result;
}

/** Called by backward(): what the step made so far becomes "previous". */
export function markBackward(): void {
  for (const t of current) {
    previous.add(t);
    t.owner = previous;
  }
  current = new Set();
}

function disposeAll(set: Set<Owned>): void {
  for (const t of [...set]) t.dispose();
  set.clear();
}

/** The boundary optimizers' and modules' zeroGrad() mark (module doc). */
export function zeroGradBoundary(): void {
  disposeAll(previous);
}

/**
 * Ends the training step: frees every operation result made outside a scope
 * and not kept (see the module doc).
 *
 * @example
 * ```ts
 * import { endStep, memoryStats, tensor } from "@lits/vision";
 * using x = tensor([1, 2, 3]);
 * const before = memoryStats().bytesInUse;
 * x.mul(x).sum();
 * endStep();
 * console.log(memoryStats().bytesInUse === before); // true
 * ```
 */
export function endStep(): void {
  disposeAll(previous);
  disposeAll(current);
}

/** Number of tensors the step will free at its boundaries. */
export function stepTensorCount(): number {
  return previous.size + current.size;
}
