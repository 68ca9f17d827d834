/**
 * nn.utils against PyTorch 1.13's torch.nn.utils (tests/fixtures/nn_utils.json,
 * scripts/make_nn_utils_fixtures.py): prune's masks (ties included),
 * state-dict keys and values, forward and gradients through pruned layers,
 * iterative and global pruning, remove(), and the errors for bad inputs.
 */
import assert from "node:assert/strict";
import { manualSeed, models, nn, noGrad, randn, type Tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, messageOf, type StoredRecord } from "./helpers.ts";

const { prune } = nn.utils;
// deno-lint-ignore no-explicit-any
const fx = loadFixture<Record<string, any>>("nn_utils.json");

interface StateRecord {
  keys: string[];
  values: StoredRecord[];
  parameters: string[];
}

function linear(w: StoredRecord, b: StoredRecord): nn.Linear {
  const m = new nn.Linear(w.shape[1], w.shape[0]);
  noGrad(() => {
    m.weight.copy_(fromStored(w));
    m.bias!.copy_(fromStored(b));
  });
  return m;
}

function conv(w: StoredRecord, b: StoredRecord): nn.Conv2d {
  const m = new nn.Conv2d(w.shape[1], w.shape[0], w.shape[2]);
  noGrad(() => {
    m.weight.copy_(fromStored(w));
    m.bias!.copy_(fromStored(b));
  });
  return m;
}

function assertState(m: nn.Module, want: StateRecord, what: string): void {
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], want.keys, `${what}: state-dict keys`);
  [...sd.values()].forEach((t, i) => assertStored(t, want.values[i], `${what}: ${want.keys[i]}`));
  assert.deepEqual([...m.namedParameters()].map(([k]) => k), want.parameters, `${what}: params`);
}

function mask(m: nn.Module, name = "weight"): Tensor {
  return m.stateDict().get(`${name}_mask`)!;
}

const norm = (n: number | string | null) =>
  n === "inf" ? Infinity : n === "-inf" ? -Infinity : n as number | "fro";

Deno.test("prune: l1Unstructured and lnStructured choose torch's entries, ties included", () => {
  const { w, b, runs } = fx.single;
  for (const run of runs) {
    const [kind, amount, n, dim] = run.spec;
    const m = linear(w, b);
    if (kind === "l1") prune.l1Unstructured(m, "weight", amount);
    else if (kind === "l1_bias") prune.l1Unstructured(m, "bias", amount);
    else prune.lnStructured(m, "weight", amount, norm(n), dim);
    const what = run.spec.join(" ");
    assertState(m, run.state, what);
    assertStored(kind === "l1_bias" ? m.bias : m.weight, run.weight, `${what}: pruned tensor`);
  }
});

Deno.test("prune: a fractional amount rounds as Python's round (halves to even)", () => {
  for (const r of fx.rounding) {
    const m = linear(r.w, { shape: [1], data: [0] });
    prune.l1Unstructured(m, "weight", r.amount);
    assert.equal(mask(m).eq(0).sum().item(), r.pruned, `${r.amount} of ${r.size}`);
  }
});

Deno.test("prune: iterative pruning composes masks; forward, gradients, remove, prune again", () => {
  const it = fx.iterative;
  const m = conv(it.w, it.b);
  prune.l1Unstructured(m, "weight", 0.3);
  assertStored(mask(m), it.steps[0], "step 1 (l1 0.3)");
  prune.lnStructured(m, "weight", { count: 1 }, 1, 0);
  assertStored(mask(m), it.steps[1], "step 2 (ln n=1 dim 0)");
  prune.l1Unstructured(m, "weight", 10);
  assertStored(mask(m), it.steps[2], "step 3 (l1 10 of the rest)");
  prune.lnStructured(m, "weight", 0.5, 2, 1);
  assertStored(mask(m), it.steps[3], "step 4 (ln n=2 dim 1)");
  assertState(m, it.state, "pruned conv");
  const f = it.forward;
  const x = fromStored(f.x, { requiresGrad: true });
  const y = m(x);
  assertStored(y, f.y, "forward", 1e-5, 1e-5);
  y.mul(fromStored(f.g)).sum().backward();
  for (const [k, p] of m.namedParameters()) {
    assertStored(p.grad, f.grads[k], `grad ${k}`, 1e-4, 1e-5);
  }
  assertStored(x.grad, f.gx, "grad x", 1e-4, 1e-5);
  const orig = m.stateDict().get("weight_orig");
  prune.remove(m, "weight");
  assertState(m, it.removed, "after remove");
  assert.equal(m.weight, orig, "remove keeps the Parameter object (optimizers hold it)");
  assert.equal(Object.hasOwn(m, "forward"), false, "remove takes the hook off");
  prune.l1Unstructured(m, "weight", 0.6);
  assertStored(mask(m), it.again, "pruned again after remove (zeros tie)");
});

