/**
 * Where a run stands (its state, epoch and optimizer step), written to
 * checkpoint.safetensors after every epoch and read back by `--resume`:
 * model, optimizer, schedule, the model EMA (`--model-ema`), the
 * `manualSeed` stream's position and the loader's epoch, so a resumed run continues with exactly the numbers an
 * uninterrupted one uses.
 *
 * @module
 */
import { generatorState, setGeneratorState } from "../tensor/ops/random.ts";
import { removeStaleTemporaries } from "./atomic.ts";
import { loadCheckpoint, loadModelState, saveCheckpoint } from "./checkpoint.ts";
import { exists } from "./exists.ts";
import type { TrainConfig } from "./config.ts";
import type { RunState } from "./early_stopping.ts";
import type { MetricsLog, RunPaths } from "./run_folder.ts";
import type { Session } from "./session.ts";
import { type ModelSpec, sameModel } from "./setup.ts";

/** A run's position. */
export interface Position {
  /** History, best loss, early stopping's counter, seconds. */
  state: RunState;
  /** Epochs done. */
  epoch: number;
  /** Optimizer steps done. */
  step: number;
  /** The last checkpoint written (null before the first). */
  lastCheckpoint: string | null;
}

/** Settings a resumed run may change: they do not alter its numbers. */
export const RESUMABLE: ReadonlySet<keyof TrainConfig> = new Set([
  "out",
  "workers",
  "device",
  "logEvery",
]);

/**
 * Throws where the run's configuration differs from the one its checkpoint
 * was written under (an edited config.json): the schedule's position, the
 * data order and the epoch count all follow the first, so continuing under
 * another would mix two runs without a word (a cosine schedule stretched
 * to more epochs after it reached 0 trains them at learning rate 0).
 */
function checkSameConfig(saved: TrainConfig, now: TrainConfig, paths: RunPaths): void {
  const changed = (Object.keys(saved) as (keyof TrainConfig)[])
    .filter((k) => !RESUMABLE.has(k) && JSON.stringify(saved[k]) !== JSON.stringify(now[k]));
  if (changed.length === 0) return;
  const show = (c: TrainConfig) => changed.map((k) => `${k} ${JSON.stringify(c[k])}`).join(", ");
  throw new Error(
    `checkpoint ${paths.checkpoint} was written with ${show(saved)}, but ${paths.config} ` +
      `now says ${show(now)}; a resumed run continues the configuration it began with: put ` +
      "the values back, or start a new run",
  );
}

/** The position of a new run. */
export function freshPosition(): Position {
  return {
    state: { history: [], bestValLoss: Infinity, bestEpoch: 0, badValidations: 0, seconds: 0 },
    epoch: 0,
    step: 0,
    lastCheckpoint: null,
  };
}

/**
 * Restores the session from the run's checkpoint (refusing one of another
 * model or optimizer) and drops metrics lines written after it; a run
 * killed before its first checkpoint starts again at epoch 1.
 */
export async function resumePosition(
  session: Session,
  run: { spec: ModelSpec; config: TrainConfig; splits: string },
  paths: RunPaths,
  metrics: MetricsLog,
  log: (line: string) => void,
): Promise<Position> {
  // What a killed run left half-written: never read, and never cleaned up otherwise.
  const written = [paths.checkpoint, paths.best, paths.bestEma, paths.report, paths.metrics];
  for (const path of [...written, paths.config]) {
    await removeStaleTemporaries(path);
  }
  let position = freshPosition();
  if (await exists(paths.checkpoint)) {
    const ckpt = await loadCheckpoint(paths.checkpoint);
    try {
      const { model, optimizer, schedule } = session;
      const { spec } = run;
      // The data first: changed data also changes the model's pixel statistics.
      const splits = ckpt.info.data?.splits;
      if (splits !== undefined && splits !== run.splits) {
        throw new Error(
          `checkpoint ${paths.checkpoint} was written over other data: the slices or labels of ` +
            `${run.config.data}'s train, val or test split changed since (regenerated, or files ` +
            "moved between splits); resuming would mix the two and could test on trained " +
            "patients: restore the data, or start a new run",
        );
      }
      // A checkpoint from before preprocessing was recorded still resumes.
      if (!sameModel(ckpt.info.model, spec)) {
        throw new Error(
          `checkpoint ${paths.checkpoint} is of model ${JSON.stringify(ckpt.info.model)}, ` +
            `but the run's config.json builds ${JSON.stringify(spec)}`,
        );
      }
      if (ckpt.info.optimizer !== optimizer.constructor.name) {
        throw new Error(
          `checkpoint ${paths.checkpoint} holds ${ckpt.info.optimizer} state, the run uses ${optimizer.constructor.name}`,
        );
      }
      checkSameConfig(ckpt.info.config, run.config, paths);
      loadModelState(model, ckpt.modelState, `checkpoint ${paths.checkpoint}`, spec);
      if (session.ema) {
        if (ckpt.emaState.size === 0) {
          throw new Error(
            `checkpoint ${paths.checkpoint} holds no model EMA, but the run's config.json asks ` +
              "for --model-ema: put modelEma back to false, or start a new run",
          );
        }
        loadModelState(session.ema, ckpt.emaState, `the EMA in ${paths.checkpoint}`, spec);
      }
      optimizer.loadStateDict(ckpt.optimizerState);
      schedule.loadStateDict(ckpt.info.scheduler);
      setGeneratorState({
        seed: BigInt(ckpt.info.rng.seed),
        counter: BigInt(ckpt.info.rng.counter),
      });
      position = {
        state: ckpt.info.trainer,
        epoch: ckpt.info.epoch,
        step: ckpt.info.step,
        lastCheckpoint: paths.checkpoint,
      };
    } finally {
      ckpt.dispose();
    }
    log(`resuming ${paths.dir} after epoch ${position.epoch} (step ${position.step})`);
  } else {
    log(`resuming ${paths.dir}: no complete checkpoint yet, starting at epoch 1`);
  }
  await metrics.truncateAfter(position.epoch);
  return position;
}

/** Writes the checkpoint of `position` (atomically: a failed write keeps the previous one). */
export async function saveRunCheckpoint(
  paths: RunPaths,
  session: Session,
  run: { spec: ModelSpec; config: TrainConfig; splits: string },
  position: Position,
): Promise<void> {
  const { seed, counter } = generatorState();
  await saveCheckpoint(paths.checkpoint, session.model, session.optimizer, {
    model: run.spec,
    epoch: position.epoch,
    step: position.step,
    scheduler: session.schedule.stateDict(),
    rng: { seed: String(seed), counter: String(counter) },
    loader: { epoch: session.trainLoader.epoch, seed: run.config.seed },
    trainer: position.state,
    config: run.config,
    data: { splits: run.splits },
  }, session.ema);
  position.lastCheckpoint = paths.checkpoint;
}
