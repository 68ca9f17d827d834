/**
 * The pruning reparametrisation of `torch.nn.utils.prune`: a pruned
 * parameter `weight` becomes the Parameter `weight_orig` (the same object,
 * so an optimizer made before keeps training it) and the buffer
 * `weight_mask`, and `module.weight` becomes the plain tensor
 * `weight_orig * weight_mask`, recomputed by a forward pre-hook before each
 * call. Pruning a parameter again composes the masks (`PruningContainer`);
 * `remove` makes the pruning permanent.
 *
 * The hook makes the module's `forward` its own, which turns off the
 * models' fused paths that would read the parameter directly
 * (models/plain.ts).
 *
 * @module
 */
import { Module, Parameter, setBufferSlot } from "../module.ts";
import type { RemovableHandle } from "../module_hooks.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { disown } from "../../tensor/ownership.ts";
import { tensor } from "../../tensor/ops/creation.ts";
import { onesLike } from "../../tensor/ops/like.ts";

/** How a method's mask is combined with an earlier one (torch's `PRUNING_TYPE`). */
export type PruningType = "unstructured" | "structured" | "global";

/** Module internals the reparametrisation uses (protected on `Module`). */
interface BufferAccess {
  registerBuffer(name: string, t: Tensor | null): Tensor | null;
  buffer(name: string): Tensor | null;
}

/** A module's pruned parameters: name -> the method that recomputes it, and its hook. */
const pruned = new WeakMap<
  Module,
  Map<string, { method: BasePruningMethod; hook: RemovableHandle }>
>();

/** @internal The names of `module`'s own pruned parameters (none: an empty list). */
export function prunedNames(module: Module): string[] {
  return [...(pruned.get(module)?.keys() ?? [])];
}

/** The pruning state of `module`'s parameter `name`, if pruned. */
export function pruningOf(module: Module, name: string): BasePruningMethod | null {
  return pruned.get(module)?.get(name)?.method ?? null;
}

/** The float values of a tensor on the host. */
export function hostValues(t: Tensor): Float32Array {
  return Float32Array.from(t.toArray());
}

/** A float tensor of `data` with `like`'s shape and device. */
export function tensorLike(data: Float32Array, like: Tensor): Tensor {
  return tensor(data, [...like.shape], { device: like.device });
}

/**
 * Base class of pruning methods, as torch's `prune.BasePruningMethod`: a
 * subclass sets `PRUNING_TYPE` and writes `computeMask(t, defaultMask)`
 * (the mask for importance scores `t`, respecting the entries that
 * `defaultMask` already prunes); `MyMethod.apply(module, name, ...args)`
 * prunes with it.
 *
 * @example
 * ```ts
 * import { nn, type Tensor } from "@lits/vision";
 * class EveryOther extends nn.utils.prune.BasePruningMethod {
 *   PRUNING_TYPE = "unstructured" as const;
 *   computeMask(_t: Tensor, defaultMask: Tensor): Tensor {
 *     const m = Float32Array.from(defaultMask.toArray());
 *     for (let i = 0; i < m.length; i += 2) m[i] = 0;
 *     return nn.utils.prune.tensorLike(m, defaultMask);
 *   }
 * }
 * const fc = new nn.Linear(2, 3);
 * EveryOther.apply(fc, "bias");
 * console.log(fc.stateDict().get("bias_mask")!.toList()); // [0, 1, 0]
 * ```
 */
export abstract class BasePruningMethod {
  /** How `PruningContainer` restricts this method to the entries still unpruned. */
  abstract PRUNING_TYPE: PruningType;
  /** The parameter it prunes (set by `apply`). */
  tensorName: string | null = null;

  /** The mask for importance scores `t`, on top of `defaultMask` (same shape). */
  abstract computeMask(t: Tensor, defaultMask: Tensor): Tensor;

  /** `module[name + "_orig"] * module[name + "_mask"]`, recorded by autograd. */
  applyMask(module: Module): Tensor {
    const name = this.tensorName;
    if (name === null) {
      throw new Error(`prune: ${this.constructor.name} was not applied to a module`);
    }
    const orig = (module as unknown as Record<string, Tensor>)[`${name}_orig`];
    const mask = (module as unknown as BufferAccess).buffer(`${name}_mask`);
    if (!(orig instanceof Tensor) || mask === null) {
      throw new Error(`prune: ${module.constructor.name} has no '${name}_orig' and '${name}_mask'`);
    }
    return orig.mul(mask);
  }

