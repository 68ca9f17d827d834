/**
 * PyTorch's DataLoader attribute names that this library spells otherwise:
 * reading one gave undefined (a ported progress line printed
 * `NaN` from `len(loader) * loader.batch_size`), and assigning one added a
 * property nothing read. Each now throws, naming what to write. Names that
 * are the same here (`dataset`, `sampler`) need nothing.
 *
 * @module
 */

/** Attribute -> what to write instead. */
const NAMES: Record<string, { read: string; write: string }> = {
  batch_size: {
    read: "write loader.batchSize",
    write: "pass { batchSize } to the constructor",
  },
  num_workers: {
    read: "write loader.workers",
    write: "pass { workers } to the constructor",
  },
  drop_last: {
    read: "write loader.dropLast",
    write: "pass { dropLast } to the constructor",
  },
  persistent_workers: {
    read: "write loader.persistentWorkers",
    write: "pass { persistentWorkers } to the constructor",
  },
  prefetch_factor: {
    read: "write loader.prefetch (batches in flight per worker, as torch's prefetch_factor)",
    write: "pass { prefetch } to the constructor",
  },
  pin_memory: {
    read: "batches are made on the loader's device: " +
      'new DataLoader(ds, { device: "cuda" }) gives CUDA tensors (default "cpu")',
    write: 'pass { device: "cuda" } to the constructor to get CUDA batches',
  },
};

/**
 * @internal puts the throwing accessors on DataLoader's prototype (not
 * enumerable: they are no fields of a loader).
 */
export function addLoaderNameHints(proto: object): void {
  for (const [name, { read, write }] of Object.entries(NAMES)) {
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get() {
        throw new Error(`DataLoader has no .${name}: ${read}`);
      },
      set(_: unknown) {
        throw new Error(`DataLoader has no .${name} to assign: ${write}`);
      },
    });
  }
}
