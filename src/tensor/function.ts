/**
 * `autograd.Function`: custom ops with their own backward, as PyTorch's
 * `torch.autograd.Function`. Subclass it with a static `forward(ctx, ...args)`
 * and a static `backward(ctx, ...gradOutputs)`, and call `MyFn.apply(...args)`:
 *
 * - `forward` runs with gradient recording off (as torch's), inside a scope:
 *   its temporaries are freed when it returns, except its outputs, the
 *   tensors it saved and those it set on `ctx`, which are then owned as any
 *   op's result (by the training step, or by the enclosing scope).
 * - It returns a tensor, or an array of tensors (and other values). Where a
 *   tensor argument requires grad and gradients are recorded, each float32
 *   output not marked non-differentiable gets a `gradFn` named
 *   `${MyFn.name}Backward`, whose backward calls `MyFn.backward` once with
 *   one gradient per output (zeros for an output that got none, or null
 *   after `ctx.setMaterializeGrads(false)`; null for a non-tensor output).
 * - `backward` returns one gradient per `forward` argument: a tensor, or
 *   null (for non-tensor arguments and those that need none); with one
 *   argument it may return the tensor alone. A gradient of a broadcast
 *   shape is summed to its input's shape, one of another dtype cast, as
 *   torch does; any other shape, a wrong count or a device mismatch is an
 *   Error worded as torch's.
 * - `ctx.saveForBackward(...tensors)` / `ctx.savedTensors` (a tensor
 *   written in place after the forward makes backward throw, as torch's
 *   version check), `ctx.needsInputGrad`, `ctx.markNonDifferentiable`,
 *   `ctx.setMaterializeGrads`, and any attribute you set (`ctx.k = 3`).
 *
 * Not here: `ctx.markDirty` (in-place forwards: this library refuses
 * in-place writes to tensors in the graph; return a new tensor) and double
 * backward (this library's `backward()` has no `createGraph`).
 *
 * @example
 * ```ts
 * import { autograd, type Tensor, tensor } from "@lits/vision";
 *
 * class LegendrePolynomial3 extends autograd.Function {
 *   static override forward(ctx: autograd.FunctionCtx, input: Tensor): Tensor {
 *     ctx.saveForBackward(input);
 *     return input.pow(3).mul(5).sub(input.mul(3)).mul(0.5);
 *   }
 *   static override backward(ctx: autograd.FunctionCtx, gradOutput: Tensor): Tensor {
 *     const [input] = ctx.savedTensors;
 *     return gradOutput.mul(input!.pow(2).mul(5).sub(1).mul(1.5));
 *   }
 * }
 * const x = tensor([0.5, -1, 2], undefined, { requiresGrad: true });
 * const y = LegendrePolynomial3.apply(x);
 * y.sum().backward();
 * console.log(y.gradFn!.name, x.grad!.toList()); // LegendrePolynomial3Backward [0.375, 6, 28.5]
 * ```
 *
 * @module
 */
import { Tensor } from "./tensor.ts";
import type { Device, DType } from "./device.ts";
import { isGradEnabled, noGrad, record } from "./autograd.ts";
import {
  AsyncFunction,
  atScopeDepth,
  currentScope,
  isThenable,
  type Owned,
  reportLateRejection,
  scopeDepth,
} from "./ownership.ts";
import { Storage } from "./storage.ts";
import { clone, detach } from "./ops/shape.ts";
import { sumToShape } from "./ops/reduce.ts";
import { tensor, zeros } from "./ops/creation.ts";

/** What `forward` returns: a tensor, or an array of tensors and other values. */
export type FunctionOutput = Tensor | readonly unknown[];

/** One gradient `backward` returns: a tensor, or null (none) for its argument. */
export type FunctionGradient = Tensor | null | undefined;

/** The arguments of a Function class's `forward`, after `ctx`. */
export type ForwardArgs<T> = T extends { forward(ctx: FunctionCtx, ...args: infer A): unknown } ? A
  : never;

/** What a Function class's `forward` returns (`apply` returns the same). */
export type ForwardResult<T> = T extends { forward(...args: never[]): infer R } ? R : never;

