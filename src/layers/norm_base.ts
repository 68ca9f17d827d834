/**
 * What batch norm and instance norm share (PyTorch's `_NormBase`): a
 * per-channel `weight` and `bias` when affine, and the running statistics'
 * buffers under torch's names (`running_mean`, `running_var`,
 * `num_batches_tracked`) when they are tracked.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { Module, Parameter, setBufferSlot } from "./module.ts";
import { showValue } from "../tensor/ops/show_value.ts";
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

  /**
   * Running mean [C] (a buffer), or null when not tracked. Assignable, as
   * torch's `bn.running_mean = None` (test-time adaptation: evaluation then
   * normalises each batch by its own statistics, and the state dict leaves
   * it out) or a float32 tensor [C].
   */
  get runningMean(): Tensor | null {
    return this.buffer("running_mean");
  }
  set runningMean(t: Tensor | null) {
    this.#setStatistic("running_mean", "runningMean", t);
  }

  /** Running variance [C] (a buffer), or null when not tracked; assignable as `runningMean`. */
  get runningVar(): Tensor | null {
    return this.buffer("running_var");
  }
  set runningVar(t: Tensor | null) {
    this.#setStatistic("running_var", "runningVar", t);
  }

  /** Puts `t` (null, or a float32 [C]) in buffer `name`, in its place in the state dict. */
  #setStatistic(name: string, field: string, t: unknown): void {
    const where = `nn.${this.constructor.name}`;
    const c = (this as unknown as { numFeatures: number }).numFeatures;
    if (
      t !== null && !(t instanceof Tensor && t.dtype === "float32" && t.shape.join() === `${c}`)
    ) {
      throw new Error(
        `${where}: ${field} must be null or a float32 tensor [${c}], got ${showValue(t)}`,
      );
    }
    if (setBufferSlot(this, name, t) === undefined) {
      setBufferSlot(this, name, undefined); // no such slot before: not made here
      throw new Error(
        `${where}: was built without running statistics (trackRunningStats: false); build ` +
          `it with { trackRunningStats: true } to keep them`,
      );
    }
    (t as Tensor | null)?.keep();
  }
}

// torch's attribute names (`bn.running_mean`, `bn.num_features`): each throws, naming ours.
addNameHints(NormBase.prototype, "A normalisation layer", {
  num_features: "write norm.numFeatures",
  running_mean: "write norm.runningMean (assignable: null drops it, as torch's None)",
  running_var: "write norm.runningVar (assignable: null drops it, as torch's None)",
  num_batches_tracked: 'read norm.stateDict().get("num_batches_tracked")',
  track_running_stats: "write bn.trackRunningStats (a batch norm's, assignable); an instance " +
    "norm's: read norm.runningMean !== null",
});
