/**
 * The autograd record of an op whose one differentiable input gets its
 * gradient from one native backward kernel: unary math, softmax, pooling,
 * cross-entropy.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous } from "./shape.ts";

/**
 * @internal records `y = op(x)`; its backward makes dx (x's shape, float32)
 * and fills it by `kernel(dy, dx)`, a native call that returns a status
 * (`what` names it in the error), with dy the output gradient made
 * contiguous. `x` is the contiguous input the kernels read. `deferred`,
 * where given, may instead return dx unwritten (a fused gradient).
 */
export function recordKernelGrad(
  y: Tensor,
  name: string,
  x: Tensor,
  kernel: (dy: Tensor, dx: Tensor) => number,
  what: () => string,
  deferred?: (dy: Tensor) => Tensor | null,
): Tensor {
  return record(y, {
    name,
    inputs: [x],
    backward: (g) => {
      const dy = contiguous(g);
      const later = deferred?.(dy);
      if (later) return [later];
      const dx = Tensor.empty(x.shape, "float32", x.device);
      check(x.lib, kernel(dy, dx), what);
      return [dx];
    },
  });
}
