/**
 * The argument count of top-level ops: JavaScript drops extra arguments, so
 * torch's `torch.matmul(a, b, out=y)` ported as `matmul(a, b, { out: y })`
 * ran and left `y` unwritten. Extra arguments throw, naming what to write.
 *
 * @module
 */

/**
 * @internal throws when `where` got more than `most` arguments; `extra` is
 * the first one past them, for torch's `out=` hint.
 */
export function atMostArgs(
  where: string,
  given: number,
  most: number,
  usage: string,
  extra?: unknown,
): void {
  if (given <= most) return;
  const out = extra !== null && typeof extra === "object" && "out" in extra
    ? `; torch's out= has no counterpart here: assign the result (y = ${usage})`
    : `; write ${usage}`;
  throw new Error(
    `${where}: takes at most ${most} argument${most === 1 ? "" : "s"}, got ${given}${out}`,
  );
}
