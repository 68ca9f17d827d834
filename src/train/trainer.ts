/**
 * `fit`: a whole training run from a configuration to a run folder, in the
 * order a reader expects: open the run (data, folder), build the session
 * (model, optimizer, loaders), resume or start fresh, then epoch by epoch
 * train / validate / record (keeping the best weights, stopping early) /
 * checkpoint, restore the best weights, and test and report (the tail
 * `deno task evaluate` shares).
 *
 * Reproducible on the CPU: everything random comes from the seed (the
 * `manualSeed` stream for initialisation and dropout; the loader's own
 * (seed, epoch, sample) streams for order and augmentation), and a
 * checkpoint stores the stream's position and the loader's epoch, so a
 * resumed run continues with exactly the numbers an uninterrupted one uses.
 *
 * @module
 */
import type { Device } from "../tensor/device.ts";
import type { HistoryEntry } from "../eval/report/types.ts";
import { emaFromMetrics } from "../eval/report/ema.ts";
import { checkConfigKeys, type TrainConfig } from "./config.ts";
import { checkArity, checkOptions } from "../options.ts";
import { DivergedError } from "./errors.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Module } from "../layers/module.ts";
import { isNorm } from "../optim/set_weight_decay.ts";
import { BatchNormBase } from "../layers/batchnorm_base.ts";
import { type EpochContext, type EpochResult, NonFiniteLoss, trainEpoch } from "./epoch.ts";
import { evaluateModel, type TestSummary } from "./evaluate.ts";
import { loadModelState, loadWeights, saveWeights } from "./checkpoint.ts";
import { createRun, MetricsLog, type RunPaths, runPaths } from "./run_folder.ts";
import { epochLine, type Progress, silentProgress } from "./progress.ts";
import { EarlyStopping } from "./early_stopping.ts";
import { freshPosition, type Position, resumePosition, saveRunCheckpoint } from "./resume.ts";
import { buildSession, openRunData, resolveDevice, type RunData, type Session } from "./session.ts";
import { evalLoader, testSplit, writeSplitReport } from "./test_report.ts";
import { checkPrecision, inPrecision } from "./precision.ts";
import { testEma, validateEma } from "./model_ema.ts";
import { planWarnings } from "./plan_warnings.ts";
import { applyPretrained, runWeights } from "./weights.ts";
import {
  globalMean,
  joinRunGroup,
  type RunGroup,
  SilentMetricsLog,
  syncBuffers,
  syncRanks,
} from "./distributed.ts";

/** Options of `fit`. */
export interface FitOptions {
  /** Continue the run in `config.out` from its checkpoint (default false: a new run). */
  resume?: boolean;
  /** Where the epoch lines and messages go (default: nowhere). */
  log?: (line: string) => void;
  /** The in-epoch progress display (default: none). */
  progress?: Progress;
  /** Write report.html after the test evaluation (default true). */
  report?: boolean;
}

/** The outcome of `fit`. */
export interface FitResult {
  /** The run folder's files. */
  paths: RunPaths;
  /** The configuration as run (data, image size and device resolved). */
  config: TrainConfig;
  /** Per-epoch history. */
  history: HistoryEntry[];
  /** Test-split metrics of the final weights (those of epoch `testedEpoch`). */
  test: TestSummary;
  /**
   * The epoch whose weights `test` measured: the last, or the best one where
   * early stopping restored it. `best.safetensors` holds `bestEpoch`'s, so
   * `deno task evaluate` on it gives these numbers only where the two agree.
   */
  testedEpoch: number;
  /** Epoch of the lowest validation loss. */
  bestEpoch: number;
  /** Whether early stopping ended the run. */
  stoppedEarly: boolean;
  /**
   * With `--model-ema`: the test-split metrics of the EMA's weights after
   * the last epoch (also where early stopping restored the model's best),
   * else null.
   */
  emaTest: TestSummary | null;
  /** With `--model-ema`: the epoch of the EMA's lowest validation loss (best_ema.safetensors's). */
  bestEmaEpoch: number;
  /** Training seconds over all sessions of the run. */
  seconds: number;
}

