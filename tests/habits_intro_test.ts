/**
 * Habits of PyTorch's "Introduction to PyTorch" series: walking
 * `d.gradFn.nextFunctions` (torch's `d.grad_fn.next_functions`),
 * `print(model)` of pooling and norm layers, `@torch.no_grad()` as a
 * decorator, `x.to(torch.int32)`, `out=` on reductions, Captum's
 * `target=labels`, `x.std(unbiased=False)`, `x.view(-1, 4)` and
 * `nn.Dropout(p=0.4)`. Each either does what torch's does or fails with a
 * message that says what to write.
 *
 * The numbers are torch 1.13's, quoted where each is checked (no fixture:
 * each is one short expression). Tensors are made on `LITS_TEST_DEVICE`.
 */
import assert from "node:assert/strict";
import {
  type AccumulateGrad,
  enableGrad,
  evaluation,
  type GradNode,
  inferenceMode,
  manualSeed,
  mean,
  models,
  nn,
  noGrad,
  ones,
  prod,
  randn,
  setGradEnabled,
  sum,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { showValue } from "../src/tensor/ops/show_value.ts";
import { messageOf, testDevice } from "./helpers.ts";

const float = (values: number[], shape?: number[], requiresGrad = false) =>
  tensor(values, shape, { device: testDevice, requiresGrad });
const int = (values: number[]) =>
  tensor(Int32Array.from(values), [values.length], { dtype: "int32", device: testDevice });
// deno-lint-ignore no-explicit-any
type Loose = any;
/** Throws an Error whose message (without "Error: ") matches `re`. */
const throws = (f: () => unknown, re: RegExp, what?: string) =>
  assert.match(messageOf(f), re, what);

// ---- 1. gradFn.nextFunctions ----

Deno.test("gradFn.nextFunctions walks the graph as torch's grad_fn.next_functions", () => {
  // The tutorial: a (requires grad) -> b = sin(a) -> c = 2 * b -> d = c + 1 (here c + one).
  const a = float([0, 1, 2, 3], undefined, true);
  const b = a.sin();
  const c = b.mul(float([2, 2, 2, 2]));
  const d = c.add(float([1, 1, 1, 1]));
  const dNode = d.gradFn!;
  assert.equal(dNode.nextFunctions.length, 2);
  // torch: ((<MulBackward0>, 0), (None, 0)): the mul's node, and nothing for the constant.
  assert.equal(dNode.nextFunctions[0][0], c.gradFn);
  assert.equal(dNode.nextFunctions[0][1], 0);
  assert.deepEqual(dNode.nextFunctions[1], [null, 0]);
  const [[sinNode]] = (dNode.nextFunctions[0][0] as GradNode).nextFunctions;
  assert.equal(sinNode, b.gradFn);
  const [[acc, index]] = (sinNode as GradNode).nextFunctions;
  assert.equal(index, 0);
  // torch: (<AccumulateGrad>, 0), whose .variable is a; one per leaf.
  assert.equal((acc as AccumulateGrad).name, "AccumulateGrad");
  assert.equal((acc as AccumulateGrad).variable, a);
  assert.deepEqual([...(acc as AccumulateGrad).nextFunctions], []);
  assert.equal(a.mul(3).gradFn!.nextFunctions[0][0], acc);
  // Names: <mulBackward> (torch's <MulBackward0>), in String, templates and console.log.
  assert.equal(String(c.gradFn), "<mulBackward>");
  assert.equal(`${d.gradFn}`, "<addBackward>");
  assert.equal(String(acc), "<AccumulateGrad>");
  assert.equal(Deno.inspect(dNode.nextFunctions), "[ [ <mulBackward>, 0 ], [ null, 0 ] ]");
  assert.equal(Deno.inspect(sinNode), "<sinBackward>");
  // A tensor's printout keeps its form; backward still gives torch's gradient (2 cos a).
  assert.match(String(d), /gradFn=<add>/);
  d.sum().backward();
  const want = [0, 1, 2, 3].map((v) => 2 * Math.cos(v));
  a.grad!.toArray().forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-5, `grad ${i}`));
});

