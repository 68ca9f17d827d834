/**
 * `deno task build`: compiles the native CPU library (`native/build/`).
 * Pass `--force` to rebuild even when it is up to date.
 *
 * @module
 */
import { build } from "../src/ffi/build.ts";

if (import.meta.main) {
  const lib = await build(Deno.args.includes("--force"));
  console.log(`native library: ${lib}`);
}
