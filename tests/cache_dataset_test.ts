/**
 * CacheDataset (MONAI's): the wrapped dataset's get(i) runs once per cached
 * item, the cache holds the first min(cacheNum, floor(length * cacheRate))
 * items (the rest read through), training through it gives the wrapped
 * dataset's batches with 0 and 2 loader workers, a fill in worker threads
 * gives the same samples as one on the main thread, the cached voxels are
 * shared with the loader's workers (not copied), handed-out samples are
 * copies, and bad arguments fail naming what to write.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data } from "../mod.ts";
import { liveFillWorkers } from "../src/data/cache_dataset.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import type { Dataset, Sample, VolumeSample } from "../src/data/types.ts";
import { testDevice } from "./helpers.ts";
import { encodeNifti } from "./nifti_files.ts";
import { ToyDataset } from "./toy_dataset.ts";

const V = data.transforms.volume;

/** A dataset that counts its get(i) calls (per item); no workerSpec. */
class Counting implements Dataset {
  calls: number[];
  constructor(readonly base: Dataset) {
    this.calls = new Array(base.length).fill(0);
  }
  get length(): number {
    return this.base.length;
  }
  get total(): number {
    return this.calls.reduce((a, b) => a + b, 0);
  }
  get(i: number): Promise<Sample | VolumeSample> {
    this.calls[i]++;
    return this.base.get(i);
  }
}

/** Every batch of one epoch as plain arrays. */
async function collect(loader: data.DataLoader) {
  const out: { images: number[]; shape: number[]; labels: number[]; indices: number[] }[] = [];
  for await (using b of loader) {
    out.push({
      images: [...b.images.toArray()],
      shape: [...b.images.shape],
      labels: [...b.labels.toArray()],
      indices: [...b.indices],
    });
  }
  return out;
}

/** Two epochs of a fresh loader over `ds`. */
async function twoEpochs(ds: Dataset, options: data.DataLoaderOptions) {
  const loader = new data.DataLoader(ds, { ...options, device: testDevice });
  return [await collect(loader), await collect(loader)];
}

/** Expects `p` to reject with a message matching `re`, and no worker left running. */
async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
  assert.equal(liveFillWorkers(), 0, "no fill worker left running");
  assert.equal(liveWorkers(), 0, "no loader worker left running");
}

// ---- NIfTI files written here ----------------------------------------------

const tmp = await Deno.makeTempDir({ prefix: "cache_dataset_" });
let fileNo = 0;

/** A float32 single-file NIfTI-1 of `dims` (i fastest), voxel (i, j, k) = value(i, j, k). */
async function writeNifti(
  dims: number[],
  value: (i: number, j: number, k: number) => number,
  spacing = [1, 1, 1],
): Promise<string> {
  const path = join(tmp, `v${fileNo++}.nii`);
  await Deno.writeFile(path, encodeNifti(dims, value, spacing));
  return path;
}

/** Volume items of the given sizes, each with its own values, spacing and label. */
async function volumeItems(sizes: number[][]): Promise<data.VolumeItem[]> {
  const items: data.VolumeItem[] = [];
  for (const [n, dims] of sizes.entries()) {
    const path = await writeNifti(
      dims,
      (i, j, k) => (37 * n + 11 * i + 5 * j + 3 * k) % 200,
      [0.5 + n, 0.75, 2.5],
    );
    items.push({ image: path, label: n % 3 });
  }
  return items;
}

const SCALE = new V.ScaleIntensityRange({ aMin: 0, aMax: 200, bMin: 0, bMax: 1, clip: true });

// ---- Caching -----------------------------------------------------------------

Deno.test("CacheDataset: get(i) runs once per item; samples, labels and bytes as the wrapped dataset's", async () => {
  const base = new ToyDataset({ length: 10 });
  const counting = new Counting(base);
  const ds = await data.CacheDataset.create(counting);
  assert.deepEqual(counting.calls, new Array(10).fill(1), "each item read once while filling");
  assert.equal(ds.length, 10);
  assert.equal(ds.cacheNum, 10);
  assert.equal(ds.cacheRate, 1);
  assert.equal(ds.numWorkers, 1);
  assert.equal(ds.copyCache, true);
  assert.equal(ds.cachedBytes, 10 * 64 * 4, "10 images of 8x8 float32");
  assert.equal(ds.dataset, counting);
  for (let i = 0; i < 10; i++) assert.deepEqual(await ds.get(i), await base.get(i), `item ${i}`);
  assert.deepEqual(await ds.get(-2), await base.get(8), "negative index from the end");
  assert.deepEqual(ds.labels, base.labels, "labels of the cached items");
  assert.deepEqual(ds.classCounts?.(), [4, 3, 3]);
  assert.equal(counting.total, 10, "no read after the fill");
  await assert.rejects(ds.get(10), /CacheDataset\.get: index 10 out of range \[-10, 10\)/);
  await assert.rejects(ds.get(1.5), RangeError);
});

