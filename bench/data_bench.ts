/**
 * Data pipeline throughput: decode + augment (`transforms.ct()`) of 256x256
 * 8-bit PNG slices through the DataLoader, in slices per second.
 *
 * `deno bench -A bench/data_bench.ts` times whole epochs;
 * `deno run -A bench/data_bench.ts` prints slices/s per configuration. Both
 * keep the workers between epochs (`persistentWorkers`) and time warm
 * epochs, which is what training sees from its second epoch on (a cold
 * epoch adds ~0.2 s of worker start-up and JIT warm-up). The slices are CT-like
 * (body ellipse, organs, noise of ~8 grey levels) so they compress like real
 * ones (~40 KB each).
 *
 * @module
 */
import { encodeGreyPng } from "../src/data/image_decode.ts";
import { DataLoader } from "../src/data/loader.ts";
import { LiTSDataset } from "../src/data/lits_dataset.ts";
import { ct } from "../src/data/transforms/presets.ts";
import type { Dataset } from "../src/data/types.ts";
import { Rng } from "../src/data/rng.ts";
import { PngSlices, sliceName } from "./png_slices.ts";

const SIZE = 256;
const COUNT = Number(Deno.env.get("DATA_BENCH_SLICES") ?? 2048);
const BATCH = 32;

/** A CT-like 8-bit slice: body, liver, spine, noise; label by liver size. */
function slice(i: number): { pixels: Uint8Array; label: number } {
  const rng = new Rng(i);
  const px = new Uint8Array(SIZE * SIZE);
  const rx = 100 + rng.uniform(-10, 10), ry = 80 + rng.uniform(-8, 8);
  const liver = i % 3, lx = 90 + rng.uniform(-5, 5), ly = 120 + rng.uniform(-5, 5);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const bx = (x - 128) / rx, by = (y - 128) / ry, r = bx * bx + by * by;
      if (r > 1) continue;
      let v = r > 0.85 ? 70 : 115; // fat rim, soft tissue
      const dl = ((x - lx) / 40) ** 2 + ((y - ly) / 30) ** 2;
      if (liver > 0 && dl < 1) v = liver === 2 && dl < 0.1 ? 100 : 140;
      if (((x - 128) / 12) ** 2 + ((y - 190) / 12) ** 2 < 1) v = 230; // spine
      px[y * SIZE + x] = Math.max(0, Math.min(255, Math.round(v + rng.normal(0, 8))));
    }
  }
  return { pixels: px, label: liver };
}

async function writeSlices(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "lits_data_bench_" });
  await Deno.mkdir(`${root}/train`);
  const rows = ["filename,liver_visible,lesion_visible"];
  for (let i = 0; i < COUNT; i++) {
    const { pixels, label } = slice(i);
    const name = sliceName(i, label);
    await Deno.writeFile(
      `${root}/train/${name}`,
      encodeGreyPng(pixels, SIZE, SIZE),
    );
    rows.push(`${name},${label > 0},${label > 1}`);
  }
  await Deno.writeTextFile(`${root}/train_classes.csv`, rows.join("\n") + "\n");
  return root;
}

/** A loader whose workers stay up between epochs, as in training after epoch 1. */
function loaderFor(dataset: Dataset, workers: number): DataLoader {
  return new DataLoader(dataset, {
    batchSize: BATCH,
    shuffle: true,
    workers,
    prefetch: 4,
    persistentWorkers: workers > 0, // none to keep on the main thread (torch refuses it too)
    transform: ct(),
  });
}

/** One epoch; returns [whole-epoch rate, steady rate after the first batch] in slices/s. */
async function epoch(loader: DataLoader): Promise<[number, number]> {
  const t0 = performance.now();
  let first = 0, after = 0;
  for await (using batch of loader) {
    if (first === 0) first = performance.now();
    else after += batch.labels.shape[0];
  }
  const t1 = performance.now();
  return [COUNT / ((t1 - t0) / 1000), after / ((t1 - first) / 1000)];
}

const root = await writeSlices();
const configs: [string, () => Dataset, number][] = [
  ["LiTSDataset (fast-png), 2 workers", () => new LiTSDataset({ root, split: "train" }), 2],
  [
    "LiTSDataset, uint8 cache, 2 workers",
    () => new LiTSDataset({ root, split: "train", cache: true }),
    2,
  ],
  [
    "PngSlices (node:zlib), 2 workers",
    () => new PngSlices({ dir: `${root}/train`, count: COUNT }),
    2,
  ],
  [
    "PngSlices (node:zlib), main thread",
    () => new PngSlices({ dir: `${root}/train`, count: COUNT }),
    0,
  ],
];

if (import.meta.main) {
  console.log(`${COUNT} slices ${SIZE}x${SIZE}, batch ${BATCH}, ct preset, warm workers`);
  for (const [name, make, workers] of configs) {
    using loader = loaderFor(make(), workers);
    await epoch(loader); // warm-up: worker start, JIT, page cache
    const runs = [await epoch(loader), await epoch(loader), await epoch(loader)];
    const best = runs.reduce((a, b) => (b[0] > a[0] ? b : a));
    console.log(
      `${name.padEnd(36)} ${best[0].toFixed(0).padStart(6)} slices/s per epoch (${
        best[1].toFixed(0)
      } after the first batch)`,
    );
  }
  await Deno.remove(root, { recursive: true });
} else {
  const loaders: DataLoader[] = [];
  for (const [name, make, workers] of configs) {
    const loader = loaderFor(make(), workers);
    loaders.push(loader);
    Deno.bench({
      name: `${name}: ${COUNT} slices`,
      n: 3,
      warmup: 1,
      async fn() {
        await epoch(loader);
      },
    });
  }
  globalThis.addEventListener("unload", () => {
    for (const l of loaders) l.close();
    Deno.removeSync(root, { recursive: true });
  });
}
