/**
 * MONAI 1.3's 3-D ResNet (tests/fixtures/resnet3d.json, from /usr/bin/python3
 * scripts/make_resnet3d_fixtures.py, which writes MONAI's architecture in
 * plain torch 1.13): the state-dict names, order, shapes and dtypes and the
 * parameter count of resnet10/18/34/50 with MONAI's defaults and other
 * option sets; three models whose weights, statistics and inputs come from
 * a formula both sides compute exactly (resnet10, resnet18 with shortcut
 * "A" and an anisotropic stem, a bottleneck resnet50 without fc), their
 * eval and training outputs, loss, the input's and every parameter's
 * gradient and the running statistics after; three SGD steps. Plus
 * MONAI's initialisation, the options and their errors, the input checks,
 * the registry, training without memory growth and the ONNX export run in
 * ONNX Runtime against our forward.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import {
  manualSeed,
  models,
  nn,
  noGrad,
  onnx,
  optim,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { decodeModel } from "../src/onnx/proto.ts";
import { assertClose, assertShape, loadFixture, type Stored, testDevice } from "./helpers.ts";
import {
  assertStepsHoldMemory,
  assertStored,
  fill,
  formula,
  free,
  type Sampled,
  torchDtype,
} from "./model_fixture.ts";

// ---------------------------------------------------------------- fixtures

type Options = models.ResNet3dOptions;

interface Structure {
  depth: number;
  options: Options;
  numParams: number;
  state: [string, number[], string][];
}

interface Case {
  label: string;
  /** The mode of the pass whose gradients are stored. */
  mode: "train" | "eval";
  depth: number;
  options: Options;
  input: number[];
  target: number[] | null;
  numParams: number;
  evalOut: Stored;
  trainOut: Stored;
  loss: number;
  inputGrad: Sampled;
  grads: Record<string, Sampled>;
  buffersAfter: Record<string, Sampled>;
}

interface Sgd {
  options: Options;
  input: number[];
  target: number[];
  lr: number;
  momentum: number;
  weightDecay: number;
  losses: number[];
  after: Record<string, { sum: number; sumsq: number; first: number[] }>;
}

const FIXTURE = loadFixture<{ structure: Structure[]; cases: Case[]; sgd: Sgd }>("resnet3d.json");

const BUILDERS: Record<number, (o: Options) => models.ResNet3d> = {
  10: models.resnet3d10,
  18: models.resnet3d18,
  34: models.resnet3d34,
  50: models.resnet3d50,
};

// ---------------------------------------------------- structure vs MONAI

for (const c of FIXTURE.structure) {
  Deno.test(`resnet3d: resnet3d${c.depth} ${JSON.stringify(c.options)} has MONAI's state dict and ${c.numParams} parameters`, () => {
    const model = BUILDERS[c.depth](c.options);
    try {
      const ours = [...model.stateDict()].map(([k, t]) => [k, [...t.shape], torchDtype(t.dtype)]);
      assert.deepEqual(ours.map((e) => e[0]), c.state.map((e) => e[0]), "names and order");
      assert.deepEqual(ours, c.state, "shapes and dtypes");
      assert.equal(model.numParameters(), c.numParams);
    } finally {
      free(model);
    }
  });
}

