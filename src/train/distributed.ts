/**
 * What a training run does differently on several processes (`--nproc N`,
 * or started by mpirun): the process group, the rank that writes the run
 * folder, the model wrapped in `DistributedDataParallel`, each rank's shard
 * of the training split, and metrics averaged over the ranks. With one
 * process every helper here is the identity, so `fit` reads the same.
 *
 * Only the training split is sharded. Validation and test run whole on every
 * rank, after rank 0's batch-norm buffers are copied to all, so each rank
 * computes the same (global) numbers and rank 0 writes them.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Sampler } from "../data/sampler.ts";
import { tensor } from "../tensor/ops/creation.ts";
import {
  allReduce,
  barrier,
  broadcast,
  destroyProcessGroup,
  getRank,
  getWorldSize,
  initProcessGroup,
  isInitialized,
  launchedByMpi,
} from "../dist/process_group.ts";
import { DistributedDataParallel } from "../dist/ddp.ts";
import { DistributedSampler } from "../dist/sampler.ts";
import { convertSyncBatchnorm } from "../dist/sync_batchnorm.ts";
import { ensureMpi, mpirunArgs } from "../dist/setup.ts";
import { buildDistSync } from "../dist/build.ts";
import { UsageError } from "./errors.ts";
import { MetricsLog } from "./run_folder.ts";

/** This process's place in the run. */
export interface RunGroup {
  rank: number;
  world: number;
  /** Rank 0: writes the run folder, checkpoints, metrics and report. */
  writer: boolean;
}

/**
 * Joins the process group when the launcher started several processes;
 * checks `--nproc` against it. One process: rank 0 of 1, no group.
 */
export function joinRunGroup(nproc: number): RunGroup {
  if (!launchedByMpi()) {
    if (nproc > 1) {
      throw new UsageError(
        `--nproc ${nproc}: this process was not started by mpirun; run 'deno task train ` +
          `--nproc ${nproc}' (which starts it), or mpirun -np ${nproc} deno run -A scripts/train.ts`,
      );
    }
    return { rank: 0, world: 1, writer: true };
  }
  if (!isInitialized()) initProcessGroup();
  const world = getWorldSize(), rank = getRank();
  if (nproc > 1 && nproc !== world) {
    throw new UsageError(`--nproc ${nproc}, but mpirun started ${world} processes`);
  }
  return { rank, world, writer: rank === 0 };
}

/** Leaves the group at the end of a run (nothing with one process). */
export function leaveRunGroup(group: RunGroup): void {
  if (group.world > 1 && isInitialized()) destroyProcessGroup();
}

/** Waits for every rank (after rank 0 wrote a file the others read). */
export function syncRanks(group: RunGroup): void {
  if (group.world > 1) barrier();
}

/** The mean of `value` over the ranks (the value itself with one). */
export function globalMean(group: RunGroup, value: number): number {
  if (group.world === 1) return value;
  using t = tensor([value]);
  allReduce(t, { op: "avg" });
  return t.item();
}

/** Copies rank 0's buffers (batch norm's running statistics) to every rank before evaluating. */
export function syncBuffers(group: RunGroup, model: Module): void {
  if (group.world > 1) { for (const b of model.buffers()) broadcast(b, 0); }
}

/**
 * The model the training steps call: wrapped in DistributedDataParallel on
 * several ranks, its batch norms synchronised first when asked.
 */
export function trainingModel(group: RunGroup, model: Module, syncBatchNorm: boolean): Module {
  if (group.world === 1) return model;
  if (syncBatchNorm) convertSyncBatchnorm(model);
  return new DistributedDataParallel(model);
}

/** Each rank's batch: the global `--batch-size` split evenly. */
export function rankBatchSize(group: RunGroup, batchSize: number): number {
  if (batchSize % group.world !== 0) {
    throw new UsageError(
      `--batch-size ${batchSize} is the global batch and must split evenly over ` +
        `${group.world} processes (give a multiple of ${group.world})`,
    );
  }
  return batchSize / group.world;
}

/**
 * The training sampler of this rank: its shard of what one process would
 * draw (the same permutation or class-balanced draw, from the same seed);
 * undefined with one process (the loader's own).
 */
export function shardSampler(
  group: RunGroup,
  inner: Sampler,
  seed: number,
): Sampler | undefined {
  if (group.world === 1) return undefined;
  // The inner draw is a function of (epoch, seed): the run's seed, as the loader would pass it.
  return new DistributedSampler(inner, { numReplicas: group.world, rank: group.rank, seed });
}

/** A metrics log that writes nothing: the ranks other than 0 keep their lines to themselves. */
export class SilentMetricsLog extends MetricsLog {
  override truncateAfter(_epoch: number): Promise<void> {
    return Promise.resolve();
  }
  override append(): void {}
  override flush(): Promise<void> {
    return Promise.resolve();
  }
}

/** `--out` and the `mpirun -np N` arguments that start the ranks of `deno task train`. */
export function launchCommand(args: readonly string[], nproc: number, out: string): string[] {
  const rest = [...args];
  if (!rest.some((a) => a === "--out" || a.startsWith("--out="))) rest.push("--out", out);
  const script = new URL("../../scripts/train.ts", import.meta.url).pathname;
  return [...mpirunArgs(nproc), Deno.execPath(), "run", "-A", script, ...rest];
}

/**
 * Starts the ranks with mpirun and waits; returns the exit code of the run
 * (the first failed rank's). MPI is installed first when missing (as root).
 */
export async function launchRanks(
  args: readonly string[],
  nproc: number,
  out: string,
): Promise<number> {
  ensureMpi();
  buildDistSync(); // once here, not N times at the ranks' first collective
  const child = new Deno.Command("mpirun", {
    args: launchCommand(args, nproc, out),
    env: {
      // One core's worth of threads per rank unless the user chose.
      OMP_NUM_THREADS: Deno.env.get("OMP_NUM_THREADS") ??
        String(Math.max(1, Math.floor(navigator.hardwareConcurrency / nproc))),
    },
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  // A signal to this process alone (kill PID, a timeout, a scheduler, an IDE's
  // stop button) goes on to mpirun, which stops the ranks: otherwise they
  // trained on, writing the run folder, after the command had ended.
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = signals.map((sig) => {
    const handler = () => {
      try {
        child.kill(sig);
      } catch {
        // It has exited already.
      }
    };
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  try {
    const status = await child.status;
    return status.code;
  } finally {
    for (const [sig, handler] of forward) Deno.removeSignalListener(sig, handler);
  }
}
