/**
 * The check `DistributedDataParallel` runs before its first broadcast: every
 * rank must hold the same model. Without it, the same element count in
 * other shapes silently averaged different layouts, other sizes failed later
 * with an MPI error that did not say why, and another number of parameters
 * stalled until the timeout. Every rank throws the same Error, naming the
 * first tensor that differs, so no rank is left waiting in a collective.
 *
 * Four collectives on the MPI library (host memory whatever the model's
 * device), once: rank 0's fixed-size header, then its description; a sum of
 * one slot per rank saying where that rank differs; and only on a mismatch,
 * the first differing rank's description, so that all ranks word the Error
 * alike.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { distCheck } from "./native.ts";
import { DIST_OP, type DistSymbols } from "./symbols.ts";

/** One parameter or buffer as the ranks compare it. */
interface Entry {
  name: string;
  kind: "parameter" | "buffer";
  shape: number[];
  dtype: string;
  requiresGrad: boolean;
}

const ptr = (a: Uint8Array | Float64Array | Float32Array) =>
  a.byteLength === 0 ? null : Deno.UnsafePointer.of(a);

function bcast(lib: DistSymbols, a: Uint8Array | Float64Array, root: number, what: string): void {
  distCheck(
    lib,
    lib.lits_dist_broadcast(ptr(a), a.byteLength, root),
    () => `DistributedDataParallel: ${what}`,
  );
}

/** Rank `root`'s description (this rank's own when it is the root). */
function fetch(lib: DistSymbols, rank: number, root: number, mine: Uint8Array): Entry[] {
  const header = new Float64Array([mine.length]);
  bcast(lib, header, root, `comparing the model with rank ${root}'s`);
  const bytes = rank === root ? mine : new Uint8Array(header[0]);
  bcast(lib, bytes, root, `comparing the model with rank ${root}'s`);
  return JSON.parse(new TextDecoder().decode(bytes));
}

const same = (a: Entry, b: Entry) =>
  a.kind === b.kind && a.dtype === b.dtype && a.requiresGrad === b.requiresGrad &&
  a.shape.length === b.shape.length && a.shape.every((n, i) => n === b.shape[i]);

/** The index of the first entry that differs, or -1. */
function firstDifference(mine: Entry[], ref: Entry[]): number {
  const n = Math.min(mine.length, ref.length);
  for (let i = 0; i < n; i++) if (!same(mine[i], ref[i])) return i;
  return mine.length === ref.length ? -1 : n;
}

const describe = (e: Entry) =>
  `${e.kind} '${e.name}' with sizes [${e.shape.join(", ")}]` +
  (e.kind === "parameter" ? `, requiresGrad ${e.requiresGrad}` : "") + `, ${e.dtype}`;

function message(r: number, theirs: Entry[], ref: Entry[], i: number): string {
  const head = "DistributedDataParallel expects the same model on every rank, but ";
  const fix = "; build the same model (layers, sizes, frozen parameters) on every rank " +
    "before wrapping it";
  if (i < theirs.length && i < ref.length) {
    return `${head}parameters and buffers [${i}] in rank ${r} is the ${describe(theirs[i])}, ` +
      `which appears not to match the same entry in rank 0: the ${describe(ref[i])}${fix}`;
  }
  const extra = theirs.length > ref.length
    ? `rank ${r}'s first extra one is the ${describe(theirs[i])}`
    : `rank 0's first one missing on rank ${r} is the ${describe(ref[i])}`;
  return `${head}rank ${r} has ${theirs.length} parameters and buffers, while rank 0 has ` +
    `inconsistent ${ref.length} (${extra})${fix}`;
}

/**
 * @internal throws the same Error on every rank when the ranks' models
 * (`state`: name and tensor of each parameter and buffer, in order;
 * `params`: which of them are parameters) differ from rank 0's.
 */
export function checkSameModel(
  lib: DistSymbols,
  rank: number,
  world: number,
  state: [string, Tensor][],
  params: Set<Tensor>,
): void {
  const entries: Entry[] = state.map(([name, t]) => ({
    name,
    kind: params.has(t) ? "parameter" : "buffer",
    shape: [...t.shape],
    dtype: t.dtype,
    requiresGrad: params.has(t) && t.requiresGrad,
  }));
  const mine = new TextEncoder().encode(JSON.stringify(entries));
  const ref = fetch(lib, rank, 0, mine);
  // Slot r: 1 + the index where rank r first differs, or 0 (exact in float32 below 2^24).
  const where = new Float32Array(world);
  where[rank] = firstDifference(entries, ref) + 1;
  distCheck(
    lib,
    lib.lits_dist_all_reduce_f32(ptr(where), world, DIST_OP.sum),
    () => "DistributedDataParallel: comparing the model with rank 0's",
  );
  const r = where.findIndex((v) => v > 0);
  if (r < 0) return;
  const theirs = fetch(lib, rank, r, mine);
  throw new Error(message(r, theirs, ref, where[r] - 1));
}
