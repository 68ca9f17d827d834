/**
 * SyncBatchNorm on 2 ranks equals batch norm on the whole batch in one
 * process (output, input gradient, summed parameter gradients, running
 * statistics), and `train --nproc 2 --sync-batch-norm` logs the losses of a
 * one-process run with batch norm, which per-rank statistics do not.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import { mpirun, results } from "./dist_launch.ts";

type Row = Record<string, number | boolean>;
const KEYS = ["y", "xGrad", "weightGrad", "biasGrad", "runningMean", "runningVar"];

Deno.test("SyncBatchNorm: 2 ranks give whole-batch batch norm (forward, gradients, running statistics)", async () => {
  const job = await mpirun(2, "./dist_sync_bn_rank.ts");
  assert.equal(job.code, 0, job.stderr);
  const rows = results<Row>(job.stdout);
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.isSync, true);
    assert.equal(row.batches, 1);
    for (const k of KEYS) assert.ok((row[k] as number) <= 1e-5, `rank ${row.rank} ${k}: ${row[k]}`);
  }
});

const script = new URL("../scripts/train.ts", import.meta.url).pathname;

async function losses(args: string[]): Promise<number[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const dir = args[args.indexOf("--out") + 1];
  return (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  ).filter((r) => r.type === "step").map((r) => r.loss);
}

Deno.test("train --nproc 2 --sync-batch-norm logs the one-process losses of a model with batch norm", async () => {
  const root = `${Deno.env.get("TMPDIR") ?? "/tmp"}/lits-vision-dist-train-data`;
  await data.synthesizeLiTS({
    out: root,
    preset: "easy",
    patients: 10,
    slicesPerPatient: 8,
    seed: 3,
  });
  const tmp = await Deno.makeTempDir();
  const flags = (out: string) => [
    ...["--data", root, "--out", `${tmp}/${out}`, "--epochs", "1", "--image-size", "16"],
    ...["--batch-size", "16", "--augment", "none", "--seed", "7", "--batch-norm", "--dropout"],
    ...["0", "--device", "cpu", "--log-every", "1"],
  ];
  const one = await losses(flags("one"));
  const synced = await losses([...flags("sync"), "--nproc", "2", "--sync-batch-norm"]);
  const own = await losses([...flags("own"), "--nproc", "2"]);
  assert.equal(one.length, 3);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  synced.forEach((l, i) => assert.ok(rel(l, one[i]) <= 1e-3, `step ${i + 1}: ${l} vs ${one[i]}`));
  // Per-rank statistics (the default, as DDP) normalise each half by itself: other numbers.
  assert.ok(own.some((l, i) => rel(l, one[i]) > 1e-5), `${own} vs ${one}`);
  await Deno.remove(tmp, { recursive: true });
});
