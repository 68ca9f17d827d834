/**
 * The torchvision idiom of replacing a model's first layer
 * (`model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)`): forward, the
 * input check, `summary` and ONNX export read the layer as it is now, not
 * the channels the model was built with (which rejected every input).
 */
import assert from "node:assert/strict";
import { models, nn, noGrad, onnx, randn, type Tensor } from "../mod.ts";
import { assertClose } from "./helpers.ts";

/** ResNet's forward, module by module (no fused stem), for comparison. */
function resnetByModules(m: models.ResNet, x: Tensor): Tensor {
  let t = m.maxpool.forward(m.relu.forward(m.bn1.forward(m.conv1.forward(x))));
  for (const s of [m.layer1, m.layer2, m.layer3, m.layer4]) t = s.forward(t);
  return m.fc.forward(m.avgpool.forward(t).flatten(1));
}

Deno.test("ResNet: a replaced conv1 sets the input channels, in training and in eval", () => {
  const m = models.resnet18({ numClasses: 3 });
  m.conv1 = new nn.Conv2d(1, 64, 7, { stride: 2, padding: 3, bias: false });
  assert.deepEqual(m.inputSpec.channels, 1);
  const x = randn([2, 1, 32, 32]);
  assert.deepEqual(m.forward(x).shape, [2, 3]);
  m.eval();
  const y = noGrad(() => m.forward(x));
  assert.deepEqual(y.shape, [2, 3]);
  // The fused stem, where it runs, computes what the modules compute.
  assertClose(y, noGrad(() => resnetByModules(m, x)).toArray(), { rtol: 1e-4, atol: 1e-4 });
  // The check now names the new layer's channels.
  assert.throws(
    () => m.forward(randn([2, 3, 32, 32])),
    /ResNet-18: input \[2,3,32,32\] does not fit conv1 \(Conv2d\): expected \[N, 1, H, W\]/,
  );
  // The CIFAR stem (3x3, stride 1) with one channel also matches module by module.
  m.conv1 = new nn.Conv2d(1, 64, 3, { stride: 1, padding: 1, bias: false });
  const z = noGrad(() => m.forward(x));
  assertClose(z, noGrad(() => resnetByModules(m, x)).toArray(), { rtol: 1e-4, atol: 1e-4 });
  // A grouped convolution counts in / groups per group.
  m.conv1 = new nn.Conv2d(4, 64, 7, { stride: 2, padding: 3, bias: false, groups: 2 });
  assert.equal(m.inputSpec.channels, 4);
});

Deno.test("ResNet: summary runs on the replaced stem's channels", () => {
  const m = models.resnet18({ numClasses: 3 });
  m.conv1 = new nn.Conv2d(1, 64, 7, { stride: 2, padding: 3, bias: false });
  const s = models.summary(m, [1, 1, 32, 32], { maxDepth: 1 });
  assert.deepEqual(s.rows.find((r) => r.name === "conv1")!.outputShape, [1, 64, 16, 16]);
  assert.deepEqual(s.rows.at(-1)!.outputShape, [1, 3]);
});

Deno.test("SimpleCNN and AlexNet: a replaced features[0] sets the input channels", () => {
  const simple = models.simpleCNN({ imageSize: 32 });
  (simple.features as unknown as nn.Module[])[0] = new nn.Conv2d(3, 16, 3, { padding: 1 });
  assert.equal(simple.inputSpec.channels, 3);
  assert.deepEqual(simple.forward(randn([2, 3, 32, 32])).shape, [2, 3]);
  simple.eval();
  assert.deepEqual(noGrad(() => simple.forward(randn([2, 3, 32, 32]))).shape, [2, 3]);
  assert.throws(
    () => simple.forward(randn([2, 1, 32, 32])),
    /does not fit features\.0 \(Conv2d\): expected \[N, 3, 32, 32\]/,
  );
  // ONNX export checks the input against the model as it is now.
  const bytes = onnx.exportOnnx(simple, { inputShape: ["N", 3, 32, 32] });
  assert.ok(bytes.length > 0);

  const alex = models.alexnet({ numClasses: 3 });
  (alex.features as unknown as nn.Module[])[0] = new nn.Conv2d(1, 64, 11, {
    stride: 4,
    padding: 2,
  });
  assert.equal(alex.inputSpec.channels, 1);
  alex.eval();
  assert.deepEqual(noGrad(() => alex.forward(randn([1, 1, 63, 63]))).shape, [1, 3]);
});

Deno.test("a first layer whose channels cannot be read leaves the channel check to it", () => {
  const m = models.simpleCNN({ imageSize: 32 });
  (m.features as unknown as nn.Module[])[0] = new nn.Identity();
  assert.equal(m.inputSpec.channels, undefined);
  assert.equal(m.inputSpec.layer, "features.0 (Identity)");
  assert.throws(
    () => m.forward(randn([32, 32])),
    /SimpleCNN: input \[32,32\] does not fit features\.0 \(Identity\): expected \[N, C, 32, 32\]/,
  );
});
