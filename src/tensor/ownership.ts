/**
 * Who frees a tensor, so that a training loop that disposes nothing by hand
 * does not grow.
 *
 * - Inside `scope(fn)` (and `noGrad(fn)`) every new tensor belongs to the
 *   scope and is freed when `fn` returns, except the tensors it returns.
 * - Outside any scope, results of operations belong to the training step.
 *   `optimizer.zeroGrad()` and `module.zeroGrad()` free those made before the
 *   latest `backward()` (so zeroGrad may come before or after the forward
 *   pass), except the tensor that backward() ran from (the loss, which
 *   PyTorch code reads after the step: `loss.item()`), freed a step later;
 *   `endStep()` frees them all.
 * - Tensors you create (`tensor`, `zeros`, `randn`, ...) outside a scope are
 *   yours: `dispose()` them or use `using`, or just drop them: the collector
 *   (collector.ts) frees a tensor without an owner once nothing references it.
 *   So are `x.detach()` made outside a scope, and `x.clone()`,
 *   `x.narrow()`, `x.slice()`, `x.select()`, `x.split()`, `x.chunk()`,
 *   `x.diagonal()` of a
 *   tensor in no recorded graph (a clone also of one element): PyTorch code keeps values with them (`best =
 *   w.clone()` of a weight, `losses.push(loss.detach())`, `x0 =
 *   X.slice(0, 1)`), past the step's zeroGrad(). Copies of activations in a
 *   training forward stay the step's. And so are other shapes and types of a
 *   tensor of yours outside any graph (`reshape`, `view`, `flatten`,
 *   `unsqueeze`, `squeeze`, `permute`, `transpose`, `t`, `expand`,
 *   `contiguous`, `float()`, `int()`, `long()`) made before the training's
 *   first backward() (or after `endStep()`): data prepared before the loop
 *   (`y = tensor(labels).long()`) lives past the step's zeroGrad(), while a
 *   loop's `batch.float()` is the step's. Arithmetic on your data
 *   (`x.div(255)`, `sin(x)`) gives op results, the step's: `keep()` data you
 *   prepare that way.
 * - `noGrad(async () => ...)` is a scope for its whole async call chain: what
 *   the chain makes is freed when its promise settles, except what it returns.
 * - `keep()` takes a tensor out of every rule; parameters, buffers, gradients
 *   and optimizer state are kept by their module or optimizer.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { type Collectable, noteKept, unwatch, watch } from "./collector.ts";
import { claimGrad, freeReplacedGrads } from "./grad_store.ts";

/** Anything that can be released. */
export interface Owned {
  /** The set that will free it, or null when nobody will. */
  owner: Set<Owned> | null;
  /** Releases the native memory. */
  dispose(): void;
}

/** What an async scope (`noGrad(async ...)`) carries through its call chain. */
export interface AsyncScope {
  /** The tensors the chain made. */
  readonly owned: Set<Owned>;
}

/** The async scope of the running call chain; consulted only while one is open. */
export const asyncScopes: AsyncLocalStorage<AsyncScope> = new AsyncLocalStorage<AsyncScope>();
let openAsyncScopes = 0;

function watchable(t: Owned): t is Owned & Collectable {
  return "lease" in t;
}

const scopes: Set<Owned>[] = [];
/** Op results made since the latest backward(). */
let current = new Set<Owned>();
/** Op results made before it: freed at the next zeroGrad(). */
const previous = new Set<Owned>();

/** Registers a new tensor with its owner (see the module doc). */
export function adopt(t: Owned, isOpResult: boolean): void {
  const owner = currentScope() ?? (isOpResult ? current : null);
  t.owner = owner;
  if (owner !== null) {
    owner.add(t);
    if (watchable(t)) unwatch(t);
    if (owner === current) {
      adoptedBytes += elementsOf(t) * 4;
      if (adoptedBytes >= nextStepCheck) checkStepGrowth();
    }
  } else if (watchable(t)) watch(t);
}

/** Bytes of op results adopted by the step since its last zeroGrad() or endStep() (freed ones too). */
let adoptedBytes = 0;
/** Summing every `checkEvery` bytes; warning past `limit` (null: a quarter of the memory). */
/** A tensor's element count (Owned is structural: ownership imports no tensor code). */
function elementsOf(t: Owned): number {
  const numel = (t as { numel?: () => number }).numel;
  return typeof numel === "function" ? numel.call(t) : 0;
}

