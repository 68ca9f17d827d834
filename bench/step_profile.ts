/**
 * Where a model's step spends its time, against the machine's ceilings:
 * every native call of the step timed one by one (CPU calls are
 * synchronous), the matrix ops (convolutions and GEMMs) per entry point and
 * shape with their GFLOP/s and what they would take at the measured peak
 * (bench/peak.ts: vdpbf16ps' or AMX's for the bf16 entry points, the FMA
 * peak for the fp32 ones), the other native calls by name, and the time
 * outside native code (JavaScript, the allocator's calls). Its last lines
 * give the step's ceiling: the matrix ops at the peak and everything else
 * as measured. With `--precision bf16,fp32` both run in one process and
 * their steps alternate, and the bf16 ceiling is set against the fp32 step
 * as measured: whether faster kernels alone could still reach a given
 * ratio (autocast's goal of 2x fp32) on this CPU.
 *
 * A layer faster than the peak (fp32 Winograd, which makes fewer products
 * than it is credited with) counts as at its ceiling already.
 *
 * Usage: deno run -A bench/step_profile.ts [--model resnet50] [--pass train|eval]
 *   [--precision bf16,fp32] [--batch 16] [--size 256] [--steps 3] [--top 25]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { autocast, models, nn, noGrad, optim, randn, tensor } from "../mod.ts";
import { backend } from "../src/tensor/device.ts";
import { bf16Ceiling, describePeak, measurePeak, type Peak } from "./peak.ts";

type Native = Record<string, unknown>;
/** A native entry point's (or shape's) calls, summed. */
export interface Entry {
  /** Milliseconds in all. */
  ms: number;
  calls: number;
  /** Multiply-adds x 2 (0: not a matrix op). */
  flops: number;
  /** A bf16 entry point (measured against the bf16 peak). */
  bf16: boolean;
}

