/**
 * The pruning methods of `torch.nn.utils.prune`: `Identity`,
 * `L1Unstructured`, `RandomUnstructured`, `LnStructured`,
 * `RandomStructured` and `CustomFromMask`, each computing its mask on the
 * host as torch does (the entries or channels torch's `topk` picks, ties
 * included: ./torch_topk.ts). The random ones draw from this library's
 * generator (`manualSeed`), so they prune as many entries as torch, but not
 * the same ones.
 *
 * @module
 */
import { BasePruningMethod, describe, hostValues, type PruningType, tensorLike } from "./base.ts";
import { torchTopkIndices } from "./torch_topk.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { rand } from "../../tensor/ops/random.ts";

/**
 * How much to prune: a whole number of entries (or channels), a fraction in
 * (0, 1), or, spelled out, `{ count: n }` / `{ fraction: f }`. The number 1
 * is refused: torch's `amount=1` (an int) prunes one entry and `amount=1.0`
 * (a float) prunes all, and TypeScript cannot tell them apart.
 */
export type Amount = number | { count: number } | { fraction: number };

/** An amount checked at construction: a count, or a fraction of the entries. */
interface CheckedAmount {
  count?: number;
  fraction?: number;
}

/** Checks `amount` (torch's `_validate_pruning_amount_init`). */
export function checkAmount(where: string, amount: unknown): CheckedAmount {
  const range = "a fraction in [0, 1] or a non-negative whole number";
  if (typeof amount === "number") {
    if (amount === 1) {
      throw new Error(
        `${where}: amount 1 is ambiguous: torch's amount=1 (an int) prunes one entry and ` +
          "amount=1.0 (a float) prunes all of them; write { count: 1 } or { fraction: 1 }",
      );
    }
    if (Number.isInteger(amount) && amount >= 0) return { count: amount };
    if (amount > 0 && amount < 1) return { fraction: amount };
    throw new Error(`${where}: amount=${amount} should be ${range}`);
  }
  if (typeof amount === "object" && amount !== null && !Array.isArray(amount)) {
    const keys = Object.keys(amount);
    const o = amount as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === "count") {
      if (Number.isInteger(o.count) && (o.count as number) >= 0) {
        return { count: o.count as number };
      }
      throw new Error(`${where}: { count } must be a non-negative whole number, got ${o.count}`);
    }
    if (keys.length === 1 && keys[0] === "fraction") {
      const f = o.fraction;
      if (typeof f === "number" && f >= 0 && f <= 1) return { fraction: f };
      throw new Error(`${where}: { fraction } must be in [0, 1], got ${f}`);
    }
  }
  throw new Error(
    `${where}: amount must be ${range} (or { count: n } / { fraction: f }), got ` +
      describe(amount),
  );
}

