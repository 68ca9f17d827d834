/**
 * `DistributedDataParallel`: PyTorch's DDP on the process group. Rank 0's
 * parameters and buffers are broadcast at construction; during backward each
 * parameter's finished gradient is copied into its bucket (about 25 MB, in
 * reverse parameter order, as PyTorch), and a full bucket's averaging
 * all-reduce starts at once, without waiting, while backward goes on; the
 * end of backward waits for them and writes the averages back into `.grad`,
 * so `optimizer.step()` sees the same gradient on every rank.
 *
 * The ranks must stay in step: the model is compared with rank 0's at
 * construction, and every rank runs every bucket in every synced backward,
 * whatever gradients it lacks. The last bucket, started at the end of
 * backward, carries a small control block (which parameters each rank has
 * a gradient for, and which frozen ones got one), so that all ranks agree
 * on what to write back and throw the same Error in the same step.
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
import { broadcast, getRank, getWorldSize, groupLib, libFor } from "./process_group.ts";
import { checkSameModel } from "./ddp_check.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { beforeWrite, markWritten } from "../tensor/ops/in_place.ts";
import type { Device } from "../tensor/device.ts";
import { distCheck } from "./native.ts";
import { DIST_OP, type DistSymbols } from "./symbols.ts";

/** Options of `DistributedDataParallel` (PyTorch's names, camelCase). */
export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (default 25, as PyTorch's `bucket_cap_mb`). */
  bucketCapMb?: number;
  /** Copy rank 0's buffers (batch norm's running statistics) to every rank at each training forward (default true). */
  broadcastBuffers?: boolean;
  /**
   * A parameter without a gradient on some ranks counts as zeros there
   * instead of an Error; one no rank used keeps its `.grad` (null stays
   * null), as PyTorch (default false).
   */
  findUnusedParameters?: boolean;
}

interface Slot {
  param: Parameter;
  name: string;
  bucket: number;
  offset: number; // in floats, within its bucket
  ptr: Deno.PointerObject | null; // the bucket's memory at offset
  ready: boolean;
  flag: number; // its "used" float in the control block
}

interface Bucket {
  data: Tensor; // kept, CPU float32; the last one ends with the control block
  gradFloats: number; // the gradients' part of data
  slots: Slot[];
  pending: number; // slots not yet ready
  handle: number; // -1: not started
  done: boolean; // its all-reduce has completed (lits_dist_test said so)
}

