import assert from "node:assert/strict";
import {
  endStep,
  manualSeed,
  memoryStats,
  nn,
  noGrad,
  optim,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { assertClose } from "./helpers.ts";

function tinyCnn(): nn.Module {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Dropout(0.25),
    new nn.Linear(4 * 4 * 4, 3),
  );
}

Deno.test("memory is flat across 200 training steps with no manual dispose", () => {
  manualSeed(3);
  const model = tinyCnn();
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2, weightDecay: 1e-4 });
  const lossFn = new nn.CrossEntropyLoss();
  const x = randn([8, 1, 8, 8]);
  const y = tensor(new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]), [8]);
  let settled = memoryStats();
  let firstLoss = 0, lastLoss = 0;
  for (let step = 0; step < 200; step++) {
    opt.zeroGrad();
    const logits = model.forward(x);
    const loss = lossFn.forward(logits, y);
    loss.backward();
    opt.step();
    // Accuracy after the step, as training loops do; freed with the step.
    logits.argmax(1).eq(y).mean().item();
    if (step === 0) firstLoss = loss.item();
    if (step === 199) lastLoss = loss.item();
    if (step === 5) settled = memoryStats();
  }
  const end = memoryStats();
  assert.equal(end.bytesInUse, settled.bytesInUse, "bytes in use grew");
  assert.equal(end.buffersInUse, settled.buffersInUse, "buffers in use grew");
  assert.equal(
    end.bytesFromSystem,
    settled.bytesFromSystem,
    "the allocator asked the system for more",
  );
  assert.ok(lastLoss < firstLoss / 4, `loss did not fall: ${firstLoss} -> ${lastLoss}`);
  x.dispose();
  y.dispose();
});

Deno.test("zeroGrad may come after the forward pass (PyTorch loops do both)", () => {
  const model = new nn.Linear(4, 2);
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  using x = randn([3, 4]);
  for (let i = 0; i < 3; i++) {
    const loss = model.forward(x).pow(2).mean();
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  endStep();
});

Deno.test("scope frees temporaries and keeps what it returns", () => {
  using x = tensor([1, 2, 3]);
  const before = memoryStats().bytesInUse;
  const out = scope(() => {
    const a = x.mul(2);
    const b = a.add(1);
    return { total: b.sum(), parts: [b] };
  });
  assert.equal(out.total.item(), 15);
  assert.deepEqual(Array.from(out.parts[0].toArray()), [3, 5, 7]);
  endStep();
  assert.equal(memoryStats().bytesInUse, before);
});

Deno.test("noGrad records nothing and frees its temporaries", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  const before = memoryStats().bytesInUse;
  const y = noGrad(() => w.mul(3).add(1).mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  y.dispose();
  assert.equal(memoryStats().bytesInUse, before);
  w.dispose();
});

Deno.test("a released tensor says so instead of reading freed memory", () => {
  const t = zeros([2]);
  const view = t.add(1);
  endStep();
  assert.throws(() => view.toArray(), /was released/);
  t.dispose();
  assert.throws(() => t.toArray(), /was released/);
  t.dispose(); // twice is harmless
});

Deno.test("keep() holds an op result across step boundaries", () => {
  using x = tensor([1, 2]);
  const kept = x.mul(2).keep();
  endStep();
  assert.deepEqual(Array.from(kept.toArray()), [2, 4]);
  kept.dispose();
});

/**
 * The emptyCache check, in a fresh process: the allocator gives back only
 * whole free segments, so in a process where earlier tests left a large
 * segment partly in use, a freed buffer carved from it stays cached.
 */
const EMPTY_CACHE_CHECK = `
import { emptyCache, memoryStats, randn, zeros } from "${
  new URL("../mod.ts", import.meta.url).href
}";
emptyCache();
const kept = randn([3, 1 << 18]); // 3 MiB, in use throughout
const freed = [zeros([1 << 20]), zeros([100])]; // a large and a small buffer
const keptValues = [...kept.toArray()];
for (const t of freed) t.dispose();
const before = memoryStats();
emptyCache();
const after = memoryStats();
const same = [...kept.toArray()].every((v, i) => v === keptValues[i]);
const again = zeros([1 << 20]); // allocating after emptying works
console.log(JSON.stringify({ before, after, same, sum: again.sum().item() }));
`;

Deno.test("emptyCache gives freed buffers back and keeps those in use", async () => {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["eval", EMPTY_CACHE_CHECK],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(run.stdout).trim();
  assert.equal(run.code, 0, new TextDecoder().decode(run.stderr));
  const { before, after, same, sum } = JSON.parse(text.split("\n").at(-1)!);
  assert.ok(before.bytesCached >= 4 * ((1 << 20) + 100), "the freed buffers are cached");
  assert.equal(after.bytesInUse, before.bytesInUse);
  assert.ok(
    after.bytesCached <= before.bytesCached - 4 * ((1 << 20) + 100),
    `cached ${before.bytesCached} -> ${after.bytesCached}`,
  );
  assert.ok(same, "the buffer in use keeps its values");
  assert.equal(sum, 0);
});

Deno.test("Sequential inside noGrad frees each intermediate once the next layer has used it", () => {
  manualSeed(4);
  const x = randn([64, 256]); // 64 KiB, as every layer's output
  const kib64 = 64 * 256 * 4;
  let peak = 0;
  class Probe extends nn.Module {
    forward(t: Tensor): Tensor {
      peak = Math.max(peak, memoryStats().bytesInUse);
      return t;
    }
  }
  const layers: nn.Module[] = [];
  for (let i = 0; i < 12; i++) layers.push(new nn.Linear(256, 256), new nn.ReLU(), new Probe());
  const net = new nn.Sequential(...layers);
  const before = memoryStats().bytesInUse;
  const y = noGrad(() => net.forward(x).toArray());
  // Kept until the end, the 24 intermediates would take 24 x 64 KiB.
  assert.ok(peak - before <= 3 * kib64, `peak ${(peak - before) / kib64} x 64 KiB`);
  assert.equal(memoryStats().bytesInUse, before);
  const withGrad = net.forward(x);
  assertClose(y as Float32Array, withGrad.toArray() as Float32Array, { rtol: 0, atol: 0 });
  endStep();
  net.dispose();
  x.dispose();
});
