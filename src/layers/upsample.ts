/**
 * `Upsample`, `UpsamplingNearest2d` and `UpsamplingBilinear2d`, as
 * `torch.nn`'s: layers around `F.interpolate` with their options fixed at
 * construction (and checked there, so a typo fails before training).
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

/**
 * Resizes [N, C, ...spatial] inputs with `F.interpolate` and the options
 * given here (`size` or `scaleFactor`, `mode`, `alignCorners`,
 * `recomputeScaleFactor`), as `torch.nn.Upsample`. A size alone may be
 * given instead of the options (nearest).
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const up = new nn.Upsample({ scaleFactor: 2, mode: "bilinear" });
 * console.log(up.forward(ones([1, 3, 8, 8])).shape); // [1, 3, 16, 16]
 * ```
 */
export class Upsample extends Module {
  /** The options every forward passes to `F.interpolate`. */
  readonly options: Readonly<InterpolateOptions>;

  constructor(options: number | number[] | InterpolateOptions) {
    super();
    if (arguments.length !== 1) {
      throw new Error(
        `nn.Upsample: takes one options object, got ${arguments.length} arguments; write ` +
          'new nn.Upsample({ scaleFactor: 2, mode: "bilinear" })',
      );
    }
    this.options = Object.freeze({ ...interpolateOptions("nn.Upsample", options) });
  }

  /** The output size, or undefined when a scale factor is given. */
  get size(): number | number[] | undefined {
    return this.options.size;
  }
  /** The scale factor, or undefined when a size is given. */
  get scaleFactor(): number | number[] | undefined {
    return this.options.scaleFactor;
  }
  /** The interpolation mode. */
  get mode(): InterpolateMode {
    return this.options.mode ?? "nearest";
  }
  /** Whether corners are aligned (linear and bicubic modes); undefined: torch's None. */
  get alignCorners(): boolean | undefined {
    return this.options.alignCorners;
  }

  /** x [N, C, ...spatial] resized. */
  forward(x: Tensor): Tensor {
    return interpolate(x, { ...this.options });
  }
}

// torch's attribute names (`up.scale_factor = 4` changed torch's layer and
// nothing here): reading or writing one throws, naming ours.
for (
  const [name, ours] of [
    ["scale_factor", "scaleFactor"],
    ["align_corners", "alignCorners"],
    ["recompute_scale_factor", "options.recomputeScaleFactor"],
  ] as const
) {
  const say = (what: string) => {
    throw new Error(
      `nn.Upsample has no .${name}: ${what} ${ours} (the options are fixed at construction; ` +
        "make a new nn.Upsample to change them)",
    );
  };
  Object.defineProperty(Upsample.prototype, name, {
    get: () => say("read"),
    set: () => say("set it with a new layer; read"),
    enumerable: false,
    configurable: true,
  });
}

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
