/**
 * torch.utils.benchmark's `TaskSpec` and `Measurement`: what was timed and
 * the times, with torch's statistics (median and quartiles by linear
 * interpolation, as `torch.quantile`; significant figures from the
 * interquartile points, in float32 as torch computes them) and its
 * printout.
 *
 * @module
 */
import { dedent, indent, pyFixed, selectUnit } from "./format.ts";

/** What a Timer measured (torch's `TaskSpec`, camelCased): the text of stmt and setup, and the labels. */
export interface TaskSpec {
  /** The statement's text (for a function, its body). */
  readonly stmt: string;
  /** The setup's text ("" or "pass": none). */
  readonly setup?: string;
  /** Summarizes stmt in printouts and names a Compare table. */
  readonly label?: string | null;
  /** Tells measurements of one label apart (a Compare row). */
  readonly subLabel?: string | null;
  /** A Compare column (an input size, say). */
  readonly description?: string | null;
  /** Marks otherwise identical tasks run in different environments (A/B runs). */
  readonly env?: string | null;
  /** The CPU threads the statement ran with (default 1, as torch's). */
  readonly numThreads?: number;
}

/** A TaskSpec with every field present. */
export type FullTaskSpec = { readonly [K in keyof TaskSpec]-?: TaskSpec[K] };

/** @internal fills the optional fields with torch's defaults. */
export function fullSpec(s: TaskSpec): FullTaskSpec {
  return {
    stmt: s.stmt,
    setup: s.setup ?? "",
    label: s.label ?? null,
    subLabel: s.subLabel ?? null,
    description: s.description ?? null,
    env: s.env ?? null,
    numThreads: s.numThreads ?? 1,
  };
}

/** torch's `TaskSpec.title`: the label, else a one-line stmt, else the stmt indented. */
function title(s: FullTaskSpec): string {
  const sub = s.subLabel ? `: ${s.subLabel}` : "";
  if (s.label !== null) return s.label + sub;
  if (!s.stmt.includes("\n")) return s.stmt + sub;
  return `stmt:${s.subLabel ? ` (${s.subLabel})` : ""}\n${indent(s.stmt, "  ")}`;
}

function setupText(s: FullTaskSpec): string {
  if (s.setup === "pass" || !s.setup) return "";
  return s.setup.includes("\n") ? `setup:\n${indent(s.setup, "  ")}` : `setup: ${s.setup}`;
}

/** torch's `TaskSpec.summarize`. */
function summarize(s: FullTaskSpec): string {
  return [title(s), s.description ?? "", setupText(s)]
    .filter((x) => x)
    .map((x) => (x.includes("\n") ? `${x}\n` : x))
    .join("\n");
}

