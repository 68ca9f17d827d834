/**
 * `maximize` on SGD, Adam and AdamW (each group's, as torch 1.13's), and
 * OneCycleLR's per-group momentum lists (torch's base_momentum and
 * max_momentum lists), against tests/fixtures/optim_amsgrad.json, written
 * by scripts/make_optim_amsgrad_fixtures.py. (AMSGrad:
 * tests/optim_amsgrad_test.ts.)
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { CLASSES, type Cycle, dev, fx, leaf, loose, make, step, tol } from "./optim_fixture.ts";
import { nn, optim, tensor } from "../mod.ts";
import { assertClose, testDevice } from "./helpers.ts";

for (const c of fx.cases.filter((c) => !c.name.includes("amsgrad"))) {
  Deno.test(`optim_maximize: ${c.name}, as torch's`, () => {
    const params = c.start.map(leaf), targets = c.targets.map(dev);
    const opt = make(c.cls, params, c.groups, c.defaults);
    c.trace.forEach((want, t) => {
      step(opt, params, targets, c.signs);
      params.forEach((p, i) => assertClose(p, want[i].data, { ...tol, what: `step ${t} p${i}` }));
    });
    opt.dispose();
  });
}

Deno.test("optim_maximize: SGD's state dict half-way carries maximize and the momentum", () => {
  const s = fx.saved.find((s) => s.cls === "SGD")!;
  const params = s.start.map(leaf), targets = s.targets.map(dev);
  const made = make("SGD", params, s.groups, s.defaults);
  for (let i = 0; i < 3; i++) step(made, params, targets, s.signs);
  params.forEach((p, i) => assertClose(p, s.mid[i].data, { ...tol, what: `mid p${i}` }));
  const sd = made.stateDict();
  assert.equal(sd.paramGroups[0].options.maximize, true);
  for (const [index, want] of Object.entries(s.state)) {
    const got = sd.state.get(Number(index))!.tensors.get("momentum_buffer")!;
    assertClose(got, want.momentum_buffer.data, { ...tol, what: `momentum_buffer ${index}` });
  }
  const fresh = make("SGD", params, [{}, {}], s.plain);
  assert.equal(fresh.paramGroups[0].maximize, false);
  fresh.loadStateDict(sd);
  assert.equal(fresh.paramGroups[0].maximize, true);
  assert.equal(fresh.paramGroups[1].maximize, false);
  s.after.forEach((want, t) => {
    step(fresh, params, targets, s.signs);
    params.forEach((p, i) => assertClose(p, want[i].data, { ...tol, what: `after ${t} p${i}` }));
  });
  made.dispose();
  fresh.dispose();
});

Deno.test("optim_maximize: a group's maximize set later is read, and bad flags are refused", () => {
  const c = fx.cases.find((c) => c.name === "SGD group 1 maximize, momentum")!;
  const params = c.start.map(leaf), targets = c.targets.map(dev);
  const opt = new optim.SGD([params[0]], { lr: 0.02, momentum: 0.5 });
  opt.addParamGroup({ params: [params[1]] });
  assert.equal(opt.maximize, false);
  opt.paramGroups[1].maximize = true; // torch's group["maximize"] = True
  for (const want of c.trace) {
    step(opt, params, targets, c.signs);
    params.forEach((p, i) => assertClose(p, want[i].data, { ...tol, what: `p${i}` }));
  }
  assert.throws(() => (opt.paramGroups[1].maximize = loose(1)), /maximize must be a boolean/);
  assert.equal(opt.paramGroups[1].maximize, true);
  opt.dispose();
  const p = leaf({ shape: [2], data: [1, 2] });
  assert.throws(
    () => new optim.SGD([p], loose({ lr: 0.1, maximize: "true" })),
    /optim\.SGD: maximize must be true or false, got "true"/,
  );
  assert.throws(
    () => new optim.SGD([{ params: [p], options: loose({ maximize: null }) }], { lr: 0.1 }),
    /param group 0: maximize must be a boolean, got null/,
  );
  for (const key of ["foreach", "differentiable"]) {
    assert.throws(
      () => new optim.SGD([p], loose({ lr: 0.1, [key]: true })),
      new RegExp(`optim\\.SGD: option '${key}' is not taken \\(.*\\); remove it`),
    );
  }
  assert.throws(() => new optim.SGD([p], loose({ lr: 0.1, maximise: true })), /maximize/);
  // The SGD checks that were there stay.
  assert.throws(() => new optim.SGD([p], loose({ momentum: 0.9 })), /optim\.SGD: lr is required/);
  assert.throws(
    () => new optim.SGD([p], { lr: 0.1, nesterov: true, maximize: true }),
    /Nesterov momentum requires a momentum and zero dampening/,
  );
});

/** An optimizer of the cycle's class over two groups, and the schedule. */
function cycle(c: Cycle, options: Partial<optim.OneCycleLROptions> = {}) {
  const params = [0, 1].map(() =>
    new nn.Parameter(tensor([0, 0], undefined, { device: testDevice }))
  );
  const opt = new CLASSES[c.cls](params.map((p) => ({ params: [p] })), c.defaults);
  const sched = new optim.OneCycleLR(opt, { ...c.options, ...options });
  const now = () =>
    opt.paramGroups.map((g) => {
      const o = g.options as { lr: number; momentum?: number; betas?: [number, number] };
      return [o.lr, o.betas ? o.betas[0] : o.momentum!] as [number, number];
    });
  return { opt, sched, now };
}

