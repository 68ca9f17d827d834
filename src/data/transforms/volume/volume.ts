/**
 * What the volume transforms share: the host form of a volume (`Vol`, the
 * voxels of a [C, D, H, W] float32 tensor), the check of what `apply` is
 * given, and the parsing of MONAI-style arguments (spatial sizes whose
 * non-positive entries keep the volume's size, spatial axes 0..2 or -3..-1).
 * Not public.
 *
 * @module
 */
import { tensor } from "../../../tensor/ops/creation.ts";
import { Tensor } from "../../../tensor/tensor.ts";
import { fmt } from "../image.ts";

/** [C, D, H, W]: channels, then MONAI's spatial axes 0, 1, 2. */
export type Shape4 = [number, number, number, number];

/** A volume's voxels on the host, channel-first and contiguous. */
export interface Vol {
  /** C * D * H * W values, W fastest. */
  data: Float32Array;
  /** [C, D, H, W]. */
  shape: Shape4;
}

/** The spatial size [D, H, W] of `v`. */
export function spatial(v: Vol): [number, number, number] {
  return [v.shape[1], v.shape[2], v.shape[3]];
}

/** A new volume of `shape` (zeros). */
export function emptyVol(shape: Shape4): Vol {
  return { data: new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]), shape };
}

/** What `apply` takes, as every message spells it. */
const EXPECTED = "a float32 Tensor [C, D, H, W] (channel-first, as MONAI)";

/** A short description of a wrong input. */
function describe(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "an array";
  if (ArrayBuffer.isView(input)) return `a ${input.constructor.name}`;
  if (typeof input === "object") return `a ${input.constructor?.name ?? "object"}`;
  return `${typeof input} ${String(input)}`;
}

/**
 * The voxels of `input` on the host, after checking it is a float32
 * [C, D, H, W] tensor; errors name the transform and say what to write.
 */
export function toVol(name: string, input: unknown): Vol {
  if (!(input instanceof Tensor)) {
    const o = input as { data?: unknown; width?: unknown } | null;
    if (o !== null && typeof o === "object" && "data" in o && "width" in o) {
      throw new Error(
        `${name}.apply: got a 2-D Image { data, width, height }; volume transforms take ` +
          `${EXPECTED}: use the 2-D data.transforms for slices, or make a volume: ` +
          `tensor(voxels, [1, depth, height, width])`,
      );
    }
    throw new Error(`${name}.apply: expected ${EXPECTED}, got ${describe(input)}`);
  }
  const shape = input.shape;
  if (shape.length !== 4) {
    const fix = shape.length === 3
      ? `; a [D, H, W] volume has no channel: write x.unsqueeze(0) ([1, ${shape.join(", ")}])`
      : shape.length === 5
      ? `; a [N, C, D, H, W] batch: apply to each volume (x.select(0, i)) and stack`
      : shape.length === 2
      ? "; a 2-D image goes to the 2-D data.transforms"
      : "";
    throw new Error(
      `${name}.apply: expected ${EXPECTED}, got a ${shape.length}-D tensor [${shape}]${fix}`,
    );
  }
  if (input.dtype !== "float32") {
    throw new Error(
      `${name}.apply: the volume must be float32, got ${input.dtype} [${shape}]; write x.float()`,
    );
  }
  if (shape.some((s) => s < 1)) {
    throw new Error(`${name}.apply: the volume [${shape}] has no voxels`);
  }
  const data = input.toArray() as Float32Array; // a copy (from the device, if there)
  return { data, shape: [shape[0], shape[1], shape[2], shape[3]] };
}

/** `v` as a new tensor on `device`. */
export function fromVol(v: Vol, device: Tensor["device"]): Tensor {
  return tensor(v.data, [...v.shape], { device });
}

/**
 * A spatial size [D, H, W] from a number (all three) or three integers;
 * entries <= 0 mean "the volume's own size" (MONAI's `fall_back_tuple`) and
 * are kept as given, resolved by `resolveSize`.
 */
export function size3(name: string, key: string, v: unknown): [number, number, number] {
  const three = typeof v === "number" ? [v, v, v] : Array.isArray(v) ? v : null;
  if (!three || three.length !== 3 || !three.every((s) => Number.isInteger(s))) {
    throw new Error(
      `${name}: ${key} must be an integer or [depth, height, width] integers ` +
        `(<= 0 keeps that size of the volume), got ${fmt(v)}`,
    );
  }
  return [three[0], three[1], three[2]];
}

/** `size` with entries <= 0 replaced by the volume's (MONAI's `fall_back_tuple`). */
export function resolveSize(
  size: readonly number[],
  dhw: readonly number[],
): [number, number, number] {
  return [0, 1, 2].map((i) => size[i] > 0 ? size[i] : dhw[i]) as [number, number, number];
}

/** One spatial axis, 0..2 or -3..-1 (from the end), as 0..2. */
export function axis(name: string, key: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < -3 || (v as number) > 2) {
    throw new Error(
      `${name}: ${key} must hold spatial axes 0, 1, 2 (depth, height, width; or -3..-1), ` +
        `got ${fmt(v)}; the channel axis is not spatial`,
    );
  }
  return ((v as number) + 3) % 3;
}

/** Spatial axes from a number, a list, or null/undefined for all three; no repeats. */
export function axes(name: string, key: string, v: unknown): number[] {
  if (v === undefined || v === null) return [0, 1, 2];
  const list = typeof v === "number" ? [v] : Array.isArray(v) ? v : null;
  if (!list) {
    throw new Error(`${name}: ${key} must be an axis, a list of axes or null, got ${fmt(v)}`);
  }
  const out = list.map((a) => axis(name, key, a));
  if (new Set(out).size !== out.length) {
    throw new Error(`${name}: ${key} names an axis twice, got ${fmt(v)}`);
  }
  return out;
}

/** Two different spatial axes (a rotation plane). */
export function plane(name: string, key: string, v: unknown): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new Error(`${name}: ${key} must be two spatial axes, e.g. [0, 1], got ${fmt(v)}`);
  }
  const [a, b] = axes(name, key, v);
  return [a, b];
}