Deno.test("resnet3d: the module tree is MONAI's (stem, stages of blocks, shortcuts)", () => {
  const net = models.resnet3d18({ inChannels: 1, numClasses: 2 });
  try {
    assert.deepEqual([...net.namedChildren()].map(([k]) => k), [
      "conv1",
      "bn1",
      "relu",
      "maxpool",
      "layer1",
      "layer2",
      "layer3",
      "layer4",
      "avgpool",
      "fc",
    ]);
    assert.deepEqual(net.conv1.kernelSize, [7, 7, 7]);
    assert.deepEqual(net.conv1.stride, [1, 1, 1], "MONAI's conv1_t_stride default is 1");
    assert.deepEqual(net.conv1.padding, [3, 3, 3]);
    const first = net.layer2[0] as models.ResNet3dBlock;
    const second = net.layer2[1] as models.ResNet3dBlock;
    assert.ok(first instanceof models.ResNet3dBlock);
    assert.equal(first.stride, 2);
    assert.deepEqual(first.conv1.stride, [2, 2, 2]);
    assert.ok(first.downsample instanceof nn.Sequential);
    assert.equal(second.downsample, null);
    assert.equal((net.layer1[0] as models.ResNet3dBlock).downsample, null);
    const conv = (first.downsample as nn.Sequential)[0] as nn.Conv3d;
    assert.ok(conv.bias !== null, "bias_downsample defaults to true");
    assert.deepEqual(conv.stride, [2, 2, 2]);
    assert.equal(net.block, models.ResNet3dBlock);
    assert.deepEqual(net.options, {
      inChannels: 1,
      numClasses: 2,
      conv1TSize: 7,
      conv1TStride: 1,
      noMaxPool: false,
      shortcutType: "B",
      widenFactor: 1,
      feedForward: true,
      biasDownsample: true,
      spatialDims: 3,
    });
    const defaults = models.resnet3d10();
    assert.equal(defaults.fc!.outFeatures, 400, "MONAI's num_classes is 400");
    assert.equal(defaults.conv1.inChannels, 3, "MONAI's n_input_channels is 3");
    free(defaults);
  } finally {
    free(net);
  }
  const a = models.resnet3d34({ shortcutType: "A", widenFactor: 0.25 });
  const shortcut = (a.layer3[0] as models.ResNet3dBlock).downsample;
  assert.ok(shortcut instanceof models.ZeroPadShortcut);
  assert.equal(shortcut.planes, 64);
  assert.equal(shortcut.stride, 2);
  assert.ok(![...a.stateDict().keys()].some((k) => k.includes("downsample")));
  free(a);
  const b = models.resnet3d50({ widenFactor: 0.125 });
  const b0 = b.layer1[0] as models.ResNet3dBottleneck;
  assert.ok(b0 instanceof models.ResNet3dBottleneck);
  assert.deepEqual(b0.conv3.weight.shape, [32, 8, 1, 1, 1]);
  assert.ok(b0.downsample instanceof nn.Sequential, "layer1 widens 8 -> 32: shortcut B");
  assert.equal(b.fc!.inFeatures, 64 * 4 * 0.125 * 8);
  free(b);
});

// ------------------------------------------------------- numerics vs MONAI

const TOL = { rtol: 1e-4, atol: 1e-5 };

for (const c of FIXTURE.cases) {
  Deno.test(`resnet3d: MONAI's numbers: ${c.label}: eval and training outputs, loss, gradients, running statistics`, () => {
    scope(() => {
      const net = BUILDERS[c.depth](c.options);
      assert.equal(net.numParameters(), c.numParams);
      fill(net);
      net.to(testDevice).eval();
      const x = formula(1000, c.input, -1, 1);
      const evalOut = noGrad(() => net.forward(x));
      assertClose(evalOut, c.evalOut.data, { ...TOL, what: "eval output" });

      net.train(c.mode === "train");
      const xg = formula(1000, c.input, -1, 1, true);
      const out = net.forward(xg);
      assertClose(out, c.trainOut.data, { ...TOL, what: `${c.mode} output` });
      let loss: Tensor;
      if (c.target) {
        const y = tensor(Int32Array.from(c.target), [c.target.length], {
          dtype: "int32",
          device: testDevice,
        });
        loss = new nn.CrossEntropyLoss().forward(out, y);
      } else {
        loss = out.mul(formula(1001, [...out.shape], -1, 1)).sum();
      }
      // sum(out * G) cancels: its tolerance scales with sum |out * G|.
      const g = c.target ? [] : formula(1001, [...out.shape], -1, 1).toArray();
      const size = c.target ? Math.abs(c.loss) : c.trainOut.data.reduce(
        (s, v, i) => s + Math.abs(v * g[i]),
        0,
      );
      assertClose([loss.item()], [c.loss], { rtol: 0, atol: TOL.rtol * size, what: "loss" });
      loss.backward();
      const gradTol = { rtol: 1e-3, atol: 1e-4 };
      assertStored(xg.grad!, c.inputGrad, gradTol, "input gradient");
      const params = new Map(net.namedParameters());
      assert.deepEqual([...params.keys()], Object.keys(c.grads));
      for (const [k, g] of Object.entries(c.grads)) {
        assertStored(params.get(k)!.grad!, g, gradTol, `gradient of ${k}`, 1e-6);
      }
      const buffers = new Map(net.namedBuffers());
      assert.deepEqual([...buffers.keys()], Object.keys(c.buffersAfter));
      for (const [k, s] of Object.entries(c.buffersAfter)) {
        const b = buffers.get(k)!;
        if (k.endsWith("num_batches_tracked")) assert.deepEqual([...b.toArray()], s.data, k);
        else assertStored(b, s, TOL, `${k} after the step`);
      }
      free(net);
    });
  });
}

