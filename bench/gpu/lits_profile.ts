/**
 * Where a training step's GPU time goes: every native call of the CUDA
 * library is timed between two `lits_synchronize` calls (so launches do not
 * overlap, and the sum is an upper bound of the step), summed per function
 * and per convolution geometry. The step as it runs (no synchronising) is
 * timed too. bench/gpu/torch_profile.py is PyTorch's side.
 *
 * Usage: deno run -A bench/gpu/lits_profile.ts MODEL BATCH SIZE [STEPS]
 *
 * @module
 */
import { endStep, models, nn, optim, randn, tensor } from "../../mod.ts";
import { backend } from "../../src/tensor/device.ts";

const [model = "resnet50", batch = "64", size = "256", stepsArg = "3"] = Deno.args;
const n = Number(batch), s = Number(size), steps = Number(stepsArg);
const lib = backend("cuda") as unknown as Record<string, unknown>;
const sync = lib.lits_synchronize as () => number;
const acc = new Map<string, { ms: number; n: number }>();
let on = false;
for (const name of Object.keys(lib)) {
  const f = lib[name] as (...a: unknown[]) => unknown;
  if (typeof f !== "function" || name === "lits_synchronize") continue;
  lib[name] = (...args: unknown[]) => {
    if (!on) return f(...args);
    sync();
    const t0 = performance.now();
    const r = f(...args);
    sync();
    const dt = performance.now() - t0;
    // Convolutions take their geometry as an Int32Array first argument.
    const key = args[0] instanceof Int32Array && /conv/.test(name)
      ? `${name} ${Array.from(args[0]).join(",")}`
      : name;
    const e = acc.get(key) ?? { ms: 0, n: 0 };
    e.ms += dt;
    e.n++;
    acc.set(key, e);
    return r;
  };
}
const net = models.create(model, { inChannels: 1, numClasses: 3, imageSize: s }).to("cuda").train();
const x = randn([n, 1, s, s], { device: "cuda" });
const y = tensor(Int32Array.from({ length: n }, (_, i) => i % 3), [n], { device: "cuda" });
const opt = new optim.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
const lossFn = new nn.CrossEntropyLoss();
const step = () => {
  opt.zeroGrad();
  const loss = lossFn.forward(net.forward(x), y);
  loss.backward();
  opt.step();
  loss.item();
  endStep();
};
for (let i = 0; i < 3; i++) step();
let t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const plain = (performance.now() - t0) / steps;
on = true;
t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const synced = (performance.now() - t0) / steps;
on = false;
const rows = [...acc.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((t, r) => t + r[1].ms, 0) / steps;
console.log(
  `${model} batch ${n} ${s}x${s}: step ${plain.toFixed(1)} ms; with a synchronise around ` +
    `each call ${synced.toFixed(1)} ms, of which in calls ${total.toFixed(1)} ms`,
);
const byFn = new Map<string, { ms: number; n: number }>();
for (const [k, v] of rows) {
  const f = k.split(" ")[0], e = byFn.get(f) ?? { ms: 0, n: 0 };
  byFn.set(f, { ms: e.ms + v.ms, n: e.n + v.n });
}
console.log("ms/step  calls/step  function");
for (const [k, v] of [...byFn.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)) {
  console.log(`${(v.ms / steps).toFixed(2).padStart(7)} ${String(v.n / steps).padStart(6)}  ${k}`);
}
console.log("ms/step  calls/step  convolution geometry");
for (const [k, v] of rows.filter((r) => / /.test(r[0])).slice(0, 30)) {
  console.log(`${(v.ms / steps).toFixed(2).padStart(7)} ${String(v.n / steps).padStart(6)}  ${k}`);
}
