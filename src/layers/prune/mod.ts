/**
 * `nn.utils.prune`, as `torch.nn.utils.prune`: prune a module's parameter
 * by a mask kept beside it (`weight_orig`, `weight_mask`, and
 * `module.weight = weight_orig * weight_mask` recomputed before each
 * forward), compose prunings, make them permanent with `remove`.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const conv = new nn.Conv2d(1, 4, 3);
 * nn.utils.prune.l1Unstructured(conv, "weight", 0.3);
 * console.log([...conv.stateDict().keys()]); // ["bias", "weight_orig", "weight_mask"]
 * console.log(conv.weight.eq(0).sum().item()); // 11
 * ```
 *
 * @module
 */
import type { Module } from "../module.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { cat } from "../../tensor/ops/join.ts";
import { noGrad } from "../../tensor/autograd.ts";
import { onesLike } from "../../tensor/ops/like.ts";
import { applyPruning, BasePruningMethod, describe, PruningContainer, pruningOf } from "./base.ts";
import {
  type Amount,
  CustomFromMask,
  Identity,
  L1Unstructured,
  LnStructured,
  RandomStructured,
  RandomUnstructured,
} from "./methods.ts";
import { type CallContract, checkContract } from "../../options.ts";

export { BasePruningMethod, isPruned, type PruningType, remove, tensorLike } from "./base.ts";
export { PruningContainer };
export {
  type Amount,
  CustomFromMask,
  Identity,
  L1Unstructured,
  LnStructured,
  RandomStructured,
  RandomUnstructured,
};
export * from "./names.ts";

/** Options of the magnitude methods: torch's `importance_scores`. */
export interface ImportanceOptions {
  /** Scores of the parameter's shape ranking the entries instead of the parameter itself. */
  importanceScores?: Tensor | null;
}

const L1: CallContract<ImportanceOptions> = {
  where: "prune.l1Unstructured",
  most: 4,
  known: ["importanceScores"],
  usage: 'prune.l1Unstructured(module, "weight", 0.3, { importanceScores })',
};

const LN: CallContract<ImportanceOptions> = {
  where: "prune.lnStructured",
  most: 6,
  known: ["importanceScores"],
  usage: 'prune.lnStructured(module, "weight", 0.5, 2, 0, { importanceScores })',
};

/** Throws where a function got more or fewer positional arguments than torch's. */
function arity(where: string, given: number, least: number, most: number, usage: string): void {
  if (given < least || given > most) {
    throw new Error(`${where}: takes ${least} to ${most} arguments, got ${given}; write ${usage}`);
  }
}

/**
 * Adds the pruning reparametrisation without pruning anything (a mask of
 * ones), as torch's `prune.identity`; returns the module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.prune.identity(new nn.Linear(3, 2), "bias");
 * console.log(fc.stateDict().get("bias_mask")!.toList()); // [1, 1]
 * ```
 */
export function identity<M extends Module>(module: M, name: string): M {
  arity("prune.identity", arguments.length, 2, 2, 'prune.identity(module, "weight")');
  applyPruning("prune.identity", module, name, new Identity(), null);
  return module;
}

/**
 * Prunes the `amount` entries of `module[name]` of smallest magnitude (a
 * count, or a fraction rounded as Python's `round`), as torch's
 * `prune.l1_unstructured`: among equal magnitudes, the same ones as torch.
 * Returns the module.
 *
 * @example
 * ```ts
 * import { nn, noGrad, tensor } from "@lits/vision";
 * const fc = new nn.Linear(4, 1);
 * noGrad(() => fc.weight.copy_(tensor([[0.5, -0.1, 0.3, -0.2]])));
 * nn.utils.prune.l1Unstructured(fc, "weight", 2);
 * console.log(fc.stateDict().get("weight_mask")!.toList()); // [[1, 0, 1, 0]]
 * ```
 */
export function l1Unstructured<M extends Module>(
  module: M,
  name: string,
  amount: Amount,
  options: ImportanceOptions = {},
): M {
  arity(L1.where, arguments.length, 3, 4, L1.usage);
  const o = checkContract(L1, arguments.length, options);
  applyPruning(L1.where, module, name, new L1Unstructured(amount), o.importanceScores ?? null);
  return module;
}

/**
 * Prunes `amount` random entries of `module[name]`, as torch's
 * `prune.random_unstructured`, drawing from this library's generator
 * (`manualSeed`): as many entries as torch, not the same ones. Returns the
 * module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.prune.randomUnstructured(new nn.Linear(10, 10), "weight", 0.25);
 * console.log(fc.stateDict().get("weight_mask")!.eq(0).sum().item()); // 25
 * ```
 */