const stepGrowth: { checkEvery: number; limit: number | null } = {
  checkEvery: 2 ** 30,
  limit: null,
};
/** When `adoptedBytes` passes this, the results still held are summed. */
let nextStepCheck = stepGrowth.checkEvery;
let stepWarned = false;

/**
 * A quarter of the machine's memory, or 4 GiB where the program may not ask
 * (no --allow-sys): the warning is advice and must never fail an op.
 */
function memoryQuarter(): number {
  try {
    const allowed = Deno.permissions.querySync({ name: "sys", kind: "systemMemoryInfo" });
    if (allowed.state === "granted") return Deno.systemMemoryInfo().total / 4;
  } catch {
    // A runtime without the permission API: the fixed bound.
  }
  return 4 * 2 ** 30;
}

/** @internal sets the warning's sampling and limit (tests); returns the old ones. */
export function setStepGrowthWarning(
  checkEvery: number,
  limit: number | null,
): { checkEvery: number; limit: number | null } {
  const was = { ...stepGrowth };
  Object.assign(stepGrowth, { checkEvery, limit });
  stepWarned = false;
  resetStepGrowth();
  return was;
}

/**
 * Warns once when the op results the step holds pass a quarter of the
 * machine's memory: an evaluation loop without `noGrad` (PyTorch frees each
 * batch's graph when it is dropped; here the step holds it until zeroGrad
 * or endStep), or a loop that clears gradients by hand and never reaches a
 * boundary, which would end in running out of memory.
 */
function checkStepGrowth(): void {
  nextStepCheck = adoptedBytes + stepGrowth.checkEvery;
  if (stepWarned) return;
  let bytes = 0;
  for (const t of current) bytes += elementsOf(t) * 4;
  for (const t of previous) bytes += elementsOf(t) * 4;
  if (bytes < (stepGrowth.limit ?? memoryQuarter())) return;
  stepWarned = true;
  console.warn(
    `lits: ${current.size + previous.size} op results (${(bytes / 2 ** 30).toFixed(1)} GiB) ` +
      "made outside noGrad/scope are held by the training step until zeroGrad() or endStep(). " +
      "An evaluation loop without noGrad keeps every batch's graph: wrap it in noGrad(() => " +
      "...), as torch.no_grad(); a loop that never calls backward(), or clears gradients by " +
      "hand (p.grad = null) instead of zeroGrad(), can call endStep() after each step",
  );
}

/** @internal the innermost open scope's set, or null outside every scope. */
export function currentScope(): Set<Owned> | null {
  if (scopes.length > 0) return scopes[scopes.length - 1];
  return openAsyncScopes > 0 ? asyncScopes.getStore()?.owned ?? null : null;
}

/** Removes a tensor from its owner: nobody frees it but you (or the collector). */
export function release(t: Owned): void {
  t.owner?.delete(t);
  t.owner = null;
  if (watchable(t)) {
    watch(t);
    noteKept(t);
  }
}

/**
 * @internal makes `t` the user's wherever it was made, as a tensor created
 * outside every scope: no scope or step frees it; `dispose()`, `using` or the
 * collector does. The loader's batches: a loop inside `noGrad(async ...)`
 * would otherwise hold every batch until the loop ends.
 */
export function disown(t: Owned): void {
  t.owner?.delete(t);
  t.owner = null;
  if (watchable(t)) watch(t);
}

/**
 * @internal makes `t` (a `clone()`, `detach()`, `narrow()`, `slice()`,
 * `select()`, or a piece of `split()` / `chunk()` of `source`) the user's, as a created tensor, where it is how PyTorch code
 * keeps a value past the step, which the step would otherwise free at the
 * next zeroGrad(): outside every scope, of a tensor in no recorded graph
 * (`best = w.clone()` of a parameter, `x0 = X.slice(0, 1)`) or,
 * with `scalars`, of one element. `detach()` passes no graph, as it is one
 * (`probs.push(out.softmax(1).detach())`). A copy of an activation inside
 * a training forward (`identity = h.clone()`) stays the step's, as every op
 * result, so a loop that never yields to the collector stays flat.
 */
