/**
 * Optimizers against torch.optim (tests/fixtures/optim.json): 10 steps on
 * small fixed problems, comparing the parameters after every step, and a
 * stateDict()/loadStateDict() round trip that continues the trajectory.
 */
import assert from "node:assert/strict";
import { endStep, nn, optim, scope, type Tensor, tensor } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored } from "./helpers.ts";

interface Run {
  optimizer: "SGD" | "Adam" | "AdamW";
  // deno-lint-ignore no-explicit-any
  options: Record<string, any>;
  losses: number[];
  params: number[][][];
}

interface Problem {
  name: "quadratic" | "linear";
  params: Stored[];
  data: Stored[];
  runs: Run[];
}

const fx = loadFixture<{ steps: number; problems: Problem[] }>("optim.json");

const LOSS: Record<Problem["name"], (p: Tensor[], d: Tensor[]) => Tensor> = {
  quadratic: (p, d) =>
    d[0].mul(p[0].sub(d[1]).pow(2)).sum().add(d[2].mul(p[1].sub(d[3]).pow(2)).sum()),
  linear: (p, d) => d[0].matmul(p[0].transpose(0, 1)).add(p[1]).sub(d[1]).pow(2).mean(),
};

type AnyOptimizer = optim.SGD | optim.Adam | optim.AdamW;

function make(run: Run, params: Tensor[]): AnyOptimizer {
  const o = run.options;
  if (run.optimizer === "SGD") return new optim.SGD(params, o as optim.SGDOptions);
  if (run.optimizer === "Adam") return new optim.Adam(params, o as optim.AdamOptions);
  return new optim.AdamW(params, o as optim.AdamOptions);
}

function label(p: Problem, run: Run): string {
  return `${run.optimizer} ${JSON.stringify(run.options)} on ${p.name}`;
}

const TOL = { rtol: 1e-5, atol: 1e-6 };

/** Runs steps [from, to) and checks losses and parameters after each. */
function runSteps(
  opt: AnyOptimizer,
  p: Problem,
  run: Run,
  params: Tensor[],
  data: Tensor[],
  from: number,
  to: number,
) {
  for (let step = from; step < to; step++) {
    opt.zeroGrad();
    const loss = LOSS[p.name](params, data);
    assertClose([loss.item()], [run.losses[step]], {
      ...TOL,
      what: `${label(p, run)}: loss before step ${step + 1}`,
    });
    loss.backward();
    opt.step();
    params.forEach((t, i) => {
      assertClose(t, run.params[step][i], {
        ...TOL,
        what: `${label(p, run)}: parameter ${i} after step ${step + 1}`,
      });
    });
  }
}

for (const p of fx.problems) {
  for (const run of p.runs) {
    Deno.test(`optim: ${label(p, run)}: ${fx.steps} steps match torch.optim`, () => {
      scope(() => {
        const params = p.params.map((s) => fromStored(s, { requiresGrad: true }));
        const data = p.data.map((s) => fromStored(s));
        runSteps(make(run, params), p, run, params, data, 0, fx.steps);
      });
    });

    Deno.test(`optim: ${label(p, run)}: stateDict round trip continues the trajectory`, () => {
      scope(() => {
        const half = Math.floor(fx.steps / 2);
        const params = p.params.map((s) => fromStored(s, { requiresGrad: true }));
        const data = p.data.map((s) => fromStored(s));
        const first = make(run, params);
        runSteps(first, p, run, params, data, 0, half);
        const sd = first.stateDict();
        // Resume on fresh parameter tensors holding the checkpointed values.
        const resumed = params.map((t) =>
          tensor(t.toArray() as Float32Array, [...t.shape], { requiresGrad: true })
        );
        const second = make(run, resumed);
        second.loadStateDict(sd);
        // The first optimizer moving on must not disturb the loaded copy.
        first.zeroGrad();
        LOSS[p.name](params, data).backward();
        first.step();
        runSteps(second, p, run, resumed, data, half, fx.steps);
      });
    });
  }
}

Deno.test("optim: AdamW defaults to weightDecay 1e-2, Adam to 0", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  assert.equal(new optim.AdamW([w]).paramGroups[0].options.weightDecay, 1e-2);
  assert.equal(new optim.Adam([w]).paramGroups[0].options.weightDecay, 0);
  assert.equal(new optim.Adam([w]).paramGroups[0].options.lr, 1e-3);
  w.dispose();
});

