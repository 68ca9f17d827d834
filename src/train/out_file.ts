/**
 * The check of a file a command writes (`--out` of evaluate and export):
 * made before the work, so that a typo fails at once, and strict enough
 * that the command cannot replace what the user keeps: `--out` pointed at
 * the checkpoint once replaced the weights with a report.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { UsageError } from "./errors.ts";

/**
 * Throws a `UsageError` unless `out` can take the command's output: it ends
 * with `ext`, its folder exists, it is not a folder, and it is none of
 * `inputs` (the files the command reads).
 */
export async function checkOutFile(out: string, ext: string, inputs: readonly string[]) {
  if (out === "") throw new UsageError("--out needs a file name");
  if (!out.toLowerCase().endsWith(ext)) {
    throw new UsageError(
      `--out ${out}: the output is a ${ext} file; give a name ending in ${ext} (a name that ` +
        "does not could be a file you keep, such as the weights)",
    );
  }
  if (inputs.some((i) => resolve(i) === resolve(out))) {
    throw new UsageError(`--out ${out} is an input of this command; give another name`);
  }
  const folder = dirname(out);
  if (!(await Deno.stat(folder).catch(() => null))?.isDirectory) {
    throw new UsageError(`--out ${out}: folder ${folder} does not exist; create it first`);
  }
  if ((await Deno.stat(out).catch(() => null))?.isDirectory) {
    throw new UsageError(`--out ${out} is a folder; give a file name ending in ${ext}`);
  }
}
