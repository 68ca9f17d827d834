import assert from "node:assert/strict";
import { nn, optim, train } from "../mod.ts";
import { buildSchedule } from "../src/train/setup.ts";

const fixtures = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/schedulers.json", import.meta.url)),
) as Record<string, number[]>;

function run(
  make: (opt: optim.SGD) => { step(): void } | optim.ReduceLROnPlateau,
  steps: number,
  metrics?: number[],
): number[] {
  using model = new nn.Linear(1, 1, { bias: false });
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  const sched = make(opt);
  const lrs = [opt.paramGroups[0].options.lr];
  for (let i = 0; i < steps; i++) {
    if (sched instanceof optim.ReduceLROnPlateau) sched.step(metrics![i]);
    else sched.step();
    lrs.push(opt.paramGroups[0].options.lr);
  }
  return lrs;
}

function assertLrs(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((lr, i) =>
    assert.ok(
      Math.abs(lr - expected[i]) <= 1e-9 + 1e-7 * Math.abs(expected[i]),
      `${what} step ${i}: ${lr} vs ${expected[i]}`,
    )
  );
}

Deno.test("StepLR follows torch.optim.lr_scheduler.StepLR", () => {
  assertLrs(
    run((o) => new optim.StepLR(o, { stepSize: 3, gamma: 0.5 }), 10),
    fixtures.step,
    "step",
  );
});

Deno.test("MultiStepLR follows torch.optim.lr_scheduler.MultiStepLR", () => {
  assertLrs(
    run((o) => new optim.MultiStepLR(o, { milestones: [5, 2, 5], gamma: 0.5 }), 8),
    fixtures.multistep,
    "multistep",
  );
  using m = new nn.Linear(1, 1);
  const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
  assert.throws(
    () => new optim.MultiStepLR(opt, { milestones: [] }),
    /milestones must be positive/,
  );
  assert.throws(
    () => new optim.MultiStepLR(opt, { milestones: [0.5] }),
    /milestones must be positive/,
  );
});

Deno.test("--scheduler step decays x0.1 twice, at 1/3 and 2/3 of the epochs, whatever their number", () => {
  // StepLR(round(E / 3)) decayed a third time where E % 3 == 1: 4 epochs went 1e-3 .. 1e-6.
  for (
    const [epochs, lrs] of [
      [4, [1, 0.1, 0.1, 0.01]], // milestones 1 and 3
      [7, [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01]], // 2 and 5
      [20, [...Array(7).fill(1), ...Array(6).fill(0.1), ...Array(7).fill(0.01)]], // 7 and 13
    ] as const
  ) {
    using m = new nn.Linear(1, 1);
    const opt = new optim.AdamW(m.parameters(), { lr: 1 });
    const schedule = buildSchedule({ ...train.DEFAULTS, epochs, scheduler: "step" }, opt, 3);
    const seen: number[] = [];
    for (let e = 0; e < epochs; e++) {
      seen.push(opt.paramGroups[0].options.lr);
      schedule.afterEpoch(null);
    }
    assertLrs(seen, [...lrs], `${epochs} epochs`);
  }
});

Deno.test("CosineAnnealingLR follows torch's", () => {
  assertLrs(
    run((o) => new optim.CosineAnnealingLR(o, { tMax: 8, etaMin: 0.01 }), 8),
    fixtures.cosine,
    "cosine",
  );
});

Deno.test("CosineAnnealingLR past tMax comes back up as torch's", () => {
  assertLrs(
    run((o) => new optim.CosineAnnealingLR(o, { tMax: 4, etaMin: 0.01 }), 13),
    fixtures.cosine_long,
    "cosine_long",
  );
});

Deno.test("OneCycleLR follows torch's: a step() after each of totalSteps batches, not one more", () => {
  assertLrs(
    run((o) => new optim.OneCycleLR(o, { maxLr: 0.2, totalSteps: 20 }), 20),
    fixtures.onecycle,
    "onecycle",
  );
  assert.throws(
    () => run((o) => new optim.OneCycleLR(o, { maxLr: 0.2, totalSteps: 20 }), 21),
    /more than totalSteps 20/,
  );
});

