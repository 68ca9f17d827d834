/**
 * Weight normalisation, as torch 1.13's hook form `torch.nn.utils.weight_norm`
 * (Salimans and Kingma, 2016): the Parameter `weight` becomes the Parameters
 * `weight_g` (its norm over every dimension but `dim`) and `weight_v` (its
 * direction), and `module.weight` becomes the plain tensor
 * `weight_v * (weight_g / ||weight_v||)`, recomputed by a forward pre-hook
 * before each call. The hook makes the module's `forward` its own, which
 * turns off the models' fused paths that would read `weight` directly
 * (models/plain.ts).
 *
 * @module
 */
import { Module, Parameter } from "./module.ts";
import type { RemovableHandle } from "./module_hooks.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { checkParameter, describe } from "./prune/base.ts";
import { clearRecomputed, defineRecomputed, setRecomputed } from "./recomputed.ts";

/** Each module's weight-normalised parameters: name -> the hook that recomputes it. */
const normed = new WeakMap<Module, Map<string, { dim: number | null; hook: RemovableHandle }>>();

/** @internal The names of `module`'s weight-normalised parameters (exportOnnx's refusal). */
export function weightNormedNames(module: Module): string[] {
  return [...(normed.get(module)?.keys() ?? [])];
}

/** @internal Whether `module[name]` is weight-normalised (its hook is on). */
export function isWeightNormed(module: Module, name: string): boolean {
  return normed.get(module)?.has(name) ?? false;
}

/**
 * torch's `norm_except_dim(v, 2, dim)`: the 2-norm over every dimension but
 * `dim`, kept as size-1 dimensions (a 0-d tensor for the whole tensor).
 */
function normExceptDim(v: Tensor, dim: number | null): Tensor {
  if (dim === null) return v.norm(2);
  const others = [...v.shape.keys()].filter((d) => d !== dim);
  return others.length === 0 ? v.abs() : v.norm(2, others, true);
}

/** `v * (g / ||v||)`, recorded by autograd (torch's `_weight_norm`). */
function computeWeight(module: Module, name: string, dim: number | null): Tensor {
  const fields = module as unknown as Record<string, Tensor>;
  const g = fields[`${name}_g`];
  const v = fields[`${name}_v`];
  if (!(g instanceof Tensor) || !(v instanceof Tensor)) {
    throw new Error(`weightNorm: ${module.constructor.name} has no '${name}_g' and '${name}_v'`);
  }
  return v.mul(g.div(normExceptDim(v, dim)));
}

/** The dimension `dim` means for a tensor of rank `ndim` (null: the whole tensor); throws if bad. */
function checkDim(dim: unknown, ndim: number, name: string): number | null {
  if (dim === null || dim === undefined) return null;
  if (typeof dim !== "number" || !Number.isInteger(dim)) {
    throw new Error(
      `weightNorm: dim must be an integer or null (over the whole tensor), got ${describe(dim)}; ` +
        'write nn.utils.weightNorm(module, "weight", 0)',
    );
  }
  if (dim === -1) {
    // torch 1.13 takes -1 as its marker for "no dim", not as the last dimension.
    throw new Error(
      "weightNorm: torch 1.13 takes dim -1 as null (the norm over the whole tensor), not as " +
        `the last dimension; write null for torch's result, or ${ndim - 1} for the last ` +
        `dimension of '${name}'`,
    );
  }
  if (dim < -ndim || dim >= ndim) {
    throw new Error(
      `weightNorm: dim ${dim} is out of range for '${name}' of rank ${ndim} (expected one in ` +
        `[${-ndim}, ${ndim - 1}], or null)`,
    );
  }
  return dim < 0 ? dim + ndim : dim;
}

/**
 * Applies weight normalisation to parameter `name` of `module`, as torch
 * 1.13's `nn.utils.weight_norm(module, name, dim)`: the parameter is
 * replaced by `${name}_g` (its 2-norm over every dimension but `dim`:
 * [out, 1, ...] for the default dim 0; a 0-d tensor for `dim` null, the
 * norm over the whole tensor) and `${name}_v` (the Parameter object that
 * was `module[name]`, so an optimizer made before trains it, but not
 * `${name}_g`: make the optimizer after, as with torch). Both are trainable
 * and have no gradient yet, as torch's new Parameters, also when the weight
 * was frozen (`requiresGrad` false); they are appended after the
 * other parameters (state-dict keys `bias`, `weight_g`, `weight_v` for a
 * Linear); `module[name]` is recomputed as `v * (g / ||v||)` before every
 * forward. Returns the module.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const fc = nn.utils.weightNorm(new nn.Linear(20, 40));
 * console.log([...fc.stateDict().keys()]); // ["bias", "weight_g", "weight_v"]
 * console.log(fc.stateDict().get("weight_g")!.shape); // [40, 1]
 * console.log(fc(randn([2, 20])).shape); // [2, 40]
 * ```
 */
