import assert from "node:assert/strict";
import {
  collectGarbage,
  collectorStats,
  endStep,
  isGradEnabled,
  manualSeed,
  memoryStats,
  nn,
  noGrad,
  optim,
  scope,
  tensor,
  zeros,
} from "../mod.ts";

/** One turn of the event loop, as I/O or a loader with workers gives a training loop. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

function smallCnn(): nn.Module {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 16 * 16, 3),
  );
}

Deno.test("a fresh input every step, never disposed, keeps memory flat", async () => {
  manualSeed(5);
  const model = smallCnn();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const lossFn = new nn.CrossEntropyLoss();
  const pixels = new Float32Array(64 * 32 * 32); // 256 KiB a step: 40 MiB over the loop
  const labels = new Int32Array(64).map((_, i) => i % 3);
  const collectedBefore = collectorStats().tensorsCollected;
  let at20 = memoryStats();
  for (let step = 0; step < 180; step++) {
    pixels.fill(step % 7);
    const x = tensor(pixels, [64, 1, 32, 32]);
    const y = tensor(labels, [64]);
    opt.zeroGrad();
    lossFn.forward(model.forward(x), y).backward();
    opt.step();
    await turn();
    if (step === 20) at20 = memoryStats();
  }
  const end = memoryStats();
  const grown = end.bytesInUse - at20.bytesInUse;
  // The collector forces a GC every 16 MiB of watched bytes; without it this is 40 MiB.
  assert.ok(grown < 20 * 2 ** 20, `bytes in use grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(collectorStats().tensorsCollected - collectedBefore >= 100, "the collector freed");
  endStep();
  model.dispose();
  opt.dispose();
});

Deno.test("the collector never frees a reachable tensor, nor a view's shared storage", async () => {
  const held = tensor([1, 2, 3, 4]);
  let base: ReturnType<typeof tensor> | null = tensor([5, 6, 7, 8]);
  const view = base.reshape([2, 2]).keep(); // a view of a tensor nobody will hold
  base = null;
  for (let i = 0; i < 64; i++) tensor(new Float32Array(1 << 16)); // 16 MiB of garbage
  await collectGarbage();
  await collectGarbage();
  assert.deepEqual(Array.from(held.toArray()), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(view.toArray()), [5, 6, 7, 8]);
  held.dispose();
  view.dispose();
});

Deno.test("dispose() and the collector free a storage once", async () => {
  await collectGarbage(); // earlier garbage first
  const before = memoryStats();
  const stats = collectorStats();
  // A function's locals: unreachable once it returns (an async test's are not).
  (() => {
    const a = zeros([1 << 16]);
    a.reshape([256, 256]).keep(); // a view, dropped undisposed
    a.dispose(); // disposed: the collector must not drop it again
    zeros([1 << 16]); // dropped undisposed: the collector frees it
  })();
  await collectGarbage();
  await collectGarbage();
  const after = memoryStats();
  assert.equal(after.bytesInUse, before.bytesInUse);
  assert.equal(after.buffersInUse, before.buffersInUse);
  assert.equal(collectorStats().bytesWatched, stats.bytesWatched);
  assert.ok(collectorStats().tensorsCollected > stats.tensorsCollected);
});

Deno.test("noGrad(async) records nothing across awaits, and code outside still records", async () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  let inside: boolean[] = [];
  const evaluation = noGrad(async () => {
    const out = [];
    for (let i = 0; i < 3; i++) {
      await turn(); // a loader's next batch
      inside.push(isGradEnabled());
      out.push(w.mul(i + 1).sum().item());
    }
    const last = w.mul(2);
    assert.equal(last.requiresGrad, false);
    return last;
  });
  // Training goes on meanwhile, outside the chain: it records.
  await turn();
  const outside = w.mul(3);
  assert.equal(outside.requiresGrad, true);
  const last = await evaluation;
  assert.deepEqual(inside, [false, false, false]);
  assert.equal(last.requiresGrad, false);
  assert.equal(last.gradFn, null);
  assert.equal(isGradEnabled(), true);
  inside = [];
  endStep();
  last.dispose();
  w.dispose();
});

Deno.test("noGrad(async) frees what its chain made except its result", async () => {
  using x = tensor([1, 2, 3]);
  const before = memoryStats().bytesInUse;
  const total = await noGrad(async () => {
    const a = x.mul(2);
    await turn();
    const b = a.add(1);
    await turn();
    return b.sum();
  });
  assert.equal(total.item(), 15);
  // The result moved to the step: the temporaries are gone already.
  assert.equal(memoryStats().bytesInUse - before, 256);
  endStep();
  assert.equal(memoryStats().bytesInUse, before);
});

Deno.test("noGrad with a function that returns a promise says to write async", () => {
  using w = tensor([1], undefined, { requiresGrad: true });
  assert.throws(
    () => noGrad(() => Promise.resolve(w.mul(2))),
    /noGrad: fn returned a Promise but is not an async function.*noGrad\(async/,
  );
  assert.throws(() => scope(() => Promise.resolve(1)), /scope: fn returned a Promise/);
  endStep();
});

Deno.test("LITS_LEAK_CHECK=1 says where undisposed tensors were made", async () => {
  const script = `
    import { collectGarbage, tensor } from ${
    JSON.stringify(new URL("../mod.ts", import.meta.url).href)
  };
    function makeInput() { return tensor(new Float32Array(1024)); }
    for (let i = 0; i < 5; i++) makeInput();
    await collectGarbage();
    globalThis.survivor = makeInput();
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    env: { LITS_LEAK_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  assert.match(err, /the collector freed tensor \[1024\] on cpu \(4096 bytes\)/);
  assert.match(err, /makeInput/);
  assert.match(err, /5 freed by the collector \(20480 bytes\)/);
  assert.match(err, /1 still alive at exit \(4096 bytes\)/);
});
