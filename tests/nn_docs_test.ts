/**
 * torch.nn's own docs examples, ported as a user writes them, where the port
 * did not run: Conv2d's `padding_mode` ("reflect", "replicate", "circular")
 * and `padding="same"` for an even kernel, and nn.Fold / nn.Unfold from
 * keywords only (`nn.Fold(output_size=(4, 5), kernel_size=(2, 2))`), against
 * PyTorch 1.13's numbers (tests/fixtures/nn_docs.json, written by
 * scripts/make_nn_docs_fixtures.py): outputs, and the gradients of
 * L = sum(out * G) for the input and the parameters. Then the torch
 * spellings that must work alike or throw naming ours: `{ inplace: true }`,
 * a reduction CrossEntropyLoss cannot take, `Embedding.from_pretrained`;
 * the fused model paths declining a convolution that pads its input first,
 * and its ONNX export.
 */
import assert from "node:assert/strict";
import { models, nn, noGrad, randn, type Tensor } from "../mod.ts";
import { isPlain } from "../src/models/plain.ts";
import {
  assertClose,
  assertStored,
  fromStored,
  loadFixture,
  messageOf,
  type StoredRecord,
} from "./helpers.ts";
import { matchesOrt } from "./onnx_check.ts";

interface Case {
  name: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  args?: (number | number[])[];
  state: Record<string, StoredRecord>;
  input: StoredRecord;
  out: StoredRecord;
  G: StoredRecord;
  inputGrad: StoredRecord;
  paramGrads: Record<string, StoredRecord>;
}

const fx = loadFixture<{ conv2d: Case[]; fold: Case[]; unfold: Case[] }>("nn_docs.json");
const [rtol, atol] = [1e-5, 1e-5];

/** The module's output and gradients against torch's. */
function check(m: nn.Module, c: Case): void {
  if (Object.keys(c.state).length) {
    m.loadStateDict(new Map(Object.entries(c.state).map(([k, v]) => [k, fromStored(v)])));
  }
  const x = fromStored(c.input, { requiresGrad: true });
  const out = (m as unknown as (x: Tensor) => Tensor)(x);
  assertStored(out, c.out, `${c.name}: output`, rtol, atol);
  out.mul(fromStored(c.G)).sum().backward();
  assertStored(x.grad, c.inputGrad, `${c.name}: input gradient`, rtol, atol);
  const params = new Map(m.namedParameters());
  for (const [k, want] of Object.entries(c.paramGrads)) {
    assertStored(params.get(k)?.grad ?? null, want, `${c.name}: ${k} gradient`, 1e-4, atol);
  }
}

Deno.test("nn.Conv2d paddingMode and even-kernel 'same' padding match torch", () => {
  for (const c of fx.conv2d) {
    const [inC, outC, k] = c.args as [number, number, number | [number, number]];
    check(new nn.Conv2d(inC, outC, k, c.opts), c);
  }
});

Deno.test("nn.Conv2d keeps torch's padding_mode and sides readable", () => {
  const m = new nn.Conv2d(2, 3, [3, 4], { padding: "same", paddingMode: "reflect" });
  assert.equal(m.paddingMode, "reflect");
  assert.deepEqual(m.paddingAmounts, [1, 2, 1, 1]); // [left, right, top, bottom]: one more after
  assert.deepEqual(m.padding, [1, 1]);
  assert.equal(new nn.Conv2d(2, 3, 3).paddingMode, "zeros");
  // torch's name, read in a port that copies a layer.
  assert.match(
    messageOf(() => (m as unknown as { padding_mode: string }).padding_mode),
    /paddingMode/,
  );
  // Its snake_case spelling names ours; an unknown mode lists torch's four.
  const bad = (o: unknown) => messageOf(() => new nn.Conv2d(2, 3, 3, o as nn.Conv2dLayerOptions));
  assert.match(bad({ padding_mode: "reflect" }), /write 'paddingMode'/);
  assert.match(bad({ paddingMode: "reflection" }), /zeros, reflect, replicate, circular/);
  // Reflection needs the padding smaller than the input, as torch's.
  const r = new nn.Conv2d(1, 1, 5, { padding: 2, paddingMode: "reflect" });
  assert.throws(() => r(randn([1, 1, 2, 2])), /reflect|less than/i);
});

