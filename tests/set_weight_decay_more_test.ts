/**
 * `optim.setWeightDecay`'s `normClasses` and `customKeysWeightDecay`
 * against torchvision 0.14's `set_weight_decay` (references/classification/
 * utils.py, run by scripts/make_set_weight_decay_more_fixtures.py on
 * resnet18 and a small module of nested blocks; tests/fixtures/
 * set_weight_decay_more.json): the same groups, in the same order, with the
 * same parameters and weight decays. A key without a dot is a parameter's
 * own name, a key with dots its full name. Then the bad options, each an
 * Error that says what to write. The models are made on `LITS_TEST_DEVICE`.
 */
import assert from "node:assert/strict";
import { models, nn, optim, type Tensor, zeros } from "../mod.ts";
import { loadFixture, testDevice } from "./helpers.ts";

interface Case {
  model: "resnet18" | "net";
  weightDecay: number;
  options: {
    normWeightDecay?: number;
    normClasses?: string[];
    biasWeightDecay?: number;
    customKeysWeightDecay?: [string, number][];
  };
  groups: { weightDecay: number; names: string[] }[];
}

const fx = loadFixture<{
  torch: string;
  torchvision: string;
  names: Record<string, string[]>;
  cases: Case[];
}>("set_weight_decay_more.json");

/** The Python script's Block and Net, with the same parameter names. */
class Block extends nn.Module {
  conv = new nn.Conv2d(2, 4, 3);
  bn = new nn.BatchNorm2d(4);
  ln = new nn.LayerNorm(4);
  fc = new nn.Linear(4, 4);
  forward(x: Tensor): Tensor {
    return x;
  }
}
class Net extends nn.Module {
  token = new nn.Parameter(zeros([1, 4]));
  stem = new nn.Conv2d(1, 2, 3);
  blocks = new nn.Sequential(new Block(), new Block());
  norm = new nn.GroupNorm(2, 4);
  head = new nn.Linear(4, 3);
  forward(x: Tensor): Tensor {
    return x;
  }
}

// deno-lint-ignore no-explicit-any
const CLASSES: Record<string, new (...a: any[]) => nn.Module> = {
  BatchNorm2d: nn.BatchNorm2d,
  LayerNorm: nn.LayerNorm,
  GroupNorm: nn.GroupNorm,
  Linear: nn.Linear,
  Conv2d: nn.Conv2d,
};

const MODELS = {
  resnet18: models.create("resnet18", { numClasses: 3 }).to(testDevice),
  net: new Net().to(testDevice),
};

/** The groups as torchvision's fixture writes them: weight decay and parameter names. */
function named(model: nn.Module, groups: optim.WeightDecayGroup[]) {
  const names = new Map([...model.namedParameters()].map(([n, p]) => [p as Tensor, n]));
  return groups.map((g) => ({
    weightDecay: g.options.weightDecay,
    names: g.params.map((p) => names.get(p)),
  }));
}

Deno.test(`setWeightDecay fixtures: torchvision ${fx.torchvision}'s set_weight_decay`, () => {
  assert.ok(fx.torchvision.startsWith("0.14"));
  for (const [name, model] of Object.entries(MODELS)) {
    assert.deepEqual([...model.namedParameters()].map(([n]) => n), fx.names[name], name);
  }
});

Deno.test("setWeightDecay: normClasses and customKeysWeightDecay group as torchvision's", () => {
  assert.ok(fx.cases.length >= 12);
  for (const c of fx.cases) {
    const model = MODELS[c.model];
    const o = c.options;
    const groups = optim.setWeightDecay(model, c.weightDecay, {
      ...o,
      normClasses: o.normClasses?.map((n) => CLASSES[n]),
    });
    assert.deepEqual(named(model, groups), c.groups, `${c.model} ${JSON.stringify(o)}`);
    const total = groups.reduce((s, g) => s + g.params.length, 0);
    assert.equal(total, model.parameters().length, "every parameter once");
  }
});

Deno.test("setWeightDecay: frozen parameters are left out of the custom groups too", () => {
  const net = new Net().to(testDevice);
  net.token.requiresGrad = false;
  const groups = optim.setWeightDecay(net, 0.01, { customKeysWeightDecay: [["token", 0]] });
  assert.deepEqual(groups.map((g) => g.options.weightDecay), [0.01]);
  assert.equal(groups[0].params.length, 22);
  // A subclass instance is in its class's group, as isinstance.
  class MyNorm extends nn.LayerNorm {}
  const seq = new nn.Sequential(new nn.Linear(4, 4), new MyNorm(4));
  const g = optim.setWeightDecay(seq, 0.1, { normWeightDecay: 0, normClasses: [nn.LayerNorm] });
  assert.deepEqual(named(seq, g), [
    { weightDecay: 0.1, names: ["0.weight", "0.bias"] },
    { weightDecay: 0, names: ["1.weight", "1.bias"] },
  ]);
});

Deno.test("setWeightDecay: bad normClasses and customKeysWeightDecay say what to write", () => {
  const net = MODELS.net;
  const bad: [unknown, RegExp][] = [
    [
      { normWeightDecay: 0, normClasses: nn.LayerNorm },
      /normClasses must be a list of Module classes, got .*normClasses: \[nn\.BatchNorm2d/,
    ],
    [
      { normWeightDecay: 0, normClasses: ["LayerNorm"] },
      /normClasses\[0\] must be a Module class \(nn\.BatchNorm2d, not an instance or a name\), got string LayerNorm/,
    ],
    [
      { normWeightDecay: 0, normClasses: [new nn.LayerNorm(4)] },
      /normClasses\[0\] must be a Module class.*got an nn\.LayerNorm/,
    ],
    [{ normWeightDecay: 0, normClasses: [Map] }, /normClasses\[0\] must be a Module class/],
    [{ normClasses: [nn.LayerNorm] }, /normClasses applies with normWeightDecay only/],
    [{ customKeysWeightDecay: { bias: 0 } }, /must be a list of \[key, weightDecay\] pairs/],
    [{ customKeysWeightDecay: [["bias"]] }, /customKeysWeightDecay\[0\] must be a \[key, weight/],
    [{ customKeysWeightDecay: [[0, "bias"]] }, /customKeysWeightDecay\[0\] must be/],
    [{ customKeysWeightDecay: [["", 0]] }, /customKeysWeightDecay\[0\] must be/],
    [
      { customKeysWeightDecay: [["bias", -1]] },
      /customKeysWeightDecay "bias" must be a number >= 0, got number -1/,
    ],
    [{ customKeysWeightDecay: [["bias", NaN]] }, /customKeysWeightDecay "bias" must be a number/],
    [{ customKeysWeightDecay: [["bias", 0], ["bias", 1]] }, /has "bias" twice; give each key once/],
    [
      { biasWeightDecay: 0, customKeysWeightDecay: [["bias", 1]] },
      /has "bias" twice \(biasWeightDecay is the "bias" key\)/,
    ],
    [{ customKeysWeightDecay: [["norm", 0]] }, /key "norm" is the name of torchvision's own/],
    [{ customKeysWeightDecay: [["other", 0]] }, /key "other"/],
    [{ custom_keys_weight_decay: [["bias", 0]] }, /customKeysWeightDecay/],
    [{ norm_classes: [nn.LayerNorm] }, /normClasses/],
  ];
  for (const [options, re] of bad) {
    assert.throws(() => optim.setWeightDecay(net, 0.01, options as never), re);
  }
  // null is torchvision's None.
  const none = optim.setWeightDecay(net, 0.01, { normClasses: null, customKeysWeightDecay: null });
  assert.equal(none.length, 1);
});
