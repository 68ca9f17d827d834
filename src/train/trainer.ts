/**
 * `fit`: a whole training run from a configuration to a run folder. It
 * opens the data, builds model, optimizer and schedule from the seed,
 * restores a checkpoint when resuming, trains epoch by epoch (validating,
 * keeping the best weights, stopping early, checkpointing after every
 * epoch), then evaluates the test split and writes report.html.
 *
 * Reproducible on the CPU: everything random comes from the seed (the
 * `manualSeed` stream for initialisation and dropout; the loader's own
 * (seed, epoch, sample) streams for order and augmentation), and a
 * checkpoint stores the stream's position and the loader's epoch, so a
 * resumed run continues with exactly the numbers an uninterrupted one uses.
 *
 * @module
 */
import { DataLoader } from "../data/loader.ts";
import { classBalancedSampler } from "../data/sampler.ts";
import { CrossEntropyLoss } from "../layers/loss.ts";
import { defaultDevice, type Device, device } from "../tensor/device.ts";
import { manualSeed } from "../tensor/mod.ts";
import { generatorState, setGeneratorState } from "../tensor/ops/random.ts";
import { writeReport } from "../eval/report/report.ts";
import type { HistoryEntry } from "../eval/report/types.ts";
import { checkConfigKeys, type TrainConfig } from "./config.ts";
import { checkArity, checkOptions } from "../options.ts";
import {
  checkDataLayout,
  defaultSyntheticData,
  emptyClassWarnings,
  openSplit,
  pixelStats,
  runTransforms,
} from "./data.ts";
import { DivergedError, UsageError } from "./errors.ts";
import { NonFiniteLoss, trainEpoch } from "./epoch.ts";
import { evaluateModel, summarize, type TestSummary } from "./evaluate.ts";
import {
  loadCheckpoint,
  loadModelState,
  loadWeights,
  saveCheckpoint,
  saveWeights,
  type TrainerState,
} from "./checkpoint.ts";
import { removeStaleTemporaries } from "./atomic.ts";
import { createRun, MetricsLog, type RunPaths, runPaths } from "./run_folder.ts";
import { epochLine, type Progress, silentProgress } from "./progress.ts";
import {
  buildModel,
  buildOptimizer,
  buildSchedule,
  CLASS_NAMES,
  currentLr,
  modelSpec,
} from "./setup.ts";

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
  /** Test-split metrics of the final weights. */
  test: TestSummary;
  /** Epoch of the lowest validation loss. */
  bestEpoch: number;
  /** Whether early stopping ended the run. */
  stoppedEarly: boolean;
  /** Training seconds over all sessions of the run. */
  seconds: number;
}

