/**
 * Grad-CAM against the same computation in PyTorch (pytorch-grad-cam's
 * GradCAM written out with hooks) on formula weights: the simple CNN at
 * 32 x 32 and a ResNet-18 at 64 x 64, default and named layers and targets;
 * AlexNet at 63 x 63, ResNet-34 and ResNet-50 at 64 x 64, default layer and
 * predicted targets; MONAI's 3-D ResNet-10 on [2, 1, 16, 16, 16] volumes.
 * Plus the default layer of every zoo model, forward hooks, and bad input.
 * Fixtures: /usr/bin/python3 scripts/make_gradcam_fixtures.py.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- the report's own PNG codec; deno.json has no import map
import { decode } from "npm:fast-png@8";
import { evaluation, manualSeed, models, nn, noGrad, randn, type Tensor, tensor } from "../mod.ts";
import { runGradCam } from "../src/eval/gradcam.ts";
import { loadFixture } from "./helpers.ts";

interface Case {
  model: string;
  options: models.ModelOptions;
  /** Side of a [n, 1, s, s, s] volume input (3-D models). */
  volume?: number;
  n: number;
  layer: string;
  target: number | number[] | null;
  method: "gradcam" | "gradcam++";
  targets: number[];
  logits: number[];
  maps: number[];
}

/** The generator's weights: a formula of each tensor's name and shape (see the script). */
function setFormulaWeights(model: nn.Module): void {
  const sd = new Map<string, Tensor>();
  for (const [name, t] of model.stateDict()) {
    if (t.dtype !== "float32") continue;
    let h = 0;
    for (let i = 0; i < name.length; i++) h += name.charCodeAt(i) * (i + 1);
    h = (h % 997) / 97;
    const fanIn = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const v = new Float32Array(t.numel());
    for (let j = 0; j < v.length; j++) {
      const b = Math.sin(0.731 * j + h + ((j * j) % 1013)); // j * j < 2 ** 53: exact
      v[j] = name.endsWith("running_var")
        ? 1 + 0.25 * (1 + b)
        : t.ndim >= 2
        ? b / Math.sqrt(fanIn)
        : name.endsWith("weight")
        ? 1 + 0.2 * b
        : 0.1 * b;
    }
    sd.set(name, tensor(v, [...t.shape]));
  }
  model.loadStateDict(sd, { strict: false });
  sd.forEach((t) => t.dispose());
}

function formulaInput(n: number, size: number): Tensor {
  const x = new Float32Array(n * size * size);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) {
        x[(i * size + r) * size + c] = Math.sin(0.3 * r + 0.2 * c + i) *
          Math.cos(0.15 * r - 0.25 * c * (i + 1));
      }
    }
  }
  return tensor(x, [n, 1, size, size]);
}

/** The generator's volume: x[n, 0, d, r, c] = sin(0.3 r + 0.2 c + 0.25 d + n) cos(0.15 r - 0.25 c (n + 1) + 0.1 d). */
function formulaVolume(n: number, size: number): Tensor {
  const x = new Float32Array(n * size ** 3);
  let j = 0;
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < size; d++) {
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          x[j++] = Math.sin(0.3 * r + 0.2 * c + 0.25 * d + i) *
            Math.cos(0.15 * r - 0.25 * c * (i + 1) + 0.1 * d);
        }
      }
    }
  }
  return tensor(x, [n, 1, size, size, size]);
}

const fixture = loadFixture<{ cases: Case[] }>("gradcam.json");

for (const c of fixture.cases) {
  const what = `${c.method} ${c.model} ${c.layer} target ${JSON.stringify(c.target)}`;
  Deno.test(`gradCam: ${what} matches PyTorch`, () => {
    // The 3-D case takes a builder option (noMaxPool) that models.create does not.
    using model = (c.volume ? models.resnet3d10(c.options) : models.create(c.model, c.options))
      .eval();
    setFormulaWeights(model);
    const size = c.volume ?? c.options.imageSize!;
    const x = c.volume ? formulaVolume(c.n, size) : formulaInput(c.n, size);
    const method = c.method;
    const r = runGradCam(model, x, { layer: c.layer, target: c.target ?? undefined, method });
    assert.deepEqual(r.targets, c.targets);
    let worstLogit = 0;
    r.logits.forEach((v, i) => (worstLogit = Math.max(worstLogit, Math.abs(v - c.logits[i]))));
    assert.ok(worstLogit < 1e-4, `logits differ by ${worstLogit}`);
    assert.equal(r.maps.length, c.maps.length);
    let worst = 0;
    r.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - c.maps[i] / 1e5))));
    console.log(`  max |ours - PyTorch| = ${worst.toExponential(2)}`);
    assert.ok(worst < 2e-4, `heat maps differ by ${worst}`);
    // Not a degenerate map: it spans [0, 1].
    assert.ok(Math.max(...r.maps) > 0.99 && Math.min(...r.maps) === 0);
    // The public form: a tensor [N, H, W] with the same values; called with no
    // options where the case is the default layer and the predicted targets.
    const byDefault = c.target === null && c.layer === evaluation.gradCamLayer(model) &&
      method === "gradcam";
    const cam = byDefault
      ? evaluation.gradCam(model, x)
      : evaluation.gradCam(model, x, { layer: c.layer, target: c.target ?? undefined, method });
    assert.deepEqual(cam.shape, [c.n, ...x.shape.slice(2)]);
    assert.deepEqual(cam.toArray(), r.maps);
    x.dispose();
    cam.dispose();
  });
}

