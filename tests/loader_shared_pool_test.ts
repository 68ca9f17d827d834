/**
 * persistentWorkers with more than one iteration of the same loader at once
 * (two iterators, or a new epoch started inside the previous one): the kept
 * workers are shared, so one iteration that breaks off or throws must not
 * stop them under the others; the last one to leave still stops them, and
 * `close()` still does at any time.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import { ToyDataset } from "./toy_dataset.ts";

const OPTS = { batchSize: 4, shuffle: true, seed: 3, transform: data.transforms.ct() };

/** One batch as plain arrays. */
function plain(b: data.Batch) {
  return { indices: [...b.indices], images: b.images.toArray() as Float32Array };
}

/** Epoch `epoch` of `ds` read on the main thread: what the workers must give. */
async function reference(ds: ToyDataset, epoch: number) {
  const loader = new data.DataLoader(ds, OPTS);
  loader.setEpoch(epoch);
  const out = [];
  for await (using b of loader) out.push(plain(b));
  return out;
}

function assertSame(got: ReturnType<typeof plain>[], want: ReturnType<typeof plain>[]) {
  assert.equal(got.length, want.length);
  got.forEach((b, i) => {
    assert.deepEqual(b.indices, want[i].indices, `batch ${i}`);
    assert.ok(b.images.every((v, k) => v === want[i].images[k]), `batch ${i}: same pixels`);
  });
}

Deno.test("persistentWorkers: a new epoch that throws or breaks inside one leaves it running", async () => {
  const ds = new ToyDataset({ length: 24, size: 6 });
  const loader = new data.DataLoader(ds, { ...OPTS, workers: 2, persistentWorkers: true });
  const got = [];
  for await (using b of loader) {
    got.push(plain(b));
    if (got.length === 2) {
      await assert.rejects(async () => {
        for await (using _ of loader) throw new Error("inner epoch failed");
      }, /inner epoch failed/);
      for await (using _ of loader) break;
      assert.equal(liveWorkers(), 2, "the outer epoch still holds the workers");
    }
  }
  assertSame(got, await reference(ds, 0));
  assert.equal(liveWorkers(), 2, "a complete epoch keeps them");
  loader.close();
  assert.equal(liveWorkers(), 0);
});

Deno.test("persistentWorkers: two iterators at once; the last to leave decides", async () => {
  const ds = new ToyDataset({ length: 20, size: 6, delayMs: 1 });
  const loader = new data.DataLoader(ds, { ...OPTS, workers: 2, persistentWorkers: true });
  // A breaks off with batches still loading while B goes on to the end.
  const a = loader[Symbol.asyncIterator](), b = loader[Symbol.asyncIterator]();
  const a0 = await a.next(), b0 = await b.next();
  (a0.value as data.Batch)[Symbol.dispose]();
  await a.return(undefined);
  assert.equal(liveWorkers(), 2);
  const got = [plain(b0.value as data.Batch)];
  (b0.value as data.Batch)[Symbol.dispose]();
  for (let r = await b.next(); !r.done; r = await b.next()) {
    using batch = r.value;
    got.push(plain(batch));
  }
  assertSame(got, await reference(ds, 1));
  assert.equal(liveWorkers(), 2, "B completed: kept");
  // Now B' completes first and A' breaks off last: nobody holds them, they stop.
  const c = loader[Symbol.asyncIterator](), d = loader[Symbol.asyncIterator]();
  (await c.next()).value![Symbol.dispose]();
  for await (using _ of { [Symbol.asyncIterator]: () => d }) { /* the whole epoch */ }
  assert.equal(liveWorkers(), 2);
  await c.return(undefined);
  assert.equal(liveWorkers(), 0, "the last iteration broke off: workers stopped");
  // The loader starts new ones on the next epoch.
  let n = 0;
  for await (using _b of loader) n++;
  assert.equal(n, 5);
  assert.equal(liveWorkers(), 2);
  loader.close();
  assert.equal(liveWorkers(), 0);
});

Deno.test("persistentWorkers: close() stops shared workers even while iterations hold them", async () => {
  const ds = new ToyDataset({ length: 64, size: 4 });
  const loader = new data.DataLoader(ds, { batchSize: 2, workers: 2, persistentWorkers: true });
  const a = loader[Symbol.asyncIterator](), b = loader[Symbol.asyncIterator]();
  (await a.next()).value![Symbol.dispose]();
  (await b.next()).value![Symbol.dispose]();
  loader.close();
  assert.equal(liveWorkers(), 0);
  await assert.rejects(async () => {
    for (let r = await a.next(); !r.done; r = await a.next()) r.value[Symbol.dispose]();
  }, /DataLoader: stopped|worker pool is closed/);
  await b.return(undefined);
  assert.equal(liveWorkers(), 0);
});

Deno.test("without persistentWorkers, two iterations at once each stop their own workers", async () => {
  const ds = new ToyDataset({ length: 16, size: 4 });
  const loader = new data.DataLoader(ds, { batchSize: 4, workers: 1 });
  const a = loader[Symbol.asyncIterator](), b = loader[Symbol.asyncIterator]();
  (await a.next()).value![Symbol.dispose]();
  (await b.next()).value![Symbol.dispose]();
  assert.equal(liveWorkers(), 2);
  await a.return(undefined);
  assert.equal(liveWorkers(), 1);
  let rest = 0;
  for (let r = await b.next(); !r.done; r = await b.next()) {
    r.value[Symbol.dispose]();
    rest++;
  }
  assert.equal(rest, 3);
  assert.equal(liveWorkers(), 0);
});
