/**
 * The piecewise activation modules `Hardtanh`, `Hardshrink`, `Softshrink`,
 * `Threshold`, `Softsign` and `Tanhshrink`, as `torch.nn`'s (the F
 * functions of ops/activation_shrink.ts hold the maths). Each takes torch's
 * positional numbers or one options object with torch's keywords in
 * camelCase (`{ minVal, maxVal }`); torch's `inplace` is accepted and
 * changes nothing (the result is a new tensor).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import {
  hardshrink,
  hardtanh,
  softshrink,
  softsign,
  tanhshrink,
  threshold,
} from "../tensor/ops/activation_shrink.ts";
import { checkArity, checkInplace, checkOptions } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { Module } from "./module.ts";
import { numeric, setting } from "./settable.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/**
 * @internal an activation module's constructor arguments: the numbers
 * `names` (torch's order; an undefined default is required) and, where
 * `withInplace`, torch's inplace flag, given positionally or as one
 * options object.
 */
export function activationArgs<K extends string>(
  where: string,
  args: ArrayLike<unknown>,
  defaults: Readonly<Record<K, number | undefined>>,
  withInplace: boolean,
  usage: string,
): Record<K, number> & { inplace: boolean } {
  const names = Object.keys(defaults) as K[];
  const given: Record<string, unknown> = {};
  const first = args[0];
  if (typeof first === "object" && first !== null) {
    if (args.length > 1) throw new Error(`${where}: give the options object alone; write ${usage}`);
    const known = [...names, ...(withInplace ? ["inplace"] : [])];
    Object.assign(given, checkOptions(where, first, known, usage));
  } else {
    checkArity(where, args.length, names.length + (withInplace ? 1 : 0), usage);
    names.forEach((n, i) => given[n] = args[i]);
    if (withInplace) given.inplace = args[names.length];
  }
  const out = { inplace: checkInplace(where, given.inplace ?? false) } as
    & Record<string, number>
    & { inplace: boolean };
  for (const n of names) {
    const v = given[n] ?? defaults[n];
    if (v === undefined) throw new Error(`${where}: ${n} is required; write ${usage}`);
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new Error(`${where}: ${n} must be a number, got ${showValue(v)}; write ${usage}`);
    }
    out[n] = v;
  }
  return out as Record<K, number> & { inplace: boolean };
}

/** Options of `Hardtanh`: torch's keywords. */
export interface HardtanhOptions {
  /** The lower bound (default -1). */
  minVal?: number;
  /** The upper bound (default 1). */
  maxVal?: number;
  /** torch's flag, accepted and without effect. */
  inplace?: boolean;
}

/**
 * x clamped to [minVal, maxVal] (default [-1, 1]), as `torch.nn.Hardtanh`;
 * gradient 0 at the bounds, as torch's.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Hardtanh(-2, 2).forward(tensor([-3, 1, 5])).toArray()); // Float32Array [-2, 1, 2]
 * console.log(new nn.Hardtanh({ minVal: 0 }).forward(tensor([-3, 0.5])).toArray()); // Float32Array [0, 0.5]
 * ```
 */
export class Hardtanh extends Module {
  /** The lower bound; assignable (`act.minVal = 0`), read at each forward. */
  declare minVal: number;
  /** The upper bound; assignable, read at each forward. */
  declare maxVal: number;
  /** torch's flag, accepted and without effect. */
  declare inplace: boolean;

  constructor(minVal: number | HardtanhOptions = -1, maxVal = 1, inplace = false) {
    super();
    const usage = "new nn.Hardtanh(-1, 1) or new nn.Hardtanh({ minVal: -1, maxVal: 1 })";
    const o = activationArgs("nn.Hardtanh", arguments, { minVal: -1, maxVal: 1 }, true, usage);
    void minVal, maxVal, inplace;
    if (!(o.maxVal > o.minVal)) {
      // torch asserts max_val > min_val.
      throw new Error(
        `nn.Hardtanh: maxVal ${o.maxVal} must be greater than minVal ${o.minVal}; write ${usage}`,
      );
    }
    // Each bound alone is checked here; their order at forward (torch asserts it only when built).
    setting(this, "minVal", o.minVal, numeric("nn.Hardtanh", "minVal"));
    setting(this, "maxVal", o.maxVal, numeric("nn.Hardtanh", "maxVal"));
    setting(this, "inplace", o.inplace, (v) => checkInplace("nn.Hardtanh", v));
  }

  /** Elementwise hard tanh. */
  forward(x: Tensor): Tensor {
    if (!(this.maxVal > this.minVal)) {
      throw new Error(
        `nn.Hardtanh: maxVal ${this.maxVal} must be greater than minVal ${this.minVal}; ` +
          "assign both bounds, e.g. act.minVal = -2; act.maxVal = 2",
      );
    }
    return hardtanh(x, this.minVal, this.maxVal);
  }
}