/** What describes a value in an error: a tensor by its shape. */
function describe(v: unknown): string {
  if (v instanceof Tensor) return `a tensor [${v.shape}]`;
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return `a ${v.constructor?.name ?? "object"}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * The context object `forward` and `backward` share: PyTorch's `ctx`. Set
 * any attribute on it in `forward` (`ctx.k = k`) and read it in `backward`.
 *
 * @example
 * ```ts
 * import { autograd, type Tensor, tensor } from "@lits/vision";
 *
 * class MulConstant extends autograd.Function {
 *   static override forward(ctx: autograd.FunctionCtx, x: Tensor, k: number): Tensor {
 *     ctx.k = k;
 *     return x.mul(k);
 *   }
 *   static override backward(ctx: autograd.FunctionCtx, g: Tensor) {
 *     return [g.mul(ctx.k as number), null];
 *   }
 * }
 * const x = tensor([1, 2], undefined, { requiresGrad: true });
 * MulConstant.apply(x, 3).sum().backward();
 * console.log(x.grad!.toList()); // [3, 3]
 * ```
 */
export class FunctionCtx {
  /** Attributes set by `forward` for `backward` (`ctx.k = 3`). */
  [attribute: string]: unknown;
  readonly #name: string;
  readonly #needs: readonly boolean[];
  #saved: readonly (Tensor | null)[] = [];
  #inForward = true;
  #nonDifferentiable = new Set<Tensor>();
  #materialize = true;

  /** @internal made by `Function.apply`. */
  constructor(name: string, needsInputGrad: readonly boolean[]) {
    this.#name = name;
    this.#needs = Object.freeze([...needsInputGrad]);
  }

  /**
   * For each `forward` argument, whether it is a tensor that requires grad
   * (torch's `ctx.needs_input_grad`): `backward` may return null for the
   * others without computing them.
   */
  get needsInputGrad(): readonly boolean[] {
    return this.#needs;
  }

  /**
   * Saves tensors (inputs, outputs or intermediates) for `backward`, which
   * reads them from `savedTensors`; call it in `forward`, once (a second
   * call replaces the first, as torch's). null stands for a missing one.
   */
  saveForBackward(...tensors: (Tensor | null | undefined)[]): void {
    this.#forwardOnly("saveForBackward", "ctx.saveForBackward(x, y)");
    tensors.forEach((t, i) => {
      if (t === null || t === undefined || t instanceof Tensor) return;
      throw new Error(
        `${this.#name}: saveForBackward can only save tensors (or null), but argument ${i} is ` +
          `${describe(t)}; set other values as attributes (ctx.k = k)`,
      );
    });
    for (const t of tensors) {
      if (t instanceof Tensor && !t.isAlive) {
        throw new Error(`${this.#name}: saveForBackward: tensor [${t.shape}] was released`);
      }
    }
    this.#saved = Object.freeze(tensors.map((t) => t ?? null));
  }

  /** The tensors `saveForBackward` saved, in its order (torch's `ctx.saved_tensors`). */
  get savedTensors(): readonly (Tensor | null)[] {
    return this.#saved;
  }

  /**
   * Marks outputs as non-differentiable (indices, masks): they get no
   * `gradFn`, and `backward` gets zeros (or null) for them.
   */
  markNonDifferentiable(...outputs: Tensor[]): void {
    this.#forwardOnly("markNonDifferentiable", "ctx.markNonDifferentiable(indices)");
    outputs.forEach((t, i) => {
      if (t instanceof Tensor) return void this.#nonDifferentiable.add(t);
      throw new Error(
        `${this.#name}: markNonDifferentiable takes output tensors, but argument ${i} is ` +
          describe(t),
      );
    });
  }

  /**
   * Whether `backward` gets zeros (true, the default, as torch's) or null
   * for an output whose gradient nothing computed.
   */
  setMaterializeGrads(value: boolean): void {
    if (typeof value !== "boolean") {
      throw new Error(
        `${this.#name}: setMaterializeGrads takes true or false, got ${describe(value)}`,
      );
    }
    this.#materialize = value;
  }

  /**
   * torch's `ctx.mark_dirty` for in-place forwards: refused here, as this
   * library refuses in-place writes to tensors in the autograd graph.
   */
  markDirty(..._tensors: Tensor[]): never {
    throw new Error(
      `${this.#name}: markDirty (an in-place forward) is not supported: this library refuses ` +
        "in-place writes to tensors in the autograd graph; write the result into a new tensor " +
        "(x.clone(), then the in-place op on the clone) and return that",
    );
  }

  #forwardOnly(what: string, usage: string): void {
    if (this.#inForward) return;
    throw new Error(`${this.#name}: ${what} is only allowed inside forward; write ${usage} there`);
  }

  /** @internal what `apply` reads once forward returned. */
  static _state(
    ctx: FunctionCtx,
  ): { saved: readonly (Tensor | null)[]; nonDifferentiable: Set<Tensor>; materialize: boolean } {
    return {
      saved: ctx.#saved,
      nonDifferentiable: ctx.#nonDifferentiable,
      materialize: ctx.#materialize,
    };
  }

  /** @internal forward has returned: saving and marking are closed. */
  static _endForward(ctx: FunctionCtx): void {
    ctx.#inForward = false;
  }
}

