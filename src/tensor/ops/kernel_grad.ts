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
 * contiguous. `x` is the contiguous input. `options.deferred`, where given,
 * may instead return dx unwritten (a fused gradient). What the kernel reads
 * is checked for in-place writes since the op (`autograd.ts`): x, unless
 * `options.readsX` is false, and the tensors of `options.reads` (the
 * output, a target, a weight).
 */
export function recordKernelGrad(
  y: Tensor,
  name: string,
  x: Tensor,
  kernel: (dy: Tensor, dx: Tensor) => number,
  what: () => string,
  options: {
    deferred?: (dy: Tensor) => Tensor | null;
    readsX?: boolean;
    reads?: readonly Tensor[];
  } = {},
): Tensor {
  return record(y, {
    name,
    inputs: [x],
    saved: [...(options.readsX === false ? [] : [x]), ...(options.reads ?? [])],
    backward: (g) => {
      const dy = contiguous(g);
      const later = options.deferred?.(dy);
      if (later) return [later];
      const dx = Tensor.empty(x.shape, "float32", x.device);
      check(x.lib, kernel(dy, dx), what);
      return [dx];
    },
  });
}
