/**
 * Calling a module runs its forward, as PyTorch's `model(x)`: the same
 * numbers as `forward`, its forward hooks, a subclass's own arguments and
 * private fields, the model zoo and the containers; what a module still is
 * (instanceof, its fields and state dict, how it prints) and what refuses
 * it (io.save of the module itself).
 */
import assert from "node:assert/strict";
import { io, models, nn, ones, optim, randn, scope, type Tensor, tensor } from "../mod.ts";
import { assertBits } from "./helpers.ts";

function bits(t: Tensor): Float32Array {
  return t.toArray() as Float32Array;
}

Deno.test("model(x) is model.forward(x): a layer, a container, a zoo model", () => {
  scope(() => {
    const x = randn([2, 4]);
    const lin = new nn.Linear(4, 3);
    assertBits(bits(lin(x)), bits(lin.forward(x)), "Linear");
    const seq = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
    assertBits(bits(seq(x)), bits(seq.forward(x)), "Sequential");
    assertBits(bits(seq[0](x)), bits(seq[0].forward(x)), "Sequential[0]");
    const list = new nn.ModuleList([new nn.Linear(4, 4)]);
    assertBits(bits(list[0](x)), bits(list[0].forward(x)), "ModuleList[0]");
    const net = models.resnet18({ numClasses: 3, inChannels: 1 }).eval();
    const img = randn([1, 1, 32, 32]);
    assertBits(bits(net(img)), bits(net.forward(img)), "resnet18");
    const mha = new nn.MultiheadAttention(4, 2);
    const q = randn([3, 1, 4]);
    const [out, weights] = mha(q, q, q);
    assertBits(bits(out), bits(mha.forward(q, q, q).output), "MultiheadAttention");
    assert.deepEqual(weights?.shape, [1, 3, 3]);
  });
});

/** A port of a PyTorch module: own arguments, a private field, torch's `name` field. */
class Scaled extends nn.Module {
  fc = new nn.Linear(4, 2);
  override name = "head";
  #calls = 0;
  forward(x: Tensor, scale: number, bias: Tensor | null = null): Tensor {
    this.#calls++;
    const y = this.fc(x).mul(scale);
    return bias ? y.add(bias) : y;
  }
  get calls(): number {
    return this.#calls;
  }
}

Deno.test("a subclass: its own forward arguments, private fields, a name field, nested calls", () => {
  scope(() => {
    const m = new Scaled();
    const x = randn([3, 4]);
    const y = m(x, 2);
    assertBits(bits(y), bits(m.fc(x).mul(2)), "scaled");
    const b = tensor([1, -1]);
    assertBits(bits(m(x, 1, b)), bits(m.fc(x).add(b)), "with bias");
    assert.equal(m.calls, 2);
    assert.equal(m.name, "head");
    assert.deepEqual([...m.stateDict().keys()], ["fc.weight", "fc.bias"]);
    assert.deepEqual(Object.keys(m), ["training", "fc", "name"]);
    m(x, 3).sum().backward();
    assert.deepEqual(m.fc.weight.grad!.shape, [2, 4]);
  });
});

Deno.test("calling runs the forward hooks, as PyTorch's __call__", () => {
  scope(() => {
    const lin = new nn.Linear(2, 2);
    const seen: number[][] = [];
    const handle = lin.registerForwardHook((_m, _inputs, out) => {
      seen.push([...out.shape]);
      return out.mul(0);
    });
    const y = lin(randn([5, 2]));
    assert.deepEqual(seen, [[5, 2]]);
    assert.ok(bits(y).every((v) => v === 0));
    handle.remove();
    assert.ok(bits(lin(randn([1, 2]))).some((v) => v !== 0));
  });
});

Deno.test("a module stays a module: instanceof, fields, printing; io.save names it", async () => {
  const lin = new nn.Linear(2, 1);
  assert.ok(lin instanceof nn.Module && lin instanceof nn.Linear);
  assert.equal(typeof lin, "function");
  assert.equal(lin.constructor, nn.Linear);
  // No function properties of its own: `name` and `length` are free for subclasses.
  assert.equal(Object.hasOwn(lin, "name"), false);
  assert.equal(Object.hasOwn(lin, "length"), false);
  assert.equal(new nn.Sequential(new nn.ReLU(), new nn.ReLU()).length, 2);
  assert.match(Deno.inspect(lin), /^Linear \{/);
  assert.match(Deno.inspect({ head: new nn.ReLU() }), /head: ReLU \{/);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await assert.rejects(
      io.save(path, { model: lin }),
      /'model' is a Linear; save its state dict \(model\.stateDict\(\)\)/,
    );
  } finally {
    await Deno.remove(path);
  }
  lin.dispose();
});

/** A port's module with an op result in a field (a fixed scale made from ops). */
class Scaled2 extends nn.Module {
  fc = new nn.Linear(3, 3);
  scale = ones([3]).mul(2);
  forward(x: Tensor): Tensor {
    return this.fc(x).mul(this.scale);
  }
}

Deno.test("a module returned from scope keeps the tensors in its fields", () => {
  const m = scope(() => new Scaled2());
  const [n] = scope(() => [new Scaled2()]);
  const { k } = scope(() => ({ k: new Scaled2() }));
  for (const model of [m, n, k]) {
    const y = model(ones([1, 3]));
    assert.deepEqual(y.shape, [1, 3]);
    y.dispose();
  }
});

Deno.test("a module where a tensor, options or parameters belong: the error names it", () => {
  const lin = new nn.Linear(2, 2);
  assert.throws(
    () => new nn.Linear(2, 3, lin as never),
    /a Linear \(a module\)/,
  );
  assert.throws(
    () => new optim.SGD(lin as never, { lr: 0.1 }),
    /got an nn\.Linear \(a module\): pass model\.parameters\(\)/,
  );
  assert.throws(() => ones([2]).add(lin as never), /got an nn\.Linear \(a module: call it/);
  // JSON of a module is its fields, as before modules were callable.
  assert.equal(
    JSON.stringify({ layer: new nn.ReLU(), n: 1 }),
    '{"layer":{"training":true,"inplace":false},"n":1}',
  );
});
