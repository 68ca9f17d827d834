/**
 * One side of `deno task bench:step`: times training steps or evaluation
 * forwards of a model of this library and prints one JSON line (see
 * `WorkerResult` in `protocol.ts`). Run by `bench/step/main.ts` in a fresh
 * process per measurement, so that peak memory is this model's alone.
 *
 * Usage: deno run -A bench/step/lits_worker.ts MODEL MODE WARMUP STEPS BATCH SIZE
 *
 * @module
 */
import {
  autocast,
  emptyCache,
  endStep,
  memoryStats,
  models,
  nn,
  noGrad,
  optim,
  randn,
  tensor,
} from "../../mod.ts";
import { setFusion } from "../../src/tensor/ops/fusion.ts";
import { benchModelOptions, minorFaults, peakRssKb, type WorkerResult } from "./protocol.ts";

// The lits-nofuse variant measures the plain kernels (no deferred ops).
if (Deno.env.get("LITS_FUSION") === "0") setFusion(false);

const [model, mode, warmup, steps, batch, size] = Deno.args;
// The -bf16 variants: the forward and the loss under bf16 autocast, as torch_worker.py.
const bf16 = Deno.env.get("BENCH_PRECISION") === "bf16";
const inPrecision = <T>(fn: () => T): T => bf16 ? autocast("bfloat16", fn) : fn();
const nWarm = Number(warmup), nSteps = Number(steps), n = Number(batch), s = Number(size);

const net = models.create(model, benchModelOptions(model, s));
const batchOf = (b: number) => ({
  x: randn([b, 1, s, s]),
  y: tensor(Int32Array.from({ length: b }, (_, i) => i % 3), [b]),
});
const times: number[] = [];
const faults: number[] = [];
let systemBytesAtTimed = 0;

/**
 * V8 compiles a step's JavaScript over its first few dozen runs, and its
 * young generation grows meanwhile: both touch fresh pages (and the
 * compiler takes a core) for about 30 steps. A training run pays that once;
 * here `JS_WARMUP` steps on a batch of one pay it, so that the timed steps,
 * after the usual warm-up at the real batch, are the steady state that
 * PyTorch's are. The cache of those small steps is then emptied, so that it
 * adds nothing to the peak memory.
 */
const JS_WARMUP = 30;

if (mode === "train") {
  net.train();
  const lossFn = new nn.CrossEntropyLoss();
  const small = batchOf(1), real = batchOf(n);
  // The warm-up's optimizer is its own, freed with the cache after it, so
  // that the timed run's buffers are laid out as without the warm-up.
  let opt = new optim.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
  for (let i = 0; i < JS_WARMUP + nWarm + nSteps; i++) {
    if (i === JS_WARMUP) {
      endStep();
      opt.dispose();
      emptyCache();
      opt = new optim.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
    }
    const { x, y } = i < JS_WARMUP ? small : real;
    if (i === JS_WARMUP + nWarm) systemBytesAtTimed = memoryStats().bytesFromSystem;
    const f0 = minorFaults(), t0 = performance.now();
    opt.zeroGrad();
    const loss = inPrecision(() => lossFn.forward(net.forward(x), y));
    loss.backward();
    opt.step();
    loss.item(); // the step is done when its loss is on the host
    const t1 = performance.now(), f1 = minorFaults();
    if (i >= JS_WARMUP + nWarm) times.push(t1 - t0), faults.push(f1 - f0);
  }
  endStep();
} else {
  net.eval();
  const small = batchOf(1), real = batchOf(n);
  for (let i = 0; i < JS_WARMUP + nWarm + nSteps; i++) {
    if (i === JS_WARMUP) emptyCache();
    const { x } = i < JS_WARMUP ? small : real;
    if (i === JS_WARMUP + nWarm) systemBytesAtTimed = memoryStats().bytesFromSystem;
    const f0 = minorFaults(), t0 = performance.now();
    noGrad(() => inPrecision(() => net.forward(x)).toArray());
    const t1 = performance.now(), f1 = minorFaults();
    if (i >= JS_WARMUP + nWarm) times.push(t1 - t0), faults.push(f1 - f0);
  }
}

const result: WorkerResult = {
  times,
  faults,
  peakRssKb: peakRssKb(),
  freshBufferBytes: memoryStats().bytesFromSystem - systemBytesAtTimed,
};
console.log(JSON.stringify(result));
