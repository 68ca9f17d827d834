/**
 * Multi-channel volumes, as MONAI 1.3's LoadImage + EnsureChannelFirst make
 * them: an item's list of files stacked as channels, a 4-D NIfTI's 4th
 * dimension (and a 5-D vector file's 5th) as channels, a list of 4-D files
 * concatenated; the values nibabel gives, after Orientation("RAS") and a
 * Spacing resample (torch 1.13's grid_sample on MONAI's grid, every channel
 * alike). Then [N, C, D, H, W] batches with 0 and 2 workers, CacheDataset
 * with C = 2, volume transforms on C = 2, a transform that changes C, and
 * the bad inputs: mismatched shapes or affines (MONAI's np.allclose), an
 * empty list, mixed C in a batch; a mix of 3-D and 4-D files concatenated.
 * Fixtures: scripts/make_volume_channels_fixtures.py.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { data, tensor } from "../mod.ts";
import { liveFillWorkers } from "../src/data/cache_dataset.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import type { Dataset, VolumeSample } from "../src/data/types.ts";
import { assertClose, loadFixture, testDevice } from "./helpers.ts";

const V = data.transforms.volume;

interface FileRecord {
  name: string;
  dims: number[];
  dtype: "float32" | "int16";
  slope: number;
  inter: number;
  values: number[];
}
interface ChannelCase {
  name: string;
  files: string[];
  orientation: string | null;
  pixdim: number[] | null;
  mode: "bilinear" | "nearest" | null;
  paddingMode: "border" | "zeros" | "reflection" | null;
  shape: number[];
  spacing: number[];
  out: number[];
}
const FIX = loadFixture<{
  sform: number[][];
  zooms: number[];
  files: FileRecord[];
  cases: ChannelCase[];
  shifts: { shift: number; origin: number; allclose: boolean }[];
}>("volume_channels.json");

// ---- NIfTI-1 files, as the fixture script writes them ---------------------

/** A little-endian NIfTI-1 file of 3 to 5 dimensions (i fastest, the 4th and 5th slowest). */
function encodeNifti(
  f: Omit<FileRecord, "name">,
  sform: number[][] = FIX.sform,
  zooms: number[] = FIX.zooms,
): Uint8Array {
  const [code, bytes] = f.dtype === "int16" ? [4, 2] : [16, 4];
  const count = f.dims.reduce((a, b) => a * b, 1);
  const buf = new ArrayBuffer(352 + bytes * count);
  const v = new DataView(buf);
  v.setInt32(0, 348, true);
  [f.dims.length, ...f.dims, ...Array(7 - f.dims.length).fill(1)].forEach((d, i) =>
    v.setInt16(40 + 2 * i, d, true)
  );
  v.setInt16(70, code, true);
  v.setInt16(72, 8 * bytes, true);
  [1, ...zooms, ...Array(7 - zooms.length).fill(1)].forEach((p, i) =>
    v.setFloat32(76 + 4 * i, p, true)
  );
  v.setFloat32(108, 352, true);
  v.setFloat32(112, f.slope, true);
  v.setFloat32(116, f.inter, true);
  v.setInt16(254, 1, true);
  sform.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, true)));
  new Uint8Array(buf).set([0x6e, 0x2b, 0x31, 0], 344);
  for (let n = 0; n < count; n++) {
    if (bytes === 2) v.setInt16(352 + 2 * n, f.values[n], true);
    else v.setFloat32(352 + 4 * n, f.values[n], true);
  }
  return new Uint8Array(buf);
}

const tmp = await Deno.makeTempDir({ prefix: "volume_channels_" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
const paths = new Map<string, string>();
for (const f of FIX.files) {
  const path = join(tmp, `${f.name}.nii`);
  await Deno.writeFile(path, encodeNifti(f));
  paths.set(f.name, path);
}
const pathOf = (name: string) => paths.get(name)!;
const caseOf = (name: string) => FIX.cases.find((c) => c.name === name)!;

/** A float32 3-D file of `dims` (values 0, 1, 2, ...) with `sform`, written to tmp. */
async function writeFile(name: string, dims: number[], sform = FIX.sform): Promise<string> {
  const count = dims.reduce((a, b) => a * b, 1);
  const path = join(tmp, name);
  const values = Array.from({ length: count }, (_, i) => i);
  await Deno.writeFile(
    path,
    encodeNifti({ dims, dtype: "float32", slope: 0, inter: 0, values }, sform),
  );
  return path;
}

/** Every batch of one epoch as plain arrays. */
async function collect(loader: data.DataLoader) {
  const out: { images: Float32Array; shape: number[]; labels: number[] }[] = [];
  for await (using b of loader) {
    out.push({
      images: b.images.toArray() as Float32Array,
      shape: [...b.images.shape],
      labels: [...b.labels.toArray()],
    });
  }
  return out;
}

/** Expects `p` to reject with a message matching `re`, and no worker left running. */
async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.match(e.message, re);
    return true;
  });
  assert.equal(liveWorkers(), 0, "no worker left running");
}

