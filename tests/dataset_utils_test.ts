/**
 * torch.utils.data's dataset utilities: Subset, randomSplit (its split
 * lengths against PyTorch 1.13's random_split, tests/fixtures/dataset_utils.json
 * written by scripts/make_dataset_utils_fixtures.py), ConcatDataset,
 * TensorDataset, and groupSplit / volumeGroups for CT volumes; each through
 * the DataLoader (shuffle, samplers, workers: 2 giving the batches of
 * workers: 0), and every bad input with an Error that says what to write.
 *
 * TensorDataset's tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data, manualSeed, type Tensor, tensor } from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import type { Dataset, Sample } from "../src/data/types.ts";
import { loadFixture, testDevice } from "./helpers.ts";
import { ToyDataset } from "./toy_dataset.ts";

const { ConcatDataset, Subset, TensorDataset, groupSplit, randomSplit, volumeGroups } = data;

/** A constructor called with the wrong number of arguments. */
type Ctor = new (...args: unknown[]) => unknown;

interface SplitCase {
  n: number;
  lengths: number[];
  split?: number[];
  emptyWarned?: number[];
  error?: string;
}

/** A dataset of `n` 2x2 images filled with their index; labels i % 3; no labels array. */
function plain(n: number): Dataset {
  return {
    length: n,
    get: (i: number): Promise<Sample> =>
      Promise.resolve({
        image: { data: new Float32Array(4).fill(i), width: 2, height: 2 },
        label: i % 3,
      }),
  };
}

/** Runs `fn`, returning what it wrote with console.warn. */
function warnings<T>(fn: () => T): { result: T; warned: string[] } {
  const warned: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warned.push(args.join(" "));
  try {
    return { result: fn(), warned };
  } finally {
    console.warn = original;
  }
}

/** Every batch of one epoch as plain arrays. */
async function collect(loader: data.DataLoader) {
  const out: { images: number[]; labels: number[]; indices: number[] }[] = [];
  for await (using b of loader) {
    out.push({
      images: [...b.images.toArray()],
      labels: [...b.labels.toArray()],
      indices: [...b.indices],
    });
  }
  return out;
}

const sorted = (a: ArrayLike<number>) => Array.from(a).sort((x, y) => x - y);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

// ---- randomSplit ----

Deno.test("randomSplit: split lengths as torch 1.13's random_split (fixture), empty splits warned", () => {
  const { cases } = loadFixture<{ cases: SplitCase[] }>("dataset_utils.json");
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    const { result, warned } = warnings(() => randomSplit(plain(c.n), c.lengths, { seed: 1 }));
    const got = result.map((s) => s.length);
    if (c.error) {
      // torch refuses fractions whose float sum is just above 1; they are fractions here.
      const floors = c.lengths.map((f) => Math.floor(c.n * f));
      const rest = c.n - floors.reduce((a, b) => a + b, 0);
      assert.deepEqual(got, floors.map((f, i) => f + (i < rest ? 1 : 0)), `${c.n} ${c.lengths}`);
      continue;
    }
    assert.deepEqual(got, c.split, `n ${c.n}, lengths [${c.lengths}]`);
    assert.equal(warned.length, c.emptyWarned!.length, `warnings for [${c.lengths}]: ${warned}`);
    c.emptyWarned!.forEach((i, k) => assert.match(warned[k], new RegExp(`split ${i} gets 0`)));
  }
  // The two torch refuses, spelled out: [0.33, 0.56, 0.11] of 10 and twenty 0.05 of 1000.
  assert.deepEqual(randomSplit(plain(10), [0.33, 0.56, 0.11], { seed: 0 }).map((s) => s.length), [
    4,
    5,
    1,
  ]);
  const twenty = randomSplit(plain(1000), new Array(20).fill(0.05), { seed: 0 });
  assert.ok(twenty.every((s) => s.length === 50));
});

