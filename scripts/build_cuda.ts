/**
 * `deno task build:cuda`: compiles the CUDA library (`native/build/liblits_cuda.so`)
 * with nvcc for sm_80 and sm_90 plus PTX. Pass `--force` to rebuild even when
 * it is up to date. Not part of `deno task build`: only GPU machines need it.
 *
 * @module
 */
import { buildCuda } from "../src/ffi/build_cuda.ts";

if (import.meta.main) {
  const started = performance.now();
  const lib = await buildCuda({ force: Deno.args.includes("--force") });
  console.log(`CUDA library: ${lib} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
