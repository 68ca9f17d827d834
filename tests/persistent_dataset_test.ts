/**
 * PersistentDataset (MONAI's): the first pass writes one safetensors file
 * per item and gives the VolumeDataset's samples bit for bit; a new dataset
 * (a later run) reads the files without reading the NIfTI; the key changes
 * with the transform, the reading options, the label and a touched file; a
 * missing source fails as the VolumeDataset does; a damaged cache file is
 * reported once, deleted and recomputed; loader workers (and CacheDataset's
 * fill workers) share the folder with the batches of workers 0; two
 * processes filling one folder at once leave only whole files; cacheDir
 * null caches nothing; bad arguments fail naming what to write.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { data } from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import type { VolumeSample } from "../src/data/types.ts";
import { testDevice } from "./helpers.ts";
import { diagonalSform, encodeNifti } from "./nifti_files.ts";
import { ToyDataset } from "./toy_dataset.ts";

const V = data.transforms.volume;
const tmp = await Deno.makeTempDir({ prefix: "persistent_dataset_" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
let fileNo = 0;

// ---- NIfTI files written here ----------------------------------------------

/**
 * A float32 single-file NIfTI-1 of `dims` (i fastest), voxel (i, j, k) =
 * value(i, j, k), voxel size `pixdim` and an sform flipping the first axis
 * when `flip` (an LAS file, so that orientation RAS moves voxels).
 */
function niftiOf(
  dims: number[],
  value: (i: number, j: number, k: number) => number,
  pixdim: number[],
  flip = false,
): Uint8Array {
  const sform = diagonalSform(flip ? [-pixdim[0], pixdim[1], pixdim[2]] : pixdim);
  return encodeNifti(dims, value, pixdim, sform);
}

/** Values of file n: distinct per file, with a NaN and a -0 (kept bit for bit). */
const valueOf = (n: number) => (i: number, j: number, k: number) =>
  i === 1 && j === 2 && k === 0 ? NaN : i === 0 && j === 0 && k === 1 ? -0 : (37 * n + 11 * i +
    5 * j + 3 * k) % 200;

/** Items in a folder of their own: item 2 has two files (channels), item 1 is an LAS file. */
async function makeItems(dims = [6, 5, 4], count = 3): Promise<data.VolumeItem[]> {
  const dir = join(tmp, `items${fileNo++}`);
  await Deno.mkdir(dir);
  const items: data.VolumeItem[] = [];
  for (let n = 0; n < count; n++) {
    const write = async (m: number) => {
      const path = join(dir, `v${n}_${m}.nii`);
      await Deno.writeFile(
        path,
        niftiOf(dims, valueOf(n + 10 * m), [1.3, 0.7 + n, 2.1], n === 1),
      );
      return path;
    };
    const image = n === 2 ? [await write(0), await write(1)] : await write(0);
    items.push({ image, label: n % 2 });
  }
  return items;
}

/** A new empty cache folder. */
const newDir = () => join(tmp, `cache${fileNo++}`);

/** The reading options and deterministic transform of most tests. */
const pipeline = (aMax = 200): data.VolumeDatasetOptions => ({
  orientation: "RAS",
  spacing: { pixdim: [1.5, 1.5, 2] },
  transform: [new V.ScaleIntensityRange({ aMin: 0, aMax, bMin: 0, bMax: 1, clip: true })],
});