Deno.test("optim: parameters without a gradient are left alone", () => {
  scope(() => {
    const a = tensor([1, 2, 3], undefined, { requiresGrad: true });
    const b = tensor([4, 5], undefined, { requiresGrad: true });
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    a.mul(a).sum().backward();
    opt.step();
    assertClose(b, [4, 5], { rtol: 0, atol: 0, what: "b" });
    assert.ok(a.toArray().every((v, i) => v < [1, 2, 3][i]), "a moved down its gradient");
  });
});

Deno.test("optim: zeroGrad sets gradients to null", () => {
  scope(() => {
    const a = tensor([1, 2, 3], undefined, { requiresGrad: true });
    const opt = new optim.SGD([a], { lr: 0.1 });
    a.sum().backward();
    assert.ok(a.grad);
    opt.zeroGrad();
    assert.equal(a.grad, null);
  });
});

Deno.test("optim: zeroGrad({ setToNone: false }) zeroes gradients, so momentum still moves, as torch 1.13's", () => {
  // SGD lr 0.1, momentum 0.9: a gradient of 1, then none. With zeros (torch
  // 1.13's zero_grad()) the second step moves by 0.9 * 0.1; with null (torch
  // 2's set_to_none) it skips the parameter. The option was ignored before.
  for (const [setToNone, moved] of [[true, 0.1], [false, 0.19]] as const) {
    scope(() => {
      const a = tensor([1], undefined, { requiresGrad: true });
      const opt = new optim.SGD([a], { lr: 0.1, momentum: 0.9 });
      a.sum().backward();
      opt.step();
      opt.zeroGrad({ setToNone });
      assert.deepEqual(
        a.grad === null ? null : Array.from(a.grad.toArray()),
        setToNone ? null : [0],
      );
      opt.step();
      assertClose(a, [1 - moved], { rtol: 0, atol: 1e-6, what: `setToNone ${setToNone}` });
    });
  }
  const fc = new nn.Linear(1, 1);
  assert.throws(() => fc.zeroGrad({ set_to_none: false } as never), /write 'setToNone'/);
  fc.dispose();
});

Deno.test("optim: invalid hyper-parameters are rejected", () => {
  const a = tensor([1], undefined, { requiresGrad: true });
  assert.throws(() => new optim.SGD([a], { lr: -1 }));
  assert.throws(() => new optim.SGD([a], { lr: 0.1, nesterov: true }));
  assert.throws(() => new optim.Adam([a], { betas: [1, 0.9] }));
  a.dispose();
});

// memoryStats() is process-wide and `deno test --parallel` runs files in one
// process, so this checks which tensors are alive rather than byte counts.
Deno.test("optim: a training loop outside any scope frees each step's results at the next zeroGrad, its loss a step later", () => {
  const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const lossFn = new nn.CrossEntropyLoss();
  const x = tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [6, 4]);
  const y = tensor(new Int32Array([0, 1, 2, 0, 1, 2]), [6]);
  const losses: Tensor[] = [];
  const values: number[] = [];
  for (let step = 0; step < 12; step++) {
    opt.zeroGrad();
    // The loss is read after zeroGrad in PyTorch code (loss.item()): it goes at the next one.
    if (step > 0) assert.equal(losses[step - 1].item(), values[step - 1]);
    if (step > 1) {
      assert.equal(
        losses[step - 2].isAlive,
        false,
        `step ${step - 2}'s loss survived two zeroGrads`,
      );
    }
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(loss);
    values.push(loss.item());
  }
  endStep();
  assert.equal(losses[11].isAlive, false, "endStep() frees the last step's results");
  assert.ok(
    model.parameters().every((p) => p.isAlive && p.grad?.isAlive),
    "parameters and gradients stay",
  );
  assert.ok(x.isAlive && y.isAlive, "tensors made by tensor() are the caller's");
  assert.ok(values[11] < values[0], `loss went from ${values[0]} to ${values[11]}`);
  x.dispose();
  y.dispose();
});

