/**
 * A ViT at another image size and Grad-CAM on a ViT, against torchvision 0.14
 * (tests/fixtures/vit2.json, scripts/make_vit2_fixtures.py):
 * `models.interpolateEmbeddings` as torchvision's `interpolate_embeddings`
 * (8 -> 12 and 12 -> 8 patches a side, bicubic and bilinear, reset_heads);
 * `models.loadPretrained` of image-32 weights into an image-48 ViT gives the
 * logits torchvision gives after its own resize; `evaluation.gradCam` on a
 * tiny ViT as pytorch-grad-cam explains one (the last block's ln_1 and its
 * ViT reshape_transform, written out in torch), and Captum's LayerGradCam
 * refusing a ViT's tokens.
 */
import assert from "node:assert/strict";
import { evaluation, models, noGrad, type Tensor } from "../mod.ts";
import { weightsLine } from "../src/train/weights.ts";
import { runGradCam } from "../src/eval/gradcam.ts";
import { assertClose, fromStored, loadFixture, type Stored } from "./helpers.ts";

interface InterpolateCase {
  from: number;
  imageSize: number;
  patchSize: number;
  mode: models.EmbeddingInterpolation;
  resetHeads: boolean;
  result: Stored | null;
  keys: string[];
}

interface CamCase {
  layer: string;
  target: number[] | null;
  method: "gradcam" | "gradcam++";
  targets: number[];
  logits: Stored;
  maps: number[];
}

interface Fixture {
  sources: Record<string, Stored>;
  interpolate: InterpolateCase[];
  pretrained: { weights: Record<string, Stored>; input: Stored; logits: Stored };
  gradcam: {
    config: Omit<models.ViTConfig, "name">;
    options: models.ViTOptions;
    weights: Record<string, Stored>;
    input: Stored;
    cases: CamCase[];
  };
}

const FX = loadFixture<Fixture>("vit2.json");
/** The interpolation fixtures' ViT: patch 4, 1 layer, hidden 4. */
const SMALL: models.ViTConfig = {
  name: "ViT small",
  patchSize: 4,
  numLayers: 1,
  numHeads: 2,
  hiddenDim: 4,
  mlpDim: 8,
};

const stateOf = (w: Record<string, Stored>) =>
  new Map(Object.entries(w).map(([k, s]) => [k, fromStored(s)]));

function small(imageSize: number): models.VisionTransformer {
  return new models.VisionTransformer(SMALL, { imageSize, inChannels: 1, numClasses: 3 });
}

// ---------------------------------------------------------- interpolateEmbeddings

for (const c of FX.interpolate) {
  const what = `${c.from} -> ${c.imageSize} px (${c.from / 4} -> ${c.imageSize / 4} patches), ` +
    `${c.mode}${c.resetHeads ? ", resetHeads" : ""}`;
  Deno.test(`vit2: interpolateEmbeddings ${what} is torchvision's`, () => {
    // A model built for the source size, with the source's position embedding.
    using src = small(c.from);
    const sd = src.stateDict();
    const source = fromStored(FX.sources[String(c.from)]);
    sd.set("encoder.pos_embedding", source);
    const before = [...sd.keys()];
    const out = models.interpolateEmbeddings(c.imageSize, c.patchSize, sd, {
      interpolationMode: c.mode,
      resetHeads: c.resetHeads,
    });
    assert.deepEqual([...out.keys()], c.keys);
    assert.deepEqual([...sd.keys()], before, "the given state dict is not changed");
    assert.equal(sd.get("encoder.pos_embedding"), source);
    const pos = out.get("encoder.pos_embedding")!;
    if (c.result === null) {
      assert.equal(pos, source, "the same size: the entry as it was");
    } else {
      assert.deepEqual(pos.shape, c.result.shape);
      assertClose(pos, c.result.data, { rtol: 1e-5, atol: 1e-6, what: "pos_embedding" });
      // The class token's entry is kept exactly.
      assert.deepEqual(
        Array.from(pos.toArray().slice(0, 4)),
        Array.from(source.toArray().slice(0, 4)),
      );
      assert.equal(pos.requiresGrad, false);
      // It loads into a model of the new size.
      using dst = small(c.imageSize);
      const keys = dst.loadStateDict(out, { strict: !c.resetHeads });
      assert.deepEqual(keys.unexpectedKeys, []);
      pos.dispose();
    }
    if (c.resetHeads) assert.ok(![...out.keys()].some((k) => k.startsWith("heads")));
    source.dispose();
  });
}

