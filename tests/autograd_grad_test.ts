/**
 * autograd.grad and autograd.backward (and backward's `inputs`), the ports
 * of torch.autograd.grad / torch.autograd.backward, against PyTorch 1.13's
 * numbers on a small conv net (tests/fixtures/autograd_grad.json, written by
 * scripts/make_autograd_grad_fixtures.py); the errors worded as torch's;
 * hooks, retained gradients and memory.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  autograd,
  endStep,
  functional as F,
  memoryStats,
  onesLike,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  messageOf,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

type Rec = StoredRecord;
const fx = loadFixture<Record<string, Rec> & { cases: Record<string, Record<string, Rec>> }>(
  "autograd_grad.json",
);
const [rtol, atol] = testDevice === "cpu" ? [1e-4, 1e-5] : [1e-3, 1e-4];
const on = (values: number[], requiresGrad = true) =>
  tensor(values, undefined, { requiresGrad, device: testDevice });

/** The fixture's leaves, fresh, requiring grad: x, convW, convB, bnW, bnB, fcW, fcB. */
function leaves(): Tensor[] {
  return ["x", "conv_w", "conv_b", "bn_w", "bn_b", "fc_w", "fc_b"].map((k) =>
    fromStored(fx[k], { requiresGrad: true, device: testDevice })
  );
}

/** The script's network: returns the activation and the logits. */
function net([x, cw, cb, bw, bb, fw, fb]: Tensor[]): [Tensor, Tensor] {
  const h = F.conv2d(x, cw, cb, { padding: 1 });
  const n = F.batchNorm(h, null, null, bw, bb, { training: true });
  const act = F.relu(n);
  const p = F.maxPool2d(act, 2);
  return [act, F.linear(p.flatten(1), fw, fb)];
}
const labels = () => fromStored(fx.y, { device: testDevice });

Deno.test("autograd.grad: the loss's gradients for the input, a weight and an activation", () => {
  const L = leaves();
  const [act, logits] = net(L);
  const loss = F.crossEntropy(logits, labels());
  const want = fx.cases.loss;
  assertStored(loss, want.loss, "loss", rtol, atol);
  const [gx, gw, gact] = autograd.grad(loss, [L[0], L[1], act]);
  assertStored(gx, want.input, "d loss / d x", rtol, atol);
  assertStored(gw, want.conv_w, "d loss / d conv weight", rtol, atol);
  assertStored(gact, want.act, "d loss / d activation", rtol, atol);
  assert.ok(L.every((t) => t.grad === null), "autograd.grad adds into no .grad");
  endStep();
});

Deno.test("autograd.grad: Grad-CAM's class score for an activation", () => {
  const L = leaves();
  const [act, logits] = net(L);
  const [g] = autograd.grad(logits.select(0, 0).select(0, 1), act);
  assertStored(g, fx.cases.score.act, "d score / d activation", rtol, atol);
  endStep();
});

Deno.test("autograd.grad: several outputs, gradOutputs with null for a scalar", () => {
  const L = leaves();
  const [, logits] = net(L);
  const loss = F.crossEntropy(logits, labels());
  const G = fromStored(fx.G, { device: testDevice });
  const [gw, gb] = autograd.grad([logits, loss], [L[5], L[6]], [G, null]);
  assertStored(gw, fx.cases.multi.fc_w, "fc weight", rtol, atol);
  assertStored(gb, fx.cases.multi.fc_b, "fc bias", rtol, atol);
  // The same as the option, and twice with retainGraph.
  const L2 = leaves();
  const [, logits2] = net(L2);
  const loss2 = F.crossEntropy(logits2, labels());
  const first = autograd.grad([logits2, loss2], L2[6], {
    gradOutputs: [G, null],
    retainGraph: true,
  });
  const again = autograd.grad([logits2, loss2], L2[6], { gradOutputs: [G, null] });
  assertStored(first[0], fx.cases.multi.fc_b, "retained, first", rtol, atol);
  assertStored(again[0], fx.cases.multi.fc_b, "retained, second", rtol, atol);
  endStep();
});

