/**
 * Builds the MPI collectives library (`native/build/liblits_dist_mpi.so`)
 * from `native/dist` against the system's MPI (`mpicc --showme` gives its
 * flags). Separate from the CPU build: only a multi-process run needs MPI.
 *
 * @module
 */

/** The sources of the MPI library, kept equal to the folder by a test. */
export const DIST_MPI_SOURCES = ["dist_common.h", "dist_common.c", "dist_mpi.c"] as const;

/** The Debian packages the MPI library needs. */
export const MPI_PACKAGES = ["openmpi-bin", "libopenmpi-dev"] as const;

/** The command that installs them (as root). */
export const MPI_INSTALL_COMMAND = `apt-get update && apt-get install -y ${MPI_PACKAGES.join(" ")}`;

const LIB_NAME = "liblits_dist_mpi.so";
const nativeRoot = new URL("../../native/", import.meta.url);

/** Where the built MPI library lives (before any `LITS_DIST_LIB` override). */
export function distLibraryPath(): string {
  if (nativeRoot.protocol !== "file:") {
    const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
    return `${base}/lits-vision/${LIB_NAME}`;
  }
  return new URL(`build/${LIB_NAME}`, nativeRoot).pathname;
}

function sources(): string[] {
  return [
    ...DIST_MPI_SOURCES.map((s) => new URL(`dist/${s}`, nativeRoot).pathname),
    new URL("include/lits_dist.h", nativeRoot).pathname,
  ];
}

function mtime(path: string): number {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return -1;
  }
}

/** True when the library is missing or older than its sources. */
export function distNeedsBuild(): boolean {
  const lib = mtime(distLibraryPath());
  return lib < 0 || sources().some((s) => mtime(s) > lib);
}

function run(cmd: string, args: string[]): Deno.CommandOutput | null {
  try {
    return new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
  } catch {
    return null;
  }
}

/** mpicc's compile and link flags, or null when MPI's development files are missing. */
export function mpiFlags(): { compile: string[]; link: string[] } | null {
  const words = (o: Deno.CommandOutput | null) =>
    o?.success ? new TextDecoder().decode(o.stdout).trim().split(/\s+/).filter(Boolean) : null;
  const compile = words(run("mpicc", ["--showme:compile"]));
  const link = words(run("mpicc", ["--showme:link"]));
  return compile && link ? { compile, link } : null;
}

/**
 * Builds the library when it is missing or stale (or `force`); returns its
 * path. Throws an Error with the install command when MPI is missing.
 */
export function buildDistSync(force = false): string {
  const lib = distLibraryPath();
  if (!force && !distNeedsBuild()) return lib;
  if (nativeRoot.protocol !== "file:") {
    throw new Error(
      "distributed: the MPI library is built only from a checkout of @lits/vision " +
        "(its native/dist sources)",
    );
  }
  const flags = mpiFlags();
  if (!flags) {
    throw new Error(
      `distributed: MPI is not installed (mpicc not found); install it with: ${MPI_INSTALL_COMMAND}`,
    );
  }
  Deno.mkdirSync(lib.slice(0, lib.lastIndexOf("/")), { recursive: true });
  const tmp = `${lib}.${Deno.pid}.tmp`;
  const cFiles = sources().filter((s) => s.endsWith(".c"));
  const include = new URL("include", nativeRoot).pathname;
  const args = [
    "-O2",
    "-fPIC",
    "-shared",
    "-Wall",
    "-Wextra",
    ...flags.compile,
    `-I${include}`,
    ...cFiles,
    ...flags.link,
    "-ldl",
    "-o",
    tmp,
  ];
  const out = run("gcc", args);
  if (!out) throw new Error("distributed: building the MPI library needs gcc, which was not found");
  if (!out.success) {
    throw new Error(`gcc failed building ${lib}:\n${new TextDecoder().decode(out.stderr)}`);
  }
  Deno.renameSync(tmp, lib);
  return lib;
}
