/**
 * Variance and standard deviation over dimensions (torch.var, torch.std),
 * unbiased (divisor N - 1) by default as torch's.
 *
 * The forward is two-pass (mean, then the mean square of the deviations) on
 * a detached view, and each op records one node whose gradient is torch's
 * formula: var_backward is 2 / (N - c) * g * (x - mean), and std_backward
 * first divides g by 2 std, with 0 where std is 0 (a constant input gets a
 * zero gradient, not the NaN that composing sqrt(var) would give).
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { checkArity } from "../../options.ts";
import { record } from "../autograd.ts";
import { binaryRaw, div, mul, requireFloat, sqrt, sub } from "./elementwise.ts";
import { mean, sum } from "./reduce.ts";
import { detach, reshape } from "./shape.ts";
import { scalarTensor } from "./compare.ts";
import { whereRaw } from "./where.ts";
import { hasOut, outError, showValue } from "./show_value.ts";

type Dims = number | number[] | undefined;

/**
 * The divisor's correction (1: unbiased) from torch's positional
 * `(dim, unbiased, keepdim)`, each checked: a ported `x.var(1, False)` is
 * the biased variance here too.
 */
function checkArgs(name: string, dims: unknown, unbiased: unknown, keepDim: unknown): number {
  const usage = `x.${name}(1, false, true) (dims, unbiased, keepDim, as torch's)`;
  if (dims === null) {
    throw new Error(
      `${name}: all dimensions are written undefined (torch's None): x.${name}(undefined, false)`,
    );
  }
  if (typeof dims === "boolean") {
    // torch's x.var(False) is unbiased=False over everything.
    throw new Error(
      `${name}: the first argument is the dimensions; torch's x.${name}(${
        dims ? "True" : "False"
      }) is written x.${name}(undefined, ${dims})`,
    );
  }
  const plain = (v: unknown): v is object =>
    typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
  if (plain(dims)) throw optionsError(name, dims);
  // x.std(1, { unbiased: false }): the dims given in place stay.
  if (plain(unbiased)) throw optionsError(name, { dim: dims, ...unbiased }, unbiased);
  if (plain(keepDim)) throw optionsError(name, { dim: dims, unbiased, ...keepDim }, keepDim);
  for (const [what, v] of [["unbiased", unbiased], ["keepDim", keepDim]] as const) {
    if (typeof v !== "boolean") {
      throw new Error(
        `${name}: ${what} must be true or false, got ${showValue(v)}; write ${usage}`,
      );
    }
  }
  return unbiased ? 1 : 0;
}

/**
 * The Error for torch's keywords as an options object (`x.std({ unbiased:
 * false })`, torch's `x.std(unbiased=False)`): the arguments are
 * positional, and the call to write is spelled out where the keys allow.
 */
function optionsError(name: string, o: object, given: object = o): Error {
  if (hasOut(given)) return outError(name, `x.${name}(dims, unbiased, keepDim)`);
  const { dim, unbiased: unbiasedKey, keepdim, keepDim, correction, ...rest } = o as Record<
    string,
    unknown
  >;
  const keep = keepDim ?? keepdim;
  // torch's correction=0 / 1 (its newer spelling) is unbiased false / true.
  const fromCorrection = correction === 0 ? false : correction === 1 ? true : undefined;
  const unbiased = unbiasedKey ?? fromCorrection;
  const known = Object.keys(rest).length === 0 &&
    (correction === undefined || (fromCorrection !== undefined && unbiasedKey === undefined)) &&
    (dim === undefined || typeof dim === "number" || Array.isArray(dim)) &&
    (unbiased === undefined || typeof unbiased === "boolean") &&
    (keep === undefined || typeof keep === "boolean");
  const args = [dim === undefined ? "undefined" : showValue(dim)];
  if (unbiased !== undefined || keep !== undefined) args.push(String(unbiased ?? true));
  if (keep !== undefined) args.push(String(keep));
  const call = known ? `write x.${name}(${args.join(", ")}); ` : "";
  return new Error(
    `${name}: takes its arguments in place, (dims, unbiased, keepDim), not an options object ` +
      `(got ${showValue(given)}); ${call}torch's x.${name}(unbiased=False) is ` +
      `x.${name}(undefined, false), x.${name}(dim=1) is x.${name}(1), ` +
      `x.${name}(1, keepdim=True) is x.${name}(1, true, true); correction=0 is unbiased false, ` +
      "correction=1 unbiased true (other corrections have no form here)",
  );
}

