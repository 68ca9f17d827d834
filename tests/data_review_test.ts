/**
 * Review of the data changes (transforms audit, ImageFolder, torch.utils.data
 * audit): what the first tests left out. ImageFolder's sample order is
 * torchvision 0.14's `sorted(os.walk(...))` (a sub-folder named `b-c` or
 * `b.d` sorts before `b`'s own sub-folders, as '-' and '.' sort before
 * '/'); negative indices read from the end, as torchvision's list of
 * samples, on the main thread and in worker threads alike. io.load's numpy
 * scalars saved with pickle_protocol=3 (bytes opcodes) load as torch.load
 * gives them, and a Python bytes object is refused by its name
 * (tests/fixtures/data_review.json from scripts/make_data_review_fixtures.py).
 */
import assert from "node:assert/strict";
import { data, io } from "../mod.ts";
import { loadFixture } from "./helpers.ts";

const fx = loadFixture<{
  numpy_p3: string;
  numpy_p3_values: Record<string, number>;
  bytes_p2: string;
  bytes_p3: string;
}>("data_review.json");
const decodeBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** A grey PNG of 2 x 2 filled with `v`. */
const grey = (v: number) => data.encodeGreyPng(new Uint8Array(4).fill(v), 2, 2);

/** Writes `files` (relative path -> grey value) under a new temp folder. */
async function tree(files: Record<string, number>): Promise<string> {
  const root = await Deno.makeTempDir();
  for (const [rel, v] of Object.entries(files)) {
    const path = `${root}/${rel}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, grey(v));
  }
  return root;
}

Deno.test("ImageFolder: samples in torchvision's sorted(os.walk) order, sub-folders named around '/'", async () => {
  const root = await tree({
    "a/z.png": 1,
    "a/b/x.png": 2,
    "a/b-c/y.png": 3,
    "a/b.d/w.png": 4,
    "a/b/e/v.png": 5,
    "a/B/u.png": 6,
    "a/Z.png": 7,
  });
  const ds = new data.ImageFolder(root);
  // torchvision 0.14's ImageFolder(root).samples for this tree.
  assert.deepEqual(ds.samples.map(([p]) => p.slice(root.length + 1)), [
    "a/Z.png",
    "a/z.png",
    "a/B/u.png",
    "a/b/x.png",
    "a/b-c/y.png",
    "a/b.d/w.png",
    "a/b/e/v.png",
  ]);
  // A worker reads the same files for the same indices.
  const order = Int32Array.from({ length: ds.length }, (_, i) => i);
  const pixels = async (workers: number) => {
    const out: number[] = [];
    const loader = new data.DataLoader(ds, { sampler: order, batchSize: 7, workers });
    for await (using b of loader) out.push(...(b.images.toArray() as Float32Array));
    return out.filter((_, k) => k % 4 === 0).map((v) => Math.round(v * 255));
  };
  assert.deepEqual(await pixels(0), [7, 1, 6, 2, 3, 4, 5]);
  assert.deepEqual(await pixels(1), [7, 1, 6, 2, 3, 4, 5]);
});

Deno.test("ImageFolder: negative indices read from the end, as torchvision's, in workers too", async () => {
  const root = await tree({ "a/x.png": 10, "a/y.png": 20, "b/z.png": 30 });
  const ds = new data.ImageFolder(root);
  const last = await ds.get(-1);
  assert.equal(last.label, 1);
  assert.equal(Math.round(last.image.data[0] * 255), 30);
  assert.equal(Math.round((await ds.get(-3)).image.data[0] * 255), 10);
  await assert.rejects(() => ds.get(-4), /index -4 out of range \[-3, 3\)/);
  await assert.rejects(() => ds.get(3), /index 3 out of range/);
  // The loader takes torch's negative indices; a worker reads them as the main thread.
  for (const workers of [0, 1]) {
    const loader = new data.DataLoader(ds, { sampler: [-1, 0], batchSize: 2, workers });
    const seen: number[] = [];
    for await (using b of loader) {
      const px = b.images.toArray() as Float32Array;
      seen.push(Math.round(px[0] * 255), Math.round(px[4] * 255), ...b.labels.toArray());
    }
    assert.deepEqual(seen, [30, 10, 1, 0], `workers ${workers}`);
  }
});

Deno.test("BatchSampler: a missing dropLast says torch's has no default", () => {
  assert.throws(
    () => new (data.BatchSampler as unknown as new (...a: unknown[]) => unknown)([0, 1], 2),
    /dropLast must be true or false, got nothing \(torch's drop_last has no default\)/,
  );
});

Deno.test("io.load: numpy scalars saved with pickle_protocol=3 load as torch.load gives them", () => {
  const c = io.decodePth(decodeBase64(fx.numpy_p3), "p3.pth");
  assert.deepEqual(c, fx.numpy_p3_values);
});

Deno.test("io.load: a Python bytes object is refused by name, protocol 2 and 3", () => {
  for (const key of ["bytes_p2", "bytes_p3"] as const) {
    assert.throws(
      () => io.decodePth(decodeBase64(fx[key]), "b.pth"),
      /'b' is a Python bytes object, which torch\.load\(weights_only=True\) refuses; save a string or a tensor instead/,
      key,
    );
  }
});
