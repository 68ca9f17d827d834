/**
 * PyTorch's `torch.utils.benchmark`: `Timer` times code with torch's
 * warm-up, block sizing and thread count, `Measurement` holds the times
 * with torch's statistics and printout, and `Compare` prints tables of
 * measurements, so timings of this library and of PyTorch read alike.
 *
 * @example
 * ```ts
 * import { randn, utils } from "@lits/vision";
 * const { Compare, Timer } = utils.benchmark;
 * const x = randn([32, 32]);
 * const results = [1, 2].map((numThreads) =>
 *   new Timer({ stmt: () => x.matmul(x), label: "matmul", description: "32x32", numThreads })
 *     .blockedAutorange({ minRunTime: 0.02 })
 * );
 * console.log(new Compare(results).toString().startsWith("[")); // true
 * ```
 *
 * @module
 */
export {
  type AdaptiveAutorangeOptions,
  type BlockedAutorangeOptions,
  Timer,
  type TimerCallback,
  type TimerOptions,
} from "./timer.ts";
export {
  type FullTaskSpec,
  Measurement,
  type MeasurementInit,
  type TaskSpec,
} from "./measurement.ts";
export { Compare } from "./compare.ts";
export { selectUnit, type TimeUnit, trimSigfig, unitToEnglish } from "./format.ts";