/** The mean (kept dims) and the deviations x - mean of a detached view of `t`. */
function deviations(t: Tensor, dims: Dims): [Tensor, Tensor] {
  const x = detach(t);
  const m = mean(x, dims, true);
  const d = sub(x, m);
  x.dispose();
  return [m, d];
}

/**
 * The sum of squared deviations over `dims` (kept or dropped as `keepDim`
 * says), the deviations, the divisor max(0, N - correction) and the
 * kept-dims shape.
 */
function moments(
  t: Tensor,
  dims: Dims,
  keepDim: boolean,
  correction: number,
): [Tensor, Tensor, number, number[]] {
  const [m, d] = deviations(t, dims);
  const keepShape = [...m.shape];
  m.dispose();
  // N: the sizes that the reduction shrank (a size-1 dimension counts 1 either way).
  const n = numel(t.shape.filter((s, i) => s !== keepShape[i]));
  const sq = mul(d, d);
  const ss = sum(sq, dims, keepDim);
  sq.dispose();
  return [ss, d, Math.max(0, n - correction), keepShape];
}

function reduceStat(
  name: "var" | "std",
  t: Tensor,
  dims: Dims,
  keepDim: boolean,
  correction: number,
): Tensor {
  requireFloat(t, name);
  const [ss, d, divisor] = moments(t, dims, keepDim, correction);
  d.dispose();
  const v = div(ss, divisor); // 0 / 0 = NaN where N - correction is 0, as torch
  ss.dispose();
  const out = name === "var" ? v : sqrt(v);
  if (out !== v) v.dispose();
  return record(out, {
    name,
    inputs: [t],
    saved: [t],
    backward: (g) => {
      // Recomputed from t: the forward's intermediates were freed.
      const [ss2, dev, n, keepShape] = moments(t, dims, true, correction);
      let gv = reshape(g, keepShape);
      if (name === "std") {
        const s = sqrt(div(ss2, n));
        const zero = scalarTensor(0, t.device);
        gv = whereRaw(binaryRaw("eq", s, zero), zero, div(gv, mul(s, 2)));
      }
      return [mul(mul(gv, 2 / n), dev)]; // 2 / 0 = inf: NaN gradient, as torch's
    },
  });
}

/**
 * Variance over `dims` (all elements when omitted), as `torch.var` with its
 * positional order `(dim, unbiased, keepdim)`: divisor N - 1 unless
 * `unbiased` is false (then N); N - 1 = 0 gives NaN, as torch's. `F.var` is
 * this function.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[1, 2, 3, 4], [2, 2, 2, 2]]);
 * console.log(F.var(x, 1).toArray()); // Float32Array [1.6666666269302368, 0]
 * console.log(F.var(x, 1, false, true).shape); // [2, 1] (biased, dims kept)
 * ```
 */
export function variance(
  t: Tensor,
  dims?: number | number[],
  unbiased = true,
  keepDim = false,
): Tensor {
  checkArity("var", arguments.length, 4, "F.var(x, dims, unbiased, keepDim)");
  return reduceStat("var", t, dims, keepDim, checkArgs("var", dims, unbiased, keepDim));
}

/**
 * Standard deviation over `dims` (all elements when omitted), as
 * `torch.std`: the square root of `variance` with the same arguments. Its
 * gradient is 0 where the result is 0 (a constant input), as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.std(tensor([2, 4, 4, 4, 5, 5, 7, 9]), undefined, false).item()); // 2
 * ```
 */
export function std(
  t: Tensor,
  dims?: number | number[],
  unbiased = true,
  keepDim = false,
): Tensor {
  checkArity("std", arguments.length, 4, "F.std(x, dims, unbiased, keepDim)");
  return reduceStat("std", t, dims, keepDim, checkArgs("std", dims, unbiased, keepDim));
}
