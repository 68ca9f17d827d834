/**
 * optim.swaUtils (AveragedModel, SWALR, updateBn) and torchvision's
 * ExponentialMovingAverage against torch 1.13's numbers
 * (tests/fixtures/swa.json, written by scripts/make_swa_fixtures.py): the
 * averaged state dicts over 5 SGD steps (SWA, SWA with buffers, EMA, a
 * custom avgFn), SWALR's lr traces, updateBn's running statistics. Then the
 * copies, the bad inputs (each with an error that says what to write) and
 * memory.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  collectGarbage,
  data,
  functional as F,
  manualSeed,
  memoryStats,
  models,
  nn,
  optim,
  rand,
  randn,
  type Tensor,
  zeros,
} from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

const { AveragedModel, ExponentialMovingAverage, SWALR, updateBn } = optim.swaUtils;

type StateDict = Record<string, Stored>;
interface Fixture {
  torch: string;
  train: {
    initial: StateDict;
    batches: { x: Stored; y: Stored }[];
    lr: number;
    momentum: number;
    emaDecay: number;
    keys: string[];
    steps: Record<"model" | "swa" | "swaBuffers" | "ema" | "custom", StateDict>[];
  };
  swalr: {
    name: string;
    options: optim.swaUtils.SWALROptions;
    before: { tMax: number; steps: number } | null;
    byHand: { at: number; lr: number } | null;
    lrs: number[][];
    lastEpoch: number;
  }[];
  sequential: number[][];
  bn: {
    initial: StateDict;
    images: Stored;
    labels: Stored;
    batchSize: number;
    after: StateDict;
    averaged: StateDict;
  };
}

const fx = loadFixture<Fixture>("swa.json");
const [RTOL, ATOL] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];

const make = (s: Stored): Tensor => fromStored(s, { device: testDevice });

/** A state dict from the fixture, as tensors on the test device. */
function tensors(sd: StateDict): Map<string, Tensor> {
  return new Map(Object.entries(sd).map(([k, s]) => [k, make(s)]));
}

/** Loads a fixture state dict into `m`, freeing the fixture's tensors after. */
function load(m: nn.Module, sd: StateDict): void {
  const ts = tensors(sd);
  m.loadStateDict(ts);
  for (const t of ts.values()) t.dispose();
}

/** Every key of `want` matches `m`'s state dict (int32 exactly), and no other key. */
function assertState(m: nn.Module, want: StateDict, what: string, rtol = RTOL, atol = ATOL) {
  const got = m.stateDict();
  assert.deepEqual([...got.keys()], Object.keys(want), `${what}: keys`);
  for (const [k, s] of Object.entries(want)) {
    const t = got.get(k)!;
    assert.deepEqual([...t.shape], s.shape, `${what} ${k}: shape`);
    if (s.dtype === "int32") assert.deepEqual([...t.toArray()], s.data, `${what} ${k}`);
    else assertClose(t, s.data, { rtol, atol, what: `${what} ${k}` });
  }
}

/** The generator's first model: Linear(4, 6), BatchNorm1d(6), ReLU, Linear(6, 3), torch's weights. */
function trainNet(): nn.Sequential {
  const net = new nn.Sequential(
    new nn.Linear(4, 6),
    new nn.BatchNorm1d(6),
    new nn.ReLU(),
    new nn.Linear(6, 3),
  ).to(testDevice);
  load(net, fx.train.initial);
  return net;
}

/** The four averages of the generator, of `net`. */
function averagesOf(net: nn.Sequential) {
  const copy = () =>
    new nn.Sequential(
      new nn.Linear(4, 6),
      new nn.BatchNorm1d(6),
      new nn.ReLU(),
      new nn.Linear(6, 3),
    );
  return {
    swa: new AveragedModel(net, { copy }),
    swaBuffers: new AveragedModel(net, { copy, useBuffers: true }),
    ema: new ExponentialMovingAverage(net, fx.train.emaDecay, { copy }),
    custom: new AveragedModel(net, {
      copy,
      avgFn: (a, m, n) => a.add(m.sub(a).mul(2).div(n + 2)),
    }),
  };
}