Deno.test("gradCam: the two methods' fixtures differ, so the method is not ignored", () => {
  const pick = (m: string) =>
    fixture.cases.find((c) => c.method === m && c.model === "resnet18" && c.layer === "layer3")!;
  const a = pick("gradcam").maps, b = pick("gradcam++").maps;
  const worst = a.reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]) / 1e5), 0);
  assert.ok(worst > 0.05, `Grad-CAM and Grad-CAM++ maps differ by only ${worst}`);
});

Deno.test("gradCam: the default layer of every zoo model, and maps in [0, 1]", () => {
  const expected: Record<string, string> = {
    simple: "features.10",
    alexnet: "features.11",
    resnet18: "layer4.1",
    resnet34: "layer4.2",
    resnet50: "layer4.2",
    densenet121: "features.norm5",
    densenet161: "features.norm5",
    densenet169: "features.norm5",
    densenet201: "features.norm5",
    mobilenetv2: "features.18.2",
    efficientnetb0: "features.8.2",
    efficientnetb1: "features.8.2", // b2-b7: b1's layout, wider and deeper; not built here
    mobilenetv3large: "features.16.2",
    mobilenetv3small: "features.12.2",
    shufflenetv2x0_5: "conv5.2", // x1_0-x2_0: the same layout, wider
    efficientnetv2s: "features.7.2", // m, l: a seventh stage (features.8.2); not built here
    regnety400mf: "trunk_output.block4.block4-5", // the last block; the other RegNets: not built here
    regnetx400mf: "trunk_output.block4.block4-11",
    convnexttiny: "features.7.2", // pytorch-grad-cam's model.features[-1]: the last stage
    resnext50_32x4d: "layer4.2", // the deeper and wider ResNets: the same rule, not built here
    // the last ReLU before the last pool, as alexnet's; the other VGGs take
    // the same rule, and each builds a 500 MB classifier: not built here
    vgg11: "features.19",
    vgg11bn: "features.27",
    squeezenet1_0: "classifier.2",
    squeezenet1_1: "classifier.2",
    googlenet: "inception5b", // past aux2, which runs in training only
  };
  // convnext small, base and large: the tiny one's layout with 50M-198M parameters. The ViTs
  // (a token layer, reshaped: tests/vit2_test.ts) and the Swins (28M-88M parameters; the last
  // block's norm1, permuted: tests/swin_gradcam_test.ts) are too large to build here: not listed.
  const built = models.names().filter((n) =>
    !/^vgg1[369]|^convnext(small|base|large)$|^efficientnetb[2-7]$|^shufflenetv2x[12]_/.test(n) &&
    !/^resnet1[05]|^resnext101|^wide_resnet|^vit_|^swin_/.test(n) &&
    !/^efficientnetv2[ml]$|^regnet[xy](?!400mf$)/.test(n) &&
    n !== "inception_v3" // 75 x 75 at least ("Mixed_7c": tests/inception_test.ts)
  );
  assert.deepEqual(Object.keys(expected).sort(), built.sort());
  for (const name of built) {
    const size = name === "alexnet" ? 63 : 32;
    using model = models.create(name, { inChannels: 1, numClasses: 3, imageSize: size }).eval();
    assert.equal(evaluation.gradCamLayer(model), expected[name]);
    const x = randn([2, 1, size, size]);
    const cam = evaluation.gradCam(model, x);
    assert.deepEqual(cam.shape, [2, size, size]);
    const v = cam.toArray();
    assert.ok(v.every((p) => p >= 0 && p <= 1), name);
    x.dispose();
    cam.dispose();
  }
  using bn = models.simpleCNN({ imageSize: 16, batchNorm: true });
  assert.equal(evaluation.gradCamLayer(bn), "features.14");
});

Deno.test("gradCam: parameters keep their gradients and requiresGrad; hooks are removed", () => {
  using model = models.simpleCNN({ imageSize: 16 }).eval();
  const p = model.parameters();
  p[1].requiresGrad = false; // a frozen layer stays frozen
  const x = randn([1, 1, 16, 16]);
  evaluation.gradCam(model, x).dispose();
  assert.ok(p.every((q) => q.grad === null));
  assert.deepEqual(p.map((q) => q.requiresGrad), p.map((_, i) => i !== 1));
  assert.ok(![...model.modules()].some((m) => Object.hasOwn(m, "forward")));
  x.dispose();
});