export function randomUnstructured<M extends Module>(module: M, name: string, amount: Amount): M {
  const usage = 'prune.randomUnstructured(module, "weight", 0.3)';
  arity("prune.randomUnstructured", arguments.length, 3, 3, usage);
  applyPruning("prune.randomUnstructured", module, name, new RandomUnstructured(amount), null);
  return module;
}

/**
 * Prunes the `amount` channels of `module[name]` along `dim` with the
 * smallest Ln norm (`n`: 1, 2, Infinity, -Infinity, 0 or "fro"), as
 * torch's `prune.ln_structured`. Returns the module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const conv = new nn.Conv2d(2, 4, 3);
 * nn.utils.prune.lnStructured(conv, "weight", 0.5, 2, 0); // two of the four filters
 * console.log(conv.weight.abs().sum([1, 2, 3]).eq(0).sum().item()); // 2
 * ```
 */
export function lnStructured<M extends Module>(
  module: M,
  name: string,
  amount: Amount,
  n: number | "fro",
  dim: number,
  options: ImportanceOptions = {},
): M {
  arity(LN.where, arguments.length, 5, 6, LN.usage);
  const o = checkContract(LN, arguments.length, options);
  applyPruning(
    LN.where,
    module,
    name,
    new LnStructured(amount, n, dim),
    o.importanceScores ?? null,
  );
  return module;
}

/**
 * Prunes `amount` random channels of `module[name]` along `dim`, as torch's
 * `prune.random_structured` (this library's generator: as many channels as
 * torch, not the same ones). Returns the module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.prune.randomStructured(new nn.Linear(4, 6), "weight", 2, 0);
 * console.log(fc.stateDict().get("weight_mask")!.sum(1).eq(0).sum().item()); // 2
 * ```
 */
export function randomStructured<M extends Module>(
  module: M,
  name: string,
  amount: Amount,
  dim: number,
): M {
  const usage = 'prune.randomStructured(module, "weight", 0.5, 0)';
  arity("prune.randomStructured", arguments.length, 4, 4, usage);
  applyPruning("prune.randomStructured", module, name, new RandomStructured(amount, dim), null);
  return module;
}

/**
 * Prunes `module[name]` where `mask` is 0, as torch's
 * `prune.custom_from_mask`. Returns the module.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const fc = nn.utils.prune.customFromMask(new nn.Linear(2, 3), "bias", tensor([0, 1, 0]));
 * console.log(fc.bias!.eq(0).toList()); // [1, 0, 1]
 * ```
 */
export function customFromMask<M extends Module>(module: M, name: string, mask: Tensor): M {
  const usage = 'prune.customFromMask(module, "weight", mask)';
  arity("prune.customFromMask", arguments.length, 3, 3, usage);
  if (!(mask instanceof Tensor)) {
    throw new Error(`prune.customFromMask: mask must be a Tensor, got ${describe(mask)}`);
  }
  applyPruning("prune.customFromMask", module, name, new CustomFromMask(mask), null);
  return module;
}

/** Options of `globalUnstructured`: torch's keyword arguments. */
export interface GlobalOptions {
  /** How much to prune over all the parameters together (the method's `amount`). */
  amount?: Amount;
  /** Scores ranking the entries instead of the parameters: `[module, name, scores]` triples. */
  importanceScores?: [Module, string, Tensor][];
}

/** The classes `globalUnstructured` takes (an unstructured method built from an amount). */
export type GlobalMethod = new (amount: Amount) => BasePruningMethod;

const GLOBAL: CallContract<GlobalOptions> = {
  where: "prune.globalUnstructured",
  most: 3,
  known: ["amount", "importanceScores"],
  usage: 'prune.globalUnstructured([[conv, "weight"], [fc, "weight"]], ' +
    "prune.L1Unstructured, { amount: 0.2 })",
};

/**
 * Prunes the parameters `[module, name]` of `parameters` together, as
 * torch's `prune.global_unstructured`: `pruningMethod` (an unstructured one,
 * such as `prune.L1Unstructured`) ranks all their entries at once, and each
 * parameter gets its part of the mask (composed with its earlier pruning).
 * The amount is the third argument, or `{ amount, importanceScores }`.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const { prune } = nn.utils;
 * const a = new nn.Linear(4, 4), b = new nn.Linear(4, 2);
 * prune.globalUnstructured([[a, "weight"], [b, "weight"]], prune.L1Unstructured, 0.5);
 * const zeros = (m: nn.Linear) => m.stateDict().get("weight_mask")!.eq(0).sum().item();
 * console.log(zeros(a) + zeros(b)); // 12
 * ```
 */