/** Case `c`'s expected values with its channel blocks in the order `order`. */
function channelsInOrder(c: ChannelCase, order: number[]): number[] {
  const per = c.out.length / c.shape[0];
  return order.flatMap((k) => c.out.slice(k * per, (k + 1) * per));
}

// ---- Reading ---------------------------------------------------------------

Deno.test("VolumeDataset: lists of files and 4-D files give nibabel's channels, as MONAI", async () => {
  for (const c of FIX.cases) {
    const image = c.files.length === 1 ? pathOf(c.files[0]) : c.files.map(pathOf);
    const ds = new data.VolumeDataset([{ image, label: 1 }], {
      orientation: c.orientation,
      spacing: c.pixdim ? { pixdim: c.pixdim, mode: c.mode!, paddingMode: c.paddingMode! } : null,
    });
    const { image: v, label } = await ds.get(0);
    assert.equal(label, 1);
    assert.deepEqual(
      [v.channels, v.depth, v.height, v.width],
      c.shape,
      `${c.name}: [C, D, H, W]`,
    );
    assertClose(v.spacing!, c.spacing, { rtol: 1e-5, what: `${c.name} spacing` });
    assertClose(v.data, c.out, { rtol: 1e-5, atol: 1e-4, what: c.name });
  }
});

Deno.test("VolumeDataset: a gzipped 4-D file reads its channels in one pass, as the plain one", async () => {
  const plain = pathOf("four");
  const gz = join(tmp, "four.nii.gz");
  await Deno.writeFile(gz, gzipSync(await Deno.readFile(plain)));
  const c = caseOf("four_ras_spacing");
  const spacing = { pixdim: c.pixdim!, mode: c.mode!, paddingMode: c.paddingMode! };
  const ds = new data.VolumeDataset([{ image: gz, label: 0 }, { image: [plain], label: 0 }], {
    orientation: "RAS",
    spacing,
  });
  const [a, b] = [await ds.get(0), await ds.get(1)];
  assert.equal(a.image.channels, 3);
  assert.deepEqual(a.image.data, b.image.data, "gzipped and plain, one path or a list of one");
  assertClose(a.image.data, c.out, { rtol: 1e-5, atol: 1e-4 });
});

Deno.test("VolumeDataset: one-channel items keep their form, with channels 1", async () => {
  const one = new data.VolumeDataset([{ image: pathOf("t1"), label: 0 }]);
  const { image } = await one.get(0);
  assert.equal(image.channels, 1);
  assertClose(image.data, caseOf("pair").out.slice(0, 60), { rtol: 1e-6, atol: 0 });
  const loader = new data.DataLoader(one, { batchSize: 1, device: testDevice });
  const [batch] = await collect(loader);
  assert.deepEqual(batch.shape, [1, 1, 5, 4, 3]);
});

// ---- Batches -----------------------------------------------------------------

Deno.test("DataLoader: [N, C, D, H, W] batches in file order, the same with 0 and 2 workers", async () => {
  const c = caseOf("pair_ras");
  const [t1, t2] = [pathOf("t1"), pathOf("t2")];
  const items = [
    { image: [t1, t2], label: 0 },
    { image: [t2, t1], label: 1 },
    { image: [t1, t2], label: 2 },
  ];
  const ds = new data.VolumeDataset(items, { orientation: "RAS" });
  const swapped = channelsInOrder(c, [1, 0]);
  const want = [[...c.out, ...swapped], c.out];
  for (const workers of [0, 2]) {
    const loader = new data.DataLoader(ds, { batchSize: 2, workers, device: testDevice });
    const got = await collect(loader);
    assert.deepEqual(got.map((b) => b.shape), [[2, 2, 3, 5, 4], [1, 2, 3, 5, 4]]);
    assert.deepEqual(got.map((b) => b.labels), [[0, 1], [2]]);
    got.forEach((b, i) =>
      assertClose(b.images, want[i], { rtol: 1e-5, atol: 1e-4, what: `batch ${i}` })
    );
    assert.equal(liveWorkers(), 0);
  }
});

