/**
 * @internal Inception v3's and GoogLeNet's auxiliary classifiers, for
 * loading a state dict into a model built with them or without
 * (`auxLogits: false`): which heads there are, which keys are theirs, and
 * torchvision's builder call that drops them after loading ImageNet weights
 * (`inception_v3(weights=..., aux_logits=False)` builds the model with the
 * head, loads, then sets `AuxLogits = None`; `googlenet(weights=...)` does
 * the same with `aux1` and `aux2` unless `aux_logits=True`).
 *
 * @module
 */
import { Module } from "../layers/module.ts";

/** @internal A model's auxiliary classifiers. */
export interface AuxHeadSpec {
  /** Their module paths (children of the model, null when built without). */
  readonly paths: readonly string[];
  /** torchvision's call that loads ImageNet weights and drops them. */
  readonly torchDrop: string;
}

/** @internal Inception v3's auxiliary classifier. */
export const INCEPTION_AUX_HEADS: AuxHeadSpec = {
  paths: ["AuxLogits"],
  torchDrop: "inception_v3(weights=..., aux_logits=False)",
};

/** @internal GoogLeNet's two auxiliary classifiers (dropped by its builder's default). */
export const GOOGLENET_AUX_HEADS: AuxHeadSpec = {
  paths: ["aux1", "aux2"],
  torchDrop: "googlenet(weights=...)",
};

/** @internal The heads of `spec` that `model` has (built, not set to null). */
export function builtAuxHeads(model: Module, spec: AuxHeadSpec): string[] {
  const children = new Map(model.namedChildren());
  return spec.paths.filter((p) => children.get(p) instanceof Module);
}

/** @internal The heads of `spec` that `model` was built without. */
export function absentAuxHeads(model: Module, spec: AuxHeadSpec): string[] {
  const built = builtAuxHeads(model, spec);
  return spec.paths.filter((p) => !built.includes(p));
}

/** @internal The keys of `keys` that belong to one of the modules at `paths`. */
export function keysUnder(keys: Iterable<string>, paths: readonly string[]): string[] {
  return [...keys].filter((k) => paths.some((p) => k.startsWith(`${p}.`)));
}

/** "auxiliary classifier AuxLogits", "auxiliary classifiers aux1 and aux2". */
const heads = (paths: readonly string[]) =>
  paths.length === 1
    ? `auxiliary classifier ${paths[0]}`
    : `auxiliary classifiers ${paths.slice(0, -1).join(", ")} and ${paths.at(-1)}`;

/**
 * @internal What strict `loadStateDict` adds to its key error for a model
 * with auxiliary classifiers: when the state dict holds keys of heads the
 * model was built without, or lacks every key of a head it has, the option
 * that makes them agree and the loaders that drop or skip the heads; else "".
 */
export function auxKeysHint(
  model: Module,
  spec: AuxHeadSpec,
  missing: string[],
  unexpected: string[],
): string {
  const what = model.constructor.name;
  const absent = absentAuxHeads(model, spec);
  const extra = keysUnder(unexpected, absent);
  if (extra.length > 0) {
    return `; this ${what} was built without its ${heads(absent)} (auxLogits: false) and ` +
      `the state dict holds ${extra.length} of ${absent.length > 1 ? "their" : "its"} keys: ` +
      "build it with auxLogits: true to load them, or drop them with " +
      `models.loadPretrained(model, stateDict) (as torchvision's ${spec.torchDrop} does) or ` +
      "model.loadStateDict(stateDict, { strict: false })";
  }
  // A head is absent from the state dict when it lacks all its keys (batch
  // norms' step counts aside: loadStateDict fills those).
  const lacking = new Set(missing);
  const own = [...model.stateDict().keys()].filter((k) => !k.endsWith("num_batches_tracked"));
  const gone = builtAuxHeads(model, spec).filter((p) => {
    const keys = keysUnder(own, [p]);
    return keys.length > 0 && keys.every((k) => lacking.has(k));
  });
  // Only when those heads are all that is missing: other weights get no hint.
  if (gone.length === 0 || keysUnder(missing, gone).length !== missing.length) return "";
  return `; the state dict has none of this ${what}'s ${heads(gone)} (saved without, as ` +
    `torchvision's ${spec.torchDrop} state dict is): build the model with auxLogits: ` +
    "false, or load with models.loadPretrained(model, stateDict) (which leaves " +
    `${gone.length > 1 ? "them" : "it"} at initialisation) or model.loadStateDict(` +
    "stateDict, { strict: false })";
}
