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
import { endStep, models, nn, noGrad, optim, randn, tensor } from "../../mod.ts";
import { setFusion } from "../../src/tensor/ops/fusion.ts";
import { minorFaults, peakRssKb, type WorkerResult } from "./protocol.ts";

// The lits-nofuse variant measures the plain kernels (no deferred ops).
if (Deno.env.get("LITS_FUSION") === "0") setFusion(false);

const [model, mode, warmup, steps, batch, size] = Deno.args;
const nWarm = Number(warmup), nSteps = Number(steps), n = Number(batch), s = Number(size);

const net = models.create(model, { inChannels: 1, numClasses: 3 });
const x = randn([n, 1, s, s]);
const y = tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n]);
const times: number[] = [];
const faults: number[] = [];

if (mode === "train") {
  net.train();
  const opt = new optim.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
  const lossFn = new nn.CrossEntropyLoss();
  for (let i = 0; i < nWarm + nSteps; i++) {
    const f0 = minorFaults(), t0 = performance.now();
    opt.zeroGrad();
    const loss = lossFn.forward(net.forward(x), y);
    loss.backward();
    opt.step();
    loss.item(); // the step is done when its loss is on the host
    const t1 = performance.now(), f1 = minorFaults();
    if (i >= nWarm) times.push(t1 - t0), faults.push(f1 - f0);
  }
  endStep();
} else {
  net.eval();
  for (let i = 0; i < nWarm + nSteps; i++) {
    const f0 = minorFaults(), t0 = performance.now();
    noGrad(() => net.forward(x).toArray());
    const t1 = performance.now(), f1 = minorFaults();
    if (i >= nWarm) times.push(t1 - t0), faults.push(f1 - f0);
  }
}

const result: WorkerResult = { times, faults, peakRssKb: peakRssKb() };
console.log(JSON.stringify(result));
