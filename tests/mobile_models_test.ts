/**
 * MobileNetV2 and EfficientNet-B0 against torchvision 0.14: the whole module
 * tree (names, classes, convolution shapes, strides, paddings, groups, batch
 * norm eps and momentum, dropout and stochastic-depth probabilities), state
 * dict and parameter counts of the full-size models
 * (tests/fixtures/mobile_models/structure.json); eval logits and one
 * training step (logits, loss, input and parameter gradients, running
 * statistics) of reduced models built through the same code (width 0.25,
 * depth 0.5) with torchvision's weights (numerics.json and the safetensors
 * files); stochastic depth in training and evaluation; initialisation; ONNX
 * export run in ONNX Runtime; registry, summary, Grad-CAM, memory across
 * training steps, bad inputs. Fixtures:
 * /usr/bin/python3 scripts/make_mobile_models_fixtures.py.
 */
import assert from "node:assert/strict";
import { assertNormalizedExportRuns } from "./onnx_check.ts";
import {
  evaluation,
  io,
  manualSeed,
  models,
  nn,
  noGrad,
  onnx,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import {
  assertClose,
  assertShape,
  fromStored,
  loadFixture,
  type Stored,
  testDevice,
} from "./helpers.ts";
import { assertStepsHoldMemory, randomiseBatchNorms } from "./model_fixture.ts";

// ---------------------------------------------------------------- fixtures

type Described = [string, string, ...unknown[]];

interface StructureCase {
  model: string;
  options: models.ModelOptions;
  numParams: number;
  state: [string, number[], string][];
  modules: Described[];
}

interface NumericsCase {
  model: "mobilenetv2" | "efficientnetb0";
  options: { inChannels: number; numClasses: number; widthMult: number; depthMult?: number };
  weights: string;
  input: Stored;
  target: number[];
  evalLogits: Stored;
  trainLogits: Stored;
  loss: number;
  inputGrad: Stored;
  gradAbsSums: Record<string, number>;
  grads: Record<string, Stored>;
  buffersAfter: Record<string, Stored>;
}

const STRUCTURE = loadFixture<StructureCase[]>("mobile_models/structure.json");
const NUMERICS = loadFixture<NumericsCase[]>("mobile_models/numerics.json");
const ON_CPU = testDevice === "cpu";
const TOL = ON_CPU ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-3, atol: 1e-4 };

/**
 * The tolerance of a gradient of the training step, whose reference torch
 * computed in float64: the step is ill-conditioned (batch norm in training
 * mode on the last 2 x 2 maps of a batch of 2), so torch's own float32
 * gradients differ from those by up to 7e-5 of their largest element, and
 * single elements by far more. Ours are held to 2e-4 of the largest element
 * (they measure up to 7.5e-5), plus 1e-3 of each element.
 */
function gradTol(ref: Stored, what: string) {
  const max = ref.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return ON_CPU ? { rtol: 1e-3, atol: 2e-4 * max, what } : { rtol: 1e-2, atol: 2e-3 * max, what };
}

/** Frees a model's parameters and buffers. */
function free(model: nn.Module): void {
  for (const t of model.stateDict().values()) t.dispose();
}

/** A float as the fixture writes it (9 significant digits). */
const f9 = (v: number) => Number(v.toPrecision(9));
const pair = (v: number | readonly number[]) => typeof v === "number" ? [v, v] : [...v];

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
      pair(o.stride ?? 1),
      pair((o.padding ?? 0) as number | [number, number]),
      o.groups,
      m.bias !== null,
    ];
  }
  if (m instanceof nn.BatchNorm2d) return [name, t, m.numFeatures, f9(m.eps), f9(m.momentum!)];
  if (m instanceof nn.Dropout) return [name, t, f9(m.p)];
  if (m instanceof nn.StochasticDepth) return [name, t, f9(m.p), m.mode];
  if (m instanceof nn.Linear) return [name, t, m.inFeatures, m.outFeatures];
  return [name, t];
}

/** The reduced model of a numerics case, built through the zoo's classes. */
function buildSmall(c: NumericsCase, extra: { dropout?: number; stochasticDepthProb?: number }) {
  const { inChannels, numClasses, widthMult, depthMult } = c.options;
  if (c.model === "mobilenetv2") {
    return models.mobilenetV2({ inChannels, numClasses, widthMult, dropout: extra.dropout });
  }
  const config = { name: "EfficientNet (small)", widthMult, depthMult: depthMult!, dropout: 0.2 };
  return new models.EfficientNet(config, { inChannels, numClasses, ...extra });
}

