/**
 * Review of nn.utils.prune beyond tests/nn_utils_test.ts: a training loop
 * over a pruned model stays flat in memory (the recomputed weight is the
 * step's, as any op result) while `module.weight` stays readable after the
 * step or a scope freed it; globalUnstructured's importanceScores are
 * checked; ONNX export of a pruned, weight- or spectrally normalised layer names
 * the remove call; torch's keywords given to weightNorm/spectralNorm as an object
 * name the positional call.
 */
import assert from "node:assert/strict";
import { memoryStats, models, nn, noGrad, onnx, optim, randn, tensor } from "../mod.ts";
import { messageOf } from "./helpers.ts";

const { prune } = nn.utils;

Deno.test("prune: a training loop that never awaits stays flat; module.weight stays readable", () => {
  const net = models.simpleCNN({ imageSize: 32, numClasses: 3 });
  for (const m of net.modules()) {
    if (m instanceof nn.Conv2d || m instanceof nn.Linear) prune.l1Unstructured(m, "weight", 0.5);
  }
  const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
  const lossFn = new nn.CrossEntropyLoss();
  const x = randn([2, 1, 32, 32]), y = tensor([0, 2]).long();
  const step = () => {
    opt.zeroGrad();
    lossFn(net(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < 3; i++) step();
  const before = memoryStats().bytesInUse;
  for (let i = 0; i < 20; i++) step();
  // Each step used to leave every pruned weight to the collector (about 0.9 MB a step here).
  assert.ok(memoryStats().bytesInUse - before < 64 * 1024, "bytes in use grew over 20 steps");
  opt.zeroGrad(); // frees the last forward's tensors, the pruned weights among them
  const conv = net.getSubmodule("features.0") as nn.Conv2d;
  const orig = conv.stateDict().get("weight_orig")!, mask = conv.stateDict().get("weight_mask")!;
  const want = orig.mul(mask).toArray();
  assert.deepEqual(conv.weight.toArray(), want, "read after the step freed it");
  noGrad(() => net(x)); // a scope's forward: freed when the scope ends
  assert.deepEqual(conv.weight.toArray(), want, "read after a noGrad forward");
  assert.equal(conv.weight.eq(0).sum().item(), mask.eq(0).sum().item());
  // A parent that reads the pruned weight itself gets one in the graph, as torch's.
  const w = conv.weight;
  assert.equal(w, conv.weight, "the same tensor while it lives");
  w.sum().backward();
  assert.deepEqual(orig.grad!.toArray(), mask.toArray(), "the gradient reaches weight_orig");
  assert.match(
    messageOf(() => (conv as unknown as { weight: unknown }).weight = new nn.Parameter(randn([1]))),
    /weight_orig.*prune\.remove/,
  );
});

Deno.test("prune.globalUnstructured: importanceScores of another shape or form are refused", () => {
  const a = new nn.Linear(3, 2), b = new nn.Linear(3, 2);
  const pairs: [nn.Module, string][] = [[a, "weight"], [b, "weight"]];
  const has = (f: () => unknown, text: RegExp) => assert.match(messageOf(f), text);
  // It used to rank 4 scores against 12 entries and prune what it made of that.
  has(
    () =>
      prune.globalUnstructured(pairs, prune.L1Unstructured, {
        amount: 2,
        importanceScores: [[a, "weight", randn([4])]],
      }),
    /importanceScores for Linear\.weight has shape \[4\], the parameter \[2,3\]/,
  );
  // torch's dict {(module, name): scores} ported as a Map.
  has(
    () =>
      prune.globalUnstructured(pairs, prune.L1Unstructured, {
        amount: 2,
        importanceScores: new Map([[a, randn([2, 3])]]) as never,
      }),
    /\[\[module, "weight", scores\]/,
  );
  assert.deepEqual([...a.stateDict().keys()], ["weight", "bias"], "nothing pruned");
});

Deno.test("exportOnnx: a pruned layer's refusal names prune.remove", () => {
  const net = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Flatten(), new nn.Linear(8, 2));
  prune.l1Unstructured(net[2] as nn.Linear, "weight", 3);
  assert.match(
    messageOf(() => onnx.exportOnnx(net, { inputShape: [1, 1, 4, 4] })),
    /pruned.*nn\.utils\.prune\.remove\(layer, "weight"\)/,
  );
  prune.remove(net[2] as nn.Linear, "weight");
  assert.ok(onnx.exportOnnx(net, { inputShape: [1, 1, 4, 4] }).length > 0);
});

Deno.test("exportOnnx: a weight- or spectrally normalised layer's refusal names the remove call", () => {
  const net = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Flatten(), new nn.Linear(8, 2));
  nn.utils.weightNorm(net[0] as nn.Conv2d);
  nn.utils.spectralNorm(net[2] as nn.Linear);
  net.eval();
  assert.match(
    messageOf(() => onnx.exportOnnx(net, { inputShape: [1, 1, 4, 4] })),
    /weight-normalised.*nn\.utils\.removeWeightNorm\(layer, "weight"\)/,
  );
  nn.utils.removeWeightNorm(net[0] as nn.Conv2d);
  assert.match(
    messageOf(() => onnx.exportOnnx(net, { inputShape: [1, 1, 4, 4] })),
    /spectrally normalised.*nn\.utils\.removeSpectralNorm\(layer, "weight"\)/,
  );
  nn.utils.removeSpectralNorm(net[2] as nn.Linear);
  assert.ok(onnx.exportOnnx(net, { inputShape: [1, 1, 4, 4] }).length > 0);
});

Deno.test("weightNorm, spectralNorm: torch's keywords as an options object name the positional call", () => {
  assert.match(
    messageOf(() => nn.utils.weightNorm(new nn.Linear(3, 2), { dim: null } as never)),
    /positional.*write nn\.utils\.weightNorm\(module, "weight", null\)/,
  );
  assert.match(
    messageOf(() => nn.utils.spectralNorm(new nn.Linear(3, 2), { n_power_iterations: 2 } as never)),
    /positional.*write nn\.utils\.spectralNorm\(module, "weight", 2, 1e-12\)/,
  );
});
