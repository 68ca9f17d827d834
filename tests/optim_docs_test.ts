/**
 * torch.optim's and lr_scheduler's docstring examples, ported verbatim and
 * checked step by step against PyTorch 1.13
 * (scripts/make_optim_docs_fixtures.py): optimizers in the documented
 * `optimizer.step(closure)` loop with a group joining by `addParamGroup` and
 * the state moved through `stateDict` / `loadStateDict` mid-run; every
 * schedule's example with its `lastLr` (torch's `get_last_lr()`) and momentum.
 */
import assert from "node:assert/strict";
import { optim, type Tensor } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

type Options = Record<string, number | boolean | number[]>;
interface OptimizerCase {
  name: string;
  cls: keyof typeof CLASSES;
  defaults: Options;
  groups: Options[] | null;
  joined: Options | null;
  losses: number[];
  trace: Stored[][];
}
interface ScheduleCase {
  name: string;
  lr: number;
  groups: number;
  steps: number;
  lrs: number[][];
  metrics?: number[];
  momentum?: number[][];
}
const fx = loadFixture<{
  start: Stored[];
  scale: Stored[];
  target: Stored[];
  steps: number;
  join: number;
  optimizers: OptimizerCase[];
  schedules: ScheduleCase[];
}>("optim_docs.json");

// deno-lint-ignore no-explicit-any
type AnyOptim = optim.Optimizer<any>;
// deno-lint-ignore no-explicit-any
const CLASSES: Record<string, new (params: any, options?: any) => AnyOptim> = {
  SGD: optim.SGD,
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  Adagrad: optim.Adagrad,
  RMSprop: optim.RMSprop,
  Adamax: optim.Adamax,
  NAdam: optim.NAdam,
  RAdam: optim.RAdam,
};
const tol = testDevice === "cpu" ? { rtol: 2e-5, atol: 2e-6 } : { rtol: 1e-4, atol: 1e-5 };
const RELOAD = 22;

const dev = (s: Stored) => fromStored(s, { device: testDevice });
const scale = fx.scale.map(dev), target = fx.target.map(dev);

/** The generator's loss over the parameters that take part. */
function lossOf(ps: Tensor[]): Tensor {
  let total = ps[0].sub(target[0]).square().mul(scale[0]).sum();
  total = total.add(ps[1].sub(target[1]).square().mul(scale[1]).add(ps[1].mul(2).cos()).sum());
  if (ps.length > 2) total = total.add(ps[2].sub(target[2]).square().mul(scale[2]).sum());
  return total;
}

/** The case's optimizer over p0, p1 (one list, or a group each), with p2's group when joined. */
function make(c: OptimizerCase, ps: Tensor[], joined: boolean): AnyOptim {
  const Cls = CLASSES[c.cls];
  const opt = c.groups === null
    ? new Cls(ps.slice(0, 2), c.defaults)
    : new Cls(ps.slice(0, 2).map((p, i) => ({ params: [p], options: c.groups![i] })), c.defaults);
  if (joined) opt.addParamGroup({ params: [ps[2]], options: c.joined! });
  return opt;
}

for (const c of fx.optimizers) {
  Deno.test(`optim docs: ${c.name} (${c.cls}) step(closure) matches torch 1.13`, () => {
    const ps = fx.start.map((s) => fromStored(s, { requiresGrad: true, device: testDevice }));
    let opt = make(c, ps, false);
    for (let i = 0; i < fx.steps; i++) {
      const joined = c.joined !== null && i >= fx.join;
      if (joined && i === fx.join) opt.addParamGroup({ params: [ps[2]], options: c.joined! });
      if (i === RELOAD) {
        // The documented checkpoint round trip: a fresh optimizer takes the state on.
        const fresh = make(c, ps, joined);
        fresh.loadStateDict(opt.stateDict());
        opt.dispose();
        opt = fresh;
      }
      const live = joined ? ps : ps.slice(0, 2);
      const loss = opt.step(() => {
        opt.zeroGrad();
        const l = lossOf(live);
        l.backward();
        return l;
      });
      assertClose([loss.item()], [c.losses[i]], { ...tol, what: `${c.name} loss ${i}` });
      ps.forEach((p, k) =>
        assertClose(p, c.trace[i][k].data as number[], {
          ...tol,
          what: `${c.name} p${k} step ${i}`,
        })
      );
    }
    opt.dispose();
  });
}

