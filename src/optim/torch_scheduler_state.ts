/**
 * LR schedules' state dicts in PyTorch's own layout, as `io.load` reads
 * them from a checkpoint that `torch.save({"scheduler":
 * sched.state_dict()})` wrote: torch's `__dict__` of the schedule (`base_lrs`,
 * `last_epoch`, `_last_lr`, `_step_count`, `verbose`, ... and each class's
 * own attributes: StepLR's `step_size` and `gamma`, CosineAnnealingLR's
 * `T_max`, ...). `sched.loadStateDict` recognises one by torch's keys
 * (`base_lrs`, `last_epoch`, `_schedulers`), converts it to this library's
 * layout and loads that:
 *
 * - the position (`last_epoch`, `base_lrs`, `_last_lr`, and CosineAnnealingWarmRestarts'
 *   `T_i` / `T_cur`, SWALR's `_step_count`, CyclicLR's bounds, ReduceLROnPlateau's
 *   `best`, `num_bad_epochs`, `cooldown_counter`) is taken;
 * - what the constructor fixed (`step_size`, `gamma`, `milestones`, `T_max`,
 *   `total_steps`, `mode`, ...) must agree with the schedule it is loaded
 *   into, else an Error names the attribute and both values (torch's load
 *   overwrites them silently; here the schedule is the one the constructor
 *   made, so a mismatch is a mistake);
 * - what torch cannot save or ignores (`lr_lambdas` entries None, the
 *   functions `anneal_func`, `_scale_fn_ref`, `_scale_fn_custom`, `verbose`)
 *   is ignored, as torch's load ignores it;
 * - SequentialLR's and ChainedScheduler's `_schedulers` are converted one
 *   by one, into the schedules they were made with.
 *
 * A dict with keys torch's class lacks, or without the ones it has, is
 * refused, naming the class it looks like. Everything is checked before
 * anything changes.
 *
 * `io.load` reads what torch's `torch.load(weights_only=True)` reads
 * (MultiStepLR's `milestones` Counter included, as torch >= 2.1), which
 * refuses OneCycleLR's and SWALR's `anneal_func` in torch 1.13's dicts (a
 * method: the pickle holds the whole schedule, optimizer included); and
 * torch 1.13's CyclicLR dict (its `_scale_fn_ref`) cannot be saved at all.
 * For this library, save those in PyTorch with `anneal_func` popped
 * (OneCycleLR's given as torch >= 2.2 saves it, `sd["_anneal_func_type"] =
 * "cos"` or `"linear"`) and `_scale_fn_ref` popped (as torch >= 2.1's
 * state_dict does).
 *
 * `sched.stateDict({ format: "torch" })` gives the other way
 * (torch_scheduler_write.ts): torch's keys and values, which
 * `torch.load` and torch's `load_state_dict` resume from (checked by
 * scripts/make_scheduler_torch_state_fixtures.py). Left out, so that
 * torch's load keeps what its own constructor made: MultiStepLR's
 * `milestones` (torch's is a Counter, which `io.save` cannot write, and a
 * plain dict would break its closed form at a SequentialLR milestone), the
 * functions (`anneal_func`, `_scale_fn_ref`, and `_scale_fn_custom` where a
 * scaleFn was given). OneCycleLR writes torch >= 2.2's `_anneal_func_type`.
 *
 * @module
 */
import type { LRScheduler } from "./base.ts";
import type { ReduceLROnPlateau } from "./plateau.ts";
import { checkCall } from "../options.ts";

/** A schedule's state dict as torch's `state_dict()` gives it (read by `io.load`). */
export type TorchSchedulerStateDict = Record<string, unknown>;

/** @internal this library's layout of a schedule's state dict. */
export type Own = Record<string, number | number[]>;

