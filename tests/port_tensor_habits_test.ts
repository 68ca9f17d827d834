/**
 * Lines of ported PyTorch code that ran as something else or failed
 * obscurely: x.view, x.repeat, add's alpha, div's rounding mode, torch's
 * attribute names, F.dropout's training flag, seq[-1] = head, add_param_group,
 * and a layer whose weight was swapped for another shape.
 */
import assert from "node:assert/strict";
import { arange, models, nn, noGrad, onnx, optim, randn, tensor } from "../mod.ts";

const F = nn.functional;
const values = (t: { toArray(): Float32Array | Int32Array }) => [...t.toArray()];
const loose = <T>(v: unknown) => v as T;

Deno.test("x.view is torch's: the same memory reshaped, with its gradient; views refused where torch refuses", () => {
  const x = arange(0, 6).reshape(2, 3);
  assert.deepEqual(values(x.narrow(0, 1, 1).view([3])), [3, 4, 5]);
  assert.deepEqual(x.view(3, -1).shape, [3, 2]);
  assert.throws(() => x.t().view([6]), /cannot be viewed as \[6\].* use \.reshape/);
  assert.throws(() => x.view([4]), /view: cannot view \[2,3\] \(6 elements\) into \[4\]/);
  const w = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
  w.view(4).mul(tensor([1, 2, 3, 4])).sum().backward();
  assert.deepEqual(values(w.grad!), [1, 2, 3, 4]);
});

Deno.test("x.repeat as torch's (grey to three channels), and dim(), t(), cpu()", () => {
  const g = tensor([[[[1, 2]]]], undefined, { requiresGrad: true });
  const r = g.repeat(1, 3, 2, 1);
  assert.deepEqual(r.shape, [1, 3, 2, 2]);
  assert.deepEqual(values(r), [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2]);
  r.sum().backward();
  assert.deepEqual(values(g.grad!), [6, 6]);
  assert.deepEqual(values(tensor([1, 2]).repeat(2, 2)), [1, 2, 1, 2, 1, 2, 1, 2]);
  assert.throws(() => tensor([[1, 2]]).repeat(2), /needs one count >= 0 per dimension/);
  const x = arange(0, 6).reshape(2, 3);
  assert.equal(x.dim(), 2);
  assert.deepEqual(x.t().shape, [3, 2]);
  assert.equal(x.cpu(), x);
});

Deno.test("add and sub take { alpha }; extra arguments and other operands are refused", () => {
  const x = tensor([1, 2]), y = tensor([10, 20]);
  assert.deepEqual(values(x.add(y, { alpha: 2 })), [21, 42]);
  assert.deepEqual(values(x.sub(y, { alpha: 2 })), [-19, -38]);
  assert.throws(
    () => loose<(a: unknown, b: unknown) => unknown>(x.div.bind(x))(y, "floor"),
    /write it as x\.div\(y, \{ roundingMode: "floor" \}\)/,
  );
  assert.throws(
    () => loose<(a: unknown, b: unknown) => unknown>(x.mul.bind(x))(y, 3),
    /takes at most 1/,
  );
  assert.throws(() => x.maximum(loose(0)), /takes a Tensor, got number; .* x\.clampMin\(0\)/);
  assert.throws(() => x.add(loose(true)), /operand must be a Tensor or a number, got boolean/);
  assert.throws(() => x.mul(loose(null)), /got null/);
});

Deno.test("torch's attribute names throw with the name to write instead of reading undefined", () => {
  const p = tensor([1], undefined, { requiresGrad: true });
  assert.throws(() => loose<{ requires_grad: boolean }>(p).requires_grad, /write x\.requiresGrad/);
  assert.throws(() => (loose<{ requires_grad: boolean }>(p).requires_grad = false), /requiresGrad/);
  assert.throws(() => loose<{ data: unknown }>(p).data, /x\.detach\(\)/);
  assert.throws(() => (loose<{ data: unknown }>(p).data = tensor([2])), /loadStateDict/);
  assert.equal(p.T, p); // torch 1.13's x.T: x.t(), a 1-D tensor itself (habits_blitz_test.ts)
  assert.equal(p.requiresGrad, true);
});

