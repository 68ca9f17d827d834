/**
 * VGG-11/13/16/19 (and their batch-norm variants) and SqueezeNet 1.0/1.1
 * against torchvision 0.14 (tests/fixtures/vgg_squeezenet.json, from
 * /usr/bin/python3 scripts/make_vgg_squeezenet_fixtures.py): the cfgs; the
 * module tree (names, classes, hyper-parameters), state dict and parameter
 * count of every model (a VGG's features built alone by `makeLayers`, since
 * a whole VGG is 130-144M parameters: vgg16 is built whole once, and the
 * builders' wiring is read from their error messages, which name the
 * architecture); eval logits and a training step (logits, loss, input and
 * parameter gradients, running statistics) of vgg11bn, squeezenet1_0 and
 * squeezenet1_1 with weights from a formula both sides compute;
 * torchvision's initialisation; ONNX export run in ONNX Runtime; registry,
 * Grad-CAM, memory across training steps, bad inputs.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import {
  evaluation,
  memoryStats,
  models,
  nn,
  noGrad,
  onnx,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { assertClose, loadFixture, type Stored, testDevice } from "./helpers.ts";
import {
  assertStepsHoldMemory,
  assertStored,
  entries,
  type Entry,
  type Sampled,
} from "./model_fixture.ts";

// ---------------------------------------------------------------- fixture

type Described = [string, string, ...unknown[]];

interface StructureCase {
  model: string;
  options: { inChannels?: number; numClasses?: number };
  numParams: number;
  state: Entry[];
  modules: Described[];
}

interface NumericsCase {
  model: "vgg11bn" | "squeezenet1_0" | "squeezenet1_1";
  options: { inChannels: number; numClasses: number };
  input: number[];
  target: number[];
  /** The batch norms' mode in the backward ("eval" for VGG: see the generator). */
  gradMode: "train" | "eval";
  evalLogits: Stored;
  trainLogits: Sampled;
  loss: number;
  lossNoise: number;
  inputGrad: Sampled;
  gradAbsSums: Record<string, number>;
  grads: Record<string, Sampled>;
  buffersAfter: Record<string, Sampled>;
}

const FIXTURE = loadFixture<{
  cfgs: Record<string, (number | "M")[]>;
  structure: StructureCase[];
  numerics: NumericsCase[];
}>("vgg_squeezenet.json");
const ON_CPU = testDevice === "cpu";
const TOL = ON_CPU ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-3, atol: 1e-4 };
/** Gradients: relative to the largest stored magnitude, plus 3 x torch's float32 noise. */
const GRAD_TOL = ON_CPU ? { rtol: 1e-3, atol: 2e-4 } : { rtol: 1e-2, atol: 2e-3 };

/** Our name of each VGG, its cfg and batch norm, and the label its messages carry. */
const VGGS = {
  vgg11: ["vgg11", "A", false, "VGG-11"],
  vgg11bn: ["vgg11Bn", "A", true, "VGG-11-BN"],
  vgg13: ["vgg13", "B", false, "VGG-13"],
  vgg13bn: ["vgg13Bn", "B", true, "VGG-13-BN"],
  vgg16: ["vgg16", "D", false, "VGG-16"],
  vgg16bn: ["vgg16Bn", "D", true, "VGG-16-BN"],
  vgg19: ["vgg19", "E", false, "VGG-19"],
  vgg19bn: ["vgg19Bn", "E", true, "VGG-19-BN"],
} as const;

const f9 = (v: number) => Number(v.toPrecision(9));
const pair = (v: unknown) => typeof v === "number" ? [v, v] : [...(v as number[])];

