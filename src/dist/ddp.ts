/**
 * `DistributedDataParallel`: PyTorch's DDP on the process group. Rank 0's
 * parameters and buffers are broadcast at construction; during backward each
 * parameter's finished gradient is copied into its bucket (about 25 MB, in
 * reverse parameter order, as PyTorch), and a full bucket's averaging
 * all-reduce starts at once, without waiting, while backward goes on; the
 * end of backward waits for them and writes the averages back into `.grad`,
 * so `optimizer.step()` sees the same gradient on every rank.
 *
 * @module
 */
import { Module, type Parameter } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { zeros } from "../tensor/ops/creation.ts";
import { check } from "../ffi/native.ts";
import {
  type HookHandle,
  registerBackwardEndHook,
  registerPostAccumulateGradHook,
} from "../tensor/grad_hooks.ts";
import { type CallContract, checkContract } from "../options.ts";
import { broadcast, getWorldSize, groupLib, libFor } from "./process_group.ts";
import type { Device } from "../tensor/device.ts";
import { distCheck } from "./native.ts";
import { DIST_OP, type DistSymbols } from "./symbols.ts";

/** Options of `DistributedDataParallel` (PyTorch's names, camelCase). */
export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (default 25, as PyTorch's `bucket_cap_mb`). */
  bucketCapMb?: number;
  /** Copy rank 0's buffers (batch norm's running statistics) to every rank at each training forward (default true). */
  broadcastBuffers?: boolean;
  /** Parameters without a gradient in a backward count as zeros instead of an Error (default false). */
  findUnusedParameters?: boolean;
}

interface Slot {
  param: Parameter;
  name: string;
  offset: number; // in floats, within its bucket
  ptr: Deno.PointerObject | null; // the bucket's memory at offset
  ready: boolean;
}

interface Bucket {
  data: Tensor; // kept, CPU float32
  slots: Slot[];
  pending: number; // slots not yet ready
  handle: number; // -1: not started
  done: boolean; // its all-reduce has completed (lits_dist_test said so)
}

const NEW_DDP: CallContract<DistributedDataParallelOptions> = {
  where: "distributed.DistributedDataParallel",
  most: 2,
  known: ["bucketCapMb", "broadcastBuffers", "findUnusedParameters"],
  usage:
    "new distributed.DistributedDataParallel(model, { bucketCapMb: 25, broadcastBuffers: true })",
};

/**
 * Wraps `module` for data-parallel training (PyTorch's
 * `DistributedDataParallel`): call it as the model, then `backward()` and
 * `optimizer.step()` as usual; gradients are averaged over the ranks in
 * buckets while backward runs. Names of parameters gain the `module.`
 * prefix, as in PyTorch; save `ddp.module.stateDict()`.
 *
 * @example
 * ```ts
 * import { distributed, nn, optim, randn } from "@lits/vision";
 * distributed.initProcessGroup(); // under mpirun: one of N ranks
 * const model = new distributed.DistributedDataParallel(new nn.Linear(4, 2));
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
 * const loss = model.forward(randn([8, 4])).pow(2).mean();
 * loss.backward(); // gradients averaged over the ranks here
 * opt.step();
 * console.log([...model.stateDict().keys()]); // ["module.weight", "module.bias"]
 * model.dispose();
 * distributed.destroyProcessGroup();
 * ```
 */
export class DistributedDataParallel<M extends Module = Module> extends Module {
  /** The wrapped model. */
  readonly module: M;
  readonly #buckets: Bucket[] = [];
  readonly #hooks: HookHandle[] = [];
  readonly #broadcastBuffers: boolean;
  readonly #findUnused: boolean;
  readonly #lib: DistSymbols | null;
  readonly #device: Device;
  #touched = false;
  readonly #doneFlag = new Int32Array(1);
  #waitMs = 0;
  #next = 0; // the next bucket to start: buckets start in order on every rank