// torch's snake_case names on ctx, as a port first writes them: an Error that says what to
// write (prototype getters: not ctx's own attributes, not in its type).
for (
  const [torchName, ours] of [
    ["save_for_backward", "saveForBackward(...)"],
    ["saved_tensors", "savedTensors"],
    ["needs_input_grad", "needsInputGrad"],
    ["mark_non_differentiable", "markNonDifferentiable(...)"],
    ["set_materialize_grads", "setMaterializeGrads(...)"],
    ["mark_dirty", "markDirty(...)"],
  ]
) {
  Object.defineProperty(FunctionCtx.prototype, torchName, {
    get(): never {
      throw new Error(`autograd.FunctionCtx: ctx.${torchName} is torch's name; write ctx.${ours}`);
    },
  });
}

/**
 * A custom op with its own gradient: PyTorch's `torch.autograd.Function`.
 * See the module doc; call `MyFn.apply(...)`, never `forward` directly.
 *
 * @example
 * ```ts
 * import { autograd, type Tensor, tensor } from "@lits/vision";
 *
 * // Two outputs, one argument that is not a tensor.
 * class ScaleShift extends autograd.Function {
 *   static override forward(ctx: autograd.FunctionCtx, x: Tensor, k: number): [Tensor, Tensor] {
 *     ctx.k = k;
 *     return [x.mul(k), x.add(k)];
 *   }
 *   static override backward(ctx: autograd.FunctionCtx, ga: Tensor, gb: Tensor) {
 *     return [ga.mul(ctx.k as number).add(gb), null];
 *   }
 * }
 * const x = tensor([1, 2], undefined, { requiresGrad: true });
 * const [a, b] = ScaleShift.apply(x, 3);
 * a.sum().add(b.sum()).backward();
 * console.log(x.grad!.toList()); // [4, 4]
 * ```
 */
export class Function {
  /**
   * The op: takes `ctx` and the arguments given to `apply`, returns a
   * tensor or an array of tensors. Override it (static).
   */
  static forward(_ctx: FunctionCtx, ..._args: unknown[]): FunctionOutput {
    throw new Error(
      `${this.name}: you must implement the forward function for a custom autograd.Function ` +
        "(static override forward(ctx, ...args) { ... })",
    );
  }

  /**
   * The gradient: takes `ctx` and one gradient per output, returns one per
   * `forward` argument (or the one alone). Override it (static).
   */
  static backward(
    _ctx: FunctionCtx,
    ..._gradOutputs: (Tensor | null)[]
  ): FunctionGradient | readonly FunctionGradient[] {
    throw new Error(
      `${this.name}: you must implement the backward function for a custom autograd.Function ` +
        "to use it with backward() (static override backward(ctx, ...gradOutputs) { ... })",
    );
  }

  /**
   * Runs the op on `args` and records its gradient (torch's `MyFn.apply`).
   * Called through the class: `const f = MyFn.apply` loses the class in
   * JavaScript, so write `(x) => MyFn.apply(x)` or `MyFn.apply.bind(MyFn)`.
   */
  static apply<T extends typeof Function>(this: T, ...args: ForwardArgs<T>): ForwardResult<T> {
    if (typeof this !== "function" || !(this === Function || this.prototype instanceof Function)) {
      throw new Error(
        "autograd.Function.apply: called without its class (`const f = MyFn.apply` loses it in " +
          "JavaScript, unlike Python); write `const f = (x) => MyFn.apply(x)` or " +
          "`MyFn.apply.bind(MyFn)`",
      );
    }
    return applyFunction(this, args) as ForwardResult<T>;
  }
}

/** What a recorded call keeps for its backward. */
interface Call {
  readonly cls: typeof Function;
  readonly name: string;
  readonly ctx: FunctionCtx;
  readonly args: readonly unknown[];
  /** Each output's kind: a tensor's shape, dtype and device, or null for another value. */
  readonly outputs: readonly ({ shape: number[]; dtype: DType; device: Device } | null)[];
  readonly materialize: boolean;
}

