/**
 * Inception v3 against torchvision 0.14 (tests/fixtures/inception.json,
 * scripts/make_inception_fixtures.py): parameter counts and the state dict;
 * with formula weights, 1 channel and 3 classes: evaluation logits and
 * gradients, the training output (InceptionOutputs, batch statistics) at
 * 299 x 299 and the gradients of loss + 0.4 * aux loss, transform_input;
 * then the options, the errors a PyTorch user meets, the registry and the
 * trainer's loss.
 */
import assert from "node:assert/strict";
import { evaluation, models, nn, noGrad, onnx, scope, type Tensor, tensor, zeros } from "../mod.ts";
import { trainingLoss } from "../src/train/aux_loss.ts";
import { messageOf } from "./helpers.ts";
import { fill, free } from "./model_fixture.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";
import { assertStructure, checkEval, checkTrain, FX } from "./aux_model_fixture.ts";

const C = FX.inception_v3;

Deno.test("inception_v3: parameter counts and the state dict are torchvision's", async () => {
  const s = FX.structure.find((c) => c.model === "inception_v3")!;
  const net = models.inceptionV3();
  try {
    await assertStructure(net, s);
  } finally {
    free(net);
  }
  const counts = [
    models.inceptionV3({ auxLogits: false }),
    models.inceptionV3({ inChannels: 1, numClasses: 3 }),
  ];
  assert.deepEqual(counts.map((m) => m.numParameters()), [s.numParamsNoAux, s.numParamsOneChannel]);
  counts.forEach(free);
});

Deno.test("inception_v3 (formula weights): eval logits and gradients of sum(logits * G)", () => {
  const net = models.inceptionV3({ inChannels: 1, numClasses: 3 });
  try {
    checkEval(net, C.eval);
  } finally {
    free(net);
  }
});

Deno.test("inception_v3 (formula weights): training outputs at 299, and loss + 0.4 * aux loss's gradients", () => {
  const net = models.inceptionV3({ inChannels: 1, numClasses: 3 });
  try {
    checkTrain(net, C.train, (x) => {
      const out = net.forward(x);
      assert.ok(out instanceof models.InceptionOutputs, "training returns InceptionOutputs");
      const [logits, aux] = out;
      assert.equal(logits, out.logits);
      return { logits, aux: { AuxLogits: aux } };
    });
  } finally {
    free(net);
  }
});

Deno.test("inception_v3: transformInput re-normalises the three channels as torchvision's", () => {
  const net = models.inceptionV3({ numClasses: 3, transformInput: true });
  try {
    checkEval(net, C.transformInput);
  } finally {
    free(net);
  }
});

Deno.test("inception_v3: training returns InceptionOutputs only with auxLogits; eval the logits", () => {
  const net = models.inceptionV3({ inChannels: 1, numClasses: 3, auxLogits: false });
  try {
    scope(() => {
      const x = zeros([2, 1, 75, 75]);
      // Without the head any size from 75 up trains, and the result is the tensor.
      const y = noGrad(() => net.train().forward(x));
      assert.ok(!(y instanceof models.InceptionOutputs));
      assert.deepEqual(y.shape, [2, 3]);
      assert.equal(net.AuxLogits, null);
      assert.ok(![...net.stateDict().keys()].some((k) => k.startsWith("AuxLogits")));
    });
  } finally {
    free(net);
  }
  const withAux = models.inceptionV3({ inChannels: 1, numClasses: 3 });
  try {
    scope(() => {
      const x = zeros([2, 1, 75, 75]);
      const logits = noGrad(() => withAux.eval().forward(x)) as Tensor;
      assert.deepEqual(logits.shape, [2, 3]);
      withAux.train();
      assert.match(messageOf(() => withAux.forward(x)), /AuxLogits.*299.*auxLogits: false/);
      // The flag off, the module kept: the logits alone (torchvision's eager_outputs).
      withAux.auxLogits = false;
      const y = noGrad(() => withAux.forward(zeros([2, 1, 299, 299])));
      assert.ok(!(y instanceof models.InceptionOutputs));
      // The flag on, the module gone: an error, not torchvision's InceptionOutputs(x, None).
      withAux.auxLogits = true;
      const head = withAux.AuxLogits;
      withAux.AuxLogits = null;
      assert.match(messageOf(() => withAux.forward(x)), /AuxLogits is null.*auxLogits = false/);
      withAux.AuxLogits = head;
    });
  } finally {
    free(withAux);
  }
});