Deno.test("DataLoader: random volume transforms on C = 2 draw as t.apply on [C, D, H, W]", async () => {
  const c = caseOf("pair_ras_spacing");
  const items = [0, 1, 2, 3].map((label) => ({ image: c.files.map(pathOf), label }));
  const spacing = { pixdim: c.pixdim!, mode: c.mode!, paddingMode: c.paddingMode! };
  const ds = new data.VolumeDataset(items, { orientation: "RAS", spacing });
  const t = V.compose([
    new V.RandFlip({ p: 0.5, spatialAxis: 0 }),
    new V.RandGaussianNoise({ p: 1, std: 0.1 }),
    new V.RandSpatialCrop({ roiSize: [3, 2, 2], randomSize: false }),
  ]);
  const seed = 11;
  const runs = [];
  for (const workers of [0, 2]) {
    const loader = new data.DataLoader(ds, {
      batchSize: 4,
      workers,
      seed,
      transform: t,
      device: testDevice,
    });
    runs.push(await collect(loader));
  }
  assert.deepEqual(runs[0], runs[1], "0 and 2 workers");
  const [batch] = runs[0];
  assert.deepEqual(batch.shape, [4, 2, 3, 2, 2]);
  const per = 2 * 3 * 2 * 2;
  const { image } = await ds.get(0);
  assertClose(image.data, c.out, { rtol: 1e-5, atol: 1e-4 });
  for (let k = 0; k < 4; k++) {
    using x = tensor(image.data, c.shape);
    using y = t.apply(x, data.Rng.forSample(seed, 0, k));
    assert.deepEqual(y.shape, [2, 3, 2, 2]);
    assert.deepEqual(batch.images.subarray(k * per, (k + 1) * per), y.toArray(), `sample ${k}`);
  }
});

Deno.test("VolumeDataset: a Compose of volume transforms on C = 2 works per channel", async () => {
  const c = caseOf("pair");
  const t = V.compose([
    new V.ScaleIntensityRange({ aMin: -200, aMax: 200, bMin: 0, bMax: 1, clip: true }),
    new V.Flip({ spatialAxis: 0 }),
    new V.NormalizeIntensity({ channelWise: true }),
  ]);
  const items = [{ image: c.files.map(pathOf), label: 0 }];
  const raw = (await new data.VolumeDataset(items).get(0)).image.data;
  const { image } = await new data.VolumeDataset(items, { transform: t }).get(0);
  assert.deepEqual([image.channels, image.depth, image.height, image.width], c.shape);
  assert.deepEqual(image.spacing, [0.800000011920929, 0.8999999761581421, 2.5], "kept");
  using x = tensor(raw, c.shape);
  using y = t.apply(x);
  assertClose(image.data, y.toArray(), { rtol: 1e-6, atol: 1e-6 });
  // Channel by channel: each as a one-channel volume through the same transform.
  const per = c.out.length / 2;
  for (let k = 0; k < 2; k++) {
    using xk = tensor(raw.slice(k * per, (k + 1) * per), [1, ...c.shape.slice(1)]);
    using yk = t.apply(xk);
    assertClose(image.data.subarray(k * per, (k + 1) * per), yk.toArray(), {
      rtol: 1e-6,
      atol: 1e-6,
      what: `channel ${k}`,
    });
  }
});

/** A user's transform that keeps one channel (workers: 0; not rebuilt in a worker). */
class KeepChannel extends V.VolumeTransform {
  readonly channel: number;
  constructor(channel: number) {
    super({}, 0, { keys: [], p: null, usage: "{}" });
    this.channel = channel;
  }
  protected run(v: { data: Float32Array; shape: [number, number, number, number] }) {
    const [, d, h, w] = v.shape;
    const per = d * h * w;
    const data = v.data.slice(this.channel * per, (this.channel + 1) * per);
    return { data, shape: [1, d, h, w] as [number, number, number, number] };
  }
}

Deno.test("applyToVolume: a transform may change C; the batch then holds the new C", async () => {
  const c = caseOf("pair");
  const items = [0, 1].map((label) => ({ image: c.files.map(pathOf), label }));
  const both = (await new data.VolumeDataset(items).get(0)).image.data;
  const keep = new data.VolumeDataset(items, { transform: new KeepChannel(1) });
  const { image } = await keep.get(0);
  assert.equal(image.channels, 1);
  assert.deepEqual(image.data, both.slice(60));
  const loader = new data.DataLoader(new data.VolumeDataset(items), {
    batchSize: 2,
    device: testDevice,
    transform: new KeepChannel(0),
  });
  const [batch] = await collect(loader);
  assert.deepEqual(batch.shape, [2, 1, 5, 4, 3]);
  assert.deepEqual([...batch.images], [...both.slice(0, 60), ...both.slice(0, 60)]);
});

