/**
 * ConvNeXt against torchvision 0.14: parameter counts, state-dict names and
 * shapes, and stochastic-depth probabilities of convnext_tiny/small/base/
 * large; the module tree, eval logits, gradients of sum(out * G) and one SGD
 * step of a reduced ConvNeXt built through torchvision's class with its
 * weights (tests/fixtures/convnext.json); initialisation; stochastic depth
 * in training; ONNX export run in ONNX Runtime; registry, Grad-CAM layer,
 * memory across training steps and bad inputs. Fixtures:
 * /usr/bin/python3 scripts/make_convnext_fixtures.py.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import {
  evaluation,
  manualSeed,
  models,
  nn,
  noGrad,
  onnx,
  optim,
  randn,
  type Tensor,
} from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";
import { assertStepsHoldMemory } from "./model_fixture.ts";
import { minImageSize } from "../src/models/registry.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";

// ---------------------------------------------------------------- fixtures

type Described = [string, string, ...unknown[]];

interface FullCase {
  model: "convnext_tiny" | "convnext_small" | "convnext_base" | "convnext_large";
  numParams: number;
  /** The names, or the model whose names these are (small, base and large share them). */
  keys: string[] | string;
  shapes: number[][];
  stochasticDepth: number[];
  numParamsCT?: number;
}

interface SmallCase {
  setting: [number, number | null, number][];
  options: models.ConvNeXtOptions;
  modules: Described[];
  weights: Record<string, Stored>;
  input: Stored;
  evalLogits: Stored;
  upstream: Stored;
  inputGrad: Stored;
  gradAbsSums: Record<string, number>;
  grads: Record<string, Stored>;
  sgd: { lr: number; momentum: number; weightDecay: number };
  paramsAfter: Record<string, Stored>;
  logitsAfter: Stored;
}

const FIXTURE = loadFixture<{ full: FullCase[]; small: SmallCase }>("convnext.json");
const SMALL = FIXTURE.small;
const ON_CPU = testDevice === "cpu";
const TOL = ON_CPU ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-3, atol: 1e-4 };

const BUILDERS = {
  convnext_tiny: models.convnextTiny,
  convnext_small: models.convnextSmall,
  convnext_base: models.convnextBase,
  convnext_large: models.convnextLarge,
};

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
    const padding = pair((o.padding ?? 0) as number | [number, number]);
    return [
      name,
      t,
      inPerGroup * o.groups,
      out,
      [kh, kw],
      pair(o.stride ?? 1),
      padding,
      o.groups,
      m.bias !== null,
    ];
  }
  if (m instanceof nn.LayerNorm) {
    return [name, t, [...m.normalizedShape], f9(m.eps), m.weight !== null];
  }
  if (m instanceof nn.StochasticDepth) return [name, t, f9(m.p), m.mode];
  if (m instanceof nn.Linear) return [name, t, m.inFeatures, m.outFeatures, m.bias !== null];
  if (m instanceof models.Permute) return [name, t, [...m.dims]];
  if (m instanceof nn.GELU) return [name, t, m.approximate];
  if (m instanceof nn.Flatten) return [name, t, m.startDim, m.endDim];
  return [name, t];
}

/** The reduced model of the fixture, through our class, with torchvision's weights. */
function buildSmall(options: models.ConvNeXtOptions = {}): models.ConvNeXt {
  const setting = SMALL.setting.map(([i, o, n]) => new models.CNBlockConfig(i, o, n));
  const net = new models.ConvNeXt(setting, { ...SMALL.options, ...options });
  const state = new Map(
    Object.entries(SMALL.weights).map(([k, v]) => [k, fromStored(v, { device: testDevice })]),
  );
  net.to(testDevice);
  net.loadStateDict(state, { strict: true });
  for (const t of state.values()) t.dispose();
  return net;
}

/** Tolerance of a gradient: relative to its largest element, plus a little of each. */
function gradTol(ref: Stored, what: string) {
  const max = ref.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return ON_CPU ? { rtol: 1e-3, atol: 1e-4 * max, what } : { rtol: 1e-2, atol: 1e-3 * max, what };
}

// ------------------------------------------------ the four models vs torchvision

