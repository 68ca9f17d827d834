/**
 * Lines a PyTorch notebook ports as they are: torch's attribute and method
 * names on modules, optimizers and schedulers throw naming ours (they read
 * undefined, or were "not a function"); a copied convolution takes the
 * original's stride and padding; hand-written Grad-CAM's tensor hooks; a
 * Tensor of sample weights.
 */
import assert from "node:assert/strict";
import {
  data,
  distributed,
  linspace,
  memoryStats,
  models,
  nn,
  optim,
  randLike,
  randn,
  randnLike,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";

Deno.test("torch's names on modules, optimizers and schedulers throw, naming ours", () => {
  const model = models.create("resnet18", { inChannels: 1, numClasses: 3 }) as nn.Module & {
    fc: nn.Linear;
    conv1: nn.Conv2d;
    bn1: nn.BatchNorm2d;
  };
  const read = (o: unknown, name: string) => (o as Record<string, unknown>)[name];
  assert.throws(
    () => read(model.fc, "in_features"),
    /nn\.Linear has no \.in_features: write fc\.inFeatures/,
  );
  assert.throws(() => read(model, "state_dict"), /write model\.stateDict\(\)/);
  assert.throws(() => read(model, "register_full_backward_hook"), /registerFullBackwardHook/);
  assert.throws(() => read(model, "register_backward_hook"), /torch deprecates it/);
  assert.throws(() => read(model.bn1, "running_mean"), /norm\.runningMean/);
  assert.throws(() => read(model.conv1, "kernel_size"), /conv\.kernelSize/);
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
  assert.throws(() => read(opt, "param_groups"), /opt\.paramGroups/);
  const sched = new optim.CosineAnnealingLR(opt, { tMax: 10 });
  assert.throws(() => read(sched, "get_last_lr"), /sched\.lastLr/);
  const plateau = new optim.ReduceLROnPlateau(opt);
  assert.throws(() => read(plateau, "get_last_lr"), /sched\.lastLr/);
  // Ours still work, and the names are no fields (keys and state dicts unchanged).
  assert.equal(model.fc.inFeatures, 512);
  assert.deepEqual(sched.lastLr, [1e-3]);
  assert.ok(!Object.keys(model).includes("state_dict"));
});

Deno.test("a one-channel copy of conv1 takes its kernel, stride and padding, as the torch port", () => {
  const m = models.create("resnet18", { numClasses: 3 }) as nn.Module & { conv1: nn.Conv2d };
  const c = m.conv1;
  const one = new nn.Conv2d(1, c.outChannels, c.kernelSize, {
    stride: c.stride,
    padding: c.padding,
    bias: false,
  });
  assert.deepEqual([one.kernelSize, one.stride, one.padding], [[7, 7], [2, 2], [3, 3]]);
  assert.deepEqual(one.forward(randn([1, 1, 32, 32])).shape, [1, 64, 16, 16]);
  // undefined is "not given", as in every layer's options (a helper's optional stride).
  assert.deepEqual(new nn.Conv2d(1, 8, 3, { stride: undefined }).stride, [1, 1]);
  // torch: "a single integer value or a list of 2 values"; a third was dropped silently.
  assert.throws(
    () => new nn.Conv2d(1, 8, 3, { stride: [1, 2, 3] as never }),
    /a number or 2 numbers/,
  );
});

Deno.test("registerHook and retainGrad, as hand-written Grad-CAM uses them", () => {
  const x = tensor([[1, 2, 3]], undefined, { requiresGrad: true });
  const acts = x.mul(2);
  const grads: Tensor[] = [];
  acts.registerHook((g) => void grads.push(g));
  acts.retainGrad();
  assert.equal(acts.retainsGrad, true);
  const y = acts.mul(tensor([[1, 10, 100]])).sum();
  y.backward();
  assert.deepEqual(grads[0].toList(), [[1, 10, 100]]); // the user's copy, alive after backward
  assert.deepEqual(acts.grad!.toList(), [[1, 10, 100]]);
  assert.deepEqual(x.grad!.toList(), [[2, 20, 200]]);
  // A hook's returned tensor replaces the gradient that flows on.
  const z = tensor([1, 1], undefined, { requiresGrad: true });
  const h = z.mul(1);
  const handle = h.registerHook((g) => g.mul(0.5));
  h.sum().backward();
  assert.deepEqual(z.grad!.toList(), [0.5, 0.5]);
  handle.remove();
  assert.throws(() => tensor([1]).registerHook(() => {}), /does not require grad/);
  const bad = tensor([1, 2], undefined, { requiresGrad: true }).mul(1);
  bad.registerHook(() => tensor([1]));
  assert.throws(() => bad.sum().backward(), /returned a tensor \[1\] of float32/);
  assert.throws(() => (x as unknown as Record<string, unknown>).retain_grad, /x\.retainGrad\(\)/);
  const ints = tensor([1, 2], undefined, { requiresGrad: true }).mul(2);
  ints.registerHook((g) => g.mul(3).int());
  assert.throws(() => ints.sum().backward(), /returned a tensor \[2\] of int32.*float32 gradient/);
});

Deno.test("what a hook makes from its gradient lives until the next zeroGrad; retainGrad keeps the gradient of the hooks before it (torch 1.13)", () => {
  const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const y = x.mul(2);
  let kept: Tensor | null = null, doubled: Tensor | null = null;
  y.registerHook((g) => {
    kept = g.detach(); // pytorch-grad-cam's grad.cpu().detach()
    doubled = g.mul(2);
  });
  y.retainGrad(); // after the first hook: sees its gradient
  y.registerHook((g) => g.mul(100)); // after retainGrad: flows on, not retained
  y.sum().backward();
  assert.deepEqual(kept!.toList(), [1, 1, 1]);
  assert.deepEqual(doubled!.toList(), [2, 2, 2]);
  assert.deepEqual(y.grad!.toList(), [1, 1, 1]);
  assert.deepEqual(x.grad!.toList(), [200, 200, 200]);
});

Deno.test("conv.stride and conv.padding are assignable, as torch's last-stride trick", () => {
  const conv = new nn.Conv2d(2, 4, 3, { stride: 2, padding: 1 });
  assert.deepEqual(conv.forward(randn([1, 2, 8, 8])).shape, [1, 4, 4, 4]);
  conv.stride = [1, 1];
  conv.padding = 1;
  assert.deepEqual(conv.forward(randn([1, 2, 8, 8])).shape, [1, 4, 8, 8]);
  assert.throws(() => (conv.stride = 0), /stride must be integers >= 1/);
  assert.throws(() => (conv.stride = undefined as never), /a number or 2 numbers, got undefined/);
  // "same" padding follows a new dilation, and refuses a stride, as torch's.
  const same = new nn.Conv2d(2, 2, 3, { padding: "same" });
  same.dilation = [2, 2];
  assert.deepEqual(same.padding, [2, 2]);
  assert.deepEqual(same.forward(randn([1, 2, 8, 8])).shape, [1, 2, 8, 8]);
  assert.throws(() => (same.stride = 2), /same/);
  conv.padding = "same" as never;
  conv.stride = 1;
  assert.deepEqual(conv.padding, [1, 1]);
  assert.throws(
    () => ((conv as unknown as { groups: number }).groups = 2),
    /getter|read only|read-only/,
  );
});

Deno.test("WeightedRandomSampler takes a Tensor of weights; class weights for samples are an Error", () => {
  const s = new data.WeightedRandomSampler(tensor([0, 0, 1]), 4);
  assert.deepEqual(Array.from(s.indices(0, 1)), [2, 2, 2, 2]);
  const ds = {
    length: 6,
    get: (i: number) =>
      Promise.resolve({ image: { data: new Float32Array(4), width: 2, height: 2 }, label: i % 3 }),
  };
  assert.throws(
    () => new data.DataLoader(ds, { sampler: new data.WeightedRandomSampler([1, 2, 3], 6) }),
    /3 weights for a dataset of 6 samples/,
  );
  assert.throws(() => new data.WeightedRandomSampler([], 2), /weights is empty/);
  // Wrapped for data-parallel training, the check still sees the weights.
  const wrapped = new distributed.DistributedSampler(new data.WeightedRandomSampler([1, 1, 5], 6), {
    numReplicas: 2,
    rank: 0,
  });
  assert.throws(
    () => new data.DataLoader(ds, { sampler: wrapped }),
    /3 weights for a dataset of 6/,
  );
});

Deno.test("hooks: an in-place write to the gradient counts, hooks in a scope free with it, and a retained .grad returned from a scope survives", () => {
  const x = tensor([1, 1], undefined, { requiresGrad: true });
  x.registerHook((g) => void g.mul_(0.5)); // torch's hook that scales in place, returning nothing
  x.mul(4).sum().backward();
  assert.deepEqual(x.grad!.toList(), [2, 2]);
  // Inside a user's scope, what a hook makes is the scope's: a loop that never zeroGrads stays flat.
  const lin = new nn.Linear(16, 16);
  for (const p of lin.parameters()) p.requiresGrad_(false);
  const input = randn([4, 16]);
  const once = () =>
    scope(() => {
      const inp = input.detach().requiresGrad_();
      const h = lin.forward(inp);
      h.registerHook((g) => g.mul(0.5));
      h.relu().sum().backward();
      return inp.grad!.abs().sum().item();
    });
  once();
  const before = memoryStats().bytesInUse;
  for (let i = 0; i < 20; i++) once();
  assert.equal(memoryStats().bytesInUse, before);
  // A retained gradient returned from the scope that made its tensor.
  const g = scope(() => {
    const h = lin.forward(input.detach().requiresGrad_());
    h.retainGrad();
    h.pow(2).sum().backward();
    return h.grad!;
  });
  assert.equal(g.isAlive, true);
  assert.deepEqual(g.shape, [4, 16]);
});

Deno.test("X.slice(0, 1) of a tensor in no graph is the user's (a second explanation found it freed); select(dim, i) is torch's x[:, i]", () => {
  const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(16, 3));
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const X = randn([2, 1, 4, 4]);
  const x0 = X.slice(0, 1), column = X.narrow(3, 0, 1);
  for (let i = 0; i < 3; i++) {
    const out = model.forward(x0);
    opt.zeroGrad();
    out.select(1, 2).sum().backward();
  }
  opt.zeroGrad();
  assert.equal(x0.isAlive, true);
  assert.equal(column.isAlive, true);
  const logits = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(logits.select(1, 2).toList(), [3, 6]);
  assert.deepEqual(logits.select(0, -1).toList(), [4, 5, 6]);
  assert.throws(() => logits.select(1, 3), /index 3 is out of range for dimension 1 of size 3/);
});

