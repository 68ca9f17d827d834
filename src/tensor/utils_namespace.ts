/**
 * PyTorch's `torch.utils` pieces that are not data loading (that is
 * `data`): activation checkpointing, `utils.checkpoint` and
 * `utils.checkpointSequential` (torch's `torch.utils.checkpoint`), and
 * `utils.benchmark` (torch's `torch.utils.benchmark`: Timer, Measurement,
 * Compare); and torchvision's `torchvision.utils.make_grid` and
 * `save_image` as `utils.makeGrid` and `utils.saveImage`.
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
export { makeGrid, type MakeGridOptions } from "../utils/make_grid.ts";
export { saveImage, type SaveImageOptions } from "../utils/save_image.ts";