Deno.test("prune: forward and gradients through a Linear with weight and bias pruned", () => {
  const c = fx.linear_forward;
  const m = linear(c.w, c.b);
  prune.l1Unstructured(m, "weight", 5);
  prune.l1Unstructured(m, "bias", { count: 1 });
  assertState(m, c.state, "pruned linear");
  const f = c.forward;
  const x = fromStored(f.x, { requiresGrad: true });
  const y = m(x);
  assertStored(y, f.y, "forward");
  y.mul(fromStored(f.g)).sum().backward();
  for (const [k, p] of m.namedParameters()) assertStored(p.grad, f.grads[k], `grad ${k}`);
  assertStored(x.grad, f.gx, "grad x");
});

Deno.test("prune: globalUnstructured ranks two layers together, composing earlier masks", () => {
  const g = fx.global;
  const a = conv(g.a_w, g.a_b), h = linear(g.h_w, g.h_b);
  prune.l1Unstructured(h, "weight", 2);
  prune.globalUnstructured([[a, "weight"], [h, "weight"]], prune.L1Unstructured, 0.4);
  assertStored(mask(a), g.first.a, "first: conv");
  assertStored(mask(h), g.first.h, "first: linear");
  prune.globalUnstructured([[a, "weight"], [h, "weight"], [h, "bias"]], prune.L1Unstructured, {
    amount: 6,
  });
  for (const [k, v] of Object.entries(g.second.a)) {
    assertStored(mask(a, k.slice(0, -5)), v as StoredRecord, `conv ${k}`);
  }
  for (const [k, v] of Object.entries(g.second.h)) {
    assertStored(mask(h, k.slice(0, -5)), v as StoredRecord, `linear ${k}`);
  }
  assertState(a, g.a_state, "global conv");
  assertState(h, g.h_state, "global linear");

  const s = fx.global_scores;
  const a2 = conv(g.a_w, g.a_b), h2 = linear(g.h_w, g.h_b);
  prune.globalUnstructured([[a2, "weight"], [h2, "weight"]], prune.L1Unstructured, {
    amount: 0.5,
    importanceScores: [[h2, "weight", fromStored(s.scores)]],
  });
  assertStored(mask(a2), s.a, "scores: conv");
  assertStored(mask(h2), s.h, "scores: linear");
});

Deno.test("prune: customFromMask composes, identity adds ones, importanceScores rank", () => {
  const c = fx.custom, lf = fx.linear_forward;
  const m = linear(lf.w, lf.b);
  prune.l1Unstructured(m, "weight", 3);
  prune.customFromMask(m, "weight", fromStored(c.mask));
  assertStored(mask(m), c.combined, "combined");
  const i = prune.identity(linear(lf.w, lf.b), "weight");
  assertState(i, c.identity, "identity");
  const s = linear(lf.w, lf.b);
  prune.l1Unstructured(s, "weight", 4, { importanceScores: fromStored(fx.importance.scores) });
  assertStored(mask(s), fx.importance.mask, "importance scores");
});

Deno.test("prune: the random methods prune torch's count from this library's generator", () => {
  manualSeed(3);
  const fc = prune.randomUnstructured(new nn.Linear(7, 5), "weight", 0.3);
  assert.equal(mask(fc).eq(0).sum().item(), 10); // round(0.3 * 35) = 10, as torch
  const conv = prune.randomStructured(new nn.Conv2d(3, 6, 3), "weight", 2, 0);
  const dead = mask(conv).sum([1, 2, 3]).eq(0).sum().item();
  assert.equal(dead, 2);
  prune.randomStructured(conv, "weight", 0.5, 0); // half of the four left
  assert.equal(mask(conv).sum([1, 2, 3]).eq(0).sum().item(), 4);
});

Deno.test("prune: a pruned layer is recomputed each forward and turns the fused paths off", () => {
  // A small CNN in eval runs conv + relu + pool as one kernel that reads conv.weight itself.
  const net = models.simpleCNN({ imageSize: 32 }).eval();
  const x = randn([1, 1, 32, 32]);
  const conv = net.getSubmodule("features.0") as nn.Conv2d;
  prune.l1Unstructured(conv, "weight", 0.9);
  noGrad(() => net(x));
  // As an optimizer step: weight_orig changes after the forward that computed conv.weight.
  noGrad(() => conv.stateDict().get("weight_orig")!.add_(0.5));
  const pruned = noGrad(() => net(x).toArray());
  prune.remove(conv, "weight"); // (orig + 0.5) * mask, a plain parameter: the fused path again
  assert.equal(Object.hasOwn(conv, "forward"), false);
  const fused = noGrad(() => net(x).toArray());
  pruned.forEach((v, i) =>
    assert.ok(Math.abs(v - fused[i]) < 1e-4, `logit ${i}: ${v} vs ${fused[i]}`)
  );
  // An optimizer step on weight_orig shows in the next forward's weight.
  const fc = new nn.Linear(3, 2);
  prune.l1Unstructured(fc, "weight", 2);
  const origW = fc.stateDict().get("weight_orig")!;
  noGrad(() => origW.add_(1));
  fc(randn([1, 3]));
  const w = fc.weight.toArray(), o = origW.toArray(), mk = mask(fc).toArray();
  w.forEach((v, i) => assert.equal(v, o[i] * mk[i]));
});

