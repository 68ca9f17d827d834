/**
 * One training epoch: forward, loss, backward, optimizer step per batch,
 * with the loss checked for NaN and infinity before it can reach the
 * weights, a step line in metrics.jsonl every N steps, and the progress bar.
 *
 * Memory: `optimizer.zeroGrad()` at the start of each step frees the
 * previous step's temporaries, the batch is disposed by `using`, and
 * `endStep()` at the end frees the last step's, so an epoch leaves memory
 * as it found it.
 *
 * @module
 */
import type { DataLoader } from "../data/loader.ts";
import type { Module } from "../layers/module.ts";
import type { CrossEntropyLoss } from "../layers/loss.ts";
import { endStep } from "../tensor/ownership.ts";
import { faultAt } from "./faults.ts";
import { inPrecision } from "./precision.ts";
import type { TrainConfig } from "./config.ts";
import type { Progress } from "./progress.ts";
import { type AnyOptimizer, currentLr, type Schedule } from "./setup.ts";
import type { BatchMixer } from "./batch_mix.ts";
import type { AveragedModel } from "../optim/swa.ts";
import { clipGradNorm_ } from "../layers/clip_grad.ts";
import { trainingLoss } from "./aux_loss.ts";

/** How an epoch updates a moving average of the weights (torchvision's `--model-ema`). */
export interface EmaUpdate {
  /** The average. */
  average: AveragedModel;
  /** The model it averages (not its DistributedDataParallel). */
  model: Module;
  /** Update at each epoch's steps 0, N, 2N, ... (torchvision's `i % model_ema_steps == 0`). */
  every: number;
  /** During these first epochs each update restarts the average (copies the weights). */
  warmupEpochs: number;
}

/** What one epoch needs. */
export interface EpochContext {
  model: Module;
  optimizer: AnyOptimizer;
  lossFn: CrossEntropyLoss;
  schedule: Schedule;
  loader: DataLoader;
  progress: Progress;
  /** Called every `logEvery` steps with the step's numbers. */
  onLog: (record: { step: number; loss: number; lr: number; imagesPerSecond: number }) => void;
  logEvery: number;
  /** The forward pass and loss's precision (default fp32). */
  precision?: TrainConfig["precision"];
  /** MixUp / CutMix of each batch (soft labels for the loss); null or absent: none. */
  mix?: BatchMixer | null;
  /** Clip the gradients' total 2-norm to this after backward (null or absent: no clipping). */
  clipGradNorm?: number | null;
  /** The moving average to update after the steps (null or absent: none). */
  ema?: EmaUpdate | null;
}

/** What an epoch did. */
export interface EpochResult {
  /** Mean training loss. */
  loss: number;
  /** Training accuracy (against each image's own label, also under MixUp and CutMix). */
  accuracy: number;
  /** Optimizer steps completed over the run after this epoch. */
  step: number;
  /** The learning rate of the epoch's last step (a per-step schedule has moved on since). */
  lr: number;
  /** Seconds taken. */
  seconds: number;
}

/** Thrown by `trainEpoch` when the loss is not finite (the weights are not updated with it). */
export class NonFiniteLoss extends Error {
  constructor(readonly value: number, readonly step: number) {
    super(`loss ${value} at step ${step}`);
  }
}

/**
 * Trains `epoch` (1-based) of `epochs`, continuing the run's step count from
 * `step`.
 */
export async function trainEpoch(
  ctx: EpochContext,
  epoch: number,
  epochs: number,
  step: number,
): Promise<EpochResult> {
  const { model, optimizer, lossFn, schedule, loader, progress } = ctx;
  const nanAt = faultAt("nan-loss");
  model.train();
  const start = performance.now();
  let lossSum = 0, correct = 0, seen = 0, batches = 0;
  let lastLr = currentLr(optimizer);
  const clip = ctx.clipGradNorm ?? null, ema = ctx.ema ?? null;
  const params = clip === null ? [] : model.parameters();
  progress.start(epoch, epochs, loader.length);
  try {
    for await (using batch of loader) {
      optimizer.zeroGrad();
      // Mixed images and soft labels are op results: the next zeroGrad frees them.
      const [images, target] = ctx.mix
        ? ctx.mix(batch.images, batch.labels, epoch, batches)
        : [batch.images, batch.labels];
      // Inception v3's and GoogLeNet's auxiliary heads add their losses (aux_loss.ts).
      const { logits, loss } = inPrecision(
        ctx.precision ?? "fp32",
        () => trainingLoss(model.forward(images), (l) => lossFn.forward(l, target)),
      );
      let value = loss.item();
      if (nanAt === step + 1) value = NaN;
      if (!Number.isFinite(value)) throw new NonFiniteLoss(value, step + 1);
      loss.backward();
      // fp32 gradients under bf16 too: nothing to unscale, unlike torchvision's AMP.
      if (clip !== null) clipGradNorm_(params, clip);
      optimizer.step();
      if (ema && batches % ema.every === 0) {
        ema.average.updateParameters(ema.model);
        if (epoch - 1 < ema.warmupEpochs) ema.average.nAveraged = 0; // copy during warm-up
      }
      const lr = currentLr(optimizer); // the rate this step used
      lastLr = lr;
      schedule.afterStep();
      step++;
      const n = batch.labels.shape[0];
      const pred = logits.argmax(1).toArray(), labels = batch.labels.toArray();
      for (let i = 0; i < n; i++) if (pred[i] === labels[i]) correct++;
      lossSum += value * n;
      seen += n;
      batches++;
      const imagesPerSecond = seen / ((performance.now() - start) / 1000);
      progress.update(batches, lossSum / seen, imagesPerSecond);
      if (step % ctx.logEvery === 0) {
        ctx.onLog({ step, loss: value, lr, imagesPerSecond });
      }
    }
  } finally {
    progress.stop();
    optimizer.zeroGrad();
    endStep();
  }
  return {
    loss: lossSum / Math.max(1, seen),
    accuracy: correct / Math.max(1, seen),
    step,
    lr: lastLr,
    seconds: (performance.now() - start) / 1000,
  };
}
