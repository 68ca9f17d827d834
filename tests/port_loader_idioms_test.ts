/**
 * DataLoader idioms a PyTorch port writes: `for x, y in loader` as
 * `for await (const [x, y] of loader)`, and datasets whose `get` returns a
 * PyTorch-style sample (a tensor image, an (image, label) tuple). The first
 * works; the others fail with the expected form and what to write, instead
 * of "Cannot read properties of undefined" or "label must be an integer,
 * got undefined".
 */
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import type { Dataset } from "../src/data/types.ts";

const image = (i: number) => ({ data: new Float32Array(4).fill(i), width: 2, height: 2 });
const plain: Dataset = {
  length: 6,
  get: (i) => Promise.resolve({ image: image(i), label: i % 3 }),
};

Deno.test("a batch destructures as [images, labels] and keeps its fields", async () => {
  const loader = new data.DataLoader(plain, { batchSize: 4 });
  const seen: number[][] = [];
  for await (const [x, y] of loader) {
    assert.equal(x.dtype, "float32");
    assert.equal(y.dtype, "int32");
    seen.push([...x.shape, ...y.shape, ...y.toArray()]);
    x.dispose();
    y.dispose();
  }
  assert.deepEqual(seen, [[4, 1, 2, 2, 4, 0, 1, 2, 0], [2, 1, 2, 2, 2, 1, 2]]);
  for await (using batch of loader) {
    const [x, y, ...rest] = batch;
    assert.equal(x, batch.images);
    assert.equal(y, batch.labels);
    assert.equal(rest.length, 0);
    assert.ok(batch.indices instanceof Int32Array);
  }
});

/** The message of the loader's first batch over a dataset whose get returns `sample(i)`. */
async function failure(sample: (i: number) => unknown): Promise<string> {
  const ds = { length: 2, get: (i: number) => Promise.resolve(sample(i)) } as unknown as Dataset;
  try {
    for await (using _ of new data.DataLoader(ds, { batchSize: 2 })) { /* first batch throws */ }
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("the loader accepted the samples");
}

const FORM = /expected \{ image: \{ data: Float32Array, width, height \}, label \}/;

Deno.test("a tensor image is refused with the conversion to write", async () => {
  using t = tensor(new Float32Array(6), [1, 2, 3]);
  const m = await failure((i) => ({ image: t, label: i }));
  assert.match(m, /sample 0: image is a Tensor of shape \[1,2,3\] \(float32\)/);
  assert.match(m, FORM);
  assert.match(m, /data: t\.toArray\(\) as Float32Array, width: 3, height: 2/);
  using hw = tensor(new Float32Array(6), [3, 2]);
  assert.match(await failure((i) => ({ image: hw, label: i })), /width: 2, height: 3/);
});

Deno.test("an (image, label) tuple, nothing, or a malformed image says what was given", async () => {
  const tuple = await failure((i) => [image(i), i]);
  assert.match(
    tuple,
    /sample 0: get\(i\) returned an array of 2 \(a PyTorch \(image, label\) tuple\?\)/,
  );
  assert.match(tuple, FORM);
  assert.match(await failure(() => undefined), /get\(i\) returned undefined; expected \{ image/);
  assert.match(
    await failure((i) => ({ img: image(i), label: i })),
    /image is missing in an object with keys \{ img, label \}; expected \{ image/,
  );
  assert.match(
    await failure((i) => ({ image: { data: [0, 0, 0, 0], width: 2, height: 2 }, label: i })),
    /image\.data is an array of 4; expected .*\(Float32Array\.from\(pixels\)\)/,
  );
  assert.match(
    await failure((i) => ({ image: { data: new Float32Array(4), width: 2 }, label: i })),
    /image\.height must be a positive integer, got undefined/,
  );
  assert.match(
    await failure((i) => ({ image: { data: new Float32Array(3), width: 2, height: 2 }, label: i })),
    /image has 3 values for 2x2/,
  );
  using label = tensor(new Int32Array([1]), [1]);
  assert.match(
    await failure((i) => ({ image: image(i), label })),
    /label is a Tensor of shape \[1\] \(int32\); expected an integer: pass t\.item\(\)/,
  );
  assert.match(await failure((i) => ({ image: image(i), label: i + 0.5 })), /got 0.5/);
  assert.match(
    await failure((i) => ({ image: image(i) })),
    /label must be an integer, got undefined/,
  );
});