  /**
   * `t` times this method's mask for it (torch's `method.prune(t)`), without
   * touching any module.
   */
  prune(t: Tensor, defaultMask?: Tensor | null, importanceScores?: Tensor | null): Tensor {
    if (importanceScores && importanceScores.shape.join() !== t.shape.join()) {
      throw new Error(
        `prune: importanceScores has shape [${importanceScores.shape}], the tensor [${t.shape}]`,
      );
    }
    const mask = this.computeMask(importanceScores ?? t, defaultMask ?? onesLike(t));
    return t.mul(mask);
  }

  /**
   * Prunes parameter `name` of `module` with a new `this(...args)` (torch's
   * classmethod `apply`), composing with an earlier pruning of it; returns
   * the method now in charge (a `PruningContainer` after the first).
   */
  static apply<T extends BasePruningMethod>(
    this: new (...args: never[]) => T,
    module: Module,
    name: string,
    ...args: unknown[]
  ): BasePruningMethod {
    const method = new (this as unknown as new (...a: unknown[]) => T)(...args);
    return applyPruning(`${this.name}.apply`, module, name, method, null);
  }
}

/**
 * The methods applied one after another to one parameter, as torch's
 * `PruningContainer`: each new one computes its mask only over what the
 * earlier ones left (the unpruned entries, the unpruned channels, or all
 * entries for a "global" method such as `CustomFromMask`).
 */
export class PruningContainer extends BasePruningMethod {
  PRUNING_TYPE: PruningType = "unstructured";
  /** The methods, in the order they were applied. */
  readonly methods: BasePruningMethod[] = [];

  constructor(...methods: BasePruningMethod[]) {
    super();
    for (const m of methods) this.addPruningMethod(m);
  }

  /** Appends a method acting on the same parameter. */
  addPruningMethod(method: BasePruningMethod): void {
    if (!(method instanceof BasePruningMethod)) {
      throw new Error(`PruningContainer: ${String(method)} is not a pruning method`);
    }
    if (this.methods.length === 0 && this.tensorName === null) this.tensorName = method.tensorName;
    if (method.tensorName !== this.tensorName) {
      throw new Error(
        `PruningContainer: holds methods for '${this.tensorName}', got one for ` +
          `'${method.tensorName}'`,
      );
    }
    this.methods.push(method);
  }

  /** How many methods it holds. */
  get length(): number {
    return this.methods.length;
  }

  /** The latest method's mask over the entries `defaultMask` leaves, merged into it. */
  computeMask(t: Tensor, defaultMask: Tensor): Tensor {
    const method = this.methods[this.methods.length - 1];
    const mask = hostValues(defaultMask);
    const at = selected(method, t, mask);
    const values = hostValues(t);
    const sub = (src: Float32Array) => tensor(Float32Array.from(at.flat, (i) => src[i]), at.shape);
    const partial = hostValues(method.computeMask(sub(values), sub(mask)));
    at.flat.forEach((i, j) => mask[i] = partial[j]);
    return tensorLike(mask, defaultMask);
  }
}

/**
 * Where the latest method of a container acts (torch's `_combine_masks`):
 * the flat indices, increasing, and the shape of what they select.
 */
function selected(
  method: BasePruningMethod,
  t: Tensor,
  mask: Float32Array,
): { flat: number[]; shape: number[] } {
  const shape = [...t.shape];
  const all = Array.from({ length: mask.length }, (_, i) => i);
  if (method.PRUNING_TYPE === "global") return { flat: all, shape };
  if (method.PRUNING_TYPE === "unstructured") {
    const flat = all.filter((i) => mask[i] === 1);
    return { flat, shape: [flat.length] };
  }
  if (method.PRUNING_TYPE !== "structured") {
    throw new Error(`PruningContainer: unknown PRUNING_TYPE '${method.PRUNING_TYPE}'`);
  }
  const d0 = (method as { dim?: number }).dim;
  if (typeof d0 !== "number") {
    throw new Error("PruningContainer: a structured pruning method needs a `dim`");
  }
  const dim = d0 < 0 ? d0 + shape.length : d0;
  if (dim < 0 || dim >= shape.length) {
    throw new Error(`prune: dim ${d0} is out of range for a tensor of shape [${shape}]`);
  }
  // A channel is kept where any of its mask entries is nonzero.
  const inner = shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % shape[dim];
  const live = new Set(all.filter((i) => mask[i] !== 0).map(channelOf));
  const flat = all.filter((i) => live.has(channelOf(i)));
  shape[dim] = live.size;
  return { flat, shape };
}

