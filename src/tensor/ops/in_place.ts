/**
 * Writes into an existing tensor's memory (the `nn.init` fills, optimizer
 * steps, `loadStateDict`, batch norm's running statistics): through a view
 * to the elements it shows, as PyTorch's in-place ops do, and counted in the
 * storage's version, so that autograd can tell that a tensor an op saved
 * for its gradient has changed since (`autograd.ts`).
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";

/** @internal counts one in-place write to `t`'s memory (its storage's version). */
export function markWritten(t: Tensor): void {
  t.storage.version++;
}

/**
 * @internal call before writing `t`'s memory in place: deferred values that
 * read it (op fusion's recipes, `fusion.ts`) are written out first, so that
 * they keep the values their ops read, as PyTorch's eager ops do.
 */
export function beforeWrite(t: Tensor): void {
  t.storage.settleReaders();
}

/**
 * @internal writes `t` in place by `fill`, which writes a dense tensor of
 * `t`'s shape from its first element: `t` itself where it is dense, else a
 * scratch tensor whose values then go to `t`'s own elements through its
 * strides (`constant_(w.narrow(1, 0, 1), 0)` zeroes a column, not the first
 * row). A view whose elements share memory (`expand`) is refused, as in
 * PyTorch: one value per memory location cannot be chosen. `what` names
 * the operation in errors.
 */
export function writeInPlace(t: Tensor, what: string, fill: (dense: Tensor) => void): void {
  beforeWrite(t);
  if (t.numel() > 0) {
    if (t.isContiguous) fill(t);
    else scatter(t, what, fill);
  }
  markWritten(t);
}

/** Whether two elements of `t` may share a memory location. */
function overlaps(t: Tensor): boolean {
  const dims = t.shape.map((n, i) => [n, t.strides[i]])
    .filter(([n]) => n > 1)
    .sort((a, b) => a[1] - b[1]);
  let reach = 0; // the farthest element the smaller dimensions reach
  for (const [n, stride] of dims) {
    if (stride <= reach) return true;
    reach += stride * (n - 1);
  }
  return false;
}

/**
 * Writes a non-dense view through the host: initialisation-time work, where
 * a strided native write would be one more kernel on every backend.
 */
function scatter(t: Tensor, what: string, fill: (dense: Tensor) => void): void {
  if (overlaps(t)) {
    throw new Error(
      `${what}: tensor [${t.shape}] with strides [${t.strides}] is a view in which several ` +
        "elements share one memory location (an expand(), or unfold() windows that overlap); " +
        "write to a tensor of its own (clone() it) instead",
    );
  }
  const dense = Tensor.empty(t.shape, t.dtype, t.device);
  let values: Float32Array | Int32Array;
  try {
    fill(dense);
    values = dense.toArray();
  } finally {
    dense.dispose();
  }
  const storage = t.storage;
  const n = storage.bytes / 4;
  const host = t.dtype === "int32" ? new Int32Array(n) : new Float32Array(n);
  const lib = t.lib;
  check(lib, lib.lits_copy_d2h(host, storage.ptr, storage.bytes), () => `${what} [${t.shape}]`);
  const { shape, strides } = t;
  const index = new Array<number>(shape.length).fill(0);
  let at = t.offset;
  for (let k = 0; k < values.length; k++) {
    host[at] = values[k];
    // The next element in row-major order: carry into the dimensions before.
    for (let d = shape.length - 1; d >= 0; d--) {
      at += strides[d];
      if (++index[d] < shape[d]) break;
      at -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  check(lib, lib.lits_copy_h2d(storage.ptr, host, storage.bytes), () => `${what} [${t.shape}]`);
}