Deno.test("gradFn.next_functions names nextFunctions; a leaf has no gradFn", () => {
  const a = float([1, 2], undefined, true);
  const y = a.mul(2);
  throws(
    () => (y.gradFn as Loose).next_functions,
    /gradFn has no \.next_functions: write gradFn\.nextFunctions/,
  );
  const [[acc]] = y.gradFn!.nextFunctions;
  throws(() => (acc as Loose).next_functions, /write gradFn\.nextFunctions/);
  assert.equal(a.gradFn, null);
  // The node of a custom-named op keeps one "Backward".
  assert.equal(String(a.sum().gradFn), "<sumBackward>");
});

// ---- 2. print(model) of pooling and norm layers ----

Deno.test("String(pool) shows stride, padding, dilation and ceilMode, as torch's repr", () => {
  // torch: MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)
  assert.equal(
    String(new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true })),
    "MaxPool2d(kernelSize=3, stride=2, padding=1, dilation=1, ceilMode=true, returnIndices=false)",
  );
  // torch: MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  assert.equal(
    String(new nn.MaxPool2d(2)),
    "MaxPool2d(kernelSize=2, stride=2, padding=0, dilation=1, ceilMode=false, returnIndices=false)",
  );
  assert.equal(
    String(new nn.AvgPool2d([2, 3], { padding: [1, 1], countIncludePad: false })),
    "AvgPool2d(kernelSize=[2, 3], stride=[2, 3], padding=[1, 1], ceilMode=false, " +
      "countIncludePad=false)",
  );
  assert.equal(
    String(new nn.MaxPool1d(3, { dilation: 2 })),
    "MaxPool1d(kernelSize=3, stride=3, padding=0, dilation=2, ceilMode=false, returnIndices=false)",
  );
  assert.equal(
    String(new nn.AvgPool1d(2, { stride: 1 })),
    "AvgPool1d(kernelSize=2, stride=1, padding=0, ceilMode=false, countIncludePad=true)",
  );
  assert.equal(
    String(new nn.MaxPool3d(2, { padding: 1 })),
    "MaxPool3d(kernelSize=2, stride=2, padding=1, dilation=1, ceilMode=false, returnIndices=false)",
  );
  assert.equal(
    String(new nn.AvgPool3d(2, { divisorOverride: 3 })),
    "AvgPool3d(kernelSize=2, stride=2, padding=0, ceilMode=false, countIncludePad=true, " +
      "divisorOverride=3)",
  );
  // No divisor override: none shown (torch's None).
  assert.doesNotMatch(String(new nn.AvgPool3d(2)), /divisorOverride/);
  // The getters read as torch's attributes (pool.stride, pool.ceil_mode).
  const pool = new nn.MaxPool2d(3, { stride: 2 });
  assert.deepEqual([pool.stride, pool.padding, pool.dilation, pool.ceilMode], [2, 0, 1, false]);
});

Deno.test("String(norm) shows affine and trackRunningStats where torch's does, not bias", () => {
  // torch: BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  assert.equal(
    String(new nn.BatchNorm2d(4)),
    "BatchNorm2d(numFeatures=4, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)",
  );
  assert.equal(
    String(new nn.BatchNorm1d(3, { affine: false, trackRunningStats: false })),
    "BatchNorm1d(numFeatures=3, eps=0.00001, momentum=0.1, affine=false, trackRunningStats=false)",
  );
  const bn = new nn.BatchNorm2d(2, { affine: false });
  assert.deepEqual([bn.affine, bn.trackRunningStats], [false, true]);
  // torch: LayerNorm((4,), eps=1e-05, elementwise_affine=False)
  assert.equal(
    String(new nn.LayerNorm([4], { elementwiseAffine: false })),
    "LayerNorm(normalizedShape=[4], eps=0.00001, elementwiseAffine=false)",
  );
  // torch: GroupNorm(2, 4, eps=1e-05, affine=True)
  assert.equal(
    String(new nn.GroupNorm(2, 4)),
    "GroupNorm(numGroups=2, numChannels=4, eps=0.00001, affine=true)",
  );
  // torch: InstanceNorm2d(4, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)
  assert.equal(
    String(new nn.InstanceNorm2d(4)),
    "InstanceNorm2d(numFeatures=4, eps=0.00001, momentum=0.1, affine=false, " +
      "trackRunningStats=false)",
  );
  // Layers with a plain optional bias keep torch's bias=.
  assert.equal(
    String(new nn.Linear(2, 3, { bias: false })),
    "Linear(inFeatures=2, outFeatures=3, bias=false)",
  );
  assert.match(String(new nn.Conv2d(1, 2, 3, { bias: false })), /groups=1, bias=false\)$/);
});

