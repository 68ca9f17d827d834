/**
 * nn.MultiheadAttention, F.scaledDotProductAttention and a torchvision ViT
 * EncoderBlock against PyTorch 1.13 (tests/fixtures/attention.json, written
 * by scripts/make_attention_fixtures.py): torch's state dict loads into our
 * module, and the output, the attention weights and the gradients of
 * L = sum(out * G) + sum(weights * GW) for the inputs, every parameter and a
 * float mask match at 1e-5 relative. Then initialisation, training-mode
 * dropout, fully masked rows, and the argument checks.
 */
import assert from "node:assert/strict";
import {
  functional as F,
  manualSeed,
  memoryStats,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord } from "./helpers.ts";

const { MultiheadAttention } = nn;
const { scaledDotProductAttention } = F;

type Named = [string, StoredRecord][];
interface MhaCase {
  name: string;
  numHeads: number;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  train: boolean;
  qkv: "self" | "kv" | "sep";
  state: Named;
  inputs: StoredRecord[];
  fwd: {
    attnMask?: StoredRecord;
    keyPaddingMask?: StoredRecord;
    needWeights?: boolean;
    averageAttnWeights?: boolean;
  };
  out: StoredRecord;
  weights: StoredRecord | null;
  G: StoredRecord;
  GW: StoredRecord | null;
  inputGrads: StoredRecord[];
  paramGrads: Named;
  maskGrad: StoredRecord | null;
}
interface SdpaCase {
  name: string;
  inputs: StoredRecord[];
  attnMask: StoredRecord | null;
  isCausal: boolean;
  scale: number | null;
  out: StoredRecord;
  G: StoredRecord;
  grads: StoredRecord[];
}
interface VitCase {
  state: Named;
  input: StoredRecord;
  out: StoredRecord;
  outEval: StoredRecord;
  G: StoredRecord;
  inputGrad: StoredRecord;
  paramGrads: Named;
}

const fx = loadFixture<{ E: number; mha: MhaCase[]; sdpa: SdpaCase[]; vit: VitCase }>(
  "attention.json",
);

const assertMatches = (t: Tensor | null, want: StoredRecord, what: string, atol = 1e-6) =>
  assertStored(t, want, what, 1e-5, atol);

const stateOf = (named: Named) => new Map(named.map(([k, v]) => [k, fromStored(v)]));

function checkParamGrads(m: nn.Module, want: Named, where: string): void {
  const params = new Map(m.namedParameters());
  assert.deepEqual([...params.keys()], want.map(([k]) => k), `${where}: parameter names`);
  for (const [name, g] of want) assertMatches(params.get(name)!.grad, g, `${where}: ${name}.grad`);
}

for (const c of fx.mha) {
  Deno.test(`MultiheadAttention: ${c.name}`, () => {
    const m = new MultiheadAttention(fx.E, c.numHeads, c.opts).train(c.train);
    assert.deepEqual([...m.stateDict().keys()], c.state.map(([k]) => k), "state dict keys");
    m.loadStateDict(stateOf(c.state));
    const xs = c.inputs.map((r) => fromStored(r, { requiresGrad: true }));
    const [q, k, v] = c.qkv === "self"
      ? [xs[0], xs[0], xs[0]]
      : c.qkv === "kv"
      ? [xs[0], xs[1], xs[1]]
      : xs;
    const attnMask = c.fwd.attnMask &&
      fromStored(c.fwd.attnMask, { requiresGrad: c.maskGrad !== null });
    const keyPaddingMask = c.fwd.keyPaddingMask && fromStored(c.fwd.keyPaddingMask);
    const { needWeights, averageAttnWeights } = c.fwd;
    const r = m.forward(q, k, v, { attnMask, keyPaddingMask, needWeights, averageAttnWeights });
    const [out, weights] = r;
    assert.equal(r.output, out);
    assertMatches(out, c.out, "output");
    if (c.weights === null) assert.equal(weights, null);
    else assertMatches(weights, c.weights, "weights");
    let loss = out.mul(fromStored(c.G)).sum();
    if (c.GW) loss = loss.add(weights!.mul(fromStored(c.GW)).sum());
    loss.backward();
    xs.forEach((x, i) => assertMatches(x.grad, c.inputGrads[i], `input ${i} grad`));
    checkParamGrads(m, c.paramGrads, c.name);
    if (c.maskGrad) assertMatches(attnMask!.grad, c.maskGrad, "attnMask grad");
  });
}

for (const c of fx.sdpa) {
  Deno.test(`scaledDotProductAttention: ${c.name}`, () => {
    const [q, k, v] = c.inputs.map((r) => fromStored(r, { requiresGrad: true }));
    const attnMask = c.attnMask ? fromStored(c.attnMask) : null;
    const out = scaledDotProductAttention(q, k, v, {
      attnMask,
      isCausal: c.isCausal,
      scale: c.scale,
    });
    assertMatches(out, c.out, "output");
    out.mul(fromStored(c.G)).sum().backward();
    [q, k, v].forEach((x, i) => assertMatches(x.grad, c.grads[i], `grad ${i}`));
  });
}

