/**
 * `nn.utils.parametrizations.orthogonal`, as torch 1.13's: a matrix (or a
 * batch of them, the last two dimensions) kept with orthonormal columns
 * (rows where it is wide), through the matrix exponential or the Cayley
 * map of a skew-symmetric matrix, or a product of Householder reflectors,
 * and, by default, torch's "dynamic trivialization": an extra orthogonal
 * buffer `base` (`parametrizations.weight.0.base`) multiplied on the left.
 *
 * @module
 */
import { Module } from "./module.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { eye } from "../tensor/ops/creation_more.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { randn } from "../tensor/ops/random.ts";
import { cat } from "../tensor/ops/join.ts";
import { checkOptions } from "../options.ts";
import { describe } from "./prune/base.ts";
import {
  constant,
  geqrf,
  householderProduct,
  makeOrthogonal,
  matrixExp,
  solve,
} from "./orthogonal_maps.ts";
import { RightInverseUnavailable } from "./parametrization_list.ts";
import { type Parametrized, registerParametrization } from "./parametrize.ts";

/** torch's names of the maps. */
export type OrthogonalMap = "matrix_exp" | "cayley" | "householder";
const MAPS: readonly OrthogonalMap[] = ["matrix_exp", "cayley", "householder"];

/** Whether q^T q is the identity within torch's `_is_orthogonal` tolerance. */
function isOrthogonal(q: Tensor): boolean {
  const [n, k] = q.shape.slice(-2);
  const atol = 10 * n * 1.1920928955078125e-7;
  const got = noGrad(() => q.mT.matmul(q).toArray());
  for (let i = 0; i < got.length; i++) {
    const want = Math.floor(i / k) % k === i % k ? 1 : 0;
    if (!(Math.abs(got[i] - want) <= atol + 1e-5 * want)) return false;
  }
  return true;
}

/** torch's `_Orthogonal`: the parametrization module (`parametrizations.weight[0]`). */
// deno-lint-ignore camelcase
class _Orthogonal extends Module {
  /** The shape of the tensor parametrized. */
  shape: number[];
  /** How the orthogonal matrix is made. */
  orthogonalMap: OrthogonalMap;
  #trivialization: boolean;

  constructor(weight: Tensor, orthogonalMap: OrthogonalMap, useTrivialization: boolean) {
    super();
    this.shape = [...weight.shape];
    this.orthogonalMap = orthogonalMap;
    this.#trivialization = useTrivialization;
    if (useTrivialization) this.registerBuffer("base", null);
  }

  /** The trivialization's orthogonal matrix (null before the first `rightInverse`). */
  get base(): Tensor | null {
    return this.buffer("base");
  }

