/**
 * nn.TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer,
 * TransformerDecoder and Transformer against PyTorch 1.13
 * (tests/fixtures/transformer.json, written by
 * scripts/make_transformer_fixtures.py): torch's state dict loads under
 * torch's keys, and the eval-mode output and the gradients of sum(out * G)
 * for every input and parameter match, post- and pre-norm, seq- and
 * batch-first, relu and gelu, with padding, causal, boolean and float masks;
 * torch's nested-tensor path (zeros at padded positions without grad). Then
 * deep copies, training-mode dropout, and the argument checks.
 */
import assert from "node:assert/strict";
import { functional as F, nn, noGrad, randn, type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord } from "./helpers.ts";

type Named = [string, StoredRecord][];
type Kind = "encoderLayer" | "encoder" | "decoderLayer" | "decoder" | "transformer";
interface Case {
  name: string;
  kind: Kind;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  nested: boolean;
  inputs: StoredRecord[];
  masks: Record<string, StoredRecord>;
  out: StoredRecord;
  plainOut?: StoredRecord;
  G?: StoredRecord;
  inputGrads?: StoredRecord[];
  paramGrads?: Named;
}
const fx = loadFixture<{
  E: number;
  H: number;
  FF: number;
  layers: number;
  states: Record<"encoder" | "decoder", Named>;
  cases: Case[];
  causal4: StoredRecord;
}>("transformer.json");
const { E, H, FF } = fx;

const match = (t: Tensor | null, want: StoredRecord, what: string) =>
  assertStored(t, want, what, 1e-4, 1e-5);

/** The fixture's state dict of a kind (the generator's state_of, key for key). */
function stateOf(kind: Kind): Map<string, Tensor> {
  const stored = (part: "encoder" | "decoder") => fx.states[part];
  let named: Named;
  if (kind === "encoder" || kind === "decoder") named = stored(kind);
  else if (kind === "encoderLayer" || kind === "decoderLayer") {
    const p = "layers.0.";
    named = stored(kind === "encoderLayer" ? "encoder" : "decoder")
      .filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]);
  } else {
    named = (["encoder", "decoder"] as const).flatMap((part) =>
      stored(part).filter(([k]) => !k.startsWith("layers.1."))
        .map(([k, v]) => [`${part}.${k}`, v] as [string, StoredRecord])
    );
  }
  return new Map(named.map(([k, v]) => [k, fromStored(v)]));
}

// deno-lint-ignore no-explicit-any
function build(kind: Kind, opts: Record<string, any>): nn.Module {
  const o = { dimFeedforward: FF, ...opts };
  switch (kind) {
    case "encoderLayer":
      return new nn.TransformerEncoderLayer(E, H, o);
    case "encoder":
      return new nn.TransformerEncoder(new nn.TransformerEncoderLayer(E, H, o), fx.layers, {
        norm: new nn.LayerNorm(E),
      });
    case "decoderLayer":
      return new nn.TransformerDecoderLayer(E, H, o);
    case "decoder":
      return new nn.TransformerDecoder(new nn.TransformerDecoderLayer(E, H, o), fx.layers, {
        norm: new nn.LayerNorm(E),
      });
    case "transformer":
      return new nn.Transformer({
        dModel: E,
        nhead: H,
        numEncoderLayers: 1,
        numDecoderLayers: 1,
        ...o,
      });
  }
}

for (const c of fx.cases) {
  Deno.test(`transformer vs torch: ${c.name}`, () => {
    const m = build(c.kind, c.opts).eval();
    const state = stateOf(c.kind);
    assert.deepEqual([...m.stateDict().keys()], [...state.keys()], "state dict keys, in order");
    m.loadStateDict(state);
    const xs = c.inputs.map((r) => fromStored(r, { requiresGrad: !c.nested }));
    const masks = Object.fromEntries(
      Object.entries(c.masks).map(([k, v]) => [k, fromStored(v)]),
    );
    const run = () => m.forward(...xs, masks) as Tensor;
    if (c.nested) {
      match(noGrad(run), c.out, "output without grad (torch's nested path: padded rows 0)");
      match(run(), c.plainOut!, "output with grad (torch's plain path)");
      return;
    }
    const out = run();
    match(out, c.out, "output");
    out.mul(fromStored(c.G!)).sum().backward();
    xs.forEach((x, i) => match(x.grad, c.inputGrads![i], `input ${i} grad`));
    const params = new Map(m.namedParameters());
    assert.deepEqual([...params.keys()], c.paramGrads!.map(([k]) => k), "parameter names");
    for (const [k, g] of c.paramGrads!) match(params.get(k)!.grad, g, `${k}.grad`);
  });
}

