/**
 * `nn.utils.parametrize`, as torch 1.13's `torch.nn.utils.parametrize`:
 * `registerParametrization(module, "weight", p)` makes `module.weight` the
 * output of the module `p` applied to an unconstrained original, which
 * moves to `module.parametrizations.weight.original` (torch's state-dict
 * keys). Reading `module.weight` computes it every time (once per
 * `cached(() => ...)` block), assigning `module.weight = t` writes the
 * original through `p.rightInverse`, and `removeParametrizations` undoes it.
 *
 * As in torch, the module's class becomes a subclass `Parametrized<Class>`
 * (`instanceof` still holds): that is also what turns off the models' fused
 * paths (models/plain.ts), which would read the weight once and skip the
 * module's call.
 *
 * @module
 */
import { Module, Parameter } from "./module.ts";
import { ModuleDict } from "./containers.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { isThenable } from "../tensor/ownership.ts";
import { checkCall } from "../options.ts";
import { describe } from "./prune/base.ts";
import { ParametrizationList, RightInverseUnavailable } from "./parametrization_list.ts";

export { ParametrizationList };

/** A module with parametrizations: `module.parametrizations.weight.original`. */
export interface Parametrized {
  /** The parametrizations by tensor name (torch's `module.parametrizations`). */
  parametrizations: ModuleDict;
}

/** Options of `registerParametrization`: torch's keyword. */
export interface RegisterOptions {
  /** Allow the parametrization to change the tensor's shape (default false). */
  unsafe?: boolean;
}

const USAGE = 'nn.utils.parametrize.registerParametrization(module, "weight", new MyParam())';

/** The `cached` blocks open, and the tensors computed in them. */
let cacheDepth = 0;
const cache = new Map<Module, Map<string, Tensor>>();
/** The shape each list gave last (its original's when checked at registration). */
const knownShape = new WeakMap<ParametrizationList, readonly number[]>();

/** The `Parametrized<Class>` made for each class, and the set of them. */
const subclasses = new WeakMap<object, new (...a: never[]) => Module>();
const ours = new WeakSet<object>();

function fieldsOf(module: Module): Record<string, unknown> {
  return module as unknown as Record<string, unknown>;
}

/** `module.parametrizations[name]`, or undefined. */
function listOf(module: Module, name: string): ParametrizationList | undefined {
  const dict = fieldsOf(module).parametrizations;
  if (!(dict instanceof ModuleDict) || !dict.has(name)) return undefined;
  const list = dict.get(name);
  return list instanceof ParametrizationList ? list : undefined;
}

/** The parametrized value of `module[name]`: computed, or the cached one inside `cached`. */
function parametrized(module: Module, name: string): Tensor {
  const list = listOf(module, name)!;
  if (cacheDepth > 0) {
    const hit = cache.get(module)?.get(name);
    if (hit?.isAlive) return hit;
  }
  const z = (list as unknown as () => unknown)();
  if (!(z instanceof Tensor)) {
    throw new Error(
      `${module.constructor.name}.${name}: its parametrizations returned ${describe(z)}; a ` +
        "parametrization's forward returns a Tensor",
    );
  }
  knownShape.set(list, z.shape);
  if (cacheDepth > 0) {
    if (!cache.has(module)) cache.set(module, new Map());
    cache.get(module)!.set(name, z);
  }
  return z;
}

/** Makes `module` an instance of `Parametrized<Class>`, torch's `_inject_new_class`. */
function injectClass(module: Module): void {
  const cls = module.constructor as new (...a: never[]) => Module;
  let sub = subclasses.get(cls);
  if (sub === undefined) {
    const name = `Parametrized${cls.name}`;
    // The class is only a prototype: parametrized modules are never constructed through it.
    const made = { [name]: class extends (cls as unknown as new () => object) {} }[name];
    sub = made as unknown as new (...a: never[]) => Module;
    subclasses.set(cls, sub);
    ours.add(sub.prototype);
  }
  Object.setPrototypeOf(module, sub.prototype);
}

/** Defines `module[name]` as the parametrized value, assignments going to `rightInverse`. */
function injectProperty(module: Module, name: string): void {
  Object.defineProperty(module, name, {
    configurable: true,
    enumerable: false, // not a field: parameters() and stateDict() walk the fields
    get: () => parametrized(module, name),
    set: (v: unknown) => {
      if (!(v instanceof Tensor)) {
        throw new Error(
          `${module.constructor.name}.${name} is parametrized: assigning it runs ` +
            `rightInverse on a Tensor, got ${describe(v)}`,
        );
      }
      listOf(module, name)!.rightInverse(v);
    },
  });
}

