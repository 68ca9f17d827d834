/**
 * `CrossEntropyLoss`, as `torch.nn.CrossEntropyLoss`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { CROSS_ENTROPY, crossEntropy, type Reduction } from "../tensor/ops/loss.ts";
import { checkReduction } from "../tensor/ops/loss_args.ts";
import { Module } from "./module.ts";
import { type CallContract, checkContract } from "../options.ts";

/** Options of `CrossEntropyLoss`. */
export interface CrossEntropyLossOptions {
  /** A weight per class ([C]); kept as the buffer "weight". */
  weight?: Tensor | null;
  /** Target value that contributes nothing (default -100). */
  ignoreIndex?: number;
  /** Mass spread uniformly over the classes (default 0). */
  labelSmoothing?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

const NEW_CROSS_ENTROPY_LOSS: CallContract<CrossEntropyLossOptions> = {
  where: "nn.CrossEntropyLoss",
  most: 1,
  known: CROSS_ENTROPY.known,
  usage: "new nn.CrossEntropyLoss({ labelSmoothing: 0.1 })",
};

/** @internal a loss's weight option: a Tensor or nothing (an array gets a clear error). */
export function weightOption(where: string, name: string, w: unknown): Tensor | null {
  if (w === undefined || w === null) return null;
  if (!(w instanceof Tensor)) {
    throw new Error(
      `${where}: ${name} must be a Tensor, got ${Array.isArray(w) ? "an array" : typeof w}; ` +
        `write ${name}: tensor([...])`,
    );
  }
  return w;
}

/**
 * Cross-entropy between logits [N, C] and int32 class indices [N].
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const l = loss.forward(tensor([[2, 0, 0]]), tensor(new Int32Array([0]), [1]));
 * console.log(l.item() > 0); // true
 * ```
 */
export class CrossEntropyLoss extends Module {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  readonly reduction: Reduction;

  constructor(options: CrossEntropyLossOptions = {}) {
    super();
    const o = checkContract(NEW_CROSS_ENTROPY_LOSS, arguments.length, options);
    this.registerBuffer("weight", weightOption("nn.CrossEntropyLoss", "weight", o.weight));
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.labelSmoothing = o.labelSmoothing ?? 0;
    // Checked here, as the other losses do: not first at the first forward.
    this.reduction = checkReduction("nn.CrossEntropyLoss", o.reduction ?? "mean");
    if (!Number.isInteger(this.ignoreIndex)) {
      throw new Error(
        `nn.CrossEntropyLoss: ignoreIndex must be an integer, got ${String(this.ignoreIndex)}`,
      );
    }
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) {
      throw new Error(
        `nn.CrossEntropyLoss: labelSmoothing must be in [0, 1], got ${String(this.labelSmoothing)}`,
      );
    }
  }

  /** Loss of logits against targets. */
  forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, {
      weight: this.buffer("weight"),
      ignoreIndex: this.ignoreIndex,
      labelSmoothing: this.labelSmoothing,
      reduction: this.reduction,
    });
  }
}
