/**
 * The mobile-network activation modules: `SiLU`, `Hardswish`,
 * `Hardsigmoid`, `ReLU6`, as `torch.nn`'s. torch's `inplace=True` has no
 * counterpart here (results are new tensors), so any argument is refused
 * rather than ignored.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { hardsigmoid, hardswish, relu6, silu } from "../tensor/ops/activation_hard.ts";
import { checkArity } from "../options.ts";
import { Module } from "./module.ts";

function noArguments(name: string, given: number): void {
  checkArity(`nn.${name}`, given, 0, `new nn.${name}() (there is no inplace)`);
}

/**
 * SiLU (swish): x * sigmoid(x).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.SiLU().forward(tensor([0, 1])).toArray()); // Float32Array [0, 0.7310585975646973]
 * ```
 */
export class SiLU extends Module {
  constructor() {
    super();
    noArguments("SiLU", arguments.length);
  }
  /** Elementwise x * sigmoid(x). */
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/**
 * Hard swish: x * min(max(x + 3, 0), 6) / 6 (gradient as torch's at -3 and 3).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Hardswish().forward(tensor([-4, 0, 4])).toArray()); // Float32Array [-0, 0, 4]
 * ```
 */
export class Hardswish extends Module {
  constructor() {
    super();
    noArguments("Hardswish", arguments.length);
  }
  /** Elementwise hard swish. */
  forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/**
 * Hard sigmoid: min(max(x + 3, 0), 6) / 6.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.Hardsigmoid().forward(tensor([-4, 0, 4])).toArray()); // Float32Array [0, 0.5, 1]
 * ```
 */
export class Hardsigmoid extends Module {
  constructor() {
    super();
    noArguments("Hardsigmoid", arguments.length);
  }
  /** Elementwise hard sigmoid. */
  forward(x: Tensor): Tensor {
    return hardsigmoid(x);
  }
}

/**
 * ReLU6: min(max(x, 0), 6), with gradient 0 at 0 and at 6 as torch's.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.ReLU6().forward(tensor([-1, 3, 8])).toArray()); // Float32Array [0, 3, 6]
 * ```
 */
export class ReLU6 extends Module {
  constructor() {
    super();
    noArguments("ReLU6", arguments.length);
  }
  /** Elementwise min(max(x, 0), 6). */
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}
