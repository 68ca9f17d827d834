/**
 * torch.nn.functional's and torch.nn.init's documented calls, ported as a
 * user would write them, against PyTorch 1.13's numbers
 * (tests/fixtures/func_docs.json, written by
 * scripts/make_func_docs_fixtures.py): values, shapes and the gradients of
 * sum(out * G); the initialisers by gain, fan, moments and bounds, eye_ and
 * dirac_ exactly. Then torch's keywords given as an options object where
 * ours are positional: each an Error that spells the call to write, with the
 * user's values; gumbelSoftmax by its distribution and gradient; and
 * torch's snake_case init names.
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, nn, randn, type Tensor, tensor, zeros } from "../mod.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  messageOf,
  moments,
  storedNumber,
} from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type Any = any;
const fx = loadFixture<Record<string, Any[]>>("func_docs.json");

/** A stored argument: a tensor (a leaf where it is float and marked), a number, a list. */
function decode(v: Any, leaves: Tensor[]): Any {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => decode(x, leaves));
  if (v.tensor) {
    const t = fromStored(v, { requiresGrad: v.grad && v.dtype !== "int32" });
    if (t.requiresGrad) leaves.push(t);
    return t;
  }
  return "num" in v ? storedNumber(v.num) : v;
}

Deno.test("func_docs: F's documented calls give torch's values and gradients", () => {
  for (const c of fx.calls) {
    const leaves: Tensor[] = [];
    const args = c.args.map((a: Any) => decode(a, leaves));
    const kw = Object.fromEntries(
      Object.entries(c.kw).map(([k, v]) => [k, decode(v, leaves)]),
    );
    const what = `F.${c.fn}(${
      c.args.map((a: Any) => a?.tensor ? `[${a.shape}]` : JSON.stringify(a)).join(", ")
    }${Object.keys(kw).length ? `, ${JSON.stringify(Object.keys(kw))}` : ""})`;
    const fn = (F as Any)[c.fn];
    const out = Object.keys(kw).length ? fn(...args, kw) : fn(...args);
    const outs: Tensor[] = Array.isArray(out) ? out : [out];
    assert.equal(outs.length, c.out.length, `${what}: outputs`);
    c.out.forEach((w: Any, i: number) => assertStored(outs[i], w, `${what} out ${i}`, 1e-4, 1e-5));
    if (!c.g) continue;
    outs[0].mul(fromStored(c.g)).sum().backward();
    c.grads.forEach((w: Any, i: number) => {
      if (w === null) return;
      assertStored(leaves[i].grad, w, `${what} grad ${i}`, 1e-4, 1e-5);
    });
  }
});

Deno.test("func_docs: F.embedding's maxNorm renormalises the weight's rows in place, as torch's", () => {
  const w = tensor([[3, 4], [0.3, 0.4], [6, 8]]);
  F.embedding(tensor(new Int32Array([0, 1]), [2]), w, { maxNorm: 1 });
  const got = w.toArray();
  [0.6, 0.8, 0.3, 0.4, 6, 8].forEach((e, i) => assert.ok(Math.abs(got[i] - e) < 1e-6));
});

Deno.test("func_docs: nn.init's gains and fans equal torch's", () => {
  for (const [nl, p, g] of fx.gains) {
    const ours = p === null ? nn.init.calculateGain(nl) : nn.init.calculateGain(nl, p);
    assert.ok(Math.abs(ours - g) < 1e-12, `calculateGain(${nl}, ${p}): ${ours} vs ${g}`);
  }
  for (const [shape, want] of fx.fans) assert.deepEqual(nn.init.fans(zeros(shape)), want);
});

