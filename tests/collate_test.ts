/**
 * DataLoader's `collateFn` and iterable datasets: `data.defaultCollate`
 * against PyTorch 1.13's `default_collate` on nested samples, batches of an
 * IterableDataset against torch's DataLoader (drop_last both ways,
 * batch_size=None), collateFn with workers (same batches as without), and
 * bad inputs (a collateFn that is no function or throws, samples a worker
 * cannot send, a stream yielding a non-sample), leaving no worker running.
 *
 * Fixtures: scripts/make_collate_fixtures.py -> tests/fixtures/collate.json.
 */
import assert from "node:assert/strict";
import { data, memoryStats, Tensor, tensor } from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import { assertClose, fromStored, loadFixture, messageOf, type Stored } from "./helpers.ts";
import { ToyDataset } from "./toy_dataset.ts";
import { DictDataset } from "./collate_dataset.ts";

type Tagged = unknown;
interface Fixture {
  cases: { name: string; samples: Tagged[]; collated: Tagged }[];
  streams: {
    items: Tagged[];
    image_items: Tagged[];
    [run: string]: Tagged[];
  };
}
const fx = loadFixture<Fixture>("collate.json");

/** The tagged fixture form as this library's sample (see the generator's docstring). */
function decode(v: Tagged): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== "object") return v;
  const [[tag, x]] = Object.entries(v as Record<string, unknown>);
  switch (tag) {
    case "tensor":
      return fromStored(x as Stored);
    case "image": {
      const { shape, data: values } = x as { shape: number[]; data: number[] };
      const pixels = Float32Array.from(values);
      if (shape.length === 3) return { data: pixels, width: shape[2], height: shape[1] };
      const [channels, depth, height, width] = shape;
      return { data: pixels, width, height, depth, channels };
    }
    case "f32":
      return Float32Array.from(x as number[]);
    case "i32":
      return Int32Array.from(x as number[]);
    case "u8":
      return Uint8Array.from(x as number[]);
    case "tuple":
      return (x as Tagged[]).map(decode);
    case "dict":
      return Object.fromEntries(Object.entries(x as object).map(([k, e]) => [k, decode(e)]));
  }
  throw new Error(`unknown tag ${tag}`);
}

/** torch's dtype as it is here: float32, or int32 for every integer type; bool as a float32 mask. */
function ourDtype(torchDtype: string): string {
  return /float|bool/.test(torchDtype) ? "float32" : "int32";
}