/** The keys torch's `_LRScheduler` keeps in every schedule's dict. */
const BASE = [
  "base_lrs",
  "last_epoch",
  "verbose",
  "_step_count",
  "_get_lr_called_within_step",
  "_last_lr",
  // Newer torch's LRScheduler (its _initial_mode): False once made; ignored.
  "_is_initial",
];

/** Each class's own keys in torch's dict, and which of all its keys must be there. */
const CLASSES: Record<string, { own: string[]; need: string[] }> = {
  StepLR: { own: ["step_size", "gamma"], need: ["step_size", "gamma"] },
  // No milestones: stateDict({ format: "torch" }) leaves them out (see the module doc).
  MultiStepLR: { own: ["milestones", "gamma"], need: ["gamma"] },
  CosineAnnealingLR: { own: ["T_max", "eta_min"], need: ["T_max", "eta_min"] },
  ExponentialLR: { own: ["gamma"], need: ["gamma"] },
  PolynomialLR: { own: ["total_iters", "power"], need: ["total_iters", "power"] },
  LambdaLR: { own: ["lr_lambdas"], need: ["lr_lambdas"] },
  MultiplicativeLR: { own: ["lr_lambdas"], need: ["lr_lambdas"] },
  LinearLR: {
    own: ["start_factor", "end_factor", "total_iters"],
    need: ["start_factor", "end_factor", "total_iters"],
  },
  ConstantLR: { own: ["factor", "total_iters"], need: ["factor", "total_iters"] },
  CosineAnnealingWarmRestarts: {
    own: ["T_0", "T_i", "T_mult", "eta_min", "T_cur"],
    need: ["T_0", "T_i", "T_mult", "eta_min", "T_cur"],
  },
  OneCycleLR: {
    own: [
      "total_steps",
      "_schedule_phases",
      "anneal_func",
      "_anneal_func_type",
      "cycle_momentum",
      "use_beta1",
    ],
    need: ["total_steps", "_schedule_phases", "cycle_momentum"],
  },
  CyclicLR: {
    own: [
      "max_lrs",
      "total_size",
      "step_ratio",
      "mode",
      "gamma",
      "_scale_fn_custom",
      "_scale_fn_ref",
      "scale_mode",
      "cycle_momentum",
      "base_momentums",
      "max_momentums",
    ],
    need: ["max_lrs", "total_size", "step_ratio", "mode", "gamma", "scale_mode", "cycle_momentum"],
  },
  SWALR: { own: ["anneal_func", "anneal_epochs"], need: ["anneal_epochs", "_step_count"] },
  SequentialLR: { own: ["_milestones", "_schedulers"], need: ["_milestones", "_schedulers"] },
  ChainedScheduler: { own: ["_schedulers"], need: ["_schedulers"] },
  ReduceLROnPlateau: {
    own: [
      "factor",
      "min_lrs",
      "patience",
      "cooldown",
      "cooldown_counter",
      "mode",
      "threshold",
      "threshold_mode",
      "best",
      "num_bad_epochs",
      "mode_worse",
      "eps",
    ],
    need: ["factor", "min_lrs", "patience", "cooldown", "mode", "best", "num_bad_epochs"],
  },
};
const NO_BASE = new Set(["SequentialLR", "ChainedScheduler", "ReduceLROnPlateau"]);

/** torch's keys of `name`'s dict. */
function keysOf(name: string): Set<string> {
  const { own } = CLASSES[name];
  const later = "_is_initial"; // newer torch's, see BASE
  if (name === "SequentialLR") return new Set([...own, "last_epoch", "_last_lr", later]);
  if (name === "ChainedScheduler") return new Set([...own, "_last_lr", later]);
  if (name === "ReduceLROnPlateau") {
    return new Set([...own, "verbose", "last_epoch", "_last_lr", later]);
  }
  return new Set([...own, ...BASE]);
}

/** The keys that must be there in `name`'s dict. */
function needOf(name: string): string[] {
  const need = CLASSES[name].need;
  return NO_BASE.has(name) ? need : ["base_lrs", "last_epoch", ...need];
}

