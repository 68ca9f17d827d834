/**
 * EfficientNetV2 (S, M, L) and the RegNets against torchvision 0.14
 * (tests/fixtures/mobile2.json, from /usr/bin/python3
 * scripts/make_mobile2_fixtures.py): every RegNet design's block parameters
 * (depths, widths, group widths: torchvision's float32 quantisation); the
 * full-size models' parameter counts, state dicts and module trees with
 * hyper-parameters (the largest: counts only); for one reduced model per
 * family with the formula's weights (`fill`), eval logits (the modules, and
 * the fused paths under noGrad), the input's and a few parameters'
 * gradients, training-mode logits and running statistics. Also the fused
 * block paths against the modules, the registry, ONNX export run in ONNX
 * Runtime, memory across training steps, initialisation and bad inputs.
 */
import assert from "node:assert/strict";
import { assertNormalizedExportRuns } from "./onnx_check.ts";
import { manualSeed, models, nn, noGrad, randn, scope, zeros } from "../mod.ts";
import { assertBits, assertClose, loadFixture, type Stored, testDevice } from "./helpers.ts";
import {
  assertStepsHoldMemory,
  assertStored,
  fill,
  formula,
  free,
  randomiseBatchNorms,
  type Sampled,
} from "./model_fixture.ts";
import { assertLines, moduleLines, stateLines, unpack } from "./zoo_lines.ts";

interface BlockParamsCase {
  torchvision: string;
  design: models.RegNetDesign;
  depths: number[];
  widths: number[];
  groupWidths: number[];
  strides: number[];
}

interface StructureCase {
  torchvision: string;
  numParams: number;
  numParams1ch3: number;
  stateLines: number;
  /** Absent for the largest models (counts only). */
  state?: string;
  modules?: string;
}

type Family = "efficientnetv2" | "regnety" | "regnetx";

interface NumericsCase {
  family: Family;
  size: number;
  numParams: number;
  state: string;
  modules: string;
  evalOut: Stored;
  inputGrad: Sampled;
  grads: Record<string, Sampled>;
  trainOut: Stored;
  buffersAfter: Record<string, Sampled>;
}

const FIXTURE = loadFixture<{
  blockParams: Record<string, BlockParamsCase>;
  structure: Record<string, StructureCase>;
  cases: NumericsCase[];
}>("mobile2.json");
const ON_CPU = testDevice === "cpu";
const TOL = ON_CPU ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-3, atol: 1e-4 };

// ------------------------------------------------------- RegNet designs

Deno.test("mobile2: every torchvision RegNet design gives torchvision's stage depths, widths and group widths", () => {
  const cases = Object.entries(FIXTURE.blockParams);
  assert.equal(cases.length, 15);
  const exports = models as unknown as Record<string, unknown>;
  for (const [name, c] of cases) {
    const p = models.regnetBlockParams(c.design);
    assert.deepEqual(
      [p.depths, p.widths, p.groupWidths, p.strides],
      [c.depths, c.widths, c.groupWidths, c.strides],
      c.torchvision,
    );
    assert.equal(p.seRatio, c.design.seRatio ?? null, c.torchvision);
    // The registry's model is built from the same design.
    assert.equal(models.canonicalName(c.torchvision), name);
    const config = exports[c.torchvision.toUpperCase()] as models.RegNetConfig;
    assert.deepEqual(config.design, c.design, c.torchvision);
    const builder = c.torchvision.replace(/^regnet_(.)_/, (_, k) => `regnet${k.toUpperCase()}`);
    assert.equal(typeof exports[builder], "function", builder);
  }
});

// ---------------------------------------------------- structure vs torchvision

// The largest (count-only) models take about a minute of CI to build: their block
// parameters are checked above, so they run only with LITS_TEST_LARGE=1.
const large = Deno.env.get("LITS_TEST_LARGE") === "1";
for (const [name, c] of Object.entries(FIXTURE.structure)) {
  const what = c.state ? "modules, state dict" : "state-dict size";
  Deno.test({
    name:
      `mobile2: ${name} has torchvision's ${c.torchvision} ${what} and ${c.numParams} parameters`,
    ignore: !c.state && !large,
  }, async () => {
    const model = models.create(c.torchvision);
    try {
      assert.equal(models.canonicalName(c.torchvision), name);
      assert.equal(model.stateDict().size, c.stateLines);
      if (c.state) assertLines(stateLines(model), await unpack(c.state), "state dict");
      if (c.modules) assertLines(moduleLines(model), await unpack(c.modules), "modules");
      assert.equal(model.numParameters(), c.numParams);
    } finally {
      free(model);
    }
    if (!c.state) return; // the largest: one build is enough
    const small = models.create(name, { inChannels: 1, numClasses: 3 });
    assert.equal(small.numParameters(), c.numParams1ch3, "1 channel, 3 classes");
    free(small);
  });
}

