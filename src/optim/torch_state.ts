/**
 * Optimizer state dicts in PyTorch's own layout, as `io.load` reads them
 * from a checkpoint that `torch.save({"optimizer": opt.state_dict()})`
 * wrote: `{ state: Map<index, { step, exp_avg, ... }>, param_groups: [{
 * lr, betas, weight_decay, ..., params: [0, 1] }] }`. `loadStateDict`
 * converts one to this library's layout and loads that:
 *
 * - options take our names by the snake_case → camelCase rule the
 *   constructors use (`weight_decay` is `weightDecay`); torch's `betas`
 *   tuple is read as a pair;
 * - torch's loop switches `foreach`, `capturable`, `differentiable` and
 *   `fused` are taken where off (null or false), refused by name where on,
 *   as the constructors refuse them;
 * - `initial_lr` (a schedule was attached) becomes the group's initial lr,
 *   which a schedule made afterwards starts from, as torch's does;
 *   OneCycleLR's `max_lr`, `min_lr`, `max_momentum` and `base_momentum`
 *   and SWALR's `swa_lr`, which torch's schedules keep in the groups, are
 *   dropped: ours keep them themselves, given again when the schedule is
 *   made;
 * - `step`, a 0-d tensor (an int in RMSprop's), becomes the step count;
 *   SGD's state has none in torch and counts as one step taken (which only
 *   says its momentum buffer is not fresh); SGD's `momentum_buffer: None`
 *   (momentum 0) is no buffer; every other entry is a tensor under torch's
 *   name, as ours are (NAdam's 0-d `mu_product` included).
 *
 * Then the loader checks it as it checks its own (the class's options and
 * state names, the groups' and parameters' counts, the shapes), all before
 * anything changes.
 *
 * `opt.stateDict({ format: "torch" })` gives the other way (`toTorchStateDict`):
 * options under torch's snake_case names, `initial_lr` where a schedule
 * set one, and what torch's schedules keep in the groups and read at each
 * step (OneCycleLR's `max_lr`, `min_lr` and momenta, SWALR's `swa_lr`), each parameter's state under torch's names with `step` a number
 * (torch's `__setstate__` makes it the 0-d tensor it keeps, and fills in
 * the loop switches it lacks), SGD's without a step, as torch keeps it.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import type { GroupOptions, Optimizer, OptimizerStateDict, ParamState } from "./optimizer.ts";
import { optionName } from "./optimizer.ts";
import { optimizerOptions } from "./adaptive.ts";
import { initialLrOf, setInitialLr, torchGroupEntriesOf } from "./base.ts";

/**
 * An optimizer's state dict as PyTorch's `opt.state_dict()` is, read by
 * `io.load` from a `.pt` file: what `opt.loadStateDict` also takes.
 */
export interface TorchOptimizerStateDict {
  /**
   * Each parameter's state by its index over all groups: tensors under
   * torch's names, `step` a 0-d tensor or a number, SGD's
   * `momentum_buffer` possibly null. `{}` where no step was taken (a dict
   * without keys reads as an empty object).
   */
  state: Map<number, Record<string, Tensor | number | null>> | Record<string, never>;
  /** Each group's options under torch's names, and `params`, its parameters' indices. */
  param_groups: Record<string, unknown>[];
}

/** torch's loop switches: taken where off, refused (the constructors' message) where on. */
const TORCH_ONLY = ["foreach", "capturable", "differentiable", "fused"];
/** What torch's schedules keep in the groups and ours keep themselves. */
const SCHEDULE_KEYS = ["max_lr", "min_lr", "max_momentum", "base_momentum", "swa_lr"];

/** @internal whether `sd` is in torch's layout (it has `param_groups`). */
export function isTorchStateDict(sd: unknown): sd is TorchOptimizerStateDict {
  return sd !== null && typeof sd === "object" && "param_groups" in sd && !("paramGroups" in sd);
}

/** Whether `opt`'s class is torch's SGD or one made from it (torch keeps no step for it). */
function isSGD(opt: object): boolean {
  for (let c = opt.constructor; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (c.name === "SGD") return true;
  }
  return false;
}

/**
 * @internal `sd` in this library's layout, and each group's `initial_lr`
 * (undefined where it has none), or an Error naming what is wrong.
 */
