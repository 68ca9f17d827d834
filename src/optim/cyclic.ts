/**
 * `CyclicLR`, as `torch.optim.lr_scheduler.CyclicLR` (PyTorch 1.13): the
 * cyclical learning-rate policy, stepped once per batch.
 *
 * @module
 */
import {
  type AnyOptimizer,
  finiteAtLeast,
  LRScheduler,
  ownLayout,
  scheduleOptions,
  setGroupOptions,
  stepTakesNoEpoch,
} from "./base.ts";
import type { TorchSchedulerStateDict } from "./torch_scheduler_state.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/** CyclicLR's built-in policies. */
export type CyclicLRMode = "triangular" | "triangular2" | "exp_range";

/** Options of `CyclicLR` (torch's names in camelCase, torch's defaults). */
export interface CyclicLROptions {
  /** The lower lr of the cycle: one for every group, or one per group. */
  baseLr: number | number[];
  /** The upper lr of the cycle: one for every group, or one per group. */
  maxLr: number | number[];
  /** Batches of the rising half of a cycle (default 2000). */
  stepSizeUp?: number;
  /** Batches of the falling half (default null: stepSizeUp). */
  stepSizeDown?: number | null;
  /**
   * "triangular" (default): the same triangle every cycle; "triangular2":
   * its height halves every cycle; "exp_range": its height is multiplied by
   * `gamma` every batch.
   */
  mode?: CyclicLRMode;
  /** The factor of "exp_range" (default 1). */
  gamma?: number;
  /**
   * A height factor of your own, in place of `mode`: called with the cycle
   * number (from 1) or the batch count, by `scaleMode`. Not saved by
   * `stateDict()`: give it again to the schedule that loads one.
   */
  scaleFn?: ((x: number) => number) | null;
  /** What `scaleFn` is called with: "cycle" (default) or "iterations" (the batch count). */
  scaleMode?: "cycle" | "iterations";
  /**
   * Cycle the momentum (SGD, RMSprop) or beta1 (Adam and its kin) inversely
   * to the lr, between maxMomentum and baseMomentum (default true, as torch).
   */
  cycleMomentum?: boolean;
  /** The momentum at the lr's peak: one, or one per group (default 0.8). */
  baseMomentum?: number | number[];
  /** The momentum at the cycle's ends: one, or one per group (default 0.9). */
  maxMomentum?: number | number[];
  /**
   * Batches already trained, to resume (default -1: start). As torch's,
   * the schedule made with `lastEpoch: k` stands at batch k + 1 (its lr
   * and momentum set there), on the cycle given here (torch 1.13 takes the
   * groups' momentum at that point as baseMomentum, which later versions
   * fixed). `loadStateDict` resumes one too.
   */
  lastEpoch?: number;
}

const USAGE = "new optim.CyclicLR(opt, { baseLr: 0.001, maxLr: 0.01, stepSizeUp: 2000 })";
const KEYS: (keyof CyclicLROptions)[] = [
  "baseLr",
  "maxLr",
  "stepSizeUp",
  "stepSizeDown",
  "mode",
  "gamma",
  "scaleFn",
  "scaleMode",
  "cycleMomentum",
  "baseMomentum",
  "maxMomentum",
  "lastEpoch",
];

