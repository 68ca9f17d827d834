/**
 * Reverse-mode autograd: each op that involves a tensor with `requiresGrad`
 * records a `GradNode`; `backward()` walks them in reverse topological order
 * (micrograd's engine, with tensors instead of scalars).
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Tensor } from "./tensor.ts";
import { freeReplacedGrads, keepGrad } from "./grad_store.ts";
import { runBackwardEndHooks, runPostAccumulateGradHooks } from "./grad_hooks.ts";
import { retainGrad, runGradHooks } from "./tensor_hooks.ts";
import { addNameHints } from "./torch_names.ts";
import { filledLike } from "./ops/creation.ts";
import { clone } from "./ops/shape.ts";
import {
  AsyncFunction,
  asyncScope,
  currentScope,
  handOver,
  markBackward,
  PromiseInScopeError,
  scope,
  scopeDepth,
} from "./ownership.ts";

/** How an op passes a gradient back to its inputs: what an op gives `record`. */
export interface GradNodeInit {
  /** The op's name, for errors. */
  readonly name: string;
  /** The op's tensor inputs (the order of `backward`'s result). */
  readonly inputs: readonly Tensor[];
  /**
   * The tensors whose values `backward` reads (default: `inputs`), PyTorch's
   * saved tensors: `backward()` refuses to run where one of them was written
   * in place after the op (`Tensor.version`). An add's gradient reads none.
   */
  readonly saved?: readonly Tensor[];
  /** Gradients for each input (null where none is needed) from the output's. */
  backward(grad: Tensor): (Tensor | null)[];
}

/**
 * A recorded op, a non-leaf tensor's `gradFn` (torch's `grad_fn`):
 * `nextFunctions` walks the graph as torch's `grad_fn.next_functions`, and
 * `String(node)` reads `<mulBackward>` (torch's `<MulBackward0>`).
 *
 * @example
 * ```ts
 * import { tensor } from "@lits/vision";
 * const a = tensor([1, 2], undefined, { requiresGrad: true });
 * const d = a.mul(tensor([3, 4])).sum();
 * console.log(String(d.gradFn)); // <sumBackward>
 * const [[mul]] = d.gradFn!.nextFunctions;
 * console.log(mul!.nextFunctions); // [ [ <AccumulateGrad>, 0 ], [ null, 0 ] ]
 * ```
 */
export interface GradNode extends GradNodeInit {
  /**
   * torch's `next_functions`: one `[node, 0]` pair per input, in input
   * order: the input's `gradFn`, an `AccumulateGrad` for a leaf that
   * requires grad, or null for an input that needs no gradient.
   */
  readonly nextFunctions: readonly NextFunction[];
  /** `<mulBackward>`: the op's name and "Backward". */
  toString(): string;
}

/**
 * torch's `AccumulateGrad` node: where the graph reaches a leaf that requires
 * grad (`variable`), whose `.grad` backward() adds into. One per leaf.
 *
 * @example
 * ```ts
 * import { tensor } from "@lits/vision";
 * const w = tensor([1, 2], undefined, { requiresGrad: true });
 * const [[acc]] = w.mul(3).gradFn!.nextFunctions;
 * console.log(String(acc), (acc as { variable: unknown }).variable === w); // <AccumulateGrad> true
 * ```
 */
export interface AccumulateGrad {
  /** "AccumulateGrad". */
  readonly name: "AccumulateGrad";
  /** The leaf. */
  readonly variable: Tensor;
  /** Empty: a leaf has no inputs. */
  readonly nextFunctions: readonly NextFunction[];
  /** `<AccumulateGrad>`. */
  toString(): string;
}

/** One entry of `nextFunctions`: torch's `(node, 0)` pair (0: the input's output index). */
export type NextFunction = readonly [GradNode | AccumulateGrad | null, 0];

const INSPECT = Symbol.for("Deno.customInspect");
const NODE_INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** The leaves' AccumulateGrad nodes, made when first read. */
const accumulators = new WeakMap<Tensor, AccumulateGrad>();

function accumulateGradOf(leaf: Tensor): AccumulateGrad {
  let acc = accumulators.get(leaf);
  if (acc === undefined) {
    acc = Object.create(ACC_PROTO, {
      variable: { value: leaf, enumerable: true },
    }) as AccumulateGrad;
    accumulators.set(leaf, acc);
  }
  return acc;
}

