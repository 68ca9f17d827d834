/**
 * LiTSDataset: the course's layout, decoding (grey, RGB as PIL, 16-bit,
 * palette, 1-bit, JPEG), normalisation, the uint8 cache, worker re-opening,
 * and every bad input the data issue lists.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// deno-lint-ignore no-import-prefix -- the encoder the tests use to make PNGs of every kind
import { encode as encodePng } from "npm:fast-png@8";
// deno-lint-ignore no-import-prefix -- to make a JPEG fixture
import jpeg from "npm:jpeg-js@0.4";
import { data } from "../mod.ts";
import { unlistedImageWarnings } from "../src/train/data.ts";

const { LiTSDataset, openDataset, decodeImage, encodeGreyPng } = data;

/** Writes a split folder and its CSV; returns the root. */
async function makeRoot(
  files: Record<string, Uint8Array>,
  csv: string,
  split = "train",
): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "lits_ds_" });
  await Deno.mkdir(join(root, split), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) {
    await Deno.mkdir(join(root, split, name, ".."), { recursive: true });
    await Deno.writeFile(join(root, split, name), bytes);
  }
  await Deno.writeTextFile(join(root, `${split}_classes.csv`), csv);
  return root;
}

const grey = (values: number[], w = 2, h = 2) => encodeGreyPng(Uint8Array.from(values), w, h);

/** Three valid 2x2 slices with a pandas index column and mixed boolean spellings. */
async function validRoot(): Promise<string> {
  return await makeRoot(
    {
      "a.png": grey([10, 20, 30, 50]),
      "b.png": grey([7, 7, 7, 7]),
      "sub/c.png": grey([0, 255, 0, 255]),
    },
    ",filename,liver_visible,lesion_visible,patient\n" +
      "0,a.png,False,False,1\n1,b.png,true,0,1\n2,sub/c.png,1,TRUE,2\n",
  );
}

async function rejects(fn: () => unknown, ...parts: (string | RegExp)[]): Promise<void> {
  await assert.rejects(async () => await fn(), (e: Error) => {
    for (const p of parts) {
      assert.ok(
        typeof p === "string" ? e.message.includes(p) : p.test(e.message),
        `"${e.message}" lacks ${p}`,
      );
    }
    return true;
  });
}

Deno.test("LiTSDataset reads the course layout: labels, counts, min-max images", async () => {
  const root = await validRoot();
  const ds = new LiTSDataset({ root, split: "train" });
  assert.equal(ds.length, 3);
  assert.deepEqual([...ds.labels], [0, 1, 2]);
  assert.deepEqual(ds.classCounts(), [0, 1, 2].map(() => 1));
  assert.equal(ds.filename(2), "sub/c.png");
  const a = await ds.get(0);
  assert.equal(a.label, 0);
  assert.deepEqual([a.image.width, a.image.height], [2, 2]);
  assert.deepEqual([...a.image.data], [0, 0.25, 0.5, 1]);
  // A constant image normalises to zeros, not NaN.
  assert.deepEqual([...(await ds.get(1)).image.data], [0, 0, 0, 0]);
  const raw = new LiTSDataset({ root, split: "train", normalize: "none" });
  assert.deepEqual(
    [...(await raw.get(0)).image.data],
    [10, 20, 30, 50].map((v) => Math.fround(v / 255)),
  );
  assert.throws(() => ds.getSync(3), RangeError);
  await assert.rejects(() => ds.get(-1), RangeError);
});