/** Throws unless `p` is a module that the list can call and invert. */
function checkParametrization(p: unknown): Module {
  if (!(p instanceof Module)) {
    const fix = typeof p === "function"
      ? "wrap the function: class P extends nn.Module { forward(x: Tensor) { return f(x); } }"
      : "pass an instance (new MyParam())";
    throw new Error(
      `nn.utils.parametrize.registerParametrization: a parametrization is an nn.Module with ` +
        `forward(x) (torch calls its train()), got ${describe(p)}; ${fix}`,
    );
  }
  const fields = p as unknown as Record<string, unknown>;
  if (typeof fields.right_inverse === "function" && typeof fields.rightInverse !== "function") {
    throw new Error(
      `nn.utils.parametrize.registerParametrization: ${p.constructor.name} has right_inverse, ` +
        "torch's name, which this library would not call; name the method rightInverse",
    );
  }
  return p;
}

/** Torch's checks of a parametrization appended to a chain (register_parametrization). */
function checkAppended(module: Module, name: string, p: Module): void {
  noGrad(() => {
    const y = fieldsOf(module)[name] as Tensor;
    const x = (p as unknown as (t: Tensor) => unknown)(y);
    const where = "nn.utils.parametrize.registerParametrization";
    const fix = "(pass { unsafe: true } as the fourth argument if the new shape is meant)";
    if (!(x instanceof Tensor)) {
      throw new Error(`${where}: A parametrization must return a tensor. Got ${describe(x)}.`);
    }
    if (x.shape.join() !== y.shape.join()) {
      throw new Error(
        `${where}: Registering a parametrization may not change the shape of the tensor, unless ` +
          `the \`unsafe\` flag is enabled.\nmodule.${name}.shape: [${y.shape}]\n` +
          `parametrization(module.${name}).shape: [${x.shape}]\n${fix}`,
      );
    }
    const inverse = (p as { rightInverse?: (t: Tensor) => unknown }).rightInverse;
    if (typeof inverse !== "function") return;
    let z: unknown;
    try {
      z = inverse.call(p, x);
    } catch (e) {
      if (e instanceof RightInverseUnavailable) return;
      throw e;
    }
    if (!(z instanceof Tensor)) {
      throw new Error(
        `${where}: parametrization.right_inverse must return a tensor. Got: ${describe(z)}`,
      );
    }
    if (z.shape.join() !== y.shape.join()) {
      throw new Error(
        `${where}: The tensor returned by parametrization.right_inverse must have the same ` +
          `shape as module.${name}, unless the \`unsafe\` flag is enabled.\n` +
          `module.${name}.shape: [${y.shape}]\nreturned shape: [${z.shape}]\n${fix}`,
      );
    }
  });
}

/** Throws unless `module[name]` is a parameter of `module` itself (torch's ValueError otherwise). */
function checkTensorName(module: Module, name: string): Parameter {
  const own = Object.getOwnPropertyDescriptor(module, name);
  if (own && own.value instanceof Parameter) return own.value;
  const where = "nn.utils.parametrize.registerParametrization";
  if ([...module.namedBuffers("", false)].some(([k]) => k === name)) {
    throw new Error(
      `${where}: '${name}' of ${module.constructor.name} is a buffer; parametrizing buffers ` +
        "is not supported here (layers read their buffers directly, so the parametrization " +
        "would be skipped): parametrize a Parameter, or compute the value in your forward",
    );
  }
  const params = [...module.namedParameters("", false)].map(([k]) => k);
  throw new Error(
    `${where}: Module '${module.constructor.name}' does not have a parameter, a buffer, or a ` +
      `parametrized element with name '${name}' (its parameters: ${params.join(", ") || "none"})`,
  );
}

/**
 * Parametrizes tensor `name` of `module` with the module `parametrization`,
 * as torch 1.13's `register_parametrization(module, name, parametrization,
 * unsafe=...)`. The first time, the Parameter `module[name]` moves to
 * `module.parametrizations[name].original` (the same object, so an
 * optimizer made before keeps training it; its value becomes
 * `parametrization.rightInverse(weight)` where there is one), and reading
 * `module[name]` returns `parametrization(original)`, recorded by autograd,
 * computed at each read. A `rightInverse` that returns an array registers
 * new Parameters `original0`, `original1`, ... (make the optimizer after).
 * A second parametrization on the same name applies after the first.
 * `module[name] = t` writes the original(s) through each `rightInverse`.
 * A parametrization's own parameters and buffers are the module's
 * (`parametrizations.weight.0.base`). Unless `unsafe`, the parametrization
 * must keep the tensor's shape. The parametrization takes the module's
 * training mode. Returns the module.
 *
 * @example
 * ```ts
 * import { nn, type Tensor } from "@lits/vision";
 * class Symmetric extends nn.Module {
 *   forward(x: Tensor): Tensor {
 *     return x.triu().add(x.triu(1).mT);
 *   }
 * }
 * const m = nn.utils.parametrize.registerParametrization(new nn.Linear(3, 3), "weight", new Symmetric());
 * console.log([...m.stateDict().keys()]); // ["bias", "parametrizations.weight.original"]
 * const w = m.weight;
 * console.log(w.sub(w.mT).abs().max().item()); // 0
 * ```
 */
