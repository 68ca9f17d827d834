/**
 * `LayerNorm2d` (torchvision.models.convnext.LayerNorm2d): layer
 * normalisation over the channels of each pixel of [N, C, H, W], the norm of
 * ConvNeXt's stem, downsampling layers and classifier.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { add, div, mul, sqrt, sub } from "../tensor/ops/elementwise.ts";
import { mean } from "../tensor/ops/reduce.ts";
import { reshape } from "../tensor/ops/shape.ts";
import { checkArity } from "../options.ts";
import { LayerNorm, type LayerNormOptions } from "./norm_layers.ts";

const USAGE = "new nn.LayerNorm2d(C, { eps: 1e-6 })";

/**
 * Normalises each pixel of x [N, C, H, W] over its C channels (mean and
 * biased variance), then scales by `weight` [C] and shifts by `bias` [C]:
 * torchvision's `LayerNorm2d`, an `nn.LayerNorm(C)` applied to x permuted to
 * channels-last and permuted back, with the same parameters and state-dict
 * names (`weight`, `bias`). Its default eps is LayerNorm's, 1e-5; ConvNeXt
 * builds it with `{ eps: 1e-6 }`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const ln = new nn.LayerNorm2d(8, { eps: 1e-6 });
 * const y = ln.forward(randn([2, 8, 5, 5]));
 * console.log(y.shape, y.mean(1).abs().max().item() < 1e-5); // [2, 8, 5, 5] true
 * ```
 */
export class LayerNorm2d extends LayerNorm {
  constructor(numChannels: number | [number], options: LayerNormOptions = {}) {
    checkArity("nn.LayerNorm2d", arguments.length, 2, USAGE);
    const c = Array.isArray(numChannels) && numChannels.length === 1 ? numChannels[0] : numChannels;
    if (!Number.isInteger(c) || (c as number) < 1) {
      // torchvision's would take [H, W, C]-style shapes, then fail in forward's permute.
      throw new Error(
        `nn.LayerNorm2d: normalises the channels of [N, C, H, W], so it takes one size C, ` +
          `got ${JSON.stringify(numChannels)}; write ${USAGE}`,
      );
    }
    super(c as number, options);
  }

  /** Channels C (the one normalised size). */
  get numChannels(): number {
    return this.normalizedShape[0];
  }

  /** x [N, C, H, W] normalised over C at each pixel; same shape out. */
  override forward(x: Tensor): Tensor {
    const c = this.numChannels;
    if (x.ndim !== 4 || x.shape[1] !== c) {
      throw new Error(
        `LayerNorm2d(${c}): expected input [N, ${c}, H, W], got [${x.shape}]; ` +
          `for channels-last input [..., ${c}] use nn.LayerNorm(${c})`,
      );
    }
    // torchvision permutes to [N, H, W, C] and back; the same statistics over
    // dim 1 in place leave the output contiguous for the convolution after it.
    const d = sub(x, mean(x, [1], true));
    let y = div(d, sqrt(add(mean(mul(d, d), [1], true), this.eps)));
    if (this.weight) y = mul(y, reshape(this.weight, [c, 1, 1]));
    if (this.bias) y = add(y, reshape(this.bias, [c, 1, 1]));
    return y;
  }
}