/**
 * 0 where |x| <= lambd (default 0.5), else x, as `torch.nn.Hardshrink`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Hardshrink(1).forward(tensor([-2, 1, 0.5])).toArray()); // Float32Array [-2, 0, 0]
 * ```
 */
export class Hardshrink extends Module {
  /** The half-width of the zeroed band; assignable, read at each forward. */
  declare lambd: number;

  constructor(lambd: number | { lambd?: number } = 0.5) {
    super();
    const usage = "new nn.Hardshrink(0.5) or new nn.Hardshrink({ lambd: 0.5 })";
    const o = activationArgs("nn.Hardshrink", arguments, { lambd: 0.5 }, false, usage);
    void lambd;
    setting(this, "lambd", o.lambd, numeric("nn.Hardshrink", "lambd"));
  }

  /** Elementwise hard shrink. */
  forward(x: Tensor): Tensor {
    return hardshrink(x, this.lambd);
  }
}

/**
 * x - lambd above lambd, x + lambd below -lambd, else 0 (lambd default 0.5),
 * as `torch.nn.Softshrink`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Softshrink(1).forward(tensor([-3, 0.5, 2])).toArray()); // Float32Array [-2, 0, 1]
 * ```
 */
export class Softshrink extends Module {
  /** The half-width of the zeroed band (>= 0); assignable, read at each forward. */
  declare lambd: number;

  constructor(lambd: number | { lambd?: number } = 0.5) {
    super();
    const usage = "new nn.Softshrink(0.5) or new nn.Softshrink({ lambd: 0.5 })";
    const o = activationArgs("nn.Softshrink", arguments, { lambd: 0.5 }, false, usage);
    void lambd;
    const check = (v: unknown) => {
      if (typeof v !== "number" || !(v >= 0)) {
        throw new Error(`nn.Softshrink: lambd must be >= 0, got ${showValue(v)}; write ${usage}`);
      }
      return v;
    };
    setting(this, "lambd", o.lambd, check);
  }

  /** Elementwise soft shrink. */
  forward(x: Tensor): Tensor {
    return softshrink(x, this.lambd);
  }
}

/** Options of `Threshold`: torch's keywords. */
export interface ThresholdOptions {
  /** x at or below it is replaced. */
  threshold: number;
  /** What replaces it. */
  value: number;
  /** torch's flag, accepted and without effect. */
  inplace?: boolean;
}

/**
 * x where x > threshold, else `value`, as `torch.nn.Threshold(threshold,
 * value)`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Threshold(0.1, 20).forward(tensor([0, 0.1, 2])).toArray()); // Float32Array [20, 20, 2]
 * ```
 */
export class Threshold extends Module {
  /** x at or below it is replaced; assignable, read at each forward. */
  declare threshold: number;
  /** What replaces it; assignable. */
  declare value: number;
  /** torch's flag, accepted and without effect. */
  declare inplace: boolean;

  constructor(threshold: number | ThresholdOptions, value?: number, inplace = false) {
    super();
    const usage = "new nn.Threshold(0.1, 20) or new nn.Threshold({ threshold: 0.1, value: 20 })";
    const o = activationArgs(
      "nn.Threshold",
      arguments,
      { threshold: undefined, value: undefined },
      true,
      usage,
    );
    void threshold, value, inplace;
    setting(this, "threshold", o.threshold, numeric("nn.Threshold", "threshold"));
    setting(this, "value", o.value, numeric("nn.Threshold", "value"));
    setting(this, "inplace", o.inplace, (v) => checkInplace("nn.Threshold", v));
  }

  /** Elementwise threshold. */
  forward(x: Tensor): Tensor {
    return threshold(x, this.threshold, this.value);
  }
}

/**
 * x / (1 + |x|), as `torch.nn.Softsign`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Softsign().forward(tensor([-1, 3])).toArray()); // Float32Array [-0.5, 0.75]
 * ```
 */
export class Softsign extends Module {
  constructor() {
    super();
    checkArity("nn.Softsign", arguments.length, 0, "new nn.Softsign()");
  }

  /** Elementwise softsign. */
  forward(x: Tensor): Tensor {
    return softsign(x);
  }
}

/**
 * x - tanh(x), as `torch.nn.Tanhshrink`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Tanhshrink().forward(tensor([0])).toArray()); // Float32Array [0]
 * ```
 */
export class Tanhshrink extends Module {
  constructor() {
    super();
    checkArity("nn.Tanhshrink", arguments.length, 0, "new nn.Tanhshrink()");
  }

  /** Elementwise x - tanh(x). */
  forward(x: Tensor): Tensor {
    return tanhshrink(x);
  }
}

// torch's attribute names (`act.max_val = 2` added a property nothing read).
addNameHints(Hardtanh.prototype, "nn.Hardtanh", {
  min_val: "write act.minVal (assignable)",
  max_val: "write act.maxVal (assignable)",
});
