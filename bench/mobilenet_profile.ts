/**
 * Where MobileNetV2's evaluation forward spends its time, per role, beside
 * ONNX Runtime's own per-node profile of the same model. Ours: the forward
 * timed whole, then its native calls timed one by one (CPU calls are
 * synchronous) and summed per role: the stem, the expansion 1x1 (+ batch
 * norm + ReLU6), the depthwise 3x3 (+ batch norm + ReLU6), the projection
 * 1x1 (+ batch norm, + residual), a fused expansion + depthwise where it
 * runs, the last 1x1 to 1280, the pool, the classifier, and every other
 * native call by name. ONNX Runtime's (with `--ort MODEL.onnx`, exported by
 * `python3 bench/step/onnx_export.py mobilenetv2 BATCH SIZE MODEL.onnx`):
 * its `enableProfiling` JSON, node times summed per the same roles (read
 * from each node's op and input shapes).
 *
 * Usage: deno run -A bench/mobilenet_profile.ts [BATCH] [SIZE] [STEPS] [--ort MODEL.onnx] [--threads 2]
 *
 * @module
 */
import { models, noGrad, randn } from "../mod.ts";
import { backend } from "../src/tensor/device.ts";
import { InvertedResidual, type MobileNetV2 } from "../src/models/mobilenet.ts";

const args = [...Deno.args];
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const ortModel = flag("--ort"), threads = Number(flag("--threads") ?? "2");
const [batch = "16", size = "256", stepsArg = "10"] = args;
const n = Number(batch), s = Number(size), steps = Number(stepsArg);

/** The role of a convolution of lits_conv2d_params p (n c h w k r s sh sw ph pw dh dw groups). */
function convRole(p: ArrayLike<number>, residual: boolean): string {
  const c = p[1], k = p[4], r = p[5], groups = p[13];
  if (groups > 1) return "depthwise 3x3 (+BN+ReLU6)";
  if (r === 3) return "stem 3x3 (+BN+ReLU6)";
  if (k === 1280) return "last 1x1 to 1280 (+BN+ReLU6)";
  if (k > c) return "expand 1x1 (+BN+ReLU6)";
  return residual ? "project 1x1 (+BN+residual)" : "project 1x1 (+BN)";
}

/** A convolution's shape, for the per-layer table: c->k hxw (/stride). */
function convShape(p: ArrayLike<number>): string {
  return `${p[1]}->${p[4]} ${p[2]}x${p[3]}${p[7] === 2 ? "/2" : ""}`;
}

type Acc = Map<string, { ms: number; n: number }>;
function add(acc: Acc, key: string, ms: number): void {
  const e = acc.get(key) ?? { ms: 0, n: 0 };
  e.ms += ms;
  e.n++;
  acc.set(key, e);
}

/** Per role and per layer (role + shape), ms summed over `steps` forwards. */
interface Profile {
  roles: Acc;
  layers: Acc;
  /** Per torchvision module path (`features.3`: a block's three convolutions, fused or not). */
  blocks: Acc;
  header: string;
}

