/**
 * The transformer ops against PyTorch 1.13 on the CPU, in one run: exact and
 * tanh GELU and layer norm (weight and bias) on ConvNeXt-T's first stage
 * channels last ([2, 56, 56, 384]), softmax over the last dimension of
 * ViT-B's attention scores ([96, 197, 197]: 8 images x 12 heads), and one
 * `nn.TransformerEncoderLayer(768, 12)` (train mode, torch's defaults) on
 * ViT-B's tokens ([197, 8, 768]); forward without gradients, and forward +
 * backward (`out.backward(G)` into the inputs, and the layer's parameters).
 * A PyTorch worker (bench/transformer_ops_torch.py, same thread count)
 * answers one case at a time, alternating with this library's runs, so
 * that other work on shared cores falls on both alike. Each side's figure
 * per round is its fastest of `reps`; the table gives the minimum and the
 * median over the rounds, and the ratio (this library's over PyTorch's,
 * below 1: faster) of the minima.
 *
 *   deno run -A bench/transformer_ops.ts [rounds] [reps] [--json] [--only=case,...]
 *
 * `--json` prints one JSON line of every round's figures instead (for
 * comparing two builds: run it once more with `LITS_NATIVE_LIB` naming the
 * other library).
 *
 * @module
 */
import { functional as F, nn, noGrad, randn, scope, type Tensor } from "../mod.ts";
import { describeCpu } from "./peak.ts";
import {
  median,
  runRounds,
  startTorchWorker,
  threads,
  timeOpRuns,
  timeRuns,
  type Times,
} from "./vs_torch.ts";

const flags = Deno.args.filter((a) => a.startsWith("--"));
const args = Deno.args.filter((a) => !a.startsWith("--"));
const json = flags.includes("--json");
const only = flags.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const rounds = Number(args[0] ?? 3);
const reps = Number(args[1] ?? 4);

/** A case: torch's name for it (the worker's), a label, and the input shape. */
interface Case {
  name: string;
  label: string;
  shape: number[];
}
const all: Case[] = [
  { name: "gelu", label: "F.gelu [2,56,56,384]", shape: [2, 56, 56, 384] },
  { name: "gelu_tanh", label: "F.gelu tanh [2,56,56,384]", shape: [2, 56, 56, 384] },
  { name: "layer_norm", label: "F.layerNorm [2,56,56,384]", shape: [2, 56, 56, 384] },
  { name: "softmax", label: "F.softmax(-1) [96,197,197]", shape: [96, 197, 197] },
  { name: "encoder_layer", label: "EncoderLayer(768,12) [197,8,768]", shape: [197, 8, 768] },
];
const cases = only ? all.filter((k) => only.includes(k.name)) : all;

/** The op of a case on this side, and its inputs besides x. */
function op(k: Case): { f: (...xs: Tensor[]) => Tensor; extra: Tensor[]; layer?: nn.Module } {
  const c = k.shape[k.shape.length - 1];
  switch (k.name) {
    case "gelu":
      return { f: (x) => F.gelu(x), extra: [] };
    case "gelu_tanh":
      return { f: (x) => F.gelu(x, { approximate: "tanh" }), extra: [] };
    case "layer_norm":
      return { f: (x, w, b) => F.layerNorm(x, [c], w, b), extra: [randn([c]), randn([c])] };
    case "softmax":
      return { f: (x) => F.softmax(x, -1), extra: [] };
    default: {
      const layer = new nn.TransformerEncoderLayer(c, 12);
      return { f: (x) => layer.forward(x), extra: [], layer };
    }
  }
}

/** This library's times (ms) of `reps` forwards and forward + backwards, after a warm-up. */
function runLits(k: Case): Times {
  const x = randn(k.shape).keep();
  const { f, extra, layer } = op(k);
  extra.forEach((t) => t.keep());
  const g = noGrad(() => randn([...f(x, ...extra).shape])).keep();
  let times: Times;
  if (layer) {
    // The parameters' gradients are freed after each run, as zeroGrad() in a step.
    const leaf = x.detach().requiresGrad_();
    times = timeRuns(
      reps,
      () => noGrad(() => void f(x)),
      () => scope(() => f(leaf).backward(g)),
      () => {
        leaf.grad?.dispose();
        leaf.grad = null;
        layer.zeroGrad();
      },
    );
    leaf.dispose();
    layer.dispose();
  } else {
    times = timeOpRuns(reps, f, [x, ...extra], g);
  }
  [x, g, ...extra].forEach((t) => t.dispose());
  return times;
}

const torch = await startTorchWorker("transformer_ops_torch.py", [`${threads()}`]);
const header = torch.header;
/** Per case and side, each round's fastest forward and forward + backward. */
const best = await runRounds(
  cases,
  ["lits", "torch"] as const,
  rounds,
  (side, k) => side === "lits" ? runLits(k) : torch.ask({ case: k.name, shape: k.shape, reps }),
);
await torch.close();

if (json) {
  const run = { threads: threads(), torch: header, cpu: describeCpu() };
  console.log(JSON.stringify({ ...run, cases: cases.map((k) => k.name), best }));
} else {
  const f = (v: number) => v.toFixed(1).padStart(8);
  console.log(
    `transformer ops vs torch ${header.torch}, ${threads()} threads (torch ${header.threads}); ` +
      `${rounds} rounds of ${reps}; min (median) ms; ${describeCpu()}`,
  );
  console.log(
    "case".padEnd(33) + "   fwd            torch           ratio |" +
      " fwd+bwd        torch           ratio",
  );
  for (const [i, k] of cases.entries()) {
    const cols = (["fwd", "both"] as const).map((p) => {
      const [l, t] = [best[i].lits[p], best[i].torch[p]];
      const [lm, tm] = [Math.min(...l), Math.min(...t)];
      return `${f(lm)} (${f(median(l))})${f(tm)} (${f(median(t))})${
        (lm / tm).toFixed(2).padStart(7)
      }`;
    });
    console.log(`${k.label.padEnd(33)}${cols.join(" |")}`);
  }
}
