/**
 * `F.gridSample` against PyTorch 1.13's `grid_sample` on the CPU, in one
 * run: [16, C, 256, 256] inputs sampled at affine grids of the same size
 * (image i turned by 0.1 i rad and zoomed by 1.1, so the grid leaves the
 * image at the corners), forward without gradients, and forward +
 * backward (`out.backward(G)` into the input and the grid). A PyTorch
 * worker (bench/grid_sample_torch.py, same thread count) answers one case
 * at a time, alternating with this library's runs, so that other work on
 * shared cores falls on both alike; each side's figure is its fastest
 * time over all rounds (on a shared machine the slower ones measure the
 * other work), and the ratio is this library's over PyTorch's (below 1:
 * faster).
 *
 *   deno run -A bench/grid_sample_vs_torch.ts [rounds] [reps]
 *
 * @module
 */
import { functional as F, randn, type Tensor, tensor } from "../mod.ts";
import { describeCpu } from "./peak.ts";
import { runRounds, startTorchWorker, threads, timeOpRuns, type Times } from "./vs_torch.ts";

const rounds = Number(Deno.args[0] ?? 5);
const reps = Number(Deno.args[1] ?? 6);
const [n, h, w] = [16, 256, 256];

type Case = {
  c: number;
  mode: F.GridSampleMode;
  padding: F.GridSamplePaddingMode;
  align: boolean;
};
const cases: Case[] = [
  { c: 1, mode: "bilinear", padding: "zeros", align: false },
  { c: 3, mode: "bilinear", padding: "zeros", align: false },
  { c: 1, mode: "bilinear", padding: "border", align: false },
  { c: 1, mode: "bilinear", padding: "reflection", align: true },
  { c: 3, mode: "bilinear", padding: "reflection", align: false },
  { c: 1, mode: "nearest", padding: "zeros", align: false },
  { c: 3, mode: "nearest", padding: "border", align: false },
  { c: 1, mode: "nearest", padding: "reflection", align: true },
];

/** The affine maps of grid_sample_torch.py's `thetas`. */
function thetas(): Tensor {
  const rows = Array.from({ length: n }, (_, i) => {
    const a = 0.1 * i;
    return [[Math.cos(a) * 1.1, -Math.sin(a), 0.05], [Math.sin(a), Math.cos(a) * 1.1, -0.03]];
  });
  return tensor(rows.flat(2), [n, 2, 3]);
}

const inputs = new Map<string, [Tensor, Tensor, Tensor]>();
function inputsOf(c: number, align: boolean): [Tensor, Tensor, Tensor] {
  const key = `${c} ${align}`;
  if (!inputs.has(key)) {
    const grid = F.affineGrid(thetas(), [n, c, h, w], { alignCorners: align });
    inputs.set(key, [randn([n, c, h, w]).keep(), grid.keep(), randn([n, c, h, w]).keep()]);
  }
  return inputs.get(key)!;
}

/** This library's times (ms) of `reps` forwards and forward + backwards, after a warm-up. */
function runLits(k: Case): Times {
  const [x, grid, g] = inputsOf(k.c, k.align);
  const options = { mode: k.mode, paddingMode: k.padding, alignCorners: k.align };
  return timeOpRuns(reps, (a, b) => F.gridSample(a, b, options), [x, grid], g);
}

const torch = await startTorchWorker("grid_sample_torch.py", [
  `${n}`,
  `${h}`,
  `${w}`,
  `${threads()}`,
]);
const header = torch.header;
const best = await runRounds(
  cases,
  ["lits", "torch"] as const,
  rounds,
  (side, k) => side === "lits" ? runLits(k) : torch.ask({ ...k, reps }),
);
await torch.close();

console.log(
  `F.gridSample vs torch ${header.torch} grid_sample, [${n}, C, ${h}, ${w}], ` +
    `${threads()} threads (torch ${header.threads}); ${rounds} rounds of ${reps}; ${describeCpu()}`,
);
console.log("case                              fwd ms  torch   ratio | fwd+bwd ms  torch   ratio");
for (const [i, k] of cases.entries()) {
  const name = `C=${k.c} ${k.mode} ${k.padding}${k.align ? " align" : ""}`.padEnd(32);
  const [lf, tf] = [Math.min(...best[i].lits.fwd), Math.min(...best[i].torch.fwd)];
  const [lb, tb] = [Math.min(...best[i].lits.both), Math.min(...best[i].torch.both)];
  const f = (v: number) => v.toFixed(2).padStart(7);
  console.log(`${name}${f(lf)}${f(tf)}${f(lf / tf)} |    ${f(lb)}${f(tb)}${f(lb / tb)}`);
}