Deno.test("gradCam on a model in training mode: evaluation-mode maps, nothing moved, modes restored", () => {
  // pytorch-grad-cam runs model.eval(); in training mode the pass used to move
  // batch norm's running statistics (and change the next training step).
  using model = models.simpleCNN({ imageSize: 16, batchNorm: true, dropout: 0.5 });
  const x = randn([2, 1, 16, 16]);
  model.eval();
  const evalMaps = evaluation.gradCam(model, x).toArray();
  model.train();
  model.features[1].eval(); // a mixed mode comes back as it was
  const before = [...model.buffers()].map((b) => b.toArray());
  const trainMaps = evaluation.gradCam(model, x).toArray();
  assert.deepEqual(trainMaps, evalMaps);
  assert.deepEqual([...model.buffers()].map((b) => b.toArray()), before);
  assert.equal(model.training, true);
  assert.equal(model.features[1].training, false);
  assert.equal(model.features[5].training, true);
  x.dispose();
});

Deno.test("gradCam: the default layer of every volume model, maps [N, D, H, W] in [0, 1]", () => {
  const expected: Record<string, string> = {
    resnet3d10: "layer4.0",
    resnet3d18: "layer4.1",
    resnet3d34: "layer4.2",
    resnet3d50: "layer4.2",
    densenet3d121: "features.norm5",
    densenet3d169: "features.norm5",
    densenet3d201: "features.norm5",
    densenet3d264: "features.norm5",
  };
  assert.deepEqual(Object.keys(expected), models.volumeNames());
  for (const name of models.volumeNames()) {
    using model = models.create(name, { inChannels: 1, numClasses: 3 }).eval();
    assert.equal(evaluation.gradCamLayer(model), expected[name]);
    // DenseNets need 29 voxels a side; their transition3 output is the block before the last.
    const dense = name.startsWith("densenet");
    using x = randn(dense ? [1, 1, 32, 29, 33] : [1, 1, 16, 12, 20]);
    const layer = dense ? "features.transition3" : "layer3";
    using cam = evaluation.gradCam(model, x, { layer });
    assert.deepEqual(cam.shape, [1, ...x.shape.slice(2)]);
    assert.ok(cam.toArray().every((p) => p >= 0 && p <= 1), name);
  }
  using net = models.resnet3d10({ inChannels: 1, numClasses: 3 }).eval();
  using v = randn([2, 1, 8, 8, 8]);
  assert.throws(
    () => evaluation.gradCam(net, v, { layer: "fc" }),
    /gives \[2,3\]; Grad-CAM of a 5-D input needs a \[N, C, d, h, w\] feature map/,
  );
  using six = randn([1, 1, 1, 4, 4, 4]);
  assert.throws(() => evaluation.gradCam(net, six), /\[N, C, D, H, W\].*\[1,1,1,4,4,4\]/);
  assert.deepEqual(evaluation.gradCamLayers(net).slice(0, 2), ["conv1", "layer1.0.conv1"]);
});

Deno.test("gradCam: a 1 x 1 x 1 feature map carries no place: its map is zero, not resize noise", () => {
  manualSeed(0);
  using model = new nn.Sequential(
    new nn.Sequential(
      new nn.Conv3d(1, 4, 3, { padding: 1 }),
      new nn.ReLU(),
      new nn.AdaptiveAvgPool3d(1),
    ),
    new nn.Flatten(),
    new nn.Linear(4, 2),
  ).eval();
  let positive = 0;
  for (let s = 0; s < 6; s++) {
    using x = randn([1, 1, 40, 36, 33]);
    const r = runGradCam(model, x, { layer: "0", target: s % 2 });
    // pytorch-grad-cam: (x - min) / (1e-7 + max) before and after the resize gives 0.
    assert.ok(r.maps.every((v) => v < 1e-3), `case ${s}: max ${Math.max(...r.maps)}`);
    if (r.logits[s % 2] !== 0) positive++;
  }
  assert.ok(positive > 0);
});

