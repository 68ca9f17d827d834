/**
 * The training command's batch mixing (`--mixup-alpha`, `--cutmix-alpha`):
 * off by default; each batch's generator is Rng.forSample(seed, epoch,
 * -1 - batch), which picks MixUp or CutMix when both are on and then draws
 * their lambda (and box), so a batch mixes the same in a run and its
 * resumption; a short run with mixing and label smoothing trains and
 * records them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data, randn, scope, tensor, train } from "../mod.ts";
import { batchMixer } from "../src/train/batch_mix.ts";
import { assertBits } from "./helpers.ts";
import { trainTestData } from "./train_data.ts";

Deno.test("batchMixer: null unless an alpha is set; one of the two per batch, from its own stream", () => {
  assert.equal(batchMixer(train.DEFAULTS, 3), null);
  scope(() => {
    const config = { ...train.DEFAULTS, seed: 5, mixupAlpha: 0.4, cutmixAlpha: 1 };
    const mix = batchMixer(config, 3)!;
    const x = randn([4, 1, 8, 8]);
    const y = tensor(new Int32Array([0, 1, 2, 1]), [4]);
    const mixes = [
      new data.transforms.MixUp({ alpha: 0.4, numClasses: 3 }),
      new data.transforms.CutMix({ alpha: 1, numClasses: 3 }),
    ];
    const picked = new Set<number>();
    for (let batch = 0; batch < 12; batch++) {
      const rng = data.Rng.forSample(5, 2, -1 - batch);
      const k = rng.int(0, 2);
      picked.add(k);
      const [want, wantY] = mixes[k].forward(x, y, rng);
      const [got, gotY] = mix(x, y, 2, batch);
      assertBits(got.toArray() as Float32Array, want.toArray() as Float32Array, `batch ${batch}`);
      assertBits(gotY.toArray() as Float32Array, wantY.toArray() as Float32Array, `batch ${batch}`);
    }
    assert.deepEqual([...picked].sort(), [0, 1]);
    // Only MixUp: every batch is a MixUp from the same stream.
    const only = batchMixer({ ...config, cutmixAlpha: 0 }, 3)!;
    const [a] = only(x, y, 1, 3);
    const [b] = mixes[0].forward(x, y, data.Rng.forSample(5, 1, -4));
    assertBits(a.toArray() as Float32Array, b.toArray() as Float32Array, "MixUp only");
  });
});

Deno.test("fit with MixUp, CutMix and label smoothing trains, and config.json records them", async () => {
  const out = join(await Deno.makeTempDir(), "run");
  const config = train.checkConfig({
    ...train.DEFAULTS,
    data: await trainTestData(),
    out,
    epochs: 2,
    imageSize: 16,
    batchSize: 16,
    augment: "none",
    seed: 3,
    mixupAlpha: 0.4,
    cutmixAlpha: 1,
    labelSmoothing: 0.1,
  });
  const result = await train.fit(config, { report: false });
  assert.ok(Number.isFinite(result.history[1].trainLoss));
  // The same run without them trains on other targets: another loss from the first step.
  const plainConfig = { ...config, out: `${out}-plain`, mixupAlpha: 0, cutmixAlpha: 0 };
  const plain = await train.fit({ ...plainConfig, labelSmoothing: 0 }, { report: false });
  assert.notEqual(plain.history[0].trainLoss, result.history[0].trainLoss);
  const saved = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
  assert.equal(saved.mixupAlpha, 0.4);
  assert.equal(saved.cutmixAlpha, 1);
  assert.equal(saved.labelSmoothing, 0.1);
});
