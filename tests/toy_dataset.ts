/**
 * A small in-memory dataset for loader tests, rebuildable in a worker from
 * its spec (`openDataset`), with switches to fail or misbehave on purpose.
 *
 * @module
 */
import type { Dataset, Sample } from "../src/data/types.ts";

/** How to build a `ToyDataset`. */
export interface ToySpec {
  /** Number of samples. */
  length: number;
  /** Image side (default 8). */
  size?: number;
  /** get(failAt) throws "toy failure at <i>". */
  failAt?: number;
  /** Sample oddSizeAt has a (size + 1) square image. */
  oddSizeAt?: number;
  /** Milliseconds each get() waits (default 0). */
  delayMs?: number;
  /** Omit workerSpec(): the loader must read on the main thread. */
  noWorkers?: boolean;
}

/** Deterministic pixels and labels (i % 3) from the index alone. */
export class ToyDataset implements Dataset {
  readonly length: number;
  readonly labels: Int32Array;
  readonly #spec: ToySpec;
  /** Builds from a spec. */
  constructor(spec: ToySpec) {
    this.#spec = spec;
    this.length = spec.length;
    this.labels = Int32Array.from({ length: spec.length }, (_, i) => i % 3);
    if (spec.noWorkers) this.workerSpec = undefined;
  }
  /** Sample i. */
  async get(i: number): Promise<Sample> {
    const { failAt, oddSizeAt, delayMs = 0 } = this.#spec;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (i === failAt) throw new Error(`toy failure at ${i}`);
    const s = (this.#spec.size ?? 8) + (i === oddSizeAt ? 1 : 0);
    const data = new Float32Array(s * s);
    for (let j = 0; j < data.length; j++) data[j] = ((i * 31 + j * 7) % 101) / 100;
    return { image: { data, width: s, height: s }, label: this.labels[i] };
  }
  /** Rebuild in a worker. */
  workerSpec?: () => { module: string; spec: ToySpec } = () => ({
    module: import.meta.url,
    spec: this.#spec,
  });
}

/** The worker entry point. */
export function openDataset(spec: ToySpec): ToyDataset {
  return new ToyDataset(spec);
}