/** Throws unless `module[name]` is a Parameter it holds as a plain field. */
export function checkParameter(where: string, module: Module, name: string): Parameter {
  if (!(module instanceof Module)) {
    throw new Error(`${where}: expected an nn.Module first, got ${describe(module)}`);
  }
  if (typeof name !== "string") {
    throw new Error(
      `${where}: the parameter name must be a string ("weight"), got ${describe(name)}`,
    );
  }
  const v = (module as unknown as Record<string, unknown>)[name];
  const own = Object.getOwnPropertyDescriptor(module, name);
  if (!(v instanceof Parameter) || own === undefined || !("value" in own)) {
    const names = [...module.namedParameters("", false)].map(([k]) => k);
    const why = v === null
      ? "is null (a layer built without it, e.g. bias: false)"
      : v instanceof Tensor
      ? "is a buffer or a plain tensor, not a Parameter"
      : "is not one of its parameters";
    throw new Error(
      `${where}: ${module.constructor.name}.${name} ${why}; its parameters: ` +
        `[${names.join(", ")}]`,
    );
  }
  return v;
}

/** A short description of a value for messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Tensor) return `a Tensor of shape [${v.shape}]`;
  if (typeof v === "object") return Array.isArray(v) ? "an array" : "an object";
  return `${typeof v} ${String(v)}`;
}

/** The latest `module[name]` of each pruned parameter (see `definePruned`). */
const latest = new WeakMap<Module, Map<string, unknown>>();

/** Sets the recomputed parameter, owned as any op result (see `definePruned`). */
function setPruned(module: Module, name: string, w: Tensor): void {
  if (!latest.has(module)) latest.set(module, new Map());
  latest.get(module)!.set(name, w);
}

/**
 * Makes `module[name]` read the latest recomputed parameter. That tensor is
 * the step's or the scope's that made it, as any op result, so a training
 * loop stays flat (left to the collector, one weight per step piled up in a
 * loop that never awaits); once they freed it, reading `module[name]`
 * recomputes it (recorded where grad mode is on, as torch's is).
 */
function definePruned(module: Module, name: string): void {
  const where = `${module.constructor.name}.${name}`;
  Object.defineProperty(module, name, {
    configurable: true,
    enumerable: false,
    get: () => {
      const w = latest.get(module)?.get(name);
      const method = pruningOf(module, name);
      if (!(w instanceof Tensor) || w.isAlive || method === null) return w;
      const fresh = method.applyMask(module);
      if (fresh.gradFn === null) disown(fresh); // no graph: yours, as a created tensor
      setPruned(module, name, fresh);
      return fresh;
    },
    set: (v: unknown) => {
      if (v instanceof Parameter) {
        throw new Error(
          `${where} is pruned: it is ${name}_orig * ${name}_mask, recomputed before each ` +
            `forward; write the values into ${name}_orig (noGrad(() => ` +
            `m.${name}_orig.copy_(w))), or make the pruning permanent first ` +
            `(nn.utils.prune.remove(m, "${name}"))`,
        );
      }
      // torch's: a plain attribute, which the next forward's recomputation replaces.
      if (!latest.has(module)) latest.set(module, new Map());
      latest.get(module)!.set(name, v);
    },
  });
}

/**
 * Prunes `module[name]` with `method` (torch's `BasePruningMethod.apply`):
 * composes with an earlier pruning of it, computes the mask from
 * `importanceScores` (default: the current `module[name]`), then, only once
 * the mask is known, reparametrises. Returns the method in charge.
 */
