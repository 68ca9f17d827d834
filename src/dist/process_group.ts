/**
 * The process group: PyTorch's `torch.distributed` functions
 * (`init_process_group`, `get_rank`, `get_world_size`, `all_reduce`,
 * `broadcast`, `barrier`, `destroy_process_group`) in camelCase, on MPI.
 *
 * Ranks come from the launcher (`mpirun -np 2 deno run -A train.ts`, or
 * `srun`). A process started without one is a world of one: rank 0, and
 * every collective returns its input unchanged, without loading MPI.
 *
 * Backend `"mpi"` reduces CPU tensors; `"nccl"` adds NCCL for CUDA tensors
 * (PyTorch's `"cpu:gloo,cuda:nccl"`): each collective goes by the tensor's
 * device.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { type CallContract, checkArity, checkContract, checkOptions } from "../options.ts";
import { distCheck, distLib } from "./native.ts";
import { check } from "../ffi/native.ts";
import { beforeWrite, markWritten } from "../tensor/ops/in_place.ts";
import { DIST_OP, type DistSymbols } from "./symbols.ts";

/** Reduction of `allReduce` (PyTorch's `ReduceOp.SUM`, `ReduceOp.AVG`). */
export const ReduceOp = { SUM: "sum", AVG: "avg" } as const;

/** `"sum"` or `"avg"`. */
export type ReduceOpName = typeof ReduceOp[keyof typeof ReduceOp];

/** Options of `initProcessGroup` (PyTorch's names). */
export interface InitProcessGroupOptions {
  /** `"mpi"` (CPU tensors; the default) or `"nccl"` (CUDA tensors too). */
  backend?: "mpi" | "nccl";
  /**
   * Milliseconds a collective may wait for the other ranks before it throws
   * (default 30 minutes, as PyTorch). A rank that has exited on this host is
   * noticed within 0.1 s whatever the timeout.
   */
  timeout?: number;
}

interface Group {
  rank: number;
  worldSize: number;
  backend: string;
  lib: DistSymbols | null; // MPI; null: a world of one without a launcher
  nccl: DistSymbols | null; // with backend "nccl"
}

let group: Group | null = null;
let finalised = false;

/** The environment variables by which launchers give a process its rank. */
const LAUNCHER_VARS = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"];

/** True when a launcher (mpirun, mpiexec, srun with PMI/PMIx) started this process. */
export function launchedByMpi(): boolean {
  return LAUNCHER_VARS.some((v) => Deno.env.get(v) !== undefined);
}

/** This process's rank as the launcher's environment gives it (before joining), or -1. */
export function launcherRank(): number {
  for (const v of ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"]) {
    const r = Deno.env.get(v);
    if (r !== undefined && /^\d+$/.test(r)) return Number(r);
  }
  return -1;
}

const INIT_PROCESS_GROUP: CallContract<InitProcessGroupOptions> = {
  where: "distributed.initProcessGroup",
  most: 1,
  known: ["backend", "timeout"],
  usage: "distributed.initProcessGroup({ backend: 'mpi', timeout: 600_000 })",
};

/**
 * Joins the process group the launcher started (PyTorch's
 * `init_process_group`). A second call with the group running is an Error,
 * as in PyTorch.
 *
 * @example
 * ```ts
 * import { distributed } from "@lits/vision";
 * distributed.initProcessGroup(); // without mpirun: a world of one
 * console.log(distributed.getRank(), distributed.getWorldSize()); // 0 1
 * distributed.destroyProcessGroup();
 * ```
 */