// ------------------------------------------------- numerics vs torchvision

/** The reduced EfficientNetV2's stages, as the generator's V2_STAGES. */
const V2_STAGES: models.MBConvConfig[] = (
  [
    ["FusedMBConv", 1, 3, 1, 8, 8, 2],
    ["FusedMBConv", 4, 3, 2, 8, 16, 2],
    ["MBConv", 4, 3, 2, 16, 24, 2],
    ["MBConv", 6, 3, 1, 24, 32, 1],
  ] as const
).map(([block, expandRatio, kernel, stride, inputChannels, outChannels, numLayers]) => ({
  block,
  expandRatio,
  kernel,
  stride,
  inputChannels,
  outChannels,
  numLayers,
}));

const REGNET_Y: models.RegNetDesign = {
  depth: 6,
  w0: 16,
  wa: 6,
  wm: 1.5,
  groupWidth: 8,
  seRatio: 0.25,
};
const REGNET_X: models.RegNetDesign = { depth: 6, w0: 16, wa: 6, wm: 1.5, groupWidth: 16 };

/** The reduced model of a family, as the generator's `build`. */
function buildSmall(family: Family, quiet = false): nn.Module {
  const o = { inChannels: 1, numClasses: 3 };
  if (family === "efficientnetv2") {
    const config = {
      name: "EfficientNetV2 (small)",
      widthMult: 1,
      depthMult: 1,
      dropout: 0.2,
      normEps: 1e-3,
      lastChannel: 64,
      stages: V2_STAGES,
    };
    return new models.EfficientNet(config, {
      ...o,
      dropout: quiet ? 0 : undefined,
      stochasticDepthProb: quiet ? 0 : undefined,
    });
  }
  const design = family === "regnety" ? REGNET_Y : REGNET_X;
  return new models.RegNet({ name: `RegNet (${family}, small)`, design }, o);
}

for (const c of FIXTURE.cases) {
  Deno.test(`mobile2: reduced ${c.family} with the formula's weights: eval logits and gradients, training-mode logits and running statistics`, async () => {
    const net = buildSmall(c.family);
    const quiet = buildSmall(c.family, true);
    assertLines(stateLines(net), await unpack(c.state), "state dict");
    assertLines(moduleLines(net), await unpack(c.modules), "modules");
    assert.equal(net.numParameters(), c.numParams);
    fill(net);
    quiet.loadStateDict(net.stateDict(), { strict: true });
    net.to(testDevice);
    quiet.to(testDevice);
    scope(() => {
      const shape = [2, 1, c.size, c.size];
      net.eval();
      const fused = noGrad(() => net(formula(1000, shape, -2, 2)));
      assertClose(fused.to("cpu"), c.evalOut.data, { ...TOL, what: "eval logits (noGrad)" });
      const x = formula(1000, shape, -2, 2, true);
      const out = net(x);
      assertClose(out.to("cpu"), c.evalOut.data, { ...TOL, what: "eval logits" });
      out.mul(formula(1001, [...out.shape], -1, 1)).sum().backward();
      const relTol = ON_CPU ? { rtol: 1e-3, atol: 1e-4 } : { rtol: 1e-2, atol: 1e-3 };
      assertStored(x.grad!.to("cpu"), c.inputGrad, relTol, "input gradient");
      const params = new Map(net.namedParameters());
      for (const [k, g] of Object.entries(c.grads)) {
        assertStored(params.get(k)!.grad!.to("cpu"), g, relTol, `gradient of ${k}`);
      }
      quiet.train();
      const train = noGrad(() => quiet(formula(1000, shape, -2, 2)));
      assertClose(train.to("cpu"), c.trainOut.data, { ...TOL, what: "training logits" });
      const buffers = new Map(quiet.namedBuffers());
      for (const [k, b] of Object.entries(c.buffersAfter)) {
        assertStored(buffers.get(k)!.to("cpu"), b, TOL, `${k} after the step`);
      }
    });
    free(net);
    free(quiet);
  });
}

// ------------------------------------------------------- fused block paths

