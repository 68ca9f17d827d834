/**
 * Review of the transformer layers: what tests/transformer_test.ts does not
 * cover. torch 1.13's eval-mode shortcuts that this library documents and
 * does not copy (a float padding mask read as boolean by the layer's fast
 * path; the nested path trimming the output's sequence), and an activation
 * assigned after construction.
 */
import assert from "node:assert/strict";
import { functional as F, nn, noGrad, randn, type Tensor, tensor } from "../mod.ts";

const E = 8, H = 2, FF = 16;

function closeArrays(a: Tensor, b: Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = a.toArray(), y = b.toArray();
  x.forEach((v, i) =>
    assert.ok(Math.abs(v - y[i]) < 1e-5, `${what}: element ${i}: ${v} vs ${y[i]}`)
  );
}

Deno.test("transformer review: a soft float padding mask is added in eval under noGrad too", () => {
  // torch 1.13's layer fast path (eval, no grad, batchFirst) reads it as a bool mask
  // (nonzero = padding); its training path and its docs add it, as this library always does.
  const layer = new nn.TransformerEncoderLayer(E, H, { dimFeedforward: FF, batchFirst: true })
    .eval();
  const x = randn([3, 5, E]);
  const soft = tensor([0, -0.7, 0, 0.4, 0, 0, 0, -0.7, 0, 0, 0.4, 0, 0, 0, 0], [3, 5]);
  const withGrad = layer.forward(x, { srcKeyPaddingMask: soft });
  const without = noGrad(() => layer.forward(x, { srcKeyPaddingMask: soft }));
  closeArrays(without, withGrad, "noGrad vs grad");
  const asBool = noGrad(() => layer.forward(x, { srcKeyPaddingMask: soft.ne(0).int() }));
  assert.ok(
    Math.abs(asBool.sub(without).abs().max().item()) > 1e-3,
    "the soft mask is not read as a boolean one",
  );
});

Deno.test("transformer review: the nested path keeps src's shape when every row pads its end", () => {
  // torch 1.13 trims the output to the longest unpadded row here ([3, 3, 8]; pytorch#97111,
  // fixed in torch 2.1): the output keeps [N, S, dModel], zeros at padded positions.
  const layer = new nn.TransformerEncoderLayer(E, H, { dimFeedforward: FF, batchFirst: true });
  const enc = new nn.TransformerEncoder(layer, 2).eval();
  const x = randn([3, 5, E]);
  const pad = tensor(new Int32Array([0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1]), [3, 5]);
  const nested = noGrad(() => enc.forward(x, { srcKeyPaddingMask: pad }));
  const plain = enc.forward(x, { srcKeyPaddingMask: pad });
  assert.deepEqual(nested.shape, [3, 5, E]);
  const keep = pad.eq(0).unsqueeze(-1);
  closeArrays(nested.mul(keep), plain.mul(keep), "unpadded positions");
  assert.equal(nested.mul(pad.unsqueeze(-1)).abs().sum().item(), 0, "padded positions are 0");
});

Deno.test("transformer review: an activation assigned after construction is checked in forward", () => {
  const layer = new nn.TransformerEncoderLayer(E, H, { dimFeedforward: FF });
  const x = randn([5, 2, E]);
  layer.activation = F.silu;
  assert.deepEqual(layer.forward(x).shape, [5, 2, E]);
  layer.activation = "silu" as never;
  assert.throws(
    () => layer.forward(x),
    /nn.TransformerEncoderLayer.forward: activation must be "relu", "gelu" or a function of a tensor, got "silu"; write layer.activation = F.silu/,
  );
  const dec = new nn.TransformerDecoderLayer(E, H, { dimFeedforward: FF });
  dec.activation = null as never;
  assert.throws(
    () => dec.forward(randn([4, 2, E]), x),
    /nn.TransformerDecoderLayer.forward: activation must be .* got null/,
  );
});