/** got and want as lists of [lr, momentum] per group, to float64 rounding. */
function assertTrace(got: [number, number][], want: [number, number][], what: string): void {
  got.forEach((g, i) =>
    g.forEach((v, k) => {
      const w = want[i][k];
      assert.ok(
        Math.abs(v - w) <= 1e-12 * Math.abs(w) + 1e-15,
        `${what} group ${i}[${k}]: ${v}, torch ${w}`,
      );
    })
  );
}

for (const c of fx.cycles) {
  Deno.test(`optim_maximize: OneCycleLR ${JSON.stringify(c.options)} over ${c.cls}, as torch's`, () => {
    const { opt, sched, now } = cycle(c);
    c.trace.forEach((want, t) => {
      if (t > 0) sched.step();
      assertTrace(now(), want, `step ${t}`);
    });
    const n = opt.paramGroups.length;
    const list = (v: unknown, d: number) => Array.isArray(v) ? v : Array(n).fill(v ?? d);
    assert.deepEqual(sched.baseMomentums, list(c.options.baseMomentum, 0.85));
    assert.deepEqual(sched.maxMomentums, list(c.options.maxMomentum, 0.95));
    opt.dispose();
  });
}

Deno.test("optim_maximize: OneCycleLR's state dict carries the momentum lists", () => {
  const c = fx.cycles[0];
  const a = cycle(c);
  for (let i = 0; i < 5; i++) a.sched.step();
  const sd = JSON.parse(JSON.stringify(a.sched.stateDict()));
  assert.deepEqual(sd.baseMomentum, [0.8, 0.85]);
  assert.deepEqual(sd.maxMomentum, [0.9, 0.95]);
  const b = cycle(c);
  b.sched.loadStateDict(sd);
  for (let t = 6; t < c.trace.length; t++) {
    b.sched.step();
    assertTrace(b.now(), c.trace[t], `resumed step ${t}`);
  }
  assert.throws(
    () => cycle(c, { baseMomentum: [0.8, 0.9] }).sched.loadStateDict(sd),
    /other settings \(baseMomentum \[0\.8,0\.85\], here \[0\.8,0\.9\]\)/,
  );
  assert.throws(
    () => cycle(c, { maxMomentum: 0.95 }).sched.loadStateDict(sd),
    /maxMomentum \[0\.9,0\.95\], here 0\.95/,
  );
  // One number and a list of it are the same cycle, either way round.
  const one = cycle(c, { baseMomentum: 0.85, maxMomentum: 0.95 });
  for (let i = 0; i < 5; i++) one.sched.step();
  const sdOne = one.sched.stateDict();
  assert.equal(sdOne.baseMomentum, 0.85);
  cycle(c, { baseMomentum: [0.85, 0.85], maxMomentum: [0.95, 0.95] }).sched.loadStateDict(sdOne);
  cycle(c, { baseMomentum: 0.85, maxMomentum: 0.95 }).sched.loadStateDict({
    ...sdOne,
    baseMomentum: [0.85, 0.85],
  });
});

Deno.test("optim_maximize: OneCycleLR refuses bad momentum lists, naming them", () => {
  const c = fx.cycles[0];
  assert.throws(
    () => cycle(c, { baseMomentum: [0.8] }),
    /optim\.OneCycleLR: baseMomentum has 1 values for 2 parameter groups; give one number, or one per group/,
  );
  assert.throws(
    () => cycle(c, { maxMomentum: [0.9, 0.95, 0.99] }),
    /maxMomentum has 3 values for 2 parameter groups/,
  );
  assert.throws(
    () => cycle(c, { maxMomentum: [0.9, NaN] }),
    /maxMomentum must be a finite number >= 0, or one per group, got \[0\.9,null\]/,
  );
  assert.throws(
    () => cycle(c, { baseMomentum: loose([0.8, "0.85"]) }),
    /baseMomentum must be a finite number >= 0, or one per group/,
  );
  assert.throws(
    () => cycle(c, { baseMomentum: -0.1 }),
    /baseMomentum must be a finite number >= 0, got -0\.1/,
  );
  // Adam's beta1 must stay below 1: refused by the optimizer, nothing changed.
  const adam = fx.cycles.find((c) => c.cls === "Adam")!;
  assert.throws(() => cycle(adam, { maxMomentum: [0.9, 1] }), /betas must be in \[0, 1\)/);
  // A group added later has no momentum in the lists: the error shows the lists to write.
  const { opt, sched } = cycle(c);
  opt.addParamGroup({ params: [new nn.Parameter(tensor([0], undefined, { device: testDevice }))] });
  assert.throws(
    () => sched.step(),
    /maxLr: \[0\.1, 0\.01, <its peak>\].*baseMomentum: \[0\.8, 0\.85, <its baseMomentum>\].*maxMomentum: \[0\.9, 0\.95, <its maxMomentum>\]/,
  );
  opt.dispose();
});