/**
 * Cycles each group's lr between `baseLr` and `maxLr` (`CyclicLR`): up over
 * `stepSizeUp` batches, down over `stepSizeDown`, the triangle's height
 * scaled by `mode` or your `scaleFn`. Like torch's (cycleMomentum is on by
 * default), the momentum of SGD or RMSprop moves the other way, from
 * maxMomentum down to baseMomentum at the lr's peak; for Adam, AdamW and
 * their kin it is beta1, as later torch versions do (torch 1.13 refuses
 * them unless cycleMomentum is false). Made, it sets the lr to baseLr (and
 * the momentum to maxMomentum), replacing the optimizer's own. Call
 * `step()` after every batch.
 *
 * As torch's: made after another schedule over the same optimizer, its
 * step 0 leaves the lr at that schedule's initial lr (torch computes step 0
 * from it), the cycle starts at the first step(); a group added to the
 * optimizer since keeps its lr and momentum.
 *
 * @example
 * ```ts
 * import { nn, optim } from "@lits/vision";
 * const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 0.1, momentum: 0.9 });
 * const sched = new optim.CyclicLR(opt, { baseLr: 0.01, maxLr: 0.05, stepSizeUp: 2 });
 * const lrs = [sched.lastLr[0]];
 * for (let batch = 0; batch < 4; batch++) {
 *   sched.step();
 *   lrs.push(sched.lastLr[0]);
 * }
 * console.log(lrs.map((v) => v.toFixed(2))); // ["0.01", "0.03", "0.05", "0.03", "0.01"]
 * console.log(opt.paramGroups[0].options.momentum.toFixed(2)); // "0.90"
 * ```
 */
export class CyclicLR extends LRScheduler {
  /** Each group's upper lr. */
  readonly maxLrs: number[];
  /** Batches in a whole cycle (up and down). */
  readonly totalSize: number;
  /** The rising half's share of the cycle. */
  readonly stepRatio: number;
  /** The policy (unused where `scaleFn` is given). */
  readonly mode: CyclicLRMode;
  /** The factor of "exp_range". */
  readonly gamma: number;
  /** Your height factor, or null for `mode`'s. */
  readonly scaleFn: ((x: number) => number) | null;
  /** What the height factor is called with: the cycle, or the batch count. */
  readonly scaleMode: "cycle" | "iterations";
  /** Whether momentum / beta1 cycles. */
  readonly cycleMomentum: boolean;
  /** Each group's momentum at the lr's peak (empty unless cycleMomentum). */
  readonly baseMomentums: number[];
  /** Each group's momentum at the ends of a cycle (empty unless cycleMomentum). */
  readonly maxMomentums: number[];

  /** Cycles `optimizer`'s groups; see `CyclicLROptions`. Sets step 0 (baseLr) now. */
  constructor(optimizer: AnyOptimizer, options: CyclicLROptions) {
    // Everything is checked before the optimizer is touched.
    const c = parse(optimizer, arguments.length, options);
    const lrsBefore = optimizer.paramGroups.map((g, i) => [i, "lr", g.options.lr] as const);
    // torch sets each group's lr to baseLr before its base class reads the
    // initial lr (which a schedule made before this one may have set).
    if (c.lastEpoch === -1) setGroupOptions(optimizer, c.baseLrs.map((lr, i) => [i, "lr", lr]));
    super(optimizer);
    this.maxLrs = c.maxLrs;
    this.totalSize = c.up + c.down;
    this.stepRatio = c.up / this.totalSize;
    this.mode = c.mode;
    this.gamma = c.gamma;
    this.scaleFn = c.scaleFn;
    this.scaleMode = c.scaleMode;
    this.cycleMomentum = c.cycleMomentum;
    this.baseMomentums = c.baseMomentums;
    this.maxMomentums = c.maxMomentums;
    // torch's step 0 reads the base class's lrs (each group's initial lr),
    // its steps after that the baseLr given.
    const initial = [...this.baseLrs];
    this.baseLrs.splice(0, this.baseLrs.length, ...c.baseLrs);
    try {
      if (c.lastEpoch === -1) this.apply(0, initial);
      else this.apply(c.lastEpoch + 1, this.baseLrs);
    } catch (e) {
      // A momentum the optimizer refuses: the optimizer is left as it was.
      setGroupOptions(optimizer, lrsBefore);
      throw e;
    }
    if (c.lastEpoch !== -1) this.lastEpoch = c.lastEpoch + 1;
  }

