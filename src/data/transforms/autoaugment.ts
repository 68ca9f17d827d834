/**
 * torchvision's automatic augmentations on one grey channel: `AutoAugment`,
 * `RandAugment`, `TrivialAugmentWide` and `AugMix`, with torchvision 0.14's
 * op lists, magnitude tables, policies and signed magnitudes. Each draws
 * its ops from the `Rng` (`drawParams`) and applies them with
 * `F.applyAugmentOp` / `F.augMix`, whose doc says how the uint8 ops act on
 * float images: `valueRange` (default [0, 1]) plays uint8's 0..255, so CT
 * in Hounsfield units needs `ScaleIntensityRange` to [0, 1] first, or its
 * window as `valueRange`. They come from photographs (ImageNet, CIFAR-10,
 * SVHN); on CT the intensity ops (Solarize, Posterize, Equalize,
 * AutoContrast, Invert) break the fixed meaning of HU values, so a course
 * can show the effect rather than forbid it.
 *
 * Differences from torchvision: the random numbers come from this
 * library's `Rng` (same draws, in the same order, other values); `fill` is
 * one number (a grey image has one band); with bilinear interpolation and
 * a fill other than black the border pixels differ (see functional/warp.ts); float
 * results are not rounded to 1/255 steps; `p` (default 1) applies the whole
 * transform with that probability, as the library's other transforms.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import {
  applyAugmentOp,
  type AugmentOp,
  type AugmentOpOptions,
  augMix,
  type AugMixParams,
} from "./functional/autoaugment.ts";
import type { ValueRange } from "./functional/color.ts";
import type { Interpolation } from "./functional/warp.ts";
import {
  augMixSpace,
  autoAugmentSpace,
  dirichlet,
  POLICIES,
  randAugmentSpace,
  type SpaceEntry,
  trivialAugmentSpace,
} from "./autoaugment_space.ts";
import { checkValueRange, fmt, oneGrey, recycle } from "./image.ts";
import { bool, num, Transform } from "./transform.ts";

/** AutoAugment's policies (torchvision's `AutoAugmentPolicy` values). */
export type AutoAugmentPolicy = "imagenet" | "cifar10" | "svhn";

/** Options every automatic augmentation takes. */
export interface AugmentCommonOptions {
  /** "nearest" (default; AugMix: "bilinear") or "bilinear", for the geometric ops. */
  interpolation?: Interpolation;
  /**
   * Value of uncovered pixels, within `valueRange` (default its black,
   * torchvision's `fill=None`); a list of one value too, as torchvision's.
   */
  fill?: number | [number];
  /** Black and white, [lo, hi] (default [0, 1]): what uint8's 0 and 255 are. */
  valueRange?: [number, number];
  /** Probability of applying (default 1; torchvision has none). */
  p?: number;
}

/** Checked interpolation, fill and value range of an automatic augmentation. */
function common(
  name: string,
  params: AugmentCommonOptions,
  interpolation: Interpolation,
): Required<Omit<AugmentOpOptions, "valueRange">> & { valueRange: ValueRange } {
  const interp = params.interpolation ?? interpolation;
  if (interp !== "nearest" && interp !== "bilinear") {
    throw new Error(`${name}: interpolation must be "nearest" or "bilinear", got ${fmt(interp)}`);
  }
  const valueRange = checkValueRange(name, params.valueRange ?? [0, 1]);
  const fill = num(name, "fill", oneGrey(name, params.fill) ?? valueRange[0]);
  if (fill < valueRange[0] || fill > valueRange[1]) {
    // torchvision's uint8 habit (fill=128) on a float image would paint out-of-range pixels.
    throw new Error(
      `${name}: fill ${fill} is outside valueRange [${valueRange.join(", ")}]; images here ` +
        "are floats, so torchvision's uint8 fill v is v / 255 on [0, 1] (fill: 128 -> 0.502)",
    );
  }
  return { interpolation: interp, fill, valueRange };
}

/** An integer parameter with a default. */
function int(name: string, key: string, v: unknown, fallback: number, min: number): number {
  return num(name, key, v ?? fallback, { min, integer: true });
}

/** Applies ops in turn, handing back the intermediates made here. */
function applyOps(image: Image, ops: AugmentOp[], options: AugmentOpOptions): Image {
  let out = image;
  for (const { op, magnitude } of ops) {
    const next = applyAugmentOp(out, op, magnitude, options);
    if (out !== image && next.data !== out.data) recycle(out.data);
    out = next;
  }
  return out;
}

