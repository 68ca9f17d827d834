/**
 * nn.utils beyond prune against PyTorch 1.13 (tests/fixtures/nn_utils2.json,
 * scripts/make_nn_utils2_fixtures.py): weightNorm and spectralNorm (state-dict
 * keys, forward, gradients, power iteration, remove), conv-bn fusion,
 * stateless.functionalCall, the buffer order after prune.remove, and the
 * errors for bad inputs.
 */
import assert from "node:assert/strict";
import {
  getRngState,
  memoryStats,
  models,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, messageOf, type StoredRecord } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
const fx = loadFixture<Record<string, any>>("nn_utils2.json");

interface StateRecord {
  keys: string[];
  values: StoredRecord[];
  parameters: string[];
  buffers: string[];
}

interface GradsRecord {
  x: StoredRecord;
  y: StoredRecord;
  g: StoredRecord;
  grads: Record<string, StoredRecord>;
  gx: StoredRecord;
}

/** `m` with its state dict loaded from a stored one. */
function loaded<M extends nn.Module>(m: M, want: StateRecord): M {
  m.loadStateDict(new Map(want.keys.map((k, i) => [k, fromStored(want.values[i])])));
  return m;
}

function assertState(m: nn.Module, want: StateRecord, what: string, rtol = 1e-5): void {
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], want.keys, `${what}: state-dict keys`);
  [...sd.values()].forEach((t, i) =>
    assertStored(t, want.values[i], `${what}: ${want.keys[i]}`, rtol, 1e-6)
  );
  assert.deepEqual([...m.namedParameters()].map(([k]) => k), want.parameters, `${what}: params`);
  assert.deepEqual([...m.namedBuffers()].map(([k]) => k), want.buffers, `${what}: buffers`);
}

/** Runs `m` on the record's input, backward with its output gradient; checks all against it. */
function assertGrads(m: nn.Module, f: GradsRecord, what: string, rtol = 1e-4): void {
  m.zeroGrad();
  const x = fromStored(f.x, { requiresGrad: true });
  const y = m(x) as Tensor;
  assertStored(y, f.y, `${what}: forward`, rtol, 1e-5);
  y.mul(fromStored(f.g)).sum().backward();
  for (const [k, p] of m.namedParameters()) {
    assertStored(p.grad, f.grads[k], `${what}: grad ${k}`, rtol, 1e-5);
  }
  assertStored(x.grad, f.gx, `${what}: grad x`, rtol, 1e-5);
}

Deno.test("weightNorm: weight_g and weight_v as torch's, forward, gradients, remove", () => {
  for (const c of fx.weight_norm) {
    const what = `${c.kind} ${c.name} dim ${c.dim}`;
    const m = loaded(c.kind === "linear" ? new nn.Linear(5, 4) : new nn.Conv2d(2, 3, 3), c.before);
    const v = (m as unknown as Record<string, Tensor>)[c.name];
    nn.utils.weightNorm(m, c.name, c.dim);
    assertState(m, c.state, what);
    assert.equal(m.stateDict().get(`${c.name}_v`), v, `${what}: weight_v is the Parameter object`);
    assert.equal(Object.hasOwn(m, "forward"), true, `${what}: the hook makes forward the module's`);
    assertGrads(m, c.forward, what);
    noGrad(() => m.stateDict().get(`${c.name}_g`)!.mul_(1.5));
    assertStored(m(fromStored(c.forward.x)) as Tensor, c.y2, `${what}: forward after a new g`);
    nn.utils.removeWeightNorm(m, c.name);
    assertState(m, c.removed, `${what}: removed`);
    assert.equal((m as unknown as Record<string, Tensor>)[c.name], v, `${what}: same object`);
    assert.equal(Object.hasOwn(m, "forward"), false, `${what}: remove takes the hook off`);
  }
});

Deno.test("weightNorm: a normalised layer turns the fused paths off, which would read weight", () => {
  // A small CNN in eval runs conv + relu + pool as one kernel that reads conv.weight itself.
  const net = models.simpleCNN({ imageSize: 32 }).eval();
  const x = randn([1, 1, 32, 32]);
  const conv = net.getSubmodule("features.0") as nn.Conv2d;
  nn.utils.weightNorm(conv);
  noGrad(() => net(x));
  // As an optimizer step: weight_g changes after the forward that computed conv.weight.
  noGrad(() => conv.stateDict().get("weight_g")!.mul_(2));
  const normed = noGrad(() => net(x).toArray());
  nn.utils.removeWeightNorm(conv); // 2 * the weight, a plain parameter: the fused path again
  assert.equal(Object.hasOwn(conv, "forward"), false);
  const fused = noGrad(() => net(x).toArray());
  normed.forEach((v, i) =>
    assert.ok(Math.abs(v - fused[i]) < 1e-4, `logit ${i}: ${v} vs ${fused[i]}`)
  );
});

