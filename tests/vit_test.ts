/**
 * The Vision Transformers against torchvision 0.14's VisionTransformer
 * (tests/fixtures/vit.json, scripts/make_vit_fixtures.py): the table rows,
 * state dicts and parameter counts of vit_b_16 ... vit_h_14; two tiny ViTs
 * with torchvision's random weights: evaluation logits and the gradients of
 * sum(logits * G) for the input and parameters; initialisation, input and
 * option checks, legacy MLP names, the registry and ONNX export.
 */
import assert from "node:assert/strict";
import { models, nn, noGrad, onnx, randn, scope, type Tensor, train, zeros } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";
import { free } from "./model_fixture.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";

type Entry = [string, number[], string];

interface StructureCase {
  model: string;
  row: Omit<models.ViTConfig, "name">;
  numParams: number;
  oneLayer: { numParams: number; state: Entry[] };
  state?: Entry[];
}

interface NumericsCase {
  name: string;
  config: Omit<models.ViTConfig, "name">;
  options: models.ViTOptions;
  weights: Record<string, Stored>;
  input: Stored;
  logits: Stored;
  upstream: Stored;
  inputGrad: Stored;
  grads: Record<string, Stored>;
}

const FX = loadFixture<{ structure: StructureCase[]; numerics: NumericsCase[] }>("vit.json");
const TOL = testDevice === "cpu" ? { rtol: 1e-4, atol: 1e-4 } : { rtol: 1e-3, atol: 1e-3 };
const CONFIGS: Record<string, models.ViTConfig> = {
  vit_b_16: models.VIT_B_16,
  vit_b_32: models.VIT_B_32,
  vit_l_16: models.VIT_L_16,
  vit_l_32: models.VIT_L_32,
  vit_h_14: models.VIT_H_14,
};

const entries = (m: nn.Module): Entry[] =>
  [...m.stateDict()].map(([k, t]) => [k, [...t.shape], t.dtype]);

const TINY = FX.numerics[0];
const tinyConfig = (c: NumericsCase): models.ViTConfig => ({ name: `ViT ${c.name}`, ...c.config });

function loadTiny(c: NumericsCase): models.VisionTransformer {
  const net = new models.VisionTransformer(tinyConfig(c), c.options);
  const sd = new Map(Object.entries(c.weights).map(([k, s]) => [k, fromStored(s)]));
  net.loadStateDict(sd);
  for (const t of sd.values()) t.dispose();
  return net;
}

// ---------------------------------------------------------- structure

for (const c of FX.structure) {
  Deno.test(`vit: ${c.model} has torchvision's row, state dict and ${c.numParams} parameters`, () => {
    const config = CONFIGS[c.model];
    const { name: _, ...row } = config;
    assert.deepEqual(row, c.row);
    // One encoder layer (the full ViT-H is 2.5 GB): its state dict whole, then the count
    // extended by the blocks.
    const one = new models.VisionTransformer({ ...config, numLayers: 1 });
    try {
      assert.deepEqual(entries(one), c.oneLayer.state);
      assert.equal(one.numParameters(), c.oneLayer.numParams);
      const block = one.encoder.layers[0].numParameters();
      assert.equal(one.numParameters() + (config.numLayers - 1) * block, c.numParams);
    } finally {
      free(one);
    }
  });
}

Deno.test("vit: vitB16's whole state dict is torchvision's vit_b_16's", () => {
  const net = models.vitB16();
  try {
    assert.deepEqual(entries(net), FX.structure.find((c) => c.model === "vit_b_16")!.state);
    assert.equal(net.numParameters(), 86567656);
    assert.equal(net.seqLength, 197);
  } finally {
    free(net);
  }
});

// ---------------------------------------------------------- numerics

for (const c of FX.numerics) {
  Deno.test(`vit: ${c.name} with torchvision's weights: eval logits and gradients of sum(logits * G)`, () => {
    const net = loadTiny(c).eval();
    net.to(testDevice);
    try {
      scope(() => {
        const x = fromStored(c.input, { device: testDevice, requiresGrad: true });
        const logits = net.forward(x);
        assertClose(logits.to("cpu"), c.logits.data, { ...TOL, what: "logits" });
        logits.mul(fromStored(c.upstream, { device: testDevice })).sum().backward();
        assertClose(x.grad!.to("cpu"), c.inputGrad.data, { ...TOL, what: "input grad" });
        const params = new Map(net.namedParameters());
        for (const [k, g] of Object.entries(c.grads)) {
          assertClose(params.get(k)!.grad!.to("cpu"), g.data, { ...TOL, what: `${k}.grad` });
        }
        // Without recording, the same logits.
        const again = noGrad(() => net.forward(x.detach()));
        assertClose(again.to("cpu"), c.logits.data, { ...TOL, what: "noGrad logits" });
      });
    } finally {
      free(net);
    }
  });
}

