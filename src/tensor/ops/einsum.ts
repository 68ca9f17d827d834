/**
 * `einsum` (torch.einsum), as attention code writes
 * it (`einsum("bhid,bhjd->bhij", q, k)`): subscripts of letters, `...` for
 * leading dimensions, an optional `->` output (without it, the letters seen
 * once, in alphabetical order, as torch's).
 *
 * Two operands become one batched matrix product: each is summed over the
 * letters only it has and the output lacks, permuted to [batch, kept,
 * contracted] and reshaped, multiplied by `matmul`, then shaped and permuted
 * to the output. Every step is a differentiable op, so the gradients are
 * those of the product. A letter repeated within one operand reads its
 * diagonal first (`"ii"` is the trace); more than two operands are
 * contracted two at a time, left to right.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { requireFloat } from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { sum } from "./reduce.ts";
import { expand, permute, reshape } from "./shape.ts";
import { diagonal } from "./linalg_small.ts";
import { inFloat32 } from "../autocast.ts";

const USAGE = 'einsum("bij,bjk->bik", a, b)';

function fail(msg: string): never {
  throw new Error(`einsum: ${msg}; write ${USAGE}`);
}

/** An operand's letters, with "..." replaced by as many placeholder letters as it covers. */
function letters(spec: string, ndim: number, ellipsis: string[] | null): string[] {
  const parts = spec.split("...");
  if (parts.length > 2) fail(`'${spec}' has more than one '...'`);
  const named = parts.join("");
  if (!/^[a-zA-Z]*$/.test(named)) fail(`'${spec}' holds a character other than letters`);
  if (parts.length === 1) {
    if (named.length !== ndim) {
      fail(`'${spec}' names ${named.length} dimensions of a ${ndim}-D operand`);
    }
    return [...named];
  }
  const free = ndim - named.length;
  if (free < 0) fail(`'${spec}' names more dimensions than the operand's ${ndim}`);
  // Right-aligned, as broadcasting: an operand with fewer takes the last ones.
  const all = ellipsis ?? [];
  const dots = free === 0 ? [] : all.slice(all.length - free);
  return [...parts[0], ...dots, ...parts[1]];
}

/** Sums `x` over the letters in `drop`; returns the tensor and its remaining letters. */
function sumOut(x: Tensor, subs: string[], drop: (l: string) => boolean): [Tensor, string[]] {
  const dims = subs.flatMap((l, i) => (drop(l) ? [i] : []));
  if (dims.length === 0) return [x, subs];
  return [sum(x, dims), subs.filter((l) => !drop(l))];
}

/**
 * The Einstein summation of one or two tensors, as `torch.einsum`:
 * `einsum("ij,jk->ik", a, b)` is a matrix product, `"bhid,bhjd->bhij"` the
 * attention scores, `"ij->ji"` a transpose, `"ii"` is refused (a diagonal).
 *
 * @example
 * ```ts
 * import { einsum, tensor } from "@lits/vision";
 * const a = tensor([[1, 2], [3, 4]]), b = tensor([[1, 0], [0, 1]]);
 * console.log(einsum("ij,jk->ik", a, b).toList()); // [[1, 2], [3, 4]]
 * console.log(einsum("ij->", a).item()); // 10
 * ```
 */
export function einsum(equation: string, ...operands: Tensor[] | [Tensor[]]): Tensor {
  if (typeof equation !== "string") fail("the first argument is the equation");
  // torch's list form, einsum("ij,jk", [a, b]), is the same call.
  const ops =
    (operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands) as Tensor[];
  if (ops.length < 1) fail("no operands given");
  ops.forEach((t, i) => {
    expectTensor(t, `einsum: operand ${i}`, USAGE);
    requireFloat(t, "einsum");
  });
  const eq = equation.replace(/\s+/g, "");
  const [lhs, rhs] = eq.includes("->") ? eq.split("->") : [eq, null];
  const specs = lhs.split(",");
  if (specs.length !== ops.length) {
    fail(`'${lhs}' has ${specs.length} operands' subscripts, got ${ops.length} tensors`);
  }
  if (ops.length > 2) return chain(specs, rhs, ops);
  return einsumPair(specs, rhs, ops);
}

/**
 * More than two operands, contracted left to right: each step keeps the
 * letters a later operand or the output still needs (torch contracts left
 * to right too, unless opt_einsum picks another order; the sums are the same).
 */
function chain(specs: string[], rhs: string | null, ops: Tensor[]): Tensor {
  const named = (s: string) => [...s.replace("...", "")];
  const dots = specs.some((s) => s.includes("..."));
  let out = rhs;
  if (out === null) {
    // The implicit output: the ellipsis, then the letters seen once, sorted (torch's).
    const all = specs.flatMap(named);
    out = (dots ? "..." : "") +
      [...new Set(all)].filter((l) => all.indexOf(l) === all.lastIndexOf(l)).sort().join("");
  }
  let cur = ops[0], spec = specs[0];
  for (let k = 1; k < ops.length; k++) {
    const later = specs.slice(k + 1).join("") + out;
    const keep = [...new Set([...named(spec), ...named(specs[k])])].filter((l) =>
      later.includes(l)
    );
    const hasDots = spec.includes("...") || specs[k].includes("...");
    const res = k === ops.length - 1 ? out : (hasDots ? "..." : "") + keep.join("");
    cur = einsumPair([spec, specs[k]], res, [cur, ops[k]]);
    spec = res;
  }
  return cur;
}