Deno.test("CacheDataset: cacheRate 0.5 caches half (bytes counted); the rest is read through every call", async () => {
  const counting = new Counting(new ToyDataset({ length: 10 }));
  const ds = await data.CacheDataset.create(counting, { cacheRate: 0.5 });
  assert.equal(ds.cacheNum, 5);
  assert.equal(ds.cachedBytes, 5 * 64 * 4, "half the bytes of the full cache");
  assert.deepEqual(counting.calls, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], "only the first half read");
  await ds.get(2);
  await ds.get(7);
  await ds.get(7);
  await ds.get(-1);
  assert.deepEqual(counting.calls, [1, 1, 1, 1, 1, 0, 0, 2, 0, 1], "items 5.. read through");
  assert.equal(ds.labels, undefined, "the wrapped dataset holds no labels, some are not cached");
  assert.equal(ds.workerSpec, undefined, "the uncached items can only be read here");
  // MONAI's cache_num = min(cache_num, int(len * cache_rate), len).
  const cases: [data.CacheDatasetOptions, number][] = [
    [{}, 10],
    [{ cacheRate: 0.7 }, 7], // 10 * 0.7 = 7.000000000000001
    [{ cacheRate: 0.29 }, 2],
    [{ cacheRate: 0.99 }, 9],
    [{ cacheRate: 0 }, 0],
    [{ cacheNum: 3 }, 3],
    [{ cacheNum: 3, cacheRate: 0.2 }, 2],
    [{ cacheNum: 100 }, 10],
    [{ cacheNum: 0 }, 0],
    [{ cacheNum: Infinity, cacheRate: 0.5 }, 5],
  ];
  for (const [options, want] of cases) {
    const c = await data.CacheDataset.create(new ToyDataset({ length: 10 }), options);
    assert.equal(c.cacheNum, want, JSON.stringify(options));
    assert.equal(c.cachedBytes, want * 256, JSON.stringify(options));
  }
});

Deno.test("CacheDataset: samples handed out are copies; workers share the cached memory", async () => {
  const base = new ToyDataset({ length: 4 });
  const ds = await data.CacheDataset.create(base);
  const first = await ds.get(1);
  assert.ok(!(first.image.data.buffer instanceof SharedArrayBuffer), "a copy in its own memory");
  first.image.data.fill(99);
  assert.deepEqual(
    await ds.get(1),
    await base.get(1),
    "an in-place edit leaves the cache as it was",
  );

  const { spec } = ds.workerSpec!() as { spec: { store: { chunks: SharedArrayBuffer[] } } };
  assert.ok(spec.store.chunks.length > 0);
  for (const c of spec.store.chunks) assert.ok(c instanceof SharedArrayBuffer);
  const again = ds.workerSpec!().spec as typeof spec;
  assert.ok(again.store.chunks.every((c, k) => c === spec.store.chunks[k]), "the same memory");

  // copyCache: false hands out views of the cache. Kept workers got the cache with the first
  // epoch's spec; a write made after that shows in their next epoch: the memory is shared.
  const views = await data.CacheDataset.create(base, { copyCache: false });
  const view = (await views.get(2)).image.data;
  assert.ok(view.buffer instanceof SharedArrayBuffer);
  assert.ok(
    view.byteLength < view.buffer.byteLength,
    "no view spans a whole buffer (recycle pool)",
  );
  const want = [...(await base.get(2)).image.data];
  for (const workers of [0, 2]) {
    view.set(want);
    const persistentWorkers = workers > 0; // torch refuses persistent workers without workers
    using loader = new data.DataLoader(views, { batchSize: 4, workers, persistentWorkers });
    const [before] = await collect(loader);
    assert.deepEqual(before.images.slice(128, 192), want, `workers ${workers}`);
    view.fill(5);
    assert.deepEqual([...(await views.get(2)).image.data], new Array(64).fill(5));
    const [after] = await collect(loader);
    assert.deepEqual(after.images.slice(128, 192), new Array(64).fill(5), `workers ${workers}`);
    assert.deepEqual(after.images.slice(0, 64), [...(await base.get(0)).image.data]);
  }
  assert.equal(liveWorkers(), 0);
});