Deno.test("decodeImage: RGB as PIL's convert('L'), RGBA, palette, 16-bit, 1-bit, JPEG", () => {
  // Expected values computed with PIL 9.4: Image.convert("L").
  const rgb = encodePng({
    width: 7,
    height: 1,
    channels: 3,
    depth: 8,
    data: Uint8Array.from([
      255,
      0,
      0,
      0,
      255,
      0,
      0,
      0,
      255,
      10,
      20,
      30,
      128,
      128,
      128,
      200,
      100,
      50,
      1,
      2,
      3,
    ]),
  });
  assert.deepEqual([...decodeImage(rgb).data], [76, 150, 29, 18, 128, 124, 2]);
  const rgba = encodePng({
    width: 1,
    height: 1,
    channels: 4,
    depth: 8,
    data: Uint8Array.from([200, 100, 50, 9]),
  });
  assert.deepEqual([...decodeImage(rgba).data], [124]);
  const pal = encodePng({
    width: 2,
    height: 1,
    channels: 1,
    depth: 8,
    data: Uint8Array.from([1, 0]),
    palette: [[255, 0, 0], [0, 0, 255]],
  });
  assert.deepEqual([...decodeImage(pal).data], [29, 76]);
  const sixteen = encodePng({
    width: 3,
    height: 1,
    channels: 1,
    depth: 16,
    data: Uint16Array.from([0, 1000, 65535]),
  });
  const s = decodeImage(sixteen);
  assert.equal(s.maxValue, 65535);
  assert.deepEqual([...s.data], [0, 1000, 65535]);
  // 1-bit grey: 9 pixels packed in two bytes per row, widened to 0/255 as PIL does.
  const bits = encodePng({
    width: 9,
    height: 1,
    channels: 1,
    depth: 1,
    data: Uint8Array.from([0b10100000, 0b10000000]),
  });
  assert.deepEqual([...decodeImage(bits).data], [255, 0, 255, 0, 0, 0, 0, 0, 255]);
  const jpg = jpeg.encode({
    width: 8,
    height: 8,
    data: new Uint8Array(256).fill(128).map((v, i) => i % 4 === 3 ? 255 : v),
  }, 95);
  const j = decodeImage(jpg.data, "x.jpg");
  assert.equal(j.width, 8);
  assert.ok(j.data.every((v) => Math.abs(v - 128) <= 2), `${j.data}`);
});

Deno.test("LiTSDataset reads 16-bit and RGB PNG splits", async () => {
  const root = await makeRoot(
    {
      "a.png": encodePng({
        width: 2,
        height: 1,
        channels: 1,
        depth: 16,
        data: Uint16Array.from([1000, 3000]),
      }),
      "b.png": encodePng({
        width: 2,
        height: 1,
        channels: 3,
        depth: 8,
        data: Uint8Array.from([0, 0, 0, 255, 255, 255]),
      }),
    },
    "filename,liver_visible,lesion_visible\na.png,0,0\nb.png,1,0\n",
  );
  const ds = new LiTSDataset({ root, split: "train" });
  assert.deepEqual([...(await ds.get(0)).image.data], [0, 1]);
  assert.deepEqual([...(await ds.get(1)).image.data], [0, 1]);
  const raw = new LiTSDataset({ root, split: "train", normalize: "none" });
  assert.deepEqual(
    [...(await raw.get(0)).image.data],
    [1000 / 65535, 3000 / 65535].map(Math.fround),
  );
  // With the uint8 cache asked for: the same values (it held 16-bit slices
  // min-max scaled, which came back as [0, 1]).
  const cached = new LiTSDataset({ root, split: "train", normalize: "none", cache: true });
  assert.deepEqual([...(await cached.get(0)).image.data], [...(await raw.get(0)).image.data]);
  cached.close();
});