/** The cache files in `dir` (and anything else there). */
function listDir(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** `b` is `a` bit for bit: voxels' bytes, the same fields in the same order, the label. */
function assertSameSample(b: VolumeSample, a: VolumeSample, what: string): void {
  assert.equal(b.label, a.label, `${what}: label`);
  assert.deepEqual(Object.keys(b.image), Object.keys(a.image), `${what}: fields`);
  const { data: da, ...ra } = a.image, { data: db, ...rb } = b.image;
  assert.deepEqual(rb, ra, `${what}: channels, sizes, spacing`);
  assert.ok(db instanceof Float32Array, `${what}: Float32Array`);
  assert.deepEqual(
    new Uint8Array(db.buffer, db.byteOffset, db.byteLength),
    new Uint8Array(da.buffer, da.byteOffset, da.byteLength),
    `${what}: voxels bit for bit`,
  );
}

/** Runs `f` with console.warn captured; returns what it warned. */
async function warnings(f: () => Promise<unknown>): Promise<string[]> {
  const said: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => said.push(args.join(" "));
  try {
    await f();
  } finally {
    console.warn = warn;
  }
  return said;
}

/** Every batch of one epoch as plain arrays. */
async function collect(loader: data.DataLoader) {
  const out: { images: number[]; shape: number[]; labels: number[] }[] = [];
  for await (using b of loader) {
    out.push({
      images: [...b.images.toArray()],
      shape: [...b.images.shape],
      labels: [...b.labels.toArray()],
    });
  }
  return out;
}

// ---- Caching -----------------------------------------------------------------

Deno.test("PersistentDataset: the first pass writes one file per item, as VolumeDataset's get bit for bit; a new dataset reads them, not the NIfTI", async () => {
  const items = await makeItems();
  const vol = new data.VolumeDataset(items, pipeline());
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(vol, { cacheDir });
  assert.equal(ds.length, 3);
  assert.equal(ds.cacheDir, cacheDir);
  assert.equal(ds.dataset, vol);
  assert.deepEqual([...ds.labels], [0, 1, 0]);
  assert.deepEqual(ds.classCounts(), [2, 1]);
  assert.deepEqual(listDir(cacheDir), [], "the folder is created, nothing written yet");
  const expected: VolumeSample[] = [];
  for (let i = 0; i < 3; i++) expected.push(await vol.get(i));
  assert.equal(expected[2].image.channels, 2);
  assert.ok(expected[0].image.spacing, "the sample carries its spacing");
  for (let i = 0; i < 3; i++) assertSameSample(await ds.get(i), expected[i], `first pass ${i}`);
  const names = await Promise.all([0, 1, 2].map(async (i) => (await ds.cacheFile(i))!));
  assert.deepEqual(listDir(cacheDir), names.map((p) => p.slice(cacheDir.length + 1)).sort());
  assert.ok(names.every((p) => /[0-9a-f]{64}\.safetensors$/.test(p)));
  assertSameSample(await ds.get(-1), expected[2], "negative index");

  // A later run, the files untouched: every sample from the cache, not the NIfTI.
  const later = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  let reads = 0;
  const get = later.dataset.get.bind(later.dataset);
  later.dataset.get = (i) => (reads++, get(i));
  for (let i = 0; i < 3; i++) assertSameSample(await later.get(i), expected[i], `cached ${i}`);
  assert.equal(reads, 0, "no sample computed");
  assert.equal(listDir(cacheDir).length, 3);
});

Deno.test("PersistentDataset: a scan rewritten with its size and mtime restored (touch -r, cp -p, rsync -a) is recomputed, not served stale", async () => {
  const items = await makeItems();
  const vol = new data.VolumeDataset(items, pipeline());
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(vol, { cacheDir });
  for (let i = 0; i < 3; i++) await ds.get(i);
  const before = await Promise.all([0, 1, 2].map((i) => ds.cacheFile(i)));
  for (const it of items) {
    for (const path of typeof it.image === "string" ? [it.image] : it.image) {
      const { mtime, atime } = await Deno.stat(path);
      const bytes = await Deno.readFile(path);
      bytes.fill(0, 352);
      await Deno.writeFile(path, bytes);
      await Deno.utime(path, atime!, mtime!);
    }
  }
  const changed = await vol.get(0);
  assert.ok(changed.image.data.every((x) => x === 0), "the NIfTI now reads as zeros");
  for (const d of [ds, new data.PersistentDataset(items, { ...pipeline(), cacheDir })]) {
    for (let i = 0; i < 3; i++) {
      assert.notEqual(await d.cacheFile(i), before[i], `item ${i}: a new key`);
      assertSameSample(await d.get(i), await vol.get(i), `item ${i}: the new voxels`);
    }
  }
  assert.equal(listDir(cacheDir).length, 6, "the stale files stay, unused");
});

Deno.test("PersistentDataset: a copy of the cache folder and of the data is served; a settled file is hashed once per process", async () => {
  const items = await makeItems([6, 5, 4], 1);
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  const first = await ds.get(0);
  // Copied (a new inode and ctime, the same path and bytes): the same key.
  const path = items[0].image as string;
  const key = await ds.cacheFile(0);
  await Deno.copyFile(path, `${path}.copy`);
  await Deno.rename(`${path}.copy`, path);
  assert.equal(await ds.cacheFile(0), key, "the same content: the same key");
  const copy = newDir();
  await Deno.mkdir(copy);
  for (const n of listDir(cacheDir)) await Deno.copyFile(join(cacheDir, n), join(copy, n));
  const other = new data.PersistentDataset(items, { ...pipeline(), cacheDir: copy });
  let reads = 0;
  const get = other.dataset.get.bind(other.dataset);
  other.dataset.get = (i) => (reads++, get(i));
  assertSameSample(await other.get(0), first, "from the copied folder");
  assert.equal(reads, 0, "no sample computed");
  // Once its ctime is over 2 s old, the file is read once, then its digest is remembered.
  await new Promise((r) => setTimeout(r, 2100));
  const open = Deno.open;
  let opened = 0;
  Deno.open = (p, o) => (String(p) === path && opened++, open(p, o));
  try {
    for (let n = 0; n < 3; n++) assertSameSample(await other.get(0), first, `get ${n}`);
  } finally {
    Deno.open = open;
  }
  assert.equal(opened, 1, "hashed once");
});

Deno.test("PersistentDataset: the file is a safetensors file of the voxels, with the sample and its source in the metadata", async () => {
  const items = await makeItems();
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  const sample = await ds.get(2);
  const bytes = await Deno.readFile((await ds.cacheFile(2))!);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const { channels, depth, height, width } = sample.image;
  assert.deepEqual(header.image, {
    dtype: "F32",
    shape: [channels, depth, height, width],
    data_offsets: [0, 4 * sample.image.data.length],
  });
  assert.equal(bytes.length, 8 + n + 4 * sample.image.data.length);
  const meta = header.__metadata__;
  assert.equal(meta.format, "lits.PersistentDataset");
  const source = JSON.parse(meta.source);
  assert.deepEqual(source.item, { image: items[2].image, label: 0 });
  assert.equal(source.orientation, "RAS");
  assert.deepEqual(source.transform, [
    { name: "volume.ScaleIntensityRange", aMin: 0, aMax: 200, bMin: 0, bMax: 1, clip: true },
  ]);
  assert.equal(source.files.length, 2);
  assert.equal(source.files[0].size, 352 + 4 * 120);
});

Deno.test("PersistentDataset: the key changes with the transform, the reading options, the label and a touched file", async () => {
  const items = await makeItems();
  const cacheDir = newDir();
  const keyOf = (ds: data.PersistentDataset, i = 0) => ds.cacheFile(i);
  const base = await keyOf(new data.PersistentDataset(items, { ...pipeline(), cacheDir }));
  assert.equal(
    await keyOf(new data.PersistentDataset(items, { ...pipeline(), cacheDir })),
    base,
    "the same item and options: the same key",
  );
  const rel = [{ ...items[0], image: relative(Deno.cwd(), items[0].image as string) }];
  assert.ok(!(rel[0].image as string).startsWith("/"));
  assert.equal(
    await keyOf(new data.PersistentDataset(rel, { ...pipeline(), cacheDir })),
    base,
    "a relative path to the same file: the same key",
  );
  const others: [string, data.PersistentDataset][] = [
    ["transform", new data.PersistentDataset(items, { ...pipeline(150), cacheDir })],
    ["no transform", new data.PersistentDataset(items, { ...pipeline(), transform: [], cacheDir })],
    [
      "orientation",
      new data.PersistentDataset(items, { ...pipeline(), orientation: "LPS", cacheDir }),
    ],
    [
      "spacing",
      new data.PersistentDataset(items, {
        ...pipeline(),
        spacing: { pixdim: [1.5, 1.5, 2], mode: "nearest" },
        cacheDir,
      }),
    ],
    ["label", new data.PersistentDataset([{ ...items[0], label: 1 }], { ...pipeline(), cacheDir })],
  ];
  const keys = new Set([base]);
  for (const [what, ds] of others) {
    const key = await keyOf(ds);
    assert.ok(!keys.has(key), `${what}: a new key`);
    keys.add(key);
  }
  // An edited scan: a new key and the new voxels, though the old file is still in the cache.
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  const before = await ds.get(0);
  const path = items[0].image as string;
  await Deno.writeFile(path, niftiOf([6, 5, 4], valueOf(7), [1.3, 0.7, 2.1]));
  const { atime, mtime } = await Deno.stat(path);
  await Deno.utime(path, atime!, new Date(mtime!.getTime() + 2000));
  assert.notEqual(await keyOf(ds), base, "touched: a new key");
  const after = await ds.get(0);
  assertSameSample(after, await ds.dataset.get(0), "the edited file's sample");
  assert.notDeepEqual([...after.image.data], [...before.image.data]);
  assert.equal(listDir(cacheDir).length, 2, "the stale file stays, unused");
});

Deno.test("PersistentDataset: a source file that is gone fails as VolumeDataset's get does; back, it is served again", async () => {
  const items = await makeItems();
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir: newDir() });
  const first = await ds.get(0);
  const path = items[0].image as string;
  await Deno.rename(path, `${path}.away`);
  let volumeError = "";
  await ds.dataset.get(0).catch((e) => volumeError = e.message);
  assert.match(volumeError, /data\.VolumeDataset: item 0/);
  await assert.rejects(ds.get(0), (e: Error) => e.message === volumeError);
  assert.equal(await ds.cacheFile(0), null);
  await Deno.rename(`${path}.away`, path);
  assertSameSample(await ds.get(0), first, "back");
});

