/**
 * DataLoader: batch shapes and dtypes, seeded shuffling per epoch, results
 * independent of the worker count, prefetching, samplers, and bad input:
 * failing samples, mixed sizes and broken datasets stop the loader with an
 * Error that names the sample, leaving no worker running.
 */
import assert from "node:assert/strict";
import { data, memoryStats } from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import type { Dataset, Sample } from "../src/data/types.ts";
import { ToyDataset } from "./toy_dataset.ts";

/** Every batch of one epoch as plain arrays. */
async function collect(loader: data.DataLoader) {
  const out: { images: Float32Array; shape: number[]; labels: number[]; indices: number[] }[] = [];
  for await (using b of loader) {
    assert.equal(b.images.dtype, "float32");
    assert.equal(b.labels.dtype, "int32");
    out.push({
      images: b.images.toArray() as Float32Array,
      shape: [...b.images.shape],
      labels: [...b.labels.toArray()],
      indices: [...b.indices],
    });
  }
  return out;
}

Deno.test("batches: [N, 1, H, W] float32 images, [N] int32 labels, short or dropped last batch", async () => {
  const ds = new ToyDataset({ length: 10, size: 6, noWorkers: true });
  const loader = new data.DataLoader(ds, { batchSize: 4 });
  assert.equal(loader.length, 3);
  const batches = await collect(loader);
  assert.deepEqual(batches.map((b) => b.shape), [[4, 1, 6, 6], [4, 1, 6, 6], [2, 1, 6, 6]]);
  assert.deepEqual(batches.flatMap((b) => b.indices), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(batches.flatMap((b) => b.labels), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
  const s5 = await ds.get(5);
  assert.deepEqual([...batches[1].images.subarray(36, 72)], [...s5.image.data]);
  const dropped = new data.DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.deepEqual((await collect(dropped)).map((b) => b.shape[0]), [4, 4]);
});

Deno.test("shuffle: seeded, a new permutation each epoch, setEpoch replays one", async () => {
  const ds = new ToyDataset({ length: 40, size: 2, noWorkers: true });
  const order = async (loader: data.DataLoader) =>
    (await collect(loader)).flatMap((b) => b.indices);
  const a = new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 5 });
  const e0 = await order(a), e1 = await order(a);
  assert.equal(a.epoch, 2);
  assert.deepEqual([...e0].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
  assert.notDeepEqual(e0, e1);
  assert.notDeepEqual(e0, Array.from({ length: 40 }, (_, i) => i));
  const b = new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 5 });
  assert.deepEqual(await order(b), e0, "same seed, same batches");
  b.setEpoch(1);
  assert.deepEqual(await order(b), e1);
  const c = new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 6 });
  assert.notDeepEqual(await order(c), e0);
});

Deno.test("workers: identical batches with 0, 1 and 3 workers (order and augmentation)", async () => {
  const ds = new ToyDataset({ length: 45, size: 24 });
  const opts = { batchSize: 8, shuffle: true, seed: 11, transform: data.transforms.ct() };
  const ref = await collect(new data.DataLoader(ds, { ...opts, workers: 0 }));
  for (const workers of [1, 3]) {
    const loader = new data.DataLoader(ds, { ...opts, workers, prefetch: 3 });
    const got = await collect(loader);
    assert.equal(got.length, ref.length);
    got.forEach((b, i) => {
      assert.deepEqual(b.indices, ref[i].indices, `workers ${workers}, batch ${i}`);
      assert.deepEqual(b.labels, ref[i].labels);
      assert.ok(
        b.images.every((v, k) => v === ref[i].images[k]),
        `workers ${workers}: same pixels`,
      );
    });
    assert.equal(liveWorkers(), 0, "workers end with the epoch");
  }
  // The augmentation really ran: the pixels differ from the raw samples.
  const raw = await collect(new data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 11 }));
  assert.ok(raw[0].images.some((v, k) => v !== ref[0].images[k]));
});

Deno.test("workers: breaking out of the loop terminates them", async () => {
  const ds = new ToyDataset({ length: 64, size: 8, delayMs: 1 });
  const loader = new data.DataLoader(ds, { batchSize: 4, workers: 2, prefetch: 2 });
  let seen = 0;
  for await (using _ of loader) {
    assert.equal(liveWorkers(), 2);
    if (++seen === 2) break;
  }
  assert.equal(seen, 2);
  assert.equal(liveWorkers(), 0);
});