Deno.test("resnet3d: three SGD steps (momentum, weight decay) follow MONAI's in torch", () => {
  const s = FIXTURE.sgd;
  const net = models.resnet3d10(s.options);
  fill(net);
  net.to(testDevice).train();
  const opt = new optim.SGD(net.parameters(), {
    lr: s.lr,
    momentum: s.momentum,
    weightDecay: s.weightDecay,
  });
  const lossFn = new nn.CrossEntropyLoss();
  const y = tensor(Int32Array.from(s.target), [s.target.length], {
    dtype: "int32",
    device: testDevice,
  });
  const losses: number[] = [];
  for (let step = 0; step < s.losses.length; step++) {
    scope(() => {
      const x = formula(2000 + step, s.input, -1, 1);
      opt.zeroGrad();
      const loss = lossFn.forward(net.forward(x), y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
  }
  assertClose(losses, s.losses, { rtol: 1e-4, atol: 1e-5, what: "losses" });
  const state = net.stateDict();
  for (const [k, e] of Object.entries(s.after)) {
    const a = state.get(k)!.toArray();
    let sum = 0, sumsq = 0;
    for (const v of a) {
      sum += v;
      sumsq += v * v;
    }
    assertClose(a.slice(0, 8), e.first, { rtol: 1e-3, atol: 1e-5, what: `${k} after` });
    assertClose([sumsq], [e.sumsq], { rtol: 1e-4, atol: 1e-6, what: `${k} sum of squares` });
    assertClose([sum], [e.sum], {
      rtol: 0,
      atol: 1e-4 * Math.sqrt(e.sumsq * a.length) + 1e-6,
      what: `${k} sum`,
    });
  }
  free(net);
  for (const st of opt.state.values()) st.tensors.forEach((t) => t.dispose());
});

Deno.test("resnet3d: shortcut A passes no gradient back, as MONAI's (it concatenates out.data)", () => {
  scope(() => {
    const shortcut = new models.ZeroPadShortcut(4, 2);
    const x = randn([1, 2, 3, 4, 5], { requiresGrad: true });
    const y = shortcut.forward(x);
    assertShape(y, [1, 4, 2, 2, 3]);
    assert.equal(y.requiresGrad, false);
    const xv = x.toArray(), yv = y.toArray();
    // Channel 1, voxel (d, h, w) = (1, 1, 2) is x's (2, 2, 4); channels 2 and 3 are zeros.
    assert.equal(yv[1 * 12 + 1 * 6 + 1 * 3 + 2], xv[1 * 60 + 2 * 20 + 2 * 5 + 4]);
    assert.ok(yv.slice(24).every((v) => v === 0));
    const same = new models.ZeroPadShortcut(3).forward(x.detach());
    assertShape(same, [1, 3, 3, 4, 5]);
    assert.deepEqual([...same.toArray().slice(0, 120)], [...xv]);
    assert.throws(
      () => new models.ZeroPadShortcut(1).forward(x),
      /ZeroPadShortcut\(1\): expected input \[N, C, D, H, W\] with C <= 1, got \[1,2,3,4,5\]/,
    );
    assert.throws(() => new models.ZeroPadShortcut(0), /planes must be a positive integer/);
    assert.throws(() => new models.ZeroPadShortcut(4, 1.5), /stride must be a positive integer/);
  });
});

// ------------------------------------------------------- initialisation

Deno.test("resnet3d: MONAI's initialisation (kaiming normal fan_out, BN 1/0, Linear bias 0)", () => {
  manualSeed(1);
  const net = models.resnet3d18({ inChannels: 1, numClasses: 3, widenFactor: 0.5 });
  try {
    const std = (t: Tensor) => {
      const v = t.toArray();
      return Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0) / v.length);
    };
    // fan_out = out * k^3, gain sqrt(2).
    const w = (net.layer3[1] as models.ResNet3dBlock).conv2.weight; // [128, 128, 3, 3, 3]
    assert.ok(Math.abs(std(w) / Math.sqrt(2 / (128 * 27)) - 1) < 0.02, `std ${std(w)}`);
    const c1 = net.conv1.weight; // [32, 1, 7, 7, 7]: fan_out 32 * 343
    assert.ok(Math.abs(std(c1) / Math.sqrt(2 / (32 * 343)) - 1) < 0.02, `conv1 std ${std(c1)}`);
    for (const [name, m] of net.namedModules()) {
      if (!(m instanceof nn.BatchNorm3d)) continue;
      assert.ok(m.weight!.toArray().every((v) => v === 1), `${name}.weight`);
      assert.ok(m.bias!.toArray().every((v) => v === 0), `${name}.bias`);
    }
    assert.ok(net.fc!.bias!.toArray().every((v) => v === 0), "fc bias 0");
    const bound = 1 / Math.sqrt(256); // the Linear weight keeps PyTorch's default
    const fw = net.fc!.weight.toArray();
    assert.ok(fw.every((v) => Math.abs(v) <= bound) && fw.some((v) => v !== 0));
    // The shortcut's conv bias keeps PyTorch's default U(-1/sqrt(fan_in), ..).
    const ds = (net.layer2[0] as models.ResNet3dBlock).downsample as nn.Sequential;
    const bias = (ds[0] as nn.Conv3d).bias!.toArray();
    assert.ok(bias.every((v) => Math.abs(v) <= 1 / Math.sqrt(32)) && bias.some((v) => v !== 0));
  } finally {
    free(net);
  }
});

// ------------------------------------------------------- options and checks

Deno.test("resnet3d: options are MONAI's in camelCase, and bad ones are errors that say what to write", () => {
  assert.throws(() => models.resnet3d18({ shortcut_type: "A" } as never), /write 'shortcutType'/);
  assert.throws(
    () => models.resnet3d18({ nInputChannels: 1 } as never),
    /n_input_channels is inChannels here; write models\.resnet3d18\(\{ inChannels: 1/,
  );
  assert.throws(
    () => models.resnet3d18({ pretrained: true } as never),
    /pretrained weights are not downloaded; load a MONAI or MedicalNet checkpoint/,
  );
  assert.throws(
    () => models.resnet3d18({ shortcutType: "C" as never }),
    /ResNet3d-18\): shortcutType must be "A" or "B", got "C"/,
  );
  assert.throws(
    () => models.resnet3d18({ spatialDims: 2 as never }),
    /spatialDims must be 3 .* for 2-D images use models\.resnet18/,
  );
  assert.throws(() => models.resnet3d18({ widenFactor: 0 }), /widenFactor must be a positive/);
  assert.throws(() => models.resnet3d18({ widenFactor: NaN }), /widenFactor must be a positive/);
  assert.throws(
    () => models.resnet3d18({ widenFactor: 0.01 }),
    /widenFactor 0\.01 leaves stage 1 without channels \(int\(64 \* 0\.01\) = 0\)/,
  );
  assert.throws(() => models.resnet3d18({ conv1TSize: [7, 7] as never }), /conv1TSize must be/);
  assert.throws(() => models.resnet3d18({ conv1TStride: 0 }), /conv1TStride must be integers >= 1/);
  assert.throws(() => models.resnet3d18({ numClasses: 2.5 }), /numClasses must be a positive/);
  assert.throws(() => models.resnet3d18({ inChannels: 0 }), /inChannels must be a positive/);
  assert.throws(
    () => models.resnet3d18({ noMaxPool: "false" as never }),
    /noMaxPool must be true or false/,
  );
  assert.throws(
    () => (models.resnet3d18 as (...a: unknown[]) => unknown)({}, 3),
    /models\.resnet3d18.*at most 1 argument/,
  );
  assert.throws(() => new models.ResNet3d(undefined as never), /configuration is required/);
  const cfg = { block: "basic", layers: [1, 1, 1, 1] } as const;
  assert.throws(
    () => new models.ResNet3d({ ...cfg, block: "wide" as never }),
    /unknown block "wide"; use "basic", "bottleneck"/,
  );
  assert.throws(
    () => new models.ResNet3d({ ...cfg, layers: [1, 0, 1, 1] }),
    /layers\[1\] must be a positive integer, got 0/,
  );
  assert.throws(
    () => new models.ResNet3d({ ...cfg, blockInplanes: [8, 16] as never }),
    /blockInplanes must be 4 positive integers/,
  );
  assert.throws(
    () => new models.ResNet3d({ ...cfg, block_inplanes: [8, 8, 8, 8] } as never),
    /unknown configuration key 'block_inplanes'/,
  );
  assert.throws(
    () => new models.ResNet3dBlock(8, 0),
    /ResNet3dBlock: planes must be a positive integer, got 0/,
  );
  assert.throws(
    () => new models.ResNet3dBottleneck(8, 4, 1, "B" as never),
    /downsample must be a module/,
  );
  scope(() => {
    // MONAI's string blocks and own widths.
    const net = new models.ResNet3d(
      { block: "bottleneck", layers: [1, 1, 1, 1], blockInplanes: [2, 3, 4, 5] },
      { inChannels: 2, numClasses: 3, conv1TSize: [3, 5, 5], conv1TStride: [1, 2, 2] },
    );
    assert.equal(net.block, models.ResNet3dBottleneck);
    assert.deepEqual(net.conv1.padding, [1, 2, 2]);
    assert.equal(net.fc!.inFeatures, 20);
    assertShape(net.eval().forward(zeros([1, 2, 3, 9, 9])), [1, 3]);
    const features = models.resnet3d10({ widenFactor: 0.125, feedForward: false });
    assert.equal(features.fc, null);
    assertShape(features.eval().forward(zeros([2, 3, 4, 4, 4])), [2, 64]);
    free(net);
    free(features);
  });
});

Deno.test("resnet3d: a wrong rank or channel count names the model, layer and shape", () => {
  scope(() => {
    const net = models.resnet3d10({ inChannels: 1, numClasses: 3, widenFactor: 0.125 }).eval();
    assert.throws(
      () => net.forward(zeros([1, 1, 32, 32])),
      /ResNet3d-10: input \[1,1,32,32\] does not fit conv1 \(Conv3d\): expected \[N, 1, D, H, W\]; for one volume write x\.unsqueeze\(0\)/,
    );
    assert.throws(
      () => net.forward(zeros([1, 3, 4, 8, 8])),
      /input \[1,3,4,8,8\] does not fit conv1 \(Conv3d\): expected \[N, 1, D, H, W\]$/,
    );
    assertShape(net.forward(zeros([2, 1, 1, 1, 1])), [2, 3]);
    // A replaced stem sets the channels.
    net.conv1 = new nn.Conv3d(2, 8, 3, { padding: 1, bias: false });
    assertShape(net.forward(zeros([1, 2, 4, 8, 8])), [1, 3]);
    assert.throws(() => net.forward(zeros([1, 1, 4, 8, 8])), /expected \[N, 2, D, H, W\]/);
    free(net);
  });
});

// ---------------------------------------------------------------- registry

Deno.test("resnet3d: models.create builds them; they are volume models, not in names()", () => {
  const net = models.create("resnet3d18", { inChannels: 1, numClasses: 3 });
  assert.ok(net instanceof models.ResNet3d);
  assert.equal(net.config.name, "ResNet3d-18");
  assert.equal(net.fc!.outFeatures, 3);
  assert.equal(net.conv1.inChannels, 1);
  free(net);
  const b = models.create("ResNet3d50", { numClasses: 2 }) as models.ResNet3d;
  assert.equal(b.block, models.ResNet3dBottleneck);
  free(b);
  for (const n of ["resnet3d10", "resnet3d18", "resnet3d34", "resnet3d50"]) {
    assert.ok(models.volumeNames().includes(n), n);
  }
  assert.ok(!models.names().some((n) => n.startsWith("resnet3d")), "names() lists image models");
  assert.equal(models.canonicalName("ResNet3D34"), "resnet3d34");
  assert.throws(
    () => models.create("resnet3d10", { imageSize: 64 }),
    /resnet3d10 has no option 'imageSize'; it takes inChannels, numClasses/,
  );
  assert.throws(
    () => models.create("resnet3d10", { zeroInitResidual: true }),
    /resnet3d10 has no option 'zeroInitResidual'/,
  );
});

// ------------------------------------------------------------------ memory

Deno.test("resnet3d: training steps do not grow memory; an eval forward frees its intermediates", () => {
  manualSeed(5);
  // Shortcut A: its pooled copy, made outside the graph, is freed too.
  const model = models.resnet3d18({
    inChannels: 1,
    numClasses: 3,
    widenFactor: 0.125,
    shortcutType: "A",
  }).train();
  assertStepsHoldMemory(model, randn([2, 1, 8, 16, 16]));
});

// -------------------------------------------------------------------- ONNX

Deno.test("resnet3d: the ONNX graph is named as the state dict and matches ONNX Runtime", async () => {
  const cases: [string, () => models.ResNet3d, number[], string[]][] = [
    [
      "resnet3d10, shortcut B",
      () => models.resnet3d10({ inChannels: 1, numClasses: 3, widenFactor: 0.125 }),
      [1, 8, 16, 16],
      [
        "Add",
        "BatchNormalization",
        "Conv",
        "Flatten",
        "Gemm",
        "GlobalAveragePool",
        "MaxPool",
        "Relu",
      ],
    ],
    [
      "resnet3d18, shortcut A, no max-pool, anisotropic stem",
      () =>
        models.resnet3d18({
          inChannels: 2,
          numClasses: 4,
          widenFactor: 0.0625,
          shortcutType: "A",
          noMaxPool: true,
          conv1TSize: [3, 7, 7],
          conv1TStride: [1, 2, 2],
        }),
      [2, 6, 20, 20],
      [
        "Add",
        "AveragePool",
        "BatchNormalization",
        "Conv",
        "Flatten",
        "Gemm",
        "GlobalAveragePool",
        "Pad",
        "Relu",
      ],
    ],
    [
      "resnet3d50 without fc (MedicalNet's layout)",
      () =>
        models.resnet3d50({
          inChannels: 1,
          widenFactor: 0.0625,
          feedForward: false,
          biasDownsample: false,
        }),
      [1, 5, 9, 9],
      ["Add", "BatchNormalization", "Conv", "Flatten", "GlobalAveragePool", "MaxPool", "Relu"],
    ],
  ];
  for (const [label, make, cdhw, ops] of cases) {
    using model = make();
    fill(model);
    model.train(); // exported as in eval mode all the same
    const bytes = onnx.exportOnnx(model, {
      inputShape: ["N", ...cdhw] as [string, number, number, number, number],
    });
    assert.equal(model.training, true);
    const decoded = decodeModel(bytes);
    assert.deepEqual([...new Set(decoded.graph.node.map((n) => n.opType))].sort(), ops, label);
    const expected = [...model.stateDict().keys()].filter((k) =>
      !k.endsWith("num_batches_tracked")
    );
    const weights = decoded.graph.initializer.map((t) => t.name).filter((n) => !n.endsWith("pads"));
    assert.deepEqual(weights.sort(), expected.sort(), label);

    model.eval();
    const session = await ort.InferenceSession.create(bytes);
    try {
      for (const n of [1, 3]) {
        const shape = [n, ...cdhw];
        const x = randn(shape);
        const ours = noGrad(() => model.forward(x)).toArray();
        const out = await session.run({
          image: new ort.Tensor("float32", x.toArray() as Float32Array, shape),
        });
        assert.deepEqual(out.logits.dims, [n, model.fc ? model.fc.outFeatures : ours.length / n]);
        const max = Array.from(ours).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(max > 1e-3, "outputs large enough to compare");
        assertClose(out.logits.data as Float32Array, ours, {
          atol: 1e-5 * max,
          rtol: 1e-4,
          what: `${label}, batch ${n}`,
        });
        x.dispose();
      }
    } finally {
      await session.release();
    }
  }
});

Deno.test("resnet3d: ONNX export refuses an input of the wrong rank or channels with the model's message", () => {
  using net = models.resnet3d10({ inChannels: 1, numClasses: 3, widenFactor: 0.125 });
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 1, 32, 32] }),
    /ResNet3d-10: input \[N,1,32,32\] does not fit conv1 \(Conv3d\): expected \[N, 1, D, H, W\]/,
  );
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 3, 8, 32, 32] }),
    /expected \[N, 1, D, H, W\]/,
  );
});
