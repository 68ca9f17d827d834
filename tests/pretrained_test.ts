/**
 * models.adaptInputConv and models.loadPretrained against PyTorch 1.13 +
 * torchvision 0.14 (tests/fixtures/pretrained.json and
 * pretrained_densenet.safetensors, written by
 * scripts/make_pretrained_fixtures.py, whose adapt_input_conv is timm's rule
 * written from its source: timm is not installed there):
 *
 * - the adapted weights for 1, 2, 4, 5 and 3 channels, a space-to-depth
 *   stem and a 3-D convolution;
 * - a tiny torchvision DenseNet saved with the legacy DenseNet names, loaded
 *   into a 1-channel 3-class model: its stem equals timm's adaptation and its
 *   output (with torch's classifier initialisation copied in) equals torch's;
 *   the same weights in a training checkpoint that torch.save wrote (.pth);
 * - torchvision's state-dict names and shapes of resnet18, densenet121,
 *   mobilenet_v2 and efficientnet_b0: each loads into the zoo model, with the
 *   first convolution and classifier found from the model as timm names them;
 * - the DDP prefix, checkpoint dicts, the strict errors (with the model left
 *   untouched) and `strict: false`'s report, and the argument checks.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { io, models, type nn, type Tensor, tensor, zeros } from "../mod.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  type Stored,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

interface AdaptCase {
  name: string;
  weight: StoredRecord;
  inChannels: number;
  out: StoredRecord;
}
interface NamesEntry {
  keys: [string, number[], number][];
  firstConv: string;
  classifier: string;
}
interface Fixture {
  adapt: AdaptCase[];
  densenet: {
    config: { growthRate: number; blockConfig: number[]; numInitFeatures: number };
    keys: string[];
    legacyKeys: string[];
    conv0: StoredRecord;
    classifier: Record<string, Stored>;
    input: Stored;
    output: StoredRecord;
  };
  names: Record<string, NamesEntry>;
}

const fx = loadFixture<Fixture>("pretrained.json");
const WEIGHTS = new URL("./fixtures/pretrained_densenet.safetensors", import.meta.url).pathname;
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];

/** A tiny DenseNet (growth 4, blocks [2, 2], 8 stem channels) on the test device. */
const tiny = (inChannels = 3, numClasses = 10) =>
  new models.DenseNet(fx.densenet.config, { inChannels, numClasses }).to(testDevice);

/** Each tensor's values, by name: what a model holds now. */
const snapshot = (m: nn.Module) =>
  new Map([...m.stateDict()].map(([k, t]) => [k, [...t.toArray()]]));

const same = (a: Tensor, b: Tensor) => assert.deepEqual([...a.toArray()], [...b.toArray()]);

Deno.test("adaptInputConv: timm's rule, as torch computes it", () => {
  for (const c of fx.adapt) {
    using w = fromStored(c.weight, { device: testDevice });
    using out = models.adaptInputConv(w, c.inChannels);
    assert.equal(out.device, testDevice, c.name);
    assert.equal(out.requiresGrad, false, c.name);
    assertStored(out, c.out, c.name, rtol, atol);
  }
  // A copy, never the weight itself (the caller disposes both).
  using w = fromStored(fx.adapt[0].weight, { device: testDevice });
  using same3 = models.adaptInputConv(w, 3);
  assert.notEqual(same3, w);
});

Deno.test("adaptInputConv: bad arguments say what to write", () => {
  using w = zeros([4, 3, 3, 3]);
  const cases: [() => unknown, RegExp][] = [
    [
      () => models.adaptInputConv(1 as never, w as never),
      /the weight comes first .*adaptInputConv\(conv1Weight, 1\)/,
    ],
    [() => models.adaptInputConv([1, 2] as never, 1), /weight must be a Tensor/],
    [() => models.adaptInputConv(w, 0), /inChannels must be an integer >= 1, got 0/],
    [() => models.adaptInputConv(w, NaN), /inChannels must be an integer >= 1, got NaN/],
    [() => models.adaptInputConv(w, 1.5), /got 1.5/],
    [() => models.adaptInputConv(w, "1" as never), /got 1;/],
    [
      () => models.adaptInputConv(zeros([4, 3]), 1),
      /\[out, in, \.\.\.kernel\] .*got float32 \[4,3\]/,
    ],
    [
      () => models.adaptInputConv(tensor(new Int32Array(12), [2, 3, 2, 1]), 1),
      /float32 .*got int32/,
    ],
    [() => models.adaptInputConv(zeros([4, 4, 3, 3]), 2), /cannot adapt 4 input channels to 2/],
    [() => models.adaptInputConv(zeros([4, 1, 3, 3]), 3), /cannot adapt 1 input channels to 3/],
    [() => models.adaptInputConv(zeros([4, 7, 3, 3]), 1), /neither RGB nor a multiple of 3/],
    [() => (models.adaptInputConv as (...a: unknown[]) => Tensor)(w, 1, {}), /at most 2 arguments/],
  ];
  for (const [call, want] of cases) assert.throws(call, want);
});

