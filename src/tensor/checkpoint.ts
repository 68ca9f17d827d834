/**
 * Activation checkpointing, PyTorch's `torch.utils.checkpoint`: run a part
 * of the network without keeping its intermediate activations, and compute
 * them again from its inputs when backward reaches it. Memory for compute:
 * a ResNet trained with its stages checkpointed holds each stage's input
 * instead of every activation inside it, and runs each stage's forward twice.
 *
 * The forward records the part's graph once, to find the parameters it
 * uses and the earlier activations it closes over (so that they get
 * gradients even where no input requires one, as torch's
 * `use_reentrant=False`), then frees everything inside it but the outputs.
 * Backward runs the part again with gradients recorded, on the same inputs,
 * under the forward's autocast and, by default, with the same random
 * numbers (dropout draws the same mask), and passes the gradients of the
 * inputs, parameters and closed-over activations on.
 *
 * As in torch, a batch norm inside updates its running statistics in both
 * runs, and the part must compute the same thing twice (no reading of
 * state it changes itself).
 *
 * @module
 */
import { Tensor } from "./tensor.ts";
import { Function, type FunctionCtx } from "./function.ts";
import { isGradEnabled, recordedAfter, recordMark, runPass, withGradMode } from "./autograd.ts";
import { scope } from "./ownership.ts";
import { detach } from "./ops/shape.ts";
import { type GeneratorState, getRngState, setRngState } from "./rng_state.ts";
import { autocast, type AutocastDtype, autocastDtype } from "./autocast.ts";

/** Options of `checkpoint`: torch's keywords, camelCased. */
export interface CheckpointOptions {
  /**
   * torch's `use_reentrant` (torch 2 asks for it explicitly): either value
   * gives torch's non-reentrant behaviour here, which torch recommends.
   */
  useReentrant?: boolean;
  /** Replay the random numbers of the forward in the recomputation (default true). */
  preserveRngState?: boolean;
}

const KEYS = new Set(["useReentrant", "preserveRngState"]);
const USAGE = "utils.checkpoint(fn, x, { useReentrant: false })";

/** What one checkpointed call keeps for its backward. */
interface Segment {
  readonly fn: (...args: unknown[]) => unknown;
  readonly args: readonly unknown[];
  /**
   * What the part reached that requires grad and is neither an argument nor
   * made inside it: its parameters, and activations it closes over.
   */
  readonly outside: readonly Tensor[];
  readonly rng: GeneratorState | null;
  /** The forward's autocast dtype (null: fp32), which the recomputation runs under, as torch's. */
  readonly autocast: AutocastDtype | null;
  /** Whether `fn` returned one tensor (else an array). */
  readonly single: boolean;
  /** How many tensors it returned. */
  readonly count: number;
}

/**
 * Runs `fn(...args)` without keeping its activations for backward, and
 * recomputes them there: PyTorch's `torch.utils.checkpoint.checkpoint(fn,
 * *args, use_reentrant=False)`. `fn` returns a tensor or an array of
 * tensors; a last argument that is a plain object of these options
 * (`useReentrant`, `preserveRngState`) is the options. Outside gradient
 * recording (`noGrad`, eval loops) it simply calls `fn`.
 *
 * @example
 * ```ts
 * import { nn, randn, utils } from "@lits/vision";
 * const block = new nn.Sequential(new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 8));
 * const x = randn([4, 8], { requiresGrad: true });
 * const y = utils.checkpoint(block, x, { useReentrant: false });
 * y.sum().backward();
 * console.log(x.grad!.shape, block[0].parameters()[0].grad!.shape); // [4, 8] [8, 8]
 * ```
 */
