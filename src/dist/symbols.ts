// Generated from native/include/lits_dist.h by scripts/gen_ffi.ts: do not edit.
// Change the header, then run `deno task gen:ffi`.

/**
 * The `Deno.dlopen` table of `native/include/lits_dist.h`, in the header's
 * order, and its codes.
 *
 * @module
 */

import { buf, type Callable, f64, i32, i64, ptr, status } from "../ffi/table.ts";

/** The symbols of `lits_dist.h` as Deno FFI declarations. */
export const distSymbols = {
  lits_dist_last_error: { parameters: [], result: ptr },
  lits_dist_abi_version: { parameters: [buf], ...status },
  lits_dist_backend_info: { parameters: [buf, i64], ...status },
  lits_dist_init: { parameters: [f64, buf], ...status },
  lits_dist_rank: { parameters: [buf], ...status },
  lits_dist_world_size: { parameters: [buf], ...status },
  lits_dist_device: { parameters: [buf], ...status },
  lits_dist_all_reduce_f32: { parameters: [ptr, i64, i32], ...status },
  lits_dist_all_reduce_start_f32: { parameters: [ptr, i64, i32, buf], ...status },
  lits_dist_test: { parameters: [i32, buf], ...status },
  lits_dist_wait: { parameters: [i32], ...status },
  lits_dist_broadcast: { parameters: [ptr, i64, i32], ...status },
  lits_dist_barrier: { parameters: [], ...status },
  lits_dist_abort: { parameters: [i32], ...status },
  lits_dist_finalize: { parameters: [], ...status },
} as const;

/** The opened library's callable symbols. */
export type DistSymbols = Callable<typeof distSymbols>;

/** `LITS_DIST_ABI_VERSION`: the library must report this one. */
export const DIST_ABI_VERSION = 1;

/** Codes of `enum lits_dist_op`. */
export const DIST_OP = {
  sum: 0,
  mean: 1,
} as const;
