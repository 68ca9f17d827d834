/**
 * RMSprop, Adagrad, Adamax, NAdam and RAdam against torch.optim 1.13
 * (tests/fixtures/optimizers_more.json, written by
 * scripts/make_optimizers_more_fixtures.py): 8 steps on a quadratic loss,
 * comparing every parameter, every state tensor (torch's names), each
 * group's lr and the step count after construction and after each step,
 * with a StepLR in some runs; a stateDict() round trip mid-run and a state
 * dict in torch's layout, each continuing torch's trajectory; then the
 * defaults and the argument checks.
 *
 * The fixture runs make their tensors on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { models, type nn, optim, randn, scope, type Tensor, tensor, train } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

type Name = "RMSprop" | "Adagrad" | "Adamax" | "NAdam" | "RAdam";
// deno-lint-ignore no-explicit-any
type Options = Record<string, any>;

interface Snapshot {
  params: Stored[];
  lr: number[];
  state: Record<string, { step: number; tensors: Record<string, Stored> }>;
  loss?: number;
}

interface Run {
  optimizer: Name;
  options: Options;
  groups: { params: number[]; options: Options }[];
  scheduler?: { stepSize: number; gamma: number };
  trace: Snapshot[];
}

const fx = loadFixture<{
  steps: number;
  problem: Record<"a0" | "c0" | "a1" | "c1", Stored>;
  defaults: Record<Name, Options>;
  runs: Run[];
}>("optimizers_more.json");

type AnyOptimizer = optim.RMSprop | optim.Adagrad | optim.Adamax | optim.NAdam | optim.RAdam;
const CLASSES = {
  RMSprop: optim.RMSprop,
  Adagrad: optim.Adagrad,
  Adamax: optim.Adamax,
  NAdam: optim.NAdam,
  RAdam: optim.RAdam,
} as const;

const [RTOL, ATOL] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
const dev = (s: Stored, requiresGrad = false) =>
  fromStored(s, { requiresGrad, device: testDevice });

/** The optimizer of a run over [p0, p1, p2], with its groups as the fixture made them. */
function make(run: Run, params: Tensor[], options: Options = run.options): AnyOptimizer {
  const whole = run.groups.length === 1 && Object.keys(run.groups[0].options).length === 0;
  const groups = whole
    ? run.groups[0].params.map((i) => params[i])
    : run.groups.map((g) => ({ params: g.params.map((i) => params[i]), options: g.options }));
  // deno-lint-ignore no-explicit-any
  return new (CLASSES[run.optimizer] as any)(groups, options);
}

/** L = sum(a0 (p0 - c0)^2) + sum(a1 (p1 - c1)^2); p2 gets no gradient. */
function loss(params: Tensor[]): Tensor {
  const { a0, c0, a1, c1 } = fx.problem;
  return dev(a0).mul(params[0].sub(dev(c0)).pow(2)).sum()
    .add(dev(a1).mul(params[1].sub(dev(c1)).pow(2)).sum());
}

function label(run: Run): string {
  const groups = run.groups.length > 1 ? ` groups ${JSON.stringify(run.groups)}` : "";
  const sched = run.scheduler ? ` StepLR ${JSON.stringify(run.scheduler)}` : "";
  return `${run.optimizer} ${JSON.stringify(run.options)}${groups}${sched}`;
}

/** Parameters, lr and the whole state against torch's snapshot after `step` steps. */
function check(opt: AnyOptimizer, params: Tensor[], want: Snapshot, what: string): void {
  const tol = { rtol: RTOL, atol: ATOL };
  params.forEach((p, i) => assertClose(p, want.params[i].data, { ...tol, what: `${what} p${i}` }));
  assertClose(opt.paramGroups.map((g) => g.lr), want.lr, { ...tol, what: `${what} lr` });
  const ours = [...params.entries()].filter(([, p]) => opt.state.has(p)).map(([i]) => `${i}`);
  assert.deepEqual(ours, Object.keys(want.state), `${what}: parameters with state`);
  for (const [i, w] of Object.entries(want.state)) {
    const s = opt.state.get(params[+i])!;
    assert.equal(s.step, w.step, `${what} p${i} step`);
    assert.deepEqual([...s.tensors.keys()].sort(), Object.keys(w.tensors).sort(), `${what} p${i}`);
    for (const [k, t] of Object.entries(w.tensors)) {
      const got = s.tensors.get(k)!;
      assert.deepEqual([...got.shape], t.shape, `${what} p${i} ${k} shape`);
      assertClose(got, t.data, { ...tol, what: `${what} p${i} ${k}` });
    }
  }
}

