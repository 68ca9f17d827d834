/**
 * `deno task setup`: makes sure the system packages the native build needs
 * (gcc, OpenBLAS) are present. As root on Debian it installs them with apt;
 * otherwise it stops with the exact command to run.
 *
 * @module
 */

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

async function main(): Promise<void> {
  if (await toolchainReady()) return;
  const command = `apt-get update && apt-get install -y ${PACKAGES.join(" ")}`;
  const isRoot = Deno.uid?.() === 0;
  const hasApt = await succeeds("apt-get", ["--version"]);
  if (!isRoot || !hasApt) {
    console.error(
      "The native library needs gcc and OpenBLAS, which are missing.\n" +
        `Install them (as root on Debian/Ubuntu) with:\n  ${command}`,
    );
    Deno.exit(1);
  }
  console.log(`setup: installing ${PACKAGES.join(", ")} with apt`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", ...PACKAGES]]) {
    const { success } = await new Deno.Command("apt-get", { args, env }).output();
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

if (import.meta.main) await main();
