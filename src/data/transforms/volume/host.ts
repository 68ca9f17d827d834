/**
 * The volume transforms on a loader sample: host voxels in, host voxels
 * out, no tensor made (the loader's batch code runs in worker threads,
 * where a sample must stay plain data). Not public: the public entry is
 * `apply(tensor, rng)`, which goes through the same `applyHost`.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import type { Volume } from "../../types.ts";
import { VolumeTransform } from "./transform.ts";

/** Whether `t` is a volume transform (rather than a 2-D one). */
export function isVolumeTransform(t: unknown): t is VolumeTransform {
  return t instanceof VolumeTransform;
}

/**
 * @internal `t` applied to one single-channel volume, drawing from `rng`
 * exactly as `t.apply(tensor([1, D, H, W]), rng)` does. The result may share
 * `v.data` when nothing changed (never modified); a transform that leaves
 * more or fewer than one channel is an error.
 */
export function applyToVolume(t: VolumeTransform, v: Volume, rng: Rng): Volume {
  const out = t.applyHost({ data: v.data, shape: [1, v.depth, v.height, v.width] }, rng);
  const [c, depth, height, width] = out.shape;
  if (c !== 1) {
    throw new Error(`${t.name} made ${c} channels of a one-channel volume; the loader batches one`);
  }
  return { data: out.data, depth, height, width };
}
