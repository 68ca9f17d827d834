/**
 * torchvision's random containers RandomApply, RandomChoice and RandomOrder:
 * what they draw (frequencies over many draws from the library's Rng),
 * their specs (nested, through JSON and fromSpec), DataLoader workers
 * (which rebuild them from specs, and refuse a user's class inside one),
 * batches, and bad inputs. The first import is the containers' own module,
 * so this file also checks that it loads first (it imports fromSpec, whose
 * registry lists it).
 */
import { RandomApply } from "../src/data/transforms/random_wrappers.ts";
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import type { Image } from "../src/data/types.ts";
import { assertClose, testDevice } from "./helpers.ts";
import { ToyDataset } from "./toy_dataset.ts";

const T = data.transforms;
const loose = (v: unknown) => v as never;
const row = (...v: number[]): Image => ({ data: Float32Array.from(v), width: v.length, height: 1 });
/** x -> x + b (Normalize with std 1 and mean -b): order shows in the result of affine maps. */
const add = (b: number) => new T.Normalize({ mean: -b, std: 1 });
/** x -> x * k. */
const mul = (k: number) => new T.Normalize({ mean: 0, std: 1 / k });

/** How often each result (as a string) comes out of `n` applications. */
function tally(
  t: data.transforms.Transform,
  x: Image,
  n: number,
  seed: number,
): Map<string, number> {
  const rng = new data.Rng(seed), m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = [...t.apply(x, rng).data].map((v) => +v.toFixed(4)).join(",");
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** |count - expected| within 5 binomial standard deviations. */
function near(count: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(count - expected) <= 5 * Math.sqrt(expected) + 2,
    `${what}: ${count}, expected about ${expected}`,
  );
}

Deno.test("RandomApply: all in order with probability p, or nothing", () => {
  assert.equal(RandomApply, T.RandomApply);
  const x = row(1, 2);
  const t = new T.RandomApply([add(1), mul(10)], { p: 1 });
  assert.deepEqual([...t.apply(x, new data.Rng(0)).data], [20, 30]);
  assert.equal(new T.RandomApply([add(1)], { p: 0 }).apply(x, new data.Rng(0)), x);
  const counts = tally(new T.RandomApply([add(1), mul(10)], { p: 0.3 }), x, 3000, 1);
  assert.deepEqual([...counts.keys()].sort(), ["1,2", "20,30"]);
  near(counts.get("20,30")!, 900, "applied");
  // Default p: torchvision's 0.5; the object form is the same transform.
  const half = new T.RandomApply({ transforms: [add(1)] });
  assert.equal(half.p, 0.5);
  near(tally(half, x, 2000, 2).get("2,3")!, 1000, "p 0.5");
  assert.deepEqual(half.spec, {
    name: "RandomApply",
    transforms: [{ name: "Normalize", mean: -1, std: 1 }],
  });
  assert.deepEqual(new T.RandomApply([], { p: 1 }).apply(x, new data.Rng(0)), x);
});

Deno.test("RandomChoice: one transform, uniform or by torchvision's weights p", () => {
  const x = row(1);
  const uniform = tally(new T.RandomChoice([add(1), add(2), add(3)]), x, 3000, 3);
  for (const k of ["2", "3", "4"]) near(uniform.get(k)!, 1000, `pick ${k}`);
  const t = new T.RandomChoice([add(1), add(2), add(3)], { p: [3, 0, 1] });
  const weighted = tally(t, x, 4000, 4);
  assert.equal(weighted.get("3"), undefined, "a zero weight is never picked");
  near(weighted.get("2")!, 3000, "weight 3 of 4");
  near(weighted.get("4")!, 1000, "weight 1 of 4");
  // p is weights here, not a probability of applying.
  assert.equal(t.p, 1);
  assert.deepEqual(t.weights, [3, 0, 1]);
  assert.deepEqual(t.spec.p, [3, 0, 1]);
  const rebuilt = T.fromSpec(JSON.parse(JSON.stringify(t.spec))) as data.transforms.RandomChoice;
  assert.deepEqual(rebuilt.weights, [3, 0, 1]);
  assert.equal(new T.RandomChoice({ transforms: [add(1)] }).weights, null);
  assert.equal(new T.RandomChoice([add(1)]).spec.p, undefined);
  const last = tally(new T.RandomChoice([add(1), add(2)], { p: [1, 0] }), x, 500, 5);
  assert.deepEqual([...last.keys()], ["2"]);
});

