/**
 * CT volumes through the DataLoader: VolumeDataset reads NIfTI files in
 * MONAI's [X, Y, Z] order (checked against nibabel, and on files written
 * here in every orientation), the loader batches volumes as
 * [N, 1, D, H, W] with volume transforms applied per sample from the
 * sample's own stream (the same with 0 and 2 workers; the values torch
 * computes for MONAI's pipeline), 2-D batches stay as they were, bad items
 * and mixed datasets fail naming the sample, and a small Conv3d classifier
 * trains through the loader with flat memory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  data,
  type Device,
  functional as F,
  manualSeed,
  memoryStats,
  nn,
  optim,
  scope,
  tensor,
} from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import type { Dataset } from "../src/data/types.ts";
import {
  assertClose,
  loadFixture,
  type Stored,
  type StoredNumber,
  storedNumber,
  testDevice,
} from "./helpers.ts";
import { ToyDataset } from "./toy_dataset.ts";

const V = data.transforms.volume;
const NIFTI = new URL("./fixtures/nifti/", import.meta.url);

interface FileExpect {
  shape: number[];
  axcodes: string;
  nanCount: number;
  sum: number;
  axisSums: number[][];
  voxels: StoredNumber[][];
}
const FIX = loadFixture<{
  files: Record<string, FileExpect>;
  pipeline: {
    files: string[];
    scale: { aMin: number; aMax: number; bMin: number; bMax: number; clip: boolean };
    resize: { spatialSize: [number, number, number]; mode: "trilinear" };
    batch: Stored;
  };
}>("volume_loader.json");

// ---- NIfTI files written here -------------------------------------------

interface NiftiOptions {
  /** Sizes along i, j, k (and more for 4-D). */
  dims: number[];
  /** Stored value of voxel (i, j, k). */
  value: (i: number, j: number, k: number) => number;
  dtype?: "int16" | "float32";
  slope?: number;
  inter?: number;
  /** 3x4 sform rows (default identity: RAS). */
  sform?: number[][];
}

/** A little-endian single-file NIfTI-1 image (i fastest on disk, as the format stores it). */
function encodeNifti(o: NiftiOptions): Uint8Array {
  const [code, bytes] = o.dtype === "float32" ? [16, 4] : [4, 2];
  const count = o.dims.reduce((a, b) => a * b, 1);
  const buf = new ArrayBuffer(352 + count * bytes);
  const v = new DataView(buf);
  v.setInt32(0, 348, true);
  const dim = [o.dims.length, ...o.dims, ...Array(7 - o.dims.length).fill(1)];
  dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, code, true);
  v.setInt16(72, bytes * 8, true);
  for (let i = 0; i < 8; i++) v.setFloat32(76 + 4 * i, 1, true);
  v.setFloat32(108, 352, true);
  v.setFloat32(112, o.slope ?? 0, true);
  v.setFloat32(116, o.inter ?? 0, true);
  v.setInt16(254, 1, true);
  const sform = o.sform ?? [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
  sform.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, true)));
  new Uint8Array(buf).set([0x6e, 0x2b, 0x31, 0], 344);
  const [nx, ny, nz] = [o.dims[0], o.dims[1] ?? 1, o.dims[2] ?? 1];
  for (let n = 0; n < count; n++) {
    const i = n % nx, j = Math.floor(n / nx) % ny, k = Math.floor(n / (nx * ny)) % nz;
    const x = o.value(i, j, k) + Math.floor(n / (nx * ny * nz)); // 4-D frames differ
    if (o.dtype === "float32") v.setFloat32(352 + 4 * n, x, true);
    else v.setInt16(352 + 2 * n, x, true);
  }
  return new Uint8Array(buf);
}

const tmp = await Deno.makeTempDir({ prefix: "volume_loader_" });
let fileNo = 0;

/** Writes a NIfTI file (gzipped for a .gz name) in the test's temp dir; returns its path. */
async function writeNifti(o: NiftiOptions, ext = ".nii"): Promise<string> {
  const path = join(tmp, `v${fileNo++}${ext}`);
  const bytes = encodeNifti(o);
  await Deno.writeFile(path, ext.endsWith(".gz") ? gzipSync(bytes) : bytes);
  return path;
}

