/**
 * Data-parallel training across processes (PyTorch's `torch.distributed`):
 * the process group and its collectives on MPI, `DistributedSampler` and
 * `DistributedDataParallel`. Start N processes with
 * `mpirun -np N deno run -A train.ts` (or `deno task train --nproc N`).
 *
 * @module
 */
export {
  allReduce,
  barrier,
  broadcast,
  destroyProcessGroup,
  getBackend,
  getRank,
  getWorldSize,
  initProcessGroup,
  type InitProcessGroupOptions,
  isInitialized,
  ReduceOp,
  type ReduceOpName,
} from "./process_group.ts";
export { DistributedSampler, type DistributedSamplerOptions } from "./sampler.ts";
export { DistributedDataParallel, type DistributedDataParallelOptions } from "./ddp.ts";
export { convertSyncBatchnorm, SyncBatchNorm } from "./sync_batchnorm.ts";