export function checkpoint<R extends Tensor | Tensor[]>(
  fn: (...args: never[]) => R,
  ...args: unknown[]
): R {
  if (typeof fn !== "function") {
    throw new Error(`checkpoint: fn must be a function or a module, got ${typeof fn}; ${USAGE}`);
  }
  const o = splitOptions(args);
  const call = fn as unknown as (...a: unknown[]) => unknown;
  if (!isGradEnabled()) return call(...args) as R;
  const rng = o.preserveRngState === false ? null : getRngState();
  // Record once, to find what it reaches from outside (parameters, activations it
  // closes over); everything made inside is freed but the outputs.
  // (Inside the scope: a freed tensor's gradFn no longer names its inputs.)
  const tensorArgs = new Set(args.filter((a): a is Tensor => a instanceof Tensor));
  const mark = recordMark();
  const [made, outside] = scope(() => {
    const r = call(...args);
    return [r, outsideOf(outputList(r), tensorArgs, mark)] as const;
  });
  const outs = outputList(made);
  if (!outs.some((t) => t.requiresGrad)) return made as R;
  const segment: Segment = {
    fn: call,
    args,
    outside,
    rng,
    autocast: autocastDtype(),
    single: made instanceof Tensor,
    count: outs.length,
  };
  const views = CheckpointFunction.apply(
    segment,
    ...outs.map(detach),
    ...args,
    ...outside,
  );
  return (segment.single ? (views as Tensor[])[0] : views) as R;
}

/** Takes a trailing options object off `args` (in place); returns it. */
function splitOptions(args: unknown[]): CheckpointOptions {
  const last = args.at(-1);
  if (
    last === null || typeof last !== "object" || last instanceof Tensor || Array.isArray(last) ||
    Object.getPrototypeOf(last) !== Object.prototype
  ) return {};
  const keys = Object.keys(last);
  const snake = keys.find((k) => k === "use_reentrant" || k === "preserve_rng_state");
  if (snake) {
    throw new Error(
      `checkpoint: unknown option '${snake}' (write '${
        snake === "use_reentrant" ? "useReentrant" : "preserveRngState"
      }'); ${USAGE}`,
    );
  }
  if (keys.length === 0 || !keys.every((k) => KEYS.has(k))) return {};
  args.pop();
  const o = last as CheckpointOptions;
  for (const k of keys) {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v !== "boolean") throw new Error(`checkpoint: ${k} must be true or false, got ${v}`);
  }
  return o;
}

/** A segment's result as a list of tensors; anything else throws. */
function outputList(made: unknown): Tensor[] {
  const list = made instanceof Tensor ? [made] : Array.isArray(made) ? made : null;
  if (list === null || list.length === 0 || list.some((t) => !(t instanceof Tensor))) {
    throw new Error(
      "checkpoint: fn must return a tensor or a non-empty array of tensors (the part's " +
        "outputs, whose gradients backward passes in)",
    );
  }
  return list;
}

/**
 * The tensors requiring grad that the part's graph starts from, besides
 * its arguments: leaves (the parameters used) and op results recorded
 * before `mark` (an activation the part closes over, `(h) => h.add(skip)`).
 * The walk stops there and at the arguments, whose graphs lie before the
 * part: their gradients go on through the outer pass.
 */
function outsideOf(outs: readonly Tensor[], args: ReadonlySet<Tensor>, mark: number): Tensor[] {
  const found: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack = outs.filter((t) => t.requiresGrad);
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t) || args.has(t)) continue;
    seen.add(t);
    if (t.gradFn === null || !recordedAfter(t.gradFn, mark)) found.push(t);
    else for (const i of t.gradFn.inputs) if (i.requiresGrad) stack.push(i);
  }
  return found;
}

/**
 * The recorded op: forward passes the already computed (detached) outputs
 * through; backward recomputes the segment and returns the gradients of
 * its tensor arguments and of what it reached from outside.
 */
class CheckpointFunction extends Function {
  static override forward(ctx: FunctionCtx, segment: Segment, ...rest: unknown[]): Tensor[] {
    (ctx as unknown as { segment: Segment }).segment = segment;
    // The arguments' versions are checked at backward, as any saved tensor's.
    ctx.saveForBackward(...segment.args.filter((a): a is Tensor => a instanceof Tensor));
    return rest.slice(0, segment.count) as Tensor[];
  }