/** A value that names its voxel: i, j, k in 0..9. */
const code = (i: number, j: number, k: number) => 100 * i + 10 * j + k;

/** Every batch of one epoch as plain arrays. */
async function collect(loader: data.DataLoader) {
  const out: { images: Float32Array; shape: number[]; labels: number[]; indices: number[] }[] = [];
  for await (using b of loader) {
    out.push({
      images: b.images.toArray() as Float32Array,
      shape: [...b.images.shape],
      labels: [...b.labels.toArray()],
      indices: [...b.indices],
    });
  }
  return out;
}

/** Expects `p` to reject with a message matching `re`, and no loader worker left running. */
async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
  assert.equal(liveWorkers(), 0, "no worker left running");
}

// ---- VolumeDataset reads -------------------------------------------------

Deno.test("VolumeDataset: nibabel's voxels in [X, Y, Z] order as [D, H, W], scaled", async () => {
  const names = Object.keys(FIX.files);
  const ds = new data.VolumeDataset(
    names.map((name, i) => ({ image: new URL(name, NIFTI).pathname, label: i })),
  );
  assert.equal(ds.length, names.length);
  for (const [n, name] of names.entries()) {
    const e = FIX.files[name];
    const { image, label } = await ds.get(n);
    assert.equal(label, n);
    assert.deepEqual([image.depth, image.height, image.width], e.shape, name);
    assert.ok(image.data instanceof Float32Array);
    const [d, h, w] = e.shape;
    for (const [i, j, k, want] of e.voxels as [number, number, number, StoredNumber][]) {
      const got = image.data[(i * h + j) * w + k];
      assert.ok(
        Object.is(got, Math.fround(storedNumber(want))),
        `${name} [${i}, ${j}, ${k}]: ${got}`,
      );
    }
    const sums = [new Float64Array(d), new Float64Array(h), new Float64Array(w)];
    let total = 0, nans = 0;
    for (let i = 0, p = 0; i < d; i++) {
      for (let j = 0; j < h; j++) {
        for (let k = 0; k < w; k++, p++) {
          const x = image.data[p];
          if (Number.isNaN(x)) {
            nans++;
            continue;
          }
          sums[0][i] += x;
          sums[1][j] += x;
          sums[2][k] += x;
          total += x;
        }
      }
    }
    assert.equal(nans, e.nanCount, `${name} NaN voxels`);
    assertClose([total], [e.sum], { rtol: 1e-6, what: `${name} sum` });
    sums.forEach((s, a) =>
      assertClose(s, e.axisSums[a], { rtol: 1e-6, what: `${name} axis ${a}` })
    );
  }
  assert.equal((await ds.get(-1)).label, names.length - 1, "negative index from the end");
});

Deno.test("VolumeDataset: every orientation gives the file's index order; gzip; HU from the slope", async () => {
  const sforms: number[][][] = [
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], // RAS
    [[-1, 0, 0, 4], [0, -1, 0, 3], [0, 0, 1, 0]], // LPS
    [[-1, 0, 0, 4], [0, 1, 0, 0], [0, 0, -1, 2]], // LAI
    [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]], // i and j swapped
    [[0, 0, 1, 0], [1, 0, 0, 0], [0, -1, 0, 0]], // slice axis first, rows flipped
  ];
  const dims = [5, 4, 3];
  const items = [];
  for (const [n, sform] of sforms.entries()) {
    for (const ext of [".nii", ".nii.gz"]) {
      const path = await writeNifti({ dims, value: code, sform, slope: 2, inter: -1024 }, ext);
      items.push({ image: path, label: n });
    }
  }
  const ds = new data.VolumeDataset(items);
  for (let n = 0; n < ds.length; n++) {
    const { image } = await ds.get(n);
    assert.deepEqual([image.depth, image.height, image.width], dims, items[n].image);
    const want = new Float32Array(60);
    for (let i = 0, p = 0; i < 5; i++) {
      for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) want[p++] = 2 * code(i, j, k) - 1024;
    }
    assert.deepEqual(image.data, want, `${items[n].image}: voxel (i, j, k) at (i * H + j) * W + k`);
  }
});