Deno.test("randomSplit: disjoint subsets covering the dataset, seeded, in permutation order", () => {
  const ds = plain(50);
  const [a, b, c] = randomSplit(ds, [20, 20, 10], { seed: 42 });
  assert.ok(a instanceof Subset && a.dataset === ds);
  assert.deepEqual(sorted([...a.indices, ...b.indices, ...c.indices]), range(50));
  assert.notDeepEqual([...a.indices], range(20), "shuffled, not a prefix");
  const again = randomSplit(ds, [20, 20, 10], { seed: 42 });
  assert.deepEqual([...again[0].indices], [...a.indices], "same seed, same split");
  assert.deepEqual([...again[2].indices], [...c.indices]);
  assert.notDeepEqual([...randomSplit(ds, [20, 20, 10], { seed: 43 })[0].indices], [...a.indices]);
  // Fractions and the equal counts give the same split for one seed.
  assert.deepEqual([...randomSplit(ds, [0.4, 0.4, 0.2], { seed: 42 })[1].indices], [...b.indices]);
  // An rng is advanced: two calls with one generator differ; a fresh one with that seed repeats.
  const rng = new data.Rng(42);
  const first = randomSplit(ds, [25, 25], { rng });
  const second = randomSplit(ds, [25, 25], { rng });
  assert.notDeepEqual([...first[0].indices], [...second[0].indices]);
  assert.deepEqual(
    [...randomSplit(ds, [25, 25], { rng: new data.Rng(42) })[0].indices],
    [...first[0].indices],
  );
  // Without a seed: the global stream manualSeed seeds (torch's default generator).
  manualSeed(3);
  const g1 = randomSplit(ds, [0.5, 0.5]);
  manualSeed(3);
  assert.deepEqual([...randomSplit(ds, [0.5, 0.5])[0].indices], [...g1[0].indices]);
});

Deno.test("randomSplit: bad lengths, datasets and options say what to write", () => {
  const ds = plain(10);
  const cases: [() => unknown, RegExp][] = [
    [() => randomSplit(ds, [3, 6], { seed: 0 }), /sum to 9 but there are 10 samples/],
    [
      () => randomSplit(ds, [0.5, 0.3], { seed: 0 }),
      /neither counts .* nor fractions \(they sum to 0.8, not 1\)/,
    ],
    [() => randomSplit(ds, [12, -2], { seed: 0 }), /lengths\[1\] is number -2/],
    [() => randomSplit(ds, [2.5, 7.5], { seed: 0 }), /lengths\[0\] = 2.5 is not an integer/],
    [() => randomSplit(ds, [NaN, 10], { seed: 0 }), /lengths\[0\] is number NaN/],
    [() => randomSplit(ds, [Infinity], { seed: 0 }), /lengths\[0\] is number Infinity/],
    [() => randomSplit(ds, ["5", "5"] as never, { seed: 0 }), /lengths\[0\] is the string "5"/],
    [() => randomSplit(ds, [], { seed: 0 }), /lengths is empty/],
    [() => randomSplit(ds, 0.8 as never, { seed: 0 }), /lengths must be an array/],
    [
      () => randomSplit([1, 2, 3] as never, [1, 2], { seed: 0 }),
      /dataset must be a Dataset .*plain array/,
    ],
    [() => randomSplit(null as never, [1], { seed: 0 }), /dataset must be a Dataset .* got null/],
    [
      () => randomSplit(ds, [5, 5], { generator: 42 } as never),
      /generator must be a data\.TorchGenerator.*\{ seed: 42 \}/,
    ],
    [
      () => randomSplit(ds, [5, 5], { seed: 1, rng: new data.Rng(1) }),
      /give one of seed, rng and generator, not seed and rng/,
    ],
    [() => randomSplit(ds, [5, 5], { seed: 1.5 }), /seed must be a safe integer/],
    [() => randomSplit(ds, [5, 5], { rng: 42 as never }), /rng must be a data.Rng/],
    [
      () => randomSplit(ds, [5, 5], { sead: 1 } as never),
      /unknown option 'sead' \(did you mean 'seed'\?\)/,
    ],
    [
      () => (randomSplit as (...a: unknown[]) => unknown)(ds, [5, 5], 42, {}),
      /takes at most 3 arguments/,
    ],
  ];
  for (const [fn, re] of cases) assert.throws(fn, re);
});

