/**
 * Small layers without parameters: `ReLU`, `Dropout`, `Flatten`, `Identity`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { relu } from "../tensor/ops/elementwise.ts";
import { dropout } from "../tensor/ops/random.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "./module.ts";
import { checkArity, checkInplace, checkOptions } from "../options.ts";
import { integer, probability, setting } from "./settable.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/**
 * max(x, 0).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.ReLU().forward(tensor([-1, 2])).toArray()); // Float32Array [0, 2]
 * ```
 */
export class ReLU extends Module {
  /**
   * `inplace`: torch's `nn.ReLU(inplace=True)`, accepted so that model code
   * ports as written (and assignable, `m.inplace = false`), and without
   * effect: the result is a new tensor (PyTorch's overwrites the input,
   * which only code that reads the input again could see).
   */
  declare inplace: boolean;
  /** `inplace`: see the field. */
  constructor(inplace = false) {
    super();
    checkArity("nn.ReLU", arguments.length, 1, "new nn.ReLU() or new nn.ReLU(true) (inplace)");
    setting(this, "inplace", inplace, (v) => checkInplace("nn.ReLU", v));
  }
  /** Elementwise max(x, 0). */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * torch's keywords of the dropout layers, `nn.Dropout(p=0.4)` written
 * `new nn.Dropout({ p: 0.4 })` (the same as `new nn.Dropout(0.4)`).
 */
export interface DropoutOptions {
  /** The probability of an element (a channel, for Dropout1d/2d/3d) to be zeroed (default 0.5). */
  p?: number;
  /** torch's flag, accepted and without effect (default false). */
  inplace?: boolean;
}

/**
 * @internal `[p, inplace]` of a dropout layer's arguments: in place, or an
 * options object `{ p, inplace }` first (torch's keywords); checked by the caller.
 */
export function dropoutArgs(
  where: string,
  p: unknown,
  inplace: unknown,
  given: number,
): [number, boolean] {
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    return [p as number, inplace as boolean];
  }
  const usage = `new ${where}({ p: 0.5, inplace: false }) or new ${where}(0.5)`;
  if (given > 1) {
    throw new Error(`${where}: with an options object, give inplace in it too; write ${usage}`);
  }
  const o = checkOptions<DropoutOptions>(where, p, ["p", "inplace"], usage);
  return [o.p ?? 0.5, o.inplace ?? false];
}

/**
 * @internal Makes `p` and `inplace` settings of dropout layer `m` (`drop.p = 0`
 * takes effect at the next forward, as torch's), once the constructor has
 * checked them.
 */
export function dropoutSettings(m: Module, where: string, p: number, inplace: boolean): void {
  setting(m, "p", p, probability(where));
  setting(m, "inplace", inplace, (v) => checkInplace(where, v));
}

/**
 * Inverted dropout in training (zero with probability p, scale the rest by
 * 1/(1-p)); the identity in evaluation.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const drop = new nn.Dropout(0.5).eval(); // or new nn.Dropout({ p: 0.5 }), torch's p=0.5
 * console.log(drop.forward(ones([3])).toArray()); // Float32Array [1, 1, 1]
 * drop.train().p = 0; // torch's drop.p = 0.0: read at the next forward
 * console.log(drop.forward(ones([3])).toArray()); // Float32Array [1, 1, 1]
 * ```
 */
export class Dropout extends Module {
  /** The probability of an element to be zeroed; assignable (`drop.p = 0`), read at each forward. */
  declare p: number;
  /** `inplace`: torch's flag, accepted and without effect (the result is a new tensor). */
  declare inplace: boolean;
  /** `p` (default 0.5) and `inplace` in place, or torch's keywords as `{ p, inplace }`. */
  constructor(p: number | DropoutOptions = 0.5, inplace = false) {
    super();
    checkArity("nn.Dropout", arguments.length, 2, "new nn.Dropout(0.5)");
    [p, inplace] = dropoutArgs("nn.Dropout", p, inplace, arguments.length);
    checkInplace("nn.Dropout", inplace);
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(
        `nn.Dropout: probability must be in [0, 1], got ${JSON.stringify(p)}; ` +
          "write new nn.Dropout(0.5)",
      );
    }
    dropoutSettings(this, "nn.Dropout", p, inplace);
  }
  /** Drops elements in training mode. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}

/**
 * Flattens dimensions `startDim..endDim` (default 1..-1, keeping the batch).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * console.log(new nn.Flatten().forward(zeros([2, 3, 4])).shape); // [2, 12]
 * ```
 */
export class Flatten extends Module {
  /** The first dimension flattened; assignable, as torch's `start_dim`. */
  declare startDim: number;
  /** The last dimension flattened; assignable, as torch's `end_dim`. */
  declare endDim: number;
  /** `startDim` (default 1) and `endDim` (default -1). */
  constructor(startDim: number = 1, endDim: number = -1) {
    super();
    checkArity("nn.Flatten", arguments.length, 2, "new nn.Flatten(1, -1)");
    for (const [name, d] of [["startDim", startDim], ["endDim", endDim]] as const) {
      if (!Number.isInteger(d)) {
        throw new Error(
          `nn.Flatten: ${name} must be an integer, got ${
            JSON.stringify(d)
          }; write new nn.Flatten(1, -1)`,
        );
      }
      setting(this, name, d, integer("nn.Flatten", name));
    }
  }
  /** Flattens the configured dimensions. */
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/**
 * Returns its input.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * console.log(new nn.Identity().forward(zeros([2])).shape); // [2]
 * ```
 */
export class Identity extends Module {
  /** The input itself. */
  forward(x: Tensor): Tensor {
    return x;
  }
}

// torch's attribute names (`m.start_dim = 0` added a property nothing read): each throws, naming ours.
addNameHints(Flatten.prototype, "nn.Flatten", {
  start_dim: "write flatten.startDim (assignable)",
  end_dim: "write flatten.endDim (assignable)",
});