Deno.test("VolumeDataset: orientation 'SPL' gives readNifti's radiological slices, on nibabel's files", async () => {
  // readNifti's slices run inferior -> superior, rows anterior -> posterior,
  // columns right -> left: as [D, H, W], the axis codes "SPL".
  for (const name of Object.keys(FIX.files)) {
    const path = new URL(name, NIFTI).pathname;
    const vol = await data.readNifti(path);
    if (vol.frames > 1) continue;
    const want = new Float32Array(vol.depth * vol.height * vol.width);
    for await (const { index, data: pixels } of vol.slices()) {
      want.set(pixels, index * pixels.length);
    }
    const ds = new data.VolumeDataset([{ image: path, label: 0 }], { orientation: "SPL" });
    const { image } = await ds.get(0);
    assert.deepEqual([image.depth, image.height, image.width], [vol.depth, vol.height, vol.width]);
    assert.deepEqual(image.data, want, name);
    assert.deepEqual(image.spacing, [vol.spacing[2], vol.spacing[1], vol.spacing[0]], name);
  }
});

Deno.test("VolumeDataset: a deterministic transform runs in get(i), and in workers", async () => {
  const path = await writeNifti({ dims: [4, 6, 2], value: code, dtype: "float32" });
  const t = [new V.Flip({ spatialAxis: 0 }), new V.SpatialPad({ spatialSize: [4, 6, 4] })];
  const ds = new data.VolumeDataset([{ image: path, label: 1 }], { transform: t });
  assert.equal(ds.transform?.name, "volume.Compose");
  const { image } = await ds.get(0);
  assert.deepEqual([image.depth, image.height, image.width], [4, 6, 4]);
  // Expected by hand: flip i, pad k from 2 to 4 (one zero on each side).
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 6; j++) {
      const row = [...image.data.subarray((i * 6 + j) * 4, (i * 6 + j + 1) * 4)];
      assert.deepEqual(row, [0, code(3 - i, j, 0), code(3 - i, j, 1), 0], `row (${i}, ${j})`);
    }
  }
  const [w0] = await collect(new data.DataLoader(ds, { workers: 0 }));
  const [w2] = await collect(new data.DataLoader(ds, { workers: 2 }));
  assert.deepEqual(w0.shape, [1, 1, 4, 6, 4]);
  assert.deepEqual(w0.images, image.data);
  assert.deepEqual(w2.images, image.data, "the worker rebuilt the dataset's transform");
  assert.equal(liveWorkers(), 0);
});

// ---- The loader batches volumes --------------------------------------------

Deno.test("DataLoader: files of three shapes -> [3, 1, 6, 5, 4], torch's ScaleIntensityRange + Resize", async () => {
  const { files, scale, resize, batch } = FIX.pipeline;
  const ds = new data.VolumeDataset(
    files.map((f, i) => ({ image: new URL(f, NIFTI).pathname, label: i })),
  );
  const pipeline = V.compose([new V.ScaleIntensityRange(scale), new V.Resize(resize)]);
  for (const workers of [0, 2]) {
    const loader = new data.DataLoader(ds, {
      batchSize: 3,
      transform: pipeline,
      workers,
      device: testDevice,
    });
    let seen = 0;
    for await (using b of loader) {
      assert.deepEqual(b.images.shape, [3, 1, 6, 5, 4]);
      assert.equal(b.images.device, testDevice);
      assert.deepEqual([...b.labels.toArray()], [0, 1, 2]);
      assertClose(b.images, batch.data as number[], {
        rtol: 1e-5,
        atol: 1e-6,
        what: `workers ${workers}`,
      });
      seen++;
    }
    assert.equal(seen, 1);
    assert.equal(liveWorkers(), 0);
  }
  // The same pipeline given as specs, and as the dataset's own (deterministic) transform.
  const specs = JSON.parse(JSON.stringify(pipeline.spec.transforms));
  const viaSpecs = await collect(new data.DataLoader(ds, { batchSize: 3, transform: specs }));
  assertClose(viaSpecs[0].images, batch.data as number[], { what: "specs" });
  const pre = new data.VolumeDataset(ds.items, { transform: pipeline });
  const viaDataset = await collect(new data.DataLoader(pre, { batchSize: 3 }));
  assertClose(viaDataset[0].images, batch.data as number[], { what: "dataset transform" });
});