/** Our side: the forward timed whole, then per role. */
function profileLits(): Profile {
  const lib = backend("cpu") as unknown as Record<string, unknown>;
  const acc: Acc = new Map(), layers: Acc = new Map(), blocks: Acc = new Map();
  let on = false, block = "";
  const role = (name: string, a: unknown[]): string => {
    if (name === "lits_inverted_residual_f32") return "inverted residual block, fused";
    if (name.startsWith("lits_conv2d_forward")) {
      // epilogue: (params, x, xcoef, xrelu, w, b, ycoef, r, ...)
      const residual = name.includes("epilogue") && a[7] !== null;
      return convRole(a[0] as Int32Array, residual);
    }
    if (name.includes("avgpool")) return "pool";
    if (name.includes("gemm") || name.includes("linear")) return "classifier";
    return `other: ${name}`;
  };
  for (const name of Object.keys(lib)) {
    const f = lib[name] as (...a: unknown[]) => unknown;
    if (typeof f !== "function" || !name.startsWith("lits_")) continue;
    if (/alloc|free|last_error|pool_stats|bytes_in_use|prepared_bytes|threads/.test(name)) continue;
    lib[name] = (...a: unknown[]) => {
      if (!on) return f(...a);
      const t0 = performance.now();
      const r = f(...a);
      const dt = performance.now() - t0;
      const key = role(name, a);
      add(acc, key, dt);
      add(blocks, block || (key.startsWith("stem") ? "features.0" : key), dt);
      if (name.startsWith("lits_conv2d_forward")) {
        add(layers, `${key} ${convShape(a[0] as Int32Array)}`, dt);
      } else if (name === "lits_inverted_residual_f32") {
        // (expand or null, depthwise, project, ...): c -> hidden -> k at the depthwise's input size
        const d = a[1] as Int32Array, p = a[2] as Int32Array;
        const c = a[0] ? (a[0] as Int32Array)[1] : d[1];
        const res = a[10] !== null ? " +residual" : "";
        add(
          layers,
          `${key} ${c}->${d[1]}->${p[4]} ${d[2]}x${d[3]}${d[7] === 2 ? "/2" : ""}${res}`,
          dt,
        );
      }
      return r;
    };
  }
  const net = models.create("mobilenetv2", { inChannels: 1, numClasses: 3 }).eval();
  // Each block's native calls under its module path: the class's forward wrapped (not the
  // instances', which would take the blocks off their fused path).
  const index = new Map([...(net as MobileNetV2).features].map((m, i) => [m, `features.${i}`]));
  const proto = InvertedResidual.prototype as unknown as Record<string, unknown>;
  const fwd = proto.forward as (this: InvertedResidual, x: unknown) => unknown;
  proto.forward = function (this: InvertedResidual, x: unknown) {
    block = index.get(this) ?? "";
    try {
      return fwd.call(this, x);
    } finally {
      block = "";
    }
  };
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
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const timed = (performance.now() - t0) / steps;
  on = false;
  plain.sort((a, b) => a - b);
  const native = [...acc.values()].reduce((t, r) => t + r.ms, 0) / steps;
  const header = `lits: forward min ${plain[0].toFixed(1)} median ` +
    `${plain[plain.length >> 1].toFixed(1)} ms; profiled step ${timed.toFixed(1)} ms, ` +
    `native calls ${native.toFixed(1)} ms, outside them ${(timed - native).toFixed(1)} ms`;
  proto.forward = fwd;
  return { roles: acc, layers, blocks, header };
}