export function initProcessGroup(options: InitProcessGroupOptions = {}): void {
  options = checkContract(INIT_PROCESS_GROUP, arguments.length, options);
  const backend = options.backend ?? "mpi";
  if (backend !== "mpi" && backend !== "nccl") {
    throw new Error(
      `distributed.initProcessGroup: backend '${backend}' is not available; ` +
        "'mpi' (CPU tensors) and 'nccl' (CUDA tensors too) are",
    );
  }
  const timeout = options.timeout ?? 1_800_000;
  if (!(typeof timeout === "number" && timeout > 0 && Number.isFinite(timeout))) {
    throw new Error(
      `distributed.initProcessGroup: timeout must be a positive number of milliseconds, got ${timeout}`,
    );
  }
  if (group) {
    throw new Error(
      "distributed.initProcessGroup: the default process group is already initialised; " +
        "call destroyProcessGroup() first",
    );
  }
  if (!launchedByMpi()) {
    group = { rank: 0, worldSize: 1, backend, lib: null, nccl: null };
    return;
  }
  if (finalised) {
    throw new Error(
      "distributed.initProcessGroup: MPI was finalised by destroyProcessGroup() and cannot " +
        "start again in this process",
    );
  }
  const lib = distLib("mpi");
  const out = new Int32Array(2);
  distCheck(lib, lib.lits_dist_init(timeout / 1000, out), () => "initProcessGroup");
  let nccl: DistSymbols | null = null;
  if (backend === "nccl") {
    nccl = distLib("nccl");
    distCheck(nccl, nccl.lits_dist_init(timeout / 1000, out), () => "initProcessGroup (nccl)");
    // The CUDA library opened later uses this rank's device, the one NCCL chose.
    const dev = new Int32Array(1);
    distCheck(nccl, nccl.lits_dist_device(dev), () => "initProcessGroup (nccl)");
    if (Deno.env.get("LITS_CUDA_DEVICE") === undefined) {
      Deno.env.set("LITS_CUDA_DEVICE", `${dev[0]}`);
    }
  }
  group = { rank: out[0], worldSize: out[1], backend, lib, nccl };
}

/** Whether `initProcessGroup` has run (PyTorch's `is_initialized`). */
export function isInitialized(): boolean {
  return group !== null;
}

function current(what: string): Group {
  if (!group) {
    throw new Error(
      `distributed.${what}: the default process group is not initialised; ` +
        "call distributed.initProcessGroup() first",
    );
  }
  return group;
}

/**
 * This process's rank, 0..worldSize-1 (PyTorch's `get_rank`).
 *
 * @example
 * ```ts
 * import { distributed } from "@lits/vision";
 * distributed.initProcessGroup();
 * console.log(distributed.getRank()); // 0
 * distributed.destroyProcessGroup();
 * ```
 */
export function getRank(): number {
  return current("getRank").rank;
}

/**
 * The number of processes in the group (PyTorch's `get_world_size`).
 *
 * @example
 * ```ts
 * import { distributed } from "@lits/vision";
 * distributed.initProcessGroup();
 * console.log(distributed.getWorldSize()); // 1
 * distributed.destroyProcessGroup();
 * ```
 */
export function getWorldSize(): number {
  return current("getWorldSize").worldSize;
}

/**
 * The engine: `"mpi"` or `"nccl"` (PyTorch's `get_backend`).
 *
 * @example
 * ```ts
 * import { distributed } from "@lits/vision";
 * distributed.initProcessGroup();
 * console.log(distributed.getBackend()); // mpi
 * distributed.destroyProcessGroup();
 * ```
 */
export function getBackend(): string {
  return current("getBackend").backend;
}

/** @internal the running group's library, or null for a world of one. */
export function groupLib(what: string): DistSymbols | null {
  return current(what).lib;
}

/**
 * @internal the library that reduces tensors on `device` (null: a world of
 * one); CUDA work is finished first, since NCCL runs on its own stream.
 */
export function libFor(what: string, t: Tensor): DistSymbols | null {
  const g = current(what);
  if (t.device === "cpu" || !g.lib) return g.lib;
  if (!g.nccl) {
    throw new Error(
      `distributed.${what}: tensor is on '${t.device}', which the '${g.backend}' backend does ` +
        "not reduce; start the group with initProcessGroup({ backend: 'nccl' })",
    );
  }
  check(t.lib, t.lib.lits_synchronize(), () => `distributed.${what}: finishing CUDA work`);
  return g.nccl;
}

function checkTensor(what: string, t: Tensor, floatOnly: boolean): void {
  if (!t || typeof t !== "object" || !("shape" in t)) {
    throw new Error(`distributed.${what}: expected a Tensor, got ${typeof t}`);
  }
  if (floatOnly && t.dtype !== "float32") {
    throw new Error(`distributed.${what}: tensor is ${t.dtype}; only float32 is reduced`);
  }
  if (!t.isContiguous) {
    throw new Error(
      `distributed.${what}: tensor [${t.shape}] is not contiguous, so it cannot be written in ` +
        "place; pass a contiguous tensor (x = x.contiguous())",
    );
  }
}

const ALL_REDUCE: CallContract<{ op?: ReduceOpName }> = {
  where: "distributed.allReduce",
  most: 2,
  known: ["op"],
  usage: "distributed.allReduce(tensor, { op: distributed.ReduceOp.SUM })",
};

