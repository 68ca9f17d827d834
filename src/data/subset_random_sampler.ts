/**
 * `SubsetRandomSampler`: given dataset indices in a new random order every
 * epoch (PyTorch's `torch.utils.data.SubsetRandomSampler`), the classic
 * train / validation split of one dataset by two index lists.
 *
 * @module
 */
import { checkArity } from "../options.ts";
import { Rng } from "./rng.ts";
import { permutation, type Sampler } from "./sampler.ts";
import { indexArray } from "./sampler_input.ts";
import { describe } from "./dataset_common.ts";

const USAGE = "new data.SubsetRandomSampler([0, 5, 7])";

/**
 * The given indices, shuffled anew each epoch from (seed, epoch), as
 * torch's `SubsetRandomSampler(indices)`: `indices` is an array (a typed
 * array, or a 1-D int32 tensor) of dataset indices; each epoch visits each
 * of them once (repeats stay repeats). The loader checks them against the
 * dataset's length.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const ds = {
 *   length: 10,
 *   get: (i: number) => Promise.resolve({ image: { data: new Float32Array(4), width: 2, height: 2 }, label: i % 2 }),
 * };
 * // DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler(train_idx))
 * const trainIdx = [0, 2, 4, 6, 8];
 * const loader = new data.DataLoader(ds, { batchSize: 2, sampler: new data.SubsetRandomSampler(trainIdx), seed: 0 });
 * const seen: number[] = [];
 * for await (using b of loader) seen.push(...b.indices);
 * console.log(loader.length, seen.sort((a, b) => a - b)); // 3 [0, 2, 4, 6, 8]
 * ```
 */
export class SubsetRandomSampler implements Sampler {
  /** The indices given (a copy). */
  readonly subset: Int32Array;

  /** `indices`: dataset indices, an array, a typed array or a 1-D int32 tensor. */
  constructor(indices: ArrayLike<number> | { toArray(): ArrayLike<number> }) {
    const where = "data.SubsetRandomSampler";
    checkArity(where, arguments.length, 1, USAGE);
    let values: ArrayLike<unknown>;
    if (indices !== null && typeof indices === "object" && "toArray" in indices) {
      const t = indices as {
        shape?: readonly number[];
        dtype?: string;
        toArray(): ArrayLike<number>;
      };
      if (!Array.isArray(t.shape) || t.shape.length !== 1 || t.dtype !== "int32") {
        throw new Error(
          `${where}: indices must be a 1-D int32 tensor or an array of integers, got ` +
            `${describe(indices)}; write indices.int() or indices.flatten()`,
        );
      }
      values = t.toArray();
    } else if (
      Array.isArray(indices) || (ArrayBuffer.isView(indices) && !(indices instanceof DataView))
    ) {
      values = indices as ArrayLike<unknown>;
    } else {
      throw new Error(
        `${where}: indices must be an array of dataset indices, got ${describe(indices)}; ` +
          `write ${USAGE}`,
      );
    }
    this.subset = indexArray(where, Array.from(values));
  }

  /** Indices per epoch. */
  get length(): number {
    return this.subset.length;
  }

  /** The epoch's order: the indices in a permutation drawn from (seed, epoch). */
  indices(epoch: number, seed: number): Int32Array {
    // The same swaps as shuffling the subset in place: subset[perm[k]].
    const perm = permutation(this.subset.length, Rng.forSample(seed, epoch, -1));
    return perm.map((k) => this.subset[k]);
  }
}
