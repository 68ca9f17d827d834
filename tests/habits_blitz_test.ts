/**
 * Habits of PyTorch's 60-minute blitz and its data-loading tutorial: a
 * callable in `Compose`, `Q.backward(gradient=g)`, the DataLoader's
 * `generator` / `worker_init_fn` / `collate_fn`, sample fields the loader
 * does not batch (`landmarks`), `x.T`, `MaxPool2d(2, 2)`, `x.numpy()`, and
 * torch's `set_num_threads` and `get_rng_state`. Each does what torch's
 * does or says what to write.
 *
 * `x.T` and the blitz's `Q.backward` are checked against PyTorch 1.13's
 * numbers (tests/fixtures/habits_blitz.json, written by
 * scripts/make_habits_blitz_fixtures.py). Tensors are made on
 * `LITS_TEST_DEVICE`.
 */
import assert from "node:assert/strict";
import {
  data,
  getNumThreads,
  getRngState,
  manualSeed,
  nn,
  rand,
  randn,
  setNumThreads,
  setRngState,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import type { Image } from "../src/data/types.ts";
import type { Rng } from "../src/data/rng.ts";
import { unbatchedFields } from "../src/data/sample_form.ts";
import {
  assertClose,
  fromStored,
  loadFixture,
  messageOf,
  storedNumber,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

const T = data.transforms;
const V = data.transforms.volume;

// deno-lint-ignore no-explicit-any
const loose = <R = any>(v: unknown): R => v as R;

interface TCase {
  x: StoredRecord;
  out: StoredRecord;
  stride: number[];
  G: StoredRecord;
  grad: StoredRecord;
}

const fx = loadFixture<{
  torch: string;
  T: TCase[];
  blitzBackward: Record<"a" | "b" | "Q" | "aGrad" | "bGrad", StoredRecord>;
}>("habits_blitz.json");

const onDevice = (r: StoredRecord, requiresGrad = false): Tensor =>
  fromStored(r, { requiresGrad, device: testDevice });
const want = (r: StoredRecord) => r.data.map(storedNumber);

// ---- 1. a callable in Compose ----

/** The tutorial's Rescale: a plain class with torch's __call__. */
class Rescale {
  constructor(readonly size: number) {}
  call(image: Image): Image {
    return image;
  }
}

Deno.test("Compose: a plain class instance or a function says to extend Transform, with an example", () => {
  for (
    const [item, what] of [
      [new Rescale(8), "a Rescale instance"],
      [(img: Image) => img, "a function"],
      [function rescale(img: Image) {
        return img;
      }, "a function (rescale)"],
      [{ call: (img: Image) => img }, "an object with methods"],
    ] as const
  ) {
    for (
      const [make, where] of [
        [() => new T.Compose([loose(item)]), "Compose: transforms[0]: "],
        [
          () => new T.Compose({ transforms: [new T.Normalize({ mean: 0, std: 1 }), loose(item)] }),
          "Compose: transforms[1]: ",
        ],
        [() => T.compose([loose(item)]), "Compose: transforms[0]: "],
        [() => T.fromSpec(loose(item)), "transforms.fromSpec: "],
        [
          () => new T.RandomApply([loose(item)], { p: 0.5 }),
          "RandomApply: transforms[0]: transforms.fromSpec: ",
        ],
      ] as const
    ) {
      const m = messageOf(make);
      assert.ok(m.startsWith(`${where}got ${what},`), m);
      assert.match(
        m,
        /extend data\.transforms\.Transform and implement run\(image, rng\) \(torch's __call__\)/,
      );
      assert.match(m, /class Rescale extends data\.transforms\.Transform \{/);
      assert.doesNotMatch(m, /a spec is/);
    }
  }
});

Deno.test("Compose: specs, transforms and the other family keep their own messages", () => {
  const t = T.compose([
    { name: "Normalize", mean: 0, std: 2 },
    new T.RandomHorizontalFlip({ p: 1 }),
  ]);
  const img = { data: new Float32Array([2, 4]), width: 2, height: 1 };
  assert.deepEqual([...t.apply(img, new data.Rng(0)).data], [2, 1]);
  assert.match(
    messageOf(() => T.fromSpec(loose({ mean: 0 }))),
    /a spec is \{ name, \.\.\.params \}, got \{"mean":0\}/,
  );
  assert.match(messageOf(() => T.fromSpec(loose(3))), /a spec is \{ name, \.\.\.params \}, got 3/);
  assert.match(
    messageOf(() => T.fromSpec(loose(null))),
    /a spec is \{ name, \.\.\.params \}, got null/,
  );
  assert.match(
    messageOf(() => new T.Compose([loose(new V.RandFlip({ p: 1, spatialAxis: 0 }))])),
    /volume transform .*data\.transforms\.volume\.fromSpec/,
  );
});

Deno.test("volume Compose: a callable says to extend VolumeTransform and implement run(v, rng)", () => {
  for (const item of [new Rescale(8), (v: unknown) => v]) {
    for (const make of [() => new V.Compose([loose(item)]), () => V.fromSpec(loose(item))]) {
      const m = messageOf(make);
      assert.match(m, /^transforms\.volume\.fromSpec: got /);
      assert.match(
        m,
        /extend data\.transforms\.volume\.VolumeTransform and implement run\(v, rng\)/,
      );
      assert.match(m, /shape: \[C, D, H, W\]/);
    }
  }
  assert.match(messageOf(() => V.fromSpec(loose({ p: 1 }))), /a spec is \{ name: "volume\.X"/);
  assert.match(
    messageOf(() => new V.Compose([loose(new T.RandomHorizontalFlip())])),
    /RandomHorizontalFlip is a 2-D transform/,
  );
});

Deno.test("the classes the messages show work as written", () => {
  // The 2-D message's example, verbatim but for the types.
  class Rescale2d extends data.transforms.Transform {
    constructor() {
      super({}, arguments.length, { keys: [], p: null, usage: "{}" });
    }
    protected run(image: Image, _rng: Rng): Image {
      return { ...image, data: image.data.map((v) => v / 255) };
    }
  }
  const img = { data: new Float32Array([255, 51]), width: 2, height: 1 };
  const out = T.compose([new Rescale2d()]).apply(img, new data.Rng(0));
  assertClose(out.data, [1, 0.2]);
  // The volume message's example.
  class Rescale3d extends data.transforms.volume.VolumeTransform {
    constructor() {
      super({}, arguments.length, { keys: [], p: null, usage: "{}" });
    }
    protected run(v: { data: Float32Array }, _rng: Rng) {
      return { ...v, data: v.data.map((x) => x / 1000) } as never;
    }
  }
  using x = tensor(new Float32Array([1000, 2000]), [1, 1, 1, 2], { device: testDevice });
  using y = V.compose([new Rescale3d()]).apply(x, new data.Rng(0));
  assertClose(y.toArray(), [1, 2]);
});

// ---- 2. Q.backward(gradient=g) ----

Deno.test("backward({ gradient }) says backward(gradient); backward(g) gives torch's blitz gradients", () => {
  const f = fx.blitzBackward;
  const a = onDevice(f.a, true), b = onDevice(f.b, true);
  const Q = a.pow(3).mul(3).sub(b.pow(2));
  assertClose(Q.toArray(), want(f.Q));
  const g = tensor([1, 1], undefined, { device: testDevice });
  assert.match(
    messageOf(() => Q.backward(loose({ gradient: g }))),
    /^backward: the first argument is the gradient tensor; write Q\.backward\(gradient\)/,
  );
  assert.match(
    messageOf(() => Q.backward(loose({ gradient: g, retainGraph: true }))),
    /write Q\.backward\(gradient, \{ retainGraph: true \}\)/,
  );
  // loss.backward(retain_graph=True) keeps its own advice.
  assert.match(
    messageOf(() => Q.backward(loose({ retainGraph: true }))),
    /write loss\.backward\(undefined, \{ retainGraph: true \}\)/,
  );
  assert.equal(a.grad, null);
  Q.backward(g);
  assertClose(a.grad!.toArray(), want(f.aGrad));
  assertClose(b.grad!.toArray(), want(f.bGrad));
});

// ---- 3. the DataLoader's torch-only options ----

const tiny = (n = 4, extra?: (i: number) => Record<string, unknown>) => ({
  length: n,
  get: (i: number) =>
    Promise.resolve({
      image: { data: new Float32Array(4).fill(i), width: 2, height: 2 },
      label: i % 2,
      ...extra?.(i),
    }),
});

Deno.test("DataLoader: generator, workerInitFn and collateFn say what to write", () => {
  const ds = tiny();
  const cases: [string, RegExp][] = [
    ["generator", /unknown option 'generator': torch's generator=.* is \{ seed: 0 \} here/],
    [
      "workerInitFn",
      /unknown option 'workerInitFn': not needed: .*Rng\.forSample\(seed, epoch, k\).*any number of workers/,
    ],
    ["worker_init_fn", /unknown option 'worker_init_fn': not needed: /],
    // collateFn is an option now (collate_test.ts); torch's spelling names it.
    ["collate_fn", /unknown option 'collate_fn' \(write 'collateFn'\)/],
  ];
  for (const [key, re] of cases) {
    const m = messageOf(() => new data.DataLoader(ds, loose({ batchSize: 2, [key]: () => 0 })));
    assert.match(m, /^data\.DataLoader: /);
    assert.match(m, re);
  }
  // The others are as before.
  assert.match(
    messageOf(() => new data.DataLoader(ds, loose({ numWorkers: 2 }))),
    /did you mean 'workers'/,
  );
  assert.equal(new data.DataLoader(ds, { batchSize: 2, seed: 0 }).length, 2);
});

// ---- 4. sample fields the loader does not batch ----

/** Runs `f` with console.warn captured; returns what it warned. */
async function warnings(f: () => Promise<void>): Promise<string[]> {
  const warned: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warned.push(args.map(String).join(" "));
  try {
    await f();
  } finally {
    console.warn = original;
  }
  return warned;
}

async function drain(loader: data.DataLoader): Promise<number> {
  let n = 0;
  for await (using b of loader) n += b.labels.shape[0];
  return n;
}

Deno.test("DataLoader: extra sample fields warn once per loader, naming them and batch.indices", async () => {
  const ds = tiny(5, (i) => ({ landmarks: [i, i], name: `img${i}` }));
  const loader = new data.DataLoader(ds, { batchSize: 2 });
  const warned = await warnings(async () => {
    assert.equal(await drain(loader), 5);
    assert.equal(await drain(loader), 5); // a second epoch: no second warning
  });
  assert.equal(warned.length, 1, warned.join("\n"));
  assert.match(
    warned[0],
    /^DataLoader: the dataset's samples have fields 'landmarks', 'name' that/,
  );
  assert.match(warned[0], /not batch \(a batch holds images, labels and indices/);
  assert.match(warned[0], /\[\.\.\.batch\.indices\]\.map\(\(i\) => landmarks\[i\]\)/);
  // Another loader warns again; the batches are unchanged.
  const again = await warnings(async () => {
    for await (using b of new data.DataLoader(ds, { batchSize: 5 })) {
      assert.deepEqual([...b.indices], [0, 1, 2, 3, 4]);
      assert.deepEqual(Object.keys(b).sort(), ["images", "indices", "labels"]);
    }
  });
  assert.equal(again.length, 1);
  // A field holding undefined is no field; a malformed sample gets the loader's error alone.
  const image = { data: new Float32Array(1), width: 1, height: 1 };
  assert.deepEqual(unbatchedFields({ image, label: 0, landmarks: undefined }), []);
  assert.deepEqual(unbatchedFields({ image, label: 0, landmarks: [1] }), ["landmarks"]);
  const bad = { length: 1, get: () => Promise.resolve({ img: image, label: 0, landmarks: [1] }) };
  const silent = await warnings(async () => {
    await assert.rejects(
      () => drain(new data.DataLoader(loose(bad))),
      /image is missing in an object with keys \{ img, label, landmarks \}/,
    );
  });
  assert.deepEqual(silent, []);
});

Deno.test("DataLoader: the library's datasets and plain samples never warn", async () => {
  const base = tiny(4);
  const images = zeros([4, 1, 2, 2]);
  const nifti = "tests/fixtures/nifti/anatomical.nii";
  const volumes = new data.VolumeDataset([{ image: nifti, label: 1 }, { image: nifti, label: 0 }]);
  const cached = await data.CacheDataset.create(volumes, { cacheRate: 1 });
  const datasets: data.Dataset[] = [
    base,
    new data.TensorDataset(images, [0, 1, 0, 1]),
    new data.Subset(base, [3, 1]),
    new data.ConcatDataset([base, new data.TensorDataset(images, [1, 1, 0, 0])]),
    volumes,
    cached,
  ];
  const warned = await warnings(async () => {
    for (const ds of datasets) await drain(new data.DataLoader(ds, { batchSize: 2 }));
  });
  assert.deepEqual(warned, []);
  for (const ds of datasets) assert.deepEqual(unbatchedFields(await ds.get(0)), []);
  images.dispose();
});

// ---- 5. x.T ----

Deno.test("x.T is torch 1.13's: x.t() up to 2-D, all dimensions reversed above (values, strides, gradient)", () => {
  assert.equal(fx.T.length, 5);
  for (const c of fx.T) {
    const x = onDevice(c.x, true);
    const y = x.T;
    const what = `x [${c.x.shape}].T`;
    assert.deepEqual(y.shape, c.out.shape, what);
    assert.deepEqual(y.strides, c.stride, `${what} strides`);
    assertClose(y.contiguous().toArray(), want(c.out), { what });
    y.mul(onDevice(c.G)).sum().backward();
    assertClose(x.grad!.toArray(), want(c.grad), { what: `${what} gradient` });
  }
  const m = tensor([[1, 2, 3], [4, 5, 6]], undefined, { device: testDevice });
  assert.deepEqual(m.T.toList(), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(m.T.T.toList(), m.toList());
});

// ---- 6. MaxPool2d(2, 2) ----

Deno.test("nn.MaxPool2d(2, 2) and friends suggest the user's own numbers", () => {
  assert.match(
    messageOf(() => new nn.MaxPool2d(2, loose(2))),
    /^nn\.MaxPool2d: expected an options object, got number 2; write it as new nn\.MaxPool2d\(2, \{ stride: 2 \}\)$/,
  );
  assert.match(
    messageOf(() => new nn.AvgPool2d(3, loose([2, 1]))),
    /write it as new nn\.AvgPool2d\(3, \{ stride: \[2, 1\] \}\)$/,
  );
  assert.match(
    messageOf(() => new nn.MaxPool2d([3, 2], loose(1))),
    /write it as new nn\.MaxPool2d\(\[3, 2\], \{ stride: 1 \}\)$/,
  );
  // torch's MaxPool2d(3, 2, 1): kernel, stride, padding.
  assert.match(
    messageOf(() => Reflect.construct(nn.MaxPool2d, [3, 2, 1])),
    /takes at most 2 arguments, got 3; .*new nn\.MaxPool2d\(3, \{ stride: 2, padding: \/\* your 3rd argument \*\/ \}\)/,
  );
  // Anything but numbers: the generic form.
  assert.match(
    messageOf(() => new nn.MaxPool2d(2, loose("2"))),
    /write it as new nn\.MaxPool2d\(3, \{ stride: 2, padding: 1 \}\)$/,
  );
  const pool = new nn.MaxPool2d(2, { stride: 2 });
  assert.deepEqual(pool(zeros([1, 1, 4, 4], { device: testDevice })).shape, [1, 1, 2, 2]);
  // The 1-D and 3-D pools too.
  assert.match(
    messageOf(() => new nn.MaxPool1d(2, loose(2))),
    /write it as new nn\.MaxPool1d\(2, \{ stride: 2 \}\)$/,
  );
  assert.match(
    messageOf(() => new nn.AvgPool3d(2, loose(2))),
    /write it as new nn\.AvgPool3d\(2, \{ stride: 2 \}\)$/,
  );
});

// ---- 7. x.numpy() ----

Deno.test("x.numpy says toArray() is a copy, and it is one", () => {
  const x = tensor([1, 2], undefined, { device: testDevice });
  const m = messageOf(() => loose<{ numpy: unknown }>(x).numpy);
  assert.match(m, /^Tensor has no \.numpy: write x\.toArray\(\)/);
  assert.match(m, /copies, where torch's x\.numpy\(\) shares the tensor's memory/);
  const a = x.toArray();
  x.mul_(10);
  assert.deepEqual([...a], [1, 2]);
  assert.deepEqual([...x.toArray()], [10, 20]);
});

// ---- 8. torch.set_num_threads, torch.get_rng_state ----

Deno.test("setNumThreads / getNumThreads: torch's set_num_threads, n >= 1", () => {
  const before = getNumThreads();
  assert.ok(Number.isInteger(before) && before >= 1);
  try {
    setNumThreads(1);
    assert.equal(getNumThreads(), 1);
    setNumThreads(3);
    assert.equal(getNumThreads(), 3);
    for (const bad of [0, -1, 1.5, NaN, "2", undefined]) {
      assert.match(
        messageOf(() => setNumThreads(loose(bad))),
        /^setNumThreads: expects one integer >= 1 .*; write setNumThreads\(4\)$/,
      );
    }
    assert.match(
      messageOf(() => loose<(...a: number[]) => void>(setNumThreads)(2, 2)),
      /got 2 arguments/,
    );
    assert.equal(getNumThreads(), 3, "a refused call changes nothing");
    assert.match(
      messageOf(() => loose<(n: number) => number>(getNumThreads)(2)),
      /setNumThreads\(n\)/,
    );
  } finally {
    setNumThreads(before);
  }
  assert.equal(getNumThreads(), before);
});

Deno.test("getRngState / setRngState: a restored state draws the same numbers again", () => {
  manualSeed(7);
  const state = getRngState();
  const a = rand([5], { device: testDevice }).toArray();
  const b = randn([3], { device: testDevice }).toArray();
  setRngState(state);
  assert.deepEqual([...rand([5], { device: testDevice }).toArray()], [...a]);
  assert.deepEqual([...randn([3], { device: testDevice }).toArray()], [...b]);
  // The state is a snapshot, and survives JSON as strings.
  const later = getRngState();
  assert.notDeepEqual(later, state);
  const json = JSON.stringify(later, (_, v) => typeof v === "bigint" ? String(v) : v);
  const c = rand([4]).toArray();
  setRngState(JSON.parse(json));
  assert.deepEqual([...rand([4]).toArray()], [...c]);
  setRngState({ seed: 7n, counter: 0n });
  assert.deepEqual([...rand([5], { device: testDevice }).toArray()], [...a]);
});

Deno.test("setRngState: a bad state says what to pass", () => {
  const before = getRngState();
  const cases: [unknown[], RegExp][] = [
    [
      [zeros([4])],
      /expects the \{ seed, counter \} object that getRngState\(\) returns .*got a Tensor/,
    ],
    [[5], /expects the \{ seed, counter \} object .*got 5/],
    [[{ seed: 1n }], /state\.counter must be a non-negative integer .*got undefined/],
    [[{ seed: -1, counter: 0 }], /state\.seed must be a non-negative integer .*got -1/],
    [[{ seed: "x", counter: 0 }], /state\.seed .*got the string "x"/],
    [[{ seed: 1.5, counter: 0 }], /state\.seed .*got 1\.5/],
    [[{ seed: 1n << 64n, counter: 0n }], /state\.seed must be below 2\^64/],
    [[{ seed: 1n, counter: 0n, offset: 0 }], /unknown field 'offset'/],
    [[], /takes one state, got 0 arguments/],
  ];
  for (const [args, re] of cases) {
    assert.match(messageOf(() => loose<(...a: unknown[]) => void>(setRngState)(...args)), re);
  }
  assert.deepEqual(getRngState(), before, "a refused state changes nothing");
});
