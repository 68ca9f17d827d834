/**
 * In-place writes as PyTorch does them: through a view to the elements it
 * shows, counted in the tensor's version, and refused by backward() where an
 * op saved the tensor for its gradient before the write (PyTorch's "modified
 * by an inplace operation" error). Each case's PyTorch 1.13 outcome is in its
 * comment.
 */
import assert from "node:assert/strict";
import { nn, optim, type Tensor, tensor, where, zeros } from "../mod.ts";

const MODIFIED =
  /modified by an in-place operation: \[2\], saved by 'mul', is at version 1; expected version 0/;

Deno.test("nn.init through a column view writes that column only, as torch's w[:, :1]", () => {
  // w = torch.tensor([[1., 2, 3], [4, 5, 6]]); nn.init.constant_(w[:, :1], 0)
  // -> [[0, 2, 3], [0, 5, 6]]
  const w = tensor([[1, 2, 3], [4, 5, 6]]);
  nn.init.constant_(w.narrow(1, 0, 1), 0);
  assert.deepEqual(w.toList(), [[0, 2, 3], [0, 5, 6]]);
  // A transposed view: the first row of w.t() is w's first column.
  const v = tensor([[1, 2, 3], [4, 5, 6]]);
  nn.init.constant_(v.transpose(0, 1).narrow(0, 0, 1), 9);
  assert.deepEqual(v.toList(), [[9, 2, 3], [9, 5, 6]]);
  // The random fills too: only the column changes, within the bounds.
  const u = tensor([[5, 5, 5], [5, 5, 5], [5, 5, 5]]);
  nn.init.uniform_(u.narrow(1, 2, 1), -1, 1);
  const rows = u.toList() as number[][];
  for (const r of rows) {
    assert.deepEqual(r.slice(0, 2), [5, 5]);
    assert.ok(r[2] >= -1 && r[2] < 1, `uniform_ wrote ${r[2]}`);
  }
  const k = zeros([4, 6]);
  nn.init.kaimingNormal_(k.narrow(1, 3, 3));
  const kv = k.toList() as number[][];
  assert.ok(kv.every((r) => r.slice(0, 3).every((x) => x === 0)), "left columns untouched");
  assert.ok(kv.some((r) => r.slice(3).some((x) => x !== 0)), "right columns filled");
});

Deno.test("nn.init on an expanded view is refused and writes nothing, as torch", () => {
  // nn.init.constant_(torch.zeros(3).expand(2, 3), 1) -> RuntimeError: unsupported
  // operation: more than one element of the written-to tensor refers to a single memory location
  const base = zeros([3]);
  assert.throws(
    () => nn.init.constant_(base.expand(2, 3), 1),
    /nn.init.constant_: tensor \[2,3\] with strides \[0,1\] is a view in which several elements share one memory location/,
  );
  assert.deepEqual(base.toList(), [0, 0, 0]);
  assert.throws(() => nn.init.normal_(base.expand(2, 3)), /nn.init.normal_: .*share one memory/);
});

Deno.test("version counts in-place writes, shared by a tensor and its views (torch's _version)", () => {
  const w = zeros([2, 2]);
  assert.equal(w.version, 0); // torch.zeros(2, 2)._version

  nn.init.constant_(w, 1);
  assert.equal(w.version, 1);
  const row = w.narrow(0, 1, 1);
  nn.init.uniform_(row);
  assert.equal(w.version, 2);
  assert.equal(row.version, 2);
  // Op results are new memory: version 0.
  assert.equal(w.add(1).version, 0);

  const p = tensor([1, 2], undefined, { requiresGrad: true });
  p.mul(2).sum().backward();
  new optim.SGD([p], { lr: 0.1 }).step();
  assert.equal(p.version, 1);

  // Made by nn.init's fills: version 1, as torch's. Unlike torch (whose
  // kernel writes them unseen), a training forward counts its write to the
  // running statistics: a graph that saved them in evaluation then refuses.
  const bn = new nn.BatchNorm2d(1);
  assert.equal(bn.runningMean!.version, 1);
  bn.forward(tensor([1, 2, 3, 4], [2, 1, 1, 2]));
  assert.equal(bn.runningMean!.version, 2);
  bn.loadStateDict(bn.stateDict());
  assert.equal(bn.runningMean!.version, 3);
  assert.equal(new nn.Conv2d(1, 2, 3).weight.version, 1); // kaimingUniform_, as torch's
});

Deno.test("backward after optimizer.step() on a retained graph throws, as torch, and writes no gradient", () => {
  // loss = (w * x * w).sum(); loss.backward(retain_graph=True); opt.step(); loss.backward()
  // -> RuntimeError: one of the variables needed for gradient computation has been
  //    modified by an inplace operation: [torch.FloatTensor [2]] is at version 1; expected version 0
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  const x = tensor([3, 4]);
  const loss = w.mul(x).mul(w).sum();
  loss.backward(undefined, { retainGraph: true });
  assert.deepEqual(w.grad!.toList(), [6, 16]);
  const opt = new optim.SGD([w], { lr: 0.1 });
  opt.step();
  assert.throws(() => loss.backward(), MODIFIED);
  assert.deepEqual(w.grad!.toList(), [6, 16], "the failed backward wrote nothing");
});

