/**
 * `deno task setup`: the first step of every task that uses the native
 * library (train, evaluate, experiment, synth, bench, test). When the
 * library is built and up to date it returns at once; otherwise it makes sure
 * the system packages the build needs (gcc, OpenBLAS) are present (as root on
 * Debian it installs them with apt, else it stops with the exact command to
 * run) and builds the library, saying so in one line.
 *
 * @module
 */
import { build, defaultLibraryPath, needsLocalBuild } from "../src/ffi/build.ts";

const PACKAGES = ["gcc", "libc6-dev", "libopenblas-dev", "libgomp1"];
const PROBE = "#include <cblas.h>\n#include <omp.h>\nint main(void) { return 0; }\n";

async function succeeds(cmd: string, args: string[], stdin?: string): Promise<boolean> {
  try {
    const child = new Deno.Command(cmd, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    if (stdin !== undefined) {
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(stdin));
      await w.close();
    }
    return (await child.status).success;
  } catch {
    return false;
  }
}

/** True when gcc can compile and link a program against OpenBLAS and OpenMP. */
export async function toolchainReady(): Promise<boolean> {
  const out = await Deno.makeTempFile();
  try {
    return await succeeds("gcc", ["-x", "c", "-", "-fopenmp", "-lopenblas", "-o", out], PROBE);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/** Installs gcc and OpenBLAS when they are missing; exits with the command to run if it cannot. */
async function ensureToolchain(): Promise<void> {
  if (await toolchainReady()) return;
  const command = `apt-get update && apt-get install -y ${PACKAGES.join(" ")}`;
  const isRoot = Deno.uid?.() === 0;
  const hasApt = await succeeds("apt-get", ["--version"]);
  if (!isRoot || !hasApt) {
    console.error(
      "setup: the native library needs gcc and OpenBLAS, which are missing.\n" +
        `Install them (as root on Debian/Ubuntu) with:\n  ${command}`,
    );
    Deno.exit(1);
  }
  console.log(`setup: installing ${PACKAGES.join(", ")} with apt (first run on this machine)`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", ...PACKAGES]]) {
    const { success } = await new Deno.Command("apt-get", { args, env, stdout: "null" }).output();
    if (!success) {
      console.error(`setup: 'apt-get ${args.join(" ")}' failed; run by hand:\n  ${command}`);
      Deno.exit(1);
    }
  }
  if (!(await toolchainReady())) {
    console.error("setup: gcc still cannot link OpenBLAS and OpenMP after installing packages");
    Deno.exit(1);
  }
}

async function main(): Promise<void> {
  // The common case (built, sources unchanged) costs one stat per source file.
  if (Deno.env.get("LITS_NATIVE_LIB") || !needsLocalBuild()) return;
  await ensureToolchain();
  // One line: the start, then its end (time or failure) on the same line.
  const say = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text));
  say(`setup: building the native library ${defaultLibraryPath()} ...`);
  const start = performance.now();
  try {
    await build();
  } catch (e) {
    say(" failed\n");
    console.error(`setup: ${(e as Error).message}`);
    Deno.exit(1);
  }
  say(` done in ${((performance.now() - start) / 1000).toFixed(0)} s\n`);
}

if (import.meta.main) await main();
