/**
 * LR schedules load the state dict PyTorch 1.13 saved, and give one back
 * that torch resumes from (tests/fixtures/scheduler_torch_state/, written
 * by scripts/make_scheduler_torch_state_fixtures.py). For every schedule
 * class: torch's optimizer and schedule state dicts, read with io.loadPth,
 * are loaded into a freshly made SGD and schedule, which must then step to
 * the very lrs (and momenta) torch's run went on with. The other way:
 * `stateDict({ format: "torch" })` gives torch's dict back, and io.save
 * writes what ours/<name>.pth holds, which the generator checked torch
 * resumes from. Then what is refused: an attribute the schedule was made
 * with otherwise, another class's dict, wrong group counts, a non-dict, NaN,
 * SequentialLR's schedules miscounted; and nothing changes when a load
 * fails.
 *
 * Tensors (the parameters) are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { io, type optim } from "../mod.ts";
import type { TorchSchedulerStateDict } from "../src/optim/torch_scheduler_state.ts";
import { loadFixture, testDevice } from "./helpers.ts";
import { type AnySchedule, makeCase, type Spec } from "./scheduler_torch_state_cases.ts";

const DIR = new URL("./fixtures/scheduler_torch_state/", import.meta.url).pathname;

interface Case {
  name: string;
  ours: Spec;
  /** Plain steps, or the metrics (ReduceLROnPlateau) / epochs (step(epoch)) stepped with. */
  before: number | number[];
  after: number | number[];
  lrs: number[][];
  momenta?: number[][];
}

const fx = loadFixture<{ cases: Case[] }>("scheduler_torch_state/expected.json");

interface Checkpoint {
  optimizer: optim.TorchOptimizerStateDict;
  scheduler: TorchSchedulerStateDict;
}

const load = async (path: string) =>
  await io.loadPth(path, { device: testDevice }) as unknown as Checkpoint;
const caseNamed = (name: string) => fx.cases.find((c) => c.name === name)!;

/** Frees the parameters of a case's optimizer. */
const free = (opt: optim.SGD) =>
  opt.paramGroups.forEach((g) => g.params.forEach((p) => p.dispose()));

/** Steps `sched` as the plan says: plain steps, or with each metric / epoch. */
function stepsOf(sched: AnySchedule, plan: number | number[]): (() => void)[] {
  // deno-lint-ignore no-explicit-any
  const s = sched as any;
  if (typeof plan === "number") return Array.from({ length: plan }, () => () => s.step());
  return plan.map((v) => () => s.step(v));
}

/** A fresh case, with torch's checkpoint loaded into it. */
async function resumed(c: Case) {
  const ckpt = await load(`${DIR}${c.name}.pth`);
  const { opt, sched } = makeCase(c.ours);
  opt.loadStateDict(ckpt.optimizer);
  sched.loadStateDict(ckpt.scheduler);
  return { opt, sched, ckpt };
}

/** Relative closeness, as exact where torch's value is (rtol 1e-12). */
function assertLrs(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, what);
  got.forEach((v, i) => {
    const tol = 1e-12 * Math.abs(want[i]);
    assert.ok(Math.abs(v - want[i]) <= tol, `${what} group ${i}: ${v}, torch ${want[i]}`);
  });
}

/** torch's dict without what stateDict({ format: "torch" }) leaves out (see its module doc). */
function withoutLeftOut(sd: TorchSchedulerStateDict): TorchSchedulerStateDict {
  const out: TorchSchedulerStateDict = { ...sd };
  if ("milestones" in out && !("step_size" in out)) delete out.milestones;
  if (Array.isArray(out._schedulers)) {
    out._schedulers = out._schedulers.map((s) => withoutLeftOut(s as TorchSchedulerStateDict));
  }
  return out;
}