for (const c of FIXTURE.full) {
  Deno.test(`convnext: ${c.model} has torchvision's ${c.numParams.toLocaleString("en")} parameters, state dict and stochastic depth`, () => {
    const net = BUILDERS[c.model]();
    try {
      assert.equal(net.numParameters(), c.numParams);
      const keys = typeof c.keys === "string"
        ? FIXTURE.full.find((f) => f.model === c.keys)!.keys as string[]
        : c.keys;
      const state = [...net.stateDict()];
      assert.deepEqual(state.map(([k]) => k), keys);
      assert.deepEqual(state.map(([, v]) => [...v.shape]), c.shapes);
      const probs = [...net.modules()].filter((m) => m instanceof models.CNBlock)
        .map((b) => f9((b as models.CNBlock).stochastic_depth.p));
      assert.deepEqual(probs, c.stochasticDepth);
      if (c.model === "convnext_tiny") checkInit(net);
    } finally {
      free(net);
    }
    if (c.numParamsCT !== undefined) {
      using ct = BUILDERS[c.model]({ inChannels: 1, numClasses: 3 });
      assert.equal(ct.numParameters(), c.numParamsCT);
      const stem = (ct.features[0] as nn.Sequential)[0] as nn.Conv2d;
      assert.deepEqual([...stem.weight.shape], [96, 1, 4, 4]);
    }
  });
}

/** torchvision's init: conv and Linear weights N(0, 0.02) cut at +-2, biases 0, norms 1 and 0, layer_scale 1e-6. */
function checkInit(net: models.ConvNeXt): void {
  for (const [k, p] of net.namedParameters()) {
    const v = p.toArray();
    const owner = k.slice(0, k.lastIndexOf("."));
    const isNorm = k.endsWith("weight") && v.length === p.shape[0] && p.ndim === 1;
    if (k.endsWith("layer_scale")) {
      assert.ok(v.every((x) => x === Math.fround(1e-6)), k);
    } else if (k.endsWith("bias")) {
      assert.ok(v.every((x) => x === 0), `${k} is zero`);
    } else if (isNorm) {
      assert.ok(v.every((x) => x === 1), `${owner} norm weight is one`);
    } else if (v.length >= 4096) {
      let s = 0, ss = 0;
      for (const x of v) [s, ss] = [s + x, ss + x * x];
      const mean = s / v.length, std = Math.sqrt(ss / v.length - mean * mean);
      assert.ok(Math.abs(std - 0.02) < 0.02 * 0.05, `${k}: std ${std}`);
      assert.ok(Math.abs(mean) < 0.002, `${k}: mean ${mean}`);
      assert.ok(v.every((x) => Math.abs(x) <= 2), `${k} within the cut`);
    }
  }
}

Deno.test("convnext: the configurations are torchvision's block settings", () => {
  const rows = (c: models.ConvNeXtConfig) =>
    c.blockSetting.map((s) => [s.inputChannels, s.outChannels, s.numLayers]);
  assert.deepEqual(rows(models.CONVNEXT_TINY), [[96, 192, 3], [192, 384, 3], [384, 768, 9], [
    768,
    null,
    3,
  ]]);
  assert.deepEqual(rows(models.CONVNEXT_SMALL), [[96, 192, 3], [192, 384, 3], [384, 768, 27], [
    768,
    null,
    3,
  ]]);
  assert.deepEqual(rows(models.CONVNEXT_BASE), [[128, 256, 3], [256, 512, 3], [512, 1024, 27], [
    1024,
    null,
    3,
  ]]);
  assert.deepEqual(rows(models.CONVNEXT_LARGE), [[192, 384, 3], [384, 768, 3], [768, 1536, 27], [
    1536,
    null,
    3,
  ]]);
  assert.deepEqual(
    [models.CONVNEXT_TINY, models.CONVNEXT_SMALL, models.CONVNEXT_BASE, models.CONVNEXT_LARGE]
      .map((c) => c.stochasticDepthProb),
    [0.1, 0.4, 0.5, 0.5],
  );
});

// ------------------------------------------------ the reduced model's numbers

Deno.test("convnext: the reduced model has torchvision's module tree", () => {
  using net = buildSmall();
  assert.deepEqual([...net.namedModules()].map(([k, m]) => describe(k, m)), SMALL.modules);
});