/**
 * A recorded node: the op's fields, with `nextFunctions` and `toString` from
 * the class (no closure per node; ~20 ns a node where setPrototypeOf on the
 * op's literal cost ~500 ns).
 */
class RecordedNode implements GradNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly saved: readonly Tensor[] | undefined;
  readonly backward: (grad: Tensor) => (Tensor | null)[];
  /** Its place in recording order (`recordMark`). */
  readonly serial: number;
  constructor(init: GradNodeInit) {
    this.name = init.name;
    this.inputs = init.inputs;
    this.saved = init.saved;
    this.backward = init.backward;
    this.serial = ++nodesRecorded;
  }
  get nextFunctions(): NextFunction[] {
    return this.inputs.map((t): NextFunction => [
      !t.requiresGrad ? null : t.gradFn ?? accumulateGradOf(t),
      0,
    ]);
  }
  toString(): string {
    return `<${this.name.endsWith("Backward") ? this.name : this.name + "Backward"}>`;
  }
}
let nodesRecorded = 0;

/** @internal a mark in recording order: `recordedAfter` tells the nodes recorded since. */
export function recordMark(): number {
  return nodesRecorded;
}

/**
 * @internal whether `node` was recorded after `mark` (by the code that ran
 * since: a checkpointed part's own ops, not the activations it closes over).
 */
export function recordedAfter(node: GradNode, mark: number): boolean {
  return node instanceof RecordedNode && node.serial > mark;
}
const hidden = (value: unknown) => ({ value, configurable: true, writable: true });
const NODE_PROTO = RecordedNode.prototype;
Object.defineProperties(NODE_PROTO, {
  [INSPECT]: hidden(function (this: GradNode) {
    return this.toString();
  }),
  [NODE_INSPECT]: hidden(function (this: GradNode) {
    return this.toString();
  }),
});
const ACC_PROTO: object = {};
Object.defineProperties(ACC_PROTO, {
  name: { value: "AccumulateGrad", enumerable: true },
  nextFunctions: { get: () => [] },
  toString: hidden(() => "<AccumulateGrad>"),
  [INSPECT]: hidden(() => "<AccumulateGrad>"),
  [NODE_INSPECT]: hidden(() => "<AccumulateGrad>"),
});
const NEXT_HINT = "write gradFn.nextFunctions (an array of [node, 0] pairs, one per input)";
addNameHints(NODE_PROTO, "gradFn", { next_functions: NEXT_HINT });
addNameHints(ACC_PROTO, "AccumulateGrad", { next_functions: NEXT_HINT });

/** The thread's mode: set by the synchronous switches (restored on exit) and `setGradEnabled(mode)`. */
let enabled = true;

/**
 * The mode of an async call chain that `noGrad(async ...)` or
 * `enableGrad(async ...)` opened, through every await; a plain
 * `setGradEnabled(mode)` in the chain sets it for the rest of the chain.
 */
interface ChainMode {
  grad: boolean;
  /** False once its switch returned: work it left running follows the enclosing mode. */
  open: boolean;
  /** The chain it was opened in, if any. */
  parent: ChainMode | undefined;
}

/** The innermost open chain of this call chain (a finished one gives way to its parent). */
function openChain(): ChainMode | undefined {
  let c = chainModes.getStore();
  while (c !== undefined && !c.open) c = c.parent;
  return c;
}
const chainModes = new AsyncLocalStorage<ChainMode>();
let openChains = 0;
/** The chain (undefined: none) each open synchronous switch was entered in, innermost last. */
const switches: (ChainMode | undefined)[] = [];

/**
 * The mode here. The innermost switch wins, as torch's nested with-blocks: a
 * synchronous one entered in this chain over the chain's own mode, the
 * chain's over the switches its synchronous start ran inside.
 */
function gradMode(): boolean {
  if (openChains === 0) return enabled;
  const chain = openChain();
  if (chain === undefined || switches[switches.length - 1] === chain) return enabled;
  return chain.grad;
}

