/**
 * DataLoader code ported from PyTorch/MONAI tutorials: `batch_data[0]` and
 * `batch_data[1]`, torch's attribute names (`loader.batch_size`), and a
 * user's own Transform class with worker threads. The first works; the
 * others throw an Error that says what to write, instead of giving undefined
 * (a NaN progress line) or failing every batch inside a worker.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import type { Image } from "../src/data/types.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import { ToyDataset } from "./toy_dataset.ts";

const T = data.transforms;

Deno.test("batch[0] and batch[1] are the images and labels; the batch's fields stay as they were", async () => {
  for (const workers of [0, 1]) {
    const loader = new data.DataLoader(new ToyDataset({ length: 6, size: 2 }), {
      batchSize: 4,
      workers,
    });
    for await (using batch of loader) {
      assert.equal(batch[0], batch.images, `workers ${workers}`);
      assert.equal(batch[1], batch.labels);
      const [x, y] = batch;
      assert.equal(x, batch[0]);
      assert.equal(y, batch[1]);
      assert.equal(batch.images.shape[0], batch.indices.length);
      // Not fields: keys, spreading, JSON and inspection are as before.
      assert.deepEqual(Object.keys(batch), ["images", "labels", "indices"]);
      assert.deepEqual(Object.keys({ ...batch }), ["images", "labels", "indices"]);
      assert.doesNotMatch(Deno.inspect(batch, { depth: 0 }), /\b0:|\b1:/);
      assert.doesNotThrow(() => JSON.stringify(batch));
      assert.throws(() => {
        (batch as unknown as Record<number, unknown>)[0] = null;
      }, TypeError);
      assert.equal(batch[0], batch.images);
    }
  }
});

Deno.test("torch's DataLoader attribute names throw, naming ours", () => {
  const loader = new data.DataLoader(new ToyDataset({ length: 4 }), { batchSize: 2 });
  const names: [string, RegExp][] = [
    ["batch_size", /DataLoader has no \.batch_size: write loader\.batchSize/],
    ["num_workers", /DataLoader has no \.num_workers: write loader\.workers/],
    ["drop_last", /DataLoader has no \.drop_last: write loader\.dropLast/],
    ["persistent_workers", /write loader\.persistentWorkers/],
    ["prefetch_factor", /write loader\.prefetch/],
    ["pin_memory", /DataLoader has no \.pin_memory: .*device: "cuda"/],
  ];
  const any = loader as unknown as Record<string, unknown>;
  for (const [name, message] of names) {
    assert.throws(() => any[name], message, name);
    assert.throws(() => {
      any[name] = 1;
    }, new RegExp(`DataLoader has no \\.${name} to assign`));
  }
  // The progress line a port prints now reads:
  assert.equal(`${loader.length * loader.batchSize} samples`, "4 samples");
  // Same-named attributes are untouched; the hints are no fields.
  assert.equal(loader.dataset.length, 4);
  assert.equal(loader.sampler.length, 4);
  assert.ok(!Object.keys(loader).some((k) => k.includes("_")));
  assert.doesNotThrow(() => Deno.inspect(loader));
});

/** A user's own transform, as a MONAI port writes one. */
class AddOne extends T.Transform {
  constructor(params: Record<string, never> = {}) {
    super(params, arguments.length, { keys: [], p: null, usage: "{}" });
  }
  protected run(image: Image): Image {
    return { ...image, data: image.data.map((v) => v + 1) };
  }
}

Deno.test("a user's own Transform with workers fails at construction, naming it and the way out", async () => {
  const ds = new ToyDataset({ length: 8, size: 2 });
  const message =
    /DataLoader: transform 'AddOne' .*worker.*use workers: 0 for your own Transform classes/;
  assert.throws(() => new data.DataLoader(ds, { workers: 2, transform: new AddOne() }), message);
  assert.throws(
    () =>
      new data.DataLoader(ds, {
        workers: 1,
        transform: [new T.Normalize({ mean: 0, std: 1 }), new AddOne()],
      }),
    message,
  );
  assert.equal(liveWorkers(), 0);
  // A class of the user's that takes a library name is not rebuilt as the library's.
  class Normalize extends AddOne {}
  assert.throws(
    () => new data.DataLoader(ds, { workers: 1, transform: new Normalize() }),
    /transform 'Normalize' .*use workers: 0/,
  );
  // workers: 0, or a dataset read on the main thread, runs it.
  for (
    const [d, workers] of [[ds, 0], [
      new ToyDataset({ length: 8, size: 2, noWorkers: true }),
      2,
    ]] as const
  ) {
    const loader = new data.DataLoader(d, { batchSize: 8, workers, transform: new AddOne() });
    for await (using b of loader) {
      const s0 = await d.get(b.indices[0]);
      assert.equal((b.images.toArray() as Float32Array)[0], s0.image.data[0] + 1);
    }
  }
  // The library's transforms still go to the workers.
  const ok = new data.DataLoader(ds, { batchSize: 8, workers: 1, transform: T.ct() });
  for await (using b of ok) assert.equal(b.images.shape[0], 8);
  assert.equal(liveWorkers(), 0);
});