Deno.test("PersistentDataset: a truncated, damaged, foreign or unreadable cache file is reported once, deleted and recomputed", async () => {
  const items = await makeItems();
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  const expected = await ds.dataset.get(0);
  await ds.get(0);
  await ds.get(1);
  const path = (await ds.cacheFile(0))!;
  const good = await Deno.readFile(path);
  const damages: [string, (b: Uint8Array) => Uint8Array | Promise<void>, RegExp][] = [
    ["truncated", (b) => b.slice(0, b.length - 4), /truncated or damaged/],
    ["a voxel flipped", (b) => {
      const c = b.slice();
      c[c.length - 7] ^= 0x10;
      return c;
    }, /checksum/],
    ["its checksum changed", (b) => {
      const c = b.slice();
      const n = Number(new DataView(c.buffer).getBigUint64(0, true));
      const at = new TextDecoder().decode(c.subarray(0, 8 + n)).indexOf('"checksum":"') + 12;
      c[at] = c[at] === 0x30 ? 0x31 : 0x30;
      return c;
    }, /checksum/],
    ["its sample's depth changed", (b) => {
      const c = b.slice();
      const n = Number(new DataView(c.buffer).getBigUint64(0, true));
      const at = new TextDecoder().decode(c.subarray(0, 8 + n)).indexOf('depth\\":') + 8;
      assert.ok(c[at] >= 0x31 && c[at] <= 0x38, String.fromCharCode(c[at]));
      c[at] += 1;
      return c;
    }, /checksum/],
    [
      "garbage",
      () => new TextEncoder().encode("not a cache file at all"),
      /unreadable header|truncated/,
    ],
    ["empty", () => new Uint8Array(0), /too short/],
    ["another item's file", async () => await Deno.copyFile((await ds.cacheFile(1))!, path), /key/],
    ["a folder", async () => {
      await Deno.remove(path);
      await Deno.mkdir(path);
    }, /./],
  ];
  for (const [what, damage, reason] of damages) {
    const out = await damage(good);
    if (out) await Deno.writeFile(path, out);
    const said = await warnings(async () => {
      assertSameSample(await ds.get(0), expected, `${what}: recomputed`);
      assertSameSample(await ds.get(0), expected, `${what}: read again`);
    });
    assert.equal(said.length, 1, `${what}: one warning: ${said}`);
    assert.ok(said[0].includes(path), `${what}: names the file`);
    assert.match(said[0], reason, what);
    assert.match(said[0], /deleting and recomputing/);
    assert.deepEqual(await Deno.readFile(path), good, `${what}: rewritten as it was`);
    // Warned once per file: the next damage of it is recomputed quietly (reset for the test).
    const again = await warnings(async () => {
      await Deno.writeFile(path, new Uint8Array(3));
      await ds.get(0);
    });
    assert.equal(again.length, 0, `${what}: warned once`);
    assert.deepEqual(await Deno.readFile(path), good);
    (await import("../src/data/persistent_dataset.ts")).resetWarnings();
  }
  assert.equal(listDir(cacheDir).length, 2, "no temporary file left");
});

