/**
 * torch.utils.benchmark's `Timer`, with torch's algorithms: `timeit(n)`
 * warms up with n/100 runs and times one block of n; `blockedAutorange`
 * picks the block size (runs per timed block) by growing it tenfold until
 * the clock's own cost is under 0.01% of a block, then times blocks until
 * `minRunTime` is spent; `adaptiveAutorange` times blocks until the IQR is
 * within `threshold` of the median.
 *
 * Differences from torch, each for a reason:
 * - `stmt` and `setup` are functions, not Python source: closures replace
 *   torch's `globals`. As in torch's timeit, `setup` runs (untimed) before
 *   each timed block.
 * - Each call of `stmt` runs in a `scope`: the tensors it makes are freed
 *   when it returns, as PyTorch frees a result nobody holds (else a loop of
 *   a million ops would hold a million results).
 * - The clock is `performance.now()`; while device "cuda" is open, it first
 *   waits for the GPU (`synchronize("cuda")`), as torch's clock does.
 *
 * @module
 */
import { fullSpec, type FullTaskSpec, functionText, Measurement } from "./measurement.ts";
import { scope } from "../../tensor/ownership.ts";
import { getNumThreads, MAX_NUM_THREADS, setNumThreads } from "../../tensor/threads.ts";
import { synchronize } from "../../tensor/device.ts";
import { cudaOpened } from "../../ffi/native.ts";

/** The options of `new Timer(...)`: torch's keywords, camelCased. */
export interface TimerOptions {
  /** The code to time, called with no arguments (default: nothing). */
  stmt?: () => unknown;
  /** Runs before each timed block, untimed (default: nothing). */
  setup?: () => unknown;
  /**
   * The clock, in seconds (torch's `timer`). Default: `performance.now()`
   * in seconds, after `synchronize("cuda")` while CUDA is in use. A custom
   * clock is used as it is (no synchronisation), as in torch.
   */
  timer?: () => number;
  /** Summarizes stmt in printouts and names a Compare table. */
  label?: string;
  /** Tells measurements of one label apart (a Compare row). */
  subLabel?: string;
  /** A Compare column (an input size, say). */
  description?: string;
  /** Tags tasks run in different environments (A/B runs). */
  env?: string;
  /** CPU threads while timing (`setNumThreads`, restored after); default 1, as torch's. */
  numThreads?: number;
}

/** What a block-timing method calls after each block: (runs per block, seconds). */
export type TimerCallback = (numberPerRun: number, seconds: number) => void;

/** Options of `blockedAutorange`. */
export interface BlockedAutorangeOptions {
  /** Seconds of timed blocks to collect at least (default 0.2). */
  minRunTime?: number;
  /** Called after each timed block. */
  callback?: TimerCallback;
}

/** Options of `adaptiveAutorange`. */
export interface AdaptiveAutorangeOptions {
  /** Stop once IQR / median is below this (default 0.1). */
  threshold?: number;
  /** Seconds of timed blocks to collect at least (default 0.01). */
  minRunTime?: number;
  /** Stop after this many seconds even when unsure (default 10). */
  maxRunTime?: number;
  /** Called after each timed block. */
  callback?: TimerCallback;
}

const WHERE = "utils.benchmark.Timer";
const USAGE = 'new utils.benchmark.Timer({ stmt: () => mm(x, y), label: "mm" })';
const TIMER_KEYS = [
  "stmt",
  "setup",
  "timer",
  "label",
  "subLabel",
  "description",
  "env",
  "numThreads",
];
const REFUSED: Record<string, string> = {
  globals: "closures replace torch's globals: write stmt: () => mm(x, y), with x and y in scope",
  global_setup: "C++ timing is not available: put the code in setup: () => { ... }",
  globalSetup: "C++ timing is not available: put the code in setup: () => { ... }",
  language: "only JavaScript functions are timed here (torch's language='python'/'cpp')",
};
const AsyncFunction = (async () => {}).constructor;

/** Throws for snake_case, refused and unknown keys of an options object. */
function checkKeys(where: string, o: object, known: readonly string[], usage: string): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    if (k in REFUSED && where === WHERE) throw new Error(`${where}: ${k}: ${REFUSED[k]}`);
    const camel = k.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    throw new Error(
      known.includes(camel)
        ? `${where}: unknown option '${k}'; torch's ${k} is written ${camel} here: ${usage}`
        : `${where}: unknown option '${k}' (options: ${known.join(", ")}); ${usage}`,
    );
  }
}

