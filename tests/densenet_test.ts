/**
 * DenseNet against torchvision 0.14 (tests/fixtures/densenet.json, from
 * /usr/bin/python3 scripts/make_densenet_fixtures.py): densenet121's
 * state-dict names, order, shapes, dtypes and parameter count (the others
 * by a SHA-256 of the same lines); a small DenseNet (growth 4, blocks
 * [2, 3, 2], 8 stem channels, bnSize 2) loaded from torchvision's state dict,
 * its eval logits and one training step's loss and gradients. Plus the
 * options and their errors, torchvision's initialisation, the input checks,
 * dropout, the registry, `summary`, Grad-CAM, training without memory
 * growth, and the ONNX export run in ONNX Runtime against our forward.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import {
  cat,
  evaluation,
  manualSeed,
  models,
  nn,
  noGrad,
  onnx,
  rand,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { decodeModel } from "../src/onnx/proto.ts";
import {
  assertClose,
  assertShape,
  fromStored,
  loadFixture,
  type Stored,
  testDevice,
} from "./helpers.ts";
import { assertStepsHoldMemory } from "./model_fixture.ts";

// ---------------------------------------------------------------- fixtures

type StateList = [string, Stored][];

interface FullStructure {
  model: string;
  options: models.DenseNetOptions;
  numParams: number;
  state: [string, number[], string][];
}

interface HashedStructure {
  model: string;
  options: models.DenseNetOptions;
  numParams: number;
  numKeys: number;
  sha256: string;
  first: string;
  last: string;
}

interface TinyCase {
  options: {
    inChannels: number;
    numClasses: number;
    growthRate: number;
    blockConfig: number[];
    numInitFeatures: number;
    bnSize: number;
  };
  numParams: number;
  state: StateList;
  input: Stored;
  target: number[];
  evalLogits: Stored;
  trainLogits: Stored;
  loss: number;
  inputGrad: Stored;
  grads: Record<string, Stored>;
  buffersAfter: StateList;
  camTarget: number;
  cams: Record<string, Stored>;
}

const FIXTURE = loadFixture<{
  structure: (FullStructure | HashedStructure)[];
  tiny: TinyCase;
}>("densenet.json");
const TINY = FIXTURE.tiny;
const TOL = { rtol: 1e-4, atol: 1e-5 };

/** Frees a model's parameters and buffers. */
function free(model: nn.Module): void {
  for (const t of model.stateDict().values()) t.dispose();
}

/** torchvision's dtype names for ours (num_batches_tracked is int64 there). */
const torchDtype = (d: string) => d === "int32" ? "int64" : d;

