/**
 * @internal torchvision 0.14's tables behind the automatic augmentations
 * (transforms/autoaugment.py): each class's `_augmentation_space` (op names
 * in torchvision's order, which a drawn index picks from; magnitudes as its
 * float32 tensors; whether a magnitude takes a random sign), AutoAugment's
 * three policies, and the Dirichlet draw of AugMix. Not public: the classes
 * in autoaugment.ts use them, and a test holds them equal to torchvision's.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { AugmentOpName } from "./functional/autoaugment.ts";
import { roundHalfEven } from "./image.ts";
import { logGamma } from "./mix.ts";

/** One op of an augmentation space: its magnitudes (null: none, 0 is used) and sign. */
export interface SpaceEntry {
  /** The op. */
  op: AugmentOpName;
  /** The magnitude table (torchvision's float32 tensor), or null for a 0-d one. */
  magnitudes: number[] | null;
  /** Whether a drawn sign may negate the magnitude. */
  signed: boolean;
}

/**
 * `torch.linspace(start, end, steps)` in float32, to the last bit as torch
 * 1.13's CPU kernel computes it (the AVX2 build): value i is
 * `start + step * i` below the halfway point and `end - step * (steps - 1 - i)`
 * from it, each one fused multiply-add (one rounding); but the first
 * multiple of 16 values go in 8-lane vectors, lane j being
 * `base + j * step` (two roundings) from its vector's first value. The last
 * bit matters: TranslateX truncates its magnitude to whole pixels.
 */
export function linspaceF32(start: number, end: number, steps: number): number[] {
  const f = Math.fround, s = f(start), e = f(end);
  if (steps === 1) return [s];
  const step = f(f(e - s) / (steps - 1)), half = Math.floor(steps / 2);
  // step * k is exact in a double (24 + 10 bits), so one fround is the fused rounding.
  const scalar = (i: number) => i < half ? f(s + step * i) : f(e - step * (steps - 1 - i));
  const out = new Array<number>(steps);
  const vectorised = Math.floor(steps / 16) * 16;
  for (let i = 0; i < steps; i++) {
    out[i] = i < vectorised ? f(scalar(i - (i % 8)) + f((i % 8) * step)) : scalar(i);
  }
  return out;
}

/** `top - (torch.arange(n) / ((n - 1) / parts)).round().int()`: the posterize bits. */
function posterizeBits(top: number, n: number, parts: number): number[] {
  const d = Math.fround((n - 1) / parts);
  return Array.from({ length: n }, (_, i) => top - roundHalfEven(Math.fround(i / d)));
}

const ZERO = null;

/** An ordered space from [op, magnitudes, signed] rows. */
function rows(list: [AugmentOpName, number[] | null, boolean][]): SpaceEntry[] {
  return list.map(([op, magnitudes, signed]) => ({ op, magnitudes, signed }));
}

/** The shared rows of AutoAugment and RandAugment (`numBins` magnitudes, image [h, w]). */
function common(n: number, h: number, w: number): [AugmentOpName, number[] | null, boolean][] {
  return [
    ["ShearX", linspaceF32(0, 0.3, n), true],
    ["ShearY", linspaceF32(0, 0.3, n), true],
    ["TranslateX", linspaceF32(0, 150 / 331 * w, n), true],
    ["TranslateY", linspaceF32(0, 150 / 331 * h, n), true],
    ["Rotate", linspaceF32(0, 30, n), true],
    ["Brightness", linspaceF32(0, 0.9, n), true],
    ["Color", linspaceF32(0, 0.9, n), true],
    ["Contrast", linspaceF32(0, 0.9, n), true],
    ["Sharpness", linspaceF32(0, 0.9, n), true],
    ["Posterize", posterizeBits(8, n, 4), false],
    ["Solarize", linspaceF32(255, 0, n), false],
    ["AutoContrast", ZERO, false],
    ["Equalize", ZERO, false],
  ];
}

/** `AutoAugment._augmentation_space(numBins, [h, w])`. */
export function autoAugmentSpace(n: number, h: number, w: number): SpaceEntry[] {
  return rows([...common(n, h, w), ["Invert", ZERO, false]]);
}