// ---- Workers and processes ---------------------------------------------------

Deno.test("PersistentDataset: loader workers 2 give the batches of workers 0 and of the VolumeDataset, writing and reading one folder", async () => {
  const items = await makeItems([6, 5, 4], 5).then((its) =>
    its.map((it, n) => n === 2 ? { ...it, image: (it.image as string[])[0] } : it)
  );
  const opts = {
    ...pipeline(),
    transform: [
      new V.ScaleIntensityRange({ aMin: 0, aMax: 200, bMin: 0, bMax: 1, clip: true }),
      new V.Resize({ spatialSize: [4, 4, 3] }),
    ],
  };
  const loaderOf = (ds: data.Dataset, workers: number) =>
    new data.DataLoader(ds, {
      batchSize: 2,
      shuffle: true,
      seed: 3,
      workers,
      device: testDevice,
      transform: V.compose([new V.RandFlip({ p: 0.5, spatialAxis: 0 })]),
    });
  const want = await collect(loaderOf(new data.VolumeDataset(items, opts), 0));
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(items, { ...opts, cacheDir });
  assert.deepEqual(await collect(loaderOf(ds, 2)), want, "workers 2, filling the cache");
  assert.equal(liveWorkers(), 0);
  assert.equal(listDir(cacheDir).length, 5, "the workers wrote one file per item");
  const written = await Promise.all(listDir(cacheDir).map((n) => Deno.readFile(join(cacheDir, n))));
  assert.deepEqual(await collect(loaderOf(ds, 2)), want, "workers 2, from the cache");
  assert.deepEqual(await collect(loaderOf(ds, 0)), want, "workers 0, from the cache");
  const again = await Promise.all(listDir(cacheDir).map((n) => Deno.readFile(join(cacheDir, n))));
  assert.deepEqual(again, written, "read, not rewritten");
});