Deno.test("transformer: masks in place as torch's positional order, or by name", () => {
  const c = fx.cases.find((c) =>
    c.name === "encoder pre-norm gelu seq-first causal bool + padding"
  )!;
  const m = build("encoder", c.opts).eval();
  m.loadStateDict(stateOf("encoder"));
  const x = fromStored(c.inputs[0]);
  const mask = fromStored(c.masks.mask), pad = fromStored(c.masks.srcKeyPaddingMask);
  match(m.forward(x, mask, pad), c.out, "forward(src, mask, pad)");
  match(m.forward(x, mask, { srcKeyPaddingMask: pad }), c.out, "forward(src, mask, { pad })");
  match(m(x, { mask, srcKeyPaddingMask: pad }), c.out, "m(src, { mask, pad })");
  assert.throws(() => m.forward(x, mask, { mask }), /mask given twice/);
  assert.throws(() => m.forward(x, { srcMask: mask }), /unknown option 'srcMask'.*'mask'/);
});

Deno.test("transformer: generateSquareSubsequentMask is torch's", () => {
  const m = nn.Transformer.generateSquareSubsequentMask(4);
  match(m, fx.causal4, "mask");
  assert.equal(m.dtype, "float32");
  assert.throws(
    () => (nn.Transformer as unknown as Record<string, unknown>).generate_square_subsequent_mask,
    /generateSquareSubsequentMask/,
  );
});

Deno.test("transformer: nested path off, or not left-aligned padding, keeps the plain values", () => {
  const c = fx.cases.find((c) => c.nested && c.opts.activation === undefined)!;
  const x = fromStored(c.inputs[0]);
  const pad = fromStored(c.masks.srcKeyPaddingMask);
  const layer = new nn.TransformerEncoderLayer(E, H, { dimFeedforward: FF, batchFirst: true });
  const off = new nn.TransformerEncoder(layer, 2, {
    norm: new nn.LayerNorm(E),
    enableNestedTensor: false,
  }).eval();
  off.loadStateDict(stateOf("encoder"));
  match(noGrad(() => off.forward(x, { srcKeyPaddingMask: pad })), c.plainOut!, "no nested path");
  // Padding at the front is not left-aligned: torch checks, and takes the plain path.
  const front = tensor(new Int32Array([1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]), [3, 5]);
  const on = new nn.TransformerEncoder(layer, 2).eval();
  const plain = on.forward(x, { srcKeyPaddingMask: front });
  const ng = noGrad(() => on.forward(x, { srcKeyPaddingMask: front }));
  assert.deepEqual(ng.toArray(), plain.toArray());
  on.maskCheck = false;
  assert.throws(() => noGrad(() => on.forward(x, { srcKeyPaddingMask: front })), /left-aligned/);
  // Training mode, pre-norm and odd nhead are torch's plain path too (no zeros).
  const odd = new nn.TransformerEncoder(
    new nn.TransformerEncoderLayer(E, 1, { batchFirst: true, dimFeedforward: FF }),
    1,
  ).eval();
  const y = noGrad(() => odd.forward(x, { srcKeyPaddingMask: pad }));
  assert.ok(y.abs().sum(-1).min().item() > 0, "no zero rows with nhead 1");
});

Deno.test("transformer: layers are deep copies of the layer as it is", () => {
  const layer = new nn.TransformerEncoderLayer(E, H, { dimFeedforward: FF, dropout: 0.2 });
  layer.eval();
  layer.linear1.bias!.requiresGrad = false;
  const enc = new nn.TransformerEncoder(layer, 3);
  assert.equal(enc.layers.length, 3);
  const l0 = enc.layers[0] as nn.TransformerEncoderLayer;
  const l2 = enc.layers[2] as nn.TransformerEncoderLayer;
  assert.notEqual(l0, layer);
  assert.notEqual(l0.self_attn.in_proj_weight, l2.self_attn.in_proj_weight);
  assert.deepEqual(l2.linear2.weight.toArray(), layer.linear2.weight.toArray());
  assert.equal(l2.training, false);
  assert.equal(l2.dropout.p, 0.2);
  assert.equal(l2.self_attn.dropout, 0.2);
  assert.equal(l2.linear1.bias!.requiresGrad, false);
  noGrad(() => l0.linear2.weight.mul_(0));
  assert.ok(l2.linear2.weight.abs().sum().item() > 0, "copies are independent");
  assert.equal(enc.parameters().length, 3 * layer.parameters().length);
  // An activation module without parameters is shared; one with parameters cannot be copied.
  const gelu = new nn.TransformerEncoderLayer(E, H, { activation: new nn.GELU() });
  new nn.TransformerEncoder(gelu, 2);
  const prelu = new nn.TransformerEncoderLayer(E, H, { activation: new nn.PReLU() });
  assert.throws(() => new nn.TransformerEncoder(prelu, 2), /PReLU has parameters/);
  assert.throws(
    () => new nn.TransformerEncoder(new nn.Linear(2, 2) as never, 2),
    /own transformer/,
  );
});

