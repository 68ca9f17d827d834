/**
 * A batch's samples as the dataset gave them, for a loader with a
 * `collateFn`: read concurrently, each augmented by the loader's transform
 * with its own stream (`Rng.forSample`, as `loadBatch` does), and, in a worker
 * thread, checked to be sendable to the main thread, where the collateFn
 * runs. No tensor code is imported here: workers load this file.
 *
 * @module
 */
import { augment, type BatchTask, sampleError, type SampleTransform } from "./batch.ts";
import { Rng } from "./rng.ts";
import { checkSample } from "./sample_form.ts";

/** What `loadSamples` reads: anything with get(i) (the samples need no form). */
export interface SampleSource {
  /** Sample `i`, or a promise of it. */
  get(i: number): unknown;
}

/**
 * The samples of `task`, in order. With a transform each sample must have
 * the `{ image, label }` form; it comes back as a copy whose `image` is
 * augmented (its other fields as they were).
 */
export async function loadSamples(
  dataset: SampleSource,
  transform: SampleTransform | null,
  task: BatchTask,
): Promise<unknown[]> {
  const samples = await Promise.all(
    Array.from(task.indices, async (index) => {
      try {
        return await dataset.get(index);
      } catch (e) {
        throw sampleError(index, e);
      }
    }),
  );
  if (!transform) return samples;
  return samples.map((sample, k) => {
    try {
      let image;
      try {
        image = checkSample(sample).image;
      } catch (e) {
        throw new Error(
          `the loader's transform augments sample.image, so samples need the form ` +
            `{ image, label, ...more }: ${(e as Error).message}; or leave the transform out ` +
            "and augment in get(i) or in the collateFn",
        );
      }
      const rng = Rng.forSample(
        task.seed,
        task.epoch,
        task.offset + task.stride * (task.start + k),
      );
      return { ...(sample as object), image: augment(image, transform, rng) };
    } catch (e) {
      throw sampleError(task.indices[k], e);
    }
  });
}

/** Classes a structured clone keeps (anything else arrives as a plain object, or fails). */
const CLONED: readonly (abstract new (...args: never[]) => unknown)[] = [
  Array,
  ArrayBuffer,
  DataView,
  Map,
  Set,
  Date,
  RegExp,
  Error,
  Boolean,
  Number,
  String,
];

/** Where in `value` something a worker cannot send to the main thread sits, and what it is. */
function unsendable(value: unknown, path: string, seen: Set<unknown>): string | null {
  if (typeof value === "function") return `a function${path ? ` at ${path}` : ""}`;
  if (typeof value === "symbol") return `a symbol${path ? ` at ${path}` : ""}`;
  if (value === null || typeof value !== "object" || seen.has(value)) return null;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return null;
  const proto = Object.getPrototypeOf(value);
  const t = value as { shape?: unknown; toArray?: unknown };
  if (Array.isArray(t.shape) && typeof t.toArray === "function") {
    return `a Tensor [${t.shape}]${path ? ` at ${path}` : ""} (return its values: ` +
      "t.toArray() as Float32Array, with its shape; data.defaultCollate stacks typed arrays)";
  }
  const plain = proto === Object.prototype || proto === null;
  if (!plain && !CLONED.some((c) => value instanceof c)) {
    return `a ${(value as object).constructor?.name ?? "class instance"}${
      path ? ` at ${path}` : ""
    } (a structured clone keeps no class: it would arrive as a plain object)`;
  }
  const entries: [string, unknown][] = value instanceof Map
    ? [...value.entries()].map(([k, v]) => [`.get(${String(k)})`, v])
    : value instanceof Set
    ? [...value].map((v, i) => [`[set ${i}]`, v])
    : Object.entries(value).map(([k, v]) => [Array.isArray(value) ? `[${k}]` : `.${k}`, v]);
  for (const [k, v] of entries) {
    const found = unsendable(v, path + k, seen);
    if (found) return found;
  }
  return null;
}

/**
 * Throws unless a worker thread can send `samples` (of `task`) to the main
 * thread, naming the first that holds what a structured clone loses or
 * refuses (a Tensor, a function, a class instance).
 */
export function checkSendable(samples: readonly unknown[], task: BatchTask): void {
  const seen = new Set<unknown>();
  samples.forEach((sample, k) => {
    const found = unsendable(sample, "", seen);
    if (found) {
      throw sampleError(
        task.indices[k],
        new Error(
          `it holds ${found}; with workers > 0 each sample is made in a worker thread and sent ` +
            "to the main thread (where the collateFn runs), which takes plain data: typed " +
            "arrays, numbers, strings, arrays and plain objects; or pass workers: 0",
        ),
      );
    }
  });
}
