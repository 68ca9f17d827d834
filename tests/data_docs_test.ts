/**
 * torch.utils.data's documented uses, ported as a user writes them, against
 * PyTorch 1.13 (tests/fixtures/data_docs.json, written by
 * scripts/make_data_docs_fixtures.py): random_split with
 * `generator=torch.Generator().manual_seed(s)` gives torch's very indices
 * through `data.TorchGenerator`; BatchSampler's batches and the loader's
 * `batchSampler`; len(loader) with and without drop_last; RandomSampler
 * with num_samples above the dataset's length; ConcatDataset's negative
 * indices. Then the spellings that must work alike or throw naming ours:
 * `batch_size=None`, a list as `sampler`, samplers given the dataset,
 * SubsetRandomSampler, `timeout`, torch-style datasets, and a worker whose
 * dataset ends its thread.
 */
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import { captureWarnings, loadFixture, messageOf } from "./helpers.ts";
import { ToyDataset } from "./toy_dataset.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import type { ExitSpec } from "./data_docs_exit_dataset.ts";

interface SplitCase {
  n: number;
  lengths: number[];
  seed: number;
  splits: number[][];
  again: number[][] | null;
}
interface PermCase {
  n: number;
  seed: number;
  head: number[];
  tail: number[];
  checksum: number;
}
interface BatchSamplerCase {
  n: number;
  batchSize: number;
  dropLast: boolean;
  batches: number[][];
  length: number;
}
interface LengthCase {
  what: "plain" | "randomSampler" | "batchSampler";
  batchSize: number;
  dropLast: boolean;
  length: number;
  numSamples?: number;
  samples?: number;
  batches?: number[][];
}
const fx = loadFixture<{
  splits: SplitCase[];
  perms: PermCase[];
  defaultGenerator: number[];
  batchSamplers: BatchSamplerCase[];
  loaderLengths: LengthCase[];
  concat: { sizes: number[]; cumulativeSizes: number[]; at: Record<string, number> };
}>("data_docs.json");

/** A dataset of `n` 2x2 images, sample i filled with i and labelled i. */
function numbered(n: number) {
  return {
    length: n,
    get: (i: number) =>
      Promise.resolve({
        image: { data: new Float32Array(4).fill(i), width: 2, height: 2 },
        label: i,
      }),
  };
}

/** The dataset indices of each batch of one epoch. */
async function epoch(loader: data.DataLoader): Promise<number[][]> {
  const out: number[][] = [];
  for await (using b of loader) out.push([...b.indices]);
  return out;
}

Deno.test("randomSplit with torch's generator gives torch 1.13's indices, split for split", () => {
  for (const c of fx.splits) {
    const g = new data.TorchGenerator().manualSeed(c.seed);
    const ds = numbered(c.n);
    const { value, warned } = captureWarnings(() =>
      data.randomSplit(ds, c.lengths, { generator: g })
    );
    const got = (value as data.Subset[]).map((s) => [...s.indices]);
    assert.deepEqual(got, c.splits, `random_split(range(${c.n}), [${c.lengths}], seed ${c.seed})`);
    // torch warns of an empty split; so do we.
    assert.equal(warned.length, c.splits.filter((s) => s.length === 0).length);
    if (c.again) {
      // The generator advanced as torch's: the second split is torch's second.
      const again = data.randomSplit(ds, c.lengths, { generator: g }).map((s) => [...s.indices]);
      assert.deepEqual(again, c.again, `second random_split from one generator (n ${c.n})`);
    }
  }
});

Deno.test("TorchGenerator.randperm is torch.randperm(n, generator=...) (n up to 100,000)", () => {
  for (const c of fx.perms) {
    const p = new data.TorchGenerator().manualSeed(c.seed).randperm(c.n);
    assert.deepEqual([...p.subarray(0, 40)], c.head, `randperm(${c.n}), seed ${c.seed}: head`);
    assert.deepEqual([...p.subarray(Math.max(0, c.n - 40))], c.tail, `randperm(${c.n}): tail`);
    let sum = 0;
    p.forEach((v: number, i: number) => (sum += (i + 1) * v));
    assert.equal(sum, c.checksum, `randperm(${c.n}), seed ${c.seed}: checksum`);
  }
  // torch.Generator() unseeded starts from torch's default seed.
  assert.deepEqual([...new data.TorchGenerator().randperm(12)], fx.defaultGenerator);
  assert.throws(() => new data.TorchGenerator().manualSeed(-1), /non-negative integer/);
  // Our own seeded split stays as it was; a wrong generator says what to write.
  assert.throws(
    () => data.randomSplit(numbered(4), [2, 2], { generator: 42 } as never),
    /TorchGenerator\(\)\.manualSeed\(42\)/,
  );
  assert.throws(
    () => data.randomSplit(numbered(4), [2, 2], { seed: 1, generator: new data.TorchGenerator() }),
    /one of seed, rng and generator/,
  );
});