Deno.test("F.dropout's training flag must be a boolean ({ training: false } dropped)", () => {
  const x = tensor([1, 2, 3, 4]);
  assert.throws(() => F.dropout(x, 0.5, loose({ training: false })), /training must be a boolean/);
  assert.deepEqual(values(F.dropout(x, 0.5, false)), [1, 2, 3, 4]);
});

Deno.test("seq[-1] = head replaces the last layer, as Python's indexing; outside the list is an Error", () => {
  const s = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1000));
  s[-1] = new nn.Linear(8, 3);
  assert.deepEqual(s.forward(randn([2, 4])).shape, [2, 3]);
  assert.deepEqual([...s.stateDict().keys()], ["0.weight", "0.bias", "2.weight", "2.bias"]);
  assert.equal(s[-3], s[0]);
  s[5] = new nn.ReLU();
  assert.throws(() => s.parameters(), /nn\.Sequential: index 5 is out of range \(length 3\)/);
  delete loose<Record<number, unknown>>(s)[5];
  s.append(new nn.Identity());
  assert.equal(s.length, 4);
  assert.equal(s[-1], s[3]);
  delete loose<Record<number, unknown>>(s)[1];
  assert.throws(() => s.forward(randn([2, 4])), /entry 1 was deleted/);
  const list = new nn.ModuleList([new nn.Linear(2, 2)]);
  list[-1] = new nn.Linear(2, 3);
  assert.equal((list[0] as nn.Linear).outFeatures, 3);
  assert.deepEqual([...list.stateDict().keys()], ["0.weight", "0.bias"]);
  const alex = models.alexnet({ numClasses: 1000 });
  alex.classifier[-1] = new nn.Linear(4096, 3);
  assert.equal((alex.classifier[6] as nn.Linear).outFeatures, 3);
  alex.dispose();
});

Deno.test("addParamGroup as torch's add_param_group; a schedule over fewer groups says so", () => {
  const body = new nn.Linear(4, 4), head = new nn.Linear(4, 2);
  const opt = new optim.SGD(head.parameters(), { lr: 0.1, momentum: 0.9 });
  const sched = new optim.StepLR(opt, { stepSize: 1 });
  opt.addParamGroup({ params: body.parameters(), options: { lr: 0.01 } });
  assert.deepEqual(opt.paramGroups.map((g) => [g.lr, g.momentum]), [[0.1, 0.9], [0.01, 0.9]]);
  assert.throws(
    () => opt.addParamGroup({ params: [head.weight] }),
    /a parameter appears in more than one group/,
  );
  assert.throws(() => loose<unknown[]>(opt.paramGroups).push({}), /use addParamGroup/);
  sched.step(); // as torch 1.13: StepLR decays every group, the added one too
  assert.deepEqual(opt.paramGroups.map((g) => g.lr), [0.1 * 0.1, 0.01 * 0.1]);
});

Deno.test("a Conv2d or Linear whose weight was swapped reports and exports the new sizes", () => {
  const m = models.resnet18({ numClasses: 1000, inChannels: 3 });
  m.conv1.weight = new nn.Parameter(noGrad(() => m.conv1.weight.sum(1, true)));
  m.fc.weight = new nn.Parameter(randn([3, 512]));
  m.fc.bias = new nn.Parameter(randn([3]));
  assert.equal(m.conv1.inChannels, 1);
  assert.equal(m.fc.outFeatures, 3);
  m.eval();
  assert.deepEqual(noGrad(() => m.forward(randn([1, 1, 64, 64]))).shape, [1, 3]);
  const bytes = onnx.exportOnnx(m, { inputShape: [1, 1, 64, 64] });
  assert.ok(bytes.length > 1000);
  m.dispose();
});

