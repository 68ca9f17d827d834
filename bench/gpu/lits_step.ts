/**
 * This library's side of `deno task gpu:check`'s timing: training steps of a
 * model on CUDA (Adam, cross-entropy, a fixed random batch), timed from the
 * start of the step until its loss is on the host. Prints one JSON line.
 * PRECISION bf16 runs the forward and the loss under bf16 autocast (as
 * torch_step.py runs them under torch.autocast), fp32 (the default) without.
 *
 * Usage: deno run -A bench/gpu/lits_step.ts MODEL WARMUP STEPS BATCH SIZE [PRECISION]
 *
 * @module
 */
import { autocast, endStep, memoryStats, models, nn, optim, randn, tensor } from "../../mod.ts";

const [model, warmup, steps, batch, size, precision = "fp32"] = Deno.args;
const nWarm = Number(warmup), nSteps = Number(steps), n = Number(batch), s = Number(size);
if (precision !== "fp32" && precision !== "bf16") {
  throw new Error(`lits_step.ts: PRECISION is fp32 or bf16, got ${precision}`);
}

const net = models.create(model, { inChannels: 1, numClasses: 3, imageSize: s }).to("cuda").train();
const x = randn([n, 1, s, s], { device: "cuda" });
const y = tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n], { device: "cuda" });
const opt = new optim.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
const lossFn = new nn.CrossEntropyLoss();
const times: number[] = [];
const inUse: number[] = [];
for (let i = 0; i < nWarm + nSteps; i++) {
  const t0 = performance.now();
  opt.zeroGrad();
  const forward = () => lossFn.forward(net.forward(x), y);
  const loss = precision === "bf16" ? autocast("bfloat16", forward) : forward();
  loss.backward();
  opt.step();
  loss.item(); // the step is done when its loss is on the host
  const t1 = performance.now();
  endStep();
  if (i >= nWarm) {
    times.push(t1 - t0);
    inUse.push(memoryStats("cuda").bytesInUse);
  }
}
const m = memoryStats("cuda");
console.log(JSON.stringify({
  times,
  bytesInUse: inUse,
  // What the caching allocator holds (PyTorch's "reserved"); bytesFromSystem
  // would also count the algorithm searches' workspaces, given back at once.
  reservedBytes: m.bytesInUse + m.bytesCached,
  bytesFromSystem: m.bytesFromSystem,
}));