/** A module's class and hyper-parameters, as the generator's `describe`. */
function describe(name: string, m: nn.Module): Described {
  const t = m.constructor.name;
  if (m instanceof nn.Conv2d) {
    const [out, inPerGroup, kh, kw] = m.weight.shape;
    const o = m.options;
    return [
      name,
      t,
      inPerGroup * o.groups,
      out,
      [kh, kw],
      pair(o.stride),
      pair(o.padding),
      o.groups,
      m.bias !== null,
    ];
  }
  if (m instanceof nn.BatchNorm2d) return [name, t, m.numFeatures, f9(m.eps), f9(m.momentum!)];
  if (m instanceof nn.Dropout) return [name, t, f9(m.p)];
  if (m instanceof nn.Linear) return [name, t, m.inFeatures, m.outFeatures];
  if (m instanceof nn.MaxPool2d) {
    const o = m.options;
    return [
      name,
      t,
      pair(m.kernelSize),
      pair(o.stride ?? m.kernelSize),
      pair(o.padding ?? 0),
      pair(o.dilation ?? 1),
      o.ceilMode ?? false,
    ];
  }
  if (m instanceof nn.AdaptiveAvgPool2d) return [name, t, pair(m.outputSize)];
  return [name, t];
}

const tree = (m: nn.Module, prefix = "") =>
  [...m.namedModules()].map(([k, v]) => describe(prefix && k ? `${prefix}.${k}` : k || prefix, v));

function structureOf(model: string, options = {}): StructureCase {
  const c = FIXTURE.structure.find((s) =>
    s.model === model && JSON.stringify(s.options) === JSON.stringify(options)
  );
  assert.ok(c, `no structure case ${model} ${JSON.stringify(options)}`);
  return c;
}

/** Our model against a structure case: state dict, module tree, parameter count. */
function assertStructure(model: nn.Module, c: StructureCase): void {
  const ours = entries(model);
  assert.deepEqual(ours.map((e) => e[0]), c.state.map((e) => e[0]), "names and order");
  assert.deepEqual(ours, c.state, "shapes and dtypes");
  const t = tree(model);
  assert.deepEqual(t.map((d) => d.slice(0, 2)), c.modules.map((d) => d.slice(0, 2)), "modules");
  assert.deepEqual(t, c.modules, "hyper-parameters");
  assert.equal(model.numParameters(), c.numParams);
}

/** Mean and standard deviation of a tensor's values. */
function moments(t: Tensor): { mean: number; std: number; maxAbs: number } {
  const v = t.to("cpu").toArray();
  let s = 0, ss = 0, m = 0;
  for (const x of v) {
    s += x;
    ss += x * x;
    m = Math.max(m, Math.abs(x));
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(ss / v.length - mean * mean), maxAbs: m };
}

// ---------------------------------------------------- structure vs torchvision

Deno.test("vgg: VGG_CFGS are torchvision's cfgs", () => {
  assert.deepEqual(models.VGG_CFGS, FIXTURE.cfgs);
});

for (const [name, [, cfg, bn, label]] of Object.entries(VGGS)) {
  Deno.test(`vgg: ${name}'s features (makeLayers ${cfg}${bn ? ", batch norm" : ""}) have torchvision's modules and state dict`, () => {
    const c = structureOf(name);
    using features = models.makeLayers(models.VGG_CFGS[cfg], bn);
    const state = c.state.filter(([k]) => k.startsWith("features."));
    assert.deepEqual(entries(features).map(([k, s, d]) => [`features.${k}`, s, d]), state);
    const modules = c.modules.filter(([k]) => k === "features" || k.startsWith("features."));
    assert.deepEqual(tree(features, "features"), modules);
    // The rest of the model is the same for every VGG: checked whole on vgg16 below.
    const classifier = structureOf("vgg16").modules.filter(([k]) => !k.startsWith("features"));
    assert.deepEqual(c.modules.filter(([k]) => !k.startsWith("features")), classifier);
    const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
    const head = c.state.filter(([k]) => !k.startsWith("features.")).map(([, s]) => numel(s));
    assert.equal(features.numParameters() + head.reduce((a, b) => a + b), c.numParams);
    // The builder's wiring, without building a 130M-parameter model: a bad option is
    // caught after the features (which the message names), and they are freed.
    const before = memoryStats().bytesInUse;
    const builder = models[VGGS[name as keyof typeof VGGS][0]];
    assert.throws(
      () => builder({ numClasses: 0 }),
      new RegExp(`^Error: models\\.VGG \\(${label}\\): numClasses must be an integer >= 1`),
    );
    assert.equal(memoryStats().bytesInUse, before, "the features were freed");
  });
}