/** Steps [from, to) of a run, checked against the trace after each. */
function steps(
  run: Run,
  opt: AnyOptimizer,
  sched: optim.StepLR | null,
  params: Tensor[],
  from: number,
  to: number,
): void {
  for (let t = from; t < to; t++) {
    opt.zeroGrad();
    const l = loss(params);
    assertClose([l.item()], [run.trace[t + 1].loss!], {
      rtol: RTOL,
      atol: ATOL,
      what: `${label(run)}: loss before step ${t + 1}`,
    });
    l.backward();
    opt.step();
    sched?.step();
    check(opt, params, run.trace[t + 1], `${label(run)}: after step ${t + 1}`);
  }
}

const schedule = (run: Run, opt: AnyOptimizer) =>
  run.scheduler ? new optim.StepLR(opt, { ...run.scheduler }) : null;

const start = (run: Run, snap = run.trace[0]) => snap.params.map((s) => dev(s, true));

for (const run of fx.runs) {
  Deno.test(`optimizers_more: ${label(run)}: ${fx.steps} steps match torch.optim`, () => {
    scope(() => {
      const params = start(run);
      const opt = make(run, params);
      const sched = schedule(run, opt);
      check(opt, params, run.trace[0], `${label(run)}: after construction`);
      steps(run, opt, sched, params, 0, fx.steps);
      if (sched) assertClose(sched.lastLr, run.trace[fx.steps].lr, { what: "lastLr" });
      opt.dispose();
    });
  });

  Deno.test(`optimizers_more: ${label(run)}: stateDict round trip mid-run continues`, () => {
    scope(() => {
      const half = fx.steps / 2;
      const params = start(run);
      const first = make(run, params);
      const firstSched = schedule(run, first);
      steps(run, first, firstSched, params, 0, half);
      const sd = first.stateDict();
      // Resume on fresh parameters holding the values, with another optimizer's defaults.
      const resumed = params.map((p) => p.detach().clone().requiresGrad_(true));
      const second = make(run, resumed);
      const secondSched = schedule(run, second);
      second.loadStateDict(sd);
      if (firstSched && secondSched) secondSched.loadStateDict(firstSched.stateDict());
      // The first optimizer moving on must not disturb the loaded copy.
      first.zeroGrad();
      loss(params).backward();
      first.step();
      steps(run, second, secondSched, resumed, half, fx.steps);
      first.dispose();
      second.dispose();
    });
  });

  if (run.scheduler) continue;
  Deno.test(`optimizers_more: ${label(run)}: a torch state dict (torch's names) loads`, () => {
    scope(() => {
      const half = fx.steps / 2;
      const snap = run.trace[half];
      const params = start(run, snap);
      // A fresh optimizer made with other hyper-parameters: the dict's replace them.
      const opt = make(run, params, { ...run.options, lr: 0.5 });
      // torch numbers parameters group by group: [p0, p2] then [p1] in the two-group runs.
      const order = run.groups.flatMap((g) => g.params);
      const state = new Map(
        Object.entries(snap.state).map(([i, s]) => [order.indexOf(+i), {
          step: s.step,
          tensors: new Map(Object.entries(s.tensors).map(([k, t]) => [k, dev(t)])),
        }]),
      );
      let next = 0;
      const paramGroups = run.groups.map((g, gi) => {
        const options: Options = { ...run.options, ...g.options, lr: snap.lr[gi] };
        delete options.maximize;
        delete options.centered;
        return { options, params: g.params.map(() => next++) };
      });
      opt.loadStateDict({ state, paramGroups });
      check(opt, params, snap, `${label(run)}: loaded`);
      steps(run, opt, null, params, half, fx.steps);
      opt.dispose();
    });
  });
}

