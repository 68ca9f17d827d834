/**
 * A PyTorch user's Module habits: tied weights, shared modules, a child
 * that overrides `train()`, non-persistent buffers, prefixes, and a loss
 * whose every target is ignored. Each block gives the PyTorch 1.13 outcome.
 */
import assert from "node:assert/strict";
import { nn, optim, type Tensor, tensor, zeros } from "../mod.ts";

class Tied extends nn.Module {
  a = new nn.Linear(3, 3);
  b = new nn.Linear(3, 3);
  constructor() {
    super();
    this.b.weight = this.a.weight; // self.b.weight = self.a.weight
  }
  forward(x: Tensor): Tensor {
    return this.b.forward(this.a.forward(x));
  }
}

Deno.test("tied weights count once in parameters(), as torch's named_parameters", () => {
  // [n for n, _ in t.named_parameters()] -> ['a.weight', 'a.bias', 'b.bias'];
  // sum(p.numel() ...) -> 15; state_dict keeps all four keys.
  const t = new Tied();
  assert.deepEqual([...t.namedParameters()].map(([n]) => n), ["a.weight", "a.bias", "b.bias"]);
  assert.equal(t.numParameters(), 15);
  assert.deepEqual([...t.stateDict().keys()], ["a.weight", "a.bias", "b.weight", "b.bias"]);
  // An optimizer over them works (it used to see the weight twice and refuse).
  const opt = new optim.SGD(t.parameters(), { lr: 0.1 });
  t.forward(tensor([[1, 2, 3]])).sum().backward();
  opt.step();
  assert.equal(t.a.weight, t.b.weight);
});

Deno.test("a module under two names is one module, as torch's named_modules", () => {
  // s.a = nn.Linear(2, 2); s.b = s.a -> named_modules ['', 'a'], 1 child, 2 parameters
  class Shared extends nn.Module {
    a = new nn.Linear(2, 2);
    b = this.a;
    forward(x: Tensor): Tensor {
      return this.b.forward(this.a.forward(x));
    }
  }
  const s = new Shared();
  assert.deepEqual([...s.namedModules()].map(([n]) => n), ["", "a"]);
  assert.equal([...s.children()].length, 1);
  assert.equal(s.parameters().length, 2);
  assert.deepEqual([...s.stateDict().keys()], ["a.weight", "a.bias", "b.weight", "b.bias"]);
});

Deno.test("train() calls each child's own train(), so a frozen batch norm stays frozen", () => {
  // class FrozenBN(nn.Module): def train(self, mode=True): super().train(mode); self.bn.eval()
  // Outer().train().inner.bn.training -> False
  class FrozenBN extends nn.Module {
    bn = new nn.BatchNorm2d(2);
    override train(mode = true): this {
      super.train(mode);
      this.bn.eval();
      return this;
    }
    forward(x: Tensor): Tensor {
      return this.bn.forward(x);
    }
  }
  class Outer extends nn.Module {
    inner = new FrozenBN();
    forward(x: Tensor): Tensor {
      return this.inner.forward(x);
    }
  }
  const m = new Outer().train();
  assert.equal(m.training, true);
  assert.equal(m.inner.training, true);
  assert.equal(m.inner.bn.training, false);
  m.forward(tensor(Array.from({ length: 8 }, (_, i) => i), [2, 2, 1, 2]));
  assert.deepEqual(m.inner.bn.runningMean!.toList(), [0, 0], "no running statistics moved");
  // model.train("false") -> torch: ValueError: training mode is expected to be boolean
  assert.throws(() => m.train("false" as unknown as boolean), /train: mode must be a boolean/);
});

Deno.test("registerBuffer(name, t, false) stays out of the state dict, as torch's persistent=False", () => {
  class Masked extends nn.Module {
    constructor() {
      super();
      this.registerBuffer("mask", zeros([2]), false);
      this.registerBuffer("scale", zeros([1]));
    }
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  const m = new Masked();
  assert.deepEqual([...m.stateDict().keys()], ["scale"]);
  assert.deepEqual([...m.namedBuffers()].map(([n]) => n), ["mask", "scale"]);
  m.loadStateDict(m.stateDict()); // strict: the mask is not expected
});

Deno.test("namedParameters(prefix) joins with a dot, as torch's named_parameters('enc')", () => {
  // [n for n, _ in nn.Sequential(nn.Linear(2, 2)).named_parameters('enc')]
  // -> ['enc.0.weight', 'enc.0.bias']
  const seq = new nn.Sequential(new nn.Linear(2, 2));
  assert.deepEqual([...seq.namedParameters("enc")].map(([n]) => n), [
    "enc.0.weight",
    "enc.0.bias",
  ]);
  assert.deepEqual(
    [...new nn.BatchNorm2d(1).namedBuffers("bn")].map(([n]) => n)[0],
    "bn.running_mean",
  );
});

Deno.test("NLLLoss with every target ignored: NaN loss but zero gradient, as torch", () => {
  // x.grad after NLLLoss()(log_softmax(x, 1), tensor([-100, -100])).backward() -> zeros
  const x = tensor([[0.5, -1, 2], [1, 0, -0.5]], undefined, { requiresGrad: true });
  const logp = nn.functional.logSoftmax(x, 1);
  const loss = new nn.NLLLoss().forward(logp, tensor(new Int32Array([-100, -100]), [2]));
  assert.ok(Number.isNaN(loss.item()));
  loss.backward();
  assert.ok((x.grad!.toArray() as Float32Array).every((v) => v === 0), `${x.grad!.toList()}`);
  // Class weights that sum to zero over kept targets stay NaN, as torch's.
  const y = tensor([[0.5, -1, 2], [1, 0, -0.5]], undefined, { requiresGrad: true });
  const weighted = new nn.NLLLoss({ weight: tensor([0, 1, 1]) })
    .forward(nn.functional.logSoftmax(y, 1), tensor(new Int32Array([0, 0]), [2]));
  weighted.backward();
  assert.ok((y.grad!.toArray() as Float32Array).every((v) => Number.isNaN(v)));
});

Deno.test("apply, requiresGrad_ and getSubmodule on modules, as torch's", () => {
  // order = []; net.apply(lambda m: order.append(type(m).__name__))
  // -> ['Linear', 'ReLU', 'Linear', 'Sequential']: children first
  const net = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 1));
  const order: string[] = [];
  assert.equal(net.apply((m) => order.push(m.constructor.name)), net);
  assert.deepEqual(order, ["Linear", "ReLU", "Linear", "Sequential"]);
  net.requiresGrad_(false);
  assert.ok(net.parameters().every((p) => !p.requiresGrad));
  net.requiresGrad_();
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.equal(net.getSubmodule("2"), [...net.children()][2]);
  assert.equal(net.getSubmodule(""), net);
  assert.throws(() => net.getSubmodule("2.weight"), /Linear has no submodule 'weight'/);
});

