/**
 * nn.ModuleList and nn.ModuleDict: their API, PyTorch's state-dict names
 * (checked against a state dict torch wrote for the same structure, in
 * tests/fixtures/habits_layers.json), and the Error for modules hidden in
 * plain arrays or objects.
 */
import assert from "node:assert/strict";
import { nn, optim, randn, scope, type Tensor, zeros } from "../mod.ts";
import { assertClose, assertEqualValues, fromStored, loadFixture, type Stored } from "./helpers.ts";

type StateList = [string, Stored][];

interface ContainersFixture {
  state: StateList;
  input: Stored;
  trainOut: Stored[];
  stateAfterTrain: StateList;
  evalOut: Stored[];
}

const fx = loadFixture<{ containers: ContainersFixture }>("habits_layers.json").containers;
const TOL = { rtol: 1e-4, atol: 1e-5 };

/** The PyTorch model of make_habits_layer_fixtures.py, written as a port would be. */
class Net extends nn.Module {
  stem = new nn.Linear(4, 6);
  blocks = new nn.ModuleList([new nn.Linear(6, 6), new nn.BatchNorm1d(6), new nn.Linear(6, 6)]);
  stages = new nn.ModuleList([
    new nn.ModuleList([new nn.Linear(6, 6)]),
    new nn.Sequential(new nn.Linear(6, 6), new nn.GELU()),
  ]);
  heads = new nn.ModuleDict({ liver: new nn.Linear(6, 2), lesion: new nn.Linear(6, 3) });

  both(x: Tensor): [Tensor, Tensor] {
    x = this.stem.forward(x).relu();
    for (const b of this.blocks) x = b.forward(x);
    x = (this.stages[0] as nn.ModuleList)[0].forward(x).tanh();
    x = this.stages.at(1).forward(x);
    return [this.heads.get("liver").forward(x), this.heads.get("lesion").forward(x)];
  }

  forward(x: Tensor): Tensor {
    return this.both(x)[0];
  }
}

function assertState(m: nn.Module, expected: StateList, what: string): void {
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], expected.map(([k]) => k), `${what}: keys in torch's order`);
  for (const [k, s] of expected) {
    if (s.dtype === "int32") assertEqualValues(sd.get(k)!, s.data, `${what}: ${k}`);
    else assertClose(sd.get(k)!, s.data, { ...TOL, what: `${what}: ${k}` });
  }
}

Deno.test("containers: a ModuleList/ModuleDict model round-trips torch's state dict", () => {
  scope(() => {
    const net = new Net();
    // Our names and order before loading equal torch's.
    assert.deepEqual([...net.stateDict().keys()], fx.state.map(([k]) => k));
    assert.ok(fx.state.some(([k]) => k === "stages.0.0.weight"));
    assert.ok(fx.state.some(([k]) => k === "heads.lesion.bias"));
    net.loadStateDict(new Map(fx.state.map(([k, s]) => [k, fromStored(s)])));
    assertState(net, fx.state, "loaded");
    const x = fromStored(fx.input);
    net.train();
    net.both(x).forEach((y, i) =>
      assertClose(y, fx.trainOut[i].data, { ...TOL, what: `train ${i}` })
    );
    assertState(net, fx.stateAfterTrain, "after a training forward");
    net.eval();
    assert.ok([...net.modules()].every((m) => !m.training), "eval reaches list and dict entries");
    net.both(x).forEach((y, i) =>
      assertClose(y, fx.evalOut[i].data, { ...TOL, what: `eval ${i}` })
    );
  });
});

Deno.test("containers: parameters in lists and dicts train (an optimizer step moves them)", () => {
  scope(() => {
    const net = new Net();
    assert.equal(net.parameters().length, 2 + 6 + 4 + 4);
    const before = net.heads.get("lesion").parameters()[0].toArray().slice();
    const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
    net.both(fromStored(fx.input))[1].sum().backward();
    opt.step();
    const after = net.heads.get("lesion").parameters()[0].toArray();
    assert.ok(after.some((v, i) => v !== before[i]), "the head's weight did not move");
  });
});