Deno.test("optimizers_more: defaults are torch 1.13's", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  for (const [name, want] of Object.entries(fx.defaults) as [Name, Options][]) {
    const opt = new CLASSES[name]([w]);
    const got: Options = { ...opt.paramGroups[0].options };
    for (const flag of ["maximize", "centered"]) {
      if (flag in opt) got[flag] = (opt as unknown as Options)[flag];
    }
    assert.deepEqual(got, want, name);
    opt.dispose();
  }
  w.dispose();
});

Deno.test("optimizers_more: parameters without a gradient keep their values and get no state", () => {
  scope(() => {
    const a = tensor([1, 2], undefined, { requiresGrad: true });
    const b = tensor([3, 4], undefined, { requiresGrad: true });
    for (const C of [optim.RMSprop, optim.Adamax, optim.NAdam, optim.RAdam]) {
      const opt = new C([a, b]);
      a.grad = null;
      a.mul(a).sum().backward();
      opt.step();
      assert.deepEqual([...b.toArray()], [3, 4], C.name);
      assert.equal(opt.state.has(b), false, C.name);
      assert.equal(opt.state.get(a)?.step, 1, C.name);
      opt.dispose();
    }
  });
});

Deno.test("optimizers_more: a schedule drives their lr (StepLR)", () => {
  scope(() => {
    const w = tensor([1, 2], undefined, { requiresGrad: true });
    for (const C of Object.values(CLASSES)) {
      const opt = new C([w], { lr: 0.1 });
      const sched = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
      w.mul(w).sum().backward();
      opt.step();
      sched.step();
      assertClose([opt.paramGroups[0].lr], [0.05], { what: C.name });
      assert.deepEqual(sched.lastLr, [0.05], C.name);
      opt.zeroGrad();
      opt.dispose();
    }
  });
});

Deno.test("optimizers_more: OneCycleLR cycles RMSprop's momentum and NAdam's beta1; Adagrad has none", () => {
  scope(() => {
    const p = tensor([1, 2], undefined, { requiresGrad: true });
    const rms = new optim.RMSprop([p], { momentum: 0.9 });
    new optim.OneCycleLR(rms, { maxLr: 0.1, totalSteps: 10 });
    assert.equal(rms.paramGroups[0].momentum, 0.95);
    const nadam = new optim.NAdam([p]);
    new optim.OneCycleLR(nadam, { maxLr: 0.1, totalSteps: 10 });
    assert.deepEqual(nadam.paramGroups[0].betas, [0.95, 0.999]);
    const ada = new optim.Adagrad([p]);
    assert.throws(
      () => new optim.OneCycleLR(ada, { maxLr: 0.1, totalSteps: 10 }),
      /Adagrad has no momentum to cycle/,
    );
    new optim.OneCycleLR(ada, { maxLr: 0.1, totalSteps: 10, cycleMomentum: false });
    for (const o of [rms, nadam, ada]) o.dispose();
  });
});

const w = () => tensor([1, 2], undefined, { requiresGrad: true });
const throwsWith = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
// deno-lint-ignore no-explicit-any
const loose = (o: Options): any => o;