Deno.test("linspace as torch's (values within an ulp, ends exact); randLike and randnLike", () => {
  // torch 1.13: torch.linspace(-3.7, 11.2, 7) and (0.1, 0.7, 13); one step is [start].
  const near = (got: Tensor, want: number[]) => {
    const g = got.toArray();
    assert.equal(g.length, want.length);
    want.forEach((w, i) =>
      assert.ok(Math.abs(g[i] - w) <= 2e-7 * Math.max(1, Math.abs(w)), `${i}`)
    );
  };
  near(linspace(-3.7, 11.2, 7), [
    -3.70000005,
    -1.2166667,
    1.26666665,
    3.74999976,
    6.23333311,
    8.71666622,
    11.1999998,
  ]);
  const long = linspace(0.1, 0.7, 13).toArray();
  assert.equal(long[0], Math.fround(0.1));
  assert.equal(long[12], Math.fround(0.7));
  assert.deepEqual(linspace(0, 1, 1).toList(), [0]);
  assert.deepEqual(linspace(0, 1, 0).shape, [0]);
  assert.throws(() => linspace(0, 1, 2.5), /steps must be a non-negative integer/);
  const x = randn([2, 3]);
  assert.deepEqual([randLike(x).shape, randnLike(x).shape], [[2, 3], [2, 3]]);
  assert.ok(randLike(x).toArray().every((v) => v >= 0 && v < 1));
  assert.throws(() => randnLike([2, 3] as never), /expected a Tensor/);
});