Deno.test("containers: ModuleList append, extend, insert, pop, at, index, iteration", () => {
  scope(() => {
    const a = new nn.Linear(1, 1), b = new nn.ReLU(), c = new nn.Linear(1, 2), d = new nn.Tanh();
    const list = new nn.ModuleList([a]);
    list.append(b).extend([c]);
    assert.equal(list.length, 3);
    assert.equal(list[0], a);
    assert.equal(list.at(-1), c);
    list.insert(1, d); // [a, d, b, c]
    assert.deepEqual([...list], [a, d, b, c]);
    assert.deepEqual([...list.stateDict().keys()], ["0.weight", "0.bias", "3.weight", "3.bias"]);
    assert.deepEqual([...list.namedChildren()].map(([k]) => k), ["0", "1", "2", "3"]);
    list.insert(-1, new nn.Identity()).insert(99, new nn.Identity());
    assert.equal(list.length, 6);
    assert.equal(list[3], list.at(3));
    assert.ok(list.at(3) instanceof nn.Identity && list.at(5) instanceof nn.Identity);
    const [i1, i2] = [list.at(3), list.at(5)];
    assert.equal(list.pop(), i2);
    assert.equal(list.pop(3), i1);
    assert.deepEqual([...list], [a, d, b, c]);
    assert.deepEqual([...list.namedChildren()].map(([k]) => k), ["0", "1", "2", "3"]);
    assert.deepEqual([...list.stateDict().keys()], ["0.weight", "0.bias", "3.weight", "3.bias"]);
    assert.throws(() => new nn.ModuleList().pop(), /pop: index -1 is out of range for length 0/);
    list.insert(3, i1).append(i2);
    list.set(0, new nn.Sigmoid());
    assert.ok(list[0] instanceof nn.Sigmoid);
    assert.throws(() => list.at(6), /index 6 is out of range for length 6/);
    assert.throws(
      () => list.append(3 as unknown as nn.Module),
      /entry 6 is number, not an nn.Module/,
    );
    assert.throws(() => list.extend([new nn.ReLU(), {} as nn.Module]), /entry 7 is Object/);
    assert.equal(list.length, 6, "a failed extend adds nothing");
    assert.throws(() => list.forward(zeros([1])), /ModuleList has no forward.*for \(const m of/);
    assert.throws(() => new nn.ModuleList(new nn.ReLU() as unknown as nn.Module[]), /one array/);
    assert.equal(new nn.ModuleList().length, 0);
    const loose = new nn.ModuleList([new nn.Linear(1, 1)]);
    loose[1] = new nn.Linear(1, 1); // Python: IndexError
    assert.throws(() => loose.parameters(), /index 1 is out of range \(length 1\).*append/);
    loose[1] = 5 as unknown as nn.Module;
    assert.throws(() => loose.stateDict(), /index 1 is out of range/);
    delete loose[1];
    loose[0] = "relu" as unknown as nn.Module;
    assert.throws(() => loose.train(), /entry 0 is string, not an nn.Module/);
  });
});

Deno.test("containers: ModuleDict get, set, has, delete, keys, values, entries, iteration", () => {
  scope(() => {
    const liver = new nn.Linear(2, 2), lesion = new nn.Linear(2, 3);
    const heads = new nn.ModuleDict([["liver", liver]]);
    heads.set("lesion", lesion);
    assert.equal(heads.size, 2);
    assert.ok(heads.has("liver") && !heads.has("kidney"));
    assert.equal(heads.get("lesion"), lesion);
    assert.deepEqual([...heads.keys()], ["liver", "lesion"]);
    assert.deepEqual([...heads.values()], [liver, lesion]);
    assert.deepEqual([...heads.entries()], [["liver", liver], ["lesion", lesion]]);
    assert.deepEqual([...heads].map(([k]) => k), ["liver", "lesion"]);
    assert.deepEqual([...heads.stateDict().keys()], [
      "liver.weight",
      "liver.bias",
      "lesion.weight",
      "lesion.bias",
    ]);
    heads.update({ liver: new nn.Identity() });
    assert.deepEqual([...heads.stateDict().keys()], ["lesion.weight", "lesion.bias"]);
    assert.ok(heads.delete("lesion"));
    assert.equal([...heads.keys()].length, 1);
    assert.throws(() => heads.get("kidney"), /no module 'kidney'; keys: liver/);
    assert.throws(() => heads.set("a.b", new nn.ReLU()), /without '\.'/);
    assert.throws(() => new nn.ModuleDict({ x: 1 as unknown as nn.Module }), /entry "x" is number/);
    assert.throws(() => heads.forward(zeros([1])), /ModuleDict has no forward/);
  });
});

class HiddenList extends nn.Module {
  layers = [new nn.Linear(2, 2), new nn.Linear(2, 2)];
  sizes = [3, 4, 6, 3]; // plain data stays allowed
  forward(x: Tensor): Tensor {
    return x;
  }
}

class HiddenDict extends nn.Module {
  fc = new nn.Linear(2, 2);
  heads: Record<string, nn.Module> = { liver: new nn.Linear(2, 1) };
  forward(x: Tensor): Tensor {
    return x;
  }
}

Deno.test("containers: modules in a plain array or object throw, naming the field and the fix", () => {
  scope(() => {
    const list = new HiddenList();
    const calls: [string, () => unknown][] = [
      ["parameters", () => list.parameters()],
      ["namedParameters", () => [...list.namedParameters()]],
      ["stateDict", () => list.stateDict()],
      ["buffers", () => list.buffers()],
      ["modules", () => [...list.modules()]],
      ["train", () => list.train()],
      ["eval", () => list.eval()],
      ["to", () => list.to("cpu")],
      ["zeroGrad", () => list.zeroGrad()],
      ["numParameters", () => list.numParameters()],
    ];
    for (const [name, call] of calls) {
      assert.throws(
        call,
        /HiddenList\.layers is a plain array holding an nn\.Linear.*new nn\.ModuleList/,
        name,
      );
    }
    const dict = new HiddenDict();
    assert.throws(
      () => dict.parameters(),
      /HiddenDict\.heads is a plain object.*new nn\.ModuleDict/,
    );
    // Inside a child, nested arrays, Maps and Parameters are found too.
    const outer = new nn.Sequential(new HiddenList());
    assert.throws(() => outer.stateDict(), /HiddenList\.layers/);
    const nested = new HiddenList();
    nested.layers = [];
    (nested as unknown as { deep: unknown }).deep = [[1, [new nn.ReLU()]]];
    assert.throws(
      () => nested.parameters(),
      /HiddenList\.deep is a plain array holding an nn\.ReLU/,
    );
    (nested as unknown as { deep: unknown }).deep = new Map([["a", new nn.ReLU()]]);
    assert.throws(() => nested.parameters(), /plain Map.*ModuleDict/);
    (nested as unknown as { deep: unknown }).deep = [new nn.Parameter(zeros([2]))];
    assert.throws(() => nested.parameters(), /holding a Parameter.*field of its own/);
    (nested as unknown as { deep: unknown }).deep = { lr: 0.1, sizes: [1, 2] };
    assert.equal(nested.parameters().length, 0, "plain data is fine");
  });
});

Deno.test("containers: parameter traversal stays cheap (ResNet-style depth, 1000 calls)", () => {
  scope(() => {
    const net = new nn.ModuleList(
      Array.from(
        { length: 50 },
        () => new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2)),
      ),
    );
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) net.parameters();
    const perCall = (performance.now() - t0) / 1000;
    assert.equal(net.parameters().length, 200);
    // ~150 modules: well under a millisecond per call on these machines.
    assert.ok(perCall < 5, `parameters() took ${perCall.toFixed(3)} ms`);
  });
});