// ---- Subset ----

Deno.test("Subset: torch's semantics, indices checked up front and copied", async () => {
  const base = plain(6);
  const given = [5, 0, 0, 3];
  const sub = new Subset(base, given);
  given[0] = 1; // the subset keeps its own copy
  assert.equal(sub.length, 4);
  assert.equal(sub.dataset, base);
  assert.deepEqual([...sub.indices], [5, 0, 0, 3]);
  assert.deepEqual((await sub.get(0)).image.data[0], 5);
  assert.deepEqual((await sub.get(2)).image.data[0], 0, "indices may repeat");
  assert.deepEqual((await sub.get(-1)).image.data[0], 3, "negative counts from the end");
  await assert.rejects(sub.get(4), /Subset.get: index 4 out of range \[-4, 4\)/);
  await assert.rejects(sub.get(0.5), /index 0.5 out of range/);
  assert.equal(sub.labels, undefined, "a base without labels: none");
  assert.equal(sub.classCounts, undefined);
  assert.equal(sub.workerSpec, undefined);
  assert.equal(new Subset(base, []).length, 0);
  assert.deepEqual([...new Subset(base, Int32Array.of(1, 2)).indices], [1, 2]);
  using t = tensor(Int32Array.of(4, 1), [2], { dtype: "int32", device: testDevice });
  assert.deepEqual([...new Subset(base, t).indices], [4, 1], "a 1-D int32 tensor");
  const bad: [() => unknown, RegExp][] = [
    [() => new Subset(base, [0, -1]), /indices\[1\] is -1.*\[0, 6\).*negative indices are refused/],
    [() => new Subset(base, [6]), /indices\[0\] is 6, not an index of the dataset/],
    [() => new Subset(base, [1.5]), /indices\[0\] is 1.5/],
    [() => new Subset(base, [NaN]), /indices\[0\] is NaN/],
    [() => new Subset(base, 3 as never), /indices must be an array of integers, got number 3/],
    [() => new Subset(base, "01" as never), /indices must be an array/],
    [() => new Subset({ length: 3 } as never, [0]), /data.Subset: dataset must be a Dataset/],
    [() => new (Subset as unknown as Ctor)(base, [0], {}), /takes at most 2 arguments/],
  ];
  for (const [fn, re] of bad) assert.throws(fn, re);
  using f = tensor([1, 2], [2], { device: testDevice });
  assert.throws(() => new Subset(base, f), /1-D int32 tensor .*float32.*indices.int\(\)/);
});

Deno.test("Subset: labels and classCounts from a base that holds labels (LiTS's 3 classes kept)", () => {
  const toy = new ToyDataset({ length: 9 }); // labels i % 3
  const sub = new Subset(toy, [0, 3, 6, 1]);
  assert.deepEqual([...sub.labels], [0, 0, 0, 1]);
  assert.deepEqual(sub.classCounts!(), [3, 1]);
  const lits = Object.assign(new ToyDataset({ length: 9 }), { classCounts: () => [3, 3, 3] });
  assert.deepEqual(new Subset(lits, [0, 3]).classCounts!(), [2, 0, 0], "absent classes count 0");
  // Nested: a subset of a subset reads the labels through.
  assert.deepEqual([...new Subset(sub, [3, 3]).labels], [1, 1]);
  // datasetLabels and classBalancedSampler read them without decoding.
  const sampler = data.classBalancedSampler(sub);
  assert.equal(sampler.numWeights, 4);
  const noLabels = new Subset(plain(4), [0, 1]);
  assert.throws(() => data.classBalancedSampler(noLabels as never), /datasetLabels/);
});

// ---- ConcatDataset ----

