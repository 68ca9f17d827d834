/**
 * Async code as a TypeScript port of a PyTorch loop writes it: two
 * evaluations at once, an evaluation while the model trains, `scope` around
 * an async step, and forward hooks written as Python lambdas. Each must give
 * the sequential result or fail loudly, never a silently different number.
 */
import assert from "node:assert/strict";
import {
  data,
  endStep,
  isGradEnabled,
  memoryStats,
  nn,
  noGrad,
  optim,
  randn,
  scope,
  type Tensor,
  tensor,
  train,
} from "../mod.ts";
import { setStepGrowthWarning } from "../src/tensor/ownership.ts";

/** A split whose samples arrive after a timer, so that two loops interleave. */
function slowSplit(n: number, offset: number) {
  return {
    length: n,
    get: (i: number) =>
      new Promise<data.Sample>((resolve) =>
        setTimeout(() =>
          resolve({
            image: {
              data: new Float32Array(16).map((_, k) => Math.sin(i + offset + k)),
              width: 4,
              height: 4,
            },
            label: i % 3,
          }), 1)
      ),
  };
}

function smallNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Flatten(),
    new nn.Linear(16, 8),
    new nn.BatchNorm1d(8),
    new nn.Dropout(0.5),
    new nn.Linear(8, 3),
  );
}

Deno.test("two evaluations at once give the sequential results and leave the model as it was", async () => {
  const model = smallNet();
  const val = new data.DataLoader(slowSplit(8, 0), { batchSize: 4 });
  const test = new data.DataLoader(slowSplit(24, 100), { batchSize: 4 });
  const bn = model[2] as nn.BatchNorm1d;
  const stats = () => Array.from(bn.runningMean!.toArray());
  const before = stats();
  const v1 = await train.evaluateModel(model, val), t1 = await train.evaluateModel(model, test);
  const [v2, t2] = await Promise.all([
    train.evaluateModel(model, val),
    train.evaluateModel(model, test),
  ]);
  assert.equal(v2.loss, v1.loss);
  assert.equal(t2.loss, t1.loss); // dropout and batch statistics stayed off in every batch
  assert.deepEqual(stats(), before);
  assert.equal(model.training, true);
});

Deno.test("evaluating while the same model trains is an Error, not a mixed result", async () => {
  const model = smallNet();
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const outcome = train.evaluateModel(
    model,
    new data.DataLoader(slowSplit(40, 0), { batchSize: 4 }),
  ).then(() => null, (e: Error) => e);
  const seen: boolean[] = [];
  for (let step = 0; step < 3; step++) {
    await new Promise((r) => setTimeout(r, 3));
    seen.push(model.training);
    opt.zeroGrad();
    model.forward(randn([4, 1, 4, 4])).sum().backward();
    opt.step();
  }
  assert.match(String(await outcome), /weights changed after \d+ batches.*await evaluateModel/);
  assert.deepEqual(seen, [true, true, true]); // the training steps ran in training mode
});

Deno.test("scope(async fn) follows the chain and frees what it made when it settles", async () => {
  const w = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const start = memoryStats().bytesInUse;
  const out = await scope(async () => {
    const a = w.mul(2);
    await new Promise((r) => setTimeout(r, 1));
    assert.equal(isGradEnabled(), true); // gradients are recorded, as outside
    const loss = a.mul(a).sum();
    loss.backward();
    return loss;
  });
  assert.equal(out.item(), 56);
  assert.deepEqual(Array.from(w.grad!.toArray()), [8, 16, 24]);
  out.dispose();
  w.grad!.dispose();
  assert.equal(memoryStats().bytesInUse, start); // the chain's temporaries are gone
  w.dispose();
});

