/**
 * The review fixes of the optimizers and schedules, against torch 1.13
 * (tests/fixtures/review_fixes.json, written by
 * scripts/make_review_fixes_fixtures.py):
 *
 * - Nesterov SGD under CyclicLR with baseMomentum 0 trains through the
 *   batch where the momentum is 0, as torch's (which checks Nesterov's
 *   momentum at construction only, and steps plain SGD at momentum 0);
 * - a schedule's step sets every group's options or none, its count with
 *   them;
 * - `lastLr` is saved by `stateDict()` and restored by `loadStateDict`, as
 *   torch's `_last_lr`.
 *
 * The tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { optim, type Tensor, tensor } from "../mod.ts";
import { assertClose, loadFixture, testDevice } from "./helpers.ts";

interface SgdTrace {
  w0: number[];
  weightDecay: number;
  steps: { momentum: number; lastLr: number[]; w: number[] }[];
}

interface LastLrCase {
  name: string;
  steps: number;
  saved: number[];
  loaded: number[];
  groupLr: number;
}

const fx = loadFixture<{ sgd: SgdTrace[]; lastLr: LastLrCase[] }>("review_fixes.json");

const param = (v: number[]): Tensor =>
  tensor(v, undefined, { requiresGrad: true, device: testDevice });

/** One step of L = sum(w^3): the gradient 3 w^2. */
function cubeStep(opt: optim.Optimizer<optim.GroupOptions>, ws: Tensor[]): void {
  opt.zeroGrad();
  for (const w of ws) w.mul(w).mul(w).sum().backward();
  opt.step();
}

for (const [k, trace] of fx.sgd.entries()) {
  Deno.test(
    `SGD nesterov under CyclicLR baseMomentum 0 trains as torch's (${testDevice}, weightDecay ${trace.weightDecay})`,
    () => {
      const w = param(trace.w0);
      const opt = new optim.SGD([w], {
        lr: 0.1,
        momentum: 0.9,
        nesterov: true,
        weightDecay: trace.weightDecay,
      });
      const sched = new optim.CyclicLR(opt, {
        baseLr: 0.01,
        maxLr: 0.1,
        stepSizeUp: 2,
        baseMomentum: 0,
      });
      trace.steps.forEach((want, i) => {
        cubeStep(opt as never, [w]);
        sched.step();
        const what = `trace ${k}, step ${i + 1}`;
        assert.equal(sched.lastEpoch, i + 1, `${what}: lastEpoch`);
        assertClose([opt.paramGroups[0].momentum], [want.momentum], { rtol: 1e-12, what });
        assertClose(sched.lastLr, want.lastLr, { rtol: 1e-12, what });
        assertClose(w, want.w, { rtol: 1e-5, atol: 1e-6, what: `${what}: w` });
      });
    },
  );
}

Deno.test(`SGD: nesterov with momentum 0 steps as plain SGD (${testDevice})`, () => {
  const g = [0.5, -1, 2, 0.25];
  // Nesterov with momentum set to 0 after construction, a group's own
  // momentum 0 under Nesterov defaults (torch checks the defaults only), and
  // plain SGD: the same weights after three steps.
  const a = param(g), b = param(g), c = param(g);
  const nesterov = new optim.SGD([a], { lr: 0.1, momentum: 0.9, nesterov: true });
  nesterov.paramGroups[0].momentum = 0;
  const group = new optim.SGD([{ params: [b], options: { momentum: 0 } }], {
    lr: 0.1,
    momentum: 0.9,
    nesterov: true,
  });
  const plain = new optim.SGD([c], { lr: 0.1 });
  for (let i = 0; i < 3; i++) {
    for (const [opt, w] of [[nesterov, a], [group, b], [plain, c]] as const) cubeStep(opt, [w]);
  }
  assert.deepEqual(a.toArray(), c.toArray(), "momentum set to 0");
  assert.deepEqual(b.toArray(), c.toArray(), "a group's own momentum 0");
  assert.equal(nesterov.state.get(a)!.tensors.size, 0, "no momentum buffer at momentum 0");
  // Back to a momentum: the buffer starts from that step's gradient, as torch's.
  nesterov.paramGroups[0].momentum = 0.5;
  plain.paramGroups[0].momentum = 0.5;
  plain.paramGroups[0].nesterov = true;
  cubeStep(nesterov, [a]);
  cubeStep(plain, [c]);
  assert.deepEqual(a.toArray(), c.toArray(), "momentum on again");
});

Deno.test("SGD: torch's construction checks of Nesterov, and dampening refused with it", () => {
  const w = () => param([1, 2]);
  assert.throws(
    () => new optim.SGD([w()], { lr: 0.1, nesterov: true }),
    /optim\.SGD: Nesterov momentum requires a momentum and zero dampening; write new optim\.SGD/,
  );
  assert.throws(
    () => new optim.SGD([w()], { lr: 0.1, momentum: 0.9, nesterov: true, dampening: 0.1 }),
    /SGD: Nesterov momentum takes no dampening, got dampening 0\.1/,
  );
  const opt = new optim.SGD([w()], { lr: 0.1, momentum: 0.9, nesterov: true });
  // The fused step takes no dampening with Nesterov: refused, nothing changed.
  assert.throws(() => (opt.paramGroups[0].dampening = 0.5), /set dampening to 0, or nesterov/);
  assert.equal(opt.paramGroups[0].dampening, 0);
  opt.paramGroups[0].momentum = 0; // torch allows it after construction
  assert.equal(opt.paramGroups[0].momentum, 0);
});