Deno.test("AveragedModel and EMA: torch's averages of the model's states after each SGD step", () => {
  const net = trainNet();
  const avgs = averagesOf(net);
  assert.deepEqual([...avgs.swa.stateDict().keys()], fx.train.keys);
  fx.train.steps.forEach((step, k) => {
    // The model's state as torch had it: the averaging alone is checked here.
    load(net, step.model);
    for (const [name, a] of Object.entries(avgs)) {
      a.updateParameters(net);
      assertState(a, step[name as keyof typeof avgs], `step ${k} ${name}`);
    }
  });
  assert.equal(avgs.swa.nAveraged, 5);
  for (const a of Object.values(avgs)) a.dispose();
  net.dispose();
});

Deno.test("AveragedModel and EMA: 5 SGD steps here, as torch's (training end to end)", () => {
  const net = trainNet();
  const avgs = averagesOf(net);
  const opt = new optim.SGD(net.parameters(), { lr: fx.train.lr, momentum: fx.train.momentum });
  fx.train.steps.forEach((step, k) => {
    const { x, y } = fx.train.batches[k];
    const loss = F.crossEntropy(net(make(x)), make(y));
    opt.zeroGrad();
    loss.backward();
    opt.step();
    assertState(net, step.model, `step ${k} model`, 1e-4, 1e-5);
    for (const [name, a] of Object.entries(avgs)) {
      a.updateParameters(net);
      assertState(a, step[name as keyof typeof avgs], `step ${k} ${name}`, 1e-4, 1e-5);
    }
  });
  opt.zeroGrad();
  for (const a of Object.values(avgs)) a.dispose();
  net.dispose();
});

Deno.test("AveragedModel: forward runs the copy; parameters are copied, not shared", () => {
  const net = trainNet();
  const avg = new AveragedModel(net, {
    copy: () =>
      new nn.Sequential(
        new nn.Linear(4, 6),
        new nn.BatchNorm1d(6),
        new nn.ReLU(),
        new nn.Linear(6, 3),
      ),
  });
  assert.ok(avg.module instanceof nn.Sequential);
  assert.equal(avg.nAveraged, 0);
  const x = randn([5, 4], { device: testDevice });
  net.eval();
  avg.eval();
  assertClose(avg(x), net(x).toArray(), { what: "averaged(x) before any update" });
  assert.equal(avg.module.training, false);
  const [p, q] = [net.parameters()[0], avg.parameters()[0]];
  assert.notEqual(p, q);
  assert.notEqual(p.storage, q.storage);
  const before = q.toArray();
  p.detach().add_(1);
  assert.deepEqual(q.toArray(), before, "the copy moved with the model");
  // The copy keeps the model's modes and requiresGrad flags, as deepcopy.
  net.train();
  net[1].eval();
  net[3].requiresGrad_(false);
  const again = new AveragedModel(net, { copy: () => trainNet() });
  assert.equal(again.module.training, true);
  assert.equal((again.module as nn.Sequential)[1].training, false);
  assert.equal(again.module.parameters().at(-1)!.requiresGrad, false);
  assert.equal(again.module.parameters()[0].requiresGrad, true);
  // nAveraged = 0 makes the next update a copy (torchvision's n_averaged.fill_(0)).
  avg.updateParameters(net);
  avg.updateParameters(trainNet());
  avg.nAveraged = 0;
  avg.updateParameters(net);
  assertClose(avg.parameters()[0], p.toArray(), { what: "copied after nAveraged = 0" });
  assert.equal(avg.nAveraged, 1);
  for (const m of [net, avg, again]) m.dispose();
});