/** Asserts that `got` (ours) matches torch's collated `want` (tagged), naming the path. */
function check(got: unknown, want: Tagged, path = "batch"): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path}: expected an array, got ${String(got)}`);
    assert.equal(got.length, want.length, `${path}: length`);
    want.forEach((w, i) => check(got[i], w, `${path}[${i}]`));
    return;
  }
  if (want === null || typeof want !== "object") {
    assert.deepEqual(got, want, path);
    return;
  }
  const w = want as { tensor?: Stored; torch_dtype?: string; dict?: Record<string, Tagged> };
  if (w.dict) {
    assert.ok(got !== null && typeof got === "object", `${path}: expected an object`);
    assert.deepEqual(Object.keys(got as object), Object.keys(w.dict), `${path}: keys`);
    for (const [k, e] of Object.entries(w.dict)) {
      check((got as Record<string, unknown>)[k], e, `${path}.${k}`);
    }
    return;
  }
  assert.ok(got instanceof Tensor, `${path}: expected a Tensor`);
  assert.deepEqual(got.shape, w.tensor!.shape, `${path}: shape`);
  assert.equal(got.dtype, ourDtype(w.torch_dtype!), `${path}: dtype (torch ${w.torch_dtype})`);
  assertClose(got, w.tensor!.data as number[], { rtol: 1e-6, atol: 1e-7, what: path });
}

/** Every tensor in a collated value, to dispose after a check. */
function disposeAll(v: unknown): void {
  if (v instanceof Tensor) v.dispose();
  else if (Array.isArray(v)) v.forEach(disposeAll);
  else if (v !== null && typeof v === "object") Object.values(v).forEach(disposeAll);
}

Deno.test("defaultCollate matches torch 1.13's default_collate on nested samples", () => {
  for (const c of fx.cases) {
    const samples = decode(c.samples) as unknown[];
    const got = data.defaultCollate(samples);
    check(got, c.collated, c.name);
    disposeAll(got);
    disposeAll(samples);
  }
});

Deno.test("defaultCollate: what torch refuses, and what it drops silently, is an Error", () => {
  const img = (w: number) => ({ data: new Float32Array(w * 2), width: w, height: 2 });
  const cases: [unknown[], RegExp][] = [
    [[null], /batch must contain .*; found null in sample 0 \(torch's TypeError\)/],
    [[{ a: 1 }, { a: undefined }], /at \.a: sample 0 holds a number but sample 1 holds undefined/],
    [[[1, 2], [1]], /each element in list of batch should be of equal size/],
    [
      [tensor([1, 2, 3]), tensor([1, 2, 3, 4])],
      /stack expects each tensor to be equal size.*\[3\] float32 at sample 0 and \[4\] float32 at sample 1/,
    ],
    [[{ a: 1 }, { a: 2, b: 3 }], /sample 1 has keys \{ a, b \} but sample 0 has \{ a \}/],
    [
      [{ x: img(2) }, { x: img(3) }],
      /at \.x: images differ in size: sample 0 is \[1,2,2\] and sample 1 is \[1,2,3\]/,
    ],
    [
      [new Float32Array(2), new Float32Array(3)],
      /a Float32Array of 2 at sample 0 and a Float32Array of 3/,
    ],
    [[{ id: 3e9 }], /at \.id: sample 0 is the integer 3000000000, outside int32/],
    [[new Map()], /found a Map in sample 0/],
    [[() => 0], /found a function in sample 0/],
    [[], /empty list of samples/],
  ];
  for (const [samples, re] of cases) assert.throws(() => data.defaultCollate(samples), re);
  assert.throws(() => data.defaultCollate(5 as never), /takes the list of a batch's samples/);
  // A failure after some fields were made leaves no tensor behind.
  const before = memoryStats().bytesInUse;
  assert.throws(() => data.defaultCollate([{ a: 1, b: [1] }, { a: 2, b: [] }]), /equal size/);
  assert.equal(memoryStats().bytesInUse, before);
});

/** The batches of one epoch. */
async function all<T>(loader: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

Deno.test("collateFn: gets each batch's samples as get(i) returned them, in the sampler's order", async () => {
  const ds = new DictDataset({ length: 7 });
  const seen: string[][] = [];
  const loader = new data.DataLoader(ds, {
    batchSize: 3,
    shuffle: true,
    seed: 4,
    collateFn: (samples) => {
      seen.push(samples.map((s) => s.id as string));
      return samples.map((s) => (s.values as Float32Array).length);
    },
  });
  assert.equal(loader.length, 3);
  const lengths: number[][] = await all(loader);
  // The same order as the default loader's with that seed.
  const plain = new data.DataLoader(new ToyDataset({ length: 7, noWorkers: true }), {
    batchSize: 3,
    shuffle: true,
    seed: 4,
  });
  const order: number[][] = [];
  for await (using b of plain) order.push([...b.indices]);
  assert.deepEqual(seen, order.map((o) => o.map((i) => `p${i}`)));
  assert.deepEqual(lengths, order.map((o) => o.map((i) => 1 + (i % 3))));
  const dropped = new data.DataLoader(ds, { batchSize: 3, dropLast: true, collateFn: (s) => s });
  assert.equal(dropped.length, 2);
  assert.deepEqual((await all(dropped)).map((b) => b.length), [3, 3]);
});

Deno.test("collateFn: defaultCollate's batch holds the default loader's images and labels", async () => {
  const ds = new ToyDataset({ length: 5, noWorkers: true });
  const transform = data.transforms.ct();
  const mine = new data.DataLoader(ds, {
    batchSize: 2,
    seed: 3,
    transform,
    collateFn: data.defaultCollate,
  });
  const theirs = new data.DataLoader(ds, { batchSize: 2, seed: 3, transform });
  const a = await all(mine);
  let k = 0;
  for await (using b of theirs) {
    assert.deepEqual(a[k].image.shape, b.images.shape);
    assert.deepEqual(a[k].image.toArray(), b.images.toArray(), "the same augmentation streams");
    assert.deepEqual(a[k].label.toArray(), b.labels.toArray());
    disposeAll(a[k++]);
  }
  assert.equal(k, 3);
});

Deno.test("batchSize: null with a collateFn gets one sample at a time; without one, or with dropLast, an Error", async () => {
  const ds = new DictDataset({ length: 3 });
  const loader = new data.DataLoader(ds, { batchSize: null, collateFn: (s) => s.id });
  assert.equal(loader.length, 3);
  assert.deepEqual(await all(loader), ["p0", "p1", "p2"]);
  assert.throws(
    () => new data.DataLoader(ds as never, { batchSize: null } as never),
    /batch_size=None, no batching\) is not supported without a collateFn.*collateFn: \(sample\) =>/,
  );
  assert.throws(
    () =>
      new data.DataLoader(
        ds,
        { batchSize: null, dropLast: true, collateFn: (s: unknown) => s } as never,
      ),
    /disables auto-batching and is mutually exclusive with dropLast/,
  );
});

Deno.test("collateFn with workers: the same batches as on the main thread, no worker left", async () => {
  const ds = new DictDataset({ length: 9 });
  const collate = (samples: Record<string, unknown>[]) => ({
    ids: samples.map((s) => s.id),
    image: data.defaultCollate(samples.map((s) => s.image as data.Image)),
  });
  const run = async (workers: number) => {
    const loader = new data.DataLoader(ds, {
      batchSize: 2,
      shuffle: true,
      seed: 11,
      workers,
      transform: data.transforms.compose([{ name: "RandomHorizontalFlip", p: 0.5 }]),
      collateFn: collate,
    });
    const out = [];
    for await (const b of loader) {
      out.push({ ids: b.ids, pixels: [...b.image.toArray()], shape: b.image.shape });
      b.image.dispose();
    }
    return out;
  };
  const main = await run(0);
  assert.equal(main.length, 5);
  assert.deepEqual(await run(2), main);
  assert.equal(liveWorkers(), 0);
  // Kept workers (persistentWorkers) serve a second epoch, then close.
  const kept = new data.DataLoader(ds, {
    batchSize: 4,
    workers: 2,
    persistentWorkers: true,
    collateFn: (s) => s.map((x) => x.id),
  });
  assert.deepEqual((await all(kept)).flat(), (await all(kept)).flat());
  assert.equal(liveWorkers(), 2);
  kept.close();
  assert.equal(liveWorkers(), 0);
});

Deno.test("collateFn: no function, throwing, with a CUDA device, or unsendable samples: Errors naming the batch", async () => {
  const ds = new DictDataset({ length: 6 });
  assert.throws(
    () => new data.DataLoader(ds, { collateFn: "stack" as never }),
    /collateFn must be a function of the batch's list of samples, got a string/,
  );
  assert.match(
    messageOf(() => new data.DataLoader(ds, { collate_fn: data.defaultCollate } as never)),
    /unknown option 'collate_fn' \(write 'collateFn'\)/,
  );
  assert.throws(
    () => new data.DataLoader(ds, { device: "cuda", collateFn: (s) => s }),
    /device "cuda" with a collateFn: the loader does not move what your collateFn returns/,
  );
  const before = memoryStats().bytesInUse;
  for (const workers of [0, 2]) {
    const failing = new data.DataLoader(ds, {
      batchSize: 2,
      workers,
      collateFn: (s) => {
        if (s[0].id === "p2") throw new Error("cannot pad");
        return data.defaultCollate(s.map((x) => x.label as number));
      },
    });
    let yielded = 0;
    await assert.rejects(async () => {
      for await (const b of failing) {
        yielded++;
        b.dispose();
      }
    }, /^Error: DataLoader: batch 1 of epoch 0 \(samples 2,3\): collateFn threw: cannot pad$/);
    assert.equal(yielded, 1);
    assert.equal(liveWorkers(), 0, `workers ${workers}`);
  }
  assert.equal(memoryStats().bytesInUse, before);
  // The original error is the cause.
  try {
    for await (
      const _ of new data.DataLoader(ds, {
        collateFn: () => {
          throw new RangeError("x");
        },
      })
    ) { /* */ }
  } catch (e) {
    assert.ok((e as Error).cause instanceof RangeError);
  }
  for (const bad of ["tensor", "class", "function"] as const) {
    const loader = new data.DataLoader(new DictDataset({ length: 4, badAt: 3, bad }), {
      batchSize: 2,
      workers: 2,
      collateFn: (s) => s.length,
    });
    await assert.rejects(
      () => all(loader),
      bad === "tensor"
        ? /batch 1 of epoch 0: sample 3: it holds a Tensor \[2\] at \.extra.*or pass workers: 0/
        : bad === "class"
        ? /sample 3: it holds a Meta at \.extra \(a structured clone keeps no class/
        : /sample 3: it holds a function at \.extra/,
    );
    assert.equal(liveWorkers(), 0);
  }
});

Deno.test("collateFn: the loader's tensors are the caller's inside noGrad(async ...) too", async () => {
  const { noGrad } = await import("../mod.ts");
  const ds = new DictDataset({ length: 4 });
  const loader = new data.DataLoader(ds, {
    batchSize: 2,
    // An op result (mul) as well as created tensors.
    collateFn: (s) => {
      const { label, image } = data.defaultCollate(s.map(({ label, image }) => ({ label, image })));
      return { label: label as Tensor, image: (image as Tensor).mul(2) };
    },
  });
  const kept: Tensor[] = [];
  await noGrad(async () => {
    for await (const b of loader) kept.push(b.label, b.image);
  });
  // Not freed when the scope ended: still readable.
  assert.deepEqual(kept.map((t) => t.shape), [[2], [2, 1, 2, 2], [2], [2, 1, 2, 2]]);
  assert.deepEqual([...kept[2].toArray()], [2, 0]);
  assertClose(kept[3].narrow(0, 0, 1), [4, 4.2, 4.4, 4.6]);
});

// ---- iterable datasets ----

/** A stream of the fixture's items (torch's Stream), restarted each epoch. */
class Stream extends data.IterableDataset<Record<string, unknown>> {
  finished = 0;
  constructor(readonly items: Tagged[]) {
    super();
  }
  override async *[Symbol.asyncIterator]() {
    try {
      for (const item of this.items) yield decode(item) as Record<string, unknown>;
    } finally {
      this.finished++;
    }
  }
}

Deno.test("IterableDataset: batches as torch's DataLoader, dropLast both ways, batch_size=None", async () => {
  const runs: [string, number | null, boolean][] = [
    ["batch3", 3, false],
    ["batch3_drop_last", 3, true],
    ["batch7_drop_last", 7, true],
    ["batch8_drop_last", 8, true],
  ];
  for (const [run, batchSize, dropLast] of runs) {
    const loader = new data.DataLoader(new Stream(fx.streams.items), {
      batchSize: batchSize!,
      dropLast,
      collateFn: data.defaultCollate,
    });
    const got = await all(loader);
    check(got, fx.streams[run], run);
    disposeAll(got);
  }
  const unbatched = new data.DataLoader(new Stream(fx.streams.items), {
    batchSize: null,
    collateFn: (s) => (s.y as number) * 10,
  });
  assert.deepEqual(await all(unbatched), fx.streams.unbatched_y_times_10);
  // The default batches, from a stream of { image, label } samples.
  const images = new data.DataLoader(
    new Stream(fx.streams.image_items.map((t) => {
      const [image, label] = (t as { tuple: Tagged[] }).tuple;
      return { dict: { image, label } };
    })),
    { batchSize: 2 },
  );
  const batches = [];
  for await (using b of images) {
    batches.push([b.images, b.labels]);
    assert.deepEqual([...b.indices], b.labels.shape[0] === 2 ? [...b.indices] : [4]);
    check([b.images, b.labels], fx.streams.images_batch2[batches.length - 1]);
  }
  assert.equal(batches.length, 3);
});

Deno.test("IterableDataset: torch's refusals, workers, length, a sync stream, transform seeds", async () => {
  const s = () => new Stream(fx.streams.items);
  const refused: [Record<string, unknown>, RegExp][] = [
    [
      { shuffle: true },
      /^Error: DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True$/,
    ],
    [{ sampler: [0, 1] }, /expected unspecified sampler option, but got sampler=\[0,1\]/],
    [{ sampler: new data.SequentialSampler(3) }, /but got sampler=SequentialSampler/],
    [{ batchSampler: [[0]] }, /expected unspecified batch_sampler option, but got batch_sampler=/],
    [
      { workers: 2 },
      /read on the main thread here \(workers: 0\), got workers 2: torch would give each of its workers the whole stream/,
    ],
    [{ prefetch: 4 }, /prefetch 4 has no effect on an iterable dataset/],
  ];
  for (const [o, re] of refused) assert.throws(() => new data.DataLoader(s(), o as never), re);
  assert.equal(new data.DataLoader(s(), { shuffle: false }).dropLast, false);
  assert.throws(
    () => new data.DataLoader(s()).length,
    /length of a loader over an iterable dataset \(Stream\) is unknown/,
  );
  assert.throws(() => new data.DataLoader(s()).sampler.length, /has no sampler/);
  class Sized extends data.IterableDataset<number> {
    get length() {
      return 7;
    }
    *[Symbol.iterator]() {
      for (let i = 0; i < 7; i++) yield i;
    }
  }
  assert.equal(new data.DataLoader(new Sized(), { batchSize: 3 }).length, 3);
  assert.equal(new data.DataLoader(new Sized(), { batchSize: 3, dropLast: true }).length, 2);
  // A sync stream through the base class; numbers collated.
  const sums = await all(
    new data.DataLoader(new Sized(), { batchSize: 3, collateFn: (n) => n.reduce((a, b) => a + b) }),
  );
  assert.deepEqual(sums, [3, 12, 6]);
  // The transform's streams are those of a sequential map-style loader with the same seed.
  const toy = new ToyDataset({ length: 5, noWorkers: true });
  const stream = {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < 5; i++) yield await toy.get(i);
    },
  };
  const transform = data.transforms.compose([{ name: "RandomHorizontalFlip", p: 0.5 }, {
    name: "RandomRotation",
    degrees: 30,
  }]);
  const fromStream: number[][] = [], fromMap: number[][] = [];
  for await (using b of new data.DataLoader(stream, { batchSize: 2, seed: 9, transform })) {
    fromStream.push([...b.images.toArray()]);
  }
  for await (using c of new data.DataLoader(toy, { batchSize: 2, seed: 9, transform })) {
    fromMap.push([...c.images.toArray()]);
  }
  assert.deepEqual(fromStream, fromMap);
});

Deno.test("IterableDataset: bad streams fail naming the stream item; a break ends the stream", async () => {
  // A non-sample without a collateFn.
  const numbers = {
    *[Symbol.iterator]() {
      yield* [1, 2, 3];
    },
  };
  await assert.rejects(
    () => all(new data.DataLoader(numbers, { batchSize: 2 })),
    /^Error: DataLoader: batch 0 of epoch 0: stream item 0: the dataset's iterator yielded 1; expected \{ image/,
  );
  // A stream that throws.
  const failing = {
    async *[Symbol.asyncIterator]() {
      yield 1;
      yield 2;
      throw new Error("disk gone");
    },
  };
  await assert.rejects(
    () => all(new data.DataLoader(failing, { batchSize: 2, collateFn: (s) => s })),
    /batch 1 of epoch 0: the dataset's iterator failed at stream item 2: disk gone/,
  );
  // A one-shot generator object: its second epoch would be empty.
  const once = (function* () {
    yield 1;
    yield 2;
  })();
  const loader = new data.DataLoader(once, { batchSize: 2, collateFn: (s) => s });
  assert.deepEqual(await all(loader), [[1, 2]]);
  await assert.rejects(() => all(loader), /epoch 1: the dataset is a one-shot iterator/);
  // A subclass that defines no stream (torch's __iter__ ported as is).
  class Ported extends data.IterableDataset {
    __iter__() {
      return [1][Symbol.iterator]();
    }
  }
  await assert.rejects(
    () => all(new data.DataLoader(new Ported(), { collateFn: (s) => s })),
    /Ported: an IterableDataset defines its stream \(torch's __iter__\): write async \*\[Symbol.asyncIterator\]\(\)/,
  );
  // Breaking off ends the stream (its finally runs); a collateFn error too.
  const st = new Stream(fx.streams.items);
  for await (const _ of new data.DataLoader(st, { batchSize: 2, collateFn: (s) => s.length })) {
    break;
  }
  assert.equal(st.finished, 1);
  await assert.rejects(
    () =>
      all(
        new data.DataLoader(st, {
          batchSize: 2,
          collateFn: () => {
            throw new Error("nope");
          },
        }),
      ),
    /batch 0 of epoch 0 \(stream items 0,1\): collateFn threw: nope/,
  );
  assert.equal(st.finished, 2);
  // timeout applies to a stream that stalls.
  const stalled = {
    async *[Symbol.asyncIterator]() {
      yield 1;
      await new Promise(() => {});
    },
  };
  await assert.rejects(
    () => all(new data.DataLoader(stalled, { batchSize: 2, timeout: 0.1, collateFn: (s) => s })),
    /batch 0 of epoch 0: timed out after 0.1 s .*the dataset's iterator did not yield/,
  );
  // Arrays stay refused (torch's list dataset is map-style: give it get(i)).
  assert.throws(() => new data.DataLoader([1, 2] as never), /plain array of samples/);
});

Deno.test("types: the loader's items are the collateFn's return type, Batch without one", async () => {
  const ds = new DictDataset({ length: 2 });
  const ids: data.DataLoader<string[], DictDataset> = new data.DataLoader(ds, {
    batchSize: 2,
    collateFn: (s) => s.map((x) => x.id as string),
  });
  for await (const b of ids) assert.deepEqual(b, ["p0", "p1"]);
  const plain: data.DataLoader = new data.DataLoader(new ToyDataset({ length: 2 }));
  for await (using b of plain) assert.equal(b.images.shape[0], 1);
});
