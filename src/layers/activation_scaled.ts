/**
 * The activation modules `SELU`, `CELU`, `LogSigmoid` and `GLU`, as
 * `torch.nn`'s (ops/activation_scaled.ts holds the maths). torch's
 * `inplace` is accepted and changes nothing (the result is a new tensor).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { celu, glu, logsigmoid, selu } from "../tensor/ops/activation_scaled.ts";
import { checkArity, checkInplace } from "../options.ts";
import { Module } from "./module.ts";
import { activationArgs } from "./activation_shrink.ts";
import { integer, setting } from "./settable.ts";
import { showValue } from "../tensor/ops/show_value.ts";

/**
 * Scaled ELU, as `torch.nn.SELU`: scale * x above 0, scale * alpha *
 * (e^x - 1) at and below it, with torch's constants.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.SELU().forward(tensor([0, 2])).toArray()); // Float32Array [0, 2.1014020442962646]
 * ```
 */
export class SELU extends Module {
  /** `inplace`: torch's flag, accepted and without effect; assignable. */
  declare inplace: boolean;
  /** `inplace`: see the field. */
  constructor(inplace = false) {
    super();
    checkArity("nn.SELU", arguments.length, 1, "new nn.SELU()");
    setting(this, "inplace", inplace, (v) => checkInplace("nn.SELU", v));
  }

  /** Elementwise SELU. */
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/** Options of `CELU`: torch's keywords. */
export interface CELUOptions {
  /** The scale of the negative side (default 1, not 0). */
  alpha?: number;
  /** torch's flag, accepted and without effect. */
  inplace?: boolean;
}

/**
 * Continuously differentiable ELU, as `torch.nn.CELU(alpha)`: x above 0,
 * alpha * (e^(x / alpha) - 1) at and below it.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.CELU(2).forward(tensor([0, 3])).toArray()); // Float32Array [0, 3]
 * ```
 */
export class CELU extends Module {
  /** The scale of the negative side; assignable (`act.alpha = 2`), read at each forward. */
  declare alpha: number;
  /** torch's flag, accepted and without effect. */
  declare inplace: boolean;

  constructor(alpha: number | CELUOptions = 1, inplace = false) {
    super();
    const usage = "new nn.CELU(1) or new nn.CELU({ alpha: 1 })";
    const o = activationArgs("nn.CELU", arguments, { alpha: 1 }, true, usage);
    void alpha, inplace;
    const check = (v: unknown) => {
      if (v === 0 || typeof v !== "number" || !Number.isFinite(v)) {
        throw new Error(
          `nn.CELU: alpha must be a finite number other than 0, got ${
            showValue(v)
          }; write ${usage}`,
        );
      }
      return v;
    };
    setting(this, "alpha", o.alpha, check);
    setting(this, "inplace", o.inplace, (v) => checkInplace("nn.CELU", v));
  }

  /** Elementwise CELU. */
  forward(x: Tensor): Tensor {
    return celu(x, this.alpha);
  }
}

/**
 * log(sigmoid(x)), as `torch.nn.LogSigmoid`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.LogSigmoid().forward(tensor([0])).toArray()); // Float32Array [-0.6931471824645996]
 * ```
 */
export class LogSigmoid extends Module {
  constructor() {
    super();
    checkArity("nn.LogSigmoid", arguments.length, 0, "new nn.LogSigmoid()");
  }

  /** Elementwise log sigmoid. */
  forward(x: Tensor): Tensor {
    return logsigmoid(x);
  }
}

/**
 * Gated linear unit, as `torch.nn.GLU(dim)` (default -1): `dim` split in
 * halves a and b, a * sigmoid(b).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.GLU(1).forward(randn([2, 6, 3])).shape); // [2, 3, 3]
 * ```
 */
export class GLU extends Module {
  /** The dimension halved; assignable, read at each forward. */
  declare dim: number;

  constructor(dim: number | { dim?: number } = -1) {
    super();
    const usage = "new nn.GLU(-1) or new nn.GLU({ dim: -1 })";
    const d = activationArgs("nn.GLU", arguments, { dim: -1 }, false, usage).dim;
    void dim;
    if (!Number.isInteger(d)) {
      throw new Error(`nn.GLU: dim must be an integer, got ${d}; write ${usage}`);
    }
    setting(this, "dim", d, integer("nn.GLU", "dim"));
  }

  /** x with `dim` halved. */
  forward(x: Tensor): Tensor {
    return glu(x, this.dim);
  }
}