Deno.test("convnext: eval logits are torchvision's", () => {
  using net = buildSmall();
  net.eval();
  using x = fromStored(SMALL.input, { device: testDevice });
  using y = noGrad(() => net(x));
  const max = Math.max(...SMALL.evalLogits.data.map(Math.abs));
  assert.ok(max > 0.1, `logits large enough to compare (${max})`);
  assertClose(y, SMALL.evalLogits.data, { rtol: TOL.rtol, atol: TOL.atol * max, what: "logits" });
});

Deno.test("convnext: gradients of sum(out * G) for the input and the parameters are torchvision's", () => {
  using net = buildSmall();
  net.eval();
  using x = fromStored(SMALL.input, { device: testDevice, requiresGrad: true });
  using g = fromStored(SMALL.upstream, { device: testDevice });
  net(x).mul(g).sum().backward();
  assertClose(x.grad!, SMALL.inputGrad.data, gradTol(SMALL.inputGrad, "input gradient"));
  const params = new Map(net.namedParameters());
  assert.deepEqual([...params.keys()], Object.keys(SMALL.gradAbsSums));
  for (const [k, sum] of Object.entries(SMALL.gradAbsSums)) {
    const got = params.get(k)!.grad!.abs().sum().item();
    assertClose([got], [sum], { rtol: 1e-3, atol: 1e-6, what: `sum |grad| of ${k}` });
  }
  for (const [k, ref] of Object.entries(SMALL.grads)) {
    assertClose(params.get(k)!.grad!, ref.data, gradTol(ref, `${k}.grad`));
  }
});

Deno.test("convnext: one SGD step (momentum, weight decay) gives torchvision's parameters and logits", () => {
  using net = buildSmall();
  net.eval();
  const { lr, momentum, weightDecay } = SMALL.sgd;
  const opt = new optim.SGD(net.parameters(), { lr, momentum, weightDecay });
  using x = fromStored(SMALL.input, { device: testDevice });
  using g = fromStored(SMALL.upstream, { device: testDevice });
  opt.zeroGrad();
  net(x).mul(g).sum().backward();
  opt.step();
  const params = new Map(net.namedParameters());
  for (const [k, ref] of Object.entries(SMALL.paramsAfter)) {
    const max = Math.max(...ref.data.map(Math.abs));
    assertClose(params.get(k)!, ref.data, { rtol: TOL.rtol, atol: TOL.atol * max, what: k });
  }
  using y = noGrad(() => net(x));
  const max = Math.max(...SMALL.logitsAfter.data.map(Math.abs));
  assertClose(y, SMALL.logitsAfter.data, { rtol: 1e-3, atol: 1e-4 * max, what: "logits after" });
  opt.zeroGrad();
  for (const s of opt.state.values()) s.tensors.forEach((t) => t.dispose());
});

// ------------------------------------------------ stochastic depth, LayerNorm2d

Deno.test("convnext: stochastic depth drops whole samples' branches in training only", () => {
  manualSeed(3);
  using block = new models.CNBlock(8, 0.5, 1);
  using x = randn([3, 8, 6, 6]);
  using dropped = block(x);
  assert.deepEqual(dropped.toArray(), x.toArray(), "p = 1 in training: the input alone");
  block.eval();
  using kept = noGrad(() => block(x));
  assert.ok(kept.sub(x).abs().max().item() > 1e-3, "evaluation keeps the branch");
  // p = 0.5: each sample keeps its branch (scaled by 2) or the input alone.
  using half = new models.CNBlock(8, 0.5, 0.5);
  half.eval();
  using branch = noGrad(() => half(x)).sub(x);
  half.train();
  const seen = new Set<string>();
  for (let i = 0; i < 20; i++) {
    using out = noGrad(() => half(x)).sub(x);
    for (let n = 0; n < 3; n++) {
      const got = out.select(0, n).toArray(), want = branch.select(0, n).toArray();
      const zero = got.every((v) => v === 0);
      if (!zero) assertClose(got, want.map((v) => 2 * v), { rtol: 1e-5, atol: 1e-6, what: "kept" });
      seen.add(zero ? "dropped" : "kept");
    }
  }
  assert.deepEqual([...seen].sort(), ["dropped", "kept"]);
});