/** @internal runs a synchronous `fn` with recording set to `mode`, then restores the mode. */
export function withGradMode<T>(mode: boolean, fn: () => T): T {
  const was = enabled;
  enabled = mode;
  switches.push(openChains === 0 ? undefined : openChain());
  try {
    return fn();
  } finally {
    switches.pop();
    enabled = was;
  }
}

/** @internal runs an async `fn` with recording set to `mode` in its whole call chain. */
export async function gradModeChain<T>(mode: boolean, fn: () => Promise<T>): Promise<T> {
  const chain: ChainMode = {
    grad: mode,
    open: true,
    parent: openChains === 0 ? undefined : openChain(),
  };
  openChains++;
  try {
    return await chainModes.run(chain, fn);
  } finally {
    chain.open = false;
    openChains--;
  }
}

/**
 * @internal `setGradEnabled(mode)`: sets the innermost switch's mode (the
 * thread's outside every switch), which its exit restores, as torch's plain
 * call inside a with-block.
 */
export function setGradMode(mode: boolean): void {
  if (openChains > 0) {
    const chain = openChain();
    if (chain !== undefined && switches[switches.length - 1] !== chain) {
      chain.grad = mode;
      return;
    }
  }
  enabled = mode;
}

/**
 * Whether ops are recorded now (in this async call chain): PyTorch's
 * `torch.is_grad_enabled()`.
 *
 * @example
 * ```ts
 * import { isGradEnabled, noGrad } from "@lits/vision";
 * console.log(isGradEnabled(), noGrad(() => isGradEnabled())); // true false
 * ```
 */
export function isGradEnabled(): boolean {
  return gradMode();
}

/**
 * Runs `fn` without recording operations, inside a `scope`: temporaries it
 * makes are freed when it returns, except what it returns.
 *
 * An async `fn` (the port of `with torch.no_grad():` around a `for await`
 * loop) gets a promise: nothing is recorded in its whole call chain, through
 * every `await`, while code outside the chain records as usual; what the
 * chain made is freed when it settles, except what it resolves to. Everything
 * the chain makes is held until then, so for a long loop put each batch's
 * work in a synchronous `noGrad(() => ...)` inside, which frees per batch.
 *
 * @example
 * ```ts
 * import { noGrad, tensor } from "@lits/vision";
 * const w = tensor([1, 2], undefined, { requiresGrad: true });
 * const y = noGrad(() => w.mul(3));
 * console.log(y.requiresGrad); // false
 * const z = await noGrad(async () => {
 *   await Promise.resolve(); // e.g. the next batch of a loader
 *   return w.mul(3);
 * });
 * console.log(z.requiresGrad); // false
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== "function") {
    throw new Error(`noGrad: expected a function, got ${typeof fn}; write noGrad(() => ...)`);
  }
  return runNoGrad(fn, "noGrad", "noGrad(async () => { ... })");
}

/**
 * @internal throws where `fn` takes arguments: `where(fn)` runs fn now with
 * none (torch's `@torch.no_grad()` decorator ported as
 * `const f = noGrad((x, y) => ...)` read x as undefined).
 */
export function checkNoParameters(fn: (...args: never[]) => unknown, where: string): void {
  if (fn.length === 0) return;
  const params = Array.from({ length: fn.length }, (_, i) => "xyzuvw"[i] ?? `a${i}`).join(", ");
  const mode = where === "setGradEnabled" ? "mode, " : "";
  throw new Error(
    `${where}: ${where}(${mode}fn) runs fn now, with no arguments, but fn takes ${fn.length}; ` +
      `torch's decorator @torch.${TORCH_NAMES[where] ?? "no_grad()"} def f(${params}) is ` +
      `const f = (${params}) => ${where}(${mode}() => ...)`,
  );
}
const TORCH_NAMES: Record<string, string> = {
  noGrad: "no_grad()",
  enableGrad: "enable_grad()",
  setGradEnabled: "set_grad_enabled(mode)",
  inferenceMode: "inference_mode()",
};

