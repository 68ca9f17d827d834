/**
 * The padding layers of torch 1.13: `ZeroPad2d`, `ConstantPad1d/2d/3d`,
 * `ReflectionPad1d/2d/3d` and `ReplicationPad1d/2d/3d`, each a fixed call
 * of `F.pad`. `padding` is one number for every side or torch's list from
 * the last dimension backwards ([left, right] for 1d, [left, right, top,
 * bottom] for 2d, then [front, back] for 3d); negative amounts crop, as
 * torch's. The reflection and replication layers take torch's inputs (1d:
 * [C, W] or [N, C, W]; 2d: [C, H, W] or [N, C, H, W]; 3d: [C, D, H, W] or
 * [N, C, D, H, W]); the constant ones any input with enough dimensions.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { pad, type PadMode } from "../tensor/ops/pad.ts";
import { checkArity } from "../options.ts";
import { Module } from "./module.ts";
import { showValue } from "../tensor/ops/show_value.ts";

/** The amounts of a padding layer: `dims` (before, after) pairs, or one number for all. */
function amounts(where: string, padding: unknown, dims: number, usage: string): number[] {
  const n = 2 * dims;
  if (Number.isInteger(padding)) return new Array<number>(n).fill(padding as number);
  if (
    Array.isArray(padding) && padding.length === n && padding.every((p) => Number.isInteger(p))
  ) {
    return [...padding];
  }
  throw new Error(
    `${where}: padding must be an integer or a list of ${n} integers (${
      ["[left, right]", "[left, right, top, bottom]", "[left, right, top, bottom, front, back]"][
        dims - 1
      ]
    }), got ${showValue(padding)}; write ${usage}`,
  );
}

/** What every padding layer shares: its amounts, mode, value and input check. */
export abstract class PadNd extends Module {
  /** The amounts, as torch's tuple: (before, after) from the last dimension backwards. */
  readonly padding: number[];
  /** The fill of the constant layers (0 for ZeroPad2d); undefined for the others. */
  readonly value?: number;
  /** How it fills: "constant", "reflect" or "replicate" (F.pad's mode). */
  readonly mode: PadMode;
  readonly #where: string;
  readonly #dims: number;

  /** `given` is the constructor's `arguments.length`. */
  protected constructor(
    where: string,
    dims: 1 | 2 | 3,
    mode: PadMode,
    given: number,
    padding: unknown,
    value?: unknown,
  ) {
    super();
    const valueNeeded = mode === "constant" && !where.startsWith("nn.Zero");
    const usage = valueNeeded ? `new ${where}(1, 0.5)` : `new ${where}(1)`;
    checkArity(where, given, valueNeeded ? 2 : 1, usage);
    this.#where = where;
    this.mode = mode;
    this.#dims = dims;
    this.padding = amounts(where, padding, dims, usage);
    if (valueNeeded) {
      if (typeof value !== "number" || Number.isNaN(value)) {
        throw new Error(
          `${where}: value (the fill) must be a number, got ${showValue(value)}; write ${usage}`,
        );
      }
      this.value = value;
    } else if (mode === "constant") {
      this.value = 0;
    }
  }

  /** x padded (or cropped) along its last dimensions. */
  forward(x: Tensor): Tensor {
    const where = this.#where, d = this.#dims;
    const ndim = (x as { ndim?: unknown })?.ndim;
    if (typeof ndim !== "number") {
      throw new Error(`${where}: expected a Tensor, got ${x === null ? "null" : typeof x}`);
    }
    if (this.mode === "constant") {
      if (ndim < d) {
        throw new Error(
          `${where}: expected an input of at least ${d} dimension${d > 1 ? "s" : ""}, ` +
            `got [${x.shape}]`,
        );
      }
      return pad(x, this.padding, "constant", this.value);
    }
    if (ndim !== d + 1 && ndim !== d + 2) {
      const names = ["W", "H, W", "D, H, W"][d - 1];
      throw new Error(
        `${where}: expected a ${d + 1}-d [C, ${names}] or ${d + 2}-d [N, C, ${names}] input, ` +
          `got [${x.shape}]`,
      );
    }
    if (this.mode === "reflect") {
      for (let k = 0; k < d; k++) {
        const dim = ndim - 1 - k, size = x.shape[dim];
        const [before, after] = this.padding.slice(2 * k, 2 * k + 2);
        if (Math.max(before, after) >= size) {
          throw new Error(
            `${where}: padding (${before}, ${after}) must be less than the size ${size} of ` +
              `dimension ${dim} of the input [${x.shape}] (reflection does not repeat the edge; ` +
              "nn.ReplicationPad does)",
          );
        }
      }
    }
    return pad(x, this.padding, this.mode);
  }
}