Deno.test("hooks returning a tensor they did not make, or keeping what they return, leave it alone as torch", () => {
  const w = tensor([1, 1, 1], undefined, { requiresGrad: true });
  const c = tensor([1, 1, 1]).mul(0.5); // made before, by an op
  w.registerHook(() => c);
  for (let i = 0; i < 3; i++) w.mul(2).sum().backward();
  assert.deepEqual(w.grad!.toList(), [1.5, 1.5, 1.5]); // 0.5 three times, accumulated
  assert.deepEqual(c.toList(), [0.5, 0.5, 0.5]); // never adopted nor written
  const v = tensor([3, 3], undefined, { requiresGrad: true });
  const store: Tensor[] = [];
  v.registerHook((g) => {
    const r = g.clamp(-1, 1);
    store.push(r);
    return r;
  });
  v.mul(2).sum().backward();
  v.mul(2).sum().backward();
  assert.deepEqual(store[0].toList(), [1, 1]); // the .grad is a copy: accumulating leaves it
  assert.deepEqual(v.grad!.toList(), [2, 2]);
  let saved: Tensor | null = null;
  const y = tensor([1, 2, 3], undefined, { requiresGrad: true }).mul(2);
  y.registerHook((g) => {
    saved = g;
    return g;
  });
  y.sum().backward();
  assert.deepEqual(saved!.toList(), [1, 1, 1]);
  // A refused assignment changes nothing; select of data is the user's; linspace's float32 range.
  const conv = new nn.Conv2d(1, 1, 3, { stride: 2 });
  assert.throws(() => (conv.padding = "same" as never), /same/);
  conv.stride = 1;
  assert.deepEqual(conv.padding, [0, 0]);
  const X = randn([4, 8]);
  const row = X.select(0, 1);
  const lin = new nn.Linear(8, 2), opt = new optim.SGD(lin.parameters(), { lr: 0.1 });
  lin.forward(X).sum().backward();
  opt.zeroGrad();
  lin.forward(X).sum().backward();
  opt.zeroGrad();
  assert.equal(row.isAlive, true);
  assert.throws(() => linspace(0, 1e39, 3), /finite float32/);
});