export function applyPruning(
  where: string,
  module: Module,
  name: string,
  method: BasePruningMethod,
  importanceScores: Tensor | null,
): BasePruningMethod {
  if (!(module instanceof Module)) {
    throw new Error(`${where}: expected an nn.Module first, got ${describe(module)}`);
  }
  method.tensorName = name;
  const entry = pruned.get(module)?.get(name);
  let current: Tensor;
  let inCharge: BasePruningMethod = method;
  if (entry) {
    current = (module as unknown as Record<string, Tensor>)[name];
    const old = entry.method;
    inCharge = old instanceof PruningContainer ? old : new PruningContainer(old);
  } else {
    current = checkParameter(where, module, name);
  }
  const scores = importanceScores ?? current;
  if (!(scores instanceof Tensor) || scores.shape.join() !== current.shape.join()) {
    throw new Error(
      `${where}: importanceScores must be a Tensor of ${name}'s shape [${current.shape}], got ` +
        describe(scores),
    );
  }
  const access = module as unknown as BufferAccess;
  // torch's: a copy of the mask so far (a method may write it), or ones.
  const defaultMask = noGrad(() =>
    entry ? access.buffer(`${name}_mask`)!.clone() : onesLike(current)
  );
  let mask: Tensor;
  if (inCharge instanceof PruningContainer && inCharge !== method) {
    // Computed on a trial container: a failure leaves the pruning as it was.
    const trial = new PruningContainer(...inCharge.methods, method);
    mask = noGrad(() => trial.computeMask(scores.detach(), defaultMask));
    inCharge.addPruningMethod(method);
  } else {
    mask = noGrad(() => method.computeMask(scores.detach(), defaultMask));
  }
  checkMask(where, mask, current);
  if (!entry) {
    // torch's order: weight_orig registered, then weight dropped from the parameters.
    const orig = current as Parameter;
    delete (module as unknown as Record<string, unknown>)[name];
    (module as unknown as Record<string, unknown>)[`${name}_orig`] = orig;
    definePruned(module, name);
    Object.defineProperty(module, `${name}_mask`, {
      configurable: true,
      enumerable: false,
      get: () => access.buffer(`${name}_mask`),
    });
  }
  access.registerBuffer(`${name}_mask`, mask);
  setPruned(module, name, inCharge.applyMask(module));
  entry?.hook.remove();
  const hook = module.registerForwardPreHook((m) => {
    setPruned(m, name, inCharge.applyMask(m));
  });
  if (!pruned.has(module)) pruned.set(module, new Map());
  pruned.get(module)!.set(name, { method: inCharge, hook });
  return inCharge;
}

/** Throws unless a computed mask is a float tensor of the parameter's shape. */
function checkMask(where: string, mask: unknown, like: Tensor): void {
  if (!(mask instanceof Tensor) || mask.shape.join() !== like.shape.join()) {
    throw new Error(
      `${where}: computeMask must return a Tensor of shape [${like.shape}], got ${describe(mask)}`,
    );
  }
}

/**
 * Makes the pruning of `module[name]` permanent, as torch's `prune.remove`:
 * `module.weight` is a Parameter again (the same object as `weight_orig`,
 * now holding `weight_orig * weight_mask`), and `weight_orig`,
 * `weight_mask` and the hook are gone. Returns the module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = new nn.Linear(4, 2);
 * nn.utils.prune.l1Unstructured(fc, "weight", 3);
 * nn.utils.prune.remove(fc, "weight");
 * console.log([...fc.stateDict().keys()]); // ["bias", "weight"]
 * console.log(fc.weight.eq(0).sum().item()); // 3
 * ```
 */
export function remove<M extends Module>(module: M, name: string): M {
  if (!(module instanceof Module)) {
    throw new Error(`prune.remove: expected an nn.Module first, got ${describe(module)}`);
  }
  const entry = pruned.get(module)?.get(name);
  if (!entry) {
    throw new Error(
      `prune.remove: parameter '${name}' of ${module.constructor.name} has to be pruned before ` +
        "pruning can be removed (it is not, or its pruning was already removed)",
    );
  }
  const fields = module as unknown as Record<string, unknown>;
  const orig = fields[`${name}_orig`] as Parameter;
  noGrad(() => {
    orig.copy_(entry.method.applyMask(module));
  });
  entry.hook.remove();
  pruned.get(module)!.delete(name);
  latest.get(module)?.delete(name);
  delete fields[name];
  delete fields[`${name}_orig`];
  delete fields[`${name}_mask`];
  setBufferSlot(module, `${name}_mask`, undefined); // torch's `del module._buffers[...]`
  // Re-added last: torch registers it anew, after the other parameters.
  fields[name] = orig;
  return module;
}

/**
 * Whether `module` or any module below it has a pruned parameter, as
 * torch's `prune.is_pruned`.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const net = new nn.Sequential(new nn.Linear(4, 2));
 * nn.utils.prune.identity(net[0], "weight");
 * console.log(nn.utils.prune.isPruned(net)); // true
 * ```
 */
export function isPruned(module: Module): boolean {
  if (!(module instanceof Module)) {
    throw new Error(`prune.isPruned: expected an nn.Module, got ${describe(module)}`);
  }
  for (const m of module.modules()) if ((pruned.get(m)?.size ?? 0) > 0) return true;
  return false;
}