/** One or two operands: sums, diagonals, and one batched matrix product. */
function einsumPair(specs: string[], rhs: string | null, operands: Tensor[]): Tensor {
  // The ellipsis covers the most dimensions any operand leaves to it (broadcast from the right).
  const widest = Math.max(
    0,
    ...specs.map((
      s,
      i,
    ) => (s.includes("...") ? operands[i].ndim - s.replace("...", "").length : 0)),
  );
  const ellipsis = Array.from({ length: widest }, (_, i) => `#${i}`);
  const subs = specs.map((s, i) => letters(s, operands[i].ndim, ellipsis));
  // Counted before the diagonals: a repeated letter is not in the implicit output ('ii' a trace).
  const counts = new Map<string, number>();
  for (const l of subs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
  operands = operands.map((t, i) => {
    // A letter repeated within one operand reads its diagonal ('ii->i'): a view, as torch's.
    for (;;) {
      const list = subs[i];
      const q = list.findIndex((l, k) => list.indexOf(l) !== k);
      if (q < 0) return t;
      const p = list.indexOf(list[q]);
      if (t.shape[p] !== t.shape[q]) {
        fail(`'${specs[i]}' repeats '${list[q]}' over sizes ${t.shape[p]} and ${t.shape[q]}`);
      }
      t = diagonal(t, 0, p, q);
      subs[i] = [...list.filter((_, k) => k !== p && k !== q), list[p]];
    }
  });
  // Sizes, checked across operands; a size-1 dimension broadcasts, as torch's.
  const size = new Map<string, number>();
  subs.forEach((list, i) =>
    list.forEach((l, d) => {
      const n = operands[i].shape[d], known = size.get(l);
      if (known === undefined || known === 1) size.set(l, n);
      else if (n !== 1 && n !== known) {
        fail(`'${l}' is ${known} in one place and ${n} in another`);
      }
    })
  );
  let out: string[];
  if (rhs === null) {
    out = [
      ...ellipsis,
      ...[...counts.keys()].filter((l) => !l.startsWith("#") && counts.get(l) === 1).sort(),
    ];
  } else {
    out = letters(
      rhs,
      rhs.replace("...", "").length + (rhs.includes("...") ? widest : 0),
      ellipsis,
    );
    for (const l of out) if (!size.has(l)) fail(`the output's '${l}' is in no operand`);
    if (new Set(out).size !== out.length) fail(`the output '${rhs}' repeats a letter`);
  }
  const inOut = new Set(out);
  // Each operand first sums the letters only it has that the output lacks.
  const reduced = operands.map((t, i) =>
    sumOut(t, subs[i], (l) => !inOut.has(l) && !subs.some((o, j) => j !== i && o.includes(l)))
  );
  if (reduced.length === 1) {
    const [x, s] = reduced[0];
    return out.length === 0 ? x : permute(x, out.map((l) => s.indexOf(l)));
  }
  const [[a, sa], [b, sb]] = reduced;
  const inB = new Set(sb), inA = new Set(sa);
  const batch = out.filter((l) => inA.has(l) && inB.has(l));
  const left = out.filter((l) => inA.has(l) && !inB.has(l));
  const right = out.filter((l) => inB.has(l) && !inA.has(l));
  const contracted = sa.filter((l) => inB.has(l) && !inOut.has(l));
  const n = (ls: string[]) => ls.reduce((p, l) => p * size.get(l)!, 1);
  const arrange = (x: Tensor, s: string[], order: string[]) => {
    const p = permute(x, order.map((l) => s.indexOf(l)));
    const full = order.map((l) => size.get(l)!);
    return p.shape.join() === full.join() ? p : expand(p, full); // size-1 broadcasts
  };
  const A = reshape(arrange(a, sa, [...batch, ...left, ...contracted]), [
    n(batch),
    n(left),
    n(contracted),
  ]);
  const B = reshape(arrange(b, sb, [...batch, ...contracted, ...right]), [
    n(batch),
    n(contracted),
    n(right),
  ]);
  // A product that sums over no letter stays fp32 under autocast, as torch's (a mul there).
  const ab = contracted.length === 0 ? inFloat32(() => matmul(A, B)) : matmul(A, B);
  const product = reshape(ab, [...batch, ...left, ...right].map((l) => size.get(l)!));
  const have = [...batch, ...left, ...right];
  return out.length === 0 ? product : permute(product, out.map((l) => have.indexOf(l)));
}
