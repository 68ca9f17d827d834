/**
 * A dataset of dict samples for the collate tests, rebuildable in a loader
 * worker (`openDataset`): `{ image, label, id, lengths }` by default, or a
 * sample holding what a worker cannot send (a Tensor-like object, a class
 * instance, a function) at one index.
 *
 * @module
 */

/** How to build a `DictDataset`. */
export interface DictSpec {
  /** Number of samples. */
  length: number;
  /** Sample `badAt` holds `bad` in its `extra` field. */
  badAt?: number;
  /** What sample badAt holds. */
  bad?: "tensor" | "class" | "function";
}

class Meta {
  constructor(readonly site: string) {}
}

/** Sample i: a 2x2 image of i, label i % 3, id `p<i>`, a variable-length Float32Array. */
export class DictDataset {
  readonly length: number;
  readonly #spec: DictSpec;
  /** Builds from a spec. */
  constructor(spec: DictSpec) {
    this.#spec = spec;
    this.length = spec.length;
  }
  /** Sample i. */
  get(i: number): Promise<Record<string, unknown>> {
    const sample: Record<string, unknown> = {
      image: { data: new Float32Array(4).map((_, j) => i + j / 10), width: 2, height: 2 },
      label: i % 3,
      id: `p${i}`,
      values: new Float32Array(1 + (i % 3)).fill(i),
    };
    if (i === this.#spec.badAt) {
      sample.extra = this.#spec.bad === "tensor"
        ? { shape: [2], toArray: () => new Float32Array(2) }
        : this.#spec.bad === "class"
        ? new Meta("a")
        : () => i;
    }
    return Promise.resolve(sample);
  }
  /** Rebuild in a worker. */
  workerSpec(): { module: string; spec: DictSpec } {
    return { module: import.meta.url, spec: this.#spec };
  }
}

/** The worker entry point. */
export function openDataset(spec: DictSpec): DictDataset {
  return new DictDataset(spec);
}