Deno.test("vit: training mode with dropout 0 is evaluation; dropout and attentionDropout act in training", () => {
  const quiet = loadTiny(TINY);
  const x = fromStored(TINY.input);
  const a = noGrad(() => quiet.train().forward(x));
  assertClose(a, TINY.logits.data, { ...TOL, what: "training logits without dropout" });
  const noisy = new models.VisionTransformer(tinyConfig(TINY), {
    ...TINY.options,
    dropout: 0.5,
    attentionDropout: 0.3,
  });
  noisy.loadStateDict(quiet.stateDict());
  const block = noisy.encoder.layers[0] as models.EncoderBlock;
  assert.equal(block.self_attention.dropout, 0.3);
  assert.equal(block.dropout.p, 0.5);
  assert.equal((block.mlp[2] as nn.Dropout).p, 0.5);
  assert.equal(noisy.encoder.dropout.p, 0.5);
  const b = noGrad(() => noisy.train().forward(x)).toArray();
  assert.ok(b.some((v, i) => Math.abs(v - TINY.logits.data[i]) > 1e-3), "dropout changed logits");
  assertClose(noGrad(() => noisy.eval().forward(x)), TINY.logits.data, TOL);
  free(quiet);
  free(noisy);
  x.dispose();
});

// ---------------------------------------------------------- initialisation

Deno.test("vit: initialised as torchvision's (conv_proj truncated normal, zero head and class token)", () => {
  const config = {
    name: "ViT init",
    patchSize: 8,
    numLayers: 1,
    numHeads: 4,
    hiddenDim: 256,
    mlpDim: 512,
  };
  const net = new models.VisionTransformer(config, { imageSize: 32, inChannels: 1, numClasses: 3 });
  const std = (t: Tensor) => {
    const v = Array.from(t.toArray() as Float32Array);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  };
  const w = net.conv_proj.weight;
  assert.ok(Math.abs(std(w) / Math.sqrt(1 / 64) - 1) < 0.05, `conv_proj std ${std(w)}`);
  assert.equal(net.conv_proj.bias!.abs().max().item(), 0);
  assert.equal(net.class_token.abs().max().item(), 0);
  const head = net.getSubmodule("heads.head") as nn.Linear;
  assert.equal(head.weight.abs().max().item() + head.bias!.abs().max().item(), 0);
  assert.ok(Math.abs(std(net.encoder.pos_embedding) / 0.02 - 1) < 0.05);
  const block = net.encoder.layers[0] as models.EncoderBlock;
  const fc = block.mlp[0] as nn.Linear;
  assert.ok(fc.weight.abs().max().item() <= Math.sqrt(6 / (256 + 512)));
  assert.ok(fc.bias!.abs().max().item() < 1e-5 && fc.bias!.abs().max().item() > 0);
  assert.equal(block.ln_1.eps, 1e-6);
  assert.equal(net.encoder.ln.eps, 1e-6);
  const rep = new models.VisionTransformer(config, { imageSize: 16, representationSize: 64 });
  assert.deepEqual([...rep.heads.stateDict().keys()], [
    "pre_logits.weight",
    "pre_logits.bias",
    "head.weight",
    "head.bias",
  ]);
  assert.ok(rep.getSubmodule("heads.act") instanceof nn.Tanh);
  assert.ok(
    Math.abs(
      std((rep.getSubmodule("heads.pre_logits") as nn.Linear).weight) / Math.sqrt(1 / 256) - 1,
    ) < 0.1,
  );
  free(net);
  free(rep);
});

// ---------------------------------------------------------- checks

Deno.test("vit: imageSize, input size and channels are checked with what to write", () => {
  assert.throws(
    () => models.vitB16({ imageSize: 100 }),
    /imageSize 100 is not divisible by the patch size 16.*use imageSize 96 or 112/,
  );
  const net = loadTiny(TINY);
  assert.throws(
    () => net.forward(zeros([1, 1, 48, 48])),
    /input \[1,1,48,48\] is 48 x 48, but the model was built for imageSize 32.*resize the images to 32 x 32, or build the model with \{ imageSize: 48 \}/,
  );
  assert.throws(
    () => net.forward(zeros([1, 3, 32, 32])),
    /conv_proj \(Conv2d\): expected \[N, 1, 32, 32\]/,
  );
  assert.throws(() => net.forward(zeros([1, 32, 32])), /expected \[N, 1, 32, 32\]/);
  assert.throws(
    () => new models.VisionTransformer(tinyConfig(TINY), { convStemConfigs: [] } as never),
    /convStemConfigs/,
  );
  assert.throws(() => models.vitB16({ dropout: 1.5 }), /dropout must be a number in \[0, 1\]/);
  assert.throws(
    () => models.vitB16({ representationSize: 0 }),
    /representationSize must be an integer >= 1/,
  );
  assert.throws(
    () => (net as unknown as { image_size: number }).image_size,
    /write vit\.imageSize/,
  );
  assert.throws(() => net.encoder.forward(zeros([1, 5, 16])), /5 tokens do not fit pos_embedding/);
  free(net);
});