Deno.test("containers: a Sequential of named children (OrderedDict), subclass fields, addModule", () => {
  const named = new nn.Sequential({
    conv0: new nn.Conv2d(1, 4, 3),
    norm0: new nn.BatchNorm2d(4),
    relu0: new nn.ReLU(),
  });
  assert.deepEqual([...named.namedChildren()].map(([k]) => k), ["conv0", "norm0", "relu0"]);
  assert.equal(named.length, 3);
  assert.equal(named[0], (named as unknown as Record<string, nn.Module>).conv0);
  assert.equal(named[-1], (named as unknown as Record<string, nn.Module>).relu0);
  assert.ok([...named.stateDict().keys()].includes("norm0.running_var"));
  const relu = new nn.ReLU();
  named[2] = relu; // replaces relu0 under its name, as torch's
  assert.equal((named as unknown as Record<string, nn.Module>).relu0, relu);
  assert.deepEqual(named.forward(randn([2, 1, 5, 5])).shape, [2, 4, 3, 3]);
  // A Map keeps its order; names are checked.
  const fromMap = new nn.Sequential(new Map([["b", new nn.ReLU()], ["a", new nn.Tanh()]]));
  assert.deepEqual([...fromMap.namedChildren()].map(([k]) => k), ["b", "a"]);
  assert.throws(() => new nn.Sequential({ "a.b": new nn.ReLU() }), /without '\.'/);
  assert.throws(() => new nn.Sequential({ "3": new nn.ReLU() }), /not a number/);
  assert.throws(() => new nn.Sequential({ a: 5 as never }), /entry "a" is number/);
  named.append(new nn.ReLU()); // named by its position, as torch's: "3"
  named.addModule("extra", new nn.Identity());
  assert.deepEqual([...named.namedChildren()].map(([k]) => k), [
    "conv0",
    "norm0",
    "relu0",
    "3",
    "extra",
  ]);
  assert.throws(() => new nn.Sequential({ forward: new nn.ReLU() }), /'forward' is taken/);
  assert.throws(() => new nn.Sequential({ append: new nn.ReLU() }), /'append' is taken/);
  // PyTorch's _modules order whatever the names: a named child, then an append.
  const mixed = new nn.Sequential(new nn.Linear(4, 4));
  (mixed as unknown as Record<string, nn.Module>).head = new nn.Linear(4, 2);
  mixed.append(new nn.ReLU());
  assert.deepEqual([...mixed.namedChildren()].map(([k]) => k), ["0", "head", "2"]);
  assert.equal(mixed.length, 3);
  assert.equal(mixed[1], (mixed as unknown as Record<string, nn.Module>).head);
  assert.equal(mixed[-1], mixed[2]);
  assert.ok(mixed.forward(randn([1, 4])).min().item() >= 0, "the ReLU runs last");
  // torchvision's _Transition: a Sequential subclass that sets fields after super().
  class Transition extends nn.Sequential {
    norm = new nn.BatchNorm2d(4);
    relu = new nn.ReLU();
    pool = new nn.AvgPool2d(2);
  }
  const t = new Transition();
  assert.deepEqual([...t.namedChildren()].map(([k]) => k), ["norm", "relu", "pool"]);
  assert.equal(t[0], t.norm); // by position, once it has looked
  assert.equal(t[-1], t.pool);
  assert.deepEqual(t.forward(randn([1, 4, 4, 4])).shape, [1, 4, 2, 2]);
  // addModule on any module, for names made in a loop (torchvision's denselayer{i}).
  class Block extends nn.Module {
    forward(x: Tensor): Tensor {
      return x;
    }
  }
  const block = new Block();
  for (let i = 1; i <= 2; i++) block.addModule(`denselayer${i}`, new nn.Linear(2, 2));
  assert.deepEqual([...block.stateDict().keys()].slice(0, 2), [
    "denselayer1.weight",
    "denselayer1.bias",
  ]);
  assert.throws(() => block.addModule("a.b", new nn.ReLU()), /bad name/);
  assert.throws(() => block.addModule("x", 5 as never), /must be an nn.Module/);
});

Deno.test("a Sequential iterates its children in order; ModuleList takes one (torch's list(seq), ModuleList(seq))", () => {
  const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
  assert.deepEqual([...seq].map((m) => m.constructor.name), ["Linear", "ReLU", "Linear"]);
  // The fine-tuning idiom nn.Sequential(*list(model.children())[:-1]).
  const head = new nn.Sequential(...[...seq].slice(0, -1));
  assert.deepEqual([...head.stateDict().keys()], ["0.weight", "0.bias"]);
  const named = new nn.Sequential({ a: new nn.ReLU(), b: new nn.Tanh() });
  named.addModule("c", new nn.Sigmoid());
  assert.deepEqual([...named].map((m) => m.constructor.name), ["ReLU", "Tanh", "Sigmoid"]);
  const list = new nn.ModuleList(seq);
  assert.equal(list.length, 3);
  assert.equal(list[2], seq[2]);
  assert.throws(() => new nn.ModuleList(new nn.ReLU() as never), /takes one array of modules/);
});
