/**
 * One rank of tests/dist_ddp_checks_test.ts: DistributedDataParallel where
 * the ranks disagree (models, used parameters, frozen parameters) and with
 * `noSync`. Each case prints `RESULT` lines; the test compares the ranks.
 * Args: case ("unused" | "strict" | "mismatch" kind | "unfreeze" | "uneven" | "nosync").
 */
import { distributed, manualSeed, nn, optim, type Tensor, tensor } from "../mod.ts";

distributed.initProcessGroup({ timeout: 20_000 });
const rank = distributed.getRank(), world = distributed.getWorldSize();
const emit = (o: object) => console.log(`RESULT ${JSON.stringify({ rank, world, ...o })}`);
const flat = (t: Tensor | null) => t === null ? null : [...(t.toArray() as Float32Array)];
const message = (e: unknown) => (e as Error).message;

/** The largest difference between `got` and the average over the ranks of `local`. */
function offAverage(got: Tensor[], local: Tensor[]): number {
  let d = 0;
  for (const [i, g] of got.entries()) {
    const avg = local[i].clone();
    distributed.allReduce(avg, { op: distributed.ReduceOp.AVG });
    const a = avg.toArray() as Float32Array, b = g.toArray() as Float32Array;
    for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs(a[k] - b[k]));
    avg.dispose();
  }
  return d;
}

/** b is skipped on `skipRank` at step 0; aux is never used. */
class Net extends nn.Module {
  a = new nn.Linear(3, 2);
  b = new nn.Linear(2, 2);
  aux = new nn.Linear(3, 2);
  step = 0;
  constructor(readonly skipRank: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    const h = this.a.forward(x);
    return rank === this.skipRank && this.step === 0 ? h : this.b.forward(h);
  }
}

const input = (step: number) =>
  tensor([1, 2, 3, 0.5, -1, 2].map((v) => v * (1 + step + 10 * rank)), [2, 3]);