Deno.test("RandomOrder: every order about equally often", () => {
  const x = row(0.2);
  // Three affine maps that do not commute: six orders, six results.
  const t = new T.RandomOrder([
    new T.Normalize({ mean: -1, std: 2 }),
    new T.Normalize({ mean: 3, std: 5 }),
    new T.RandomInvert({ p: 1 }),
  ]);
  const counts = tally(t, x, 6000, 6);
  assert.deepEqual([...counts.keys()].sort(), ["-0.42", "-0.52", "0.28", "0.78", "1.28", "1.48"]);
  for (const [k, c] of counts) near(c, 1000, `order giving ${k}`);
  assert.deepEqual(new T.RandomOrder({ transforms: [] }).apply(x, new data.Rng(0)), x);
  assert.equal(t.p, 1);
});

Deno.test("nested specs: JSON round trip rebuilds the same pipeline, same draws", () => {
  const pipeline = T.compose([
    new T.RandomApply([new T.RandomChoice([new T.RandomHorizontalFlip({ p: 1 }), mul(2)])], {
      p: 0.7,
    }),
    new T.RandomOrder([add(0.5), new T.RandomApply([new T.TrivialAugmentWide()], { p: 0.5 })]),
  ]);
  const json = JSON.parse(JSON.stringify(pipeline.spec));
  assert.equal(json.transforms[0].transforms[0].name, "RandomChoice");
  const rebuilt = T.fromSpec(json);
  assert.deepEqual(rebuilt.spec, pipeline.spec);
  const x = { data: Float32Array.from({ length: 36 }, (_, i) => (i % 7) / 7), width: 6, height: 6 };
  for (let s = 0; s < 20; s++) {
    const a = pipeline.apply(x, new data.Rng(s)), b = rebuilt.apply(x, new data.Rng(s));
    assert.deepEqual([...a.data], [...b.data], `seed ${s}`);
  }
  // Specs inside the lists are rebuilt as the library's classes.
  const t = new T.RandomApply([{ name: "RandomVerticalFlip", p: 1 }], { p: 1 });
  assert.ok(t.transforms[0] instanceof T.RandomVerticalFlip);
  assert.ok(T.transformNames().includes("RandomChoice"));
});

/** Images and labels of one epoch. */
async function epoch(loader: data.DataLoader): Promise<number[][]> {
  const out: number[][] = [];
  for await (using b of loader) out.push([...b.indices, ...b.images.toArray()]);
  return out;
}

Deno.test("DataLoader workers rebuild the containers: same batches as without workers", async () => {
  const ds = new ToyDataset({ length: 10, size: 8 });
  const transform = T.compose([
    new T.RandomChoice([new T.RandomHorizontalFlip({ p: 1 }), new T.RandomInvert({ p: 1 })], {
      p: [2, 1],
    }),
    new T.RandomOrder([new T.RandomAutocontrast({ p: 1 }), add(0.1)]),
    new T.RandomApply([new T.RandAugment({ numOps: 1 })], { p: 0.5 }),
  ]);
  const opts = { batchSize: 4, shuffle: true, seed: 5, transform };
  const main = await epoch(new data.DataLoader(ds, opts));
  const workers = await epoch(new data.DataLoader(ds, { ...opts, workers: 1 }));
  assert.deepEqual(workers, main);
});

/** A transform of the user's own: workers cannot rebuild it. */
class AddOne extends T.Transform {
  constructor(params: Record<string, never> = {}) {
    super(params, arguments.length, { keys: [], p: null, usage: "{}" });
  }
  protected run(image: Image): Image {
    return { ...image, data: image.data.map((v) => v + 1) };
  }
}

Deno.test("a user's transform inside a container: workers: 0 works, workers > 0 refuses", async () => {
  const ds = new ToyDataset({ length: 4, size: 4 });
  // The outputs on the main thread: AddOne ran.
  const one = await epoch(
    new data.DataLoader(ds, {
      batchSize: 4,
      transform: new T.RandomApply([new AddOne()], { p: 1 }),
    }),
  );
  const none = await epoch(new data.DataLoader(ds, { batchSize: 4 }));
  assertClose(one[0].slice(4), none[0].slice(4).map((v) => v + 1));
  for (
    const transform of [
      new T.RandomApply([new AddOne()], { p: 1 }),
      new T.RandomChoice([new AddOne()]),
      T.compose([new T.RandomOrder([add(1), new AddOne()])]),
    ]
  ) {
    const plain = await epoch(new data.DataLoader(ds, { batchSize: 4, transform }));
    assert.equal(plain.length, 1);
    assert.throws(
      () => new data.DataLoader(ds, { batchSize: 4, transform, workers: 1 }),
      /DataLoader: transform 'AddOne' is not one of this library's transform classes.*workers: 0/,
    );
  }
});

