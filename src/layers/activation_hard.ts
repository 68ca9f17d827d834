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
import { setting } from "./settable.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/** Checks the constructor's arguments and makes `inplace` an assignable setting of `m`. */
function inplaceOnly(m: Module, name: string, given: number, inplace: unknown): void {
  checkArity(`nn.${name}`, given, 1, `new nn.${name}() or new nn.${name}(true) (inplace)`);
  setting(m, "inplace", inplace, (v) => checkInplace(`nn.${name}`, v));
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
  /** `inplace`: torch's flag, accepted and without effect (see the module doc); assignable. */
  declare inplace: boolean;
  /** `inplace`: see the field. */
  constructor(inplace = false) {
    super();
    inplaceOnly(this, "SiLU", arguments.length, inplace);
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
  /** `inplace`: torch's flag, accepted and without effect (see the module doc); assignable. */
  declare inplace: boolean;
  /** `inplace`: see the field. */
  constructor(inplace = false) {
    super();
    inplaceOnly(this, "Hardswish", arguments.length, inplace);
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
  /** `inplace`: torch's flag, accepted and without effect (see the module doc); assignable. */
  declare inplace: boolean;
  /** `inplace`: see the field. */
  constructor(inplace = false) {
    super();
    inplaceOnly(this, "Hardsigmoid", arguments.length, inplace);
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
  /** 0, torch's `min_val` (ReLU6 is torch's Hardtanh(0, 6)); fixed: assigning it throws. */
  declare readonly minVal: number;
  /** 6, torch's `max_val`; fixed: assigning it throws. */
  declare readonly maxVal: number;
  /** `inplace`: torch's flag, accepted and without effect (see the module doc); assignable. */
  declare inplace: boolean;
  /** `inplace`: see the field. */
  constructor(inplace = false) {
    super();
    inplaceOnly(this, "ReLU6", arguments.length, inplace);
    for (const [k, v] of [["minVal", 0], ["maxVal", 6]] as const) fixedBound(this, k, v);
  }
  /** Elementwise min(max(x, 0), 6). */
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/**
 * torch's ReLU6 is a Hardtanh(0, 6) whose bounds a port may assign
 * (`act.max_val = 3` changed torch's layer): ours has its own kernel and
 * fused forms, so the bound reads as torch's and an assignment throws,
 * naming the layer that takes bounds. Not enumerable: String(act) stays
 * `ReLU6(inplace=false)`.
 */
function fixedBound(m: ReLU6, name: "minVal" | "maxVal", value: number): void {
  Object.defineProperty(m, name, {
    configurable: true,
    enumerable: false,
    get: () => value,
    set: (v: unknown) => {
      throw new Error(
        `nn.ReLU6: ${name} is fixed at ${value} (ReLU6 clamps to [0, 6]); for other bounds ` +
          `replace the layer with new nn.Hardtanh(${name === "minVal" ? v : 0}, ${
            name === "maxVal" ? v : 6
          })`,
      );
    },
  });
}

// torch's attribute names (`act.max_val = 3` added a property nothing read).
addNameHints(ReLU6.prototype, "nn.ReLU6", {
  min_val: "write act.minVal (0; fixed: for other bounds use nn.Hardtanh(minVal, maxVal))",
  max_val: "write act.maxVal (6; fixed: for other bounds use nn.Hardtanh(minVal, maxVal))",
});