Deno.test("weightNorm, spectralNorm: a training loop stays flat; module.weight stays readable", () => {
  const net = models.simpleCNN({ imageSize: 32, numClasses: 3 });
  const convs = [...net.modules()].filter((m) => m instanceof nn.Conv2d) as nn.Conv2d[];
  convs.forEach((m, i) => i % 2 ? nn.utils.spectralNorm(m) : nn.utils.weightNorm(m));
  const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
  const lossFn = new nn.CrossEntropyLoss();
  const x = randn([2, 1, 32, 32]), y = tensor([0, 2]).long().keep(); // labels past backward()s
  const step = () => {
    opt.zeroGrad();
    lossFn(net(x), y).backward();
    opt.step();
  };
  for (let i = 0; i < 3; i++) step();
  const before = memoryStats().bytesInUse;
  for (let i = 0; i < 20; i++) step();
  assert.ok(memoryStats().bytesInUse - before < 64 * 1024, "bytes in use grew over 20 steps");
  opt.zeroGrad(); // frees the last forward's tensors, the recomputed weights among them
  const [c0, c1] = convs;
  const sd0 = c0.stateDict();
  const norm = sd0.get("weight_v")!.norm(2, [1, 2, 3], true);
  const want0 = sd0.get("weight_v")!.mul(sd0.get("weight_g")!.div(norm)).toArray();
  const got0 = c0.weight.toArray();
  want0.forEach((v, i) => assert.ok(Math.abs(v - got0[i]) < 1e-6, "read after the step"));
  net.eval();
  const seen = noGrad(() => (net(x), c1.weight.toArray()));
  assert.deepEqual(c1.weight.toArray(), seen, "read after a noGrad forward freed it");
  assert.match(
    messageOf(() => (c0 as unknown as { weight: unknown }).weight = new nn.Parameter(randn([1]))),
    /weight_g and weight_v.*removeWeightNorm/,
  );
});

Deno.test("weightNorm: bad inputs throw torch's errors or name what to write", () => {
  const fc = nn.utils.weightNorm(new nn.Linear(3, 2));
  assert.equal(
    messageOf(() => nn.utils.weightNorm(fc)),
    "Cannot register two weight_norm hooks on the same parameter weight",
  );
  assert.match(messageOf(() => nn.utils.removeWeightNorm(fc, "bias")), /weight_norm of 'bias'/);
  assert.match(messageOf(() => nn.utils.weightNorm(fc, "nothing")), /Linear\.nothing is not/);
  const plain = new nn.Linear(3, 2);
  assert.match(messageOf(() => nn.utils.weightNorm(plain, "weight", 2)), /dim 2 is out of range/);
  assert.match(messageOf(() => nn.utils.weightNorm(plain, "weight", -1)), /write null/);
  assert.deepEqual([...plain.stateDict().keys()], ["weight", "bias"], "a refusal changes nothing");
  const noBias = new nn.Linear(3, 2, { bias: false });
  assert.match(messageOf(() => nn.utils.weightNorm(noBias, "bias")), /is null/);
  assert.match(
    messageOf(() => (nn.utils as unknown as Record<string, () => void>).weight_norm()),
    /write nn\.utils\.weightNorm/,
  );
});

interface SpectralStep {
  xs: StoredRecord[];
  ys: StoredRecord[];
  gs: StoredRecord[];
  u: StoredRecord;
  v: StoredRecord;
  /** The recomputed weight (the eval step's only). */
  weight?: StoredRecord;
  grads: Record<string, StoredRecord>;
}

function spectralModule(kind: string): nn.Module {
  if (kind === "linear") return new nn.Linear(5, 4);
  if (kind === "conv") return new nn.Conv2d(2, 3, 3);
  if (kind === "convT") return new nn.ConvTranspose2d(3, 2, 3);
  return new nn.BatchNorm2d(3);
}

