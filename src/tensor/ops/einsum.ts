/**
 * `einsum` (torch.einsum) for one or two operands, as attention code writes
 * it (`einsum("bhid,bhjd->bhij", q, k)`): subscripts of letters, `...` for
 * leading dimensions, an optional `->` output (without it, the letters seen
 * once, in alphabetical order, as torch's).
 *
 * Two operands become one batched matrix product: each is summed over the
 * letters only it has and the output lacks, permuted to [batch, kept,
 * contracted] and reshaped, multiplied by `matmul`, then shaped and permuted
 * to the output. Every step is a differentiable op, so the gradients are
 * those of the product. A letter repeated within one operand (a diagonal)
 * and more than two operands are refused.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { requireFloat } from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { sum } from "./reduce.ts";
import { expand, permute, reshape } from "./shape.ts";

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
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  if (typeof equation !== "string") fail("the first argument is the equation");
  if (operands.length < 1 || operands.length > 2) {
    fail(`one or two operands are supported here, got ${operands.length}`);
  }
  operands.forEach((t, i) => {
    expectTensor(t, `einsum: operand ${i}`, USAGE);
    requireFloat(t, "einsum");
  });
  const eq = equation.replace(/\s+/g, "");
  const [lhs, rhs] = eq.includes("->") ? eq.split("->") : [eq, null];
  const specs = lhs.split(",");
  if (specs.length !== operands.length) {
    fail(`'${lhs}' has ${specs.length} operands' subscripts, got ${operands.length} tensors`);
  }
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
  for (const [i, list] of subs.entries()) {
    if (new Set(list).size !== list.length) {
      fail(`'${specs[i]}' repeats a letter (a diagonal), which is not supported`);
    }
  }
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
  const counts = new Map<string, number>();
  for (const l of subs.flat()) counts.set(l, (counts.get(l) ?? 0) + 1);
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
  const product = reshape(matmul(A, B), [...batch, ...left, ...right].map((l) => size.get(l)!));
  const have = [...batch, ...left, ...right];
  return out.length === 0 ? product : permute(product, out.map((l) => have.indexOf(l)));
}