Deno.test("loadPretrained: torchvision's legacy DenseNet, 1 channel, 3 classes, as timm loads it", async () => {
  const d = fx.densenet;
  const state = await io.loadSafetensors(WEIGHTS, { device: testDevice });
  try {
    assert.deepEqual([...state.keys()], d.keys);
    using net = tiny(1, 3);
    const report = models.loadPretrained(net, state);
    assert.deepEqual(report.renamed.map((r) => r.from), d.legacyKeys);
    assert.ok(report.renamed.some((r) => r.to.endsWith("denselayer1.norm1.weight")));
    assert.deepEqual(report.adapted, [
      { name: "features.conv0.weight", from: [8, 3, 7, 7], to: [8, 1, 7, 7] },
    ]);
    assert.deepEqual(report.skipped.map((s) => [s.name, s.from, s.to]), [
      ["classifier.weight", [10, 16], [3, 16]],
      ["classifier.bias", [10], [3]],
    ]);
    assert.deepEqual(report.missingKeys, []);
    assert.deepEqual(report.unexpectedKeys, []);
    assert.equal(report.stateKey, null);
    assert.equal(report.strippedPrefix, null);
    const sd = net.stateDict();
    // Everything but the classifier; the legacy files have no num_batches_tracked (set to 0).
    const counts = [...sd.keys()].filter((k) => k.endsWith("num_batches_tracked"));
    assert.deepEqual(
      report.loaded,
      [...sd.keys()].filter((k) => !k.startsWith("classifier.") && !counts.includes(k)),
    );
    for (const k of counts) assert.equal(sd.get(k)!.item(), 0, k);
    assertStored(sd.get("features.conv0.weight")!, d.conv0, "conv0", rtol, atol);
    same(
      sd.get("features.denseblock2.denselayer2.norm2.running_var")!,
      state.get(
        "features.denseblock2.denselayer2.norm.2.running_var",
      )!,
    );
    // torch's classifier initialisation, then the forward of the same weights.
    const head = new Map(
      Object.entries(d.classifier).map(([k, s]) => [k, fromStored(s, { device: testDevice })]),
    );
    net.loadStateDict(head, { strict: false });
    head.forEach((t) => t.dispose());
    using x = fromStored(d.input, { device: testDevice });
    using y = net.eval().forward(x);
    assertStored(y, d.output, "output", testDevice === "cpu" ? 1e-4 : 1e-3, 1e-5);
  } finally {
    state.forEach((t) => t.dispose());
  }
});

Deno.test("loadPretrained: a training checkpoint torch.save wrote (.pth), through io.load", async () => {
  const pth = new URL("./fixtures/pretrained_densenet.pth", import.meta.url).pathname;
  const ckpt = await io.load<{ epoch: number; state_dict: Record<string, Tensor> }>(pth, {
    device: testDevice,
  });
  try {
    assert.equal(ckpt.epoch, 90);
    using net = tiny(1, 3);
    const report = models.loadPretrained(net, ckpt);
    assert.equal(report.stateKey, "state_dict");
    assert.equal(report.renamed.length, fx.densenet.legacyKeys.length);
    assert.deepEqual(report.skipped.map((s) => s.name), ["classifier.weight", "classifier.bias"]);
    assertStored(net.features.conv0.weight, fx.densenet.conv0, "conv0", rtol, atol);
  } finally {
    Object.values(ckpt.state_dict).forEach((t) => t.dispose());
  }
});