  /**
   * Sets the groups' lr and (when cycling) momentum for batch `epoch`,
   * torch's get_lr: all of them, or, where the optimizer refuses one,
   * none (see `setGroupOptions`).
   */
  private apply(epoch: number, baseLrs: readonly number[]): void {
    const cycle = Math.floor(1 + epoch / this.totalSize);
    const x = 1 + epoch / this.totalSize - cycle;
    const factor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const scale = scaleAt(this, cycle, epoch);
    // torch zips with its lists: a group added since keeps its lr and momentum.
    const n = Math.min(this.optimizer.paramGroups.length, baseLrs.length, this.maxLrs.length);
    const writes: [number, string, unknown][] = [];
    for (let i = 0; i < n; i++) {
      const g = this.optimizer.paramGroups[i];
      writes.push([i, "lr", baseLrs[i] + (this.maxLrs[i] - baseLrs[i]) * factor * scale]);
      if (!this.cycleMomentum || i >= this.maxMomentums.length) continue;
      const m = this.maxMomentums[i] -
        (this.maxMomentums[i] - this.baseMomentums[i]) * factor * scale;
      const opts = g.options as Record<string, unknown>;
      if (Array.isArray(opts.betas)) writes.push([i, "betas", [m, opts.betas[1]]]);
      else writes.push([i, "momentum", m]);
    }
    setGroupOptions(this.optimizer, writes);
    this.recordLastLr();
  }

  /** Advances one batch: the groups' lr and momentum. */
  override step(): void {
    if (arguments.length > 0) throw stepTakesNoEpoch("CyclicLR", arguments.length);
    // The count moves once the step is made (a scaleFn that throws moves nothing).
    this.apply(this.lastEpoch + 1, this.baseLrs);
    this.lastEpoch++;
  }

  /** SequentialLR's start of this schedule: batch 0 of the cycle, at baseLr. */
  override restart(): void {
    this.apply(0, this.baseLrs);
    this.lastEpoch = 0;
  }

  /** Unused: step() sets the groups itself. */
  protected nextLr(_epoch: number, _i: number, lr: number): number {
    return lr; // step() sets the groups itself
  }

  /** The position, and the lr and momentum bounds (not a scaleFn: give it again). */
  protected override ownStateDict(): Record<string, number | number[]> {
    const sd: Record<string, number | number[]> = {
      ...super.ownStateDict(),
      maxLrs: [...this.maxLrs],
    };
    if (this.cycleMomentum) {
      sd.baseMomentums = [...this.baseMomentums];
      sd.maxMomentums = [...this.maxMomentums];
    }
    return sd;
  }

  /** Restores what `stateDict()` gave (mode, step sizes and scaleFn come from the constructor). */
  override loadStateDict(given: Record<string, number | number[]> | TorchSchedulerStateDict): void {
    const sd = ownLayout(this, given);
    const lists = (keys: string[]) =>
      keys.every((k) =>
        Array.isArray(sd?.[k]) && (sd[k] as number[]).length === (sd.baseLrs as number[])?.length &&
        (sd[k] as number[]).every((v) => typeof v === "number" && Number.isFinite(v))
      );
    const momenta = ["baseMomentums", "maxMomentums"];
    if (
      !lists(["maxLrs"]) || (this.cycleMomentum ? !lists(momenta) : momenta.some((k) => k in sd))
    ) {
      throw new Error(
        `CyclicLR.loadStateDict: expected { lastEpoch, baseLrs, maxLrs${
          this.cycleMomentum ? ", baseMomentums, maxMomentums" : ""
        } } with one value per group in each list (what stateDict() of a CyclicLR with ` +
          `cycleMomentum: ${this.cycleMomentum} gives), got ${JSON.stringify(sd)}`,
      );
    }
    super.loadStateDict(sd);
    this.maxLrs.splice(0, this.maxLrs.length, ...(sd.maxLrs as number[]));
    if (this.cycleMomentum) {
      this.baseMomentums.splice(0, this.baseMomentums.length, ...(sd.baseMomentums as number[]));
      this.maxMomentums.splice(0, this.maxMomentums.length, ...(sd.maxMomentums as number[]));
    }
  }
}

