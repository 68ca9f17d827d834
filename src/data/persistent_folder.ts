/**
 * The folder of a `PersistentDataset`: created and probed (read-only when it
 * cannot be written), the temporary files of killed runs removed, and the
 * warnings its files and folders give, each once per thread.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

/** A temporary file: `<key>.safetensors.tmp-<host>-<pid>-<8 hex>` (host "_": unknown). */
const TEMP = /^[0-9a-f]{64}\.safetensors\.tmp-([A-Za-z0-9._]+)-(\d+)-[0-9a-f]{8}$/;
/** A temporary file this old, of a dead process of this host, is a killed run's. */
const DEAD_AFTER_MS = 3600_000;

/** What was reported in this thread (each once): damaged files, read-only and unwritable folders. */
export const warned = new Set<string>();

/** @internal forgets every warning given: damaged files, read-only and unwritable folders (for tests). */
export function resetWarnings(): void {
  warned.clear();
}

/**
 * Creates `dir` if missing and checks that files can be written in it:
 * true if so, false for a folder that exists and can be read but not
 * written (used read-only); any other failure is an Error naming it.
 */
export function prepareDir(where: string, dir: string): boolean {
  const fail = (what: string, e: unknown) =>
    new Error(
      `${where}: cacheDir ${JSON.stringify(dir)} cannot be ${what} (${(e as Error).message}); ` +
        `give a folder you can write, or cacheDir: null for no cache`,
      { cause: e },
    );
  let stat: Deno.FileInfo | null = null;
  try {
    stat = Deno.statSync(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw fail("used", e);
  }
  if (stat && !stat.isDirectory) {
    throw new Error(
      `${where}: cacheDir ${JSON.stringify(dir)} is a file, not a folder; give a folder ` +
        `(created if missing) or null for no cache`,
    );
  }
  if (!stat) {
    try {
      Deno.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw fail("created", e);
    }
  }
  const probe = join(dir, `.probe-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    Deno.writeFileSync(probe, new Uint8Array(0), { createNew: true });
    Deno.removeSync(probe);
    return true;
  } catch (e) {
    try {
      for (const _ of Deno.readDirSync(dir)) break;
    } catch {
      throw fail("written or read", e);
    }
    if (!warned.has(`read-only ${dir}`)) {
      warned.add(`read-only ${dir}`);
      console.warn(
        `warning: ${where}: cacheDir ${JSON.stringify(dir)} cannot be written ` +
          `(${(e as Error).message}); using it read-only: its valid cache files are served, ` +
          `a missing sample is computed and not written`,
      );
    }
    return false;
  }
}

/** This host's name as temporary files carry it (letters, digits, "." and "_"), or null. */
let hostTag: string | null | undefined;
export function host(): string | null {
  if (hostTag === undefined) {
    try {
      // Needs --allow-sys (the library's tasks run with -A); without it: unknown.
      hostTag = Deno.hostname().replace(/[^A-Za-z0-9.]/g, "_").slice(0, 64) || null;
    } catch {
      hostTag = null;
    }
  }
  return hostTag;
}

/**
 * Removes temporary files that killed runs left in `dir`: written on this
 * host by a process that is gone and last changed over an hour ago. A
 * process in another PID namespace (a container) or on another machine
 * sharing the folder cannot be seen in /proc; the age keeps their live
 * files (a writer changes its file every few seconds until its rename).
 */
export function removeDeadTemporaries(dir: string): void {
  const me = host();
  if (me === null || !existsSync("/proc/self")) return; // no way to tell: they stay
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || m[1] !== me || Number(m[2]) === Deno.pid || existsSync(`/proc/${m[2]}`)) continue;
    try {
      const path = join(dir, name);
      const mtime = Deno.statSync(path).mtime?.getTime();
      if (mtime === undefined || Date.now() - mtime < DEAD_AFTER_MS) continue;
      Deno.removeSync(path);
    } catch {
      // Another process removed it first.
    }
  }
}