for (const c of fx.cases) {
  Deno.test(`scheduler torch state: ${c.name}: torch's ${c.ours.cls} state dict continues torch's run`, async () => {
    const { opt, sched } = await resumed(c);
    try {
      stepsOf(sched, c.after).forEach((step, k) => {
        step();
        assertLrs(opt.paramGroups.map((g) => g.lr), c.lrs[k], `step ${k} lr`);
        if (c.momenta) {
          assertLrs(opt.paramGroups.map((g) => g.momentum), c.momenta[k], `step ${k} momentum`);
        }
      });
    } finally {
      free(opt);
    }
  });

  Deno.test(`scheduler torch state: ${c.name}: stateDict({ format: "torch" }) gives torch's dict, as ours/${c.name}.pth`, async () => {
    const { opt, sched, ckpt } = await resumed(c);
    const tmp = await Deno.makeTempFile({ suffix: ".pth" });
    try {
      const sd = sched.stateDict({ format: "torch" });
      assert.deepEqual(sd, withoutLeftOut(ckpt.scheduler));
      // Written as the file torch was checked to resume from (by the generator).
      await io.save(tmp, { scheduler: sd });
      const checked = await load(`${DIR}ours/${c.name}.pth`);
      assert.deepEqual((await load(tmp)).scheduler, checked.scheduler);
      // And it loads back here: the run goes on as torch's.
      const again = makeCase(c.ours);
      again.opt.loadStateDict(ckpt.optimizer);
      again.sched.loadStateDict(checked.scheduler);
      const steps = stepsOf(again.sched, c.after);
      steps.forEach((step) => step());
      assertLrs(again.opt.paramGroups.map((g) => g.lr), c.lrs.at(-1)!, "last lr");
      free(again.opt);
    } finally {
      free(opt);
      await Deno.remove(tmp);
    }
  });
}

/** torch's dict of case `name`, edited. */
async function edited(
  name: string,
  edit: (sd: TorchSchedulerStateDict) => void,
): Promise<TorchSchedulerStateDict> {
  const sd = (await load(`${DIR}${name}.pth`)).scheduler;
  edit(sd);
  return sd;
}

/** Loading `sd` into case `name`'s schedule throws `message`, and changes nothing. */
function refuses(spec: Spec, sd: unknown, message: RegExp): void {
  const { opt, sched } = makeCase(spec);
  try {
    const before = JSON.stringify(sched.stateDict());
    const lrs = JSON.stringify(opt.paramGroups.map((g) => g.lr));
    assert.throws(() => sched.loadStateDict(sd as TorchSchedulerStateDict), message);
    assert.equal(JSON.stringify(sched.stateDict()), before, "the schedule changed");
    assert.equal(JSON.stringify(opt.paramGroups.map((g) => g.lr)), lrs, "the lrs changed");
  } finally {
    free(opt);
  }
}

const spec = (name: string) => caseNamed(name).ours;

Deno.test("scheduler torch state: an attribute the schedule was made with otherwise is named, both values", async () => {
  const sd = await edited("step", () => {});
  refuses(
    { cls: "StepLR", options: { stepSize: 2, gamma: 0.5 } },
    sd,
    /StepLR\.loadStateDict: torch's state dict: step_size is 3, this schedule was made with stepSize 2/,
  );
  refuses(
    { cls: "MultiStepLR", options: { milestones: [2, 5, 7], gamma: 0.5 } },
    (await load(`${DIR}multistep.pth`)).scheduler,
    /milestones is \{"2":1,"5":2,"7":1\}, this schedule was made with milestones \{"2":1,"5":1,"7":1\}/,
  );
  refuses(
    { cls: "CosineAnnealingLR", options: { tMax: 4, etaMin: 0 } },
    (await load(`${DIR}cosine.pth`)).scheduler,
    /eta_min is 0.01, this schedule was made with etaMin 0\b/,
  );
  refuses(
    { cls: "OneCycleLR", options: { maxLr: [1, 0.5], totalSteps: 12 } },
    (await load(`${DIR}onecycle.pth`)).scheduler,
    /total_steps is 10, this schedule was made with totalSteps 12/,
  );
  refuses(
    { cls: "OneCycleLR", options: { maxLr: [1, 0.5], totalSteps: 10, annealStrategy: "linear" } },
    (await load(`${DIR}onecycle.pth`)).scheduler,
    /_anneal_func_type is "cos", this schedule was made with annealStrategy "linear"/,
  );
  refuses(
    { cls: "OneCycleLR", options: { maxLr: [1, 0.5], totalSteps: 10, pctStart: 0.4 } },
    (await load(`${DIR}onecycle.pth`)).scheduler,
    /_schedule_phases is .* made with pctStart and threePhase/,
  );
  refuses(
    { cls: "CyclicLR", options: { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2, stepSizeDown: 3 } },
    (await load(`${DIR}cyclic.pth`)).scheduler,
    /mode is "exp_range", this schedule was made with mode "triangular"/,
  );
  refuses(
    { cls: "ReduceLROnPlateau", options: { factor: 0.5, patience: 2, minLr: [0, 0.02] } },
    (await load(`${DIR}plateau.pth`)).scheduler,
    /ReduceLROnPlateau\.loadStateDict: torch's state dict: patience is 1, .* patience 2/,
  );
});

