/**
 * `deno task gpu:check`'s NCCL step: one rank under `mpirun -np 1` (a GPU
 * machine with one GPU cannot hold two NCCL ranks: NCCL refuses two ranks on
 * one device), on the real NCCL and the real GPU. The group starts on
 * backend "nccl" (MPI carries the unique id), CUDA tensors are all-reduced
 * (sum and average) and broadcast in place, and a small CNN trained 8 steps
 * inside DistributedDataParallel gives bit for bit the losses of the same
 * model trained without it (a world of one averages over one rank;
 * deterministic convolutions on both sides). Prints one `RESULT <json>` line.
 *
 * Usage: mpirun -np 1 deno run -A bench/gpu/nccl_check.ts
 *
 * @module
 */
import {
  distributed,
  endStep,
  manualSeed,
  models,
  nn,
  optim,
  randn,
  tensor,
  useDeterministicAlgorithms,
} from "../../mod.ts";
import { distLib } from "../../src/dist/native.ts";

const out: Record<string, unknown> = {};
distributed.initProcessGroup({ backend: "nccl", timeout: 60_000 });
out.world = distributed.getWorldSize();
out.backend = distributed.getBackend();
const info = new Uint8Array(256);
distLib("nccl").lits_dist_backend_info(info, info.length);
out.info = new TextDecoder().decode(info.subarray(0, info.indexOf(0)));

// All-reduce and broadcast on the GPU: a world of one keeps every value.
const bad: string[] = [];
for (const n of [1, 7, 1025, 100_003, 6_553_600]) { // the last: a 25 MB bucket
  const values = Float32Array.from({ length: n }, (_, i) => (i % 97) - 48.5);
  for (const op of ["sum", "avg"] as const) {
    const t = tensor(values, [n], { device: "cuda" });
    distributed.allReduce(t, { op });
    const got = t.toArray();
    if (got.some((v, i) => v !== values[i])) bad.push(`allReduce ${op} ${n}`);
    t.dispose();
  }
}
{
  const t = tensor([4, 5, 6], [3], { device: "cuda" });
  distributed.broadcast(t, 0);
  if (Array.from(t.toArray()).join() !== "4,5,6") bad.push("broadcast");
  t.dispose();
}
out.collectivesBad = bad;

// 25 MB all-reduces timed (one rank: NCCL's own copy, no network).
{
  const t = randn([6_553_600], { device: "cuda" });
  distributed.allReduce(t);
  const t0 = performance.now();
  const reps = 20;
  for (let i = 0; i < reps; i++) distributed.allReduce(t);
  t.toArray();
  out.allReduce25MBms = (performance.now() - t0) / reps;
  t.dispose();
}

// DDP over NCCL against plain training, the same seed.
useDeterministicAlgorithms(true);
function losses(ddp: boolean): number[] {
  manualSeed(3);
  const net = models.create("simple", { inChannels: 1, numClasses: 3, imageSize: 64 }).to("cuda")
    .train();
  const model = ddp ? new distributed.DistributedDataParallel(net) : net;
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const lossFn = new nn.CrossEntropyLoss();
  const x = randn([16, 1, 64, 64], { device: "cuda" });
  const y = tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3), [16], { device: "cuda" });
  const seen: number[] = [];
  for (let step = 0; step < 8; step++) {
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    opt.step();
    seen.push(loss.item());
    endStep();
  }
  model.dispose();
  return seen;
}
const plain = losses(false), overNccl = losses(true);
out.plainLosses = plain;
out.ddpLosses = overNccl;
out.ddpSame = plain.every((v, i) => v === overNccl[i]);
console.log(`RESULT ${JSON.stringify(out)}`);
distributed.destroyProcessGroup();