// ---- 3. noGrad as torch's decorator ----

Deno.test("noGrad(fn) with fn taking arguments says how torch's decorator ports", () => {
  const add = (x: Tensor, y: Tensor) => x.add(y);
  const cases: [() => unknown, RegExp][] = [
    [
      () => noGrad(add as Loose),
      /^noGrad: noGrad\(fn\) runs fn now, with no arguments, but fn takes 2; torch's decorator @torch\.no_grad\(\) def f\(x, y\) is const f = \(x, y\) => noGrad\(\(\) => \.\.\.\)$/,
    ],
    [
      () => enableGrad(((x: Tensor) => x) as Loose),
      /^enableGrad: .*@torch\.enable_grad\(\) def f\(x\) is const f = \(x\) => enableGrad\(\(\) => \.\.\.\)$/,
    ],
    [
      () => setGradEnabled(false, ((x: Tensor) => x) as Loose),
      /^setGradEnabled: setGradEnabled\(mode, fn\) runs fn now.*const f = \(x\) => setGradEnabled\(mode, \(\) => \.\.\.\)$/,
    ],
    [
      () => setGradEnabled(true, add as Loose),
      /^setGradEnabled: .*fn takes 2/,
    ],
    [
      () => inferenceMode(add as Loose),
      /^inferenceMode: .*@torch\.inference_mode\(\) def f\(x, y\)/,
    ],
    [() => noGrad((async (x: Tensor) => await x) as Loose), /^noGrad: .*fn takes 1/],
  ];
  for (const [f, re] of cases) throws(f, re);
  // The port that works, and functions with no parameters (defaults count none) as before.
  const w = float([1, 2], undefined, true);
  const f = (x: Tensor, y: Tensor) => noGrad(() => x.add(y));
  assert.equal(f(w, w).requiresGrad, false);
  assert.equal(noGrad((k = 3) => w.mul(k)).requiresGrad, false);
  assert.equal(enableGrad(() => w.mul(2)).requiresGrad, true);
});

// ---- 4. x.to("int32") ----