Deno.test("LiTSDataset uint8 cache: same samples, reused, rebuilt when the CSV changes", async () => {
  const root = await validRoot();
  const plain = new LiTSDataset({ root, split: "train" });
  const cached = new LiTSDataset({ root, split: "train", cache: true });
  const path = join(root, "train_u8.cache");
  const first = (await Deno.stat(path)).mtime!.getTime();
  for (let i = 0; i < plain.length; i++) {
    assert.deepEqual((await cached.get(i)).image.data, (await plain.get(i)).image.data);
    assert.equal((await cached.get(i)).label, plain.labels[i]);
  }
  cached.close();
  // Reopening reuses the file; a changed labels file rebuilds it.
  await new Promise((r) => setTimeout(r, 20));
  new LiTSDataset({ root, split: "train", cache: true }).close();
  assert.equal((await Deno.stat(path)).mtime!.getTime(), first);
  await Deno.writeTextFile(
    join(root, "train_classes.csv"),
    "filename,liver_visible,lesion_visible\na.png,1,1\n",
  );
  const again = new LiTSDataset({ root, split: "train", cache: true });
  assert.equal(again.length, 1);
  assert.deepEqual([...(await again.get(0)).image.data], [0, 0.25, 0.5, 1]);
  assert.equal(data.readCacheHeader(path)?.count, 1);
  again.close();
  // An image rewritten in place under the same labels file (a re-export) is
  // read again: the cache used to serve the old pixels.
  await new Promise((r) => setTimeout(r, 20));
  await Deno.writeFile(join(root, "train", "a.png"), grey([40, 30, 20, 10]));
  const fresh = new LiTSDataset({ root, split: "train", cache: true, normalize: "none" });
  assert.deepEqual(
    [...(await fresh.get(0)).image.data],
    [40, 30, 20, 10].map((v) => Math.fround(v / 255)),
  );
  fresh.close();
});

Deno.test("LiTSDataset cache: 16-bit splits are read from their files; mixed bit depths are refused", async () => {
  const png16 = (values: number[]) =>
    encodePng({ width: 2, height: 1, channels: 1, depth: 16, data: Uint16Array.from(values) });
  const csv = "filename,liver_visible,lesion_visible\na.png,0,0\nb.png,1,0\n";
  // Training (cached) and evaluate (from the files) must see the same pixels:
  // 8 bits rounded 16-bit slices in the cache.
  const root16 = await makeRoot({ "a.png": png16([1000, 1001]), "b.png": png16([0, 65535]) }, csv);
  const cached = new LiTSDataset({ root: root16, split: "train", cache: true });
  const plain = new LiTSDataset({ root: root16, split: "train" });
  assert.deepEqual((await cached.get(0)).image.data, (await plain.get(0)).image.data);
  assert.equal(data.readCacheHeader(join(root16, "train_u8.cache")), undefined); // none written
  cached.close();
  const mixed = await makeRoot({ "a.png": grey([1, 2], 2, 1), "b.png": png16([0, 65535]) }, csv);
  await rejects(
    () => new LiTSDataset({ root: mixed, split: "train", cache: true }),
    "b.png: a 16-bit image in a split whose first image",
    "must share one bit depth",
  );
});

Deno.test("LiTSDataset.workerSpec re-opens the same dataset through openDataset", async () => {
  const root = await validRoot();
  const ds = new LiTSDataset({ root, split: "train", cache: true });
  const { module, spec } = ds.workerSpec();
  const mod = await import(module);
  assert.equal(typeof mod.openDataset, "function");
  const copy = mod.openDataset(structuredClone(spec)) as InstanceType<typeof LiTSDataset>;
  assert.equal(copy.length, ds.length);
  for (let i = 0; i < ds.length; i++) assert.deepEqual(await copy.get(i), await ds.get(i));
  assert.throws(() => openDataset({ root: "relative", split: "train" }), /absolute/);
  copy.close();
  ds.close();
});

