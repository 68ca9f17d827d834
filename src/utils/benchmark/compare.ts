/**
 * torch.utils.benchmark's `Compare`: measurements laid out as tables, one
 * per label, a row per sub-label (grouped by thread count and env) and a
 * column per description, printed as torch prints them (the same widths,
 * rounding, colours and warnings).
 *
 * @module
 */
import { Measurement } from "./measurement.ts";
import { pyCenter, pyFixed, selectUnit, trimSigfig, unitToEnglish } from "./format.ts";

const BEST = "\x1b[92m", GOOD = "\x1b[34m", BAD = "\x1b[2m\x1b[91m", VERY_BAD = "\x1b[31m";
const BOLD = "\x1b[1m", TERMINATE = "\x1b[0m";

type Colorize = "none" | "columnwise" | "rowwise";
type Cell = Measurement | null;

/** A column: its number format, set by the widest and least precise of its cells. */
class Column {
  readonly #trim: boolean;
  readonly #highlight: boolean;
  readonly #width: number;
  readonly #decimals: number;

  constructor(readonly groups: Cell[][], scale: number, trim: boolean, highlight: boolean) {
    const flat = groups.flat();
    this.#trim = trim;
    this.#highlight = highlight && flat.some((r) => r?.hasWarnings);
    const leading = flat.map((r) =>
      r ? Math.ceil(Math.fround(Math.log10(Math.fround(r.median / scale)))) : null
    );
    const unitDigits = Math.max(...leading.filter((d): d is number => d !== null));
    const decimals = trim
      ? Math.min(
        ...flat.flatMap((m, i) =>
          m && leading[i] !== null ? [Math.max(m.significantFigures - leading[i]!, 0)] : []
        ),
      )
      : 1;
    this.#decimals = decimals;
    this.#width = unitDigits + decimals + (decimals ? 1 : 0);
  }

