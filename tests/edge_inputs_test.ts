/**
 * Edge inputs a fuzzing audit found: thread counts that crashed the next
 * parallel op (OpenMP overflowed the calling thread's stack), loader worker
 * counts that took memory until the process died, a gradient assigned as a
 * view (torch steps on it), and float-to-int32 conversions of NaN.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  data,
  getNumThreads,
  MAX_NUM_THREADS,
  nn,
  optim,
  randn,
  setNumThreads,
  tensor,
} from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import { messageOf, testDevice } from "./helpers.ts";

Deno.test("setNumThreads refuses counts OpenMP cannot run (100,000 segfaulted the next op)", () => {
  const before = getNumThreads();
  assert.match(
    messageOf(() => setNumThreads(100000)),
    /setNumThreads: 100000 threads is more than the 1024 the CPU ops can run \(this machine has \d+ cores\); write setNumThreads\(\d+\)/,
  );
  assert.equal(getNumThreads(), before);
  setNumThreads(MAX_NUM_THREADS); // the limit itself is taken
  assert.equal(getNumThreads(), MAX_NUM_THREADS);
  setNumThreads(before);
  assert.equal(randn([1 << 12]).add(1).numel(), 1 << 12);
});

Deno.test("DataLoader: absurd worker counts are refused; an epoch starts no more workers than batches", async () => {
  const ds = new data.TensorDataset(randn([5, 1, 4, 4]), [0, 1, 2, 0, 1]);
  assert.match(
    messageOf(() => new data.DataLoader(ds, { batchSize: 2, workers: 1e6 })),
    /DataLoader: workers 1000000 is more than the 256 threads a loader starts/,
  );
  const loader = new data.DataLoader(ds, { batchSize: 2, workers: 100 });
  let most = 0, batches = 0;
  for await (const _ of loader) {
    most = Math.max(most, liveWorkers());
    batches++;
  }
  assert.equal(batches, 3);
  assert.ok(most >= 1 && most <= 3, `${most} workers ran for 3 batches`);
  assert.equal(liveWorkers(), 0);
});

Deno.test("an optimizer steps on a gradient assigned as a view, as torch's", () => {
  for (
    const make of [
      (lr: number) => (p: nn.Parameter) => new optim.SGD([p], { lr }),
      (lr: number) => (p: nn.Parameter) => new optim.Adam([p], { lr }),
    ]
  ) {
    const a = new nn.Parameter(tensor([[0, 0, 0], [0, 0, 0]], { device: testDevice }));
    const b = new nn.Parameter(tensor([[0, 0, 0], [0, 0, 0]], { device: testDevice }));
    const g = tensor([[1, 2], [3, 4], [5, 6]], { device: testDevice });
    a.grad = g.T; // not contiguous
    b.grad = g.T.contiguous();
    make(0.5)(a).step();
    make(0.5)(b).step();
    assert.deepEqual([...a.toArray()], [...b.toArray()]);
    assert.notDeepEqual([...a.toArray()], [0, 0, 0, 0, 0, 0]);
  }
});

Deno.test("int() refuses NaN, infinities and values past int32, as long() does", () => {
  for (const v of [NaN, Infinity, -Infinity, 3e9, -3e9]) {
    const x = tensor([1, v], { device: testDevice });
    assert.match(messageOf(() => x.int()), /int\(\): .* does not fit int32/, String(v));
    assert.match(messageOf(() => x.long()), /long\(\): .* does not fit int32/, String(v));
  }
  assert.deepEqual([
    ...tensor([-(2 ** 31), 2 ** 31 - 128, -2.7], { device: testDevice }).int().toArray(),
  ], [
    -(2 ** 31),
    2 ** 31 - 128,
    -2,
  ]);
  const m = tensor(NaN).median(0); // its index is made through int(): still 0
  assert.ok(Number.isNaN(m.values.item()));
  assert.equal(m.indices.item(), 0);
});
