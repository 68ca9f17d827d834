/**
 * The MPI collectives on 2 ranks over TCP (`--mca btl tcp,self`, so the
 * network path runs even on one machine), a killed rank, a world of one
 * without a launcher, and the header kept equal to the dlopen table.
 */
import assert from "node:assert/strict";
import { distributed, tensor } from "../mod.ts";
import { distSymbols } from "../src/dist/symbols.ts";
import { DIST_MPI_SOURCES, DIST_NCCL_ONLY } from "../src/dist/build.ts";
import { mpirun, results } from "./dist_launch.ts";

type Check = {
  name: string;
  rank: number;
  ok: boolean;
  worst?: number;
  errors?: string[];
  raw?: number[];
};

Deno.test("dist: all-reduce and broadcast on 2 ranks: exact on integers, 1e-6 on random, odd sizes, buckets in flight", async () => {
  const job = await mpirun(2, "./dist_collectives_rank.ts");
  assert.equal(job.code, 0, job.stderr);
  const checks = results<Check>(job.stdout);
  // 2 ranks x (2 kinds x 2 ops x 6 sizes + 5 buckets + 6 sizes x 2 roots + int32 + errors)
  assert.equal(checks.length, 2 * (24 + 5 + 12 + 1 + 1));
  for (const c of checks.filter((c) => c.name !== "errors")) {
    assert.ok(c.ok, `${c.name} on rank ${c.rank}: ${JSON.stringify(c)}`);
  }
  for (const e of checks.filter((c) => c.name === "errors")) {
    assert.match(e.errors![0], /int32; only float32/);
    assert.match(e.errors![1], /not contiguous/);
    assert.match(e.errors![2], /op must be "sum" or "avg", got "max"/);
    assert.match(e.errors![3], /src must be a rank 0\.\.1, got 2/);
    assert.match(e.errors![4], /already initialised/);
    assert.deepEqual(e.raw, [1, 1, 1, 1, 1, 1]); // LITS_DIST_ERR_ARGUMENT, no crash
  }
});

for (const mode of ["wait", "busy"]) {
  Deno.test(`dist: a killed rank ends the other with an error naming it within 60 s (${mode})`, async () => {
    const job = await mpirun(2, "./dist_kill_rank.ts", [mode], 90);
    assert.ok(job.seconds < 60, `took ${job.seconds} s`);
    assert.notEqual(job.code, 0);
    assert.equal(results<{ started?: boolean }>(job.stdout).filter((r) => r.started).length, 2);
    assert.ok(!job.stdout.includes("finished"), job.stdout);
    const want = mode === "wait"
      ? /Error: distributed: allReduce \[3\] \(sum\): rank 1 \(pid \d+\) has exited; rank 0 was waiting/
      : /Error: distributed: rank 0 was stopped by SIGTERM: rank 1 \(pid \d+\) has exited/;
    assert.match(job.stderr, want);
  });
}

Deno.test("dist: without a launcher the group is a world of one and collectives return their input", () => {
  assert.equal(distributed.isInitialized(), false);
  assert.throws(() => distributed.getRank(), /not initialised; call distributed.initProcessGroup/);
  assert.throws(
    () => distributed.initProcessGroup({ backend: "gloo" as "mpi" }),
    /'gloo' is not available/,
  );
  assert.throws(() => distributed.initProcessGroup({ timeout: -1 }), /timeout must be a positive/);
  assert.throws(() => distributed.initProcessGroup({ world_size: 2 } as never), /world_size/);
  distributed.initProcessGroup();
  try {
    assert.equal(distributed.getRank(), 0);
    assert.equal(distributed.getWorldSize(), 1);
    const t = tensor([1.5, -2]);
    distributed.allReduce(t, { op: distributed.ReduceOp.AVG });
    distributed.broadcast(t, 0);
    distributed.barrier();
    assert.deepEqual(t.toList(), [1.5, -2]);
    assert.throws(() => distributed.broadcast(t, 1), /src must be a rank 0\.\.0, got 1/);
  } finally {
    distributed.destroyProcessGroup();
  }
});

Deno.test("dist: the dlopen table is lits_dist.h's functions in order, and the sources are the folder", () => {
  const header = Deno.readTextFileSync(new URL("../native/include/lits_dist.h", import.meta.url));
  const declared = [...header.matchAll(/^(?:int|const char\*) (lits_dist_\w+)\(/gm)].map((m) =>
    m[1]
  );
  assert.deepEqual(Object.keys(distSymbols), declared);
  const folder = [...Deno.readDirSync(new URL("../native/dist/", import.meta.url))].map((e) =>
    e.name
  );
  assert.deepEqual(folder.sort(), [...DIST_MPI_SOURCES, ...DIST_NCCL_ONLY].sort());
});