Deno.test("scheduler torch state: another class's dict is refused, naming the class it looks like", async () => {
  refuses(
    spec("cosine"),
    (await load(`${DIR}step.pth`)).scheduler,
    /CosineAnnealingLR\.loadStateDict: torch's state dict: has step_size, gamma, which torch's CosineAnnealingLR has not; lacks T_max, eta_min, which torch's CosineAnnealingLR has: it looks like torch's StepLR/,
  );
  refuses(
    spec("exponential"),
    (await load(`${DIR}lambda.pth`)).scheduler,
    /looks like torch's LambdaLR or MultiplicativeLR/,
  );
  refuses(
    spec("step"),
    (await load(`${DIR}plateau.pth`)).scheduler,
    /like torch's ReduceLROnPlateau/,
  );
  refuses(spec("plateau"), (await load(`${DIR}step.pth`)).scheduler, /like torch's StepLR/);
  refuses(spec("chained"), (await load(`${DIR}sequential_after.pth`)).scheduler, /SequentialLR/);
});

Deno.test("scheduler torch state: wrong group counts, non-dicts and NaN are refused", async () => {
  const one = await edited("step", (sd) => (sd.base_lrs = [0.1]));
  refuses(spec("step"), one, /base_lrs has 1 values, this schedule 2 \(one per parameter group\)/);
  const last = await edited("step", (sd) => (sd._last_lr = [0.1, 0.05, 0.01]));
  refuses(spec("step"), last, /_last_lr has 3 values, this schedule 2/);
  const nan = await edited("step", (sd) => (sd.last_epoch = NaN));
  refuses(spec("step"), nan, /last_epoch must be a finite integer >= -1, got null/);
  const lr = await edited("exponential", (sd) => (sd.base_lrs = [NaN, 0.05]));
  refuses(spec("exponential"), lr, /base_lrs must be a list of finite numbers >= 0/);
  const tCur = await edited("restarts", (sd) => (sd.T_cur = NaN));
  refuses(spec("restarts"), tCur, /T_cur must be a finite number >= 0/);
  const best = await edited("plateau", (sd) => (sd.best = NaN));
  refuses(spec("plateau"), best, /best must be a number/);
  const lambdas = await edited("lambda", (sd) => (sd.lr_lambdas = [null, { k: 2 }]));
  refuses(spec("lambda"), lambdas, /lr_lambdas\[1\] holds the attributes of a callable object/);
  const count = await edited("lambda", (sd) => (sd.lr_lambdas = [null]));
  refuses(spec("lambda"), count, /lr_lambdas must be a list of 2 entries/);
  // Not a dict: neither layout.
  for (const bad of [null, [1, 2], new Map([["last_epoch", 1]]), "sd"]) {
    refuses(spec("step"), bad, /StepLR\.loadStateDict: expected \{ lastEpoch, baseLrs \}/);
  }
  refuses(spec("plateau"), null, /ReduceLROnPlateau\.loadStateDict: unexpected null/);
});

Deno.test("scheduler torch state: SequentialLR's and ChainedScheduler's schedules are loaded each, or none", async () => {
  const fewer = await edited("sequential_after", (sd) => {
    sd._schedulers = (sd._schedulers as unknown[]).slice(0, 1);
  });
  refuses(
    spec("sequential_after"),
    fewer,
    /SequentialLR\.loadStateDict: torch's state dict: _schedulers has 1 schedules, this SequentialLR 2/,
  );
  const milestones = await edited("sequential_after", (sd) => (sd._milestones = [4]));
  refuses(spec("sequential_after"), milestones, /_milestones is \[4\], .* milestones \[3\]/);
  // The second schedule's dict is wrong: the first is not loaded either.
  const child = await edited("sequential_after", (sd) => {
    (sd._schedulers as TorchSchedulerStateDict[])[1].gamma = 0.1;
  });
  refuses(
    spec("sequential_after"),
    child,
    /_schedulers\[1\] \(MultiStepLR\): torch's state dict: gamma is 0.1, this schedule was made with gamma 0.5/,
  );
  const chained = await edited("chained", (sd) => {
    (sd._schedulers as TorchSchedulerStateDict[])[0].base_lrs = [NaN, NaN];
  });
  refuses(spec("chained"), chained, /ChainedScheduler.*_schedulers\[0\] \(ConstantLR\).*base_lrs/);
});

Deno.test("scheduler torch state: torch 1.13's function attributes are ignored, as torch's load ignores them", async () => {
  const c = caseNamed("onecycle");
  const sd = await edited("onecycle", (sd) => {
    delete sd._anneal_func_type; // torch 1.13's dict: anneal_func, a method io.load cannot give
    sd.anneal_func = null;
  });
  const { opt, sched } = makeCase(c.ours);
  try {
    opt.loadStateDict((await load(`${DIR}onecycle.pth`)).optimizer);
    sched.loadStateDict(sd);
    stepsOf(sched, 1)[0]();
    assertLrs(opt.paramGroups.map((g) => g.lr), c.lrs[0], "lr");
  } finally {
    free(opt);
  }
  const cyclic = await edited("cyclic", (sd) => (sd._scale_fn_ref = null));
  const made = makeCase(caseNamed("cyclic").ours);
  made.sched.loadStateDict(cyclic);
  assert.equal(made.sched.lastEpoch, 4);
  free(made.opt);
});

Deno.test("scheduler torch state: stateDict's format is lits or torch", () => {
  const { opt, sched } = makeCase(spec("step"));
  const plateau = makeCase(spec("plateau"));
  try {
    for (const s of [sched, plateau.sched]) {
      assert.throws(
        () => s.stateDict({ format: "pytorch" } as never),
        /stateDict: format must be "lits" .* or "torch"/,
      );
      assert.throws(() => s.stateDict({ fmt: "torch" } as never), /unknown option 'fmt'/);
      assert.equal(s.stateDict({ format: "lits" }).lastEpoch, 0);
    }
    assert.deepEqual(Object.keys(sched.stateDict()), ["lastEpoch", "baseLrs", "lastLr"]);
  } finally {
    free(opt);
    free(plateau.opt);
  }
});

Deno.test("scheduler torch state: the optimizer's torch dict carries what torch's schedules keep in the groups", async () => {
  // torch's OneCycleLR reads max_lr, min_lr and the momenta from the groups
  // at each step, SWALR swa_lr: without them torch's load then step fails.
  const KEYS = ["initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum", "swa_lr"];
  for (const name of ["onecycle", "onecycle_linear3", "swalr", "step"]) {
    const { opt, ckpt } = await resumed(caseNamed(name));
    const ours = opt.stateDict({ format: "torch" }).param_groups;
    ckpt.optimizer.param_groups.forEach((g, i) => {
      const torchGroup = g as unknown as Record<string, unknown>;
      const ourGroup = ours[i] as unknown as Record<string, unknown>;
      for (const k of KEYS) assert.equal(ourGroup[k], torchGroup[k], `${name} group ${i} ${k}`);
    });
    free(opt);
  }
});
