/**
 * DistributedDataParallel and DistributedSampler: a 2-rank run logs the same
 * losses as one process with the same global batch and seed; the ranks end
 * with the same weights; unused parameters; the sampler's shards.
 */
import assert from "node:assert/strict";
import { data, distributed } from "../mod.ts";
import { mpirun, results } from "./dist_launch.ts";

type Row = {
  rank: number;
  world: number;
  epoch?: number;
  train?: number;
  val?: number;
  steps?: number[];
  spread?: number;
  buckets?: number[];
  error?: string;
  grad?: number[][] | null;
};

async function oneProcess(args: string[]): Promise<Row[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./dist_ddp_rank.ts", import.meta.url).pathname, ...args],
    env: { NO_COLOR: "1", OMP_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return results<Row>(text);
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

Deno.test("dist: 2 ranks log the same per-step and per-epoch losses as 1 process (global batch 8, same seed)", async () => {
  const single = await oneProcess([]);
  const job = await mpirun(2, "./dist_ddp_rank.ts");
  assert.equal(job.code, 0, job.stderr);
  const rows = results<Row>(job.stdout);
  const refSteps = single.find((r) => r.steps)!.steps!;
  const refEpochs = single.filter((r) => r.epoch !== undefined);
  assert.equal(refSteps.length, 12);
  for (const rank of [0, 1]) {
    const mine = rows.filter((r) => r.rank === rank);
    assert.deepEqual(mine.find((r) => r.buckets)!.buckets, [3, 192, 40]); // several buckets
    const steps = mine.find((r) => r.steps)!.steps!;
    assert.equal(steps.length, refSteps.length);
    steps.forEach((s, i) =>
      assert.ok(rel(s, refSteps[i]) <= 1e-3, `step ${i}: ${s} vs ${refSteps[i]}`)
    );
    const epochs = mine.filter((r) => r.epoch !== undefined);
    assert.equal(epochs.length, 2);
    for (const e of epochs) {
      const ref = refEpochs[e.epoch!];
      assert.ok(rel(e.train!, ref.train!) <= 1e-3, `train ${e.train} vs ${ref.train}`);
      assert.ok(rel(e.val!, ref.val!) <= 1e-3, `val ${e.val} vs ${ref.val}`);
    }
    // Rank 1 started from other weights; DDP's broadcast and averaging keep them equal.
    assert.equal(mine.find((r) => r.spread !== undefined)!.spread, 0);
  }
  // The loss did go down: the run trained.
  assert.ok(refEpochs[1].train! < refEpochs[0].train!);
});

Deno.test("dist: a parameter without a gradient is an Error naming it, or with findUnusedParameters one no rank used keeps .grad null", async () => {
  const strict = results<Row>((await mpirun(2, "./dist_ddp_rank.ts", ["unused"])).stdout);
  assert.equal(strict.length, 2);
  for (const r of strict) {
    assert.match(
      r.error!,
      /parameter unused\.bias got no gradient in this backward on 2 of 2 ranks \(and 1 more: unused\.weight\).*findUnusedParameters/,
    );
  }
  const find = results<Row>((await mpirun(2, "./dist_ddp_rank.ts", ["unused", "find"])).stdout);
  assert.equal(find.length, 2);
  // As PyTorch: a parameter no rank used is left alone (weight decay and momentum skip it).
  for (const r of find) assert.equal(r.grad, null);
});

Deno.test("DistributedSampler: disjoint shards of one permutation, padded as PyTorch, setEpoch, dropLast", () => {
  const shards = (n: number, w: number, o: distributed.DistributedSamplerOptions = {}, epoch = 0) =>
    Array.from(
      { length: w },
      (
        _,
        rank,
      ) => [
        ...new distributed.DistributedSampler(n, { numReplicas: w, rank, ...o }).indices(epoch),
      ],
    );
  // PyTorch (shuffle=False): 10 over 3 ranks -> [0,3,6,9] [1,4,7,0] [2,5,8,1].
  assert.deepEqual(shards(10, 3, { shuffle: false }), [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]);
  assert.deepEqual(shards(10, 3, { shuffle: false, dropLast: true }), [[0, 3, 6], [1, 4, 7], [
    2,
    5,
    8,
  ]]);
  // Padding repeats the whole list when it is shorter than the world.
  assert.deepEqual(shards(2, 5, { shuffle: false }), [[0], [1], [0], [1], [0]]);
  // Shuffled: the union of the shards is one permutation of the dataset, the same on every rank.
  const s = shards(101, 4, { seed: 3 });
  assert.deepEqual(s.map((x) => x.length), [26, 26, 26, 26]);
  const seen = s.flat().slice(0, 101).sort((a, b) => a - b);
  const interleaved = Array.from({ length: 104 }, (_, i) => s[i % 4][Math.floor(i / 4)]);
  assert.deepEqual(
    interleaved.slice(0, 101).sort((a, b) => a - b),
    Array.from({ length: 101 }, (_, i) => i),
  );
  assert.equal(new Set(seen).size <= 101, true);
  assert.deepEqual(interleaved.slice(101), interleaved.slice(0, 3)); // padding = the start
  // Epochs differ; setEpoch fixes the epoch whatever the loader passes.
  assert.notDeepEqual(shards(101, 4, { seed: 3 }, 1), s);
  const one = new distributed.DistributedSampler(50, { numReplicas: 2, rank: 1, seed: 9 });
  const e2 = [...one.indices(2)];
  one.setEpoch(2);
  assert.deepEqual([...one.indices(0)], e2);
  assert.throws(() => one.setEpoch(-1), /epoch must be an integer >= 0/);
  // A class-balanced draw is sharded the same way.
  const labels = [0, 0, 0, 0, 0, 0, 1, 2];
  const inner = data.classBalancedSampler(labels);
  const all = [...inner.indices(4, 0)];
  const r0 = new distributed.DistributedSampler(inner, { numReplicas: 2, rank: 0 });
  const r1 = new distributed.DistributedSampler(inner, { numReplicas: 2, rank: 1 });
  assert.deepEqual([...r0.indices(4)], all.filter((_, i) => i % 2 === 0));
  assert.deepEqual([...r1.indices(4)], all.filter((_, i) => i % 2 === 1));
});

Deno.test("DistributedSampler and DistributedDataParallel: bad input is an Error that says what to write", () => {
  assert.throws(
    () => new distributed.DistributedSampler(10),
    /pass \{ numReplicas, rank \}, or call distributed.initProcessGroup/,
  );
  assert.throws(
    () => new distributed.DistributedSampler(10, { numReplicas: 2, rank: 2 }),
    /rank must be 0\.\.1, got 2/,
  );
  assert.throws(
    () => new distributed.DistributedSampler(10, { numReplicas: 0, rank: 0 }),
    /numReplicas must be an integer >= 1/,
  );
  assert.throws(
    () => new distributed.DistributedSampler(10, { num_replicas: 2 } as never),
    /numReplicas/,
  );
  assert.throws(
    () => new distributed.DistributedSampler("x" as never, { numReplicas: 1, rank: 0 }),
    /expected a dataset, a length or a sampler/,
  );
  assert.throws(
    () =>
      new distributed.DistributedSampler(new data.SequentialSampler(4), {
        numReplicas: 1,
        rank: 0,
        shuffle: true,
      }),
    /shuffle applies to a dataset/,
  );
  assert.throws(
    () => new distributed.DistributedDataParallel({} as never),
    /not initialised|expected an nn.Module/,
  );
  distributed.initProcessGroup();
  try {
    assert.throws(
      () => new distributed.DistributedDataParallel({} as never),
      /expected an nn.Module/,
    );
    assert.throws(
      () => new distributed.DistributedDataParallel({} as never, { bucket_cap_mb: 1 } as never),
      /bucketCapMb/,
    );
  } finally {
    distributed.destroyProcessGroup();
  }
});
