/**
 * Adam's and AdamW's `amsgrad`, as torch 1.13's (against
 * tests/fixtures/optim_amsgrad.json, written by
 * scripts/make_optim_amsgrad_fixtures.py): each group's flag, torch's
 * `max_exp_avg_sq` state made only where a group has amsgrad, a state dict
 * round trip half-way that takes the saved groups' flags, the fused native
 * step kept for the rest, and bad flags refused. (`maximize` alone, and
 * OneCycleLR's momentum lists: tests/optim_maximize_test.ts.)
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { dev, fx, leaf, loose, make, type Options, step, tol } from "./optim_fixture.ts";
import { optim } from "../mod.ts";
import { assertClose, countCalls, testDevice } from "./helpers.ts";

for (const c of fx.cases.filter((c) => c.name.includes("amsgrad"))) {
  Deno.test(`optim_amsgrad: ${c.name}, as torch's`, () => {
    const params = c.start.map(leaf), targets = c.targets.map(dev);
    const opt = make(c.cls, params, c.groups, c.defaults);
    c.trace.forEach((want, t) => {
      step(opt, params, targets, c.signs);
      params.forEach((p, i) => assertClose(p, want[i].data, { ...tol, what: `step ${t} p${i}` }));
    });
    // torch's state: max_exp_avg_sq only in the groups with amsgrad.
    opt.paramGroups.forEach((g, i) => {
      const names = [...opt.state.get(params[i])!.tensors.keys()];
      assert.deepEqual(
        names,
        g.options.amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"],
      );
    });
    opt.dispose();
  });
}

for (const s of fx.saved.filter((s) => s.cls !== "SGD")) {
  Deno.test(`optim_amsgrad: ${s.cls}'s state dict half-way carries amsgrad and max_exp_avg_sq`, () => {
    const params = s.start.map(leaf), targets = s.targets.map(dev);
    const made = make(s.cls, params, s.groups, s.defaults);
    for (let i = 0; i < 3; i++) step(made, params, targets, s.signs);
    params.forEach((p, i) => assertClose(p, s.mid[i].data, { ...tol, what: `mid p${i}` }));
    const sd = made.stateDict();
    for (const [index, want] of Object.entries(s.state)) {
      const got = sd.state.get(Number(index))!;
      assert.deepEqual([...got.tensors.keys()].sort(), Object.keys(want).sort());
      for (const [k, v] of Object.entries(want)) {
        assertClose(got.tensors.get(k)!, v.data, { ...tol, what: `state ${index} ${k}` });
      }
    }
    // Made without the flags: the dict's replace them (torch loads the saved groups).
    const fresh = make(s.cls, params, s.groups.map(() => ({})), s.plain);
    fresh.loadStateDict(sd);
    s.groups.forEach((g, i) => {
      for (const [k, v] of Object.entries(g)) assert.equal(fresh.paramGroups[i].options[k], v);
    });
    made.dispose(); // the loaded state is fresh's own copy
    s.after.forEach((want, t) => {
      step(fresh, params, targets, s.signs);
      params.forEach((p, i) => assertClose(p, want[i].data, { ...tol, what: `after ${t} p${i}` }));
    });
    fresh.dispose();
  });
}

Deno.test("optim_amsgrad: a dict saved without amsgrad turns it off in a group that had it", () => {
  const s = fx.saved.find((s) => s.cls === "Adam")!;
  const params = s.start.map(leaf), targets = s.targets.map(dev);
  const plain = new optim.Adam(params, { lr: 0.05 });
  step(plain, params, targets, [1, 1]);
  const ams = new optim.Adam(params, { lr: 0.05, amsgrad: true });
  assert.equal(ams.amsgrad, true);
  ams.loadStateDict(plain.stateDict());
  assert.equal(ams.paramGroups[0].amsgrad, false);
  step(ams, params, targets, [1, 1]);
  assert.equal(ams.state.get(params[0])!.tensors.has("max_exp_avg_sq"), false);
  plain.dispose();
  ams.dispose();
});

Deno.test("optim_amsgrad: the step without amsgrad stays the one fused native call", {
  ignore: testDevice !== "cpu", // counts the CPU library's calls
}, () => {
  const c = fx.cases.find((c) => c.name === "Adam group 1 amsgrad, group 0 maximize")!;
  const params = c.start.map(leaf), targets = c.targets.map(dev);
  for (
    const [groups, fused] of [[[{}, {}], 2], [c.groups, 1], [[{ amsgrad: true }, {}], 1]] as const
  ) {
    const opt = make("Adam", params, groups as Options[], { lr: 0.05 });
    const [, calls] = countCalls(["lits_adam_step_f32"], () => step(opt, params, targets, [1, 1]));
    assert.equal(calls, fused, JSON.stringify(groups));
    opt.dispose();
  }
});

Deno.test("optim_amsgrad: amsgrad turned on after steps starts its maximum there", () => {
  // torch fails here (KeyError 'max_exp_avg_sq'); here the maximum starts at
  // that step, from zeros, so it equals exp_avg_sq after it.
  const s = fx.saved.find((s) => s.cls === "Adam")!;
  const params = s.start.map(leaf), targets = s.targets.map(dev);
  const opt = new optim.Adam(params, { lr: 0.05, betas: [0.9, 0.6] });
  step(opt, params, targets, [1, 1]);
  opt.paramGroups[0].amsgrad = true;
  step(opt, params, targets, [1, 1]);
  const st = opt.state.get(params[0])!;
  assert.deepEqual(
    st.tensors.get("max_exp_avg_sq")!.toArray(),
    st.tensors.get("exp_avg_sq")!.toArray(),
  );
  opt.dispose();
});

Deno.test("optim_amsgrad: bad flags and torch-only options are refused with what to write", () => {
  const p = leaf({ shape: [2], data: [1, 2] });
  for (const C of [optim.Adam, optim.AdamW]) {
    const name = C.name;
    assert.throws(
      () => new C([p], loose({ amsgrad: "yes" })),
      new RegExp(`optim\\.${name}: amsgrad must be true or false, got "yes"`),
    );
    assert.throws(
      () => new C([p], loose({ maximize: 1 })),
      /maximize must be true or false, got 1/,
    );
    assert.throws(
      () => new C([{ params: [p], options: loose({ amsgrad: 1 }) }]),
      /param group 0: amsgrad must be a boolean, got 1/,
    );
    // torch's { params, amsgrad: True } beside params: the flag goes in options.
    assert.throws(
      () => new C([loose({ params: [p], amsgrad: true })]),
      /hyper-parameters go in options.*amsgrad: true/,
    );
    for (const key of ["foreach", "capturable", "differentiable", "fused"]) {
      assert.throws(
        () => new C([p], loose({ [key]: false })),
        new RegExp(`optim\\.${name}: option '${key}' is not taken \\(.*\\); remove it`),
      );
    }
    assert.throws(
      () => new C([p], loose({ amsGrad: true })),
      /unknown option 'amsGrad' \(write 'amsgrad'\)/,
    );
    const opt = new C([p]);
    assert.equal(opt.paramGroups[0].amsgrad, false);
    assert.throws(() => (opt.paramGroups[0].amsgrad = loose("no")), /amsgrad must be a boolean/);
    assert.equal(opt.paramGroups[0].amsgrad, false);
    opt.dispose();
  }
});