Deno.test("PersistentDataset: under CacheDataset (fill workers 2) a later run fills memory from the disk cache", async () => {
  const items = await makeItems();
  const cacheDir = newDir();
  const vol = new data.VolumeDataset(items, pipeline());
  const ds = new data.PersistentDataset(vol, { cacheDir });
  const cached = await data.CacheDataset.create(ds, { numWorkers: 2 });
  assert.equal(listDir(cacheDir).length, 3, "the fill workers wrote the files");
  const later = await data.CacheDataset.create(new data.PersistentDataset(vol, { cacheDir }), {
    numWorkers: 2,
  });
  for (let i = 0; i < 3; i++) {
    const want = await vol.get(i);
    for (const [what, c] of [["first", cached], ["later", later]] as const) {
      const got = (await c.get(i)) as VolumeSample;
      const bytes = (x: Float32Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      assert.deepEqual(bytes(got.image.data), bytes(want.image.data), what);
      assert.deepEqual(got.image.spacing, want.image.spacing);
      assert.equal(got.image.channels, want.image.channels);
    }
  }
});

Deno.test("PersistentDataset: two processes filling one folder at once leave only whole files", async () => {
  const items = await makeItems([40, 40, 30], 6);
  const cacheDir = newDir();
  const url = new URL("../src/data/persistent_dataset.ts", import.meta.url).href;
  const code = `
    import { PersistentDataset } from ${JSON.stringify(url)};
    const items = ${JSON.stringify(items)};
    const ds = new PersistentDataset(items, { orientation: "RAS", cacheDir: ${
    JSON.stringify(cacheDir)
  } });
    await Promise.all(items.map((_, i) => ds.get(i)));
    await Promise.all(items.map((_, i) => ds.get(i)));
  `;
  const run = () =>
    new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "piped", stderr: "piped" })
      .output();
  const outs = await Promise.all([run(), run()]);
  for (const o of outs) {
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    assert.equal(new TextDecoder().decode(o.stderr), "", "no warning: no damaged file seen");
  }
  assert.equal(listDir(cacheDir).length, 6, "one file per item, no temporary left");
  const vol = new data.VolumeDataset(items, { orientation: "RAS" });
  const ds = new data.PersistentDataset(vol, { cacheDir });
  const said = await warnings(async () => {
    for (let i = 0; i < 6; i++) assertSameSample(await ds.get(i), await vol.get(i), `item ${i}`);
  });
  assert.deepEqual(said, [], "every file whole");
  // And many get(i) at once in one process, from two datasets, on an empty folder.
  const dir2 = newDir();
  const two = [
    new data.PersistentDataset(vol, { cacheDir: dir2 }),
    new data.PersistentDataset(vol, { cacheDir: dir2 }),
  ];
  const got = await Promise.all(Array.from({ length: 8 }, (_, n) => two[n % 2].get(0)));
  const want = await vol.get(0);
  got.forEach((s, n) => assertSameSample(s, want, `concurrent ${n}`));
  assert.equal(listDir(dir2).length, 1);
  assertSameSample(await new data.PersistentDataset(vol, { cacheDir: dir2 }).get(0), want, "after");
});

