/**
 * The model of a checkpoint for inference (`deno task evaluate`, `predict`,
 * `export`). Inception v3 and GoogLeNet are built without their auxiliary
 * classifiers, which eval mode never runs (torchvision's run in training
 * only), and the checkpoint's keys of those heads are dropped, as
 * torchvision's `inception_v3(weights=..., aux_logits=False)` drops the head
 * after loading. So a checkpoint with the heads or without them (saved from
 * torchvision's `googlenet(weights=...)`) loads, and inception_v3 evaluates
 * at any side from 75, as torchvision's does in eval mode: the 299 that
 * `AuxLogits` needs is a training rule. The outputs are those of the model
 * with the heads in eval mode.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Module } from "../layers/module.ts";
import { create, takesOption } from "../models/registry.ts";
import { absentAuxHeads, keysUnder } from "../models/aux_heads.ts";
import { auxHeadsOf } from "../models/pretrained.ts";
import { loadModelState } from "./checkpoint.ts";
import type { ModelSpec } from "./setup.ts";

/**
 * @internal The model of `spec` for inference, with `state` loaded (strict,
 * besides the auxiliary classifiers' keys); a state that does not fit
 * throws `loadModelState`'s error, naming `what`.
 */
export function inferenceModel(spec: ModelSpec, state: Map<string, Tensor>, what: string): Module {
  const options = takesOption(spec.name, "auxLogits")
    ? { ...spec.options, auxLogits: false }
    : spec.options;
  const model = create(spec.name, options);
  try {
    const aux = auxHeadsOf(model);
    const drop = new Set(aux === null ? [] : keysUnder(state.keys(), absentAuxHeads(model, aux)));
    const kept = drop.size === 0 ? state : new Map([...state].filter(([k]) => !drop.has(k)));
    loadModelState(model, kept, what, spec);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