/** The small DenseNet of the fixture, with torchvision's weights and statistics. */
function tinyNet(options: models.DenseNetOptions = {}): models.DenseNet {
  const { growthRate, blockConfig, numInitFeatures, ...rest } = TINY.options;
  const net = new models.DenseNet(
    { name: "tiny", growthRate, blockConfig, numInitFeatures },
    { ...rest, ...options },
  );
  const state = new Map(TINY.state.map(([k, s]) => {
    const isInt = k.endsWith("num_batches_tracked");
    return [k, fromStored(isInt ? { ...s, dtype: "int32" } : s)];
  }));
  net.loadStateDict(state, { strict: true });
  for (const t of state.values()) t.dispose();
  return net;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------- structure vs torchvision

const BUILDERS: Record<string, (o: models.DenseNetOptions) => models.DenseNet> = {
  densenet121: models.densenet121,
  densenet161: models.densenet161,
  densenet169: models.densenet169,
  densenet201: models.densenet201,
};

for (const c of FIXTURE.structure) {
  Deno.test(`densenet: ${c.model} ${JSON.stringify(c.options)} has torchvision's state dict and ${c.numParams} parameters`, async () => {
    const model = BUILDERS[c.model](c.options);
    try {
      const ours = [...model.stateDict()].map(([k, t]) => [k, [...t.shape], torchDtype(t.dtype)]);
      if ("state" in c) {
        assert.deepEqual(ours.map((e) => e[0]), c.state.map((e) => e[0]), "names and order");
        assert.deepEqual(ours, c.state, "shapes and dtypes");
      } else {
        assert.equal(ours.length, c.numKeys, "number of keys");
        assert.equal(ours[0][0], c.first);
        assert.equal(ours.at(-1)![0], c.last);
        const text = ours.map(([k, s, d]) => `${k} [${(s as number[]).join(", ")}] ${d}\n`);
        assert.equal(await sha256(text.join("")), c.sha256, "names, order, shapes and dtypes");
      }
      assert.equal(model.numParameters(), c.numParams);
    } finally {
      free(model);
    }
  });
}

Deno.test("densenet: the module tree is torchvision's (features' children, blocks, transitions)", () => {
  const net = models.densenet121({ inChannels: 1, numClasses: 3 });
  try {
    assert.deepEqual([...net.namedChildren()].map(([k]) => k), ["features", "classifier"]);
    assert.deepEqual([...net.features.namedChildren()].map(([k]) => k), [
      "conv0",
      "norm0",
      "relu0",
      "pool0",
      "denseblock1",
      "transition1",
      "denseblock2",
      "transition2",
      "denseblock3",
      "transition3",
      "denseblock4",
      "norm5",
    ]);
    const block = net.features.denseblock3;
    assert.ok(block instanceof models.DenseBlock && block instanceof nn.ModuleDict);
    assert.equal(block.size, 24);
    const layer = block.get("denselayer24") as models.DenseLayer;
    assert.equal(
      (block as unknown as Record<string, nn.Module>).denselayer24,
      layer,
      "block.denselayer24 as in PyTorch",
    );
    assert.deepEqual(layer.conv1.weight.shape, [128, 256 + 23 * 32, 1, 1]);
    assert.deepEqual(layer.conv2.weight.shape, [32, 128, 3, 3]);
    const t = net.features.transition2;
    assert.ok(t instanceof models.Transition && t instanceof nn.Sequential);
    assert.deepEqual([...t.namedChildren()].map(([k]) => k), ["norm", "relu", "conv", "pool"]);
    assert.equal(t[3], t.pool);
    assert.deepEqual(t.conv.weight.shape, [256, 512, 1, 1]);
    assert.equal(net.classifier.inFeatures, 1024);
    assert.equal(net.config.name, "DenseNet-121");
    assert.deepEqual(net.options, {
      inChannels: 1,
      numClasses: 3,
      bnSize: 4,
      dropRate: 0,
      memoryEfficient: false,
    });
    // Replacing a dense layer through PyTorch's attribute form reaches the dict.
    const fresh = new models.DenseLayer(256 + 23 * 32, 32, 4, 0);
    (block as unknown as Record<string, nn.Module>).denselayer24 = fresh;
    assert.equal(block.get("denselayer24"), fresh);
    free(layer);
  } finally {
    free(net);
  }
});

// ------------------------------------------------- numerics vs torchvision

Deno.test("densenet: torchvision's small DenseNet: eval logits, a training step's loss, gradients, running statistics", () => {
  scope(() => {
    const net = tinyNet().to(testDevice);
    assert.equal(net.numParameters(), TINY.numParams);
    net.eval();
    const x = fromStored(TINY.input, { device: testDevice });
    const logits = noGrad(() => net.forward(x));
    assertClose(logits, TINY.evalLogits.data, { ...TOL, what: "eval logits" });

    net.train();
    const xg = fromStored(TINY.input, { requiresGrad: true, device: testDevice });
    const y = tensor(Int32Array.from(TINY.target), [TINY.target.length], {
      dtype: "int32",
      device: testDevice,
    });
    const train = net.forward(xg);
    assertClose(train, TINY.trainLogits.data, { ...TOL, what: "training logits" });
    const loss = new nn.CrossEntropyLoss().forward(train, y);
    assertClose([loss.item()], [TINY.loss], { ...TOL, what: "loss" });
    loss.backward();
    assertClose(xg.grad!, TINY.inputGrad.data, { ...TOL, what: "input gradient" });
    const params = new Map(net.namedParameters());
    assert.deepEqual([...params.keys()], Object.keys(TINY.grads));
    for (const [k, g] of Object.entries(TINY.grads)) {
      assertClose(params.get(k)!.grad!, g.data, { ...TOL, what: `gradient of ${k}` });
    }
    const buffers = new Map(net.namedBuffers());
    for (const [k, s] of TINY.buffersAfter) {
      assertClose(buffers.get(k)!, s.data, { ...TOL, what: `${k} after the step` });
    }
    free(net);
  });
});

Deno.test("densenet: a dense layer takes one tensor or the list of feature maps (torchvision's forward)", () => {
  scope(() => {
    manualSeed(3);
    const layer = new models.DenseLayer(12, 4, 2, 0).eval();
    const a = randn([2, 8, 5, 5]), b = randn([2, 4, 5, 5]);
    const fromList = noGrad(() => layer.forward([a, b])).toArray();
    const fromCat = noGrad(() => layer(cat([a, b], 1))).toArray();
    assert.deepEqual(fromList, fromCat);
    assertShape(layer.forward([a, b]), [2, 4, 5, 5]);
    assert.throws(() => layer.forward([]), /DenseLayer: forward takes a tensor/);
    assert.throws(() => layer.forward([a, 3 as unknown as Tensor]), /non-empty list of them/);
    free(layer);
  });
});

// ------------------------------------------------------- options and checks

Deno.test("densenet: options and configuration are checked with torchvision's names in camelCase", () => {
  assert.throws(
    () => models.densenet121({ drop_rate: 0.2 } as never),
    /unknown option 'drop_rate'.*dropRate/,
  );
  assert.throws(
    () => models.densenet121({ dropRate: 1.5 }),
    /DenseNet-121\): dropRate must be a probability in \[0, 1\], got 1\.5/,
  );
  assert.throws(() => models.densenet121({ dropRate: NaN }), /dropRate must be a probability/);
  assert.throws(
    () => models.densenet121({ bnSize: 0 }),
    /bnSize must be a positive integer, got 0/,
  );
  assert.throws(() => models.densenet121({ numClasses: 2.5 }), /numClasses must be a positive/);
  assert.throws(() => models.densenet121({ inChannels: 0 }), /inChannels must be a positive/);
  assert.throws(
    () => models.densenet121({ memoryEfficient: true }),
    /memoryEfficient \(torch's memory_efficient: gradient checkpointing.*is not supported/,
  );
  assert.throws(
    () => models.densenet121({ memoryEfficient: "false" as never }),
    /memoryEfficient must be true or false/,
  );
  assert.throws(
    () => models.densenet121({ growthRate: 12 } as never),
    /unknown option 'growthRate'/,
    "the builders fix the architecture, as torchvision's (multiple values for growth_rate)",
  );
  assert.throws(
    () => (models.densenet121 as (...a: unknown[]) => unknown)({}, 3),
    /models\.densenet121.*at most 1 argument/,
  );
  const tiny = { growthRate: 4, blockConfig: [2, 2], numInitFeatures: 8 };
  assert.throws(() => new models.DenseNet(undefined as never), /configuration is required/);
  assert.throws(
    () => new models.DenseNet({ ...tiny, blockConfig: [] }),
    /blockConfig must be a non-empty list/,
  );
  assert.throws(
    () => new models.DenseNet({ ...tiny, blockConfig: [2, 0] }),
    /blockConfig\[1\] must be a positive integer, got 0/,
  );
  assert.throws(
    () => new models.DenseNet({ ...tiny, growthRate: -1 }),
    /growthRate must be a positive integer/,
  );
  assert.throws(
    () => new models.DenseNet({ ...tiny, block_config: [2] } as never),
    /unknown option 'block_config'/,
  );
  scope(() => {
    const net = new models.DenseNet(tiny, { numClasses: 5, bnSize: 3 });
    assert.equal(net.config.name, "DenseNet");
    // 8 + 2 * 4 = 16 -> transition 8 -> 8 + 2 * 4 = 16 channels; bottleneck 3 * 4 = 12.
    assert.equal(net.classifier.inFeatures, 16);
    assert.deepEqual(net.features.denseblock1.get("denselayer2").constructor, models.DenseLayer);
    const l2 = net.features.denseblock2.get("denselayer2") as models.DenseLayer;
    assert.deepEqual(l2.conv1.weight.shape, [12, 12, 1, 1]);
    assertShape(net.eval().forward(zeros([1, 3, 16, 16])), [1, 5]);
    free(net);
  });
});

Deno.test("densenet: torchvision's initialisation (kaiming normal fan_in, BN 1/0, Linear bias 0)", () => {
  manualSeed(1);
  const net = models.densenet121();
  try {
    // kaiming_normal_ defaults: fan_in, leaky_relu with a = 0 -> std sqrt(2 / (in * k * k)).
    const w = (net.features.denseblock3.get("denselayer5") as models.DenseLayer).conv2.weight;
    const values = Array.from(w.toArray());
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    const expected = Math.sqrt(2 / (w.shape[1] * 9));
    assert.ok(Math.abs(std / expected - 1) < 0.02, `std ${std}, expected ${expected}`);
    const c0 = Array.from(net.features.conv0.weight.toArray());
    const std0 = Math.sqrt(c0.reduce((s, v) => s + v * v, 0) / c0.length);
    assert.ok(Math.abs(std0 / Math.sqrt(2 / (3 * 49)) - 1) < 0.05, `conv0 std ${std0}`);
    for (const [name, m] of net.namedModules()) {
      if (!(m instanceof nn.BatchNorm2d)) continue;
      assert.ok(m.weight!.toArray().every((v) => v === 1), `${name}.weight`);
      assert.ok(m.bias!.toArray().every((v) => v === 0), `${name}.bias`);
    }
    assert.ok(net.classifier.bias!.toArray().every((v) => v === 0), "classifier bias 0");
    const bound = 1 / Math.sqrt(1024); // the weight keeps PyTorch's default
    const cw = net.classifier.weight.toArray();
    assert.ok(cw.every((v) => Math.abs(v) <= bound) && cw.some((v) => v !== 0));
  } finally {
    free(net);
  }
});

Deno.test("densenet: a wrong channel count or a too-small image names the model, layer and shape", () => {
  scope(() => {
    const net = models.densenet121({ inChannels: 1, numClasses: 3 }).eval();
    assert.throws(
      () => net.forward(zeros([1, 3, 64, 64])),
      /DenseNet-121: input \[1,3,64,64\] does not fit features\.conv0 \(Conv2d\): expected \[N, 1, H, W\] with H, W >= 29/,
    );
    assert.throws(
      () => net.forward(zeros([1, 1, 28, 64])),
      /DenseNet-121: input \[1,1,28,64\] does not fit features\.transition3\.pool \(AvgPool2d\), which needs a 2 x 2 map/,
    );
    assert.throws(() => net.forward(zeros([1, 64, 64])), /DenseNet-121: input \[1,64,64\]/);
    assertShape(net.forward(zeros([2, 1, 29, 29])), [2, 3]);
    // A replaced stem sets the channels, as in torchvision.
    net.features.conv0 = new nn.Conv2d(2, 64, 7, { stride: 2, padding: 3, bias: false });
    assertShape(net.forward(zeros([1, 2, 32, 32])), [1, 3]);
    assert.throws(() => net.forward(zeros([1, 1, 32, 32])), /expected \[N, 2, H, W\]/);
    free(net);
    assert.equal(models.denseNetMinSize(4), 29);
    assert.equal(models.DENSENET_MIN_SIZE, 29);
    assert.equal(models.denseNetMinSize(3), 13); // 13 -> 7 -> 4 -> 2 -> 1
    assert.equal(models.denseNetMinSize(1), 1);
    const one = new models.DenseNet({ growthRate: 2, blockConfig: [1], numInitFeatures: 4 });
    assertShape(one.eval().forward(zeros([1, 3, 1, 1])), [1, 1000]);
    free(one);
  });
});

Deno.test("densenet: dropRate drops after each dense layer in training only", () => {
  scope(() => {
    manualSeed(4);
    const plain = tinyNet().eval();
    const dropping = tinyNet({ dropRate: 0.5 }).eval();
    const x = fromStored(TINY.input);
    const a = noGrad(() => plain.forward(x)).toArray();
    assert.deepEqual(noGrad(() => dropping.forward(x)).toArray(), a, "eval: no dropout");
    assertClose(a, TINY.evalLogits.data, { ...TOL, what: "eval logits" });
    dropping.train();
    plain.train();
    const p = plain.forward(x).toArray(), d = dropping.forward(x).toArray();
    assert.notDeepEqual(Array.from(d), Array.from(p), "training: dropout changes the logits");
    free(plain);
    free(dropping);
  });
});

// ---------------------------------------------------- registry, summary, CAM

Deno.test("densenet: models.create builds it; options it lacks and too-small sizes are refused", () => {
  const net = models.create("densenet121", { inChannels: 1, numClasses: 3, imageSize: 64 });
  assert.ok(net instanceof models.DenseNet);
  assert.equal(net.numParameters(), 6_950_659);
  free(net);
  const d = models.create("DenseNet169", { numClasses: 3, dropRate: 0.1 }) as models.DenseNet;
  assert.equal(d.config.name, "DenseNet-169");
  assert.equal(d.options.dropRate, 0.1);
  free(d);
  assert.throws(
    () => models.create("densenet121", { dropout: 0.2 }),
    /densenet121 has no option 'dropout'; it takes inChannels, numClasses, imageSize, dropRate/,
  );
  assert.throws(
    () => models.create("densenet121", { imageSize: 28 }),
    /densenet121 needs imageSize to be an integer >= 29, got 28/,
  );
  assert.throws(() => models.create("resnet18", { dropRate: 0.2 }), /resnet18 has no option/);
  for (const name of ["densenet121", "densenet161", "densenet169", "densenet201"]) {
    assert.ok(models.names().includes(name), name);
  }
});

Deno.test("densenet: summary of densenet121 at 1 x 224 x 224", () => {
  const net = models.densenet121({ inChannels: 1, numClasses: 3 });
  const s = models.summary(net, [1, 1, 224, 224]);
  assert.equal(s.totalParams, 6_950_659);
  const row = (name: string) => s.rows.find((r) => r.name === name)!;
  assert.deepEqual(row("").outputShape, [1, 3]);
  assert.deepEqual(row("features.pool0").outputShape, [1, 64, 56, 56]);
  assert.deepEqual(row("features.denseblock1").outputShape, [1, 256, 56, 56]);
  assert.deepEqual(row("features.transition1").outputShape, [1, 128, 28, 28]);
  assert.deepEqual(row("features.denseblock4.denselayer16").outputShape, [1, 32, 7, 7]);
  assert.deepEqual(row("features.norm5").outputShape, [1, 1024, 7, 7]);
  assert.equal(row("classifier").params, 1024 * 3 + 3);
  assert.match(s.toString(), /Total params: 6,950,659/);
  assert.equal(models.summary(net, [1, 1, 64, 64], { maxDepth: 1 }).rows.length, 3);
  free(net);
});

Deno.test("densenet: Grad-CAM at the default layer (norm5, before the ReLU: pytorch-grad-cam's features[-1]) and at the last dense block is pytorch-grad-cam's", () => {
  const net = models.densenet121({ inChannels: 1, numClasses: 3 });
  assert.equal(evaluation.gradCamLayer(net), "features.norm5");
  free(net);
  scope(() => {
    const tiny = tinyNet();
    assert.equal(evaluation.gradCamLayer(tiny), "features.norm5");
    const x = fromStored(TINY.input);
    for (const [layer, expected] of Object.entries(TINY.cams)) {
      const maps = evaluation.gradCam(tiny, x, {
        layer: layer === "features.norm5" ? undefined : layer,
        target: TINY.camTarget,
      });
      assertShape(maps, expected.shape);
      assertClose(maps, expected.data, { atol: 1e-4, rtol: 0, what: `Grad-CAM at ${layer}` });
    }
    assert.ok(tiny.training, "its mode is given back");
    free(tiny);
  });
});

Deno.test("densenet: training steps do not grow memory; an eval forward frees its intermediates", () => {
  manualSeed(5);
  const model = models.densenet121({ inChannels: 1, numClasses: 3 }).train();
  assertStepsHoldMemory(model, randn([2, 1, 32, 32]));
});

// -------------------------------------------------------------------- ONNX

/** Fills batch norms' statistics and affine parameters with seeded random values. */
function randomiseBatchNorms(model: nn.Module, seed: number): void {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const state = new Map(model.stateDict());
  const ranges: Record<string, [number, number]> = {
    running_mean: [-0.3, 0.3],
    running_var: [0.5, 2],
    weight: [0.5, 1.5],
    bias: [-0.3, 0.3],
  };
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof nn.BatchNorm2d)) continue;
    for (const [key, [lo, hi]] of Object.entries(ranges)) {
      const values = Float32Array.from({ length: m.numFeatures }, () => lo + (hi - lo) * next());
      state.set(`${name}.${key}`, tensor(values, [m.numFeatures]));
    }
  }
  model.loadStateDict(state);
}

