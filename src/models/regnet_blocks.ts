/**
 * RegNet's parts as torchvision 0.14's `models/regnet.py`: the block
 * parameters of a design (`BlockParams.from_init_params`: the quantised
 * linear widths of Radosavovic et al., "Designing Network Design Spaces",
 * CVPR 2020, Sec. 3.3, eqs. 2-4), the stem `SimpleStemIN`, the residual
 * bottleneck `ResBottleneckBlock` (1x1, grouped 3x3 with optional
 * squeeze-and-excitation, 1x1, as `BottleneckTransform`) and a stage
 * `AnyStage`, with torchvision's child names (`f.a`, `f.b`, `f.se`, `f.c`,
 * `proj`, `block1-0`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { ReLU } from "../layers/basic.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { checkArity, checkOptions } from "../options.ts";
import { isPlain } from "./plain.ts";
import {
  checkCount,
  Conv2dNormActivation,
  convNormAct,
  fusesConvNormAct,
  makeDivisible,
  SqueezeExcitation,
} from "./mobile_blocks.ts";

/** A RegNet design: torchvision's `BlockParams.from_init_params` arguments. */
export interface RegNetDesign {
  /** Blocks in all (d). */
  readonly depth: number;
  /** Initial width w_0: > 0, a multiple of 8. */
  readonly w0: number;
  /** Width slope w_a >= 0. */
  readonly wa: number;
  /** Width multiplier between stages w_m > 1. */
  readonly wm: number;
  /** Channels per group of the 3x3 convolutions (g). */
  readonly groupWidth: number;
  /** Bottleneck ratio b (default 1). */
  readonly bottleneckMultiplier?: number;
  /** Squeeze-and-excitation ratio to a block's input width (RegNetY: 0.25); null or 0 for none. */
  readonly seRatio?: number | null;
}

/** Per-stage settings, as torchvision's `BlockParams`. */
export interface RegNetBlockParams {
  /** Blocks per stage. */
  depths: number[];
  /** Output channels per stage. */
  widths: number[];
  /** Channels per group per stage (at most the bottleneck width). */
  groupWidths: number[];
  /** Bottleneck ratio per stage. */
  bottleneckMultipliers: number[];
  /** Stride of each stage's first block (2). */
  strides: number[];
  /** Squeeze-and-excitation ratio, or null for none. */
  seRatio: number | null;
}

const f32 = Math.fround;

/** Round half to even, as torch.round and Python's round. */
function roundEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const DESIGN_USAGE =
  "models.regnetBlockParams({ depth: 16, w0: 48, wa: 27.89, wm: 2.09, groupWidth: 8, seRatio: 0.25 })";

/**
 * The stages of a RegNet design as torchvision's
 * `BlockParams.from_init_params`: block j's width w_0 + w_a j, quantised in
 * log space with base w_m to w_0 w_m^round(log(1 + w_a j / w_0) / log w_m),
 * rounded to a multiple of 8; blocks of one width make a stage; then each
 * stage's bottleneck width is made divisible by its group width
 * (`makeDivisible`) and the group width capped at it. Computed in float32
 * as torch computes it, so the rounding lands on the same side.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const p = models.regnetBlockParams({ depth: 16, w0: 48, wa: 27.89, wm: 2.09, groupWidth: 8, seRatio: 0.25 });
 * console.log(p.depths, p.widths); // [1, 3, 6, 6] [48, 104, 208, 440]
 * ```
 */