/** Python's `round`: halves to even (torch's `round(amount * tensor_size)`). */
export function pyRound(x: number): number {
  const f = Math.floor(x), d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** How many of `size` entries (or channels) to prune; throws where a count exceeds `size`. */
function toPrune(where: string, amount: CheckedAmount, size: number): number {
  if (amount.count === undefined) return pyRound(amount.fraction! * size);
  if (amount.count > size) {
    throw new Error(
      `${where}: amount=${amount.count} should be smaller than the number of parameters to ` +
        `prune=${size}`,
    );
  }
  return amount.count;
}

/** Prunes nothing: the mask is the one it is given (torch's `prune.Identity`). */
export class Identity extends BasePruningMethod {
  PRUNING_TYPE: PruningType = "unstructured";
  /** The mask given. */
  computeMask(_t: Tensor, defaultMask: Tensor): Tensor {
    return defaultMask;
  }
}

/** Prunes the `amount` entries of smallest |t| (torch's `prune.L1Unstructured`). */
export class L1Unstructured extends BasePruningMethod {
  PRUNING_TYPE: PruningType = "unstructured";
  /** The amount as given. */
  readonly amount: Amount;
  #amount: CheckedAmount;

  constructor(amount: Amount) {
    super();
    this.#amount = checkAmount("prune.L1Unstructured", amount);
    this.amount = amount;
  }

  /** The default mask with the smallest-magnitude entries set to 0. */
  computeMask(t: Tensor, defaultMask: Tensor): Tensor {
    const k = toPrune("prune.L1Unstructured", this.#amount, t.numel());
    const mask = hostValues(defaultMask);
    const mag = hostValues(t).map(Math.abs);
    for (const i of torchTopkIndices(mag, k, false)) mask[i] = 0;
    return tensorLike(mask, defaultMask);
  }
}

/** Prunes `amount` entries at random (torch's `prune.RandomUnstructured`; this library's RNG). */
export class RandomUnstructured extends BasePruningMethod {
  PRUNING_TYPE: PruningType = "unstructured";
  /** The amount as given. */
  readonly amount: Amount;
  #amount: CheckedAmount;

  constructor(amount: Amount) {
    super();
    this.#amount = checkAmount("prune.RandomUnstructured", amount);
    this.amount = amount;
  }

  /** The default mask with `amount` random entries set to 0 (those of the largest draws). */
  computeMask(t: Tensor, defaultMask: Tensor): Tensor {
    const k = toPrune("prune.RandomUnstructured", this.#amount, t.numel());
    const mask = hostValues(defaultMask);
    if (k > 0) {
      for (const i of torchTopkIndices(hostValues(rand([t.numel()])), k, true)) mask[i] = 0;
    }
    return tensorLike(mask, defaultMask);
  }
}

/** Throws unless `t` has two dimensions or more and `dim` is one of them. */
function checkStructured(where: string, t: Tensor, dim: number): number {
  if (t.ndim <= 1) {
    throw new Error(
      `${where}: structured pruning can only be applied to multidimensional tensors; found ` +
        `shape [${t.shape}] with ${t.ndim} dims`,
    );
  }
  if (!Number.isInteger(dim) || dim >= t.ndim || dim < -t.ndim) {
    throw new Error(`${where}: invalid dim ${dim} for a tensor of shape [${t.shape}]`);
  }
  return dim < 0 ? dim + t.ndim : dim;
}

/** A mask of t's shape: 1 along `dim` for the channels in `keep`, times `defaultMask`. */
function channelMask(t: Tensor, dim: number, keep: Set<number>, defaultMask: Tensor): Tensor {
  const mask = hostValues(defaultMask);
  const inner = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < mask.length; i++) {
    if (!keep.has(Math.floor(i / inner) % t.shape[dim])) mask[i] = 0;
  }
  return tensorLike(mask, defaultMask);
}

/** The p-norm of each channel along `dim` (torch's `norm(t, p, other dims)`), as float32. */
function channelNorms(t: Tensor, dim: number, p: number): number[] {
  const v = hostValues(t);
  const n = t.shape[dim], inner = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const acc = new Float64Array(n).fill(p === -Infinity ? Infinity : 0);
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor(i / inner) % n, a = Math.abs(v[i]);
    if (p === Infinity) acc[c] = Math.max(acc[c], a);
    else if (p === -Infinity) acc[c] = Math.min(acc[c], a);
    else if (p === 0) acc[c] += a !== 0 ? 1 : 0;
    else acc[c] += a ** p;
  }
  const finite = Number.isFinite(p) && p !== 0;
  return Array.from(acc, (s) => Math.fround(finite ? s ** (1 / p) : s));
}

/** Checks LnStructured's n: a number (±Infinity and 0 too) or "fro". */
function checkNorm(n: unknown): number {
  if (n === "fro") return 2;
  if (typeof n === "number" && !Number.isNaN(n)) return n;
  throw new Error(
    `prune.LnStructured: n must be a number (1, 2, Infinity, -Infinity, 0) or "fro", got ` +
      `${describe(n)}${n === "nuc" ? " (the nuclear norm of a channel is not supported)" : ""}`,
  );
}

/** Prunes the `amount` channels along `dim` of smallest Ln norm (torch's `prune.LnStructured`). */
export class LnStructured extends BasePruningMethod {
  PRUNING_TYPE: PruningType = "structured";
  /** The amount as given. */
  readonly amount: Amount;
  /** The order of the norm. */
  readonly n: number;
  /** The dimension of the channels. */
  readonly dim: number;
  #amount: CheckedAmount;

  constructor(amount: Amount, n: number | "fro", dim = -1) {
    super();
    this.#amount = checkAmount("prune.LnStructured", amount);
    this.amount = amount;
    this.n = checkNorm(n);
    if (!Number.isInteger(dim)) {
      throw new Error(`prune.LnStructured: dim must be an integer, got ${dim}`);
    }
    this.dim = dim;
  }

  /** Keeps the channels of largest norm (torch's topk among ties), times the default mask. */
  computeMask(t: Tensor, defaultMask: Tensor): Tensor {
    const dim = checkStructured("prune.LnStructured", t, this.dim);
    const size = t.shape[dim];
    const k = toPrune("prune.LnStructured", this.#amount, size);
    if (k === 0) return defaultMask;
    const keep = torchTopkIndices(channelNorms(t, dim, this.n), size - k, true);
    return channelMask(t, dim, new Set(keep), defaultMask);
  }
}

/** Prunes `amount` random channels along `dim` (torch's `prune.RandomStructured`; this library's RNG). */
export class RandomStructured extends BasePruningMethod {
  PRUNING_TYPE: PruningType = "structured";
  /** The amount as given. */
  readonly amount: Amount;
  /** The dimension of the channels. */
  readonly dim: number;
  #amount: CheckedAmount;

  constructor(amount: Amount, dim = -1) {
    super();
    this.#amount = checkAmount("prune.RandomStructured", amount);
    this.amount = amount;
    if (!Number.isInteger(dim)) {
      throw new Error(`prune.RandomStructured: dim must be an integer, got ${dim}`);
    }
    this.dim = dim;
  }

  /** Keeps the channels whose draw is above the k-th smallest, as torch, times the default mask. */
  computeMask(t: Tensor, defaultMask: Tensor): Tensor {
    const dim = checkStructured("prune.RandomStructured", t, this.dim);
    const size = t.shape[dim];
    const k = toPrune("prune.RandomStructured", this.#amount, size);
    if (k === 0) return defaultMask;
    const prob = hostValues(rand([size]));
    const threshold = [...prob].sort((a, b) => a - b)[k - 1];
    const keep = new Set([...prob.keys()].filter((c) => prob[c] > threshold));
    return channelMask(t, dim, keep, defaultMask);
  }
}

/** Prunes where a given mask is 0 (torch's `prune.CustomFromMask`). */
export class CustomFromMask extends BasePruningMethod {
  PRUNING_TYPE: PruningType = "global";
  /** The mask given. */
  readonly mask: Tensor;

  constructor(mask: Tensor) {
    super();
    this.mask = mask;
  }

  /** The default mask times the given one. */
  computeMask(_t: Tensor, defaultMask: Tensor): Tensor {
    if (this.mask.shape.join() !== defaultMask.shape.join()) {
      throw new Error(
        `prune.customFromMask: the mask has shape [${this.mask.shape}], the parameter ` +
          `[${defaultMask.shape}]`,
      );
    }
    const m = hostValues(defaultMask), given = hostValues(this.mask);
    return tensorLike(m.map((v, i) => v * given[i]), defaultMask);
  }
}