/**
 * Runs (or resumes) a training run; see the module doc. `config` must be
 * checked (`checkConfig`); a new run needs `config.out` set and not yet used.
 *
 * @example
 * ```ts
 * import { data, train } from "@lits/vision";
 * const root = await Deno.makeTempDir();
 * await data.synthesizeLiTS({ out: root, preset: "easy", patients: 4, slicesPerPatient: 8 });
 * const out = `${await Deno.makeTempDir()}/run`;
 * const result = await train.fit(
 *   { ...train.DEFAULTS, data: root, out, epochs: 1, imageSize: 16, augment: "none" },
 *   { report: false },
 * );
 * console.log(result.history.length, result.test.accuracy >= 0); // 1 true
 * ```
 */
export async function fit(config: TrainConfig, options: FitOptions = {}): Promise<FitResult> {
  const usage = "train.fit(config, { resume: true, report: false })";
  checkArity("train.fit", arguments.length, 2, usage);
  checkConfigKeys(config, "train.fit");
  options = checkOptions<FitOptions>(
    "train.fit",
    options,
    ["resume", "log", "progress", "report"],
    usage,
  );
  // Several processes (mpirun): rank 0 alone writes the run folder.
  const group = joinRunGroup(config.nproc);
  config = { ...config, nproc: group.world };
  const log = group.writer ? options.log ?? (() => {}) : () => {};
  const dev = resolveDevice(config.device);
  checkPrecision(config.precision, dev);
  if (group.writer) { for (const w of planWarnings(config)) console.warn(w); }
  using data = await openRunData(config, log);
  // --weights: read and hashed (into config.json) before the run folder is made.
  using weights = await runWeights(data, options.resume ?? false);
  const paths = options.resume || !group.writer
    ? runPaths(config.out)
    : await createRun(data.config);
  // A new run that fails before its first epoch starts (native build,
  // model, loader) leaves no folder behind: there is nothing to resume.
  let started = false;
  try {
    let weightsLine = "";
    const pretrained = weights && ((model: Module) => {
      weightsLine = applyPretrained(model, weights, data.spec.name);
      weights[Symbol.dispose](); // copied into the model: freed before training
    });
    using session = buildSession(config, data, dev, group, pretrained);
    if (weightsLine) log(weightsLine);
    if (group.writer) normDecayWarning(config, session.model);
    if (group.writer) syncBatchNormWarning(config, session.model, group.world);
    const metrics = group.writer
      ? new MetricsLog(paths.metrics)
      : new SilentMetricsLog(paths.metrics);
    const position = options.resume
      ? await resumePosition(session, data, paths, metrics, log)
      : freshPosition();
    const { train, val, test } = data;
    log(
      `training ${data.spec.name} on ${data.root} (${train.length} train / ${val.length} val / ` +
        `${test.length} test slices, ${data.config.imageSize}x${data.config.imageSize}, ` +
        `device ${dev}) -> ${paths.dir}`,
    );
    started = true;
    const run: Run = { data, session, paths, metrics, log, group };
    const stopping = new EarlyStopping(config.earlyStopping, position.state);
    const progress = group.writer ? options.progress ?? silentProgress : silentProgress;
    await trainEpochs(run, position, stopping, progress);
    syncRanks(group); // rank 0's best.safetensors is complete before the others read it
    const restored = stopping.restoresBest(position.epoch);
    if (restored) await restoreBest(run, position);
    const testedEpoch = restored ? position.state.bestEpoch : position.epoch;
    const report = (options.report ?? true) && group.writer;
    const { summary, emaTest } = await testAndReport(
      run,
      position,
      testedEpoch,
      report ? dev : null,
    );
    return {
      paths,
      config: data.config,
      history: position.state.history,
      test: summary,
      testedEpoch,
      bestEpoch: position.state.bestEpoch,
      stoppedEarly: stopping.stopped,
      emaTest,
      bestEmaEpoch: position.state.bestEmaEpoch ?? 0,
      seconds: position.state.seconds,
    };
  } catch (e) {
    if (!options.resume && !started && group.writer) await removeUnstartedRun(paths);
    throw e;
  }
}

/** What the steps of a run after the start share. */
/** @internal What one run carries through its epochs. */
export interface Run {
  data: RunData;
  session: Session;
  paths: RunPaths;
  metrics: MetricsLog;
  log: (line: string) => void;
  /** The ranks (one process: rank 0 of 1). */
  group: RunGroup;
}