/** @internal `noGrad(fn)`, its Promise error naming `where` and `usage`. */
export function runNoGrad<T>(fn: () => T, where: string, usage: string): T {
  checkNoParameters(fn, where);
  if (fn instanceof AsyncFunction) {
    const f = fn as () => Promise<unknown>;
    return asyncScope(() => gradModeChain(false, f)) as T;
  }
  try {
    return withGradMode(false, () => scope(fn));
  } catch (e) {
    if (e instanceof PromiseInScopeError) {
      throw new Error(
        `${where}: fn returned a Promise but is not an async function, so gradients would be ` +
          `recorded after its first await; write \`await ${usage}\``,
      );
    }
    throw e;
  }
}

/**
 * `torch.inference_mode()`: here the same as `noGrad` (nothing recorded,
 * temporaries freed when `fn` returns), so `with torch.inference_mode():`
 * ports by its own name. torch also marks what it makes as unusable in a
 * later backward; here such a tensor simply has no gradient history.
 *
 * @example
 * ```ts
 * import { inferenceMode, tensor } from "@lits/vision";
 * const w = tensor([1, 2], undefined, { requiresGrad: true });
 * console.log(inferenceMode(() => w.mul(3)).requiresGrad); // false
 * ```
 */
export function inferenceMode<T>(fn: () => T): T {
  if (typeof fn !== "function") {
    throw new Error(
      `inferenceMode: expected a function, got ${typeof fn}; write inferenceMode(() => ...)`,
    );
  }
  checkNoParameters(fn, "inferenceMode");
  return noGrad(fn);
}

/**
 * Marks `out` as made by `node` when any input requires a gradient and
 * recording is on. Returns `out`.
 */
export function record(out: Tensor, init: GradNodeInit): Tensor {
  // The async-chain lookup costs only while an async noGrad/enableGrad is open somewhere.
  if (gradMode() && init.inputs.some((t) => t.requiresGrad)) {
    const node = new RecordedNode(init);
    out.requiresGrad = true;
    out.gradFn = node;
    const saved = node.saved ?? node.inputs;
    if (saved.length > 0) savedVersions.set(node, saved.map((t) => t.storage.version));
  }
  return out;
}

/** The versions of a node's saved tensors when it was recorded. */
const savedVersions = new WeakMap<GradNode, number[]>();

/**
 * Throws where a tensor `node` saved for its gradient was written in place
 * since (an optimizer step between the forward and a retained graph's
 * second backward, `loadStateDict`, an `nn.init` fill): its gradient would
 * mix the forward's values with the new ones.
 */
function checkSavedVersions(node: GradNode): void {
  const versions = savedVersions.get(node);
  if (versions === undefined) return;
  const saved = node.saved ?? node.inputs;
  saved.forEach((t, i) => {
    if (!t.isAlive) {
      // Its memory may hold another tensor by now (a freed target's block
      // reused by the next one): the gradient would read that.
      throw new Error(
        `backward: tensor [${t.shape}], saved by '${node.name}' for its gradient, was released ` +
          "(disposed, or freed at a step boundary: the end of a scope, endStep(), zeroGrad()) " +
          "before backward(); call backward() before then, or .keep() it",
      );
    }
    if (t.storage.version === versions[i]) return;
    throw new Error(
      `backward: one of the tensors needed for gradient computation has been modified by an ` +
        `in-place operation: [${t.shape}], saved by '${node.name}', is at version ` +
        `${t.storage.version}; expected version ${versions[i]} (an optimizer.step(), ` +
        "loadStateDict(), nn.init fill, batch norm update or a backward() adding into a .grad " +
        "wrote to it after the forward); " +
        "call backward() before changing it, or run the forward again",
    );
  });
}

/**
 * Throws where this pass would add into a leaf's existing `.grad` (in place)
 * before a node that saved that `.grad` reads it (`q * p.grad` in the same
 * graph as p): the node would read the sum. PyTorch's version check fails
 * there too. `propagate` runs `order` from its end, so leaf i goes first
 * when a node below it saved its `.grad`.
 */