/**
 * Each block of `blocks` in evaluation under noGrad, fused (as built) and
 * through its modules (a forward hook on `child` makes the block take the
 * module path), on a random input of its channels: the same bits.
 */
function assertFusedBlocks(blocks: [string, nn.Module, nn.Module, number][]): void {
  for (const [what, block, child, channels] of blocks) {
    scope(() => {
      block.eval();
      const x = randn([2, channels, 8, 8]);
      const fused = noGrad(() => block.forward(x)).toArray() as Float32Array;
      const handle = child.registerForwardHook(() => {});
      const plain = noGrad(() => block.forward(x)).toArray() as Float32Array;
      handle.remove();
      assertBits(fused, plain, what);
    });
  }
}

Deno.test("mobile2: the fused eval paths of FusedMBConv and ResBottleneckBlock give the modules' bits", () => {
  manualSeed(3);
  const randomBn = <M extends nn.Module>(m: M): M => (randomiseBatchNorms(m), m);
  const cnf = (expandRatio: number): models.MBConvConfig => ({
    expandRatio,
    kernel: 3,
    stride: 1,
    inputChannels: 16,
    outChannels: 16,
    numLayers: 1,
    block: "FusedMBConv",
  });
  const fusedExpand = randomBn(new models.FusedMBConv(cnf(4), 0.1));
  const fusedSingle = randomBn(new models.FusedMBConv(cnf(1), 0.1)); // SiLU before the add
  const y = randomBn(new models.ResBottleneckBlock(16, 16, 1, { groupWidth: 8, seRatio: 0.25 }));
  const x = randomBn(new models.ResBottleneckBlock(16, 24, 2, { groupWidth: 8 }));
  assertFusedBlocks([
    ["FusedMBConv (expansion 4)", fusedExpand, fusedExpand.block, 16],
    ["FusedMBConv (no expansion)", fusedSingle, fusedSingle.block, 16],
    ["ResBottleneckBlock (SE, identity)", y, y.f, 16],
    ["ResBottleneckBlock (proj)", x, x.f, 16],
  ]);
  for (const m of [fusedExpand, fusedSingle, y, x]) free(m);
});

// ------------------------------------------------------------- registry

Deno.test("mobile2: the registry builds them under torchvision's names with each model's dropout", () => {
  for (const [name, p] of [["efficientnet_v2_s", 0.2], ["efficientnet_v2_m", 0.3]] as const) {
    const net = models.create(name, { inChannels: 1, numClasses: 3 });
    const drops = [...net.modules()].filter((m) => m instanceof nn.Dropout) as nn.Dropout[];
    assert.deepEqual(drops.map((d) => d.p), [p], name);
    free(net);
  }
  assert.equal(models.EFFICIENTNET_V2_L.dropout, 0.4);
  assert.ok(models.takesOption("efficientnet_v2_l", "dropout"));
  assert.ok(!models.takesOption("regnet_y_400mf", "dropout"));
  assert.throws(
    () => models.create("regnet_x_800mf", { dropout: 0.2 }),
    /regnetx800mf has no option 'dropout'; it takes inChannels, numClasses, imageSize/,
  );
  const net = models.create("RegNet_Y_1_6GF", { numClasses: 3 }) as models.RegNet;
  assert.ok(net instanceof models.RegNet);
  assert.equal(net.fc.outFeatures, 3);
  free(net);
});

// ---------------------------------------------------------- ONNX Runtime

for (const family of ["efficientnetv2", "regnety", "regnetx"] as const) {
  Deno.test(`mobile2: reduced ${family} exported to ONNX matches ONNX Runtime within 1e-4`, async () => {
    manualSeed(15);
    const model = buildSmall(family);
    randomiseBatchNorms(model);
    const size = family === "efficientnetv2" ? 32 : 64;
    try {
      await assertNormalizedExportRuns(model, size);
    } finally {
      free(model);
    }
  });
}

// ------------------------------------------------------ training steps

for (const family of ["efficientnetv2", "regnety"] as const) {
  Deno.test(`mobile2: reduced ${family} training steps do not grow memory`, () => {
    manualSeed(5);
    const model = buildSmall(family).train();
    assertStepsHoldMemory(model, randn([4, 1, 64, 64]), { labels: [0, 2, 1, 0], lr: 0.001 });
  });
}

// ------------------------------------------------------- initialisation

function std(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s / values.length);
}

