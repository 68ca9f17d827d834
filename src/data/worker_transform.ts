/**
 * Whether worker threads can rebuild the loader's transform. A worker gets
 * only the transform's spec and rebuilds it with `fromSpec`, which knows
 * this library's classes by name; a user's own `Transform` subclass failed
 * there on every batch ("unknown transform"), or, named like a library
 * class, would be rebuilt as that class. The loader checks up front instead.
 * The same holds for volume transforms, rebuilt by `transforms.volume.fromSpec`
 * (their spec names start with "volume.", which is how a worker tells the
 * two families apart).
 *
 * @module
 */
import { Compose, fromSpec } from "./transforms/compose.ts";
import type { Transform, TransformSpec } from "./transforms/transform.ts";
import {
  Compose as VolumeCompose,
  fromSpec as volumeFromSpec,
} from "./transforms/volume/compose.ts";
import {
  PREFIX,
  VolumeTransform,
  type VolumeTransformSpec,
} from "./transforms/volume/transform.ts";

/** @internal a worker's transform from its spec: a volume one for a "volume." name. */
export function transformFromSpec(
  spec: TransformSpec | VolumeTransformSpec,
): Transform | VolumeTransform {
  return typeof spec?.name === "string" && spec.name.startsWith(PREFIX)
    ? volumeFromSpec(spec as VolumeTransformSpec)
    : fromSpec(spec as TransformSpec);
}

/**
 * @internal throws unless every transform in `t` (through `Compose`, 2-D
 * or volume) is rebuilt by `fromSpec` from its spec as the same class.
 */
export function checkWorkerTransform(t: Transform | VolumeTransform): void {
  // The containers (Compose, RandomApply, RandomChoice, RandomOrder): their
  // transforms first, so a user's class inside is the one named.
  const inner = (t as { transforms?: unknown }).transforms;
  if (Array.isArray(inner)) {
    for (const i of inner) checkWorkerTransform(i);
  }
  if (t.constructor === Compose || t.constructor === VolumeCompose) return;
  const volume = t instanceof VolumeTransform;
  let rebuilt: Transform | VolumeTransform | null = null;
  try {
    rebuilt = volume ? volumeFromSpec(t.spec) : fromSpec(t.spec as TransformSpec);
  } catch {
    // Reported below: the worker would fail the same way.
  }
  if (rebuilt?.constructor === t.constructor) return;
  const names = volume ? "transforms.volume.transformNames()" : "transforms.transformNames()";
  throw new Error(
    `DataLoader: transform '${t.name}' is not one of this library's transform classes, so ` +
      `worker threads cannot rebuild it (a worker gets the transform's spec and rebuilds it ` +
      `with ${volume ? "transforms.volume.fromSpec" : "transforms.fromSpec"}, which knows ` +
      `only ${names}); ` +
      `use workers: 0 for your own Transform classes, or keep them out of the loader and ` +
      `apply them to each batch: t.apply(batch.images)`,
  );
}