Deno.test("a dimension given as an options object or left out is named as such", () => {
  const x = tensor([[1, 2], [3, 4]]);
  assert.throws(
    () => x.sum(loose({ dim: 1 })),
    /sum: dimensions are numbers given in place .* got \{"dim":1\}/,
  );
  assert.throws(
    () => F.softmax(x, loose(undefined)),
    /softmax: dimensions are numbers .* got none/,
  );
  const frozen = new nn.Linear(2, 2).requiresGrad_(false);
  assert.throws(
    () => new optim.SGD(frozen.parameters().filter((p) => p.requiresGrad), { lr: 0.1 }),
    /empty parameter list \(.* a filter on requiresGrad that left none/,
  );
});

Deno.test('optimizer options keep their kind: a config\'s "false" or "0.1" is refused, not truthy', () => {
  const p = tensor([1, 2], undefined, { requiresGrad: true });
  const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  const g = loose<Record<string, unknown>>(opt.paramGroups[0]);
  assert.throws(() => (g.nesterov = "false"), /nesterov must be a boolean, got "false"/);
  assert.throws(() => (g.lr = "0.1"), /lr must be a number, got "0.1"/);
  assert.throws(() => (g.options = { lr: 1 }), /not replaced whole; set each option/);
  assert.equal(opt.paramGroups[0].nesterov, false);
  assert.throws(
    () => new optim.SGD([p], { lr: 0.1, momentum: 0.9, nesterov: loose("false") }),
    /nesterov must be a boolean/,
  );
  assert.throws(() => new optim.Adam([p], { betas: loose([0.9]) }), /betas must be a pair/);
  const plateau = new optim.ReduceLROnPlateau(opt);
  opt.addParamGroup({ params: [tensor([1], undefined, { requiresGrad: true })] });
  plateau.step(1); // one minLr (0) covers a group added since, as torch >= 2.2
  assert.deepEqual(plateau.minLrs, [0, 0]);
});

Deno.test("a layer set at the end of a Sequential, or under a non-index key, is refused by forward", () => {
  const s = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU());
  s[2] = new nn.Linear(2, 5);
  assert.throws(() => s.forward(randn([1, 2])), /index 2 is out of range \(length 2\)/);
  const t = new nn.Sequential(new nn.Linear(2, 2));
  loose<Record<string, unknown>>(t)["1.5"] = new nn.ReLU();
  assert.throws(() => t.parameters(), /'1\.5' is not an index/);
  const i = tensor(new Int32Array([1, 2]), [2]);
  const sum = i.add(i, { alpha: 2 }); // integer arithmetic, as torch's
  assert.equal(sum.dtype, "int32");
  assert.deepEqual([...sum.toArray()], [3, 6]);
});

Deno.test("review: named children of a Sequential, options through group.options or a state dict, push", () => {
  const s = new nn.Sequential(new nn.Linear(2, 2));
  loose<Record<string, unknown>>(s).head = new nn.Linear(2, 5);
  // As PyTorch's: a child set under a name runs after the numbered ones.
  assert.deepEqual(s.forward(randn([1, 2])).shape, [1, 5]);
  assert.deepEqual([...s.stateDict().keys()], ["0.weight", "0.bias", "head.weight", "head.bias"]);
  const list = new nn.ModuleList([new nn.Linear(1, 1)]);
  list[1] = new nn.Linear(1, 1);
  assert.throws(() => [...list], /index 1 is out of range/);
  const p = tensor([1, 2], undefined, { requiresGrad: true });
  const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  const o = loose<Record<string, unknown>>(opt.paramGroups[0].options);
  assert.throws(() => (o.nesterov = "false"), /nesterov must be a boolean/);
  assert.throws(() => (o.lr = -5), /lr must be >= 0/);
  assert.equal(opt.paramGroups[0].options.lr, 0.1);
  const sd = opt.stateDict();
  const bad = {
    state: sd.state,
    paramGroups: [{ params: [0], options: { lr: 0.1, nesterov: "false" } }],
  };
  assert.throws(
    () => opt.loadStateDict(loose(bad)),
    /loadStateDict group 0: nesterov must be a boolean/,
  );
  assert.throws(() => loose<unknown[]>(opt.paramGroups).push({}), /use addParamGroup/);
  const fvar = loose<(...a: unknown[]) => unknown>(F.var);
  assert.throws(() => fvar(p.detach(), 0, true, false, 5), /takes at most 4/);
  assert.throws(() => p.var(loose(null), false), /written undefined/);
});