Deno.test("mobile2: RegNet initialises as torchvision (N(0, 2 / fan_out) convolutions, SE biases PyTorch's, BN 1/0, fc N(0, 0.01))", () => {
  manualSeed(2);
  const net = models.regnetY800mf();
  try {
    let checked = 0;
    for (const [name, m] of net.namedModules()) {
      if (m instanceof nn.Conv2d) {
        const [out, , kh, kw] = m.weight.shape;
        if (m.bias) {
          // torchvision leaves the squeeze-and-excitation biases to PyTorch: U(+-1/sqrt(fan_in)).
          const bound = 1 / Math.sqrt(m.weight.numel() / out);
          const b = m.bias.toArray();
          assert.ok(b.some((v) => v !== 0) && b.every((v) => Math.abs(v) <= bound), name);
        }
        if (m.weight.numel() < 20000) continue;
        const got = std(m.weight.toArray()), want = Math.sqrt(2 / (out * kh * kw));
        assert.ok(Math.abs(got / want - 1) < 0.03, `${name}: std ${got}, expected ${want}`);
        checked++;
      } else if (m instanceof nn.BatchNorm2d) {
        assert.ok(m.weight!.toArray().every((v) => v === 1), `${name}.weight`);
        assert.ok(m.bias!.toArray().every((v) => v === 0), `${name}.bias`);
      }
    }
    assert.ok(checked > 20);
    assert.ok(Math.abs(std(net.fc.weight.toArray()) / 0.01 - 1) < 0.03, "fc.weight");
    assert.ok(net.fc.bias!.toArray().every((v) => v === 0), "fc.bias");
  } finally {
    free(net);
  }
});

// ------------------------------------------------------------ bad input

Deno.test("mobile2: wrong inputs and options name the model and what to write", () => {
  const reg = models.regnetX400mf({ inChannels: 1, numClasses: 3 });
  assert.throws(
    () => reg(zeros([1, 3, 32, 32])),
    /RegNetX-400MF: input \[1,3,32,32\] does not fit stem \(SimpleStemIN\): expected \[N, 1, H, W\]/,
  );
  free(reg);
  assert.throws(
    () => models.regnetY400mf({ stem_width: 16 } as models.RegNetOptions),
    /stem_width/,
  );
  assert.throws(
    // @ts-expect-error: a second argument, as torchvision's positional num_classes
    () => models.regnetY400mf({}, 3),
    /models\.regnetY400mf/,
  );
  assert.throws(
    () =>
      models.regnetBlockParams(
        { depth: 16, w_0: 48, w_a: 27.89 } as unknown as models.RegNetDesign,
      ),
    /w_0/,
  );
  const design = { depth: 16, w0: 48, wa: 27.89, wm: 2.09, groupWidth: 8 };
  assert.throws(
    () => models.regnetBlockParams({ ...design, w0: 44 }),
    /w0 must be a multiple of 8/,
  );
  assert.throws(() => models.regnetBlockParams({ ...design, wm: 1 }), /wm must be a number > 1/);
  assert.throws(() => models.regnetBlockParams({ ...design, wa: -1 }), /wa must be a number >= 0/);
  assert.throws(
    () => new models.BottleneckTransform(16, 20, 1, { groupWidth: 6 }),
    /bottleneck width round\(20 \* 1\) = 20 makes floor\(20 \/ groupWidth 6\) = 3 groups/,
  );
  assert.throws(
    () => new models.EfficientNet({ ...models.EFFICIENTNET_V2_S, widthMult: 1.1 }),
    /config\.stages are used as given, so widthMult and depthMult must be 1, got 1\.1 and 1/,
  );
  assert.throws(
    () => new models.EfficientNet({ ...models.EFFICIENTNET_V2_S, stages: [] }),
    /config\.stages must be a non-empty array/,
  );
  assert.throws(
    () =>
      new models.EfficientNet({
        ...models.EFFICIENTNET_V2_S,
        stages: [{ ...V2_STAGES[0], block: "Fused" as "FusedMBConv" }],
      }),
    /config\.stages\[0\]\.block must be "MBConv" or "FusedMBConv", got "Fused"/,
  );
  assert.throws(
    () => new models.FusedMBConv({ ...V2_STAGES[1], stride: 3 }, 0),
    /FusedMBConv: stride must be 1 or 2, got 3/,
  );
  assert.throws(
    () => models.efficientnetV2S({ stochastic_depth_prob: 0.1 } as models.EfficientNetOptions),
    /stochastic_depth_prob/,
  );
});