Deno.test("vit: torchvision's legacy MLP names (mlp.linear_1) load through loadStateDict and loadPretrained", () => {
  const src = loadTiny(TINY);
  const legacy = new Map(
    [...src.stateDict()].map((
      [k, t],
    ) => [k.replace(/mlp\.0\./, "mlp.linear_1.").replace(/mlp\.3\./, "mlp.linear_2."), t]),
  );
  assert.ok([...legacy.keys()].includes("encoder.layers.encoder_layer_1.mlp.linear_2.bias"));
  const a = new models.VisionTransformer(tinyConfig(TINY), TINY.options);
  assert.deepEqual(a.loadStateDict(legacy), { missingKeys: [], unexpectedKeys: [] });
  const x = fromStored(TINY.input);
  assertClose(noGrad(() => a.eval().forward(x)), TINY.logits.data, TOL);
  const b = new models.VisionTransformer(tinyConfig(TINY), { ...TINY.options, numClasses: 5 });
  const report = models.loadPretrained(b, legacy);
  assert.equal(report.renamed.length, 8);
  assert.deepEqual(report.renamed[0], {
    from: "encoder.layers.encoder_layer_0.mlp.linear_1.weight",
    to: "encoder.layers.encoder_layer_0.mlp.0.weight",
  });
  assert.deepEqual(report.skipped.map((s) => s.name), ["heads.head.weight", "heads.head.bias"]);
  // ImageNet's RGB conv_proj onto one channel, by timm's rule.
  const rgb = new models.VisionTransformer(tinyConfig(TINY), { ...TINY.options, inChannels: 3 });
  const c = new models.VisionTransformer(tinyConfig(TINY), TINY.options);
  assert.equal(models.loadPretrained(c, rgb.stateDict()).adapted[0].name, "conv_proj.weight");
  [src, a, b, rgb, c].forEach(free);
  x.dispose();
});

// ---------------------------------------------------------- registry and CLI

Deno.test("vit: the registry builds them under torchvision's names, with imageSize a patch multiple", () => {
  for (const n of ["vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"]) {
    assert.ok(models.names().includes(n), n);
    assert.ok(models.takesOption(n, "dropout") && models.takesOption(n, "attentionDropout"));
  }
  assert.equal(models.canonicalName("ViT_B_16"), "vit_b_16");
  assert.equal(models.canonicalName("vitb32"), "vit_b_32");
  assert.equal(models.imageSizeMultiple("vit_h_14"), 14);
  assert.equal(models.imageSizeMultiple("resnet50"), 1);
  assert.throws(
    () => models.create("vit_b_16", { imageSize: 100 }),
    /vit_b_16 needs imageSize to be a multiple of its patch size 16, got 100; give imageSize 96 or 112 \(--image-size/,
  );
  assert.throws(
    () => models.create("vit_b_16", { zeroInitResidual: true }),
    /has no option 'zeroInitResidual'/,
  );
  const net = models.create("vit_b_32", {
    inChannels: 1,
    numClasses: 3,
    imageSize: 64,
    dropout: 0.1,
  });
  try {
    assert.ok(net instanceof models.VisionTransformer);
    assert.equal(net.seqLength, 5);
    assert.equal(net.conv_proj.weight.shape[1], 1);
    const y = noGrad(() => net.eval().forward(randn([2, 1, 64, 64])));
    assert.deepEqual(y.shape, [2, 3]);
  } finally {
    free(net);
  }
});

Deno.test("vit: the train command's image size must be a patch multiple, and says which to give", () => {
  const base = { ...train.DEFAULTS, batchNorm: false, globalPool: "none" as const };
  const ok = train.checkConfig({ ...base, model: "vit_b_16", imageSize: 224 });
  assert.equal(ok.model, "vit_b_16");
  assert.throws(
    () => train.checkConfig({ ...base, model: "vit_b_16", imageSize: 250 }),
    /--image-size 240 or 256/,
  );
  assert.throws(
    () => train.checkConfig({ ...base, model: "vit_h_14", imageSize: 256 }),
    /--image-size 252 or 266/,
  );
});

// ---------------------------------------------------------- ONNX

Deno.test("vit: ONNX export runs in ONNX Runtime as our forward (dynamic batch), both tiny ViTs", async () => {
  for (const c of FX.numerics) {
    const net = loadTiny(c);
    const { imageSize, inChannels } = c.options as Required<models.ViTOptions>;
    try {
      net.train(); // exported as in eval mode whatever the flag
      const bytes = onnx.exportOnnx(net, { inputShape: ["N", inChannels, imageSize, imageSize] });
      net.eval();
      await assertRunsAsOurs(net, bytes, [inChannels, imageSize, imageSize], {
        atol: 1e-4,
        rtol: 1e-4,
        nonTrivial: true,
      });
    } finally {
      free(net);
    }
  }
  const net = loadTiny(TINY);
  assert.throws(
    () => onnx.exportOnnx(net, { inputShape: ["N", 1, 48, 48] }),
    /expected \[N, 1, 32, 32\]/,
  );
  free(net);
});
