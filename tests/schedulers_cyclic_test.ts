// CyclicLR and ChainedScheduler against torch 1.13's lr and momentum traces,
// their state dicts, and their bad options.
// Fixtures: /usr/bin/python3 scripts/make_schedulers_cyclic_fixtures.py
import assert from "node:assert/strict";
import { optim, type Tensor, tensor } from "../mod.ts";
import { loadFixture, testDevice } from "./helpers.ts";

interface Trace {
  lrs: number[][];
  momenta: (number | null)[][];
}
const fx = loadFixture<Record<string, Trace>>("schedulers_cyclic.json");

type Opt = optim.SGD | optim.RMSprop | optim.Adagrad | optim.Adam | optim.AdamW;
type Sched = { step(): void; readonly lastLr: number[] };
const L = optim;

function param(): Tensor {
  return tensor([0], undefined, { requiresGrad: true, device: testDevice });
}
const sgd = (momentum = 0.9) => new optim.SGD([param()], { lr: 0.5, momentum });
/** Two groups: lr 0.5 / momentum 0.9 and lr 0.05 / momentum 0.5, as the generator's sgd2(). */
const sgd2 = () =>
  new optim.SGD([{ params: [param()] }, {
    params: [param()],
    options: { lr: 0.05, momentum: 0.5 },
  }], { lr: 0.5, momentum: 0.9 });

function read(opt: Opt): [number[], (number | null)[]] {
  const lrs = opt.paramGroups.map((g) => g.options.lr);
  const momenta = opt.paramGroups.map((g) => {
    const o = g.options as Record<string, unknown>;
    if (Array.isArray(o.betas)) return o.betas[0] as number;
    return "momentum" in o ? o.momentum as number : null;
  });
  return [lrs, momenta];
}

/** As the generator's trace(): step 0 and after each step(); a group added after `addAt` steps. */
function trace<O extends Opt>(opt: O, make: (o: O) => Sched, steps: number, addAt?: number): Trace {
  const sched = make(opt);
  const out: Trace = { lrs: [], momenta: [] };
  const record = () => {
    const [lrs, momenta] = read(opt);
    out.lrs.push(lrs);
    out.momenta.push(momenta);
  };
  record();
  for (let k = 0; k < steps; k++) {
    if (k === addAt) {
      (opt as optim.SGD).addParamGroup({ params: [param()], options: { lr: 0.05, momentum: 0.3 } });
      record();
    }
    sched.step();
    record();
  }
  return out;
}

