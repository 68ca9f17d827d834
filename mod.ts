/**
 * `@lits/vision`: deep learning for CT image classification in Deno, with
 * PyTorch's names and semantics, on a native CPU backend (and CUDA).
 *
 * @example
 * ```ts
 * import { nn, optim, randn, tensor } from "@lits/vision";
 *
 * const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(16, 3));
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
 * const lossFn = new nn.CrossEntropyLoss();
 * const x = randn([8, 1, 4, 4]);
 * const y = tensor(new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]), [8]);
 * for (let step = 0; step < 20; step++) {
 *   opt.zeroGrad();
 *   const loss = lossFn.forward(model.forward(x), y);
 *   loss.backward();
 *   opt.step();
 * }
 * ```
 *
 * @module
 */
export * from "./src/tensor/mod.ts";
export * as nn from "./src/layers/mod.ts";
export * as optim from "./src/optim/mod.ts";
export * as io from "./src/io/mod.ts";
export * as data from "./src/data/mod.ts";
export { init } from "./src/init.ts";
export { checkArity, checkCall, checkOptions } from "./src/options.ts";
export * as models from "./src/models/mod.ts";
export * as metrics from "./src/eval/metrics/mod.ts";
export * as evaluation from "./src/eval/mod.ts";
export * as train from "./src/train/mod.ts";
export * as onnx from "./src/onnx/mod.ts";
export * as distributed from "./src/dist/mod.ts";
export * as amp from "./src/amp/mod.ts";