  static override backward(ctx: FunctionCtx, ...grads: (Tensor | null)[]): (Tensor | null)[] {
    const segment = (ctx as unknown as { segment: Segment }).segment;
    const inputs = segment.args.map((a) => {
      if (!(a instanceof Tensor)) return a;
      const d = detach(a); // the node's scope's: freed when its backward returns
      if (a.requiresGrad) d.requiresGrad_(true);
      return d;
    });
    const outs = withGradMode(true, () => replay(segment, inputs));
    const targets = [
      ...inputs.filter((a): a is Tensor => a instanceof Tensor && a.requiresGrad),
      ...segment.outside,
    ];
    const roots: Tensor[] = [];
    const given: Tensor[] = [];
    outs.forEach((t, i) => {
      const g = grads[i];
      if (t.requiresGrad && g !== null && g !== undefined) roots.push(t), given.push(g);
    });
    const got = roots.length === 0 || targets.length === 0
      ? targets.map(() => null)
      : runPass({ roots, gradients: given, freeGraph: true, targets, capture: true });
    // One gradient per forward argument: the outputs' slots (none), the args', the outside's.
    let next = 0;
    const argGrads = inputs.map((a) => a instanceof Tensor && a.requiresGrad ? got[next++] : null);
    return [null, ...outs.map(() => null), ...argGrads, ...got.slice(next)];
  }
}

/** Runs the segment again, with the forward's random numbers where kept, under its autocast. */
function replay(segment: Segment, inputs: unknown[]): Tensor[] {
  const before = segment.rng === null ? null : getRngState();
  if (segment.rng !== null) setRngState(segment.rng);
  try {
    const run = () => segment.fn(...inputs);
    const outs = outputList(
      autocast("bfloat16", run, { enabled: segment.autocast === "bfloat16" }),
    );
    if (outs.length !== segment.count) {
      throw new Error("checkpoint: fn returned a different number of outputs the second time");
    }
    return outs;
  } finally {
    if (before !== null) setRngState(before);
  }
}

/**
 * Checkpoints a sequence of modules (or functions) in `segments` runs, as
 * PyTorch's `checkpoint_sequential(functions, segments, input)`: every run
 * but the last is checkpointed, the last runs as usual.
 *
 * @example
 * ```ts
 * import { nn, randn, utils } from "@lits/vision";
 * const net = new nn.Sequential(
 *   new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 2),
 * );
 * const y = utils.checkpointSequential(net, 2, randn([3, 4]), { useReentrant: false });
 * y.sum().backward();
 * console.log(y.shape, net[0].parameters()[0].grad!.shape); // [3, 2] [8, 4]
 * ```
 */
export function checkpointSequential(
  functions: Iterable<(x: Tensor) => Tensor>,
  segments: number,
  input: Tensor,
  options: CheckpointOptions = {},
): Tensor {
  if (
    functions === null || typeof functions !== "object" && typeof functions !== "function" ||
    !(Symbol.iterator in functions)
  ) {
    throw new Error(
      "checkpointSequential: functions must be an nn.Sequential or an array of modules or " +
        "functions; write (functions, segments, x)",
    );
  }
  const list = [...functions];
  if (!Number.isInteger(segments) || segments < 1) {
    throw new Error(`checkpointSequential: segments must be a positive integer, got ${segments}`);
  }
  if (!(input instanceof Tensor)) {
    throw new Error("checkpointSequential: input must be a tensor; write (functions, segments, x)");
  }
  if (
    options === null || typeof options !== "object" ||
    !Object.keys(options).every((k) => KEYS.has(k))
  ) {
    throw new Error(`checkpointSequential: options are { useReentrant, preserveRngState }`);
  }
  // torch's split: segments of floor(n / segments), the last taking the rest.
  const size = Math.floor(list.length / segments);
  let x = input;
  let end = -1;
  for (let start = 0; start < size * (segments - 1); start += size) {
    end = start + size - 1;
    const part = list.slice(start, end + 1);
    x = checkpoint((h: Tensor) => part.reduce((v, f) => f(v), h), x, { ...options });
  }
  for (const f of list.slice(end + 1)) x = f(x);
  return x;
}