/** @internal whether `sd` is in torch's layout (it has torch's keys, not ours). */
export function isTorchSchedulerStateDict(sd: unknown): sd is TorchSchedulerStateDict {
  if (sd === null || typeof sd !== "object" || Array.isArray(sd) || sd instanceof Map) {
    return false;
  }
  return ["base_lrs", "last_epoch", "_schedulers", "num_bad_epochs"].some((k) => k in sd) &&
    !("lastEpoch" in sd);
}

/** @internal the class of `sched` torch's rules apply to: its own, or the one it extends. */
export function classOf(sched: object): string {
  for (let c = sched.constructor; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(CLASSES, c.name)) return c.name;
  }
  return sched.constructor.name;
}

/** The classes whose torch dicts `sd` looks like (its keys theirs, theirs there). */
function looksLike(sd: TorchSchedulerStateDict): string[] {
  const keys = Object.keys(sd);
  return Object.keys(CLASSES).filter((c) =>
    keys.every((k) => keysOf(c).has(k)) && needOf(c).every((k) => k in sd)
  );
}

const show = (v: unknown) =>
  v instanceof Map ? JSON.stringify(Object.fromEntries(v)) : JSON.stringify(v) ?? String(v);

/** Reads torch's values for one schedule, with errors naming it and where. */
class Reader {
  constructor(readonly sd: TorchSchedulerStateDict, readonly fail: (why: string) => Error) {}

  /** A finite number (an integer where `integer`), at least `min`. */
  num(key: string, { integer = false, min = -Infinity } = {}): number {
    const v = this.sd[key];
    if (
      typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min
    ) {
      throw this.fail(
        `${key} must be a finite ${integer ? "integer" : "number"}${
          min > -Infinity ? ` >= ${min}` : ""
        }, got ${show(v)}`,
      );
    }
    return v;
  }

  /** A list of `n` finite numbers >= 0 (learning rates, momenta), one per group. */
  list(key: string, n: number, what = "parameter group"): number[] {
    const v = this.sd[key];
    if (
      !Array.isArray(v) || !v.every((x) => typeof x === "number" && Number.isFinite(x) && x >= 0)
    ) {
      throw this.fail(`${key} must be a list of finite numbers >= 0, got ${show(v)}`);
    }
    if (v.length !== n) {
      throw this.fail(
        `${key} has ${v.length} values, this schedule ${n} (one per ${what}): a state dict of ` +
          `an optimizer with ${v.length} groups`,
      );
    }
    return [...v];
  }

  /** torch's value of `key` must be ours (`name` is our option's name). */
  agree(key: string, ours: unknown, name: string, same = (a: unknown, b: unknown) => a === b) {
    if (!(key in this.sd)) return;
    const v = this.sd[key];
    if (!same(v, ours)) {
      throw this.fail(
        `${key} is ${show(v)}, this schedule was made with ${name} ${show(ours)}; make it with ` +
          `the saved ${name} to resume that schedule (torch's load would replace it silently)`,
      );
    }
  }
}