/** One step as the fixture's: forwards, one backward, then the checks. */
function spectralStep(m: nn.Module, s: SpectralStep, what: string): void {
  const ys = s.xs.map((x) => m(fromStored(x)) as Tensor);
  ys.forEach((y, i) => assertStored(y, s.ys[i], `${what}: forward ${i}`, 1e-4, 1e-5));
  ys.map((y, i) => y.mul(fromStored(s.gs[i])).sum()).reduce((a, b) => a.add(b)).backward();
  const sd = m.stateDict();
  assertStored(sd.get("weight_u")!, s.u, `${what}: u`, 1e-4, 1e-5);
  assertStored(sd.get("weight_v")!, s.v, `${what}: v`, 1e-4, 1e-5);
  assert.equal(sd.get("weight_u")!.requiresGrad, false, `${what}: u is not recorded`);
  if (s.weight) {
    assertStored((m as unknown as { weight: Tensor }).weight, s.weight, `${what}: weight`, 1e-4);
  }
  for (const [k, p] of m.namedParameters()) {
    assertStored(p.grad, s.grads[k], `${what}: grad ${k}`, 1e-3, 1e-5);
  }
}

Deno.test("spectralNorm: power iteration, forward and gradients as torch's on its u and v", () => {
  for (const c of fx.spectral_norm) {
    const what = `${c.kind} ${JSON.stringify(c.args)}`;
    const m = spectralModule(c.kind);
    const orig = (m as unknown as { weight: Tensor }).weight;
    const a = c.args;
    nn.utils.spectralNorm(m, "weight", a.n_power_iterations ?? 1, a.eps ?? 1e-12, a.dim);
    assert.equal(m.stateDict().get("weight_orig"), orig, `${what}: weight_orig is the object`);
    assert.deepEqual([...m.stateDict().keys()], c.state.keys, `${what}: keys`);
    loaded(m, c.state); // torch's u and v (ours are drawn by this library's generator)
    assertState(m, c.state, what);
    c.steps.forEach((s: SpectralStep, i: number) => {
      spectralStep(m, s, `${what} step ${i + 1}`);
      noGrad(() => {
        for (const p of m.parameters()) p.sub_(p.grad!.mul(0.1));
      });
      m.zeroGrad();
    });
    m.eval();
    spectralStep(m, c.eval, `${what} eval`);
    nn.utils.removeSpectralNorm(m);
    assertState(m, c.removed, `${what}: removed`, 1e-4);
    assert.equal((m as unknown as { weight: Tensor }).weight, orig, `${what}: same object`);
    assert.equal(Object.hasOwn(m, "forward"), false, `${what}: remove takes the hook off`);
  }
});

Deno.test("spectralNorm: bad inputs throw torch's errors or name what to write", () => {
  const fc = nn.utils.spectralNorm(new nn.Linear(3, 2));
  assert.equal(
    messageOf(() => nn.utils.spectralNorm(fc)),
    "Cannot register two spectral_norm hooks on the same parameter weight",
  );
  assert.match(messageOf(() => nn.utils.removeSpectralNorm(fc, "bias")), /spectral_norm of 'bias'/);
  assert.match(messageOf(() => nn.utils.weightNorm(fc)), /Linear\.weight is a buffer or a plain/);
  const plain = new nn.Linear(3, 2);
  for (const n of [0, -1, 1.5]) {
    assert.match(
      messageOf(() => nn.utils.spectralNorm(plain, "weight", n)),
      /Expected n_power_iterations to be positive/,
    );
  }
  assert.match(messageOf(() => nn.utils.spectralNorm(plain, "nothing")), /is not one of/);
  assert.match(
    messageOf(() => nn.utils.spectralNorm(plain, "weight", 1, 1e-12, 2)),
    /out of range/,
  );
  assert.deepEqual([...plain.stateDict().keys()], ["weight", "bias"], "a refusal changes nothing");
  assert.match(
    messageOf(() => (nn.utils as unknown as Record<string, () => void>).spectral_norm()),
    /write nn\.utils\.spectralNorm/,
  );
});

/** A map of stored tensors as a state dict. */
function stateOf(stored: Record<string, StoredRecord>): Map<string, Tensor> {
  return new Map(Object.entries(stored).map(([k, v]) => [k, fromStored(v)]));
}

function assertStateValues(m: nn.Module, want: Record<string, StoredRecord>, what: string): void {
  const sd = m.stateDict();
  assert.deepEqual([...sd.keys()], Object.keys(want), `${what}: keys`);
  for (const [k, t] of sd) assertStored(t, want[k], `${what}: ${k}`, 1e-5, 1e-5);
}

