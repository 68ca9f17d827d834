/**
 * Whether a module is the one a model built, as built: the fused paths of
 * the models (ResNet's stem, block output and bf16 stage chain, the small
 * CNN's stages) run one kernel in place of several modules' forwards, and
 * may only where no hook or override would have run in between.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";

/**
 * @internal `m` is an instance of exactly `cls` whose `forward` is the
 * class's own (a forward hook or an override makes it the instance's).
 */
export function isPlain(
  m: Module | null,
  cls: abstract new (...a: never[]) => Module,
): boolean {
  return m !== null && m.constructor === cls && !Object.hasOwn(m, "forward");
}
