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
  randn,
  scope,
  tensor,
  zeros,
} from "../mod.ts";
import { hostPoolBytes, Storage } from "../src/tensor/storage.ts";

/** One turn of the event loop, as I/O or a loader with workers gives a training loop. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Native bytes in use plus V8's ArrayBuffer bytes: where the inputs live
 * (`tensor(...)` gives V8-owned memory unless LITS_HOST_BUFFERS=0).
 */
const inputBytes = () => memoryStats().bytesInUse + Deno.memoryUsage().external;

/** Tests of V8-owned input memory itself, meaningless when it is switched off. */
const hostOnly = { ignore: Deno.env.get("LITS_HOST_BUFFERS") === "0" };

/** V8's ArrayBuffer bytes that tensors (or anything else) still hold, not disposed blocks kept for reuse. */
const liveExternal = () => Deno.memoryUsage().external - hostPoolBytes();

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
  let at20 = inputBytes();
  for (let step = 0; step < 180; step++) {
    pixels.fill(step % 7);
    const x = tensor(pixels, [64, 1, 32, 32]);
    const y = tensor(labels, [64]);
    opt.zeroGrad();
    lossFn.forward(model.forward(x), y).backward();
    opt.step();
    await turn();
    if (step === 20) at20 = inputBytes();
  }
  const grown = inputBytes() - at20;
  // The collector forces a GC every 16 MiB of watched bytes; without it this is 40 MiB.
  assert.ok(grown < 20 * 2 ** 20, `bytes in use grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(collectorStats().tensorsCollected - collectedBefore >= 100, "the collector freed");
  endStep();
  model.dispose();
  opt.dispose();
});

Deno.test("a synchronous loop (never yields) with a fresh input every step stays flat", () => {
  manualSeed(6);
  const model = smallCnn();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
  const lossFn = new nn.CrossEntropyLoss();
  const pixels = new Float32Array(64 * 32 * 32); // 256 KiB a step: 50 MiB over the loop
  const labels = new Int32Array(64).map((_, i) => i % 3);
  let at20 = { bytes: 0, rss: 0 };
  for (let step = 0; step < 200; step++) {
    pixels.fill(step % 7);
    const x = tensor(pixels, [64, 1, 32, 32]);
    const y = tensor(labels, [64]);
    opt.zeroGrad();
    lossFn.forward(model.forward(x), y).backward();
    opt.step();
    if (step === 20) at20 = { bytes: inputBytes(), rss: Deno.memoryUsage().rss };
  }
  const grown = inputBytes() - at20.bytes;
  const rssGrown = Deno.memoryUsage().rss - at20.rss;
  // The collector forces a GC every 16 MiB of inputs; without host buffers this is 45 MiB.
  assert.ok(grown < 24 * 2 ** 20, `input bytes grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(rssGrown < 24 * 2 ** 20, `RSS grew by ${(rssGrown / 2 ** 20).toFixed(1)} MiB`);
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

/** What `script` (run with `deno eval`, mod.ts imported as `lits`) prints on stderr. */
async function stderrOf(script: string): Promise<string> {
  const mod = JSON.stringify(new URL("../mod.ts", import.meta.url).href);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", `import * as lits from ${mod};\n${script}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  return err;
}

Deno.test("the collector's warning: for temporaries a loop never frees, not for kept weights and state", async () => {
  // 160 MiB of native temporaries, never disposed, in a loop that never awaits.
  const loose = await stderrOf(`
    for (let i = 0; i < 40; i++) lits.randn([1024, 1024]);
  `);
  assert.match(loose, /lits: \d+ MiB of tensors made outside any scope and never disposed/);
  // A model built and stepped (parameters, gradients, AdamW's state: ~180 MiB,
  // all kept) without an await, as the training command's first step: silent.
  const kept = await stderrOf(`
    const net = lits.models.create("resnet18", { inChannels: 1, numClasses: 3 });
    const fc = new lits.nn.Linear(2048, 4096);
    const opt = new lits.optim.AdamW([...net.parameters(), ...fc.parameters()], { lr: 1e-3 });
    lits.scope(() => {
      const x = lits.randn([2, 1, 32, 32]), y = lits.tensor(new Int32Array([0, 1]), [2]);
      const loss = new lits.nn.CrossEntropyLoss().forward(net.forward(x), y)
        .add(fc.forward(lits.randn([1, 2048])).sum().mul(0));
      loss.backward();
    });
    opt.step();
  `);
  assert.doesNotMatch(kept, /lits:/);
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

Deno.test(
  "tensor() memory is V8's: aligned as lits_alloc, freed at once by dispose(), twice is safe",
  hostOnly,
  () => {
    const values = new Float32Array(1 << 18).map((_, i) => i % 251); // 1 MiB
    const external = liveExternal();
    const inUse = memoryStats().bytesInUse;
    const t = tensor(values.subarray(1 << 17), [1 << 17]); // a view with a byte offset
    assert.equal(Number(Deno.UnsafePointer.value(t.ptr)) % 64, 0);
    assert.ok(liveExternal() - external >= 1 << 19);
    assert.equal(memoryStats().bytesInUse, inUse); // not the native allocator's
    assert.deepEqual(t.toArray(), values.subarray(1 << 17));
    const held = liveExternal();
    const ptr = Deno.UnsafePointer.value(t.ptr);
    t.dispose();
    assert.ok(held - liveExternal() >= 1 << 19, "dispose() frees at once");
    t.dispose();
    // The next tensor of that size reuses the block, with its own values.
    const again = tensor(values.subarray(0, 1 << 17));
    assert.equal(Deno.UnsafePointer.value(again.ptr), ptr);
    assert.deepEqual(again.toArray(), values.subarray(0, 1 << 17));
    again.dispose();
    // More than the pool keeps goes back to the system at once.
    const many = Array.from({ length: 4 }, () => tensor(values));
    const before = Deno.memoryUsage().external;
    for (const m of many) m.dispose();
    assert.ok(before - Deno.memoryUsage().external >= 2 << 20, "beyond the pool, freed");
    const labels = tensor(new Int32Array([2, 0, 1]));
    assert.equal(labels.dtype, "int32");
    assert.deepEqual(labels.toArray(), new Int32Array([2, 0, 1]));
    labels.dispose();
  },
);

Deno.test(
  "a view keeps a collected tensor()'s memory, and frees it at once when disposed",
  hostOnly,
  async () => {
    await collectGarbage();
    const external = liveExternal();
    // The base is dropped undisposed: its finalizer counts its reference down, the view holds on.
    const view = (() => tensor(new Float32Array(1 << 18).fill(3)).reshape([512, 512]).keep())();
    for (let i = 0; i < 64; i++) tensor(new Float32Array(1 << 16)); // 16 MiB of garbage
    await collectGarbage();
    await collectGarbage();
    assert.ok(liveExternal() - external >= 1 << 20, "the view holds the memory");
    assert.equal(view.sum().item(), 3 * (1 << 18));
    view.dispose();
    assert.ok(liveExternal() - external < 1 << 20, "the last view frees at once");
    endStep();
  },
);

Deno.test("tensor() inputs give the same numbers as native memory, and move to native storage", () => {
  const a = tensor([[1, 2], [3, 4]]);
  const b = zeros([2, 2]).add(tensor([0.5, -1]));
  assert.deepEqual(Array.from(a.matmul(b).toArray()), [1.5, -3, 3.5, -7]);
  // Module.to's in-place move: the tensor object takes another storage, the buffer goes.
  const p = new nn.Parameter(tensor([1, 2, 3]));
  const storage = new Storage(p.lib, "cpu", 12);
  p.lib.lits_copy_h2d(storage.ptr, new Float32Array([4, 5, 6]), 12);
  p._replaceStorage(storage);
  assert.deepEqual(Array.from(p.toArray()), [4, 5, 6]);
  p.dispose();
  p.dispose();
  endStep();
});

Deno.test("backward through a tensor released before it throws, never leaving .grad null or wrong", () => {
  using x = tensor([1, 2], undefined, { requiresGrad: true });
  // Made inside a scope, used outside: its intermediates went with the scope.
  assert.throws(
    () => scope(() => x.exp().mul(x).sum()).backward(),
    /made by 'mul' was released .* before backward\(\) reached it/,
  );
  // An intermediate disposed by hand: once w.grad came out [1, 1] (PyTorch: [4, 4]).
  const h = x.mul(3), y = h.add(x).sum();
  h.dispose();
  assert.throws(() => y.backward(), /made by 'mulScalar' was released/);
  // A loss freed at the step's end.
  const loss = x.exp().sum();
  endStep();
  assert.throws(() => loss.backward(), /tensor \[\] was released/);
  assert.equal(x.grad, null);
});

Deno.test("a scope whose fn throws frees what fn made, as on return (no leak per caught error)", () => {
  const x = randn([64, 64]);
  const bad = () => {
    const y = x.mul(2).add(1);
    if (y.numel() > 0) throw new Error("bad batch");
    return y;
  };
  const attempt = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      assert.equal((e as Error).message, "bad batch");
    }
  };
  attempt(() => scope(bad));
  const before = memoryStats().bytesInUse;
  for (let i = 0; i < 20; i++) attempt(() => scope(bad));
  for (let i = 0; i < 20; i++) attempt(() => noGrad(bad));
  assert.equal(memoryStats().bytesInUse, before);
  x.dispose();
});
