/**
 * `nn.utils`, as torch's `torch.nn.utils`: gradient clipping, copies of
 * state dicts (the port of `copy.deepcopy(model.state_dict())`), parameters
 * as one vector and back, and pruning (`nn.utils.prune`).
 *
 * @module
 */
export { clipGradNorm_, type ClipGradNormOptions, clipGradValue_ } from "./clip_grad.ts";
export { cloneStateDict } from "./state_dict_clone.ts";
export { parametersToVector, vectorToParameters } from "./convert_parameters.ts";
export * as prune from "./prune/mod.ts";
export * from "./utils_names.ts";