/** The checks every dict gets: a dict, of this class, with its keys. */
function reader(sched: object, sd: unknown, where: string): [Reader, string] {
  const name = classOf(sched);
  const fail = (why: string) => new Error(`${where}: torch's state dict: ${why}`);
  if (sd === null || typeof sd !== "object" || Array.isArray(sd) || sd instanceof Map) {
    throw fail(`expected a dict (what io.load gives for torch's state_dict()), got ${show(sd)}`);
  }
  const d = sd as TorchSchedulerStateDict;
  if (!Object.hasOwn(CLASSES, name)) {
    throw fail(`${name} has no torch layout here; load what ${name}'s stateDict() gives`);
  }
  const keys = keysOf(name);
  const foreign = Object.keys(d).filter((k) => !keys.has(k));
  const missing = needOf(name).filter((k) => !(k in d));
  if (foreign.length > 0 || missing.length > 0) {
    const like = looksLike(d);
    throw fail(
      `${foreign.length ? `has ${foreign.join(", ")}, which torch's ${name} has not` : ""}${
        foreign.length && missing.length ? "; " : ""
      }${missing.length ? `lacks ${missing.join(", ")}, which torch's ${name} has` : ""}${
        like.length ? `: it looks like torch's ${like.join(" or ")}` : ": a dict of another class"
      }`,
    );
  }
  return [new Reader(d, fail), name];
}

/** The numbers as the same, exactly (torch's and ours are the same doubles). */
const sameList = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A milestone count (torch's Counter, a dict by io.load) as [epoch, count] pairs, sorted. */
function counts(v: unknown): [number, number][] | null {
  const entries = v instanceof Map
    ? [...v]
    : v !== null && typeof v === "object" && !Array.isArray(v)
    ? Object.entries(v).map(([k, c]) => [Number(k), c])
    : null;
  if (entries === null) return null;
  return entries.map(([k, c]): [number, number] => [Number(k), c as number])
    .sort((a, b) => a[0] - b[0]);
}

/** @internal each phase's end and what it goes from and to, as torch's `_schedule_phases`. */
export function phases(s: { totalSteps: number; pctStart: number; threePhase: boolean }) {
  const T = s.totalSteps, p = s.pctStart;
  const phase = (end: number, lr: [string, string], m: [string, string]) => ({
    end_step: end,
    start_lr: lr[0],
    end_lr: lr[1],
    start_momentum: m[0],
    end_momentum: m[1],
  });
  return s.threePhase
    ? [
      phase(p * T - 1, ["initial_lr", "max_lr"], ["max_momentum", "base_momentum"]),
      phase(2 * p * T - 2, ["max_lr", "initial_lr"], ["base_momentum", "max_momentum"]),
      phase(T - 1, ["initial_lr", "min_lr"], ["max_momentum", "max_momentum"]),
    ]
    : [
      phase(p * T - 1, ["initial_lr", "max_lr"], ["max_momentum", "base_momentum"]),
      phase(T - 1, ["max_lr", "min_lr"], ["base_momentum", "max_momentum"]),
    ];
}

/** @internal whether the groups have Adam's betas (torch's `use_beta1`). */
export const hasBetas = (sched: LRScheduler): boolean =>
  sched.optimizer.paramGroups.every((g) => Array.isArray((g.options as { betas?: unknown }).betas));

// deno-lint-ignore no-explicit-any
export type Any = any;

/**
 * @internal `sd` (torch's layout, of `sched`'s class) in this library's
 * layout, for `sched.loadStateDict`; or an Error naming what is wrong.
 */
export function fromTorchSchedulerStateDict(
  sched: LRScheduler,
  sd: unknown,
  where = `${sched.constructor.name}.loadStateDict`,
): Own {
  const [r, name] = reader(sched, sd, where);
  const s = sched as Any;
  const groups = sched.optimizer.paramGroups.length;
  if (name === "SequentialLR" || name === "ChainedScheduler") {
    const children = s.schedulers as LRScheduler[];
    const saved = r.sd._schedulers;
    if (!Array.isArray(saved) || saved.length !== children.length) {
      throw r.fail(
        `_schedulers has ${Array.isArray(saved) ? saved.length : show(saved)} schedules, this ` +
          `${name} ${children.length}: make it with the saved schedules`,
      );
    }
    if (name === "SequentialLR") r.agree("_milestones", s.milestones, "milestones", sameList);
    const own = children.map((c, k) =>
      fromTorchSchedulerStateDict(c, saved[k], `${where}: _schedulers[${k}] (${classOf(c)})`)
    );
    const out: Own = {
      lastEpoch: name === "SequentialLR"
        ? r.num("last_epoch", { integer: true, min: 0 })
        : own[0].lastEpoch as number,
      baseLrs: [...sched.baseLrs],
    };
    if ("_last_lr" in r.sd) out.lastLr = r.list("_last_lr", groups);
    own.forEach((o, k) => {
      for (const [key, v] of Object.entries(o)) out[`${k}.${key}`] = v;
    });
    return out;
  }
  const out: Own = {
    lastEpoch: r.num("last_epoch", { integer: true, min: -1 }),
    baseLrs: r.list("base_lrs", sched.baseLrs.length),
  };
  if ("_last_lr" in r.sd) out.lastLr = r.list("_last_lr", groups);
  switch (name) {
    case "StepLR":
      r.agree("step_size", s.stepSize, "stepSize");
      r.agree("gamma", s.gamma, "gamma");
      break;
    case "MultiStepLR": {
      r.agree("gamma", s.gamma, "gamma");
      if (!("milestones" in r.sd)) break;
      const saved = counts(r.sd.milestones);
      if (saved === null || !saved.every(([k, c]) => Number.isInteger(k) && Number.isInteger(c))) {
        throw r.fail(`milestones must be a dict of counts by epoch, got ${show(r.sd.milestones)}`);
      }
      const ours = counts(Object.fromEntries(
        [...new Set(s.milestones as number[])].map((m) => [
          m,
          (s.milestones as number[]).filter((v) => v === m).length,
        ]),
      ));
      r.agree(
        "milestones",
        Object.fromEntries(ours!),
        "milestones",
        () => sameList(saved, ours),
      );
      break;
    }
    case "CosineAnnealingLR":
      r.agree("T_max", s.tMax, "tMax");
      r.agree("eta_min", s.etaMin, "etaMin");
      break;
    case "ExponentialLR":
      r.agree("gamma", s.gamma, "gamma");
      break;
    case "PolynomialLR":
      r.agree("total_iters", s.totalIters, "totalIters");
      r.agree("power", s.power, "power");
      break;
    case "LambdaLR":
    case "MultiplicativeLR": {
      const fns = r.sd.lr_lambdas;
      if (!Array.isArray(fns) || fns.length !== sched.baseLrs.length) {
        throw r.fail(
          `lr_lambdas must be a list of ${sched.baseLrs.length} entries (one per group), got ` +
            show(fns),
        );
      }
      fns.forEach((f, i) => {
        // None: a plain function (torch saves none of it). A dict: a callable object's attributes.
        const empty = f === null || (typeof f === "object" && Object.keys(f).length === 0 &&
          !(f instanceof Map && f.size > 0));
        if (!empty) {
          throw r.fail(
            `lr_lambdas[${i}] holds the attributes of a callable object (${show(f)}), which ` +
              "a JavaScript lrLambda cannot take; give your lrLambda that state, and set " +
              `lr_lambdas[${i}] to null before loadStateDict`,
          );
        }
      });
      break;
    }
    case "LinearLR":
      r.agree("start_factor", s.startFactor, "startFactor");
      r.agree("end_factor", s.endFactor, "endFactor");
      r.agree("total_iters", s.totalIters, "totalIters");
      break;
    case "ConstantLR":
      r.agree("factor", s.factor, "factor");
      r.agree("total_iters", s.totalIters, "totalIters");
      break;
    case "CosineAnnealingWarmRestarts":
      r.agree("T_0", s.t0, "t0");
      r.agree("T_mult", s.tMult, "tMult");
      r.agree("eta_min", s.etaMin, "etaMin");
      out.tI = r.num("T_i", { integer: true, min: 1 });
      out.tCur = r.num("T_cur", { min: 0 });
      break;
    case "OneCycleLR":
      r.agree("total_steps", s.totalSteps, "totalSteps");
      r.agree("_schedule_phases", phases(s), "pctStart and threePhase", sameList);
      if ("_anneal_func_type" in r.sd) {
        r.agree("_anneal_func_type", s.annealStrategy, "annealStrategy");
      }
      r.agree("cycle_momentum", s.cycleMomentum, "cycleMomentum");
      if (s.cycleMomentum) r.agree("use_beta1", hasBetas(sched), "an optimizer with betas");
      r.agree("base_lrs", sched.baseLrs, "maxLr / divFactor", sameList);
      break;
    case "CyclicLR":
      r.agree("total_size", s.totalSize, "stepSizeUp + stepSizeDown");
      r.agree("step_ratio", s.stepRatio, "stepSizeUp / (stepSizeUp + stepSizeDown)");
      r.agree("mode", s.mode, "mode");
      r.agree("gamma", s.gamma, "gamma");
      r.agree("scale_mode", s.scaleMode, "scaleMode");
      r.agree("cycle_momentum", s.cycleMomentum, "cycleMomentum");
      out.maxLrs = r.list("max_lrs", sched.baseLrs.length);
      if (s.cycleMomentum) {
        out.baseMomentums = r.list("base_momentums", sched.baseLrs.length);
        out.maxMomentums = r.list("max_momentums", sched.baseLrs.length);
      }
      break;
    case "SWALR":
      r.agree("anneal_epochs", s.annealEpochs, "annealEpochs");
      out.stepCount = r.num("_step_count", { integer: true, min: 1 });
      out.swaLrs = [...s.swaLrs];
      break;
  }
  return out;
}

/** @internal ReduceLROnPlateau's state dict in torch's layout, converted to ours. */
export function fromTorchPlateauStateDict(
  sched: ReduceLROnPlateau,
  sd: unknown,
): Record<string, number> {
  const [r] = reader(sched, sd, "ReduceLROnPlateau.loadStateDict");
  r.agree("mode", sched.mode, "mode");
  r.agree("factor", sched.factor, "factor");
  r.agree("patience", sched.patience, "patience");
  r.agree("threshold", sched.threshold, "threshold");
  r.agree("threshold_mode", sched.thresholdMode, "thresholdMode");
  r.agree("cooldown", sched.cooldown, "cooldown");
  r.agree("eps", sched.eps, "eps");
  r.agree("min_lrs", sched.minLrs, "minLr", sameList);
  const worst = sched.mode === "min" ? Infinity : -Infinity;
  r.agree("mode_worse", worst, `mode "${sched.mode}", whose worst is`);
  const best = r.sd.best;
  if (typeof best !== "number" || Number.isNaN(best)) {
    throw r.fail(`best must be a number (inf before any metric), got ${show(best)}`);
  }
  return {
    best,
    numBadEpochs: r.num("num_bad_epochs", { integer: true, min: 0 }),
    cooldownCounter: "cooldown_counter" in r.sd
      ? r.num("cooldown_counter", { integer: true, min: 0 })
      : 0,
    lastEpoch: "last_epoch" in r.sd ? r.num("last_epoch", { integer: true, min: 0 }) : 0,
  };
}

/** Options of a schedule's `stateDict`. */
export interface SchedulerStateDictOptions {
  /** "lits" (default): this library's layout; "torch": PyTorch's (`state_dict()`'s). */
  format?: "lits" | "torch";
}

/** @internal the format a schedule's `stateDict(options)` asks for, checked. */
export function stateDictFormat(where: string, given: number, options: unknown): "lits" | "torch" {
  const o = checkCall<SchedulerStateDictOptions>(
    `${where}.stateDict`,
    given,
    1,
    options ?? {},
    ["format"],
    'sched.stateDict({ format: "torch" })',
  );
  const format = o.format ?? "lits";
  if (format !== "lits" && format !== "torch") {
    throw new Error(
      `${where}.stateDict: format must be "lits" (this library's layout, the default) or ` +
        `"torch" (PyTorch's), got ${JSON.stringify(format)}`,
    );
  }
  return format;
}
