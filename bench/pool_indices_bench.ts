/**
 * Max pooling with indices (and dilation), the adaptive max pool with
 * indices and max unpooling on the CPU: the native kernels
 * (native/cpu/pool_indices.c), the composed path they replace (the same
 * process with the kernels hidden, as on a backend without them) and
 * PyTorch 1.13, in one run; forward without gradients, and forward +
 * backward (`out.backward(G)` into the input). A PyTorch worker
 * (bench/pool_indices_torch.py, same thread count) answers one case at a
 * time, alternating with this library's runs, so that other work on shared
 * cores falls on all alike. Each side's figure per round is its fastest of
 * `reps`; the table gives the minima over the rounds, and the ratios
 * (native over composed, native over torch; below 1: faster).
 *
 *   deno run -A bench/pool_indices_bench.ts [rounds] [reps] [--no-composed]
 *
 * @module
 */
import { functional as F, noGrad, randn, type Tensor } from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { describeCpu } from "./peak.ts";
import { runRounds, startTorchWorker, threads, timeOpRuns, type Times } from "./vs_torch.ts";

const args = Deno.args.filter((a) => !a.startsWith("--"));
const rounds = Number(args[0] ?? 3);
const reps = Number(args[1] ?? 3);
const withComposed = !Deno.args.includes("--no-composed");

/** The kernels whose absence sends the ops down the composed path. */
const NATIVE = [
  "lits_maxpool_indices_f32",
  "lits_maxpool_indices_backward_f32",
  "lits_max_unpool_f32",
  "lits_max_unpool_backward_f32",
];

/** A case: its name (torch's worker knows it too), input shape, and the op. */
interface Case {
  name: string;
  shape: number[];
  op: (x: Tensor) => Tensor;
}

/** F.maxUnpool2d at the indices of a 2x2 pool of a [n, c, 2h, 2w] input (kept). */
function unpoolOf([n, c, h, w]: number[]): (x: Tensor) => Tensor {
  const [, idx] = noGrad(() =>
    F.maxPool2d(randn([n, c, 2 * h, 2 * w]), 2, { returnIndices: true })
  );
  idx.keep();
  return (x) => F.maxUnpool2d(x, idx, 2);
}

const cases: Case[] = [
  {
    name: "maxPool2d k2 indices",
    shape: [16, 64, 128, 128],
    op: (x) => F.maxPool2d(x, 2, { returnIndices: true })[0],
  },
  {
    name: "maxPool2d k3s2p1 indices",
    shape: [16, 64, 112, 112],
    op: (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1, returnIndices: true })[0],
  },
  {
    name: "maxPool2d k3 dilation 2",
    shape: [16, 32, 64, 64],
    op: (x) => F.maxPool2d(x, 3, { dilation: 2 }),
  },
  {
    name: "maxPool1d k3s2 indices",
    shape: [16, 64, 4096],
    op: (x) => F.maxPool1d(x, 3, { stride: 2, returnIndices: true })[0],
  },
  {
    name: "maxPool3d k2 indices",
    shape: [4, 16, 32, 64, 64],
    op: (x) => F.maxPool3d(x, 2, { returnIndices: true })[0],
  },
  {
    name: "adaptiveMaxPool2d 7x7 indices",
    shape: [16, 256, 28, 28],
    op: (x) => F.adaptiveMaxPool2d(x, 7, { returnIndices: true })[0],
  },
  { name: "maxUnpool2d k2", shape: [16, 64, 64, 64], op: unpoolOf([16, 64, 64, 64]) },
  {
    name: "pool+unpool (SegNet) k2",
    shape: [16, 64, 128, 128],
    op: (x) => {
      const [v, i] = F.maxPool2d(x, 2, { returnIndices: true });
      return F.maxUnpool2d(v, i, 2);
    },
  },
];

/** fn() with the native kernels hidden (the composed path), or as it is. */
function path<T>(native: boolean, fn: () => T): T {
  if (native) return fn();
  const lib = cpuLib() as unknown as Record<string, unknown>;
  const saved = NATIVE.map((name) => lib[name]);
  NATIVE.forEach((name) => lib[name] = null);
  try {
    return fn();
  } finally {
    NATIVE.forEach((name, i) => lib[name] = saved[i]);
  }
}

/** This library's times (ms) of `reps` forwards and forward + backwards, after a warm-up. */
function runLits(k: Case, native: boolean): Times {
  return path(native, () => {
    const x = randn(k.shape).keep();
    const g = noGrad(() => randn([...k.op(x).shape])).keep();
    const times = timeOpRuns(reps, k.op, [x], g);
    [x, g].forEach((t) => t.dispose());
    return times;
  });
}

const torch = await startTorchWorker("pool_indices_torch.py", [`${threads()}`]);
const header = torch.header;
type Side = "native" | "composed" | "torch";
const sides: Side[] = withComposed ? ["native", "composed", "torch"] : ["native", "torch"];
/** Per case and side, each round's fastest forward and forward + backward. */
const best = await runRounds(
  cases,
  sides,
  rounds,
  (side, k) =>
    side === "torch"
      ? torch.ask({ case: k.name, shape: k.shape, reps })
      : runLits(k, side === "native"),
);
await torch.close();

const f = (v: number) => v.toFixed(1).padStart(8);
console.log(
  `max pool with indices / unpool vs torch ${header.torch}, ${threads()} threads (torch ` +
    `${header.threads}); ${rounds} rounds of ${reps}; min ms; ${describeCpu()}`,
);
const cols = withComposed ? "  native composed    torch  n/c   n/t" : "  native    torch   n/t";
console.log(`${"case".padEnd(30)} fwd:${cols} | fwd+bwd:${cols}`);
for (const [i, k] of cases.entries()) {
  const part = (p: keyof Times) => {
    const m = Object.fromEntries(sides.map((s) => [s, Math.min(...best[i][s][p])]));
    const ratio = (a: number, b: number) => (a / b).toFixed(2).padStart(6);
    return withComposed
      ? `${f(m.native)}${f(m.composed)}${f(m.torch)}${ratio(m.native, m.composed)}${
        ratio(m.native, m.torch)
      }`
      : `${f(m.native)}${f(m.torch)}${ratio(m.native, m.torch)}`;
  };
  console.log(`${k.name.padEnd(30)}     ${part("fwd")} |         ${part("both")}`);
}