/** torch.quantile's linear interpolation on sorted values (its lerp, for equal bits). */
function quantile(sorted: readonly number[], q: number): number {
  const rank = q * (sorted.length - 1);
  const lo = Math.trunc(rank), w = rank - lo;
  const a = sorted[lo], b = sorted[Math.ceil(rank)];
  return w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

const MAX_SIGNIFICANT_FIGURES = 4;
const MIN_CONFIDENCE_INTERVAL = 25e-9;
const IQR_WARN_THRESHOLD = 0.1;
const IQR_GROSS_WARN_THRESHOLD = 0.25;

/** The fields of a Measurement (torch's constructor arguments, camelCased). */
export interface MeasurementInit {
  /** How many times stmt ran in each timed block. */
  numberPerRun: number;
  /** Each block's total time in seconds. */
  rawTimes: readonly number[];
  /** What was timed. */
  taskSpec: TaskSpec;
  /** Anything of yours to keep with it (not used). */
  metadata?: Record<string, unknown> | null;
}

/**
 * The result of a Timer measurement (torch's `Measurement`): the time of
 * each block of runs, and statistics per run (`times` are the block times
 * divided by `numberPerRun`). `console.log` and `toString()` print it as
 * torch does.
 *
 * @example
 * ```ts
 * import { utils } from "@lits/vision";
 * const m = new utils.benchmark.Measurement({
 *   numberPerRun: 10,
 *   rawTimes: [1e-5, 1.1e-5, 1.2e-5, 0.9e-5],
 *   taskSpec: { stmt: "x + 1" },
 * });
 * console.log(m.times.length, m.numberPerRun, m.iqr > 0); // 4 10 true
 * console.log(m.toString().split("\n")[2]); // "  Median: 1.05 us"
 * ```
 */
export class Measurement {
  /** How many times stmt ran in each block. */
  readonly numberPerRun: number;
  /** Each block's total time in seconds. */
  readonly rawTimes: readonly number[];
  /** What was timed, with torch's defaults filled in. */
  readonly taskSpec: FullTaskSpec;
  /** Yours to fill (torch's `metadata`). */
  metadata: Record<string, unknown> | null;
  #sorted: number[] | null = null;
  #median = -1;
  #mean = -1;
  #p25 = -1;
  #p75 = -1;
  #warnings: string[] = [];

  /** A measurement from block times; see MeasurementInit. */
  constructor(init: MeasurementInit) {
    const where = "utils.benchmark.Measurement";
    if (init === null || typeof init !== "object" || Array.isArray(init)) {
      throw new Error(
        `${where}: takes one options object; write new Measurement({ numberPerRun: 10, ` +
          `rawTimes: [1e-5, 1.1e-5], taskSpec: { stmt: "x + 1" } })`,
      );
    }
    const { numberPerRun, rawTimes, taskSpec } = init;
    if (!Number.isInteger(numberPerRun) || numberPerRun < 1) {
      throw new Error(`${where}: numberPerRun must be an integer >= 1, got ${numberPerRun}`);
    }
    if (!Array.isArray(rawTimes) || rawTimes.some((t) => typeof t !== "number" || !(t >= 0))) {
      throw new Error(`${where}: rawTimes must be an array of times in seconds (numbers >= 0)`);
    }
    if (taskSpec === null || typeof taskSpec !== "object" || typeof taskSpec.stmt !== "string") {
      throw new Error(
        `${where}: taskSpec must be an object with stmt text, e.g. { stmt: "x + 1" }`,
      );
    }
    this.numberPerRun = numberPerRun;
    this.rawTimes = [...rawTimes];
    this.taskSpec = fullSpec(taskSpec);
    this.metadata = init.metadata ?? null;
  }

  /** The time of one run of stmt in each block (seconds). */
  get times(): number[] {
    return this.rawTimes.map((t) => t / this.numberPerRun);
  }

  #init(): void {
    if (this.#sorted !== null || this.rawTimes.length === 0) return;
    const sorted = this.times.sort((a, b) => a - b);
    this.#sorted = sorted;
    this.#median = quantile(sorted, 0.5);
    this.#mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    this.#p25 = quantile(sorted, 0.25);
    this.#p75 = quantile(sorted, 0.75);
    const warn = (msg: string) => {
      const rel = (this.iqr / this.median) * 100;
      this.#warnings.push(
        `  WARNING: Interquartile range is ${pyFixed(rel, 1)}% of the median measurement.\n` +
          `           ${msg}`,
      );
    };
    if (!this.meetsConfidence(IQR_GROSS_WARN_THRESHOLD)) {
      warn("This suggests significant environmental influence.");
    } else if (!this.meetsConfidence(IQR_WARN_THRESHOLD)) {
      warn("This could indicate system fluctuation.");
    }
  }

  /** The median time of one run (seconds). */
  get median(): number {
    this.#init();
    return this.#median;
  }

  /** The mean time of one run (seconds). */
  get mean(): number {
    this.#init();
    return this.#mean;
  }

  /** The interquartile range of the times (seconds). */
  get iqr(): number {
    this.#init();
    return this.#p75 - this.#p25;
  }

  /**
   * A rough count of trustworthy digits of the median, from 1 to 4, as
   * torch estimates it: a 90% confidence interval from the spread of the
   * interquartile times.
   */
  get significantFigures(): number {
    this.#init();
    const sorted = this.#sorted ?? [];
    const n = sorted.length;
    const points = sorted.slice(Math.floor(n / 4), Math.ceil(Math.fround((3 * n) / 4)));
    // torch: a float32 tensor's std (accumulated in float64), and sqrt of an int tensor
    const xs = points.map(Math.fround);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
    const std = Math.fround(Math.sqrt(variance));
    const sqrtN = Math.fround(Math.sqrt(xs.length));
    const ci = Math.max((1.645 * std) / sqrtN, MIN_CONFIDENCE_INTERVAL);
    const relative = Math.fround(Math.log10(Math.fround(this.#median / ci)));
    return Math.min(Math.max(Math.floor(relative), 1), MAX_SIGNIFICANT_FIGURES);
  }

  /** Whether the spread is large enough for a warning (IQR above 10% of the median). */
  get hasWarnings(): boolean {
    this.#init();
    return this.#warnings.length > 0;
  }

  /** Whether IQR / median is below `threshold` (default 0.1). */
  meetsConfidence(threshold = IQR_WARN_THRESHOLD): boolean {
    return this.iqr / this.median < threshold;
  }

  /** The task's title: its label (and sub-label), else its stmt. */
  get title(): string {
    return title(this.taskSpec);
  }

  /** The stmt's text. */
  get stmt(): string {
    return this.taskSpec.stmt;
  }

  /** The setup's text. */
  get setup(): string {
    return this.taskSpec.setup;
  }

  /** The label, or null. */
  get label(): string | null {
    return this.taskSpec.label;
  }

  /** The sub-label, or null. */
  get subLabel(): string | null {
    return this.taskSpec.subLabel;
  }

  /** The description, or null. */
  get description(): string | null {
    return this.taskSpec.description;
  }

  /** The env tag, or null. */
  get env(): string | null {
    return this.taskSpec.env;
  }

  /** The CPU threads it ran with. */
  get numThreads(): number {
    return this.taskSpec.numThreads;
  }

  /** The name of its row in a Compare table: the sub-label, else the stmt. */
  get asRowName(): string {
    return this.taskSpec.subLabel || this.taskSpec.stmt || "[Unknown]";
  }

  /**
   * Replicates of the same task merged into one measurement each (torch's
   * `Measurement.merge`): times per run, numberPerRun 1, no metadata.
   *
   * @example
   * ```ts
   * import { utils } from "@lits/vision";
   * const { Measurement } = utils.benchmark;
   * const a = new Measurement({ numberPerRun: 2, rawTimes: [4e-6], taskSpec: { stmt: "f()" } });
   * const b = new Measurement({ numberPerRun: 1, rawTimes: [3e-6], taskSpec: { stmt: "f()" } });
   * console.log(Measurement.merge([a, b])[0].times); // [0.000002, 0.000003]
   * ```
   */
  static merge(measurements: Iterable<Measurement>): Measurement[] {
    const groups = new Map<string, { spec: FullTaskSpec; times: number[] }>();
    for (const m of measurements) {
      const key = specKey(m.taskSpec);
      const g = groups.get(key) ?? { spec: m.taskSpec, times: [] };
      g.times.push(...m.times);
      groups.set(key, g);
    }
    return [...groups.values()].map((g) =>
      new Measurement({ numberPerRun: 1, rawTimes: g.times, taskSpec: g.spec })
    );
  }

  /** The printout of torch's repr, its first line naming this class. */
  toString(): string {
    this.#init();
    const n = this.#sorted?.length ?? 0;
    const [unit, scale] = selectUnit(this.#median);
    const v = (x: number) => pyFixed(x / scale, 2);
    const threads = this.taskSpec.numThreads;
    const lines = [
      "<utils.benchmark.Measurement object>",
      summarize(this.taskSpec),
      `  ${n > 1 ? "Median: " : ""}${v(this.#median)} ${unit}`,
      ...(n >= 4 ? [`  IQR:    ${v(this.iqr)} ${unit} (${v(this.#p25)} to ${v(this.#p75)})`] : []),
      `  ${n} measurement${n > 1 ? "s" : ""}, ${this.numberPerRun} runs ` +
      `${n > 1 ? "per measurement," : ","} ${threads} thread${threads > 1 ? "s" : ""}`,
      this.#warnings.join("\n"),
    ];
    return lines.join("\n").trim();
  }

  /** Deno's console.log shows the printout. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/** @internal equal keys: the same task (torch compares TaskSpec dataclasses). */
export function specKey(s: FullTaskSpec): string {
  return JSON.stringify([s.stmt, s.setup, s.label, s.subLabel, s.description, s.env, s.numThreads]);
}

/** @internal the text a function shows as stmt/setup: an arrow's body, dedented. */
export function functionText(fn: (...a: never[]) => unknown): string {
  const src = Function.prototype.toString.call(fn);
  const arrow = src.match(/^(?:async\s*)?\(\s*\)\s*=>\s*([\s\S]*)$/);
  if (!arrow) return src;
  let body = arrow[1].trim();
  if (body.startsWith("{") && body.endsWith("}")) {
    body = dedent(body.slice(1, -1));
    body = (body.startsWith("\n") ? body.slice(1) : body).trimEnd();
    return body.trim() === "" ? "pass" : body;
  }
  return body;
}
