/**
 * `deno task synth`: writes a synthetic LiTS dataset in the course's layout.
 *
 *   deno task synth --out data/synthetic [--preset realistic|easy] [--seed 0]
 *     [--patients 30] [--slices 100] [--size 128] [--mix 0.69,0.18,0.13] [--force]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { synthesizeLiTS } from "../src/data/mod.ts";
import { reportError } from "../src/train/cli.ts";
import { parsedArgs, UsageError } from "../src/train/errors.ts";

async function main(): Promise<number> {
  const { values } = parsedArgs(() =>
    parseArgs({
      args: Deno.args,
      options: {
        out: { type: "string", default: "data/synthetic" },
        preset: { type: "string", default: "realistic" },
        seed: { type: "string", default: "0" },
        patients: { type: "string" },
        slices: { type: "string" },
        size: { type: "string" },
        mix: { type: "string" },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    })
  );
  if (values.help) {
    console.log(
      "deno task synth --out DIR [--preset realistic|easy] [--seed N] [--patients N] " +
        "[--slices N] [--size PX] [--mix a,b,c] [--force]",
    );
    return 0;
  }
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, not ${v}`);
    return n;
  };
  const mix = values.mix?.split(",").map(Number);
  if (mix && (mix.length !== 3 || mix.some((v) => !Number.isFinite(v)))) {
    throw new UsageError(`--mix must be three numbers like 0.69,0.18,0.13, not ${values.mix}`);
  }
  const summary = await synthesizeLiTS({
    out: values.out,
    preset: values.preset as "realistic" | "easy",
    seed: int("seed", values.seed),
    patients: int("patients", values.patients),
    slicesPerPatient: int("slices", values.slices),
    size: int("size", values.size),
    classMix: mix as [number, number, number] | undefined,
    reuse: !values.force,
    onProgress: (done, total) =>
      Deno.stdout.writeSync(new TextEncoder().encode(`\rpatient ${done}/${total}`)),
  });
  const pct = (c: number[]) => {
    const n = c.reduce((a, b) => a + b, 0);
    return c.map((v) => `${((100 * v) / n).toFixed(1)}%`).join(" / ");
  };
  console.log(
    summary.reused
      ? `reused ${summary.out}`
      : `\nwrote ${summary.out} in ${summary.seconds.toFixed(1)} s`,
  );
  for (const [name, s] of Object.entries(summary.splits)) {
    console.log(
      `${name.padEnd(5)} ${String(s.patients.length).padStart(3)} patients ${
        String(s.slices).padStart(6)
      } slices  ${pct(s.classCounts)}`,
    );
  }
  console.log(`all   classes ${summary.classCounts.join(" / ")}  (${pct(summary.classCounts)})`);
  return 0;
}

try {
  Deno.exit(await main());
} catch (e) {
  Deno.exit(reportError(e));
}