Deno.test("PersistentDataset: temporary files of killed runs (this host, process gone, over an hour old) are removed when a dataset opens the folder", async () => {
  const cacheDir = newDir();
  await Deno.mkdir(cacheDir);
  const key = "a".repeat(64);
  const host = Deno.hostname().replace(/[^A-Za-z0-9.]/g, "_");
  const temp = (h: string, pid: number) => `${key}.safetensors.tmp-${h}-${pid}-0123abcd`;
  const dead = temp(host, 999999999);
  const fresh = temp(host, 999999998); // a writer in another PID namespace: its pid unseen
  const foreign = temp("another_node.cluster", 999999999); // another machine's writer
  const unknown = temp("_", 999999999); // a writer that could not read its host name
  const mine = temp(host, Deno.pid);
  const other = "notes.txt";
  const old = new Date(Date.now() - 2 * 3600_000);
  for (const name of [dead, fresh, foreign, unknown, mine, other]) {
    await Deno.writeFile(join(cacheDir, name), new Uint8Array(4));
    if (name !== fresh) await Deno.utime(join(cacheDir, name), old, old);
  }
  new data.PersistentDataset(await makeItems(), { cacheDir });
  assert.deepEqual(listDir(cacheDir), [fresh, foreign, unknown, mine, other].sort());
});

Deno.test("PersistentDataset: a temporary file removed before its rename (another process) is reported once; get(i) returns the sample", async () => {
  const items = await makeItems();
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  const rename = Deno.rename;
  const temps: string[] = [];
  Deno.rename = async (from, to) => {
    temps.push(String(from));
    await Deno.remove(from);
    return await rename(from, to);
  };
  let said: string[];
  try {
    said = await warnings(async () => {
      for (let i = 0; i < 3; i++) {
        assertSameSample(await ds.get(i), await ds.dataset.get(i), `${i}`);
      }
    });
  } finally {
    Deno.rename = rename;
  }
  const host = Deno.hostname().replace(/[^A-Za-z0-9.]/g, "_");
  assert.equal(temps.length, 3);
  assert.ok(temps.every((t) => t.includes(`.tmp-${host}-${Deno.pid}-`)), temps[0]);
  assert.equal(said.length, 1, `one warning: ${said}`);
  assert.match(said[0], /item 0: no cache file written in cacheDir/);
  assert.match(said[0], /was gone at the rename \(another process removed it\)/);
  assert.doesNotMatch(said[0], /free space|permission/i);
  assert.deepEqual(listDir(cacheDir), []);
  assertSameSample(await ds.get(0), await ds.dataset.get(0), "written now");
  assert.equal(listDir(cacheDir).length, 1);
});

Deno.test("PersistentDataset: cacheDir null caches nothing (MONAI's cache_dir=None)", async () => {
  const items = await makeItems();
  const vol = new data.VolumeDataset(items, pipeline());
  const ds = new data.PersistentDataset(vol, { cacheDir: null });
  assert.equal(ds.cacheDir, null);
  for (let i = 0; i < 3; i++) assertSameSample(await ds.get(i), await vol.get(i), `item ${i}`);
  assert.equal(await ds.cacheFile(0), null);
  const path = items[0].image as string;
  await Deno.writeFile(path, niftiOf([6, 5, 4], valueOf(9), [1.3, 0.7, 2.1]));
  assertSameSample(await ds.get(0), await vol.get(0), "read every time");
  assert.deepEqual(ds.workerSpec().spec, {
    base: vol.workerSpec(),
    cacheDir: null,
    readOnly: false,
  });
});

