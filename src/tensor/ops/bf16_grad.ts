/**
 * A convolution's output gradient held in bf16 between the batch norm's
 * backward that writes it and the convolution's backward that reads it
 * (`lits.h`: `lits_batchnorm2d_backward_bf16dx_f32`,
 * `lits_conv2d_backward_*_bf16dy_f32`). PyTorch's autocast keeps that
 * gradient in bf16 as well: the convolution's output is a bf16 tensor
 * there. Here the convolution rounds dy to bf16 as it packs it anyway, so
 * its gradients are the same bits; what changes is the bytes: half to
 * write, half to read in backward data and again in the filter gradient.
 *
 * Only where it pays: a convolution under autocast, without a bias (whose
 * gradient sums dy in fp32), whose kernels read such a dy as it is (1x1
 * stride-1 layers: `lits_conv2d_bf16dy_takes`), marks its output; the batch
 * norm that reads that output writes its dx in bf16. Any other reader of
 * that gradient (a second consumer's sum, a hook, `retainGrad`) gets it
 * widened to fp32 on first use of its memory (`ptr`): exactly the bf16
 * values, as PyTorch's bf16 gradient would be.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import type { NativeSymbols } from "../../ffi/symbols.ts";
import { Storage } from "../storage.ts";
import { Tensor } from "../tensor.ts";
import { adopt } from "../ownership.ts";
import { whole } from "./fusion_storage.ts";

/** Convolution outputs whose backward reads a bf16 dy as it is. */
const readsBf16Dy = new WeakSet<Tensor>();
/** lits_conv2d_bf16dy_takes's out-parameter, shared (one call per convolution forward). */
const takesOut = new Int32Array(1);

/**
 * Marks `y`, the output of a bias-free convolution under autocast, when
 * its backward reads a bf16 dy as it is (the backend says so for `params`).
 */
export function markBf16Dy(y: Tensor, params: Int32Array): void {
  const lib = y.lib;
  if (!lib.lits_conv2d_bf16dy_takes || !lib.lits_batchnorm2d_backward_bf16dx_f32) return;
  check(lib, lib.lits_conv2d_bf16dy_takes(params, takesOut), () => "conv2d bf16 dy");
  if (takesOut[0] === 1) readsBf16Dy.add(y);
}

/** Whether the gradient of `x` (a batch norm's input) may be written in bf16. */
export function wantsBf16Grad(x: Tensor): boolean {
  return readsBf16Dy.has(x) && whole(x);
}

/** Storage of a gradient held as bf16, widened to fp32 on first use. */
class Bf16GradStorage extends Storage {
  #half: Storage | null;

  constructor(lib: NativeSymbols, device: Tensor["device"], readonly elements: number) {
    super(lib, device, elements * 4, true);
    this.#half = new Storage(lib, device, Math.max(1, elements) * 2);
  }

  /** The bf16 values while the fp32 memory is not written. */
  get half(): Storage | null {
    return this.isMaterialized ? null : this.#half;
  }

  protected override materialize(): Deno.PointerObject {
    const ptr = this.allocate();
    check(
      this.lib,
      this.lib.lits_bf16_widen_f32!(this.#half!.ptr, ptr, this.elements),
      () => `bf16 gradient [${this.elements}]`,
    );
    this.released();
    return ptr;
  }

  protected override released(): void {
    this.#half?.drop();
    this.#half = null;
  }
}

/** A new gradient of `like`'s shape held as bf16, and the address to write its values to. */
export function bf16Grad(like: Tensor): { grad: Tensor; half: Deno.PointerObject } {
  const s = new Bf16GradStorage(like.lib, like.device, like.numel());
  const grad = new Tensor(s, like.shape, "float32");
  adopt(grad, true);
  return { grad, half: s.half!.ptr };
}

/** The bf16 values of a gradient that `bf16Grad` made and nothing has widened yet, else null. */
export function bf16Values(g: Tensor): Deno.PointerObject | null {
  const s = g.storage;
  return s instanceof Bf16GradStorage && whole(g) ? s.half?.ptr ?? null : null;
}