async function loadWeights(c: NumericsCase): Promise<Map<string, Tensor>> {
  return await io.loadSafetensors(
    new URL(`./fixtures/mobile_models/${c.weights}`, import.meta.url).pathname,
  );
}

// ---------------------------------------------------- structure vs torchvision

for (const c of STRUCTURE) {
  Deno.test(`mobile models: ${c.model} ${JSON.stringify(c.options)} has torchvision's modules, state dict and ${c.numParams} parameters`, () => {
    const model = models.create(c.model, c.options);
    try {
      const ours = [...model.stateDict()].map(([k, t]) => [k, [...t.shape], t.dtype]);
      const theirs = c.state.map(([k, s, d]) => [k, s, d === "int64" ? "int32" : d]);
      assert.deepEqual(ours.map((e) => e[0]), theirs.map((e) => e[0]), "names and order");
      assert.deepEqual(ours, theirs, "shapes and dtypes");
      assert.equal(model.numParameters(), c.numParams);
      const tree = [...model.namedModules()].map(([k, m]) => describe(k, m));
      assert.deepEqual(tree.map((d) => d.slice(0, 2)), c.modules.map((d) => d.slice(0, 2)));
      assert.deepEqual(tree, c.modules, "hyper-parameters");
    } finally {
      free(model);
    }
  });
}

Deno.test("mobile models: EfficientNet-B0's stochastic depth rises linearly, 0.2 * i / 16, as torchvision's", () => {
  const net = models.efficientnetB0({ inChannels: 1, numClasses: 3 });
  const ps = [...net.modules()].filter((m) => m instanceof models.MBConv).map((m) =>
    (m as models.MBConv).stochastic_depth.p
  );
  assert.equal(ps.length, 16);
  ps.forEach((p, i) => assert.ok(Math.abs(p - 0.2 * i / 16) < 1e-15, `block ${i}: ${p}`));
  const theirs = STRUCTURE.find((c) => c.model === "efficientnetb0")!.modules
    .filter((d) => d[1] === "StochasticDepth").map((d) => d[2]);
  assert.deepEqual(ps.map(f9), theirs);
  const half = models.efficientnetB0({ stochasticDepthProb: 0.5 });
  const last = half.features[7] as nn.Sequential;
  assert.equal((last[0] as models.MBConv).stochastic_depth.p, 0.5 * 15 / 16);
  free(net);
  free(half);
});

// ------------------------------------------------- numerics vs torchvision

for (const c of NUMERICS) {
  Deno.test(`mobile models: reduced ${c.model} ${JSON.stringify(c.options)} with torchvision's weights: eval logits and a training step`, async () => {
    const state = await loadWeights(c);
    const net = buildSmall(c, {});
    const quiet = buildSmall(c, { dropout: 0, stochasticDepthProb: 0 });
    net.loadStateDict(state, { strict: true });
    quiet.loadStateDict(state, { strict: true });
    for (const t of state.values()) t.dispose();
    net.to(testDevice);
    quiet.to(testDevice);
    scope(() => {
      const x = fromStored(c.input, { device: testDevice });
      net.eval();
      const logits = noGrad(() => net(x));
      assertClose(logits.to("cpu"), c.evalLogits.data, { ...TOL, what: "eval logits" });

      quiet.train();
      const xg = fromStored(c.input, { device: testDevice, requiresGrad: true });
      const y = tensor(Int32Array.from(c.target), [c.target.length], {
        dtype: "int32",
        device: testDevice,
      });
      const train = quiet(xg);
      assertClose(train.to("cpu"), c.trainLogits.data, { ...TOL, what: "training logits" });
      const loss = new nn.CrossEntropyLoss()(train, y);
      assertClose([loss.item()], [c.loss], { ...TOL, what: "loss" });
      loss.backward();
      assertClose(xg.grad!.to("cpu"), c.inputGrad.data, gradTol(c.inputGrad, "input gradient"));
      const params = new Map(quiet.namedParameters());
      assert.deepEqual([...params.keys()], Object.keys(c.gradAbsSums), "parameters");
      for (const [k, sum] of Object.entries(c.gradAbsSums)) {
        const g = params.get(k)!.grad!.abs().sum().item();
        if (sum < 1e-9) {
          // Zero in exact arithmetic (a bias whose shift the next batch norm removes): float32
          // leaves noise of a few 1e-6 in all, on either side.
          assert.ok(g < 1e-4, `sum |gradient| of ${k}: ${g}, expected about 0`);
        } else assertClose([g], [sum], { rtol: 1e-3, atol: 1e-6, what: `sum |gradient| of ${k}` });
      }
      for (const [k, g] of Object.entries(c.grads)) {
        assertClose(params.get(k)!.grad!.to("cpu"), g.data, gradTol(g, `gradient of ${k}`));
      }
      const buffers = new Map(quiet.namedBuffers());
      for (const [k, b] of Object.entries(c.buffersAfter)) {
        assertClose(buffers.get(k)!.to("cpu"), b.data, { ...TOL, what: `${k} after the step` });
      }
    });
    free(net);
    free(quiet);
  });
}

