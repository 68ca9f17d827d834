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
import type { Shape4 } from "./volume.ts";

/** Whether `t` is a volume transform (rather than a 2-D one). */
export function isVolumeTransform(t: unknown): t is VolumeTransform {
  return t instanceof VolumeTransform;
}

/**
 * @internal `t` applied to one volume of `v.channels` (default 1) channels,
 * drawing from `rng` exactly as `t.apply(tensor([C, D, H, W]), rng)` does.
 * The result may share `v.data` when nothing changed (never modified). A
 * transform may change C (one that selects or stacks channels); the loader
 * checks that a batch's volumes agree.
 */
export function applyToVolume(t: VolumeTransform, v: Volume, rng: Rng): Volume {
  const shape = [v.channels ?? 1, v.depth, v.height, v.width] as Shape4;
  const out = t.applyHost({ data: v.data, shape }, rng);
  const [channels, depth, height, width] = out.shape;
  return { data: out.data, channels, depth, height, width };
}
