/**
 * The model zoo against torchvision: state-dict names, order, shapes and
 * parameter counts (tests/fixtures/models/keys.json), torchvision's own
 * BasicBlock and Bottleneck forward/backward (blocks.json), the course's
 * CNN loaded from a safetensors file PyTorch wrote (simple_cnn.*), and, when
 * torchvision is installed, a round trip through PyTorch in both directions.
 * Plus training steps without memory growth, train/eval, initialisation,
 * bad inputs, the registry and `summary`. Fixtures:
 * /usr/bin/python3 scripts/make_model_fixtures.py.
 */
import assert from "node:assert/strict";
import {
  endStep,
  io,
  manualSeed,
  memoryStats,
  models,
  nn,
  noGrad,
  optim,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { assertClose, assertShape, fromStored, loadFixture, type Stored } from "./helpers.ts";
import { assertStepsHoldMemory } from "./model_fixture.ts";

// ---------------------------------------------------------------- helpers

type StateList = [string, Stored][];

interface KeysCase {
  model: string;
  options: models.ModelOptions;
  numParams: number;
  state: [string, number[], string][];
}

interface BlockCase {
  args: [number, number, number];
  downsample: [number, number, number];
  state: StateList;
  input: Stored;
  out: Stored;
  G: Stored;
  inputGrad: Stored;
  grads: Record<string, Stored>;
  buffersAfter: StateList;
  evalInput: Stored;
  evalOut: Stored;
}

interface GradRecord {
  shape: number[];
  data?: number[];
  indices?: number[];
  samples?: number[];
  absSum?: number;
}

interface SimpleCnnCase {
  options: models.SimpleCNNOptions;
  input: Stored;
  target: number[];
  evalLogits: Stored;
  trainLogits: Stored;
  loss: number;
  inputGrad: Stored;
  grads: Record<string, GradRecord>;
  buffersAfter: StateList;
}

const KEYS = loadFixture<KeysCase[]>("models/keys.json");
const BLOCKS = loadFixture<{ basic: BlockCase; bottleneck: BlockCase }>("models/blocks.json");
const SIMPLE = loadFixture<SimpleCnnCase>("models/simple_cnn.json");
const SIMPLE_WEIGHTS =
  new URL("./fixtures/models/simple_cnn.safetensors", import.meta.url).pathname;
const TOL = { rtol: 1e-4, atol: 1e-5 };

/** Frees a model's parameters and buffers (a test builds many large models). */
function free(model: nn.Module): void {
  for (const t of model.stateDict().values()) t.dispose();
}

/** A state dict from fixture records (num_batches_tracked as int32). */
function stateMap(list: StateList): Map<string, Tensor> {
  return new Map(list.map(([k, s]) => {
    const isInt = k.endsWith("num_batches_tracked");
    return [k, fromStored(isInt ? { ...s, dtype: "int32" } : s)];
  }));
}

/** max |a - b| / max |b|: the relative error of a whole output. */
function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

function assertBuffers(model: nn.Module, expected: StateList, what: string): void {
  const own = new Map(model.namedBuffers());
  for (const [k, s] of expected) {
    const t = own.get(k);
    assert.ok(t, `${what}: no buffer ${k}`);
    assertClose(t, s.data, { ...TOL, what: `${what}: ${k}` });
  }
}

/** The names, shapes and dtypes of a safetensors file's header, in order. */
function headerEntries(bytes: Uint8Array): [string, number[], string][] {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  // JSON.parse would move integer-like names first; these have none at the top level.
  const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[] }>;
  return Object.entries(header).filter(([k]) => k !== "__metadata__").map((
    [k, v],
  ) => [k, v.shape, v.dtype]);
}

// ---------------------------------------------------- structure vs torchvision

