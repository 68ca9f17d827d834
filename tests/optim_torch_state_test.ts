/**
 * Optimizers load a state dict that PyTorch 1.13 saved
 * (tests/fixtures/optim_torch_state/, written by
 * scripts/make_optim_torch_state_fixtures.py): for SGD, Adam, AdamW,
 * RMSprop, Adagrad, Adamax, NAdam and RAdam, the parameters and
 * `opt.state_dict()` torch saved after a few steps are read with io.load,
 * loaded into an optimizer made with no options of its own, and stepped
 * with torch's next gradients: parameters, state and lr must follow torch's
 * run. Adam's dict carries initial_lr (a StepLR was attached): a LambdaLR
 * made after loading starts from it, as torch's. Then what is refused:
 * another class's dict, torch-only switches that are on, options the class
 * lacks, wrong counts and shapes, broken entries; and nothing changes when
 * a load fails.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { io, optim, type Tensor, tensor } from "../mod.ts";
import type { TorchOptimizerStateDict } from "../src/optim/torch_state.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

const DIR = new URL("./fixtures/optim_torch_state/", import.meta.url).pathname;

// deno-lint-ignore no-explicit-any
type Options = Record<string, any>;

interface Run {
  name: string;
  optimizer: keyof typeof CLASSES;
  options: Options;
  groups: Options[];
  steps: { grads: Stored[]; params: Stored[]; lr?: number[] }[];
  state: Record<string, { step?: number; tensors: Record<string, Stored | null> }>;
  lr: number[];
  savedLr: number[];
  schedule?: { baseLrs: number[]; initialLr: number[] };
}

const fx = loadFixture<{ runs: Run[] }>("optim_torch_state/expected.json");

const CLASSES = {
  SGD: optim.SGD,
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  RMSprop: optim.RMSprop,
  Adagrad: optim.Adagrad,
  Adamax: optim.Adamax,
  NAdam: optim.NAdam,
  RAdam: optim.RAdam,
} as const;

type AnyOptimizer = InstanceType<(typeof CLASSES)[keyof typeof CLASSES]>;

const [RTOL, ATOL] = testDevice === "cpu" ? [1e-6, 1e-7] : [1e-4, 1e-5];

interface Checkpoint {
  optimizer: TorchOptimizerStateDict;
  params?: Tensor[];
}

const load = (name: string) => io.load<Checkpoint>(`${DIR}${name}.pt`, { device: testDevice });

/** Frees every tensor of a loaded checkpoint. */
function disposeAll(v: unknown, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== "object" || seen.has(v)) return;
  seen.add(v);
  if ("dispose" in v && typeof v.dispose === "function") return void (v as Tensor).dispose();
  for (const x of v instanceof Map ? v.values() : Object.values(v)) disposeAll(x, seen);
}

/** An optimizer of `cls` over two groups, with no options of its own (SGD needs an lr). */
function make(cls: keyof typeof CLASSES, a: Tensor[], b: Tensor[]): AnyOptimizer {
  const groups = [{ params: a }, { params: b }];
  return cls === "SGD" ? new optim.SGD(groups, { lr: 1 }) : new CLASSES[cls](groups);
}

/** The groups' lr against torch's (written with 9 significant digits). */
const assertLr = (opt: AnyOptimizer, lr: number[]) =>
  assertClose(opt.paramGroups.map((g) => g.lr), lr, { rtol: 1e-8, atol: 0, what: "lr" });

/** A state entry of torch's layout, copied with `edit` applied. */
function editedState(
  sd: TorchOptimizerStateDict,
  index: number,
  edit: (s: Record<string, unknown>) => void,
): TorchOptimizerStateDict {
  const state = new Map(sd.state as Map<number, Record<string, Tensor | number | null>>);
  const s: Record<string, unknown> = { ...state.get(index) };
  edit(s);
  state.set(index, s as Record<string, Tensor | number | null>);
  return { state, param_groups: sd.param_groups };
}