  /** See `DistributedDataParallelOptions`. */
  constructor(module: M, options: DistributedDataParallelOptions = {}) {
    super();
    options = checkContract(NEW_DDP, arguments.length, options);
    if (!(module instanceof Module)) {
      throw new Error(`DistributedDataParallel: expected an nn.Module, got ${typeof module}`);
    }
    const capMb = options.bucketCapMb ?? 25;
    if (!(typeof capMb === "number" && capMb > 0 && Number.isFinite(capMb))) {
      throw new Error(`DistributedDataParallel: bucketCapMb must be > 0, got ${capMb}`);
    }
    groupLib("DistributedDataParallel"); // an Error when the group is not initialised
    this.module = module;
    this.#broadcastBuffers = options.broadcastBuffers ?? true;
    this.#findUnused = options.findUnusedParameters ?? false;
    const state = [...module.stateDict()];
    this.#device = state[0]?.[1].device ?? "cpu";
    for (const [name, t] of state) {
      if (t.device !== this.#device) {
        throw new Error(
          `DistributedDataParallel: ${name} is on '${t.device}', ${state[0][0]} on ` +
            `'${this.#device}'; move the whole model with model.to(device) first`,
        );
      }
    }
    // CPU tensors go through MPI, CUDA tensors through NCCL (an Error without it).
    this.#lib = state.length > 0 ? libFor("DistributedDataParallel", state[0][1]) : null;
    for (const [, t] of state) broadcast(t, 0);
    if (this.#lib && getWorldSize() > 1) this.#makeBuckets(capMb * 1024 * 1024 / 4);
  }

  #makeBuckets(capFloats: number): void {
    const params = [...this.module.namedParameters()].filter(([, p]) => p.requiresGrad).reverse();
    let slots: Slot[] = [], size = 0;
    const close = () => {
      if (slots.length === 0) return;
      const data = zeros([size], { device: this.#device }).keep();
      for (const s of slots) s.ptr = Deno.UnsafePointer.offset(data.ptr, s.offset * 4);
      this.#buckets.push({ data, slots, pending: slots.length, handle: -1, done: false });
      slots = [];
      size = 0;
    };
    for (const [name, param] of params) {
      if (size > 0 && size + param.size > capFloats) close();
      const slot: Slot = { param, name, offset: size, ptr: null, ready: false };
      slots.push(slot);
      size += param.size;
      const bucket = this.#buckets.length; // the index close() will give it
      this.#hooks.push(registerPostAccumulateGradHook(param, () => this.#onGrad(bucket, slot)));
    }
    close();
    this.#hooks.push(registerBackwardEndHook(() => this.#onBackwardEnd()));
  }

  /** Calls the wrapped module's forward (after syncing buffers from rank 0 when training). */
  forward(...inputs: Tensor[]): Tensor {
    if (this.#broadcastBuffers && this.training && this.#lib) {
      for (const b of this.module.buffers()) broadcast(b, 0);
    }
    return (this.module.forward as (...x: Tensor[]) => Tensor)(...inputs);
  }

  /** Bytes all-reduced per training step (the gradients of trained parameters). */
  get bytesPerStep(): number {
    return this.module.parameters().filter((p) => p.requiresGrad).reduce((n, p) => n + p.size, 0) *
      4;
  }

  /** The buckets' sizes in floats, in the order they are all-reduced. */
  get bucketSizes(): number[] {
    return this.#buckets.map((b) => b.data.size);
  }

  /** Milliseconds spent waiting for gradient all-reduces at the ends of backward, in total. */
  get communicationWaitMs(): number {
    return this.#waitMs;
  }

  #onGrad(index: number, slot: Slot): void {
    const bucket = this.#buckets[index];
    const g = slot.param.grad!;
    check(
      g.lib,
      g.lib.lits_copy_d2d(slot.ptr!, g.ptr, g.size * 4),
      () => `DistributedDataParallel: copying the gradient of ${slot.name}`,
    );
    this.#touched = true;
    if (!slot.ready) {
      slot.ready = true;
      bucket.pending--;
    }
    this.#startReady();
    this.#progress();
  }

  /**
   * MPI moves bytes only inside MPI calls (Open MPI has no progress thread
   * over TCP): testing the started buckets as backward goes on lets them
   * travel while the remaining gradients are computed.
   */
  #progress(): void {
    const lib = this.#lib!;
    for (let i = 0; i < this.#next; i++) {
      const b = this.#buckets[i];
      if (b.done) continue;
      distCheck(
        lib,
        lib.lits_dist_test(b.handle, this.#doneFlag),
        () => `DistributedDataParallel: gradient bucket ${i}`,
      );
      b.done = this.#doneFlag[0] === 1;
    }
  }

  /** Starts every bucket, in order, whose gradients are all in. */
  #startReady(): void {
    const lib = this.#lib!;
    while (this.#next < this.#buckets.length && this.#buckets[this.#next].pending === 0) {
      const b = this.#buckets[this.#next++];
      if (this.#device !== "cpu") {
        // NCCL runs on its own stream: the copies into the bucket finish first.
        check(b.data.lib, b.data.lib.lits_synchronize(), () => "DistributedDataParallel");
      }
      const h = new Int32Array(1);
      distCheck(
        lib,
        lib.lits_dist_all_reduce_start_f32(b.data.ptr, b.data.size, DIST_OP.mean, h),
        () => `DistributedDataParallel: gradient bucket ${this.#next - 1} (${b.data.size} floats)`,
      );
      b.handle = h[0];
    }
  }