/** A drawn magnitude: the table entry (or 0), negated on a signed op when `negate`. */
function signed(entry: SpaceEntry, index: number, negate: () => boolean): number {
  const m = entry.magnitudes ? entry.magnitudes[index] : 0;
  return entry.signed && negate() ? -m : m;
}

/** Options of `AutoAugment` (torchvision's, camelCase). */
export interface AutoAugmentOptions extends AugmentCommonOptions {
  /** "imagenet" (default), "cifar10" or "svhn". */
  policy?: AutoAugmentPolicy;
}

/**
 * AutoAugment (Cubuk et al. 2019) as torchvision's: one of the policy's 25
 * sub-policies at random, each of its two ops applied with its own
 * probability and magnitude bin (of 10), geometric magnitudes with a random
 * sign.
 *
 * For CT: the policies were searched on photographs and digits; most
 * sub-policies hold Equalize, Solarize, Posterize or Invert, which change
 * what a Hounsfield value means (see the module doc).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.AutoAugment({ policy: "cifar10" });
 * const img = { data: new Float32Array(64).map((_, i) => (i % 8) / 8), width: 8, height: 8 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 8
 * console.log(t.drawParams(8, 8, new data.Rng(1)).length <= 2); // true
 * ```
 */
export class AutoAugment extends Transform {
  readonly #policy: AutoAugmentPolicy;
  readonly #options: AugmentOpOptions;
  /** See `AutoAugmentOptions`. */
  constructor(params: AutoAugmentOptions = {}) {
    super(params, arguments.length, {
      keys: ["policy", "interpolation", "fill", "valueRange"],
      p: 1,
      usage: '{ policy: "imagenet" }',
    });
    const policy = params.policy ?? "imagenet";
    if (typeof policy !== "string" || !Object.hasOwn(POLICIES, policy)) {
      throw new Error(
        `${this.name}: policy must be "imagenet", "cifar10" or "svhn" (torchvision's ` +
          `AutoAugmentPolicy values), got ${fmt(policy)}`,
      );
    }
    this.#policy = policy;
    this.#options = common(this.name, params, "nearest");
  }

  /**
   * The ops this draws for a `width` x `height` image, in order, as
   * torchvision's `forward`: a sub-policy index, two uniforms (an op applies
   * when its uniform is <= its probability) and two signs.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const ops = new data.transforms.AutoAugment().drawParams(32, 32, new data.Rng(3));
   * console.log(ops.every((o) => typeof o.op === "string" && Number.isFinite(o.magnitude))); // true
   * ```
   */
  drawParams(width: number, height: number, rng: Rng): AugmentOp[] {
    const policies = POLICIES[this.#policy];
    const id = rng.int(0, policies.length);
    const probs = [rng.uniform(), rng.uniform()], signs = [rng.int(0, 2), rng.int(0, 2)];
    const space = autoAugmentSpace(10, height, width);
    const ops: AugmentOp[] = [];
    policies[id].forEach(([op, p, bin], i) => {
      if (!(probs[i] <= p)) return;
      const entry = space.find((e) => e.op === op)!;
      const m = bin === null || !entry.magnitudes ? 0 : entry.magnitudes[bin];
      ops.push({ op, magnitude: entry.signed && signs[i] === 0 ? -m : m });
    });
    return ops;
  }

  /** `drawParams`, then each op with `F.applyAugmentOp`. */
  protected run(image: Image, rng: Rng): Image {
    return applyOps(image, this.drawParams(image.width, image.height, rng), this.#options);
  }
}

/** Options of `RandAugment` (torchvision's, camelCase). */
export interface RandAugmentOptions extends AugmentCommonOptions {
  /** Ops applied in turn (default 2). */
  numOps?: number;
  /** Magnitude bin of every op, 0 .. numMagnitudeBins - 1 (default 9). */
  magnitude?: number;
  /** Number of magnitude bins (default 31). */
  numMagnitudeBins?: number;
}

/**
 * RandAugment (Cubuk et al. 2020) as torchvision's: `numOps` ops drawn
 * uniformly from 14 (Identity, shears, translations, rotation, Brightness,
 * Color, Contrast, Sharpness, Posterize, Solarize, AutoContrast, Equalize),
 * all at magnitude bin `magnitude`, geometric and colour ones with a random
 * sign.
 *
 * For CT: half of the ops are photographic intensity changes (see the
 * module doc); at the default magnitude 9 of 31 Posterize keeps 7 bits and
 * rotations reach 9 degrees.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandAugment({ numOps: 2, magnitude: 9 });
 * const img = { data: new Float32Array(64).map((_, i) => (i % 8) / 8), width: 8, height: 8 };
 * console.log(t.apply(img, new data.Rng(0)).height); // 8
 * ```
 */
export class RandAugment extends Transform {
  readonly #numOps: number;
  readonly #magnitude: number;
  readonly #bins: number;
  readonly #options: AugmentOpOptions;
  /** See `RandAugmentOptions`. */
  constructor(params: RandAugmentOptions = {}) {
    super(params, arguments.length, {
      keys: ["numOps", "magnitude", "numMagnitudeBins", "interpolation", "fill", "valueRange"],
      p: 1,
      usage: "{ numOps: 2, magnitude: 9 }",
    });
    this.#numOps = int(this.name, "numOps", params.numOps, 2, 0);
    this.#bins = int(this.name, "numMagnitudeBins", params.numMagnitudeBins, 31, 2);
    this.#magnitude = num(this.name, "magnitude", params.magnitude ?? 9, {
      min: 0,
      max: this.#bins - 1,
      integer: true,
    });
    this.#options = common(this.name, params, "nearest");
  }