for (const run of fx.runs) {
  Deno.test(`optim torch state: ${run.name}: torch's ${run.optimizer} state dict continues torch's run`, async () => {
    const ckpt = await load(run.name);
    const [p0, p1] = ckpt.params!.map((p) => p.requiresGrad_());
    const opt = make(run.optimizer, [p0], [p1]);
    try {
      opt.loadStateDict(ckpt.optimizer);
      // The groups' options are the saved ones (this optimizer was made without any).
      run.groups.forEach((own, i) => {
        const want = { ...run.options, ...own, lr: run.savedLr[i] };
        const got = opt.paramGroups[i].options as Options;
        for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `group ${i} ${k}`);
      });
      const sched = run.schedule
        ? new optim.LambdaLR(opt, { lrLambda: (e) => 0.8 ** e })
        : undefined;
      if (run.schedule) assert.deepEqual(sched!.baseLrs, run.schedule.baseLrs);
      for (const [k, step] of run.steps.entries()) {
        [p0, p1].forEach((p, i) => p.grad = fromStored(step.grads[i], { device: testDevice }));
        opt.step();
        sched?.step();
        [p0, p1].forEach((p, i) =>
          assertClose(p, step.params[i].data, { rtol: RTOL, atol: ATOL, what: `step ${k} p${i}` })
        );
        if (step.lr) assertLr(opt, step.lr);
      }
      assertLr(opt, run.lr);
      for (const [i, want] of Object.entries(run.state)) {
        const s = opt.state.get([p0, p1][Number(i)])!;
        // torch's SGD counts no steps; elsewhere the count goes on from the saved one.
        if (want.step !== undefined) assert.equal(s.step, want.step, `p${i} step`);
        for (const [k, t] of Object.entries(want.tensors)) {
          if (t === null) assert.equal(s.tensors.has(k), false, `p${i} ${k} is None in torch`);
          else {assertClose(s.tensors.get(k)!, t.data, {
              rtol: RTOL,
              atol: ATOL,
              what: `p${i} ${k}`,
            });}
        }
        const named = Object.entries(want.tensors).filter(([, t]) => t !== null).map(([k]) => k);
        assert.deepEqual([...s.tensors.keys()].sort(), named.sort(), `p${i} state names`);
      }
    } finally {
      opt.dispose();
      disposeAll(ckpt);
    }
  });
}

/** A value of torch's dict as plain data: tensors as their values, 0-d step tensors as numbers. */
function plain(v: unknown): unknown {
  if (v !== null && typeof v === "object" && "toArray" in v) {
    const t = v as Tensor;
    return t.ndim === 0 ? t.toArray()[0] : [...t.toArray()];
  }
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** torch's loop switches and schedule keys, which torch's __setstate__ fills in or ours keep. */
const TORCH_ONLY = ["foreach", "capturable", "differentiable", "fused", "max_lr", "min_lr"];

for (const run of fx.runs) {
  Deno.test(`optim torch state: ${run.name}: stateDict({ format: "torch" }) gives back torch's dict, and a .pth of it resumes`, async () => {
    const ckpt = await load(run.name);
    const [p0, p1] = ckpt.params!.map((p) => p.requiresGrad_());
    const opt = make(run.optimizer, [p0], [p1]);
    const again = make(run.optimizer, [p0], [p1]);
    const tmp = await Deno.makeTempFile({ suffix: ".pth" });
    try {
      opt.loadStateDict(ckpt.optimizer);
      const sd = opt.stateDict({ format: "torch" });
      // The groups: torch's options under torch's names (its loop switches aside).
      const want = ckpt.optimizer.param_groups.map((g) =>
        Object.fromEntries(Object.entries(g).filter(([k]) => !TORCH_ONLY.includes(k)))
      );
      assert.deepEqual(plain(sd.param_groups), plain(want));
      // The state: torch's entries (SGD's None buffer is no entry here; its step torch never had).
      const state = new Map(
        [...(ckpt.optimizer.state as Map<number, Record<string, unknown>>)].map(([i, s]) => [
          i,
          Object.fromEntries(
            Object.entries(s instanceof Map ? Object.fromEntries(s) : s).filter(([, x]) =>
              x !== null
            ),
          ),
        ]),
      );
      assert.deepEqual(plain(sd.state), plain(state));
      // Through a .pth file (torch's format) into a fresh optimizer, which then follows torch.
      await io.save(tmp, { optimizer: sd });
      const back = await io.load<Checkpoint>(tmp, { device: testDevice });
      opt.dispose();
      again.loadStateDict(back.optimizer);
      disposeAll(back);
      // Adam's run goes on under a LambdaLR from the saved initial_lr, which the file kept.
      const sched = run.schedule
        ? new optim.LambdaLR(again, { lrLambda: (e) => 0.8 ** e })
        : undefined;
      if (run.schedule) assert.deepEqual(sched!.baseLrs, run.schedule.baseLrs);
      for (const [k, step] of run.steps.entries()) {
        [p0, p1].forEach((p, i) => p.grad = fromStored(step.grads[i], { device: testDevice }));
        again.step();
        sched?.step();
        [p0, p1].forEach((p, i) =>
          assertClose(p, step.params[i].data, { rtol: RTOL, atol: ATOL, what: `step ${k} p${i}` })
        );
      }
    } finally {
      opt.dispose();
      again.dispose();
      disposeAll(ckpt);
      await Deno.remove(tmp);
    }
  });
}

Deno.test("optim: stateDict's format is lits or torch", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true, device: testDevice });
  using opt = new optim.SGD([w], { lr: 0.1 });
  assert.throws(() => opt.stateDict({ format: "pytorch" } as never), /format must be "lits"/);
  assert.throws(() => opt.stateDict({ fmt: "torch" } as never), /unknown option 'fmt'/);
  assert.ok(opt.stateDict().paramGroups);
  w.dispose();
});