Deno.test("fuseConvBnEval: the fused conv is torch's, geometry and padding included", () => {
  for (const c of fx.fuse) {
    const { args: [cin, cout, k], padding_mode, ...rest } = c.conv;
    const what = JSON.stringify(c.conv);
    const conv = new nn.Conv2d(cin, cout, k, { ...rest, paddingMode: padding_mode ?? "zeros" });
    conv.loadStateDict(stateOf(c.conv_state));
    const bn = new nn.BatchNorm2d(cout, c.bn);
    bn.loadStateDict(stateOf(c.bn_state));
    conv.eval();
    bn.eval();
    const before = [...conv.stateDict().values()].map((t) => t.toArray());
    const fused = nn.utils.fuseConvBnEval(conv, bn);
    assertStateValues(fused, c.fused, what);
    assert.ok(fused.weight instanceof nn.Parameter && fused.bias instanceof nn.Parameter);
    assert.equal(fused.training, false);
    const x = fromStored(c.x);
    assertStored(fused(x), c.y, `${what}: fused output`, 1e-4, 1e-5);
    assertStored(bn(conv(x)), c.y_unfused, `${what}: conv -> bn`, 1e-4, 1e-5);
    assert.deepEqual(fused.paddingAmounts, conv.paddingAmounts, `${what}: padding sides`);
    [...conv.stateDict().values()].forEach((t, i) =>
      assert.deepEqual(t.toArray(), before[i], `${what}: conv is left as it was`)
    );
  }
  const t = fx.fuse_transpose;
  const s = stateOf(t.bn_state);
  const [w, b] = nn.utils.fuseConvBnWeights(
    fromStored(t.w),
    fromStored(t.b),
    s.get("running_mean")!,
    s.get("running_var")!,
    1e-5,
    s.get("weight")!,
    s.get("bias")!,
    true,
  );
  assertStored(w, t.fw, "transpose: weight");
  assertStored(b, t.fb, "transpose: bias");
});

Deno.test("fuseLinearBnEval: the fused Linear is torch's", () => {
  const c = fx.fuse_linear;
  const fc = new nn.Linear(4, 3);
  fc.loadStateDict(stateOf(c.lin_state));
  const bn = new nn.BatchNorm1d(3);
  bn.loadStateDict(stateOf(c.bn_state));
  const fused = nn.utils.fuseLinearBnEval(fc.eval(), bn.eval());
  assertStateValues(fused, c.fused, "fused linear");
  assertStored(fused(fromStored(c.x)), c.y, "fused linear: output");
});