export function globalUnstructured(
  parameters: Iterable<[Module, string]>,
  pruningMethod: GlobalMethod,
  amountOrOptions: Amount | GlobalOptions,
): void {
  const { where, usage } = GLOBAL;
  const spelled = typeof amountOrOptions === "object" && amountOrOptions !== null &&
    !("count" in amountOrOptions || "fraction" in amountOrOptions);
  const o: GlobalOptions = spelled
    ? checkContract(GLOBAL, arguments.length, amountOrOptions)
    : { amount: amountOrOptions as Amount };
  if (arguments.length !== 3) {
    throw new Error(`${where}: takes 3 arguments, got ${arguments.length}; write ${usage}`);
  }
  if (parameters === null || typeof parameters !== "object" || !(Symbol.iterator in parameters)) {
    throw new Error(
      `${where}: parameters must be an array of [module, name] pairs; write ${usage}`,
    );
  }
  const pairs = [...parameters];
  for (const p of pairs) {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[1] !== "string") {
      throw new Error(`${where}: each entry is a [module, "name"] pair, got ${describe(p)}`);
    }
  }
  if (
    typeof pruningMethod !== "function" || !(pruningMethod.prototype instanceof BasePruningMethod)
  ) {
    throw new Error(
      `${where}: pruningMethod must be a pruning class such as prune.L1Unstructured (the class, ` +
        `not a string or an instance), got ${describe(pruningMethod)}`,
    );
  }
  if (
    (pruningMethod as unknown) === LnStructured || (pruningMethod as unknown) === RandomStructured
  ) {
    throw new Error(
      `${where}: only "unstructured" pruning methods are supported; ${pruningMethod.name} is ` +
        '"structured" (write prune.L1Unstructured or prune.RandomUnstructured)',
    );
  }
  const method = new pruningMethod(o.amount as Amount);
  if (method.PRUNING_TYPE !== "unstructured") {
    throw new Error(
      `${where}: only "unstructured" pruning methods are supported; ${pruningMethod.name} is ` +
        `"${method.PRUNING_TYPE}"`,
    );
  }
  const field = (m: Module, name: string) => (m as unknown as Record<string, Tensor>)[name];
  for (const [m, name] of pairs) {
    if (!(field(m, name) instanceof Tensor)) {
      throw new Error(`${where}: ${m?.constructor?.name}.${name} is not a tensor of the module`);
    }
  }
  checkGlobalScores(where, o.importanceScores, field);
  const scoreOf = (m: Module, name: string) =>
    o.importanceScores?.find(([sm, sn]) => sm === m && sn === name)?.[2] ?? field(m, name);
  const [scores, defaultMask] = noGrad(() => [
    cat(pairs.map(([m, n]) => scoreOf(m, n).detach().reshape([-1]))),
    cat(
      pairs.map(([m, n]) =>
        (pruningOf(m, n) ? field(m, `${n}_mask`) : onesLike(field(m, n))).reshape([-1])
      ),
    ),
  ]);
  method.tensorName = "temp";
  const container = new PruningContainer(method);
  const mask = noGrad(() => container.computeMask(scores, defaultMask));
  let at = 0;
  for (const [m, name] of pairs) {
    const n = field(m, name).numel();
    const part = noGrad(() => mask.narrow(0, at, n).reshape([...field(m, name).shape]));
    applyPruning(where, m, name, new CustomFromMask(part), null);
    at += n;
  }
}

/**
 * Throws unless `scores` is absent or `[module, name, scores]` triples whose
 * scores have the parameter's shape (torch's dict `{(module, name): scores}`
 * has tuple keys, which a Map cannot look up).
 */
function checkGlobalScores(
  where: string,
  scores: unknown,
  field: (m: Module, name: string) => unknown,
): void {
  if (scores === undefined || scores === null) return;
  const form = 'importanceScores: [[module, "weight", scores], ...] (torch\'s dict ' +
    "{(module, name): scores} as a list of triples)";
  if (!Array.isArray(scores)) throw new Error(`${where}: write ${form}, got ${describe(scores)}`);
  for (const entry of scores) {
    const [m, name, t] = Array.isArray(entry) ? entry : [];
    if (!Array.isArray(entry) || entry.length !== 3 || !(t instanceof Tensor)) {
      throw new Error(`${where}: write ${form}; one entry is ${describe(entry)}`);
    }
    const p = m == null ? undefined : field(m, name);
    if (p instanceof Tensor && p.shape.join() !== t.shape.join()) {
      throw new Error(
        `${where}: importanceScores for ${m?.constructor?.name}.${name} has shape [${t.shape}], ` +
          `the parameter [${p.shape}]; give scores of the parameter's shape`,
      );
    }
  }
}