Deno.test("StepLR and CosineAnnealingLR keep an lr set by hand, and chain, as torch's", () => {
  const byHand = (make: (o: optim.SGD) => optim.LRScheduler, steps: number) => {
    using model = new nn.Linear(1, 1, { bias: false });
    const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
    const sched = make(opt);
    const lrs = [opt.paramGroups[0].options.lr];
    for (let i = 0; i < steps; i++) {
      sched.step();
      if (i + 1 === 6) opt.paramGroups[0].options.lr = 0.3; // set by hand after 6 steps
      lrs.push(opt.paramGroups[0].options.lr);
    }
    return lrs;
  };
  assertLrs(
    byHand((o) => new optim.StepLR(o, { stepSize: 4, gamma: 0.5 }), 12),
    fixtures.step_by_hand,
    "step_by_hand",
  );
  assertLrs(
    byHand((o) => new optim.CosineAnnealingLR(o, { tMax: 10 }), 9),
    fixtures.cosine_by_hand,
    "cosine_by_hand",
  );
  // Two schedules on one optimizer multiply their effects (the last no longer wins).
  using model = new nn.Linear(1, 1, { bias: false });
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  const a = new optim.StepLR(opt, { stepSize: 3, gamma: 0.5 });
  const b = new optim.CosineAnnealingLR(opt, { tMax: 10 });
  const lrs = [opt.paramGroups[0].options.lr];
  for (let i = 0; i < 10; i++) {
    a.step();
    b.step();
    lrs.push(opt.paramGroups[0].options.lr);
  }
  assertLrs(lrs, fixtures.chained, "chained");
});

Deno.test("OneCycleLR cycles SGD's momentum and Adam's beta1 as torch's default does", () => {
  using model = new nn.Linear(1, 1, { bias: false });
  const cases = [
    ["momentum", new optim.SGD(model.parameters(), { lr: 0.5 })],
    ["betas", new optim.Adam(model.parameters(), { lr: 0.5 })],
  ] as const;
  for (const [key, opt] of cases) {
    const sched = new optim.OneCycleLR(opt, { maxLr: 0.2, totalSteps: 20 });
    const read = () => {
      const o = opt.paramGroups[0].options as Record<string, unknown>;
      return key === "betas" ? (o.betas as number[])[0] : o.momentum as number;
    };
    const values = [read()];
    for (let i = 0; i < 19; i++) {
      sched.step();
      values.push(read());
    }
    assertLrs(values, key === "betas" ? fixtures.onecycle_beta1 : fixtures.onecycle_momentum, key);
    if (key === "betas") {
      assert.equal((opt.paramGroups[0].options.betas as number[])[1], 0.999);
    }
  }
  const plain = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
  new optim.OneCycleLR(plain, { maxLr: 0.2, totalSteps: 20, cycleMomentum: false });
  assert.equal(plain.paramGroups[0].options.momentum, 0.9);
});

Deno.test("ReduceLROnPlateau follows torch's", () => {
  const metrics = fixtures.plateau_metrics;
  assertLrs(
    run(
      (o) => new optim.ReduceLROnPlateau(o, { factor: 0.5, patience: 2 }),
      metrics.length,
      metrics,
    ),
    fixtures.plateau,
    "plateau",
  );
});

Deno.test("a scheduler's state dict resumes the schedule (with its optimizer's, as in torch)", () => {
  using model = new nn.Linear(1, 1);
  const opt = new optim.SGD(model.parameters(), { lr: 1 });
  const a = new optim.StepLR(opt, { stepSize: 2, gamma: 0.1 });
  a.step();
  a.step();
  a.step();
  const opt2 = new optim.SGD(model.parameters(), { lr: 1 });
  const b = new optim.StepLR(opt2, { stepSize: 2, gamma: 0.1 });
  // The lr lives in the optimizer's state: the schedule carries on from it.
  opt2.loadStateDict(opt.stateDict());
  b.loadStateDict(a.stateDict());
  a.step();
  b.step();
  assert.deepEqual(b.lastLr, a.lastLr);
});