Deno.test("vit2: interpolateEmbeddings refuses what torchvision would get wrong or reject, saying what to write", () => {
  using src = small(32);
  const sd = src.stateDict();
  assert.throws(
    () => models.interpolateEmbeddings(50, 4, sd),
    /imageSize 50 is not a multiple of patchSize 4 \(torchvision would use 12 patches.*use imageSize 48 or 52/,
  );
  assert.throws(
    () => models.interpolateEmbeddings(48, 4, sd, { interpolationMode: "nearest" as never }),
    /interpolationMode must be "bicubic" or "bilinear"/,
  );
  assert.throws(
    () => models.interpolateEmbeddings(48, 4, sd, "bilinear" as never),
    /go in the options.*interpolationMode: "bicubic"/,
  );
  assert.throws(
    () => models.interpolateEmbeddings(48, 4, sd, { mode: "bilinear" } as never),
    /unknown option 'mode' \(did you mean 'interpolationMode'\?\)/,
  );
  assert.throws(
    () => models.interpolateEmbeddings(48, 4, sd, { reset_heads: true } as never),
    /unknown option 'reset_heads' \(write 'resetHeads'\)/,
  );
  const ddp = new Map([...sd].map(([k, t]) => [`module.${k}`, t]));
  assert.throws(
    () => models.interpolateEmbeddings(48, 4, ddp),
    /no 'encoder\.pos_embedding' \(it has 'module\.encoder\.pos_embedding': take the prefix off/,
  );
  const odd = new Map(sd);
  using bad = src.encoder.pos_embedding.detach().narrow(1, 0, 11).clone();
  odd.set("encoder.pos_embedding", bad);
  assert.throws(() => models.interpolateEmbeddings(48, 4, odd), /10 patch positions.*not a square/);
  // At the same size resetHeads changes nothing, as torchvision 0.14's.
  const same = models.interpolateEmbeddings(32, 4, sd, { resetHeads: true });
  assert.deepEqual([...same.keys()], [...sd.keys()]);
  assert.equal(same.get("encoder.pos_embedding"), sd.get("encoder.pos_embedding"));
});

// ---------------------------------------------------------- loadPretrained

Deno.test("vit2: loadPretrained of image-32 weights into an image-48 ViT gives torchvision's logits", () => {
  const sd = stateOf(FX.pretrained.weights);
  using net = small(48);
  const report = models.loadPretrained(net, sd);
  assert.deepEqual(report.interpolated, [{
    name: "encoder.pos_embedding",
    from: [1, 65, 4],
    to: [1, 145, 4],
    mode: "bicubic",
  }]);
  assert.deepEqual(report.skipped, []);
  assert.equal(report.loaded.length, sd.size);
  const x = fromStored(FX.pretrained.input);
  const y = noGrad(() => net.eval().forward(x));
  assertClose(y, FX.pretrained.logits.data, { rtol: 1e-4, atol: 1e-5, what: "logits" });
  assert.match(
    weightsLine(report, "vit.safetensors"),
    /encoder\.pos_embedding interpolated \(bicubic\) from 8 x 8 patches to 12 x 12/,
  );
  // With a new head (another class count) and RGB weights, all three rules together.
  using rgb = new models.VisionTransformer(SMALL, { imageSize: 32, numClasses: 10 });
  using ct = new models.VisionTransformer(SMALL, { imageSize: 64, inChannels: 1, numClasses: 3 });
  const r = models.loadPretrained(ct, rgb.stateDict());
  assert.deepEqual(r.adapted.map((a) => a.name), ["conv_proj.weight"]);
  assert.deepEqual(r.interpolated[0].to, [1, 257, 4]);
  assert.deepEqual(r.skipped.map((s) => s.name), ["heads.head.weight", "heads.head.bias"]);
  // Weights whose patches are not a square grid still fail as a shape that does not fit.
  const odd = new Map(sd);
  odd.set("encoder.pos_embedding", sd.get("encoder.pos_embedding")!.narrow(1, 0, 11).clone());
  assert.throws(() => models.loadPretrained(net, odd), /'encoder\.pos_embedding' \[1, 11, 4\]/);
  for (const t of sd.values()) t.dispose();
  x.dispose();
});

// ---------------------------------------------------------- Grad-CAM

function camModel(): models.VisionTransformer {
  const g = FX.gradcam;
  const net = new models.VisionTransformer({ name: "ViT cam", ...g.config }, g.options);
  const sd = stateOf(g.weights);
  net.loadStateDict(sd);
  for (const t of sd.values()) t.dispose();
  return net.eval();
}

Deno.test("vit2: gradCamLayer of a ViT is its last block's ln_1 (pytorch-grad-cam's target layer)", () => {
  using net = camModel();
  assert.equal(evaluation.gradCamLayer(net), "encoder.layers.encoder_layer_1.ln_1");
});

for (const c of FX.gradcam.cases) {
  const what = `${c.method} at ${c.layer}, target ${JSON.stringify(c.target)}`;
  Deno.test(`vit2: gradCam on a ViT, ${what}, is pytorch-grad-cam's (reshape_transform)`, () => {
    using net = camModel();
    const x = fromStored(FX.gradcam.input);
    const options = { layer: c.layer, target: c.target ?? undefined, method: c.method };
    const r = runGradCam(net, x, options);
    assert.deepEqual(r.targets, c.targets);
    assertClose(r.logits, c.logits.data, { rtol: 1e-4, atol: 1e-5, what: "logits" });
    let worst = 0;
    r.maps.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - c.maps[i] / 1e5))));
    assert.ok(worst < 2e-4, `heat maps differ by ${worst}`);
    assert.ok(Math.max(...r.maps) > 0.99 && Math.min(...r.maps) === 0);
    // pytorch-grad-cam's tutorial transform, written by the user, gives the same maps.
    const side = 8;
    const reshapeTransform = (t: Tensor) =>
      t.narrow(1, 1, side * side).reshape(t.shape[0], side, side, t.shape[2])
        .transpose(2, 3).transpose(1, 2);
    const mine = evaluation.gradCam(net, x, { ...options, reshapeTransform });
    assert.deepEqual(mine.toArray(), r.maps);
    mine.dispose();
    x.dispose();
  });
}