// deno-lint-ignore no-explicit-any
type Sched = { lastLr: number[]; step(x?: any): void };
const schedules: Record<string, (o: optim.SGD) => Sched> = {
  StepLR: (o) => new optim.StepLR(o, { stepSize: 30, gamma: 0.1 }),
  MultiStepLR: (o) => new optim.MultiStepLR(o, { milestones: [30, 80], gamma: 0.1 }),
  LambdaLR: (o) =>
    new optim.LambdaLR(o, {
      lrLambda: [(epoch: number) => Math.floor(epoch / 30), (epoch: number) => 0.95 ** epoch],
    }),
  MultiplicativeLR: (o) => new optim.MultiplicativeLR(o, { lrLambda: (_epoch: number) => 0.95 }),
  ConstantLR: (o) => new optim.ConstantLR(o, { factor: 0.5, totalIters: 4 }),
  LinearLR: (o) => new optim.LinearLR(o, { startFactor: 0.5, totalIters: 4 }),
  ExponentialLR: (o) => new optim.ExponentialLR(o, { gamma: 0.9 }),
  SequentialLR: (o) =>
    new optim.SequentialLR(o, {
      schedulers: [
        new optim.ConstantLR(o, { factor: 0.1, totalIters: 2 }),
        new optim.ExponentialLR(o, { gamma: 0.9 }),
      ],
      milestones: [2],
    }),
  ChainedScheduler: (o) =>
    new optim.ChainedScheduler([
      new optim.ConstantLR(o, { factor: 0.1, totalIters: 2 }),
      new optim.ExponentialLR(o, { gamma: 0.9 }),
    ]),
  PolynomialLR: (o) => new optim.PolynomialLR(o, { totalIters: 4, power: 1.0 }),
  CosineAnnealingLR: (o) => new optim.CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 }),
  CosineAnnealingWarmRestarts: (o) =>
    new optim.CosineAnnealingWarmRestarts(o, { t0: 2, tMult: 2, etaMin: 0.001 }),
  ReduceLROnPlateau: (o) => new optim.ReduceLROnPlateau(o, { mode: "min" }),
  CyclicLR: (o) => new optim.CyclicLR(o, { baseLr: 0.01, maxLr: 0.1 }),
  CyclicLR_short: (o) =>
    new optim.CyclicLR(o, {
      baseLr: 0.01,
      maxLr: 0.1,
      stepSizeUp: 8,
      mode: "exp_range",
      gamma: 0.97,
    }),
  OneCycleLR: (o) => new optim.OneCycleLR(o, { maxLr: 0.01, stepsPerEpoch: 5, epochs: 10 }),
};
const ITERS = 5; // CosineAnnealingWarmRestarts' example: len(dataloader)

for (const c of fx.schedules) {
  Deno.test(`optim docs: ${c.name}'s example matches torch 1.13's get_last_lr()`, () => {
    const ps = Array.from(
      { length: c.groups },
      () => fromStored({ shape: [1], data: [0] }, { requiresGrad: true, device: testDevice }),
    );
    const opt = new optim.SGD(ps.map((p) => ({ params: [p] })), { lr: c.lr, momentum: 0.9 });
    const sched = schedules[c.name](opt);
    const close = (got: number[], want: number[], what: string) =>
      assertClose(got, want, { rtol: 1e-12, atol: 1e-15, what });
    close(sched.lastLr, c.lrs[0], `${c.name} lr at start`);
    for (let i = 0; i < c.steps; i++) {
      opt.step();
      if (c.metrics) sched.step(c.metrics[i]);
      else if (c.name === "CosineAnnealingWarmRestarts") {
        // The documented per-batch form: scheduler.step(epoch + i / iters).
        sched.step(Math.floor(i / ITERS) + (i % ITERS) / ITERS);
      } else sched.step();
      close(sched.lastLr, c.lrs[i + 1], `${c.name} lr after step ${i + 1}`);
      if (c.momentum) {
        close(
          opt.paramGroups.map((g) => g.momentum),
          c.momentum[i + 1],
          `${c.name} momentum after step ${i + 1}`,
        );
      }
    }
    opt.dispose();
  });
}

Deno.test("optim docs: step(closure) calls it with gradients recorded and returns its loss", () => {
  const [p] = [fromStored({ shape: [2], data: [1, 2] }, { requiresGrad: true })];
  const opt = new optim.SGD([p], { lr: 0.1 });
  let calls = 0;
  const loss = opt.step(() => {
    calls++;
    opt.zeroGrad();
    const l = p.mul(p).sum();
    l.backward();
    return l;
  });
  assert.equal(calls, 1);
  assert.equal(loss.item(), 5);
  assertClose(p, [0.8, 1.6]);
  assert.throws(
    () => opt.step(async () => await Promise.resolve(1)),
    /closure is async .*await closure\(\); opt.step\(\)/,
  );
  // deno-lint-ignore no-explicit-any
  assert.throws(() => (opt as any).step(0.5), /takes a closure/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => (opt as any).step(() => 1, 2), /at most 1/);
  opt.dispose();
});

Deno.test("optim docs: verbose and getLastLr() name what to write", () => {
  const p = fromStored({ shape: [1], data: [0] }, { requiresGrad: true });
  const opt = new optim.SGD([p], { lr: 0.1 });
  const loose = (o: unknown) => o as optim.ReduceLROnPlateauOptions;
  assert.throws(
    () => new optim.StepLR(opt, { stepSize: 3, verbose: true } as { stepSize: number }),
    /'verbose' .*console\.log\(sched\.lastLr\)/,
  );
  assert.throws(
    () => new optim.ReduceLROnPlateau(opt, loose({ mode: "min", verbose: false })),
    /'verbose' .*not taken/,
  );
  // deno-lint-ignore no-explicit-any
  const sched: any = new optim.StepLR(opt, { stepSize: 3 });
  assert.throws(() => sched.getLastLr(), /read sched\.lastLr/);
  // deno-lint-ignore no-explicit-any
  const plateau: any = new optim.ReduceLROnPlateau(opt);
  assert.throws(() => plateau.getLastLr(), /read sched\.lastLr/);
});