function positive(where: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) {
    throw new Error(`${where}: ${name} must be a number of seconds > 0, got ${String(v)}`);
  }
  return v;
}

function optionsObject(where: string, o: unknown, usage: string): Record<string, unknown> {
  if (o === undefined) return {};
  if (o === null || typeof o !== "object" || Array.isArray(o)) {
    throw new Error(`${where}: takes an options object, got ${String(o)}; write ${usage}`);
  }
  return o as Record<string, unknown>;
}

function checkCallback(where: string, cb: unknown): TimerCallback | undefined {
  if (cb !== undefined && typeof cb !== "function") {
    throw new Error(`${where}: callback must be a function (numberPerRun, seconds) => void`);
  }
  return cb as TimerCallback | undefined;
}

/** performance.now() in seconds, waiting for the GPU first while CUDA is in use. */
function defaultClock(): number {
  if (cudaOpened()) synchronize("cuda");
  return performance.now() / 1000;
}

/**
 * Times code the way torch.utils.benchmark.Timer does, so that timings of
 * ours and PyTorch's compare like for like: the same warm-up, block sizing,
 * thread count (1 by default) and statistics (see the module doc).
 *
 * @example
 * ```ts
 * import { randn, utils } from "@lits/vision";
 * const x = randn([64, 64]);
 * const timer = new utils.benchmark.Timer({ stmt: () => x.matmul(x), label: "matmul" });
 * const m = timer.blockedAutorange({ minRunTime: 0.05 });
 * console.log(m.median > 0, m.numThreads); // true 1
 * ```
 */
export class Timer {
  readonly #stmt: () => unknown;
  readonly #setup: () => unknown;
  readonly #clock: () => number;
  readonly #spec: FullTaskSpec;