/** Resolves "auto" and checks that the device can run here. */
function resolveDevice(name: TrainConfig["device"]): Device {
  if (name === "auto") return defaultDevice();
  try {
    return device(name);
  } catch (e) {
    throw new Error(`--device ${name}: ${(e as Error).message}`);
  }
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
  const log = options.log ?? (() => {});
  const progress = options.progress ?? silentProgress;
  const dev = resolveDevice(config.device);
  const root = config.data ?? await defaultSyntheticData(log);
  checkDataLayout(root);
  const splits = { train: openSplit(root, "train"), val: openSplit(root, "val") };
  const test = openSplit(root, "test");
  try {
    // Once per run, before training: a missing class skews every metric after.
    for (const w of emptyClassWarnings({ ...splits, test }, CLASS_NAMES)) console.warn(w);
    const { width, height } = splits.train;
    if (config.imageSize === 0 && width !== height) {
      throw new UsageError(`the images are ${width}x${height}; give a square --image-size`);
    }
    const imageSize = config.imageSize || width;
    const resolved: TrainConfig = { ...config, data: root, imageSize };
    const stats = config.normalize ? pixelStats(splits.train) : null;
    const spec = modelSpec(resolved, imageSize, stats);
    const t = runTransforms(config.augment, imageSize, width, height, stats);
    const paths = options.resume ? runPaths(config.out) : await createRun(resolved);
    // A new run that fails before its first epoch starts (native build,
    // model, loader) leaves no folder behind: there is nothing to resume.
    let started = false;
    try {
      const metrics = new MetricsLog(paths.metrics);

      manualSeed(config.seed);
      const model = buildModel(spec).to(dev);
      try {
        const optimizer = buildOptimizer(config, model);
        const lossFn = new CrossEntropyLoss();
        const trainLoader = new DataLoader(splits.train, {
          batchSize: config.batchSize,
          shuffle: !config.balanced,
          sampler: config.balanced ? classBalancedSampler(splits.train) : undefined,
          transform: t.train,
          seed: config.seed,
          workers: config.workers,
          device: dev,
        });
        const evalLoader = (ds: typeof test) =>
          new DataLoader(ds, {
            batchSize: Math.max(64, config.batchSize),
            transform: t.eval,
            workers: config.workers,
            device: dev,
          });
        const schedule = buildSchedule(config, optimizer, trainLoader.length);

        let state: TrainerState & { stopped?: boolean } = {
          history: [],
          bestValLoss: Infinity,
          bestEpoch: 0,
          badValidations: 0,
          seconds: 0,
        };
        let epoch = 0, step = 0;
        let lastCheckpoint: string | null = null;
        if (options.resume) {
          await removeStaleTemporaries(paths.checkpoint);
          await removeStaleTemporaries(paths.best);
          if (await exists(paths.checkpoint)) {
            const ckpt = await loadCheckpoint(paths.checkpoint);
            try {
              if (JSON.stringify(ckpt.info.model) !== JSON.stringify(spec)) {
                throw new Error(
                  `checkpoint ${paths.checkpoint} is of model ${
                    JSON.stringify(ckpt.info.model)
                  }, ` +
                    `but the run's config.json builds ${JSON.stringify(spec)}`,
                );
              }
              if (ckpt.info.optimizer !== optimizer.constructor.name) {
                throw new Error(
                  `checkpoint ${paths.checkpoint} holds ${ckpt.info.optimizer} state, the run uses ${optimizer.constructor.name}`,
                );
              }
              loadModelState(model, ckpt.modelState, `checkpoint ${paths.checkpoint}`, spec);
              optimizer.loadStateDict(ckpt.optimizerState);
              schedule.loadStateDict(ckpt.info.scheduler);
              setGeneratorState({
                seed: BigInt(ckpt.info.rng.seed),
                counter: BigInt(ckpt.info.rng.counter),
              });
              state = ckpt.info.trainer;
              epoch = ckpt.info.epoch;
              step = ckpt.info.step;
              lastCheckpoint = paths.checkpoint;
            } finally {
              ckpt.dispose();
            }
            log(`resuming ${paths.dir} after epoch ${epoch} (step ${step})`);
          } else {
            log(`resuming ${paths.dir}: no complete checkpoint yet, starting at epoch 1`);
          }
          await metrics.truncateAfter(epoch);
        }

        log(
          `training ${spec.name} on ${root} (${splits.train.length} train / ${splits.val.length} val / ` +
            `${test.length} test slices, ${imageSize}x${imageSize}, device ${dev}) -> ${paths.dir}`,
        );
        const ctx = {
          model,
          optimizer,
          lossFn,
          schedule,
          loader: trainLoader,
          progress,
          logEvery: config.logEvery,
          onLog: (r: Record<string, number>) =>
            void metrics.write({ type: "step", epoch: epoch + 1, ...r }),
        };
        started = true;
        while (epoch < config.epochs && !state.stopped) {
          trainLoader.setEpoch(epoch); // loader epochs are 0-based: the same order on resume
          let result;
          try {
            result = await trainEpoch(ctx, epoch + 1, config.epochs, step);
          } catch (e) {
            if (!(e instanceof NonFiniteLoss)) throw e;
            await metrics.write({
              type: "stop",
              epoch: epoch + 1,
              step: e.step,
              loss: String(e.value),
            });
            throw new DivergedError(e.value, e.step, epoch + 1, lastCheckpoint);
          }
          epoch++;
          step = result.step;
          const validate = epoch % config.valEvery === 0 || epoch === config.epochs;
          const val = validate ? await evaluateModel(model, evalLoader(splits.val)) : null;
          const entry: HistoryEntry = {
            epoch,
            trainLoss: result.loss,
            trainAcc: result.accuracy,
            valLoss: val?.loss ?? null,
            valAcc: val?.accuracy ?? null,
            lr: currentLr(optimizer),
            seconds: result.seconds,
          };
          schedule.afterEpoch(val?.loss ?? null);
          let note = "";
          if (val) {
            if (val.loss < state.bestValLoss) {
              state.bestValLoss = val.loss;
              state.bestEpoch = epoch;
              state.badValidations = 0;
              note = "best";
              await saveWeights(paths.best, model, spec, {
                epoch: String(epoch),
                valLoss: String(val.loss),
              });
            } else if (config.earlyStopping > 0 && ++state.badValidations >= config.earlyStopping) {
              state.stopped = true;
              note = `early stop: no lower val loss for ${config.earlyStopping} validations`;
            }
          }
          state.history.push(entry);
          state.seconds += result.seconds;
          await metrics.write({ type: "epoch", ...entry, step });
          log(epochLine(entry, config.epochs, note));
          await saveCheckpoint(paths.checkpoint, model, optimizer, {
            model: spec,
            epoch,
            step,
            scheduler: schedule.stateDict(),
            rng: rngState(),
            loader: { epoch: trainLoader.epoch, seed: config.seed },
            trainer: state,
            config: resolved,
          });
          lastCheckpoint = paths.checkpoint;
        }

        if (config.earlyStopping > 0 && state.bestEpoch > 0 && state.bestEpoch !== epoch) {
          const best = await loadWeights(paths.best);
          try {
            loadModelState(model, best.state, paths.best, spec);
          } finally {
            best.dispose();
          }
          log(
            `restored the best weights (epoch ${state.bestEpoch}, val loss ${
              state.bestValLoss.toFixed(4)
            })`,
          );
        }
        const evaluation = await evaluateModel(model, evalLoader(test), {
          keepMistakes: 24,
          names: (i) => test.filename(i),
        });
        const summary = summarize(evaluation, CLASS_NAMES.length);
        await metrics.write({ type: "test", epoch, ...summary });
        if (options.report ?? true) {
          await writeReport(paths.report, {
            title: `${spec.name} on ${root}`,
            classNames: CLASS_NAMES,
            history: state.history,
            yTrue: evaluation.yTrue,
            yPred: evaluation.yPred,
            scores: evaluation.scores,
            misclassified: evaluation.misclassified,
            config: { ...resolved, device: dev } as unknown as Record<string, unknown>,
            split: "test",
          });
        }
        return {
          paths,
          config: resolved,
          history: state.history,
          test: summary,
          bestEpoch: state.bestEpoch,
          stoppedEarly: state.stopped === true,
          seconds: state.seconds,
        };
      } finally {
        model.dispose();
      }
    } catch (e) {
      if (!options.resume && !started) await removeUnstartedRun(paths);
      throw e;
    }
  } finally {
    splits.train.close();
    splits.val.close();
    test.close();
  }
}

/** The `manualSeed` stream's position as JSON-safe strings. */
function rngState(): { seed: string; counter: string } {
  const { seed, counter } = generatorState();
  return { seed: String(seed), counter: String(counter) };
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
