/**
 * Review of the model zoo (ViT, the ResNet family, ConvNeXt, EfficientNet
 * B1-B7 and V2, RegNet, MobileNetV3, ShuffleNetV2): what the first tests
 * left out. Messages only (no torch numbers): a ViT state dict for another
 * image size given to `loadStateDict` names `models.interpolateEmbeddings`
 * and `models.loadPretrained`; Grad-CAM on a ViT whose head is still
 * torchvision's zero initialisation says so, instead of blaming the layer
 * it already explains.
 */
import assert from "node:assert/strict";
import { evaluation, models, type nn, noGrad, randn } from "../mod.ts";

const TINY: models.ViTConfig = {
  name: "ViT tiny",
  patchSize: 8,
  numLayers: 2,
  numHeads: 2,
  hiddenDim: 16,
  mlpDim: 32,
};

Deno.test("zoo review: a ViT's loadStateDict of another image size's weights names interpolateEmbeddings", () => {
  using small = new models.VisionTransformer(TINY, { imageSize: 32 }); // 4 x 4 patches
  using big = new models.VisionTransformer(TINY, { imageSize: 48 }); // 6 x 6 patches
  const sd = small.stateDict();
  for (const strict of [true, false]) {
    assert.throws(
      () => big.loadStateDict(sd, { strict }),
      (e: Error) =>
        /'encoder\.pos_embedding' \[1, 17, 16\] is for 4 x 4 patches \(imageSize 32 at patch 8\)/
          .test(
            e.message,
          ) &&
        /6 x 6 \(imageSize 48\)/.test(e.message) &&
        e.message.includes("models.interpolateEmbeddings(48, 8, stateDict)") &&
        e.message.includes("models.loadPretrained(model, stateDict)"),
    );
  }
  // What the message says to write loads.
  assert.deepEqual(big.loadStateDict(models.interpolateEmbeddings(48, 8, sd)), {
    missingKeys: [],
    unexpectedKeys: [],
  });
  // The legacy MLP names still go through the same check.
  const legacy = new Map(
    [...sd].map(([k, t]) => [k.replace(".mlp.0.", ".mlp.linear_1."), t]),
  );
  assert.throws(() => big.loadStateDict(legacy), /models\.interpolateEmbeddings\(48, 8/);
  // A pos_embedding of another width is not an image-size matter: the usual shape error.
  const wide = new Map(sd);
  wide.set("encoder.pos_embedding", randn([1, 37, 8]));
  assert.throws(
    () => big.loadStateDict(wide),
    (e: Error) => !/interpolateEmbeddings/.test(e.message),
  );
  wide.get("encoder.pos_embedding")!.dispose();
});

Deno.test("zoo review: Grad-CAM of a fresh ViT (zero head) says the head gives no gradient, not the layer", () => {
  // torchvision zero-initialises heads.head: every logit is its bias, whatever the image.
  using net = new models.VisionTransformer(TINY, { imageSize: 32, inChannels: 1, numClasses: 3 });
  net.eval();
  using x = randn([2, 1, 32, 32]);
  assert.throws(
    () => evaluation.gradCam(net, x),
    (e: Error) =>
      /every token of layer 'encoder\.layers\.encoder_layer_1\.ln_1', the class token's too, has zero gradient/
        .test(e.message) &&
      /heads\.head/.test(e.message) && /load or train weights/.test(e.message) &&
      !/explain encoder\.layers\.encoder_layer_1\.ln_1/.test(e.message),
  );
  // Once the head has weights, the same call gives maps.
  const head = net.getSubmodule("heads.head") as nn.Linear;
  noGrad(() => head.weight.copy_(randn([3, 16])));
  const cam = evaluation.gradCam(net, x);
  assert.deepEqual(cam.shape, [2, 32, 32]);
  assert.ok(Math.max(...cam.toArray()) > 0.99);
  cam.dispose();
});