Deno.test("BatchSampler gives torch's batches; the loader's batchSampler reads them", async () => {
  for (const c of fx.batchSamplers) {
    const bs = new data.BatchSampler(new data.SequentialSampler(c.n), c.batchSize, c.dropLast);
    assert.equal(bs.length, c.length, `len(BatchSampler(${c.n}, ${c.batchSize}, ${c.dropLast}))`);
    assert.deepEqual(bs.batches(0, 0).map((b) => [...b]), c.batches);
    // The keyword port: BatchSampler(s, batch_size=3, drop_last=False).
    const kw = new data.BatchSampler(new data.SequentialSampler(c.n), {
      batchSize: c.batchSize,
      dropLast: c.dropLast,
    });
    assert.deepEqual(kw.batches(0, 0).map((b) => [...b]), c.batches);
    if (c.n > 0) {
      const loader = new data.DataLoader(numbered(c.n), { batchSampler: bs });
      assert.equal(loader.length, c.length);
      assert.deepEqual(await epoch(loader), c.batches);
    }
  }
  // A random inner sampler: a new order per epoch, every index once.
  const loader = new data.DataLoader(numbered(10), {
    batchSampler: new data.BatchSampler(new data.RandomSampler(10), 4, false),
    seed: 3,
  });
  const [e0, e1] = [await epoch(loader), await epoch(loader)];
  assert.deepEqual(e0.map((b) => b.length), [4, 4, 2]);
  assert.deepEqual(e0.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(e0, e1);
  // Your own batches (torch's batch_sampler=[[...], ...]).
  const own = new data.DataLoader(numbered(6), { batchSampler: [[5, 0], [1, 2, 3]] });
  assert.equal(own.length, 2);
  assert.deepEqual(await epoch(own), [[5, 0], [1, 2, 3]]);
  // torch's ValueError: batch_sampler excludes batch_size, shuffle, sampler and drop_last.
  for (const extra of [{ batchSize: 4 }, { shuffle: true }, { dropLast: true }, { sampler: [0] }]) {
    assert.throws(
      () => new data.DataLoader(numbered(6), { batchSampler: [[0]], ...extra }),
      /batchSampler is mutually exclusive with batchSize, shuffle, sampler and dropLast/,
    );
  }
  assert.throws(
    () => new data.DataLoader(numbered(6), { batch_sampler: [[0]] } as never),
    /write 'batchSampler'/,
  );
  assert.throws(() => new data.BatchSampler(new data.SequentialSampler(3), 0, false), /batchSize/);
  assert.throws(
    () => new data.BatchSampler(new data.SequentialSampler(3), 2, 1 as never),
    /dropLast must be true or false/,
  );
  await assert.rejects(
    () => epoch(new data.DataLoader(numbered(3), { batchSampler: [[0, 7]] })),
    /index 7 .* out of range for a dataset of 3 samples/,
  );
});

Deno.test("len(loader) as torch's, with and without drop_last, samplers and batch samplers", async () => {
  const ds = numbered(10);
  for (const c of fx.loaderLengths) {
    let loader: data.DataLoader;
    if (c.what === "plain") {
      loader = new data.DataLoader(ds, { batchSize: c.batchSize, dropLast: c.dropLast });
    } else if (c.what === "randomSampler") {
      const sampler = new data.RandomSampler(ds, { numSamples: c.numSamples });
      assert.equal(sampler.length, c.samples);
      loader = new data.DataLoader(ds, { batchSize: c.batchSize, dropLast: c.dropLast, sampler });
    } else {
      const batchSampler = new data.BatchSampler(
        new data.SequentialSampler(ds),
        c.batchSize,
        c.dropLast,
      );
      loader = new data.DataLoader(ds, { batchSampler });
      assert.deepEqual(await epoch(loader), c.batches);
    }
    assert.equal(loader.length, c.length, JSON.stringify(c));
    assert.equal((await epoch(loader)).length, c.length, `batches iterated: ${JSON.stringify(c)}`);
  }
});

Deno.test("RandomSampler: numSamples above n without replacement is whole permutations, as torch 1.13", () => {
  const s = new data.RandomSampler(3, { numSamples: 7 });
  const got = [...s.indices(0, 5)];
  assert.equal(got.length, 7);
  assert.deepEqual(got.slice(0, 3).sort(), [0, 1, 2]);
  assert.deepEqual(got.slice(3, 6).sort(), [0, 1, 2]);
  assert.ok(got[6] >= 0 && got[6] < 3);
  // Below n: the permutation's first ones, as before.
  const full = [...new data.RandomSampler(5).indices(2, 9)];
  assert.deepEqual(
    [...new data.RandomSampler(5, { numSamples: 2 }).indices(2, 9)],
    full.slice(0, 2),
  );
  assert.throws(() => new data.RandomSampler(0, { numSamples: 2 }), /from an empty dataset/);
  assert.throws(
    () => new data.RandomSampler(3, { replacement: 1 } as never),
    /replacement must be true or false/,
  );
});

Deno.test("samplers take the dataset, as torch's SequentialSampler(ds) / RandomSampler(ds)", () => {
  const ds = numbered(5);
  assert.deepEqual([...new data.SequentialSampler(ds).indices(0, 0)], [0, 1, 2, 3, 4]);
  assert.deepEqual([...new data.RandomSampler(ds).indices(1, 2)], [
    ...new data.RandomSampler(5).indices(1, 2),
  ]);
  assert.throws(() => new data.SequentialSampler(-1), /dataset or its length/);
  assert.throws(() => new data.RandomSampler({ length: 1.5 } as never), /object of length 1.5/);
});

Deno.test("SubsetRandomSampler: the given indices in a new order each epoch", async () => {
  const s = new data.SubsetRandomSampler([1, 3, 5, 7, 9, 8]);
  assert.equal(s.length, 6);
  const e0 = [...s.indices(0, 4)], e1 = [...s.indices(1, 4)];
  assert.deepEqual([...e0].sort(), [1, 3, 5, 7, 8, 9]);
  assert.deepEqual([...e1].sort(), [1, 3, 5, 7, 8, 9]);
  assert.notDeepEqual(e0, e1);
  assert.deepEqual([
    ...new data.SubsetRandomSampler(tensor(new Int32Array([2, 0]), [2], { dtype: "int32" })).subset,
  ], [2, 0]);
  const loader = new data.DataLoader(numbered(10), { batchSize: 4, sampler: s, seed: 1 });
  assert.equal(loader.length, 2);
  assert.deepEqual((await epoch(loader)).flat().sort(), [1, 3, 5, 7, 8, 9]);
  assert.throws(() => new data.SubsetRandomSampler([0, 1.5]), /index 1 is number 1.5/);
  assert.throws(() => new data.SubsetRandomSampler(3 as never), /array of dataset indices/);
  await assert.rejects(
    () =>
      epoch(new data.DataLoader(numbered(3), { sampler: new data.SubsetRandomSampler([0, 4]) })),
    /index 4 .* out of range for a dataset of 3 samples/,
  );
});

Deno.test("sampler=[3, 1, 2]: a list of indices is a sampler, the same every epoch; others say what to give", async () => {
  const loader = new data.DataLoader(numbered(5), { sampler: [3, 1, 2], batchSize: 2 });
  assert.equal(loader.length, 2);
  assert.deepEqual(await epoch(loader), [[3, 1], [2]]);
  assert.deepEqual(await epoch(loader), [[3, 1], [2]]);
  assert.deepEqual(
    await epoch(new data.DataLoader(numbered(5), { sampler: new Int32Array([4]) })),
    [[4]],
  );
  function* gen() {
    yield 1;
  }
  const cases: [unknown, RegExp][] = [
    [gen(), /sampler must be a Sampler .*one-shot iterator/],
    [{ __iter__() {}, __len__() {} }, /indices\(epoch, seed\) \/ length here/],
    [[0, 0.5], /index 1 is number 0.5/],
    [5, /sampler must be a Sampler/],
  ];
  for (const [sampler, re] of cases) {
    assert.throws(() => new data.DataLoader(numbered(5), { sampler } as never), re);
  }
});

Deno.test("batch_size=None, torch-only options and torch-style datasets throw, saying what to write", () => {
  const ds = numbered(4);
  const options: [Record<string, unknown>, RegExp][] = [
    [{ batchSize: null }, /batch_size=None, no batching\) is not supported/],
    [{ pin_memory: true }, /device: "cuda"/],
    [{ pinMemory: true }, /device: "cuda"/],
    [{ multiprocessing_context: "spawn" }, /workers are threads here/],
    [{ timeout: -1 }, /timeout must be a finite number of seconds >= 0/],
  ];
  for (const [o, re] of options) assert.throws(() => new data.DataLoader(ds, o as never), re);
  class TorchStyle {
    __len__() {
      return 3;
    }
    __getitem__(_i: number) {
      return null;
    }
  }
  const datasets: [unknown, RegExp][] = [
    [new TorchStyle(), /__getitem__\(i\) \/ __len__\(\): here they are get\(i\)/],
    [{ length: () => 3, get: () => null }, /length is a number here, not a method/],
    [TorchStyle, /pass an instance/],
    [[1, 2], /plain array of samples/],
  ];
  for (const [d, re] of datasets) assert.throws(() => new data.DataLoader(d as never), re);
  // An iterable (torch's IterableDataset) is a stream of samples now (collate_test.ts).
  assert.equal(new data.DataLoader((async function* () {})()).workers, 0);
  assert.match(messageOf(() => new data.DataLoader(ds, { batch_size: 2 } as never)), /'batchSize'/);
});