Deno.test("scope, noGrad and autocast given a plain function that returns a promise refuse it, and its later rejection is reported, not fatal", async () => {
  const printed: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => printed.push(args);
  try {
    const late = () =>
      new Promise((_, reject) => setTimeout(() => reject(new Error("late failure")), 1));
    assert.throws(() => scope(() => late()), /write `await scope\(async/);
    assert.throws(() => noGrad(() => late()), /await noGrad\(async/);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(printed.length, 2);
    assert.match(String(printed[0][0]), /rejected later/);
    assert.match(String(printed[0][1]), /late failure/);
  } finally {
    console.error = original;
  }
});

Deno.test("forward hooks written as Python lambdas: a returned count or promise is an Error", () => {
  const net = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU());
  const acts: Tensor[] = [];
  const push = net[1].registerForwardHook((_m, _i, o) => acts.push(o) as unknown as Tensor);
  assert.throws(() => net.forward(randn([2, 4])), /returned number.*with braces/);
  push.remove();
  const bad = net[0].registerForwardHook((() => Promise.resolve()) as unknown as nn.ForwardHook);
  assert.throws(() => net.forward(randn([2, 4])), /returned a Promise/);
  bad.remove();
  assert.throws(
    () => net[1].registerForwardHook((async () => {}) as unknown as nn.ForwardHook),
    /hooks run synchronously/,
  );
  // Nothing, or null (Python's None), keeps the output; a tensor replaces it.
  net[1].registerForwardHook(() => null as unknown as Tensor);
  net[1].registerForwardHook((_m, _i, o) => o.mul(0));
  assert.deepEqual(Array.from(net.forward(randn([2, 4])).toArray()), [0, 0, 0, 0, 0, 0]);
});

Deno.test("await noGrad(async () => { for await (const b of loader) ... }) leaves each batch to its user, not to the chain", async () => {
  const loader = new data.DataLoader(slowSplit(12, 0), { batchSize: 4 });
  const model = smallNet();
  model.eval();
  const held: Tensor[] = [];
  let correct = 0;
  await noGrad(async () => {
    for await (const batch of loader) {
      const pred = model.forward(batch.images).argmax(1);
      correct += pred.eq(batch.labels.float()).sum().item();
      held.push(batch.images); // a batch kept past the loop stays alive: it is the user's
    }
  });
  assert.ok(correct >= 0);
  // The chain freed its own temporaries but not the batches (which the
  // collector frees once dropped, as tensors made outside a scope).
  assert.deepEqual(held.map((t) => t.isAlive), [true, true, true]);
  for (const t of held) t.dispose();
});

Deno.test("an evaluation loop without noGrad is warned about once before the held graphs fill the memory", () => {
  const was = setStepGrowthWarning(1 << 18, 1 << 20); // sum every 256 KiB, warn past 1 MiB
  const printed: string[] = [];
  const original = console.warn;
  console.warn = (msg: string) => printed.push(msg);
  try {
    const model = new nn.Linear(256, 256);
    model.eval();
    const x = randn([64, 256]);
    for (let batch = 0; batch < 40; batch++) model.forward(x).relu(); // 128 KiB a batch, kept
    assert.equal(printed.length, 1);
    assert.match(printed[0], /held by the training step until zeroGrad.*wrap it in noGrad/);
    endStep();
    printed.length = 0;
    setStepGrowthWarning(1 << 18, 1 << 20); // armed again
    for (let batch = 0; batch < 40; batch++) {
      noGrad(() => model.forward(x).relu().sum().item()); // a number out: nothing held
    }
    assert.equal(printed.length, 0);
  } finally {
    console.warn = original;
    setStepGrowthWarning(was.checkEvery, was.limit);
  }
});

Deno.test("clone() and detach() outside a scope keep a value past zeroGrad, as PyTorch's best-weights copy", () => {
  const model = new nn.Linear(4, 3);
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const x = randn([8, 4]);
  let best: Map<string, Tensor> | null = null;
  const losses: Tensor[] = [];
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    const loss = model.forward(x).pow(2).mean();
    loss.backward();
    opt.step();
    losses.push(loss.detach());
    if (step === 0) best = new Map([...model.stateDict()].map(([k, v]) => [k, v.clone()]));
  }
  opt.zeroGrad(); // the step's results are freed here; the copies are the user's
  const firstWeight = best!.get("weight")!.toArray();
  model.loadStateDict(best!);
  assert.deepEqual(model.weight.toArray(), firstWeight);
  assert.equal(losses.length, 3);
  assert.ok(losses.every((l) => l.isAlive && Number.isFinite(l.item())));
  // A copy of an activation in a training forward stays the step's (a loop
  // that never yields stays flat), as every op result; a detached view is
  // the user's (probs.push(out.softmax(1).detach()) across an epoch).
  const h = model.forward(x);
  const identity = h.clone(), probs = h.softmax(1).detach();
  opt.zeroGrad();
  h.sum().backward();
  opt.zeroGrad();
  assert.equal(identity.isAlive, false);
  assert.equal(probs.isAlive, true);
  // Inside a scope a clone is still the scope's.
  const inner = scope(() => {
    const c = x.clone();
    return () => c.isAlive;
  });
  assert.equal(inner(), false);
});
