/**
 * The CPU library is built on the machine that runs it (`-march=native`),
 * and picks its AVX-512 kernels at run time from cpuid: so every source must
 * also compile for a CPU without AVX-512. An AVX-512 intrinsic outside a
 * function marked `target("avx512f")` (or inside an OpenMP region, whose
 * outlined body does not take its function's target) compiles here and
 * fails there, and `deno task build` with it: the first command on an AVX2
 * machine. Each source is compiled for x86-64-v3 (AVX2 and FMA: Haswell to
 * Zen 3) at -O0, which still inlines `always_inline` intrinsics and so
 * reports the mismatch, in a few seconds.
 */
import assert from "node:assert/strict";
import { CPU_SOURCES } from "../src/ffi/build.ts";

const cpuDir = new URL("../native/cpu/", import.meta.url).pathname;
const includeDir = new URL("../native/include/", import.meta.url).pathname;

/** Compiles `file` for `march` into a scratch object; its errors, or "" when it builds. */
async function compile(file: string, march: string, out: string): Promise<string> {
  const r = await new Deno.Command("gcc", {
    args: ["-O0", `-march=${march}`, "-fopenmp", "-fPIC", `-I${includeDir}`, "-c", file, "-o", out],
    stdout: "null",
    stderr: "piped",
  }).output();
  return r.success ? "" : new TextDecoder().decode(r.stderr);
}

Deno.test("every CPU source compiles for a CPU without AVX-512 (x86-64-v3)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sources = CPU_SOURCES.filter((f) => f.endsWith(".c"));
    const failed: string[] = [];
    // Two at a time: the machines have two cores.
    for (let i = 0; i < sources.length; i += 2) {
      const pair = sources.slice(i, i + 2);
      const errors = await Promise.all(
        pair.map((f) => compile(`${cpuDir}${f}`, "x86-64-v3", `${dir}/${f}.o`)),
      );
      pair.forEach((f, j) => {
        if (errors[j]) failed.push(`${f}:\n${errors[j].split("\n").slice(0, 6).join("\n")}`);
      });
    }
    assert.deepEqual(
      failed,
      [],
      `sources that do not build without AVX-512:\n${failed.join("\n")}`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
