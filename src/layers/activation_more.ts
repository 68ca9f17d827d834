/**
 * More activation modules: `PReLU` (a learned negative slope), `Mish`,
 * `Softmin` and `Softmax2d`, as `torch.nn`'s (F.prelu, F.mish and F.softmin
 * hold the maths). Mish's `inplace` is accepted and changes nothing (the
 * result is a new tensor).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { full } from "../tensor/ops/creation.ts";
import { mish, prelu, softmin } from "../tensor/ops/activation_more.ts";
import { softmax } from "../tensor/ops/softmax.ts";
import { checkArity, checkInplace, checkOptions } from "../options.ts";
import { Module, Parameter } from "./module.ts";
import { setting } from "./settable.ts";
import { SoftmaxBase, type SoftmaxOptions } from "./activation.ts";
import { showValue } from "../tensor/ops/show_value.ts";

/** Options of `PReLU`. */
export interface PReLUOptions {
  /** How many slopes: 1 (default, shared) or the number of channels. */
  numParameters?: number;
  /** Their initial value (default 0.25). */
  init?: number;
}

/**
 * Parametric ReLU: x where x > 0, else a * x, with the slope a learned
 * (one, or one per channel of dimension 1), as `torch.nn.PReLU`. Its
 * parameter is `weight` ([numParameters], initialised to `init`), the
 * state dict name torch uses; weight decay is usually left off it. torch's
 * `num_parameters` is `weight.numel()` here (`numParameters()` is Module's
 * count of all parameter elements).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const act = new nn.PReLU(2, 0.5);
 * console.log(act.forward(tensor([[-2, 3], [4, -6]])).toArray()); // Float32Array [-1, 3, 4, -3]
 * console.log([...act.stateDict().keys()]); // ["weight"]
 * ```
 */
export class PReLU extends Module {
  /** The slopes, [numParameters]. */
  weight: Parameter;

  constructor(numParameters: number | PReLUOptions = 1, init = 0.25) {
    super();
    const usage = "new nn.PReLU(64, 0.25) or new nn.PReLU({ numParameters: 64, init: 0.25 })";
    checkArity("nn.PReLU", arguments.length, 2, usage);
    let n: unknown = numParameters, a: unknown = init;
    if (typeof numParameters === "object" && numParameters !== null) {
      if (arguments.length > 1) {
        throw new Error(`nn.PReLU: give the options object alone; write ${usage}`);
      }
      const o = checkOptions<PReLUOptions>("nn.PReLU", numParameters, [
        "numParameters",
        "init",
      ], usage);
      n = o.numParameters ?? 1;
      a = o.init ?? 0.25;
    }
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new Error(
        `nn.PReLU: numParameters must be an integer >= 1 (1, or the number of channels), ` +
          `got ${showValue(n)}; write ${usage}`,
      );
    }
    if (typeof a !== "number" || !Number.isFinite(a)) {
      throw new Error(
        `nn.PReLU: init must be a finite number, got ${showValue(a)}; ` +
          `write ${usage}`,
      );
    }
    this.weight = new Parameter(full([n], a));
  }

  /** Elementwise PReLU with the learned slopes. */
  forward(x: Tensor): Tensor {
    return prelu(x, this.weight);
  }
}

/**
 * Mish: x tanh(softplus(x)).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Mish().forward(tensor([0, 1])).toArray()); // Float32Array [0, 0.8650983572006226]
 * ```
 */
export class Mish extends Module {
  /** `inplace`: torch's flag, accepted and without effect (the result is a new tensor); assignable. */
  declare inplace: boolean;

  constructor(inplace = false) {
    super();
    checkArity("nn.Mish", arguments.length, 1, "new nn.Mish() or new nn.Mish(true) (inplace)");
    setting(this, "inplace", inplace, (v) => checkInplace("nn.Mish", v));
  }

  /** Elementwise Mish. */
  forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/**
 * Softmin along `dim` (required: PyTorch's implicit choice is deprecated):
 * softmax(-x), the largest weight on the smallest entry.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const p = new nn.Softmin(1).forward(tensor([[1, 1]]));
 * console.log(p.toArray()); // Float32Array [0.5, 0.5]
 * ```
 */
export class Softmin extends SoftmaxBase {
  constructor(dim: number | SoftmaxOptions) {
    super("nn.Softmin", dim, arguments.length);
  }

  /** Softmin of x along `dim`. */
  forward(x: Tensor): Tensor {
    return softmin(x, this.dim);
  }
}

/**
 * Softmax over the channels at each position, as `torch.nn.Softmax2d`: x is
 * [N, C, H, W] or one [C, H, W] sample, and the softmax runs along
 * dimension -3.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const p = new nn.Softmax2d().forward(zeros([1, 4, 2, 2]));
 * console.log(p.toArray()[0]); // 0.25
 * ```
 */
export class Softmax2d extends Module {
  constructor() {
    super();
    checkArity("nn.Softmax2d", arguments.length, 0, "new nn.Softmax2d()");
  }

  /** Softmax of x along dimension -3 (the channels). */
  forward(x: Tensor): Tensor {
    if (x?.ndim !== 3 && x?.ndim !== 4) {
      throw new Error(
        `nn.Softmax2d: expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, got ${
          x?.shape ? `[${x.shape}]` : String(x)
        }; for other shapes write new nn.Softmax(dim)`,
      );
    }
    return softmax(x, -3);
  }
}
