/**
 * Size limits shared by the ops that make tensors: at most 8 dimensions (the
 * native kernels' limit) and element counts that can be allocated, each
 * refused where the op that would make the tensor is known, with its name,
 * before a byte count is computed in floating point or reaches native code.
 *
 * @module
 */

/** The most dimensions a tensor has in this library (the native kernels' limit). */
export const MAX_DIMS = 8;

/**
 * The most elements of one tensor: past it the byte count (4 per element)
 * stops being an exact JavaScript number.
 */
export const MAX_ELEMENTS: number = Math.floor(Number.MAX_SAFE_INTEGER / 4);

/**
 * Refuses a result of more than 8 dimensions where an op (a view maker:
 * reshape, view, unsqueeze, expand, repeat) would make one: the native
 * kernels take at most 8, and such a tensor failed later, in the next op,
 * with the kernel's text.
 */
export function checkDims(ndim: number, what: string): void {
  if (ndim > MAX_DIMS) {
    throw new Error(
      `${what}: would make a tensor of ${ndim} dimensions; this library's tensors have at ` +
        `most ${MAX_DIMS}`,
    );
  }
}

/** A count as one exact integer (2**62 as 4611686018427387904, not 4611686018427388000). */
export function showCount(n: number | bigint): string {
  return typeof n === "bigint" || Number.isInteger(n) ? BigInt(n).toString() : String(n);
}

/** The exact element count of `shape` (a product past 2^53 stays exact). */
export function shapeCount(shape: readonly number[]): bigint {
  let n = 1n;
  for (const d of shape) n *= BigInt(d);
  return n;
}

/** The refusal of a tensor of `count` elements, naming the op and the count. */
export function tooLarge(what: string, count: number | bigint, why = ""): Error {
  const bytes = BigInt(showCount(count)) * 4n;
  return new Error(
    `${what}: cannot allocate ${showCount(count)} elements (${bytes} bytes)` +
      (why ? ` (${why})` : `, more than a tensor can hold (at most ${MAX_ELEMENTS} elements)`),
  );
}

/**
 * Refuses a result of `shape` (or of a count of elements) whose bytes cannot
 * be an exact number, naming the op. Shapes are integers >= 0 here.
 */
export function checkElements(shape: readonly number[] | number, what: string): void {
  const count = typeof shape === "number" ? BigInt(showCount(shape)) : shapeCount(shape);
  if (count > BigInt(MAX_ELEMENTS)) throw tooLarge(what, count);
}

/**
 * A host typed array of `count` elements for op `what`: the count checked
 * first, and the engine's RangeError ("Invalid typed array length", "Array
 * buffer allocation failed") turned into one that names the op and the count.
 */
export function hostArray<T>(make: new (n: number) => T, count: number, what: string): T {
  checkElements(count, what);
  try {
    return new make(count);
  } catch (e) {
    if (e instanceof RangeError) throw tooLarge(what, count, e.message);
    throw e;
  }
}
