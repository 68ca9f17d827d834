/**
 * MixUp and CutMix against torchvision 0.16's formulas run on torch 1.13
 * (tests/fixtures/mix.json, written by scripts/make_mix_fixtures.py): for a
 * given lambda (and CutMix centre) the images and soft labels are torch's to
 * the bit, and CutMix's box and label weight are its. Then the Beta sampler's
 * moments, that `forward` draws in torchvision's order from the generator it
 * is given (or the seeded global one), a training step on the soft labels,
 * and the bad inputs.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  data,
  functional as F,
  manualSeed,
  ones,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { cutMixBox, sampleBeta } from "../src/data/transforms/mix.ts";
import { assertBits, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

const { MixUp, CutMix } = data.transforms;

interface Case {
  x: Stored;
  labels: Stored;
  numClasses: number;
  lam: number;
  out: Stored;
  y: Stored;
}
interface CutCase extends Case {
  rx: number;
  ry: number;
  box: [number, number, number, number];
  lamAdjusted: number;
}
const fixture = loadFixture<{ mixup: Case[]; cutmix: CutCase[] }>("mix.json");
const device = testDevice;

function bits(t: Tensor): Float32Array {
  return t.toArray() as Float32Array;
}

function expected(s: Stored): Float32Array {
  return Float32Array.from(s.data);
}

Deno.test("MixUp.mixWith: torchvision's images and soft labels to the bit, for a given lam", () => {
  for (const c of fixture.mixup) {
    scope(() => {
      const x = fromStored(c.x, { device });
      const labels = fromStored(c.labels, { device });
      const [out, y] = new MixUp({ numClasses: c.numClasses }).mixWith(x, labels, c.lam);
      const what = `mixup [${c.x.shape}] lam ${c.lam}`;
      assert.deepEqual(out.shape, c.out.shape, what);
      assert.deepEqual(y.shape, c.y.shape, what);
      assert.equal(y.dtype, "float32");
      assertBits(bits(out), expected(c.out), `${what} images`);
      assertBits(bits(y), expected(c.y), `${what} labels`);
    });
  }
});

Deno.test("CutMix: torchvision's box, label weight, images and labels to the bit", () => {
  for (const c of fixture.cutmix) {
    scope(() => {
      const [, , h, w] = c.x.shape;
      const box = cutMixBox(c.lam, c.rx, c.ry, h, w);
      const what = `cutmix [${c.x.shape}] lam ${c.lam} at (${c.rx}, ${c.ry})`;
      assert.deepEqual([box.x1, box.y1, box.x2, box.y2], c.box, what);
      assert.equal(box.lam, c.lamAdjusted, what);
      const x = fromStored(c.x, { device });
      const labels = fromStored(c.labels, { device });
      const [out, y] = new CutMix({ numClasses: c.numClasses }).mixWith(x, labels, box);
      assertBits(bits(out), expected(c.out), `${what} images`);
      assertBits(bits(y), expected(c.y), `${what} labels`);
    });
  }
});

Deno.test("sampleBeta: Beta(alpha, alpha)'s mean and variance, finite for tiny alphas", () => {
  for (const alpha of [0.01, 0.2, 0.4, 1, 2, 8]) {
    const rng = new data.Rng(1234);
    const n = 40000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = sampleBeta(rng, alpha);
      assert.ok(v >= 0 && v <= 1, `alpha ${alpha}: sample ${v} outside [0, 1]`);
      s += v;
      s2 += v * v;
    }
    const mean = s / n, variance = s2 / n - mean * mean;
    const want = 1 / (4 * (2 * alpha + 1)); // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1))
    assert.ok(Math.abs(mean - 0.5) < 0.01, `alpha ${alpha}: mean ${mean}`);
    assert.ok(Math.abs(variance - want) < 0.05 * want + 1e-3, `alpha ${alpha}: var ${variance}`);
  }
  // alpha 1 is the uniform distribution: a quarter of the samples below 1/4.
  const rng = new data.Rng(7);
  let below = 0;
  for (let i = 0; i < 40000; i++) if (sampleBeta(rng, 1) < 0.25) below++;
  assert.ok(Math.abs(below / 40000 - 0.25) < 0.01, `${below}`);
});

Deno.test("forward: lam (and CutMix's centre: column, then row) from the generator given", () => {
  scope(() => {
    const x = randn([4, 1, 9, 7], { device });
    const labels = tensor(new Int32Array([0, 1, 2, 1]), [4], { device });
    const mixup = new MixUp({ alpha: 0.4, numClasses: 3 });
    const [a, ya] = mixup.forward(x, labels, new data.Rng(5));
    const [b, yb] = mixup.mixWith(x, labels, sampleBeta(new data.Rng(5), 0.4));
    assertBits(bits(a), bits(b), "mixup images");
    assertBits(bits(ya), bits(yb), "mixup labels");

    const cutmix = new CutMix({ numClasses: 3 });
    const r = new data.Rng(11);
    const lam = sampleBeta(r, 1);
    const rx = r.int(0, 7), ry = r.int(0, 9);
    const [c, yc] = cutmix.forward(x, labels, new data.Rng(11));
    const [d, yd] = cutmix.mixWith(x, labels, cutMixBox(lam, rx, ry, 9, 7));
    assertBits(bits(c), bits(d), "cutmix images");
    assertBits(bits(yc), bits(yd), "cutmix labels");
  });
});

Deno.test("a mix is callable, as torchvision's: mixup(images, labels) is its forward", () => {
  scope(() => {
    const x = randn([3, 1, 5, 5], { device });
    const labels = tensor(new Int32Array([0, 2, 1]), [3], { device });
    for (const mix of [new MixUp({ numClasses: 3 }), new CutMix({ numClasses: 3 })]) {
      const [a, ya] = mix(x, labels, new data.Rng(4));
      const [b, yb] = mix.forward(x, labels, new data.Rng(4));
      assertBits(bits(a), bits(b), `${mix.constructor.name} images`);
      assertBits(bits(ya), bits(yb), `${mix.constructor.name} labels`);
    }
  });
});

Deno.test("forward: without a generator, manualSeed makes it reproducible", () => {
  scope(() => {
    const x = randn([3, 1, 6, 6], { device });
    const labels = tensor(new Int32Array([2, 0, 1]), [3], { device });
    for (const mix of [new MixUp({ numClasses: 3 }), new CutMix({ numClasses: 3 })]) {
      manualSeed(3);
      const [a, ya] = mix.forward(x, labels);
      manualSeed(3);
      const [b, yb] = mix.forward(x, labels);
      assertBits(bits(a), bits(b), `${mix.constructor.name} images`);
      assertBits(bits(ya), bits(yb), `${mix.constructor.name} labels`);
      // Rows of the soft labels are distributions.
      const y = ya.toArray() as Float32Array;
      for (let i = 0; i < 3; i++) {
        assert.ok(Math.abs(y[3 * i] + y[3 * i + 1] + y[3 * i + 2] - 1) < 1e-6);
      }
    }
  });
});

Deno.test("a training step on mixed batches: cross-entropy on the soft labels back to the logits", () => {
  scope(() => {
    const w = randn([3, 16], { device }).requiresGrad_();
    const x = randn([4, 1, 4, 4], { device });
    const labels = tensor(new Int32Array([0, 1, 2, 1]), [4], { device });
    const [xm, ym] = new MixUp({ numClasses: 3 }).forward(x, labels, new data.Rng(0));
    const loss = F.crossEntropy(F.linear(xm.flatten(1), w), ym);
    loss.backward();
    assert.deepEqual(w.grad!.shape, [3, 16]);
    assert.ok((w.grad!.toArray() as Float32Array).every(Number.isFinite));
  });
});

Deno.test("MixUp / CutMix: bad options and batches are refused with what to write", () => {
  const images = ones([2, 1, 4, 4]);
  const labels = tensor(new Int32Array([0, 1]), [2]);
  for (const Mix of [MixUp, CutMix]) {
    const name = Mix.name;
    const make = (o: unknown) => new Mix(o as { numClasses: number });
    assert.throws(() => make(undefined), new RegExp(`${name}: takes an options object`));
    assert.throws(() => make(3), new RegExp(`${name}: takes an options object`));
    assert.throws(() => make({}), /numClasses must be an integer >= 1, got undefined/);
    assert.throws(() => make({ numClasses: 0 }), /numClasses must be an integer >= 1/);
    assert.throws(() => make({ numClasses: 2.5 }), /numClasses must be an integer >= 1/);
    for (const alpha of [0, -1, NaN, Infinity, "1"]) {
      assert.throws(() => make({ alpha, numClasses: 3 }), /alpha must be a finite number > 0/);
    }
    assert.throws(() => make({ num_classes: 3 }), /num_classes/);
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => new (Mix as any)({ numClasses: 3 }, 1),
      /takes at most 1 arguments/,
    );
    const mix = make({ numClasses: 3 });
    assert.throws(() => mix.forward(ones([2, 4, 4]), labels), /float32 batch \[N, C, H, W\]/);
    assert.throws(
      () => mix.forward(zeros([2, 1, 4, 4], { dtype: "int32" }), labels),
      /float32 batch \[N, C, H, W\], got int32/,
    );
    assert.throws(
      () => mix.forward(images, labels.float()),
      /labels must be int32 class indices of shape \[N\], got float32/,
    );
    assert.throws(
      () => mix.forward(images, zeros([2, 3])),
      /soft labels do not mix again/,
    );
    assert.throws(
      () => mix.forward(images, tensor(new Int32Array([0, 1, 2]), [3])),
      /3 labels for a batch of 2 images/,
    );
    assert.throws(
      () => mix.forward(zeros([0, 1, 4, 4]), tensor(new Int32Array(0), [0])),
      /the batch is empty/,
    );
    assert.throws(
      () => mix.forward(images, tensor(new Int32Array([0, 3]), [2])),
      /oneHot/,
    );
    assert.throws(() => mix.forward(images as unknown as Tensor, [0, 1] as unknown as Tensor));
    // deno-lint-ignore no-explicit-any
    assert.throws(() => (mix as any).forward(images, labels, new data.Rng(0), 1), /takes \(images/);
  }
  const mixup = new MixUp({ numClasses: 3 });
  for (const lam of [-0.1, 1.5, NaN]) {
    assert.throws(() => mixup.mixWith(images, labels, lam), /lam must be a number in \[0, 1\]/);
  }
  const cutmix = new CutMix({ numClasses: 3 });
  assert.throws(
    () => cutmix.mixWith(images, labels, { x1: 0, y1: 0, x2: 5, y2: 2, lam: 0.5 }),
    /not inside the 4 x 4 image/,
  );
  assert.throws(
    () => cutmix.mixWith(images, labels, { x1: 3, y1: 0, x2: 2, y2: 2, lam: 0.5 }),
    /not inside/,
  );
});