Deno.test("inception_v3: a PyTorch user's mistakes fail with what to write", () => {
  assert.match(
    messageOf(() => models.inceptionV3({ inChannels: 1, transformInput: true })),
    /transformInput.*inChannels is 1/,
  );
  assert.match(
    messageOf(() => models.inceptionV3({ weights: "DEFAULT" } as never)),
    /loadPretrained/,
  );
  assert.match(messageOf(() => models.inceptionV3({ aux_logits: false } as never)), /auxLogits/);
  const net = models.inceptionV3({ inChannels: 1, numClasses: 3 });
  try {
    scope(() => {
      assert.match(messageOf(() => net.eval().forward(zeros([1, 1, 74, 74]))), />= 75/);
      assert.match(messageOf(() => net.forward(zeros([1, 3, 80, 80]))), /\[N, 1, H, W\]/);
      assert.match(
        messageOf(() => (net as unknown as { aux_logits: boolean }).aux_logits),
        /auxLogits/,
      );
      // The training output passed on as if it were the logits.
      const out = new models.InceptionOutputs(zeros([2, 3]), zeros([2, 3]));
      const y = tensor(Int32Array.from([0, 2]), [2]);
      const ce = new nn.CrossEntropyLoss();
      assert.match(messageOf(() => ce.forward(out as never, y)), /InceptionOutputs.*out\.logits/);
      assert.match(
        messageOf(() => (out as never as { argmax(d: number): void }).argmax(1)),
        /out\.logits\.argmax/,
      );
      assert.match(
        messageOf(() => (out as never as { aux_logits: unknown }).aux_logits),
        /out\.auxLogits/,
      );
      assert.equal([...out].length, 2);
    });
  } finally {
    free(net);
  }
});

Deno.test("inception_v3: initialisation is torchvision's (truncated normal 0.1, AuxLogits.fc 0.001)", () => {
  const net = models.inceptionV3({ numClasses: 10 });
  try {
    const std = (t: Tensor) => {
      const a = Array.from(t.toArray());
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    };
    const near = (v: number, want: number, what: string) =>
      assert.ok(Math.abs(v / want - 1) < 0.05, `${what}: std ${v}, want ${want}`);
    near(std(net.Mixed_7c.branch3x3dbl_2.conv.weight), 0.1, "Mixed_7c conv");
    near(std(net.AuxLogits!.conv1.conv.weight), 0.1, "AuxLogits.conv1 (torchvision's unread 0.01)");
    near(std(net.AuxLogits!.fc.weight), 0.001, "AuxLogits.fc");
    near(std(net.fc.weight), 0.1, "fc");
    assert.deepEqual([...new Set(net.Mixed_5b.branch1x1.bn.weight!.toArray())], [1]);
  } finally {
    free(net);
  }
});

Deno.test("inception_v3: the registry builds it, refuses sizes its head cannot train on", () => {
  assert.equal(models.canonicalName("Inception_V3"), "inception_v3");
  // Grad-CAM's default layer passes over AuxLogits, which runs in training only.
  assert.equal(evaluation.gradCamLayer(models.inceptionV3()), "Mixed_7c");
  assert.ok(models.names().includes("inception_v3"));
  assert.equal(models.takesOption("inception_v3", "auxLogits"), true);
  assert.match(
    messageOf(() =>
      models.create("inception_v3", { inChannels: 1, numClasses: 3, imageSize: 128 })
    ),
    /at least 299.*--image-size 299.*auxLogits: false/,
  );
  const net = models.create("inception_v3", {
    inChannels: 1,
    numClasses: 3,
    imageSize: 128,
    auxLogits: false,
    dropout: 0.2,
  });
  try {
    assert.ok(net instanceof models.Inception3);
    assert.equal((net as models.Inception3).dropout.p, 0.2);
  } finally {
    free(net);
  }
});

Deno.test("inception_v3: the trainer's loss adds 0.4 x the auxiliary loss", () => {
  scope(() => {
    const logits = tensor([[2, 0, 0], [0, 0, 1]], [2, 3]);
    const aux = tensor([[0, 1, 0], [1, 0, 0]], [2, 3]);
    const y = tensor(Int32Array.from([0, 2]), [2]);
    const ce = new nn.CrossEntropyLoss();
    const { logits: main, loss } = trainingLoss(
      new models.InceptionOutputs(logits, aux),
      (l) => ce.forward(l, y),
    );
    assert.equal(main, logits);
    const want = ce.forward(logits, y).item() + 0.4 * ce.forward(aux, y).item();
    assert.ok(Math.abs(loss.item() - want) < 1e-6, `${loss.item()} vs ${want}`);
  });
});

Deno.test("inception_v3: ONNX export (eval: no AuxLogits) runs in ONNX Runtime as our forward", async () => {
  const net = models.inceptionV3({ inChannels: 1, numClasses: 3 });
  try {
    fill(net);
    net.eval();
    const bytes = onnx.exportOnnx(net, { inputShape: ["N", 1, 80, 80] });
    await assertRunsAsOurs(net, bytes, [1, 80, 80], { nonTrivial: true, atol: 1e-4, rtol: 1e-4 });
    assert.throws(() => onnx.exportOnnx(net, { inputShape: ["N", 1, 74, 74] }), />= 75/);
  } finally {
    free(net);
  }
  const rgb = models.inceptionV3({ numClasses: 3, transformInput: true, auxLogits: false });
  try {
    fill(rgb);
    rgb.eval();
    const bytes = onnx.exportOnnx(rgb, { inputShape: ["N", 3, 75, 75] });
    await assertRunsAsOurs(rgb, bytes, [3, 75, 75], { nonTrivial: true, atol: 1e-4, rtol: 1e-4 });
  } finally {
    free(rgb);
  }
});