Deno.test("dispose frees the state, and the next step starts it afresh like a new optimizer", () => {
  const run = (disposeAfter: number) => {
    const w = tensor([1, -2, 3], [3], { requiresGrad: true });
    const opt = new optim.Adam([w], { lr: 0.1 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      w.mul(w).sum().backward();
      opt.step();
      if (i === disposeAfter) {
        const moments = [...opt.state.values()][0].tensors;
        opt.dispose();
        assert.equal(opt.state.size, 0);
        for (const t of moments.values()) assert.throws(() => t.toArray(), /released/);
      }
    }
    endStep();
    return Array.from(w.toArray() as Float32Array);
  };
  // Disposing after step 1 makes steps 2 and 3 those of a fresh Adam from
  // the parameters then: compare with a run that builds a new one there.
  const w = tensor([1, -2, 3], [3], { requiresGrad: true });
  const first = new optim.Adam([w], { lr: 0.1 });
  for (let i = 0; i < 2; i++) {
    first.zeroGrad();
    w.mul(w).sum().backward();
    first.step();
  }
  const second = new optim.Adam([w], { lr: 0.1 });
  second.zeroGrad();
  w.mul(w).sum().backward();
  second.step();
  endStep();
  assert.deepEqual(run(1), Array.from(w.toArray() as Float32Array));
  assert.notDeepEqual(run(-1), run(1));
});

Deno.test("Adam, Adam with L2 and AdamW on 100,003 weights (threads, vector body and tail) follow torch's formulas", () => {
  const n = 100_003, lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.1;
  const p0 = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.8);
  const grads = [1, 2, 3].map((s) =>
    Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.11 + s) * (i % 5 === 0 ? 1e-3 : 1))
  );
  for (const kind of ["Adam", "Adam+L2", "AdamW"] as const) {
    const w = tensor(p0, [n], { requiresGrad: true });
    const opts = {
      lr,
      betas: [b1, b2] as [number, number],
      eps,
      weightDecay: kind === "Adam" ? 0 : wd,
    };
    const opt = kind === "AdamW" ? new optim.AdamW([w], opts) : new optim.Adam([w], opts);
    for (const g of grads) {
      w.grad = tensor(g, [n]);
      opt.step();
    }
    const got = w.toArray() as Float32Array;
    // float64 reference of torch.optim's single-tensor Adam/AdamW.
    const want = Float64Array.from(p0), m = new Float64Array(n), v = new Float64Array(n);
    grads.forEach((gs, s) => {
      const step = s + 1, bc1 = 1 - b1 ** step, bc2 = 1 - b2 ** step;
      for (let i = 0; i < n; i++) {
        let g = gs[i];
        if (kind === "Adam+L2") g += wd * want[i];
        if (kind === "AdamW") want[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        want[i] -= (lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps);
      }
    });
    let worst = 0, at = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(got[i] - want[i]);
      if (d > worst) worst = d, at = i;
    }
    assert.ok(worst < 5e-7, `${kind}: weight ${at} is ${got[at]}, float64 gives ${want[at]}`);
    opt.dispose();
    endStep();
  }
});

Deno.test("SGD's kinds on 100,003 weights (threads, vector body and tail) follow torch's formulas", () => {
  const n = 100_003, lr = 0.1;
  const p0 = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.8);
  const grads = [1, 2, 3].map((s) =>
    Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.11 + s) * (i % 5 === 0 ? 1e-3 : 1))
  );
  const kinds: optim.SGDOptions[] = [
    { lr },
    { lr, weightDecay: 0.1 },
    { lr, momentum: 0.9 },
    { lr, momentum: 0.9, dampening: 0.2, weightDecay: 0.1 },
    { lr, momentum: 0.9, nesterov: true },
    { lr, momentum: 0.9, nesterov: true, weightDecay: 0.1 },
  ];
  for (const o of kinds) {
    const w = tensor(p0, [n], { requiresGrad: true });
    const opt = new optim.SGD([w], o);
    for (const g of grads) {
      w.grad = tensor(g, [n]);
      opt.step();
    }
    const got = w.toArray() as Float32Array;
    // float64 reference of torch.optim.SGD's single-tensor step.
    const mom = o.momentum ?? 0, damp = o.dampening ?? 0, wd = o.weightDecay ?? 0;
    const want = Float64Array.from(p0), buf = new Float64Array(n);
    grads.forEach((gs, s) => {
      for (let i = 0; i < n; i++) {
        let d = gs[i] + wd * want[i];
        if (mom !== 0) {
          buf[i] = s === 0 ? d : mom * buf[i] + (1 - damp) * d;
          d = o.nesterov ? d + mom * buf[i] : buf[i];
        }
        want[i] -= lr * d;
      }
    });
    let worst = 0, at = 0;
    for (let i = 0; i < n; i++) {
      const d = Math.abs(got[i] - want[i]);
      if (d > worst) worst = d, at = i;
    }
    assert.ok(
      worst < 5e-7,
      `${JSON.stringify(o)}: weight ${at} is ${got[at]}, float64 gives ${want[at]}`,
    );
    opt.dispose();
    endStep();
  }
});