function checkGradsNotSaved(order: Tensor[]): void {
  const firstSaver = new Map<unknown, number>();
  order.forEach((t, i) => {
    const node = t.gradFn;
    if (node === null) return;
    for (const s of node.saved ?? node.inputs) {
      if (s.isAlive && !firstSaver.has(s.storage)) firstSaver.set(s.storage, i);
    }
  });
  if (firstSaver.size === 0) return;
  order.forEach((t, i) => {
    const g = t.gradFn === null ? t.grad : null;
    if (g === null || !g.isAlive) return;
    const j = firstSaver.get(g.storage);
    if (j === undefined || j >= i) return;
    throw new Error(
      `backward: one of the tensors needed for gradient computation would be modified by an ` +
        `in-place operation: the .grad of [${t.shape}], saved by '${order[j].gradFn!.name}', ` +
        "is added into by this same backward() first; use a .clone() of the .grad in the graph",
    );
  });
}

/** Every tensor the roots' gradients reach, each after its inputs (post-order, shared `seen`). */
function topoOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  for (const root of roots) {
    if (seen.has(root)) continue;
    // Iterative DFS: deep networks would overflow a recursive one.
    const stack: [Tensor, number][] = [[root, 0]];
    seen.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = top[0].gradFn?.inputs ?? [];
      if (top[1] < inputs.length) {
        const next = inputs[top[1]++];
        if (next.requiresGrad && !seen.has(next)) {
          seen.add(next);
          stack.push([next, 0]);
        }
      } else {
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  return order;
}

/**
 * The tensors of `order` from which a target is reached (targets included):
 * only their nodes need to run, as torch's engine prunes for `inputs=`.
 */
function leadingTo(order: readonly Tensor[], targets: ReadonlySet<Tensor>): Set<Tensor> {
  const needed = new Set<Tensor>();
  for (const t of order) {
    if (targets.has(t) || t.gradFn?.inputs.some((i) => needed.has(i))) needed.add(t);
  }
  return needed;
}

/** One backward pass: from `roots`, each with its gradient. */
export interface BackwardPass {
  /** The outputs the pass starts from. */
  readonly roots: readonly Tensor[];
  /** Their gradients (undefined: ones, for a one-element root). */
  readonly gradients: readonly (Tensor | undefined)[];
  /** Free what the pass read: torch's `retain_graph=False`. */
  readonly freeGraph: boolean;
  /** Only these get gradients (torch's `inputs=`); all leaves where undefined. */
  readonly targets?: readonly Tensor[];
  /** Return the targets' gradients instead of adding them into `.grad` (`autograd.grad`). */
  readonly capture?: boolean;
}

/**
 * @internal Runs a checked pass (backward() and autograd.grad check their
 * arguments first): the targets' gradients where `capture`, else none.
 */
export function runPass(pass: BackwardPass): (Tensor | null)[] {
  const all = topoOrder(pass.roots);
  const targets = pass.targets === undefined ? undefined : new Set(pass.targets);
  const needed = targets === undefined ? undefined : leadingTo(all, targets);
  const order = needed === undefined ? all : all.filter((t) => needed.has(t));
  // Before any gradient is written, so that no leaf's .grad is left half
  // done: a released tensor's node throws, saying which, and so does a node
  // whose saved tensors were written since, or will be by this pass.
  const runs = (t: Tensor) =>
    t.gradFn !== null && (needed === undefined || t.gradFn.inputs.some((i) => needed.has(i)));
  const reaches = (t: Tensor) => t.requiresGrad && (needed === undefined || needed.has(t));
  // A released node anywhere below the roots throws, pruned or not: its
  // inputs are gone, so whether it led to a target cannot be told. A node an
  // earlier pass freed keeps its inputs, as torch's: it throws only where
  // this pass runs it (grad(y, x) then grad(y, w) through another branch).
  for (const t of all) if (t.gradFn !== null && released.has(t.gradFn)) t.gradFn.backward(t);
  for (const t of order) if (runs(t) && freed.has(t.gradFn!)) t.gradFn!.backward(t);
  for (const t of order) if (runs(t)) checkSavedVersions(t.gradFn!);
  if (!pass.capture) checkGradsNotSaved(order);
  // torch's inputs= retains an op result's gradient (from now on, as its retain_grad()).
  if (!pass.capture) { for (const t of targets ?? []) if (t.gradFn !== null) retainGrad(t); }
  const captured = withGradMode(false, () => {
    // PyTorch casts a gradient of another dtype (an int32 one) to the tensor's.
    // Hooks run in the caller's scopes (the ones open now), not in backward's own.
    // A pass inside another's node (a checkpoint's recomputation) runs its hooks where the
    // outer pass's caller is: what they keep must outlive the node.
    const depth = Math.min(scopeDepth(), callerDepths.at(-1) ?? Infinity);
    const gradients = pass.gradients.map((g) => g?.dtype === "int32" ? g.float() : g);
    callerDepths.push(depth);
    try {
      return scope(() => propagate(order, pass, gradients, { runs, reaches, targets }, depth));
    } finally {
      callerDepths.pop();
    }
  });
  if (pass.freeGraph) {
    // As PyTorch, only what the pass read is freed: a node that saved no
    // tensor (an add, a sum) can be gone through again.
    for (const t of order) {
      const node = t.gradFn;
      if (node !== null && runs(t) && (node.saved ?? node.inputs).length > 0) {
        t.gradFn = freedNode(node);
      }
    }
  }
  markBackward(pass.roots[0]);
  for (const g of captured) if (g !== null) handOver(g);
  freeReplacedGrads(); // after the pass: its graph may have read one (w.mul(g))
  if (!pass.capture) runBackwardEndHooks();
  const targetList = pass.targets ?? [];
  return pass.capture ? targetList.map((_, i) => captured[i]) : [];
}

/** The scope depth of each running pass's caller, innermost last. */
const callerDepths: number[] = [];

/**
 * @internal The scopes of the running backward pass's caller (`scopeDepth()`
 * outside any pass): where hooks that run inside backward, a module's
 * backward hooks among them, run and keep what they keep.
 */
export function backwardCallerDepth(): number {
  return callerDepths.length > 0 ? callerDepths[callerDepths.length - 1] : scopeDepth();
}

/** Which nodes a pass runs, which tensors it passes gradients to, and its targets. */
interface PassGraph {
  readonly runs: (t: Tensor) => boolean;
  readonly reaches: (t: Tensor) => boolean;
  readonly targets: ReadonlySet<Tensor> | undefined;
}

/**
 * Runs the nodes in reverse topological order inside the pass's scope.
 * Gradients are freed as soon as they are consumed (PyTorch's frontier, not
 * the whole graph's gradients, is alive at once), and each node's own
 * temporaries when it returns. Only tensors this pass made (owned by its
 * scope) are freed early: the caller's gradients, forward tensors that a
 * node passes back unchanged and leaves' `.grad` are left alone. Returns
 * the captured gradients, one per target (null: none reached it).
 */
function propagate(
  order: Tensor[],
  pass: BackwardPass,
  gradients: readonly (Tensor | undefined)[],
  graph: PassGraph,
  depth: number,
): (Tensor | null)[] {
  const mine = currentScope();
  const grads = new Map<Tensor, Tensor>();
  // How many pending gradients (entries of `grads`, or results being added)
  // are this tensor: one object may flow to several inputs (add: [g, g]).
  const uses = new Map<Tensor, number>();
  const hold = (g: Tensor) => uses.set(g, (uses.get(g) ?? 0) + 1);
  const drop = (g: Tensor) => {
    const n = (uses.get(g) ?? 0) - 1;
    if (n > 0) return void uses.set(g, n);
    uses.delete(g);
    if (g.owner !== null && g.owner === mine) g.dispose();
  };
  const add = (t: Tensor, gi: Tensor) => {
    const prev = grads.get(t);
    if (prev === undefined) return void grads.set(t, gi);
    const sum = prev.add(gi);
    hold(sum);
    grads.set(t, sum);
    drop(prev);
    drop(gi);
  };
  pass.roots.forEach((root, i) => {
    const first = gradients[i] ?? filledLike(root, 1);
    hold(first);
    add(root, first);
  });
  const { runs, reaches, targets } = graph;
  const captured = new Map<Tensor, Tensor>();
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    let g = grads.get(t);
    if (g === undefined) continue;
    grads.delete(t);
    const hooked = runGradHooks(t, g, depth);
    const fromHook = hooked !== g;
    if (fromHook) {
      hold(hooked);
      drop(g);
      g = hooked;
    }
    const node = t.gradFn;
    if (pass.capture && targets!.has(t)) {
      // Held for good: the caller's, whatever the nodes below do with it.
      const mineAlone = g.owner !== null && g.owner === mine && !fromHook;
      const kept = mineAlone ? g : clone(g);
      hold(kept);
      captured.set(t, kept);
    } else if (node === null) {
      if (!t.isAlive) throw new Error(`backward: leaf [${t.shape}] was disposed before backward()`);
      // A hook's gradient is copied, never adopted: the hook may have kept it.
      keepGrad(t, g, !fromHook && g.owner === mine && uses.get(g) === 1);
      runPostAccumulateGradHooks(t);
    }
    if (node === null || !runs(t)) {
      drop(g);
      continue;
    }
    checkSavedVersions(node); // checked up front; again where this pass wrote since
    const inputGrads = scope(() => node.backward(g));
    for (const gi of inputGrads) if (gi) hold(gi);
    node.inputs.forEach((input, k) => {
      const gi = inputGrads[k];
      if (gi === null || gi === undefined) return;
      if (!reaches(input)) return drop(gi);
      add(input, gi);
    });
    drop(g);
  }
  // One tensor per target: a target listed twice gets its own copy.
  const given = new Set<Tensor>();
  return (pass.targets ?? []).map((t) => {
    const g = captured.get(t);
    if (g === undefined) return null;
    if (!given.has(g)) return given.add(g), g;
    return clone(g);
  });
}