Deno.test("convnext: LayerNorm2d is LayerNorm over the channels of each pixel", () => {
  manualSeed(4);
  using ln = new nn.LayerNorm2d(5, { eps: 1e-6 });
  noGrad(() => {
    ln.weight!.copy_(randn([5]));
    ln.bias!.copy_(randn([5]));
  });
  using x = randn([2, 5, 3, 4]);
  using ours = ln(x);
  using ref = nn.functional.layerNorm(x.permute([0, 2, 3, 1]), [5], ln.weight, ln.bias, 1e-6)
    .permute([0, 3, 1, 2]);
  assertClose(ours, ref.toArray(), { rtol: 1e-5, atol: 1e-6 });
  assert.deepEqual([...ln.stateDict().keys()], ["weight", "bias"]);
  assert.throws(
    () => ln(randn([2, 3, 4, 5])),
    /LayerNorm2d\(5\): expected input \[N, 5, H, W\], got \[2,3,4,5\]/,
  );
  assert.throws(() => ln(randn([2, 4, 5])), /use nn\.LayerNorm\(5\)/);
  assert.throws(() => new nn.LayerNorm2d([4, 5] as unknown as number), /takes one size C/);
});

// ------------------------------------------------ ONNX

Deno.test("convnext: the reduced model exported to ONNX runs in ONNX Runtime as torchvision's", async () => {
  using net = buildSmall();
  net.train(); // exported as in eval mode whatever the flag
  const bytes = onnx.exportOnnx(net, { inputShape: ["N", 1, 32, 32] });
  net.eval();
  const session = await ort.InferenceSession.create(bytes);
  try {
    const image = new ort.Tensor("float32", Float32Array.from(SMALL.input.data), SMALL.input.shape);
    const out = await session.run({ image });
    assert.deepEqual(out.logits.dims, [2, 3]);
    const max = Math.max(...SMALL.evalLogits.data.map(Math.abs));
    assertClose(out.logits.data as Float32Array, SMALL.evalLogits.data, {
      rtol: 1e-4,
      atol: 1e-5 * max,
      what: "ONNX Runtime logits",
    });
  } finally {
    await session.release();
  }
  await assertRunsAsOurs(net, bytes, [1, 32, 32]); // batches of 2 and 3 against our forward
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 1, 15, 15] }),
    /ConvNeXt: input \[N,1,15,15\] does not fit features .*H, W >= 16/,
  );
});

// ------------------------------------------------ registry, habits, errors

Deno.test("convnext: the registry builds them under our and torchvision's names", () => {
  const names = models.names();
  for (const n of ["convnexttiny", "convnextsmall", "convnextbase", "convnextlarge"]) {
    assert.ok(names.includes(n), n);
    assert.equal(minImageSize(n), 32);
    assert.ok(!models.takesOption(n, "dropout"));
  }
  assert.deepEqual(
    ["convnext_tiny", "ConvNeXt_Small", "convnext_base", "CONVNEXT_LARGE"].map(
      models.canonicalName,
    ),
    ["convnexttiny", "convnextsmall", "convnextbase", "convnextlarge"],
  );
  using net = models.create("convnext_tiny", { inChannels: 1, numClasses: 3, imageSize: 64 });
  assert.ok(net instanceof models.ConvNeXt);
  assert.equal(net.numParameters(), FIXTURE.full[0].numParamsCT);
  assert.equal(evaluation.gradCamLayer(net), "features.7.2");
  assert.throws(
    () => models.create("convnext_tiny", { imageSize: 31 }),
    /convnexttiny needs imageSize to be an integer >= 32, got 31/,
  );
  assert.throws(
    () => models.create("convnext_tiny", { dropout: 0.2 }),
    /convnexttiny has no option 'dropout'/,
  );
});