Deno.test("prune: bad inputs are refused, saying what to write", () => {
  const fc = new nn.Linear(3, 2);
  const has = (f: () => unknown, text: string) => assert.match(messageOf(f), new RegExp(text));
  has(() => prune.l1Unstructured(fc, "weight", 1), "\\{ count: 1 \\} or \\{ fraction: 1 \\}");
  has(() => prune.l1Unstructured(fc, "weight", 7), "amount=7 should be smaller than the number");
  has(() => prune.l1Unstructured(fc, "weight", -2), "non-negative whole number");
  has(() => prune.l1Unstructured(fc, "weight", 1.5), "fraction in \\[0, 1\\]");
  has(
    () => prune.l1Unstructured(fc, "weights", 0.5),
    "not one of its parameters; its parameters: \\[weight, bias\\]",
  );
  has(() => prune.l1Unstructured(new nn.Linear(2, 2, { bias: false }), "bias", 0.5), "is null");
  has(() => prune.l1Unstructured(new nn.BatchNorm2d(2), "runningMean", 0.5), "not a Parameter");
  has(() => prune.lnStructured(fc, "bias", 0.5, 2, 0), "multidimensional");
  has(() => prune.lnStructured(fc, "weight", 0.5, 2, 2), "invalid dim 2");
  has(() => prune.lnStructured(fc, "weight", 0.5, "nuc" as "fro", 0), "nuclear");
  has(() => prune.remove(fc, "weight"), "has to be pruned before pruning can be removed");
  has(
    () => prune.l1Unstructured(fc, "weight", 0.5, { importance_scores: null } as never),
    "importance_scores",
  );
  has(
    () => prune.globalUnstructured([[fc, "weight"]], prune.LnStructured as never, 0.5),
    "unstructured",
  );
  has(
    () => prune.globalUnstructured([[fc, "weight"]], "L1Unstructured" as never, 0.5),
    "pruning class",
  );
  has(
    () => (prune as unknown as Record<string, () => void>).l1_unstructured(),
    "prune.l1Unstructured",
  );
  has(
    () => (prune as unknown as Record<string, () => void>).global_unstructured(),
    "prune.globalUnstructured",
  );
  // A failed pruning leaves the module as it was; pruning twice with remove between works.
  assert.deepEqual([...fc.stateDict().keys()], ["weight", "bias"]);
  prune.l1Unstructured(fc, "weight", 2);
  has(
    () => prune.l1Unstructured(fc, "weight", 5),
    "amount=5 should be smaller than the number of parameters to prune=4",
  );
  assert.equal(mask(fc).eq(0).sum().item(), 2);
  prune.remove(fc, "weight");
  has(() => prune.remove(fc, "weight"), "already removed");
  prune.l1Unstructured(fc, "weight", 3);
  assert.equal(mask(fc).eq(0).sum().item(), 3); // the two zeros first, then the smallest
  assert.equal(prune.isPruned(new nn.Sequential(fc)), true);
});

function vectorNet(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(2, 3, 2),
    new nn.BatchNorm2d(3),
    new nn.Flatten(),
    new nn.Linear(3, 2),
  );
}

Deno.test("parametersToVector and vectorToParameters: torch's order, gradients, in place", () => {
  const v = fx.vector;
  const seq = vectorNet();
  seq.loadStateDict(
    new Map(Object.entries(v.before).map(([k, t]) => [k, fromStored(t as StoredRecord)])),
  );
  const vec = nn.utils.parametersToVector(seq.parameters());
  assertStored(vec, v.vec, "vector");
  vec.mul(fromStored(v.G)).sum().backward();
  for (const [k, p] of seq.namedParameters()) assertStored(p.grad, v.grads[k], `grad ${k}`);
  const held = seq.parameters();
  nn.utils.vectorToParameters(fromStored(v.new), seq.parameters());
  const sd = seq.stateDict();
  for (const [k, t] of Object.entries(v.after)) assertStored(sd.get(k)!, t as StoredRecord, k);
  seq.parameters().forEach((p, i) => assert.equal(p, held[i], "the same Parameter objects"));
  assert.equal(seq.parameters()[0].gradFn, null, "the write is not recorded");
});

Deno.test("parametersToVector and vectorToParameters: bad inputs say what to write", () => {
  const fc = new nn.Linear(3, 2);
  const has = (f: () => unknown, text: string) => assert.match(messageOf(f), new RegExp(text));
  has(() => nn.utils.parametersToVector(fc.weight as never), "got one Tensor");
  has(() => nn.utils.parametersToVector([]), "no parameters");
  has(() => nn.utils.vectorToParameters(randn([9]), fc.parameters()), "8 elements in all");
  has(() => nn.utils.vectorToParameters(randn([2, 4]), fc.parameters()), "1-D vector of 8");
  has(() => nn.utils.vectorToParameters([1, 2] as never, fc.parameters()), "expected a Tensor");
  has(
    () => (nn.utils as unknown as Record<string, () => void>).parameters_to_vector(),
    "parametersToVector",
  );
});
