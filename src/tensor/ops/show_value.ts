/**
 * @internal one argument as an error message shows it: numbers as
 * JavaScript prints them (NaN, Infinity, where JSON would write null),
 * everything else as JSON (strings quoted, arrays in brackets), undefined
 * and functions by name, and a Tensor (also inside an options object, torch's
 * `{ out: y }`) by its shape and dtype, never its internals.
 *
 * @module
 */

/** `a float32 Tensor [2, 3]`, `a Module`: an instance of a class, briefly. */
function brief(v: object): string | undefined {
  const proto = Object.getPrototypeOf(v);
  if (proto === null || proto === Object.prototype || Array.isArray(v)) return undefined;
  const name = (v as { constructor?: { name?: string } }).constructor?.name || "object";
  if (ArrayBuffer.isView(v)) return undefined; // typed arrays: JSON shows their values
  const { shape, dtype } = v as { shape?: unknown; dtype?: unknown };
  if (Array.isArray(shape) && typeof dtype === "string") {
    return `a ${dtype} ${name} [${shape.join(", ")}]`;
  }
  return `a ${name}`;
}

/**
 * @internal `v` for an error message: `NaN`, `"0.5"`, `[1,1]`, `undefined`,
 * `a float32 Tensor [2]`, `{"out":"a float32 Tensor []"}`.
 */
export function showValue(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "object" && v !== null) {
    const b = brief(v);
    if (b !== undefined) return b;
  }
  try {
    // The holder's own value, read before toJSON: a Tensor's toJSON gives its values.
    return JSON.stringify(v, function (this: Record<string, unknown>, k, x) {
      const own = this[k];
      if (typeof own === "object" && own !== null) {
        const b = brief(own);
        if (b !== undefined) return b;
      }
      if (typeof x === "object" && x !== null) return brief(x) ?? x;
      return x;
    }) ?? String(v);
  } catch {
    return String(v); // a cycle
  }
}

/** @internal whether `v` is an options object with torch's `out` key (`sum(x, { out: y })`). */
export function hasOut(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "out" in v;
}

/**
 * @internal the Error for torch's `out=` given as an options object where
 * `where` takes none: the wording of `atMostArgs` (src/tensor/ops/arity.ts).
 */
export function outError(where: string, usage: string): Error {
  return new Error(
    `${where}: torch's out= has no counterpart here: assign the result (y = ${usage})`,
  );
}