// ---- Bad input -----------------------------------------------------------------

Deno.test("PersistentDataset: bad arguments fail naming what to write", async () => {
  const items = await makeItems();
  const vol = new data.VolumeDataset(items);
  const throws = (f: () => unknown, re: RegExp) =>
    assert.throws(f, (e: Error) => re.test(e.message) || assert.fail(e.message));
  // deno-lint-ignore no-explicit-any
  const P = data.PersistentDataset as any;
  const file = join(tmp, `file${fileNo++}`);
  await Deno.writeFile(file, new Uint8Array(1));
  throws(() => new P(vol, { cacheDir: file }), /cacheDir ".*" is a file, not a folder/);
  throws(
    () => new P(vol, { cacheDir: join(file, "sub") }),
    /cacheDir ".*sub" .*give a folder you can write/,
  );
  throws(
    () => new P(vol, { cacheDir: "/proc/lits_cache" }),
    /cacheDir "\/proc\/lits_cache" cannot be created .*cacheDir: null/,
  );
  throws(() => new P(vol, {}), /cacheDir is required .*cacheDir: null for no cache/);
  throws(() => new P(vol), /cacheDir is required/);
  throws(() => new P(vol, { cacheDir: 3 }), /cacheDir must be the path of a folder .*got number 3/);
  throws(() => new P(vol, { cacheDir: "" }), /cacheDir must be the path/);
  throws(() => new P(vol, { cacheDir: new URL("file:///tmp/x") }), /url\.pathname/);
  throws(() => new P(vol, { cache_dir: "x" }), /unknown option 'cache_dir' \(write 'cacheDir'\)/);
  throws(() => new P(items, { cache_dir: "x" }), /unknown option 'cache_dir' \(write 'cacheDir'\)/);
  throws(
    () => new P(vol, { cacheDir: null, hashTransform: true }),
    /'hashTransform': the transform's spec is always part of the key/,
  );
  throws(
    () => new P(vol, { cacheDir: null, hash_func: "md5" }),
    /'hash_func': the key is always a SHA-256/,
  );
  throws(() => new P(vol, { cacheDir: null, pickle_protocol: 4 }), /safetensors/);
  throws(
    () => new P(vol, { cacheDir: null, transform: [] }),
    /'transform' with a VolumeDataset: the wrapped dataset has its own transform/,
  );
  throws(
    () => new P(vol, { cacheDir: null, orientation: "RAS" }),
    /'orientation' with a VolumeDataset/,
  );
  throws(() => new P(vol, { cacheDir: null }, {}), /at most 2 arguments/);
  throws(() => new P(vol, "cache"), /expected an options object/);
  throws(
    () => new P(new ToyDataset({ length: 2 }), { cacheDir: null }),
    /must be a data\.VolumeDataset .*got a ToyDataset; .*data\.Subset\(persistent, indices\)/,
  );
  const cache = await data.CacheDataset.create(vol, {});
  throws(() => new P(cache, { cacheDir: null }), /got a CacheDataset/);
  throws(() => new P(new data.Subset(vol, [0]), { cacheDir: null }), /got a Subset/);
  throws(
    () => new P("ct.nii.gz", { cacheDir: null }),
    /must be a data\.VolumeDataset .*the string "ct.nii.gz"/,
  );
  throws(
    () => new P([{ image: "ct.nii.gz" }], { cacheDir: null }),
    /data\.VolumeDataset: item 0: label must be a class index/,
  );
  throws(
    () => new P(items, { cacheDir: null, transform: [new V.RandFlip({ p: 0.5 })] }),
    /holds volume\.RandFlip, a random transform/,
  );
  throws(
    () => new P(items, { cacheDir: null, transfrom: [] }),
    /unknown option 'transfrom' \(did you mean 'transform'\?\)/,
  );
  await assert.rejects(new P(vol, { cacheDir: null }).get(3), /out of range/);
});

