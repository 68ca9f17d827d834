/**
 * `deno task setup`: the first step of every task that uses the native
 * library (train, evaluate, experiment, synth, bench, test). When the
 * library is built and up to date it returns at once; otherwise it makes sure
 * the system packages the build needs (gcc, OpenBLAS) are present (as root on
 * Debian it installs them with apt, else it stops with the exact command to
 * run) and builds the library, saying so in one line. oneDNN's header
 * (libdnnl-dev) is optional: the first run installs it with the toolchain
 * where apt has it, and without it the bf16 convolutions keep the library's
 * own kernels (native/cpu/conv_bf16_onednn.c).
 *
 * @module
 */
import { build, defaultLibraryPath, needsLocalBuild } from "../src/ffi/build.ts";

const PACKAGES = ["gcc", "libc6-dev", "libopenblas-dev", "libgomp1"];
const PROBE = "#include <cblas.h>\n#include <omp.h>\nint main(void) { return 0; }\n";
// Optional: its header types the oneDNN calls; the library is opened at run time.
const ONEDNN_PACKAGE = "libdnnl-dev";
const ONEDNN_PROBE = "#include <oneapi/dnnl/dnnl.h>\n";

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

/** True when gcc finds oneDNN's header. */
function onednnHeaderReady(): Promise<boolean> {
  return succeeds("gcc", ["-x", "c", "-fsyntax-only", "-"], ONEDNN_PROBE);
}

/**
 * oneDNN's header after a first-run install: tried once, with the toolchain,
 * and a failure (no such package, no network) only says so: the build
 * compiles without it. A machine that had the toolchain gets the hint.
 */
async function ensureOnednn(installing: boolean): Promise<void> {
  if (await onednnHeaderReady()) return;
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const args = ["install", "-y", "-qq", ONEDNN_PACKAGE];
  if (
    installing && (await new Deno.Command("apt-get", { args, env, stdout: "null", stderr: "null" })
      .output()).success
  ) return;
  console.log(
    `setup: oneDNN's header is missing (apt-get install -y ${ONEDNN_PACKAGE} adds it): ` +
      "bf16 convolutions use the library's own kernels",
  );
}

/** Installs gcc and OpenBLAS when they are missing; exits with the command to run if it cannot. */
async function ensureToolchain(): Promise<void> {
  if (await toolchainReady()) return await ensureOnednn(false);
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
  await ensureOnednn(true);
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