  numToStr(value: number | null, sigfigs: number, spread: number | null): string {
    if (value === null) return " ".repeat(this.numToStr(1, sigfigs, null).length);
    const v = this.#trim ? trimSigfig(value, sigfigs) : value;
    const note = this.#highlight && spread !== null ? ` (! ${pyFixed(spread * 100, 0)}%)` : "";
    return pyFixed(v, this.#decimals).padStart(this.#width) +
      note.padStart(this.#highlight ? 7 : 0);
  }
}

/** One row: a sub-label's cells, the group (thread count) it is in, its env. */
interface Row {
  cells: Cell[];
  group: number;
  renderEnv: boolean;
  threads: number | null;
}

function colorSegment(segment: string, value: number, best: number): string {
  if (value <= best * 1.01 || value <= best + 100e-9) {
    return BEST + BOLD + segment + TERMINATE.repeat(2);
  }
  if (value <= best * 1.1) return GOOD + BOLD + segment + TERMINATE.repeat(2);
  if (value >= best * 5) return VERY_BAD + BOLD + segment + TERMINATE.repeat(2);
  if (value >= best * 2) return BAD + segment + TERMINATE.repeat(2);
  return segment;
}

const envName = (m: Measurement) => m.env ?? "Unspecified env";

/** torch's Table.render for the measurements of one label. */
function renderTable(
  results: Measurement[],
  colorize: Colorize,
  trim: boolean,
  highlight: boolean,
): string {
  const label = results[0].label;
  const [unit, scale] = selectUnit(Math.min(...results.map((r) => r.median)));
  const rowKey = (m: Measurement) => JSON.stringify([m.numThreads, m.env ?? "", m.asRowName]);
  const colKey = (m: Measurement) => m.description ?? "";
  const rowKeys = [...new Map(results.map((m) => [rowKey(m), m])).values()]
    .map((m) => ({ key: rowKey(m), threads: m.numThreads, env: m.env ?? "" }))
    .sort((a, b) => a.threads - b.threads || (a.env < b.env ? -1 : a.env > b.env ? 1 : 0));
  const colKeys = [...new Set(results.map(colKey))];
  const cells: Cell[][] = rowKeys.map(() => colKeys.map(() => null));
  const rowAt = new Map(rowKeys.map((r, i) => [r.key, i]));
  for (const r of results) cells[rowAt.get(rowKey(r))!][colKeys.indexOf(colKey(r))] = r;

  const envs = new Set(results.map(envName));
  const renderEnv = envs.size > 1;
  const envLen = renderEnv ? Math.max(...[...envs].map((e) => e.length)) : 0;

  const rows: Row[] = [];
  const byGroup: Cell[][][] = [];
  let priorThreads = -1, priorEnv = "", group = -1;
  rowKeys.forEach((k, i) => {
    const transition = k.threads !== priorThreads;
    if (transition) {
      priorThreads = k.threads;
      priorEnv = "";
      group++;
      byGroup.push([]);
    }
    rows.push({
      cells: cells[i],
      group,
      renderEnv: renderEnv && k.env !== priorEnv,
      threads: transition ? k.threads : null,
    });
    byGroup[byGroup.length - 1].push(cells[i]);
    priorEnv = k.env;
  });
  const columns = colKeys.map((_, j) =>
    new Column(byGroup.map((g) => g.map((row) => row[j])), scale, trim, highlight)
  );

  const stringRows: string[][] = [["", ...colKeys]];
  for (const row of rows) {
    const first = row.cells.find((c): c is Measurement => c !== null)!;
    const env = (row.renderEnv ? `(${envName(first)})` : "").padEnd(envLen + 4);
    stringRows.push([
      "  " + env + first.asRowName,
      ...row.cells.map((m, j) =>
        m === null ? columns[j].numToStr(null, 1, null) : columns[j].numToStr(
          m.median / scale,
          m.significantFigures,
          m.hasWarnings ? m.iqr / m.median : null,
        )
      ),
    ]);
  }
  const numCols = Math.max(...stringRows.map((r) => r.length));
  for (const r of stringRows) while (r.length < numCols) r.push("");
  const widths = stringRows[0].map((_, j) => Math.max(...stringRows.map((r) => r[j].length)));
  const header = stringRows[0].map((s, j) => pyCenter(s, widths[j])).join("  |  ");
  const lines = [header];
  rows.forEach((row, i) => {
    if (row.threads !== null) lines.push(`${row.threads} threads: `.padEnd(header.length, "-"));
    let best: (number | null)[] = row.cells.map(() => -1);
    if (colorize === "rowwise") {
      const min = Math.min(...row.cells.flatMap((c) => (c ? [c.median] : [])));
      best = row.cells.map(() => min);
    } else if (colorize === "columnwise") {
      best = columns.map((col) => {
        const ms = col.groups[row.group].flatMap((c) => (c ? [c.median] : []));
        return ms.length ? Math.min(...ms) : null;
      });
    }
    const strs = stringRows[i + 1];
    const parts = [strs[0].padEnd(widths[0])];
    for (let j = 1; j < strs.length; j++) {
      let s = pyCenter(strs[j], widths[j]);
      const m = row.cells[j - 1], b = best[j - 1];
      if (colorize !== "none" && m && b !== null && b !== undefined) {
        s = colorSegment(s, m.median, b);
      }
      parts.push(s);
    }
    lines.push(parts.join("  |  "));
  });
  const warned = highlight && results.some((r) => r.hasWarnings);
  return `[${pyCenter(` ${label ?? ""} `, header.length - 2, "-")}]\n${lines.join("\n")}\n\n` +
    `Times are in ${unitToEnglish(unit)}s (${unit}).\n` +
    (warned ? "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n" : "");
}

/**
 * Tables of measurements side by side (torch's `Compare`): one table per
 * label, rows by sub-label (grouped by thread count), columns by
 * description; replicates of one task are merged. `print()` writes them,
 * `toString()` returns them, as torch prints them.
 *
 * @example
 * ```ts
 * import { utils } from "@lits/vision";
 * const { Compare, Measurement } = utils.benchmark;
 * const m = (subLabel: string, description: string, t: number) =>
 *   new Measurement({
 *     numberPerRun: 100,
 *     rawTimes: [t, t * 1.01, t * 0.99],
 *     taskSpec: { stmt: "add(x, y)", label: "add", subLabel, description },
 *   });
 * const compare = new Compare([m("ours", "n=64", 2e-4), m("ours", "n=1024", 9e-4)]);
 * compare.trimSignificantFigures();
 * console.log(compare.toString().includes("Times are in microseconds (us).")); // true
 * ```
 */
export class Compare {
  #results: Measurement[] = [];
  #trim = false;
  #colorize: Colorize = "none";
  #highlight = false;

  /** A comparison of `results` (Measurements). */
  constructor(results: Iterable<Measurement>) {
    this.extendResults(results);
  }

  /** Adds measurements (torch's `extend_results`). */
  extendResults(results: Iterable<Measurement>): void {
    if (results === null || typeof results !== "object" || !(Symbol.iterator in results)) {
      throw new Error(
        "utils.benchmark.Compare: expects an array of Measurements, e.g. new Compare([m1, m2])",
      );
    }
    const list = [...results];
    for (const r of list as unknown[]) {
      if (!(r instanceof Measurement)) {
        throw new Error(
          `utils.benchmark.Compare: expected an instance of Measurement, got ${
            r === null
              ? "null"
              : typeof r === "object"
              ? (r as object).constructor?.name ?? "object"
              : typeof r
          } instead (pass what timer.blockedAutorange() returns)`,
        );
      }
    }
    this.#results.push(...list);
  }

  /** Rounds each cell to its estimated significant figures (torch's `trim_significant_figures`). */
  trimSignificantFigures(): void {
    this.#trim = true;
  }

  /** Colours the best and worst cells, per column or per row (torch's `colorize(rowwise)`). */
  colorize(rowwise = false): void {
    this.#colorize = rowwise ? "rowwise" : "columnwise";
  }

  /** Marks cells whose IQR is above 10% of the median (torch's `highlight_warnings`). */
  highlightWarnings(): void {
    this.#highlight = true;
  }

  /** The tables, as torch's `str(compare)`. */
  toString(): string {
    const merged = Measurement.merge(this.#results);
    const byLabel = new Map<string | null, Measurement[]>();
    for (const m of merged) {
      const g = byLabel.get(m.label) ?? [];
      g.push(m);
      byLabel.set(m.label, g);
    }
    return [...byLabel.values()]
      .map((g) => renderTable(g, this.#colorize, this.#trim, this.#highlight))
      .join("\n");
  }

  /** Prints the tables (torch's `print()`). */
  print(): void {
    console.log(this.toString());
  }

  /** Deno's console.log shows the tables. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}
