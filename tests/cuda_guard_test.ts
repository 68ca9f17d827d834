/**
 * No C++ exception crosses the CUDA library's C ABI: every `extern "C"`
 * function of native/cuda whose body touches host containers, a mutex or the
 * convolution plan cache runs that body in `lc_guarded` (native/cuda/guard.cuh),
 * which turns `std::bad_alloc` and any other throw into a status and a message.
 * host_check (tests/cuda_build_test.ts) checks lc_guarded itself with real
 * throws; this test keeps new entry points from skipping it. No nvcc needed.
 */
import assert from "node:assert/strict";

const cudaDir = new URL("../native/cuda/", import.meta.url).pathname;

/** Each extern "C" function of a source: name and body (up to its closing brace at column 0). */
function entries(text: string): { name: string; body: string }[] {
  const out: { name: string; body: string }[] = [];
  for (const m of text.matchAll(/^extern "C" (?:int|const char\*) (lits_\w+)\(/gm)) {
    const start = m.index!;
    const end = text.indexOf("\n}", start);
    out.push({ name: m[1], body: text.slice(start, end < 0 ? text.length : end) });
  }
  return out;
}

/** What may throw: standard containers and locks, and helpers built on them. */
const THROWING =
  /std::|\bnew\b|lock_guard|alloc_impl\(|free_impl\(|lc_conv_prepare\(|run_planned\(/;

Deno.test("every CUDA entry point that can throw runs its body in lc_guarded", () => {
  let checked = 0;
  for (const e of Deno.readDirSync(cudaDir)) {
    if (!e.isFile || !e.name.endsWith(".cu")) continue;
    for (const { name, body } of entries(Deno.readTextFileSync(`${cudaDir}${e.name}`))) {
      if (!THROWING.test(body)) continue;
      checked++;
      assert.match(body, /lc_guarded\(/, `${e.name}: ${name} can throw but is not guarded`);
    }
  }
  // The conv entries, lits_free and lits_memory_stats at least.
  assert.ok(checked >= 5, `only ${checked} entry points matched: the pattern is stale`);
});

Deno.test("the plan cache and the allocator reach their containers only through guarded paths", () => {
  const conv = Deno.readTextFileSync(`${cudaDir}conv.cu`);
  for (const name of ["forward", "backward_data", "backward_filter"]) {
    const e = entries(conv).find((x) => x.name === `lits_conv2d_${name}_f32`);
    assert.ok(e, `lits_conv2d_${name}_f32 not found`);
    assert.match(e.body, /return lc_guarded\(lc_fn, /);
  }
  const alloc = Deno.readTextFileSync(`${cudaDir}alloc.cu`);
  assert.match(
    alloc,
    /int lc_scratch_alloc\([^)]*\) \{\n {2}\*out = NULL;\n {2}return lc_guarded\(/,
  );
});