Deno.test("CacheDataset: samples may differ in size (2-D here, volumes below)", async () => {
  const base = new ToyDataset({ length: 4, oddSizeAt: 2 });
  const ds = await data.CacheDataset.create(base, { numWorkers: 2 });
  for (let i = 0; i < 4; i++) assert.deepEqual(await ds.get(i), await base.get(i), `item ${i}`);
  assert.equal((await ds.get(2)).image.width, 9);
  assert.equal(ds.cachedBytes, 4 * (3 * 64 + 81));
});

// ---- Volumes: workers fill it, training reads it -----------------------------

Deno.test("CacheDataset: a fill in worker threads gives the samples of one on the main thread", async () => {
  const items = await volumeItems([[4, 5, 3], [3, 4, 6], [5, 2, 2], [4, 5, 3], [2, 3, 7]]);
  const vds = new data.VolumeDataset(items, { transform: [SCALE] });
  const one = await data.CacheDataset.create(vds, { numWorkers: 1 });
  const two = await data.CacheDataset.create(vds, { numWorkers: 2 });
  const all = await data.CacheDataset.create(vds, { numWorkers: null });
  assert.equal(two.numWorkers, 2);
  assert.equal(all.numWorkers, navigator.hardwareConcurrency);
  assert.equal(liveFillWorkers(), 0, "the fill workers are gone");
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const want = await vds.get(i) as VolumeSample;
    bytes += want.image.data.byteLength;
    assert.deepEqual(want.image.spacing, [0.5 + i, 0.75, 2.5], "spacing kept by the pre-transform");
    assert.deepEqual(await one.get(i), want, `item ${i}, main thread`);
    assert.deepEqual(await two.get(i), want, `item ${i}, 2 workers`);
    assert.deepEqual(await all.get(i), want, `item ${i}, a worker per core`);
  }
  assert.equal(one.cachedBytes, bytes);
  assert.equal(two.cachedBytes, bytes);
  assert.deepEqual(one.labels, vds.labels);
  assert.deepEqual(two.classCounts?.(), vds.classCounts());

  // numWorkers 2 reads through the dataset's worker spec (a module that is not there fails),
  // numWorkers 1 on the main thread (it works).
  const toy = new ToyDataset({ length: 3 });
  const elsewhere: Dataset = {
    length: 3,
    get: (i) => toy.get(i),
    workerSpec: () => ({ module: new URL("./no_such_dataset.ts", import.meta.url).href, spec: {} }),
  };
  await rejects(
    data.CacheDataset.create(elsewhere, { numWorkers: 2 }),
    /data\.CacheDataset: filling the cache: item \d: .*no_such_dataset\.ts/,
  );
  assert.equal((await data.CacheDataset.create(elsewhere, { numWorkers: 1 })).cacheNum, 3);
});

Deno.test("CacheDataset: training through it gives the wrapped dataset's batches (workers 0 and 2), files read once", async () => {
  const items = await volumeItems([[6, 5, 4], [5, 6, 4], [6, 6, 3], [4, 5, 6], [6, 4, 5], [
    5,
    5,
    5,
  ]]);
  const pre = [SCALE, new V.Resize({ spatialSize: [4, 4, 4], mode: "trilinear" })];
  const vds = new data.VolumeDataset(items, { transform: pre });
  const counting = new Counting(vds);
  const ds = await data.CacheDataset.create(counting, { numWorkers: 2 });
  assert.ok(ds.workerSpec, "fully cached: the loader's workers read the cache");
  const augment = V.compose([
    new V.RandFlip({ p: 0.5, spatialAxis: 0 }),
    new V.RandRotate90({ p: 0.5, spatialAxes: [0, 1] }),
    new V.RandScaleIntensity({ factors: 0.2, p: 1 }),
  ]);
  const options = { batchSize: 4, shuffle: true, seed: 11, transform: augment };
  const want = await twoEpochs(vds, { ...options, workers: 0 });
  assert.deepEqual(want[0][0].shape, [4, 1, 4, 4, 4]);
  assert.notDeepEqual(want[0], want[1], "the epochs differ (order and augmentation)");
  for (const workers of [0, 2]) {
    const got = await twoEpochs(ds, { ...options, workers });
    assert.deepEqual(got, want, `workers ${workers}`);
  }
  assert.deepEqual(counting.calls, new Array(6).fill(1), "get(i) once per item, across epochs");
  assert.equal(liveWorkers(), 0);

  // Half cached over a dataset with a worker spec: workers read the cache and the files.
  const half = await data.CacheDataset.create(vds, { cacheRate: 0.5 });
  assert.equal(half.cacheNum, 3);
  for (const workers of [0, 2]) {
    assert.deepEqual(
      await twoEpochs(half, { ...options, workers }),
      want,
      `half, workers ${workers}`,
    );
  }
  assert.equal(liveWorkers(), 0);
});