Deno.test("loadStateDict takes a plain object of tensors and a dict without num_batches_tracked, as torch's", () => {
  // nn.Linear(2, 2).load_state_dict({'weight': torch.zeros(2, 2), 'bias': torch.ones(2)})
  // -> <All keys matched successfully>
  const fc = new nn.Linear(2, 2);
  assert.deepEqual(fc.loadStateDict({ weight: zeros([2, 2]), bias: tensor([1, 1]) }), {
    missingKeys: [],
    unexpectedKeys: [],
  });
  assert.deepEqual(fc.bias!.toList(), [1, 1]);
  assert.throws(
    () => fc.loadStateDict([1, 2] as unknown as Map<string, Tensor>),
    /loadStateDict: expected a Map of name -> Tensor .* or a plain object of tensors/,
  );
  // bn(x); bn(x); bn.load_state_dict({k: v for k, v in bn.state_dict().items()
  // if 'num_batches' not in k}) -> <All keys matched successfully>, num_batches_tracked 0
  const bn = new nn.BatchNorm2d(2);
  const x = tensor(Array.from({ length: 16 }, (_, i) => i % 5), [2, 2, 2, 2]);
  bn.forward(x);
  bn.forward(x);
  assert.equal(bn.numBatchesTracked, 2);
  const sd = new Map([...bn.stateDict()].filter(([k]) => !k.includes("num_batches")));
  assert.deepEqual(bn.loadStateDict(sd), { missingKeys: [], unexpectedKeys: [] });
  assert.equal(bn.numBatchesTracked, 0);
  assert.equal(bn.stateDict().get("num_batches_tracked")!.item(), 0);
  // An array where a loss's weight tensor goes: a clear error.
  assert.throws(
    () => new nn.CrossEntropyLoss({ weight: [1, 2, 3] as unknown as Tensor }),
    /nn.CrossEntropyLoss: weight must be a Tensor, got an array; write weight: tensor/,
  );
});

Deno.test("x.half(), model.bfloat16() and .double() say that tensors stay float32 and point to autocast", () => {
  const fc = new nn.Linear(2, 2);
  for (const f of [() => fc.half(), () => fc.bfloat16(), () => fc.double()]) {
    assert.throws(f, /tensors stay float32 here .* autocast\("bfloat16"/);
  }
  assert.throws(() => zeros([2]).half(), /half\(\): tensors stay float32/);
  assert.throws(() => zeros([2]).bfloat16(), /bfloat16\(\): tensors stay float32/);
  assert.throws(() => zeros([2]).double(), /double\(\): tensors stay float32/);
});

Deno.test("model.float() is torch's no-op cast here: the same module, its state unchanged", () => {
  const bn = new nn.BatchNorm2d(3);
  const before = bn.stateDict();
  assert.equal(bn.float(), bn);
  assert.equal(bn.float().eval(), bn); // torch's chain
  for (const [k, t] of bn.stateDict()) {
    assert.equal(t, before.get(k), k);
    assert.equal(t.dtype, k.endsWith("num_batches_tracked") ? "int32" : "float32", k);
  }
  assert.throws(() => (bn.float as (x: unknown) => unknown)("float32"), /model\.float\(\)/);
});

Deno.test("an optimizer over no parameters is refused, as torch's", () => {
  // torch.optim.Adam([]) -> ValueError: optimizer got an empty parameter list
  assert.throws(() => new optim.Adam([]), /optim.Adam: got an empty parameter list/);
  const fc = new nn.Linear(2, 2);
  const used = fc.namedParameters();
  [...used]; // a generator read once is empty after
  assert.throws(
    () => new optim.SGD([...used].map(([, p]) => p), { lr: 0.1 }),
    /optim.SGD: got an empty parameter list/,
  );
});
