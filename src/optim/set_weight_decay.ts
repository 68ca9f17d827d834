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

/**
 * Options of `setWeightDecay`: torchvision's `norm_weight_decay`,
 * `norm_classes` and `custom_keys_weight_decay`, and the "bias" custom key
 * its train.py's `--bias-weight-decay` gives.
 */
export interface SetWeightDecayOptions {
  /**
   * The weight decay of the normalisation layers' parameters (those of a
   * module of `normClasses`); null or absent: they take `weightDecay` like
   * the others.
   */
  normWeightDecay?: number | null;
  /**
   * The classes whose modules' parameters take `normWeightDecay`
   * (torchvision's `norm_classes`, tested with instanceof); null, absent or
   * empty: the batch and instance norms (`nn.NormBase`), `nn.LayerNorm`,
   * `nn.GroupNorm` and `nn.LocalResponseNorm`, as torchvision's default.
   * Only with `normWeightDecay`.
   */
  // deno-lint-ignore no-explicit-any
  normClasses?: readonly (abstract new (...args: any[]) => Module)[] | null;
  /**
   * The weight decay of every parameter named `bias` (torchvision's
   * `custom_keys_weight_decay=[("bias", x)]`, which its train.py's
   * `--bias-weight-decay` gives, first), the norm layers' biases included;
   * null or absent: biases are grouped as the other parameters.
   */
  biasWeightDecay?: number | null;
  /**
   * `[key, weightDecay]` pairs, each a group of its own after the others
   * (torchvision's `custom_keys_weight_decay`): a key without a dot is a
   * parameter's own name ("bias", "weight", "class_token"), a key with dots
   * its full name ("encoder.pos_embedding", "fc.weight"); the first key
   * that matches wins, before the norm test.
   */
  customKeysWeightDecay?: readonly (readonly [string, number])[] | null;
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
  known: ["normWeightDecay", "normClasses", "biasWeightDecay", "customKeysWeightDecay"],
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

/** `describe`, with a function (a class) named, not printed. */
function show(v: unknown): string {
  if (typeof v !== "function" || v instanceof Module) return describe(v); // a module is callable
  return `the function ${v.name || "(anonymous)"}`;
}

/** The norm test: torchvision's default classes, or instanceof one of `classes`. */
function normTest(classes: unknown, norm: number | null): (m: Module) => boolean {
  const where = SET_WEIGHT_DECAY.where;
  if (classes === undefined || classes === null) return isNorm;
  if (!Array.isArray(classes)) {
    throw new Error(
      `${where}: normClasses must be a list of Module classes, got ${show(classes)}; ` +
        "write { normWeightDecay: 0, normClasses: [nn.BatchNorm2d, nn.LayerNorm] }",
    );
  }
  classes.forEach((c, i) => {
    if (
      typeof c !== "function" || c instanceof Module ||
      !(c === Module || c.prototype instanceof Module)
    ) {
      throw new Error(
        `${where}: normClasses[${i}] must be a Module class (nn.BatchNorm2d, not an instance ` +
          `or a name), got ${show(c)}`,
      );
    }
  });
  if (norm === null) {
    throw new Error(
      `${where}: normClasses applies with normWeightDecay only (torchvision ignores it ` +
        "without); write { normWeightDecay: 0, normClasses: [...] }",
    );
  }
  // torchvision's `if not norm_classes`: an empty list is the default classes.
  if (classes.length === 0) return isNorm;
  return (m) => classes.some((c) => m instanceof c);
}

/** The custom keys: [key, weightDecay] pairs, "bias" first where biasWeightDecay is given. */
function customKeys(v: unknown, bias: number | null): [string, number][] {
  const where = SET_WEIGHT_DECAY.where;
  const keys: [string, number][] = bias === null ? [] : [["bias", bias]];
  if (v === undefined || v === null) return keys;
  const write = 'write { customKeysWeightDecay: [["bias", 0], ["class_token", 0]] }';
  if (!Array.isArray(v)) {
    throw new Error(
      `${where}: customKeysWeightDecay must be a list of [key, weightDecay] pairs, got ` +
        `${show(v)}; ${write}`,
    );
  }
  v.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || !pair[0]) {
      throw new Error(
        `${where}: customKeysWeightDecay[${i}] must be a [key, weightDecay] pair with a ` +
          `parameter name as key, got ${show(pair)}; ${write}`,
      );
    }
    const [key, wd] = pair;
    if (key === "other" || key === "norm") {
      throw new Error(
        `${where}: customKeysWeightDecay key "${key}" is the name of torchvision's own ` +
          `"${key}" group, which it would replace; name the parameters another way`,
      );
    }
    if (keys.some(([k]) => k === key)) {
      throw new Error(
        `${where}: customKeysWeightDecay has "${key}" twice` +
          (key === "bias" && bias !== null ? ' (biasWeightDecay is the "bias" key)' : "") +
          "; give each key once",
      );
    }
    keys.push([key, decayOf(`customKeysWeightDecay "${key}"`, wd, false)!]);
  });
  return keys;
}