// ---- CacheDataset ------------------------------------------------------------

Deno.test("CacheDataset: C = 2 volumes cached (filled in workers), batched by 2 loader workers", async () => {
  const c = caseOf("pair_ras_spacing");
  const items = [0, 1, 2].map((label) => ({
    image: label === 1 ? [...c.files].reverse().map(pathOf) : c.files.map(pathOf),
    label,
  }));
  const spacing = { pixdim: c.pixdim!, mode: c.mode!, paddingMode: c.paddingMode! };
  const pre = new V.ScaleIntensityRange({ aMin: -300, aMax: 300, bMin: 0, bMax: 1 });
  const vds = new data.VolumeDataset(items, { orientation: "RAS", spacing, transform: pre });
  const cache = await data.CacheDataset.create(vds, { numWorkers: 2 });
  assert.equal(liveFillWorkers(), 0);
  let bytes = 0;
  for (let i = 0; i < items.length; i++) {
    const want = await vds.get(i) as VolumeSample;
    assert.equal(want.image.channels, 2);
    bytes += want.image.data.byteLength;
    assert.deepEqual(await cache.get(i), want, `item ${i}`);
  }
  assert.equal(cache.cachedBytes, bytes);
  const t = V.compose([new V.RandFlip({ p: 0.5, spatialAxis: 1 })]);
  const ref = await collect(new data.DataLoader(vds, { batchSize: 2, seed: 4, transform: t }));
  const got = await collect(
    new data.DataLoader(cache, {
      batchSize: 2,
      seed: 4,
      transform: t,
      workers: 2,
      device: testDevice,
    }),
  );
  assert.deepEqual(got.map((b) => b.shape), [[2, 2, 4, 3, 2], [1, 2, 4, 3, 2]]);
  assert.deepEqual(got, ref);
  assert.equal(liveWorkers(), 0);
  // A sample without channels stays without (one channel), with channels 3 keeps them.
  const plain: Dataset = {
    length: 2,
    get: (i) =>
      Promise.resolve({
        image: i === 0
          ? { data: new Float32Array(8).fill(1), width: 2, height: 2, depth: 2 }
          : { data: new Float32Array(24).fill(2), width: 2, height: 2, depth: 2, channels: 3 },
        label: i,
      }),
  };
  const cached = await data.CacheDataset.create(plain);
  assert.deepEqual(await cached.get(0), await plain.get(0));
  assert.deepEqual(await cached.get(1), await plain.get(1));
  assert.equal(cached.cachedBytes, 4 * 32);
});

// ---- Bad inputs ----------------------------------------------------------------

Deno.test("VolumeDataset: bad lists of files give Errors naming the item and what to write", () => {
  const good = pathOf("t1");
  const bad = (image: unknown, re: RegExp) =>
    assert.throws(() => new data.VolumeDataset([{ image: image as string, label: 0 }]), re);
  bad([], /item 0: image is an empty list; give a path, or a list of paths stacked as channels/);
  bad([good, 3], /item 0: image\[1\] must be the path of a NIfTI file, got number 3/);
  bad([good, ""], /item 0: image\[1\] must be the path of a NIfTI file/);
  bad([good, "t2.png"], /item 0: "t2.png" is not a NIfTI path/);
  bad(3, /item 0: image must be the path of a NIfTI file, got number 3/);
  // The items are copies: changing the list given changes nothing.
  const list = [good, pathOf("t2")];
  const ds = new data.VolumeDataset([{ image: list, label: 0 }]);
  list[1] = "other.nii";
  assert.deepEqual(ds.items[0].image, [good, pathOf("t2")]);
  assert.ok(Object.isFrozen(ds.items[0].image));
});