for (const c of KEYS) {
  Deno.test(`models: ${c.model} ${JSON.stringify(c.options)} has torchvision's state dict and ${c.numParams} parameters`, () => {
    const model = models.create(c.model, c.options);
    try {
      const ours = [...model.stateDict()].map(([k, t]) => [k, [...t.shape], t.dtype]);
      const theirs = c.state.map(([k, s, d]) => [k, s, d === "int64" ? "int32" : d]);
      assert.deepEqual(ours.map((e) => e[0]), theirs.map((e) => e[0]), "names and order");
      assert.deepEqual(ours, theirs, "shapes and dtypes");
      assert.equal(model.numParameters(), c.numParams);
    } finally {
      free(model);
    }
  });
}

Deno.test("models: the saved safetensors header is torchvision's (names, order, shapes, F32/I64)", () => {
  const c = KEYS.find((k) => k.model === "resnet18" && k.options.inChannels === 1)!;
  const model = models.create(c.model, c.options);
  try {
    const bytes = io.encodeSafetensors(model.stateDict());
    const expected = c.state.map(([k, s, d]) => [k, s, d === "int64" ? "I64" : "F32"]);
    assert.deepEqual(headerEntries(bytes), expected);
  } finally {
    free(model);
  }
});

// ------------------------------------------------- numerics vs torchvision

for (const kind of ["basic", "bottleneck"] as const) {
  Deno.test(`models: torchvision's ${kind} block with a stride-2 downsample, forward and backward`, () => {
    scope(() => {
      const c = BLOCKS[kind];
      const Block = kind === "basic" ? models.BasicBlock : models.Bottleneck;
      const block = new Block(c.args[0], c.args[1], c.args[2], models.downsample(...c.downsample));
      block.loadStateDict(stateMap(c.state), { strict: true });
      block.train();
      const x = fromStored(c.input, { requiresGrad: true });
      const y = block.forward(x);
      assertShape(y, c.out.shape, "output shape");
      assertClose(y, c.out.data, { ...TOL, what: "output" });
      y.backward(fromStored(c.G));
      assertClose(x.grad!, c.inputGrad.data, { ...TOL, what: "input gradient" });
      const params = new Map(block.namedParameters());
      assert.deepEqual([...params.keys()], Object.keys(c.grads));
      for (const [k, g] of Object.entries(c.grads)) {
        assertClose(params.get(k)!.grad!, g.data, { ...TOL, what: `gradient of ${k}` });
      }
      assertBuffers(block, c.buffersAfter, "running statistics after the step");
      block.eval();
      assertClose(block.forward(fromStored(c.evalInput)), c.evalOut.data, {
        ...TOL,
        what: "eval output",
      });
      free(block);
    });
  });
}

Deno.test("models: SimpleCNN loads PyTorch's safetensors strictly; eval logits, a training step", async () => {
  const state = await io.loadSafetensors(SIMPLE_WEIGHTS);
  const model = models.simpleCNN(SIMPLE.options);
  model.loadStateDict(state, { strict: true });
  for (const t of state.values()) t.dispose();
  scope(() => {
    model.eval();
    const x = fromStored(SIMPLE.input);
    const logits = noGrad(() => model.forward(x));
    assertClose(logits, SIMPLE.evalLogits.data, { ...TOL, what: "eval logits" });
    assert.ok(relErr(logits.toArray(), SIMPLE.evalLogits.data) < 1e-4);

    model.train();
    const xg = fromStored(SIMPLE.input, { requiresGrad: true });
    const y = tensor(Int32Array.from(SIMPLE.target), [SIMPLE.target.length]);
    const train = model.forward(xg);
    assertClose(train, SIMPLE.trainLogits.data, { ...TOL, what: "training logits" });
    const loss = new nn.CrossEntropyLoss().forward(train, y);
    assertClose([loss.item()], [SIMPLE.loss], { ...TOL, what: "loss" });
    loss.backward();
    assertClose(xg.grad!, SIMPLE.inputGrad.data, { ...TOL, what: "input gradient" });
    for (const [k, p] of model.namedParameters()) {
      const r = SIMPLE.grads[k];
      const g = p.grad!.toArray();
      if (r.data) {
        assertClose(g, r.data, { ...TOL, what: `gradient of ${k}` });
      } else {
        assertClose(r.indices!.map((i) => g[i]), r.samples!, { ...TOL, what: `gradient of ${k}` });
        const absSum = Array.from(g).reduce((s, v) => s + Math.abs(v), 0);
        assertClose([absSum], [r.absSum!], { rtol: 1e-4, what: `sum |gradient| of ${k}` });
      }
    }
    assertBuffers(model, SIMPLE.buffersAfter, "running statistics after the step");
  });
  free(model);
});