export function registerParametrization<M extends Module>(
  module: M,
  name: string,
  parametrization: Module,
  options: RegisterOptions = {},
): M & Parametrized {
  const where = "nn.utils.parametrize.registerParametrization";
  const o = checkCall<RegisterOptions>(
    where,
    arguments.length,
    4,
    options,
    ["unsafe"],
    `${USAGE.slice(0, -1)}, { unsafe: true })`,
  );
  const unsafe = o.unsafe ?? false;
  if (typeof unsafe !== "boolean") {
    throw new Error(`${where}: unsafe must be true or false, got ${describe(unsafe)}`);
  }
  if (!(module instanceof Module)) {
    throw new Error(`${where}: expected an nn.Module first, got ${describe(module)}; ${USAGE}`);
  }
  if (typeof name !== "string") {
    throw new Error(`${where}: the tensor name must be a string ("weight"), got ${describe(name)}`);
  }
  const p = checkParametrization(parametrization);
  p.train(module.training);
  const existing = listOf(module, name);
  if (existing) {
    if (!unsafe) checkAppended(module, name, p);
    existing.append(p);
    existing.unsafe ||= unsafe;
    if (unsafe) knownShape.delete(existing); // the shape is known again at the next read
    return module as M & Parametrized;
  }
  const original = checkTensorName(module, name);
  const list = new ParametrizationList([p], original, unsafe);
  if (!unsafe) knownShape.set(list, [...original.shape]);
  const fields = fieldsOf(module);
  delete fields[name];
  if (!isParametrized(module)) {
    injectClass(module);
    fields.parametrizations = new ModuleDict();
  }
  injectProperty(module, name);
  (fields.parametrizations as ModuleDict).set(name, list);
  return module as M & Parametrized;
}

/**
 * Whether `module` has a parametrization (on `name`, where given), as
 * torch's `is_parametrized`.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.parametrizations.orthogonal(new nn.Linear(4, 4));
 * console.log(nn.utils.parametrize.isParametrized(fc, "weight"), nn.utils.parametrize.isParametrized(fc, "bias")); // true false
 * ```
 */
export function isParametrized(module: Module, name?: string): boolean {
  const dict = fieldsOf(module).parametrizations;
  if (!(dict instanceof ModuleDict)) return false;
  return name === undefined ? dict.length > 0 : dict.has(name);
}

/** Options of `removeParametrizations`: torch's keyword. */
export interface RemoveOptions {
  /** Keep the current parametrized value (default true) rather than the original. */
  leaveParametrized?: boolean;
}

/**
 * Removes the parametrizations on `module[name]`, as torch's
 * `remove_parametrizations(module, name, leave_parametrized)`: `module[name]`
 * is a Parameter again, appended after the other parameters, holding the
 * current parametrized value (`leaveParametrized` true, the default; the
 * object that was `original`, so optimizers keep working) or the original
 * (false; not possible where there are several originals). The
 * parametrizations and their buffers go; with the last one, the module's
 * class is its own again. Returns the module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.parametrizations.orthogonal(new nn.Linear(3, 3));
 * nn.utils.parametrize.removeParametrizations(fc, "weight");
 * console.log(fc.constructor.name, [...fc.stateDict().keys()]); // Linear ["bias", "weight"]
 * ```
 */