// ------------------------------------------------------------ the blocks

Deno.test("mobile models: MBConv drops its branch per sample in training (kept ones scaled by 1 / (1 - p)); eval adds it whole", () => {
  manualSeed(3);
  scope(() => {
    const cnf = {
      expandRatio: 6,
      kernel: 3,
      stride: 1,
      inputChannels: 8,
      outChannels: 8,
      numLayers: 1,
    };
    const block = new models.MBConv(cnf, 0.5).to(testDevice);
    const x = randn([16, 8, 5, 5], { device: testDevice });
    block.train();
    const out = noGrad(() => block(x)).to("cpu").toArray();
    const branch = noGrad(() => block.block(x)).to("cpu").toArray();
    const xs = x.to("cpu").toArray();
    const row = 8 * 25;
    let dropped = 0, kept = 0;
    for (let i = 0; i < 16; i++) {
      const at = (a: ArrayLike<number>, j: number) => a[i * row + j];
      const isDropped = Array.from({ length: row }, (_, j) => at(out, j) === at(xs, j)).every(
        Boolean,
      );
      if (isDropped) dropped++;
      else {
        kept++;
        for (let j = 0; j < row; j++) {
          const want = at(xs, j) + at(branch, j) * 2;
          assert.ok(Math.abs(at(out, j) - want) <= 1e-5 * (1 + Math.abs(want)), `sample ${i}`);
        }
      }
    }
    assert.ok(dropped > 0 && kept > 0, `dropped ${dropped}, kept ${kept} of 16`);
    block.eval();
    const evalOut = noGrad(() => block(x)).to("cpu").toArray();
    const evalBranch = noGrad(() => block.block(x)).to("cpu").toArray();
    assertClose(evalOut, Array.from(xs, (v, j) => v + evalBranch[j]), {
      what: "eval: x + block(x)",
    });
    free(block);
  });
});

Deno.test("mobile models: InvertedResidual adds its input only at stride 1 with equal channels; t = 1 has no expansion", () => {
  scope(() => {
    const same = new models.InvertedResidual(16, 16, 1, 6).eval();
    const down = new models.InvertedResidual(16, 24, 2, 6).eval();
    const plain = new models.InvertedResidual(32, 16, 1, 1);
    assert.equal(same.useResConnect, true);
    assert.equal(down.useResConnect, false);
    assert.deepEqual([...plain.conv.namedChildren()].map(([, m]) => m.constructor.name), [
      "Conv2dNormActivation",
      "Conv2d",
      "BatchNorm2d",
    ]);
    const x = randn([2, 16, 8, 8]);
    const branch = noGrad(() => same.conv(x)).toArray();
    assertClose(noGrad(() => same(x)), Array.from(x.toArray(), (v, i) => v + branch[i]));
    assertShape(noGrad(() => down(x)), [2, 24, 4, 4]);
    for (const m of [same, down, plain]) free(m);
  });
});