Deno.test("vit2: gradCam on a ViT by default; a bad reshapeTransform and a layer without a map are refused", () => {
  using net = camModel();
  const x = fromStored(FX.gradcam.input);
  const c = FX.gradcam.cases[0];
  const cam = evaluation.gradCam(net, x);
  assert.deepEqual(cam.shape, [2, 16, 16]);
  let worst = 0;
  cam.toArray().forEach((v, i) => (worst = Math.max(worst, Math.abs(v - c.maps[i] / 1e5))));
  assert.ok(worst < 2e-4, `default heat maps differ by ${worst}`);
  cam.dispose();
  // conv_proj still works as a plain feature map (the first layer's).
  evaluation.gradCam(net, x, { layer: "conv_proj" }).dispose();
  assert.throws(
    () => evaluation.gradCam(net, x, { reshapeTransform: (t: Tensor) => t }),
    /reshapeTransform gave \[2,65,8\] for layer 'encoder\.layers\.encoder_layer_1\.ln_1''s output/,
  );
  assert.throws(
    () => evaluation.gradCam(net, x, { reshapeTransform: "vit" as never }),
    /reshapeTransform must be a function/,
  );
  // Past the last block's attention the patch tokens do not reach the head: a zero map, refused.
  for (const layer of ["encoder.layers.encoder_layer_1", "encoder.ln"]) {
    assert.throws(
      () => evaluation.gradCam(net, x, { layer }),
      /patch tokens of layer .* have zero gradient.*explain encoder\.layers\.encoder_layer_1\.ln_1/,
    );
  }
  assert.throws(
    () => evaluation.gradCam(net, x, { layer: "encoder.layers.encoder_layer_1.self_attention" }),
    /gives an array of 2, not one tensor/,
  );
  // A layer that gives no feature map (and no tokens): say what makes one.
  assert.throws(
    () => evaluation.gradCam(net, x, { layer: "heads.head" }),
    /layer 'heads\.head' gives \[2,3\].*or a reshapeTransform that makes one/,
  );
  x.dispose();
});

Deno.test("vit2: Captum's LayerGradCam on a ViT's tokens is refused, naming gradCam and conv_proj", () => {
  using net = camModel();
  const x = fromStored(FX.gradcam.input);
  const gc = new evaluation.LayerGradCam(net, "encoder.layers.encoder_layer_1.ln_1");
  assert.throws(
    () => gc.attribute(x, { target: 1 }),
    /tokens \[2, 65, 8\].*evaluation\.gradCam\(model, x, \{ layer: "encoder\.layers\.encoder_layer_1\.ln_1" \}\)/s,
  );
  // conv_proj's output is a feature map: Captum's map of it works.
  const attr = new evaluation.LayerGradCam(net, "conv_proj").attribute(x, { target: 1 });
  assert.deepEqual(attr.shape, [2, 1, 8, 8]);
  attr.dispose();
  x.dispose();
});
