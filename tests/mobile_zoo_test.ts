/**
 * EfficientNet-B1..B7, MobileNetV3 (Large, Small) and ShuffleNetV2
 * (x0.5 .. x2.0) against torchvision 0.14 (tests/fixtures/mobile.json,
 * from /usr/bin/python3 scripts/make_mobile_fixtures.py): every full-size
 * model's parameter counts, state dict (names, shapes, dtypes, in order)
 * and module tree with hyper-parameters (batch-norm eps and momentum,
 * dropout and stochastic-depth p, convolution geometry); for one reduced
 * model per family with the formula's weights (`fill`), eval logits (the
 * modules, and the fused paths under noGrad), the input's and a few
 * parameters' gradients of sum(out * G), training-mode logits and running
 * statistics. Also the registry, ONNX export run in ONNX Runtime, memory
 * across training steps, initialisation and bad inputs.
 */
import assert from "node:assert/strict";
import { assertNormalizedExportRuns } from "./onnx_check.ts";
import { manualSeed, models, nn, noGrad, randn, scope, zeros } from "../mod.ts";
import { assertClose, loadFixture, type Stored, testDevice } from "./helpers.ts";
import { assertLines, moduleLines, stateLines, unpack } from "./zoo_lines.ts";
import {
  assertStepsHoldMemory,
  assertStored,
  fill,
  formula,
  free,
  randomiseBatchNorms,
  type Sampled,
} from "./model_fixture.ts";

interface StructureCase {
  torchvision: string;
  numParams: number;
  numParams1ch3: number;
  stateLines: number;
  state: string;
  modules: string;
}

type Family = "efficientnet" | "mobilenetv3large" | "mobilenetv3small" | "shufflenet";

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

const FIXTURE = loadFixture<{ structure: Record<string, StructureCase>; cases: NumericsCase[] }>(
  "mobile.json",
);
const ON_CPU = testDevice === "cpu";
const TOL = ON_CPU ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-3, atol: 1e-4 };

// ---------------------------------------------------- structure vs torchvision

for (const [name, c] of Object.entries(FIXTURE.structure)) {
  Deno.test(`mobile zoo: ${name} has torchvision's ${c.torchvision} modules, state dict and ${c.numParams} parameters`, async () => {
    const model = models.create(c.torchvision);
    try {
      assert.equal(models.canonicalName(c.torchvision), name);
      assertLines(stateLines(model), await unpack(c.state), "state dict");
      assertLines(moduleLines(model), await unpack(c.modules), "modules");
      assert.equal(model.numParameters(), c.numParams);
    } finally {
      free(model);
    }
    const small = models.create(name, { inChannels: 1, numClasses: 3 });
    assert.equal(small.numParameters(), c.numParams1ch3, "1 channel, 3 classes");
    free(small);
  });
}

// ------------------------------------------------- numerics vs torchvision

/** The reduced model of a family, as the generator's `build`. */
function buildSmall(family: Family, quiet = false): nn.Module {
  const dropout = quiet ? 0 : undefined;
  const o = { inChannels: 1, numClasses: 3, dropout };
  if (family === "efficientnet") {
    const config = {
      name: "EfficientNet (B5 setting, small)",
      widthMult: 0.25,
      depthMult: 0.5,
      dropout: 0.4,
      normEps: 1e-3,
      normMomentum: 0.01,
    };
    return new models.EfficientNet(config, { ...o, stochasticDepthProb: quiet ? 0 : undefined });
  }
  if (family === "mobilenetv3large") {
    return new models.MobileNetV3("mobilenet_v3_large", { ...o, widthMult: 0.25 });
  }
  if (family === "mobilenetv3small") {
    return new models.MobileNetV3("mobilenet_v3_small", {
      ...o,
      widthMult: 0.5,
      reducedTail: true,
      dilated: true,
    });
  }
  const config = {
    name: "ShuffleNetV2 (small)",
    stagesRepeats: [2, 3, 2],
    stagesOutChannels: [8, 16, 32, 64, 96],
  } as const;
  return new models.ShuffleNetV2(config, { inChannels: 1, numClasses: 3 });
}

