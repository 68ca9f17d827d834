/**
 * The smooth activation modules `Softplus` and `ELU`, as `torch.nn`'s
 * (F.softplus and F.elu hold the maths). Both take torch's positional
 * numbers or an options object; ELU's `inplace` is accepted and changes
 * nothing (results are new tensors).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { elu, softplus } from "../tensor/ops/activation_smooth.ts";
import { checkArity, checkInplace, checkOptions } from "../options.ts";
import { Module } from "./module.ts";
import { setting } from "./settable.ts";

/** Options of `Softplus`. */
export interface SoftplusOptions {
  /** Sharpness (default 1). */
  beta?: number;
  /** Above beta x > threshold the result is x (default 20). */
  threshold?: number;
}

/**
 * log(1 + e^(beta x)) / beta, and x past the threshold.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Softplus(2).forward(tensor([0])).toArray()); // Float32Array [0.3465735912322998]
 * ```
 */
export class Softplus extends Module {
  /** Sharpness; assignable (`act.beta = 2`), read at each forward. */
  declare beta: number;
  /** Where the result becomes x; assignable. */
  declare threshold: number;

  constructor(beta: number | SoftplusOptions = 1, threshold = 20) {
    super();
    const usage = "new nn.Softplus(1, 20) or new nn.Softplus({ beta: 1, threshold: 20 })";
    checkArity("nn.Softplus", arguments.length, 2, usage);
    let b = beta as number, t = threshold;
    if (typeof beta !== "number") {
      const o = checkOptions<SoftplusOptions>("nn.Softplus", beta, ["beta", "threshold"], usage);
      [b, t] = [o.beta ?? 1, o.threshold ?? 20];
    }
    checkValues(b, t, usage);
    setting(this, "beta", b, (v) => {
      checkValues(v as number, 20, usage);
      return v as number;
    });
    setting(this, "threshold", t, (v) => {
      checkValues(1, v as number, usage);
      return v as number;
    });
  }

  /** Elementwise softplus. */
  forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }
}

function checkValues(beta: number, threshold: number, usage: string): void {
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta === 0) {
    throw new Error(
      `nn.Softplus: beta must be a finite number other than 0, got ${String(beta)}; write ${usage}`,
    );
  }
  if (typeof threshold !== "number" || !Number.isFinite(threshold)) {
    throw new Error(
      `nn.Softplus: threshold must be a finite number, got ${String(threshold)}; write ${usage}`,
    );
  }
}

/** Options of `ELU`. */
export interface ELUOptions {
  /** The scale of the negative side (default 1). */
  alpha?: number;
  /** torch's flag, accepted and without effect (default false). */
  inplace?: boolean;
}

/**
 * x where x > 0, else alpha (e^x - 1).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.ELU().forward(tensor([0, 3])).toArray()); // Float32Array [0, 3]
 * ```
 */
export class ELU extends Module {
  /** The scale of the negative side; assignable (`act.alpha = 2`), read at each forward. */
  declare alpha: number;

  /** `inplace`: torch's flag, accepted and without effect (the result is a new tensor). */
  declare inplace: boolean;

  constructor(alpha: number | ELUOptions = 1, inplace = false) {
    super();
    const usage = "new nn.ELU(1)";
    checkArity("nn.ELU", arguments.length, 2, usage);
    const o = typeof alpha === "number"
      ? { alpha }
      : checkOptions<ELUOptions>("nn.ELU", alpha, ["alpha", "inplace"], usage);
    const flag = checkInplace("nn.ELU", o.inplace ?? inplace);
    const check = (a: unknown) => {
      if (typeof a !== "number" || !Number.isFinite(a)) {
        throw new Error(`nn.ELU: alpha must be a finite number, got ${String(a)}; write ${usage}`);
      }
      return a;
    };
    setting(this, "alpha", o.alpha ?? 1, check);
    setting(this, "inplace", flag, (v) => checkInplace("nn.ELU", v));
  }

  /** Elementwise ELU. */
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
}