Deno.test("loadPretrained: torchvision's names load into each zoo model, stem and head found from the model", () => {
  for (const [name, entry] of Object.entries(fx.names)) {
    const state = new Map(
      entry.keys.map(([k, shape, int]) => [
        k,
        zeros(shape, { dtype: int ? "int32" : "float32", device: testDevice }),
      ]),
    );
    try {
      // ImageNet's own shapes: everything loads, nothing is adapted or skipped.
      using same3 = models.create(name).to(testDevice);
      const plain = models.loadPretrained(same3, state);
      assert.equal(plain.adapted.length, 0, name);
      assert.equal(plain.skipped.length, 0, name);
      // All but the step counts the legacy DenseNet file lacks (set to 0, as torch does).
      const given = (k: string) => state.has(k) || !k.endsWith("num_batches_tracked");
      assert.deepEqual(plain.loaded, [...same3.stateDict().keys()].filter(given), name);
      using net = models.create(name, { inChannels: 1, numClasses: 3 }).to(testDevice);
      const r = models.loadPretrained(net, state);
      const conv = `${entry.firstConv}.weight`;
      assert.deepEqual(r.adapted.map((a) => [a.name, a.to[1]]), [[conv, 1]], name);
      assert.deepEqual(
        r.skipped.map((s) => s.name),
        [`${entry.classifier}.weight`, `${entry.classifier}.bias`],
        name,
      );
      const own = [...net.stateDict().keys()];
      assert.deepEqual(
        r.loaded,
        own.filter((k) => !k.startsWith(`${entry.classifier}.`) && given(k)),
        name,
      );
      assert.equal(r.renamed.length > 0, name === "densenet121", name);
    } finally {
      state.forEach((t) => t.dispose());
    }
  }
});

/** A 3-channel 10-class tiny DenseNet's state dict (copies: the source model is freed). */
function source(): Map<string, Tensor> {
  using src = tiny();
  return new Map([...src.stateDict()].map(([k, t]) => [k, t.clone()]));
}

Deno.test("loadPretrained: the classifier is loaded when it fits, left at init when new", () => {
  const state = source();
  try {
    using ten = tiny(3, 10);
    const all = models.loadPretrained(ten, state);
    assert.deepEqual(all.skipped, []);
    same(ten.stateDict().get("classifier.weight")!, state.get("classifier.weight")!);
    // No head in the weights (a backbone's): left at init too.
    using three = tiny(1, 3);
    const before = three.classifier.weight.toArray();
    const headless = new Map([...state].filter(([k]) => !k.startsWith("classifier.")));
    const r = models.loadPretrained(three, headless);
    assert.deepEqual(r.skipped.map((s) => [s.name, s.from, s.reason]), [
      ["classifier.weight", null, "the classifier: not in the weights"],
      ["classifier.bias", null, "the classifier: not in the weights"],
    ]);
    assert.deepEqual([...three.classifier.weight.toArray()], [...before]);
    // Another input width of the head is no class count: an error.
    using wide = zeros([10, 20], { device: testDevice });
    using other = tiny(1, 3);
    assert.throws(
      () => models.loadPretrained(other, new Map([...state, ["classifier.weight", wide]])),
      /'classifier\.weight' \[10, 20\] in the weights, \[3, 16\] in the model/,
    );
    // classifier: null turns the head rule off: another class count is then a mismatch.
    using off = tiny(3, 3);
    assert.throws(
      () => models.loadPretrained(off, state, { classifier: null }),
      /'classifier\.weight' \[10, 16\] in the weights, \[3, 16\] in the model/,
    );
  } finally {
    state.forEach((t) => t.dispose());
  }
});