// ---- Errors --------------------------------------------------------------------

Deno.test("CacheDataset: bad options fail naming what to write", async () => {
  const ds = new ToyDataset({ length: 4 });
  const bad: [unknown, RegExp][] = [
    [{ cacheRate: -0.1 }, /cacheRate must be a number in \[0, 1\].*got number -0\.1/],
    [{ cacheRate: 1.5 }, /cacheRate must be a number in \[0, 1\]/],
    [{ cacheRate: 50 }, /cacheRate .*a percentage\? write 0\.5/],
    [{ cacheRate: NaN }, /cacheRate must be a number in \[0, 1\].*NaN/],
    [{ cacheRate: "0.5" }, /cacheRate must be a number.*the string "0\.5"/],
    [{ cacheNum: -1 }, /cacheNum must be an integer >= 0.*leave it out to cache every item/],
    [{ cacheNum: 2.5 }, /cacheNum must be an integer >= 0/],
    [{ cacheNum: NaN }, /cacheNum must be an integer >= 0/],
    [{ cacheNum: "3" }, /cacheNum must be an integer >= 0/],
    [{ numWorkers: -1 }, /numWorkers must be an integer >= 0.*or null/],
    [{ numWorkers: 1.5 }, /numWorkers must be an integer >= 0/],
    [{ copyCache: "yes" }, /copyCache must be true or false/],
    [{ progress: 1 }, /progress must be true or false/],
    [{ cache_rate: 0.5 }, /unknown option 'cache_rate' \(write 'cacheRate'\)/],
    [{ cache_num: 5 }, /unknown option 'cache_num' \(write 'cacheNum'\)/],
    [{ num_workers: 4 }, /unknown option 'num_workers' \(write 'numWorkers'\)/],
    [{ copy_cache: false }, /unknown option 'copy_cache' \(write 'copyCache'\)/],
    [{ hash_as_key: true }, /unknown option 'hash_as_key'; known options: cacheNum/],
    [{ transform: SCALE }, /unknown option 'transform'; the deterministic transforms belong/],
    [0.5, /expected an options object, got number 0\.5/],
  ];
  for (const [options, re] of bad) {
    await assert.rejects(
      data.CacheDataset.create(ds, options as data.CacheDatasetOptions),
      (e: Error) => {
        assert.match(e.message, /^data\.CacheDataset/, JSON.stringify(options));
        assert.match(e.message, re, JSON.stringify(options));
        return true;
      },
    );
  }
  const positional = data.CacheDataset.create as unknown as (...a: unknown[]) => Promise<unknown>;
  await assert.rejects(
    positional.call(data.CacheDataset, ds, SCALE, 1.0),
    /takes at most 2 arguments.*CacheDataset\.create\(dataset, \{ cacheRate: 1\.0/,
  );
  const ctor = data.CacheDataset as unknown as new (...a: unknown[]) => unknown;
  assert.throws(
    () => new ctor(ds, { cacheRate: 1 }),
    /build it with await data\.CacheDataset\.create/,
  );
});

Deno.test("CacheDataset: a dataset that is not one, or an item that fails, is an Error naming it", async () => {
  for (const notOne of [null, {}, 5, "items.json", { length: 3 }]) {
    await rejects(
      data.CacheDataset.create(notOne as Dataset),
      /data\.CacheDataset: dataset must be a Dataset \(an integer length and a get\(i\) method/,
    );
  }
  await rejects(
    data.CacheDataset.create([{ image: "ct.nii.gz", label: 0 }] as unknown as Dataset),
    /the first argument is an array of 1, not a Dataset; MONAI's CacheDataset\(data=items.*new data\.VolumeDataset\(items, \{ transform \}\)/,
  );
  for (const numWorkers of [1, 2]) {
    await rejects(
      data.CacheDataset.create(new ToyDataset({ length: 6, failAt: 4 }), { numWorkers }),
      /data\.CacheDataset: filling the cache: item 4: toy failure at 4/,
    );
  }
  const tuples: Dataset = {
    length: 2,
    get: () => Promise.resolve([new Float32Array(4), 1] as unknown as Sample),
  };
  await rejects(
    data.CacheDataset.create(tuples),
    /filling the cache: item 0: get\(i\) returned an array of 2 \(a PyTorch \(image, label\) tuple\?\)/,
  );
  const missing = new data.VolumeDataset([{ image: join(tmp, "gone.nii"), label: 0 }]);
  for (const numWorkers of [1, 2]) {
    await rejects(
      data.CacheDataset.create(missing, { numWorkers }),
      /filling the cache: item 0: data\.VolumeDataset: item 0: .*gone\.nii/,
    );
  }
});