/**
 * Reduces `tensor` across all ranks, in place: every rank ends with the sum
 * (`op: "sum"`, the default) or the average (`"avg"`) of all ranks'
 * tensors (PyTorch's `all_reduce`). CPU float32, contiguous.
 *
 * @example
 * ```ts
 * import { distributed, tensor } from "@lits/vision";
 * distributed.initProcessGroup();
 * const t = tensor([1, 2, 3]);
 * distributed.allReduce(t, { op: distributed.ReduceOp.AVG });
 * console.log(t.toList()); // [1, 2, 3] (the average over a world of one)
 * distributed.destroyProcessGroup();
 * ```
 */
export function allReduce(tensor: Tensor, options: { op?: ReduceOpName } = {}): void {
  options = checkContract(ALL_REDUCE, arguments.length, options);
  const op = options.op ?? "sum";
  if (op !== "sum" && op !== "avg") {
    throw new Error(`distributed.allReduce: op must be "sum" or "avg", got ${JSON.stringify(op)}`);
  }
  checkTensor("allReduce", tensor, true);
  const lib = libFor("allReduce", tensor);
  if (!lib || tensor.numel() === 0) {
    if (lib) distCheck(lib, lib.lits_dist_all_reduce_f32(null, 0, 0), () => "allReduce []");
    return;
  }
  const code = op === "avg" ? DIST_OP.mean : DIST_OP.sum;
  beforeWrite(tensor);
  distCheck(
    lib,
    lib.lits_dist_all_reduce_f32(tensor.ptr, tensor.numel(), code),
    () => `allReduce [${tensor.shape}] (${op})`,
  );
  markWritten(tensor);
}

/**
 * Copies rank `src`'s `tensor` into every rank's `tensor`, in place
 * (PyTorch's `broadcast(tensor, src)`). CPU, contiguous, any dtype.
 *
 * @example
 * ```ts
 * import { distributed, tensor } from "@lits/vision";
 * distributed.initProcessGroup();
 * const t = tensor([4, 5]);
 * distributed.broadcast(t, 0);
 * console.log(t.toList()); // [4, 5]
 * distributed.destroyProcessGroup();
 * ```
 */
export function broadcast(tensor: Tensor, src: number | { src: number }): void {
  const usage = "distributed.broadcast(tensor, 0)";
  checkArity("distributed.broadcast", arguments.length, 2, usage);
  const root = typeof src === "object" && src !== null
    ? checkOptions<{ src: number }>("distributed.broadcast", src, ["src"], usage).src
    : src;
  checkTensor("broadcast", tensor, false);
  const g = current("broadcast");
  if (!Number.isInteger(root) || root < 0 || root >= g.worldSize) {
    throw new Error(
      `distributed.broadcast: src must be a rank 0..${g.worldSize - 1}, got ${root}; ${usage}`,
    );
  }
  const lib = libFor("broadcast", tensor);
  if (!lib) return;
  beforeWrite(tensor);
  const p = tensor.numel() === 0 ? null : tensor.ptr;
  distCheck(
    lib,
    lib.lits_dist_broadcast(p, tensor.numel() * 4, root),
    () => `broadcast [${tensor.shape}] from rank ${root}`,
  );
  markWritten(tensor);
}

/**
 * Waits until every rank has called it (PyTorch's `barrier`).
 *
 * @example
 * ```ts
 * import { distributed } from "@lits/vision";
 * distributed.initProcessGroup();
 * distributed.barrier();
 * distributed.destroyProcessGroup();
 * ```
 */
export function barrier(): void {
  const lib = groupLib("barrier");
  if (lib) distCheck(lib, lib.lits_dist_barrier(), () => "barrier");
}

/**
 * Leaves the group (PyTorch's `destroy_process_group`); MPI is finalised,
 * so a launched process cannot join again.
 *
 * @example
 * ```ts
 * import { distributed } from "@lits/vision";
 * distributed.initProcessGroup();
 * distributed.destroyProcessGroup();
 * console.log(distributed.isInitialized()); // false
 * ```
 */
export function destroyProcessGroup(): void {
  const g = current("destroyProcessGroup");
  group = null;
  if (g.nccl) distCheck(g.nccl, g.nccl.lits_dist_finalize(), () => "destroyProcessGroup (nccl)");
  if (g.lib) {
    finalised = true;
    distCheck(g.lib, g.lib.lits_dist_finalize(), () => "destroyProcessGroup");
  }
}