Deno.test("optim torch state: a schedule made after loading starts from initial_lr", async () => {
  const run = fx.runs.find((r) => r.schedule)!;
  const ckpt = await load(run.name);
  const [p0, p1] = ckpt.params!.map((p) => p.requiresGrad_());
  const opt = new optim.Adam([{ params: [p0] }, { params: [p1] }]);
  try {
    opt.loadStateDict(ckpt.optimizer);
    // The lr now (decayed by torch's StepLR) is not the initial one the schedule uses.
    assert.notDeepEqual(opt.paramGroups.map((g) => g.lr), run.schedule!.initialLr);
    const sched = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
    assert.deepEqual(sched.baseLrs, run.schedule!.initialLr);
  } finally {
    opt.dispose();
    disposeAll(ckpt);
  }
});

Deno.test("optim torch state: a fresh optimizer's dict (state {}) sets the options", async () => {
  const ckpt = await load("adam_fresh");
  const a = tensor([0, 0, 0, 0, 0, 0], [2, 3], { requiresGrad: true, device: testDevice });
  const b = tensor([0, 0, 0, 0], [4], { requiresGrad: true, device: testDevice });
  using opt = new optim.Adam([a, b]);
  assert.deepEqual(ckpt.optimizer.state, {}); // a dict without keys reads as an object
  opt.loadStateDict(ckpt.optimizer);
  assert.equal(opt.state.size, 0);
  assert.equal(opt.paramGroups[0].lr, 0.003);
  assert.deepEqual(opt.paramGroups[0].betas, [0.8, 0.9]);
  a.dispose();
  b.dispose();
});

Deno.test("optim torch state: another class's dict, torch-only switches, foreign options", async () => {
  const sgd = await load("sgd"), adam = await load("adam"), rms = await load("rmsprop");
  const [p0, p1] = sgd.params!.map((p) => p.requiresGrad_());
  try {
    const intoAdam = new optim.Adam([{ params: [p0] }, { params: [p1] }]);
    assert.throws(
      () => intoAdam.loadStateDict(sgd.optimizer),
      /Adam\.loadStateDict: group 0 has options momentum, dampening, nesterov, which Adam does not take/,
    );
    const intoSGD = new optim.SGD([{ params: [p0] }, { params: [p1] }], { lr: 1 });
    assert.throws(
      () => intoSGD.loadStateDict(adam.optimizer),
      /SGD\.loadStateDict: group 0 has options betas, eps, amsgrad, which SGD does not take/,
    );
    const intoAdagrad = new optim.Adagrad([{ params: [p0] }, { params: [p1] }]);
    assert.throws(() => intoAdagrad.loadStateDict(rms.optimizer), /which Adagrad does not take/);
    // torch's RMSprop state names under an optimizer with RMSprop's options but not its state.
    const renamed = editedState(rms.optimizer, 0, (s) => {
      s.exp_avg = s.square_avg;
      delete s.square_avg;
    });
    const intoRms = new optim.RMSprop([{ params: [p0] }, { params: [p1] }]);
    assert.throws(
      () => intoRms.loadStateDict(renamed),
      /state 'exp_avg' of parameter 0 is not RMSprop's/,
    );

    for (const [file, key] of [["adam_foreach", "foreach"], ["adam_fused", "fused"]]) {
      const ckpt = await load(file);
      const a = tensor([0, 0, 0, 0, 0, 0], [2, 3], { requiresGrad: true, device: testDevice });
      const b = tensor([0, 0, 0, 0], [4], { requiresGrad: true, device: testDevice });
      const opt = new optim.Adam([a, b]);
      assert.throws(
        () => opt.loadStateDict(ckpt.optimizer),
        new RegExp(
          `Adam\\.loadStateDict: torch's state dict: param_groups\\[0\\] has ${key} true: ` +
            `optim\\.Adam: option '${key}' is not taken .*; remove it: delete sd\\.param_groups\\[0\\]\\.${key}`,
        ),
      );
      assert.equal(opt.paramGroups[0].lr, 1e-3);
      [a, b].forEach((t) => t.dispose());
    }
    const torch2 = await load("nadam_torch2");
    const a = tensor([0, 0, 0, 0, 0, 0], [2, 3], { requiresGrad: true, device: testDevice });
    const b = tensor([0, 0, 0, 0], [4], { requiresGrad: true, device: testDevice });
    assert.throws(
      () => new optim.NAdam([a, b]).loadStateDict(torch2.optimizer),
      /NAdam\.loadStateDict: group 0 has options decoupled_weight_decay, which NAdam does not take/,
    );
    [a, b].forEach((t) => t.dispose());
  } finally {
    for (const c of [sgd, adam, rms]) disposeAll(c);
  }
});