Deno.test("loadPretrained: a classifier of the model's class count missing a part is a missing key", () => {
  const state = source();
  try {
    // torchvision's resnet18 weights without fc.bias into resnet18(numClasses: 1000): torch says
    // Missing key(s) "fc.bias"; the head is no new one, since its class count is the model's.
    const noBias = new Map(state);
    noBias.delete("classifier.bias");
    using ten = tiny(3, 10);
    const before = snapshot(ten);
    assert.throws(
      () => models.loadPretrained(ten, noBias),
      /the weights do not fit this DenseNet: missing keys \[classifier\.bias\]/,
    );
    assert.deepEqual(snapshot(ten), before);
    const r = models.loadPretrained(ten, noBias, { strict: false });
    assert.deepEqual(r.missingKeys, ["classifier.bias"]);
    assert.deepEqual(r.skipped, []);
    same(ten.stateDict().get("classifier.weight")!, state.get("classifier.weight")!);
    // Another class count, a part missing or not: the head is new, left whole at init.
    using three = tiny(1, 3);
    const r3 = models.loadPretrained(three, noBias);
    assert.deepEqual(r3.skipped.map((s) => [s.name, s.from]), [
      ["classifier.weight", [10, 16]],
      ["classifier.bias", null],
    ]);
  } finally {
    state.forEach((t) => t.dispose());
  }
});

Deno.test("loadPretrained: DDP's module. prefix and checkpoint dicts", async () => {
  const state = source();
  try {
    const ddp = new Map([...state].map(([k, t]) => [`module.${k}`, t]));
    using a = tiny(1, 3);
    const r = models.loadPretrained(a, ddp);
    assert.equal(r.strippedPrefix, "module.");
    assert.equal(r.loaded.length, state.size - 2 - 0);
    same(
      a.stateDict().get("features.norm5.running_mean")!,
      state.get("features.norm5.running_mean")!,
    );
    // A checkpoint dict: the state dict under the first of state_dict, model_state_dict, model, net.
    const asRecord = Object.fromEntries(state);
    for (const key of ["state_dict", "model_state_dict", "model", "net"]) {
      using m = tiny(1, 3);
      const ckpt = { epoch: 3, [key]: key === "model" ? asRecord : state, optimizer: { lr: 1 } };
      assert.equal(models.loadPretrained(m, ckpt).stateKey, key);
    }
    using nested = tiny(1, 3);
    assert.equal(
      models.loadPretrained(nested, new Map<string, unknown>([["model", { state_dict: ddp }]]))
        .stateKey,
      "model.state_dict",
    );
    // What io.save wrote, as io.load gives it back.
    const path = await Deno.makeTempFile({ suffix: ".safetensors" });
    try {
      using m = tiny(3, 10);
      await io.save(path, { model: m.stateDict(), epoch: 4 });
      const back = await io.load<{ model: Map<string, Tensor> }>(path, { device: testDevice });
      using fresh = tiny(1, 3);
      const r2 = models.loadPretrained(fresh, back);
      assert.equal(r2.stateKey, "model");
      same(fresh.features.norm0.weight!, m.features.norm0.weight!);
      back.model.forEach((t) => t.dispose());
    } finally {
      await Deno.remove(path);
    }
    using lost = tiny(1, 3);
    assert.throws(
      () => models.loadPretrained(lost, { epoch: 3, weights: state }),
      /cannot find the state dict in the second argument: it holds epoch, weights and none of state_dict, model_state_dict, model, net; pass the state dict itself/,
    );
  } finally {
    state.forEach((t) => t.dispose());
  }
});