/**
 * The parameters of `model` (those that require a gradient, each once) in
 * groups of their weight decay, as torchvision's `set_weight_decay`: the
 * others with `weightDecay`, then with `normWeightDecay` those of the
 * normalisation layers (`normClasses`; by default `nn.NormBase`: batch and
 * instance norms, `nn.LayerNorm`, `nn.GroupNorm`, `nn.LocalResponseNorm`),
 * then one group per custom key: `biasWeightDecay` for every parameter
 * named `bias`, then `customKeysWeightDecay`'s, in order. A key without a
 * dot matches a parameter's own name, a key with dots its full name
 * (torchvision's rule); the first matching key wins, before the norm test.
 * Empty groups are left out; with no option it is one group of all
 * parameters, in `model.parameters()`'s order. Pass the groups to any
 * optimizer.
 *
 * @example
 * ```ts
 * import { models, nn, optim } from "@lits/vision";
 * const model = models.create("resnet18", { numClasses: 3 });
 * const groups = optim.setWeightDecay(model, 1e-4, { normWeightDecay: 0, biasWeightDecay: 0 });
 * console.log(groups.map((g) => [g.params.length, g.options.weightDecay])); // [[21, 0.0001], [20, 0], [21, 0]]
 * const opt = new optim.SGD(groups, { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
 * console.log(opt.paramGroups.length); // 3
 * // torchvision's norm_classes and custom_keys_weight_decay: "fc.weight" is a full name.
 * const custom = optim.setWeightDecay(model, 1e-4, {
 *   normWeightDecay: 0,
 *   normClasses: [nn.BatchNorm2d],
 *   customKeysWeightDecay: [["fc.weight", 0.01]],
 * });
 * console.log(custom.map((g) => [g.params.length, g.options.weightDecay])); // [[21, 0.0001], [40, 0], [1, 0.01]]
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
  const isNormLayer = normTest(o.normClasses, norm);
  const bias = decayOf("biasWeightDecay", o.biasWeightDecay, true);
  const keys = customKeys(o.customKeysWeightDecay, bias);
  const groups = [
    { params: [] as Parameter[], decay: other },
    { params: [] as Parameter[], decay: norm ?? other },
    ...keys.map(([, decay]) => ({ params: [] as Parameter[], decay })),
  ];
  const seen = new Set<Parameter>();
  for (const [path, m] of model.namedModules()) {
    for (const [name, p] of m.namedParameters("", false)) {
      if (!p.requiresGrad || seen.has(p)) continue;
      seen.add(p);
      // torchvision: a dotted key is matched against the full name, another against the name.
      const k = keys.findIndex(([key]) =>
        key === (path !== "" && key.includes(".") ? `${path}.${name}` : name)
      );
      const group = k >= 0 ? 2 + k : norm !== null && isNormLayer(m) ? 1 : 0;
      groups[group].params.push(p);
    }
  }
  return groups.filter((g) => g.params.length > 0)
    .map((g) => ({ params: g.params, options: { weightDecay: g.decay } }));
}