export function keptCopy<T extends Owned & { numel(): number }>(
  t: T,
  source: { gradFn: unknown },
  scalars = true,
): T {
  if (currentScope() === null && (source.gradFn === null || (scalars && t.numel() <= 1))) {
    disown(t);
  }
  return t;
}

/**
 * @internal makes `t`, another shape or type of `source` (`reshape`, `view`,
 * `unsqueeze`, `float()`, `long()`, ...), the user's where `source` is (a
 * tensor you made or loaded) and no graph is recorded, before the training's
 * first backward(): data prepared before the loop (`y =
 * tensor(labels).long()`, `x = images.reshape([-1, 1, 28, 28])`) outlives
 * the step's zeroGrad(), as in PyTorch. Outside every scope only; `t` itself
 * when it is `source`.
 */
export function keptForm<T extends Owned & { gradFn: unknown }>(t: T, source: Owned): T {
  if (
    t !== source && t.owner !== null && source.owner === null && t.gradFn === null &&
    !stepStarted && currentScope() === null
  ) disown(t);
  return t;
}

/**
 * Whether a backward() ran since the process began or the last endStep():
 * from then on, forms of your tensors are the step's, as other op results
 * (a loop's `batch.float()` is freed at the next zeroGrad, not left to the
 * collector, which a loop that never lets the event loop turn does not reach).
 */
let stepStarted = false;

/** @internal how many synchronous scopes are open (backward() notes it on entry). */
export function scopeDepth(): number {
  return scopes.length;
}

/**
 * @internal runs `fn` with only the outermost `depth` synchronous scopes
 * open: tensor hooks inside backward() run in the scopes of backward()'s
 * caller, not in backward's own, so what they keep (Grad-CAM's
 * `grads.push(g.detach())`) belongs to the caller's scope, or to the step
 * outside every scope, and is not freed when backward ends.
 */
export function atScopeDepth<T>(depth: number, fn: () => T): T {
  const inner = scopes.splice(depth);
  try {
    return fn();
  } finally {
    scopes.push(...inner);
  }
}

/** @internal takes a tensor out of every set and the collector's watch (dispose). */
export function forget(t: Owned): void {
  t.owner?.delete(t);
  t.owner = null;
  if (watchable(t)) unwatch(t);
}

/** Hands a tensor to the owner a new op result would get here. */
export function handOver(t: Owned): void {
  t.owner?.delete(t);
  t.owner = null;
  adopt(t, true);
}

function collect(value: unknown, out: Set<Owned>, depth = 0): void {
  // A module is a function object (callable, as PyTorch's): its fields are walked too.
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return;
  if (depth > 3) return;
  if ("owner" in value && "dispose" in value) {
    out.add(value as Owned);
    return;
  }
  // Raw numbers hold no tensor: a typed array was walked element by element
  // (scope(() => t.toArray()) took 5 ms for 590k floats, 0.3 s for a CT volume).
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  const items = Array.isArray(value)
    ? value
    : value instanceof Map
    ? [...value.values()]
    : Object.values(value);
  for (const v of items) {
    if (v !== null && (typeof v === "object" || typeof v === "function")) {
      collect(v, out, depth + 1);
    }
  }
}

/** @internal `async () => {}`'s constructor: an async fn is told apart before it is called. */
export const AsyncFunction = (async () => {}).constructor;

/**
 * Runs `fn` and frees every tensor it created, except those it returns
 * (directly, or inside arrays, Maps or plain objects), which move to the
 * enclosing scope or step.
 *
 * An async `fn` gets a promise: the scope follows its call chain through
 * every `await` (gradients recorded as outside it) and frees what the chain
 * made when it settles, except what it resolves to. A plain function that
 * returns a promise is an Error (its work after the first await would
 * escape the scope).
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
  if (fn instanceof AsyncFunction) {
    return asyncScope(fn as () => Promise<unknown>) as T;
  }
  const mine = new Set<Owned>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // Nothing is returned: what fn made is freed, as on return (an eval loop that
    // catches a bad batch's Error must not keep that batch's tensors for good).
    scopes.pop();
    settle(mine, undefined);
    throw e;
  }
  scopes.pop();
  if (isThenable(result)) {
    // The chain goes on after this returns: freeing now would free what it still uses.
    for (const t of [...mine]) handOver(t);
    reportLateRejection("scope", result);
    throw new PromiseInScopeError(
      "scope: fn returned a Promise but is not an async function, so the work after its first " +
        "await escaped the scope (it still ran); write `await scope(async () => { ... })`",
    );
  }
  settle(mine, result);
  return result;
}

/**
 * @internal a promise that a refused call (scope, noGrad or autocast given a
 * plain function returning one) leaves running: its rejection is printed
 * rather than left unhandled, which would end the process after the caller
 * had already caught the refusal.
 */