Deno.test("ConcatDataset: cumulative sizes, indices across parts (empty ones too), torch's negatives", async () => {
  const a = plain(3), empty = plain(0), b = new ToyDataset({ length: 4, size: 2, noWorkers: true });
  const cat = new ConcatDataset([a, empty, b]);
  assert.equal(cat.length, 7);
  assert.deepEqual(cat.cumulativeSizes, [3, 3, 7]);
  assert.deepEqual(cat.datasets, [a, empty, b]);
  for (let i = 0; i < 7; i++) {
    const want = i < 3 ? await a.get(i) : await b.get(i - 3);
    assert.deepEqual(await cat.get(i), want, `sample ${i}`);
    assert.deepEqual(await cat.get(i - 7), want, `sample ${i - 7}`);
  }
  await assert.rejects(cat.get(7), /ConcatDataset.get: index 7 out of range \[-7, 7\)/);
  await assert.rejects(cat.get(-8), /index -8 out of range/);
  assert.throws(
    () => (cat as unknown as { cumulative_sizes: number[] }).cumulative_sizes,
    /write .cumulativeSizes/,
  );
  const bad: [() => unknown, RegExp][] = [
    [() => new ConcatDataset([]), /the list of datasets is empty/],
    [
      () => new ConcatDataset(a as never),
      /takes one array of datasets, got an object with keys \{ length, get \}; write new data.ConcatDataset\(\[train, extra\]\)/,
    ],
    [
      () => new (ConcatDataset as unknown as Ctor)([a], b),
      /takes at most 1 arguments/,
    ],
    [() => new ConcatDataset([a, { get: () => 1 } as never]), /datasets\[1\] must be a Dataset/],
    [() => new ConcatDataset([a, [1, 2] as never]), /datasets\[1\] must be a Dataset.*plain array/],
  ];
  for (const [fn, re] of bad) assert.throws(fn, re);
});

Deno.test("ConcatDataset: labels joined, classCounts summed, workerSpec only when every part has one", () => {
  const t1 = new ToyDataset({ length: 4 }), t2 = new ToyDataset({ length: 2 });
  const cat = new ConcatDataset([t1, t2]);
  assert.deepEqual([...cat.labels], [0, 1, 2, 0, 0, 1]);
  assert.deepEqual(cat.classCounts!(), [3, 2, 1]);
  // A part with counts but no labels array: counts summed, no labels.
  const counted = Object.assign(plain(5), { classCounts: () => [1, 1, 1, 2] });
  const mixed = new ConcatDataset([t1, counted]);
  assert.equal(mixed.labels, undefined);
  assert.deepEqual(mixed.classCounts!(), [3, 2, 2, 2]);
  assert.equal(new ConcatDataset([t1, plain(2)]).classCounts, undefined);
  assert.ok(cat.workerSpec, "both parts rebuild in workers");
  assert.equal(new ConcatDataset([t1, plain(2)]).workerSpec, undefined);
  assert.equal(
    new ConcatDataset([t1, new ToyDataset({ length: 2, noWorkers: true })]).workerSpec,
    undefined,
  );
  assert.equal(data.classBalancedSampler(cat).numWeights, 6);
});

// ---- TensorDataset ----

Deno.test("TensorDataset: [N, 1, H, W] or [N, H, W] float32 with int32 or array labels, copied once", async () => {
  const pixels = Float32Array.from({ length: 3 * 2 * 4 }, (_, k) => k);
  const images = tensor(pixels, [3, 1, 2, 4], { device: testDevice });
  const labels = tensor(Int32Array.of(2, 0, 2), [3], { dtype: "int32", device: testDevice });
  const ds = new TensorDataset(images, labels);
  images.dispose();
  labels.dispose();
  assert.equal(ds.length, 3);
  assert.equal(ds.width, 4);
  assert.equal(ds.height, 2);
  const s = await ds.get(1);
  assert.deepEqual(s, { image: { data: pixels.slice(8, 16), width: 4, height: 2 }, label: 0 });
  s.image.data.fill(-1); // a copy: the dataset is unchanged
  assert.deepEqual([...(await ds.get(1)).image.data], [...pixels.slice(8, 16)]);
  assert.deepEqual([...(await ds.get(-1)).image.data], [...pixels.slice(16, 24)]);
  await assert.rejects(ds.get(3), /TensorDataset.get: index 3 out of range/);
  assert.deepEqual([...ds.labels], [2, 0, 2]);
  assert.deepEqual(ds.classCounts(), [1, 0, 2]);
  using flat = tensor(pixels, [3, 2, 4], { device: testDevice });
  const three = new TensorDataset(flat, [1, 1, 0]);
  assert.deepEqual(await three.get(2), await ds.get(2).then((x) => ({ ...x, label: 0 })));
  assert.deepEqual(data.classBalancedSampler(three).numWeights, 3);
});