Deno.test("PersistentDataset: a cache file that cannot be written is reported once; get(i) returns the sample, leaving no temporary file", async () => {
  const items = await makeItems();
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  const first = await ds.get(1);
  // Item 0's file name taken by a folder that cannot be deleted or replaced.
  const path = (await ds.cacheFile(0))!;
  await Deno.mkdir(join(path, "keep"), { recursive: true });
  const want = await ds.dataset.get(0);
  const said = await warnings(async () => {
    assertSameSample(await ds.get(0), want, "computed");
    assertSameSample(await ds.get(0), want, "computed again");
  });
  assert.equal(
    said.length,
    2,
    `the folder reported as unreadable, the write failure once: ${said}`,
  );
  assert.match(said[1], /data\.PersistentDataset: item 0: no cache file written in cacheDir/);
  assert.ok(said[1].includes(JSON.stringify(cacheDir)), said[1]);
  assert.match(said[1], /the rename of its temporary file failed: .*used uncached/);
  assert.deepEqual(listDir(cacheDir).filter((n) => n.includes(".tmp-")), [], "no temporary left");
  assertSameSample(await ds.get(1), first, "the other item's file is untouched");
});

Deno.test("PersistentDataset: a cacheDir that cannot be written is used read-only: its files served, a miss computed and not written", async () => {
  const items = await makeItems();
  const cacheDir = newDir();
  const ds = new data.PersistentDataset(items, { ...pipeline(), cacheDir });
  await ds.get(0);
  await ds.get(-1);
  const files = listDir(cacheDir);
  assert.equal(files.length, 2);
  const url = new URL("../src/data/persistent_dataset.ts", import.meta.url).href;
  const script = join(tmp, `readonly${fileNo++}.ts`);
  const writable = join(tmp, `elsewhere${fileNo++}`);
  await Deno.writeTextFile(
    script,
    `
    import { PersistentDataset } from ${JSON.stringify(url)};
    import { VolumeDataset } from ${
      JSON.stringify(new URL("../src/data/volume_dataset.ts", import.meta.url).href)
    };
    import { ScaleIntensityRange } from ${
      JSON.stringify(new URL("../src/data/transforms/volume/mod.ts", import.meta.url).href)
    };
    const items = ${JSON.stringify(items)};
    const opts = { orientation: "RAS", spacing: { pixdim: [1.5, 1.5, 2] },
      transform: [new ScaleIntensityRange({ aMin: 0, aMax: 200, bMin: 0, bMax: 1, clip: true })] };
    const ds = new PersistentDataset(items, { ...opts, cacheDir: ${JSON.stringify(cacheDir)} });
    new PersistentDataset(items, { ...opts, cacheDir: ${JSON.stringify(cacheDir)} });
    const vol = new VolumeDataset(items, opts);
    const computed = [];
    const get = ds.dataset.get.bind(ds.dataset);
    ds.dataset.get = (i) => (computed.push(i), get(i));
    const same = [];
    for (let i = 0; i < 3; i++) {
      const a = (await ds.get(i)).image.data, b = (await vol.get(i)).image.data;
      same.push(a.length === b.length && a.every((v, k) => Object.is(v, b[k])));
    }
    let created = "";
    try {
      new PersistentDataset(items, { cacheDir: ${JSON.stringify(join(cacheDir, "sub"))} });
    } catch (e) { created = e.message; }
    console.log(JSON.stringify({ readOnly: ds.readOnly, computed, same, created }));
  `,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", `--allow-write=${writable}`, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const got = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(got.readOnly, true);
  assert.deepEqual(got.computed, [1], "items 0 and 2 from the files, item 1 computed");
  assert.deepEqual(got.same, [true, true, true]);
  assert.match(got.created, /cacheDir ".*sub" cannot be created .*cacheDir: null for no cache/);
  const said = stderr.split("\n").filter((l) => l.includes("warning"));
  assert.equal(said.length, 1, `warned once: ${stderr}`);
  assert.match(said[0], /cacheDir ".*" cannot be written .*using it read-only/);
  assert.deepEqual(listDir(cacheDir), files, "nothing written");
});