/** torchvision 0.14's vision_transformer.EncoderBlock, ported as written. */
class EncoderBlock extends nn.Module {
  ln_1: nn.LayerNorm;
  self_attention: nn.MultiheadAttention;
  dropout: nn.Dropout;
  ln_2: nn.LayerNorm;
  mlp: nn.Sequential;
  constructor(numHeads: number, hiddenDim: number, mlpDim: number, dropout: number) {
    super();
    this.ln_1 = new nn.LayerNorm(hiddenDim, { eps: 1e-6 });
    this.self_attention = new MultiheadAttention(hiddenDim, numHeads, {
      dropout,
      batchFirst: true,
    });
    this.dropout = new nn.Dropout(dropout);
    this.ln_2 = new nn.LayerNorm(hiddenDim, { eps: 1e-6 });
    this.mlp = new nn.Sequential(
      new nn.Linear(hiddenDim, mlpDim),
      new nn.GELU(),
      new nn.Dropout(dropout),
      new nn.Linear(mlpDim, hiddenDim),
      new nn.Dropout(dropout),
    );
  }
  forward(input: Tensor): Tensor {
    let x = this.ln_1.forward(input);
    [x] = this.self_attention.forward(x, x, x, { needWeights: false });
    x = this.dropout.forward(x).add(input);
    const y = this.mlp.forward(this.ln_2.forward(x));
    return x.add(y);
  }
}

Deno.test("MultiheadAttention: torchvision's ViT EncoderBlock end to end", () => {
  const vit = fx.vit;
  const blk = new EncoderBlock(2, fx.E, 16, 0);
  blk.loadStateDict(stateOf(vit.state));
  const x = fromStored(vit.input, { requiresGrad: true });
  const out = blk.forward(x);
  assertMatches(out, vit.out, "output");
  out.mul(fromStored(vit.G)).sum().backward();
  assertMatches(x.grad, vit.inputGrad, "input grad");
  checkParamGrads(blk, vit.paramGrads, "EncoderBlock");
  blk.eval();
  noGrad(() =>
    assertMatches(blk.forward(x.detach()), vit.outEval, "eval output (torch fast path)")
  );
});

Deno.test("MultiheadAttention: initialised as torch's _reset_parameters", () => {
  const E = 16;
  const m = new MultiheadAttention(E, 4);
  const w = m.in_proj_weight!;
  const bound = Math.sqrt(6 / (E + 3 * E)); // xavier-uniform on [3E, E]
  assert.deepEqual(w.shape, [3 * E, E]);
  assert.ok(w.abs().max().item() <= bound && w.abs().max().item() > 0.8 * bound);
  assert.equal(m.in_proj_bias!.abs().max().item(), 0);
  assert.equal(m.out_proj.bias!.abs().max().item(), 0);
  assert.ok(m.out_proj.weight.abs().max().item() <= 1 / Math.sqrt(E)); // Linear's kaiming
  const sep = new MultiheadAttention(E, 2, { kdim: 3, vdim: 5, addBiasKv: true, bias: false });
  assert.deepEqual([...sep.stateDict().keys()], [
    "q_proj_weight",
    "k_proj_weight",
    "v_proj_weight",
    "bias_k",
    "bias_v",
    "out_proj.weight",
  ]);
  assert.ok(sep.k_proj_weight!.abs().max().item() <= Math.sqrt(6 / (E + 3)));
  assert.deepEqual(sep.bias_k!.shape, [1, 1, E]);
  assert.ok(sep.bias_k!.abs().max().item() > 0);
  assert.equal(sep.in_proj_weight, null);
  assert.equal(sep.headDim, 8);
});

Deno.test("MultiheadAttention: dropout drops attention weights in training only", () => {
  const m = new MultiheadAttention(8, 1, { dropout: 0.5 });
  const x = randn([5, 2, 8], { requiresGrad: true });
  manualSeed(7);
  const [out, w] = m.forward(x, x, x);
  const vals = [...w!.toArray()];
  assert.ok(vals.some((a) => a === 0) && vals.some((a) => a > 0), "some weights dropped");
  manualSeed(7);
  assert.deepEqual(m.forward(x, x, x)[0].toArray(), out.toArray(), "same seed, same drops");
  out.sum().backward();
  assert.ok(x.grad!.abs().sum().item() > 0);
  m.eval();
  const [, we] = m.forward(x, x, x);
  const rows = we!.sum(-1).toArray();
  rows.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-5, `eval rows sum to 1, got ${s}`));
});