Deno.test("TensorDataset: wrong shapes, dtypes and arguments say what to write", () => {
  const t = (shape: number[], dtype: "float32" | "int32" = "float32"): Tensor =>
    tensor(
      dtype === "int32"
        ? new Int32Array(shape.reduce((a, b) => a * b, 1))
        : new Float32Array(shape.reduce((a, b) => a * b, 1)),
      shape,
      { dtype, device: testDevice },
    );
  const made: Tensor[] = [];
  const keep = (x: Tensor) => (made.push(x), x);
  const img = keep(t([2, 1, 3, 3]));
  const bad: [() => unknown, RegExp][] = [
    [
      () => new TensorDataset(keep(t([2, 3, 4, 4])), [0, 1]),
      /\[2,3,4,4\], 3 channels; .*one channel/,
    ],
    [
      () => new TensorDataset(keep(t([2, 4, 4, 1])), [0, 1]),
      /channels-last .*images.reshape\(\[2, 1, 4, 4\]\)/,
    ],
    [
      () => new TensorDataset(keep(t([2, 9])), [0, 1]),
      /must be \[N, 1, H, W\] or \[N, H, W\], got \[2,9\]/,
    ],
    [
      () => new TensorDataset(keep(t([1, 1, 1, 2, 2])), [0]),
      /\[N, 1, H, W\] or \[N, H, W\], got \[1,1,1,2,2\]/,
    ],
    [
      () => new TensorDataset(keep(t([2, 1, 3, 3], "int32")), [0, 1]),
      /images must be float32, got int32.*images.float\(\)/,
    ],
    [
      () => new TensorDataset(new Float32Array(18) as never, [0, 1]),
      /images must be a float32 Tensor .* got a Float32Array/,
    ],
    [
      () => new TensorDataset(img, keep(t([2]))),
      /labels must be class indices, an int32 tensor; got float32.*labels.int\(\)/,
    ],
    [
      () => new TensorDataset(img, keep(t([2, 3], "int32"))),
      /labels must be 1-D.*one-hot\? write labels.argmax\(1\)/,
    ],
    [() => new TensorDataset(img, [0, 1, 2]), /2 images but 3 labels/],
    [() => new TensorDataset(img, [0, 1.5]), /labels\[1\] is 1.5; labels are class indices/],
    [() => new TensorDataset(img, [0, -1]), /labels\[1\] is -1/],
    [() => new TensorDataset(img, [0, NaN]), /labels\[1\] is NaN/],
    [() => new TensorDataset(img, 3 as never), /labels must be an int32 Tensor or an array/],
    [() => new (TensorDataset as unknown as Ctor)(img), /labels are missing/],
    [
      () => new (TensorDataset as unknown as Ctor)(img, [0, 1], [1, 2]),
      /takes two tensors \(images, labels\), got 3/,
    ],
  ];
  try {
    for (const [fn, re] of bad) assert.throws(fn, re);
  } finally {
    for (const x of made) x.dispose();
  }
});

// ---- groupSplit and volumeGroups ----