Deno.test("AveragedModel: a zoo model is rebuilt as models.create made it, drawing no random numbers", () => {
  manualSeed(7);
  const model = models.create("simple", { numClasses: 3, imageSize: 16, batchNorm: true })
    .to(testDevice);
  const afterModel = rand([4]).toArray();
  manualSeed(7);
  models.create("simple", { numClasses: 3, imageSize: 16, batchNorm: true }).dispose();
  const avg = new AveragedModel(model, { useBuffers: true });
  assert.deepEqual(rand([4]).toArray(), afterModel, "making the copy moved the generator");
  assert.equal(avg.module.constructor, model.constructor);
  const sd = model.stateDict(), copied = avg.stateDict();
  assert.deepEqual([...copied.keys()], ["n_averaged", ...[...sd.keys()].map((k) => `module.${k}`)]);
  for (const [k, t] of sd) {
    assert.deepEqual(copied.get(`module.${k}`)!.toArray(), t.toArray(), k);
    assert.notEqual(copied.get(`module.${k}`), t);
    assert.equal(copied.get(`module.${k}`)!.device, testDevice);
  }
  // A zoo model changed since (a new head) no longer matches its recipe.
  const changed = changedResnet();
  assert.throws(
    () => new AveragedModel(changed),
    // (Its head's outFeatures differ: found comparing the settings, before any load.)
    /the model was changed since models\.create\("resnet18", \.\.\.\) made it \('fc''s settings differ\).*pass \{ copy: \(\) => \.\.\. \}/,
  );
  const fine = new AveragedModel(changed, { copy: changedResnet });
  assert.equal(fine.module.numParameters(), changed.numParameters());
  for (const m of [model, avg, changed, fine]) m.dispose();
});

/** A resnet18 with a 7-class head, as `changed` above. */
function changedResnet(): nn.Module {
  const m = models.create("resnet18", { numClasses: 3 });
  (m as unknown as { fc: nn.Module }).fc = new nn.Linear(512, 7);
  return m;
}

Deno.test("SWALR: torch 1.13's lr traces (cos, linear, per group, after another schedule, by hand)", () => {
  for (const c of fx.swalr) {
    const p = () => zeros([2], { requiresGrad: true, device: testDevice });
    const opt = new optim.SGD([{ params: [p()] }, { params: [p()], options: { lr: 0.05 } }], {
      lr: 0.1,
    });
    if (c.before) {
      const pre = new optim.CosineAnnealingLR(opt, { tMax: c.before.tMax });
      for (let k = 0; k < c.before.steps; k++) pre.step();
    }
    const s = new SWALR(opt, c.options);
    const lrs = [s.lastLr];
    for (let k = 0; k < c.lrs.length - 1; k++) {
      if (c.byHand && k === c.byHand.at) opt.paramGroups[0].lr = c.byHand.lr;
      s.step();
      lrs.push(s.lastLr);
    }
    lrs.forEach((got, k) =>
      got.forEach((v, i) => {
        const want = c.lrs[k][i];
        assert.ok(
          Math.abs(v - want) <= 1e-12 * Math.abs(want),
          `${c.name}: step ${k} group ${i}: ${v} vs ${want}`,
        );
      })
    );
    assert.deepEqual(opt.paramGroups.map((g) => g.lr), lrs.at(-1), c.name);
    assert.equal(s.lastEpoch, c.lastEpoch, `${c.name}: lastEpoch`);
  }
});

Deno.test("SWALR: inside SequentialLR after CosineAnnealingLR, as torch's", () => {
  const p = () => zeros([2], { requiresGrad: true, device: testDevice });
  const opt = new optim.SGD([{ params: [p()] }, { params: [p()], options: { lr: 0.05 } }], {
    lr: 0.1,
  });
  const cos = new optim.CosineAnnealingLR(opt, { tMax: 6 });
  const swa = new SWALR(opt, { swaLr: 0.01, annealEpochs: 2 });
  const s = new optim.SequentialLR(opt, { schedulers: [cos, swa], milestones: [3] });
  const lrs = [s.lastLr];
  for (let k = 0; k < fx.sequential.length - 1; k++) {
    s.step();
    lrs.push(s.lastLr);
  }
  lrs.forEach((got, k) =>
    got.forEach((v, i) => assert.ok(Math.abs(v - fx.sequential[k][i]) <= 1e-12, `step ${k}: ${v}`))
  );
});

Deno.test("SWALR: a state dict resumes the annealing where it stood", () => {
  const opt = () => new optim.SGD([zeros([1], { requiresGrad: true })], { lr: 0.1 });
  const a = opt(), b = opt();
  const s = new SWALR(a, { swaLr: 0.01, annealEpochs: 5 });
  s.step();
  s.step();
  const sd = s.stateDict();
  assert.equal(sd.stepCount, 3);
  b.paramGroups[0].lr = a.paramGroups[0].lr;
  const r = new SWALR(b, { swaLr: 0.5, annealEpochs: 5 });
  r.loadStateDict(sd);
  assert.deepEqual(r.swaLrs, [0.01]);
  for (let k = 0; k < 4; k++) {
    s.step();
    r.step();
    assert.equal(r.lastLr[0], s.lastLr[0], `step ${k}`);
  }
  assert.equal(r.lastEpoch, s.lastEpoch);
  assert.throws(
    () => r.loadStateDict({ lastEpoch: 1, baseLrs: [0.1] }),
    /expected \{ lastEpoch, baseLrs, stepCount, swaLrs \}/,
  );
});

Deno.test("SWALR: bad options, an epoch to step(), a group added after", () => {
  const opt = () =>
    new optim.SGD([{ params: [zeros([1], { requiresGrad: true })] }, {
      params: [zeros([1], { requiresGrad: true })],
    }], { lr: 0.1 });
  const bad: [unknown, RegExp][] = [
    [undefined, /options are required/],
    [{}, /swaLr is required/],
    [{ swaLr: -0.1 }, /swaLr must be a finite number >= 0, got -0.1/],
    [{ swaLr: NaN }, /swaLr must be a finite number >= 0/],
    [{ swaLr: [0.1] }, /swaLr has 1 values, the optimizer 2 parameter groups/],
    [{ swaLr: 0.1, annealEpochs: -1 }, /annealEpochs must be an integer >= 0, got -1/],
    [{ swaLr: 0.1, annealEpochs: 2.5 }, /annealEpochs must be an integer >= 0/],
    [
      { swaLr: 0.1, annealStrategy: "cosine" },
      /annealStrategy must be "cos" or "linear", got "cosine"/,
    ],
    [{ swaLr: 0.1, lastEpoch: -2 }, /lastEpoch must be an integer >= -1/],
    [{ swa_lr: 0.1 }, /unknown option 'swa_lr'/],
  ];
  for (const [options, re] of bad) {
    const o = opt();
    assert.throws(() => new SWALR(o, options as optim.swaUtils.SWALROptions), re, String(re));
    assert.deepEqual(o.paramGroups.map((g) => g.lr), [0.1, 0.1], "the optimizer was touched");
  }
  assert.throws(
    () => new (SWALR as unknown as new (...a: unknown[]) => unknown)(opt(), { swaLr: 0.1 }, 5),
    /takes at most 2 arguments/,
  );
  const o = opt();
  const s = new SWALR(o, { swaLr: 0.01 });
  assert.throws(() => (s.step as (e: number) => void)(3), /step: takes at most 0 arguments/);
  o.addParamGroup({ params: [zeros([1], { requiresGrad: true })], options: { lr: 0.3 } });
  assert.throws(() => s.step(), /group 2 was added after the schedule was made and has no swaLr/);
  assert.deepEqual(o.paramGroups.map((g) => g.lr), [0.1, 0.1, 0.3]);
  assert.equal(s.lastEpoch, 0);
  assert.throws(
    () => (s as unknown as { anneal_epochs: number }).anneal_epochs,
    /write sched\.annealEpochs/,
  );
});

/** The generator's update_bn model, with torch's weights and other running statistics, in eval mode. */
function bnNet(): nn.Sequential {
  const net = new nn.Sequential(
    new nn.Conv2d(1, 3, 3, { padding: 1 }),
    new nn.BatchNorm2d(3),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(48, 5),
    new nn.BatchNorm1d(5, { momentum: 0.3 }),
  ).to(testDevice);
  load(net, fx.bn.initial);
  return net.eval();
}

/** The generator's 8 images in batches of 3 (3, 3, 2), as [x, y] pairs of tensors of their own. */
function bnBatches(): [Tensor, Tensor][] {
  const { images, labels } = fx.bn;
  const per = images.data.length / images.shape[0];
  return [[0, 3], [3, 3], [6, 2]].map(([s, n]) => [
    make({ shape: [n, ...images.shape.slice(1)], data: images.data.slice(s * per, (s + n) * per) }),
    make({ ...labels, shape: [n], data: labels.data.slice(s, s + n) }),
  ]);
}

Deno.test("updateBn over a DataLoader: torch's running statistics, momentum and mode restored", async () => {
  const net = bnNet();
  const ds = new data.TensorDataset(make(fx.bn.images), make(fx.bn.labels));
  using loader = new data.DataLoader(ds, { batchSize: fx.bn.batchSize, device: testDevice });
  // The loader's batches are seen on their way, to check that updateBn freed them.
  const seen: data.Batch[] = [];
  const batches = loader[Symbol.asyncIterator].bind(loader);
  Object.defineProperty(loader, Symbol.asyncIterator, {
    value: async function* () {
      for await (const b of batches()) yield seen[seen.push(b) - 1];
    },
  });
  await updateBn(loader, net);
  assert.equal(seen.length, 3);
  for (const b of seen) assert.throws(() => b.images.toArray(), /dispos|freed|released/i);
  assertState(net, fx.bn.after, "after updateBn");
  assert.equal(net.training, false);
  assert.equal((net[1] as nn.BatchNorm2d).momentum, 0.1);
  assert.equal((net[5] as nn.BatchNorm1d).momentum, 0.3);
  assert.equal((net[5] as nn.BatchNorm1d).numBatchesTracked, 3);
  net.dispose();
});

Deno.test("updateBn over arrays of [x, y] or of tensors, and through an AveragedModel", async () => {
  const pairs = bnBatches();
  const net = bnNet();
  const done = updateBn(pairs, net);
  // Over an array the work is done before the promise returns.
  assertState(net, fx.bn.after, "pairs, before await");
  await done;
  const plain = bnNet().train();
  await updateBn(pairs.map(([x]) => x), plain);
  assert.equal(plain.training, true);
  assertState(plain, fx.bn.after, "tensors");
  // An async iterable of batches.
  const lazy = bnNet();
  await updateBn(
    (async function* () {
      for (const [x] of pairs) yield x;
    })(),
    lazy,
  );
  assertState(lazy, fx.bn.after, "async generator");
  // The batches are the caller's: not freed.
  assert.equal(pairs[0][0].shape[0], 3);
  assert.ok(pairs[0][0].toArray().length > 0);
  const avg = new AveragedModel(bnNet(), { copy: bnNet });
  await updateBn(pairs, avg, testDevice);
  assertState(avg, fx.bn.averaged, "AveragedModel");
  for (const m of [net, plain, lazy, avg]) m.dispose();
});

Deno.test("updateBn: a model without batch norm is left alone and the loader not read", async () => {
  const net = new nn.Sequential(new nn.Linear(2, 2)).eval();
  let read = false;
  await updateBn(
    (function* () {
      read = true;
      yield zeros([1, 2]);
    })(),
    net,
  );
  assert.equal(read, false);
  assert.equal(net.training, false);
});

Deno.test("updateBn: bad arguments, and a failing batch restores momentum and mode", async () => {
  const net = bnNet();
  await assert.rejects(
    () => updateBn([zeros([1])], {} as nn.Module),
    /expected the model second, got an Object/,
  );
  await assert.rejects(
    () => updateBn(zeros([2, 1, 4, 4]) as never, net),
    /expected a DataLoader or an iterable of batches first, got a Tensor \[2,1,4,4\] \(for one batch x, pass \[x\]\)/,
  );
  await assert.rejects(
    () => updateBn(net as never, bnNet()),
    /got an nn\.Sequential first; the loader comes first: optim\.swaUtils\.updateBn\(loader, model\)/,
  );
  await assert.rejects(
    () => (updateBn as (...a: unknown[]) => Promise<void>)([], net, "cpu", 1),
    /takes at most 3 arguments/,
  );
  const x = make(fx.bn.images).narrow(0, 0, 3);
  await assert.rejects(
    () => updateBn([x, { image: x }] as never, net),
    /batch 1 is an Object; each batch must be the input tensor, or an array \(or DataLoader batch\) whose first element is/,
  );
  assert.equal(net.training, false);
  assert.equal((net[5] as nn.BatchNorm1d).momentum, 0.3);
  assert.equal((net[1] as nn.BatchNorm2d).momentum, 0.1);
  net.dispose();
});

Deno.test("AveragedModel and EMA: bad inputs, each with what to write", () => {
  class Net extends nn.Module {
    fc = new nn.Linear(4, 2);
    forward(x: Tensor): Tensor {
      return this.fc(x);
    }
  }
  const net = new Net();
  assert.throws(
    () => new AveragedModel(net),
    /AveragedModel: cannot copy a Net .*pass \{ copy: \(\) => new Net\(\.\.\.\) \}.*models\.create\(name, options\) are copied without it/,
  );
  assert.throws(
    () => new ExponentialMovingAverage(net, 0.9),
    /ExponentialMovingAverage: cannot copy a Net/,
  );
  assert.throws(
    () => new AveragedModel({} as nn.Module),
    /expected the nn\.Module to average, got an Object/,
  );
  assert.throws(
    () => new AveragedModel(net.parameters() as never),
    /expected the nn\.Module to average, got an array/,
  );
  assert.throws(
    () => new AveragedModel(net, { avg_fn: () => null } as never),
    /unknown option 'avg_fn'/,
  );
  assert.throws(() => new AveragedModel(net, "cpu" as never), /expected an options object/);
  assert.throws(
    () => new AveragedModel(net, { copy: () => new Net(), useBuffers: 1 as never }),
    /useBuffers must be true or false/,
  );
  assert.throws(
    () => new AveragedModel(net, { copy: () => new Net(), avgFn: 3 as never }),
    /avgFn must be a function/,
  );
  assert.throws(
    () => new AveragedModel(net, { copy: new Net() as never }),
    /copy must be a function that builds a fresh module/,
  );
  assert.throws(
    () => new AveragedModel(net, { copy: () => ({}) as Net }),
    /copy\(\) must return a new nn\.Module/,
  );
  assert.throws(
    () => new AveragedModel(net, { copy: () => net }),
    /copy\(\) returned the model itself/,
  );
  assert.throws(() => {
    const shared = new Net();
    shared.fc = net.fc;
    return new AveragedModel(net, { copy: () => shared });
  }, /shares tensors with the model/);
  assert.throws(
    () => new AveragedModel(net, { copy: () => new nn.Linear(4, 2) as unknown as Net }),
    /the copy does not match the model \(copy\(\) must build the model's architecture\): loadStateDict: missing keys/,
  );
  for (const decay of [-0.1, 1.5, NaN, "0.9"]) {
    assert.throws(
      () => new ExponentialMovingAverage(net, decay as number, { copy: () => new Net() }),
      /ExponentialMovingAverage: decay must be a number in \[0, 1\]/,
      String(decay),
    );
  }
  assert.throws(
    () => new ExponentialMovingAverage(net, 0.9, { useBuffers: false } as never),
    /unknown option 'useBuffers'/,
  );
  const ema = new ExponentialMovingAverage(net, 1, { copy: () => new Net() });
  assert.equal(ema.useBuffers, true);
  assert.equal(ema.decay, 1);

  const avg = new AveragedModel(net, { copy: () => new Net() });
  avg.updateParameters(net);
  const before = avg.stateDict().get("module.fc.weight")!.toArray();
  const other = new nn.Sequential(new nn.Linear(4, 3));
  assert.throws(
    () => avg.updateParameters(other),
    /the model's '0\.weight' is float32 \[3,4\], the averaged 'fc\.weight' float32 \[2,4\]: pass the model this average was made from/,
  );
  assert.throws(
    () => avg.updateParameters(new nn.Linear(4, 2, { bias: false })),
    /the model has 1 parameters, the averaged copy 2/,
  );
  assert.throws(
    () => avg.updateParameters({} as nn.Module),
    /updateParameters: expected the model being trained, got an Object/,
  );
  assert.throws(
    () => (avg.updateParameters as (...a: unknown[]) => void)(net, 1),
    /takes at most 1 arguments/,
  );
  assert.deepEqual(avg.stateDict().get("module.fc.weight")!.toArray(), before);
  assert.equal(avg.nAveraged, 1);
  const wrong = new AveragedModel(net, { copy: () => new Net(), avgFn: (a) => a.sum() });
  wrong.updateParameters(net);
  assert.throws(
    () => wrong.updateParameters(net),
    /avgFn returned a Tensor \[\] for 'fc\.weight'; it must return the new average, a Tensor \[2,4\]/,
  );
  assert.throws(
    () => (avg as unknown as { update_parameters: unknown }).update_parameters,
    /write averaged\.updateParameters\(model\)/,
  );
  assert.throws(
    () => (avg as unknown as { n_averaged: unknown }).n_averaged,
    /read averaged\.nAveraged/,
  );
  assert.throws(() => (avg.nAveraged = -1), /nAveraged: must be an integer >= 0, got -1/);
  for (const m of [net, ema, avg, other, wrong]) m.dispose();
});

Deno.test("AveragedModel, EMA and updateBn free what they make (no leaked tensors)", async () => {
  const stats = () => memoryStats(testDevice).buffersInUse;
  // Earlier tests' undisposed garbage is finalized first, not in the middle of the counts.
  await collectGarbage();
  await collectGarbage();
  const net = bnNet();
  const start = stats();
  const avg = new AveragedModel(net, { copy: bnNet, useBuffers: true });
  const ema = new ExponentialMovingAverage(net, 0.9, { copy: bnNet });
  avg.updateParameters(net);
  ema.updateParameters(net);
  const steady = stats();
  for (let k = 0; k < 4; k++) {
    avg.updateParameters(net);
    ema.updateParameters(net);
  }
  assert.equal(stats(), steady, "updateParameters left tensors behind");
  const pairs = bnBatches();
  const images = make(fx.bn.images), labels = make(fx.bn.labels);
  const ds = new data.TensorDataset(images, labels);
  const loader = new data.DataLoader(ds, { batchSize: 3, device: testDevice });
  const withBatches = stats();
  await updateBn(pairs, avg);
  await updateBn(loader, ema);
  assert.equal(stats(), withBatches, "updateBn left tensors behind (or the loader's batches)");
  for (const t of [...pairs.flat(), images, labels]) t.dispose();
  avg.dispose();
  ema.dispose();
  assert.equal(stats(), start, "tensors left after dispose");
  net.dispose();
});

Deno.test("AveragedModel: a zoo model changed after models.create is refused, not silently rebuilt as made", () => {
  const m = models.create("resnet18", { numClasses: 3, imageSize: 32 }) as unknown as
    & nn.Module
    & Record<string, nn.Module>;
  m.maxpool = new nn.Identity();
  assert.throws(
    () => new optim.swaUtils.AveragedModel(m),
    /'maxpool' is an nn\.Identity where it was an nn\.MaxPool2d.*pass \{ copy/,
  );
  const e = models.create("mobilenetv2", { numClasses: 3 });
  const drop = [...e.modules()].find((x) => x instanceof nn.Dropout) as nn.Dropout & { p: number };
  Object.defineProperty(drop, "p", { value: 0.5 });
  assert.throws(() => new optim.swaUtils.ExponentialMovingAverage(e, 0.9), /settings differ/);
  m.dispose();
  e.dispose();
});