export function reportLateRejection(where: string, pending: PromiseLike<unknown>): void {
  Promise.resolve(pending).catch((e) => {
    console.error(`${where}: the promise that fn returned (refused above) rejected later:`, e);
  });
}

/** @internal thrown when a synchronous scope's fn returns a promise. */
export class PromiseInScopeError extends Error {}

/** Frees what a scope made, except what it returns (handed to the enclosing owner). */
function settle(mine: Set<Owned>, result: unknown): void {
  const survivors = new Set<Owned>();
  collect(result, survivors);
  // A returned `.grad` (a retained gradient of a tensor this scope frees) is
  // the caller's now: disposing its tensor must not free it with it.
  for (const t of survivors) claimGrad(t as Parameters<typeof claimGrad>[0]);
  for (const t of [...mine]) {
    if (survivors.has(t)) handOver(t);
    else t.dispose();
  }
}

/** Whether a value is a Promise or another thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * @internal `scope` for an async function: the scope follows fn's call chain
 * through every await (the recording mode is autograd's: `noGrad(async ...)`
 * opens its own chain mode); what it made is freed when its promise settles,
 * except what it resolves to.
 */
export async function asyncScope<T>(fn: () => Promise<T>): Promise<T> {
  const mine = new Set<Owned>();
  openAsyncScopes++;
  let result: T;
  try {
    // The synchronous part runs under the sync stack too: an enclosing sync
    // scope must not take what this chain makes before its first await.
    scopes.push(mine);
    let pending: Promise<T>;
    try {
      pending = asyncScopes.run({ owned: mine }, fn);
    } finally {
      scopes.pop();
    }
    result = await pending;
  } catch (e) {
    settle(mine, undefined);
    throw e;
  } finally {
    openAsyncScopes--;
  }
  settle(mine, result);
  return result;
}

/**
 * Called by backward(): what the step made so far becomes "previous", except
 * `root`, the tensor backward() ran from, which stays the step's until the
 * next backward: PyTorch code reads the loss after the step's zeroGrad
 * (`loss.backward(); opt.step(); opt.zeroGrad(); return loss.item()`, the
 * tutorials' `loss_batch`). Its graph is not kept with it: backward freed
 * what the nodes saved, or `previous` holds it.
 */
export function markBackward(root?: Owned): void {
  stepStarted = true;
  for (const t of current) {
    previous.add(t);
    t.owner = previous;
  }
  current = new Set();
  for (const t of root === undefined ? [] : [root, ...(readAlong.get(root) ?? [])]) {
    if (t.owner !== previous) continue;
    previous.delete(t);
    t.owner = current;
    current.add(t);
  }
}

/** Tensors kept with a backward root as the root is (keepWithRoot). */
const readAlong = new WeakMap<Owned, readonly Owned[]>();

/**
 * @internal keeps `companions` as the loss is kept when `root` is the tensor
 * backward() runs from: `scaler.scale(loss).backward()` runs from the scaled
 * loss, while the loop reads `loss.item()` after its `opt.zeroGrad()`, as
 * torch's AMP recipe does.
 */
export function keepWithRoot(root: Owned, companions: readonly Owned[]): void {
  readAlong.set(root, companions);
}

function resetStepGrowth(): void {
  adoptedBytes = 0;
  nextStepCheck = stepGrowth.checkEvery;
}

function disposeAll(set: Set<Owned>): void {
  for (const t of [...set]) t.dispose();
  set.clear();
}

/** The boundary optimizers' and modules' zeroGrad() mark (module doc). */
export function zeroGradBoundary(): void {
  disposeAll(previous);
  freeReplacedGrads();
  resetStepGrowth();
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
  freeReplacedGrads();
  resetStepGrowth();
  stepStarted = false;
}

/** Number of tensors the step will free at its boundaries. */
export function stepTensorCount(): number {
  return previous.size + current.size;
}
