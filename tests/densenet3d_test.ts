/**
 * MONAI 1.3's DenseNet for volumes (tests/fixtures/densenet3d.json, from
 * /usr/bin/python3 scripts/make_densenet3d_fixtures.py, which writes MONAI's
 * architecture in plain torch 1.13): densenet3d121's state-dict names,
 * order, shapes and dtypes and its parameter count, and the counts and last
 * entries of densenet3d169/201/264 and a small configuration; two small
 * models whose weights, statistics and inputs come from a formula both
 * sides compute exactly, their eval and training outputs, loss, the
 * input's and every parameter's gradient and the running statistics after;
 * three SGD steps. Plus MONAI's initialisation, the options and their
 * errors, the input checks, channel dropout, the registry, training without
 * memory growth and the ONNX export run in ONNX Runtime against our forward.
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
  entries,
  type Entry,
  fill,
  formula,
  free,
  type Sampled,
} from "./model_fixture.ts";

// ---------------------------------------------------------------- fixtures

type Options = models.DenseNet3dOptions;

interface Structure {
  full: { depth: number; options: Options; numParams: number; state: Entry[] };
  others: {
    depth: number;
    options: Options;
    numParams: number;
    numEntries: number;
    last: Entry[];
  }[];
}

interface Case {
  label: string;
  options: Options;
  input: number[];
  target: number[];
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

const FIXTURE = loadFixture<{ structure: Structure; cases: Case[]; sgd: Sgd }>(
  "densenet3d.json",
);

const BUILDERS: Record<number, (o: Options) => models.DenseNet3d> = {
  121: models.densenet3d121,
  169: models.densenet3d169,
  201: models.densenet3d201,
  264: models.densenet3d264,
};

const TINY: Options = {
  inChannels: 1,
  numClasses: 3,
  initFeatures: 8,
  growthRate: 4,
  blockConfig: [2, 2],
};

// ---------------------------------------------------- structure vs MONAI

Deno.test(`densenet3d: densenet3d121 (the tutorial's 1 channel, 2 classes) has MONAI's state dict, key for key, and ${FIXTURE.structure.full.numParams} parameters`, () => {
  const c = FIXTURE.structure.full;
  const model = BUILDERS[c.depth](c.options);
  try {
    const ours = entries(model);
    assert.deepEqual(ours.map((e) => e[0]), c.state.map((e) => e[0]), "names and order");
    assert.deepEqual(ours, c.state, "shapes and dtypes");
    assert.equal(model.numParameters(), c.numParams);
    assert.equal(model.modelName, "DenseNet3d-121");
  } finally {
    free(model);
  }
});

for (const c of FIXTURE.structure.others) {
  Deno.test(`densenet3d: densenet3d${c.depth} ${JSON.stringify(c.options)} has MONAI's ${c.numEntries} state-dict entries and ${c.numParams} parameters`, () => {
    const model = BUILDERS[c.depth](c.options);
    try {
      const ours = entries(model);
      assert.equal(ours.length, c.numEntries);
      assert.deepEqual(ours.slice(-c.last.length), c.last);
      assert.equal(model.numParameters(), c.numParams);
    } finally {
      free(model);
    }
  });
}

Deno.test("densenet3d: the module tree is MONAI's (features, dense layers' `layers`, class_layers)", () => {
  const net = new models.DenseNet3d({ ...TINY, blockConfig: [2, 3, 1] });
  try {
    assert.deepEqual([...net.namedChildren()].map(([k]) => k), ["features", "class_layers"]);
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
      "norm5",
    ]);
    assert.deepEqual([...net.class_layers.namedChildren()].map(([k]) => k), [
      "relu",
      "pool",
      "flatten",
      "out",
    ]);
    const f = net.features;
    assert.deepEqual(f.conv0.kernelSize, [7, 7, 7]);
    assert.deepEqual(f.conv0.stride, [2, 2, 2]);
    assert.deepEqual(f.conv0.padding, [3, 3, 3]);
    assert.equal(f.conv0.bias, null);
    assert.ok(f.pool0 instanceof nn.MaxPool3d);
    const block = f.denseblock2;
    assert.ok(block instanceof models.DenseBlock3d && block instanceof nn.Sequential);
    assert.deepEqual([...block.namedChildren()].map(([k]) => k), [
      "denselayer1",
      "denselayer2",
      "denselayer3",
    ]);
    const layer = block[2] as models.DenseLayer3d;
    assert.ok(layer instanceof models.DenseLayer3d);
    assert.deepEqual([...layer.layers.namedChildren()].map(([k]) => k), [
      "norm1",
      "relu1",
      "conv1",
      "norm2",
      "relu2",
      "conv2",
    ]);
    // Block 2 starts at (8 + 2 * 4) // 2 = 8 channels; its third layer takes 8 + 2 * 4.
    assert.deepEqual(layer.layers.conv1.weight.shape, [16, 16, 1, 1, 1]);
    assert.deepEqual(layer.layers.conv2.weight.shape, [4, 16, 3, 3, 3]);
    assert.deepEqual(layer.layers.conv2.padding, [1, 1, 1]);
    const t = f.transition1;
    assert.ok(t instanceof models.Transition3d);
    assert.deepEqual(t.conv.weight.shape, [8, 16, 1, 1, 1]);
    assert.ok(t.pool instanceof nn.AvgPool3d);
    assert.equal(t.pool.kernelSize, 2);
    // Block 3: 8 + 3 * 4 = 20 -> 10, + 4 = 14 into norm5 and out.
    assert.equal(f.norm5.numFeatures, 14);
    assert.equal(net.class_layers.out.inFeatures, 14);
    assert.equal(net.class_layers.out.outFeatures, 3);
    assert.deepEqual(net.options, {
      inChannels: 1,
      numClasses: 3,
      initFeatures: 8,
      growthRate: 4,
      blockConfig: [2, 3, 1],
      bnSize: 4,
      act: "relu",
      norm: "batch",
      dropoutProb: 0,
      spatialDims: 3,
    });
    assert.equal(net.modelName, "DenseNet3d");
  } finally {
    free(net);
  }
  // The builders' defaults are MONAI's DenseNet121/169/201/264; blockConfig may be changed.
  for (const [depth, blocks] of [[169, [6, 12, 32, 32]], [264, [6, 12, 64, 48]]] as const) {
    const m = BUILDERS[depth]({ inChannels: 1, numClasses: 2, initFeatures: 2, growthRate: 2 });
    assert.deepEqual(m.options.blockConfig, blocks);
    assert.equal(m.options.bnSize, 4);
    assert.equal(m.modelName, "DenseNet3d", "not MONAI's named configuration");
    free(m);
  }
  const own = models.densenet3d121({ ...TINY, blockConfig: [6, 12, 48, 32] });
  assert.equal(own.features.denseblock3.length, 48);
  free(own);
});

// ------------------------------------------------------- numerics vs MONAI

const TOL = { rtol: 1e-4, atol: 1e-5 };

for (const c of FIXTURE.cases) {
  Deno.test(`densenet3d: MONAI's numbers: ${c.label}: eval and training outputs, loss, gradients, running statistics`, () => {
    scope(() => {
      const net = new models.DenseNet3d(c.options);
      assert.equal(net.numParameters(), c.numParams);
      fill(net);
      net.to(testDevice).eval();
      const x = formula(1000, c.input, -1, 1);
      const evalOut = noGrad(() => net.forward(x));
      assertClose(evalOut, c.evalOut.data, { ...TOL, what: "eval output" });

      net.train();
      const xg = formula(1000, c.input, -1, 1, true);
      const out = net.forward(xg);
      assertClose(out, c.trainOut.data, { ...TOL, what: "training output" });
      const y = tensor(Int32Array.from(c.target), [c.target.length], {
        dtype: "int32",
        device: testDevice,
      });
      const loss = new nn.CrossEntropyLoss().forward(out, y);
      assertClose([loss.item()], [c.loss], { ...TOL, what: "loss" });
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

Deno.test("densenet3d: three SGD steps (momentum, weight decay) follow MONAI's in torch", () => {
  const s = FIXTURE.sgd;
  const net = new models.DenseNet3d(s.options);
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
  assert.deepEqual(
    [...state.keys()].filter((k) => !k.endsWith("num_batches_tracked")),
    Object.keys(s.after),
  );
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

// ------------------------------------------------------- initialisation

Deno.test("densenet3d: MONAI's initialisation (kaiming normal fan_in, BN 1/0, Linear bias 0)", () => {
  manualSeed(1);
  const net = models.densenet3d121({ inChannels: 1, numClasses: 3, blockConfig: [2, 2] });
  try {
    const std = (t: Tensor) => {
      const v = t.toArray();
      return Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0) / v.length);
    };
    // fan_in = in * k^3, gain sqrt(2).
    const l2 = net.features.denseblock2[1] as models.DenseLayer3d;
    const w = l2.layers.conv2.weight; // [32, 128, 3, 3, 3]
    assert.ok(Math.abs(std(w) / Math.sqrt(2 / (128 * 27)) - 1) < 0.02, `std ${std(w)}`);
    const c0 = net.features.conv0.weight; // [64, 1, 7, 7, 7]: fan_in 343
    assert.ok(Math.abs(std(c0) / Math.sqrt(2 / 343) - 1) < 0.02, `conv0 std ${std(c0)}`);
    const t1 = net.features.transition1.conv.weight; // [64, 128, 1, 1, 1]
    assert.ok(Math.abs(std(t1) / Math.sqrt(2 / 128) - 1) < 0.03, `transition std ${std(t1)}`);
    let norms = 0;
    for (const [name, m] of net.namedModules()) {
      if (!(m instanceof nn.BatchNorm3d)) continue;
      norms++;
      assert.ok(m.weight!.toArray().every((v) => v === 1), `${name}.weight`);
      assert.ok(m.bias!.toArray().every((v) => v === 0), `${name}.bias`);
    }
    assert.equal(norms, 1 + 2 * 4 + 1 + 1, "norm0, two per dense layer, transition1, norm5");
    const out = net.class_layers.out;
    assert.ok(out.bias!.toArray().every((v) => v === 0), "out bias 0");
    const bound = 1 / Math.sqrt(out.inFeatures); // the Linear weight keeps PyTorch's default
    const fw = out.weight.toArray();
    assert.ok(fw.every((v) => Math.abs(v) <= bound) && fw.some((v) => v !== 0));
  } finally {
    free(net);
  }
});

// ------------------------------------------------------- options and checks

Deno.test("densenet3d: options are MONAI's in camelCase, and bad ones are errors that say what to write", () => {
  const ok = { inChannels: 1, numClasses: 2 };
  assert.throws(
    () => models.densenet3d121({ in_channels: 1, numClasses: 2 } as never),
    /unknown option 'in_channels' \(write 'inChannels'\)/,
  );
  assert.throws(
    () => models.densenet3d121({ inChannels: 1, out_channels: 2 } as never),
    /DenseNet3d-121\): MONAI's out_channels is numClasses here; write models\.densenet3d121\(\{ inChannels: 1, numClasses: 2 \}\)/,
  );
  assert.throws(
    () => models.densenet3d121({ inChannels: 1, outChannels: 2 } as never),
    /out_channels is numClasses here/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, growth_rate: 16 } as never),
    /unknown option 'growth_rate' \(write 'growthRate'\)/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, pretrained: true } as never),
    /MONAI has no pretrained 3-D DenseNet/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, dropRate: 0.1 } as never),
    /drop_rate is dropoutProb here/,
  );
  assert.throws(
    () => models.densenet3d121({ numClasses: 2 }),
    /DenseNet3d-121\): inChannels is required \(MONAI's in_channels has no default\); write models\.densenet3d121/,
  );
  assert.throws(
    () => models.densenet3d169({ inChannels: 1 }),
    /DenseNet3d-169\): numClasses is required \(MONAI's out_channels has no default\)/,
  );
  assert.throws(
    () => (models.densenet3d201 as () => unknown)(),
    /models\.densenet3d201: inChannels and numClasses are required/,
  );
  assert.throws(
    () => new models.DenseNet3d({ ...ok, initFeatures: 8, blockConfig: [] }),
    /DenseNet3d\): blockConfig must be a non-empty list of layer counts, got/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, blockConfig: [6, 0, 24, 16] }),
    /blockConfig\[1\] must be a positive integer, got 0/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, growthRate: 2.5 }),
    /growthRate must be a positive/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, initFeatures: 0 }),
    /initFeatures must be a positive/,
  );
  assert.throws(() => models.densenet3d121({ ...ok, bnSize: NaN }), /bnSize must be a positive/);
  assert.throws(() => models.densenet3d121({ inChannels: 0, numClasses: 2 }), /inChannels must be/);
  assert.throws(
    () => models.densenet3d121({ inChannels: 1, numClasses: -1 }),
    /numClasses must be/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, dropoutProb: 1.5 }),
    /dropoutProb must be a number in \[0, 1\], got 1\.5/,
  );
  assert.throws(() => models.densenet3d121({ ...ok, dropoutProb: NaN }), /dropoutProb must be/);
  assert.throws(
    () => models.densenet3d121({ ...ok, act: "prelu" as never }),
    /act must be "relu" .* other activations are not available here: leave act out/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, act: ["relu", { negative_slope: 0.1 }] as never }),
    /act must be "relu"/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, norm: "instance" as never }),
    /norm must be "batch" .* leave norm out/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, norm: ["batch", { eps: 1e-3 }] as never }),
    /norm must be "batch"/,
  );
  assert.throws(
    () => models.densenet3d121({ ...ok, spatialDims: 2 as never }),
    /spatialDims must be 3 .* for 2-D images use models\.densenet121/,
  );
  assert.throws(
    () => (models.densenet3d121 as (...a: unknown[]) => unknown)(ok, 3),
    /models\.densenet3d121.*at most 1 argument/,
  );
  assert.throws(
    () => models.densenet3d121(3 as never),
    /expected an options object, got number 3/,
  );
  assert.throws(() => new models.DenseLayer3d(8, 0, 4, 0), /DenseLayer3d: growthRate must be/);
  assert.throws(() => new models.DenseLayer3d(8, 4, 4, 2), /DenseLayer3d: dropoutProb must be/);
  assert.throws(
    () => new (models.DenseBlock3d as new (...a: number[]) => unknown)(2, 8, 4, 4, 0, 3),
    /DenseBlock3d: takes at most 5 arguments, got 6 \(spatialDims is always 3 here\)/,
  );
  assert.throws(() => new models.Transition3d(8, 0), /Transition3d: outChannels must be/);
  assert.throws(
    () => new models.DenseLayer3d(8, 4, 4, 0).forward(zeros([1, 8, 4, 4])),
    /DenseLayer3d: forward takes a volume batch \[N, C, D, H, W\], got \[1,8,4,4\]/,
  );
  // MONAI's spellings of its defaults are accepted.
  const spelled = models.densenet3d121({
    ...TINY,
    act: ["RELU", { inplace: true }] as never,
    norm: ["batch", {}],
    spatialDims: 3,
  });
  assert.equal(spelled.modelName, "DenseNet3d");
  free(spelled);
});

Deno.test("densenet3d: a wrong rank, channel count or too-small volume names the model, layer and shape", () => {
  scope(() => {
    const net = new models.DenseNet3d({ ...TINY, blockConfig: [1, 1, 1] }).eval();
    assert.throws(
      () => net.forward(zeros([1, 1, 32, 32])),
      /DenseNet3d: input \[1,1,32,32\] does not fit features\.conv0 \(Conv3d\): expected \[N, 1, D, H, W\] with D, H, W >= 13; for one volume write x\.unsqueeze\(0\)/,
    );
    assert.throws(
      () => net.forward(zeros([1, 2, 16, 16, 16])),
      /input \[1,2,16,16,16\] does not fit features\.conv0 \(Conv3d\): expected \[N, 1, D, H, W\]/,
    );
    // 13 -> 7 -> 4 -> 2 -> 1: two transitions need 13; 12 -> 6 -> 3 -> 1 -> 0 fails.
    assert.throws(
      () => net.forward(zeros([1, 1, 13, 12, 13])),
      /input \[1,1,13,12,13\] does not fit features\.transition2\.pool \(AvgPool3d\), which needs a 2 x 2 x 2 map: expected \[N, 1, D, H, W\] with D, H, W >= 13$/,
    );
    assertShape(net.forward(zeros([2, 1, 13, 13, 13])), [2, 3]);
    // One block: no transition, any size.
    const one = new models.DenseNet3d({ ...TINY, blockConfig: [1] }).eval();
    assertShape(one.forward(zeros([1, 1, 1, 1, 1])), [1, 3]);
    // A replaced stem sets the channels.
    net.features.conv0 = new nn.Conv3d(2, 8, 7, { stride: 2, padding: 3, bias: false });
    assertShape(net.forward(zeros([1, 2, 13, 13, 13])), [1, 3]);
    assert.throws(() => net.forward(zeros([1, 1, 16, 16, 16])), /expected \[N, 2, D, H, W\]/);
    free(net);
    free(one);
  });
});

Deno.test("densenet3d: dropoutProb adds MONAI's nn.Dropout3d to each dense layer: whole channels, in training only", () => {
  manualSeed(3);
  scope(() => {
    const net = new models.DenseNet3d({ ...TINY, dropoutProb: 0.5 });
    const plain = new models.DenseNet3d(TINY);
    assert.deepEqual([...net.stateDict().keys()], [...plain.stateDict().keys()], "no parameters");
    const layer = net.features.denseblock1[0] as models.DenseLayer3d;
    assert.ok(layer.layers.dropout instanceof nn.Dropout3d);
    assert.equal(layer.layers.dropout.p, 0.5);
    assert.equal((plain.features.denseblock1[0] as models.DenseLayer3d).layers.dropout, undefined);
    // Batch norms in eval mode, dropout in training: each new channel of each
    // sample is either zero or twice its eval value; the input passes unchanged.
    layer.train();
    layer.layers.norm1.eval();
    layer.layers.norm2.eval();
    const x = randn([4, 8, 3, 3, 3]);
    const dropped = layer.forward(x).toArray();
    layer.eval();
    const kept = layer.forward(x).toArray();
    const voxels = 27, channels = 12;
    let zero = 0, doubled = 0;
    for (let n = 0; n < 4; n++) {
      for (let c = 0; c < channels; c++) {
        const at = (n * channels + c) * voxels;
        const d = dropped.slice(at, at + voxels), k = kept.slice(at, at + voxels);
        if (c < 8) {
          assert.deepEqual([...d], [...k], "the input channels pass");
          continue;
        }
        if (d.every((v) => v === 0)) zero++;
        else {
          assertClose(d, k.map((v) => 2 * v), { rtol: 1e-6, atol: 1e-7, what: "kept x 2" });
          doubled++;
        }
      }
    }
    assert.ok(zero > 0 && doubled > 0, `${zero} channels dropped, ${doubled} kept`);
    free(net);
    free(plain);
  });
});

// ---------------------------------------------------------------- registry

Deno.test("densenet3d: models.create builds them; they are volume models, not in names()", () => {
  const net = models.create("densenet3d121", { inChannels: 1, numClasses: 2 });
  assert.ok(net instanceof models.DenseNet3d);
  assert.equal(net.modelName, "DenseNet3d-121");
  assert.equal(net.class_layers.out.outFeatures, 2);
  assert.equal(net.features.conv0.inChannels, 1);
  free(net);
  const b = models.create("DenseNet3d264", { inChannels: 2, numClasses: 3 }) as models.DenseNet3d;
  assert.deepEqual(b.options.blockConfig, [6, 12, 64, 48]);
  free(b);
  for (const name of ["densenet3d121", "densenet3d169", "densenet3d201", "densenet3d264"]) {
    assert.ok(models.volumeNames().includes(name), name);
    assert.ok(!models.names().includes(name), `${name} is not an image model`);
  }
  assert.equal(models.canonicalName("DenseNet3D169"), "densenet3d169");
  const named = new models.DenseNet3d({ inChannels: 1, numClasses: 2, blockConfig: undefined });
  assert.equal(named.modelName, "DenseNet3d-121", "MONAI's DenseNet defaults are DenseNet121's");
  free(named);
  assert.throws(() => models.create("densenet3d121"), /inChannels is required/);
  assert.throws(
    () => models.create("densenet3d121", { inChannels: 1, numClasses: 2, dropRate: 0.1 }),
    /densenet3d121 has no option 'dropRate'; it takes inChannels, numClasses/,
  );
});

// ------------------------------------------------------------------ memory

Deno.test("densenet3d: training steps do not grow memory; an eval forward frees its intermediates", () => {
  manualSeed(5);
  const model = new models.DenseNet3d({ ...TINY, blockConfig: [3, 2] }).train();
  assertStepsHoldMemory(model, randn([2, 1, 12, 16, 16]));
});

// -------------------------------------------------------------------- ONNX

Deno.test("densenet3d: the ONNX graph is named as the state dict, concatenates, and matches ONNX Runtime", async () => {
  const cases: [string, () => models.DenseNet3d, number[]][] = [
    ["small, three blocks, dropout", () =>
      new models.DenseNet3d({
        inChannels: 2,
        numClasses: 4,
        initFeatures: 8,
        growthRate: 4,
        bnSize: 2,
        blockConfig: [1, 2, 1],
        dropoutProb: 0.2,
      }), [2, 13, 16, 20]],
    ["densenet3d121", () => models.densenet3d121({ inChannels: 1, numClasses: 2 }), [
      1,
      29,
      32,
      29,
    ]],
  ];
  for (const [label, make, cdhw] of cases) {
    manualSeed(15);
    using model = make();
    fill(model);
    model.train(); // exported as in eval mode all the same
    const bytes = onnx.exportOnnx(model, {
      inputShape: ["N", ...cdhw] as [string, number, number, number, number],
    });
    assert.equal(model.training, true);
    const decoded = decodeModel(bytes);
    assert.deepEqual([...new Set(decoded.graph.node.map((n) => n.opType))].sort(), [
      "AveragePool",
      "BatchNormalization",
      "Concat",
      "Conv",
      "Flatten",
      "Gemm",
      "GlobalAveragePool",
      "MaxPool",
      "Relu",
    ], label);
    const expected = [...model.stateDict().keys()].filter((k) =>
      !k.endsWith("num_batches_tracked")
    );
    const weights = decoded.graph.initializer.map((t) => t.name);
    assert.deepEqual(weights.sort(), expected.sort(), label);
    const cat = decoded.graph.node.find((n) => n.name === "features.denseblock2.denselayer2.cat")!;
    assert.equal(cat.opType, "Concat");
    assert.equal(cat.input.length, 2, "MONAI's cat([x, layers(x)])");
    const concats = decoded.graph.node.filter((n) => n.opType === "Concat").length;
    assert.equal(concats, model.options.blockConfig.reduce((a, b) => a + b, 0), "one per layer");

    model.eval();
    const session = await ort.InferenceSession.create(bytes);
    try {
      for (const n of [1, 2]) {
        const shape = [n, ...cdhw];
        const x = randn(shape);
        const ours = noGrad(() => model.forward(x)).toArray();
        const out = await session.run({
          image: new ort.Tensor("float32", x.toArray() as Float32Array, shape),
        });
        assert.deepEqual(out.logits.dims, [n, model.options.numClasses]);
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

Deno.test("densenet3d: ONNX export refuses an input of the wrong rank, channels or size with the model's message", () => {
  using net = models.densenet3d121({ inChannels: 1, numClasses: 2 });
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 1, 64, 64] }),
    /DenseNet3d-121: input \[N,1,64,64\] does not fit features\.conv0 \(Conv3d\): expected \[N, 1, D, H, W\] with D, H, W >= 29/,
  );
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 3, 32, 32, 32] }),
    /expected \[N, 1, D, H, W\]/,
  );
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 1, 28, 64, 64] }),
    /does not fit features\.transition3\.pool \(AvgPool3d\), which needs a 2 x 2 x 2 map/,
  );
});