Deno.test("MultiheadAttention: a training loop that frees nothing by hand stays flat", () => {
  const m = new MultiheadAttention(16, 4, {
    addBiasKv: true,
    addZeroAttn: true,
    dropout: 0.1,
    kdim: 8,
    vdim: 4,
  });
  const list = new nn.ModuleList([m]); // goes where a Module goes
  const opt = new optim.SGD(list.parameters(), { lr: 0.01 });
  const q = randn([7, 2, 16]), k = randn([6, 2, 8]), v = randn([6, 2, 4]);
  const attnMask = tensor(new Int32Array(42).map((_, i) => (i % 5 === 1 ? 1 : 0)), [7, 6]);
  const keyPaddingMask = randn([2, 6]);
  const counts: number[] = [];
  for (let i = 0; i < 12; i++) {
    opt.zeroGrad();
    const [out, w] = m.forward(q, k, v, { attnMask, keyPaddingMask });
    out.square().mean().add(w!.mean()).backward();
    opt.step();
    counts.push(memoryStats().buffersInUse);
  }
  assert.equal(counts[11], counts[5], `buffers in use: ${counts}`);
});

Deno.test("MultiheadAttention: a fully masked row gives NaN, as torch's", () => {
  const m = new MultiheadAttention(4, 2);
  const x = randn([3, 2, 4]);
  const pad = tensor(new Int32Array([1, 1, 1, 0, 2, 0]), [2, 3]); // any nonzero masks
  const [out, w] = m.forward(x, x, x, { keyPaddingMask: pad });
  const o = out.toArray(), ws = w!.toArray();
  assert.ok(Number.isNaN(o[0]) && Number.isNaN(ws[0]), "sample 0: every key padded");
  assert.ok(Number.isFinite(o[4]) && ws[3 * 3 + 1] === 0, "sample 1: keys 0, 2 still seen");
});

Deno.test("MultiheadAttention: bad arguments say what to write", () => {
  const throwsWith = (fn: () => unknown, text: string) =>
    assert.throws(fn, (e: Error) => e.message.includes(text), text);
  throwsWith(() => new MultiheadAttention(10, 3), "must be divisible by numHeads 3");
  throwsWith(() => new MultiheadAttention(8, 0), "numHeads must be a positive integer");
  // deno-lint-ignore no-explicit-any
  const raw = MultiheadAttention as any;
  throwsWith(() => new raw(8, { numHeads: 2 }), "numHeads must be a positive integer");
  throwsWith(() => new raw(8, 2, { add_bias_kv: true }), "'addBiasKv'");
  throwsWith(() => new raw(8, 2, { batch_first: true }), "'batchFirst'");
  throwsWith(() => new MultiheadAttention(8, 2, { dropout: 1.5 }), "dropout must be in [0, 1]");
  const m = new MultiheadAttention(8, 2);
  const x = randn([5, 3, 8]);
  throwsWith(() => m.forward(randn([5, 3, 6]), x, x), "query must be [seq, N, embedDim]");
  throwsWith(() => m.forward(x, randn([5, 8]), x), "key must be");
  throwsWith(() => m.forward(randn([5, 3, 2, 8]), x, x), "(unbatched)");
  // deno-lint-ignore no-explicit-any
  throwsWith(() => (m.forward as any)(x), "expected a Tensor");
  throwsWith(() => m.forward(x, randn([6, 2, 8]), randn([6, 2, 8])), "share the batch size");
  throwsWith(() => m.forward(x, randn([6, 3, 8]), randn([7, 3, 8])), "sequence length");
  throwsWith(() => m.forward(x, x, x, { attnMask: zeros([5, 4]) }), "must be [5,5] or [6,5,5]");
  throwsWith(() => m.forward(x, x, x, { attnMask: zeros([5]) }), "attnMask must be");
  throwsWith(() => m.forward(x, x, x, { keyPaddingMask: zeros([5, 3]) }), "must be [3,5]");
  const cmp = randn([5, 5]).gt(0); // float32 0/1, as a comparison gives
  throwsWith(() => m.forward(x, x, x, { attnMask: cmp }), "pass mask.int()");
  const [ok] = m.forward(x, x, x, { attnMask: cmp.int() });
  assert.deepEqual(ok.shape, [5, 3, 8]);
  // deno-lint-ignore no-explicit-any
  throwsWith(() => (m.forward as any)(x, x, x, cmp.int()), "expected an options object");
  // deno-lint-ignore no-explicit-any
  throwsWith(() => m.forward(x, x, x, { need_weights: false } as any), "'needWeights'");
  // deno-lint-ignore no-explicit-any
  throwsWith(() => m.forward(x, x, x, { needWeights: "no" as any }), "must be a boolean");
  // deno-lint-ignore no-explicit-any
  throwsWith(() => (m as any).embed_dim, "write mha.embedDim");
  throwsWith(
    () => scaledDotProductAttention(x, x, x, { attnMask: cmp.int(), isCausal: true }),
    "not both",
  );
  throwsWith(() => scaledDotProductAttention(x, randn([5, 3, 4]), x), "share the last size");
  throwsWith(
    () => scaledDotProductAttention(x, x, x, { attnMask: zeros([3, 4]) }),
    "must broadcast to [..., 3, 3]",
  );
  throwsWith(() => scaledDotProductAttention(x, x, x, { dropoutP: 2 }), "dropoutP must be");
  throwsWith(
    () => scaledDotProductAttention(randn([3, 2, 4]), randn([2, 5, 4]), randn([2, 5, 4])),
    "do not broadcast together",
  );
});