Deno.test("func_docs: nn.init's random fills have torch's moments and bounds", () => {
  manualSeed(11);
  for (const c of fx.fills) {
    const what = `nn.init.${c.fn}([${c.shape}], ${JSON.stringify(c.args)})`;
    const t = zeros(c.shape);
    (nn.init as Any)[c.fn](t, ...c.args);
    const v = t.toArray(), m = moments(v);
    const std = Math.sqrt(m.variance * v.length / (v.length - 1));
    // Sampling error of the std over >= 20k values is under 1%.
    assert.ok(Math.abs(std / c.std - 1) < 0.03, `${what}: std ${std} vs torch's ${c.std}`);
    assert.ok(Math.abs(m.mean - c.mean) < 0.05 * c.std + 1e-6, `${what}: mean ${m.mean}`);
    let zeros0 = 0;
    for (const x of v) if (x === 0) zeros0++;
    assert.ok(Math.abs(zeros0 / v.length - c.zeros) < 0.01, `${what}: zero fraction`);
    // Bounded fills (uniform, truncated) stay inside torch's range.
    if (/uniform|trunc/i.test(c.fn)) {
      const slack = 1e-6 * Math.max(1, Math.abs(c.min), Math.abs(c.max));
      const lo = c.fn === "truncNormal_" ? (c.args[0]?.a ?? -2) : c.min * 1.01;
      const hi = c.fn === "truncNormal_" ? (c.args[0]?.b ?? 2) : c.max * 1.01;
      assert.ok(m.min >= Math.min(lo, c.min) - slack && m.max <= Math.max(hi, c.max) + slack, what);
    }
  }
  // sparse_: exactly ceil(sparsity * rows) zeros in every column.
  const w = nn.init.sparse_(zeros([10, 6]), 0.25, 0.5);
  assert.deepEqual([...w.eq(0).float().sum(0).toArray()], new Array(6).fill(3));
  // orthogonal_: orthonormal rows (wide) times the gain.
  const q = nn.init.orthogonal_(zeros([3, 7]), { gain: 2 });
  const gram = q.matmul(q.transpose(0, 1)).toArray();
  gram.forEach((g, i) => assert.ok(Math.abs(g - (i % 4 === 0 ? 4 : 0)) < 1e-4));
});

Deno.test("func_docs: nn.init.eye_ and dirac_ equal torch's exactly", () => {
  for (const c of fx.exact) {
    const t = zeros(c.shape);
    if (c.fn === "eye_") nn.init.eye_(t);
    else nn.init.dirac_(t, c.groups);
    assertStored(t, c.out, `${c.fn} [${c.shape}]`, 0, 0);
  }
});

Deno.test("func_docs: torch's keywords where ours are positional name the call to write", () => {
  const x = randn([2, 3, 4]), w = randn([3, 3, 3, 3]), x4 = randn([1, 3, 5, 5]);
  const cases: [() => unknown, string][] = [
    [() => F.normalize(x, { dim: 0 } as Any), "write F.normalize(x, 2, 0)"],
    [() => F.normalize(x, { p: 1, dim: -1 } as Any), "write F.normalize(x, 1, -1)"],
    [
      () => F.cosineSimilarity(x, x, { dim: 0, eps: 1e-6 } as Any),
      "F.cosineSimilarity(x1, x2, 0, 0.000001)",
    ],
    [() => F.pad(x, [1, 1], { mode: "reflect" } as Any), 'write F.pad(x, [1,1], "reflect")'],
    [() => F.pad(x, [1, 1], { value: 3 } as Any), 'write F.pad(x, [1,1], "constant", 3)'],
    [
      () => F.oneHot(tensor(new Int32Array([1]), [1]), { num_classes: 3 } as Any),
      "F.oneHot(labels, 3)",
    ],
    // training=self.training in torch's forward: the call says this.training, not today's mode.
    [
      () => F.dropout(x, { p: 0.2, training: false } as Any),
      "write F.dropout(x, 0.2, this.training)",
    ],
    [
      () => F.layerNorm(x, [4], { eps: 1e-6 } as Any),
      "write F.layerNorm(x, [4], null, null, 0.000001)",
    ],
    [() => F.groupNorm(x4, 3, { weight: randn([3]) } as Any), "write F.groupNorm(x, 3, weight)"],
    [() => F.leakyRelu(x, { negative_slope: 0.2 } as Any), "write F.leakyRelu(x, 0.2)"],
    [() => F.softplus(x, { beta: 2 } as Any), "write F.softplus(x, 2)"],
    [() => F.hardtanh(x, { max_val: 2 } as Any), "write F.hardtanh(x, -1, 2)"],
    [() => F.relu(x, { inplace: true } as Any), "write F.relu(x, true)"],
    [
      () => F.pairwiseDistance(x, x, { keepdim: true } as Any),
      "F.pairwiseDistance(x1, x2, 2, 0.000001, true)",
    ],
    [
      () => F.maxPool2d(x4, { kernel_size: 3, stride: 2 } as Any),
      "write F.maxPool2d(x, 3, { stride: 2 })",
    ],
    [
      () => F.unfold(x4, { kernelSize: 3, padding: 1 } as Any),
      "write F.unfold(x, 3, { padding: 1 })",
    ],
    [
      () => F.conv2d(x4, w, { padding: "same" } as Any),
      'write F.conv2d(x, weight, null, { padding: "same" })',
    ],
    [
      () => F.conv2d(x4, w, { bias: randn([3]), stride: 2 } as Any),
      "write F.conv2d(x, weight, bias, { stride: 2 })",
    ],
    [
      () => F.linear(x, randn([2, 4]), { bias: randn([2]) } as Any),
      "write F.linear(x, weight, bias)",
    ],
    [() => F.softmax(x, { dim: 1 } as Any), "F.softmax(x, 1)"],
  ];
  for (const [f, want] of cases) {
    const m = messageOf(f);
    assert.ok(m.includes(want), `expected "${want}" in: ${m}`);
  }
  // The positional forms these name run.
  assert.deepEqual(F.normalize(x, 2, 0).shape, [2, 3, 4]);
  assert.deepEqual(F.pad(x, [1, 1], "reflect").shape, [2, 3, 6]);
});