Deno.test("vgg: vgg16 whole: torchvision's modules, state dict, 138,357,544 parameters and init", () => {
  using net = models.vgg16();
  assertStructure(net, structureOf("vgg16"));
  // torchvision's init: kaiming-normal fan_out for the convolutions, N(0, 0.01) for Linear.
  for (const [k, m] of net.namedModules()) {
    if (m instanceof nn.Conv2d) {
      const { mean, std } = moments(m.weight);
      const want = Math.sqrt(2 / (m.weight.shape[0] * 9));
      const n = m.weight.numel();
      assert.ok(Math.abs(std / want - 1) < 6 / Math.sqrt(2 * n), `${k} std ${std}, want ${want}`);
      assert.ok(Math.abs(mean) < 6 * want / Math.sqrt(n), `${k} mean ${mean}`);
    } else if (m instanceof nn.Linear) {
      const { mean, std } = moments(m.weight);
      assert.ok(Math.abs(std / 0.01 - 1) < 0.01, `${k} std ${std}`);
      assert.ok(Math.abs(mean) < 1e-3, `${k} mean ${mean}`);
    }
    if ((m instanceof nn.Conv2d || m instanceof nn.Linear) && m.bias) {
      assert.equal(moments(m.bias).maxAbs, 0, `${k} bias`);
    }
  }
  assert.deepEqual(net.inputSpec.minSize, 32);
  assert.equal(net.inputSpec.model, "VGG-16");
});

for (const c of FIXTURE.structure.filter((s) => s.model.startsWith("squeezenet"))) {
  Deno.test(`squeezenet: ${c.model} ${JSON.stringify(c.options)} has torchvision's modules, state dict and ${c.numParams} parameters`, () => {
    using net = models.create(c.model, c.options);
    assert.ok(net instanceof models.SqueezeNet);
    assertStructure(net, c);
  });
}

Deno.test("squeezenet: torchvision's init: final convolution N(0, 0.01), others kaiming-uniform, biases 0", () => {
  using net = models.squeezenet1_0();
  for (const [k, m] of net.namedModules()) {
    if (!(m instanceof nn.Conv2d)) continue;
    const { mean, std, maxAbs } = moments(m.weight);
    const n = m.weight.numel();
    if (k === "classifier.1") {
      assert.ok(Math.abs(std / 0.01 - 1) < 0.02, `${k} std ${std}`);
    } else {
      const [, c, kh, kw] = m.weight.shape;
      const bound = Math.sqrt(6 / (c * kh * kw));
      assert.ok(
        maxAbs <= bound * (1 + 1e-6) && maxAbs > 0.95 * bound,
        `${k} max ${maxAbs}, bound ${bound}`,
      );
      const want = bound / Math.sqrt(3);
      assert.ok(Math.abs(std / want - 1) < 6 / Math.sqrt(n), `${k} std ${std}, want ${want}`);
    }
    assert.ok(Math.abs(mean) < 6 * std / Math.sqrt(n), `${k} mean ${mean}`);
    assert.equal(moments(m.bias!).maxAbs, 0, `${k} bias`);
  }
});

// ------------------------------------------------- numerics vs torchvision

/** The generator's `inputs`: the formula in [-1, 1), the second image x 2 + 0.5. */
function inputs(shape: number[], requiresGrad = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = -1 + 2 * (((i * 7919 + 1001 * 104729) % 10007) / 10007);
  for (let i = n / 2; i < n; i++) data[i] = Math.fround(data[i] * 2 + 0.5);
  return tensor(data, shape, { requiresGrad, device: testDevice });
}

/**
 * tests/model_fixture.ts's `fill` (the generator's), in a plain loop: the
 * Float32Array.from of `formula` takes 20 s over VGG's 123M weights.
 */