  /** The orthogonal matrix that `x` (the original) stands for. */
  forward(x: Tensor): Tensor {
    let [n, k] = x.shape.slice(-2);
    const transposed = n < k;
    if (transposed) {
      x = x.mT;
      [n, k] = [k, n];
    }
    let q: Tensor;
    if (this.orthogonalMap === "householder") {
      const a = x.tril(-1);
      const tau = a.mul(a).sum(-2).add(1).reciprocal().mul(2);
      q = householderProduct(a, tau);
      // torch's X.diagonal().int(): the signs, truncated, out of the graph.
      q = q.mul(noGrad(() => x.diagonal(0, -2, -1).detach().trunc()).unsqueeze(-2));
    } else {
      x = x.tril();
      if (n !== k) {
        const pad = constant(n, n - k, x.device, true).expand([...x.shape.slice(0, -2), n, n - k]);
        x = cat([x, pad], -1);
      }
      const a = x.sub(x.mT);
      if (this.orthogonalMap === "matrix_exp") q = matrixExp(a);
      else {
        const id = constant(n, n, a.device);
        q = solve(id.add(a, { alpha: -0.5 }), id.add(a, { alpha: 0.5 }));
      }
      if (n !== k) q = q.narrow(-1, 0, k);
    }
    if (this.#trivialization) q = this.base!.matmul(q);
    return transposed ? q.mT : q;
  }

  /**
   * The original for the orthogonal `q0`: with the trivialization, `q0`
   * (orthogonalised by QR where it is not orthogonal; a wide or tall one
   * completed by random columns) becomes `base` and the original is -I;
   * without it, Householder's reflectors of `q0`'s QR.
   */
  rightInverse(q0: Tensor): Tensor {
    if (q0.shape.join() !== this.shape.join()) {
      throw new Error(
        `nn.utils.parametrizations.orthogonal: Expected a matrix or batch of matrices of shape ` +
          `[${this.shape}]. Got a tensor of shape [${q0.shape}].`,
      );
    }
    return noGrad(() => {
      let q = q0;
      let [n, k] = q.shape.slice(-2);
      const transpose = n < k;
      if (transpose) {
        q = q.mT;
        [n, k] = [k, n];
      }
      if (!this.#trivialization) {
        if (this.orthogonalMap !== "householder") {
          throw new RightInverseUnavailable(
            "nn.utils.parametrizations.orthogonal: It is not possible to assign to the matrix " +
              "exponential or the Cayley parametrizations when use_trivialization=False.",
          );
        }
        const { a, tau } = geqrf(q);
        const out = new Float32Array(a.length * n * k);
        a.forEach((ai, b) => {
          for (let j = 0; j < k; j++) {
            const s = Math.sign(ai[j * k + j]);
            ai[j * k + j] = tau[b][j] === 0 ? -s : s;
          }
          out.set(ai, b * n * k);
        });
        const r = fromHost(out, q.shape, { device: q.device });
        return transpose ? r.mT.contiguous() : r;
      }
      if (n === k) q = isOrthogonal(q) ? q.clone() : makeOrthogonal(q);
      else {
        const extra = randn([...q.shape.slice(0, -2), n, n - k], { device: q.device });
        q = makeOrthogonal(cat([q, extra], -1));
      }
      const base = this.base;
      if (base === null) this.registerBuffer("base", q);
      else {
        base.copy_(q); // in place: a graph made before still holds the old values' version
        q.dispose();
      }
      const [r, c] = q0.shape.slice(-2);
      return eye(r, c, { device: q0.device }).neg().expand([...q0.shape]).contiguous();
    });
  }
}

/** Options of `orthogonal`: torch's keywords. */
export interface OrthogonalOptions {
  /** "matrix_exp", "cayley" or "householder" (default: "matrix_exp" for a square matrix, else "householder"). */
  orthogonalMap?: OrthogonalMap;
  /** Keep the extra orthogonal `base` (torch's dynamic trivialization; default true). */
  useTrivialization?: boolean;
}

const USAGE =
  'nn.utils.parametrizations.orthogonal(module, "weight", { orthogonalMap: "cayley", useTrivialization: false })';

/**
 * Makes `module[name]` orthogonal, as torch 1.13's
 * `nn.utils.parametrizations.orthogonal(module, name, orthogonal_map,
 * use_trivialization=True)`: a matrix [m, n] (or a batch [..., m, n]) with
 * orthonormal columns where m >= n, orthonormal rows otherwise, made by
 * `orthogonalMap` (torch's names: "matrix_exp", the default for square
 * matrices; "cayley"; "householder", the default otherwise). With
 * `useTrivialization` (default) the weight starts as the original weight
 * where it is orthogonal, else the Q of its QR (a non-square one is first
 * completed with random columns, drawn from this library's generator: load
 * torch's `parametrizations.weight.0.base` for torch's numbers). The map
 * may be given as the third argument (torch's positional `orthogonal_map`)
 * or in the options. Returns the module.
 *
 * @example
 * ```ts
 * import { eye, nn } from "@lits/vision";
 * const fc = nn.utils.parametrizations.orthogonal(new nn.Linear(4, 6));
 * const q = fc.weight; // [6, 4]: orthonormal columns
 * console.log(q.mT.matmul(q).sub(eye(4)).abs().max().item() < 1e-5); // true
 * console.log([...fc.stateDict().keys()]);
 * // ["bias", "parametrizations.weight.original", "parametrizations.weight.0.base"]
 * ```
 */
export function orthogonal<M extends Module>(
  module: M,
  name = "weight",
  orthogonalMap?: OrthogonalMap | null | OrthogonalOptions,
  options: OrthogonalOptions = {},
): M & Parametrized {
  const where = "nn.utils.parametrizations.orthogonal";
  if (arguments.length > 4) {
    throw new Error(`${where}: takes (module, name, orthogonalMap, options); write ${USAGE}`);
  }
  let o = checkOptions<OrthogonalOptions>(
    where,
    options,
    ["orthogonalMap", "useTrivialization"],
    USAGE,
  );
  if (typeof orthogonalMap === "object" && orthogonalMap !== null) {
    if (arguments.length > 3) {
      throw new Error(`${where}: give the options in one object; write ${USAGE}`);
    }
    o = checkOptions(where, orthogonalMap, ["orthogonalMap", "useTrivialization"], USAGE);
  } else if (orthogonalMap !== undefined && orthogonalMap !== null) {
    if (o.orthogonalMap !== undefined) {
      throw new Error(`${where}: orthogonalMap given twice; write ${USAGE}`);
    }
    o = { ...o, orthogonalMap };
  }
  if (!(module instanceof Module)) {
    throw new Error(`${where}: expected an nn.Module first, got ${describe(module)}`);
  }
  const weight = (module as unknown as Record<string, unknown>)[name];
  if (typeof name !== "string" || !(weight instanceof Tensor)) {
    throw new Error(
      `${where}: Module '${module.constructor.name}' has no parameter or buffer with name ` +
        `'${String(name)}'`,
    );
  }
  if (weight.ndim < 2) {
    throw new Error(
      `${where}: Expected a matrix or batch of matrices. Got a tensor of ${weight.ndim} ` +
        "dimensions.",
    );
  }
  const [m, n] = weight.shape.slice(-2);
  const map = o.orthogonalMap ?? (m === n ? "matrix_exp" : "householder");
  if (!MAPS.includes(map)) {
    throw new Error(
      `${where}: orthogonal_map has to be one of "matrix_exp", "cayley", "householder". ` +
        `Got: ${String(map)}`,
    );
  }
  const trivial = o.useTrivialization ?? true;
  if (typeof trivial !== "boolean") {
    throw new Error(`${where}: useTrivialization must be true or false, got ${describe(trivial)}`);
  }
  return registerParametrization(module, name, new _Orthogonal(weight, map, trivial), {
    unsafe: true,
  });
}
