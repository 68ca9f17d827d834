/**
 * PyTorch's `torch.utils` pieces that are not data loading (that is
 * `data`): activation checkpointing, `utils.checkpoint` and
 * `utils.checkpointSequential` (torch's `torch.utils.checkpoint`), and
 * `utils.benchmark` (torch's `torch.utils.benchmark`: Timer, Measurement,
 * Compare).
 *
 * @example
 * ```ts
 * import { nn, randn, utils } from "@lits/vision";
 * const block = new nn.Linear(4, 4);
 * console.log(utils.checkpoint(block, randn([2, 4])).shape); // [2, 4]
 * ```
 *
 * @module
 */
export { checkpoint, type CheckpointOptions, checkpointSequential } from "./checkpoint.ts";
export * as benchmark from "../utils/benchmark/mod.ts";
