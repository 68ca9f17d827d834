/**
 * A PyTorch user's own code, ported line by line as they would write it
 * (the course notebook's habits): it must do what they mean or fail loudly.
 * Each block shows the PyTorch line it ports.
 */
import assert from "node:assert/strict";
import {
  cat,
  clamp,
  collectorStats,
  data,
  manualSeed,
  memoryStats,
  nn,
  noGrad,
  optim,
  stack,
  type Tensor,
  tensor,
  where,
} from "../mod.ts";

/** class Net(nn.Module): blocks in an nn.ModuleList, a head, forward reads top to bottom. */
class Net extends nn.Module {
  blocks: nn.ModuleList;
  head: nn.Linear;
  constructor() {
    super();
    this.blocks = new nn.ModuleList([
      new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4)),
      new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: 1 }), new nn.LeakyReLU(0.1)),
    ]);
    this.head = new nn.Linear(4 * 8 * 8, 3);
  }
  forward(x: Tensor): Tensor {
    for (const block of this.blocks) {
      x = (block as nn.Module & { forward(x: Tensor): Tensor }).forward(x);
    }
    return this.head.forward(x.flatten(1));
  }
}

Deno.test("the course's training loop: fresh tensors every step, nothing disposed, options as written", () => {
  manualSeed(0);
  const model = new Net();
  // torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
  assert.throws(
    () => new optim.Adam(model.parameters(), { lr: 1e-3, weight_decay: 1e-5 } as never),
    /unknown option 'weight_decay' \(write 'weightDecay'\)/,
  );
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3, weightDecay: 1e-5 });
  assert.equal(opt.paramGroups[0].options.weightDecay, 1e-5);
  // conv + batch norm + conv in the ModuleList, then the head: (weight, bias) each
  assert.equal(model.parameters().length, 2 + 2 + 2 + 2);
  const lossFn = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
  const pixels = new Float32Array(8 * 64);
  const before = memoryStats().bytesInUse;
  let first = 0, last = 0;
  for (let step = 0; step < 60; step++) {
    // x = torch.tensor(batch); y = torch.tensor(labels): new every step, never freed by hand
    const labels = new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]);
    for (let i = 0; i < pixels.length; i++) {
      pixels[i] = labels[i >> 6] / 2 + (((i * 7 + step) % 13) / 13 - 0.5) * 0.2;
    }
    const x = tensor(pixels, [8, 1, 8, 8]);
    const y = tensor(labels, [8], { dtype: "int32" });
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    opt.step();
    if (step === 0) first = loss.item();
    last = loss.item();
  }
  assert.ok(last < first, `loss ${first} -> ${last}`);
  // Native bytes do not grow with the steps (the inputs live in collected JS memory).
  assert.ok(memoryStats().bytesInUse - before < 1 << 20, `${memoryStats().bytesInUse - before}`);
  assert.ok(collectorStats().bytesWatched >= 0);
});

Deno.test("with torch.no_grad(): an async evaluation loop records nothing", async () => {
  manualSeed(1);
  const model = new Net();
  model.eval();
  const items = Array.from({ length: 6 }, (_, i) => ({
    image: { data: new Float32Array(64).fill(i / 6), width: 8, height: 8 },
    label: (i % 3) as 0 | 1 | 2,
  }));
  const ds = { length: items.length, get: (i: number) => items[i], close() {} };
  const loader = new data.DataLoader(ds as never, { batchSize: 3 });
  const predictions: number[] = [];
  await noGrad(async () => {
    for await (const b of loader) {
      const out = model.forward(b.images);
      assert.equal(out.requiresGrad, false);
      predictions.push(...out.argmax(1).toArray());
    }
  });
  assert.equal(predictions.length, 6);
});

Deno.test("layers kept in a plain list fail loudly, and say what to write", () => {
  class Hidden extends nn.Module {
    layers = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  assert.throws(() => new Hidden().parameters(), /layers.*nn\.ModuleList/);
});

Deno.test("positional arguments where PyTorch takes them throw with the options form", () => {
  // nn.Conv2d(1, 16, 3, 1, 1) and optim.Adam(params, 1e-4)
  assert.throws(
    () => new (nn.Conv2d as unknown as new (...a: number[]) => nn.Conv2d)(1, 16, 3, 1, 1),
    /padding: 1/,
  );
  const params = new nn.Linear(2, 2).parameters();
  assert.throws(() => new optim.Adam(params, 1e-4 as never), /\{ lr: 1e-4/);
});

Deno.test("torch.cat, torch.stack, torch.where, torch.clamp and print(t)", () => {
  using a = tensor([[1, -2], [3, -4]]);
  using b = tensor([[5, 6]]);
  assert.deepEqual(cat([a, b], 0).shape, [3, 2]);
  assert.deepEqual(stack([a, a], 1).shape, [2, 2, 2]);
  assert.deepEqual([...where(a.gt(0), a, 0).toArray()], [1, 0, 3, 0]);
  assert.deepEqual([...clamp(a, -1, 2).toArray()], [1, -1, 2, -1]);
  assert.equal(a.numel(), 4);
  const printed = Deno.inspect(a);
  assert.match(printed, /^tensor\(\[\[ 1\., -2\.\],\n\s+\[ 3\., -4\.\]\]/);
  assert.match(printed, /shape=\[2, 2\], dtype=float32, device=cpu/);
});

Deno.test("requiresGrad_(false) on a tensor an op made throws, as torch's (it cut the graph silently)", () => {
  using x = tensor([1, 2], undefined, { requiresGrad: true });
  const y = x.mul(2);
  assert.throws(
    () => y.requiresGrad_(false),
    /only leaf tensors can change it .*'mulScalar'.*detach/,
  );
  assert.equal(y.requiresGrad_(true).requiresGrad, true); // unchanged: allowed
  assert.equal(x.requiresGrad_(false).requiresGrad, false); // a leaf may
});
