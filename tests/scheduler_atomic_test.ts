/**
 * Schedules that write more than the lr (OneCycleLR and CyclicLR cycle
 * momentum or Adam's beta1 with it) write every group's options or none: a
 * step the optimizer refuses (a beta1 of 1 or more) leaves the optimizer,
 * the step count and `lastLr` as they were, and a refused construction
 * leaves the groups' lr and their initial lr (what later schedules start
 * from) untouched.
 */
import assert from "node:assert/strict";
import { optim, type Tensor, tensor } from "../mod.ts";
import { testDevice } from "./helpers.ts";

const param = (): Tensor => tensor([1, -2], undefined, { requiresGrad: true, device: testDevice });

/** An Adam over two groups (lr 0.1 and 0.2), its parameters, and a snapshot of its options. */
function twoGroupAdam() {
  const a = param(), b = param();
  const opt = new optim.Adam([{ params: [a] }, { params: [b], options: { lr: 0.2 } }], {
    lr: 0.1,
  });
  const snapshot = () => opt.paramGroups.map((g) => JSON.stringify(g.options));
  return { opt, params: [a, b], snapshot };
}

Deno.test("scheduler_atomic: a OneCycleLR step the optimizer refuses changes nothing", () => {
  const { opt, params, snapshot } = twoGroupAdam();
  // Step 0's momentum (maxMomentum 0.95) is a valid beta1; step 1 climbs
  // toward baseMomentum 1.5, which Adam refuses (beta1 must be below 1).
  const sched = new optim.OneCycleLR(opt, {
    maxLr: [1, 2],
    totalSteps: 10,
    baseMomentum: 1.5,
    maxMomentum: 0.95,
  });
  assert.deepEqual(opt.paramGroups.map((g) => g.betas[0]), [0.95, 0.95]);
  const before = snapshot(), lastLr = sched.lastLr;
  assert.throws(() => sched.step(), /betas must be in \[0, 1\)/);
  assert.deepEqual(snapshot(), before, "no group's lr or betas moved");
  assert.equal(sched.lastEpoch, 0, "the step count did not move");
  assert.deepEqual(sched.lastLr, lastLr);
  // The optimizer still steps with the options it had.
  for (const p of params) p.mul(p).sum().backward();
  opt.step();
  opt.dispose();
});

Deno.test("scheduler_atomic: a refused OneCycleLR leaves the lr and the initial lr as they were", () => {
  const { opt, snapshot } = twoGroupAdam();
  const before = snapshot();
  // Step 0 sets beta1 = maxMomentum = 1: refused, so the lr must not move either.
  assert.throws(
    () => new optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 10, maxMomentum: 1 }),
    /betas must be in \[0, 1\)/,
  );
  assert.deepEqual(snapshot(), before);
  // A schedule made afterwards starts from the groups' own lr, not from the
  // refused cycle's maxLr / divFactor (0.04).
  const step = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
  assert.deepEqual(step.baseLrs, [0.1, 0.2]);
  opt.dispose();
});

Deno.test("scheduler_atomic: OneCycleLR still writes lr and momentum together on each step", () => {
  const a = param();
  const opt = new optim.SGD([a], { lr: 0.1, momentum: 0.9 });
  const sched = new optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 4, pctStart: 0.5 });
  // torch 1.13: step 0 lr 0.04, momentum 0.95; step 1 (the peak) lr 1, momentum 0.85.
  assert.ok(Math.abs(opt.paramGroups[0].lr - 0.04) < 1e-12);
  assert.equal(opt.paramGroups[0].momentum, 0.95);
  sched.step();
  assert.ok(Math.abs(opt.paramGroups[0].lr - 1) < 1e-12);
  assert.ok(Math.abs(opt.paramGroups[0].momentum - 0.85) < 1e-12);
  assert.equal(sched.lastEpoch, 1);
  opt.dispose();
});

Deno.test("scheduler_atomic: SequentialLR's restart of a OneCycleLR is all or nothing", () => {
  const { opt, snapshot } = twoGroupAdam();
  const one = new optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
  one.step();
  one.step();
  // Break the cycle's momentum after the fact: its restart (step 0) is then refused.
  (one as unknown as { maxMomentum: number }).maxMomentum = 1;
  const before = snapshot();
  assert.throws(() => one.restart(), /betas must be in \[0, 1\)/);
  assert.deepEqual(snapshot(), before);
  assert.equal(one.lastEpoch, 2);
  opt.dispose();
});

Deno.test("scheduler_atomic: a CyclicLR step the optimizer refuses changes nothing", () => {
  const { opt, snapshot } = twoGroupAdam();
  const sched = new optim.CyclicLR(opt, {
    baseLr: 0.01,
    maxLr: 0.1,
    stepSizeUp: 2,
    baseMomentum: 0.8,
    maxMomentum: 0.9,
  });
  sched.step();
  (sched as unknown as { baseMomentums: number[] }).baseMomentums[1] = 2;
  const before = snapshot(), lastLr = sched.lastLr;
  assert.throws(() => sched.step(), /betas must be in \[0, 1\)/);
  assert.deepEqual(snapshot(), before);
  assert.equal(sched.lastEpoch, 1);
  assert.deepEqual(sched.lastLr, lastLr);
  opt.dispose();
});