Deno.test("groupSplit: whole groups on one side, lengths count groups, seeded", () => {
  const groups = Array.from({ length: 40 }, (_, i) => `p${Math.floor(i / 4)}`); // 10 patients
  const ds = plain(40);
  const [train, val] = groupSplit(ds, [0.8, 0.2], { groups, seed: 7 });
  const of = (s: data.Subset) => new Set([...s.indices].map((i) => groups[i]));
  assert.equal(of(train).size, 8);
  assert.equal(of(val).size, 2);
  assert.ok([...of(val)].every((g) => !of(train).has(g)), "no patient on both sides");
  assert.deepEqual(sorted([...train.indices, ...val.indices]), range(40));
  assert.deepEqual([...train.indices], sorted(train.indices), "ascending");
  assert.equal(val.length, 8);
  const again = groupSplit(ds, [8, 2], { groups, seed: 7 });
  assert.deepEqual([...again[1].indices], [...val.indices], "counts of groups, same seed");
  assert.notDeepEqual([...groupSplit(ds, [8, 2], { groups, seed: 8 })[1].indices], [
    ...val.indices,
  ]);
  // Uneven groups: numbers work as ids; samples follow their groups.
  const uneven = [1, 1, 1, 1, 1, 2, 3, 3];
  const [big, rest] = groupSplit(plain(8), [1, 2], { groups: uneven, seed: 0 });
  assert.equal(big.length + rest.length, 8);
  const withFirst = big.indices.includes(0) ? big : rest;
  assert.ok([0, 1, 2, 3, 4].every((i) => withFirst.indices.includes(i)), "group 1 kept whole");
  const bad: [() => unknown, RegExp][] = [
    [() => groupSplit(ds, [0.8, 0.2], { seed: 1 }), /groups is required/],
    [() => groupSplit(ds, [0.8, 0.2], undefined as never), /groups is required/],
    [() => groupSplit(ds, [0.8, 0.2], { groups: groups.slice(1) }), /39 groups for 40 samples/],
    [() => groupSplit(ds, [0.8, 0.2], { groups: 5 as never }), /groups must be an array of ids/],
    [
      () => groupSplit(ds, [0.8, 0.2], { groups: [...groups.slice(1), NaN] }),
      /groups\[39\] is number NaN/,
    ],
    [
      () => groupSplit(ds, [0.8, 0.2], { groups: [undefined, ...groups.slice(1)] as never }),
      /groups\[0\] is undefined/,
    ],
    [() => groupSplit(ds, [30, 10], { groups }), /sum to 40 but there are 10 groups/],
    [() => groupSplit(ds, [8, 2], { groups, generator: 1 } as never), /no generator option/],
  ];
  for (const [fn, re] of bad) assert.throws(fn, re);
});