Deno.test("optim torch state: wrong counts, shapes and entries are refused; nothing changes", async () => {
  const ckpt = await load("adam");
  const sd = ckpt.optimizer;
  const [p0, p1] = ckpt.params!.map((p) => p.requiresGrad_());
  const other = tensor([1, 2, 3, 4, 5, 6], [3, 2], { requiresGrad: true, device: testDevice });
  try {
    assert.throws(
      () => new optim.Adam([p0, p1]).loadStateDict(sd),
      /Adam\.loadStateDict: 2 groups, this optimizer has 1/,
    );
    assert.throws(
      () => new optim.Adam([{ params: [p0] }, { params: [p1, other] }]).loadStateDict(sd),
      /group 1 has 1 parameters, expected 2/,
    );
    // A run of its own, then a failing load: its options, state and initial lr stay.
    const opt = new optim.Adam([{ params: [other] }, { params: [p1] }], { lr: 0.125 });
    other.grad = tensor([1, 1, 1, 1, 1, 1], [3, 2], { device: testDevice });
    opt.step();
    const before = opt.state.get(other)!.tensors.get("exp_avg")!.toArray();
    assert.throws(
      () => opt.loadStateDict(sd),
      /state 'exp_avg' of parameter 0 is \[2,3\], expected \[3,2\]/,
    );
    assert.deepEqual(opt.paramGroups.map((g) => g.lr), [0.125, 0.125]);
    assert.equal(opt.paramGroups[1].amsgrad, false);
    assert.equal(opt.state.get(other)!.step, 1);
    assert.deepEqual(opt.state.get(other)!.tensors.get("exp_avg")!.toArray(), before);
    assert.deepEqual(new optim.StepLR(opt, { stepSize: 1 }).baseLrs, [0.125, 0.125]);
    opt.dispose();

    using ok = new optim.Adam([{ params: [p0] }, { params: [p1] }]);
    const broken: [TorchOptimizerStateDict, RegExp][] = [
      [
        editedState(sd, 0, (s) => delete s.step),
        /state\[0\] has no step, which torch's Adam keeps/,
      ],
      [editedState(sd, 1, (s) => s.step = 2.5), /state\[1\]\.step must be a count .*got 2\.5/],
      [editedState(sd, 0, (s) => s.exp_avg = 3), /state\[0\]\.exp_avg must be a tensor, got 3/],
      [
        editedState(sd, 0, (s) => s.exp_avg = null),
        /state\[0\]\.exp_avg must be a tensor, got null/,
      ],
      [
        {
          state: sd.state,
          param_groups: [{ ...sd.param_groups[0], initial_lr: "x" }, sd.param_groups[1]],
        },
        /param_groups\[0\]\.initial_lr must be a number >= 0, got "x"/,
      ],
      [
        {
          state: sd.state,
          param_groups: [{ ...sd.param_groups[0], params: "0" }, sd.param_groups[1]],
        },
        /param_groups\[0\]\.params must be a list of parameter indices/,
      ],
      [
        { state: sd.state, param_groups: 5 as never },
        /param_groups must be a list of groups, got 5/,
      ],
      [
        { state: { 0: {} } as never, param_groups: sd.param_groups },
        /state must be a Map by parameter index/,
      ],
      [
        {
          state: sd.state,
          param_groups: [{ ...sd.param_groups[0], lr: "0.1" }, sd.param_groups[1]],
        },
        /Adam\.loadStateDict group 0: lr must be a number, got "0\.1"/,
      ],
    ];
    for (const [bad, message] of broken) {
      assert.throws(() => ok.loadStateDict(bad), message);
      assert.equal(ok.state.size, 0);
      assert.deepEqual(ok.paramGroups.map((g) => g.lr), [1e-3, 1e-3]);
    }
  } finally {
    other.dispose();
    disposeAll(ckpt);
  }
});