export function weightNorm<M extends Module>(
  module: M,
  name = "weight",
  dim: number | null = 0,
): M {
  const where = "nn.utils.weightNorm";
  if (arguments.length > 3) {
    throw new Error(
      `${where}: takes (module, name, dim), got ${arguments.length} arguments; write ` +
        `${where}(module, "weight", 0)`,
    );
  }
  if (typeof name === "object" && name !== null) {
    // torch's keywords (weight_norm(m, dim=None)) ported as an options object.
    const o = name as Record<string, unknown>;
    throw new Error(
      `${where}: takes positional arguments (module, name, dim), got an options object; ` +
        `write ${where}(module, ${JSON.stringify(o.name ?? "weight")}, ` +
        `${"dim" in o ? String(o.dim) : "0"})`,
    );
  }
  if (module instanceof Module && isWeightNormed(module, name)) {
    // torch's RuntimeError, word for word.
    throw new Error(`Cannot register two weight_norm hooks on the same parameter ${name}`);
  }
  const weight = checkParameter(where, module, name);
  const d = checkDim(dim, weight.ndim, name);
  const g = noGrad(() => normExceptDim(weight, d).detach());
  const fields = module as unknown as Record<string, unknown>;
  // torch's order: `name` leaves the parameters, then `_g` and `_v` are registered.
  delete fields[name];
  fields[`${name}_g`] = new Parameter(g);
  // torch registers Parameter(weight.data): trainable and with no gradient yet, also when the
  // weight was frozen (its old .grad was of the weight, not of the direction).
  weight.grad = null;
  weight.requiresGrad = true;
  fields[`${name}_v`] = weight;
  defineRecomputed(
    module,
    name,
    () => computeWeight(module, name, d),
    `${module.constructor.name}.${name} is weight-normalised: it is recomputed from ${name}_g ` +
      `and ${name}_v before each forward; write the values into those, or remove the ` +
      `normalisation first (nn.utils.removeWeightNorm(m, "${name}"))`,
  );
  setRecomputed(module, name, computeWeight(module, name, d));
  const hook = module.registerForwardPreHook((m) => {
    setRecomputed(m, name, computeWeight(m, name, d));
  });
  if (!normed.has(module)) normed.set(module, new Map());
  normed.get(module)!.set(name, { dim: d, hook });
  return module;
}

/**
 * Removes the weight normalisation of `module[name]`, as torch 1.13's
 * `nn.utils.remove_weight_norm(module, name)`: `module[name]` is a
 * Parameter again (the object that was `${name}_v`, now holding
 * `v * (g / ||v||)`; trainable and with no gradient, as torch's new
 * Parameter), appended after the other parameters; `${name}_g`,
 * `${name}_v` and the hook are gone. Returns the module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.weightNorm(new nn.Linear(4, 2));
 * nn.utils.removeWeightNorm(fc);
 * console.log([...fc.stateDict().keys()]); // ["bias", "weight"]
 * ```
 */
export function removeWeightNorm<M extends Module>(module: M, name = "weight"): M {
  if (!(module instanceof Module)) {
    throw new Error(
      `nn.utils.removeWeightNorm: expected an nn.Module first, got ${describe(module)}`,
    );
  }
  const entry = normed.get(module)?.get(name);
  if (!entry) {
    // torch's ValueError, with the module's class for its repr.
    throw new Error(`weight_norm of '${name}' not found in ${module.constructor.name}`);
  }
  const fields = module as unknown as Record<string, unknown>;
  const v = fields[`${name}_v`] as Parameter;
  noGrad(() => {
    const w = computeWeight(module, name, entry.dim);
    v.copy_(w);
  });
  entry.hook.remove();
  normed.get(module)!.delete(name);
  clearRecomputed(module, name);
  delete fields[`${name}_g`];
  delete fields[`${name}_v`];
  // Re-added last, trainable and with no gradient: torch registers a new Parameter.
  v.grad = null;
  v.requiresGrad = true;
  fields[name] = v;
  return module;
}