/** `RandAugment._augmentation_space(numBins, [h, w])`. */
export function randAugmentSpace(n: number, h: number, w: number): SpaceEntry[] {
  return rows([["Identity", ZERO, false], ...common(n, h, w)]);
}

/** `TrivialAugmentWide._augmentation_space(numBins)` (no image size: translations up to 32 px). */
export function trivialAugmentSpace(n: number): SpaceEntry[] {
  return rows([
    ["Identity", ZERO, false],
    ["ShearX", linspaceF32(0, 0.99, n), true],
    ["ShearY", linspaceF32(0, 0.99, n), true],
    ["TranslateX", linspaceF32(0, 32, n), true],
    ["TranslateY", linspaceF32(0, 32, n), true],
    ["Rotate", linspaceF32(0, 135, n), true],
    ["Brightness", linspaceF32(0, 0.99, n), true],
    ["Color", linspaceF32(0, 0.99, n), true],
    ["Contrast", linspaceF32(0, 0.99, n), true],
    ["Sharpness", linspaceF32(0, 0.99, n), true],
    ["Posterize", posterizeBits(8, n, 6), false],
    ["Solarize", linspaceF32(255, 0, n), false],
    ["AutoContrast", ZERO, false],
    ["Equalize", ZERO, false],
  ]);
}

/** `AugMix._augmentation_space(10, [h, w])`; `allOps` adds the four colour ops last. */
export function augMixSpace(h: number, w: number, allOps: boolean): SpaceEntry[] {
  const n = 10;
  const list: [AugmentOpName, number[] | null, boolean][] = [
    ["ShearX", linspaceF32(0, 0.3, n), true],
    ["ShearY", linspaceF32(0, 0.3, n), true],
    ["TranslateX", linspaceF32(0, w / 3, n), true],
    ["TranslateY", linspaceF32(0, h / 3, n), true],
    ["Rotate", linspaceF32(0, 30, n), true],
    ["Posterize", posterizeBits(4, n, 4), false],
    ["Solarize", linspaceF32(255, 0, n), false],
    ["AutoContrast", ZERO, false],
    ["Equalize", ZERO, false],
  ];
  if (allOps) {
    list.push(
      ["Brightness", linspaceF32(0, 0.9, n), true],
      ["Color", linspaceF32(0, 0.9, n), true],
      ["Contrast", linspaceF32(0, 0.9, n), true],
      ["Sharpness", linspaceF32(0, 0.9, n), true],
    );
  }
  return rows(list);
}

/** One sub-policy step: op, probability of applying, magnitude bin (null: none). */
export type PolicyStep = readonly [AugmentOpName, number, number | null];

/** Compact policy rows: "Op prob bin|-" pairs, as torchvision's `_get_policies` lists them. */
function policy(text: string): (readonly [PolicyStep, PolicyStep])[] {
  const step = (s: string): PolicyStep => {
    const [op, p, bin] = s.trim().split(" ");
    return [op as AugmentOpName, Number(p), bin === "-" ? null : Number(bin)];
  };
  return text.trim().split("\n").map((line) => {
    const [a, b] = line.split(",");
    return [step(a), step(b)] as const;
  });
}

/** torchvision's `AutoAugment._get_policies`, by policy name. */
export const POLICIES: Readonly<
  Record<"imagenet" | "cifar10" | "svhn", (readonly [PolicyStep, PolicyStep])[]>