for (const c of FIXTURE.cases) {
  Deno.test(`mobile zoo: reduced ${c.family} with the formula's weights: eval logits and gradients, training-mode logits and running statistics`, async () => {
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

// ------------------------------------------------------------- registry

Deno.test("mobile zoo: the registry builds them under torchvision's names with each model's dropout", () => {
  const dropouts: [string, number][] = [
    ["efficientnet_b1", 0.2],
    ["efficientnet_b2", 0.3],
    ["efficientnet_b4", 0.4],
    ["mobilenet_v3_small", 0.2],
  ];
  for (const [name, p] of dropouts) {
    const net = models.create(name, { inChannels: 1, numClasses: 3 });
    const drops = [...net.modules()].filter((m) => m instanceof nn.Dropout) as nn.Dropout[];
    assert.deepEqual(drops.map((d) => d.p), [p], name);
    free(net);
  }
  const custom = models.create("mobilenetv3large", { numClasses: 3, dropout: 0.5 });
  assert.equal(((custom as models.MobileNetV3).classifier[2] as nn.Dropout).p, 0.5);
  free(custom);
  assert.ok(models.takesOption("efficientnet_b3", "dropout"));
  assert.ok(!models.takesOption("shufflenet_v2_x1_0", "dropout"));
  assert.throws(
    () => models.create("shufflenet_v2_x1_0", { dropout: 0.2 }),
    /shufflenetv2x1_0 has no option 'dropout'; it takes inChannels, numClasses, imageSize/,
  );
});

// ---------------------------------------------------------- ONNX Runtime

for (
  const family of ["efficientnet", "mobilenetv3large", "mobilenetv3small", "shufflenet"] as const
) {
  Deno.test(`mobile zoo: reduced ${family} exported to ONNX matches ONNX Runtime within 1e-4`, async () => {
    manualSeed(15);
    const model = buildSmall(family);
    randomiseBatchNorms(model);
    const size = family === "shufflenet" ? 64 : 32;
    try {
      await assertNormalizedExportRuns(model, size);
    } finally {
      free(model);
    }
  });
}

// ------------------------------------------------------ training steps

for (const family of ["mobilenetv3small", "shufflenet"] as const) {
  Deno.test(`mobile zoo: reduced ${family} training steps do not grow memory`, () => {
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

Deno.test("mobile zoo: MobileNetV3 initialises as torchvision (kaiming fan_out, BN 1/0, Linear N(0, 0.01)); ShuffleNetV2 keeps PyTorch's defaults", () => {
  manualSeed(2);
  const v3 = models.mobilenetV3Large();
  const shuffle = models.shufflenetV2X1_0();
  try {
    for (const [name, m] of v3.namedModules()) {
      if (m instanceof nn.Conv2d) {
        if (m.bias) assert.ok(m.bias.toArray().every((v) => v === 0), `${name}.bias`);
        const [out, , kh, kw] = m.weight.shape;
        if (m.weight.numel() < 20000) continue;
        const got = std(m.weight.toArray()), want = Math.sqrt(2 / (out * kh * kw));
        assert.ok(Math.abs(got / want - 1) < 0.03, `${name}: std ${got}, expected ${want}`);
      } else if (m instanceof nn.Linear) {
        assert.ok(Math.abs(std(m.weight.toArray()) / 0.01 - 1) < 0.03, name);
        assert.ok(m.bias!.toArray().every((v) => v === 0), `${name}.bias`);
      }
    }
    // PyTorch's Conv2d default: U(+-1/sqrt(fan_in)) (kaiming-uniform, a = sqrt(5)), std 1/sqrt(3 fan_in).
    const w = shuffle.conv5[0] as nn.Conv2d;
    const fanIn = w.weight.shape[1];
    assert.ok(Math.abs(std(w.weight.toArray()) * Math.sqrt(3 * fanIn) - 1) < 0.03);
    assert.ok(
      shuffle.fc.bias!.toArray().some((v) => v !== 0),
      "fc bias: PyTorch's U(+-1/sqrt(in))",
    );
  } finally {
    free(v3);
    free(shuffle);
  }
});

// ------------------------------------------------------------ bad input

Deno.test("mobile zoo: wrong inputs and options name the model and what to write", () => {
  const v3 = models.mobilenetV3Small({ inChannels: 1, numClasses: 3, widthMult: 0.25 });
  assert.throws(
    () => v3(zeros([1, 3, 32, 32])),
    /MobileNetV3-Small: input \[1,3,32,32\] does not fit features\.0 \(Conv2dNormActivation\): expected \[N, 1, H, W\]/,
  );
  free(v3);
  const shuffle = models.shufflenetV2X0_5({ inChannels: 2 });
  assert.throws(
    () => shuffle(zeros([1, 1, 32, 32])),
    /ShuffleNetV2 x0\.5: input \[1,1,32,32\] does not fit conv1 \(Sequential\): expected \[N, 2, H, W\]/,
  );
  free(shuffle);
  assert.throws(
    () => models.mobilenetV3Large({ width_mult: 0.5 } as models.MobileNetV3Options),
    /width_mult/,
  );
  assert.throws(
    () => models.mobilenetV3Large({ reducedTail: "yes" } as unknown as models.MobileNetV3Options),
    /reducedTail must be true or false/,
  );
  assert.throws(() => models.mobilenetV3Small({ widthMult: 0 }), /widthMult must be a number > 0/);
  assert.throws(
    () => models.mobilenetV3Small({ dropout: 2 }),
    /dropout must be a number in \[0, 1\]/,
  );
  assert.throws(
    () => new models.MobileNetV3("mobilenet_v3_tiny" as models.MobileNetV3Arch),
    /arch must be "mobilenet_v3_large" or "mobilenet_v3_small"/,
  );
  assert.throws(
    // @ts-expect-error: a second argument, as torchvision's positional num_classes
    () => models.efficientnetB3({}, 3),
    /models\.efficientnetB3/,
  );
  assert.throws(
    () => models.efficientnetB5({ stochastic_depth_prob: 0.1 } as models.EfficientNetOptions),
    /stochastic_depth_prob/,
  );
  assert.throws(
    () => new models.EfficientNet({ ...models.EFFICIENTNET_B5, normEps: 0 }),
    /normEps must be a number > 0/,
  );
  assert.throws(
    () => models.shufflenetV2X1_0({ dropout: 0.2 } as models.ShuffleNetV2Options),
    /dropout/,
  );
  assert.throws(
    () => new models.ShuffleInvertedResidual(24, 48, 1),
    /inp must be 2 \* floor\(oup \/ 2\) = 48, got inp 24 and oup 48/,
  );
  assert.throws(() => new models.ShuffleInvertedResidual(24, 48, 4), /stride must be 1, 2 or 3/);
  assert.throws(
    () =>
      new models.ShuffleNetV2({
        name: "bad",
        stagesRepeats: [4, 8] as unknown as [number, number, number],
        stagesOutChannels: [24, 48, 96, 192, 1024],
      }),
    /expected stagesRepeats as 3 and stagesOutChannels as 5 positive integers/,
  );
});
