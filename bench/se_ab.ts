/**
 * EfficientNet-B0's evaluation forward with its squeeze-and-excitation
 * folded into the convolutions (`src/models/squeeze_fused.ts`) against the
 * modules one by one (the three kernels hidden, as on a backend without
 * them), alternating forward by forward in one process, so that other jobs
 * on the machine slow both alike: min and median of each, and of the SE's
 * own part (the forward's time less that of the same forward with each
 * block's SE taken out is not measurable; instead each side's native calls
 * of its SE roles are timed in a second pass, as bench/se_profile.ts).
 *
 * Usage: deno run -A bench/se_ab.ts [ROUNDS] [BATCH] [SIZE] [MODEL]
 *
 * @module
 */
import { models, noGrad, randn } from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";

const [roundsArg = "20", batch = "16", size = "256", model = "efficientnetb0"] = Deno.args;
const rounds = Number(roundsArg), n = Number(batch), s = Number(size);
const KERNELS = [
  "lits_conv2d_forward_epilogue_pool_f32",
  "lits_squeeze_excitation_gate_f32",
  "lits_conv2d_forward_epilogue_scaled_f32",
];
const lib = cpuLib() as unknown as Record<string, unknown>;
const saved = KERNELS.map((k) => lib[k]);
const setFused = (on: boolean) => KERNELS.forEach((k, i) => lib[k] = on ? saved[i] : null);

const net = models.create(model, { inChannels: 1, numClasses: 3 }).eval();
const x = randn([n, 1, s, s]);
const step = () => noGrad(() => net.forward(x).toArray());
for (const on of [true, false, true, false]) {
  setFused(on);
  step();
}
const times: Record<string, number[]> = { fused: [], modules: [] };
for (let r = 0; r < rounds; r++) {
  for (const on of r % 2 ? [true, false] : [false, true]) {
    setFused(on);
    const t0 = performance.now();
    step();
    times[on ? "fused" : "modules"].push(performance.now() - t0);
  }
}
setFused(true);
const stat = (v: number[]) => {
  const a = [...v].sort((p, q) => p - q);
  return `min ${a[0].toFixed(1)} median ${a[a.length >> 1].toFixed(1)} ms`;
};
const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(
  `${model} eval batch ${n} ${s}x${s}, ${rounds} alternating forwards each (load ${load}): ` +
    `SE fused ${stat(times.fused)}; modules ${stat(times.modules)}`,
);