Deno.test("convnext: options and settings a PyTorch user writes do what they mean or say what to write", () => {
  assert.throws(
    () => models.convnextTiny({ stochastic_depth_prob: 0.2 } as models.ConvNeXtOptions),
    /stochastic_depth_prob/,
  );
  assert.throws(
    () => models.convnextTiny({ stochasticDepthProb: 1.5 }),
    /stochasticDepthProb must be a number in \[0, 1\]/,
  );
  assert.throws(
    () => models.convnextTiny({ layerScale: NaN }),
    /layerScale must be a finite number/,
  );
  assert.throws(() => new models.ConvNeXt([]), /needs a non-empty blockSetting/);
  assert.throws(
    () =>
      new models.ConvNeXt([
        new models.CNBlockConfig(8, 16, 1),
        new models.CNBlockConfig(8, null, 1),
      ]),
    /stage 1 takes 8 channels, but stage 0 gives 16; set the earlier stage's outChannels to 8/,
  );
  assert.throws(
    () => new (models.CNBlockConfig as new (...a: number[]) => unknown)(8, 16),
    /takes inputChannels, outChannels and numLayers/,
  );
  // torchvision's class: stochastic depth 0 by default; the builders' defaults are per model.
  const setting = [new models.CNBlockConfig(4, 8, 1), new models.CNBlockConfig(8, null, 2)];
  using bare = new models.ConvNeXt(setting);
  assert.equal(bare.options.stochasticDepthProb, 0);
  using given = new models.ConvNeXt(setting, { stochasticDepthProb: 0.3, layerScale: 0.5 });
  const blocks = [...given.modules()].filter((m) =>
    m instanceof models.CNBlock
  ) as models.CNBlock[];
  assert.deepEqual(blocks.map((b) => b.stochastic_depth.p), [0, 0.15, 0.3]);
  assert.deepEqual(blocks[0].layer_scale.toArray(), new Float32Array(4).fill(0.5));
  // One block: torchvision divides by zero; the block gets the ramp's first value, 0.
  using one = new models.ConvNeXt([new models.CNBlockConfig(4, null, 1)], {
    stochasticDepthProb: 0.2,
  });
  assert.equal(((one.features[1] as nn.Sequential)[0] as models.CNBlock).stochastic_depth.p, 0);
});

Deno.test("convnext: ImageNet-style weights load into a 1-channel, 3-class model (stem adapted, classifier kept)", () => {
  const setting = SMALL.setting.map(([i, o, n]) => new models.CNBlockConfig(i, o, n));
  using imagenet = new models.ConvNeXt(setting); // 3 channels, 1000 classes
  using net = new models.ConvNeXt(setting, { inChannels: 1, numClasses: 3 });
  const report = models.loadPretrained(net, imagenet.stateDict());
  assert.deepEqual(report.adapted, [{
    name: "features.0.0.weight",
    from: [4, 3, 4, 4],
    to: [4, 1, 4, 4],
  }]);
  assert.deepEqual(report.skipped.map((s) => s.name), ["classifier.2.weight", "classifier.2.bias"]);
});

Deno.test("convnext: a wrong input names the layer and the shape it takes", () => {
  using net = buildSmall();
  net.eval();
  assert.throws(
    () => net(randn([2, 3, 32, 32])),
    /ConvNeXt: input \[2,3,32,32\] does not fit features\.0 \(Conv2dNormActivation\): expected \[N, 1, H, W\] with H, W >= 16/,
  );
  // Two downsamplings: 16 = 4 (stem) x 2 x 2, the side that reaches 1 x 1.
  assert.throws(() => net(randn([2, 1, 15, 40])), /with H, W >= 16/);
  using y = noGrad(() => net(randn([2, 1, 16, 23])));
  assert.deepEqual(y.shape, [2, 3]);
  assert.throws(() => net(randn([1, 32, 32])), /expected \[N, 1, H, W\]/);
});

Deno.test("convnext: training steps hold memory flat", () => {
  manualSeed(5);
  const net = buildSmall();
  net.train();
  assertStepsHoldMemory(net, randn([2, 1, 32, 32], { device: testDevice }));
});

Deno.test("convnext: the reduced model trains on CT-shaped batches (loss falls)", () => {
  manualSeed(6);
  using net = buildSmall({ stochasticDepthProb: 0 });
  net.train();
  const opt = new optim.AdamW(net.parameters(), { lr: 1e-3 });
  using x = randn([4, 1, 32, 32], { device: testDevice });
  const y = [0, 1, 2, 1];
  const lossFn = new nn.CrossEntropyLoss();
  const losses: number[] = [];
  for (let i = 0; i < 15; i++) {
    opt.zeroGrad();
    const loss = lossFn(net(x), labels(y));
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  assert.ok(losses.at(-1)! < losses[0] * 0.5, `losses ${losses.map((l) => l.toFixed(3))}`);
  opt.zeroGrad();
  for (const s of opt.state.values()) s.tensors.forEach((t: Tensor) => t.dispose());
});

function labels(y: number[]): Tensor {
  return fromStored({ shape: [y.length], data: y, dtype: "int32" }, { device: testDevice });
}
