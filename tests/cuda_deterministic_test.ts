/**
 * useDeterministicAlgorithms / areDeterministicAlgorithmsEnabled (PyTorch's
 * torch.use_deterministic_algorithms): the switch, its argument checks,
 * LITS_DETERMINISTIC, and that the choice reaches a CUDA library opened
 * after the call (here a copy of the CPU library standing in for CUDA; a
 * copy, so that it is a second library with its own state). What it does on
 * a GPU (deterministic cuDNN algorithms only) runs in `deno task gpu:check`.
 */
import assert from "node:assert/strict";
import {
  areDeterministicAlgorithmsEnabled,
  useDeterministicAlgorithms,
} from "../src/tensor/mod.ts";
import { cpuLibraryPath } from "../src/ffi/native.ts";

Deno.test("useDeterministicAlgorithms switches the mode and checks its arguments", () => {
  const before = areDeterministicAlgorithmsEnabled();
  try {
    useDeterministicAlgorithms(true);
    assert.equal(areDeterministicAlgorithmsEnabled(), true);
    useDeterministicAlgorithms(false, { warnOnly: true });
    assert.equal(areDeterministicAlgorithmsEnabled(), false);
    assert.throws(
      () => useDeterministicAlgorithms("yes" as unknown as boolean),
      /mode must be true or false/,
    );
    assert.throws(
      () => useDeterministicAlgorithms(true, { warn_only: true } as never),
      /unknown option 'warn_only'.*warnOnly/,
    );
    assert.throws(
      () => useDeterministicAlgorithms(true, { warnOnly: 1 } as never),
      /warnOnly must be a boolean/,
    );
    assert.equal(areDeterministicAlgorithmsEnabled(), false, "a rejected call changes nothing");
  } finally {
    useDeterministicAlgorithms(before);
  }
});

/** Runs `code` in a fresh Deno with `env`; returns its stdout. */
async function child(code: string, env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, text + new TextDecoder().decode(out.stderr));
  return text.trim();
}

const mod = new URL("../src/tensor/mod.ts", import.meta.url).href;
const dev = new URL("../src/tensor/device.ts", import.meta.url).href;
/** Child code: imports backend and defines get(), the CUDA library's mode. */
const cudaGetter = `
  import { backend } from "${dev}";
  const get = () => {
    const out = new Int32Array(1);
    if (backend("cuda").lits_get_deterministic(out) !== 0) throw new Error("getter failed");
    return out[0];
  };`;

Deno.test("LITS_DETERMINISTIC=1 turns it on until useDeterministicAlgorithms decides", async () => {
  const code =
    `import { areDeterministicAlgorithmsEnabled as on, useDeterministicAlgorithms as use } from "${mod}";
    const a = on(); use(false); console.log(a, on());`;
  assert.equal(await child(code, { LITS_DETERMINISTIC: "1" }), "true false");
  assert.equal(await child(code, { LITS_DETERMINISTIC: "0" }), "false false");
});

Deno.test("a CUDA library opened after the call gets the choice", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const standIn = `${dir}/liblits_cuda_standin.so`;
    await Deno.copyFile(cpuLibraryPath(), standIn);
    const code = `import { useDeterministicAlgorithms } from "${mod}";${cudaGetter}
      useDeterministicAlgorithms(true); // before the CUDA library opens
      const first = get();
      useDeterministicAlgorithms(false); // after
      console.log(first, get());`;
    assert.equal(await child(code, { LITS_CUDA_LIB: standIn }), "1 0");
    // Without a call the CUDA library follows the environment by itself.
    const env = `${cudaGetter} console.log(get());`;
    assert.equal(await child(env, { LITS_CUDA_LIB: standIn, LITS_DETERMINISTIC: "1" }), "1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("LITS_DETERMINISTIC and LITS_WINOGRAD read true/false and on/off; anything else is an Error", async () => {
  const code =
    `import { areDeterministicAlgorithmsEnabled as det, areWinogradConvolutionsEnabled as wino }
    from "${mod}"; console.log(det(), wino());`;
  assert.equal(
    await child(code, { LITS_DETERMINISTIC: "false", LITS_WINOGRAD: "off" }),
    "false false",
  );
  assert.equal(await child(code, { LITS_DETERMINISTIC: "TRUE", LITS_WINOGRAD: "1" }), "true true");
  assert.equal(await child(code, {}), "false true");
  const bad = `import { areWinogradConvolutionsEnabled as wino } from "${mod}";
    try { wino(); console.log("ran"); } catch (e) { console.log((e as Error).message); }`;
  assert.match(
    await child(bad, { LITS_WINOGRAD: "maybe" }),
    /LITS_WINOGRAD=maybe.*expected 1 or 0/,
  );
  // Refused on every use, not only the first (a notebook that caught the first error).
  const twice = `import { areWinogradConvolutionsEnabled as wino } from "${mod}";
    for (let i = 0; i < 2; i++) { try { wino(); console.log("ran"); } catch { console.log("refused"); } }`;
  assert.equal(await child(twice, { LITS_DETERMINISTIC: "2" }), "refused\nrefused");
});