function fillFast(model: nn.Module): void {
  const state = model.stateDict();
  const next = new Map<string, Tensor>();
  let p = 0;
  for (const [k, v] of state) {
    const at = p++;
    if (k.endsWith("num_batches_tracked")) continue;
    const name = k.split(".").at(-1)!;
    const isBN = v.ndim === 1 && state.has(`${k.slice(0, k.lastIndexOf("."))}.running_mean`);
    let lo = -0.1, hi = 0.1;
    if (name === "weight" && !isBN) {
      hi = Math.sqrt(6 / (v.numel() / v.shape[0]));
      lo = -hi;
    } else if (name === "weight" || name === "running_var") [lo, hi] = [0.5, 1.5];
    else if (isBN || name === "running_mean") [lo, hi] = [-0.2, 0.2];
    const n = v.numel(), data = new Float32Array(n), base = (at + 1) * 104729;
    for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * (((i * 7919 + base) % 10007) / 10007);
    next.set(k, tensor(data, [...v.shape]));
  }
  model.loadStateDict(next, { strict: false });
  for (const t of next.values()) t.dispose();
}

/**
 * A numerics case on `net` (filled here): eval logits; the gradients (with
 * the batch norms in eval mode where the case says so, before the step
 * changes their statistics); a training step without dropout: logits, loss,
 * running statistics after it.
 */
function checkNumerics(net: nn.Module, c: NumericsCase): void {
  fillFast(net);
  if (net instanceof models.SqueezeNet) {
    nn.init.constant_((net.classifier[1] as nn.Conv2d).bias!, 0.7); // as the generator
  }
  net.to(testDevice);
  const dropoutsOff = () => {
    for (const m of net.modules()) if (m instanceof nn.Dropout) m.eval();
  };
  const y = tensor(Int32Array.from(c.target), [2], { dtype: "int32", device: testDevice });
  const checkGrads = (x: Tensor) => {
    assertStored(x.grad!, c.inputGrad, GRAD_TOL, "input gradient");
    const params = new Map(net.namedParameters());
    assert.deepEqual([...params.keys()], Object.keys(c.gradAbsSums), "parameters");
    for (const [k, sum] of Object.entries(c.gradAbsSums)) {
      const g = params.get(k)!.grad!.abs().sum().item();
      if (sum < 1e-9) {
        // A conv bias before a training-mode batch norm: 0 in exact arithmetic.
        assert.ok(g < 1e-4, `sum |gradient| of ${k}: ${g}, expected about 0`);
      } else assertClose([g], [sum], { rtol: 2e-3, atol: 1e-6, what: `sum |gradient| of ${k}` });
    }
    for (const [k, g] of Object.entries(c.grads)) {
      assertStored(params.get(k)!.grad!, g, GRAD_TOL, `gradient of ${k}`, 1e-6);
    }
  };
  scope(() => {
    net.eval();
    const logits = noGrad(() => net.forward(inputs(c.input)));
    assertClose(logits.to("cpu"), c.evalLogits.data, { ...TOL, what: "eval logits" });
    if (c.gradMode === "eval") {
      net.train();
      dropoutsOff();
      for (const m of net.modules()) if (m instanceof nn.BatchNorm2d) m.eval();
      const x = inputs(c.input, true);
      new nn.CrossEntropyLoss()(net.forward(x), y).backward();
      checkGrads(x);
      net.zeroGrad();
    }
    net.train();
    dropoutsOff();
    const x = inputs(c.input, true);
    const train = net.forward(x);
    assertStored(train, c.trainLogits, TOL, "training logits");
    const loss = new nn.CrossEntropyLoss()(train, y);
    assertClose([loss.item()], [c.loss], {
      ...TOL,
      atol: TOL.atol + 3 * c.lossNoise,
      what: "loss",
    });
    const buffers = new Map(net.namedBuffers());
    for (const [k, b] of Object.entries(c.buffersAfter)) {
      assertStored(buffers.get(k)!, b, TOL, `${k} after the step`);
    }
    if (c.gradMode === "train") {
      loss.backward();
      checkGrads(x);
    }
  });
}