Deno.test("batches and seeds: each sample its own draw, a seed reproduces", () => {
  const t = new T.RandomChoice([add(1), add(2)]);
  using batch = tensor(new Float32Array(64), [64, 1, 1, 1], { device: testDevice });
  using a = t.apply(batch, new data.Rng(9));
  using b = t.apply(batch, new data.Rng(9));
  assert.equal(a.device, testDevice);
  const values = a.toArray();
  assert.deepEqual([...values], [...b.toArray()]);
  assert.deepEqual([...new Set(values)].sort(), [1, 2]);
});

Deno.test("bad inputs: clear errors that say what to write", () => {
  const t = add(1);
  const cases: [() => unknown, RegExp][] = [
    [
      () => new T.RandomApply(loose(t)),
      /RandomApply: expected an options object, got a Normalize.*RandomApply\(\[t1, t2\], \{ p: 0\.5 \}\)/,
    ],
    [
      () => new T.RandomApply([t], loose(0.3)),
      /RandomApply: expected an options object, got number 0\.3; write it as new transforms\.RandomApply\(\[t1, t2\], \{ p: 0\.5 \}\)/,
    ],
    [
      () => new T.RandomApply([t], { p: 1.5 }),
      /RandomApply: p must be a probability in \[0, 1\], got 1\.5/,
    ],
    [() => new T.RandomApply([t], loose({ prob: 0.5 })), /RandomApply: unknown option 'prob'/],
    [
      () => new T.RandomApply(loose({ transforms: [t] }), { p: 1 }),
      /with an options object first, everything goes in it/,
    ],
    [
      () => Reflect.construct(T.RandomApply, [[t], {}, 1]),
      /RandomApply: takes at most 2 arguments, got 3/,
    ],
    [
      () => new T.RandomApply(loose({})),
      /RandomApply: transforms must be an array of transforms or specs, got undefined/,
    ],
    [() => new T.RandomApply(loose(null)), /RandomApply: expected an options object, got null/],
    [
      () => new T.RandomApply([loose({ name: "Nope" })]),
      /RandomApply: transforms\[0\]: transforms\.fromSpec: unknown transform 'Nope'/,
    ],
    [
      () => new T.RandomApply([loose((x: Image) => x)]),
      /RandomApply: transforms\[0\]: transforms\.fromSpec: got a function, .*extend data\.transforms\.Transform/,
    ],
    [
      () => new T.RandomApply([loose(new T.volume.RandFlip({ p: 1, spatialAxis: 0 }))]),
      /transforms\[0\]: .*volume transform/,
    ],
    [() => new T.RandomChoice([]), /RandomChoice: needs at least one transform/],
    [
      () => new T.RandomChoice([t, t], { p: [1] }),
      /RandomChoice: p must be 2 finite weights >= 0 .*got \[1\]/,
    ],
    [
      () => new T.RandomChoice([t, t], loose({ p: 0.5 })),
      /torchvision's p is weights, not a probability.*RandomApply\(\[choice\], \{ p: q \}\)/,
    ],
    [() => new T.RandomChoice([t, t], { p: [0, 0] }), /not all 0/],
    [() => new T.RandomChoice([t, t], { p: [1, -1] }), /finite weights >= 0/],
    [() => new T.RandomChoice([t, t], { p: [1, NaN] }), /finite weights >= 0 .*got \[1, NaN\]/],
    [
      () => new T.RandomChoice([t], loose({ weights: [1] })),
      /RandomChoice: unknown option 'weights'/,
    ],
    [
      () => Reflect.construct(T.RandomOrder, [[t], { p: 0.5 }]),
      /RandomOrder: takes at most 1 arguments, got 2/,
    ],
    [
      () => new T.RandomOrder(loose({ transforms: [t], p: 0.5 })),
      /RandomOrder: unknown option 'p'/,
    ],
    [() => T.fromSpec({ name: "RandomOrder" }), /RandomOrder: transforms must be an array/],
    [
      () => T.fromSpec({ name: "RandomApply", transforms: [], p: "0.5" }),
      /RandomApply: p must be a probability/,
    ],
    [
      () => new T.RandomApply([t]).apply(row(1), loose(3)),
      /RandomApply\.apply: rng must be a data\.Rng/,
    ],
  ];
  for (const [f, re] of cases) assert.throws(f, re);
});
