/**
 * data.ImageFolder as torchvision's: sorted classes, classToIdx, samples,
 * targets, case-insensitive extensions, its messages for a root without
 * class folders and an empty class, an RGB file as torchvision's
 * ImageFolder + Grayscale + ToTensor (tests/fixtures/transforms_audit.json),
 * and the DataLoader with worker threads giving what the main thread gives.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- the decoder's pinned npm encoder, as other tests use it
import { encode as encodePng } from "npm:fast-png@8";
import { data } from "../mod.ts";
import { assertClose, loadFixture } from "./helpers.ts";

const T = data.transforms;
const fx = loadFixture<{
  grey: { rgb: number[]; width: number; height: number; grayscale_then_to_tensor: number[] };
}>("transforms_audit.json");

/** A grey PNG of `w` x `h` filled with `v`. */
const grey = (v: number, w = 4, h = 3) => data.encodeGreyPng(new Uint8Array(w * h).fill(v), w, h);

/** Writes `files` (relative path -> bytes) under a new temp folder. */
async function tree(files: Record<string, Uint8Array | null>): Promise<string> {
  const root = await Deno.makeTempDir();
  for (const [rel, bytes] of Object.entries(files)) {
    const path = `${root}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    if (bytes) await Deno.writeFile(path, bytes);
  }
  return root;
}

Deno.test("ImageFolder: classes sorted, classToIdx, samples in os.walk order, targets, extensions", async () => {
  const root = await tree({
    "tumour/b.png": grey(30),
    "tumour/A.PNG": grey(20),
    "tumour/deep/c.jpg": null, // folder only
    "liver/x.Png": grey(10),
    "liver/sub/y.png": grey(11),
    "liver/notes.txt": new TextEncoder().encode("not an image"),
    "Zebra/z.png": grey(40),
  });
  const ds = new data.ImageFolder(root);
  // Python sorts by code point: upper case first.
  assert.deepEqual(ds.classes, ["Zebra", "liver", "tumour"]);
  assert.deepEqual(ds.classToIdx, { Zebra: 0, liver: 1, tumour: 2 });
  assert.deepEqual(
    ds.samples.map(([p, t]) => [p.slice(root.length + 1), t]),
    [["Zebra/z.png", 0], ["liver/x.Png", 1], ["liver/sub/y.png", 1], ["tumour/A.PNG", 2], [
      "tumour/b.png",
      2,
    ]],
  );
  assert.deepEqual(ds.targets, [0, 1, 1, 2, 2]);
  assert.deepEqual(ds.classCounts(), [1, 2, 2]);
  const { image, label } = await ds.get(3);
  assert.equal(label, 2);
  assert.deepEqual([image.width, image.height], [4, 3]);
  assertClose(image.data, new Array(12).fill(20 / 255), { atol: 1e-7 });
  // extensions (case-insensitive) and isValidFile, not both.
  assert.equal(new data.ImageFolder(root, { extensions: [".PNG"] }).length, 5);
  const only = new data.ImageFolder(root, {
    isValidFile: (p) => /\.png$/i.test(p) && !p.includes("sub"),
  });
  assert.equal(only.length, 4);
  assert.throws(
    () => new data.ImageFolder(root, { extensions: [".png"], isValidFile: () => true }),
    /Both extensions and is_valid_file/,
  );
  // targetTransform maps the labels get() returns.
  const flipped = new data.ImageFolder(root, { targetTransform: (t) => 2 - t });
  assert.equal((await flipped.get(0)).label, 2);
  assert.deepEqual([...flipped.labels], [2, 1, 1, 0, 0]);
  assert.throws(() => new data.ImageFolder(root, { targetTransform: () => 0.5 }), /class indices/);
});

Deno.test("ImageFolder: torchvision's messages for no class folder and an empty class", async () => {
  const flat = await tree({ "a.png": grey(1) });
  assert.throws(() => new data.ImageFolder(flat), /Couldn't find any class folder in /);
  const empty = await tree({ "cat/a.png": grey(1), "dog/readme.txt": new Uint8Array(1) });
  assert.throws(
    () => new data.ImageFolder(empty),
    /Found no valid file for the classes dog\. Supported extensions are: \.jpg, \.jpeg, \.png/,
  );
  const bmp = await tree({ "cat/a.bmp": new Uint8Array(4) });
  assert.throws(() => new data.ImageFolder(bmp), /only PNG and JPEG files are read here/);
  assert.throws(() => new data.ImageFolder(`${flat}/missing`), /not found/);
});

Deno.test("ImageFolder: an RGB file is torchvision's ImageFolder + Grayscale() + ToTensor()", async () => {
  const g = fx.grey;
  const rgb = encodePng({
    width: g.width,
    height: g.height,
    data: Uint8Array.from(g.rgb),
    channels: 3,
  });
  const root = await tree({ "c/rgb.png": rgb });
  const T2 = T.compose([new T.Grayscale(), new T.ToTensor()]);
  const ds = new data.ImageFolder(root, { transform: T2 });
  const { image } = await ds.get(0);
  assert.deepEqual([image.width, image.height], [g.width, g.height]);
  assertClose(image.data, g.grayscale_then_to_tensor, { atol: 1e-7 });
});

Deno.test("ImageFolder: deterministic transforms in the dataset, random ones refused with where they go", async () => {
  const root = await tree({ "a/1.png": grey(100, 8, 6), "b/2.png": grey(200, 8, 6) });
  const ds = new data.ImageFolder(root, {
    transform: [new T.Resize({ size: 4 }), new T.CenterCrop({ size: 4 }), new T.ToTensor()],
  });
  const { image } = await ds.get(1);
  assert.deepEqual([image.width, image.height], [4, 4]);
  // Before ToTensor: PIL's antialiased resize, recorded in the spec.
  const steps = ds.transform!.spec.transforms as { antialias?: boolean }[];
  assert.equal(steps[0].antialias, true);
  assert.throws(
    () =>
      new data.ImageFolder(root, {
        transform: T.compose([new T.RandomResizedCrop({ size: 4 }), new T.RandomHorizontalFlip()]),
      }),
    /RandomResizedCrop, RandomHorizontalFlip, drawn at random.*new data.DataLoader\(ds, \{ transform \}\)/,
  );
});

Deno.test("ImageFolder + DataLoader: worker threads give the main thread's batches", async () => {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 10; i++) files[`${i % 3 === 0 ? "x" : "y"}/${i}.png`] = grey(i * 20, 6, 5);
  const root = await tree(files);
  const transform = T.compose([new T.Resize({ size: [4, 4] }), new T.ToTensor()]);
  const ds = new data.ImageFolder(root, { transform });
  assert.ok(ds.workerSpec);
  const aug = T.compose([new T.RandomHorizontalFlip(), new T.Normalize({ mean: 0.5, std: 0.5 })]);
  const read = async (workers: number) => {
    const loader = new data.DataLoader(ds, {
      batchSize: 4,
      seed: 3,
      shuffle: true,
      workers,
      transform: aug,
    });
    const out: number[][] = [];
    for await (const b of loader) {
      out.push([...b.images.toArray(), ...b.labels.toArray()]);
      b.images.dispose();
      b.labels.dispose();
    }
    return out;
  };
  const main = await read(0), threads = await read(2);
  assert.equal(main.length, 3);
  assert.deepEqual(threads, main);
  // A function cannot travel to a worker: the loader reads such a dataset here.
  assert.equal(new data.ImageFolder(root, { targetTransform: (t) => t }).workerSpec, undefined);
});
