/**
 * What the generated `Deno.dlopen` tables (`src/ffi/symbols.ts`,
 * `src/dist/symbols.ts`, written by scripts/gen_ffi.ts) share: short names of
 * the FFI types, and the type of an opened table's functions.
 *
 * @module
 */

/** FFI type shorthands: the tables' rows stay one line each. */
export const i32 = "i32" as const;
/** 64-bit signed integer. */
export const i64 = "i64" as const;
/** 64-bit unsigned integer. */
export const u64 = "u64" as const;
/** 32-bit float. */
export const f32 = "f32" as const;
/** 64-bit float. */
export const f64 = "f64" as const;
/** Device memory (or any native pointer). */
export const ptr = "pointer" as const;
/** Host memory: a typed array passes as it is. */
export const buf = "buffer" as const;
/** The result of every function that returns an int status. */
export const status = { result: i32 } as const;

// Deno accepts plain numbers for 64-bit integer parameters; sizes here stay
// far below 2^53, so the tables take `number` too.
type Widen<F> = F extends (...args: infer A) => infer R
  ? (...args: { [K in keyof A]: A[K] extends bigint ? number | bigint : A[K] }) => R
  : F;

/** The callable functions of a library opened with the table `T`. */
export type Callable<T extends Deno.ForeignLibraryInterface> = {
  [K in keyof Deno.DynamicLibrary<T>["symbols"]]: Widen<Deno.DynamicLibrary<T>["symbols"][K]>;
};