/** Within 1e-12 of torch's (Math.pow may differ from glibc's pow in the last bit). */
function assertRows(got: (number | null)[][], want: (number | null)[][], what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} steps, torch has ${want.length}`);
  got.forEach((row, i) => {
    assert.equal(row.length, want[i].length, `${what} step ${i}: groups`);
    row.forEach((v, j) => {
      const e = want[i][j];
      if (e === null || v === null) return assert.equal(v, e, `${what} step ${i} group ${j}`);
      assert.ok(
        Math.abs(v - e) <= 1e-12 * Math.abs(e) + 1e-16,
        `${what} step ${i} group ${j}: ${v} vs torch ${e}`,
      );
    });
  });
}

function assertTrace(name: string, got: Trace): void {
  assert.ok(fx[name], `no fixture ${name}`);
  assertRows(got.lrs, fx[name].lrs, `${name} lr`);
  assertRows(got.momenta, fx[name].momenta, `${name} momentum`);
}

const C = (o: Opt, options: optim.CyclicLROptions) => new L.CyclicLR(o, options);

/** Each CyclicLR case as the generator makes it: optimizer, schedule, steps, add-group step. */
const CYCLIC: Record<string, [() => Opt, (o: Opt) => Sched, number, number?]> = {
  triangular: [sgd, (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 }), 30],
  triangular_down: [
    sgd,
    (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, stepSizeDown: 7 }),
    35,
  ],
  triangular2: [
    sgd,
    (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, stepSizeDown: 2, mode: "triangular2" }),
    35,
  ],
  exp_range: [
    sgd,
    (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 5, mode: "exp_range", gamma: 0.95 }),
    35,
  ],
  fn_cycle: [
    sgd,
    (o) => C(o, { baseLr: 0.02, maxLr: 0.2, stepSizeUp: 3, scaleFn: (x) => 1 / x }),
    30,
  ],
  fn_iterations: [
    sgd,
    (o) =>
      C(o, {
        baseLr: 0.02,
        maxLr: 0.2,
        stepSizeUp: 3,
        scaleFn: (x) => 0.97 ** x,
        scaleMode: "iterations",
      }),
    30,
  ],
  fractional: [
    sgd,
    (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 2.5, stepSizeDown: 1.5 }),
    30,
  ],
  groups: [
    sgd2,
    (o) =>
      C(o, {
        baseLr: [0.01, 0.001],
        maxLr: [0.1, 0.02],
        stepSizeUp: 3,
        mode: "triangular2",
        baseMomentum: [0.8, 0.85],
        maxMomentum: [0.9, 0.95],
      }),
    32,
  ],
  groups_exp_range: [
    sgd2,
    (o) => C(o, { baseLr: 0.01, maxLr: [0.1, 0.05], stepSizeUp: 4, mode: "exp_range", gamma: 0.9 }),
    30,
  ],
  sgd_no_momentum: [() => sgd(0), (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 }), 30],
  cycle_off: [
    sgd,
    (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, cycleMomentum: false }),
    30,
  ],
  rmsprop: [
    () => new optim.RMSprop([param()], { lr: 0.5 }),
    (o) => C(o, { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 6, maxMomentum: 0.95 }),
    30,
  ],
  adagrad_off: [
    () => new optim.Adagrad([param()], { lr: 0.5 }),
    (o) => C(o, { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 4, cycleMomentum: false }),
    30,
  ],
  last_epoch: [sgd, (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, lastEpoch: 5 }), 22],
  after_exponential: [
    sgd,
    (o) => {
      new L.ExponentialLR(o, { gamma: 0.9 });
      return C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 });
    },
    30,
  ],
  grown: [sgd, (o) => C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 }), 30, 5],
  sequential_linear_cyclic: [
    sgd,
    (o) =>
      new L.SequentialLR(o, {
        schedulers: [
          new L.LinearLR(o, { startFactor: 0.1, totalIters: 5 }),
          C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3, mode: "exp_range", gamma: 0.9 }),
        ],
        milestones: [5],
      }),
    30,
  ],
  sequential_cyclic_cos: [
    sgd,
    (o) =>
      new L.SequentialLR(o, {
        schedulers: [
          C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 }),
          new L.CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 }),
        ],
        milestones: [12],
      }),
    30,
  ],
};

Deno.test("CyclicLR: lr and momentum follow torch 1.13 in every mode, per group, resumed, grown", () => {
  for (const [name, [opt, make, steps, addAt]] of Object.entries(CYCLIC)) {
    assertTrace(name, trace(opt(), make, steps, addAt));
  }
});

Deno.test("CyclicLR cycles Adam's beta1 as SGD's momentum, beta2 untouched (later torch's)", () => {
  const options = { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4 };
  for (const Adam of [optim.Adam, optim.AdamW]) {
    const opt = new Adam([param()], { lr: 0.5, betas: [0.5, 0.99] });
    const got = trace(opt, (o) => C(o, options), 30);
    assertTrace("triangular", got);
    assert.ok(opt.paramGroups.every((g) => g.options.betas[1] === 0.99));
  }
  const opt = new optim.Adam([param()], { lr: 0.5 });
  assert.throws(
    () => C(opt, { ...options, maxMomentum: 1 }),
    /maxMomentum must be a finite number in \[0, 1\) \(it is Adam's beta1\), or one per group, got 1/,
  );
  assert.equal(opt.paramGroups[0].options.lr, 0.5, "a refused schedule leaves the lr");
});

const CHAINS: Record<string, [() => optim.SGD, (o: optim.SGD) => Sched, number, number?]> = {
  chain_doc: [
    sgd,
    (o) =>
      new L.ChainedScheduler([
        new L.ConstantLR(o, { factor: 0.1, totalIters: 2 }),
        new L.ExponentialLR(o, { gamma: 0.9 }),
      ]),
    30,
  ],
  chain_warm_cos: [
    sgd2,
    (o) =>
      new L.ChainedScheduler([
        new L.LinearLR(o, { startFactor: 0.1, totalIters: 5 }),
        new L.CosineAnnealingLR(o, { tMax: 10, etaMin: 0.01 }),
      ]),
    30,
  ],
  chain_three: [
    sgd2,
    (o) =>
      new L.ChainedScheduler([
        new L.StepLR(o, { stepSize: 3, gamma: 0.5 }),
        new L.MultiStepLR(o, { milestones: [5, 10], gamma: 0.8 }),
        new L.ExponentialLR(o, { gamma: 0.95 }),
      ]),
    30,
  ],
  chain_cyclic_exp: [
    sgd2,
    (o) =>
      new L.ChainedScheduler([
        C(o, { baseLr: [0.01, 0.002], maxLr: 0.1, stepSizeUp: 4 }),
        new L.ExponentialLR(o, { gamma: 0.9 }),
      ]),
    30,
  ],
  chain_exp_cyclic: [
    sgd,
    (o) =>
      new L.ChainedScheduler([
        new L.ExponentialLR(o, { gamma: 0.9 }),
        C(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, mode: "triangular2" }),
      ]),
    30,
  ],
  chain_sequential: [
    sgd,
    (o) =>
      new L.ChainedScheduler([
        new L.SequentialLR(o, {
          schedulers: [
            new L.LinearLR(o, { startFactor: 0.2, totalIters: 4 }),
            new L.ExponentialLR(o, { gamma: 0.9 }),
          ],
          milestones: [4],
        }),
        new L.MultiplicativeLR(o, { lrLambda: () => 0.98 }),
      ]),
    30,
  ],
  chain_cawr_constant: [
    sgd,
    (o) =>
      new L.ChainedScheduler([
        new L.CosineAnnealingWarmRestarts(o, { t0: 4, tMult: 2 }),
        new L.ConstantLR(o, { factor: 0.5, totalIters: 6 }),
      ]),
    30,
  ],
  chain_lambda_step: [
    sgd2,
    (o) =>
      new L.ChainedScheduler([
        new L.LambdaLR(o, { lrLambda: (e) => 1 / (e + 1) }),
        new L.StepLR(o, { stepSize: 4, gamma: 0.5 }),
      ]),
    30,
  ],
  chain_onecycle_exp: [
    sgd,
    (o) =>
      new L.ChainedScheduler([
        new L.OneCycleLR(o, { maxLr: 0.2, totalSteps: 40 }),
        new L.ExponentialLR(o, { gamma: 0.98 }),
      ]),
    30,
  ],
  chain_nested: [
    sgd,
    (o) =>
      new L.ChainedScheduler([
        new L.ChainedScheduler([
          new L.ConstantLR(o, { factor: 0.5, totalIters: 3 }),
          new L.ExponentialLR(o, { gamma: 0.9 }),
        ]),
        new L.StepLR(o, { stepSize: 5 }),
      ]),
    30,
  ],
  chain_grown: [
    sgd,
    (o) =>
      new L.ChainedScheduler([
        new L.ExponentialLR(o, { gamma: 0.9 }),
        new L.StepLR(o, { stepSize: 3, gamma: 0.5 }),
      ]),
    30,
    4,
  ],
};

Deno.test("ChainedScheduler composes the schedules as torch 1.13's, lastLr the last one's", () => {
  for (const [name, [opt, make, steps, addAt]] of Object.entries(CHAINS)) {
    assertTrace(name, trace(opt(), make, steps, addAt));
  }
  const opt = sgd();
  const chain = CHAINS.chain_doc[1](opt) as optim.ChainedScheduler;
  assert.ok(chain instanceof optim.LRScheduler);
  assert.equal(chain.schedulers.length, 2);
  chain.step();
  chain.step();
  assert.deepEqual(chain.lastLr, [opt.paramGroups[0].options.lr]);
  assert.equal(chain.lastEpoch, 2);
  assert.ok(chain.schedulers.every((s) => s.lastEpoch === 2));
});

Deno.test("stateDict resumes CyclicLR and ChainedScheduler mid-run, through JSON", () => {
  const resume = <O extends Opt>(
    name: string,
    opt: () => O,
    make: (o: O) => Sched & optim.LRScheduler,
    at: number,
    steps: number,
  ) => {
    const o1 = opt(), s1 = make(o1);
    for (let k = 0; k < at; k++) s1.step();
    const sd = JSON.parse(JSON.stringify(s1.stateDict()));
    const o2 = opt(), s2 = make(o2);
    (o2 as optim.SGD).loadStateDict((o1 as optim.SGD).stateDict());
    s2.loadStateDict(sd);
    assert.equal(s2.lastEpoch, at, `${name}: lastEpoch`);
    const got: Trace = { lrs: [], momenta: [] };
    for (let k = at; k < steps; k++) {
      s2.step();
      const [lrs, momenta] = read(o2);
      got.lrs.push(lrs);
      got.momenta.push(momenta);
    }
    assertRows(got.lrs, fx[name].lrs.slice(at + 1), `${name} resumed lr`);
    assertRows(got.momenta, fx[name].momenta.slice(at + 1), `${name} resumed momentum`);
  };
  for (const name of ["triangular2", "groups", "fn_iterations", "cycle_off", "exp_range"]) {
    const [opt, make, steps] = CYCLIC[name];
    resume(name, opt, make as (o: Opt) => optim.CyclicLR, 9, steps);
  }
  for (const name of ["chain_cyclic_exp", "chain_sequential", "chain_nested", "chain_three"]) {
    const [opt, make, steps] = CHAINS[name];
    resume(name, opt, make as (o: optim.SGD) => optim.ChainedScheduler, 11, steps);
  }
  // The bounds come back too (torch restores its whole __dict__).
  const o = sgd2();
  const a = C(o, { baseLr: [0.01, 0.001], maxLr: [0.1, 0.02], stepSizeUp: 3 });
  const b = C(sgd2(), { baseLr: 0.2, maxLr: 0.3, stepSizeUp: 3 });
  b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
  assert.deepEqual(
    [b.baseLrs, b.maxLrs, b.baseMomentums, b.maxMomentums],
    [[0.01, 0.001], [0.1, 0.02], [0.8, 0.8], [0.9, 0.9]],
  );
  assert.throws(
    () => b.loadStateDict({ lastEpoch: 3, baseLrs: [0.01, 0.001] }),
    /CyclicLR\.loadStateDict: expected \{ lastEpoch, baseLrs, maxLrs, baseMomentums, maxMomentums \}/,
  );
  const off = C(sgd2(), { baseLr: 0.2, maxLr: 0.3, cycleMomentum: false });
  assert.throws(() => off.loadStateDict(a.stateDict()), /cycleMomentum: false gives/);
  const chain = new L.ChainedScheduler([C(o, { baseLr: 0.01, maxLr: 0.1 })]);
  assert.throws(() => chain.loadStateDict({ lastEpoch: 1, baseLrs: [0.1, 0.1] }), /CyclicLR\./);
});

Deno.test("CyclicLR's bad options say what to write, and leave the optimizer as it was", () => {
  const loose = <T>(v: unknown) => v as T;
  const opt = sgd();
  const bad = (f: () => unknown, re: RegExp) => {
    assert.throws(f, re);
    assert.equal(opt.paramGroups[0].options.lr, 0.5, `${re}: the lr was moved`);
  };
  const ok = { baseLr: 0.01, maxLr: 0.1 };
  bad(() => new L.CyclicLR(opt, loose(undefined)), /CyclicLR: options are required; write/);
  bad(
    () => Reflect.construct(L.CyclicLR, [opt, 0.01, 0.1]),
    /optim\.CyclicLR: takes at most 2 arguments.*new optim\.CyclicLR\(opt, \{ baseLr/,
  );
  bad(
    () => C(opt, loose({ maxLr: 0.1 })),
    /baseLr must be a finite number >= 0.*got undefined; new optim\.CyclicLR/,
  );
  bad(
    () => C(opt, loose({ base_lr: 0.01, maxLr: 0.1 })),
    /unknown option 'base_lr' \(write 'baseLr'\)/,
  );
  bad(() => C(opt, loose({ ...ok, step_size_up: 4 })), /write 'stepSizeUp'/);
  bad(
    () => C(opt, { baseLr: [0.01, 0.02], maxLr: 0.1 }),
    /baseLr has 2 values for 1 parameter groups/,
  );
  bad(() => C(opt, { baseLr: 0.01, maxLr: -0.1 }), /maxLr must be a finite number >= 0/);
  bad(() => C(opt, { baseLr: NaN, maxLr: 0.1 }), /baseLr must be a finite number/);
  bad(() => C(opt, { ...ok, stepSizeUp: 0 }), /stepSizeUp must be a finite number > 0, got 0/);
  bad(() => C(opt, { ...ok, stepSizeDown: -1 }), /stepSizeDown must be a finite number >= 0/);
  bad(
    () => C(opt, { ...ok, mode: loose("cosine") }),
    /mode must be "triangular", "triangular2", "exp_range", got "cosine"/,
  );
  bad(() => C(opt, { ...ok, gamma: 0.9 }), /gamma is only used with mode "exp_range"/);
  bad(() => C(opt, { ...ok, mode: "exp_range", gamma: -1 }), /gamma must be a finite number > 0/);
  bad(
    () => C(opt, { ...ok, mode: "exp_range", scaleFn: () => 1 }),
    /with a scaleFn, mode "exp_range" is not used \(torch ignores it\)/,
  );
  bad(
    () => C(opt, { ...ok, mode: "triangular2", scaleMode: "iterations" }),
    /scaleMode is only used with a scaleFn; mode "triangular2" scales by the cycle/,
  );
  bad(
    () => C(opt, { ...ok, scaleMode: loose("batch") }),
    /scaleMode must be "cycle" or "iterations"/,
  );
  bad(() => C(opt, { ...ok, scaleFn: loose(0.5) }), /scaleFn must be a function/);
  bad(
    () => C(opt, { ...ok, scaleFn: () => NaN }),
    /scaleFn\(1\) returned NaN, not a finite number/,
  );
  bad(() => C(opt, { ...ok, cycleMomentum: loose("yes") }), /cycleMomentum must be true or false/);
  bad(
    () => C(opt, { ...ok, cycleMomentum: false, baseMomentum: 0.8 }),
    /baseMomentum is only used with cycleMomentum: true/,
  );
  bad(() => C(opt, { ...ok, baseMomentum: [0.8, 0.9] }), /baseMomentum has 2 values for 1/);
  bad(() => C(opt, { ...ok, lastEpoch: -2 }), /lastEpoch must be an integer >= -1/);
  bad(() => C(opt, { ...ok, lastEpoch: 1.5 }), /lastEpoch must be an integer >= -1/);
  bad(() => C(loose(null), ok), /CyclicLR: expected an optimizer first/);
  const adagrad = new optim.Adagrad([param()], { lr: 0.5 });
  assert.throws(
    () => C(adagrad, ok),
    /optim\.CyclicLR: Adagrad has no momentum or beta1 to cycle; pass cycleMomentum: false/,
  );
  const s = C(opt, { ...ok, scaleFn: (x) => (x < 2 ? 1 : NaN), stepSizeUp: 1 });
  s.step();
  assert.throws(() => s.step(), /scaleFn\(2\) returned NaN/);
  assert.equal(s.lastEpoch, 1, "the refused step moved nothing");
  assert.throws(
    () => loose<(e: number) => void>(s.step.bind(s))(3),
    /CyclicLR\.step: takes at most 0 arguments, got 1/,
  );
  assert.throws(
    () => loose<Record<string, unknown>>(s).max_lrs,
    /has no \.max_lrs: read sched\.maxLrs/,
  );
  assert.throws(() => loose<{ get_last_lr(): void }>(s).get_last_lr(), /read sched\.lastLr/);
});

Deno.test("ChainedScheduler's bad arguments say what to write", () => {
  const loose = <T>(v: unknown) => v as T;
  const opt = sgd(), other = sgd();
  const exp = new L.ExponentialLR(opt, { gamma: 0.9 });
  assert.throws(() => new L.ChainedScheduler([]), /takes a non-empty list of step-count schedules/);
  assert.throws(
    () => new L.ChainedScheduler(loose([new L.ReduceLROnPlateau(opt)])),
    /not ReduceLROnPlateau\): new optim\.ChainedScheduler\(\[warmup, decay\]\)/,
  );
  assert.throws(() => new L.ChainedScheduler(loose(exp)), /non-empty list/);
  assert.throws(
    () => new L.ChainedScheduler([exp, new L.StepLR(other, { stepSize: 2 })]),
    /every schedule must be over one optimizer; schedule 1 is over another/,
  );
  assert.throws(
    () => Reflect.construct(L.ChainedScheduler, [opt, [exp]]),
    /ChainedScheduler: takes at most 1 argument/,
  );
  const chain = new L.ChainedScheduler([exp]);
  assert.throws(
    () => loose<(e: number) => void>(chain.step.bind(chain))(3),
    /ChainedScheduler\.step: takes at most 0 arguments/,
  );
  // torch's SequentialLR fails on a chain too (it has no last_epoch): put the chain outside.
  assert.throws(
    () => new L.SequentialLR(opt, { schedulers: [chain, exp], milestones: [2] }),
    /ChainedScheduler cannot take turns in a SequentialLR.*new optim\.ChainedScheduler\(\[sequential, other\]\)/,
  );
});
