/**
 * Helpers of the dist tests: run a script under `mpirun -np N` (MPI installed
 * first, as setup does) and collect each rank's output.
 *
 * @module
 */
import { ensureMpi, mpirunArgs } from "../src/dist/setup.ts";

/** What a launched job printed and how it ended. */
export interface JobResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs `deno run -A script ...args` on `nproc` ranks; kills the job after `limitS`. */
export async function mpirun(
  nproc: number,
  script: string,
  args: string[] = [],
  limitS = 120,
  env: Record<string, string> = {},
): Promise<JobResult> {
  ensureMpi();
  const path = new URL(script, import.meta.url).pathname;
  const start = performance.now();
  const child = new Deno.Command("mpirun", {
    args: [...mpirunArgs(nproc, { tcp: true }), Deno.execPath(), "run", "-A", path, ...args],
    env: { NO_COLOR: "1", OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), limitS * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    seconds: (performance.now() - start) / 1000,
  };
}

/** Lines `RESULT <json>` a rank printed, parsed. */
export function results<T>(stdout: string): T[] {
  return stdout.split("\n").filter((l) => l.startsWith("RESULT ")).map((l) =>
    JSON.parse(l.slice(7)) as T
  );
}
