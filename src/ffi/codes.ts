// Generated from native/include/lits.h by scripts/gen_ffi.ts: do not edit.
// Change the header, then run `deno task gen:ffi`.

/**
 * The codes of lits.h's enums and its ABI version.
 *
 * @module
 */

/** `LITS_ABI_VERSION`: the library must report this one. */
export const ABI_VERSION = 12;

/** Codes of `enum lits_status`. */
export const STATUS = {
  ok: 0,
  errArgument: 1,
  errMemory: 2,
  errUnavailable: 3,
  errInternal: 4,
} as const;

/** Codes of `enum lits_unary_op`. */
export const UNARY_OP = {
  neg: 0,
  exp: 1,
  log: 2,
  sqrt: 3,
  relu: 4,
  sigmoid: 5,
  tanh: 6,
  abs: 7,
  powScalar: 8,
  addScalar: 9,
  mulScalar: 10,
  divScalar: 11,
  rsubScalar: 12,
  rdivScalar: 13,
  gelu: 14,
  geluTanh: 15,
  leakyRelu: 16,
  log1p: 17,
  expm1: 18,
  floor: 19,
  ceil: 20,
  round: 21,
  trunc: 22,
  sign: 23,
  sin: 24,
  cos: 25,
  silu: 26,
  tan: 27,
  asin: 28,
  acos: 29,
  atan: 30,
  sinh: 31,
  cosh: 32,
  asinh: 33,
  acosh: 34,
  atanh: 35,
  erf: 36,
  erfc: 37,
  erfinv: 38,
} as const;

/** Codes of `enum lits_binary_op`. */
export const BINARY_OP = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  eq: 6,
  gt: 7,
  lt: 8,
  pow: 9,
  ge: 10,
  le: 11,
  ne: 12,
  atan2: 13,
} as const;

/** Codes of `enum lits_reduce_op`. */
export const REDUCE_OP = {
  sum: 0,
  mean: 1,
  max: 2,
  min: 3,
} as const;

/** Codes of `enum lits_reduction`. */
export const REDUCTION = {
  none: 0,
  mean: 1,
  sum: 2,
} as const;