/** Computes gradients of `root` into the `.grad` of the leaves it depends on. */
export function backward(
  root: Tensor,
  gradient?: Tensor,
  options: { retainGraph?: boolean; inputs?: readonly Tensor[] } = {},
): void {
  if (!root.requiresGrad) {
    throw new Error("backward: tensor does not require grad and has no gradFn");
  }
  if (!root.isAlive) {
    throw new Error(
      `backward: tensor [${root.shape}] was released (disposed, or freed at a step boundary: ` +
        "the end of a scope, endStep(), zeroGrad()); call backward() before then, or .keep() it",
    );
  }
  if (gradient === undefined && root.numel() !== 1) {
    throw new Error(`backward: gradient can be implied only for one element, got [${root.shape}]`);
  }
  if (gradient !== undefined && gradient.shape.join() !== root.shape.join()) {
    throw new Error(`backward: gradient [${gradient.shape}] does not match tensor [${root.shape}]`);
  }
  if (gradient !== undefined && gradient.device !== root.device) {
    throw new Error(
      `backward: gradient is on ${gradient.device}, the tensor [${root.shape}] on ${root.device}`,
    );
  }
  runPass({
    roots: [root],
    gradients: [gradient],
    freeGraph: !options.retainGraph,
    targets: options.inputs,
  });
}