/** The options of `CyclicLR`, checked, per group. */
function parse(optimizer: AnyOptimizer, given: number, options: CyclicLROptions) {
  const o = scheduleOptions<CyclicLROptions>("CyclicLR", given, options, KEYS, USAGE);
  const groups = optimizer?.paramGroups;
  if (!Array.isArray(groups)) {
    throw new Error(
      `optim.CyclicLR: expected an optimizer first, got ${typeof optimizer}; ${USAGE}`,
    );
  }
  const n = groups.length;
  const baseLrs = perGroup("baseLr", o.baseLr, n, undefined);
  const maxLrs = perGroup("maxLr", o.maxLr, n, undefined);
  const lastEpoch = o.lastEpoch ?? -1;
  if (typeof lastEpoch !== "number" || !Number.isInteger(lastEpoch) || lastEpoch < -1) {
    throw new Error(
      `optim.CyclicLR: lastEpoch must be an integer >= -1 (the batches already trained, or -1 ` +
        `to start), got ${JSON.stringify(o.lastEpoch)}`,
    );
  }
  const up = finiteAtLeast("CyclicLR", "stepSizeUp", o.stepSizeUp ?? 2000, 0, true);
  const down = o.stepSizeDown == null
    ? up
    : finiteAtLeast("CyclicLR", "stepSizeDown", o.stepSizeDown, 0);
  const [mode, gamma, scaleFn, scaleMode] = policy(o);
  // The first step's scaleFn, before the optimizer is touched.
  const first = lastEpoch + 1;
  scaleAt({ mode, gamma, scaleFn, scaleMode }, Math.floor(1 + first / (up + down)), first);
  const cycleMomentum = o.cycleMomentum ?? true;
  if (typeof cycleMomentum !== "boolean") {
    throw new Error(
      `optim.CyclicLR: cycleMomentum must be true or false, got ${JSON.stringify(o.cycleMomentum)}`,
    );
  }
  const baseMomentums: number[] = [], maxMomentums: number[] = [];
  if (cycleMomentum) {
    const betas = groups.every((g) => Array.isArray((g.options as { betas?: unknown }).betas));
    if (!betas && !groups.every((g) => "momentum" in g.options)) {
      // torch 1.13: "optimizer must support momentum with `cycle_momentum` option enabled"
      throw new Error(
        `optim.CyclicLR: ${optimizer.constructor.name} has no momentum or beta1 to cycle; ` +
          "pass cycleMomentum: false",
      );
    }
    const range = betas ? [0, 1] as const : undefined;
    baseMomentums.push(...perGroup("baseMomentum", o.baseMomentum ?? 0.8, n, range));
    maxMomentums.push(...perGroup("maxMomentum", o.maxMomentum ?? 0.9, n, range));
  } else {
    for (const key of ["baseMomentum", "maxMomentum"] as const) {
      if (o[key] !== undefined) {
        throw new Error(
          `optim.CyclicLR: ${key} is only used with cycleMomentum: true (torch ignores it ` +
            `here); drop it, or cycle the momentum`,
        );
      }
    }
  }
  return {
    baseLrs,
    maxLrs,
    lastEpoch,
    up,
    down,
    mode,
    gamma,
    scaleFn,
    scaleMode,
    cycleMomentum,
    baseMomentums,
    maxMomentums,
  };
}

/** One value per group (a number for all, or a list), each finite and in [lo, hi). */
function perGroup(
  key: string,
  v: unknown,
  groups: number,
  range: readonly [number, number] | undefined,
): number[] {
  const values = Array.isArray(v) ? [...v] : Array(groups).fill(v);
  if (values.length !== groups) {
    // torch: "expected 2 values for base_lr, got 1"
    throw new Error(
      `optim.CyclicLR: ${key} has ${values.length} values for ${groups} parameter groups; ` +
        "give one number, or one per group",
    );
  }
  const [lo, hi] = range ?? [0, Infinity];
  for (const x of values) {
    if (typeof x !== "number" || !Number.isFinite(x) || x < lo || x >= hi) {
      const bound = hi === Infinity ? `>= ${lo}` : `in [${lo}, ${hi}) (it is Adam's beta1)`;
      throw new Error(
        `optim.CyclicLR: ${key} must be a finite number ${bound}, or one per group, got ${
          JSON.stringify(v)
        }${v === undefined ? `; ${USAGE}` : ""}`,
      );
    }
  }
  return values;
}