Deno.test("a layer's forward, then a weight write, then backward throws (Adam, loadStateDict, nn.init)", () => {
  const x = tensor(Array.from({ length: 16 }, (_, i) => i / 16), [1, 1, 4, 4]);
  const writes: [string, (m: nn.Conv2d) => void][] = [
    ["Adam step", (m) => {
      m.weight.grad = zeros([...m.weight.shape]);
      new optim.Adam(m.parameters(), { lr: 0.1 }).step();
    }],
    ["loadStateDict", (m) => m.loadStateDict(m.stateDict())],
    ["kaimingUniform_", (m) => nn.init.kaimingUniform_(m.weight)],
  ];
  for (const [what, write] of writes) {
    const conv = new nn.Conv2d(1, 2, 3);
    const y = conv.forward(x).sum();
    write(conv);
    assert.throws(
      () => y.backward(),
      /\[2,1,3,3\], saved by 'conv2d', is at version 2; expected version 1/,
      what,
    );
  }
});

Deno.test("writes to what no op saved leave backward as torch does (bias, add, reshape)", () => {
  // conv = nn.Conv2d(1, 2, 3); y = conv(x).sum(); nn.init.zeros_(conv.bias); y.backward()
  // -> no error: convolution does not save its bias.
  const conv = new nn.Conv2d(1, 2, 3);
  const x = tensor(Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
  const y = conv.forward(x).sum();
  nn.init.zeros_(conv.bias!);
  y.backward();
  assert.deepEqual(conv.bias!.grad!.toList(), [4, 4]);
  // b = torch.tensor([1., 2], requires_grad=True); l = (b + x).reshape(2, 1).sum()
  // l.backward(retain_graph=True); opt.step(); l.backward() -> b.grad [2, 2]
  const b = tensor([1, 2], undefined, { requiresGrad: true });
  const l = b.add(tensor([3, 4])).reshape([2, 1]).sum();
  const opt = new optim.SGD([b], { lr: 0.1 });
  l.backward(undefined, { retainGraph: true });
  opt.step();
  l.backward();
  assert.deepEqual(b.grad!.toList(), [2, 2]);
});

Deno.test("what a backward reads besides its inputs is checked too: targets, outputs, conditions", () => {
  // l = F.cross_entropy(x, t); t.fill_(2); l.backward() -> modified by an inplace operation
  const x = tensor([[1, 2, 3]], undefined, { requiresGrad: true });
  const t = tensor(new Int32Array([0]), [1]);
  const l = nn.functional.crossEntropy(x, t);
  nn.init.constant_(t, 2);
  assert.throws(() => l.backward(), /saved by 'crossEntropy', is at version 1; expected version 0/);
  // y = x.sigmoid(); init.constant_(y, 0); y.sum().backward() -> the same error
  const a = tensor([1, 2, 3], undefined, { requiresGrad: true });
  const y = a.sigmoid();
  const s = y.sum();
  nn.init.constant_(y, 0);
  assert.throws(() => s.backward(), /saved by 'sigmoid'/);
  const c = tensor([1, 0, 1]);
  const w = where(c, a, 0).sum();
  nn.init.constant_(c, 0);
  assert.throws(() => w.backward(), /saved by 'where'/);
  // A target freed before backward: its block may hold the next tensor by then.
  const t2 = tensor(new Int32Array([0]), [1]);
  const l2 = nn.functional.crossEntropy(tensor([[1, 2, 3]], undefined, { requiresGrad: true }), t2);
  t2.dispose();
  assert.throws(() => l2.backward(), /saved by 'crossEntropy' for its gradient, was released/);
});

Deno.test("a product saves an operand only where the other's gradient needs it, as torch (a linear probe)", () => {
  // m = nn.Linear(3, 2); l = m(x).sum(); l.backward(retain_graph=True); opt.step(); l.backward() -> fine
  const m = new nn.Linear(3, 2);
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  const l = m.forward(x).sum();
  const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
  l.backward(undefined, { retainGraph: true });
  opt.step();
  l.backward();
  assert.deepEqual(m.bias!.grad!.toList(), [4, 4]);
});

Deno.test("views and int32 tensors in place as torch: squeeze views, loadStateDict through strides, int fills", () => {
  // w = arange(24).reshape(2, 3, 4); init.constant_(w[:, :, 0:1].squeeze(2), -1) writes w[:, :, 0]
  const w = tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
  nn.init.constant_(w.narrow(2, 0, 1).squeeze(2), -1);
  assert.deepEqual((w.toList() as number[][][]).flat().map((r) => r[0]), [-1, -1, -1, -1, -1, -1]);
  nn.init.constant_(w.narrow(2, 1, 1).squeeze().unsqueeze(0), -2);
  assert.deepEqual((w.toList() as number[][][]).flat().map((r) => r[1]), [-2, -2, -2, -2, -2, -2]);
  // A Parameter that is a transposed view loads in its logical order.
  class T extends nn.Module {
    p = new nn.Parameter(tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1));
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  const t = new T();
  t.loadStateDict({ p: tensor([[10, 40], [20, 50], [30, 60]]) });
  assert.deepEqual(t.p.toList(), [[10, 40], [20, 50], [30, 60]]);
  // init.constant_(torch.tensor([1, 1, 1], dtype=torch.int32), 2.7) -> [2, 2, 2]
  const i = tensor(new Int32Array([1, 1, 1]), [3]);
  nn.init.constant_(i, 2.7);
  assert.deepEqual(i.toList(), [2, 2, 2]);
  // torch: "check_uniform_bounds" not implemented for 'Int' (they wrote float bits into int32)
  assert.throws(() => nn.init.uniform_(i, 0, 10), /random values need a float32 tensor, got int32/);
  // num_batches_tracked counts its writes, as torch's (+= 1)
  const bn = new nn.BatchNorm2d(1);
  const before = bn.stateDict().get("num_batches_tracked")!.version;
  bn.forward(tensor([1, 2, 3, 4], [2, 1, 1, 2]));
  assert.equal(bn.stateDict().get("num_batches_tracked")!.version, before + 1);
});
