/**
 * MixUp and CutMix, as torchvision.transforms.v2's: batch augmentations
 * that mix each image of a batch with the one before it (the batch rolled
 * by one along dim 0) and mix their one-hot labels in the same proportion,
 * lambda ~ Beta(alpha, alpha). They take a batch after the loader, not one
 * image, so they are not `Transform`s (no spec, no `p`): call them
 * (`mixup(images, labels)`, or `forward`) on `[N, C, H, W]` float32 images and `[N]` int32 labels, and train on the
 * soft labels it returns (`F.crossEntropy` takes probability targets).
 *
 * torch's Beta sampler and generator cannot be reproduced bit for bit, so
 * lambda and CutMix's box come from the library's `Rng` (the stream
 * `manualSeed` seeds, or the one passed). Given lambda and the box, the
 * results are torchvision's to the bit: the same float32 products and sums.
 *
 * @module
 */
import { checkArity, checkOptions } from "../../options.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { add, mul } from "../../tensor/ops/elementwise.ts";
import { expectTensor } from "../../tensor/ops/compare.ts";
import { oneHot } from "../../tensor/ops/one_hot.ts";
import { roll } from "../../tensor/ops/reorder.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { where } from "../../tensor/ops/where.ts";
import { globalRng, type Rng } from "../rng.ts";
import { CallableObject } from "../../layers/module.ts";

/** Options of `MixUp` and `CutMix`. */
export interface MixOptions {
  /** Beta(alpha, alpha)'s parameter, > 0 (default 1: lambda uniform in [0, 1]). */
  alpha?: number;
  /** Number of classes of the one-hot labels (required, as torchvision 0.16's). */
  numClasses: number;
}

/** The rectangle CutMix pastes: columns [x1, x2), rows [y1, y2). */
export interface CutMixBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * A Gamma(a, 1) sample as its logarithm (Marsaglia and Tsang; for a < 1
 * the boost Gamma(a) = Gamma(a + 1) U^(1/a)), so that small alphas, whose
 * samples underflow float64, still give a finite Beta ratio (or
 * Dirichlet weights: autoaugment_space.ts).
 */
export function logGamma(rng: Rng, a: number): number {
  if (a < 1) return logGamma(rng, a + 1) + Math.log(1 - rng.uniform()) / a;
  const d = a - 1 / 3, c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number, v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.uniform(); // (0, 1]
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return Math.log(d * v);
  }
}

/** A Beta(alpha, alpha) sample: G1 / (G1 + G2) of two Gamma(alpha) samples. */
export function sampleBeta(rng: Rng, alpha: number): number {
  const g1 = logGamma(rng, alpha), g2 = logGamma(rng, alpha);
  return 1 / (1 + Math.exp(g2 - g1));
}

/**
 * torchvision's CutMix box for lambda and a centre (rx, ry) drawn in
 * [0, W) x [0, H): half-sides int(0.5 sqrt(1 - lambda) * side), clipped to
 * the image; `lam` is 1 - the box's share of the image (the label weight).
 */
export function cutMixBox(
  lam: number,
  rx: number,
  ry: number,
  height: number,
  width: number,
): CutMixBox & { lam: number } {
  const r = 0.5 * Math.sqrt(1 - lam);
  const halfW = Math.trunc(r * width), halfH = Math.trunc(r * height);
  const x1 = Math.max(rx - halfW, 0), y1 = Math.max(ry - halfH, 0);
  const x2 = Math.min(rx + halfW, width), y2 = Math.min(ry + halfH, height);
  return { x1, y1, x2, y2, lam: 1 - ((x2 - x1) * (y2 - y1)) / (width * height) };
}

/** Calling a mix runs its `forward`, as torchvision's `mixup(images, labels)`. */
interface BatchMix {
  /** `forward(images, labels, rng?)`. */
  (images: Tensor, labels: Tensor, rng?: Rng): [Tensor, Tensor];
}