/**
 * Trains until the last epoch or an early stop: each epoch trains,
 * validates (every `valEvery` epochs and the last), records (history,
 * best weights, metrics, epoch line) and checkpoints.
 */
async function trainEpochs(
  run: Run,
  position: Position,
  stopping: EarlyStopping,
  progress: Progress,
): Promise<void> {
  const { data: { config, spec, val }, session, paths, metrics } = run;
  const { model, optimizer, schedule, trainLoader } = session;
  const { group } = run;
  const ctx: EpochContext = {
    model: session.trainModel,
    optimizer,
    lossFn: session.lossFn,
    schedule,
    loader: trainLoader,
    progress,
    logEvery: config.logEvery,
    precision: config.precision,
    mix: session.mix,
    clipGradNorm: config.clipGradNorm,
    ema: session.ema
      ? {
        average: session.ema,
        model,
        every: config.modelEmaSteps,
        warmupEpochs: config.lrWarmupEpochs,
      }
      : null,
    onLog: (r) =>
      metrics.append({
        type: "step",
        epoch: position.epoch + 1,
        ...r,
        // Every rank logs at the same steps: the numbers are the global batch's.
        loss: globalMean(group, r.loss),
        imagesPerSecond: r.imagesPerSecond * group.world,
      }),
  };
  while (position.epoch < config.epochs && !stopping.stopped) {
    const result = await trainOneEpoch(run, ctx, position);
    await stopOnNonFiniteWeights(run, position, result.step);
    result.loss = globalMean(group, result.loss); // equal shards: the mean of means is the mean
    result.accuracy = globalMean(group, result.accuracy);
    const epoch = ++position.epoch;
    position.step = result.step;
    const validate = epoch % config.valEvery === 0 || epoch === config.epochs;
    if (validate) syncBuffers(group, model); // every rank evaluates rank 0's model, whole
    const v = validate
      ? await inPrecision(
        config.precision,
        async () => await evaluateModel(model, evalLoader(val, session.evalLoading)),
      )
      : null;
    if (v && !Number.isFinite(v.loss)) {
      // Weights so large that the forward overflows: nothing to keep as best or checkpoint.
      await run.metrics.write({ type: "stop", epoch, step: result.step, valLoss: String(v.loss) });
      throw new DivergedError(
        v.loss,
        result.step,
        epoch,
        position.lastCheckpoint,
        "the validation loss",
      );
    }
    const entry: HistoryEntry = {
      epoch,
      trainLoss: result.loss,
      trainAcc: result.accuracy,
      valLoss: v?.loss ?? null,
      valAcc: v?.accuracy ?? null,
      lr: result.lr, // what its steps used (onecycle has moved on since)
      seconds: result.seconds,
    };
    schedule.afterEpoch(v?.loss ?? null);
    const verdict = v ? stopping.observe(epoch, v.loss) : null;
    if (verdict === "best" && group.writer) {
      await saveWeights(paths.best, model, spec, {
        epoch: String(epoch),
        valLoss: String(v!.loss),
      });
    }
    position.state.history.push(entry);
    position.state.seconds += result.seconds;
    await metrics.write({ type: "epoch", ...entry, step: position.step });
    run.log(epochLine(entry, config.epochs, stopping.note(verdict)));
    if (validate && session.ema) await validateEma(run, position, epoch);
    if (group.writer) await saveRunCheckpoint(paths, session, run.data, position);
  }
}

/** One training epoch; a loss that is not finite ends the run with a `DivergedError`. */
async function trainOneEpoch(
  run: Run,
  ctx: EpochContext,
  position: Position,
): Promise<EpochResult> {
  const { epoch, step } = position;
  run.session.trainLoader.setEpoch(epoch); // loader epochs are 0-based: the same order on resume
  try {
    return await trainEpoch(ctx, epoch + 1, run.data.config.epochs, step);
  } catch (e) {
    if (!(e instanceof NonFiniteLoss)) throw e;
    await run.metrics.write({
      type: "stop",
      epoch: epoch + 1,
      step: e.step,
      loss: String(e.value),
    });
    throw new DivergedError(e.value, e.step, epoch + 1, position.lastCheckpoint);
  }
}

/**
 * Ends the run with a `DivergedError` (exit 3) when the epoch's last update
 * left a weight NaN or infinite: its loss was finite, so no step saw it, and
 * the validation, best weights and checkpoint after it would carry NaN.
 */