Deno.test("optimizers_more: out-of-range hyper-parameters are refused, as torch", () => {
  const p = [w()];
  const cases: [Name, Options, RegExp][] = [
    ["RMSprop", { lr: -1 }, /RMSprop: lr must be >= 0, got -1/],
    ["RMSprop", { eps: -1e-8 }, /RMSprop: eps must be >= 0/],
    ["RMSprop", { momentum: -0.9 }, /RMSprop: momentum must be >= 0/],
    ["RMSprop", { weightDecay: -1 }, /RMSprop: weightDecay must be >= 0/],
    ["RMSprop", { alpha: -0.5 }, /RMSprop: alpha must be >= 0/],
    ["Adagrad", { lr: -1 }, /Adagrad: lr must be >= 0/],
    ["Adagrad", { lrDecay: -1 }, /Adagrad: lrDecay must be >= 0/],
    ["Adagrad", { initialAccumulatorValue: -1 }, /initialAccumulatorValue must be >= 0/],
    ["Adagrad", { eps: -1 }, /Adagrad: eps must be >= 0/],
    ["Adagrad", { weightDecay: -1 }, /Adagrad: weightDecay must be >= 0/],
    ["Adamax", { betas: [1, 0.999] }, /Adamax: betas\[0\] must be in \[0, 1\), got 1/],
    ["Adamax", { betas: [0.9, -0.1] }, /Adamax: betas\[1\] must be in \[0, 1\)/],
    ["Adamax", { eps: -1 }, /Adamax: eps must be >= 0/],
    ["NAdam", { momentumDecay: -1 }, /NAdam: momentumDecay must be >= 0/],
    ["NAdam", { betas: [0.9, 1] }, /NAdam: betas\[1\] must be in \[0, 1\)/],
    ["NAdam", { weightDecay: -1 }, /NAdam: weightDecay must be >= 0/],
    ["RAdam", { lr: -1e-3 }, /RAdam: lr must be >= 0/],
    ["RAdam", { betas: [-0.1, 0.999] }, /RAdam: betas\[0\] must be in \[0, 1\)/],
    ["RAdam", { betas: [0.9] }, /optim.RAdam: betas must be a pair/],
    ["RAdam", { lr: NaN }, /lr must be a number, got null/],
    ["Adamax", { lr: "0.1" }, /lr must be a number, got "0.1"/],
  ];
  for (const [name, options, re] of cases) {
    throwsWith(() => new CLASSES[name](p, loose(options)), re);
  }
  // A group's lr set later is checked too (as a schedule or a hand edit would).
  const opt = new optim.RMSprop(p);
  throwsWith(() => {
    opt.paramGroups[0].lr = -1;
  }, /RMSprop: lr must be >= 0/);
  assert.equal(opt.paramGroups[0].lr, 1e-2);
  // torch allows alpha > 1 (only alpha >= 0 is checked); so does this.
  new optim.RMSprop(p, { alpha: 1.5 }).dispose();
  opt.dispose();
  p[0].dispose();
});

Deno.test("optimizers_more: unknown and torch-only options are refused with what to write", () => {
  const p = [w()];
  throwsWith(() => new optim.RMSprop(p, loose({ weight_decay: 0.1 })), /write 'weightDecay'/);
  throwsWith(() => new optim.Adagrad(p, loose({ lr_decay: 0.1 })), /write 'lrDecay'/);
  throwsWith(
    () => new optim.Adagrad(p, loose({ initial_accumulator_value: 0.1 })),
    /write 'initialAccumulatorValue'/,
  );
  throwsWith(() => new optim.NAdam(p, loose({ momentum_decay: 0.1 })), /write 'momentumDecay'/);
  throwsWith(() => new optim.RAdam(p, loose({ amsgrad: true })), /unknown option 'amsgrad'/);
  // torch 1.13's NAdam and RAdam have no maximize.
  throwsWith(() => new optim.NAdam(p, loose({ maximize: true })), /unknown option 'maximize'/);
  throwsWith(() => new optim.RAdam(p, loose({ maximize: true })), /unknown option 'maximize'/);
  for (const C of Object.values(CLASSES)) {
    throwsWith(() => new C(p, loose({ foreach: true })), /option 'foreach' is not taken/);
  }
  throwsWith(
    () => new optim.RMSprop(p, loose({ differentiable: false })),
    /option 'differentiable' is not taken/,
  );
  throwsWith(() => new optim.RMSprop(p, loose({ centered: 1 })), /centered must be true or false/);
  throwsWith(() => new optim.Adamax(p, loose({ maximize: "yes" })), /maximize must be true or/);
  // torch's positional lr.
  // deno-lint-ignore no-explicit-any
  throwsWith(() => new (optim.RMSprop as any)(p, 0.01, 0.9), /takes at most 2 arguments/);
  throwsWith(() => new optim.Adagrad(p, 0.01 as never), /expected an options object/);
  // A group's own maximize is taken, as torch's (tests/optim_group_flags_test.ts);
  // torch's { params, centered: True } beside params names options.
  new optim.Adagrad([{ params: p, options: { maximize: true } }]).dispose();
  throwsWith(
    () => new optim.RMSprop([loose({ params: p, centered: true })]),
    /param group 0 has centered beside params; hyper-parameters go in options/,
  );
  // torch's { params, lr } beside params.
  throwsWith(
    () => new optim.RAdam([loose({ params: p, weight_decay: 0 })]),
    /hyper-parameters go in options, in camelCase/,
  );
  p[0].dispose();
});

