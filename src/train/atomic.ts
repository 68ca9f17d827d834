/**
 * Atomic file replacement: write a temporary file beside the target, flush
 * it to disk, then rename it over the target. A reader (or a run resumed
 * after `kill -9` or a power cut) sees the old file or the new one, never a
 * mix; a failed write (full disk) leaves the old file as it was.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { faultAt } from "./faults.ts";
import { type CallContract, checkContract } from "../options.ts";

/** Temporary files are `<name>.tmp-<pid>-<random>`; leftovers of killed runs match this. */
const TMP_INFIX = ".tmp-";

let checkpointWrites = 0;

const WRITE_FILE_ATOMIC: CallContract<{ checkpoint?: boolean }> = {
  where: "train.writeFileAtomic",
  most: 3,
  known: ["checkpoint"],
  usage: "train.writeFileAtomic(path, bytes, { checkpoint: true })",
};

/**
 * Writes `bytes` to `path` atomically (see the module doc). `faultName`
 * marks the checkpoint writes that the tests break on purpose.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const dir = await Deno.makeTempDir();
 * await train.writeFileAtomic(`${dir}/a.bin`, new Uint8Array([1, 2, 3]));
 * console.log((await Deno.readFile(`${dir}/a.bin`)).length); // 3
 * ```
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: { checkpoint?: boolean } = {},
): Promise<void> {
  options = checkContract(WRITE_FILE_ATOMIC, arguments.length, options);
  const tmp = `${path}${TMP_INFIX}${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const write = options.checkpoint ? ++checkpointWrites : 0;
  const cannot = (e: unknown) =>
    new Error(`cannot write ${path}: ${(e as Error).message}`, { cause: e });
  let file: Deno.FsFile;
  try {
    file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  } catch (e) {
    throw cannot(e); // named by the file asked for, not the temporary one
  }
  try {
    const half = bytes.length >> 1;
    await writeAll(file, bytes.subarray(0, half));
    if (write > 0 && faultAt("kill-in-checkpoint") === write) {
      await file.sync();
      Deno.kill(Deno.pid, "SIGKILL");
      await new Promise(() => {}); // the signal arrives; nothing after this runs
    }
    if (write > 0 && faultAt("checkpoint-write") === write) {
      throw new Error("No space left on device (os error 28) [injected by LITS_TRAIN_FAULT]");
    }
    await writeAll(file, bytes.subarray(half));
    await file.sync();
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw cannot(e);
  }
  file.close();
  try {
    await Deno.rename(tmp, path);
  } catch (e) {
    // A folder at path, say: the temporary file must not stay behind.
    await Deno.remove(tmp).catch(() => {});
    throw cannot(e);
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/**
 * Removes temporary files that a killed process left beside `path` (they
 * are never read: only a renamed, complete file is). Returns their names.
 */
export async function removeStaleTemporaries(path: string): Promise<string[]> {
  const prefix = basename(path) + TMP_INFIX;
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(dirname(path))) {
      if (entry.isFile && entry.name.startsWith(prefix)) {
        await Deno.remove(join(dirname(path), entry.name));
        removed.push(entry.name);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}
