/**
 * ReduceLROnPlateau against torch.optim.lr_scheduler.ReduceLROnPlateau
 * (tests/fixtures/plateau.json, scripts/make_plateau_fixtures.py): every
 * option on one metric sequence with two parameter groups, and the state
 * after the last step.
 */
import assert from "node:assert/strict";
import { nn, optim } from "../mod.ts";
import { loadFixture } from "./helpers.ts";

interface Case {
  name: string;
  options: optim.ReduceLROnPlateauOptions;
  lrs: number[][];
  state: Record<string, number>;
}

const fx = loadFixture<{ groupLrs: number[]; metrics: number[]; cases: Case[] }>("plateau.json");

function twoGroups(): optim.SGD {
  const a = new nn.Linear(1, 1, { bias: false }), b = new nn.Linear(1, 1, { bias: false });
  const groups = [
    { params: a.parameters(), options: { lr: fx.groupLrs[0] } },
    { params: b.parameters(), options: { lr: fx.groupLrs[1] } },
  ];
  return new optim.SGD(groups as never, { lr: fx.groupLrs[0] });
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 + 1e-9 * Math.abs(expected),
    `${what}: ${actual} vs ${expected}`,
  );
}

for (const c of fx.cases) {
  Deno.test(`ReduceLROnPlateau ${c.name} follows torch's`, () => {
    const opt = twoGroups();
    const sched = new optim.ReduceLROnPlateau(opt, c.options);
    const lrs = [sched.lastLr];
    for (const m of fx.metrics) {
      sched.step(m);
      lrs.push(sched.lastLr);
    }
    assert.equal(lrs.length, c.lrs.length);
    lrs.forEach((row, i) => row.forEach((lr, g) => close(lr, c.lrs[i][g], `step ${i} group ${g}`)));
    for (const [k, v] of Object.entries(c.state)) close(sched.stateDict()[k], v, k);
  });
}

Deno.test("ReduceLROnPlateau: state dict resumes the schedule; old checkpoints still load", () => {
  const a = new optim.ReduceLROnPlateau(twoGroups(), { factor: 0.5, patience: 1, cooldown: 2 });
  const b = new optim.ReduceLROnPlateau(twoGroups(), { factor: 0.5, patience: 1, cooldown: 2 });
  fx.metrics.slice(0, 9).forEach((m) => a.step(m));
  b.loadStateDict(a.stateDict());
  b.optimizer.paramGroups.forEach((g, i) => (g.options.lr = a.lastLr[i]));
  for (const m of fx.metrics.slice(9)) {
    a.step(m);
    b.step(m);
    assert.deepEqual(b.lastLr, a.lastLr);
  }
  const old = new optim.ReduceLROnPlateau(twoGroups());
  old.loadStateDict({ best: 0.5, badEpochs: 3 });
  assert.equal(old.numBadEpochs, 3);
  assert.equal(old.best, 0.5);
});

Deno.test("ReduceLROnPlateau: step needs the metric; bad options are named", () => {
  const sched = new optim.ReduceLROnPlateau(twoGroups());
  // deno-lint-ignore no-explicit-any
  assert.throws(() => (sched as any).step(), /needs this epoch's metric.*sched\.step\(valLoss\)/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => (sched as any).step(0.5, 3), /takes at most 1 arguments/);
  sched.step(NaN); // as PyTorch: a bad epoch, no error
  assert.equal(sched.numBadEpochs, 1);
  assert.throws(
    () => new optim.ReduceLROnPlateau(twoGroups(), { min_lr: 1e-6 } as never),
    /unknown option 'min_lr' \(write 'minLr'\)/,
  );
  assert.throws(
    () => new optim.ReduceLROnPlateau(twoGroups(), { threshold_mode: "abs" } as never),
    /write 'thresholdMode'/,
  );
  assert.throws(
    () => new optim.ReduceLROnPlateau(twoGroups(), { mode: "minimum" as "min" }),
    /mode must be "min" or "max"/,
  );
  assert.throws(() => new optim.ReduceLROnPlateau(twoGroups(), { factor: 1 }), /factor/);
  assert.throws(() => new optim.ReduceLROnPlateau(twoGroups(), { minLr: [0] }), /2 groups/);
  assert.throws(
    () => new optim.ReduceLROnPlateau(twoGroups(), { verbose: true } as never),
    /the option 'verbose' \(torch's print of each lr change\) is not taken; remove it/,
  );
});