Deno.test("a Conv2d that pads its input first is not taken by the fused model paths", () => {
  // The fused paths read conv.options and would pad with zeros.
  assert.equal(isPlain(new nn.Conv2d(2, 2, 3, { padding: 1 }), nn.Conv2d), true);
  assert.equal(
    isPlain(new nn.Conv2d(2, 2, 3, { padding: 1, paddingMode: "reflect" }), nn.Conv2d),
    false,
  );
  assert.equal(isPlain(new nn.Conv2d(2, 2, 2, { padding: "same" }), nn.Conv2d), false);
  assert.equal(isPlain(new nn.Conv2d(2, 2, 3, { padding: "same" }), nn.Conv2d), true);
  // Conv, BatchNorm and ReLU in eval, the block the mobile models run as one kernel: the
  // replaced convolution keeps its padding.
  const block = new models.Conv2dNormActivation(3, 4).eval();
  const conv = new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: "replicate", bias: false });
  block[0] = conv;
  const x = randn([2, 3, 6, 6]);
  const want = noGrad(() => block[2](block[1](conv(x))) as Tensor);
  assertClose(noGrad(() => block(x)), want.toArray(), { what: "fused block" });
});

Deno.test("nn.Conv2d with reflect, replicate or uneven 'same' padding exports to ONNX", async () => {
  for (
    const conv of [
      new nn.Conv2d(2, 3, 3, { padding: 1, paddingMode: "reflect" }),
      new nn.Conv2d(2, 3, 3, { stride: 2, padding: [1, 2], paddingMode: "replicate" }),
      new nn.Conv2d(2, 3, [2, 4], { padding: "same" }),
      new nn.Conv2d(2, 3, [3, 2], { padding: "same", paddingMode: "reflect", dilation: [2, 1] }),
    ]
  ) {
    await matchesOrt(conv, [2, 7, 6]);
  }
  const circular = new nn.Conv2d(2, 3, 3, { padding: 1, paddingMode: "circular" });
  await assert.rejects(() => matchesOrt(circular, [2, 7, 6]), /circular.*no ONNX Pad mode/);
});

Deno.test("nn.Fold and nn.Unfold built from keywords, as their docs, match torch", () => {
  for (const c of fx.fold) check(new nn.Fold(c.opts as nn.FoldLayerOptions), c);
  for (const c of fx.unfold) check(new nn.Unfold(c.opts as nn.UnfoldLayerOptions), c);
  // torch's snake_case keywords name ours; a missing size says how to write it.
  const make = (o: unknown) => messageOf(() => new nn.Fold(o as nn.FoldLayerOptions));
  assert.match(make({ output_size: [4, 5], kernel_size: 2 }), /write 'outputSize'/);
  assert.match(make({ outputSize: [4, 5] }), /kernelSize is required; write new nn\.Fold/);
  const unfold = (o: unknown) => messageOf(() => new nn.Unfold(o as nn.UnfoldLayerOptions));
  assert.match(unfold({ kernel_size: [2, 3] }), /write 'kernelSize'/);
  assert.match(unfold({ kernelSize: 2, outputSize: [3, 3] }), /unknown option 'outputSize'/);
});

Deno.test("torch's inplace keyword: taken in the options objects, else named", () => {
  assert.equal(new nn.LeakyReLU({ negativeSlope: 0.2, inplace: true }).inplace, true);
  assert.equal(new nn.LeakyReLU({ negativeSlope: 0.2, inplace: true }).negativeSlope, 0.2);
  assert.equal(new nn.ELU({ alpha: 0.5, inplace: true }).alpha, 0.5);
  const relu = messageOf(() => new nn.ReLU({ inplace: true } as unknown as boolean));
  assert.match(relu, /write new nn\.ReLU\(true\)/);
  const silu = messageOf(() => new nn.SiLU({ inplace: true } as unknown as boolean));
  assert.match(silu, /write new nn\.SiLU\(true\)/);
  const drop = messageOf(() => new nn.Dropout(0.2, { inplace: true } as unknown as boolean));
  assert.match(drop, /write new nn\.Dropout\(p, true\)/);
});

Deno.test("nn.CrossEntropyLoss refuses a reduction, smoothing or ignore index when built", () => {
  const make = (o: unknown) =>
    messageOf(() => new nn.CrossEntropyLoss(o as nn.CrossEntropyLossOptions));
  // torch 0.4's "elementwise_mean" was only found at the first forward.
  assert.match(
    make({ reduction: "elementwise_mean" }),
    /reduction must be "mean", "sum" or "none"/,
  );
  assert.match(make({ labelSmoothing: 1.5 }), /labelSmoothing must be in \[0, 1\]/);
  assert.match(make({ ignoreIndex: 0.5 }), /ignoreIndex must be an integer/);
});

Deno.test("Embedding.from_pretrained, the docs' spelling, names ours", () => {
  const N = nn as unknown as Record<string, { from_pretrained: (w: Tensor) => unknown }>;
  assert.match(
    messageOf(() => N.Embedding.from_pretrained(randn([3, 2]))),
    /Embedding\.fromPretrained/,
  );
  assert.match(
    messageOf(() => N.EmbeddingBag.from_pretrained(randn([3, 2]))),
    /EmbeddingBag\.fromPretrained/,
  );
});
