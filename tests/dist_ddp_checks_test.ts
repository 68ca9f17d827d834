/**
 * DistributedDataParallel where the ranks disagree, on 2 ranks: a parameter
 * no rank used keeps `.grad` null, a gradient missing on one rank or a
 * model that differs is the same Error on every rank (and the ranks stay in
 * step), a parameter unfrozen after wrapping is an Error; and `noSync`
 * gradient accumulation; the write-back counted as an in-place write.
 */
import assert from "node:assert/strict";
import { mpirun, results } from "./dist_launch.ts";

type Row = Record<string, unknown> & { rank: number };

async function run(args: string[]): Promise<Row[]> {
  const job = await mpirun(2, "./dist_ddp_checks_rank.ts", args, 60);
  assert.equal(job.code, 0, job.stderr);
  return results<Row>(job.stdout);
}

/** The rows with `key`, one per rank, after checking both ranks have the same `key`. */
function agreed(rows: Row[], key: string, extra: (r: Row) => boolean = () => true): unknown {
  const mine = rows.filter((r) => key in r && extra(r));
  assert.equal(mine.length, 2, `${key}: ${JSON.stringify(rows)}`);
  assert.deepEqual(mine[0][key], mine[1][key], `the ranks' ${key} differ`);
  return mine[0][key];
}

Deno.test("DDP findUnusedParameters: a parameter no rank used keeps .grad null and AdamW leaves it; one used on a rank only gets the average", async () => {
  const rows = await run(["unused"]);
  assert.equal(agreed(rows, "auxGrad"), null);
  assert.equal(agreed(rows, "auxMoved"), 0);
  const b = agreed(rows, "bGrad") as number[];
  assert.ok(b.some((v) => v !== 0));
});

Deno.test("DDP: a gradient missing on one rank is the same Error on every rank in that step; the next steps average their own gradients, written in place", async () => {
  const rows = await run(["strict"]);
  const error = agreed(rows, "error", (r) => r.step === 0) as string;
  assert.match(
    error,
    /parameter b\.bias got no gradient in this backward on 1 of 2 ranks \(and 1 more: b\.weight\).*findUnusedParameters: true/,
  );
  for (const step of [1, 2]) {
    assert.equal(agreed(rows, "off", (r) => r.step === step), 0, `step ${step}`);
  }
  assert.equal(rows.filter((r) => r.error).length, 2);
  // The averaged gradient is copied into the same .grad as an in-place write (a version).
  assert.equal(agreed(rows, "same"), true);
  assert.equal(agreed(rows, "versions"), 2); // autograd's accumulation, then the averaged copy
});

Deno.test("DDP: a model that differs between ranks is the same Error on every rank at construction, naming the tensor", async () => {
  const cases: [string, RegExp][] = [
    [
      "transposed", // the same element count: averaged as another layout before
      /same model on every rank.*\[0\] in rank 1 is the parameter '0\.weight' with sizes \[4, 6\].*not to match.*rank 0: the parameter '0\.weight' with sizes \[6, 4\]/,
    ],
    ["wider", /\[0\] in rank 1 is the parameter '0\.weight' with sizes \[5, 4\].*\[3, 4\]/],
    [
      "extra", // stalled until the timeout before
      /rank 1 has 4 parameters and buffers, while rank 0 has inconsistent 2 \(rank 1's first extra one is the parameter '1\.weight' with sizes \[3, 3\]/,
    ],
    ["frozen", /\[1\] in rank 1 is the parameter '0\.bias' with sizes \[3\], requiresGrad false/],
  ];
  for (const [kind, pattern] of cases) {
    const rows = await run(["mismatch", kind]);
    assert.match(agreed(rows, "error") as string, pattern, kind);
    assert.match(agreed(rows, "error") as string, /build the same model/, kind);
    assert.equal(agreed(rows, "after"), 3, `${kind}: the ranks are still in step`);
  }
});

Deno.test("DDP: a parameter frozen when DDP was built and unfrozen later is an Error on every rank", async () => {
  const rows = await run(["unfreeze"]);
  for (const step of [0, 1]) {
    assert.match(
      agreed(rows, "error", (r) => r.step === step) as string,
      /parameter 0\.weight got a gradient on 2 of 2 ranks, but it was frozen .*wrap the model again after changing requiresGrad/,
    );
  }
});

Deno.test("dist: a rank leaving while another is in an all-reduce says the ranks made different collective calls", async () => {
  // The rank left behind may be killed by mpirun as the other exits: only rank 1's line counts.
  const job = await mpirun(2, "./dist_ddp_checks_rank.ts", ["uneven"], 60);
  const one = results<Row>(job.stdout).find((r) => r.rank === 1);
  assert.ok(one, job.stdout + job.stderr);
  assert.match(
    one.error as string,
    /destroyProcessGroup: barrier failed on rank 1: MPI: .*the ranks made different collective calls.*same number of batches/,
  );
});

Deno.test("DDP noSync: micro-batches accumulate locally, the next backward averages the whole .grad", async () => {
  const rows = await run(["nosync"]);
  const phase = (p: string) => (r: Row) => r.phase === p;
  assert.equal(agreed(rows, "off", phase("local")), 0); // each rank's own accumulation
  assert.equal(agreed(rows, "off", phase("synced")), 0); // the average of the accumulations
  assert.match(
    agreed(rows, "misuse") as string,
    /forward .* ran outside it.*run the forward inside/,
  );
  assert.equal(agreed(rows, "off", phase("after")), 0);
  assert.equal(agreed(rows, "localOff", phase("async")), 0);
});