/** Where the current backward stands: none yet, averaging, or accumulating locally (noSync). */
type Phase = "idle" | "sync" | "local";

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
  readonly #slots: Slot[] = [];
  readonly #frozen: string[] = []; // names of parameters frozen at construction
  readonly #hooks: HookHandle[] = [];
  readonly #broadcastBuffers: boolean;
  readonly #findUnused: boolean;
  readonly #lib: DistSymbols | null;
  readonly #device: Device;
  readonly #doneFlag = new Int32Array(1);
  /**
   * Averaged with the last bucket: per slot, 1 where this rank has its
   * gradient (PyTorch's local_used_map), then per frozen parameter, 1 where
   * it got one anyway. Times the world size, each says on how many ranks.
   */
  #control = new Float32Array(0);
  #controlPtr: Deno.PointerObject | null = null;
  #phase: Phase = "idle";
  #noSyncDepth = 0;
  #forwardInNoSync = false;
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
    const mpi = groupLib("DistributedDataParallel"); // an Error when the group is not initialised
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
    if (mpi && getWorldSize() > 1) {
      checkSameModel(mpi, getRank(), getWorldSize(), state, new Set(module.parameters()));
    }
    // CPU tensors go through MPI, CUDA tensors through NCCL (an Error without it).
    this.#lib = state.length > 0 ? libFor("DistributedDataParallel", state[0][1]) : null;
    for (const [, t] of state) broadcast(t, 0);
    if (this.#lib && getWorldSize() > 1) this.#makeBuckets(capMb * 1024 * 1024 / 4);
  }

  #makeBuckets(capFloats: number): void {
    const named = [...this.module.namedParameters()];
    const frozen = named.filter(([, p]) => !p.requiresGrad);
    const groups: Slot[][] = [[]];
    let size = 0;
    for (const [name, param] of named.filter(([, p]) => p.requiresGrad).reverse()) {
      if (size > 0 && size + param.numel() > capFloats) {
        groups.push([]);
        size = 0;
      }
      const slot: Slot = {
        param,
        name,
        bucket: groups.length - 1,
        offset: size,
        ptr: null,
        ready: false,
        flag: this.#slots.length,
      };
      groups[groups.length - 1].push(slot);
      this.#slots.push(slot);
      size += param.numel();
      this.#hooks.push(registerPostAccumulateGradHook(param, () => this.#onGrad(slot)));
    }
    this.#control = new Float32Array(this.#slots.length + frozen.length);
    if (this.#control.length === 0) return; // no parameters: nothing to average
    for (const [i, slots] of groups.entries()) {
      const gradFloats = slots.reduce((n, s) => n + s.param.numel(), 0);
      const last = i === groups.length - 1;
      const total = gradFloats + (last ? this.#control.length : 0);
      const data = zeros([total], { device: this.#device }).keep();
      for (const s of slots) s.ptr = Deno.UnsafePointer.offset(data.ptr, s.offset * 4);
      if (last) this.#controlPtr = Deno.UnsafePointer.offset(data.ptr, gradFloats * 4);
      this.#buckets.push({
        data,
        gradFloats,
        slots,
        pending: slots.length,
        handle: -1,
        done: false,
      });
    }
    // A parameter frozen now and unfrozen later would get gradients no rank averages.
    for (const [k, [name, param]] of frozen.entries()) {
      this.#frozen.push(name);
      const flag = this.#slots.length + k;
      this.#hooks.push(registerPostAccumulateGradHook(param, () => {
        if (this.#begin()) this.#control[flag] = 1;
      }));
    }
    this.#hooks.push(registerBackwardEndHook(() => this.#onBackwardEnd()));
  }

  /** Calls the wrapped module's forward (after syncing buffers from rank 0 when training). */
  forward(...inputs: Tensor[]): Tensor {
    // As PyTorch, the forward decides whether its backward averages (noSync).
    if (isGradEnabled()) this.#forwardInNoSync = this.#noSyncDepth > 0;
    if (this.#broadcastBuffers && this.training && this.#lib) {
      for (const b of this.module.buffers()) broadcast(b, 0);
    }
    return (this.module.forward as (...x: Tensor[]) => Tensor)(...inputs);
  }

  /**
   * Runs `fn` with gradient averaging off (PyTorch's `no_sync()` context
   * manager): a backward whose forward ran inside accumulates into each
   * rank's own `.grad` without communicating, and the next backward outside
   * averages the whole accumulated `.grad`. Run the forward inside too: a
   * backward inside whose forward ran outside is an Error (PyTorch would
   * average it). An async `fn` keeps it off until its promise settles.
   *
   * @example
   * ```ts
   * // Accumulate 3 micro-batches, communicate once (under mpirun; alone, a world of one).
   * import { distributed, nn, optim, randn } from "@lits/vision";
   * distributed.initProcessGroup();
   * const ddp = new distributed.DistributedDataParallel(new nn.Linear(4, 2));
   * const opt = new optim.SGD(ddp.parameters(), { lr: 0.1 });
   * const micro = [randn([2, 4]), randn([2, 4]), randn([2, 4])];
   * for (const x of micro.slice(0, -1)) {
   *   ddp.noSync(() => ddp.forward(x).pow(2).mean().backward()); // local only
   * }
   * ddp.forward(micro[2]).pow(2).mean().backward(); // averages the accumulated .grad
   * opt.step();
   * opt.zeroGrad();
   * distributed.destroyProcessGroup();
   * ```
   */
  noSync<T>(fn: () => T): T {
    if (typeof fn !== "function") {
      throw new Error(
        "DistributedDataParallel.noSync: expected a function, as " +
          "ddp.noSync(() => ddp.forward(x).backward())",
      );
    }
    this.#noSyncDepth++;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.#noSyncDepth--;
      throw e;
    }
    if (result instanceof Promise) {
      return result.finally(() => this.#noSyncDepth--) as T;
    }
    this.#noSyncDepth--;
    return result;
  }

  /** Bytes all-reduced per training step (the gradients of trained parameters). */
  get bytesPerStep(): number {
    return this.module.parameters().filter((p) => p.requiresGrad).reduce(
      (n, p) => n + p.numel(),
      0,
    ) *
      4;
  }

  /** The buckets' sizes in floats of gradients, in the order they are all-reduced. */
  get bucketSizes(): number[] {
    return this.#buckets.map((b) => b.gradFloats);
  }

  /** Milliseconds spent waiting for gradient all-reduces at the ends of backward, in total. */
  get communicationWaitMs(): number {
    return this.#waitMs;
  }

  /** At a backward's first gradient, fixes whether it averages; true when it does. */
  #begin(): boolean {
    if (this.#phase === "idle") {
      if (this.#noSyncDepth > 0 && !this.#forwardInNoSync) {
        throw new Error(
          "DistributedDataParallel.noSync: this backward runs inside noSync, but the forward " +
            "that built its graph ran outside it, so PyTorch would still average its gradients; " +
            "run the forward inside noSync too: ddp.noSync(() => ddp.forward(x).backward())",
        );
      }
      this.#phase = this.#forwardInNoSync ? "local" : "sync";
    }
    return this.#phase === "sync";
  }

  #onGrad(slot: Slot): void {
    if (!this.#begin()) return;
    // .grad holds everything accumulated since the last averaging (noSync's too).
    const g = slot.param.grad!;
    check(
      g.lib,
      g.lib.lits_copy_d2d(slot.ptr!, g.ptr, g.numel() * 4),
      () => `DistributedDataParallel: copying the gradient of ${slot.name}`,
    );
    if (!slot.ready) {
      slot.ready = true;
      this.#buckets[slot.bucket].pending--;
    }
    // The last bucket carries the control block, known only at the end of backward.
    this.#startReady(this.#buckets.length - 1);
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

  /** Starts every bucket before `limit`, in order, whose gradients are all in. */
  #startReady(limit: number): void {
    const lib = this.#lib!;
    while (this.#next < limit && this.#buckets[this.#next].pending === 0) {
      const b = this.#buckets[this.#next++];
      if (this.#device !== "cpu") {
        // NCCL runs on its own stream: the copies into the bucket finish first.
        check(b.data.lib, b.data.lib.lits_synchronize(), () => "DistributedDataParallel");
      }
      const h = new Int32Array(1);
      distCheck(
        lib,
        lib.lits_dist_all_reduce_start_f32(b.data.ptr, b.data.numel(), DIST_OP.mean, h),
        () =>
          `DistributedDataParallel: gradient bucket ${this.#next - 1} (${b.data.numel()} floats)`,
      );
      b.handle = h[0];
    }
  }

  /**
   * Every rank runs every bucket, whatever gradients it lacks, so that the
   * ranks' collectives stay matched; the control block then tells all of
   * them alike what went wrong, and they throw the same Error in the same
   * step.
   */
  #onBackwardEnd(): void {
    const phase = this.#phase;
    this.#phase = "idle";
    if (phase !== "sync") return;
    const lib = this.#lib!, c = this.#control, world = getWorldSize();
    try {
      for (const s of this.#slots) {
        if (s.ready) {
          c[s.flag] = 1;
          continue;
        }
        // Unused here: zeros, or with findUnusedParameters a .grad from earlier
        // (noSync's accumulation), which PyTorch averages too.
        const g = s.param.grad, p = s.param;
        if (this.#findUnused && g !== null) {
          check(p.lib, p.lib.lits_copy_d2d(s.ptr!, g.ptr, p.numel() * 4), this.#what(s));
          c[s.flag] = 1;
        } else {
          check(p.lib, p.lib.lits_fill_f32(s.ptr!, p.numel(), 0), this.#what(s));
        }
        s.ready = true;
        this.#buckets[s.bucket].pending--;
      }
      const data = this.#buckets[0].data;
      check(
        data.lib,
        data.lib.lits_copy_h2d(this.#controlPtr!, c, c.byteLength),
        () => "DistributedDataParallel: the used-parameter flags",
      );
      this.#startReady(this.#buckets.length);
      const start = performance.now();
      for (const [i, b] of this.#buckets.entries()) {
        distCheck(
          lib,
          lib.lits_dist_wait(b.handle),
          () => `DistributedDataParallel: gradient bucket ${i} (${b.data.numel()} floats)`,
        );
        b.handle = -1;
      }
      this.#waitMs += performance.now() - start;
      check(
        data.lib,
        data.lib.lits_copy_d2h(c, this.#controlPtr!, c.byteLength),
        () => "DistributedDataParallel: the used-parameter flags",
      );
      const ranks = (flag: number) => Math.round(c[flag] * world);
      this.#checkFlags(ranks, world);
      // A parameter no rank used keeps its .grad (null stays null), as PyTorch.
      for (const s of this.#slots) if (ranks(s.flag) > 0) this.#writeBack(s);
    } finally {
      this.#next = 0;
      c.fill(0);
      for (const b of this.#buckets) {
        b.pending = b.slots.length;
        b.done = false;
        for (const s of b.slots) s.ready = false;
      }
    }
  }

  /** Throws, alike on every rank, for gradients of frozen or (strictly) missing parameters. */
  #checkFlags(ranks: (flag: number) => number, world: number): void {
    const stray = this.#frozen.findIndex((_, k) => ranks(this.#slots.length + k) > 0);
    if (stray >= 0) {
      throw new Error(
        `DistributedDataParallel: parameter ${this.#frozen[stray]} got a gradient on ` +
          `${ranks(this.#slots.length + stray)} of ${world} ranks, but it was frozen ` +
          "(requiresGrad false) when DistributedDataParallel was built, so it is not averaged " +
          "over the ranks; wrap the model again after changing requiresGrad",
      );
    }
    if (this.#findUnused) return;
    const missing = this.#slots.filter((s) => ranks(s.flag) < world);
    if (missing.length === 0) return;
    const [first, ...more] = missing;
    const others = more.length === 0
      ? ""
      : ` (and ${more.length} more: ${more.slice(0, 3).map((s) => s.name).join(", ")}${
        more.length > 3 ? ", ..." : ""
      })`;
    throw new Error(
      `DistributedDataParallel: parameter ${first.name} got no gradient in this backward on ` +
        `${world - ranks(first.flag)} of ${world} ranks${others}, so the ranks cannot average ` +
        "it; use every parameter in forward, or pass { findUnusedParameters: true } (its " +
        "gradient then counts as zeros)",
    );
  }

  #what(s: Slot): () => string {
    return () => `DistributedDataParallel: the gradient of ${s.name}`;
  }

  #writeBack(s: Slot): void {
    const p = s.param;
    if (p.grad === null) {
      // Used on another rank only (findUnusedParameters): the average, as there.
      p.grad = zeros([...p.shape], { device: p.device }).keep();
    }
    beforeWrite(p.grad);
    check(
      p.lib,
      p.lib.lits_copy_d2d(p.grad.ptr, s.ptr!, p.numel() * 4),
      () => `DistributedDataParallel: writing the gradient of ${s.name}`,
    );
    // A write in place, as PyTorch's copy_: the graphs that saved .grad see it.
    markWritten(p.grad);
  }

  /** Frees the model, the buckets and the hooks. */
  override dispose(): void {
    for (const h of this.#hooks) h.remove();
    for (const b of this.#buckets) b.data.dispose();
    this.#buckets.length = 0;
    super.dispose();
  }
}
