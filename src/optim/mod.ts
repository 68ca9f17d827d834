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
  type ParamGroupInput,
  type ParamState,
  type ZeroGradOptions,
} from "./optimizer.ts";
export type { TorchOptimizerStateDict } from "./torch_state.ts";
export type {
  SchedulerStateDictOptions,
  TorchSchedulerStateDict,
} from "./torch_scheduler_state.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
export { Adam, type AdamOptions, AdamW } from "./adam.ts";
export { RMSprop, type RMSpropOptions } from "./rmsprop.ts";
export { Adagrad, type AdagradOptions } from "./adagrad.ts";
export { Adamax, type AdamaxOptions } from "./adamax.ts";
export { NAdam, type NAdamOptions } from "./nadam.ts";
export { RAdam, type RAdamOptions } from "./radam.ts";
export {
  CosineAnnealingLR,
  LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type OneCycleLROptions,
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
export {
  ExponentialLR,
  type ExponentialLROptions,
  MultiplicativeLR,
  type MultiplicativeLROptions,
  PolynomialLR,
  type PolynomialLROptions,
} from "./decay.ts";
export {
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
} from "./restarts.ts";
export { SequentialLR, type SequentialLROptions } from "./sequential.ts";
export { CyclicLR, type CyclicLRMode, type CyclicLROptions } from "./cyclic.ts";
export { ChainedScheduler } from "./chained.ts";
export * as swaUtils from "./swa.ts";
export {
  setWeightDecay,
  type SetWeightDecayOptions,
  type WeightDecayGroup,
} from "./set_weight_decay.ts";
