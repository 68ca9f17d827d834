/**
 * One rank of `deno task bench:dist` (bench/dist.ts starts it with mpirun,
 * or alone for the one-process row). `bandwidth`: all-reduce time over
 * bucket sizes. `step MODEL SIZE BATCH STEPS`: DistributedDataParallel
 * training steps (forward, loss, backward with the all-reduces, SGD), each
 * rank `BATCH` images of SIZE x SIZE. Rank 0 prints `RESULT <json>`.
 */
import { distributed, models, nn, optim, randn, tensor } from "../mod.ts";

distributed.initProcessGroup({ timeout: 600_000 });
const rank = distributed.getRank(), world = distributed.getWorldSize();
const emit = (o: object) => rank === 0 && console.log(`RESULT ${JSON.stringify({ world, ...o })}`);

if (Deno.args[0] === "bandwidth") {
  for (const floats of [1 << 10, 1 << 14, 1 << 18, 1 << 20, 25 * (1 << 18), 1 << 24]) {
    const t = tensor(new Float32Array(floats).fill(1));
    distributed.allReduce(t); // warm-up: connections, pages
    // The count of calls must be the same on every rank: from the slowest rank's first call.
    const first = performance.now();
    distributed.allReduce(t);
    const probe = tensor([performance.now() - first]);
    distributed.allReduce(probe);
    const reps = Math.max(5, Math.min(500, Math.ceil(1000 / Math.max(probe.item(), 1e-3))));
    probe.dispose();
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      distributed.barrier();
      const start = performance.now();
      distributed.allReduce(t, { op: "avg" });
      times.push(performance.now() - start);
    }
    // The median call, averaged over the ranks.
    times.sort((a, b) => a - b);
    const m = tensor([times[times.length >> 1]]);
    distributed.allReduce(m, { op: "avg" });
    emit({ kind: "bandwidth", bytes: floats * 4, ms: m.item(), reps });
    t.dispose();
  }
} else {
  const [, name, size, batch, steps] = Deno.args;
  const model = new distributed.DistributedDataParallel(
    models.create(name, { inChannels: 1, numClasses: 3, imageSize: Number(size) }),
  );
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const lossFn = new nn.CrossEntropyLoss();
  const x = randn([Number(batch), 1, Number(size), Number(size)]).keep();
  const y = tensor(Array.from({ length: Number(batch) }, (_, i) => i % 3), undefined, {
    dtype: "int32",
  }).keep();
  const stepMs: number[] = [], backwardMs: number[] = [], waitMs: number[] = [];
  for (let s = 0; s < Number(steps) + 1; s++) {
    // A turn of the event loop lets the collector free the last step's tensors (as a loader's await does).
    await new Promise((r) => setTimeout(r, 0));
    distributed.barrier();
    const t0 = performance.now();
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    const w0 = model.communicationWaitMs, t1 = performance.now();
    loss.backward();
    const t2 = performance.now();
    opt.step();
    const t3 = performance.now();
    if (s === 0) continue; // warm-up
    stepMs.push(t3 - t0);
    waitMs.push(model.communicationWaitMs - w0);
    backwardMs.push(t2 - t1 - (model.communicationWaitMs - w0));
  }
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
  emit({
    kind: "step",
    model: name,
    size: Number(size),
    batch: Number(batch),
    stepMs: median(stepMs),
    backwardMs: median(backwardMs),
    waitMs: median(waitMs),
    bytesPerStep: model.bytesPerStep,
    buckets: model.bucketSizes.length,
  });
  model.dispose();
}
distributed.destroyProcessGroup();
