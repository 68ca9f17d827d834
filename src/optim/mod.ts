/**
 * Optimizers (`torch.optim`).
 *
 * @module
 */
export {
  type GroupOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamState,
  type ZeroGradOptions,
} from "./optimizer.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
export { Adam, type AdamOptions, AdamW } from "./adam.ts";
export {
  CosineAnnealingLR,
  LRScheduler,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  StepLR,
} from "./scheduler.ts";
export {
  ConstantLR,
  type ConstantLROptions,
  LambdaLR,
  type LambdaLROptions,
  LinearLR,
  type LinearLROptions,
} from "./warmup.ts";
export { SequentialLR, type SequentialLROptions } from "./sequential.ts";
