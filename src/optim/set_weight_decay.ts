/**
 * `setWeightDecay`: parameter groups with their own weight decay for the
 * normalisation layers' parameters and for biases, as `set_weight_decay` in
 * torchvision 0.14's classification reference recipe
 * (`references/classification/utils.py`; not part of the torchvision
 * package).
 *
 * @module
 */
import { Module, type Parameter } from "../layers/module.ts";
import { NormBase } from "../layers/norm_base.ts";
import { GroupNorm, LayerNorm } from "../layers/norm_layers.ts";
import { LocalResponseNorm } from "../layers/lrn.ts";
import { type CallContract, checkContract } from "../options.ts";
import { describe } from "./swa_copy.ts";

/** Options of `setWeightDecay` (torchvision's `norm_weight_decay` and the "bias" custom key). */
export interface SetWeightDecayOptions {
  /**
   * The weight decay of the normalisation layers' parameters (batch,
   * instance, layer and group norms; torchvision's `norm_classes`); null or
   * absent: they take `weightDecay` like the others.
   */
  normWeightDecay?: number | null;
  /**
   * The weight decay of every parameter named `bias` (torchvision's
   * `custom_keys_weight_decay=[("bias", x)]`, which its train.py's
   * `--bias-weight-decay` gives), the norm layers' biases included; null or
   * absent: biases are grouped as the other parameters.
   */
  biasWeightDecay?: number | null;
}

/** One group `setWeightDecay` returns, as an optimizer takes it. */
export interface WeightDecayGroup {
  /** The group's parameters, in the model's order. */
  params: Parameter[];
  /** Its weight decay. */
  options: { weightDecay: number };
}

const SET_WEIGHT_DECAY: CallContract<SetWeightDecayOptions> = {
  where: "optim.setWeightDecay",
  most: 3,
  known: ["normWeightDecay", "biasWeightDecay"],
  usage: "optim.setWeightDecay(model, 1e-4, { normWeightDecay: 0, biasWeightDecay: 0 })",
};

/** @internal Whether `m` is one of torchvision's `norm_classes` (`_BatchNorm`, `_InstanceNorm`, ...). */
export function isNorm(m: Module): boolean {
  return m instanceof NormBase || m instanceof LayerNorm || m instanceof GroupNorm ||
    m instanceof LocalResponseNorm;
}

function decayOf(name: string, v: unknown, optional: boolean): number | null {
  if (optional && (v === undefined || v === null)) return null;
  if (typeof v !== "number" || !(Number.isFinite(v) && v >= 0)) {
    throw new Error(
      `${SET_WEIGHT_DECAY.where}: ${name} must be a number >= 0, got ${describe(v)}; ` +
        `write ${SET_WEIGHT_DECAY.usage}`,
    );
  }
  return v;
}

/**
 * The parameters of `model` (those that require a gradient, each once) in
 * groups of their weight decay, as torchvision's `set_weight_decay`: the
 * others with `weightDecay`, then with `normWeightDecay` those of the
 * normalisation layers (`nn.NormBase`: batch and instance norms,
 * `nn.LayerNorm`, `nn.GroupNorm`, `nn.LocalResponseNorm`), then with
 * `biasWeightDecay` every parameter named `bias` (before the norm test, as
 * torchvision's custom keys). Empty groups are left out; with neither
 * option it is one group of all parameters, in `model.parameters()`'s
 * order. Pass the groups to any optimizer.
 *
 * @example
 * ```ts
 * import { models, optim } from "@lits/vision";
 * const model = models.create("resnet18", { numClasses: 3 });
 * const groups = optim.setWeightDecay(model, 1e-4, { normWeightDecay: 0, biasWeightDecay: 0 });
 * console.log(groups.map((g) => [g.params.length, g.options.weightDecay])); // [[21, 0.0001], [20, 0], [21, 0]]
 * const opt = new optim.SGD(groups, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
 * console.log(opt.paramGroups.length); // 3
 * ```
 */
export function setWeightDecay(
  model: Module,
  weightDecay: number,
  options: SetWeightDecayOptions = {},
): WeightDecayGroup[] {
  const o = checkContract(SET_WEIGHT_DECAY, arguments.length, options);
  const where = SET_WEIGHT_DECAY.where;
  if (!(model instanceof Module)) {
    throw new Error(
      `${where}: expected the nn.Module whose parameters to group, got ${describe(model)}; ` +
        `write ${SET_WEIGHT_DECAY.usage}`,
    );
  }
  const other = decayOf("weightDecay", weightDecay, false)!;
  const norm = decayOf("normWeightDecay", o.normWeightDecay, true);
  const bias = decayOf("biasWeightDecay", o.biasWeightDecay, true);
  const groups = {
    other: { params: [] as Parameter[], decay: other },
    norm: { params: [] as Parameter[], decay: norm ?? other },
    bias: { params: [] as Parameter[], decay: bias ?? other },
  };
  const seen = new Set<Parameter>();
  for (const [, m] of model.namedModules()) {
    for (const [name, p] of m.namedParameters("", false)) {
      if (!p.requiresGrad || seen.has(p)) continue;
      seen.add(p);
      const key = bias !== null && name === "bias"
        ? "bias"
        : norm !== null && isNorm(m)
        ? "norm"
        : "other";
      groups[key].params.push(p);
    }
  }
  return Object.values(groups).filter((g) => g.params.length > 0)
    .map((g) => ({ params: g.params, options: { weightDecay: g.decay } }));
}