/**
 * @internal What a released op result's gradFn becomes (`Tensor.dispose`):
 * backward() through it throws. With no node it looked like a leaf, so a
 * backward that reached it silently left the real leaves' .grad null or
 * wrong (`scope(() => f(x)).backward()`, a loss built before `zeroGrad()`).
 */
export function releasedNode(name: string, shape: readonly number[]): GradNode {
  const node: GradNode = new RecordedNode({
    name,
    inputs: [],
    backward() {
      throw new Error(
        `backward: tensor [${shape}] made by '${name}' was released (disposed, or freed at a ` +
          "step boundary: the end of a scope, endStep(), zeroGrad()) before backward() reached " +
          "it; call backward() before then, or .keep() what you hold across it",
      );
    },
  });
  released.add(node);
  return node;
}

/** The nodes of released tensors: backward() checks its graph for them first. */
const released = new WeakSet<GradNode>();

/**
 * What a node becomes once a pass without `retainGraph` went through it: its
 * saved tensors let go, its inputs (torch's edges) kept, so that a later
 * pass can tell whether it leads to that pass's targets.
 */
function freedNode(ran: GradNode): GradNode {
  const name = ran.name;
  const node: GradNode = new RecordedNode({
    name,
    inputs: ran.inputs,
    saved: [],
    backward() {
      throw new Error(
        `backward: the graph through '${name}' was already used and freed; ` +
          "pass { retainGraph: true } to the first backward() to go through it twice",
      );
    },
  });
  // Checked before any gradient is written, where the pass runs it.
  freed.add(node);
  return node;
}

/** The nodes passes freed (`freedNode`). */
const freed = new WeakSet<GradNode>();