/** ONNX Runtime's logits of `net` exported at [N, 1, size, size] against ours, batches 1 and 2. */
async function assertOnnx(net: nn.Module, size: number): Promise<void> {
  net.to("cpu").train(); // exported as in eval mode whatever the flag
  const bytes = onnx.exportOnnx(net, { inputShape: ["N", 1, size, size] });
  net.eval();
  const session = await ort.InferenceSession.create(bytes);
  try {
    for (const n of [1, 2]) {
      const x = zeros([n, 1, size, size]).add(
        tensor(Float32Array.from({ length: n * size * size }, (_, i) => Math.sin(i * 0.37)), [
          n,
          1,
          size,
          size,
        ]),
      );
      const ours = noGrad(() => net.forward(x)).toArray();
      const pixels = x.toArray() as Float32Array;
      const out = await session.run({
        image: new ort.Tensor("float32", pixels, [n, 1, size, size]),
      });
      assert.deepEqual(out.logits.dims, [n, 3]);
      assert.ok(Math.max(...ours.map(Math.abs)) > 1e-3, "logits large enough to compare");
      assertClose(out.logits.data as Float32Array, ours, {
        atol: 1e-4,
        rtol: 1e-4,
        what: `batch ${n}`,
      });
      x.dispose();
    }
  } finally {
    await session.release();
  }
}

Deno.test("vgg: vgg11bn (1 channel, 3 classes): torchvision's structure; default init with initWeights: false; eval logits and a training step; ONNX; Grad-CAM layer", async () => {
  const c = FIXTURE.numerics.find((n) => n.model === "vgg11bn")!;
  using net = models.vgg11Bn({ ...c.options, initWeights: false });
  assertStructure(net, structureOf("vgg11bn", c.options));
  // initWeights: false keeps PyTorch's default init: U(+-1/sqrt(fan_in)), biases too.
  for (const k of ["features.0", "features.25", "classifier.0", "classifier.6"]) {
    const m = [...net.namedModules()].find(([n]) => n === k)![1] as nn.Conv2d | nn.Linear;
    const fanIn = m.weight.numel() / m.weight.shape[0];
    const w = moments(m.weight), b = moments(m.bias!);
    assert.ok(
      w.maxAbs <= (1 + 1e-6) / Math.sqrt(fanIn) && w.maxAbs > 0.9 / Math.sqrt(fanIn),
      `${k} weight`,
    );
    assert.ok(b.maxAbs <= (1 + 1e-6) / Math.sqrt(fanIn) && b.maxAbs > 0, `${k} bias ${b.maxAbs}`);
  }
  checkNumerics(net, c);
  assert.equal(evaluation.gradCamLayer(net), "features.27");
  assert.deepEqual(net.inputSpec, {
    model: "VGG-11-BN",
    layer: "features.0 (Conv2d)",
    channels: 1,
    sizeLayer: "features.28 (MaxPool2d), the last of 5 2 x 2 max-pools, which needs a 2 x 2 map",
    minSize: 32,
  });
  assert.throws(
    () => net.forward(zeros([1, 1, 32, 31], { device: testDevice })),
    /^Error: VGG-11-BN: input \[1,1,32,31\] does not fit features.28 \(MaxPool2d\), .*: expected \[N, 1, H, W\] with H, W >= 32$/,
  );
  assert.throws(
    () => net.forward(zeros([1, 3, 32, 32], { device: testDevice })),
    /features.0 \(Conv2d\): expected \[N, 1, H, W\]/,
  );
  // The fine-tuning tutorial's head swap (small layers, so the export stays small).
  for (const [i, fin, fout] of [[0, 512 * 49, 16], [3, 16, 16], [6, 16, 3]] as const) {
    net.classifier[i].dispose();
    net.classifier[i] = new nn.Linear(fin, fout);
  }
  await assertOnnx(net, 32);
  // A replaced stem (a 7 x 7 stride-2 one for 2 channels): the layers judge the size then.
  (net.features as nn.Sequential)[0].dispose();
  (net.features as nn.Sequential)[0] = new nn.Conv2d(2, 64, 7, { stride: 2, padding: 3 });
  assert.deepEqual(net.inputSpec, { model: "VGG", layer: "features.0 (Conv2d)", channels: 2 });
  assert.deepEqual(noGrad(() => net.forward(zeros([1, 2, 64, 64]))).shape, [1, 3]);
});

for (const c of FIXTURE.numerics.filter((n) => n.model.startsWith("squeezenet"))) {
  Deno.test(`squeezenet: ${c.model} at [${c.input}]: eval logits and a training step as torchvision's; ONNX`, async () => {
    using net = models.create(c.model, c.options);
    checkNumerics(net, c);
    await assertOnnx(net, c.input[2]);
  });
}

