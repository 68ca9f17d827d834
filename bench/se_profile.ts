/**
 * Where EfficientNet-B0's evaluation forward spends its time around the
 * squeeze-and-excitation blocks: the forward timed whole, then its native
 * calls timed one by one (CPU calls are synchronous) and summed per role:
 * the depthwise convolutions (which also pool, once fused), the SE's global
 * pool, its two 1x1 convolutions and activations (or the one gate call),
 * its channel scale, and the projections (which also scale, once fused).
 *
 * Usage: deno run -A bench/se_profile.ts [BATCH] [SIZE] [STEPS]
 *
 * @module
 */
import { models, noGrad, randn } from "../mod.ts";
import { backend } from "../src/tensor/device.ts";
import { SqueezeExcitation } from "../src/models/mobile_blocks.ts";

const [batch = "16", size = "256", stepsArg = "10"] = Deno.args;
const n = Number(batch), s = Number(size), steps = Number(stepsArg);
const lib = backend("cpu") as unknown as Record<string, unknown>;
const acc = new Map<string, { ms: number; n: number }>();
let on = false, inSe = 0;

/** The role of a call: its function, the SE it runs in, a convolution's kind. */
function role(name: string, args: unknown[]): string {
  if (name === "lits_squeeze_excitation_gate_f32") return "SE fc1+act+fc2+sigmoid (one call)";
  if (inSe) {
    if (name.includes("avgpool")) return "SE global pool";
    if (name === "lits_binary_f32") return "SE channel scale";
    return "SE fc1+act+fc2+sigmoid (ops)";
  }
  if (!name.startsWith("lits_conv2d_forward")) return `other: ${name}`;
  // lits_conv2d_params: n c h w k r s ... groups last
  const p = args[0] as Int32Array;
  const c = p[1], k = p[4], r = p[5], groups = p[p.length - 1];
  if (groups > 1) return name.includes("pool") ? "depthwise conv + SE pool" : "depthwise conv";
  if (r === 1 && k < c) {
    return name.includes("scaled") ? "projection 1x1 + SE scale" : "projection 1x1";
  }
  return `other conv (${r}x${r})`;
}

for (const name of Object.keys(lib)) {
  const f = lib[name] as (...a: unknown[]) => unknown;
  if (typeof f !== "function" || !/conv2d_forward|avgpool|binary|unary|squeeze/.test(name)) {
    continue;
  }
  lib[name] = (...args: unknown[]) => {
    if (!on) return f(...args);
    const t0 = performance.now();
    const r = f(...args);
    const dt = performance.now() - t0;
    const key = role(name, args);
    const e = acc.get(key) ?? { ms: 0, n: 0 };
    e.ms += dt;
    e.n++;
    acc.set(key, e);
    return r;
  };
}
const proto = SqueezeExcitation.prototype as unknown as Record<string, unknown>;
const fwd = proto.forward as (this: SqueezeExcitation, x: unknown) => unknown;
proto.forward = function (this: SqueezeExcitation, x: unknown) {
  inSe++;
  try {
    return fwd.call(this, x);
  } finally {
    inSe--;
  }
};
const net = models.create("efficientnetb0", { inChannels: 1, numClasses: 3 }).eval();
const x = randn([n, 1, s, s]);
const step = () => noGrad(() => net.forward(x).toArray());
for (let i = 0; i < 5; i++) step();
const plain: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  step();
  plain.push(performance.now() - t0);
}
on = true;
for (let i = 0; i < steps; i++) step();
on = false;
plain.sort((a, b) => a - b);
const rows = [...acc.entries()].sort((a, b) => a[0].localeCompare(b[0]));
const se = rows.filter((r) => r[0].startsWith("SE")).reduce((t, r) => t + r[1].ms, 0) / steps;
console.log(
  `efficientnetb0 eval batch ${n} ${s}x${s}: forward min ${plain[0].toFixed(1)} median ` +
    `${plain[plain.length >> 1].toFixed(1)} ms; SE's own calls ${se.toFixed(2)} ms`,
);
console.log("ms/step  calls/step  role");
for (const [k, v] of rows) {
  console.log(`${(v.ms / steps).toFixed(2).padStart(7)} ${String(v.n / steps).padStart(6)}  ${k}`);
}
