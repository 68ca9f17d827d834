/**
 * Per-group flags that torch 1.13 reads per parameter group: RMSprop's
 * `centered` and `maximize`, Adagrad's and Adamax's `maximize`. A group's
 * own value steps that group alone as torch's does (against
 * tests/fixtures/optim_group_flags.json, written by
 * scripts/make_optim_group_flags_fixtures.py), a state dict carries each
 * group's flags, and a flag that is not a boolean is refused.
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { optim, scope, type Tensor } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

type Options = Record<string, number | boolean>;
interface Case {
  name: string;
  cls: "RMSprop" | "Adagrad" | "Adamax";
  defaults: Options;
  groups: Options[];
  start: Stored[];
  targets: Stored[];
  trace: Stored[][];
}
interface Saved {
  start: Stored[];
  targets: Stored[];
  groups: Options[];
  mid: Stored[];
  after: Stored[];
}
const fx = loadFixture<{ torch: string; cases: Case[]; saved: Saved }>("optim_group_flags.json");

// deno-lint-ignore no-explicit-any
const CLASSES: Record<Case["cls"], new (params: any, options?: any) => optim.Optimizer<any>> = {
  RMSprop: optim.RMSprop,
  Adagrad: optim.Adagrad,
  Adamax: optim.Adamax,
};
const tol = testDevice === "cpu" ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-4, atol: 1e-5 };

const leaf = (s: Stored) => fromStored(s, { requiresGrad: true, device: testDevice });
const dev = (s: Stored) => fromStored(s, { device: testDevice });

/** One step of L = sum((p - target)^2 * (i + 1.5)), as the generator's. */
function step(opt: optim.Optimizer<never>, params: Tensor[], targets: Tensor[]): void {
  scope(() => {
    opt.zeroGrad();
    let loss = params[0].sub(targets[0]).square().mul(1.5).sum();
    for (let i = 1; i < params.length; i++) {
      loss = loss.add(params[i].sub(targets[i]).square().mul(i + 1.5).sum());
    }
    loss.backward();
    opt.step();
  });
}

for (const c of fx.cases) {
  Deno.test(`optim_group_flags: ${c.name}, as torch's`, () => {
    const params = c.start.map(leaf), targets = c.targets.map(dev);
    const opt = new CLASSES[c.cls](
      params.map((p, i) => ({ params: [p], options: c.groups[i] })),
      c.defaults,
    );
    c.groups.forEach((g, i) => {
      for (const [k, v] of Object.entries(g)) assert.equal(opt.paramGroups[i].options[k], v);
    });
    c.trace.forEach((want, t) => {
      step(opt as never, params, targets);
      params.forEach((p, i) => assertClose(p, want[i].data, { ...tol, what: `step ${t} p${i}` }));
    });
    opt.dispose();
  });
}

Deno.test("optim_group_flags: a state dict carries each group's centered and maximize", () => {
  const s = fx.saved;
  const params = s.start.map(leaf), targets = s.targets.map(dev);
  const made = new optim.RMSprop(
    params.map((p, i) => ({ params: [p], options: s.groups[i] })),
    { lr: 0.01, momentum: 0.5 },
  );
  step(made as never, params, targets);
  step(made as never, params, targets);
  params.forEach((p, i) => assertClose(p, s.mid[i].data, { ...tol, what: `mid p${i}` }));
  const sd = made.stateDict();
  assert.equal(sd.paramGroups[0].options.centered, true);
  assert.equal(sd.paramGroups[1].options.maximize, true);
  // Made without the flags: the dict's replace them, so the steps go on as torch's.
  const fresh = new optim.RMSprop(params.map((p) => ({ params: [p] })), {
    lr: 0.01,
    momentum: 0.5,
  });
  fresh.loadStateDict(sd);
  assert.equal(fresh.paramGroups[0].options.centered, true);
  assert.equal(fresh.paramGroups[1].options.maximize, true);
  step(fresh as never, params, targets);
  params.forEach((p, i) => assertClose(p, s.after[i].data, { ...tol, what: `after p${i}` }));
  made.dispose();
  fresh.dispose();
});

Deno.test("optim_group_flags: a group's flag set later, by addParamGroup or g.maximize, is read", () => {
  const s = fx.cases.find((c) => c.name === "Adamax: group 1 maximize")!;
  const params = s.start.map(leaf), targets = s.targets.map(dev);
  const opt = new optim.Adamax([params[0]], s.defaults);
  opt.addParamGroup({ params: [params[1]], options: { maximize: false } });
  opt.paramGroups[1].maximize = true; // torch's group["maximize"] = True
  for (const want of s.trace) {
    step(opt as never, params, targets);
    params.forEach((p, i) => assertClose(p, want[i].data, { ...tol, what: `p${i}` }));
  }
  opt.dispose();
});

Deno.test("optim_group_flags: bad flags are refused with what to write", () => {
  const p = leaf({ shape: [2], data: [1, 2] });
  // deno-lint-ignore no-explicit-any
  const loose = (o: unknown) => o as any;
  assert.throws(
    () => new optim.RMSprop([{ params: [p], options: loose({ centered: 1 }) }]),
    /param group 0: centered must be a boolean, got 1/,
  );
  assert.throws(
    () => new optim.Adagrad([{ params: [p], options: loose({ maximize: "yes" }) }]),
    /param group 0: maximize must be a boolean, got "yes"/,
  );
  // torch's { params, maximize: True } beside params: the flag goes in options.
  assert.throws(
    () => new optim.Adamax([loose({ params: [p], maximize: true })]),
    /hyper-parameters go in options.*maximize: true/,
  );
  const opt = new optim.RMSprop([p]);
  assert.throws(() => (opt.paramGroups[0].centered = loose("no")), /centered must be a boolean/);
  assert.equal(opt.paramGroups[0].centered, false);
  opt.dispose();
});
