/**
 * Opens the collectives libraries lazily and turns their statuses into
 * Errors. `LITS_DIST_LIB` / `LITS_DIST_NCCL_LIB` override the paths (another
 * MPI build); in a checkout a missing or stale library is built first.
 *
 * @module
 */
import { buildDistSync, type DistKind, MPI_INSTALL_COMMAND } from "./build.ts";
import { DIST_ABI_VERSION, type DistSymbols, distSymbols } from "./symbols.ts";

const libs: Partial<Record<DistKind, DistSymbols>> = {};

/** A collectives library's symbols, opened (and in a checkout built) on first use. */
export function distLib(kind: DistKind = "mpi"): DistSymbols {
  const open = libs[kind];
  if (open) return open;
  const override = Deno.env.get(kind === "mpi" ? "LITS_DIST_LIB" : "LITS_DIST_NCCL_LIB");
  const path = override || buildDistSync(false, kind);
  let opened: Deno.DynamicLibrary<typeof distSymbols>;
  try {
    opened = Deno.dlopen(path, distSymbols);
  } catch (e) {
    throw new Error(
      `distributed: cannot open ${path}: ${(e as Error).message}; if MPI is missing, ` +
        `install it with: ${MPI_INSTALL_COMMAND}`,
    );
  }
  const version = new Int32Array(1);
  opened.symbols.lits_dist_abi_version(version);
  if (version[0] !== DIST_ABI_VERSION) {
    opened.close();
    throw new Error(
      `distributed: ${path} has ABI ${version[0]}, this code needs ${DIST_ABI_VERSION}; ` +
        "rebuild it (delete it and run again)",
    );
  }
  const lib = opened.symbols as unknown as DistSymbols;
  libs[kind] = lib;
  return lib;
}

/** The text of the library's last error. */
export function distLastError(l: DistSymbols): string {
  const p = l.lits_dist_last_error();
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/** Throws `distributed: <what>: <engine's text>` when status is not 0. */
export function distCheck(l: DistSymbols, status: number, what: () => string): void {
  if (status !== 0) {
    throw new Error(`distributed: ${what()}: ${distLastError(l) || `status ${status}`}`);
  }
}
