/**
 * One rank of tests/dist_ddp_test.ts: trains a small CNN (no dropout, no
 * batch norm) with DistributedDataParallel and DistributedSampler on a
 * global batch of 8, and prints the global (all-reduced) loss of every step,
 * every epoch's train and validation loss, and how far the ranks' weights
 * are apart. Run alone it is the one-process reference.
 * Args: mode ("train" | "unused").
 */
import { distributed, manualSeed, nn, noGrad, optim, type Tensor, tensor } from "../mod.ts";
import { DataLoader } from "../src/data/loader.ts";

const GLOBAL_BATCH = 8, EPOCHS = 2, N_TRAIN = 44, N_VAL = 12;
distributed.initProcessGroup({ timeout: 120_000 });
const rank = distributed.getRank(), world = distributed.getWorldSize();
const emit = (o: object) => console.log(`RESULT ${JSON.stringify({ rank, world, ...o })}`);

function dataset(n: number, offset: number) {
  return {
    length: n,
    get: (i: number) => {
      const data = new Float32Array(64);
      const label = (i + offset) % 3;
      for (let k = 0; k < 64; k++) data[k] = Math.sin((i + offset) * 0.7 + k * 0.3 * (label + 1));
      return Promise.resolve({ image: { data, width: 8, height: 8 }, label });
    },
  };
}

// Rank 1 starts from other weights: DistributedDataParallel must replace them with rank 0's.
manualSeed(7 + rank);
const net = new nn.Sequential(
  new nn.Conv2d(1, 4, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Flatten(),
  new nn.Linear(64, 3),
);
const mode = Deno.args[0] ?? "train";
if (mode === "unused") {
  const extra = new nn.Linear(2, 2);
  class TwoHeads extends nn.Module {
    body = net;
    unused = extra;
    forward(x: Tensor): Tensor {
      return this.body.forward(x);
    }
  }
  const find = Deno.args[1] === "find";
  const ddp = new distributed.DistributedDataParallel(new TwoHeads(), {
    findUnusedParameters: find,
  });
  const x = tensor(new Float32Array(2 * 64).fill(0.5), [2, 1, 8, 8]);
  try {
    ddp.forward(x).sum().backward();
    emit({ ok: true, grad: extra.weight.grad === null ? null : extra.weight.grad.toList() });
  } catch (e) {
    emit({ error: (e as Error).message });
  }
  distributed.destroyProcessGroup();
  Deno.exit(0);
}

const model = new distributed.DistributedDataParallel(net, { bucketCapMb: 0.0005 }); // several buckets
emit({ buckets: model.bucketSizes });
const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const lossFn = new nn.CrossEntropyLoss();
const trainSampler = new distributed.DistributedSampler(dataset(N_TRAIN, 0), { seed: 11 });
const valSampler = new distributed.DistributedSampler(dataset(N_VAL, 100), { shuffle: false });
const train = new DataLoader(dataset(N_TRAIN, 0), {
  batchSize: GLOBAL_BATCH / world,
  sampler: trainSampler,
  seed: 5,
});
const val = new DataLoader(dataset(N_VAL, 100), {
  batchSize: 4 / world,
  sampler: valSampler,
  seed: 5,
});

function globalMean(v: number): number {
  const t = tensor([v]);
  distributed.allReduce(t, { op: distributed.ReduceOp.AVG });
  const out = t.item();
  t.dispose();
  return out;
}

const steps: number[] = [];
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  trainSampler.setEpoch(epoch);
  model.train();
  let sum = 0, count = 0;
  for await (using b of train) {
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(b.images), b.labels);
    loss.backward();
    opt.step();
    const g = globalMean(loss.item());
    steps.push(g);
    sum += g;
    count++;
  }
  model.eval();
  let vsum = 0, vcount = 0;
  for await (using v of val) {
    vsum += noGrad(() => globalMean(lossFn.forward(model.forward(v.images), v.labels).item()));
    vcount++;
  }
  emit({ epoch, train: sum / count, val: vsum / vcount });
}
emit({ steps });
// The ranks' weights must be the same: the spread of each across ranks is 0.
let spread = 0;
for (const p of model.parameters()) {
  const mine = p.toArray() as Float32Array;
  const mean = tensor(mine.slice());
  distributed.allReduce(mean, { op: distributed.ReduceOp.AVG });
  const m = mean.toArray();
  for (let i = 0; i < m.length; i++) spread = Math.max(spread, Math.abs(m[i] - mine[i]));
  mean.dispose();
}
emit({ spread });
model.dispose();
distributed.destroyProcessGroup();
