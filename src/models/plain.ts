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
 * class's own (a forward hook or an override makes it the instance's), and
 * that does not pad its input itself first (a Conv2d with a paddingMode
 * other than zeros, or uneven "same" padding: its options alone would
 * give a zero-padded result).
 */
export function isPlain(
  m: Module | null,
  cls: abstract new (...a: never[]) => Module,
): boolean {
  return m !== null && m.constructor === cls && !Object.hasOwn(m, "forward") &&
    (m as { padsInput?: boolean }).padsInput !== true;
}
