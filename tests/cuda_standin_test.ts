/**
 * The device plumbing without a GPU: with `LITS_CUDA_LIB` pointing at the
 * CPU library, device "cuda" is a second copy of the CPU backend, so
 * `tensor.to`, `module.to`, optimizer state that follows its parameters, the
 * device checks of ops, the op tests with `LITS_TEST_DEVICE=cuda` and the
 * CUDA-vs-CPU comparisons (then CPU vs CPU) all run here, in a child
 * process. On a GPU the same tests run against the real CUDA library
 * (`deno task gpu:check`).
 */
import assert from "node:assert/strict";
import { cpuLib, cpuLibraryPath } from "../src/ffi/native.ts";

function cpuHasBf16(): boolean {
  const level = new Int32Array(1);
  return cpuLib().lits_bf16_support?.(level) === 0 && level[0] > 0;
}

Deno.test("device 'cuda' with the CPU library standing in: to(), module.to, op and autocast tests", async () => {
  const here = new URL(".", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "-A",
      `${here}cuda_device_test.ts`,
      `${here}cuda_ops_test.ts`,
      `${here}ops_test.ts`,
      // Its numeric tests need the CPU's bf16 kernels (ignored without them).
      ...(cpuHasBf16() ? [`${here}autocast_test.ts`] : []),
    ],
    env: { LITS_CUDA_LIB: cpuLibraryPath(), LITS_TEST_DEVICE: "cuda", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text.slice(-4000));
  assert.match(text, /ok \| \d+ passed \| 0 failed/);
  assert.doesNotMatch(text, /ignored/, "with the stand-in nothing may be skipped");
});