/** 8 volumes 6x5x4 of two classes: class 1 holds a bright cube (HU, int16 + inter -1024). */
async function twoClassItems(count = 8): Promise<data.VolumeItem[]> {
  const items: data.VolumeItem[] = [];
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    const value = (i: number, j: number, k: number) => {
      const inCube = i >= 1 && i < 4 && j >= 1 && j < 4 && k >= 1 && k < 3;
      return 1000 + ((i * 7 + j * 3 + k + n) % 11) + (label && inCube ? 250 : 0);
    };
    items.push({
      image: await writeNifti({ dims: [6, 5, 4], value, inter: -1024, slope: 1 }),
      label,
    });
  }
  return items;
}

const augment = () =>
  V.compose([
    new V.ScaleIntensityRange({ aMin: -100, aMax: 300, bMin: 0, bMax: 1, clip: true }),
    new V.RandFlip({ p: 0.5, spatialAxis: 0 }),
    new V.RandRotate90({ p: 0.5, maxK: 3, spatialAxes: [1, 2] }),
    new V.RandGaussianNoise({ p: 0.5, std: 0.05 }),
    new V.ResizeWithPadOrCrop({ spatialSize: [6, 6, 6] }),
  ]);

Deno.test("DataLoader: random volume transforms draw from Rng.forSample(seed, epoch, position); 0 and 2 workers agree", async () => {
  const ds = new data.VolumeDataset(await twoClassItems());
  const t = augment();
  const opts = { batchSize: 3, shuffle: true, seed: 17, transform: t };
  const loader0 = new data.DataLoader(ds, { ...opts, workers: 0 });
  const loader2 = new data.DataLoader(ds, { ...opts, workers: 2, prefetch: 1 });
  for (let epoch = 0; epoch < 2; epoch++) {
    const ref = await collect(loader0);
    const got = await collect(loader2);
    assert.equal(liveWorkers(), 0);
    assert.deepEqual(ref.map((b) => b.shape), [[3, 1, 6, 6, 6], [3, 1, 6, 6, 6], [2, 1, 6, 6, 6]]);
    assert.deepEqual(got.map((b) => b.indices), ref.map((b) => b.indices));
    assert.deepEqual(got.map((b) => b.labels), ref.map((b) => b.labels));
    got.forEach((b, i) => assert.deepEqual(b.images, ref[i].images, `epoch ${epoch} batch ${i}`));
    // Sample at position p of the epoch: t.apply on its volume with that stream.
    let changed = 0;
    for (const [bi, b] of ref.entries()) {
      for (const [k, index] of b.indices.entries()) {
        const { image } = await ds.get(index);
        const rng = data.Rng.forSample(17, epoch, bi * 3 + k);
        using x = tensor(image.data, [1, image.depth, image.height, image.width]);
        using y = t.apply(x, rng);
        const slice = b.images.subarray(k * 216, (k + 1) * 216);
        assert.deepEqual(slice, y.toArray(), `epoch ${epoch} position ${bi * 3 + k}`);
        using plain = V.compose(t.transforms.filter((s) => !s.name.includes("Rand"))).apply(x);
        if (!plain.toArray().every((v, m) => v === slice[m])) changed++;
      }
    }
    assert.ok(changed >= 3, `the random transforms changed ${changed} of 8 samples`);
  }
  assert.notDeepEqual(
    (await collect(loader0))[0].images,
    (await collect(new data.DataLoader(ds, { ...opts, seed: 18 })))[0].images,
    "another seed, other draws",
  );
});

