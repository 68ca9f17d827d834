/**
 * Activation modules: `LeakyReLU`, `Sigmoid`, `Tanh`, `GELU`, `Softmax`,
 * `LogSoftmax`, as `torch.nn`'s (PyTorch's positional arguments, or an
 * options object with the camelCase names).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { sigmoid, tanh } from "../tensor/ops/elementwise.ts";
import { checkSlope, gelu, geluApproximate, leakyRelu } from "../tensor/ops/activation.ts";
import { logSoftmax, softmax } from "../tensor/ops/softmax.ts";
import { checkArity, checkInplace, checkOptions } from "../options.ts";
import { Module } from "./module.ts";
import { integer, setting } from "./settable.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/** Options of `LeakyReLU`. */
export interface LeakyReLUOptions {
  /** Slope for x < 0 (default 0.01). */
  negativeSlope?: number;
  /** torch's flag, accepted and without effect (default false). */
  inplace?: boolean;
}

/**
 * x where x > 0, else negativeSlope * x (default 0.01).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.LeakyReLU(0.1).forward(tensor([-10, 5])).toArray()); // Float32Array [-1, 5]
 * ```
 */
export class LeakyReLU extends Module {
  /** Slope for negative inputs; assignable (`act.negativeSlope = 0.2`), read at each forward. */
  declare negativeSlope: number;

  /** `inplace`: torch's flag, accepted and without effect (the result is a new tensor). */
  declare inplace: boolean;

  constructor(negativeSlope: number | LeakyReLUOptions = 0.01, inplace = false) {
    super();
    const usage = "new nn.LeakyReLU(0.2)";
    checkArity("nn.LeakyReLU", arguments.length, 2, usage);
    const known: (keyof LeakyReLUOptions)[] = ["negativeSlope", "inplace"];
    const o = typeof negativeSlope === "number"
      ? { negativeSlope }
      : checkOptions<LeakyReLUOptions>("nn.LeakyReLU", negativeSlope, known, usage);
    const flag = checkInplace("nn.LeakyReLU", o.inplace ?? inplace);
    const slope = checkSlope("nn.LeakyReLU", o.negativeSlope ?? 0.01, usage);
    // Declared order: the slope first (String(act) as torch's).
    setting(
      this,
      "negativeSlope",
      slope,
      (v) => checkSlope("nn.LeakyReLU", v, "act.negativeSlope = 0.2"),
    );
    setting(this, "inplace", flag, (v) => checkInplace("nn.LeakyReLU", v));
  }

  /** Elementwise leaky ReLU. */
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
}

/**
 * 1 / (1 + e^-x).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Sigmoid().forward(tensor([0])).toArray()); // Float32Array [0.5]
 * ```
 */
export class Sigmoid extends Module {
  constructor() {
    super();
    checkArity("nn.Sigmoid", arguments.length, 0, "new nn.Sigmoid()");
  }
  /** Elementwise logistic function. */
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/**
 * tanh x.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Tanh().forward(tensor([0])).toArray()); // Float32Array [0]
 * ```
 */
export class Tanh extends Module {
  constructor() {
    super();
    checkArity("nn.Tanh", arguments.length, 0, "new nn.Tanh()");
  }
  /** Elementwise hyperbolic tangent. */
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Options of `GELU`. */
export interface GELUOptions {
  /** "none" (default, exact with erf) or "tanh". */
  approximate?: "none" | "tanh";
}

/**
 * Gaussian error linear unit x * Phi(x): exact (default) or PyTorch's tanh
 * approximation (`{ approximate: "tanh" }`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const y = new nn.GELU({ approximate: "tanh" }).forward(tensor([1]));
 * console.log(y.item().toFixed(4)); // "0.8412"
 * ```
 */
export class GELU extends Module {
  /** "none" or "tanh"; assignable (`act.approximate = "tanh"`), read at each forward. */
  declare approximate: "none" | "tanh";

  constructor(options: GELUOptions | "none" | "tanh" = {}) {
    super();
    const usage = 'new nn.GELU({ approximate: "tanh" })';
    checkArity("nn.GELU", arguments.length, 1, usage);
    const check = (v: unknown) => {
      // A string only: an options object is the constructor's form.
      if (v !== "none" && v !== "tanh") geluApproximate("nn.GELU", { approximate: v }, usage);
      return v as "none" | "tanh";
    };
    setting(this, "approximate", geluApproximate("nn.GELU", options, usage), check);
  }

  /** Elementwise GELU. */
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}

/** Options of `Softmax` and `LogSoftmax`. */
export interface SoftmaxOptions {
  /** The dimension that sums to 1. */
  dim?: number;
}

/** What `Softmax` and `LogSoftmax` share: the dimension, given as a number or `{ dim }`. */
export abstract class SoftmaxBase extends Module {
  /** The normalised dimension; assignable (`m.dim = 0`), read at each forward. */
  declare dim: number;

  /** `where` is the layer's name ("nn.Softmax"), `given` its constructor's `arguments.length`. */
  protected constructor(where: string, dim: unknown, given: number) {
    super();
    const usage = `new ${where}(1)`;
    checkArity(where, given, 1, usage);
    const d = typeof dim === "object" && dim !== null
      ? checkOptions<SoftmaxOptions>(where, dim, ["dim"], usage).dim
      : dim;
    // PyTorch's implicit dim (None) is deprecated: it guesses from the rank.
    if (!Number.isInteger(d)) {
      throw new Error(`${where}: dim must be an integer, got ${JSON.stringify(d)}; write ${usage}`);
    }
    setting(this, "dim", d, integer(where, "dim"));
  }
}

/**
 * Softmax along `dim` (required: PyTorch's implicit choice is deprecated).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const p = new nn.Softmax(1).forward(tensor([[0, 0]]));
 * console.log(p.toArray()); // Float32Array [0.5, 0.5]
 * ```
 */
export class Softmax extends SoftmaxBase {
  constructor(dim: number | SoftmaxOptions) {
    super("nn.Softmax", dim, arguments.length);
  }

  /** Softmax of x along `dim`. */
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/**
 * Log-softmax along `dim` (pairs with `NLLLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const lp = new nn.LogSoftmax(1).forward(tensor([[0, 0]]));
 * console.log(lp.toArray()[0].toFixed(4)); // "-0.6931"
 * ```
 */
export class LogSoftmax extends SoftmaxBase {
  constructor(dim: number | SoftmaxOptions) {
    super("nn.LogSoftmax", dim, arguments.length);
  }

  /** Log-softmax of x along `dim`. */
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}

// torch's attribute name (`act.negative_slope = 0.2` added a property nothing read).
addNameHints(LeakyReLU.prototype, "nn.LeakyReLU", {
  negative_slope: "write act.negativeSlope (assignable)",
});