  /**
   * The ops this draws for a `width` x `height` image, in order: per op an
   * index, then a sign for a signed op (torchvision's draws).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const ops = new data.transforms.RandAugment({ numOps: 3 }).drawParams(32, 32, new data.Rng(3));
   * console.log(ops.length); // 3
   * ```
   */
  drawParams(width: number, height: number, rng: Rng): AugmentOp[] {
    const space = randAugmentSpace(this.#bins, height, width);
    return Array.from({ length: this.#numOps }, () => {
      const entry = space[rng.int(0, space.length)];
      return { op: entry.op, magnitude: signed(entry, this.#magnitude, () => rng.int(0, 2) === 1) };
    });
  }

  /** `drawParams`, then each op with `F.applyAugmentOp`. */
  protected run(image: Image, rng: Rng): Image {
    return applyOps(image, this.drawParams(image.width, image.height, rng), this.#options);
  }
}

/** Options of `TrivialAugmentWide` (torchvision's, camelCase). */
export interface TrivialAugmentWideOptions extends AugmentCommonOptions {
  /** Number of magnitude bins (default 31). */
  numMagnitudeBins?: number;
}

/**
 * TrivialAugment Wide (Müller and Hutter 2021) as torchvision's: one op
 * drawn uniformly from RandAugment's 14, at a magnitude bin drawn uniformly,
 * geometric and colour ones with a random sign. Its "wide" ranges are large:
 * shears up to 0.99, translations up to 32 pixels, rotations up to 135
 * degrees, Posterize down to 2 bits.
 *
 * For CT: a third of its draws are photographic intensity changes (see the
 * module doc) and its rotations are far beyond patient positioning.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.TrivialAugmentWide();
 * const img = { data: new Float32Array(64).map((_, i) => (i % 8) / 8), width: 8, height: 8 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 8
 * ```
 */
export class TrivialAugmentWide extends Transform {
  readonly #bins: number;
  readonly #options: AugmentOpOptions;
  /** See `TrivialAugmentWideOptions`. */
  constructor(params: TrivialAugmentWideOptions = {}) {
    super(params, arguments.length, {
      keys: ["numMagnitudeBins", "interpolation", "fill", "valueRange"],
      p: 1,
      usage: "{ numMagnitudeBins: 31 }",
    });
    this.#bins = int(this.name, "numMagnitudeBins", params.numMagnitudeBins, 31, 2);
    this.#options = common(this.name, params, "nearest");
  }

  /**
   * The one op this draws, as a list: an index, a magnitude bin (for an op
   * with magnitudes), then a sign for a signed op (torchvision's draws).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const [op] = new data.transforms.TrivialAugmentWide().drawParams(32, 32, new data.Rng(3));
   * console.log(typeof op.op); // string
   * ```
   */
  drawParams(_width: number, _height: number, rng: Rng): AugmentOp[] {
    const space = trivialAugmentSpace(this.#bins);
    const entry = space[rng.int(0, space.length)];
    const bin = entry.magnitudes ? rng.int(0, entry.magnitudes.length) : 0;
    return [{ op: entry.op, magnitude: signed(entry, bin, () => rng.int(0, 2) === 1) }];
  }

  /** `drawParams`, then the op with `F.applyAugmentOp`. */
  protected run(image: Image, rng: Rng): Image {
    return applyOps(image, this.drawParams(image.width, image.height, rng), this.#options);
  }
}

/** Options of `AugMix` (torchvision's, camelCase). */
export interface AugMixOptions extends AugmentCommonOptions {
  /** Magnitude bins drawn from, 1..10 (default 3). */
  severity?: number;
  /** Number of chains (default 3). */
  mixtureWidth?: number;
  /** Ops per chain; <= 0 (default -1) draws 1..3 per chain. */
  chainDepth?: number;
  /** Dirichlet / Beta parameter of the weights, > 0 (default 1). */
  alpha?: number;
  /** Also Brightness, Color, Contrast and Sharpness (default true). */
  allOps?: boolean;
}

/**
 * AugMix (Hendrycks et al. 2020) as torchvision's: `mixtureWidth` chains of
 * 1-3 (or `chainDepth`) ops drawn uniformly, magnitude bins below
 * `severity`, mixed with Dirichlet(alpha) weights, and the mix blended with
 * the original by a Beta(alpha, alpha) weight. Bilinear by default, as
 * torchvision's.
 *
 * For CT: the mix of differently shifted and solarized copies makes ghost
 * edges and intensities no scanner produces (see the module doc).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.AugMix({ severity: 3, mixtureWidth: 3 });
 * const img = { data: new Float32Array(64).map((_, i) => (i % 8) / 8), width: 8, height: 8 };
 * console.log(t.apply(img, new data.Rng(0)).data.every((v) => v >= 0 && v <= 1)); // true
 * ```
 */
export class AugMix extends Transform {
  readonly #severity: number;
  readonly #width: number;
  readonly #depth: number;
  readonly #alpha: number;
  readonly #allOps: boolean;
  readonly #options: AugmentOpOptions;
  /** See `AugMixOptions`. */
  constructor(params: AugMixOptions = {}) {
    super(params, arguments.length, {
      keys: [
        "severity",
        "mixtureWidth",
        "chainDepth",
        "alpha",
        "allOps",
        "interpolation",
        "fill",
        "valueRange",
      ],
      p: 1,
      usage: "{ severity: 3, mixtureWidth: 3 }",
    });
    this.#severity = num(this.name, "severity", params.severity ?? 3, {
      min: 1,
      max: 10,
      integer: true,
    });
    this.#width = int(this.name, "mixtureWidth", params.mixtureWidth, 3, 1);
    this.#depth = num(this.name, "chainDepth", params.chainDepth ?? -1, { integer: true });
    this.#alpha = num(this.name, "alpha", params.alpha ?? 1, { above: 0 });
    this.#allOps = bool(this.name, "allOps", params.allOps, true);
    this.#options = common(this.name, params, "bilinear");
  }

  /**
   * What this draws for a `width` x `height` image, in torchvision's order:
   * the Beta weight (a 2-weight Dirichlet), the chains' Dirichlet weights,
   * then per chain its depth (when `chainDepth` <= 0) and per op an index, a
   * magnitude bin below `severity` (for an op with magnitudes) and a sign.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const p = new data.transforms.AugMix({ mixtureWidth: 2 }).drawParams(32, 32, new data.Rng(3));
   * const total = p.original + p.chains.reduce((s, c) => s + c.weight, 0);
   * console.log(p.chains.length, Math.abs(total - 1) < 1e-6); // 2 true
   * ```
   */
  drawParams(width: number, height: number, rng: Rng): AugMixParams {
    const [m0, m1] = dirichlet(rng, this.#alpha, 2);
    const weights = dirichlet(rng, this.#alpha, this.#width);
    const space = augMixSpace(height, width, this.#allOps);
    const chains = weights.map((w) => {
      const depth = this.#depth > 0 ? this.#depth : rng.int(1, 4);
      const ops = Array.from({ length: depth }, (): AugmentOp => {
        const entry = space[rng.int(0, space.length)];
        const bin = entry.magnitudes ? rng.int(0, this.#severity) : 0;
        return { op: entry.op, magnitude: signed(entry, bin, () => rng.int(0, 2) === 1) };
      });
      return { weight: w * m1, ops };
    });
    return { original: m0, chains };
  }

  /** `drawParams`, then `F.augMix`. */
  protected run(image: Image, rng: Rng): Image {
    return augMix(image, this.drawParams(image.width, image.height, rng), this.#options);
  }
}