Deno.test("mobile models: SqueezeExcitation scales each channel by sigmoid(fc2(act(fc1(mean))))", () => {
  scope(() => {
    manualSeed(4);
    const se = new models.SqueezeExcitation(6, 2, { activation: () => new nn.SiLU() });
    const x = randn([2, 6, 3, 3]);
    const y = se(x).toArray();
    const xs = x.toArray();
    const w1 = se.fc1.weight.toArray(), b1 = se.fc1.bias!.toArray();
    const w2 = se.fc2.weight.toArray(), b2 = se.fc2.bias!.toArray();
    const silu = (v: number) => v / (1 + Math.exp(-v));
    for (let n = 0; n < 2; n++) {
      const mean = Array.from({ length: 6 }, (_, c) => {
        let s = 0;
        for (let j = 0; j < 9; j++) s += xs[(n * 6 + c) * 9 + j];
        return s / 9;
      });
      const h = [0, 1].map((k) => silu(b1[k] + mean.reduce((s, m, c) => s + w1[k * 6 + c] * m, 0)));
      for (let c = 0; c < 6; c++) {
        const gate = 1 / (1 + Math.exp(-(b2[c] + w2[c * 2] * h[0] + w2[c * 2 + 1] * h[1])));
        for (let j = 0; j < 9; j++) {
          const i = (n * 6 + c) * 9 + j;
          assert.ok(Math.abs(y[i] - gate * xs[i]) < 1e-5, `element ${i}`);
        }
      }
    }
    free(se);
  });
});

Deno.test("mobile models: makeDivisible is torchvision's _make_divisible", () => {
  // Values from torchvision.models._utils._make_divisible.
  const cases: [number, number, number | undefined, number][] = [
    [32, 8, undefined, 32],
    [8, 8, undefined, 8],
    [10, 8, undefined, 16],
    [20, 8, undefined, 24],
    [4, 8, undefined, 8],
    [1280 * 1.4, 8, undefined, 1792],
    [16 * 0.35, 8, undefined, 8],
    [30, 8, 40, 40],
    [99, 1, undefined, 99],
  ];
  for (const [v, d, min, want] of cases) {
    assert.equal(models.makeDivisible(v, d, min), want, `makeDivisible(${v}, ${d}, ${min})`);
  }
  assert.throws(() => models.makeDivisible(0, 8), /v must be a number > 0/);
  assert.throws(() => models.makeDivisible(8, 0), /divisor must be an integer >= 1/);
});

// ---------------------------------------------------------- initialisation

function std(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / values.length);
}

Deno.test("mobile models: initialisation is torchvision's (kaiming fan_out, BN 1/0, MobileNetV2 Linear N(0, 0.01), EfficientNet Linear U(+-1/sqrt(out)))", () => {
  manualSeed(1);
  const mobile = models.mobilenetV2();
  const eff = models.efficientnetB0();
  try {
    for (const net of [mobile, eff]) {
      for (const [name, m] of net.namedModules()) {
        if (m instanceof nn.Conv2d) {
          if (m.bias) assert.ok(m.bias.toArray().every((v) => v === 0), `${name}.bias`);
          const [out, , kh, kw] = m.weight.shape;
          if (m.weight.numel() < 20000) continue;
          const want = Math.sqrt(2 / (out * kh * kw));
          const got = std(m.weight.toArray());
          assert.ok(Math.abs(got / want - 1) < 0.03, `${name}: std ${got}, expected ${want}`);
        } else if (m instanceof nn.BatchNorm2d) {
          assert.ok(
            m.weight!.toArray().every((v) => v === 1) && m.bias!.toArray().every((v) => v === 0),
          );
        }
      }
    }
    const fc = mobile.classifier[1] as nn.Linear;
    assert.ok(Math.abs(std(fc.weight.toArray()) / 0.01 - 1) < 0.01);
    assert.ok(fc.bias!.toArray().every((v) => v === 0));
    const head = eff.classifier[1] as nn.Linear;
    const bound = 1 / Math.sqrt(1000);
    const w = head.weight.toArray();
    assert.ok(w.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.abs(std(w) / (bound / Math.sqrt(3)) - 1) < 0.01);
    assert.ok(head.bias!.toArray().every((v) => v === 0));
    // The SE convolutions have biases, and they start at zero.
    const se = (eff.features[1] as nn.Sequential)[0] as models.MBConv;
    assert.ok((se.block[1] as models.SqueezeExcitation).fc1.bias!.toArray().every((v) => v === 0));
  } finally {
    free(mobile);
    free(eff);
  }
});

// ---------------------------------------------------------- ONNX Runtime

for (const name of ["mobilenetv2", "efficientnetb0"]) {
  Deno.test(`mobile models: ${name} exported to ONNX matches ONNX Runtime within 1e-4`, async () => {
    manualSeed(15);
    using model = models.create(name, { inChannels: 1, numClasses: 3 });
    randomiseBatchNorms(model);
    model.train(); // exported as in eval mode whatever the flag
    await assertNormalizedExportRuns(model, 40);
  });
}

