/**
 * The mobile-network activation modules: `SiLU`, `Hardswish`,
 * `Hardsigmoid`, `ReLU6`, as `torch.nn`'s. torch's `inplace=True` is
 * accepted, so torchvision's definitions port as written, and changes
 * nothing: the result is a new tensor (PyTorch's overwrites the input, which
 * only code that reads the input again could see).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { hardsigmoid, hardswish, relu6, silu } from "../tensor/ops/activation_hard.ts";
import { checkArity, checkInplace } from "../options.ts";
import { Module } from "./module.ts";

function inplaceOnly(name: string, given: number, inplace: unknown): void {
  checkArity(`nn.${name}`, given, 1, `new nn.${name}() or new nn.${name}(true) (inplace)`);
  checkInplace(`nn.${name}`, inplace);
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
  /** `inplace`: torch's flag, accepted and without effect (see the module doc). */
  constructor(readonly inplace = false) {
    super();
    inplaceOnly("SiLU", arguments.length, inplace);
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
  /** `inplace`: torch's flag, accepted and without effect (see the module doc). */
  constructor(readonly inplace = false) {
    super();
    inplaceOnly("Hardswish", arguments.length, inplace);
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
  /** `inplace`: torch's flag, accepted and without effect (see the module doc). */
  constructor(readonly inplace = false) {
    super();
    inplaceOnly("Hardsigmoid", arguments.length, inplace);
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
  /** `inplace`: torch's flag, accepted and without effect (see the module doc). */
  constructor(readonly inplace = false) {
    super();
    inplaceOnly("ReLU6", arguments.length, inplace);
  }
  /** Elementwise min(max(x, 0), 6). */
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}
