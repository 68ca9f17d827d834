/**
 * In-step A/B of the fp32 filter gradient of 1x1 convolutions: ResNet-50
 * training steps (batch 16, 1 x 256 x 256 input, Adam) whose 1x1
 * filter-gradient calls alternate, shape by shape and call by call, between
 * this checkout's library and another build of it (BASE_LIB, e.g. the
 * previous commit's liblits_cpu.so copied aside), each call timed: median
 * GFLOP/s of each per shape, as the step calls them (x cold, with its
 * deferred transform where it has one). SAMPLES=1 also prints every call's
 * milliseconds.
 *
 *   BASE_LIB=/tmp/old.so deno run -A bench/filt1x1_step_ab.ts [steps]
 *
 * @module
 */
import { cpuLib } from "../src/ffi/native.ts";
import * as m from "../mod.ts";

const lib = cpuLib() as unknown as Record<string, (...a: unknown[]) => unknown>;
const basePath = Deno.env.get("BASE_LIB");
if (basePath === undefined) throw new Error("BASE_LIB: the other build's liblits_cpu.so");
const base = Deno.dlopen(basePath, {
  lits_conv2d_backward_filter_f32: {
    parameters: ["buffer", "pointer", "pointer", "i32", "pointer", "pointer"],
    result: "i32",
  },
});
const SYM = "lits_conv2d_backward_filter_f32";
const f = lib[SYM];
const fb = base.symbols[SYM] as unknown as (...a: unknown[]) => unknown;
let on = false;
const agg = new Map<string, { calls: number; ms: number[][]; flop: number }>();
lib[SYM] = (...a: unknown[]) => {
  const p = new Int32Array((a[0] as Uint8Array).buffer, (a[0] as Uint8Array).byteOffset, 14);
  const [n, c, h, w, k, r, s, sh] = p;
  if (!on || r !== 1 || s !== 1) return f(...a);
  const oh = Math.floor((h - 1) / sh) + 1, ow = Math.floor((w - 1) / sh) + 1;
  const key = `c${c} k${k} 1x1/${sh} ${h}x${w}${a[2] ? " coef" : ""}${a[3] ? " relu" : ""}`;
  const e = agg.get(key) ?? { calls: 0, ms: [[], []], flop: 2 * n * k * c * oh * ow };
  const which = e.calls++ % 2;
  const t0 = performance.now();
  const res = (which ? f : fb)(...a);
  e.ms[which].push(performance.now() - t0);
  agg.set(key, e);
  return res;
};
const net = m.models.create("resnet50", { inChannels: 1, numClasses: 3 });
const x = m.randn([16, 1, 256, 256]);
const y = m.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3), [16]);
const opt = new m.optim.Adam(net.parameters(), { lr: 1e-3 });
const lossFn = new m.nn.CrossEntropyLoss();
net.train();
const steps = Number(Deno.args[0] ?? 6);
for (let i = 0; i < steps + 2; i++) {
  on = i >= 2;
  opt.zeroGrad();
  const loss = lossFn.forward(net.forward(x), y);
  loss.backward();
  opt.step();
  loss.item();
  m.endStep();
}
const med = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
let tb = 0, tn = 0;
console.log("shape".padEnd(34), "calls", "base GF/s", "new GF/s", "new/base");
for (const [k, e] of [...agg].sort()) {
  const mb = med(e.ms[0]), mn = med(e.ms[1]);
  const per = e.calls / steps;
  tb += mb * per, tn += mn * per;
  console.log(
    k.padEnd(34),
    String(per).padStart(5),
    (e.flop / mb / 1e6).toFixed(1).padStart(9),
    (e.flop / mn / 1e6).toFixed(1).padStart(8),
    (mb / mn).toFixed(3).padStart(8),
    Deno.env.get("SAMPLES")
      ? e.ms.map((v) => v.map((t) => t.toFixed(2)).join(" ")).join(" | ")
      : "",
  );
}
console.log(`per step (medians x calls): base ${tb.toFixed(1)} ms, new ${tn.toFixed(1)} ms`);