async function stopOnNonFiniteWeights(run: Run, position: Position, step: number): Promise<void> {
  const bad = noGrad(() => {
    for (const [name, p] of run.session.model.namedParameters()) {
      const total = p.sum().item();
      if (!Number.isFinite(total)) return { name, total };
    }
    return null;
  });
  if (bad === null) return;
  const epoch = position.epoch + 1;
  await run.metrics.write({ type: "stop", epoch, step, weights: bad.name });
  throw new DivergedError(
    bad.total,
    step,
    epoch,
    position.lastCheckpoint,
    `the weights (${bad.name})`,
  );
}

/** A warning when `--norm-weight-decay` has no normalisation layer to act on (torchvision is silent). */
function normDecayWarning(config: TrainConfig, model: Module): void {
  if (config.normWeightDecay === null || [...model.modules()].some(isNorm)) return;
  console.warn(
    `warning: --norm-weight-decay ${config.normWeightDecay} acts on no parameter: ` +
      `${config.model} has no normalisation layer here, so every weight takes --weight-decay`,
  );
}

/**
 * A warning when `--sync-batch-norm` changes nothing (torchvision is silent):
 * one process, or a model without batch norm (the ViTs, Swins and ConvNeXts
 * normalise with LayerNorm; AlexNet, the plain VGGs and the SqueezeNets have none).
 * @internal exported for the tests.
 */
export function syncBatchNormWarning(config: TrainConfig, model: Module, world: number): void {
  if (!config.syncBatchNorm) return;
  if (world === 1) {
    console.warn(
      "warning: --sync-batch-norm acts only with several processes (--nproc N, or mpirun); " +
        "this run has one, whose batch norms see the whole batch anyway",
    );
  } else if (![...model.modules()].some((m) => m instanceof BatchNormBase)) {
    console.warn(
      `warning: --sync-batch-norm acts on no layer: ${config.model} has no batch norm, so ` +
        "nothing is synchronised",
    );
  }
}

/** Loads best.safetensors into the model: the run ends on its best weights. */
async function restoreBest(run: Run, position: Position): Promise<void> {
  const { paths, session, data } = run;
  const best = await loadWeights(paths.best);
  try {
    loadModelState(session.model, best.state, paths.best, data.spec);
  } finally {
    best.dispose();
  }
  const { bestEpoch, bestValLoss } = position.state;
  run.log(`restored the best weights (epoch ${bestEpoch}, val loss ${bestValLoss.toFixed(4)})`);
}

/**
 * Evaluates the test split, appends the "test" line to metrics.jsonl (with
 * `weightsEpoch`, whose weights it measured), then with `--model-ema` the
 * EMA's "ema_test" line, and, given the device to show on it, writes
 * report.html (the EMA's curves and test read back from metrics.jsonl, which
 * holds them across resumes).
 */
async function testAndReport(
  run: Run,
  position: Position,
  weightsEpoch: number,
  reportDevice: Device | null,
): Promise<{ summary: TestSummary; emaTest: TestSummary | null }> {
  const { data, session, paths } = run;
  syncBuffers(run.group, session.model);
  const { evaluation, summary } = await inPrecision(
    data.config.precision,
    async () => await testSplit(session.model, data.test, session.evalLoading),
  );
  await run.metrics.write({ type: "test", epoch: position.epoch, weightsEpoch, ...summary });
  const emaTest = await testEma(run, position);
  if (reportDevice) {
    const ema = emaTest ? emaFromMetrics(await Deno.readTextFile(paths.metrics)) : null;
    await writeSplitReport(paths.report, evaluation, {
      title: `${data.spec.name} on ${data.root}, the weights of epoch ${weightsEpoch}`,
      split: "test",
      history: position.state.history,
      config: { ...data.config, device: reportDevice } as unknown as Record<string, unknown>,
      ema,
    });
  }
  return { summary, emaTest };
}

/**
 * Undoes `createRun` for a run that never started: its two files, then the
 * folder only if nothing else is in it (`--out` may name a folder that
 * holds the user's other files).
 */
async function removeUnstartedRun(paths: RunPaths): Promise<void> {
  for (const file of [paths.config, paths.metrics]) {
    await Deno.remove(file).catch(() => {});
  }
  await Deno.remove(paths.dir).catch(() => {}); // fails (and keeps it) when not empty
}
