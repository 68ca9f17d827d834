/**
 * Tensors, autograd and the functional ops.
 *
 * @module
 */
export { Tensor, type TensorOptions } from "./tensor.ts";
export {
  backendInfo,
  cudaAvailable,
  defaultDevice,
  type Device,
  device,
  type DeviceName,
  type DType,
  emptyCache,
  type MemoryStats,
  memoryStats,
  synchronize,
} from "./device.ts";
export {
  areDeterministicAlgorithmsEnabled,
  areWinogradConvolutionsEnabled,
  type DeterministicOptions,
  useDeterministicAlgorithms,
  useWinogradConvolutions,
} from "./deterministic.ts";
export {
  type AccumulateGrad,
  type GradNode,
  type GradNodeInit,
  inferenceMode,
  isGradEnabled,
  type NextFunction,
  noGrad,
} from "./autograd.ts";
export { enableGrad, setGradEnabled } from "./grad_mode.ts";
export * as autograd from "./autograd_namespace.ts";
export * as utils from "./utils_namespace.ts";
export type { GradHook } from "./tensor_hooks.ts";
export type { HookHandle } from "./grad_hooks.ts";
export { autocast, type AutocastDtype, autocastDtype, type AutocastOptions } from "./autocast.ts";
export { endStep, type Owned, scope } from "./ownership.ts";
export { collectGarbage, type CollectorStats, collectorStats } from "./collector.ts";
export { arange, full, linspace, type NestedArray, ones, tensor, zeros } from "./ops/creation.ts";
export { fullLike, onesLike, randLike, randnLike, zerosLike } from "./ops/like.ts";
export { manualSeed, rand, randn } from "./ops/random.ts";
export { type GeneratorState, getRngState, setRngState } from "./rng_state.ts";
export { getNumThreads, MAX_NUM_THREADS, setNumThreads } from "./threads.ts";
export { cat, stack } from "./ops/join.ts";
export { type CompareOp, eq, ge, gt, le, lt, ne } from "./ops/compare.ts";
export { maskedFill, where } from "./ops/where.ts";
export { gather, indexSelect } from "./ops/gather.ts";
export { flip, roll } from "./ops/reorder.ts";
export { argsort, sort, topk, ValuesIndices } from "./ops/sort.ts";
export { quantile, type QuantileInterpolation, type QuantileOptions } from "./ops/quantile.ts";
export { clamp, clampMax, clampMin } from "./ops/clamp.ts";
export { pow } from "./ops/pow.ts";
export { abs, expm1, log1p, sqrt } from "./ops/elementwise.ts";
export { norm, type NormOrder } from "./ops/vector_norm.ts";
export { lerp } from "./ops/lerp.ts";
export { ceil, floor, round, type RoundOptions, sign, trunc } from "./ops/rounding.ts";
export { cos, reciprocal, sin } from "./ops/trig.ts";
export {
  acos,
  acosh,
  arccos,
  arccosh,
  arcsin,
  arcsinh,
  arctan,
  arctan2,
  arctanh,
  asin,
  asinh,
  atan,
  atan2,
  atanh,
  cosh,
  erf,
  erfc,
  erfinv,
  sinh,
  tan,
} from "./ops/trig_more.ts";
export { einsum } from "./ops/einsum.ts";
export { cumsum } from "./ops/cumsum.ts";
export { kthvalue, median, nanmedian } from "./ops/median.ts";
export { mode } from "./ops/mode.ts";
export {
  bucketize,
  type BucketizeOptions,
  searchsorted,
  type SearchsortedOptions,
} from "./ops/bucketize.ts";
export { bernoulli } from "./ops/bernoulli.ts";
export { all, any, logsumexp } from "./ops/logsumexp.ts";
export { bmm, matmul, mm } from "./ops/matmul.ts";
export { isfinite, isinf, isnan, nanToNum, type NanToNumOptions } from "./ops/nonfinite.ts";
export { empty, eye, randint, randperm } from "./ops/creation_more.ts";
export { argmin, countNonzero, cumprod, prod } from "./ops/reduce_more.ts";
export {
  add,
  amax,
  amin,
  argmax,
  div,
  exp,
  flatten,
  log,
  logSoftmax,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  permute,
  relu,
  reshape,
  rsqrt,
  sigmoid,
  softmax,
  square,
  squeeze,
  std,
  sub,
  sum,
  tanh,
  transpose,
  unsqueeze,
  var,
} from "./ops/functions.ts";
export { logicalAnd, logicalNot, logicalOr, logicalXor } from "./ops/logical.ts";
export { floorDivide, fmod, remainder } from "./ops/divmod.ts";
export type { DivOptions, RoundingMode } from "./ops/div_rounding.ts";
export { maskedSelect, nonzero, type NonzeroOptions } from "./ops/masked_select.ts";
export {
  bincount,
  type BincountOptions,
  unique,
  uniqueConsecutive,
  type UniqueConsecutiveOptions,
  type UniqueOptions,
} from "./ops/unique.ts";
export { allclose, type CloseOptions, equal, isclose } from "./ops/closeness.ts";
export { tril, triu } from "./ops/tri.ts";
export { diff, type DiffOptions, meshgrid, type MeshgridOptions, tile } from "./ops/shape_more.ts";
export { repeatInterleave } from "./ops/repeat_interleave.ts";
export { indexAdd, scatter, scatterAdd, takeAlongDim } from "./ops/scatter.ts";
export {
  indexCopy,
  scatterReduce,
  type ScatterReduceOptions,
  type ScatterReduction,
} from "./ops/scatter_reduce.ts";
export { chunk, narrow, split, unbind } from "./ops/view_functions.ts";
export { trace } from "./ops/diagonal_ops.ts";
export {
  broadcastTo,
  concat,
  concatenate,
  dstack,
  hstack,
  movedim,
  rot90,
  tensorSplit,
  unflatten,
  vstack,
} from "./ops/stack_more.ts";
export { addmm, baddbmm, diag, diagonal, dot, inner, mv, outer } from "./ops/linalg_small.ts";
export { aminmax, MinMax, nanmean, nansum } from "./ops/nan_reduce.ts";
export { cummax, cummin, stdMean, varMean } from "./ops/stats_pairs.ts";
export { histc } from "./ops/histc.ts";
export {
  clip,
  copysign,
  deg2rad,
  fmax,
  fmin,
  frac,
  heaviside,
  hypot,
  log10,
  log2,
  logaddexp,
  logaddexp2,
  logit,
  rad2deg,
  signbit,
  xlogy,
} from "./ops/elementwise_more.ts";
export * as functional from "./functional.ts";
