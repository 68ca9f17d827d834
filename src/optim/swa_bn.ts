/**
 * `updateBn` (torch's `swa_utils.update_bn`): an averaged model's
 * batch-norm statistics recomputed from the training data.
 *
 * @module
 */
import { Module } from "../layers/module.ts";
import { BatchNormBase } from "../layers/batchnorm_base.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Device } from "../tensor/device.ts";
import { ones, zeros } from "../tensor/ops/creation.ts";
import { DataLoader } from "../data/loader.ts";
import { checkArity } from "../options.ts";
import { describe } from "./swa_copy.ts";

/** A batch of `updateBn`'s loader: an input tensor, or an array or DataLoader batch led by one. */
export type UpdateBnBatch = Tensor | readonly unknown[] | { readonly 0: Tensor };

/** The input tensor of batch `k` (torch's `input[0]` for lists and tuples). */
function inputOf(item: unknown, k: number): Tensor {
  if (item instanceof Tensor) return item;
  const first = item !== null && typeof item === "object"
    ? (item as { 0?: unknown })[0]
    : undefined;
  if (first instanceof Tensor) return first;
  throw new Error(
    `optim.swaUtils.updateBn: batch ${k} is ${describe(item)}; each batch must be the input ` +
      "tensor, or an array (or DataLoader batch) whose first element is (torch's input[0]); " +
      "pass the inputs themselves otherwise, e.g. batches.map((b) => b.image) for an array",
  );
}

/**
 * Recomputes the running statistics of every batch norm in `model` from
 * one pass over `loader` (torch 1.13's `torch.optim.swa_utils.update_bn`),
 * as SWA needs after averaging: the statistics are reset, and each batch
 * norm keeps the cumulative average over the batches (momentum null, its
 * own momentum restored after). The model runs in training mode without
 * gradients; its mode is restored after (also when a batch fails).
 *
 * `loader` is a `data.DataLoader` (its batches are freed after use), or any
 * iterable or async iterable of batches: an input tensor, or an array
 * whose first element is the input (torch's `input[0]`); yours are left
 * as they are. `device` moves each input there first (torch's `device`).
 * Returns a promise (a DataLoader is asynchronous); over an array the work
 * is done before it returns. A model without batch norms is left alone
 * and the loader not read, as torch's. A batch norm without running
 * statistics (`trackRunningStats: false`) has none to update.
 *
 * @example
 * ```ts
 * import { nn, optim, randn } from "@lits/vision";
 * const net = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3)).eval();
 * await optim.swaUtils.updateBn([randn([8, 4]), randn([8, 4])], net);
 * console.log(net.training, net.stateDict().get("1.num_batches_tracked")!.item()); // false 2
 * ```
 */
export async function updateBn(
  loader: Iterable<UpdateBnBatch> | AsyncIterable<UpdateBnBatch>,
  model: Module,
  device?: Device,
): Promise<void> {
  const where = "optim.swaUtils.updateBn";
  checkArity(where, arguments.length, 3, `${where}(loader, model)`);
  if (!(model instanceof Module)) {
    throw new Error(
      `${where}: expected the model second, got ${describe(model)}; write ${where}(loader, model)`,
    );
  }
  const obj = loader as unknown as Record<symbol, unknown>;
  const isAsync = loader !== null && typeof loader === "object" &&
    typeof obj[Symbol.asyncIterator] === "function";
  if (
    !isAsync &&
    (loader === null || loader instanceof Tensor || typeof obj?.[Symbol.iterator] !== "function")
  ) {
    const hint = loader instanceof Tensor ? " (for one batch x, pass [x])" : "";
    throw new Error(
      `${where}: expected a DataLoader or an iterable of batches first, got ` +
        `${describe(loader)}${hint}; write ${where}(loader, model)`,
    );
  }
  if (loader instanceof Module) {
    throw new Error(
      `${where}: got ${describe(loader)} first; the loader comes first: ${where}(loader, model)`,
    );
  }
  const norms = [...model.modules()].filter((m): m is BatchNormBase =>
    m instanceof BatchNormBase && m.runningMean !== null
  );
  if (norms.length === 0) return;
  for (const bn of norms) {
    const c = bn.numFeatures;
    noGrad(() => {
      using mean = zeros([c]), variance = ones([c]), count = zeros([], { dtype: "int32" });
      bn.loadStateDict(
        new Map([["running_mean", mean], ["running_var", variance], [
          "num_batches_tracked",
          count,
        ]]),
        { strict: false },
      );
    });
  }
  const momenta = norms.map((bn) => bn.momentum);
  const wasTraining = model.training;
  const setMomentum = (bn: BatchNormBase, m: number | null) =>
    (bn as unknown as { momentum: number | null }).momentum = m;
  model.train();
  for (const bn of norms) setMomentum(bn, null);
  const owned = loader instanceof DataLoader;
  let k = 0;
  const run = (item: unknown) => {
    try {
      const x = inputOf(item, k++);
      noGrad(() => void model(device === undefined ? x : x.to(device)));
    } finally {
      if (owned) (item as Disposable)[Symbol.dispose]();
    }
  };
  try {
    // Over a plain iterable nothing is awaited: the work is done before the promise returns.
    if (isAsync) { for await (const item of loader as AsyncIterable<unknown>) run(item); }
    else for (const item of loader as Iterable<unknown>) run(item);
  } finally {
    norms.forEach((bn, i) => setMomentum(bn, momenta[i]));
    model.train(wasTraining);
  }
}