/** Multiply-adds x 2 of a matrix op's call, or 0 for any other native call. */
export function callFlops(name: string, a: readonly unknown[]): number {
  if (/^lits_gemm(_bf16)?(_batched)?_f32$/.test(name)) {
    const [m, n, k] = [a[2], a[3], a[4]].map(Number);
    const batch = name === "lits_gemm_bf16_f32" ? 1 : Number(a[13] ?? 1);
    return 2 * m * n * k * Math.max(1, batch);
  }
  if (!isConv(name) || !(a[0] instanceof Int32Array) || a[0].length < 14) return 0;
  const [n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, groups] = a[0];
  const oh = Math.floor((h + 2 * ph - dh * (r - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (s - 1) - 1) / sw) + 1;
  return 2 * n * k * oh * ow * (c / groups) * r * s;
}

/** Convolution entry points that run one (not the takes queries, sizes or bias sums). */
function isConv(name: string): boolean {
  return /^lits_conv2d_(forward|backward_data|backward_filter|relu_maxpool|nhwc_bf16$)/.test(
    name,
  ) && !/_takes$|_bytes$/.test(name);
}

/** "c->k rxs @h s2 g4" of lits_conv2d_params, or "m x n x k" of a GEMM's. */
function shapeOf(name: string, a: readonly unknown[]): string {
  if (name.startsWith("lits_gemm")) return `${a[2]} x ${a[3]} x ${a[4]}`;
  const p = a[0] as Int32Array;
  const stride = p[7] !== 1 || p[8] !== 1 ? ` s${p[7]}` : "";
  return `${p[1]}->${p[4]} ${p[5]}x${p[6]} @${p[2]}${stride}${p[13] > 1 ? ` g${p[13]}` : ""}`;
}

/** The timing of a backend's native calls (`timeNative`). */
export interface NativeTimer {
  /** Matrix ops per entry point and shape ("conv2d_forward_f32 1->16 3x3 @256"). */
  byShape: Map<string, Entry>;
  /** Every native call per entry point. */
  byName: Map<string, Entry>;
  /** Starts (true) or stops (false) the timing. */
  set(on: boolean): void;
  /** Puts the backend's own entry points back. */
  restore(): void;
}

/** Wraps `lib`'s entry points (the CPU backend's symbols) to time them while `set(true)`. */
export function timeNative(lib: Native): NativeTimer {
  const byShape = new Map<string, Entry>(), byName = new Map<string, Entry>();
  const own = new Map<string, unknown>();
  let on = false;
  const add = (m: Map<string, Entry>, key: string, ms: number, flops: number, bf16: boolean) => {
    const e = m.get(key) ?? { ms: 0, calls: 0, flops: 0, bf16 };
    e.ms += ms;
    e.calls++;
    e.flops += flops;
    m.set(key, e);
  };
  for (const name of Object.keys(lib)) {
    const f = lib[name];
    if (typeof f !== "function" || !name.startsWith("lits_")) continue;
    own.set(name, f);
    lib[name] = (...a: unknown[]) => {
      if (!on) return f(...a);
      const t0 = performance.now();
      const r = f(...a);
      const ms = performance.now() - t0;
      const flops = callFlops(name, a), bf16 = name.includes("bf16");
      add(byName, name, ms, flops, bf16);
      if (flops > 0) add(byShape, `${name.slice(5)} ${shapeOf(name, a)}`, ms, flops, bf16);
      return r;
    };
  }
  return {
    byShape,
    byName,
    set: (v: boolean) => void (on = v),
    restore: () => own.forEach((f, name) => (lib[name] = f)),
  };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** One precision's step, timed plain then call by call; returns its medians. */
/** One precision's step: a model of its own, its batch and optimizer. */
function makeStep(o: Options, precision: string): () => void {
  const net = models.create(o.model, { inChannels: 1, numClasses: 3 });
  if (o.pass === "eval") net.eval();
  const x = randn([o.batch, 1, o.size, o.size]);
  const y = tensor(Int32Array.from({ length: o.batch }, (_, i) => i % 3), [o.batch]);
  const lossFn = new nn.CrossEntropyLoss();
  const opt = new optim.Adam(net.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
  const inPrecision = <T>(fn: () => T): T => precision === "bf16" ? autocast("bfloat16", fn) : fn();
  return o.pass === "eval"
    ? () => void noGrad(() => inPrecision(() => net.forward(x)).toArray())
    : () => {
      opt.zeroGrad();
      const loss = inPrecision(() => lossFn.forward(net.forward(x), y));
      loss.backward();
      opt.step();
      loss.item();
    };
}

/**
 * The precisions' steps warmed up, timed whole in alternation (the
 * medians compared: a neighbour's load falls on both), then each timed
 * call by call.
 */
function profileAll(o: Options, peak: Peak, timer: NativeTimer) {
  const steps = o.precisions.map((p) => makeStep(o, p));
  for (const step of steps) for (let i = 0; i < 3; i++) step();
  const plain: number[][] = steps.map(() => []);
  for (let i = 0; i < o.steps; i++) {
    steps.forEach((step, j) => {
      const t0 = performance.now();
      step();
      plain[j].push(performance.now() - t0);
    });
  }
  return new Map(o.precisions.map((precision, j) => {
    timer.byShape.clear();
    timer.byName.clear();
    timer.set(true);
    const t0 = performance.now();
    for (let i = 0; i < o.steps; i++) steps[j]();
    const timed = (performance.now() - t0) / o.steps;
    timer.set(false);
    return [precision, report(o, precision, peak, timer, median(plain[j]), timed)];
  }));
}

/** Prints one precision's tables; returns its plain step and its ceiling (ms). */
function report(
  o: Options,
  precision: string,
  peak: Peak,
  timer: NativeTimer,
  plain: number,
  timed: number,
): { step: number; ceiling: number } {
  const per = (v: number) => v / o.steps;
  const ceilingOf = (e: Entry) => (e.bf16 ? bf16Ceiling(peak) : undefined) ?? peak.fmaGflops;
  const rows = [...timer.byShape].map(([key, e]) => {
    const atPeak = Math.min(e.ms, e.flops / ceilingOf(e) / 1e6);
    return { key, e, atPeak, lost: e.ms - atPeak };
  }).sort((a, b) => b.lost - a.lost);
  const native = [...timer.byName.values()].reduce((s, e) => s + e.ms, 0);
  const matrix = rows.reduce((s, r) => s + r.e.ms, 0);
  const matrixAtPeak = rows.reduce((s, r) => s + r.atPeak, 0);
  const flops = rows.reduce((s, r) => s + r.e.flops, 0);
  console.log(`\n## ${o.model} ${o.pass}, ${precision}, batch ${o.batch} x 1 x ${o.size}^2`);
  const how = o.precisions.length > 1 ? ", alternating with the other precision" : "";
  console.log(
    `step ${plain.toFixed(1)} ms (median of ${o.steps}${how}); timed call by call ${
      timed.toFixed(1)
    } ms: native ${per(native).toFixed(1)}, outside native ${(timed - per(native)).toFixed(1)}`,
  );
  console.log(`\n| matrix op | calls | ms | GFLOP/s | % peak | ms at peak |`);
  console.log(`|---|---:|---:|---:|---:|---:|`);
  for (const r of rows.slice(0, o.top)) {
    const gf = r.e.flops / r.e.ms / 1e6;
    console.log(
      `| ${r.key} | ${per(r.e.calls)} | ${per(r.e.ms).toFixed(2)} | ${gf.toFixed(0)} | ${
        (100 * gf / ceilingOf(r.e)).toFixed(0)
      }% | ${per(r.atPeak).toFixed(2)} |`,
    );
  }
  if (rows.length > o.top) console.log(`| (${rows.length - o.top} more) | | | | | |`);
  const others = [...timer.byName].filter(([, e]) => e.flops === 0).sort((a, b) =>
    b[1].ms - a[1].ms
  );
  console.log(`\n| other native call | calls | ms |`);
  console.log(`|---|---:|---:|`);
  for (const [name, e] of others.slice(0, o.top)) {
    console.log(`| ${name} | ${per(e.calls)} | ${per(e.ms).toFixed(2)} |`);
  }
  const other = native - matrix, outside = timed * o.steps - native;
  const ceiling = per(matrixAtPeak + other + outside);
  console.log(
    `\nmatrix ops ${per(matrix).toFixed(1)} ms (${(flops / matrix / 1e6).toFixed(0)} GFLOP/s), ${
      per(matrixAtPeak).toFixed(1)
    } at the peak; other native ${per(other).toFixed(1)} ms; outside native ${
      per(outside).toFixed(1)
    } ms`,
  );
  console.log(
    `ceiling: ${ceiling.toFixed(1)} ms a step (the matrix ops at the peak, the rest as measured)`,
  );
  return { step: plain, ceiling };
}

interface Options {
  model: string;
  pass: "train" | "eval";
  precisions: string[];
  batch: number;
  size: number;
  steps: number;
  top: number;
}

function options(): Options {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", default: "resnet50" },
      pass: { type: "string", default: "train" },
      precision: { type: "string", default: "bf16,fp32" },
      batch: { type: "string", default: "16" },
      size: { type: "string", default: "256" },
      steps: { type: "string", default: "3" },
      top: { type: "string", default: "25" },
    },
  });
  const int = (name: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  if (values.pass !== "train" && values.pass !== "eval") {
    throw new Error(`--pass must be train or eval, got ${values.pass}`);
  }
  const precisions = values.precision.split(",");
  if (precisions.some((p) => p !== "bf16" && p !== "fp32")) {
    throw new Error(`--precision takes bf16, fp32 or both, got ${values.precision}`);
  }
  return {
    model: values.model,
    pass: values.pass,
    precisions,
    batch: int("batch", values.batch),
    size: int("size", values.size),
    steps: int("steps", values.steps),
    top: int("top", values.top),
  };
}

if (import.meta.main) {
  const o = options();
  const peak = measurePeak();
  console.log(describePeak(peak));
  const timer = timeNative(backend("cpu") as unknown as Native);
  const results = profileAll(o, peak, timer);
  const bf16 = results.get("bf16"), fp32 = results.get("fp32");
  if (bf16 && fp32) {
    console.log(
      `\nbf16 against fp32: ${(fp32.step / bf16.step).toFixed(2)}x as measured (alternating); ${
        (fp32.step / bf16.ceiling).toFixed(2)
      }x at bf16's ceiling`,
    );
  }
}
