/**
 * @internal one argument as an error message shows it: numbers as
 * JavaScript prints them (NaN, Infinity, where JSON would write null),
 * everything else as JSON (strings quoted, arrays in brackets), undefined
 * and functions by name.
 *
 * @module
 */

/** @internal `v` for an error message: `NaN`, `"0.5"`, `[1,1]`, `undefined`. */
export function showValue(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v); // a cycle
  }
}
