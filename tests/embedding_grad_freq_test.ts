/**
 * `scaleGradByFreq` of F.embedding / nn.Embedding and F.embeddingBag /
 * nn.EmbeddingBag against PyTorch 1.13 (tests/fixtures/layer_options.json,
 * written by scripts/make_layer_options_fixtures.py): the output (the flag
 * changes only the gradient), the weight after `maxNorm`'s in-place
 * renormalisation, and the gradients of L = sum(out * G) for the weight
 * (each row's divided by its index's count in the call's input) and the
 * per-sample weights, with `paddingIdx`, `maxNorm`, `perSampleWeights`,
 * offsets, 2-D inputs and `includeLastOffset`. Then the bad inputs (mode
 * "max" refuses the flag, as torch), each error naming the function.
 *
 * A bag's weight gradient is the documented one (each row's divided by its
 * own index's count, as torch's CUDA backward and F.embedding), which the
 * generator computes in torch as F.embedding with the flag and the bag's
 * sum or mean: torch 1.13's CPU embedding_bag divides some rows by another
 * index's count (pytorch/pytorch#190063, fixed upstream by #190264), and
 * the cases where that changes the numbers say so (`cpuBug`).
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { functional as F, nn, scope, type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface EmbeddingCase {
  name: string;
  weight: StoredRecord;
  ids: StoredRecord;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  out: StoredRecord;
  weightAfter: StoredRecord;
  G: StoredRecord;
  grad: StoredRecord;
  perSampleWeights?: StoredRecord;
  pswGrad?: StoredRecord;
  /** Bags: torch 1.13's CPU weight gradient, and whether its count bug changes it. */
  gradTorchCpu?: StoredRecord;
  cpuBug?: boolean;
}
const fx = loadFixture<{
  torch: string;
  embeddings: EmbeddingCase[];
  bags: EmbeddingCase[];
  maxModeError: string;
}>("layer_options.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
const assertMatches = (t: Tensor | null, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);
const dev = (s: StoredRecord, requiresGrad = false) =>
  fromStored(s, { requiresGrad, device: testDevice });

for (const c of fx.embeddings) {
  Deno.test(`embedding scaleGradByFreq: ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const ids = dev(c.ids);
      // The functional op on a leaf weight.
      const w = dev(c.weight, true);
      const y = F.embedding(ids, w, c.opts);
      assertMatches(y, c.out, "F.embedding out");
      assertMatches(w, c.weightAfter, "F.embedding weight after");
      y.mul(dev(c.G)).sum().backward();
      assertMatches(w.grad, c.grad, "F.embedding weight grad");
      // The layer over the same table.
      const m = nn.Embedding.fromPretrained(dev(c.weight), { ...c.opts, freeze: false });
      assert.equal(m.scaleGradByFreq, c.opts.scaleGradByFreq ?? false);
      const ym = m(ids);
      assertMatches(ym, c.out, "nn.Embedding out");
      assertMatches(m.weight, c.weightAfter, "nn.Embedding weight after");
      ym.mul(dev(c.G)).sum().backward();
      assertMatches(m.weight.grad, c.grad, "nn.Embedding weight grad");
    });
  });
}

for (const c of fx.bags) {
  Deno.test(`embeddingBag scaleGradByFreq: ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const ids = dev(c.ids);
      const w = dev(c.weight, true);
      const psw = c.perSampleWeights ? dev(c.perSampleWeights, true) : undefined;
      const y = F.embeddingBag(ids, w, { ...c.opts, perSampleWeights: psw });
      assertMatches(y, c.out, "F.embeddingBag out");
      assertMatches(w, c.weightAfter, "F.embeddingBag weight after");
      y.mul(dev(c.G)).sum().backward();
      assertMatches(w.grad, c.grad, "F.embeddingBag weight grad");
      if (c.cpuBug) {
        // Deliberately not torch 1.13's CPU numbers (pytorch/pytorch#190063): see the header.
        assert.throws(() => assertMatches(w.grad, c.gradTorchCpu!, "1.13 CPU"), /1.13 CPU/);
      } else {
        assertMatches(w.grad, c.gradTorchCpu!, "F.embeddingBag weight grad, torch's CPU");
      }
      if (psw) assertMatches(psw.grad, c.pswGrad!, "F.embeddingBag perSampleWeights grad");
      // The layer: offsets and the per-sample weights go to the forward.
      const { offsets, ...layerOpts } = c.opts;
      const m = nn.EmbeddingBag.fromPretrained(dev(c.weight), { ...layerOpts, freeze: false });
      assert.equal(m.scaleGradByFreq, c.opts.scaleGradByFreq ?? false);
      const p2 = c.perSampleWeights ? dev(c.perSampleWeights, true) : undefined;
      const ym = m(ids, offsets, p2);
      assertMatches(ym, c.out, "nn.EmbeddingBag out");
      ym.mul(dev(c.G)).sum().backward();
      assertMatches(m.weight.grad, c.grad, "nn.EmbeddingBag weight grad");
      if (p2) assertMatches(p2.grad, c.pswGrad!, "nn.EmbeddingBag perSampleWeights grad");
    });
  });
}