Deno.test("volumeGroups: LiTS file names (synthetic and imported), through Subset and Concat", async () => {
  const root = await Deno.makeTempDir();
  try {
    await data.synthesizeLiTS({
      out: root,
      preset: "easy",
      patients: 4,
      slicesPerPatient: 4,
      seed: 1,
    });
    const train = new data.LiTSDataset({ root, split: "train" });
    const groups = volumeGroups(train);
    // The writer's CSV says each slice's patient: the groups must agree with it.
    const csv = Deno.readTextFileSync(join(root, "train_classes.csv")).trim().split("\n").slice(1);
    assert.deepEqual(groups, csv.map((l) => `p${l.split(",")[3].padStart(3, "0")}`));
    const sub = new Subset(train, [train.length - 1, 0]);
    assert.deepEqual(volumeGroups(sub), [groups[train.length - 1], groups[0]]);
    const val = new data.LiTSDataset({ root, split: "val" });
    assert.deepEqual(volumeGroups(new ConcatDataset([train, val])), [
      ...groups,
      ...volumeGroups(val),
    ]);
    // Imported names and per-volume folders.
    const named = (names: string[]) =>
      Object.assign(plain(names.length), { filename: (i: number) => names[i] });
    assert.deepEqual(
      volumeGroups(
        named(["volume-12_slice-040.png", "volume-3_slice-001.png", "Volume-12.png", "p7/s1.png"]),
      ),
      ["volume-12", "volume-3", "volume-12", "p7"],
    );
    assert.throws(
      () => volumeGroups(named(["a.png", "b.png"])),
      /cannot tell the volume of "a.png" \(sample 0\)/,
    );
    assert.throws(() => volumeGroups(plain(3)), /no file names.*your own groups/);
    train.close();
    val.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ---- through the DataLoader ----

Deno.test("DataLoader over Subset / ConcatDataset / TensorDataset: workers: 2 gives the batches of workers: 0", async () => {
  const toy = new ToyDataset({ length: 30, size: 8 });
  const pixels = Float32Array.from({ length: 12 * 64 }, (_, k) => Math.sin(k));
  const images = tensor(pixels, [12, 1, 8, 8], { device: testDevice });
  const tds = new TensorDataset(images, Array.from({ length: 12 }, (_, i) => i % 2));
  images.dispose();
  const [train] = randomSplit(toy, [0.7, 0.3], { seed: 5 });
  const sets: [string, Dataset][] = [
    ["Subset", train],
    ["ConcatDataset", new ConcatDataset([train, tds, new Subset(tds, [3, 3, 1])])],
    ["TensorDataset", tds],
  ];
  for (const [name, ds] of sets) {
    assert.ok(ds.workerSpec?.(), `${name} has a worker spec`);
    const opts = { batchSize: 4, shuffle: true, seed: 9, transform: data.transforms.ct() };
    const ref = await collect(new data.DataLoader(ds, { ...opts, workers: 0 }));
    const loader = new data.DataLoader(ds, { ...opts, workers: 2 });
    const got: typeof ref = [];
    for await (using b of loader) {
      assert.equal(liveWorkers(), 2, `${name}: loaded in worker threads`);
      got.push({
        images: [...b.images.toArray()],
        labels: [...b.labels.toArray()],
        indices: [...b.indices],
      });
    }
    assert.equal(liveWorkers(), 0);
    assert.equal(got.length, Math.ceil(ds.length / 4));
    assert.deepEqual(got, ref, `${name}: same batches with 2 workers`);
    // The batches are the dataset's samples (the augmentation aside): check the labels.
    const want = await Promise.all(ref.flatMap((b) => b.indices).map((i) => ds.get(i)));
    assert.deepEqual(ref.flatMap((b) => b.labels), want.map((s) => s.label));
  }
});

Deno.test("DataLoader over a Subset: samplers, classBalancedSampler, and a LiTSDataset split by workers", async () => {
  const toy = new ToyDataset({ length: 30, size: 4 });
  const [a] = randomSplit(toy, [12, 18], { seed: 2 });
  const balanced = data.classBalancedSampler(a, { numSamples: 24 });
  const drawn =
    (await collect(new data.DataLoader(a, { batchSize: 8, sampler: balanced, seed: 1 })))
      .flatMap((b) => b.labels);
  assert.equal(drawn.length, 24);
  assert.deepEqual(
    drawn,
    (await collect(
      new data.DataLoader(a, { batchSize: 8, sampler: balanced, seed: 1, workers: 2 }),
    )).flatMap((b) => b.labels),
  );
  const weighted = new data.WeightedRandomSampler(new Array(a.length).fill(1), 5);
  assert.equal(
    (await collect(new data.DataLoader(a, { sampler: weighted, batchSize: 5 })))[0].indices.length,
    5,
  );
  const tooMany = new data.WeightedRandomSampler(new Array(30).fill(1), 5);
  assert.throws(
    () => new data.DataLoader(a, { sampler: tooMany }),
    /30 weights for a dataset of 12/,
  );

  const root = await Deno.makeTempDir();
  try {
    await data.synthesizeLiTS({
      out: root,
      preset: "easy",
      patients: 4,
      slicesPerPatient: 4,
      seed: 2,
    });
    const lits = new data.LiTSDataset({ root, split: "train" });
    const [tr, va] = groupSplit(lits, [0.5, 0.5], { groups: volumeGroups(lits), seed: 3 });
    assert.ok(tr.length > 0 && va.length > 0);
    const [gt, gv] = [tr, va].map((p) => new Set(volumeGroups(p)));
    assert.ok([...gv].every((g) => !gt.has(g)), "no volume on both sides");
    for (const part of [tr, va]) {
      assert.deepEqual(part.classCounts!().length, 3);
      const opts = { batchSize: 5, shuffle: true, seed: 4 };
      const ref = await collect(new data.DataLoader(part, { ...opts, workers: 0 }));
      assert.deepEqual(await collect(new data.DataLoader(part, { ...opts, workers: 2 })), ref);
      assert.equal(liveWorkers(), 0);
    }
    lits.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