Deno.test("densenet: the ONNX graph is named as the state dict, concatenates, and matches ONNX Runtime", async () => {
  // Name, model, input size, layers of the second dense block.
  const cases: [string, () => models.DenseNet, number, number][] = [
    ["tiny", () => tinyNet(), 32, 3],
    ["densenet121", () => models.densenet121({ inChannels: 1, numClasses: 3 }), 45, 12],
  ];
  for (const [label, make, size, layers] of cases) {
    manualSeed(15);
    using model = make();
    randomiseBatchNorms(model, 15);
    model.train(); // exported as in eval mode all the same
    const normalize = { mean: 0.21, std: 0.27 };
    const bytes = onnx.exportOnnx(model, { inputShape: ["N", 1, size, size], normalize });
    assert.equal(model.training, true);
    const decoded = decodeModel(bytes);
    const ops = new Set(decoded.graph.node.map((n) => n.opType));
    assert.deepEqual([...ops].sort(), [
      "Add",
      "AveragePool",
      "BatchNormalization",
      "Concat",
      "Conv",
      "Flatten",
      "Gemm",
      "GlobalAveragePool",
      "MaxPool",
      "Mul",
      "Relu",
    ], label);
    const expected = [...model.stateDict().keys()].filter((k) =>
      !k.endsWith("num_batches_tracked")
    );
    const initializers = decoded.graph.initializer.map((t) => t.name)
      .filter((n) => !n.startsWith("normalize."));
    assert.deepEqual(initializers.sort(), expected.sort(), label);
    const concat = decoded.graph.node.find((n) => n.name === "features.denseblock2.cat")!;
    assert.equal(concat.opType, "Concat");
    assert.equal(concat.input.length, 1 + layers, "the block's input and each layer's output");

    model.eval();
    const session = await ort.InferenceSession.create(bytes);
    try {
      for (const n of [1, 3]) {
        const image = rand([n, 1, size, size]);
        const pixels = image.toArray() as Float32Array;
        const input = tensor(
          pixels.map((v) => (v - normalize.mean) / normalize.std),
          [n, 1, size, size],
        );
        const ours = noGrad(() => model.forward(input)).toArray();
        const out = await session.run({
          image: new ort.Tensor("float32", pixels, [n, 1, size, size]),
        });
        assert.deepEqual(out.logits.dims, [n, 3]);
        assert.ok(Math.max(...ours.map(Math.abs)) > 1e-3, "logits large enough to compare");
        assertClose(out.logits.data as Float32Array, ours, {
          atol: 1e-4,
          rtol: 1e-4,
          what: `${label}, batch ${n}`,
        });
      }
    } finally {
      await session.release();
    }
  }
});

Deno.test("densenet: ONNX export refuses a too-small input with the model's message", () => {
  using net = models.densenet121({ inChannels: 1, numClasses: 3 });
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 1, 28, 28] }),
    /DenseNet-121: input \[N,1,28,28\] does not fit features\.transition3\.pool/,
  );
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 3, 64, 64] }),
    /expected \[N, 1, H, W\]/,
  );
});

const PYTHON = "/usr/bin/python3";
const hasOnnx = (() => {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "import onnx"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "densenet: ONNX's own checker passes densenet121's graph (where python3-onnx is installed)",
  ignore: !hasOnnx,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    using net = models.densenet121({ inChannels: 1, numClasses: 3 });
    const file = `${dir}/densenet121.onnx`;
    await Deno.writeFile(file, onnx.exportOnnx(net, { inputShape: ["N", 1, 32, 32] }));
    const checker = "import sys, onnx\nm = onnx.load(sys.argv[1])\n" +
      "onnx.checker.check_model(m, full_check=True)\n" +
      "onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)\nprint('checked')";
    const out = await new Deno.Command(PYTHON, { args: ["-c", checker, file] }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /checked/);
    await Deno.remove(dir, { recursive: true });
  },
});