Deno.test("loadPretrained: strict errors name every key, and leave the model untouched", () => {
  const state = source();
  try {
    using net = tiny(1, 3);
    const before = snapshot(net);
    const without = new Map(state);
    without.delete("features.denseblock1.denselayer1.conv1.weight");
    without.set("features.extra.weight", state.get("features.norm0.weight")!);
    using small = zeros([5], { device: testDevice });
    without.set("features.norm0.bias", small);
    assert.throws(
      () => models.loadPretrained(net, without),
      (e: Error) => {
        assert.match(e.message, /^models\.loadPretrained: the weights do not fit this DenseNet/);
        assert.match(
          e.message,
          /missing keys \[features\.denseblock1\.denselayer1\.conv1\.weight\]/,
        );
        assert.match(e.message, /unexpected keys \[features\.extra\.weight\]/);
        assert.match(e.message, /'features\.norm0\.bias' \[5\] in the weights, \[8\] in the model/);
        assert.match(e.message, /\{ strict: false \} loads what fits/);
        return true;
      },
    );
    assert.deepEqual(snapshot(net), before);
    // A stem the rule cannot adapt (4 channels to 1 is no multiple of 3).
    using four = zeros([8, 4, 7, 7], { device: testDevice });
    assert.throws(
      () => models.loadPretrained(net, new Map([...state, ["features.conv0.weight", four]])),
      /'features\.conv0\.weight' \[8, 4, 7, 7\] .*neither RGB nor a multiple of 3/,
    );
    assert.throws(
      () => models.loadPretrained(net, state, { adaptInputChannels: false }),
      /'features\.conv0\.weight' \[8, 3, 7, 7\] in the weights, \[8, 1, 7, 7\] in the model \(the first convolution's input channels: adaptInputChannels: true adapts them\)/,
    );
    assert.deepEqual(snapshot(net), before);
    // strict: false loads what fits and says what it left.
    const r = models.loadPretrained(net, without, { strict: false });
    assert.deepEqual(r.missingKeys, ["features.denseblock1.denselayer1.conv1.weight"]);
    assert.deepEqual(r.unexpectedKeys, ["features.extra.weight"]);
    assert.deepEqual(r.skipped.map((s) => s.name), [
      "classifier.weight",
      "classifier.bias",
      "features.norm0.bias",
    ]);
    assert.ok(!r.loaded.includes("features.norm0.bias"));
    assert.ok(r.loaded.includes("features.norm0.weight"));
    const after = net.stateDict();
    assert.deepEqual(
      [...after.get("features.denseblock1.denselayer1.conv1.weight")!.toArray()],
      before.get("features.denseblock1.denselayer1.conv1.weight"),
    );
    same(after.get("features.norm0.weight")!, state.get("features.norm0.weight")!);
  } finally {
    state.forEach((t) => t.dispose());
  }
});

Deno.test("loadPretrained: firstConv and classifier options; bad arguments say what to write", () => {
  const state = source();
  try {
    using net = tiny(1, 3);
    // Named explicitly, as timm's pretrained_cfg names them.
    const r = models.loadPretrained(net, state, {
      firstConv: "features.conv0",
      classifier: "classifier",
    });
    assert.equal(r.adapted.length, 1);
    assert.equal(r.skipped.length, 2);
    // Another layer named as the stem: the real stem's channels are then a mismatch.
    assert.throws(
      () => models.loadPretrained(net, state, { firstConv: "features.transition1.conv" }),
      /'features\.conv0\.weight' \[8, 3, 7, 7\] in the weights, \[8, 1, 7, 7\] in the model/,
    );
    const cases: [() => unknown, RegExp][] = [
      [
        () => models.loadPretrained(net, state, { in_chans: 1 } as never),
        /unknown option 'in_chans'/,
      ],
      [
        () => models.loadPretrained(net, state, { strict: "yes" } as never),
        /strict must be true or false/,
      ],
      [
        () => models.loadPretrained(net, state, { adaptInputChannels: 1 } as never),
        /adaptInputChannels must be true or false/,
      ],
      [
        () => models.loadPretrained(net, state, { firstConv: "stem" }),
        /firstConv 'stem': .*no submodule 'stem'/,
      ],
      [
        () => models.loadPretrained(net, state, { classifier: 3 } as never),
        /classifier must be a module path/,
      ],
      [() => models.loadPretrained(state as never, state), /the first argument is the model/],
      [
        () => models.loadPretrained(net, net as never),
        /got a DenseNet \(a module\); pass its stateDict\(\)/,
      ],
      [() => models.loadPretrained(net, [state] as never), /got an array/],
      [() => models.loadPretrained(net, null as never), /got null/],
      [
        () => (models.loadPretrained as (...a: unknown[]) => unknown)(net, state, {}, true),
        /at most 3 arguments/,
      ],
    ];
    for (const [call, want] of cases) assert.throws(call, want);
    // Two spellings of one key (a legacy and a new name) are refused, not one picked.
    const both = new Map([...state, [
      "features.denseblock1.denselayer1.norm.1.weight",
      state.get("features.denseblock1.denselayer1.norm1.weight")!,
    ]]);
    assert.throws(
      () => models.loadPretrained(net, both),
      /hold 'features\.denseblock1\.denselayer1\.norm1\.weight' twice/,
    );
  } finally {
    state.forEach((t) => t.dispose());
  }
});