Deno.test("gradCam: unknown layer, shared layer, non-map layer, bad target, bad input", () => {
  using model = models.simpleCNN({ imageSize: 16 }).eval();
  const x = randn([2, 1, 16, 16]);
  assert.throws(
    () => evaluation.gradCam(model, x, { layer: "features.99" }),
    /no layer 'features\.99'; its convolutions are features\.0, features\.3, features\.6, features\.9/,
  );
  assert.throws(
    () => evaluation.gradCam(model, x, { layer: "classifier.3" }),
    /gives \[2,3\].*\[N, C, h, w\]/,
  );
  assert.throws(
    () => evaluation.gradCam(model, x, { target: 3 }),
    /target 3 is out of range: the model has 3 classes/,
  );
  assert.throws(() => evaluation.gradCam(model, x, { target: [0] }), /one per image \(2\)/);
  assert.throws(
    () => evaluation.gradCam(model, x, { method: "scorecam" as never }),
    /method must be "gradcam" or "gradcam\+\+"/,
  );
  assert.throws(() => evaluation.gradCam(model, x, { targets: 1 } as never), /targets/);
  assert.throws(
    () => noGrad(() => evaluation.gradCam(model, x)),
    /needs gradients; call it outside noGrad/,
  );
  const flat = randn([2, 256]);
  assert.throws(() => evaluation.gradCam(model, flat), /\[N, C, H, W\].*\[2,256\]/);
  const wrong = randn([2, 3, 16, 16]);
  assert.throws(() => evaluation.gradCam(model, wrong), /SimpleCNN: input \[2,3,16,16\]/);
  using res = models.resnet18({ inChannels: 1, numClasses: 3 }).eval();
  assert.throws(
    () => evaluation.gradCam(res, x, { layer: "layer4.1.relu" }),
    /runs more than once/,
  );
  // A failed call leaves no hook behind.
  assert.ok(![...res.modules()].some((m) => Object.hasOwn(m, "forward")));
  for (const t of [x, flat, wrong]) t.dispose();
});

Deno.test("registerForwardHook: sees each call, replaces the output, removes cleanly", () => {
  const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
  const shapes: number[][] = [];
  const a = net[1].registerForwardHook((_m, _i, out) => void shapes.push([...out.shape]));
  const b = net[1].registerForwardHook((_m, _i, out) => out.mul(0));
  const y = net.forward(randn([3, 4]));
  const bias = net[2].stateDict().get("bias")!.toArray();
  assert.deepEqual(Array.from(y.toArray()), [0, 1, 2].flatMap(() => Array.from(bias)));
  b.remove();
  b.remove();
  net.forward(randn([1, 4]));
  a.remove();
  net.forward(randn([1, 4]));
  assert.deepEqual(shapes, [[3, 8], [1, 8]]);
  assert.ok(!Object.hasOwn(net[1], "forward"));
  assert.throws(() => net[0].registerForwardHook(42 as never), /expected a function/);
});

Deno.test("report: the mistakes grid draws each heat map over its slice (jet, half and half)", async () => {
  const size = 8;
  const image = {
    data: Float32Array.from({ length: size * size }, (_, i) => i),
    width: size,
    height: size,
  };
  // Hot in the top-left corner only.
  const heat = {
    data: Float32Array.from({ length: size * size }, (_, i) => (i === 0 ? 1 : 0)),
    width: size,
    height: size,
  };
  const html = await evaluation.renderReport({
    title: "t",
    classNames: ["no liver", "liver", "liver + lesion"],
    history: [],
    yTrue: [0, 1],
    yPred: [1, 1],
    scores: [0.1, 0.8, 0.1, 0.2, 0.7, 0.1],
    misclassified: [
      { image, heatmap: heat, trueLabel: 0, predLabel: 1, confidence: 0.8, id: "a.png" },
      { image, trueLabel: 0, predLabel: 2, confidence: 0.5, id: "b.png" },
    ],
  });
  const grid = html.slice(html.indexOf('id="mistakes"'));
  const imgs = [...grid.matchAll(/<img[^>]*src="data:image\/png;base64,([^"]+)"/g)];
  assert.equal(imgs.length, 3, "plain + overlay, then plain alone");
  assert.match(grid, /<div class="pair"><img[^>]*><img class="cam"/);
  assert.match(html, /Grad-CAM heat map of the predicted class/);
  const png = decode(Uint8Array.from(atob(imgs[1][1]), (c) => c.charCodeAt(0)));
  assert.deepEqual([png.width, png.height, png.channels], [size, size, 3]);
  const px = (i: number) => Array.from(png.data.slice(3 * i, 3 * i + 3));
  // Top-left: grey 0 blended with jet(1) = dark red; last pixel: grey 1 with jet(0) = dark blue.
  assert.deepEqual(px(0), [64, 0, 0]);
  assert.deepEqual(px(size * size - 1), [128, 128, 191]);
  const wrong = {
    image,
    heatmap: { data: new Float32Array(4), width: 2, height: 2 },
    trueLabel: 0,
    predLabel: 1,
    confidence: 0.8,
  };
  await assert.rejects(
    evaluation.renderReport({
      title: "t",
      classNames: ["a", "b"],
      history: [],
      yTrue: [0],
      yPred: [1],
      scores: [0.2, 0.8],
      misclassified: [wrong],
    }),
    /heat map 2x2 does not match its image 8x8/,
  );
});