Deno.test("func_docs: gumbelSoftmax samples torch's distribution, with its gradient", () => {
  manualSeed(5);
  const p = [0.2, 0.3, 0.5], n = 20000;
  const logits = tensor(Float32Array.from({ length: n * 3 }, (_, i) => Math.log(p[i % 3])), [n, 3]);
  const hard = F.gumbelSoftmax(logits, { hard: true });
  // The Gumbel-max trick: the argmax of logits + g falls on class k with probability p[k].
  hard.mean(0).toArray().forEach((f, k) => assert.ok(Math.abs(f - p[k]) < 0.015, `class ${k}`));
  assert.deepEqual([...new Set(hard.sum(1).toArray())], [1]);
  // Soft: the gradient is softmax's Jacobian / tau at the sample.
  const l = randn([4, 5], { requiresGrad: true }), G = randn([4, 5]), tau = 0.7;
  const s = F.gumbelSoftmax(l, { tau });
  s.mul(G).sum().backward();
  const sv = s.toArray(), gv = G.toArray(), gr = l.grad!.toArray();
  for (let r = 0; r < 4; r++) {
    let dot = 0;
    for (let c = 0; c < 5; c++) dot += sv[r * 5 + c] * gv[r * 5 + c];
    for (let c = 0; c < 5; c++) {
      const want = sv[r * 5 + c] * (gv[r * 5 + c] - dot) / tau;
      assert.ok(Math.abs(gr[r * 5 + c] - want) < 1e-6);
    }
  }
  // Hard along dim 1: one-hot forward, a gradient that sums to zero along the classes.
  const l2 = randn([3, 4, 2], { requiresGrad: true });
  const h = F.gumbelSoftmax(l2, { hard: true, dim: 1 });
  h.mul(randn([3, 4, 2])).sum().backward();
  assert.deepEqual([...h.sum(1).toArray()], new Array(6).fill(1));
  assert.ok(l2.grad!.sum(1).abs().max().item() < 1e-6);
  assert.match(
    messageOf(() => F.gumbelSoftmax(l, 0.5 as Any)),
    /F.gumbelSoftmax\(logits, \{ tau: 0.5 \}\)/,
  );
  assert.match(messageOf(() => F.gumbelSoftmax(l, { eps: 1e-10 } as Any)), /eps is deprecated/);
  assert.match(messageOf(() => (F as Any).gumbel_softmax(l)), /F.gumbelSoftmax/);
});

Deno.test("func_docs: torch's nn.init names say ours", () => {
  for (
    const [name, ours] of [
      ["xavier_uniform_", "xavierUniform_"],
      ["kaiming_normal_", "kaimingNormal_"],
      ["trunc_normal_", "truncNormal_"],
      ["calculate_gain", "calculateGain"],
      ["normal", "normal_"],
    ]
  ) {
    assert.ok(
      messageOf(() => (nn.init as Any)[name](zeros([2, 2]))).includes(`nn.init.${ours}(`),
      name,
    );
  }
});