Deno.test("fuseConvBnEval: training mode, reparametrised weights and hooks are refused", () => {
  const conv = new nn.Conv2d(2, 3, 3);
  const bn = new nn.BatchNorm2d(3);
  assert.match(messageOf(() => nn.utils.fuseConvBnEval(conv, bn)), /Fusion only for eval!/);
  conv.eval();
  assert.match(messageOf(() => nn.utils.fuseConvBnEval(conv, bn)), /bn is in training mode/);
  bn.eval();
  assert.match(messageOf(() => nn.utils.fuseConvBnEval(conv, new nn.BatchNorm2d(4).eval())), /4/);
  const noStats = new nn.BatchNorm2d(3, { trackRunningStats: false }).eval();
  assert.match(messageOf(() => nn.utils.fuseConvBnEval(conv, noStats)), /no running statistics/);
  nn.utils.weightNorm(conv);
  assert.match(messageOf(() => nn.utils.fuseConvBnEval(conv, bn)), /removeWeightNorm/);
  nn.utils.removeWeightNorm(conv);
  const h = conv.registerForwardHook(() => {});
  assert.match(messageOf(() => nn.utils.fuseConvBnEval(conv, bn)), /has hooks/);
  h.remove();
  const rng = getRngState();
  assert.ok(nn.utils.fuseConvBnEval(conv, bn) instanceof nn.Conv2d);
  assert.deepEqual(getRngState(), rng, "fusing draws nothing from the generator");
  const c1 = new nn.Conv1d(2, 3, 3).eval();
  assert.match(
    messageOf(() => nn.utils.fuseConvBnEval(c1 as unknown as nn.Conv2d, bn)),
    /fuseConvBnWeights\(conv\.weight/,
  );
  for (const name of ["fuse_conv_bn_eval", "fuse_conv_bn_weights"]) {
    assert.match(
      messageOf(() => (nn.utils as unknown as Record<string, () => void>)[name]()),
      /write nn\.utils\.fuseConvBn/,
    );
  }
});

Deno.test("stateless.functionalCall: outputs, gradients and buffer writes as torch's", () => {
  const c = fx.functional_call;
  const net = loaded(
    new nn.Sequential(
      new nn.Conv2d(2, 3, 3),
      new nn.BatchNorm2d(3),
      new nn.ReLU(),
      new nn.Flatten(),
      new nn.Linear(12, 2),
    ),
    c.before,
  );
  const own = net.stateDict();
  const given = new Map(
    Object.entries(c.given as Record<string, StoredRecord>).map(([k, v]) => [
      k,
      fromStored(v, { requiresGrad: k !== "1.running_mean" }),
    ]),
  );
  const y = nn.utils.stateless.functionalCall(net, given, [fromStored(c.x)]) as Tensor;
  assertStored(y, c.y, "output", 1e-4, 1e-5);
  y.mul(fromStored(c.g)).sum().backward();
  for (const [k, want] of Object.entries(c.given_grads as Record<string, StoredRecord>)) {
    assertStored(given.get(k)!.grad, want, `grad of given ${k}`, 1e-4, 1e-5);
  }
  for (const [k, p] of net.namedParameters()) {
    if (k in c.module_grads) assertStored(p.grad, c.module_grads[k], `grad ${k}`, 1e-4, 1e-5);
    else assert.equal(p.grad, null, `${k} was substituted: no gradient`);
  }
  for (const [k, want] of Object.entries(c.given_after as Record<string, StoredRecord>)) {
    assertStored(given.get(k)!, want, `given ${k} after`, 1e-5, 1e-6);
  }
  assertState(net, c.after, "module after");
  for (const [k, t] of net.stateDict()) assert.equal(t, own.get(k), `${k}: the module's own`);
  assert.ok((net[0] as nn.Conv2d).weight instanceof nn.Parameter);
});

Deno.test("stateless.functionalCall: restored after a throw; bad names and the torch name", () => {
  const fc = new nn.Linear(3, 2);
  const w = fc.weight;
  assert.match(
    messageOf(() => nn.utils.stateless.functionalCall(fc, { weight: w.detach() }, [randn([2, 5])])),
    /does not match weight/,
  );
  assert.equal(fc.weight, w, "restored after the forward threw");
  assert.match(
    messageOf(() => nn.utils.stateless.functionalCall(fc, { wieght: w.detach() }, [w])),
    /'wieght' is no parameter or buffer of Linear; its parameters and buffers: \[weight, bias\]/,
  );
  const net = new nn.Sequential(fc);
  assert.match(
    messageOf(() => nn.utils.stateless.functionalCall(net, { "1.weight": w.detach() }, [w])),
    /'1\.weight'.*no submodule '1'/,
  );
  nn.utils.weightNorm(fc);
  assert.match(
    messageOf(() => nn.utils.stateless.functionalCall(fc, { weight: w.detach() }, [w])),
    /weight_g and weight_v/,
  );
  assert.match(
    messageOf(() => nn.utils.stateless.functionalCall(fc, { bias: [1, 2] } as never, [w])),
    /'bias' must map to a Tensor/,
  );
  assert.match(
    messageOf(() =>
      (nn.utils.stateless as unknown as Record<string, () => void>).functional_call()
    ),
    /write nn\.utils\.stateless\.functionalCall/,
  );
});

Deno.test("prune.remove deletes the mask buffer: pruning again gives torch's buffer order", () => {
  const c = fx.prune_order;
  const m = loaded(new nn.Linear(5, 4), c.before);
  nn.utils.prune.l1Unstructured(m, "weight", 0.5);
  nn.utils.prune.l1Unstructured(m, "bias", { count: 1 });
  nn.utils.prune.remove(m, "weight");
  assertState(m, c.linear_removed, "after remove");
  nn.utils.prune.l1Unstructured(m, "weight", 0.25);
  assertState(m, c.linear, "pruned again");
  const bn = new nn.BatchNorm1d(4);
  nn.utils.prune.l1Unstructured(bn, "weight", { count: 1 });
  nn.utils.prune.remove(bn, "weight");
  nn.utils.prune.randomUnstructured(bn, "bias", 0);
  assert.deepEqual([...bn.namedBuffers()].map(([k]) => k), c.bn_buffers);
  assert.deepEqual([...bn.stateDict().keys()], c.bn_keys);
});
