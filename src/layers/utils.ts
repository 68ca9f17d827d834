/**
 * `nn.utils`, as torch's `torch.nn.utils`: gradient clipping, copies of
 * state dicts (the port of `copy.deepcopy(model.state_dict())`), parameters
 * as one vector and back, pruning (`nn.utils.prune`), weight and spectral
 * normalisation, conv/linear-batch-norm fusion, calls with substituted
 * parameters (`nn.utils.stateless.functionalCall`), and parametrizations
 * (`nn.utils.parametrize`, `nn.utils.parametrizations`).
 *
 * @module
 */
export { clipGradNorm_, type ClipGradNormOptions, clipGradValue_ } from "./clip_grad.ts";
export { cloneStateDict } from "./state_dict_clone.ts";
export { parametersToVector, vectorToParameters } from "./convert_parameters.ts";
export * as prune from "./prune/mod.ts";
export { removeWeightNorm, weightNorm } from "./weight_norm.ts";
export { removeSpectralNorm, spectralNorm } from "./spectral_norm.ts";
export {
  fuseConvBnEval,
  fuseConvBnWeights,
  fuseLinearBnEval,
  fuseLinearBnWeights,
} from "./fusion.ts";
export * as stateless from "./stateless.ts";
export * as parametrize from "./parametrize.ts";
export * as parametrizations from "./parametrizations.ts";
export * from "./utils_names.ts";
