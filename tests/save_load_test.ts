/**
 * io.save / io.load (torch.save / torch.load of a training loop's
 * checkpoint dict): the structure, Maps with their key types, numbers
 * including NaN and the infinities, tensors bit for bit and by readable
 * names, one tensor stored once, an optimizer and scheduler resumed from it,
 * and the refusals (a Module, a function, a cycle) before a byte is written.
 */
import assert from "node:assert/strict";
import { io, nn, optim, randn, type Tensor, tensor } from "../mod.ts";

async function tempPath(): Promise<string> {
  return await Deno.makeTempFile({ suffix: ".safetensors" });
}

const bits = (t: Tensor) => [...new Uint32Array(t.toArray().buffer.slice(0))];

Deno.test("io.save: a checkpoint dict comes back whole, and training resumes from it", async () => {
  const path = await tempPath();
  try {
    const model = new nn.Linear(4, 3);
    const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
    const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
    const x = randn([5, 4]);
    const step = (m: nn.Linear, o: optim.Adam, s: optim.StepLR) => {
      o.zeroGrad();
      m.forward(x).pow(2).sum().backward();
      o.step();
      s.step();
    };
    step(model, opt, sched);
    step(model, opt, sched);
    const history = new Map<number, number>([[1, 0.5], [2, NaN]]);
    await io.save(path, {
      model: model.stateDict(),
      optimizer: opt.stateDict(),
      scheduler: sched.stateDict(),
      epoch: 2,
      best: { loss: Infinity, low: -Infinity, note: "warm-up", done: false, none: null },
      history,
      trace: [1, [2, 3]],
    });
    const ckpt = await io.load(path) as Record<string, unknown>;
    assert.equal(ckpt.epoch, 2);
    assert.deepEqual(ckpt.best, {
      loss: Infinity,
      low: -Infinity,
      note: "warm-up",
      done: false,
      none: null,
    });
    assert.deepEqual([...(ckpt.history as Map<number, number>)], [[1, 0.5], [2, NaN]]);
    assert.deepEqual(ckpt.trace, [1, [2, 3]]);
    // The same training continued from the file equals the one that never stopped.
    const model2 = new nn.Linear(4, 3);
    const opt2 = new optim.Adam(model2.parameters(), { lr: 1e-2 });
    const sched2 = new optim.StepLR(opt2, { stepSize: 2, gamma: 0.5 });
    model2.loadStateDict(ckpt.model as Map<string, Tensor>);
    opt2.loadStateDict(ckpt.optimizer as ReturnType<typeof opt.stateDict>);
    sched2.loadStateDict(ckpt.scheduler as ReturnType<typeof sched.stateDict>);
    step(model, opt, sched);
    step(model2, opt2, sched2);
    assert.deepEqual(bits(model2.weight), bits(model.weight));
    assert.equal(opt2.paramGroups[0].options.lr, opt.paramGroups[0].options.lr);
    // PyTorch's reader sees the tensors by their paths.
    const plain = await io.loadSafetensors(path);
    assert.ok(plain.has("model/weight"), [...plain.keys()].join());
    assert.ok([...plain.keys()].some((k) => k.startsWith("optimizer/state/0/tensors/")));
    for (const t of plain.values()) t.dispose();
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("io.save: one tensor saved twice comes back as one", async () => {
  const path = await tempPath();
  try {
    const w = tensor([1, 2, 3]);
    await io.save(path, { a: w, b: [w], c: new Map([["w", w]]) });
    const back = await io.load(path) as { a: Tensor; b: Tensor[]; c: Map<string, Tensor> };
    assert.equal(back.a, back.b[0]);
    assert.equal(back.a, back.c.get("w"));
    assert.deepEqual([...back.a.toArray()], [1, 2, 3]);
    const names = await io.loadSafetensors(path);
    assert.deepEqual([...names.keys()], ["a"]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("io.load: a plain safetensors file gives its tensors by name", async () => {
  const path = await tempPath();
  try {
    await io.saveSafetensors(path, { "fc.weight": tensor([[1, 2]]) });
    const back = await io.load(path);
    assert.ok(back instanceof Map);
    assert.deepEqual([...(back as Map<string, Tensor>).keys()], ["fc.weight"]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("io.save: what it cannot store is refused by its path, before a byte is written", async () => {
  const path = await tempPath();
  await Deno.remove(path);
  const cycle: Record<string, unknown> = { a: 1 };
  cycle.self = cycle;
  const cases: [unknown, RegExp][] = [
    [{ model: new nn.Linear(2, 2) }, /'model' is a Linear; save its state dict/],
    [{ f: () => 1 }, /'f' is a function/],
    [cycle, /'self' contains itself/],
    [{ list: [1, undefined] }, /'list\/1' is undefined/],
    [{ m: new Map([[{}, 1]]) }, /'m' is a Map with a object key/],
    [{ d: new Date(0) }, /'d' is a Date/],
  ];
  for (const [obj, re] of cases) {
    await assert.rejects(io.save(path, obj), re);
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  }
  await assert.rejects(
    (io.save as (...a: unknown[]) => Promise<void>)(path),
    /takes \(path, obj\)/,
  );
});

Deno.test("io.load: a damaged tree is named, and its tensors are freed", async () => {
  const path = await tempPath();
  try {
    await io.saveSafetensors(path, { t: tensor([1]) }, {
      metadata: { "lits.save": "1", "lits.tree": '{"o":{"x":{"t":"missing"}}}' },
    });
    await assert.rejects(io.load(path), /names a tensor 'missing' the file lacks/);
    await io.saveSafetensors(path, { t: tensor([1]) }, {
      metadata: { "lits.save": "9", "lits.tree": "{}" },
    });
    await assert.rejects(io.load(path), /format 9, this library reads 1/);
    await assert.rejects(io.load(`${path}.absent`), /cannot read/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("io.save: colliding paths, numeric Map keys, NaN and -0 come back as saved", async () => {
  const path = await tempPath();
  try {
    const t0 = tensor([0]), t1 = tensor([1]), t2 = tensor([2]);
    await io.save(path, {
      "a/b": t0,
      "a/b#2": t1,
      a: { b: t2 },
      m: new Map<number | string, number>([[NaN, 1], [-0, 2], [Infinity, 3], [1, 4], ["1", 5]]),
      z: -0,
    });
    const back = await io.load(path) as {
      "a/b": Tensor;
      "a/b#2": Tensor;
      a: { b: Tensor };
      m: Map<number | string, number>;
      z: number;
    };
    assert.deepEqual([back["a/b"], back["a/b#2"], back.a.b].map((t) => t.item()), [0, 1, 2]);
    const keys = [...back.m.keys()];
    // (a Map keeps -0 as 0 itself: SameValueZero)
    assert.ok(Number.isNaN(keys[0]) && Object.is(keys[1], 0) && keys[2] === Infinity);
    assert.deepEqual(keys.slice(3), [1, "1"]);
    assert.deepEqual([...back.m.values()], [1, 2, 3, 4, 5]);
    assert.ok(Object.is(back.z, -0));
  } finally {
    await Deno.remove(path);
  }
});