Deno.test("bad input: missing files, corrupt and truncated PNGs, size mismatch", async () => {
  const csv = "filename,liver_visible,lesion_visible\na.png,0,0\nb.png,1,0\n";
  await rejects(
    () => new LiTSDataset({ root: "/nonexistent/lits", split: "train" }),
    "train_classes.csv",
    "not found",
  );
  let root = await makeRoot({ "a.png": grey([1, 2, 3, 4]) }, csv);
  await rejects(() => new LiTSDataset({ root, split: "train" }), "b.png", "not found", "line 3");
  // One slice listed twice with two labels (pandas would keep both rows).
  root = await makeRoot({ "a.png": grey([1, 2, 3, 4]) }, csv.replace("b.png,1,0", "a.png,1,1"));
  await rejects(
    () => new LiTSDataset({ root, split: "train" }),
    "line 3: a.png is listed again with another label (class 2; line 2 says class 0)",
  );
  // Listed but deleted after opening: the error comes from get().
  root = await makeRoot({ "a.png": grey([1, 2, 3, 4]), "b.png": grey([1, 2, 3, 4]) }, csv);
  const ds = new LiTSDataset({ root, split: "train" });
  await Deno.remove(join(root, "train", "b.png"));
  await rejects(() => ds.get(1), "b.png", "not found", "line 3");

  const good = grey([1, 2, 3, 4]);
  const corrupt = good.slice();
  corrupt[good.length - 20] ^= 0xff; // inside the compressed data
  root = await makeRoot({ "a.png": good, "b.png": corrupt }, csv);
  await rejects(
    () => new LiTSDataset({ root, split: "train" }).get(1),
    "b.png",
    "corrupt",
    "line 3",
  );
  root = await makeRoot({ "a.png": good, "b.png": good.subarray(0, good.length - 25) }, csv);
  await rejects(() => new LiTSDataset({ root, split: "train" }).get(1), "b.png", "truncated PNG");
  root = await makeRoot({ "a.png": good, "b.png": new TextEncoder().encode("not an image") }, csv);
  await rejects(
    () => new LiTSDataset({ root, split: "train" }).get(1),
    "b.png",
    "not a PNG or JPEG",
  );
  // The first image is decoded at open time, so a bad one fails at once.
  root = await makeRoot({ "a.png": good.subarray(0, 30), "b.png": good }, csv);
  await rejects(() => new LiTSDataset({ root, split: "train" }), "a.png", "line 2");

  root = await makeRoot({ "a.png": good, "b.png": grey([1, 2, 3, 4, 5, 6], 3, 2) }, csv);
  await rejects(
    () => new LiTSDataset({ root, split: "train" }).get(1),
    "b.png",
    "3x2",
    "2x2",
    "a.png",
  );
  // Building a cache decodes everything, so the mismatch shows at open time.
  await rejects(() => new LiTSDataset({ root, split: "train", cache: true }), "b.png", "3x2");
});

Deno.test("bad input: CSV columns, booleans, label combinations, escaping paths, empty split", async () => {
  const img = { "a.png": grey([1, 2, 3, 4]) };
  const cases: [string, string[]][] = [
    ["file,liver_visible,lesion_visible\na.png,0,0\n", ["missing column", "filename"]],
    ["filename,liver\na.png,0\n", ["liver_visible, lesion_visible"]],
    ["filename,liver_visible,lesion_visible\na.png,yes,0\n", ["line 2", '"yes"', "boolean"]],
    ["filename,liver_visible,lesion_visible\na.png,0,0\na.png,0,\n", ["line 3", "boolean"]],
    ["filename,liver_visible,lesion_visible\na.png,1,0\na.png,False,True\n", [
      "line 3",
      "lesion",
      "invalid",
    ]],
    ["filename,liver_visible,lesion_visible\n../a.png,0,0\n", ["line 2", "escapes"]],
    ["filename,liver_visible,lesion_visible\nx/../../a.png,0,0\n", ["line 2", "escapes"]],
    ["filename,liver_visible,lesion_visible\n/etc/passwd,0,0\n", ["line 2", "absolute"]],
    ["filename,liver_visible,lesion_visible\nC:\\a.png,0,0\n", ["line 2", "absolute"]],
    ["filename,liver_visible,lesion_visible\n", ["empty split"]],
    ["", ["empty CSV"]],
    ['filename,liver_visible,lesion_visible\n"a.png,0,0\n', ["unreadable CSV"]],
  ];
  for (const [csv, parts] of cases) {
    const root = await makeRoot(img, csv);
    await rejects(() => new LiTSDataset({ root, split: "train" }), "train_classes.csv", ...parts);
  }
  const root = await makeRoot(img, "filename,liver_visible,lesion_visible\na.png,0,0\n");
  await rejects(() => new LiTSDataset({ root, split: "val" }), "val_classes.csv", "not found");
});