  /** A timer of `options.stmt`; see TimerOptions. */
  constructor(options: TimerOptions = {}) {
    if (typeof options === "string" || typeof options === "function") {
      throw new Error(
        `${WHERE}: takes an options object with stmt as a function (torch's stmt string is ` +
          `Python code); write ${USAGE}`,
      );
    }
    const o = optionsObject(WHERE, options, USAGE);
    checkKeys(WHERE, o, TIMER_KEYS, USAGE);
    const fn = (name: "stmt" | "setup"): (() => unknown) | undefined => {
      const f = o[name];
      if (f === undefined) return undefined;
      if (typeof f === "string") {
        throw new Error(
          `${WHERE}: ${name} must be a function; torch's ${name} string is Python code: write ` +
            `${name}: () => ${name === "stmt" ? "mm(x, y)" : "{ x = randn([64, 64]); }"}`,
        );
      }
      if (typeof f !== "function") {
        throw new Error(`${WHERE}: ${name} must be a function, got ${typeof f}; ${USAGE}`);
      }
      if (f instanceof AsyncFunction) {
        throw new Error(
          `${WHERE}: ${name} is an async function; the Timer times synchronous code, as torch's ` +
            `(await the data before, and time the synchronous work)`,
        );
      }
      if (f.length > 0) {
        throw new Error(
          `${WHERE}: ${name} is called with no arguments but declares ${f.length}; close over ` +
            `the values instead (torch's globals): ${name}: () => mm(x, y)`,
        );
      }
      return f as () => unknown;
    };
    const stmt = fn("stmt"), setup = fn("setup");
    if (o.timer !== undefined && typeof o.timer !== "function") {
      throw new Error(
        `${WHERE}: timer must be a function returning seconds, e.g. () => performance.now() / 1000`,
      );
    }
    for (const k of ["label", "subLabel", "description", "env"]) {
      if (o[k] !== undefined && o[k] !== null && typeof o[k] !== "string") {
        throw new Error(`${WHERE}: ${k} must be a string, got ${typeof o[k]}`);
      }
    }
    const threads = o.numThreads ?? 1;
    if (
      !Number.isInteger(threads) || (threads as number) < 1 || (threads as number) > MAX_NUM_THREADS
    ) {
      throw new Error(
        `${WHERE}: numThreads must be an integer from 1 to ${MAX_NUM_THREADS} (the CPU threads ` +
          `while timing), got ${String(threads)}`,
      );
    }
    this.#stmt = stmt ?? (() => {});
    this.#setup = setup ?? (() => {});
    this.#clock = (o.timer as (() => number) | undefined) ?? defaultClock;
    this.#spec = fullSpec({
      stmt: stmt ? functionText(stmt) : "pass",
      setup: setup ? functionText(setup) : "pass",
      label: o.label as string | undefined,
      subLabel: o.subLabel as string | undefined,
      description: o.description as string | undefined,
      env: o.env as string | undefined,
      numThreads: threads as number,
    });
  }

  /** Runs `fn` with the task's thread count, restoring the previous count after. */
  #withThreads<T>(fn: () => T): T {
    const prior = getNumThreads();
    setNumThreads(this.#spec.numThreads);
    try {
      return fn();
    } finally {
      setNumThreads(prior);
    }
  }

  /** One call of stmt, its tensors freed when it returns. */
  #call(): void {
    scope(this.#once);
  }

  /** stmt, refusing a Promise (made once: no closure per call). */
  readonly #once = (): void => {
    {
      const r = this.#stmt();
      if (
        r !== null && typeof r === "object" &&
        typeof (r as PromiseLike<unknown>).then === "function"
      ) {
        Promise.resolve(r).catch(() => {}); // refused below; its rejection is not the news
        throw new Error(
          `${WHERE}: stmt returned a Promise; the Timer times synchronous code, as torch's ` +
            `(time the synchronous work, or await outside the timed function)`,
        );
      }
    }
  };

  /** setup, then `number` calls of stmt between two clock readings; at least 1 ns, as torch. */
  #timeit(number: number): number {
    this.#setup();
    const t0 = this.#clock();
    for (let i = 0; i < number; i++) this.#call();
    const t1 = this.#clock();
    if (typeof t0 !== "number" || typeof t1 !== "number" || Number.isNaN(t1 - t0)) {
      throw new Error(`${WHERE}: timer must return a number of seconds, got ${String(t1)}`);
    }
    return Math.max(t1 - t0, 1e-9);
  }

  /**
   * Runs stmt `number` times in one timed block, after a warm-up of
   * number/100 runs (at least 2), as torch's `timeit`. Default 1,000,000.
   *
   * @example
   * ```ts
   * import { utils } from "@lits/vision";
   * const m = new utils.benchmark.Timer({ stmt: () => Math.sqrt(2) }).timeit(1000);
   * console.log(m.numberPerRun, m.rawTimes.length); // 1000 1
   * ```
   */
  timeit(number = 1_000_000): Measurement {
    if (!Number.isInteger(number) || number < 1) {
      throw new Error(
        `${WHERE}.timeit: number must be an integer >= 1 (runs of stmt), got ${String(number)}; ` +
          `write timer.timeit(100)`,
      );
    }
    return this.#withThreads(() => {
      this.#timeit(Math.max(Math.floor(number / 100), 2));
      return this.#measurement(number, [this.#timeit(number)]);
    });
  }

  #measurement(numberPerRun: number, rawTimes: number[]): Measurement {
    return new Measurement({ numberPerRun, rawTimes, taskSpec: this.#spec });
  }

  /**
   * torch's `_estimate_block_size` (also the warm-up): the clock's cost is
   * the median of 5 empty blocks; the block grows tenfold until that cost
   * is at most 0.01% of it and it takes minRunTime/1000, or until it alone
   * takes minRunTime.
   */
  #blockSize(minRunTime: number): number {
    const empty = Array.from({ length: 5 }, () => this.#timeit(0)).sort((a, b) => a - b);
    const overhead = Math.fround(empty[2]); // torch's median of a float32 tensor
    let number = 1;
    for (;;) {
      const taken = this.#timeit(number);
      if (overhead / taken <= 1e-4 && taken >= minRunTime / 1000) break;
      if (taken > minRunTime) break;
      if (number * 10 > 2147483647) break;
      number *= 10;
    }
    return number;
  }

  /** torch's `_threaded_measurement_loop`. */
  #loop(
    number: number,
    stop: (times: number[]) => boolean,
    minRunTime: number,
    maxRunTime: number | null,
    callback?: TimerCallback,
  ): number[] {
    let total = 0, canStop = false;
    const times: number[] = [];
    while (total < minRunTime || !canStop) {
      const spent = this.#timeit(number);
      times.push(spent);
      total += spent;
      callback?.(number, spent);
      canStop = stop(times);
      if (maxRunTime !== null && total > maxRunTime) break;
    }
    return times;
  }

  /**
   * Times blocks of runs until `minRunTime` seconds (default 0.2) are
   * spent, the block size chosen so the clock's cost is negligible (torch's
   * `blocked_autorange`).
   *
   * @example
   * ```ts
   * import { utils } from "@lits/vision";
   * const timer = new utils.benchmark.Timer({ stmt: () => [3, 1, 2].sort() });
   * const m = timer.blockedAutorange({ minRunTime: 0.02 });
   * console.log(m.times.length >= 1, m.numberPerRun >= 1); // true true
   * ```
   */
  blockedAutorange(options?: BlockedAutorangeOptions): Measurement {
    const where = `${WHERE}.blockedAutorange`;
    const usage = "timer.blockedAutorange({ minRunTime: 1 })";
    if (typeof options === "number" || typeof options === "function") {
      throw new Error(
        `${where}: takes an options object (torch's first positional argument is callback); ` +
          `write ${usage}`,
      );
    }
    const o = optionsObject(where, options, usage);
    checkKeys(where, o, ["minRunTime", "callback"], usage);
    const minRunTime = positive(where, "minRunTime", o.minRunTime, 0.2);
    const callback = checkCallback(where, o.callback);
    return this.#withThreads(() => {
      const number = this.#blockSize(minRunTime);
      const times = this.#loop(number, () => true, minRunTime, null, callback);
      return this.#measurement(number, times);
    });
  }

  /**
   * Times blocks until the IQR is below `threshold` (default 0.1) of the
   * median, after at least 4 blocks and `minRunTime` (0.01 s), at most
   * `maxRunTime` (10 s); the block size is chosen as blockedAutorange's
   * with 0.05 s (torch's `adaptive_autorange`). A number is the threshold,
   * as torch's first positional argument.
   *
   * @example
   * ```ts
   * import { utils } from "@lits/vision";
   * const timer = new utils.benchmark.Timer({ stmt: () => [3, 1, 2].sort() });
   * const m = timer.adaptiveAutorange({ threshold: 0.5, maxRunTime: 0.5 });
   * console.log(m.times.length >= 1); // true
   * ```
   */
  adaptiveAutorange(options?: AdaptiveAutorangeOptions | number): Measurement {
    const where = `${WHERE}.adaptiveAutorange`;
    const usage = "timer.adaptiveAutorange({ threshold: 0.1, maxRunTime: 10 })";
    const o = typeof options === "number"
      ? { threshold: options }
      : optionsObject(where, options, usage);
    checkKeys(where, o, ["threshold", "minRunTime", "maxRunTime", "callback"], usage);
    const threshold = positive(where, "threshold", o.threshold, 0.1);
    const minRunTime = positive(where, "minRunTime", o.minRunTime, 0.01);
    const maxRunTime = positive(where, "maxRunTime", o.maxRunTime, 10);
    const callback = checkCallback(where, o.callback);
    return this.#withThreads(() => {
      const number = this.#blockSize(0.05);
      const stop = (times: number[]) =>
        times.length > 3 && this.#measurement(number, times).meetsConfidence(threshold);
      return this.#measurement(number, this.#loop(number, stop, minRunTime, maxRunTime, callback));
    });
  }

  /** torch's `repeat` is not offered (by torch either): use blockedAutorange. */
  repeat(): never {
    throw new Error(`${WHERE}.repeat: not available, as in torch; use timer.blockedAutorange()`);
  }

  /** torch's `autorange` is not offered (by torch either): use blockedAutorange. */
  autorange(): never {
    throw new Error(`${WHERE}.autorange: not available, as in torch; use timer.blockedAutorange()`);
  }

  /** Instruction counts under Callgrind are not available here. */
  collectCallgrind(): never {
    throw new Error(
      `${WHERE}.collectCallgrind: Callgrind instruction counts are not available; time with ` +
        `timer.blockedAutorange() (or run deno under valgrind yourself)`,
    );
  }
}
