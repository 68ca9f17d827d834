/**
 * Builds the collectives libraries from `native/dist` against the system's
 * MPI (`mpicc --showme` gives its flags): `liblits_dist_mpi.so` (CPU
 * tensors) and `liblits_dist_nccl.so` (CUDA tensors; NCCL and the driver are
 * opened at run time, so it builds without CUDA, with nvcc when present,
 * else gcc). Separate from the CPU build: only a multi-process run needs MPI.
 *
 * @module
 */

/** The sources of the MPI library (with DIST_NCCL_ONLY, the folder; a test keeps them equal). */
export const DIST_MPI_SOURCES = [
  "dist_common.h",
  "dist_common.c",
  "dist_boot.h",
  "dist_boot.c",
  "dist_mpi.c",
] as const;

/** The NCCL library's own sources (it shares the rest but dist_mpi.c). */
export const DIST_NCCL_ONLY = [
  "dist_nccl_vendor.h",
  "dist_nccl_loader.c",
  "dist_nccl.c",
] as const;

/** Which collectives library: MPI for CPU tensors, NCCL for CUDA tensors. */
export type DistKind = "mpi" | "nccl";

/** The Debian packages the MPI library needs. */
export const MPI_PACKAGES = ["openmpi-bin", "libopenmpi-dev"] as const;

/** The command that installs them (as root). */
export const MPI_INSTALL_COMMAND = `apt-get update && apt-get install -y ${MPI_PACKAGES.join(" ")}`;

const nativeRoot = new URL("../../native/", import.meta.url);

/** Where a built collectives library lives (before any env override). */
export function distLibraryPath(kind: DistKind = "mpi"): string {
  const name = `liblits_dist_${kind}.so`;
  if (nativeRoot.protocol !== "file:") {
    const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
    return `${base}/lits-vision/${name}`;
  }
  return new URL(`build/${name}`, nativeRoot).pathname;
}

function sources(kind: DistKind): string[] {
  const own = kind === "mpi" ? DIST_MPI_SOURCES : [
    ...DIST_MPI_SOURCES.filter((s) => s !== "dist_mpi.c"),
    ...DIST_NCCL_ONLY,
  ];
  return [
    ...own.map((s) => new URL(`dist/${s}`, nativeRoot).pathname),
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
export function distNeedsBuild(kind: DistKind = "mpi"): boolean {
  const lib = mtime(distLibraryPath(kind));
  return lib < 0 || sources(kind).some((s) => mtime(s) > lib);
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
export function buildDistSync(force = false, kind: DistKind = "mpi"): string {
  const lib = distLibraryPath(kind);
  if (!force && !distNeedsBuild(kind)) return lib;
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
  const cFiles = sources(kind).filter((s) => s.endsWith(".c"));
  const include = new URL("include", nativeRoot).pathname;
  // The NCCL library is plain C; nvcc compiles it when present (as the CUDA build).
  const nvcc = kind === "nccl" && run("nvcc", ["--version"])?.success;
  const warn = nvcc ? ["-Xcompiler", "-fPIC,-Wall,-Wextra"] : ["-fPIC", "-Wall", "-Wextra"];
  const args = [
    "-O2",
    "-shared",
    ...warn,
    ...flags.compile,
    `-I${include}`,
    ...cFiles,
    ...flags.link,
    "-ldl",
    "-o",
    tmp,
  ];
  const compiler = nvcc ? "nvcc" : "gcc";
  const out = run(compiler, args);
  if (!out) throw new Error(`distributed: building ${lib} needs ${compiler}, which was not found`);
  if (!out.success) {
    throw new Error(`${compiler} failed building ${lib}:\n${new TextDecoder().decode(out.stderr)}`);
  }
  Deno.renameSync(tmp, lib);
  return lib;
}
