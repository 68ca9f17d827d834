/**
 * The input check every model runs before its first layer, so a wrong
 * channel count or a too-small image fails with the model's name, the layer
 * that would reject it and the shape it expects, instead of a message from
 * deep inside a kernel.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Sequential } from "../layers/sequential.ts";
import { tensorShape } from "../layers/parametrize.ts";

/** What a model accepts as input. */
export interface InputSpec {
  /** The model's name, for the message ("ResNet-50"). */
  model: string;
  /** The first layer's name and type ("conv1 (Conv2d)"): it fixes the channels. */
  layer: string;
  /** The layer that fixes or limits the spatial size, when not the first. */
  sizeLayer?: string;
  /**
   * Channels the first layer expects, read from that layer as it is now (a
   * replaced `conv1` counts); undefined when it is no Conv2d, whose channels
   * we cannot read: then only the rank is checked and the layer itself judges.
   */
  channels?: number;
  /** Exact height and width, for models with a fixed flattened size. */
  size?: number;
  /** Smallest height and width the layers can reduce without running out. */
  minSize?: number;
}

/**
 * The first layer of a model as it is now, for its `InputSpec`: its name and
 * type ("conv1 (Conv2d)") and the channels it takes. Models read this rather
 * than their construction options, because users replace the first layer
 * as in torchvision (`model.conv1 = new nn.Conv2d(1, 64, 7, ...)`).
 */
export function firstLayer(name: string, layer: unknown): { layer: string; channels?: number } {
  const type = layer instanceof Module ? layer.constructor.name : typeof layer;
  return { layer: `${name} (${type})`, channels: inChannelsOf(layer) };
}

/**
 * In channels of a Conv2d from its weight [out, in / groups, kh, kw] (the
 * tensor forward uses), or of the first layer of a Sequential; undefined for
 * any other module.
 */
function inChannelsOf(layer: unknown): number | undefined {
  if (layer instanceof Sequential) {
    const first = layer.namedChildren().next();
    return first.done ? undefined : inChannelsOf(first.value[1]);
  }
  if (!(layer instanceof Conv2d)) return undefined;
  // The shape only: reading a parametrized weight computes it (a spectral norm iterates).
  return tensorShape(layer, "weight")[1] * layer.options.groups;
}

/** The expected shape as the messages print it: [N, 3, H, W] with H, W >= 63. */
export function expectedShape(spec: InputSpec): string {
  const c = spec.channels ?? "C";
  if (spec.size !== undefined) return `[N, ${c}, ${spec.size}, ${spec.size}]`;
  const min = spec.minSize !== undefined && spec.minSize > 1 ? ` with H, W >= ${spec.minSize}` : "";
  return `[N, ${c}, H, W]${min}`;
}

/** Throws an Error naming the model, the layer and the expected shape unless x fits. */
export function checkInput(x: Tensor, spec: InputSpec): void {
  const [, c, h, w] = x.shape;
  let layer: string | null = null;
  if (x.ndim !== 4 || (spec.channels !== undefined && c !== spec.channels)) layer = spec.layer;
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