/** ONNX Runtime's side: its profile JSON summed per role. */
async function profileOrt(file: string): Promise<Profile> {
  // deno-lint-ignore no-import-prefix -- bench-only dependency, pinned as in bench/step/ort_worker.ts
  const ort = await import("npm:onnxruntime-node@1.30.0");
  const prefix = await Deno.makeTempFile({ prefix: "mbv2_ort_" });
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  const input = session.inputNames[0];
  const x = new ort.Tensor("float32", new Float32Array(n * s * s).map(() => Math.random() - 0.5), [
    n,
    1,
    s,
    s,
  ]);
  const times: number[] = [];
  for (let i = 0; i < 5 + steps; i++) {
    const t0 = performance.now();
    const out = await session.run({ [input]: x });
    if (i >= 5) times.push(performance.now() - t0);
    for (const t of Object.values(out)) (t as { dispose(): void }).dispose();
  }
  session.endProfiling(); // writes PREFIX_<date>.json (returns nothing in onnxruntime-node)
  await session.release();
  const dir = prefix.slice(0, prefix.lastIndexOf("/") + 1);
  const path = [...Deno.readDirSync(dir)].map((e) => dir + e.name)
    .find((f) => f.startsWith(`${prefix}_`) && f.endsWith(".json"))!;
  type Ev = {
    cat: string;
    name: string;
    dur: number;
    args?: {
      op_name?: string;
      input_type_shape?: Record<string, number[]>[];
      output_type_shape?: Record<string, number[]>[];
    };
  };
  const events = JSON.parse(await Deno.readTextFile(path)) as Ev[];
  const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
  // The last `steps` runs of each node (the first 5 are the warm-up).
  const byName = new Map<string, Ev[]>();
  for (const e of nodes) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  const acc: Acc = new Map(), layers: Acc = new Map(), blocks: Acc = new Map();
  for (const [, evs] of byName) {
    for (const e of evs.slice(-steps)) {
      const op = e.args?.op_name ?? "?";
      const shapes = (e.args?.input_type_shape ?? []).map((o) => Object.values(o)[0]);
      let key = `other: ${op}`;
      if (op === "Conv" || op === "FusedConv") {
        // X, W, B, then the residual Z where ONNX Runtime fused the Add.
        const [xs, ws] = shapes;
        const c = xs[1], k = ws[0], r = ws[2], groups = c / ws[1];
        const p = [xs[0], c, xs[2], xs[3], k, r, ws[3], 0, 0, 0, 0, 0, 0, groups];
        key = convRole(p, shapes.length > 3);
        const oh =
          (e.args?.output_type_shape?.[0] ? Object.values(e.args.output_type_shape[0])[0] : xs)[2];
        p[7] = oh < xs[2] ? 2 : 1;
        add(layers, `${key} ${convShape(p)}`, e.dur / 1000);
      } else if (op === "GlobalAveragePool") key = "pool";
      else if (op === "Gemm") key = "classifier";
      add(acc, key, e.dur / 1000);
      const path = /^\/features\/(features\.\d+)\//.exec(e.name);
      add(blocks, path && !key.startsWith("last") ? path[1] : key, e.dur / 1000);
    }
  }
  times.sort((a, b) => a - b);
  const total = [...acc.values()].reduce((t, r) => t + r.ms, 0) / steps;
  const header = `onnxruntime (profiling on): run min ${times[0].toFixed(1)} median ` +
    `${times[times.length >> 1].toFixed(1)} ms; nodes ${total.toFixed(1)} ms`;
  await Deno.remove(path).catch(() => {});
  await Deno.remove(prefix).catch(() => {});
  return { roles: acc, layers, blocks, header };
}

/** Rows of both profiles side by side, ms per step, largest of ours first. */
function table(title: string, ours: Acc, theirs: Acc | null): void {
  const keys = [...new Set([...ours.keys(), ...(theirs?.keys() ?? [])])];
  const ms = (a: Acc | null, k: string) => (a?.get(k)?.ms ?? 0) / steps;
  keys.sort((a, b) => ms(ours, b) - ms(ours, a));
  console.log(`\n${title}\n   lits    ort  calls/step  role`);
  for (const k of keys) {
    const calls = (ours.get(k) ?? theirs?.get(k))!.n / steps;
    const t = theirs ? ms(theirs, k).toFixed(2).padStart(6) : "     -";
    console.log(
      `${ms(ours, k).toFixed(2).padStart(7)} ${t} ${String(calls).padStart(6)}      ${k}`,
    );
  }
  const sum = (a: Acc | null) => [...(a?.values() ?? [])].reduce((t, r) => t + r.ms, 0) / steps;
  console.log(
    `${sum(ours).toFixed(2).padStart(7)} ${
      theirs ? sum(theirs).toFixed(2).padStart(6) : "     -"
    }  total`,
  );
}

console.log(`mobilenetv2 eval, batch ${n} x 1 x ${s} x ${s}, ${steps} profiled steps`);
const theirs = ortModel ? await profileOrt(ortModel) : null;
const ours = profileLits();
console.log(ours.header);
if (theirs) console.log(theirs.header);
table("per role (ms/step)", ours.roles, theirs?.roles ?? null);
table(
  "per block (ms/step; features.N as torchvision names them)",
  ours.blocks,
  theirs?.blocks ?? null,
);
if (args.includes("--layers") || Deno.env.get("LAYERS")) {
  table("per layer (ms/step)", ours.layers, theirs?.layers ?? null);
}
