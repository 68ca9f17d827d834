/**
 * `Upsample`, `UpsamplingNearest2d` and `UpsamplingBilinear2d`, as
 * `torch.nn`'s: layers around `F.interpolate` with their options checked at
 * construction (so a typo fails before training) and when assigned
 * (`up.scaleFactor = 4`, as torch's `up.scale_factor = 4`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import {
  interpolate,
  type InterpolateMode,
  type InterpolateOptions,
  interpolateOptions,
} from "../tensor/ops/interpolate.ts";
import { Module } from "./module.ts";
import { checkOptions } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/**
 * Resizes [N, C, ...spatial] inputs with `F.interpolate` and the options
 * given here (`size` or `scaleFactor`, `mode`, `alignCorners`,
 * `recomputeScaleFactor`), as `torch.nn.Upsample`. A size alone may be
 * given instead of the options (nearest). `size`, `scaleFactor`, `mode`
 * and `alignCorners` are assignable, as torch's attributes: each
 * assignment is checked with the others (to change from a size to a scale
 * factor, set `up.size = undefined` first) and read at the next forward.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const up = new nn.Upsample({ scaleFactor: 2, mode: "bilinear" });
 * console.log(up.forward(ones([1, 3, 8, 8])).shape); // [1, 3, 16, 16]
 * ```
 */
export class Upsample extends Module {
  #options: Readonly<InterpolateOptions>;

  constructor(options: number | number[] | InterpolateOptions) {
    super();
    if (arguments.length !== 1) {
      throw new Error(
        `nn.Upsample: takes one options object, got ${arguments.length} arguments; write ` +
          'new nn.Upsample({ scaleFactor: 2, mode: "bilinear" })',
      );
    }
    this.#options = Object.freeze({ ...interpolateOptions("nn.Upsample", options) });
  }

  /** The options every forward passes to `F.interpolate` (a frozen copy: assign the fields). */
  get options(): Readonly<InterpolateOptions> {
    return this.#options;
  }

  /** The output size, or undefined when a scale factor is given; assignable. */
  get size(): number | number[] | undefined {
    return this.#options.size;
  }
  set size(v: number | number[] | undefined) {
    this.#change({ size: v });
  }
  /** The scale factor, or undefined when a size is given; assignable (`up.scaleFactor = 4`). */
  get scaleFactor(): number | number[] | undefined {
    return this.#options.scaleFactor;
  }
  set scaleFactor(v: number | number[] | undefined) {
    this.#change({ scaleFactor: v });
  }
  /** The interpolation mode; assignable (`up.mode = "bilinear"`). */
  get mode(): InterpolateMode {
    return this.#options.mode ?? "nearest";
  }
  set mode(v: InterpolateMode) {
    this.#change({ mode: v });
  }
  /** Whether corners are aligned (linear and bicubic modes); undefined: torch's None; assignable. */
  get alignCorners(): boolean | undefined {
    return this.#options.alignCorners;
  }
  set alignCorners(v: boolean | undefined) {
    this.#change({ alignCorners: v });
  }

  /**
   * The options with `change`, checked as the constructor checks them; with
   * neither size nor scale factor (a step while switching from one to the
   * other) the rest is checked, and forward refuses it until one is set.
   */
  #change(change: InterpolateOptions): void {
    const next = { ...this.#options, ...change };
    const given = next.size != null || next.scaleFactor != null;
    if (next.size != null && next.scaleFactor != null) {
      const [was, now] = change.size === undefined
        ? ["size", "scaleFactor"]
        : ["scaleFactor", "size"];
      throw new Error(
        `nn.Upsample: has a ${was} already, and torch's layer takes one of size and scaleFactor; ` +
          `to use a ${now}, write up.${was} = undefined first`,
      );
    }
    const checked = interpolateOptions("nn.Upsample", given ? next : { ...next, size: 1 });
    if (!given) delete checked.size;
    this.#options = Object.freeze({ ...checked });
  }

  /** x [N, C, ...spatial] resized. */
  forward(x: Tensor): Tensor {
    if (this.#options.size === undefined && this.#options.scaleFactor === undefined) {
      throw new Error(
        "nn.Upsample: has neither a size nor a scale factor (both were set to undefined); " +
          "assign one: up.scaleFactor = 2 or up.size = [H, W]",
      );
    }
    return interpolate(x, { ...this.#options });
  }
}

// torch's attribute names (`up.scale_factor = 4` added a property nothing
// read): reading or writing one throws, naming ours.
addNameHints(Upsample.prototype, "nn.Upsample", {
  scale_factor: "write up.scaleFactor (assignable)",
  align_corners: "write up.alignCorners (assignable)",
  recompute_scale_factor: "read up.options.recomputeScaleFactor (fixed at construction: make " +
    "a new nn.Upsample to change it)",
});

type SizeOrScale = number | number[] | { size?: number | number[]; scaleFactor?: number };

function sizeOrScale(where: string, given: number, v: SizeOrScale): InterpolateOptions {
  if (given !== 1) {
    throw new Error(
      `${where}: takes a size or { scaleFactor }, got ${given} arguments; write ` +
        `new ${where}({ scaleFactor: 2 })`,
    );
  }
  if (typeof v === "number" || Array.isArray(v)) return { size: v };
  // Only these two: torch's layer takes no mode or other flag (a TypeError there).
  const o = checkOptions<InterpolateOptions>(
    where,
    v,
    ["size", "scaleFactor"],
    `new ${where}({ scaleFactor: 2 })`,
  );
  return { size: o.size, scaleFactor: o.scaleFactor };
}

/**
 * Nearest-neighbour upsampling of [N, C, H, W], as
 * `torch.nn.UpsamplingNearest2d`: `Upsample` with mode "nearest".
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.UpsamplingNearest2d({ scaleFactor: 2 }).forward(ones([1, 1, 2, 3])).shape); // [1, 1, 4, 6]
 * ```
 */
export class UpsamplingNearest2d extends Upsample {
  constructor(sizeOrOptions: SizeOrScale) {
    super({ ...sizeOrScale("nn.UpsamplingNearest2d", arguments.length, sizeOrOptions) });
  }
}

/**
 * Bilinear upsampling of [N, C, H, W] with **alignCorners: true**, as
 * `torch.nn.UpsamplingBilinear2d` (whose corners are aligned, unlike
 * `F.interpolate`'s default).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const up = new nn.UpsamplingBilinear2d({ scaleFactor: 2 });
 * console.log(up.forward(tensor([[[[0, 3]]]])).toList()); // [[[[0, 1, 2, 3], [0, 1, 2, 3]]]]
 * ```
 */
export class UpsamplingBilinear2d extends Upsample {
  constructor(sizeOrOptions: SizeOrScale) {
    super({
      ...sizeOrScale("nn.UpsamplingBilinear2d", arguments.length, sizeOrOptions),
      mode: "bilinear",
      alignCorners: true,
    });
  }
}