/** SGD that refuses a momentum below 0.5: an option write that throws mid-schedule. */
class Picky extends optim.SGD {
  protected override validate(o: Parameters<optim.SGD["validate"]>[0]): void {
    super.validate(o);
    if (o.momentum < 0.5) throw new Error(`Picky: momentum ${o.momentum} is below 0.5`);
  }
}

Deno.test("CyclicLR: a step whose option write is refused changes nothing", () => {
  const opt = new Picky([{ params: [param([1])] }, { params: [param([2])] }], {
    lr: 0.1,
    momentum: 0.9,
  });
  // At batch 1 (the peak) group 0's momentum is 0.8 and group 1's 0.2.
  const sched = new optim.CyclicLR(opt, {
    baseLr: 0.01,
    maxLr: 0.1,
    stepSizeUp: 1,
    baseMomentum: [0.8, 0.2],
  });
  const before = opt.paramGroups.map((g) => ({ ...g.options }));
  assert.throws(() => sched.step(), /Picky: momentum 0\.2\d* is below 0\.5/);
  assert.deepEqual(opt.paramGroups.map((g) => ({ ...g.options })), before, "options");
  assert.equal(sched.lastEpoch, 0, "lastEpoch");
  assert.deepEqual(sched.lastLr, [0.01, 0.01], "lastLr");
  // Made over the same groups with a momentum they refuse: the lr is left as it was.
  const lrs = opt.paramGroups.map((g) => g.lr);
  assert.throws(
    () => new optim.CyclicLR(opt, { baseLr: 0.05, maxLr: 0.1, maxMomentum: [0.9, 0.4] }),
    /Picky: momentum 0\.4/,
  );
  assert.deepEqual(opt.paramGroups.map((g) => g.lr), lrs, "lr after a refused constructor");
});

Deno.test("LambdaLR: a step whose lr is refused changes no group and not the count", () => {
  const opt = new optim.SGD([{ params: [param([1])] }, { params: [param([2])] }], { lr: 0.1 });
  const sched = new optim.LambdaLR(opt, {
    lrLambda: [(e) => 1 / (e + 1), (e) => (e < 2 ? 1 : -1)],
  });
  sched.step();
  assert.throws(() => sched.step(), /SGD: lr must be >= 0, got -0\.1/);
  assert.deepEqual(opt.paramGroups.map((g) => g.lr), [0.05, 0.1], "lrs of step 1");
  assert.equal(sched.lastEpoch, 1);
  assert.deepEqual(sched.lastLr, [0.05, 0.1]);
});

/** Each schedule of the fixture, made over a fresh SGD. */
const MAKE: Record<string, (o: optim.SGD) => optim.LRScheduler> = {
  StepLR: (o) => new optim.StepLR(o, { stepSize: 2, gamma: 0.5 }),
  ExponentialLR: (o) => new optim.ExponentialLR(o, { gamma: 0.9 }),
  CyclicLR: (o) => new optim.CyclicLR(o, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 3 }),
};

for (const c of fx.lastLr) {
  Deno.test(`${c.name}: lastLr after loadStateDict is the saved one, as torch's`, () => {
    const o = new optim.SGD([param([0, 0])], { lr: 0.1, momentum: 0.9 });
    const s = MAKE[c.name](o);
    for (let i = 0; i < c.steps; i++) s.step();
    assertClose(s.lastLr, c.saved, { rtol: 1e-12, what: "saved" });
    const sd = s.stateDict();
    const o2 = new optim.SGD([param([0, 0])], { lr: 0.1, momentum: 0.9 });
    const s2 = MAKE[c.name](o2);
    o2.paramGroups[0].lr = 0.5;
    s2.loadStateDict(sd);
    assertClose(s2.lastLr, c.loaded, { rtol: 1e-12, what: "loaded" });
    assert.equal(o2.paramGroups[0].lr, c.groupLr, "the group's lr is not touched");
    // A dict saved before lastLr was: the groups' lr now, as before.
    const { lastLr: _, ...old } = sd;
    s2.loadStateDict(old);
    assert.deepEqual(s2.lastLr, [0.5]);
  });
}

Deno.test("lastLr: ChainedScheduler and SequentialLR restore theirs; a bad one is refused", () => {
  const o = new optim.SGD([param([0])], { lr: 0.1 });
  const chain = new optim.ChainedScheduler([
    new optim.StepLR(o, { stepSize: 1, gamma: 0.5 }),
    new optim.ExponentialLR(o, { gamma: 0.5 }),
  ]);
  chain.step();
  const sd = chain.stateDict();
  assert.deepEqual(sd.lastLr, [0.025]);
  o.paramGroups[0].lr = 1;
  chain.loadStateDict(sd);
  assert.deepEqual(chain.lastLr, [0.025]);
  assert.deepEqual(chain.schedulers[0].lastLr, [0.05], "the first schedule's own");
  const o2 = new optim.SGD([param([0])], { lr: 0.1 });
  const seq = new optim.SequentialLR(o2, {
    schedulers: [
      new optim.ConstantLR(o2, { factor: 0.5, totalIters: 2 }),
      new optim.ExponentialLR(o2, { gamma: 0.5 }),
    ],
    milestones: [2],
  });
  for (let i = 0; i < 3; i++) seq.step();
  const sd2 = seq.stateDict();
  o2.paramGroups[0].lr = 1;
  seq.loadStateDict(sd2);
  assertClose(seq.lastLr, [0.05], { rtol: 1e-12, what: "SequentialLR" });
  for (const lastLr of [[], [0.1, 0.2], ["0.1"], 0.1]) {
    assert.throws(
      () => chain.loadStateDict({ ...sd, lastLr: lastLr as number[] }),
      /ChainedScheduler\.loadStateDict: expected \{ lastEpoch, baseLrs \} .*lastLr \(optional\)/,
      JSON.stringify(lastLr),
    );
  }
});