// ------------------------------------------------------------- the zoo's habits

Deno.test("vgg, squeezenet: the registry's names, aliases, options and minimum sizes", () => {
  const names = models.names();
  for (const n of [...Object.keys(VGGS), "squeezenet1_0", "squeezenet1_1"]) {
    assert.ok(names.includes(n), n);
    assert.ok(models.takesOption(n, "dropout"), `${n} takes dropout`);
  }
  assert.deepEqual(
    ["VGG16_BN", "vgg19_bn", "SqueezeNet1_0", "squeezenet11"].map(models.canonicalName),
    ["vgg16bn", "vgg19bn", "squeezenet1_0", "squeezenet1_1"],
  );
  assert.throws(
    () => models.create("vgg16", { imageSize: 31 }),
    /vgg16 needs imageSize to be an integer >= 32, got 31/,
  );
  assert.throws(() => models.create("squeezenet1_0", { imageSize: 20 }), /integer >= 21, got 20/);
  assert.throws(() => models.create("squeezenet1_1", { imageSize: 16 }), /integer >= 17, got 16/);
  assert.throws(
    () => models.create("vgg16", { zeroInitResidual: true }),
    /vgg16 has no option 'zeroInitResidual'/,
  );
  // Options reach the model (a VGG's through its error, without building 138M parameters).
  assert.throws(
    () => models.create("vgg16_bn", { dropout: 1.5 }),
    /VGG-16-BN\): dropout must be a number in \[0, 1\], got 1.5/,
  );
  using s = models.create("squeezenet11", {
    inChannels: 2,
    numClasses: 5,
    dropout: 0.25,
    imageSize: 17,
  });
  assert.ok(s instanceof models.SqueezeNet);
  assert.deepEqual(s.options, { version: "1_1", inChannels: 2, numClasses: 5, dropout: 0.25 });
  assert.equal((s.classifier[0] as nn.Dropout).p, 0.25);
  assert.deepEqual(s.eval().forward(zeros([1, 2, 17, 17])).shape, [1, 5]);
});

Deno.test("squeezenet: the logits are non-negative (final ReLU); Grad-CAM's default layer; memory flat across training steps", () => {
  using net = models.squeezenet1_1({ inChannels: 1, numClasses: 3 });
  assert.equal(evaluation.gradCamLayer(net), "classifier.2");
  const x = inputs([2, 1, 24, 24]);
  const cam = evaluation.gradCam(net.eval(), x);
  assert.deepEqual(cam.shape, [2, 24, 24]);
  cam.dispose();
  assertStepsHoldMemory(
    models.squeezenet1_1({ inChannels: 1, numClasses: 3 }).to(testDevice),
    inputs([2, 1, 24, 24]),
  );
  x.dispose();
});

Deno.test("squeezenet: ImageNet-shaped weights load with models.loadPretrained: the stem summed to one channel, the convolution classifier left at init", () => {
  using imagenet = models.squeezenet1_1({ inChannels: 3, numClasses: 1000 });
  using net = models.squeezenet1_1({ inChannels: 1, numClasses: 3 });
  const before = [...net.classifier[1].stateDict().get("weight")!.toArray()];
  const report = models.loadPretrained(net, imagenet.stateDict());
  assert.deepEqual(report.adapted, [{
    name: "features.0.weight",
    from: [64, 3, 3, 3],
    to: [64, 1, 3, 3],
  }]);
  assert.deepEqual(report.skipped.map((k) => k.name), ["classifier.1.weight", "classifier.1.bias"]);
  assert.deepEqual([...net.classifier[1].stateDict().get("weight")!.toArray()], before);
});

