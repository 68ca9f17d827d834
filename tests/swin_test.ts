/**
 * Swin Transformer against torchvision 0.14: parameter counts, state-dict
 * names and shapes, and stochastic-depth probabilities of swin_t/s/b; the
 * module tree, relative position index, eval logits (maps padded to whole
 * windows, a window covering the map, covering it along one axis),
 * gradients of sum(out * G), one SGD step and bf16 autocast of a reduced
 * Swin built through torchvision's class with its weights; a non-square
 * window attention (tests/fixtures/swin.json); initialisation; stochastic
 * depth and dropout in training only; registry, pretrained loading, memory
 * across training steps and bad inputs. Fixtures:
 * /usr/bin/python3 scripts/make_swin_fixtures.py.
 */
import assert from "node:assert/strict";
import {
  autocast,
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
import { backend } from "../src/tensor/device.ts";

// ---------------------------------------------------------------- fixtures

type Described = [string, string, ...unknown[]];

interface FullCase {
  model: "swin_t" | "swin_s" | "swin_b";
  numParams: number;
  /** The names, or the model whose names these are (swin_s and swin_b share them). */
  keys: string[] | string;
  shapes: number[][];
  stochasticDepth: number[];
  numParamsCT?: number;
}

interface SmallCase {
  config: models.SwinConfig;
  options: models.SwinOptions;
  modules: Described[];
  weights: Record<string, Stored>;
  index: Stored;
  cases: Record<"padded" | "covered" | "half", { input: Stored; evalLogits: Stored }>;
  upstream: Stored;
  inputGrad: Stored;
  gradAbsSums: Record<string, number>;
  grads: Record<string, Stored>;
  sgd: { lr: number; momentum: number; weightDecay: number };
  paramsAfter: Record<string, Stored>;
  logitsAfter: Stored;
  autocast: { logits: Stored; grads: Record<string, Stored> };
}

interface WindowCase {
  weights: Record<string, Stored>;
  input: Stored;
  output: Stored;
}

const FIXTURE = loadFixture<{ full: FullCase[]; small: SmallCase; window: WindowCase }>(
  "swin.json",
);
const SMALL = FIXTURE.small;
const ON_CPU = testDevice === "cpu";
const TOL = ON_CPU ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-3, atol: 1e-4 };

const BUILDERS = { swin_t: models.swinT, swin_s: models.swinS, swin_b: models.swinB };

/** Frees a model's parameters and buffers. */
function free(model: nn.Module): void {
  for (const t of model.stateDict().values()) t.dispose();
}

/** A float as the fixture writes it (9 significant digits). */
const f9 = (v: number) => Number(v.toPrecision(9));
const maxAbs = (v: ArrayLike<number>) =>
  Array.from(v).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** A module's class and hyper-parameters, as the generator's `describe`. */
function describe(name: string, m: nn.Module): Described {
  // torchvision's `MLP` is our MLPBlock (the same layers and names).
  const t = m instanceof models.MLPBlock ? "MLP" : m.constructor.name;
  if (m instanceof nn.Conv2d) {
    const [out, inPerGroup, kh, kw] = m.weight.shape;
    const s = m.options.stride ?? 1;
    return [name, t, inPerGroup, out, [kh, kw], typeof s === "number" ? [s, s] : [...s], !!m.bias];
  }
  if (m instanceof nn.LayerNorm) return [name, t, [...m.normalizedShape], f9(m.eps)];
  if (m instanceof nn.StochasticDepth) return [name, t, f9(m.p), m.mode];
  if (m instanceof nn.Linear) return [name, t, m.inFeatures, m.outFeatures, m.bias !== null];
  if (m instanceof models.Permute) return [name, t, [...m.dims]];
  if (m instanceof nn.GELU) return [name, t, m.approximate];
  if (m instanceof nn.Dropout) return [name, t, f9(m.p)];
  if (m instanceof nn.Flatten) return [name, t, m.startDim, m.endDim];
  if (m instanceof models.ShiftedWindowAttention) {
    return [name, t, [...m.windowSize], [...m.shiftSize], m.numHeads];
  }
  if (m instanceof models.PatchMerging) return [name, t, m.dim];
  return [name, t];
}

