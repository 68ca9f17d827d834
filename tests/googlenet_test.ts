/**
 * GoogLeNet against torchvision 0.14 (tests/fixtures/inception.json,
 * scripts/make_inception_fixtures.py): parameter counts and the state dict;
 * with formula weights, 1 channel and 3 classes: evaluation logits and
 * gradients, the training output (GoogLeNetOutputs, batch statistics) and
 * the gradients of loss + 0.3 * (aux1 + aux2 losses), transform_input;
 * then the options, the errors a PyTorch user meets, the registry, the
 * trainer's loss and memory over training steps.
 */
import assert from "node:assert/strict";
import {
  endStep,
  evaluation,
  memoryStats,
  models,
  nn,
  noGrad,
  onnx,
  optim,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { trainingLoss } from "../src/train/aux_loss.ts";
import { messageOf } from "./helpers.ts";
import { fill, formula, free } from "./model_fixture.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";
import { assertStructure, checkEval, checkTrain, FX } from "./aux_model_fixture.ts";

const C = FX.googlenet;

Deno.test("googlenet: parameter counts and the state dict are torchvision's", async () => {
  const s = FX.structure.find((c) => c.model === "googlenet")!;
  const net = models.googlenet();
  try {
    await assertStructure(net, s);
  } finally {
    free(net);
  }
  const counts = [
    models.googlenet({ auxLogits: false }),
    models.googlenet({ inChannels: 1, numClasses: 3 }),
  ];
  assert.deepEqual(counts.map((m) => m.numParameters()), [
    s.numParamsNoAux,
    s.numParamsOneChannel,
  ]);
  counts.forEach(free);
});

Deno.test("googlenet (formula weights): eval logits and gradients of sum(logits * G)", () => {
  const net = models.googlenet({ inChannels: 1, numClasses: 3 });
  try {
    checkEval(net, C.eval);
  } finally {
    free(net);
  }
});

Deno.test("googlenet (formula weights): training outputs, and loss + 0.3 * aux losses' gradients", () => {
  // torchvision 0.14 fills aux_logits2 with aux1's logits (pytorch/vision#8736); ours by name.
  assert.deepEqual(C.train.torchTupleOrder, ["aux1", "aux2"]);
  const net = models.googlenet({ inChannels: 1, numClasses: 3 });
  try {
    checkTrain(net, C.train, (x) => {
      const out = net.forward(x);
      assert.ok(out instanceof models.GoogLeNetOutputs, "training returns GoogLeNetOutputs");
      const [logits, aux2, aux1] = out;
      assert.equal(aux1, out.auxLogits1);
      return { logits, aux: { aux1, aux2 } };
    });
  } finally {
    free(net);
  }
});

Deno.test("googlenet: transformInput re-normalises the three channels as torchvision's", () => {
  const net = models.googlenet({ numClasses: 3, transformInput: true });
  try {
    checkEval(net, C.transformInput);
  } finally {
    free(net);
  }
});

Deno.test("googlenet: options, flags and a PyTorch user's mistakes", () => {
  const net = models.googlenet({ inChannels: 1, numClasses: 3, dropout: 0.3, dropoutAux: 0.5 });
  try {
    assert.equal(net.dropout.p, 0.3);
    assert.equal(net.aux1!.dropout.p, 0.5);
    scope(() => {
      const x = zeros([2, 1, 15, 15]);
      assert.deepEqual((noGrad(() => net.eval().forward(x)) as Tensor).shape, [2, 3]);
      assert.match(messageOf(() => net.forward(zeros([2, 1, 14, 14]))), />= 15/);
      net.train();
      assert.ok(noGrad(() => net.forward(x)) instanceof models.GoogLeNetOutputs);
      net.auxLogits = false;
      assert.ok(!(noGrad(() => net.forward(x)) instanceof models.GoogLeNetOutputs));
      net.auxLogits = true;
      const head = net.aux2;
      net.aux2 = null;
      assert.match(messageOf(() => net.forward(x)), /aux2 is null.*auxLogits = false/);
      net.aux2 = head;
      const out = noGrad(() => net.forward(x)) as models.GoogLeNetOutputs;
      const y = tensor(Int32Array.from([0, 2]), [2]);
      assert.match(
        messageOf(() => new nn.CrossEntropyLoss().forward(out as never, y)),
        /GoogLeNetOutputs.*out\.logits/,
      );
      assert.match(
        messageOf(() => (out as never as { aux_logits1: unknown }).aux_logits1),
        /out\.auxLogits1/,
      );
      assert.match(
        messageOf(() => (out as never as { softmax(d: number): void }).softmax(1)),
        /out\.logits\.softmax/,
      );
    });
  } finally {
    free(net);
  }
  assert.match(messageOf(() => models.googlenet({ pretrained: true } as never)), /loadPretrained/);
  assert.match(messageOf(() => models.googlenet({ dropout_aux: 0.5 } as never)), /dropoutAux/);
  assert.match(
    messageOf(() => models.googlenet({ inChannels: 1, transformInput: true })),
    /transformInput.*inChannels is 1/,
  );
  const noAux = models.googlenet({ auxLogits: false });
  assert.equal(noAux.aux1, null);
  assert.ok(![...noAux.stateDict().keys()].some((k) => k.startsWith("aux")));
  free(noAux);
});

Deno.test("googlenet: initialisation is torchvision's (truncated normal, std 0.01)", () => {
  const net = models.googlenet({ numClasses: 10 });
  try {
    for (
      const w of [
        (net.inception4c.branch2[1] as models.BasicConv2d).conv.weight,
        net.aux1!.fc1.weight,
      ]
    ) {
      const a = Array.from(w.toArray());
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
      assert.ok(Math.abs(std / 0.01 - 1) < 0.05, `std ${std}`);
    }
  } finally {
    free(net);
  }
});

Deno.test("googlenet: the registry builds it; the trainer's loss adds 0.3 x each aux loss", () => {
  assert.equal(models.canonicalName("GoogLeNet"), "googlenet");
  // Grad-CAM's default layer passes over the heads that run in training only (the trainer's report).
  assert.equal(evaluation.gradCamLayer(models.googlenet()), "inception5b");
  const net = models.create("googlenet", { inChannels: 1, numClasses: 3, imageSize: 32 });
  try {
    assert.ok(net instanceof models.GoogLeNet);
    scope(() => {
      const y = tensor(Int32Array.from([0, 2]), [2]);
      const ce = new nn.CrossEntropyLoss();
      const out = net.train().forward(formula(1000, [2, 1, 32, 32], -1, 1));
      const { logits, loss } = trainingLoss(out, (l) => ce.forward(l, y));
      const o = out as unknown as models.GoogLeNetOutputs;
      assert.equal(logits, o.logits);
      const want = ce.forward(o.logits, y).item() +
        0.3 * (ce.forward(o.auxLogits1, y).item() + ce.forward(o.auxLogits2, y).item());
      assert.ok(Math.abs(loss.item() - want) < 1e-5, `${loss.item()} vs ${want}`);
    });
  } finally {
    free(net);
  }
});

Deno.test("googlenet: training steps through both heads hold memory flat; eval leaves the logits", () => {
  const net = models.googlenet({ inChannels: 1, numClasses: 3 });
  const x = formula(1000, [2, 1, 32, 32], -1, 1);
  const y = tensor(Int32Array.from([0, 2]), [2]);
  const opt = new optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const ce = new nn.CrossEntropyLoss();
  let settled = memoryStats();
  for (let step = 0; step < 5; step++) {
    opt.zeroGrad();
    const { loss } = trainingLoss(net.forward(x), (l) => ce.forward(l, y));
    loss.backward();
    opt.step();
    assert.ok(Number.isFinite(loss.item()));
    if (step === 2) settled = memoryStats();
  }
  const end = memoryStats();
  assert.equal(end.bytesInUse, settled.bytesInUse, "bytes in use grew");
  assert.ok(net.aux1!.fc1.weight.grad !== null && net.aux2!.fc2.weight.grad !== null);
  opt.zeroGrad();
  endStep();
  net.eval();
  const before = memoryStats().bytesInUse;
  const logits = noGrad(() => net.forward(x)) as Tensor;
  const after = memoryStats().bytesInUse;
  logits.dispose();
  assert.ok(after - before <= 4096, `an eval forward left ${after - before} bytes`);
  x.dispose();
  y.dispose();
  free(net);
  for (const s of opt.state.values()) s.tensors.forEach((t) => t.dispose());
});

Deno.test("googlenet: ONNX export (eval: no aux heads) runs in ONNX Runtime as our forward", async () => {
  for (const options of [{ inChannels: 1 }, { transformInput: true }]) {
    const net = models.googlenet({ ...options, numClasses: 3 });
    const c = net.options.inChannels;
    try {
      fill(net);
      net.eval();
      const bytes = onnx.exportOnnx(net, { inputShape: ["N", c, 45, 45] });
      await assertRunsAsOurs(net, bytes, [c, 45, 45], { nonTrivial: true, atol: 1e-4, rtol: 1e-4 });
    } finally {
      free(net);
    }
  }
});
