/**
 * `Sequential`: children named "0", "1", ... applied in order.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { chain } from "./chain.ts";
import { convBeforeBatchNorm } from "./conv_bn.ts";
import { Module } from "./module.ts";
import { checkEntries, requireModule, syncNegativeIndices } from "./indexed.ts";

const FIX = "replace an entry with seq[i] = m or seq[-1] = m, or append(m)";

/**
 * A chain of modules; their names in the state dict are their positions.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * console.log([...net.stateDict().keys()]); // ["0.weight", "0.bias", "2.weight", "2.bias"]
 * console.log(net.forward(randn([5, 4])).shape); // [5, 2]
 * ```
 */
export class Sequential extends Module {
  [index: number]: Module;
  #length: number;

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`Sequential: child ${i} is not a Module`);
      this[i] = m;
    });
    this.#length = modules.length;
    syncNegativeIndices(this, "nn.Sequential"); // seq[-1] is the last, as in PyTorch
  }

  /** Number of children. */
  get length(): number {
    return this.#length;
  }

  /** Adds `module` at the end (torch's `append`); returns this. */
  append(module: Module): this {
    this[this.#length] = requireModule("nn.Sequential.append", module, this.#length);
    this.#length++;
    syncNegativeIndices(this, "nn.Sequential");
    return this;
  }

  /** The children "0".."length-1"; an entry set outside them, or deleted, is an Error. */
  override *namedChildren(): Generator<[string, Module]> {
    checkEntries(this, "nn.Sequential", FIX);
    yield* super.namedChildren();
  }

  /** Applies the children in order (inside `noGrad`, freeing each intermediate once used: see `chain`). */
  forward(x: Tensor): Tensor {
    // A deleted entry, or a module set where forward would skip it (seq[length], seq.head).
    checkEntries(this, "nn.Sequential", FIX);
    if (isGradEnabled()) { // the common case, without chain's closures
      for (let i = 0; i < this.length; i++) x = convBeforeBatchNorm(this[i], this[i + 1], x);
      return x;
    }
    const steps = Array.from({ length: this.length }, (_, i) => (t: Tensor) => this[i].forward(t));
    return chain(x, steps);
  }
}
