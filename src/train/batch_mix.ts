/**
 * The training command's batch mixing (`--mixup-alpha`, `--cutmix-alpha`),
 * as torchvision's classification reference: MixUp or CutMix on each
 * training batch, one of the two at random when both are on, with soft
 * labels for the loss. Each batch draws from its own generator,
 * `Rng.forSample(seed, epoch, -1 - batch)` (the loader's per-sample
 * streams use positions >= 0), so a run and its resumption mix alike.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { CutMix, MixUp } from "../data/transforms/mix.ts";
import { Rng } from "../data/rng.ts";
import type { TrainConfig } from "./config.ts";

/** Mixes batch `batch` (0-based) of `epoch`: images and soft labels [N, K]. */
export type BatchMixer = (
  images: Tensor,
  labels: Tensor,
  epoch: number,
  batch: number,
) => [Tensor, Tensor];

/**
 * The mixer a configuration asks for, or null when `mixupAlpha` and
 * `cutmixAlpha` are both 0.
 *
 * @example
 * ```ts
 * import { randn, tensor, train } from "@lits/vision";
 * import { batchMixer } from "./batch_mix.ts";
 * const mix = batchMixer({ ...train.DEFAULTS, mixupAlpha: 0.2, cutmixAlpha: 1 }, 3)!;
 * const [x, y] = mix(randn([4, 1, 8, 8]), tensor(new Int32Array([0, 1, 2, 0]), [4]), 1, 0);
 * console.log(x.shape, y.shape); // [4, 1, 8, 8] [4, 3]
 * ```
 */
export function batchMixer(config: TrainConfig, numClasses: number): BatchMixer | null {
  const mixes: (MixUp | CutMix)[] = [];
  if (config.mixupAlpha > 0) mixes.push(new MixUp({ alpha: config.mixupAlpha, numClasses }));
  if (config.cutmixAlpha > 0) mixes.push(new CutMix({ alpha: config.cutmixAlpha, numClasses }));
  if (mixes.length === 0) return null;
  return (images, labels, epoch, batch) => {
    const rng = Rng.forSample(config.seed, epoch, -1 - batch);
    const mix = mixes.length === 1 ? mixes[0] : mixes[rng.int(0, mixes.length)];
    return mix.forward(images, labels, rng);
  };
}