Deno.test("autograd.backward: gradTensors, into the chosen inputs only (a leaf, an activation)", () => {
  const L = leaves();
  const [act, logits] = net(L);
  const loss = F.crossEntropy(logits, labels());
  const G = fromStored(fx.G, { device: testDevice });
  autograd.backward([logits, loss], [G, on([2], false).reshape([])], { inputs: [L[1], act] });
  assertStored(L[1].grad, fx.cases.backward_inputs.conv_w, "conv weight .grad", rtol, atol);
  assertStored(act.grad, fx.cases.backward_inputs.act, "activation .grad", rtol, atol);
  assert.equal(L[0].grad, null);
  assert.equal(L[5].grad, null);
  assert.equal(act.retainsGrad, true, "as torch, inputs= retains an op result's gradient");
  endStep();
});

Deno.test("backward({ inputs }): one output, a tensor or a list; an unreached input stays null", () => {
  const x = on([1, 2, 3]), w = on([0.5, 0.5, 0.5]), z = on([1, 1, 1]);
  const h = x.mul(w);
  const y = h.mul(h).sum();
  y.backward(undefined, { inputs: [w, h, z], retainGraph: true });
  assert.deepEqual(w.grad!.toList(), [1, 4, 9]);
  assert.deepEqual(h.grad!.toList(), [1, 2, 3]);
  assert.equal(x.grad, null);
  assert.equal(z.grad, null);
  // Both accumulate, as torch's: h retains its gradient from now on.
  y.backward(undefined, { inputs: w, retainGraph: true });
  assert.deepEqual(w.grad!.toList(), [2, 8, 18]);
  assert.deepEqual(h.grad!.toList(), [2, 4, 6]);
  y.backward();
  assert.deepEqual(h.grad!.toList(), [3, 6, 9]);
  assert.deepEqual(x.grad!.toList(), [0.5, 1, 1.5]);
  endStep();
});

Deno.test("autograd.grad: unused inputs, materializeGrads, a repeated input, the output itself", () => {
  const x = on([1, 2, 3]), z = on([1, 1, 1]);
  const y = x.mul(x).sum();
  assert.match(
    messageOf(() => autograd.grad(y, [x, z], { retainGraph: true })),
    /inputs\[1\] \[3\] was not used in the graph.*allowUnused: true/,
  );
  const [gx, gz] = autograd.grad(y, [x, z], { retainGraph: true, allowUnused: true });
  assert.deepEqual(gx!.toList(), [2, 4, 6]);
  assert.equal(gz, null);
  const m = autograd.grad(y, [x, z], { retainGraph: true, materializeGrads: true });
  assert.deepEqual(m[1]!.toList(), [0, 0, 0]);
  const [a, b] = autograd.grad(y, [x, x]);
  assert.notEqual(a, b, "one tensor per input");
  assert.deepEqual([a.toList(), b.toList()], [[2, 4, 6], [2, 4, 6]]);
  const q = x.mul(2);
  const g = onesLike(q);
  const [self] = autograd.grad(q, q, g);
  assert.deepEqual(self.toList(), [1, 1, 1]);
  assert.notEqual(self, g, "a copy of the caller's gradient");
  endStep();
});

Deno.test("autograd.grad: hooks run on the inputs (torch 2), retained .grad is kept", () => {
  const x = on([1, 2, 3]);
  const q = x.mul(2);
  q.registerHook((g) => g.mul(10));
  const r = q.mul(q).sum();
  assert.deepEqual(autograd.grad(r, q, { retainGraph: true })[0].toList(), [40, 80, 120]);
  assert.deepEqual(autograd.grad(r, x)[0].toList(), [80, 160, 240]);
  const w = on([0.5, 0.5, 0.5]);
  const h = x.mul(w);
  h.retainGrad();
  autograd.grad(h.mul(h).sum(), x);
  assert.deepEqual(h.grad!.toList(), [1, 2, 3]);
  assert.equal(w.grad, null);
  endStep();
});