Deno.test("DataLoader: volume samples from any dataset; dropLast, samplers and persistent workers as for images", async () => {
  const vol = (i: number, d = 2) => ({
    image: { data: new Float32Array(d * 3 * 4).fill(i), width: 4, height: 3, depth: d },
    label: i % 2,
  });
  const ds: Dataset = { length: 5, get: (i) => Promise.resolve(vol(i)) };
  const batches = await collect(new data.DataLoader(ds, { batchSize: 2, dropLast: true }));
  assert.deepEqual(batches.map((b) => b.shape), [[2, 1, 2, 3, 4], [2, 1, 2, 3, 4]]);
  assert.deepEqual(batches[1].images, new Float32Array(48).fill(2, 0, 24).fill(3, 24));
  const sampler = new data.SequentialSampler(5);
  const viaSampler = await collect(new data.DataLoader(ds, { batchSize: 4, sampler }));
  assert.deepEqual(viaSampler.map((b) => b.shape[0]), [4, 1]);
  // Persistent workers over a VolumeDataset: kept between epochs, the same batches.
  const vds = new data.VolumeDataset(await twoClassItems(4));
  using kept = new data.DataLoader(vds, {
    batchSize: 2,
    workers: 2,
    persistentWorkers: true,
    transform: augment(),
    seed: 3,
  });
  const e0 = await collect(kept);
  assert.equal(liveWorkers(), 2);
  kept.setEpoch(0);
  assert.deepEqual((await collect(kept)).map((b) => b.images), e0.map((b) => b.images));
  kept.close();
  assert.equal(liveWorkers(), 0);
  // A Subset of a VolumeDataset in workers (rebuilt from the base's spec); one spec as the transform.
  const sub = new data.Subset(vds, [3, 1]);
  const specOpts = { batchSize: 2, transform: { name: "volume.Flip", spatialAxis: 2 }, seed: 1 };
  const [s0] = await collect(new data.DataLoader(sub, { ...specOpts, workers: 0 }));
  const [s2] = await collect(new data.DataLoader(sub, { ...specOpts, workers: 2 }));
  assert.deepEqual(s0.indices, [0, 1]);
  assert.deepEqual(s0.labels, [1, 1]);
  assert.deepEqual(s2.images, s0.images);
  const v3 = (await vds.get(3)).image.data;
  assert.deepEqual([...s0.images.subarray(0, 4)], [...v3.subarray(0, 4)].reverse(), "flipped W");
  assert.equal(liveWorkers(), 0);
});

Deno.test("DataLoader: 2-D samples batch as before ([N, 1, H, W], 2-D transforms, specs)", async () => {
  const ds = new ToyDataset({ length: 6, size: 5 });
  const plain = await collect(new data.DataLoader(ds, { batchSize: 4 }));
  assert.deepEqual(plain.map((b) => b.shape), [[4, 1, 5, 5], [2, 1, 5, 5]]);
  assert.deepEqual(plain[1].images.subarray(0, 25), (await ds.get(4)).image.data);
  const spec = [{ name: "RandomHorizontalFlip", p: 1 }];
  const flipped = await collect(new data.DataLoader(ds, { batchSize: 4, transform: spec }));
  const flipped2 = await collect(
    new data.DataLoader(ds, { batchSize: 4, transform: spec, workers: 2 }),
  );
  assert.deepEqual(flipped.map((b) => b.shape), [[4, 1, 5, 5], [2, 1, 5, 5]]);
  assert.deepEqual(flipped2.map((b) => b.images), flipped.map((b) => b.images));
  assert.equal(flipped[0].images[0], plain[0].images[4], "the 2-D flip ran");
  const loader = new data.DataLoader(ds, { transform: spec });
  assert.ok(loader.transform instanceof data.transforms.Transform, "a 2-D spec list stays 2-D");
});

// ---- Refused ---------------------------------------------------------------