> = {
  imagenet: policy(`
Posterize 0.4 8, Rotate 0.6 9
Solarize 0.6 5, AutoContrast 0.6 -
Equalize 0.8 -, Equalize 0.6 -
Posterize 0.6 7, Posterize 0.6 6
Equalize 0.4 -, Solarize 0.2 4
Equalize 0.4 -, Rotate 0.8 8
Solarize 0.6 3, Equalize 0.6 -
Posterize 0.8 5, Equalize 1.0 -
Rotate 0.2 3, Solarize 0.6 8
Equalize 0.6 -, Posterize 0.4 6
Rotate 0.8 8, Color 0.4 0
Rotate 0.4 9, Equalize 0.6 -
Equalize 0.0 -, Equalize 0.8 -
Invert 0.6 -, Equalize 1.0 -
Color 0.6 4, Contrast 1.0 8
Rotate 0.8 8, Color 1.0 2
Color 0.8 8, Solarize 0.8 7
Sharpness 0.4 7, Invert 0.6 -
ShearX 0.6 5, Equalize 1.0 -
Color 0.4 0, Equalize 0.6 -
Equalize 0.4 -, Solarize 0.2 4
Solarize 0.6 5, AutoContrast 0.6 -
Invert 0.6 -, Equalize 1.0 -
Color 0.6 4, Contrast 1.0 8
Equalize 0.8 -, Equalize 0.6 -`),
  cifar10: policy(`
Invert 0.1 -, Contrast 0.2 6
Rotate 0.7 2, TranslateX 0.3 9
Sharpness 0.8 1, Sharpness 0.9 3
ShearY 0.5 8, TranslateY 0.7 9
AutoContrast 0.5 -, Equalize 0.9 -
ShearY 0.2 7, Posterize 0.3 7
Color 0.4 3, Brightness 0.6 7
Sharpness 0.3 9, Brightness 0.7 9
Equalize 0.6 -, Equalize 0.5 -
Contrast 0.6 7, Sharpness 0.6 5
Color 0.7 7, TranslateX 0.5 8
Equalize 0.3 -, AutoContrast 0.4 -
TranslateY 0.4 3, Sharpness 0.2 6
Brightness 0.9 6, Color 0.2 8
Solarize 0.5 2, Invert 0.0 -
Equalize 0.2 -, AutoContrast 0.6 -
Equalize 0.2 -, Equalize 0.6 -
Color 0.9 9, Equalize 0.6 -
AutoContrast 0.8 -, Solarize 0.2 8
Brightness 0.1 3, Color 0.7 0
Solarize 0.4 5, AutoContrast 0.9 -
TranslateY 0.9 9, TranslateY 0.7 9
AutoContrast 0.9 -, Solarize 0.8 3
Equalize 0.8 -, Invert 0.1 -
TranslateY 0.7 9, AutoContrast 0.9 -`),
  svhn: policy(`
ShearX 0.9 4, Invert 0.2 -
ShearY 0.9 8, Invert 0.7 -
Equalize 0.6 -, Solarize 0.6 6
Invert 0.9 -, Equalize 0.6 -
Equalize 0.6 -, Rotate 0.9 3
ShearX 0.9 4, AutoContrast 0.8 -
ShearY 0.9 8, Invert 0.4 -
ShearY 0.9 5, Solarize 0.2 6
Invert 0.9 -, AutoContrast 0.8 -
Equalize 0.6 -, Rotate 0.9 3
ShearX 0.9 4, Solarize 0.3 3
ShearY 0.8 8, Invert 0.7 -
Equalize 0.9 -, TranslateY 0.6 6
Invert 0.9 -, Equalize 0.6 -
Contrast 0.3 3, Rotate 0.8 4
Invert 0.8 -, TranslateY 0.0 2
ShearY 0.7 6, Solarize 0.4 8
Invert 0.6 -, Rotate 0.8 4
ShearY 0.3 7, TranslateX 0.9 3
ShearX 0.1 6, Invert 0.6 -
Solarize 0.7 2, TranslateY 0.6 7
ShearY 0.8 4, Invert 0.8 -
ShearX 0.7 9, TranslateY 0.8 3
ShearY 0.8 5, AutoContrast 0.7 -
ShearX 0.7 2, Invert 0.1 -`),
};

/**
 * A Dirichlet(alpha, ..., alpha) draw of `n` weights (torch's
 * `_sample_dirichlet`: normalised Gamma draws), in log space so that a small
 * alpha cannot underflow every weight to 0.
 */
export function dirichlet(rng: Rng, alpha: number, n: number): number[] {
  const logs = Array.from({ length: n }, () => logGamma(rng, alpha));
  const top = Math.max(...logs);
  const e = logs.map((l) => Math.exp(l - top));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}