Deno.test("squeezenet: Fire concatenates its 1x1 and 3x3 expands after the squeeze", () => {
  using fire = new models.Fire(8, 4, 6, 5);
  assert.equal(fire.inplanes, 8);
  scope(() => {
    const x = inputs([2, 8, 5, 5]);
    const s = fire.squeeze_activation(fire.squeeze(x));
    const want = [fire.expand1x1(s).relu(), fire.expand3x3(s).relu()];
    const out = fire(x);
    assert.deepEqual(out.shape, [2, 11, 5, 5]);
    const o = out.to("cpu").toArray(),
      a = want[0].to("cpu").toArray(),
      b = want[1].to("cpu").toArray();
    for (let n = 0; n < 2; n++) {
      assert.deepEqual(o.slice(n * 275, n * 275 + 150), a.slice(n * 150, n * 150 + 150));
      assert.deepEqual(o.slice(n * 275 + 150, n * 275 + 275), b.slice(n * 125, n * 125 + 125));
    }
  });
});

Deno.test("vgg, squeezenet: bad inputs are clear errors", () => {
  const { VGG_CFGS, makeLayers, VGG, SqueezeNet, Fire } = models;
  assert.throws(() => makeLayers([] as never), /makeLayers: cfg must be a list/);
  assert.throws(
    () => makeLayers([64, "X" as never]),
    /cfg entry "X" \(channels, or "M"\) must be an integer >= 1/,
  );
  assert.throws(() => makeLayers(VGG_CFGS.A, "yes" as never), /batchNorm must be true or false/);
  assert.throws(
    () => makeLayers(VGG_CFGS.A, false, { inChannels: NaN }),
    /inChannels must be an integer >= 1, got NaN/,
  );
  assert.throws(() => makeLayers(VGG_CFGS.A, false, { in_channels: 1 } as never), /in_channels/);
  assert.throws(() => new VGG({} as never), /features must be a Module/);
  assert.throws(
    () => new VGG(models.makeLayers(VGG_CFGS.A), { num_classes: 3 } as never),
    /num_classes/,
  );
  assert.throws(
    () => models.vgg11({ inChannels: 0 }),
    /models.vgg11: inChannels must be an integer >= 1, got 0/,
  );
  assert.throws(() => models.vgg13({ batchNorm: true } as never), /models.vgg13.*batchNorm/);
  assert.throws(
    () => models.vgg16({ initWeights: "false" } as never),
    /initWeights must be true or false/,
  );
  assert.throws(() => models.vgg19(3 as never), /vgg19/);
  assert.throws(
    () => new SqueezeNet({ version: "1_2" as never }),
    /unsupported version "1_2": "1_0" or "1_1" expected/,
  );
  assert.throws(
    () => new SqueezeNet("1_1" as never),
    /write new models.SqueezeNet\(\{ version: "1_1" \}\)/,
  );
  assert.throws(() => models.squeezenet1_1({ version: "1_0" } as never), /squeezenet1_1.*version/);
  assert.throws(
    () => models.squeezenet1_0({ numClasses: 2.5 }),
    /numClasses must be an integer >= 1, got 2.5/,
  );
  assert.throws(
    () => models.squeezenet1_0({ dropout: NaN }),
    /dropout must be a number in \[0, 1\], got NaN/,
  );
  assert.throws(
    () => new (Fire as unknown as new (...a: number[]) => nn.Module)(96, 16, 64),
    /4 arguments/,
  );
  assert.throws(() => new Fire(96, 16, 0, 64), /expand1x1Planes must be an integer >= 1, got 0/);
  using s0 = models.squeezenet1_0({ inChannels: 1, numClasses: 3 });
  assert.throws(
    () => s0.forward(zeros([1, 1, 20, 21])),
    /SqueezeNet 1.0: input \[1,1,20,21\] does not fit features.11 \(MaxPool2d\).*H, W >= 21/,
  );
  assert.throws(
    () => s0.forward(zeros([1, 3, 21, 21])),
    /does not fit features.0 \(Conv2d\): expected \[N, 1, H, W\]/,
  );
  using s1 = models.squeezenet1_1();
  assert.throws(
    () => s1.forward(zeros([1, 3, 16, 17])),
    /SqueezeNet 1.1: .* features.8 \(MaxPool2d\).*>= 17/,
  );
  assert.throws(
    () => onnx.exportOnnx(s1, { inputShape: ["N", 3, 16, 16] }),
    /features.8 \(MaxPool2d\)/,
  );
});