Deno.test("DataLoader: volumes of different sizes, mixed 2-D and 3-D samples, the wrong transform family", async () => {
  const img = (i: number) => ({
    image: { data: new Float32Array(4), width: 2, height: 2 },
    label: i % 2,
  });
  const vol = (i: number, d = 2) => ({
    image: { data: new Float32Array(d * 4), width: 2, height: 2, depth: d },
    label: i % 2,
  });
  const make = (get: (i: number) => object): Dataset => ({
    length: 4,
    get: (i) => Promise.resolve(get(i) as never),
  });
  const run = (ds: Dataset, o: data.DataLoaderOptions = {}) =>
    collect(new data.DataLoader(ds, { batchSize: 2, ...o }));
  await rejects(
    run(make((i) => vol(i, i === 1 ? 3 : 2))),
    /batch 0 of epoch 0: volumes in one batch differ in size: sample 0 is 2x2x2 \(d x h x w\) but sample 1 is 3x2x2; add a volume Resize/,
  );
  await rejects(
    run(make((i) => i === 1 ? img(i) : vol(i))),
    /samples in one batch mix 2-D images and volumes: sample 0 is a 2x2x2 volume \(d x h x w\) but sample 1 is a 2x2 image/,
  );
  // Across batches: the first batch fixes the kind, for every later batch and epoch.
  await rejects(
    run(make((i) => i >= 2 ? img(i) : vol(i))),
    /batch 1 of epoch 0: sample 2 is a 2x2 image \(w x h\) but the loader's earlier batches held volumes; a dataset holds only 2-D images/,
  );
  await rejects(
    run(make((i) => i >= 2 ? vol(i) : img(i))),
    /sample 2 is a 2x2x2 volume \(d x h x w\) but the loader's earlier batches held 2-D images/,
  );
  await rejects(
    run(make(vol), { transform: [{ name: "RandomHorizontalFlip", p: 1 }] }),
    /sample 0: the sample is a 2x2x2 volume \(d x h x w\) but the loader's transform is a 2-D one/,
  );
  await rejects(
    run(make(img), { transform: new V.Flip({ spatialAxis: 0 }) }),
    /sample 0: the sample is a 2x2 image \(w x h\) but the loader's transform is a volume transform \(volume.Flip\)/,
  );
  await rejects(
    run(make((i) => ({ ...vol(i), image: { ...vol(i).image, data: new Float32Array(7) } }))),
    /sample 0: volume has 7 values for depth x height x width 2x2x2/,
  );
  await rejects(
    run(make((i) => ({ ...vol(i), image: { ...vol(i).image, depth: 0 } }))),
    /image.depth must be a positive integer, got 0/,
  );
  using t = tensor(new Float32Array(8), [1, 2, 2, 2]);
  await rejects(
    run(make(() => ({ image: t, label: 0 }))),
    /width: 2, height: 2, depth: 2 \}, label \} \(a one-channel \[1, D, H, W\] volume\)/,
  );
  // A list mixing the families: the volume Compose names the 2-D member.
  assert.throws(
    () =>
      new data.DataLoader(make(vol), {
        transform: [new V.Flip(), new data.transforms.RandomHorizontalFlip()] as never,
      }),
    /RandomHorizontalFlip is a 2-D transform/,
  );
  // A user's own VolumeTransform class cannot be rebuilt in a worker.
  class Mine extends V.VolumeTransform {
    constructor() {
      super({}, 0, { keys: [], p: null, usage: "{}" });
    }
    protected run(v: never) {
      return v;
    }
  }
  const withSpec = new data.VolumeDataset(await twoClassItems(2));
  assert.throws(
    () => new data.DataLoader(withSpec, { transform: new Mine(), workers: 2 }),
    /transform 'volume.Mine' is not one of this library's.*transforms.volume.fromSpec/,
  );
  assert.equal(liveWorkers(), 0);
});

