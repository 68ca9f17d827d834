/**
 * Does bf16 autocast cost accuracy? `deno task train` with each seed three
 * times: float32, `--precision bf16`, and float32 with only its summation
 * order changed (`LITS_CONV_ALGO=gemm`: im2col and GEMM instead of Winograd
 * and the direct kernels), which measures how far training's own chaos
 * moves a run from the same seed. Each run's test macro-F1 (from its log),
 * and its macro-F1 on every split of a fresh synthetic sample pooled (a
 * larger, less noisy test), in the run's own precision; then each
 * variant's mean gap to float32, its standard error, and how many seeds
 * stay within 0.02.
 *
 *   deno run -A scripts/bf16_accuracy.ts [--seeds 0,1,2] [--fresh DIR] [--out DIR]
 *
 * --fresh: a data folder of unseen patients (default: `deno task synth
 * --seed 1 --patients 60` made in --out). --out: where the runs go
 * (default: a new temporary folder). About 1.5 minutes a run on 2 cores.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadModelState, loadWeights } from "../src/train/checkpoint.ts";
import { evalTransforms } from "../src/train/data.ts";
import { ResizedSplit } from "../src/train/resized_split.ts";
import { buildModel } from "../src/train/setup.ts";
import { weightsSpec } from "../src/train/flag_specs.ts";
import { testSplit } from "../src/train/test_report.ts";
import { inPrecision } from "../src/train/precision.ts";
import { classificationReport } from "../src/eval/metrics/report.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "0,1,2" },
    fresh: { type: "string" },
    out: { type: "string" },
  },
});
const seeds = values.seeds.split(",").map((s) => (s.trim() === "" ? NaN : Number(s)));
if (seeds.some((s) => !Number.isInteger(s) || s < 0)) {
  console.error(`--seeds takes integers >= 0 separated by commas, not '${values.seeds}'`);
  Deno.exit(2);
}
const out = values.out ?? await Deno.makeTempDir({ prefix: "lits-bf16-accuracy-" });
const here = new URL("..", import.meta.url).pathname;

/** Runs `deno run -A scripts/<script> ...args` in the checkout; its stdout. */
async function deno(script: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(here, "scripts", script), ...args],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(r.stdout);
  if (!r.success) throw new Error(`${script} ${args.join(" ")} failed:\n${text}`);
  return text;
}

const fresh = values.fresh ?? join(out, "fresh");
if (!values.fresh) await deno("synth.ts", ["--out", fresh, "--seed", "1", "--patients", "60"]);

/** Macro-F1 of a run's best weights on every split of `root` pooled, in its precision. */
async function pooledF1(weightsFile: string, precision: "fp32" | "bf16"): Promise<number> {
  const weights = await loadWeights(weightsFile);
  try {
    const spec = weightsSpec(weights.spec, { checkpoint: weightsFile }, "--model");
    const yTrue: number[] = [], yPred: number[] = [];
    for (const split of ["train", "val", "test"]) {
      const ds = new ResizedSplit({ root: fresh, split });
      try {
        using model = buildModel(spec);
        loadModelState(model, weights.state, weightsFile, spec);
        const transform = evalTransforms(spec, ds.width, ds.height);
        const loading = { batchSize: 64, transform, workers: 0, device: "cpu" as const };
        const { evaluation } = await inPrecision(
          precision,
          async () => await testSplit(model, ds, loading),
        );
        yTrue.push(...evaluation.yTrue);
        yPred.push(...evaluation.yPred);
      } finally {
        ds.close();
      }
    }
    const r = classificationReport(Int32Array.from(yTrue), Int32Array.from(yPred), {
      numClasses: 3,
    });
    return r.macroAvg.f1;
  } finally {
    weights.dispose();
  }
}

const VARIANTS = {
  fp32: { args: [], env: {}, precision: "fp32" },
  bf16: { args: ["--precision", "bf16"], env: {}, precision: "bf16" },
  "fp32 gemm": { args: [], env: { LITS_CONV_ALGO: "gemm" }, precision: "fp32" },
} as const;
type Variant = keyof typeof VARIANTS;
const results: Record<Variant, { test: number; fresh: number }[]> = {
  fp32: [],
  bf16: [],
  "fp32 gemm": [],
};

for (const seed of seeds) {
  for (const [name, v] of Object.entries(VARIANTS) as [Variant, typeof VARIANTS[Variant]][]) {
    const dir = join(out, `seed${seed}-${name.replace(" ", "-")}`);
    const log = await deno("train.ts", ["--seed", String(seed), "--out", dir, ...v.args], v.env);
    const test = Number(log.match(/^test\b.*macro-F1 ([0-9.]+)/m)?.[1]);
    if (!Number.isFinite(test)) throw new Error(`no test macro-F1 in the log of ${dir}`);
    const freshF1 = await pooledF1(join(dir, "best.safetensors"), v.precision);
    results[name].push({ test, fresh: freshF1 });
    console.log(`seed ${seed} ${name}: test ${test.toFixed(3)}, fresh ${freshF1.toFixed(4)}`);
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) =>
  Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
console.log(`\n${seeds.length} seeds (${seeds.join(", ")}); runs in ${out}; fresh sample ${fresh}`);
for (const key of ["test", "fresh"] as const) {
  console.log(
    `${key} macro-F1: ` + (Object.keys(VARIANTS) as Variant[])
      .map((v) => `${v} ${mean(results[v].map((r) => r[key])).toFixed(4)}`).join(", "),
  );
  for (const v of ["bf16", "fp32 gemm"] as const) {
    const gaps = results[v].map((r, i) => r[key] - results.fp32[i][key]);
    const within = gaps.filter((g) => Math.abs(g) <= 0.02).length;
    console.log(
      `  ${v} - fp32: mean ${mean(gaps).toFixed(4)}, standard error ${
        (sd(gaps) / Math.sqrt(gaps.length)).toFixed(4)
      }, within 0.02 in ${within} of ${gaps.length} (${gaps.map((g) => g.toFixed(3)).join(" ")})`,
    );
  }
}