export function regnetBlockParams(design: RegNetDesign): RegNetBlockParams {
  checkArity("models.regnetBlockParams", arguments.length, 1, DESIGN_USAGE);
  const d = checkOptions<RegNetDesign>(
    "models.regnetBlockParams",
    design,
    ["depth", "w0", "wa", "wm", "groupWidth", "bottleneckMultiplier", "seRatio"],
    DESIGN_USAGE,
  );
  const where = "models.regnetBlockParams";
  checkCount(where, "depth", d.depth, DESIGN_USAGE);
  checkCount(where, "groupWidth", d.groupWidth, DESIGN_USAGE);
  const { w0, wa, wm } = d, b = d.bottleneckMultiplier ?? 1, se = d.seRatio ?? null;
  // torchvision's "Invalid RegNet settings", saying which.
  if (!Number.isInteger(w0) || w0 <= 0 || w0 % 8 !== 0) {
    throw new Error(`${where}: w0 must be a multiple of 8 above 0, got ${w0}; ${DESIGN_USAGE}`);
  }
  if (typeof wa !== "number" || !(wa >= 0 && Number.isFinite(wa))) {
    throw new Error(`${where}: wa must be a number >= 0, got ${wa}; ${DESIGN_USAGE}`);
  }
  if (typeof wm !== "number" || !(wm > 1 && Number.isFinite(wm))) {
    throw new Error(`${where}: wm must be a number > 1, got ${wm}; ${DESIGN_USAGE}`);
  }
  if (typeof b !== "number" || !(b > 0 && Number.isFinite(b))) {
    throw new Error(`${where}: bottleneckMultiplier must be a number > 0, got ${b}`);
  }
  if (se !== null && (typeof se !== "number" || !(se >= 0 && se <= 1))) {
    throw new Error(`${where}: seRatio must be null or a number in [0, 1], got ${se}`);
  }
  // torch: arange(depth) * w_a + w_0 in float32; log, pow and the divisions in float32.
  const wa32 = f32(wa), w032 = f32(w0), wm32 = f32(wm), logWm = f32(Math.log(wm));
  const blockWidths: number[] = [];
  for (let j = 0; j < d.depth; j++) {
    const cont = f32(f32(j * wa32) + w032);
    const capacity = roundEven(f32(f32(Math.log(f32(cont / w032))) / logWm));
    blockWidths.push(roundEven(f32(f32(w032 * f32(Math.pow(wm32, capacity))) / 8)) * 8);
  }
  const widths: number[] = [], depths: number[] = [];
  for (const w of blockWidths) {
    if (widths.at(-1) === w) depths[depths.length - 1]++;
    else widths.push(w), depths.push(1);
  }
  // torchvision's _adjust_widths_groups_compatibilty.
  const bottleneck = widths.map((w) => Math.trunc(w * b));
  const groupWidths = bottleneck.map((w) => Math.min(d.groupWidth, w));
  const adjusted = bottleneck.map((w, i) => Math.trunc(makeDivisible(w, groupWidths[i]) / b));
  return {
    depths,
    widths: adjusted,
    groupWidths,
    bottleneckMultipliers: widths.map(() => b),
    strides: widths.map(() => 2),
    seRatio: se === 0 ? null : se,
  };
}

const relu = () => new ReLU();

/**
 * RegNet's stem, torchvision's `SimpleStemIN`: a 3x3 stride-2 convolution,
 * batch norm and ReLU (a `Conv2dNormActivation`, children 0, 1, 2).
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const stem = new models.SimpleStemIN(1, 32);
 * console.log(stem(randn([1, 1, 16, 16])).shape); // [1, 32, 8, 8]
 * ```
 */
export class SimpleStemIN extends Conv2dNormActivation {
  constructor(widthIn: number, widthOut: number) {
    super(widthIn, widthOut, { kernelSize: 3, stride: 2, activationLayer: relu });
    checkArity("models.SimpleStemIN", arguments.length, 2, "new models.SimpleStemIN(3, 32)");
  }
}

/** Options of `BottleneckTransform` and `ResBottleneckBlock` (torchvision's defaults). */
export interface RegNetBlockOptions {
  /** Channels per group of the 3x3 convolution (default 1). */
  groupWidth?: number;
  /** Bottleneck width over output width (default 1). */
  bottleneckMultiplier?: number;
  /** Squeeze-and-excitation channels over the block's input channels; null or 0 for none (default). */
  seRatio?: number | null;
}

const BLOCK_USAGE =
  "new models.ResBottleneckBlock(48, 104, 2, { groupWidth: 8, bottleneckMultiplier: 1, seRatio: 0.25 })";

/**
 * The bottleneck transformation of a RegNet block, torchvision's
 * `BottleneckTransform`: `a` (1x1 to the bottleneck width
 * round(widthOut * b), BN, ReLU), `b` (3x3 of `groupWidth` channels per
 * group, the block's stride, BN, ReLU), `se` (squeeze-and-excitation to
 * round(seRatio * widthIn) channels, with ReLU) where `seRatio` is given,
 * and `c` (1x1 to widthOut, BN).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const f = new models.BottleneckTransform(32, 48, 2, { groupWidth: 8, seRatio: 0.25 });
 * console.log([...f.namedChildren()].map(([k]) => k)); // ["a", "b", "se", "c"]
 * ```
 */
