/**
 * The `Deno.dlopen` table of `native/include/lits_dist.h`, in the header's
 * order (a test keeps them equal).
 *
 * @module
 */

const i32 = "i32" as const;
const i64 = "i64" as const;
const f64 = "f64" as const;
const ptr = "pointer" as const;
const buf = "buffer" as const;
const status = { result: i32 } as const;

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

type RawSymbols = Deno.DynamicLibrary<typeof distSymbols>["symbols"];
// Deno accepts plain numbers for 64-bit parameters; sizes stay below 2^53.
type Widen<F> = F extends (...args: infer A) => infer R
  ? (...args: { [K in keyof A]: A[K] extends bigint ? number | bigint : A[K] }) => R
  : F;

/** The opened library's functions. */
export type DistSymbols = { [K in keyof RawSymbols]: Widen<RawSymbols[K]> };

/** `LITS_DIST_ABI_VERSION` of the header this table matches. */
export const DIST_ABI_VERSION = 1;

/** `enum lits_dist_op`. */
export const DIST_OP = { sum: 0, mean: 1 } as const;
