/**
 * One rank of the SyncBatchNorm test: each of 2 ranks holds half of a batch
 * of 4; its SyncBatchNorm output, input gradient, summed weight and bias
 * gradients and running statistics must equal nn.BatchNorm2d's on the whole
 * batch in one process (computed here too, without collectives).
 */
import { distributed, nn, type Tensor, tensor } from "../mod.ts";

distributed.initProcessGroup({ timeout: 60_000 });
const rank = distributed.getRank(), world = distributed.getWorldSize();
const N = 4, C = 3, H = 2, W = 2, per = N / world, size = C * H * W;
const X = Float32Array.from({ length: N * size }, (_, i) => Math.sin(i * 1.3) * 2 + (i % 3));
const R = Float32Array.from({ length: N * size }, (_, i) => Math.cos(i * 0.7));

function run(bn: nn.Module, rows: [number, number]): { y: Tensor; x: Tensor } {
  const x = tensor(X.slice(rows[0] * size, rows[1] * size), [rows[1] - rows[0], C, H, W], {
    requiresGrad: true,
  });
  const y = bn.forward(x);
  y.mul(tensor(R.slice(rows[0] * size, rows[1] * size), [rows[1] - rows[0], C, H, W])).sum()
    .backward();
  return { y, x };
}

const ref = new nn.BatchNorm2d(C, { momentum: 0.3 });
const whole = run(ref, [0, N]);
const net = distributed.convertSyncBatchnorm(
  new nn.Sequential(new nn.BatchNorm2d(C, { momentum: 0.3 })),
);
const sync = net[0] as distributed.SyncBatchNorm;
const mine = run(sync, [rank * per, (rank + 1) * per]);

const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};
const rowsOf = (t: Tensor) =>
  (t.toArray() as Float32Array).slice(rank * per * size, (rank + 1) * per * size);
const summed = (t: Tensor) => {
  const c = t.clone();
  distributed.allReduce(c);
  return c.toArray();
};
console.log(`RESULT ${
  JSON.stringify({
    rank,
    world,
    isSync: sync instanceof distributed.SyncBatchNorm,
    y: diff(mine.y.toArray(), rowsOf(whole.y)),
    xGrad: diff(mine.x.grad!.toArray(), rowsOf(whole.x.grad!)),
    weightGrad: diff(summed(sync.weight!.grad!), ref.weight!.grad!.toArray()),
    biasGrad: diff(summed(sync.bias!.grad!), ref.bias!.grad!.toArray()),
    runningMean: diff(sync.runningMean!.toArray(), ref.runningMean!.toArray()),
    runningVar: diff(sync.runningVar!.toArray(), ref.runningVar!.toArray()),
    batches: sync.numBatchesTracked,
  })
}`);
distributed.destroyProcessGroup();