export function removeParametrizations<M extends Module>(
  module: M,
  name: string,
  leaveParametrized: boolean | RemoveOptions = true,
): M {
  const where = "nn.utils.parametrize.removeParametrizations";
  const usage = `${where}(module, "weight", false) or { leaveParametrized: false }`;
  if (arguments.length > 3) {
    throw new Error(`${where}: takes (module, name, leaveParametrized); write ${usage}`);
  }
  const leave = typeof leaveParametrized === "boolean"
    ? leaveParametrized
    : checkCall<RemoveOptions>(where, 0, 0, leaveParametrized, ["leaveParametrized"], usage)
      .leaveParametrized ?? true;
  if (typeof leave !== "boolean") {
    throw new Error(`${where}: leaveParametrized must be true or false; write ${usage}`);
  }
  if (!(module instanceof Module)) {
    throw new Error(`${where}: expected an nn.Module first, got ${describe(module)}`);
  }
  const list = listOf(module, name);
  if (!list) {
    throw new Error(
      `${where}: Module ${module.constructor.name} does not have a parametrization on ${name}`,
    );
  }
  let original: Parameter;
  if (list.isTensor) {
    original = list.original;
    if (leave) {
      const t = noGrad(() => parametrized(module, name));
      if (t.shape.join() === original.shape.join()) noGrad(() => original.copy_(t));
      else original = new Parameter(noGrad(() => t.detach().clone()), original.requiresGrad);
    }
  } else if (leave) {
    const t = noGrad(() => parametrized(module, name).detach().clone());
    original = new Parameter(t, list.originals()[0].requiresGrad);
  } else {
    throw new Error(
      `${where}: Cannot leave unparametrized (\`leave_parametrized=False\`) a tensor that is ` +
        "parametrized in terms of a sequence of tensors.",
    );
  }
  const fields = fieldsOf(module);
  delete fields[name];
  cache.get(module)?.delete(name);
  const dict = fields.parametrizations as ModuleDict;
  dict.delete(name);
  fields[name] = original; // re-added last, as torch registers it
  if (dict.length === 0) {
    delete fields.parametrizations;
    const proto = Object.getPrototypeOf(module);
    if (ours.has(proto)) Object.setPrototypeOf(module, Object.getPrototypeOf(proto));
  }
  return module;
}

/**
 * The class of `module` before it was parametrized (its own where it is
 * not), as torch's `type_before_parametrizations`.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.parametrizations.orthogonal(new nn.Linear(3, 3));
 * console.log(fc.constructor.name, nn.utils.parametrize.typeBeforeParametrizations(fc) === nn.Linear); // ParametrizedLinear true
 * ```
 */
export function typeBeforeParametrizations(module: Module): abstract new (...a: never[]) => Module {
  const proto = Object.getPrototypeOf(module);
  const base = ours.has(proto) ? Object.getPrototypeOf(proto) : proto;
  return base.constructor;
}

/**
 * Runs `fn` with the parametrized tensors computed once, at their first
 * read, and reused until `fn` returns (for an async `fn`, until its promise
 * settles), as torch's `with parametrize.cached():`: for a weight read
 * several times in one forward (an RNN's loop, tied weights). Returns what
 * `fn` returns.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.parametrizations.orthogonal(new nn.Linear(3, 3));
 * const same = nn.utils.parametrize.cached(() => fc.weight === fc.weight);
 * console.log(same, fc.weight === fc.weight); // true false
 * ```
 */
export function cached<T>(fn: () => T): T {
  if (typeof fn !== "function") {
    throw new Error(
      `nn.utils.parametrize.cached: expected a function, got ${describe(fn)}; torch's ` +
        "`with P.cached(): out = model(x)` is nn.utils.parametrize.cached(() => model(x))",
    );
  }
  cacheDepth++;
  let pending = false;
  try {
    const r = fn();
    if (isThenable(r)) {
      pending = true;
      return Promise.resolve(r).finally(leaveCache) as T;
    }
    return r;
  } finally {
    if (!pending) leaveCache();
  }
}

function leaveCache(): void {
  if (--cacheDepth === 0) cache.clear();
}

/**
 * @internal The shape of `module[name]` without computing it where the
 * parametrization's shape is known (the models' input checks read the
 * first convolution's weight shape; reading the weight would run a
 * spectral norm's power iteration an extra time, which torch does not).
 */
export function tensorShape(module: Module, name: string): readonly number[] {
  const list = listOf(module, name);
  const known = list && knownShape.get(list);
  return known ?? (fieldsOf(module)[name] as Tensor).shape;
}

function hint(name: string, ours: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(
      `nn.utils.parametrize.${name} is torch's name: write nn.utils.parametrize.${ours}(...) ` +
        "(torch's keyword arguments go in one options object, in camelCase)",
    );
  };
}

/** @deprecated torch's name: write `nn.utils.parametrize.registerParametrization`. */
export const register_parametrization: (...args: unknown[]) => never = hint(
  "register_parametrization",
  "registerParametrization",
);
/** @deprecated torch's name: write `nn.utils.parametrize.isParametrized`. */
export const is_parametrized: (...args: unknown[]) => never = hint(
  "is_parametrized",
  "isParametrized",
);
/** @deprecated torch's name: write `nn.utils.parametrize.removeParametrizations`. */
export const remove_parametrizations: (...args: unknown[]) => never = hint(
  "remove_parametrizations",
  "removeParametrizations",
);
/** @deprecated torch's name: write `nn.utils.parametrize.typeBeforeParametrizations`. */
export const type_before_parametrizations: (...args: unknown[]) => never = hint(
  "type_before_parametrizations",
  "typeBeforeParametrizations",
);