/** The height factor at batch `epoch` of cycle `cycle` (torch's scale_fn). */
function scaleAt(
  p: Pick<CyclicLR, "mode" | "gamma" | "scaleFn" | "scaleMode">,
  cycle: number,
  epoch: number,
): number {
  const x = p.scaleMode === "cycle" ? cycle : epoch;
  if (p.scaleFn !== null) {
    const f = p.scaleFn(x);
    if (typeof f !== "number" || !Number.isFinite(f)) {
      throw new Error(`optim.CyclicLR: scaleFn(${x}) returned ${f}, not a finite number`);
    }
    return f;
  }
  if (p.mode === "triangular") return 1;
  if (p.mode === "triangular2") return 1 / (2 ** (x - 1));
  return p.gamma ** x;
}

/** mode, gamma, scaleFn and scaleMode, refusing the ones torch would ignore silently. */
function policy(
  o: CyclicLROptions,
): [CyclicLRMode, number, ((x: number) => number) | null, "cycle" | "iterations"] {
  const modes: CyclicLRMode[] = ["triangular", "triangular2", "exp_range"];
  const mode = o.mode ?? "triangular";
  if (!modes.includes(mode)) {
    throw new Error(
      `optim.CyclicLR: mode must be ${modes.map((m) => `"${m}"`).join(", ")}, got ${
        JSON.stringify(o.mode)
      }`,
    );
  }
  const gamma = finiteAtLeast("CyclicLR", "gamma", o.gamma ?? 1, 0, true);
  const fn = o.scaleFn ?? null;
  if (fn !== null && typeof fn !== "function") {
    throw new Error(
      `optim.CyclicLR: scaleFn must be a function of the cycle (or batch) number, got ${
        JSON.stringify(fn)
      }`,
    );
  }
  if (o.scaleMode !== undefined && o.scaleMode !== "cycle" && o.scaleMode !== "iterations") {
    throw new Error(
      `optim.CyclicLR: scaleMode must be "cycle" or "iterations", got ${
        JSON.stringify(o.scaleMode)
      }`,
    );
  }
  if (fn !== null) {
    // torch ignores mode and gamma beside a scale_fn without a word.
    if (mode !== "triangular" || gamma !== 1) {
      throw new Error(
        `optim.CyclicLR: with a scaleFn, ${
          mode !== "triangular" ? `mode "${mode}"` : `gamma ${gamma}`
        } is not used (torch ignores it); drop it, or drop scaleFn`,
      );
    }
    return [mode, gamma, fn, o.scaleMode ?? "cycle"];
  }
  const own = mode === "exp_range" ? "iterations" : "cycle";
  if (o.scaleMode !== undefined && o.scaleMode !== own) {
    throw new Error(
      `optim.CyclicLR: scaleMode is only used with a scaleFn; mode "${mode}" scales by ` +
        `${own === "cycle" ? "the cycle" : "the batch count"} (torch ignores scaleMode ` +
        `"${o.scaleMode}" here); drop it`,
    );
  }
  if (gamma !== 1 && mode !== "exp_range") {
    throw new Error(
      `optim.CyclicLR: gamma is only used with mode "exp_range" (torch ignores it with ` +
        `"${mode}"); drop it, or write mode: "exp_range"`,
    );
  }
  return [mode, gamma, null, own];
}

// torch's attribute names: each throws, naming ours.
addNameHints(CyclicLR.prototype, "CyclicLR", {
  max_lrs: "read sched.maxLrs",
  base_momentums: "read sched.baseMomentums",
  max_momentums: "read sched.maxMomentums",
  total_size: "read sched.totalSize",
  step_ratio: "read sched.stepRatio",
  scale_fn: "read sched.scaleFn",
  scale_mode: "read sched.scaleMode",
  cycle_momentum: "read sched.cycleMomentum",
});
