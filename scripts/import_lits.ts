/**
 * `deno task import-lits`: the LiTS challenge's NIfTI volumes to the course's
 * PNG + CSV layout.
 *
 *   deno task import-lits --source /data/LiTS --out data/lits [--size 256]
 *     [--window -200,250] [--split 0.7,0.15,0.15] [--seed 0] [--step 1]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { importLiTSVolumes } from "../src/data/mod.ts";
import { reportError } from "../src/train/cli.ts";
import { parsedArgs, UsageError } from "../src/train/errors.ts";

async function main(): Promise<number> {
  const { values } = parsedArgs(() =>
    parseArgs({
      args: Deno.args,
      options: {
        source: { type: "string" },
        out: { type: "string", default: "data/lits" },
        size: { type: "string", default: "256" },
        window: { type: "string", default: "-200,250" },
        split: { type: "string", default: "0.7,0.15,0.15" },
        seed: { type: "string", default: "0" },
        step: { type: "string", default: "1" },
        help: { type: "boolean", short: "h", default: false },
      },
    })
  );
  if (values.help || !values.source) {
    console.log(
      "deno task import-lits --source DIR --out DIR [--size 256] [--window -200,250] " +
        "[--split 0.7,0.15,0.15] [--seed 0] [--step 1]",
    );
    return values.help ? 0 : 2;
  }
  const numbers = (name: string, v: string, n: number) => {
    const xs = v.split(",").map(Number);
    if (xs.length !== n || xs.some((x) => !Number.isFinite(x))) {
      throw new UsageError(`--${name} must be ${n} comma-separated numbers, not ${v}`);
    }
    return xs;
  };
  const start = performance.now();
  const summary = await importLiTSVolumes({
    source: values.source,
    out: values.out,
    size: numbers("size", values.size, 1)[0],
    window: numbers("window", values.window, 2) as [number, number],
    split: numbers("split", values.split, 3) as [number, number, number],
    seed: numbers("seed", values.seed, 1)[0],
    sliceStep: numbers("step", values.step, 1)[0],
    onProgress: (done, total) =>
      Deno.stdout.writeSync(new TextEncoder().encode(`\rvolume ${done}/${total}`)),
  });
  console.log(`\nwrote ${values.out} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  for (const split of ["train", "val", "test"] as const) {
    console.log(
      `${split.padEnd(5)} ${summary.volumes[split].length} volumes ${summary.slices[split]} slices`,
    );
  }
  console.log(`classes ${summary.classCounts.join(" / ")}`);
  return 0;
}

try {
  Deno.exit(await main());
} catch (e) {
  Deno.exit(reportError(e));
}
