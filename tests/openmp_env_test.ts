/**
 * OpenMP settings from the environment that would break the CPU kernels:
 * they split their work by thread number and count on the team they ask
 * for, so `OMP_DYNAMIC=true` (OpenMP may then start fewer threads, on a busy
 * machine one) left the missing threads' share undone: 24 of the kernel
 * tests and the Winograd filter gradient gave wrong numbers under it. The
 * library turns dynamic teams off on every thread that calls it.
 */
import assert from "node:assert/strict";

Deno.test("OMP_DYNAMIC=true: the library's calls run with dynamic teams off", async () => {
  const script = `
    const gomp = Deno.dlopen("libgomp.so.1", { omp_get_dynamic: { parameters: [], result: "i32" } });
    const before = gomp.symbols.omp_get_dynamic();
    const { cpuLib } = await import("${new URL("../src/ffi/native.ts", import.meta.url).href}");
    const lib = cpuLib();
    const n = new Int32Array(1);
    if (lib.lits_get_num_threads(n) !== 0) throw new Error("lits_get_num_threads failed");
    console.log("dynamic", before, gomp.symbols.omp_get_dynamic());
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { OMP_DYNAMIC: "true" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const [before, after] = stdout.match(/^dynamic (\d) (\d)$/m)!.slice(1).map(Number);
  assert.equal(before, 1, "the child did not start with OMP_DYNAMIC=true in effect");
  assert.equal(after, 0, "dynamic teams still on after a library call");
});