/** The checks and label mixing MixUp and CutMix share (callable, as torchvision's). */
abstract class BatchMix extends CallableObject {
  /** Beta(alpha, alpha)'s parameter. */
  readonly alpha: number;
  /** Classes of the one-hot labels. */
  readonly numClasses: number;
  readonly #name: string;

  constructor(name: string, options: MixOptions, argCount: number) {
    super();
    const usage = `new transforms.${name}({ alpha: 1, numClasses: 3 })`;
    checkArity(name, argCount, 1, usage);
    if (options === undefined || options === null || typeof options !== "object") {
      throw new Error(`${name}: takes an options object with numClasses; write ${usage}`);
    }
    const o = checkOptions<MixOptions>(name, options, ["alpha", "numClasses"], usage);
    const alpha = o.alpha ?? 1;
    if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha <= 0) {
      throw new Error(`${name}: alpha must be a finite number > 0, got ${String(alpha)}`);
    }
    if (!Number.isInteger(o.numClasses) || o.numClasses < 1) {
      throw new Error(
        `${name}: numClasses must be an integer >= 1, got ${String(o.numClasses)}; write ${usage}`,
      );
    }
    this.alpha = alpha;
    this.numClasses = o.numClasses;
    this.#name = name;
  }

  /** Checks the batch as torchvision does; returns [N, C, H, W]. */
  protected checkBatch(images: Tensor, labels: Tensor, argCount: number): readonly number[] {
    const name = this.#name;
    const usage = `${name.toLowerCase()}.forward(images, labels)`;
    if (argCount > 3) {
      throw new Error(`${name}.forward: takes (images, labels, rng?), got ${argCount} arguments`);
    }
    expectTensor(images, `${name}.forward: images`, usage);
    expectTensor(labels, `${name}.forward: labels`, usage);
    if (images.dtype !== "float32" || images.ndim !== 4) {
      throw new Error(
        `${name}.forward: images must be a float32 batch [N, C, H, W], got ${images.dtype} ` +
          `[${images.shape}]`,
      );
    }
    if (labels.dtype !== "int32" || labels.ndim !== 1) {
      throw new Error(
        `${name}.forward: labels must be int32 class indices of shape [N], got ${labels.dtype} ` +
          `[${labels.shape}] (mix index labels once: the result's soft labels do not mix again)`,
      );
    }
    if (labels.shape[0] !== images.shape[0]) {
      throw new Error(
        `${name}.forward: ${labels.shape[0]} labels for a batch of ${images.shape[0]} images`,
      );
    }
    if (images.shape[0] === 0) throw new Error(`${name}.forward: the batch is empty`);
    return images.shape;
  }

  /** One-hot labels mixed with the rolled ones: lam y + (1 - lam) y_rolled, as torchvision. */
  protected mixLabels(labels: Tensor, lam: number): Tensor {
    const y = oneHot(labels, this.numClasses).float();
    return add(mul(roll(y, 1, 0), 1 - lam), mul(y, lam));
  }
}

/**
 * MixUp (torchvision.transforms.v2.MixUp): each image becomes
 * lam x + (1 - lam) x_prev, x_prev the image before it in the batch (the
 * first takes the last), and the labels the same mix of one-hot rows, with
 * one lam ~ Beta(alpha, alpha) per call.
 *
 * @example
 * ```ts
 * import { data, functional as F, manualSeed, randn, tensor } from "@lits/vision";
 * manualSeed(0);
 * const mixup = new data.transforms.MixUp({ alpha: 0.4, numClasses: 3 });
 * const x = randn([4, 1, 8, 8]);
 * const y = tensor(new Int32Array([0, 1, 2, 1]), [4]);
 * const [xm, ym] = mixup(x, y); // mixup.forward(x, y)
 * console.log(xm.shape, ym.shape); // [4, 1, 8, 8] [4, 3]
 * console.log(F.crossEntropy(randn([4, 3]), ym).shape); // []
 * ```
 */
export class MixUp extends BatchMix {
  /** `{ alpha = 1, numClasses }`. */
  constructor(options: MixOptions) {
    super("MixUp", options, arguments.length);
  }