const PYTHON = "/usr/bin/python3";
const hasOnnx = (() => {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "import onnx"] }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "mobile models: ONNX's own checker passes both graphs (where python3-onnx is installed)",
  ignore: !hasOnnx,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lits-mobile-onnx-" });
    try {
      const files: string[] = [];
      for (const name of ["mobilenetv2", "efficientnetb0"]) {
        using net = models.create(name, { inChannels: 1, numClasses: 3 });
        const file = `${dir}/${name}.onnx`;
        const normalize = { mean: 0.2, std: 0.3 };
        await Deno.writeFile(
          file,
          onnx.exportOnnx(net, { inputShape: ["N", 1, 33, 33], normalize }),
        );
        files.push(file);
      }
      const check = "import onnx, sys\n" +
        "for f in sys.argv[1:]:\n" +
        "    m = onnx.load(f)\n" +
        "    onnx.checker.check_model(m, full_check=True)\n" +
        "    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)\n";
      const out = await new Deno.Command(PYTHON, { args: ["-c", check, ...files] }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// ------------------------------------------------ registry, summary, Grad-CAM

Deno.test("mobile models: the registry builds them under our and torchvision's names, with dropout", () => {
  const names = models.names();
  assert.ok(names.includes("mobilenetv2") && names.includes("efficientnetb0"));
  const a = models.create("mobilenet_v2", { inChannels: 1, numClasses: 3, dropout: 0.3 });
  assert.ok(a instanceof models.MobileNetV2);
  assert.equal(((a as models.MobileNetV2).classifier[0] as nn.Dropout).p, 0.3);
  const b = models.create("EfficientNet_B0", { inChannels: 1, numClasses: 3, imageSize: 64 });
  assert.ok(b instanceof models.EfficientNet);
  assert.equal(((b as models.EfficientNet).classifier[0] as nn.Dropout).p, 0.2);
  assert.throws(
    () => models.create("mobilenetv2", { zeroInitResidual: true }),
    /mobilenetv2 has no option 'zeroInitResidual'; it takes inChannels, numClasses, imageSize, dropout/,
  );
  free(a);
  free(b);
});

Deno.test("mobile models: summary lists the blocks at 224 x 224", () => {
  const mobile = models.mobilenetV2({ inChannels: 1, numClasses: 3 });
  const eff = models.efficientnetB0({ inChannels: 1, numClasses: 3 });
  try {
    const s = models.summary(mobile, [1, 1, 224, 224]);
    const row = (rows: models.SummaryRow[], name: string) => rows.find((r) => r.name === name)!;
    assert.equal(s.totalParams, 2_227_139);
    assert.deepEqual(row(s.rows, "features.0").outputShape, [1, 32, 112, 112]);
    assert.deepEqual(row(s.rows, "features.1.conv.0.0").outputShape, [1, 32, 112, 112]);
    assert.deepEqual(row(s.rows, "features.14").outputShape, [1, 160, 7, 7]);
    assert.deepEqual(row(s.rows, "features.18").outputShape, [1, 1280, 7, 7]);
    assert.deepEqual(row(s.rows, "").outputShape, [1, 3]);
    const e = models.summary(eff, [1, 1, 224, 224]);
    assert.equal(e.totalParams, 4_010_815);
    assert.deepEqual(row(e.rows, "features.1.0.block.1.avgpool").outputShape, [1, 32, 1, 1]);
    assert.deepEqual(row(e.rows, "features.6.3").outputShape, [1, 192, 7, 7]);
    assert.deepEqual(row(e.rows, "features.8").outputShape, [1, 1280, 7, 7]);
    assert.deepEqual(row(e.rows, "avgpool").outputShape, [1, 1280, 1, 1]);
    assert.match(e.toString(), /Total params: 4,010,815/);
  } finally {
    free(mobile);
    free(eff);
  }
});

Deno.test("mobile models: Grad-CAM on the last feature block", () => {
  manualSeed(6);
  scope(() => {
    const net = models.mobilenetV2({ inChannels: 1, numClasses: 3, widthMult: 0.5 });
    assert.ok(evaluation.gradCamLayers(net).includes("features.18.0"));
    const cam = evaluation.gradCam(net, randn([2, 1, 64, 64]), { layer: "features.18", target: 1 });
    assertShape(cam, [2, 64, 64]);
    const v = cam.toArray();
    assert.ok(v.every((x) => x >= 0 && x <= 1));
    free(net);
  });
});

// --------------------------------------------------------- training steps

for (const name of ["mobilenetv2", "efficientnetb0"]) {
  Deno.test(`mobile models: ${name} training steps do not grow memory`, () => {
    manualSeed(5);
    const model = models.create(name, { inChannels: 1, numClasses: 3 }).train();
    // Not smaller: batch norm on 1 x 1 maps of 2 images diverges in a few steps, in torch too.
    const x = randn([4, 1, 64, 64]);
    assertStepsHoldMemory(model, x, { labels: [0, 2, 1, 0], lr: 0.001, evalForward: false });
  });
}

// ------------------------------------------------------------------ bad input

Deno.test("mobile models: wrong inputs and options name the model and what to write", () => {
  scope(() => {
    const mobile = models.mobilenetV2({ inChannels: 1, numClasses: 3, widthMult: 0.25 });
    assert.throws(
      () => mobile(zeros([1, 3, 32, 32])),
      /MobileNetV2: input \[1,3,32,32\] does not fit features\.0 \(Conv2dNormActivation\): expected \[N, 1, H, W\]/,
    );
    assert.throws(() => mobile(zeros([1, 32, 32])), /MobileNetV2: input \[1,32,32\]/);
    free(mobile);
    const eff = new models.EfficientNet(
      { name: "EfficientNet (small)", widthMult: 0.25, depthMult: 0.25, dropout: 0.2 },
      { inChannels: 2 },
    );
    assert.throws(
      () => eff(zeros([1, 1, 32, 32])),
      /EfficientNet \(small\): input \[1,1,32,32\] does not fit features\.0 .*expected \[N, 2, H, W\]/,
    );
    free(eff);
  });
  assert.throws(
    () => models.mobilenetV2({ dropout: 1.5 }),
    /MobileNetV2: dropout must be a number in \[0, 1\]/,
  );
  assert.throws(() => models.mobilenetV2({ widthMult: 0 }), /widthMult must be a number > 0/);
  assert.throws(() => models.mobilenetV2({ numClasses: 0 }), /numClasses must be an integer >= 1/);
  assert.throws(
    () => models.mobilenetV2({ inChannels: 1.5 }),
    /inChannels must be an integer >= 1/,
  );
  assert.throws(
    () => models.mobilenetV2({ roundNearest: 0 }),
    /roundNearest must be an integer >= 1/,
  );
  assert.throws(
    () => models.mobilenetV2({ width_mult: 0.5 } as models.MobileNetV2Options),
    /width_mult/,
  );
  assert.throws(
    () => models.efficientnetB0({ stochasticDepthProb: -0.1 }),
    /stochasticDepthProb must be a number in \[0, 1\]/,
  );
  assert.throws(
    () => models.efficientnetB0({ stochastic_depth_prob: 0.1 } as models.EfficientNetOptions),
    /stochastic_depth_prob/,
  );
  assert.throws(
    () => models.efficientnetB0({ dropout: NaN }),
    /dropout must be a number in \[0, 1\]/,
  );
  assert.throws(
    // @ts-expect-error: a second argument, as torchvision's positional num_classes
    () => models.efficientnetB0({}, 3),
    /models\.efficientnetB0/,
  );
  assert.throws(() => new models.InvertedResidual(8, 8, 3, 6), /stride must be 1 or 2, got 3/);
  assert.throws(() => new models.InvertedResidual(8, 8, 1, 0), /expandRatio must be a number > 0/);
  const cnf = {
    expandRatio: 6,
    kernel: 3,
    stride: 3,
    inputChannels: 8,
    outChannels: 8,
    numLayers: 1,
  };
  assert.throws(() => new models.MBConv(cnf, 0.1), /MBConv: stride must be 1 or 2, got 3/);
  assert.throws(
    () => new models.MBConv({ ...cnf, stride: 1 }, 2),
    /stochasticDepthProb must be a number in \[0, 1\]/,
  );
  assert.throws(() => models.efficientnetStages(0, 1), /widthMult must be a number > 0/);
  assert.throws(
    () =>
      new models.Conv2dNormActivation(
        3,
        8,
        { kernel_size: 3 } as models.Conv2dNormActivationOptions,
      ),
    /kernel_size/,
  );
  assert.throws(
    () => new models.Conv2dNormActivation(3, 8, { kernelSize: 0 }),
    /kernelSize must be an integer >= 1/,
  );
  assert.throws(
    () =>
      new models.SqueezeExcitation(
        8,
        2,
        { scale_activation: null } as models.SqueezeExcitationOptions,
      ),
    /scale_activation/,
  );
});
