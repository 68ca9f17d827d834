/**
 * Whether worker threads can rebuild the loader's transform. A worker gets
 * only the transform's spec and rebuilds it with `fromSpec`, which knows
 * this library's classes by name; a user's own `Transform` subclass failed
 * there on every batch ("unknown transform"), or, named like a library
 * class, would be rebuilt as that class. The loader checks up front instead.
 *
 * @module
 */
import { Compose, fromSpec } from "./transforms/compose.ts";
import type { Transform } from "./transforms/transform.ts";

/**
 * @internal throws unless every transform in `t` (through `Compose`) is
 * rebuilt by `fromSpec` from its spec as the same class.
 */
export function checkWorkerTransform(t: Transform): void {
  if (t.constructor === Compose) {
    for (const inner of (t as Compose).transforms) checkWorkerTransform(inner);
    return;
  }
  let rebuilt: Transform | null = null;
  try {
    rebuilt = fromSpec(t.spec);
  } catch {
    // Reported below: the worker would fail the same way.
  }
  if (rebuilt?.constructor === t.constructor) return;
  throw new Error(
    `DataLoader: transform '${t.name}' is not one of this library's transform classes, so ` +
      `worker threads cannot rebuild it (a worker gets the transform's spec and rebuilds it ` +
      `with transforms.fromSpec, which knows only transforms.transformNames()); ` +
      `use workers: 0 for your own Transform classes, or keep them out of the loader and ` +
      `apply them to each batch: t.apply(batch.images)`,
  );
}