Deno.test("transformer: an activation function, module or name gives the same numbers", () => {
  const x = randn([5, 3, E]);
  const make = (activation: nn.TransformerActivation) => {
    const l = new nn.TransformerEncoderLayer(E, H, { dimFeedforward: FF, activation }).eval();
    l.loadStateDict(stateOf("encoderLayer"));
    return l.forward(x).toArray();
  };
  const byName = make("gelu");
  assert.deepEqual(make(F.gelu), byName);
  assert.deepEqual(make(new nn.GELU()), byName);
  assert.deepEqual(make((t) => t.relu()), make("relu"));
});

Deno.test("transformer: dropout is on in training and off in eval", () => {
  const p = 0.3;
  const layer = new nn.TransformerEncoderLayer(E, H, { dimFeedforward: 256, dropout: p });
  const seen: Tensor[] = [];
  layer.dropout.registerForwardHook((_m, inputs, out: Tensor) => {
    seen.push((inputs as Tensor[])[0], out);
  });
  const x = randn([20, 4, E]);
  const y = layer.forward(x);
  assert.deepEqual(y.shape, [20, 4, E]);
  const [h, d] = seen.map((t) => t.toArray());
  let zeros = 0, kept = 0, scaled = 0;
  for (let i = 0; i < h.length; i++) {
    if (h[i] === 0) continue; // relu zeros
    kept++;
    if (d[i] === 0) zeros++;
    else if (Math.abs(d[i] - h[i] / (1 - p)) < 1e-5 * Math.abs(h[i]) + 1e-6) scaled++;
  }
  const rate = zeros / kept;
  assert.ok(Math.abs(rate - p) < 0.03, `drop rate ${rate}`);
  assert.equal(zeros + scaled, kept, "survivors scaled by 1 / (1 - p)");
  // Two training calls differ; eval calls agree.
  assert.notDeepEqual(layer.forward(x).toArray(), layer.forward(x).toArray());
  layer.eval();
  assert.deepEqual(layer.forward(x).toArray(), layer.forward(x).toArray());
  for (const d of [layer.dropout, layer.dropout1, layer.dropout2]) assert.equal(d.p, p);
  assert.equal(layer.self_attn.dropout, p);
});

Deno.test("transformer: bad inputs give errors that say what to write", () => {
  assert.throws(() => new nn.TransformerEncoderLayer(10, 3), /divisible by nhead 3/);
  assert.throws(
    () => new nn.TransformerEncoderLayer(8, 2, { activation: "silu" as never }),
    /activation must be "relu", "gelu" or a function/,
  );
  assert.throws(
    () => new nn.TransformerEncoderLayer(8, 2, { dim_feedforward: 16 } as never),
    /unknown option 'dim_feedforward' \(write 'dimFeedforward'\)/,
  );
  assert.throws(
    () => new nn.TransformerDecoderLayer(8, 2, { batch_first: true } as never),
    /write 'batchFirst'/,
  );
  assert.throws(
    () => new nn.TransformerEncoderLayer(8, 2, 16 as never),
    /expected an options object/,
  );
  assert.throws(() => new nn.Transformer(8 as never), /one options object/);
  assert.throws(() => new nn.Transformer({ d_model: 8 } as never), /write 'dModel'/);
  assert.throws(
    () =>
      new nn.TransformerEncoder(
        new nn.TransformerEncoderLayer(8, 2),
        2,
        { enable_nested_tensor: false } as never,
      ),
    /write 'enableNestedTensor'/,
  );
  const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
  const x = randn([5, 3, 8]);
  assert.throws(
    () => layer.forward(x, nn.Transformer.generateSquareSubsequentMask(4)),
    /srcMask must be \[5,5\] or \[6,5,5\]/,
  );
  assert.throws(
    () => layer.forward(x, { srcKeyPaddingMask: tensor(new Int32Array(15), [5, 3]) }),
    /srcKeyPaddingMask must be \[3,5\]/,
  );
  assert.throws(() => layer.forward(randn([5, 3, 6])), /src must be \[seq, N, dModel\]/);
  assert.throws(() => layer.forward(x, { src_mask: null } as never), /write 'srcMask'/);
  assert.throws(() => (layer as unknown as Record<string, unknown>).norm_first, /normFirst/);
  const dec = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
  assert.throws(
    () => dec.forward(randn([4, 3, 8]), randn([5, 2, 8])),
    /same batch size/,
  );
  assert.throws(
    () => dec.forward(randn([4, 3, 8]), randn([5, 3, 8]), { memoryMask: randn([4, 4]) }),
    /memoryMask must be \[4,5\]/,
  );
});
