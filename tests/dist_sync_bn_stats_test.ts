/**
 * SyncBatchNorm's statistics where the mean is large next to the spread
 * (E[x^2] - E[x]^2 in float32 cancelled: errors of hundreds at ~4000), on
 * 2 ranks against whole-batch batch norm in float64; and
 * `convertSyncBatchnorm` on a batch norm itself, as PyTorch.
 */
import assert from "node:assert/strict";
import { distributed, nn } from "../mod.ts";
import { mpirun, results } from "./dist_launch.ts";

type Row = Record<string, number>;

Deno.test("SyncBatchNorm: inputs ~1000 and ~4000 with spread ~1.4 give whole-batch batch norm (two-pass variance)", async () => {
  const job = await mpirun(2, "./dist_sync_bn_stats_rank.ts", ["0", "1000", "4000"]);
  assert.equal(job.code, 0, job.stderr);
  const rows = results<Row>(job.stdout);
  assert.equal(rows.length, 6);
  // float32 inputs ~4000 are themselves exact only to 2.4e-4.
  const limits: Row = {
    y: 1e-3,
    xGrad: 1e-3,
    weightGrad: 2e-3,
    biasGrad: 1e-5,
    runningMean: 1e-6,
    runningVar: 1e-5,
  };
  for (const row of rows) {
    for (const [k, limit] of Object.entries(limits)) {
      assert.ok(row[k] <= limit, `rank ${row.rank} offset ${row.offset} ${k}: ${row[k]}`);
    }
  }
});

Deno.test("convertSyncBatchnorm: a batch norm itself becomes a new SyncBatchNorm with its options and values", () => {
  const bn = new nn.BatchNorm2d(4, { momentum: 0.3, eps: 1e-3 });
  bn.bias!.requiresGrad_(false);
  bn.eval();
  const sync = distributed.convertSyncBatchnorm(bn);
  assert.ok(sync instanceof distributed.SyncBatchNorm);
  assert.equal(sync.momentum, 0.3);
  assert.equal(sync.eps, 1e-3);
  assert.equal(sync.training, false);
  assert.equal(sync.weight!.requiresGrad, true);
  assert.equal(sync.bias!.requiresGrad, false);
  assert.deepEqual([...sync.stateDict().keys()], [
    "weight",
    "bias",
    "running_mean",
    "running_var",
    "num_batches_tracked",
  ]);
  // A SyncBatchNorm, or a module without batch norm, comes back as it is.
  assert.equal(distributed.convertSyncBatchnorm(sync), sync);
  const relu = new nn.ReLU();
  assert.equal(distributed.convertSyncBatchnorm(relu), relu);
  sync.dispose();
});
