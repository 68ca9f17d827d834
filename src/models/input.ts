/**
 * The input check every model runs before its first layer, so a wrong
 * channel count or a too-small image fails with the model's name, the layer
 * that would reject it and the shape it expects, instead of a message from
 * deep inside a kernel.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";

/** What a model accepts as input. */
export interface InputSpec {
  /** The model's name, for the message ("ResNet-50"). */
  model: string;
  /** The first layer's name and type ("conv1 (Conv2d)"): it fixes the channels. */
  layer: string;
  /** The layer that fixes or limits the spatial size, when not the first. */
  sizeLayer?: string;
  /** Channels the first layer expects. */
  channels: number;
  /** Exact height and width, for models with a fixed flattened size. */
  size?: number;
  /** Smallest height and width the layers can reduce without running out. */
  minSize?: number;
}

/** The expected shape as the messages print it: [N, 3, H, W] with H, W >= 63. */
export function expectedShape(spec: InputSpec): string {
  if (spec.size !== undefined) return `[N, ${spec.channels}, ${spec.size}, ${spec.size}]`;
  const min = spec.minSize !== undefined && spec.minSize > 1 ? ` with H, W >= ${spec.minSize}` : "";
  return `[N, ${spec.channels}, H, W]${min}`;
}

/** Throws an Error naming the model, the layer and the expected shape unless x fits. */
export function checkInput(x: Tensor, spec: InputSpec): void {
  const [, c, h, w] = x.shape;
  let layer: string | null = null;
  if (x.ndim !== 4 || c !== spec.channels) layer = spec.layer;
  else if (spec.size !== undefined && (h !== spec.size || w !== spec.size)) {
    layer = spec.sizeLayer ?? spec.layer;
  } else if (spec.minSize !== undefined && (h < spec.minSize || w < spec.minSize)) {
    layer = spec.sizeLayer ?? spec.layer;
  }
  if (layer !== null) {
    throw new Error(
      `${spec.model}: input [${x.shape}] does not fit ${layer}: expected ${expectedShape(spec)}`,
    );
  }
}