/**
 * Pads the last two dimensions with zeros, as `torch.nn.ZeroPad2d`.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.ZeroPad2d([1, 0, 0, 0]).forward(ones([1, 1, 1, 2])).toArray()); // Float32Array [0, 1, 1]
 * ```
 */
export class ZeroPad2d extends PadNd {
  constructor(padding: number | number[]) {
    super("nn.ZeroPad2d", 2, "constant", arguments.length, padding);
  }
}

/**
 * Pads the last dimension with `value`, as `torch.nn.ConstantPad1d`.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.ConstantPad1d([1, 2], 5).forward(ones([1, 1])).toArray()); // Float32Array [5, 1, 5, 5]
 * ```
 */
export class ConstantPad1d extends PadNd {
  constructor(padding: number | number[], value: number) {
    super("nn.ConstantPad1d", 1, "constant", arguments.length, padding, value);
  }
}

/**
 * Pads the last two dimensions with `value`, as `torch.nn.ConstantPad2d`.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.ConstantPad2d(1, -1).forward(ones([1, 1, 1, 1])).shape); // [1, 1, 3, 3]
 * ```
 */
export class ConstantPad2d extends PadNd {
  constructor(padding: number | number[], value: number) {
    super("nn.ConstantPad2d", 2, "constant", arguments.length, padding, value);
  }
}

/**
 * Pads the last three dimensions with `value`, as `torch.nn.ConstantPad3d`.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.ConstantPad3d(1, 0).forward(ones([1, 1, 1, 1, 1])).shape); // [1, 1, 3, 3, 3]
 * ```
 */
export class ConstantPad3d extends PadNd {
  constructor(padding: number | number[], value: number) {
    super("nn.ConstantPad3d", 3, "constant", arguments.length, padding, value);
  }
}

/**
 * Mirrors the last dimension without repeating the edge, as
 * `torch.nn.ReflectionPad1d` (amounts below its size).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.ReflectionPad1d(2).forward(tensor([[1, 2, 3]])).toArray()); // Float32Array [3, 2, 1, 2, 3, 2, 1]
 * ```
 */
export class ReflectionPad1d extends PadNd {
  constructor(padding: number | number[]) {
    super("nn.ReflectionPad1d", 1, "reflect", arguments.length, padding);
  }
}

/**
 * Mirrors the last two dimensions without repeating the edge, as
 * `torch.nn.ReflectionPad2d` (amounts below the sizes): the border of
 * pix2pix, CycleGAN and style-transfer networks.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const y = new nn.ReflectionPad2d([1, 0, 0, 0]).forward(tensor([[[1, 2], [3, 4]]]));
 * console.log(y.toArray()); // Float32Array [2, 1, 2, 4, 3, 4]
 * ```
 */
export class ReflectionPad2d extends PadNd {
  constructor(padding: number | number[]) {
    super("nn.ReflectionPad2d", 2, "reflect", arguments.length, padding);
  }
}

/**
 * Mirrors the last three dimensions without repeating the edge, as
 * `torch.nn.ReflectionPad3d`.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.ReflectionPad3d(1).forward(ones([1, 2, 2, 2])).shape); // [1, 4, 4, 4]
 * ```
 */
export class ReflectionPad3d extends PadNd {
  constructor(padding: number | number[]) {
    super("nn.ReflectionPad3d", 3, "reflect", arguments.length, padding);
  }
}

/**
 * Repeats the edge of the last dimension, as `torch.nn.ReplicationPad1d`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.ReplicationPad1d([2, 1]).forward(tensor([[1, 2]])).toArray()); // Float32Array [1, 1, 1, 2, 2]
 * ```
 */
export class ReplicationPad1d extends PadNd {
  constructor(padding: number | number[]) {
    super("nn.ReplicationPad1d", 1, "replicate", arguments.length, padding);
  }
}

/**
 * Repeats the edges of the last two dimensions, as
 * `torch.nn.ReplicationPad2d`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const y = new nn.ReplicationPad2d([0, 1, 0, 0]).forward(tensor([[[1, 2], [3, 4]]]));
 * console.log(y.toArray()); // Float32Array [1, 2, 2, 3, 4, 4]
 * ```
 */
export class ReplicationPad2d extends PadNd {
  constructor(padding: number | number[]) {
    super("nn.ReplicationPad2d", 2, "replicate", arguments.length, padding);
  }
}

/**
 * Repeats the edges of the last three dimensions, as
 * `torch.nn.ReplicationPad3d`.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.ReplicationPad3d(2).forward(ones([1, 1, 1, 1])).shape); // [1, 5, 5, 5]
 * ```
 */
export class ReplicationPad3d extends PadNd {
  constructor(padding: number | number[]) {
    super("nn.ReplicationPad3d", 3, "replicate", arguments.length, padding);
  }
}
