/**
 * `F.interpolate` against PyTorch 1.13's `interpolate` on the CPU, in one
 * run: downsizing [16, 1, 512, 512] images to 224 x 224 (bilinear and
 * bicubic, antialiased or not), upsampling (nearest x2, bilinear), a
 * trilinear volume and a 1-D linear signal; forward without gradients,
 * and forward + backward (`out.backward(G)` into the input). A PyTorch
 * worker (bench/interpolate_torch.py, same thread count) answers one case
 * at a time, alternating with this library's runs, so that other work on
 * shared cores falls on both alike. Each side's figure per round is its
 * fastest of `reps`; the table gives the minimum and the median over the
 * rounds, and the ratio (this library's over PyTorch's, below 1: faster)
 * of the minima.
 *
 *   deno run -A bench/interpolate_bench.ts [rounds] [reps] [--json]
 *
 * `--json` prints one JSON line of every round's figures instead (for
 * comparing two builds in alternating processes).
 *
 * @module
 */
import { functional as F, noGrad, randn } from "../mod.ts";
import { describeCpu } from "./peak.ts";
import {
  median,
  runRounds,
  startTorchWorker,
  threads,
  timeOpRuns,
  type Times,
} from "./vs_torch.ts";

const args = Deno.args.filter((a) => a !== "--json");
const json = Deno.args.includes("--json");
const rounds = Number(args[0] ?? 3);
const reps = Number(args[1] ?? 4);

/** A case: input shape and options, ours and torch's names. */
interface Case {
  name: string;
  shape: number[];
  opts: F.InterpolateOptions;
  torch: Record<string, unknown>;
}
const down = { size: [224, 224] };
const cases: Case[] = [
  ["bilinear 512->224", [16, 1, 512, 512], { ...down, mode: "bilinear" }],
  ["bilinear aa 512->224", [16, 1, 512, 512], { ...down, mode: "bilinear", antialias: true }],
  ["bicubic 512->224", [16, 1, 512, 512], { ...down, mode: "bicubic" }],
  ["bicubic aa 512->224", [16, 1, 512, 512], { ...down, mode: "bicubic", antialias: true }],
  ["nearest 224->448", [16, 1, 224, 224], { size: [448, 448], mode: "nearest" }],
  ["bilinear 3x128->256", [16, 3, 128, 128], { size: [256, 256], mode: "bilinear" }],
  ["trilinear 48x96²->64x128²", [2, 1, 48, 96, 96], {
    size: [64, 128, 128],
    mode: "trilinear",
  }],
  ["linear 64x1000->1500", [16, 64, 1000], { size: 1500, mode: "linear" }],
].map(([name, shape, opts]) => {
  const o = opts as F.InterpolateOptions;
  const torch: Record<string, unknown> = { size: o.size, mode: o.mode };
  if (o.antialias) torch.antialias = true;
  return { name: name as string, shape: shape as number[], opts: o, torch };
});

/** This library's times (ms) of `reps` forwards and forward + backwards, after a warm-up. */
function runLits(k: Case): Times {
  const x = randn(k.shape).keep();
  const g = noGrad(() => randn([...F.interpolate(x, k.opts).shape])).keep();
  const times = timeOpRuns(reps, (t) => F.interpolate(t, k.opts), [x], g);
  [x, g].forEach((t) => t.dispose());
  return times;
}

const torch = await startTorchWorker("interpolate_torch.py", [`${threads()}`]);
const header = torch.header;
/** Per case and side, each round's fastest forward and forward + backward. */
const best = await runRounds(
  cases,
  ["lits", "torch"] as const,
  rounds,
  (side, k) => side === "lits" ? runLits(k) : torch.ask({ shape: k.shape, opts: k.torch, reps }),
);
await torch.close();

if (json) {
  const run = { threads: threads(), torch: header, cpu: describeCpu() };
  console.log(JSON.stringify({ ...run, cases: cases.map((k) => k.name), best }));
} else {
  const f = (v: number) => v.toFixed(1).padStart(8);
  console.log(
    `F.interpolate vs torch ${header.torch}, ${threads()} threads (torch ${header.threads}); ` +
      `${rounds} rounds of ${reps}; min (median) ms; ${describeCpu()}`,
  );
  console.log(
    "case".padEnd(27) + "   fwd            torch           ratio |" +
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
    console.log(`${k.name.padEnd(27)}${cols.join(" |")}`);
  }
}