  #onBackwardEnd(): void {
    if (!this.#touched) return;
    this.#touched = false;
    const lib = this.#lib!;
    try {
      for (const b of this.#buckets) {
        for (const s of b.slots) {
          if (s.ready) continue;
          if (!this.#findUnused) {
            // The buckets already started finish first, so the ranks' calls still match.
            for (const started of this.#buckets.slice(0, this.#next)) {
              lib.lits_dist_wait(started.handle);
            }
            throw new Error(
              `DistributedDataParallel: parameter ${s.name} got no gradient in this backward, ` +
                "so the ranks cannot average it; use every parameter in forward, or pass " +
                "{ findUnusedParameters: true } (its gradient then counts as zeros)",
            );
          }
          check(
            s.param.lib,
            s.param.lib.lits_fill_f32(s.ptr!, s.param.size, 0),
            () => `DistributedDataParallel: zeros for ${s.name}`,
          );
          s.ready = true;
          b.pending--;
        }
      }
      this.#startReady();
      const start = performance.now();
      for (const [i, b] of this.#buckets.entries()) {
        distCheck(
          lib,
          lib.lits_dist_wait(b.handle),
          () => `DistributedDataParallel: gradient bucket ${i} (${b.data.size} floats)`,
        );
        b.handle = -1;
        for (const s of b.slots) this.#writeBack(s);
      }
      this.#waitMs += performance.now() - start;
    } finally {
      this.#next = 0;
      for (const b of this.#buckets) {
        b.pending = b.slots.length;
        b.done = false;
        for (const s of b.slots) s.ready = false;
      }
    }
  }

  #writeBack(s: Slot): void {
    const p = s.param;
    if (p.grad === null) {
      // An unused parameter (findUnusedParameters): its averaged gradient, as on the other ranks.
      p.grad = zeros([...p.shape], { device: p.device }).keep();
    }
    check(
      p.lib,
      p.lib.lits_copy_d2d(p.grad.ptr, s.ptr!, p.size * 4),
      () => `DistributedDataParallel: writing the gradient of ${s.name}`,
    );
  }

  /** Frees the model, the buckets and the hooks. */
  override dispose(): void {
    for (const h of this.#hooks) h.remove();
    for (const b of this.#buckets) b.data.dispose();
    this.#buckets.length = 0;
    super.dispose();
  }
}