function applyFunction(cls: typeof Function, args: unknown[]): unknown {
  const name = cls.name || "Function";
  if (cls.forward === Function.forward) return cls.forward(undefined as never);
  if (cls.forward instanceof AsyncFunction) {
    throw new Error(
      `${name}.apply: forward is an async function; it must compute its outputs synchronously ` +
        "(as torch's)",
    );
  }
  args.forEach((a, i) => {
    if (a instanceof Tensor && !a.isAlive) {
      throw new Error(
        `${name}.apply: argument ${i}, a tensor [${a.shape}], was released (disposed, or freed ` +
          "at a step boundary); keep() tensors you use across steps",
      );
    }
  });
  const tensors = args.filter((a): a is Tensor => a instanceof Tensor);
  const ctx = new FunctionCtx(name, args.map((a) => a instanceof Tensor && a.requiresGrad));
  const recording = isGradEnabled() && tensors.some((t) => t.requiresGrad);
  const [outputs, single, marked] = noGrad(() => {
    const made = currentScope();
    let result: unknown;
    try {
      result = cls.forward(ctx, ...args);
    } finally {
      FunctionCtx._endForward(ctx);
    }
    if (isThenable(result)) {
      reportLateRejection(`${name}.forward`, result);
      throw new Error(`${name}.apply: forward returned a Promise; it must return its outputs`);
    }
    if (!(result instanceof Tensor) && !Array.isArray(result)) {
      throw new Error(
        `${name}.apply: forward returned ${describe(result)}; it returns a tensor or an array ` +
          "of tensors (and other values)",
      );
    }
    const list: unknown[] = Array.isArray(result) ? [...result] : [result];
    const { nonDifferentiable } = FunctionCtx._state(ctx);
    const marked = list.map((o) => o instanceof Tensor && nonDifferentiable.has(o));
    // An output forward did not make (an input, a captured tensor) becomes a view of it, as
    // torch's: the gradFn goes on the view, never on the original. A tensor returned twice
    // becomes two outputs (two views) with a gradient each; torch 1.13 returns the one
    // tensor twice, whose gradient reaches backward as the second output's only.
    const seen = new Set<Tensor>();
    list.forEach((o, i) => {
      if (!(o instanceof Tensor)) return;
      if (!o.isAlive) {
        throw new Error(`${name}.apply: output ${i}, a tensor [${o.shape}], was released`);
      }
      const fresh = made !== null && o.owner === made && o.gradFn === null && !o.requiresGrad;
      if (!fresh || seen.has(o)) list[i] = detach(o);
      seen.add(o);
    });
    // What survives the scope: the outputs, the saved tensors and ctx's attributes.
    return [
      list,
      !Array.isArray(result),
      marked,
      FunctionCtx._state(ctx).saved,
      ...Object.values(ctx),
    ] as const;
  });
  const result = single ? outputs[0] : outputs;
  if (!recording) return result;

  const { saved, materialize } = FunctionCtx._state(ctx);
  const call: Call = {
    cls,
    name,
    ctx,
    args,
    outputs: outputs.map((o) =>
      o instanceof Tensor ? { shape: [...o.shape], dtype: o.dtype, device: o.device } : null
    ),
    materialize,
  };
  // Differentiable: the float32 outputs not marked non-differentiable.
  const diff: number[] = [];
  outputs.forEach((o, i) => {
    if (o instanceof Tensor && o.dtype === "float32" && !marked[i]) diff.push(i);
  });
  if (diff.length === 0) return result;
  const savedTensors = saved.filter((t): t is Tensor => t !== null);
  const nodeName = `${name}Backward`;
  if (diff.length === 1) {
    const at = diff[0];
    record(outputs[at] as Tensor, {
      name: nodeName,
      inputs: tensors,
      saved: savedTensors,
      backward: (g) => runBackward(call, new Map([[at, g]])),
    });
    return result;
  }
  // Several outputs: each output's node passes its gradient to a hidden joint tensor (no
  // memory), whose node calls backward once with all of them (see `jointTensor`).
  const joint = jointTensor(tensors[0]);
  const stash = new Map<number, Tensor>();
  record(joint, {
    name: nodeName,
    inputs: tensors,
    saved: savedTensors,
    backward: () => {
      const pass = passScope();
      const grads = new Map<number, Tensor>();
      for (const [i, g] of stash) if (g.owner === pass && g.isAlive) grads.set(i, g);
      stash.clear();
      if (grads.size === 0) {
        throw new Error(`${nodeName}: internal error: no output gradient reached the op`);
      }
      const out = runBackward(call, grads);
      // The output gradients backward did not pass on are done with.
      for (const g of grads.values()) if (!out.includes(g)) g.dispose();
      return out;
    },
  });
  for (const i of diff) {
    record(outputs[i] as Tensor, {
      name: nodeName,
      inputs: [joint],
      saved: [],
      backward: (g) => {
        // A copy owned by this backward pass (freed with it at the latest), so that a
        // pass that failed half way leaves nothing the next one would take for its own.
        stash.set(i, atScopeDepth(scopeDepth() - 1, () => clone(g)));
        return [jointGrad()];
      },
    });
  }
  return result;
}