const which = Deno.args[0];
manualSeed(1);
if (which === "unused") {
  // findUnusedParameters: aux unused everywhere keeps .grad null (AdamW's decay skips it);
  // b, unused on rank 0 at step 0, gets the average of rank 1's gradient and zeros.
  const net = new Net(0);
  const ddp = new distributed.DistributedDataParallel(net, { findUnusedParameters: true });
  const opt = new optim.AdamW(ddp.parameters(), { lr: 0.1, weightDecay: 0.1 });
  const aux = flat(net.aux.weight)!;
  for (net.step = 0; net.step < 2; net.step++) {
    opt.zeroGrad();
    ddp.forward(input(net.step)).sum().backward();
    if (net.step === 0) emit({ step: 0, bGrad: flat(net.b.weight.grad) });
    opt.step();
  }
  const now = flat(net.aux.weight)!;
  emit({
    auxGrad: flat(net.aux.weight.grad),
    auxMoved: Math.max(...now.map((v, i) => Math.abs(v - aux[i]))),
  });
} else if (which === "strict") {
  // Without findUnusedParameters, b missing on rank 1 at step 0 is the same Error on both
  // ranks, in that step; the steps after it average their own gradients.
  const net = new Net(1), ref = new Net(-1);
  ref.loadStateDict(net.stateDict());
  for (const p of net.aux.parameters()) p.requiresGrad_(false);
  const ddp = new distributed.DistributedDataParallel(net);
  for (let step = 0; step < 3; step++) {
    net.step = step;
    for (const p of [...net.parameters(), ...ref.parameters()]) p.grad = null;
    try {
      ddp.forward(input(step)).sum().backward();
      ref.forward(input(step)).sum().backward();
      const got = [net.a.weight.grad!, net.b.weight.grad!];
      emit({ step, off: offAverage(got, [ref.a.weight.grad!, ref.b.weight.grad!]) });
    } catch (e) {
      emit({ step, error: message(e) });
    }
  }
  // The write-back is an in-place write of the same .grad: autograd's accumulation is one
  // version, the averaged copy another.
  const held = net.a.weight.grad!;
  const before = held.version;
  ddp.forward(input(3)).sum().backward();
  emit({ same: held === net.a.weight.grad, versions: held.version - before });
} else if (which === "mismatch") {
  // Models that differ: every rank throws the same Error at construction.
  manualSeed(1 + rank);
  const kind = Deno.args[1];
  const net = kind === "transposed"
    ? new nn.Sequential(new nn.Linear(rank === 0 ? 4 : 6, rank === 0 ? 6 : 4, { bias: false }))
    : kind === "extra"
    ? new nn.Sequential(new nn.Linear(4, 3), ...(rank === 1 ? [new nn.Linear(3, 3)] : []))
    : kind === "wider"
    ? new nn.Sequential(new nn.Linear(4, rank === 0 ? 3 : 5))
    : new nn.Sequential(new nn.Linear(4, 3));
  if (kind === "frozen" && rank === 1) (net[0] as nn.Linear).bias!.requiresGrad_(false);
  try {
    new distributed.DistributedDataParallel(net);
    emit({ constructed: true });
  } catch (e) {
    emit({ error: message(e) });
  }
  // The ranks are still in step: a collective after it completes.
  const t = tensor([rank + 1]);
  distributed.allReduce(t);
  emit({ after: t.item() });
} else if (which === "unfreeze") {
  // Frozen when DDP was built, unfrozen later: its gradient would never be averaged.
  const net = new nn.Sequential(new nn.Linear(3, 3), new nn.Linear(3, 2));
  for (const p of net[0].parameters()) p.requiresGrad_(false);
  const ddp = new distributed.DistributedDataParallel(net);
  for (const p of net[0].parameters()) p.requiresGrad_(true);
  for (let step = 0; step < 2; step++) {
    try {
      ddp.forward(input(step)).sum().backward();
      emit({ step, ok: true });
    } catch (e) {
      emit({ step, error: message(e) });
    }
  }
} else if (which === "uneven") {
  // Rank 1 runs one step fewer and leaves: its barrier meets rank 0's all-reduce.
  const ddp = new distributed.DistributedDataParallel(new nn.Linear(3, 2));
  try {
    for (let step = 0; step < (rank === 0 ? 3 : 2); step++) {
      ddp.forward(input(step)).sum().backward();
    }
    distributed.destroyProcessGroup();
    emit({ left: true });
  } catch (e) {
    emit({ error: message(e) });
  }
  Deno.exit(0);
} else if (which === "nosync") {
  const make = () => new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
  const net = make(), ref = make();
  ref.loadStateDict(net.stateDict());
  const ddp = new distributed.DistributedDataParallel(net);
  const loss = (m: nn.Module, step: number) => m.forward(input(step)).pow(2).mean();
  // Two micro-batches accumulate locally, the third averages everything accumulated.
  for (let m = 0; m < 2; m++) {
    ddp.noSync(() => loss(ddp, m).backward());
    loss(ref, m).backward();
  }
  const local = net.parameters().map((p, i) =>
    Math.max(...flat(p.grad)!.map((v, k) => Math.abs(v - flat(ref.parameters()[i].grad)![k])))
  );
  emit({ phase: "local", off: Math.max(...local) });
  loss(ddp, 2).backward();
  loss(ref, 2).backward();
  emit({
    phase: "synced",
    off: offAverage(net.parameters().map((p) => p.grad!), ref.parameters().map((p) => p.grad!)),
  });
  // A backward inside noSync whose forward ran outside: PyTorch would average it.
  const outside = loss(ddp, 4);
  try {
    ddp.noSync(() => outside.backward());
    emit({ misuse: "no error" });
  } catch (e) {
    emit({ misuse: message(e) });
  }
  // Nothing was left half done: the next step averages as usual.
  for (const p of [...net.parameters(), ...ref.parameters()]) p.grad = null;
  loss(ddp, 5).backward();
  loss(ref, 5).backward();
  emit({
    phase: "after",
    off: offAverage(net.parameters().map((p) => p.grad!), ref.parameters().map((p) => p.grad!)),
  });
  // An async body keeps averaging off until it settles.
  for (const p of [...net.parameters(), ...ref.parameters()]) p.grad = null;
  await ddp.noSync(async () => {
    await Promise.resolve();
    loss(ddp, 6).backward();
  });
  loss(ref, 6).backward();
  const afterAsync = net.parameters().map((p, i) =>
    Math.max(...flat(p.grad)!.map((v, k) => Math.abs(v - flat(ref.parameters()[i].grad)![k])))
  );
  emit({ phase: "async", grads: afterAsync.length, localOff: Math.max(...afterAsync) });
}
distributed.destroyProcessGroup();