  /**
   * Mixed images and soft float32 labels [N, numClasses]; lam from `rng`,
   * else from the stream `manualSeed` seeds.
   */
  forward(images: Tensor, labels: Tensor, rng?: Rng): [Tensor, Tensor] {
    this.checkBatch(images, labels, arguments.length);
    const lam = sampleBeta(rng ?? globalRng(), this.alpha);
    return this.mixWith(images, labels, lam);
  }

  /** The mix for a given lam (what `forward` does after drawing it). */
  mixWith(images: Tensor, labels: Tensor, lam: number): [Tensor, Tensor] {
    this.checkBatch(images, labels, 2);
    checkLam("MixUp", lam);
    const out = add(mul(roll(images, 1, 0), 1 - lam), mul(images, lam));
    return [out, this.mixLabels(labels, lam)];
  }
}

/**
 * CutMix (torchvision.transforms.v2.CutMix): a rectangle of each image is
 * replaced by the same rectangle of the image before it in the batch; the
 * labels mix by the rectangle's share of the image. lam ~ Beta(alpha,
 * alpha) sets the rectangle's area (sides sqrt(1 - lam) of the image's,
 * centred at a uniform pixel, clipped at the border), one per call.
 *
 * @example
 * ```ts
 * import { data, manualSeed, ones, tensor } from "@lits/vision";
 * manualSeed(0);
 * const cutmix = new data.transforms.CutMix({ numClasses: 3 });
 * const [xm, ym] = cutmix.forward(ones([2, 1, 16, 16]), tensor(new Int32Array([0, 2]), [2]));
 * console.log(xm.shape, ym.shape); // [2, 1, 16, 16] [2, 3]
 * ```
 */
export class CutMix extends BatchMix {
  /** `{ alpha = 1, numClasses }`. */
  constructor(options: MixOptions) {
    super("CutMix", options, arguments.length);
  }

  /**
   * Images with the pasted rectangles and soft float32 labels
   * [N, numClasses]; lam and the centre from `rng`, else from the stream
   * `manualSeed` seeds (in torchvision's order: lam, column, row).
   */
  forward(images: Tensor, labels: Tensor, rng?: Rng): [Tensor, Tensor] {
    const [, , h, w] = this.checkBatch(images, labels, arguments.length);
    const r = rng ?? globalRng();
    const lam = sampleBeta(r, this.alpha);
    const rx = r.int(0, w), ry = r.int(0, h);
    return this.mixWith(images, labels, cutMixBox(lam, rx, ry, h, w));
  }

  /** The paste for a given box and label weight (what `forward` does after drawing them). */
  mixWith(images: Tensor, labels: Tensor, box: CutMixBox & { lam: number }): [Tensor, Tensor] {
    const [, , h, w] = this.checkBatch(images, labels, 2);
    const { x1, y1, x2, y2, lam } = box;
    const inside = (a: number, b: number, side: number) =>
      Number.isInteger(a) && Number.isInteger(b) && 0 <= a && a <= b && b <= side;
    if (!inside(x1, x2, w) || !inside(y1, y2, h)) {
      throw new Error(
        `CutMix.mixWith: the box ${JSON.stringify({ x1, y1, x2, y2 })} is not inside the ` +
          `${h} x ${w} image`,
      );
    }
    checkLam("CutMix", lam);
    const mask = new Float32Array(h * w);
    for (let y = y1; y < y2; y++) mask.fill(1, y * w + x1, y * w + x2);
    const box01 = fromHost(mask, [1, 1, h, w], { device: images.device }, true);
    const out = where(box01, roll(images, 1, 0), images);
    return [out, this.mixLabels(labels, lam)];
  }
}

function checkLam(name: string, lam: number): void {
  if (typeof lam !== "number" || !(lam >= 0 && lam <= 1)) {
    throw new Error(`${name}.mixWith: lam must be a number in [0, 1], got ${String(lam)}`);
  }
}
