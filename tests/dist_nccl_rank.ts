/**
 * One rank of tests/dist_nccl_test.ts, against the stand-in NCCL and CUDA
 * driver (host memory stands for device memory): the group on backend
 * "nccl", the device picked by local rank, all-reduce (blocking and started)
 * and broadcast through the NCCL library, CPU tensors still through MPI.
 * Args: "ok" | "fail" (the stand-in's all-reduce fails).
 */
import { distributed, tensor } from "../mod.ts";
import { distLib } from "../src/dist/native.ts";

const emit = (o: object) => console.log(`RESULT ${JSON.stringify(o)}`);
try {
  distributed.initProcessGroup({ backend: "nccl", timeout: 60_000 });
} catch (e) {
  emit({ initError: (e as Error).message });
  Deno.exit(0);
}
const rank = distributed.getRank(), world = distributed.getWorldSize();
const nccl = distLib("nccl");
const info = new Uint8Array(128);
nccl.lits_dist_backend_info(info, info.length);
const device = new Int32Array(1);
nccl.lits_dist_device(device);
const lastError = () => {
  const p = nccl.lits_dist_last_error();
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
};

const results: Record<string, unknown> = {
  rank,
  world,
  backend: distributed.getBackend(),
  info: new TextDecoder().decode(info.subarray(0, info.indexOf(0))),
  device: device[0],
  cudaDeviceEnv: Deno.env.get("LITS_CUDA_DEVICE"),
};
for (const n of [1, 7, 1025, 100_003]) {
  const buf = Float32Array.from({ length: n }, (_, i) => (i % 97) + rank * 1000);
  const status = nccl.lits_dist_all_reduce_f32(Deno.UnsafePointer.of(buf), n, 1); // mean
  let worst = 0;
  for (let i = 0; i < n; i++) {
    worst = Math.max(worst, Math.abs(buf[i] - ((i % 97) + 1000 * (world - 1) / 2)));
  }
  results[`mean ${n}`] = status === 0 ? worst : lastError();
}
// Two started at once, waited in reverse.
const a = new Float32Array(33).fill(rank + 1), b = new Float32Array(5).fill(2 * rank);
const ha = new Int32Array(1), hb = new Int32Array(1);
nccl.lits_dist_all_reduce_start_f32(Deno.UnsafePointer.of(a), a.length, 0, ha);
nccl.lits_dist_all_reduce_start_f32(Deno.UnsafePointer.of(b), b.length, 0, hb);
results.waits = [nccl.lits_dist_wait(hb[0]), nccl.lits_dist_wait(ha[0])];
results.sums = [a[0], b[0]];
const bytes = new Uint8Array(10).fill(rank + 5);
results.broadcast = [nccl.lits_dist_broadcast(Deno.UnsafePointer.of(bytes), 10, 1), bytes[9]];
results.badRoot = nccl.lits_dist_broadcast(Deno.UnsafePointer.of(bytes), 10, 7);
results.badHandle = nccl.lits_dist_wait(200);
const cpu = tensor([rank + 1, 1]);
distributed.allReduce(cpu); // a CPU tensor still goes through MPI
results.cpu = cpu.toList();
emit(results);
distributed.destroyProcessGroup();
