/**
 * `nn.utils`, as torch's `torch.nn.utils`: gradient clipping, and copies of
 * state dicts (the port of `copy.deepcopy(model.state_dict())`).
 *
 * @module
 */
export { clipGradNorm_, type ClipGradNormOptions, clipGradValue_ } from "./clip_grad.ts";
export { cloneStateDict } from "./state_dict_clone.ts";
