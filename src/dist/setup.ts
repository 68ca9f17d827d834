/**
 * Makes sure MPI is installed before a multi-process run, the way
 * `scripts/setup.ts` installs gcc and OpenBLAS: as root on Debian it runs
 * apt; otherwise it throws with the exact command.
 *
 * @module
 */
import { MPI_INSTALL_COMMAND, MPI_PACKAGES, mpiFlags } from "./build.ts";

function has(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** True when mpirun and MPI's development files (mpicc) are present. */
export function mpiReady(): boolean {
  return has("mpirun", ["--version"]) && mpiFlags() !== null;
}

/**
 * Installs Open MPI with apt when missing (as root); `say` reports what it
 * does. Throws an Error with the install command when it cannot.
 */
export function ensureMpi(say: (line: string) => void = console.log): void {
  if (mpiReady()) return;
  const isRoot = Deno.uid?.() === 0;
  if (!isRoot || !has("apt-get", ["--version"])) {
    throw new Error(
      "a multi-process run needs MPI (mpirun and libmpi), which is missing; install it " +
        `(as root on Debian/Ubuntu) with:\n  ${MPI_INSTALL_COMMAND}`,
    );
  }
  say(`setup: installing ${MPI_PACKAGES.join(", ")} with apt (first multi-process run)`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", ...MPI_PACKAGES]]) {
    const out = new Deno.Command("apt-get", { args, env, stdout: "null", stderr: "piped" })
      .outputSync();
    if (!out.success) {
      throw new Error(
        `'apt-get ${args.join(" ")}' failed: ${new TextDecoder().decode(out.stderr).trim()}; ` +
          `run by hand:\n  ${MPI_INSTALL_COMMAND}`,
      );
    }
  }
  if (!mpiReady()) throw new Error("MPI is still missing after installing it with apt");
}

/**
 * The arguments that start `nproc` copies of a command with mpirun on this
 * machine: more ranks than cores allowed, root allowed when we are root,
 * and with `tcp` the ranks talk over TCP (the network path a cluster takes)
 * instead of shared memory.
 */
export function mpirunArgs(nproc: number, options: { tcp?: boolean } = {}): string[] {
  if (!Number.isInteger(nproc) || nproc < 1) {
    throw new Error(`mpirun: the number of processes must be an integer >= 1, got ${nproc}`);
  }
  const args = ["-np", String(nproc), "--oversubscribe"];
  if (options.tcp) args.push("--mca", "btl", "tcp,self");
  if (Deno.uid?.() === 0) args.push("--allow-run-as-root");
  return args;
}