Deno.test('x.to("int32") says x.int(); float32 names say x.float(); half keeps autocast', () => {
  const x = float([1, 2]);
  const to = (name: string) => () => x.to(name as Loose);
  throws(
    to("int32"),
    /unknown device 'int32': .*'int32' is a dtype: \.to\(\) only moves tensors and modules between devices; for an integer copy of a tensor write x\.int\(\) \(or x\.long\(\)/,
  );
  for (const name of ["int64", "long", "torch.int32", "uint8"]) {
    throws(to(name), /write x\.int\(\)/, name);
    assert.doesNotThrow(() => assert.doesNotMatch(messageOf(to(name)), /autocast/), name);
  }
  for (const name of ["float32", "float", "torch.float32"]) {
    throws(to(name), /for a float32 copy of a tensor write x\.float\(\)/, name);
  }
  for (const name of ["bfloat16", "half", "float64", "double"]) {
    throws(to(name), /is a dtype: .*autocast\("bfloat16"/, name);
  }
  throws(() => (x as Loose).to("cpu", "int32"), /takes one argument.*write x\.int\(\)/);
  throws(() => new nn.Linear(2, 2).to("float32" as Loose), /write x\.float\(\)/);
  throws(to("gpu"), /^unknown device 'gpu': expected 'cpu' or 'cuda'$/);
});

// ---- 5. out= on reductions ----

Deno.test("sum(x, { out }) says torch's out= has no counterpart; no tensor internals", () => {
  const x = ones([2], { device: testDevice });
  const c = zeros([], { device: testDevice });
  const out = { out: c } as Loose;
  const cases: [() => unknown, string][] = [
    [() => sum(x, out), "sum"],
    [() => x.sum(out), "sum"],
    [() => sum(x, 0, out), "sum"],
    [() => mean(x, out), "mean"],
    [() => prod(x, out), "prod"],
    [() => x.prod(0, out), "prod"],
    [() => (x as Loose).max(out), "max"],
    [() => (x as Loose).argmax(out), "argmax"],
  ];
  for (const [f, name] of cases) {
    const m = messageOf(f);
    assert.match(
      m,
      new RegExp(`^${name}: torch's out= has no counterpart here: assign the result \\(y = `),
    );
    assert.doesNotMatch(m, /lease|storage/);
  }
  // A tensor where a number belongs is shown by its dtype and shape.
  throws(
    () => x.sum(c as Loose),
    /^sum: dimensions are numbers given in place .*got a float32 Tensor \[\]$/,
  );
  throws(
    () => x.sum(0, c as Loose),
    /^sum: keepDim is the second argument.*got a float32 Tensor \[\]$/,
  );
  throws(() => x.prod(0, c as Loose), /^prod: keepDim .*got a float32 Tensor \[\]$/);
  throws(
    () => (x as Loose).softmax({ dim: c }),
    /got \{"dim":"a float32 Tensor \[\]"\}$/,
  );
  // Plain values as before.
  throws(() => x.sum({ dim: 0 } as Loose), /got \{"dim":0\}$/);
});

Deno.test("showValue: tensors and class instances briefly, plain values as JSON", () => {
  const t = zeros([2, 3], { device: testDevice });
  assert.equal(showValue(t), "a float32 Tensor [2, 3]");
  assert.equal(showValue({ out: t, k: [1, 2] }), '{"out":"a float32 Tensor [2, 3]","k":[1,2]}');
  assert.equal(showValue([t]), '["a float32 Tensor [2, 3]"]');
  assert.equal(showValue(new Map()), "a Map");
  assert.equal(showValue(NaN), "NaN");
  assert.equal(showValue("a"), '"a"');
  assert.equal(showValue(undefined), "undefined");
  assert.equal(showValue(new Float32Array([1])), '{"0":1}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(showValue(cyclic), "[object Object]");
});

// ---- 6. gradCam with target: labels ----

Deno.test("gradCam takes an int32 tensor of labels as target, as Captum's target=labels", () => {
  manualSeed(0);
  using model = models.simpleCNN({ imageSize: 16 }).eval();
  const x = randn([3, 1, 16, 16]);
  const labels = [2, 0, 1];
  const byArray = evaluation.gradCam(model, x, { target: labels }).toArray();
  const byTensor = evaluation.gradCam(model, x, { target: int(labels) }).toArray();
  assert.deepEqual(byTensor, byArray);
  const other = evaluation.gradCam(model, x, { target: [0, 0, 0] }).toArray();
  assert.notDeepEqual(byTensor, other); // the labels are used
  const cases: [Tensor | unknown, RegExp][] = [
    [
      float([2, 0, 1]),
      /^gradCam: a target tensor holds one int32 class index per image \(\[3\]\), got a float32 tensor \[3\]; convert labels with \.int\(\)$/,
    ],
    [int([1, 0]), /^gradCam: a target tensor .*got a int32 tensor \[2\]$/],
    [int([1, 0, 9]), /^gradCam: target 9 is out of range: the model has 3 classes$/],
    [
      { labels: float([1]) },
      /^gradCam: target must be .*got \{"labels":"a float32 Tensor \[1\]"\}$/,
    ],
    [[0, 1, "2"], /^gradCam: target "2" is out of range/],
  ];
  for (const [target, re] of cases) {
    throws(() => evaluation.gradCam(model, x, { target: target as Loose }), re);
  }
  x.dispose();
});

// ---- 7. x.std(unbiased=False) ----

Deno.test("x.std({ unbiased: false }) says torch's keywords are positional here", () => {
  const x = float([1, 2, 3, 4], [2, 2]);
  throws(
    () => x.std({ unbiased: false } as Loose),
    /^std: takes its arguments in place, \(dims, unbiased, keepDim\), not an options object \(got \{"unbiased":false\}\); write x\.std\(undefined, false\); torch's x\.std\(unbiased=False\) is x\.std\(undefined, false\)/,
  );
  throws(() => x.var({ dim: 1 } as Loose), /^var: .*; write x\.var\(1\); torch's x\.var/);
  throws(
    () => x.std({ dim: 0, keepdim: true } as Loose),
    /write x\.std\(0, true, true\);/,
  );
  throws(
    () => x.var(1, { unbiased: false } as Loose),
    /got \{"unbiased":false\}\); write x\.var\(1, false\);/,
  );
  throws(() => x.std({ out: x } as Loose), /^std: torch's out= has no counterpart/);
  const odd = messageOf(() => x.std({ correction: 0 } as Loose));
  // torch's correction=0 is unbiased=False: the message spells the call.
  assert.match(odd, /got \{"correction":0\}\); write x\.std\(undefined, false\); torch's/);
  throws(() => x.std(0, x as Loose), /^std: unbiased must be true or false, got a float32/);
  // What the message says to write gives torch's numbers: x.std(unbiased=False) = 1.1180340.
  assert.ok(Math.abs(x.std(undefined, false).item() - 1.1180340051651) < 1e-6);
  assert.ok(Math.abs(x.var(1).toArray()[0] - 0.5) < 1e-6); // torch: tensor([0.5000, 0.5000])
});

// ---- 8. x.view(-1, 4) ----

Deno.test("x.view names view in its shape error; reshape keeps its name", () => {
  const x = ones([6], { device: testDevice });
  throws(() => x.view(-1, 4), /^view: cannot view \[6\] \(6 elements\) into \[-1,4\]$/);
  throws(() => x.view([4, 2]), /^view: cannot view \[6\] \(6 elements\) into \[4,2\]$/);
  throws(() => x.view(-1, -1), /^view: invalid shape \[-1,-1\]$/);
  throws(() => x.reshape(-1, 4), /^reshape: cannot reshape \[6\]/);
  assert.deepEqual(x.view(-1, 3).shape, [2, 3]);
});

// ---- 9. nn.Dropout(p=0.4) ----

Deno.test("new nn.Dropout({ p: 0.4 }) is torch's nn.Dropout(p=0.4); the positional form stays", () => {
  const layers = [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d] as const;
  for (const L of layers) {
    const name = L.name;
    const d = new L({ p: 0.4 });
    assert.deepEqual([d.p, d.inplace], [0.4, false], name);
    const e = new L({ p: 0.2, inplace: true });
    assert.deepEqual([e.p, e.inplace], [0.2, true], name);
    assert.equal(String(new L({})), `${name}(p=0.5, inplace=false)`);
    assert.equal(new L(0.3).p, 0.3);
    assert.equal(new L().p, 0.5);
    throws(
      () => new L({ prob: 0.4 } as Loose),
      new RegExp(`^nn\\.${name}: unknown option 'prob'; known options: p, inplace$`),
    );
    throws(() => new L({ p: 1.5 }), new RegExp(`^nn\\.${name}: probability must be`));
    throws(
      () => new L({ p: 0.1 }, true),
      new RegExp(`^nn\\.${name}: with an options object, give inplace in it too`),
    );
    throws(() => new L({ inplace: 1 } as Loose), /inplace/);
  }
  // Dropout with { p } drops as torch's p: in training about 40% zeros; eval is the identity.
  manualSeed(0);
  const d = new nn.Dropout({ p: 0.4 });
  const y = d.forward(ones([4000], { device: testDevice })).toArray();
  const zerosFrac = y.filter((v) => v === 0).length / y.length;
  assert.ok(Math.abs(zerosFrac - 0.4) < 0.04, `zeros ${zerosFrac}`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 1 / 0.6) < 1e-6));
  d.eval();
  assert.deepEqual([...d.forward(ones([3], { device: testDevice })).toArray()], [1, 1, 1]);
});