function fromTorchStateDict(
  opt: Optimizer<GroupOptions>,
  sd: TorchOptimizerStateDict,
): { dict: OptimizerStateDict; initialLrs: (number | undefined)[] } {
  const name = opt.constructor.name;
  const fail = (why: string) => new Error(`${name}.loadStateDict: torch's state dict: ${why}`);
  const known = Object.keys(opt.paramGroups[0].options);
  if (!Array.isArray(sd.param_groups)) {
    throw fail(`param_groups must be a list of groups, got ${JSON.stringify(sd.param_groups)}`);
  }
  const initialLrs: (number | undefined)[] = [];
  const paramGroups = sd.param_groups.map((g, i) => {
    if (g === null || typeof g !== "object" || Array.isArray(g) || g instanceof Map) {
      throw fail(`param_groups[${i}] must be a dict of options, got ${JSON.stringify(g)}`);
    }
    const { params, ...rest } = g as Record<string, unknown>;
    if (!Array.isArray(params) || !params.every((p) => Number.isInteger(p))) {
      throw fail(`param_groups[${i}].params must be a list of parameter indices`);
    }
    const options: GroupOptions = {};
    for (const [k, v] of Object.entries(rest)) {
      if (TORCH_ONLY.includes(k)) {
        if (v === null || v === false) continue;
        try {
          optimizerOptions(
            name,
            2,
            { [k]: v },
            [],
            `delete sd.param_groups[${i}].${k} (or set it to null) before loadStateDict`,
          );
        } catch (e) {
          throw fail(`param_groups[${i}] has ${k} ${JSON.stringify(v)}: ${(e as Error).message}`);
        }
      } else if (k === "initial_lr") {
        if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
          throw fail(
            `param_groups[${i}].initial_lr must be a number >= 0, got ${JSON.stringify(v)}`,
          );
        }
        initialLrs[i] = v;
      } else if (!SCHEDULE_KEYS.includes(k)) {
        // A name this class lacks stays torch's, for the "does not take" error below.
        options[optionName(k, known) ?? k] = Array.isArray(v) ? [...v] as [number, number] : v as
          | number
          | boolean;
      }
    }
    // Checked here as the loader would, before the state (another class's lacks a step).
    const foreign = Object.keys(options).filter((k) => !known.includes(k));
    if (foreign.length > 0) {
      throw new Error(
        `${name}.loadStateDict: group ${i} has options ${foreign.join(", ")}, which ${name} ` +
          "does not take (a state dict of another optimizer class?)",
      );
    }
    return { options, params: params as number[] };
  });
  initialLrs.length = paramGroups.length;
  const raw: unknown = sd.state;
  // torch's {} (no step taken yet) reads as an empty object; any other state as a Map.
  const empty = raw !== null && typeof raw === "object" && !Array.isArray(raw) &&
    Object.getPrototypeOf(raw) === Object.prototype && Object.keys(raw).length === 0;
  if (!(raw instanceof Map) && !empty) {
    throw fail("state must be a Map by parameter index (what io.load gives for torch's dict)");
  }
  const entries = raw instanceof Map ? [...raw] : [];
  const stepless = isSGD(opt);
  const state = new Map<number, ParamState>();
  for (const [index, s] of entries as [number, unknown][]) {
    if (s === null || typeof s !== "object" || Array.isArray(s)) {
      throw fail(`state[${index}] must be a dict (step, tensors), got ${JSON.stringify(s)}`);
    }
    const fields = s instanceof Map ? [...s] : Object.entries(s);
    const tensors = new Map<string, Tensor>();
    let step: number | undefined;
    for (const [k, v] of fields as [string, unknown][]) {
      if (k === "step") {
        step = v instanceof Tensor && v.numel() === 1 ? v.toArray()[0] : v as number;
        if (typeof step !== "number" || !Number.isInteger(step) || step < 0) {
          throw fail(
            `state[${index}].step must be a count (a 0-d tensor or an int), got ${
              v instanceof Tensor ? `a tensor [${v.shape}]` : JSON.stringify(v)
            }`,
          );
        }
      } else if (v instanceof Tensor) {
        tensors.set(k, v);
      } else if (!(v === null && k === "momentum_buffer")) {
        throw fail(`state[${index}].${k} must be a tensor, got ${JSON.stringify(v) ?? typeof v}`);
      }
    }
    if (step === undefined) {
      if (!stepless) {
        throw fail(
          `state[${index}] has no step, which torch's ${name} keeps (a state dict of another ` +
            "optimizer class?)",
        );
      }
      step = 1;
    }
    state.set(Number(index), { step, tensors });
  }
  return { dict: { state, paramGroups }, initialLrs };
}

/**
 * @internal loads a state dict in torch's layout into `opt`: converted,
 * loaded by `opt.loadStateDict` (which checks it all before anything
 * changes), then each group's `initial_lr` kept for the schedules made
 * after.
 */
export function loadTorchStateDict(
  opt: Optimizer<GroupOptions>,
  sd: TorchOptimizerStateDict,
): void {
  const { dict, initialLrs } = fromTorchStateDict(opt, sd);
  opt.loadStateDict(dict);
  opt.paramGroups.forEach((g, i) => {
    if (initialLrs[i] !== undefined) setInitialLr(g, initialLrs[i]);
  });
}

/** torch's name of one of our options: `weightDecay` is `weight_decay`. */
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * @internal `sd` (this library's layout, of `opt`) in torch's layout, as
 * `torch.optim` loads it with `load_state_dict`; the tensors are `sd`'s.
 */
export function toTorchStateDict(
  opt: Optimizer<GroupOptions>,
  sd: OptimizerStateDict,
): TorchOptimizerStateDict {
  const stepless = isSGD(opt);
  const state = new Map<number, Record<string, Tensor | number | null>>();
  for (const [index, s] of sd.state) {
    const entry: Record<string, Tensor | number | null> = stepless ? {} : { step: s.step };
    for (const [k, t] of s.tensors) entry[k] = t;
    state.set(index, entry);
  }
  const param_groups = sd.paramGroups.map((g, i) => {
    const group: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(g.options)) group[snake(k)] = Array.isArray(v) ? [...v] : v;
    const initialLr = initialLrOf(opt.paramGroups[i]);
    if (initialLr !== undefined) group.initial_lr = initialLr;
    Object.assign(group, torchGroupEntriesOf(opt.paramGroups[i]));
    group.params = [...g.params];
    return group;
  });
  return { state, param_groups };
}