/** The fixture's weights, with the shared relative_position_index where the model has one. */
function fixtureState(model: nn.Module, weights: Record<string, Stored>, index?: Stored) {
  const state = new Map<string, Tensor>();
  for (const k of model.stateDict().keys()) {
    const s = k.endsWith("relative_position_index") && index ? index : weights[k];
    assert.ok(s !== undefined, `fixture has ${k}`);
    state.set(k, fromStored(s, { device: testDevice }));
  }
  return state;
}

/** The reduced model of the fixture, through our class, with torchvision's weights. */
function buildSmall(options: models.SwinOptions = {}): models.SwinTransformer {
  const net = new models.SwinTransformer(SMALL.config, { ...SMALL.options, ...options });
  net.to(testDevice);
  const state = fixtureState(net, SMALL.weights, SMALL.index);
  net.loadStateDict(state, { strict: true });
  for (const t of state.values()) t.dispose();
  return net;
}

/** Tolerance of a gradient: relative to its largest element, plus a little of each. */
function gradTol(ref: Stored, what: string) {
  const max = maxAbs(ref.data);
  return ON_CPU ? { rtol: 1e-3, atol: 1e-4 * max, what } : { rtol: 1e-2, atol: 1e-3 * max, what };
}

// ------------------------------------------------ the three models vs torchvision

