/**
 * The NCCL library (native/dist/dist_nccl.c, built with nvcc when present)
 * on 2 ranks against stand-in libnccl.so.2 and libcuda.so.1 (tests/
 * dist_standin_*.c, collectives done with MPI on host memory), so the
 * bootstrap, the device choice, the calls and their errors are checked on a
 * machine without a GPU. The real NCCL runs only where a GPU is lent.
 */
import assert from "node:assert/strict";
import { ensureMpi } from "../src/dist/setup.ts";
import { mpiFlags } from "../src/dist/build.ts";
import { mpirun, results } from "./dist_launch.ts";

async function standIns(): Promise<{ nccl: string; cuda: string }> {
  ensureMpi();
  const dir = await Deno.makeTempDir({ prefix: "lits-standin-" });
  const flags = mpiFlags()!;
  const build = (src: string, out: string, mpi: boolean) => {
    const args = ["-O1", "-fPIC", "-shared", "-Wall", ...(mpi ? flags.compile : [])];
    args.push(new URL(src, import.meta.url).pathname, ...(mpi ? flags.link : []), "-o", out);
    const r = new Deno.Command("gcc", { args, stderr: "piped" }).outputSync();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
  };
  build("./dist_standin_nccl.c", `${dir}/libnccl.so.2`, true);
  build("./dist_standin_cuda.c", `${dir}/libcuda.so.1`, false);
  return { nccl: `${dir}/libnccl.so.2`, cuda: `${dir}/libcuda.so.1` };
}

type Row = Record<string, unknown>;

Deno.test("dist nccl: 2 ranks on the stand-in NCCL: bootstrap, device by local rank, all-reduce, broadcast", async () => {
  const lib = await standIns();
  const env = { LITS_NCCL_LIB: lib.nccl, LITS_CUDA_DRIVER_LIB: lib.cuda, FAKE_CUDA_DEVICES: "2" };
  const job = await mpirun(2, "./dist_nccl_rank.ts", ["ok"], 120, env);
  assert.equal(job.code, 0, job.stderr);
  const rows = results<Row>(job.stdout).sort((a, b) => (a.rank as number) - (b.rank as number));
  assert.equal(rows.length, 2);
  for (const [r, row] of rows.entries()) {
    assert.equal(row.rank, r);
    assert.equal(row.backend, "nccl");
    assert.equal(row.info, `nccl 2.23.4 (device ${r})`);
    assert.equal(row.device, r); // two ranks on one host: devices 0 and 1
    assert.equal(row.cudaDeviceEnv, String(r)); // the CUDA library will open the same one
    for (const n of [1, 7, 1025, 100_003]) assert.equal(row[`mean ${n}`], 0);
    assert.deepEqual(row.waits, [0, 0]);
    assert.deepEqual(row.sums, [3, 2]);
    assert.deepEqual(row.broadcast, [0, 6]);
    assert.equal(row.badRoot, 1);
    assert.equal(row.badHandle, 1);
    assert.deepEqual(row.cpu, [3, 2]);
  }
});

Deno.test("dist nccl: NCCL's failures are Errors with its text; an old or missing NCCL says so", async () => {
  const lib = await standIns();
  const base = { LITS_NCCL_LIB: lib.nccl, LITS_CUDA_DRIVER_LIB: lib.cuda };
  const fail = await mpirun(2, "./dist_nccl_rank.ts", ["fail"], 120, {
    ...base,
    FAKE_NCCL_FAIL: "allreduce",
  });
  assert.equal(fail.code, 0, fail.stderr);
  for (const row of results<Row>(fail.stdout)) {
    assert.match(
      String(row["mean 7"]),
      /ncclAllReduce failed on rank \d: NCCL 3: internal error \(stand-in: FAKE_NCCL_FAIL\)/,
    );
  }
  const old = await mpirun(2, "./dist_nccl_rank.ts", ["ok"], 120, {
    ...base,
    FAKE_NCCL_VERSION: "20903",
  });
  for (const row of results<Row>(old.stdout)) {
    assert.match(
      String(row.initError),
      /NCCL 20903 is too old: the average all-reduce needs NCCL 2\.10/,
    );
  }
  const missing = await mpirun(2, "./dist_nccl_rank.ts", ["ok"], 120, {
    ...base,
    LITS_NCCL_LIB: "/nonexistent/libnccl.so.2",
  });
  for (const row of results<Row>(missing.stdout)) {
    assert.match(String(row.initError), /libnccl\.so\.2 not found .*LITS_NCCL_LIB=\/nonexistent/);
  }
  const oneDevice = await mpirun(2, "./dist_nccl_rank.ts", ["ok"], 120, {
    ...base,
    FAKE_CUDA_DEVICES: "1",
    LITS_CUDA_DEVICE: "3",
  });
  for (const row of results<Row>(oneDevice.stdout)) {
    assert.match(String(row.initError), /LITS_CUDA_DEVICE=3, but there are 1 device\(s\)/);
  }
});