Deno.test("autograd.grad / backward: errors worded as torch's", () => {
  const x = on([1, 2, 3]);
  const h = x.mul(2);
  const y = h.sum();
  const cases: [() => unknown, RegExp][] = [
    [() => autograd.grad(h, x), /implied only for one-element outputs; outputs\[0\] is \[3\]/],
    [() => autograd.grad(y, on([1, 1], false)), /inputs\[0\] \[2\] does not require grad/],
    [() => autograd.grad(on([1], false).sum(), x), /outputs\[0\] \[\] does not require grad/],
    [() => autograd.grad(h, x, on([1, 1], false)), /mismatch in shape: gradient 0 has shape \[2\]/],
    [() => autograd.grad([h, y], x, [onesLike(h)]), /got 1 gradients for 2 outputs/],
    [() => autograd.grad(y, x, { createGraph: true }), /createGraph is not supported/],
    [() => autograd.grad(y, x, { create_graph: true } as never), /unknown option 'create_graph'/],
    [() => autograd.grad(y, x, { retainGraph: 1 } as never), /retainGraph must be true or false/],
    [() => autograd.grad(y, []), /inputs is empty/],
    [() => autograd.grad(y, 3 as never), /inputs must be a tensor or an array/],
    [() => autograd.grad(y, x, { allowUnused: false, materializeGrads: true }), /materializeGrads/],
    [() => autograd.backward(y, undefined, { inputs: [] }), /inputs cannot be empty/],
    [() => y.backward(undefined, { inputs: [on([1], false)] }), /does not require grad/],
    [() => autograd.backward(y, undefined, { createGraph: true }), /createGraph is not supported/],
  ];
  cases.forEach(([f, re], i) => assert.match(messageOf(f), re, `case ${i}`));
  const sq = x.mul(x).sum(); // mul saved its inputs: the first pass frees them
  autograd.grad(sq, x);
  assert.match(messageOf(() => autograd.grad(sq, x)), /already used and freed.*retainGraph: true/);
  // A failed call changed nothing: the graph still runs.
  const z = x.mul(3).sum();
  assert.match(messageOf(() => autograd.grad(z, [x, on([1], true)])), /not used/);
  assert.deepEqual(autograd.grad(z, x)[0].toList(), [3, 3, 3]);
  endStep();
});

Deno.test("autograd.grad / backward({ inputs }): a pruned pass frees only the part it ran", () => {
  // torch 1.13: grad(y, x) then grad(y, w) on y = sum(exp(x) + exp(w)) works (w's branch never
  // ran); going through x's branch again says the graph was freed.
  const x = on([1, 2]), w = on([3, 4]);
  const y = x.exp().add(w.exp()).sum();
  assert.deepEqual(autograd.grad(y, x)[0].toList(), x.exp().toList());
  assert.deepEqual(autograd.grad(y, w)[0].toList(), w.exp().toList());
  assert.match(messageOf(() => autograd.grad(y, x)), /graph through 'exp' was already used/);
  const v = on([0.5, 1.5]);
  const z = x.mul(v).add(w.sin()).sum();
  z.backward(undefined, { inputs: [x] });
  z.backward(undefined, { inputs: [w] });
  assert.deepEqual([x.grad!.toList(), w.grad!.toList()], [v.toList(), w.cos().toList()]);
  assert.match(messageOf(() => z.backward()), /graph through 'mul' was already used/);
  endStep();
});

Deno.test("autograd.grad: results are op results; a loop of it stays flat in memory", () => {
  const w = on(Array.from({ length: 64 }, (_, i) => i / 64));
  const step = () => {
    const x = tensor(Array.from({ length: 64 }, () => 1), undefined, { device: testDevice });
    const [g] = autograd.grad(w.mul(x).square().sum(), w);
    return g.sum().item();
  };
  for (let i = 0; i < 3; i++) step(), endStep();
  const before = memoryStats().bytesInUse;
  for (let i = 0; i < 20; i++) step(), endStep();
  assert.equal(memoryStats().bytesInUse, before);
  const kept = scope(() => autograd.grad(w.mul(2).sum(), w)[0]);
  assert.ok(kept.isAlive, "returned from a scope, it survives it");
  assert.deepEqual(Array.from(kept.toArray().slice(0, 2)), [2, 2]);
  endStep();
});