Deno.test("scaleGradByFreq counts within each call, and gradients add across calls", () => {
  scope(() => {
    const ids = (v: number[]) => tensor(new Int32Array(v), [v.length], { device: testDevice });
    const m = new nn.Embedding(3, 2, { scaleGradByFreq: true }).to(testDevice);
    m(ids([1, 1])).sum().backward(); // row 1: 2 / 2
    m(ids([1, 2])).sum().backward(); // row 1: + 1, row 2: 1
    assert.deepEqual([...m.weight.grad!.toArray()], [0, 0, 2, 2, 1, 1]);
    const bag = new nn.EmbeddingBag(3, 2, { mode: "sum", scaleGradByFreq: true }).to(testDevice);
    bag(ids([1, 1, 1, 2]), [0, 2]).sum().backward(); // row 1: 3 / 3, row 2: 1
    assert.deepEqual([...bag.weight.grad!.toArray()], [0, 0, 1, 1, 1, 1]);
  });
});

Deno.test("scaleGradByFreq: bad values and mode max are refused, naming the function", () => {
  scope(() => {
    const w = tensor([[1, 2], [3, 4], [5, 6]]).to(testDevice);
    const ids = tensor(new Int32Array([0, 1, 1]), [3], { device: testDevice });
    // deno-lint-ignore no-explicit-any
    const loose = (o: unknown) => o as any;
    const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
    throws(
      () => F.embedding(ids, w, loose({ scaleGradByFreq: "yes" })),
      /^Error: embedding: scaleGradByFreq must be true or false, got "yes"/,
    );
    throws(
      () => F.embedding(ids, w, loose({ scale_grad_by_freq: true })),
      /embedding: unknown option 'scale_grad_by_freq' \(write 'scaleGradByFreq'\)/,
    );
    throws(
      () => new nn.Embedding(3, 2, loose({ scaleGradByFreq: 1 })),
      /nn.Embedding: scaleGradByFreq must be true or false, got 1/,
    );
    throws(
      () => F.embeddingBag(ids, w, loose({ offsets: [0], scaleGradByFreq: NaN })),
      /embeddingBag: scaleGradByFreq must be true or false, got NaN/,
    );
    throws(
      () => new nn.EmbeddingBag(3, 2, loose({ scale_grad_by_freq: true })),
      /nn.EmbeddingBag: unknown option 'scale_grad_by_freq' \(write 'scaleGradByFreq'\)/,
    );
    // torch: "max mode does not support scaling the gradient by the frequency".
    assert.match(fx.maxModeError, /max mode does not support scaling the gradient/);
    throws(
      () => F.embeddingBag(ids, w, { offsets: [0], mode: "max", scaleGradByFreq: true }),
      /^Error: embeddingBag: mode "max" does not support scaleGradByFreq .*use mode "sum" or "mean"/,
    );
    throws(
      () => new nn.EmbeddingBag(3, 2, { mode: "max", scaleGradByFreq: true }),
      /^Error: nn.EmbeddingBag: mode "max" does not support scaleGradByFreq/,
    );
    throws(
      () => nn.EmbeddingBag.fromPretrained(w, { mode: "max", scaleGradByFreq: true }),
      /nn.EmbeddingBag: mode "max" does not support scaleGradByFreq/,
    );
    // Mode max without the flag, and the flag with sum and mean, run.
    assert.deepEqual(F.embeddingBag(ids, w, { offsets: [0], mode: "max" }).toList(), [[3, 4]]);
    for (const mode of ["sum", "mean"] as const) {
      assert.equal(F.embeddingBag(ids, w, { offsets: [0], mode, scaleGradByFreq: true }).ndim, 2);
    }
  });
});
