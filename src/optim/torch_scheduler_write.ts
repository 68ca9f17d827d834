/**
 * The torch layout of a schedule's state, as `sched.stateDict({ format:
 * "torch" })` gives it: what torch 1.13's `state_dict()` of the same
 * schedule gives, which torch's `load_state_dict` resumes from after
 * `io.save` to a `.pth` (see torch_scheduler_state.ts for the rules and
 * what is left out).
 *
 * @module
 */
import type { LRScheduler } from "./base.ts";
import type { ReduceLROnPlateau } from "./plateau.ts";
import {
  type Any,
  classOf,
  hasBetas,
  type Own,
  phases,
  type TorchSchedulerStateDict,
} from "./torch_scheduler_state.ts";

/**
 * @internal `sched`'s state in torch's layout: what torch's
 * `state_dict()` of the same schedule gives (see the module doc for what
 * is left out).
 */
export function toTorchSchedulerStateDict(sched: LRScheduler): TorchSchedulerStateDict {
  const name = classOf(sched);
  const s = sched as Any;
  const own = sched.stateDict() as Own;
  const base = (stepCount = sched.lastEpoch + 1) => ({
    base_lrs: [...sched.baseLrs],
    last_epoch: sched.lastEpoch,
    verbose: false,
    _step_count: stepCount,
    _get_lr_called_within_step: false,
    _last_lr: sched.lastLr,
  });
  switch (name) {
    case "StepLR":
      return { step_size: s.stepSize, gamma: s.gamma, ...base() };
    case "MultiStepLR": // milestones: torch keeps its own Counter (see the module doc)
    case "ExponentialLR":
      return { gamma: s.gamma, ...base() };
    case "CosineAnnealingLR":
      return { T_max: s.tMax, eta_min: s.etaMin, ...base() };
    case "PolynomialLR":
      return { total_iters: s.totalIters, power: s.power, ...base() };
    case "LambdaLR":
    case "MultiplicativeLR":
      return { ...base(), lr_lambdas: sched.baseLrs.map(() => null) };
    case "LinearLR":
      return {
        start_factor: s.startFactor,
        end_factor: s.endFactor,
        total_iters: s.totalIters,
        ...base(),
      };
    case "ConstantLR":
      return { factor: s.factor, total_iters: s.totalIters, ...base() };
    case "CosineAnnealingWarmRestarts":
      // torch's step() of this class never counts _step_count: it stays 0.
      return {
        T_0: s.t0,
        T_i: s.tI,
        T_mult: s.tMult,
        eta_min: s.etaMin,
        T_cur: s.tCur,
        ...base(0),
      };
    case "OneCycleLR":
      return {
        total_steps: s.totalSteps,
        _schedule_phases: phases(s),
        _anneal_func_type: s.annealStrategy,
        cycle_momentum: s.cycleMomentum,
        ...(s.cycleMomentum ? { use_beta1: hasBetas(sched) } : {}),
        ...base(),
      };
    case "CyclicLR":
      return {
        max_lrs: [...s.maxLrs],
        total_size: s.totalSize,
        step_ratio: s.stepRatio,
        mode: s.mode,
        gamma: s.gamma,
        // Where a scaleFn was given, torch keeps its own (a function is not saved).
        ...(s.scaleFn === null ? { _scale_fn_custom: null } : {}),
        scale_mode: s.scaleMode,
        cycle_momentum: s.cycleMomentum,
        ...(s.cycleMomentum
          ? { base_momentums: [...s.baseMomentums], max_momentums: [...s.maxMomentums] }
          : {}),
        ...base(),
      };
    case "SWALR":
      return { anneal_epochs: s.annealEpochs, ...base(own.stepCount as number) };
    case "SequentialLR": {
      const children = s.schedulers as LRScheduler[];
      return {
        _milestones: [...s.milestones],
        last_epoch: sched.lastEpoch,
        _last_lr: sched.lastLr,
        _schedulers: children.map((c, k) => {
          const d = toTorchSchedulerStateDict(c);
          if (k === 0 || typeof d._step_count !== "number" || classOf(c) === "SWALR") return d;
          // torch's SequentialLR counts a later schedule from -1 until its milestone, where
          // its step(0) counts one step more than ours.
          if (sched.lastEpoch < s.milestones[k - 1]) {
            return { ...d, last_epoch: -1, _step_count: 1 };
          }
          return classOf(c) === "CosineAnnealingWarmRestarts"
            ? d
            : { ...d, _step_count: (d._step_count as number) + 1 };
        }),
      };
    }
    case "ChainedScheduler":
      return {
        _last_lr: sched.lastLr,
        _schedulers: (s.schedulers as LRScheduler[]).map((c) => toTorchSchedulerStateDict(c)),
      };
  }
  throw new Error(
    `${sched.constructor.name}.stateDict: ${name} has no torch layout here; use stateDict()`,
  );
}

/** @internal ReduceLROnPlateau's state in torch's layout, as its `state_dict()` gives it. */
export function toTorchPlateauStateDict(sched: ReduceLROnPlateau): TorchSchedulerStateDict {
  return {
    factor: sched.factor,
    min_lrs: [...sched.minLrs],
    patience: sched.patience,
    verbose: false,
    cooldown: sched.cooldown,
    cooldown_counter: sched.cooldownCounter,
    mode: sched.mode,
    threshold: sched.threshold,
    threshold_mode: sched.thresholdMode,
    best: sched.best,
    num_bad_epochs: sched.numBadEpochs,
    mode_worse: sched.mode === "min" ? Infinity : -Infinity,
    eps: sched.eps,
    last_epoch: sched.lastEpoch,
    // torch sets it at the first step.
    ...(sched.lastEpoch > 0 ? { _last_lr: sched.lastLr } : {}),
  };
}