/**
 * The hidden tensor that joins a multi-output call's outputs: a 0-element
 * tensor whose storage is never allocated; only its `gradFn` matters.
 */
function jointTensor(like: Tensor): Tensor {
  const t = new Tensor(new Storage(like.lib, like.device, 0, true), [0], "float32");
  return t;
}

let jointGradTensor: Tensor | null = null;
/**
 * The gradient an output's node passes to the joint tensor: a shared
 * one-element tensor kept for the process, since only whether one arrived
 * matters (backward adds them where several outputs reach the joint).
 */
function jointGrad(): Tensor {
  if (jointGradTensor === null || !jointGradTensor.isAlive) {
    jointGradTensor = tensor([0]).keep();
  }
  return jointGradTensor;
}

/** The scope of the running backward pass (the one around the node's own scope). */
function passScope(): Set<Owned> | null {
  return atScopeDepth(scopeDepth() - 1, () => currentScope());
}

/**
 * Calls the user's backward with one gradient per output (`got`: those
 * that arrived, by output index) and checks what it returns: one gradient
 * per tensor input, in `node.inputs` order.
 */
function runBackward(call: Call, got: Map<number, Tensor>): (Tensor | null)[] {
  const { cls, name, ctx, args } = call;
  const nodeName = `${name}Backward`;
  if (cls.backward === Function.backward) cls.backward(ctx);
  if (cls.backward instanceof AsyncFunction) {
    throw new Error(`${nodeName}: backward is an async function; it must return its gradients`);
  }
  const gradOutputs = call.outputs.map((o, i) => {
    const g = got.get(i);
    if (g !== undefined) return g;
    if (o === null || !call.materialize) return null;
    return zeros(o.shape, { dtype: o.dtype, device: o.device });
  });
  const r: unknown = cls.backward(ctx, ...gradOutputs);
  if (isThenable(r)) {
    reportLateRejection(`${name}.backward`, r);
    throw new Error(`${nodeName}: backward returned a Promise; it must return its gradients`);
  }
  const list: unknown[] = Array.isArray(r) ? [...r] : [r];
  // torch accepts extra trailing nulls.
  while (list.length > args.length && (list[list.length - 1] ?? null) === null) list.pop();
  if (list.length !== args.length) {
    throw new Error(
      `function ${nodeName} returned an incorrect number of gradients (expected ${args.length}, ` +
        `got ${list.length}): one per forward argument, null for those that are not tensors or ` +
        "need none",
    );
  }
  const out: (Tensor | null)[] = [];
  list.forEach((g, i) => {
    const input = args[i];
    if (g !== null && g !== undefined && !(g instanceof Tensor)) {
      throw new Error(
        `function ${nodeName} returned ${describe(g)} as the gradient of forward argument ${i}; ` +
          "expected a Tensor or null",
      );
    }
    if (!(input instanceof Tensor)) {
      if (g instanceof Tensor) {
        throw new Error(
          `function ${nodeName} returned a gradient different than null at position ${i + 1}, ` +
            `but the corresponding forward input was not a Tensor (${describe(input)}); ` +
            "return null there",
        );
      }
      return;
    }
    out.push(
      g instanceof Tensor && input.requiresGrad
        ? checkGrad(nodeName, g, input, out.length, i)
        : null,
    );
  });
  return out;
}

/** Validates (and reduces or casts, as torch's `validate_outputs`) one input's gradient. */
function checkGrad(nodeName: string, g: Tensor, input: Tensor, index: number, arg: number): Tensor {
  const which = `(the gradient of forward argument ${arg}, a tensor [${input.shape}])`;
  if (!g.isAlive) {
    throw new Error(`Function ${nodeName} returned a released tensor at index ${index} ${which}`);
  }
  if (g.device !== input.device) {
    throw new Error(
      `Function ${nodeName} returned an invalid gradient at index ${index} - expected device ` +
        `${input.device} but got ${g.device} ${which}`,
    );
  }
  let out = g;
  if (g.shape.join() !== input.shape.join()) {
    const lead = g.ndim - input.ndim;
    const expandable = lead >= 0 &&
      input.shape.every((s, j) => s === 1 || s === g.shape[lead + j]);
    if (!expandable) {
      throw new Error(
        `Function ${nodeName} returned an invalid gradient at index ${index} - got [${g.shape}] ` +
          `but expected shape compatible with [${input.shape}] ${which}`,
      );
    }
    out = sumToShape(g, input.shape);
  }
  if (out.dtype !== input.dtype) out = out.float();
  return out;
}