Deno.test("LambdaLR, LinearLR and ConstantLR apply step 0 when made and follow torch's", () => {
  const lam = (e: number) => Math.min(1, (e + 1) / 4) * 0.9 ** e;
  assertLrs(run((o) => new optim.LambdaLR(o, { lrLambda: lam }), 8), fixtures.lambda, "lambda");
  assertLrs(run((o) => new optim.LinearLR(o), 8), fixtures.linear, "linear");
  assertLrs(
    run((o) => new optim.LinearLR(o, { startFactor: 1, endFactor: 0.2, totalIters: 4 }), 7),
    fixtures.linear_down,
    "linear_down",
  );
  assertLrs(
    run((o) => new optim.ConstantLR(o, { factor: 0.25, totalIters: 3 }), 6),
    fixtures.constant,
    "constant",
  );
  assert.throws(
    () => run((o) => new optim.LambdaLR(o, { lrLambda: () => undefined as unknown as number }), 1),
    /lrLambda\(0\) returned undefined, not a finite number/,
  );
  assert.throws(() => run((o) => new optim.LinearLR(o, { startFactor: 0 }), 1), /startFactor/);
});

Deno.test("SequentialLR switches schedules at its milestones as torch's", () => {
  assertLrs(
    run((o) =>
      new optim.SequentialLR(o, {
        schedulers: [
          new optim.LinearLR(o, { startFactor: 0.1, totalIters: 3 }),
          new optim.CosineAnnealingLR(o, { tMax: 6 }),
        ],
        milestones: [3],
      }), 12),
    fixtures.sequential_linear_cosine,
    "sequential_linear_cosine",
  );
  assertLrs(
    run((o) =>
      new optim.SequentialLR(o, {
        schedulers: [
          new optim.ConstantLR(o, { factor: 0.5, totalIters: 2 }),
          new optim.LambdaLR(o, { lrLambda: (e) => 1 / (e + 1) }),
          new optim.MultiStepLR(o, { milestones: [2, 3], gamma: 0.5 }),
        ],
        milestones: [2, 5],
      }), 9),
    fixtures.sequential_three,
    "sequential_three",
  );
  using model = new nn.Linear(1, 1);
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  const a = new optim.StepLR(opt, { stepSize: 2 });
  assert.throws(
    () => new optim.SequentialLR(opt, { schedulers: [a, a], milestones: [] }),
    /milestones must be 1 increasing positive integers/,
  );
  assert.throws(
    () =>
      new optim.SequentialLR(opt, {
        schedulers: [a, new optim.ReduceLROnPlateau(opt) as unknown as optim.LRScheduler],
        milestones: [2],
      }),
    /not ReduceLROnPlateau/,
  );
});

Deno.test("a parameter group's options are its properties: g.lr = x sets the lr, as torch's g['lr']", () => {
  using model = new nn.Linear(2, 1, { bias: false });
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  const before = [...model.weight.toArray()];
  const g = opt.paramGroups[0];
  g.lr = 0;
  assert.equal(g.options.lr, 0);
  model.forward(nn.functional.relu(model.weight.detach().add(1))).sum().backward();
  opt.step();
  assert.deepEqual([...model.weight.toArray()], before, "lr 0: the weight stays");
  assert.throws(() => (g.lr = -1), /lr/);
  assert.equal(g.options.lr, 0, "a refused value leaves the option as it was");
  assert.throws(
    () => ((g as unknown as Record<string, number>).weight_decay = 0),
    /has no option weight_decay; its options are lr, momentum/,
  );
  assert.throws(() => JSON.stringify(opt.stateDict()), /holds tensors .* which JSON would drop/);
  assert.throws(
    () => opt.loadStateDict(JSON.parse('{"state":{},"paramGroups":[]}')),
    /a state dict that went through JSON lost its tensors/,
  );
});
