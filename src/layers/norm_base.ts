/**
 * What batch norm and instance norm share (PyTorch's `_NormBase`): a
 * per-channel `weight` and `bias` when affine, and the running statistics'
 * buffers under torch's names (`running_mean`, `running_var`,
 * `num_batches_tracked`) when they are tracked.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { Module, Parameter } from "./module.ts";
import { constant_ } from "./init.ts";
import { addNameHints } from "../tensor/torch_names.ts";

function filled(shape: number[], value: number, dtype: "float32" | "int32" = "float32"): Tensor {
  return constant_(Tensor.empty(shape, dtype, "cpu", false), value);
}

/** @internal a normalisation's learned `weight` (ones) and `bias` (zeros) of `shape`. */
export function affineParameters(shape: number[]): [Parameter, Parameter] {
  return [new Parameter(filled(shape, 1)), new Parameter(filled(shape, 0))];
}

/**
 * Parameters and buffers of a normalisation over channels: the base of the
 * batch and instance norms, as torch's `nn.modules.batchnorm._NormBase`
 * (`m instanceof nn.NormBase`).
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * console.log(new nn.InstanceNorm2d(3) instanceof nn.NormBase); // true
 * ```
 */
export abstract class NormBase extends Module {
  /** Scale [C], or null without affine. */
  weight: Parameter | null = null;
  /** Shift [C], or null without affine. */
  bias: Parameter | null = null;

  /** Makes the affine parameters (ones, zeros) and the running buffers (0, 1, 0) asked for. */
  protected initNorm(numFeatures: number, affine: boolean, track: boolean): void {
    if (affine) [this.weight, this.bias] = affineParameters([numFeatures]);
    if (track) {
      this.registerBuffer("running_mean", filled([numFeatures], 0));
      this.registerBuffer("running_var", filled([numFeatures], 1));
      this.registerBuffer("num_batches_tracked", filled([], 0, "int32"));
    }
  }

  /** Running mean [C] (a buffer), or null when not tracked. */
  get runningMean(): Tensor | null {
    return this.buffer("running_mean");
  }

  /** Running variance [C] (a buffer), or null when not tracked. */
  get runningVar(): Tensor | null {
    return this.buffer("running_var");
  }
}

// torch's attribute names (`bn.running_mean`, `bn.num_features`): each throws, naming ours.
addNameHints(NormBase.prototype, "A normalisation layer", {
  num_features: "write norm.numFeatures",
  running_mean: "write norm.runningMean",
  running_var: "write norm.runningVar",
  num_batches_tracked: 'read norm.stateDict().get("num_batches_tracked")',
  track_running_stats: "read norm.runningMean !== null",
});
