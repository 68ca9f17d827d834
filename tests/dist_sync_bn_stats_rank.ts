/**
 * One rank of tests/dist_sync_bn_stats_test.ts: each of 2 ranks holds half
 * of a batch [4, 3, 2, 2] whose mean is large next to its spread (args:
 * offsets); SyncBatchNorm's output, input gradient, summed weight and bias
 * gradients and running statistics are compared with batch norm on the whole
 * batch computed here in float64 (PyTorch's BatchNorm2d formulas, unbiased
 * running variance over the global count).
 */
import { distributed, tensor } from "../mod.ts";

distributed.initProcessGroup({ timeout: 60_000 });
const rank = distributed.getRank(), world = distributed.getWorldSize();
const N = 4, C = 3, H = 2, W = 2, HW = H * W, per = N / world, size = C * HW;
const EPS = 1e-5, MOMENTUM = 0.1;

/** Batch norm over the whole batch in float64: y, dx, dweight, dbias, running mean and var. */
function reference(x: Float32Array, g: Float32Array, w: number[], b: number[]) {
  const m = N * HW;
  const y = new Float64Array(x.length), dx = new Float64Array(x.length);
  const dw: number[] = [], db: number[] = [], rm: number[] = [], rv: number[] = [];
  const at = (n: number, c: number, k: number) => (n * C + c) * HW + k;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) sum += x[at(n, c, k)];
    const mean = sum / m;
    let sq = 0;
    for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) sq += (x[at(n, c, k)] - mean) ** 2;
    const variance = sq / m, inv = 1 / Math.sqrt(variance + EPS);
    let sg = 0, sgx = 0;
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < HW; k++) {
        const i = at(n, c, k), xhat = (x[i] - mean) * inv;
        y[i] = xhat * w[c] + b[c];
        sg += g[i];
        sgx += g[i] * xhat;
      }
    }
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < HW; k++) {
        const i = at(n, c, k), xhat = (x[i] - mean) * inv;
        dx[i] = w[c] * inv * (g[i] - sg / m - xhat * sgx / m);
      }
    }
    dw.push(sgx);
    db.push(sg);
    rm.push(MOMENTUM * mean);
    rv.push((1 - MOMENTUM) + MOMENTUM * variance * m / (m - 1));
  }
  return { y, dx, dw, db, rm, rv };
}

const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

for (const offset of Deno.args.map(Number)) {
  const X = Float32Array.from(
    { length: N * size },
    (_, i) => offset + Math.sin(i * 0.37) * 2 + (i % 5) * 0.1,
  );
  const G = Float32Array.from({ length: N * size }, (_, i) => Math.cos(i * 0.11));
  const weight = [1.5, -0.5, 2], bias = [0.25, 1, -2];
  const bn = new distributed.SyncBatchNorm(C);
  bn.loadStateDict(new Map([["weight", tensor(weight)], ["bias", tensor(bias)]]), {
    strict: false,
  });
  const rows = (a: Float32Array) => a.slice(rank * per * size, (rank + 1) * per * size);
  const x = tensor(rows(X), [per, C, H, W], { requiresGrad: true });
  const y = bn.forward(x);
  y.mul(tensor(rows(G), [per, C, H, W])).sum().backward();
  const ref = reference(X, G, weight, bias);
  const summed = (t: { clone(): ReturnType<typeof tensor> }) => {
    const c = t.clone();
    distributed.allReduce(c);
    return c.toArray() as Float32Array;
  };
  const refRows = (a: Float64Array) => a.slice(rank * per * size, (rank + 1) * per * size);
  console.log(`RESULT ${
    JSON.stringify({
      rank,
      world,
      offset,
      y: diff(y.toArray() as Float32Array, refRows(ref.y)),
      xGrad: diff(x.grad!.toArray() as Float32Array, refRows(ref.dx)),
      weightGrad: diff(summed(bn.weight!.grad!), ref.dw),
      biasGrad: diff(summed(bn.bias!.grad!), ref.db),
      runningMean: diff(bn.runningMean!.toArray() as Float32Array, ref.rm) / Math.max(1, offset),
      runningVar: diff(bn.runningVar!.toArray() as Float32Array, ref.rv),
    })
  }`);
  bn.dispose();
}
distributed.destroyProcessGroup();