Deno.test("workers: an exception in the loop body terminates them", async () => {
  const ds = new ToyDataset({ length: 32, size: 8 });
  const loader = new data.DataLoader(ds, { batchSize: 4, workers: 2 });
  await assert.rejects(async () => {
    for await (using _ of loader) throw new Error("model blew up");
  }, /model blew up/);
  assert.equal(liveWorkers(), 0);
});

Deno.test("persistentWorkers: kept across epochs until close(), same batches", async () => {
  const ds = new ToyDataset({ length: 24, size: 8 });
  const opts = { batchSize: 8, shuffle: true, seed: 2, transform: data.transforms.ct() };
  const ref = new data.DataLoader(ds, { ...opts, workers: 0 });
  const kept = new data.DataLoader(ds, { ...opts, workers: 2, persistentWorkers: true });
  for (let epoch = 0; epoch < 2; epoch++) {
    const [a, b] = [await collect(ref), await collect(kept)];
    assert.deepEqual(b.map((x) => x.indices), a.map((x) => x.indices));
    assert.ok(b.every((x, i) => x.images.every((v, k) => v === a[i].images[k])));
    assert.equal(liveWorkers(), 2, "still running between epochs");
  }
  for await (using _ of kept) break; // a break ends even kept workers
  assert.equal(liveWorkers(), 0);
  await collect(kept);
  assert.equal(liveWorkers(), 2);
  kept.close();
  assert.equal(liveWorkers(), 0);
});

Deno.test("a workerSpec that cannot be sent to a worker: clear Error, no worker left", async () => {
  const ds = new ToyDataset({ length: 8, size: 4 });
  ds.workerSpec = () => ({ module: import.meta.url, spec: { length: 8, hook: () => 1 } as never });
  const loader = new data.DataLoader(ds, { batchSize: 4, workers: 2 });
  await assert.rejects(async () => {
    for await (using _ of loader) { /* consume */ }
  }, /workerSpec\(\) cannot be sent to a worker/);
  assert.equal(liveWorkers(), 0);
});

Deno.test("a dataset without workerSpec is read on the main thread", async () => {
  const ds = new ToyDataset({ length: 9, size: 4, noWorkers: true });
  const loader = new data.DataLoader(ds, { batchSize: 3, workers: 2 });
  let batches = 0;
  for await (using _ of loader) {
    assert.equal(liveWorkers(), 0);
    batches++;
  }
  assert.equal(batches, 3);
});

Deno.test("prefetch: later batches are requested while the consumer holds one", async () => {
  const requested: number[] = [];
  const ds: Dataset = {
    length: 12,
    get(i: number): Promise<Sample> {
      requested.push(i);
      return Promise.resolve({
        image: { data: new Float32Array(4), width: 2, height: 2 },
        label: 0,
      });
    },
  };
  const loader = new data.DataLoader(ds, { batchSize: 2, prefetch: 3 });
  for await (using _ of loader) {
    // Holding batch 0: batches 1 and 2 are already loading, batch 3 was started on refill.
    assert.deepEqual(requested.slice(0, 8), [0, 1, 2, 3, 4, 5, 6, 7]);
    break;
  }
});

Deno.test("a failing get() in a worker: Error names the sample and the message; no worker left", async () => {
  for (const workers of [0, 2]) {
    const ds = new ToyDataset({ length: 40, size: 4, failAt: 13 });
    const loader = new data.DataLoader(ds, { batchSize: 4, workers });
    let batches = 0;
    await assert.rejects(
      async () => {
        for await (using _ of loader) batches++;
      },
      (e: Error) => {
        assert.match(e.message, /sample 13: toy failure at 13/, e.message);
        assert.match(e.message, /^DataLoader: batch 3 of epoch 0/);
        return true;
      },
    );
    assert.equal(batches, 3, "the batches before the failing one were delivered");
    assert.equal(liveWorkers(), 0, `workers ${workers}`);
  }
});

Deno.test("images of different sizes in one batch: Error names both samples and sizes", async () => {
  for (const workers of [0, 2]) {
    const ds = new ToyDataset({ length: 12, size: 5, oddSizeAt: 6 });
    const loader = new data.DataLoader(ds, { batchSize: 4, workers });
    await assert.rejects(
      async () => {
        for await (using _ of loader) { /* consume */ }
      },
      /batch 1 of epoch 0: images in one batch differ in size: sample 4 is 5x5 \(w x h\) but sample 6 is 6x6/,
    );
    assert.equal(liveWorkers(), 0);
  }
});