for (const c of FIXTURE.full) {
  Deno.test(`swin: ${c.model} has torchvision's ${c.numParams.toLocaleString("en")} parameters, state dict and stochastic depth`, () => {
    const net = BUILDERS[c.model]();
    try {
      assert.equal(net.numParameters(), c.numParams);
      const keys = typeof c.keys === "string"
        ? FIXTURE.full.find((f) => f.model === c.keys)!.keys as string[]
        : c.keys;
      const state = [...net.stateDict()];
      assert.deepEqual(state.map(([k]) => k), keys);
      assert.deepEqual(state.map(([, v]) => [...v.shape]), c.shapes);
      const probs = [...net.modules()].filter((m) => m instanceof models.SwinTransformerBlock)
        .map((b) => f9((b as models.SwinTransformerBlock).stochastic_depth.p));
      assert.deepEqual(probs, c.stochasticDepth);
      if (c.model === "swin_t") checkInit(net);
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

/** torchvision's init: Linear weights and bias tables N(0, 0.02) (cut at +-2), biases 0, norms 1 and 0. */
function checkInit(net: models.SwinTransformer): void {
  const index = models.relativePositionIndex([7, 7]);
  for (const [k, t] of net.stateDict()) {
    if (k.endsWith("relative_position_index")) {
      assert.equal(t.dtype, "int32", k);
      assert.deepEqual(t.toArray(), index, k);
      continue;
    }
    if (k.startsWith("features.0.0.")) continue; // the stem: a fresh Conv2d, as torchvision's
    const v = t.toArray();
    const isNorm = t.ndim === 1 && (k.includes("norm") || k === "features.0.2.weight");
    if (isNorm && k.endsWith("weight")) assert.ok(v.every((x) => x === 1), `${k} is one`);
    else if (k.endsWith("bias")) assert.ok(v.every((x) => x === 0), `${k} is zero`);
    else if (v.length >= 4096 || k.endsWith("relative_position_bias_table")) {
      let s = 0, ss = 0;
      for (const x of v) [s, ss] = [s + x, ss + x * x];
      const mean = s / v.length, std = Math.sqrt(ss / v.length - mean * mean);
      const slack = v.length >= 4096 ? 0.05 : 0.25;
      assert.ok(Math.abs(std - 0.02) < 0.02 * slack, `${k}: std ${std}`);
      assert.ok(v.every((x) => Math.abs(x) <= 2), `${k} within the cut`);
    }
  }
}

Deno.test("swin: the configurations are torchvision's", () => {
  const row = (c: models.SwinConfig) => [
    c.patchSize,
    c.embedDim,
    c.depths,
    c.numHeads,
    c.windowSize,
    c.stochasticDepthProb,
  ];
  assert.deepEqual(row(models.SWIN_T), [[4, 4], 96, [2, 2, 6, 2], [3, 6, 12, 24], [7, 7], 0.2]);
  assert.deepEqual(row(models.SWIN_S), [[4, 4], 96, [2, 2, 18, 2], [3, 6, 12, 24], [7, 7], 0.3]);
  assert.deepEqual(row(models.SWIN_B), [[4, 4], 128, [2, 2, 18, 2], [4, 8, 16, 32], [7, 7], 0.5]);
});

// ------------------------------------------------ the reduced model's numbers

Deno.test("swin: the reduced model has torchvision's module tree and relative position index", () => {
  using net = buildSmall();
  assert.deepEqual([...net.namedModules()].map(([k, m]) => describe(k, m)), SMALL.modules);
  assert.deepEqual(Array.from(models.relativePositionIndex([4, 4])), SMALL.index.data);
  const w = FIXTURE.window.weights.relative_position_index;
  assert.deepEqual(Array.from(models.relativePositionIndex([3, 5])), w.data);
});

for (const name of ["padded", "covered", "half"] as const) {
  Deno.test(`swin: eval logits are torchvision's (${name} input)`, () => {
    const c = SMALL.cases[name];
    using net = buildSmall();
    net.eval();
    using x = fromStored(c.input, { device: testDevice });
    using y = noGrad(() => net(x));
    const max = maxAbs(c.evalLogits.data);
    assert.ok(max > 0.1, `logits large enough to compare (${max})`);
    assertClose(y, c.evalLogits.data, { rtol: TOL.rtol, atol: TOL.atol * max, what: "logits" });
  });
}

Deno.test("swin: a non-square window and shift attend as torchvision's ShiftedWindowAttention", () => {
  const c = FIXTURE.window;
  using attn = new models.ShiftedWindowAttention(8, [3, 5], [1, 2], 2).to(testDevice);
  const state = fixtureState(attn, c.weights);
  attn.loadStateDict(state);
  for (const t of state.values()) t.dispose();
  attn.eval();
  using x = fromStored(c.input, { device: testDevice });
  using y = noGrad(() => attn(x));
  assert.deepEqual(y.shape, c.output.shape);
  const max = maxAbs(c.output.data);
  assertClose(y, c.output.data, { rtol: TOL.rtol, atol: TOL.atol * max, what: "attention output" });
});

Deno.test("swin: gradients of sum(out * G) for the input and the parameters are torchvision's", () => {
  using net = buildSmall();
  net.eval();
  using x = fromStored(SMALL.cases.padded.input, { device: testDevice, requiresGrad: true });
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

Deno.test("swin: one SGD step (momentum, weight decay) gives torchvision's parameters and logits", () => {
  using net = buildSmall();
  net.eval();
  const { lr, momentum, weightDecay } = SMALL.sgd;
  const opt = new optim.SGD(net.parameters(), { lr, momentum, weightDecay });
  using x = fromStored(SMALL.cases.padded.input, { device: testDevice });
  using g = fromStored(SMALL.upstream, { device: testDevice });
  opt.zeroGrad();
  net(x).mul(g).sum().backward();
  opt.step();
  const params = new Map(net.namedParameters());
  for (const [k, ref] of Object.entries(SMALL.paramsAfter)) {
    const max = maxAbs(ref.data);
    assertClose(params.get(k)!, ref.data, { rtol: TOL.rtol, atol: TOL.atol * max, what: k });
  }
  using y = noGrad(() => net(x));
  const max = maxAbs(SMALL.logitsAfter.data);
  assertClose(y, SMALL.logitsAfter.data, { rtol: 1e-3, atol: 1e-4 * max, what: "logits after" });
  opt.zeroGrad();
  for (const s of opt.state.values()) s.tensors.forEach((t) => t.dispose());
});

const level = new Int32Array(1);
const lib = backend(testDevice);
const noBf16 = lib.lits_bf16_support === null || lib.lits_bf16_support(level) !== 0 ||
  level[0] === 0;

/** max |a - b|. */
function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Close to PyTorch's autocast result, as tests/autocast_test.ts judges: within
 * 1e-2 of the result's scale, or, where PyTorch's own result strays farther
 * from its fp32 one (its GELU, softmax and residual adds run on bf16
 * activations; ours on the fp32 results of the bf16 products), within twice
 * that spread, while ours strays from PyTorch's fp32 result by no more than
 * 1.5 times PyTorch's own spread.
 */
function closeToTorch(actual: Tensor, torch: Stored, fp32: Stored, what: string): void {
  const ours = actual.toArray(), spread = distance(torch.data, fp32.data);
  const tol = Math.max(1e-2 * maxAbs(torch.data), 2 * spread);
  assertClose(ours, torch.data, { rtol: 0, atol: tol, what: `${what} vs torch's autocast` });
  const ourSpread = distance(ours, fp32.data);
  assert.ok(
    ourSpread <= Math.max(1.5 * spread, 1e-2 * maxAbs(fp32.data)),
    `${what}: ${ourSpread} from fp32, torch's autocast ${spread}`,
  );
  assert.ok(ourSpread > 0, `${what}: autocast changed nothing`);
}

Deno.test({
  name: "swin: bf16 autocast logits and gradients are PyTorch's CPU autocast's (1e-2 of scale)",
  ignore: noBf16,
  fn() {
    using net = buildSmall();
    net.eval();
    using x = fromStored(SMALL.cases.padded.input, { device: testDevice });
    using g = fromStored(SMALL.upstream, { device: testDevice });
    const out = autocast("bfloat16", () => net(x));
    const ref = SMALL.autocast;
    closeToTorch(out, ref.logits, SMALL.cases.padded.evalLogits, "logits");
    out.mul(g).sum().backward();
    const params = new Map(net.namedParameters());
    for (const [k, s] of Object.entries(ref.grads)) {
      const grad = params.get(k)!.grad!;
      assert.equal(grad.dtype, "float32");
      closeToTorch(grad, s, SMALL.grads[k], `${k}.grad`);
    }
  },
});

// ------------------------------------------------ training-only parts, init of the parts

Deno.test("swin: stochastic depth and dropouts act in training only", () => {
  manualSeed(3);
  using x = randn([2, 5, 6, 8]);
  using block = new models.SwinTransformerBlock(8, 2, [4, 4], [2, 2], {
    stochasticDepthProb: 1,
  });
  using dropped = block(x);
  assert.deepEqual(dropped.toArray(), x.toArray(), "p = 1 in training: the input alone");
  block.eval();
  using kept = noGrad(() => block(x));
  assert.ok(kept.sub(x).abs().max().item() > 1e-3, "evaluation keeps the branches");
  // torchvision 0.14 drops attention weights even in eval mode; here dropout is a training thing.
  using noisy = new models.SwinTransformerBlock(8, 2, [4, 4], [2, 2], {
    dropout: 0.5,
    attentionDropout: 0.5,
  });
  noisy.eval();
  using a = noGrad(() => noisy(x)), b = noGrad(() => noisy(x));
  assert.deepEqual(a.toArray(), b.toArray(), "eval is deterministic");
  noisy.train();
  using c = noGrad(() => noisy(x));
  assert.ok(c.sub(a).abs().max().item() > 1e-3, "training drops");
});

Deno.test("swin: the shifted-window mask is torchvision's region labelling", () => {
  // 4 x 4 map, 2 x 2 windows, shift 1: the last window mixes four regions.
  const mask = models.shiftedWindowMask([4, 4], [2, 2], [1, 1]);
  const window = (w: number) => Array.from(mask.subarray(w * 16, w * 16 + 16));
  assert.ok(window(0).every((v) => v === 0), "the first window is one region");
  assert.deepEqual(window(1), [
    0,
    -100,
    0,
    -100,
    -100,
    0,
    -100,
    0,
    0,
    -100,
    0,
    -100,
    -100,
    0,
    -100,
    0,
  ]);
  assert.equal(window(3).filter((v) => v === 0).length, 4, "four regions: each token alone");
  // Shift 0 along H (the window covers it): Python's slices make H one region.
  const half = models.shiftedWindowMask([2, 4], [2, 2], [0, 1]);
  assert.deepEqual(Array.from(half.subarray(16, 32)), window(1));
});

// ------------------------------------------------ ONNX

Deno.test("swin: ONNX export writes every weight (tests/swin_onnx_test.ts runs it in ONNX Runtime)", () => {
  using net = buildSmall();
  const bytes = onnx.exportOnnx(net, { inputShape: ["N", 1, 32, 32] });
  assert.ok(bytes.length > 4 * net.numParameters());
});

// ------------------------------------------------ registry, habits, errors

Deno.test("swin: the registry builds them under torchvision's and our names", () => {
  const names = models.names();
  for (const n of ["swin_t", "swin_s", "swin_b"]) {
    assert.ok(names.includes(n), n);
    assert.equal(minImageSize(n), 4);
    assert.ok(models.takesOption(n, "dropout") && models.takesOption(n, "attentionDropout"));
  }
  assert.deepEqual(["Swin_T", "swinS", "SWINB"].map(models.canonicalName), [
    "swin_t",
    "swin_s",
    "swin_b",
  ]);
  using net = models.create("swin_t", { inChannels: 1, numClasses: 3, imageSize: 224 });
  assert.ok(net instanceof models.SwinTransformer);
  assert.equal(net.numParameters(), FIXTURE.full[0].numParamsCT);
  assert.throws(() => models.create("swin_t", { imageSize: 3 }), /swin_t needs imageSize .* >= 4/);
  assert.throws(
    () => models.create("swin_t", { representationSize: 8 }),
    /swin_t has no option 'representationSize'/,
  );
});

Deno.test("swin: options a PyTorch user writes do what they mean or say what to write", () => {
  assert.throws(
    () => models.swinT({ stochastic_depth_prob: 0.2 } as models.SwinOptions),
    /stochastic_depth_prob/,
  );
  assert.throws(() => models.swinT({ norm_layer: null } as models.SwinOptions), /norm_layer/);
  assert.throws(
    () => models.swinT({ stochasticDepthProb: 1.5 }),
    /stochasticDepthProb must be a number in \[0, 1\]/,
  );
  const tiny = { ...SMALL.config };
  assert.throws(
    () => new models.SwinTransformer({ ...tiny, numHeads: [2] }),
    /numHeads \[2\] needs one entry per stage of depths \[2,2\]/,
  );
  assert.throws(
    () => new models.SwinTransformer({ ...tiny, numHeads: [3, 4] }),
    /stage 0 has 8 channels, which do not split into 3 heads/,
  );
  assert.throws(
    () => new models.SwinTransformer({ ...tiny, windowSize: 7 as unknown as [number, number] }),
    /windowSize must be \[height, width\]/,
  );
  using net = new models.SwinTransformer(tiny, { stochasticDepthProb: 0.3, mlpRatio: 2 });
  const blocks = [...net.modules()].filter((m) => m instanceof models.SwinTransformerBlock);
  assert.deepEqual(
    blocks.map((b) => f9((b as models.SwinTransformerBlock).stochastic_depth.p)),
    [0, 0.1, 0.2, 0.3],
  );
  assert.deepEqual(blocks.map((b) => [...(b as models.SwinTransformerBlock).attn.shiftSize]), [
    [0, 0],
    [2, 2],
    [0, 0],
    [2, 2],
  ]);
  const attn = (blocks[0] as models.SwinTransformerBlock).attn as unknown as Record<
    string,
    unknown
  >;
  assert.throws(() => attn.window_size, /attn\.windowSize/);
  // One block: torchvision divides by zero; the block gets the ramp's first value, 0.
  using one = new models.SwinTransformer({ ...tiny, depths: [1], numHeads: [2] });
  assert.equal(
    ((one.features[1] as nn.Sequential)[0] as models.SwinTransformerBlock).stochastic_depth.p,
    0,
  );
});

Deno.test("swin: ImageNet-style weights load into a 1-channel, 3-class model (stem adapted, head kept)", () => {
  using imagenet = new models.SwinTransformer(SMALL.config); // 3 channels, 1000 classes
  using net = new models.SwinTransformer(SMALL.config, { inChannels: 1, numClasses: 3 });
  const report = models.loadPretrained(net, imagenet.stateDict());
  assert.deepEqual(report.adapted, [{
    name: "features.0.0.weight",
    from: [8, 3, 4, 4],
    to: [8, 1, 4, 4],
  }]);
  assert.deepEqual(report.skipped.map((s) => s.name), ["head.weight", "head.bias"]);
});

Deno.test("swin: a wrong input names the layer and the shape it takes", () => {
  using net = buildSmall();
  net.eval();
  assert.throws(
    () => net(randn([2, 3, 32, 32])),
    /Swin tiny: input \[2,3,32,32\] does not fit features\.0 \(Sequential\): expected \[N, 1, H, W\] with H, W >= 4/,
  );
  assert.throws(() => net(randn([2, 1, 3, 40])), /with H, W >= 4/);
  using y = noGrad(() => net(randn([2, 1, 4, 7])));
  assert.deepEqual(y.shape, [2, 3]);
  assert.throws(() => net(randn([1, 32, 32])), /expected \[N, 1, H, W\]/);
  using attn = new models.ShiftedWindowAttention(8, [4, 4], [2, 2], 2);
  assert.throws(() => attn(randn([2, 8, 6, 6])), /channels-last map \[B, H, W, 8\]/);
  using merge = new models.PatchMerging(8);
  assert.throws(() => merge(randn([2, 8, 6, 6])), /x\.permute\(0, 2, 3, 1\)/);
});

Deno.test("swin: training steps hold memory flat", () => {
  manualSeed(5);
  const net = buildSmall();
  net.train();
  assertStepsHoldMemory(net, randn([2, 1, 36, 20], { device: testDevice }));
});

Deno.test("swin: the reduced model trains on CT-shaped batches (loss falls)", () => {
  manualSeed(6);
  using net = buildSmall({ stochasticDepthProb: 0 });
  net.train();
  const opt = new optim.AdamW(net.parameters(), { lr: 3e-3 });
  using x = randn([4, 1, 32, 32], { device: testDevice });
  using y = fromStored({ shape: [4], data: [0, 1, 2, 1], dtype: "int32" }, { device: testDevice });
  const lossFn = new nn.CrossEntropyLoss();
  const losses: number[] = [];
  for (let i = 0; i < 15; i++) {
    opt.zeroGrad();
    const loss = lossFn(net(x), y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  assert.ok(losses.at(-1)! < losses[0] * 0.5, `losses ${losses.map((l) => l.toFixed(3))}`);
  opt.zeroGrad();
  for (const s of opt.state.values()) s.tensors.forEach((t: Tensor) => t.dispose());
});