Deno.test("timeout: a get(i) that never settles fails the batch, main thread and workers", async () => {
  const stuck = {
    length: 4,
    get: (i: number) => i === 2 ? new Promise<never>(() => {}) : numbered(4).get(i),
  };
  const t0 = performance.now();
  await assert.rejects(
    () => epoch(new data.DataLoader(stuck, { batchSize: 2, timeout: 0.2 })),
    /batch 1 of epoch 0 \(samples 2,3\): timed out after 0.2 s/,
  );
  assert.ok(performance.now() - t0 < 5000);
  const slow = new ToyDataset({ length: 4, delayMs: 60_000 });
  await assert.rejects(
    () => epoch(new data.DataLoader(slow, { batchSize: 2, workers: 1, timeout: 0.3 })),
    /batch 0 of epoch 0 \(samples 0,1\): timed out after 0.3 s/,
  );
  assert.equal(liveWorkers(), 0);
});

Deno.test("a worker whose dataset calls Deno.exit() or close() fails the batch instead of hanging", async () => {
  for (const how of ["exit", "close"] as const) {
    const spec: ExitSpec = { length: 6, exitAt: 3, how };
    const ds = {
      length: 6,
      get: () => Promise.reject(new Error("read on the main thread")),
      workerSpec: () => ({
        module: new URL("./data_docs_exit_dataset.ts", import.meta.url).href,
        spec,
      }),
    };
    await assert.rejects(
      () => epoch(new data.DataLoader(ds, { batchSize: 2, workers: 1 })),
      /batch 1 of epoch 0 \(samples 2,3\): DataLoader worker 0 exited unexpectedly/,
      how,
    );
    assert.equal(liveWorkers(), 0);
  }
});

Deno.test("ConcatDataset: torch's cumulative_sizes and negative indices, empty parts too", async () => {
  const part = (ids: number[]) => ({
    length: ids.length,
    get: (i: number) => numbered(100).get(ids[i]),
  });
  const c = new data.ConcatDataset([part([0, 1, 2]), part([]), part([10, 11, 12, 13, 14])]);
  assert.deepEqual(c.cumulativeSizes, fx.concat.cumulativeSizes);
  for (const [i, want] of Object.entries(fx.concat.at)) {
    assert.equal((await c.get(Number(i))).label, want, `concat[${i}]`);
  }
  await assert.rejects(() => c.get(8), /index 8 out of range \[-8, 8\)/);
});
