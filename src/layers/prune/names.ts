/**
 * torch's snake_case names of `nn.utils.prune`, each a function that throws
 * naming ours (`prune.l1_unstructured` was "not a function"), marked
 * deprecated so an editor strikes it through with the same advice.
 *
 * @module
 */

function hint(name: string, ours: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(
      `prune.${name} is torch's name: write prune.${ours}(...) (torch's keyword arguments go ` +
        "in one options object, in camelCase)",
    );
  };
}

/** @deprecated torch's name: write `prune.l1Unstructured`. */
export const l1_unstructured: (...args: unknown[]) => never = hint(
  "l1_unstructured",
  "l1Unstructured",
);
/** @deprecated torch's name: write `prune.randomUnstructured`. */
export const random_unstructured: (...args: unknown[]) => never = hint(
  "random_unstructured",
  "randomUnstructured",
);
/** @deprecated torch's name: write `prune.lnStructured`. */
export const ln_structured: (...args: unknown[]) => never = hint("ln_structured", "lnStructured");
/** @deprecated torch's name: write `prune.randomStructured`. */
export const random_structured: (...args: unknown[]) => never = hint(
  "random_structured",
  "randomStructured",
);
/** @deprecated torch's name: write `prune.globalUnstructured`. */
export const global_unstructured: (...args: unknown[]) => never = hint(
  "global_unstructured",
  "globalUnstructured",
);
/** @deprecated torch's name: write `prune.customFromMask`. */
export const custom_from_mask: (...args: unknown[]) => never = hint(
  "custom_from_mask",
  "customFromMask",
);
/** @deprecated torch's name: write `prune.isPruned`. */
export const is_pruned: (...args: unknown[]) => never = hint("is_pruned", "isPruned");