Deno.test("optimizer habits as torch 1.13: load replaces the whole state, momentum turned on later, foreign dicts", () => {
  const t = (v: number[]) => tensor(v, undefined, { requiresGrad: true });
  // o.load_state_dict(sd) of a dict with no state for u: u starts afresh (torch), not from o2's buffer.
  const w = t([1, 2]), u = t([3]);
  const o = new optim.SGD([w, u], { lr: 0.1, momentum: 0.9 });
  w.grad = tensor([1, 1]);
  o.step();
  const sd = o.stateDict();
  const w2 = t([1, 2]), u2 = t([3]);
  const o2 = new optim.SGD([w2, u2], { lr: 0.1, momentum: 0.9 });
  const grads = () => {
    w2.grad = tensor([1, 1]);
    u2.grad = tensor([0.5]);
  };
  for (let k = 0; k < 2; k++) grads(), o2.step();
  o2.loadStateDict(sd);
  grads();
  o2.step();
  assertClose(w2, [0.52, 1.52], { what: "w2" });
  assertClose(u2, [2.805], { what: "u2 (2.8507 with the stale buffer)" });
  // Momentum set after plain steps: torch starts the buffer from that step's gradient.
  const v = t([1, -2]);
  const plain = new optim.SGD([v], { lr: 0.1 });
  v.grad = tensor([0.5, 0.25]);
  plain.step();
  plain.paramGroups[0].options.momentum = 0.9;
  for (let k = 0; k < 2; k++) (v.grad = tensor([0.5, 0.25])), plain.step();
  assertClose(v, [0.805, -2.0975], { what: "momentum on later" });
  // A state dict of another optimizer class is refused at load, naming why.
  const adam = new optim.Adam([t([1, 2]), t([3])]);
  assert.throws(
    () => adam.loadStateDict(sd),
    /Adam.loadStateDict: group 0 has options momentum, dampening, nesterov, which Adam does not take/,
  );
});

Deno.test("schedulers as torch's: a second schedule anneals from the initial lr; lastLr; checked arguments", () => {
  // StepLR(1, 0.5) twice, then CosineAnnealingLR(T_max=2) five times -> torch's lrs and base_lrs [0.1]
  const w = tensor([1], undefined, { requiresGrad: true });
  const o = new optim.SGD([w], { lr: 0.1 });
  const s1 = new optim.StepLR(o, { stepSize: 1, gamma: 0.5 });
  s1.step();
  s1.step();
  const s2 = new optim.CosineAnnealingLR(o, { tMax: 2 });
  const lrs = [];
  for (let k = 0; k < 5; k++) s2.step(), lrs.push(o.paramGroups[0].options.lr);
  assertClose(lrs, [0.0125, 0, 0.05, 0.1, 0.05], { atol: 1e-9, what: "chained cosine" });
  assert.deepEqual(s2.baseLrs, [0.1]);
  // get_last_lr() is what the schedule set, not an lr set by hand since.
  o.paramGroups[0].options.lr = 7;
  assert.ok(Math.abs(s2.lastLr[0] - 0.05) < 1e-9);
  assert.throws(
    () => new optim.OneCycleLR(o, { maxLr: 1, totalSteps: 10, pctStart: 1.5 }),
    /pctStart must be in \[0, 1\], got 1.5/,
  );
  const plateau = new optim.ReduceLROnPlateau(o);
  assert.throws(() => plateau.loadStateDict({ bestt: 0.1 }), /unexpected bestt/);
  // Its own state through JSON: best Infinity comes back as null.
  plateau.loadStateDict(JSON.parse(JSON.stringify(plateau.stateDict())));
  assert.equal(plateau.best, Infinity);
  // OneCycleLR sets the lr itself: lastLr follows it.
  const w3 = tensor([1], undefined, { requiresGrad: true });
  const o3 = new optim.SGD([w3], { lr: 1, momentum: 0.9 });
  const one = new optim.OneCycleLR(o3, { maxLr: 0.1, totalSteps: 10 });
  assert.ok(Math.abs(one.lastLr[0] - 0.004) < 1e-12, `${one.lastLr}`);
  one.step();
  assert.equal(one.lastLr[0], o3.paramGroups[0].options.lr);
});
