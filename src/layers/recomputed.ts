/**
 * A parameter that a forward pre-hook recomputes from others (weightNorm's
 * `weight` from `weight_g` and `weight_v`, spectralNorm's from
 * `weight_orig`): `module.weight` reads the latest value. That tensor is
 * owned as any op result (the step's, or the scope's that made it), so a
 * training loop that never awaits stays flat; once it was freed, reading
 * `module.weight` recomputes it. The same scheme as prune's (prune/base.ts).
 *
 * @module
 */
import { type Module, Parameter } from "./module.ts";
import { Tensor } from "../tensor/tensor.ts";
import { disown } from "../tensor/ownership.ts";

/** The latest value of each recomputed parameter. */
const latest = new WeakMap<Module, Map<string, unknown>>();

/** @internal Keeps `w` as the latest `module[name]`. */
export function setRecomputed(module: Module, name: string, w: unknown): void {
  if (!latest.has(module)) latest.set(module, new Map());
  latest.get(module)!.set(name, w);
}

/**
 * @internal Makes `module[name]` read the latest value set, or
 * `recompute()` once that was freed; assigning a Parameter throws `refusal`
 * (the hook would overwrite it, as torch's TypeError), anything else is kept
 * until the next forward, as torch's plain attribute.
 */
export function defineRecomputed(
  module: Module,
  name: string,
  recompute: () => Tensor,
  refusal: string,
): void {
  Object.defineProperty(module, name, {
    configurable: true,
    enumerable: false,
    get: () => {
      const w = latest.get(module)?.get(name);
      if (!(w instanceof Tensor) || w.isAlive) return w;
      const fresh = recompute();
      if (fresh.gradFn === null) disown(fresh); // no graph: yours, as a created tensor
      setRecomputed(module, name, fresh);
      return fresh;
    },
    set: (v: unknown) => {
      if (v instanceof Parameter) throw new Error(refusal);
      setRecomputed(module, name, v);
    },
  });
}

/** @internal Ends `module[name]`'s recomputation (the property and its value). */
export function clearRecomputed(module: Module, name: string): void {
  latest.get(module)?.delete(name);
  delete (module as unknown as Record<string, unknown>)[name];
}