// The other direction, and the exporter: only where torchvision is installed.
const PYTHON = "/usr/bin/python3";
const hasTorchvision = (() => {
  try {
    const probe = new Deno.Command(PYTHON, {
      args: ["-c", "import importlib.util as u, sys; sys.exit(u.find_spec('torchvision') is None)"],
    }).outputSync();
    return probe.success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "models: torchvision loads our ResNet-18 strictly (same logits); we load its exported .pth",
  ignore: !hasTorchvision,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lits-roundtrip-" });
    manualSeed(11);
    const ours = models.resnet18({ inChannels: 1, numClasses: 3 });
    try {
      // Two training steps, so running statistics and num_batches_tracked are not the defaults.
      const opt = new optim.SGD(ours.parameters(), { lr: 0.1 });
      const x = randn([2, 1, 40, 40]);
      for (let i = 0; i < 2; i++) {
        opt.zeroGrad();
        ours.forward(x).pow(2).mean().backward();
        opt.step();
      }
      opt.zeroGrad();
      endStep();
      ours.eval();
      const logits = noGrad(() => ours.forward(x));
      await io.saveSafetensors(`${dir}/ours.safetensors`, ours.stateDict(), {
        metadata: { format: "pt" },
      });
      await io.saveSafetensors(`${dir}/ours_io.safetensors`, { input: x, logits });
      x.dispose();
      logits.dispose();
      const script = new URL("../scripts/make_model_fixtures.py", import.meta.url).pathname;
      const out = await new Deno.Command(PYTHON, { args: [script, "--roundtrip", dir] }).output();
      const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
      assert.ok(out.success, `${stdout.join("\n")}\n${new TextDecoder().decode(out.stderr)}`);
      const result = JSON.parse(stdout[stdout.length - 1]);
      assert.equal(result.oursKeyOrderMatches, true);
      assert.ok(result.oursRelErr < 1e-4, `torchvision's logits differ: ${result.oursRelErr}`);

      const theirs = await io.loadSafetensors(`${dir}/theirs.safetensors`);
      const check = await io.loadSafetensors(`${dir}/theirs_io.safetensors`);
      const model = models.resnet18({ inChannels: 1, numClasses: 3 });
      model.loadStateDict(theirs, { strict: true });
      model.eval();
      const y = noGrad(() => model.forward(check.get("input")!));
      const err = relErr(y.toArray(), check.get("logits")!.toArray());
      assert.ok(err < 1e-4, `logits of the exported torchvision model differ: ${err}`);
      for (const t of [...theirs.values(), ...check.values(), y]) t.dispose();
      free(model);
    } finally {
      free(ours);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ---------------------------------------------------------- training behaviour

const STEP_CASES: [string, models.ModelOptions, number[]][] = [
  ["simple", { imageSize: 64 }, [2, 1, 64, 64]],
  ["alexnet", { inChannels: 1, numClasses: 3 }, [2, 1, 224, 224]],
  ["resnet18", { inChannels: 1, numClasses: 3 }, [2, 1, 64, 64]],
  ["resnet34", { inChannels: 1, numClasses: 3 }, [2, 1, 48, 48]],
  ["resnet50", { inChannels: 1, numClasses: 3 }, [2, 1, 64, 64]],
];

for (const [name, options, shape] of STEP_CASES) {
  Deno.test(`models: ${name} training steps on ${JSON.stringify(shape)} do not grow memory`, () => {
    manualSeed(5);
    const model = models.create(name, options).train();
    const labels = Array.from({ length: shape[0] }, (_, i) => i % 3);
    assertStepsHoldMemory(model, randn(shape), { labels, evalForward: false });
  });
}

Deno.test("models: ResNet-50 takes 1 x 224 x 224 and 1 x 256 x 256; AlexNet 1 x 224 x 224 and 1 x 256 x 256", () => {
  const resnet = models.resnet50({ inChannels: 1, numClasses: 3 });
  const alex = models.alexnet({ inChannels: 1, numClasses: 3 });
  for (const size of [224, 256]) {
    scope(() => {
      // A training forward and backward through the whole network.
      for (const model of [resnet, alex]) {
        model.train();
        const x = randn([1, 1, size, size], { requiresGrad: true });
        const y = model.forward(x);
        assertShape(y, [1, 3], `${model.constructor.name} output at ${size}`);
        y.sum().backward();
        assertShape(x.grad!, [1, 1, size, size]);
        assert.ok(x.grad!.abs().sum().item() > 0, "the gradient reaches the input");
        model.zeroGrad();
      }
    });
  }
  free(resnet);
  free(alex);
});

Deno.test("models: train() and eval() reach every BatchNorm and Dropout", () => {
  scope(() => {
    for (const model of [models.simpleCNN({ imageSize: 32, batchNorm: true }), models.resnet18()]) {
      const all = [...model.modules()];
      model.eval();
      assert.ok(all.every((m) => !m.training));
      model.train();
      assert.ok(all.every((m) => m.training));
      free(model);
    }
    // Eval: deterministic, running statistics untouched; train: they move.
    const alex = models.alexnet({ inChannels: 1, numClasses: 3 }).eval();
    const x = randn([2, 1, 63, 63]);
    const a = alex.forward(x).toArray(), b = alex.forward(x).toArray();
    assert.deepEqual(a, b, "eval AlexNet is deterministic (dropout off)");
    alex.train();
    assert.notDeepEqual(alex.forward(x).toArray(), a, "training AlexNet drops units");
    free(alex);

    const net = models.resnet18({ inChannels: 1, numClasses: 3 }).eval();
    const before = net.bn1.runningMean!.toArray();
    net.forward(x);
    assert.deepEqual(net.bn1.runningMean!.toArray(), before);
    assert.equal((net.layer4[1] as models.BasicBlock).lastBN.numBatchesTracked, 0);
    net.train().forward(x);
    assert.notDeepEqual(net.bn1.runningMean!.toArray(), before);
    assert.equal((net.layer4[1] as models.BasicBlock).lastBN.numBatchesTracked, 1);
    free(net);
  });
});

Deno.test("models: ResNet initialisation is torchvision's", () => {
  manualSeed(1);
  const net = models.resnet50();
  // kaiming-normal, fan_out, ReLU gain: std sqrt(2 / (out * k * k)).
  const w = (net.layer3[0] as models.Bottleneck).conv2.weight;
  const values = Array.from(w.toArray());
  const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  const expected = Math.sqrt(2 / (w.shape[0] * 9));
  assert.ok(Math.abs(std / expected - 1) < 0.02, `std ${std}, expected ${expected}`);
  for (const m of net.modules()) {
    if (m instanceof nn.BatchNorm2d) {
      assert.ok(
        m.weight!.toArray().every((v) => v === 1) && m.bias!.toArray().every((v) => v === 0),
      );
    }
  }
  const bound = 1 / Math.sqrt(2048); // Linear keeps PyTorch's default
  assert.ok(net.fc.weight.toArray().every((v) => Math.abs(v) <= bound));
  free(net);

  for (const [build, last] of [[models.resnet50, "bn3"], [models.resnet18, "bn2"]] as const) {
    const zeroed = build({ zeroInitResidual: true });
    for (const [name, m] of zeroed.namedModules()) {
      if (!(m instanceof nn.BatchNorm2d)) continue;
      const isLast = /^layer\d\.\d+\./.test(name) && name.endsWith(`.${last}`);
      const want = isLast ? 0 : 1;
      assert.ok(m.weight!.toArray().every((v) => v === want), `${name}.weight should be ${want}`);
    }
    free(zeroed);
  }
});

// ------------------------------------------------------------------ bad input

Deno.test("models: a wrong channel count or a too-small image names the model, layer and shape", () => {
  scope(() => {
    const resnet = models.resnet50({ inChannels: 1, numClasses: 3 });
    assert.throws(
      () => resnet.forward(zeros([1, 3, 64, 64])),
      /ResNet-50: input \[1,3,64,64\] does not fit conv1 \(Conv2d\): expected \[N, 1, H, W\]/,
    );
    assert.throws(() => resnet.forward(zeros([1, 64, 64])), /ResNet-50: input \[1,64,64\]/);
    free(resnet);
    const alex = models.alexnet();
    assert.throws(
      () => alex.forward(zeros([1, 1, 224, 224])),
      /AlexNet: input \[1,1,224,224\] does not fit features\.0 \(Conv2d\): expected \[N, 3, H, W\] with H, W >= 63/,
    );
    assert.throws(
      () => alex.forward(zeros([1, 3, 62, 200])),
      /AlexNet: input \[1,3,62,200\] does not fit features\.12 \(MaxPool2d\).*expected \[N, 3, H, W\] with H, W >= 63/,
    );
    assertShape(alex.eval().forward(zeros([1, 3, 63, 63])), [1, 1000]);
    free(alex);
    const simple = models.simpleCNN({ imageSize: 32 });
    assert.throws(
      () => simple.forward(zeros([1, 1, 64, 64])),
      /SimpleCNN: input \[1,1,64,64\] does not fit classifier\.0 \(Linear\).*expected \[N, 1, 32, 32\]/,
    );
    free(simple);
  });
});

Deno.test("models: loadStateDict lists every missing, unexpected and wrongly shaped key at once", () => {
  scope(() => {
    const net = models.resnet18({ inChannels: 1, numClasses: 3 });
    const sd = new Map([...net.stateDict()].map(([k, t]) => [k, t.clone()]));
    sd.delete("layer2.0.downsample.1.running_var");
    sd.set("layer5.0.conv1.weight", zeros([1]));
    sd.set("conv1.weight", zeros([64, 3, 7, 7]));
    sd.set("fc.weight", zeros([1000, 512]));
    const before = (net.layer1[0] as models.BasicBlock).conv1.weight.toArray();
    let message = "";
    assert.throws(() => net.loadStateDict(sd, { strict: true }), (e: Error) => {
      message = e.message;
      return true;
    });
    for (
      const part of [
        "missing keys [layer2.0.downsample.1.running_var]",
        "unexpected keys [layer5.0.conv1.weight]",
        "'conv1.weight' has shape [64,3,7,7], the module expects [64,1,7,7]",
        "'fc.weight' has shape [1000,512], the module expects [3,512]",
      ]
    ) assert.ok(message.includes(part), `'${part}' not in: ${message}`);
    assert.deepEqual(
      (net.layer1[0] as models.BasicBlock).conv1.weight.toArray(),
      before,
      "nothing was written",
    );
    // strict: false skips missing/unexpected keys but never a wrong shape.
    assert.throws(() => net.loadStateDict(sd, { strict: false }), /'fc\.weight' has shape/);
    free(net);
  });
});

// ------------------------------------------------------------ registry, summary

Deno.test("models: create and names", () => {
  assert.deepEqual(models.names(), [
    "simple",
    "alexnet",
    "vgg11",
    "vgg11bn",
    "vgg13",
    "vgg13bn",
    "vgg16",
    "vgg16bn",
    "vgg19",
    "vgg19bn",
    "squeezenet1_0",
    "squeezenet1_1",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "wide_resnet50_2",
    "wide_resnet101_2",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "mobilenetv2",
    "efficientnetb0",
    "efficientnetb1",
    "efficientnetb2",
    "efficientnetb3",
    "efficientnetb4",
    "efficientnetb5",
    "efficientnetb6",
    "efficientnetb7",
    "mobilenetv3large",
    "mobilenetv3small",
    "shufflenetv2x0_5",
    "shufflenetv2x1_0",
    "shufflenetv2x1_5",
    "shufflenetv2x2_0",
    "efficientnetv2s",
    "efficientnetv2m",
    "efficientnetv2l",
    "regnety400mf",
    "regnety800mf",
    "regnety1_6gf",
    "regnety3_2gf",
    "regnety8gf",
    "regnety16gf",
    "regnety32gf",
    "regnety128gf",
    "regnetx400mf",
    "regnetx800mf",
    "regnetx1_6gf",
    "regnetx3_2gf",
    "regnetx8gf",
    "regnetx16gf",
    "regnetx32gf",
    "convnexttiny",
    "convnextsmall",
    "convnextbase",
    "convnextlarge",
    "vit_b_16",
    "vit_b_32",
    "vit_l_16",
    "vit_l_32",
    "vit_h_14",
    "swin_t",
    "swin_s",
    "swin_b",
    "inception_v3",
    "googlenet",
  ]);
  const net = models.create("SimpleCNN", { imageSize: 32, batchNorm: true, dropout: undefined });
  assert.ok(net instanceof models.SimpleCNN);
  free(net);
  assert.throws(
    () => models.create("inception_v4"),
    /unknown model 'inception_v4'; choose one of simple, alexnet/,
  );
  assert.throws(
    () => models.create("resnet50", { dropout: 0.2 }),
    /resnet50 has no option 'dropout'/,
  );
  assert.throws(
    () => models.create("alexnet", { imageSize: 32 }),
    /imageSize to be an integer >= 63/,
  );
  assert.throws(() => models.simpleCNN({ imageSize: 8 }), /imageSize must be an integer >= 16/);
});

Deno.test("models: summary lists each call's output shape and parameters, and leaves no trace", () => {
  const net = models.resnet50({ inChannels: 1, numClasses: 3 }).train();
  const before = memoryStats().bytesInUse;
  const s = models.summary(net, [1, 1, 224, 224]);
  assert.equal(memoryStats().bytesInUse, before, "the forward pass was freed");
  assert.ok([...net.modules()].every((m) => m.training), "training mode restored");
  assert.ok(!Object.hasOwn(net.conv1, "forward"), "hooks removed");
  assert.equal(s.totalParams, 23_507_907);
  assert.equal(s.trainableParams, 23_507_907);
  const row = (name: string) => s.rows.find((r) => r.name === name)!;
  assert.deepEqual(row("").outputShape, [1, 3]);
  assert.deepEqual(row("conv1").outputShape, [1, 64, 112, 112]);
  assert.equal(row("conv1").params, 3136);
  assert.deepEqual(row("maxpool").outputShape, [1, 64, 56, 56]);
  assert.deepEqual(row("layer4").outputShape, [1, 2048, 7, 7]);
  assert.deepEqual(row("layer2.0.conv2").outputShape, [1, 128, 28, 28], "stride on the 3x3 (v1.5)");
  assert.equal(row("fc").params, 2048 * 3 + 3);
  assert.equal(row("layer1").params, 0);
  // The ReLU shared inside a Bottleneck is called three times.
  assert.equal(s.rows.filter((r) => r.name === "layer1.0.relu").length, 3);
  const text = s.toString();
  assert.match(text, /Layer \(type\)\s+Output Shape\s+Param #/);
  assert.match(text, /conv1 \(Conv2d\)\s+\[1, 64, 112, 112\]\s+3,136/);
  assert.match(text, /Total params: 23,507,907/);
  assert.equal(models.summary(net, [1, 1, 64, 64], { maxDepth: 1 }).rows.length, 11);
  assert.throws(() => models.summary(net, [1, 3, 64, 64]), /ResNet-50: input \[1,3,64,64\]/);
  assert.ok(!Object.hasOwn(net.conv1, "forward"), "hooks removed after an error");
  free(net);
});
