/**
 * The schedules of tests/fixtures/scheduler_torch_state/expected.json as
 * this library makes them (scripts/make_scheduler_torch_state_fixtures.py
 * describes each in `ours`): an SGD over two groups (lr 0.1 and 0.05,
 * momentum 0.9), as torch's run, and the schedule over it. Shared by
 * tests/scheduler_torch_state_test.ts and the generator's Deno step.
 */
import { optim, tensor } from "../mod.ts";
import { testDevice } from "./helpers.ts";

/** A schedule as expected.json names it: its class and options, or its children. */
export interface Spec {
  cls: string;
  options?: Record<string, unknown>;
  /** LambdaLR's and MultiplicativeLR's functions, by their Python text. */
  lambdas?: string[];
  milestones?: number[];
  children?: Spec[];
}

/** The lr functions of the fixtures, by the text of torch's lambdas. */
const LAMBDAS: Record<string, (e: number) => number> = {
  "0.95": () => 0.95,
  "0.9 ** e": (e) => 0.9 ** e,
  "1 / (e + 1)": (e) => 1 / (e + 1),
};

/** Any of the schedules made here. */
export type AnySchedule = optim.LRScheduler | optim.ReduceLROnPlateau;

// deno-lint-ignore no-explicit-any
type Ctor = new (opt: any, options: any) => AnySchedule;
const CTORS: Record<string, Ctor> = {
  StepLR: optim.StepLR,
  MultiStepLR: optim.MultiStepLR,
  CosineAnnealingLR: optim.CosineAnnealingLR,
  ExponentialLR: optim.ExponentialLR,
  PolynomialLR: optim.PolynomialLR,
  LinearLR: optim.LinearLR,
  ConstantLR: optim.ConstantLR,
  CosineAnnealingWarmRestarts: optim.CosineAnnealingWarmRestarts,
  OneCycleLR: optim.OneCycleLR,
  CyclicLR: optim.CyclicLR,
  ReduceLROnPlateau: optim.ReduceLROnPlateau,
  SWALR: optim.swaUtils.SWALR,
};

/** The optimizer of every case: torch's SGD over two groups. */
export function makeOptimizer(): optim.SGD {
  const p = (n: number) =>
    tensor(Array(n).fill(0), undefined, { requiresGrad: true, device: testDevice });
  return new optim.SGD([{ params: [p(2)] }, { params: [p(3)], options: { lr: 0.05 } }], {
    lr: 0.1,
    momentum: 0.9,
  });
}

/** `spec`'s schedule over `opt`. */
export function makeSchedule(opt: optim.SGD, spec: Spec): AnySchedule {
  if (spec.cls === "LambdaLR" || spec.cls === "MultiplicativeLR") {
    const fns = spec.lambdas!.map((t) => LAMBDAS[t]);
    const lrLambda = fns.length === 1 ? fns[0] : fns;
    return spec.cls === "LambdaLR"
      ? new optim.LambdaLR(opt, { lrLambda })
      : new optim.MultiplicativeLR(opt, { lrLambda });
  }
  if (spec.cls === "SequentialLR" || spec.cls === "ChainedScheduler") {
    const schedulers = spec.children!.map((c) => makeSchedule(opt, c) as optim.LRScheduler);
    return spec.cls === "SequentialLR"
      ? new optim.SequentialLR(opt, { schedulers, milestones: spec.milestones! })
      : new optim.ChainedScheduler(schedulers);
  }
  return new CTORS[spec.cls](opt, structuredClone(spec.options ?? {}));
}

/** A fresh optimizer and `spec`'s schedule over it. */
export function makeCase(spec: Spec): { opt: optim.SGD; sched: AnySchedule } {
  const opt = makeOptimizer();
  return { opt, sched: makeSchedule(opt, spec) };
}