export class BottleneckTransform extends Sequential {
  constructor(widthIn: number, widthOut: number, stride: number, options: RegNetBlockOptions = {}) {
    const o = checkOptions<RegNetBlockOptions>(
      "models.BottleneckTransform",
      options,
      ["groupWidth", "bottleneckMultiplier", "seRatio"],
      BLOCK_USAGE,
    );
    const where = "models.BottleneckTransform";
    for (const [k, v] of [["widthIn", widthIn], ["widthOut", widthOut], ["stride", stride]]) {
      checkCount(where, k as string, v, BLOCK_USAGE);
    }
    const groupWidth = o.groupWidth ?? 1, b = o.bottleneckMultiplier ?? 1, se = o.seRatio ?? 0;
    checkCount(where, "groupWidth", groupWidth, BLOCK_USAGE);
    const wB = roundEven(widthOut * b), groups = Math.floor(wB / groupWidth);
    if (!(wB >= 1) || groups < 1 || wB % groups !== 0) {
      throw new Error(
        `${where}: the bottleneck width round(${widthOut} * ${b}) = ${wB} makes ` +
          `floor(${wB} / groupWidth ${groupWidth}) = ${groups} groups, which must be at least 1 ` +
          `and divide it; give a width that is a multiple of groupWidth (as ` +
          "models.regnetBlockParams makes them)",
      );
    }
    if (typeof se !== "number" || !(se >= 0 && se <= 1)) {
      throw new Error(`${where}: seRatio must be null or a number in [0, 1], got ${se}`);
    }
    const layers: Record<string, Module> = {
      a: new Conv2dNormActivation(widthIn, wB, { kernelSize: 1, activationLayer: relu }),
      b: new Conv2dNormActivation(wB, wB, { stride, groups, activationLayer: relu }),
    };
    // The squeeze is sized by the block's input, as torchvision's (not by wB).
    if (se) layers.se = new SqueezeExcitation(wB, roundEven(se * widthIn), { activation: relu });
    layers.c = new Conv2dNormActivation(wB, widthOut, { kernelSize: 1, activationLayer: null });
    super(layers);
    checkArity("models.BottleneckTransform", arguments.length, 4, BLOCK_USAGE);
  }
}

/**
 * RegNet's residual bottleneck block, torchvision's `ResBottleneckBlock`:
 * ReLU(proj(x) + f(x)), with `proj` a 1x1 convolution and BN of the
 * block's stride where the shape changes, else the input itself.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const block = new models.ResBottleneckBlock(32, 48, 2, { groupWidth: 8, seRatio: 0.25 });
 * console.log(block.proj !== null, block.eval()(randn([1, 32, 8, 8])).shape); // true [1, 48, 4, 4]
 * ```
 */
export class ResBottleneckBlock extends Module {
  /** 1x1 convolution and batch norm to the output's shape, or null where it keeps the input's. */
  proj: Conv2dNormActivation | null = null;
  /** The bottleneck transformation. */
  f: BottleneckTransform;
  /** ReLU after the sum. */
  activation: Module;

  constructor(widthIn: number, widthOut: number, stride: number, options: RegNetBlockOptions = {}) {
    super();
    checkArity("models.ResBottleneckBlock", arguments.length, 4, BLOCK_USAGE);
    if (widthIn !== widthOut || stride !== 1) {
      this.proj = new Conv2dNormActivation(widthIn, widthOut, {
        kernelSize: 1,
        stride,
        activationLayer: null,
      });
    }
    this.f = new BottleneckTransform(widthIn, widthOut, stride, options);
    this.activation = new ReLU(true);
  }

  /**
   * ReLU(shortcut + f(x)). In evaluation without gradients, `f.c`'s
   * convolution, its batch norm, the add and the ReLU run as one kernel
   * (`convNormAct`, as ResNet's blocks), with the same bits.
   */
  forward(x: Tensor): Tensor {
    const steps = [...this.f], c = steps.pop()!;
    const cLayers = isPlain(c, Conv2dNormActivation) ? [...(c as Sequential)] : [];
    if (
      isPlain(this.f, BottleneckTransform) && cLayers.length === 2 &&
      fusesConvNormAct([...cLayers, this.activation])
    ) {
      const shortcut = this.proj ? this.proj(x) : x;
      const hidden = chain(x, steps.map((m) => (t: Tensor) => m(t)));
      const out = convNormAct([...cLayers, this.activation], hidden, shortcut);
      if (out !== null) return out;
      return this.activation(shortcut.add(c(hidden)));
    }
    const branch = this.f(x);
    return this.activation(this.proj ? this.proj(x).add(branch) : x.add(branch));
  }
}

/**
 * A RegNet stage, torchvision's `AnyStage`: `depth` residual bottleneck
 * blocks named `block{stage}-{i}`, the first with the stage's stride and
 * input width.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const stage = new models.AnyStage(32, 48, 2, 2, { groupWidth: 8 }, 1);
 * console.log([...stage.namedChildren()].map(([k]) => k)); // ["block1-0", "block1-1"]
 * ```
 */
export class AnyStage extends Sequential {
  constructor(
    widthIn: number,
    widthOut: number,
    stride: number,
    depth: number,
    options: RegNetBlockOptions,
    stageIndex: number,
  ) {
    const usage = "new models.AnyStage(32, 48, 2, 1, { groupWidth: 8, seRatio: 0.25 }, 1)";
    checkCount("models.AnyStage", "depth", depth, usage);
    const blocks: Record<string, Module> = {};
    for (let i = 0; i < depth; i++) {
      blocks[`block${stageIndex}-${i}`] = new ResBottleneckBlock(
        i === 0 ? widthIn : widthOut,
        widthOut,
        i === 0 ? stride : 1,
        options,
      );
    }
    super(blocks);
    checkArity("models.AnyStage", arguments.length, 6, usage);
  }
}
