/**
 * Training: `fit` runs a whole training run into a run folder (config.json,
 * metrics.jsonl, best.safetensors, checkpoint.safetensors, report.html), with
 * exact resume after a crash; `trainMain`, `evaluateMain`, `predictMain`
 * and `experimentMain` are the `deno task train`, `evaluate`, `predict` and
 * `experiment` commands.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const { config } = train.parseTrainArgs(["--epochs", "2", "--augment", "none"]);
 * console.log(config.model, config.epochs); // simple 2
 * ```
 *
 * @module
 */
export {
  checkConfig,
  checkConfigKeys,
  DEFAULTS,
  DEVICES,
  MODEL_NAMES,
  OPTIMIZERS,
  SCHEDULERS,
  type TrainConfig,
  WARMUP_METHODS,
} from "./config.ts";
export { DivergedError, UsageError } from "./errors.ts";
export { type ParsedTrainArgs, parseTrainArgs, trainHelp } from "./flags.ts";
export { checkDataLayout, evalTransforms, type RunTransforms, runTransforms } from "./data.ts";
export {
  dataWindow,
  isWindow,
  sliceScaling,
  windowTransform,
  windowWarning,
} from "./intensity_window.ts";
export { writeFileAtomic } from "./atomic.ts";
export {
  type CheckpointFields,
  type CheckpointInfo,
  loadCheckpoint,
  type LoadedCheckpoint,
  type LoadedWeights,
  loadWeights,
  saveCheckpoint,
  saveWeights,
  type TrainerState,
} from "./checkpoint.ts";
export {
  evaluateModel,
  type EvaluateOptions,
  type Evaluation,
  type TestSummary,
} from "./evaluate.ts";
export { epochLine, type Progress, progressBar, silentProgress } from "./progress.ts";
export { fit, type FitOptions, type FitResult } from "./trainer.ts";
export { planWarnings } from "./plan_warnings.ts";
export { trainMain } from "./cli.ts";
export { evaluateMain } from "./evaluate_cli.ts";
export { predictMain } from "../predict/cli.ts";
export type { ModelSpec, Preprocessing } from "./setup.ts";
export { emaDecay } from "./setup.ts";
export {
  experimentBase,
  experimentConfigs,
  EXPERIMENTS,
  REGULARIZATION,
  REGULARIZATION_STRENGTHS,
  type RegularizationStrengths,
  runExperiment,
  type Variant,
  type VariantResult,
} from "./experiment.ts";
export { experimentHtml, experimentMarkdown } from "./experiment_page.ts";
export { experimentMain } from "./experiment_cli.ts";