Deno.test("VolumeDataset: files of one item that disagree are refused, naming both", async () => {
  const t1 = pathOf("t1");
  const small = await writeFile("small.nii", [5, 4, 2]);
  const sizes = new data.VolumeDataset([{ image: [t1, small], label: 0 }]);
  await assert.rejects(
    sizes.get(0),
    /item 0: image 1 \(.*small.nii\) and image 0 \(.*t1.nii\) differ in spatial shape: 5x4x2 vs 5x4x3; an item's files are stacked as channels of one grid/,
  );
  // np.allclose's decision (rtol 1e-5 of the first file's value, atol 1e-8), as numpy made it.
  for (const { shift, origin, allclose } of FIX.shifts) {
    const sform = FIX.sform.map((row) => [...row]);
    sform[0][3] = origin;
    const moved = await writeFile(`shift_${shift}.nii`, [5, 4, 3], sform);
    const ds = new data.VolumeDataset([{ image: [t1, moved], label: 0 }]);
    if (allclose) assert.equal((await ds.get(0)).image.channels, 2, `shift ${shift}`);
    else {
      await assert.rejects(
        ds.get(0),
        /image 1 \(.*\) and image 0 \(.*t1.nii\) differ in affine \(voxel-to-world\): .* vs .*rtol 1e-5, atol 1e-8.*misaligned/,
        `shift ${shift}`,
      );
    }
  }
  const mixed = new data.VolumeDataset([
    { image: [t1, pathOf("four")], label: 0 },
    { image: [pathOf("four"), t1], label: 0 },
  ]);
  // A mix of 3-D and 4-D files: every file's channels in file order (MONAI concatenates
  // [X, Y, Z, 1] with [X, Y, Z, T]; a 3-D file among them is taken as one channel here).
  const alone = new data.VolumeDataset([
    { image: t1, label: 0 },
    { image: pathOf("four"), label: 0 },
  ]);
  const [a, b] = [(await alone.get(0)).image, (await alone.get(1)).image];
  const [m0, m1] = [(await mixed.get(0)).image, (await mixed.get(1)).image];
  assert.deepEqual([m0.channels, m1.channels], [4, 4]);
  assert.deepEqual([...m0.data], [...a.data, ...b.data]);
  assert.deepEqual([...m1.data], [...b.data, ...a.data]);
  const both = join(tmp, "both.nii");
  const dims = [2, 2, 2, 2, 3];
  await Deno.writeFile(
    both,
    encodeNifti({ dims, dtype: "float32", slope: 0, inter: 0, values: new Array(48).fill(0) }),
  );
  await assert.rejects(
    new data.VolumeDataset([{ image: both, label: 0 }]).get(0),
    /both.nii is a 5-D NIfTI \(2x2x2x2x3\): dimensions 4 and 5 are both above 1/,
  );
  const missing = new data.VolumeDataset([{ image: [t1, join(tmp, "missing.nii")], label: 0 }]);
  await assert.rejects(missing.get(0), /item 0: .*missing.nii: file not found/);
});

Deno.test("DataLoader: volumes with different C in one batch fail naming both samples", async () => {
  const t1 = pathOf("t1"), t2 = pathOf("t2");
  const ds = new data.VolumeDataset([
    { image: [t1, t2], label: 0 },
    { image: t1, label: 1 },
  ]);
  for (const workers of [0, 2]) {
    await rejects(
      collect(new data.DataLoader(ds, { batchSize: 2, workers })),
      /DataLoader: batch 0 of epoch 0: volumes in one batch differ in channels: sample 0 has 2 but sample 1 has 1; the loader batches \[N, C, D, H, W\]/,
    );
  }
  // One per batch is fine: each batch has its own C.
  const got = await collect(new data.DataLoader(ds, { batchSize: 1, device: testDevice }));
  assert.deepEqual(got.map((b) => b.shape), [[1, 2, 5, 4, 3], [1, 1, 5, 4, 3]]);
});

Deno.test("DataLoader: a dataset's channels are checked as its other sizes", async () => {
  const vol = (image: Record<string, unknown>): Dataset => ({
    length: 1,
    get: () => Promise.resolve({ image: image as never, label: 0 }),
  });
  const data8 = new Float32Array(8);
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { data: data8, width: 2, height: 2, depth: 1, channels: 3 },
      /volume has 8 values for channels x depth x height x width 3x1x2x2/,
    ],
    [
      { data: data8, width: 2, height: 2, depth: 2, channels: 0 },
      /image.channels must be a positive integer, got 0/,
    ],
    [
      { data: data8, width: 2, height: 2, depth: 2, channels: 1.5 },
      /image.channels must be a positive integer, got 1.5/,
    ],
    [
      { data: new Float32Array(4), width: 2, height: 2, channels: 2 },
      /image.channels is given \(2\) but image.depth is not; 2-D images have one channel/,
    ],
  ];
  for (const [image, re] of cases) {
    await rejects(collect(new data.DataLoader(vol(image))), re);
  }
  using t = tensor(new Float32Array(16), [2, 2, 2, 2]);
  await rejects(
    collect(new data.DataLoader(vol(t as never))),
    /image is a Tensor of shape \[2,2,2,2\].*depth: 2, channels: 2 \}, label \} \(a \[C, D, H, W\] volume\)/,
  );
  const ok = vol({ data: new Float32Array(16), width: 2, height: 2, depth: 2, channels: 2 });
  const [batch] = await collect(new data.DataLoader(ok, { device: testDevice }));
  assert.deepEqual(batch.shape, [1, 2, 2, 2, 2]);
});
