/**
 * The small data set the training tests share: synthetic LiTS, easy preset,
 * 8 patients of 12 slices (about 100 slices of 64^2), trained at 16^2 so a
 * whole run takes about a second. Generated once into the temp folder and
 * reused (synthesizeLiTS finds it complete).
 *
 * @module
 */
import { join } from "node:path";
import { data, train } from "../mod.ts";

/** Builds (or finds) the shared test data set; returns its folder. */
export async function trainTestData(): Promise<string> {
  const out = join(Deno.env.get("TMPDIR") ?? "/tmp", "lits-vision-train-test-data");
  await data.synthesizeLiTS({ out, preset: "easy", patients: 8, slicesPerPatient: 12, seed: 3 });
  return out;
}

/**
 * Runs `fn` over a tiny synthetic split (easy preset, 3 patients of 4 slices
 * of `size` x `size`) at `root`, inside a temporary folder `dir` removed
 * after; the tiny split's missing-class warnings are silenced meanwhile.
 */
export async function withTinyLiTS(
  size: number,
  fn: (root: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const warn = console.warn;
  console.warn = () => {};
  try {
    const root = join(dir, "data");
    await data.synthesizeLiTS({
      out: root,
      preset: "easy",
      size,
      patients: 3,
      slicesPerPatient: 4,
    });
    await fn(root, dir);
  } finally {
    console.warn = warn;
    await Deno.remove(dir, { recursive: true });
  }
}

/** Flags for a quick run on that data. */
export function quickFlags(dataDir: string, out: string, epochs = 3): string[] {
  return [
    "--data",
    dataDir,
    "--out",
    out,
    "--epochs",
    String(epochs),
    "--image-size",
    "16",
    "--batch-size",
    "16",
    "--augment",
    "none",
    "--seed",
    "7",
  ];
}

/** Runs a command main (trainMain, evaluateMain, predictMain) in-process, capturing what it prints. */
export async function capture(main: (args: string[]) => Promise<number>, args: string[]) {
  const out: string[] = [], err: string[] = [];
  const { log, error, warn } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = console.warn = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await main(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    Object.assign(console, { log, error, warn });
  }
}

/**
 * The test loss a finished run logged (metrics.jsonl) and the one
 * `evaluate --checkpoint <out>/checkpoint.safetensors --split test` prints:
 * equal when evaluate rebuilds the run's model and preprocessing.
 */
export async function fitAndEvaluateTestLoss(
  out: string,
): Promise<{ fit: number; evaluate: number }> {
  const lines = (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n");
  const test = lines.map((l) => JSON.parse(l)).find((l) => l.type === "test");
  const e = await capture(train.evaluateMain, [
    "--checkpoint",
    join(out, "checkpoint.safetensors"),
    "--split",
    "test",
  ]);
  if (e.code !== 0) throw new Error(`evaluate exited with ${e.code}: ${e.stderr}`);
  return { fit: test.loss, evaluate: Number(e.stdout.match(/loss (\d+\.\d+)/)![1]) };
}