Deno.test("a worker that cannot open its dataset fails the loader, naming the module", async () => {
  const ds = new ToyDataset({ length: 8, size: 4 });
  ds.workerSpec = () => ({
    module: new URL("./no_such_dataset.ts", import.meta.url).href,
    spec: { length: 8 },
  });
  const loader = new data.DataLoader(ds, { batchSize: 4, workers: 1 });
  await assert.rejects(async () => {
    for await (using _ of loader) { /* consume */ }
  }, /cannot import dataset module .*no_such_dataset\.ts/);
  assert.equal(liveWorkers(), 0);
});

Deno.test("bad loader options fail at construction", () => {
  const ds = new ToyDataset({ length: 8 });
  assert.throws(
    () => new data.DataLoader(ds, { batchSize: 0 }),
    /batchSize must be an integer >= 1/,
  );
  assert.throws(() => new data.DataLoader(ds, { workers: -1 }), /workers must be an integer >= 0/);
  assert.throws(
    () => new data.DataLoader(ds, { shuffle: true, sampler: new data.SequentialSampler(8) }),
    /mutually exclusive/,
  );
  assert.throws(
    () => new data.DataLoader(ds, { transform: { name: "RandomAffine", degrees: -5 } }),
    /RandomAffine: degrees must be a finite number >= 0/,
  );
});

Deno.test("batch tensors are freed by `using`: memory flat across epochs", async () => {
  const ds = new ToyDataset({ length: 16, size: 8, noWorkers: true });
  const loader = new data.DataLoader(ds, { batchSize: 4 });
  await collect(loader);
  const before = memoryStats().bytesInUse;
  for (let e = 0; e < 3; e++) await collect(loader);
  assert.equal(memoryStats().bytesInUse, before);
});

Deno.test("samplers: class-balanced draws even out skewed classes; weighted without replacement", () => {
  const labels = Array.from({ length: 1000 }, (_, i) => (i < 700 ? 0 : i < 880 ? 1 : 2));
  const s = data.classBalancedSampler(labels);
  const counts = [0, 0, 0];
  for (const i of s.indices(0, 3)) counts[labels[i]]++;
  assert.ok(counts.every((c) => c > 280 && c < 390), `class counts ${counts}`);
  assert.notDeepEqual([...s.indices(1, 3)], [...s.indices(0, 3)]);
  assert.deepEqual([...s.indices(1, 3)], [...s.indices(1, 3)]);
  const ds = new ToyDataset({ length: 30 });
  assert.equal(data.classBalancedSampler(ds).length, 30);
  const plain: Dataset = { length: 3, get: (i) => ds.get(i) };
  assert.throws(
    () => data.classBalancedSampler(plain as never),
    /pass `await datasetLabels\(dataset\)`/,
  );
  const w = new data.WeightedRandomSampler([1, 0, 3, 2, 5], 3, { replacement: false });
  const picked = [...w.indices(0, 1)];
  assert.equal(new Set(picked).size, 3);
  assert.ok(!picked.includes(1));
  assert.throws(() => new data.WeightedRandomSampler([0, 0], 2), /weights must not all be 0/);
  // torch: ValueError: num_samples should be a positive integer value, but got num_samples=0
  assert.throws(() => new data.WeightedRandomSampler([1, 2], 0), /numSamples must be a positive/);
  assert.throws(
    () => new data.RandomSampler(4, { numSamples: 0 }),
    /numSamples must be a positive/,
  );
  assert.throws(
    () => new data.WeightedRandomSampler([1, -1], 2),
    /weight 1 must be finite and >= 0/,
  );
  const r = new data.RandomSampler(5, { replacement: true, numSamples: 12 });
  assert.equal(r.indices(0, 0).length, 12);
});

Deno.test("a class-balanced sampler drives the loader", async () => {
  const ds = new ToyDataset({ length: 30, size: 2, noWorkers: true });
  const labels = await data.datasetLabels(ds);
  const read = await data.datasetLabels({ length: 4, get: (i) => ds.get(i) });
  assert.deepEqual([...read], [0, 1, 2, 0]);
  const loader = new data.DataLoader(ds, {
    batchSize: 10,
    sampler: data.classBalancedSampler(labels, { numSamples: 20 }),
  });
  const batches = await collect(loader);
  assert.deepEqual(batches.map((b) => b.shape[0]), [10, 10]);
  assert.ok(batches.flatMap((b) => b.indices).every((i) => i >= 0 && i < 30));
});
