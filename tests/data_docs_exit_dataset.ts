/**
 * A dataset for tests/data_docs_test.ts whose worker copy ends its own
 * thread (`Deno.exit()` or `close()`) at one index: the loader must fail
 * with an Error naming the batch, not wait for ever.
 *
 * @module
 */
import type { Dataset, Sample } from "../src/data/types.ts";

/** Which index ends the worker, and how. */
export interface ExitSpec {
  length: number;
  exitAt: number;
  how: "exit" | "close";
}

/** 2x2 images labelled i % 2; sample `exitAt` ends the worker thread it is read in. */
export function openDataset(spec: ExitSpec): Dataset {
  return {
    length: spec.length,
    get(i: number): Promise<Sample> {
      if (i === spec.exitAt) {
        if (spec.how === "exit") Deno.exit(3);
        (globalThis as unknown as { close(): void }).close();
        return new Promise(() => {});
      }
      const image = { data: new Float32Array(4).fill(i), width: 2, height: 2 };
      return Promise.resolve({ image, label: i % 2 });
    },
    workerSpec: () => ({ module: import.meta.url, spec }),
  };
}
