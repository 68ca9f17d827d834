/**
 * Taking elements along one dimension by index: `gather` (torch.gather),
 * `indexSelect` (torch.index_select), and the internal `takeAlong` that
 * flip, roll, sort and interpolate build on. The gradient is a scatter-add
 * into zeros (the backend adds in a fixed order, so it is deterministic).
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous, i64, narrow, normDim } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost, zeros } from "./creation.ts";

/**
 * How the index lines up with the output [outer, k, inner]: `"dense"` holds
 * one index per output element (gather), `"row"` one per position along the
 * dimension, the same for every outer and inner position (index_select).
 */
type IndexForm = "dense" | "row";

/**
 * @internal x taken along dimension `dim` (normalised) at int32 `index`,
 * with gradient. `checked` asks the backend to name an index outside the
 * dimension (a user's index); indices this library made skip the check.
 */
export function takeAlong(
  x: Tensor,
  dim: number,
  index: Tensor,
  form: IndexForm,
  checked: boolean,
  what: string,
): Tensor {
  const outer = numel(x.shape.slice(0, dim)), r = x.shape[dim];
  const inner = numel(x.shape.slice(dim + 1));
  const k = form === "row" ? index.numel() : index.shape[dim];
  const shape = x.shape.map((s, d) => (d === dim ? k : s));
  const strides = i64(form === "row" ? [0, 1, 0] : [k * inner, inner, 1]);
  const src = contiguous(x), idx = contiguous(index);
  const out = Tensor.empty(shape, "float32", x.device);
  check(
    x.lib,
    x.lib.lits_gather_f32(src.ptr, idx.ptr, strides, out.ptr, outer, r, k, inner, checked ? 1 : 0),
    () => `${what} [${x.shape}] along dimension ${dim} at index [${index.shape}]`,
  );
  return record(out, {
    name: what,
    inputs: [x],
    saved: [idx],
    backward: (g) => {
      const dy = contiguous(g);
      const dx = zeros([...x.shape], { device: x.device });
      check(
        x.lib,
        x.lib.lits_scatter_add_f32(dy.ptr, idx.ptr, strides, dx.ptr, outer, r, k, inner),
        () => `${what} backward [${x.shape}] along dimension ${dim}`,
      );
      return [dx];
    },
  });
}

/** @internal an int32 index vector on `device`, made by this library (an op's result). */
export function indexVector(values: Int32Array, device: Tensor["device"]): Tensor {
  return fromHost(values, [values.length], { dtype: "int32", device }, true);
}

function checkIndexTensor(where: string, x: unknown, index: unknown, usage: string): void {
  expectTensor(x, where, usage);
  expectTensor(index, `${where}: index`, usage);
  requireFloat(x, where);
  if (index.dtype !== "int32") {
    throw new Error(
      `${where}: index must be an int32 tensor, got ${index.dtype} [${index.shape}]; ` +
        "convert with index.int()",
    );
  }
  sameDevice(x, index, where);
}

/**
 * Values of `x` at `index` along `dim`, as `torch.gather`: for a 3-D x and
 * dim 1, `out[i][j][k] = x[i][index[i][j][k]][k]`. `index` is int32 with
 * x's number of dimensions and no larger than x in the others; the result
 * has index's shape. An index outside `[0, x.shape[dim])` is an Error. The
 * gradient adds each output's gradient at the position it was taken from.
 *
 * @example
 * ```ts
 * import { gather, tensor } from "@lits/vision";
 * const x = tensor([[1, 2], [3, 4]]);
 * const y = gather(x, 1, tensor(new Int32Array([0, 0, 1, 0]), [2, 2]));
 * console.log(y.toList()); // [[1, 1], [4, 3]]
 * ```
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const usage = "gather(x, dim, index) with an int32 index";
  if (arguments.length > 3) {
    throw new Error(`gather: takes (x, dim, index), got ${arguments.length} arguments`);
  }
  checkIndexTensor("gather", x, index, usage);
  if (x.ndim === 0 && index.ndim === 0) {
    // torch treats a 0-d x and index as one element along dimension 0.
    normDim(dim, 1, "gather");
    return takeAlong(x.reshape([1]), 0, index.reshape([1]), "dense", true, "gather").reshape([]);
  }
  const d = normDim(dim, Math.max(x.ndim, 1), "gather");
  if (index.ndim !== x.ndim) {
    throw new Error(
      `gather: index [${index.shape}] must have as many dimensions as x [${x.shape}]`,
    );
  }
  const bad = index.shape.findIndex((s, i) => i !== d && s > x.shape[i]);
  if (bad >= 0) {
    throw new Error(
      `gather: index [${index.shape}] is larger than x [${x.shape}] in dimension ${bad}, ` +
        `which is not the gathered dimension ${d}`,
    );
  }
  if (x.shape[d] === 0 && index.numel() > 0) {
    throw new Error(`gather: x [${x.shape}] has nothing along dimension ${d} to take`);
  }
  // torch reads only the corner of x that the index covers in the other dims.
  let src = x;
  index.shape.forEach((s, i) => {
    if (i !== d && s < x.shape[i]) src = narrow(src, i, 0, s);
  });
  return takeAlong(src, d, index, "dense", true, "gather");
}

/**
 * The slices of `x` along `dim` at the positions a 1-D int32 `index` names,
 * in its order (repeats allowed), as `torch.index_select`. An index outside
 * `[0, x.shape[dim])` is an Error.
 *
 * @example
 * ```ts
 * import { indexSelect, tensor } from "@lits/vision";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * console.log(indexSelect(x, 1, tensor(new Int32Array([2, 0]), [2])).toList()); // [[3, 1], [6, 4]]
 * ```
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const usage = "indexSelect(x, dim, index) with a 1-D int32 index";
  if (arguments.length > 3) {
    throw new Error(`indexSelect: takes (x, dim, index), got ${arguments.length} arguments`);
  }
  checkIndexTensor("indexSelect", x, index, usage);
  if (index.ndim > 1) {
    throw new Error(`indexSelect: index must be 1-D (or 0-d), got [${index.shape}]; ${usage}`);
  }
  const d = x.ndim === 0 ? 0 : normDim(dim, x.ndim, "indexSelect");
  if (x.ndim === 0) {
    // torch treats a 0-d x as one element along dimension 0.
    if (dim !== 0 && dim !== -1) normDim(dim, 1, "indexSelect");
    const out = takeAlong(x.reshape([1]), 0, index, "row", true, "indexSelect");
    return index.ndim === 0 ? out.reshape([]) : out;
  }
  if (x.shape[d] === 0 && index.numel() > 0) {
    throw new Error(`indexSelect: x [${x.shape}] has nothing along dimension ${d} to take`);
  }
  return takeAlong(x, d, index, "row", true, "indexSelect");
}
