/**
 * Channels-last bf16 evaluation (`lits.h`): convolutions in a chain whose
 * activations stay bfloat16 and channels-last from one to the next, each
 * with its batch norm, residual and ReLU applied before its output is
 * rounded once. A model whose evaluation under bf16 autocast is such a
 * chain (ResNet's stages, `models/resnet_chain.ts`) runs it here instead of
 * op by op, where every activation would be written in fp32 NCHW and
 * converted again by the next convolution. The activations in between are
 * native memory owned by the chain (`NhwcBf16`), never tensors: nothing
 * outside it can read or keep them, so the chain may overwrite a residual
 * with the block's output.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import type { NativeSymbols } from "../../ffi/symbols.ts";
import { Storage } from "../storage.ts";
import { Tensor } from "../tensor.ts";
import { type Conv2dOptions, convGeometryOf } from "./conv.ts";
import { preparedChainWeights } from "./conv_prepared.ts";
import { type EvalStats, inferCoef } from "./norm.ts";
import { contiguous } from "./shape.ts";

/** @internal an activation [n, c, h, w] held as bf16 [n, h, w, c] in native memory. */
export class NhwcBf16 {
  #storage: Storage | null;

  constructor(
    readonly lib: NativeSymbols,
    readonly n: number,
    readonly c: number,
    readonly h: number,
    readonly w: number,
  ) {
    this.#storage = new Storage(lib, "cpu", Math.max(1, n * c * h * w) * 2);
  }

  /** The first value's address. */
  get ptr(): Deno.PointerObject {
    if (this.#storage === null) throw new Error("NhwcBf16: used after dispose()");
    return this.#storage.ptr;
  }

  /** Frees the memory (a second call does nothing). */
  dispose(): void {
    this.#storage?.drop();
    this.#storage = null;
  }
}

/** @internal one convolution of a chain: its layer's weights and options, and the batch norm after it. */
export interface ChainConv {
  weight: Tensor;
  bias: Tensor | null;
  options: Conv2dOptions;
  /** Running statistics (evaluation), or null for none. */
  bn: EvalStats | null;
}

/** lits_conv2d_nhwc_bf16_takes's flags. */
const BIAS = 1, BN = 2, RESIDUAL = 4, RELU = 8;

/** @internal whether the library has the chain's functions (the CPU library built with them). */
export function hasNhwcBf16(lib: NativeSymbols): boolean {
  return lib.lits_conv2d_nhwc_bf16 !== null && lib.lits_conv2d_nhwc_bf16_takes !== null &&
    lib.lits_nhwc_bf16_from_nchw_f32 !== null && lib.lits_nhwc_bf16_to_nchw_f32 !== null;
}

/** conv2d's geometry of `conv` on an input of `shape` (it throws as conv2d would). */
const geometry = (shape: readonly number[], conv: ChainConv) =>
  convGeometryOf(shape, conv.weight, conv.bias, conv.options);

function flags(conv: ChainConv, residual: boolean, relu: boolean): number {
  return (conv.bias && !conv.bn ? BIAS : 0) | (conv.bn ? BN : 0) | (residual ? RESIDUAL : 0) |
    (relu ? RELU : 0);
}

/**
 * @internal the shape [n, k, oh, ow] of `conv`'s output on an input of
 * `shape` when the chain runs it with these post-ops here, else null.
 */
export function nhwcBf16Takes(
  lib: NativeSymbols,
  shape: readonly number[],
  conv: ChainConv,
  residual: boolean,
  relu: boolean,
): number[] | null {
  const g = geometry(shape, conv);
  return runs(lib, g.params, flags(conv, residual, relu)) ? [shape[0], g.k, g.oh, g.ow] : null;
}

const takesOut = new Int32Array(1);

/** Whether the library runs the call here. */
function runs(lib: NativeSymbols, params: Int32Array, flags: number): boolean {
  check(
    lib,
    lib.lits_conv2d_nhwc_bf16_takes!(params, flags, takesOut),
    () => `channels-last bf16 conv2d [${params}]`,
  );
  return takesOut[0] === 1;
}

/** @internal x (float32 [n, c, h, w] on the CPU, c a multiple of 16) rounded to bf16 channels-last. */
export function toNhwcBf16(x: Tensor): NhwcBf16 {
  const [n, c, h, w] = x.shape;
  const out = new NhwcBf16(x.lib, n, c, h, w);
  const cx = contiguous(x);
  try {
    check(
      x.lib,
      x.lib.lits_nhwc_bf16_from_nchw_f32!(cx.ptr, n, c, h * w, out.ptr),
      () => `channels-last bf16 of [${x.shape}]`,
    );
  } catch (e) {
    out.dispose();
    throw e;
  } finally {
    if (cx !== x) cx.dispose();
  }
  return out;
}

/** @internal a chain's activation widened back to a float32 [n, c, h, w] tensor. */
export function fromNhwcBf16(x: NhwcBf16): Tensor {
  const y = Tensor.empty([x.n, x.c, x.h, x.w], "float32", "cpu");
  check(
    x.lib,
    x.lib.lits_nhwc_bf16_to_nchw_f32!(x.ptr, x.n, x.c, x.h * x.w, y.ptr),
    () => `float32 of a channels-last bf16 [${x.n}, ${x.c}, ${x.h}, ${x.w}]`,
  );
  return y;
}

/**
 * @internal relu?(bn(conv(x)) + residual) as bf16 channels-last. A residual
 * is overwritten with the output, which is returned in it: the caller hands
 * it over. Call `nhwcBf16Takes` first: the library refuses, and this
 * throws, where it says null.
 */
export function convNhwcBf16(
  x: NhwcBf16,
  conv: ChainConv,
  residual: NhwcBf16 | null,
  relu: boolean,
): NhwcBf16 {
  const lib = x.lib;
  const g = geometry([x.n, x.c, x.h, x.w], conv);
  const desc = () =>
    `channels-last bf16 conv2d on [${x.n}, ${x.c}, ${x.h}, ${x.w}] weight [${conv.weight.shape}]`;
  if (
    residual &&
    [residual.n, residual.c, residual.h, residual.w].join() !== [x.n, g.k, g.oh, g.ow].join()
  ) {
    throw new Error(
      `${desc()}: residual [${residual.n}, ${residual.c}, ${residual.h}, ${residual.w}] is not the output's shape`,
    );
  }
  const y = residual ?? new NhwcBf16(lib, x.n, g.k, g.oh, g.ow);
  const coef = conv.bn ? inferCoef(conv.bn) : null;
  const cw = contiguous(conv.weight), cb = conv.bias ? contiguous(conv.bias) : null;
  // Kept rounded between calls, tied to the weights' storage (a copy has none).
  const prep = cw === conv.weight ? preparedChainWeights(cw, g.params) : null;
  try {
    check(
      lib,
      lib.lits_conv2d_nhwc_bf16!(
        g.params,
        x.ptr,
        cw.ptr,
        cb?.ptr ?? null,
        coef?.ptr ?? null,
        residual ? residual.ptr : null,
        relu ? 1 : 0,
        y.ptr,
        prep?.ptr ?? null,
        prep?.bytes ?? 0n,
      ),
      desc,
    );
  } catch (e) {
    if (y !== residual) y.dispose();
    throw e;
  } finally {
    coef?.dispose();
    if (cw !== conv.weight) cw.dispose();
    if (cb && cb !== conv.bias) cb.dispose();
  }
  return y;
}