Deno.test("VolumeDataset: bad items and bad files give Errors naming the item", async () => {
  const good = await writeNifti({ dims: [2, 2, 2], value: code });
  const bad = (items: unknown, re: RegExp, options?: unknown) =>
    assert.throws(() => new data.VolumeDataset(items as never, options as never), re);
  bad("a.nii", /items must be an array of \{ image: path, label \}, got the string/);
  bad([{ image: good, label: 0 }, good], /item 1 is the path .* without a label/);
  bad([null], /item 0 is null; an item is \{ image: path, label \}/);
  bad([{ image: good }], /item 0: label must be a class index \(an integer >= 0\), got nothing/);
  bad([{ image: good, label: 1.5 }], /item 0: label must be a class index .* got number 1.5/);
  bad([{ image: good, label: -1 }], /item 0: label must be a class index/);
  bad([{ image: good, label: "1" }], /item 0: label must .*\(write label: 1\)/);
  bad(
    [{ image: good, label: 0 }, { image: "ct.png", label: 0 }],
    /item 1: "ct.png" is not a NIfTI path/,
  );
  bad([{ image: 3, label: 0 }], /item 0: image must be the path of a NIfTI file, got number 3/);
  bad(
    [{ image: good, label: 0, seg: "m.nii" }],
    /item 0 has 'seg', which VolumeDataset does not read/,
  );
  bad([], /unknown option 'transforms'/, { transforms: [] });
  bad([], /transform holds volume.RandFlip, a random transform;.*DataLoader\(ds, \{ transform/, {
    transform: [new V.Flip(), new V.RandFlip()],
  });
  bad([], /transform must be a volume transform/, { transform: 3 });
  bad([], /RandomHorizontalFlip is a 2-D transform/, {
    transform: [new data.transforms.RandomHorizontalFlip()],
  });
  assert.throws(
    () => Reflect.construct(data.VolumeDataset, [[], {}, 1]),
    /takes at most 2 arguments/,
  );

  const text = join(tmp, "notes.nii");
  await Deno.writeTextFile(text, "not a NIfTI file, just text ".repeat(20));
  const items = [
    { image: good, label: 0 },
    { image: join(tmp, "missing.nii.gz"), label: 1 },
    { image: text, label: 0 },
    { image: await writeNifti({ dims: [2, 2, 2, 3], value: code }), label: 1 },
    { image: await writeNifti({ dims: [3, 2], value: code }), label: 0 },
  ];
  const ds = new data.VolumeDataset(items);
  assert.equal((await ds.get(0)).image.data.length, 8);
  await assert.rejects(ds.get(1), /data.VolumeDataset: item 1: .*missing.nii.gz: file not found/);
  await assert.rejects(ds.get(2), /item 2: .*notes.nii: bad NIfTI header/);
  assert.equal((await ds.get(3)).image.channels, 3, "a 4-D file's 4th dimension: channels");
  await assert.rejects(ds.get(4), /item 4: .*is a 2-D NIfTI \(3x2\); VolumeDataset reads 3-D/);
  await assert.rejects(ds.get(5), /VolumeDataset.get: index 5 out of range/);
  for (const workers of [0, 2]) {
    await rejects(
      collect(new data.DataLoader(ds, { batchSize: 2, workers })),
      /DataLoader: batch 0 of epoch 0: sample 1: data.VolumeDataset: item 1: .*file not found/,
    );
  }
});

// ---- End to end ------------------------------------------------------------

Deno.test("a Conv3d classifier trains 2 epochs through the loader: loss falls, memory flat", async () => {
  const device: Device = testDevice;
  const ds = new data.VolumeDataset(await twoClassItems(8));
  const loader = new data.DataLoader(ds, {
    batchSize: 4,
    shuffle: true,
    seed: 5,
    workers: 2,
    transform: augment(),
    device,
  });
  manualSeed(0);
  using model = new nn.Sequential(
    new nn.Conv3d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm3d(4),
    new nn.ReLU(),
    new nn.MaxPool3d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 27, 2),
  ).to(device);
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  const epochLoss: number[] = [];
  const inUse: number[] = [];
  for (let epoch = 0; epoch < 2; epoch++) {
    let sum = 0, n = 0;
    for await (using b of loader) {
      assert.deepEqual(b.images.shape.slice(1), [1, 6, 6, 6]);
      sum += scope(() => {
        opt.zeroGrad();
        const loss = F.crossEntropy(model.forward(b.images), b.labels);
        loss.backward();
        opt.step();
        return loss.item() * b.labels.shape[0];
      });
      n += b.labels.shape[0];
    }
    epochLoss.push(sum / n);
    inUse.push(memoryStats(device).bytesInUse);
  }
  assert.equal(liveWorkers(), 0);
  assert.ok(epochLoss[1] < epochLoss[0], `loss per epoch: ${epochLoss}`);
  // Epoch 1 makes Adam's moments and the gradients; epoch 2 adds nothing.
  assert.equal(inUse[1], inUse[0], `bytes in use after each epoch: ${inUse}`);
});