Deno.test("a split folder's images that its labels file does not list get a warning (they are not used)", async () => {
  const root = await makeRoot(
    {
      "a.png": grey([1, 2, 3, 4]),
      "extra1.png": grey([1, 2, 3, 4]),
      "notes.txt": new Uint8Array(1),
    },
    "filename,liver_visible,lesion_visible\na.png,0,0\n",
  );
  const ds = new LiTSDataset({ root, split: "train" });
  const [w, ...rest] = unlistedImageWarnings({ train: ds });
  assert.equal(rest.length, 0);
  assert.match(
    w,
    /train holds 1 image\(s\) that .*train_classes\.csv does not list, so they are not used \(extra1\.png\)/,
  );
  const all = await makeRoot(
    { "a.png": grey([1, 2, 3, 4]) },
    "filename,liver_visible,lesion_visible\na.png,0,0\n",
  );
  assert.deepEqual(
    unlistedImageWarnings({ train: new LiTSDataset({ root: all, split: "train" }) }),
    [],
  );
});

Deno.test("a damaged uint8 cache is never read as pixels: checked per image, the PNG read instead", async () => {
  const root = await validRoot();
  const plain = new LiTSDataset({ root, split: "train" });
  new LiTSDataset({ root, split: "train", cache: true }).close();
  const path = join(root, "train_u8.cache");
  // Flip the last pixel byte in place: same size and, after a touch, any time.
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 1] ^= 0xff;
  await Deno.writeFile(path, bytes);
  const reader = new data.CacheReader(path);
  assert.throws(() => reader.read(2), data.CacheDamagedError);
  assert.equal(reader.read(0).length, 4, "the undamaged images still read");
  reader.close();
  reader.close(); // a second close does nothing
  assert.throws(() => reader.read(0), /CacheReader .* is closed/);
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const cached = new LiTSDataset({ root, split: "train", cache: true });
    for (const i of [2, 2, 0]) {
      assert.deepEqual((await cached.get(i)).image.data, (await plain.get(i)).image.data);
    }
    cached.close();
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /image 2 does not match its checksum .* reading from the images/);
});

Deno.test("building a cache removes what builds killed mid-way left behind", () => {
  const dir = Deno.makeTempDirSync();
  const path = join(dir, "train.u8");
  const dead = `${path}.tmp-999999999`; // no such process
  Deno.writeFileSync(dead, new Uint8Array(10));
  const other = join(dir, "other.u8.tmp-999999999");
  Deno.writeFileSync(other, new Uint8Array(1));
  data.writeCache(path, { count: 1, width: 1, height: 1, fingerprint: "" }, (_, px) => px.fill(3));
  assert.throws(() => Deno.statSync(dead), Deno.errors.NotFound);
  Deno.statSync(other); // another cache's: not ours to remove
  using reader = new data.CacheReader(path);
  assert.deepEqual([...reader.read(0)], [3]);
});

Deno.test("a cache of odd-sized images (unaligned in their chunk) reads back checked", () => {
  for (const [width, height] of [[3, 1], [3, 3], [5, 5], [227, 227]]) {
    const path = Deno.makeTempFileSync({ suffix: ".u8" });
    const size = width * height;
    const header = { count: 5, width, height, fingerprint: "" };
    data.writeCache(path, header, (i, px) => px.forEach((_, k) => (px[k] = (i * 7 + k) % 256)));
    using reader = new data.CacheReader(path);
    for (let i = 0; i < 5; i++) {
      const px = reader.read(i);
      assert.equal(px.length, size);
      assert.equal(px[size - 1], (i * 7 + size - 1) % 256, `${width}x${height} image ${i}`);
    }
  }
});