Deno.test("optimizers_more: loadStateDict refuses another class's or a broken state", () => {
  scope(() => {
    const a = w();
    const adam = new optim.Adam([a]);
    a.mul(a).sum().backward();
    adam.step();
    const rms = new optim.RMSprop([a]);
    throwsWith(() => rms.loadStateDict(adam.stateDict()), /does not take|is not RMSprop's/);
    const nadam = new optim.NAdam([a]);
    nadam.step();
    const sd = nadam.stateDict();
    const s = sd.state.get(0)!;
    const noMu = new Map(s.tensors);
    noMu.delete("mu_product");
    const other = new optim.NAdam([a]);
    throwsWith(
      () => other.loadStateDict({ ...sd, state: new Map([[0, { ...s, tensors: noMu }]]) }),
      /state of parameter 0 has no mu_product/,
    );
    const badMu = new Map(s.tensors).set("mu_product", tensor([0.5, 0.5]));
    throwsWith(
      () => other.loadStateDict({ ...sd, state: new Map([[0, { ...s, tensors: badMu }]]) }),
      /mu_product of parameter 0 must be one number/,
    );
    assert.equal(other.state.size, 0, "nothing loaded");
    // Adagrad's state for a parameter missing from the dict starts afresh, from its value.
    const ada = new optim.Adagrad([a], { initialAccumulatorValue: 0.25 });
    ada.loadStateDict({ state: new Map(), paramGroups: ada.stateDict().paramGroups });
    assert.equal(ada.state.size, 0);
    ada.step();
    assertClose(ada.state.get(a)!.tensors.get("sum")!, [0.25 + 4, 0.25 + 16], { what: "sum" });
    for (const o of [adam, rms, nadam, other, ada]) o.dispose();
  });
});

Deno.test("optimizers_more: a checkpoint carries NAdam's 0-d mu_product and Adagrad's sum", async () => {
  for (
    const make of [
      (m: nn.Module) => new optim.NAdam(m.parameters(), { lr: 0.01 }),
      (m: nn.Module) => new optim.Adagrad(m.parameters(), { initialAccumulatorValue: 0.1 }),
    ]
  ) {
    const spec = { name: "simple", options: { imageSize: 16 } };
    using model = models.create(spec.name, spec.options);
    const opt = make(model);
    scope(() => {
      model.forward(randn([2, 1, 16, 16])).sum().backward();
      opt.step();
    });
    const dir = await Deno.makeTempDir();
    const path = `${dir}/checkpoint.safetensors`;
    await train.saveCheckpoint(path, model, opt, {
      model: spec,
      epoch: 0,
      step: 1,
      scheduler: null,
      rng: { seed: "0", counter: "0" },
      loader: { epoch: 0, seed: 0 },
      config: train.DEFAULTS,
      trainer: { history: [], bestValLoss: Infinity, bestEpoch: 0, badValidations: 0, seconds: 0 },
    });
    const loaded = await train.loadCheckpoint(path);
    const again = make(model);
    again.loadStateDict(loaded.optimizerState);
    loaded.dispose();
    await Deno.remove(dir, { recursive: true });
    for (const p of model.parameters()) {
      const a = opt.state.get(p)!, b = again.state.get(p)!;
      assert.equal(b.step, a.step);
      assert.deepEqual([...b.tensors.keys()].sort(), [...a.tensors.keys()].sort());
      for (const [k, t] of a.tensors) {
        assert.deepEqual([...b.tensors.get(k)!.shape], [...t.shape], k);
        assertClose(b.tensors.get(k)!, t.toArray(), { rtol: 0, atol: 0, what: k });
      }
    }
    opt.dispose();
    again.dispose();
  }
});

Deno.test("a parameter that is a transposed view is refused with what to write", () => {
  const q = tensor([[1, 2, 3], [4, 5, 6]]).t();
  q.requiresGrad = true;
  const opt = new optim.RMSprop([q], { lr: 0.1 });
  q.mul(tensor([[1, 2], [3, 4], [5, 6]])).sum().backward();
  assert.throws(
    () => opt.step(),
    /not contiguous \(a view such as x\.t\(\)\); make it with \.contiguous\(\)/,
  );
  opt.dispose();
});
