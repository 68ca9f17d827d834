/**
 * The number formatting of torch.utils.benchmark, reproduced digit for
 * digit: torch computes units and rounding on float32 tensors (so
 * `Math.fround` appears where torch makes a tensor) and prints with
 * Python's `format`, which rounds exact ties to the even digit and centres
 * strings with its own odd-padding rule.
 *
 * @module
 */

/** A time unit of the printouts. */
export type TimeUnit = "ns" | "us" | "ms" | "s";

const UNITS: Record<number, TimeUnit> = { [-3]: "ns", [-2]: "us", [-1]: "ms" };
const SCALES: Record<TimeUnit, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1 };
const ENGLISH: Record<TimeUnit, string> = {
  ns: "nanosecond",
  us: "microsecond",
  ms: "millisecond",
  s: "second",
};

/**
 * The unit a time in seconds is printed in, and its size in seconds
 * (torch's `select_unit`): ns below 1 us, us below 1 ms, ms below 1 s, else
 * s (as torch, also below 1 ns).
 *
 * @example
 * ```ts
 * import { utils } from "@lits/vision";
 * console.log(utils.benchmark.selectUnit(2.5e-5)); // ["us", 0.000001]
 * ```
 */
export function selectUnit(t: number): [TimeUnit, number] {
  // torch takes log10 of a float32 tensor: 1e-6 becomes 9.99999997e-7, whose
  // float32 log10 is exactly -6 (us); in float64 it would be ns.
  const k = Math.floor(Math.fround(Math.log10(Math.fround(t))) / 3);
  const unit = UNITS[k] ?? "s";
  return [unit, SCALES[unit]];
}

/**
 * A unit's English name (torch's `unit_to_english`).
 *
 * @example
 * ```ts
 * import { utils } from "@lits/vision";
 * console.log(utils.benchmark.unitToEnglish("us")); // "microsecond"
 * ```
 */
export function unitToEnglish(u: TimeUnit): string {
  return ENGLISH[u];
}

/** Rounds half to even, as torch's `round`. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `x` kept to `n` significant figures (torch's `trim_sigfig`, computed in
 * float32 as torch does): 3.14159 with 2 gives 3.1 (as float32).
 *
 * @example
 * ```ts
 * import { utils } from "@lits/vision";
 * console.log(utils.benchmark.trimSigfig(1234.5678, 3)); // 1230
 * ```
 */
export function trimSigfig(x: number, n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`trimSigfig: n must be an integer >= 1 (significant figures), got ${n}`);
  }
  const magnitude = Math.ceil(Math.fround(Math.log10(Math.abs(Math.fround(x)))));
  const scale = Number(`1e${magnitude - n}`); // Python's 10 ** k, correctly rounded
  const r = roundHalfEven(Math.fround(x / scale));
  return Math.fround(r * Math.fround(scale));
}

/**
 * @internal Python's `format(x, ".{digits}f")`: JavaScript's toFixed rounds an
 * exact tie (0.125 to 2 digits) away from zero, Python to the even digit.
 */
export function pyFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const plain = x.toFixed(digits);
  if (Math.abs(x) >= 1e21) return plain;
  const exact = Math.abs(x).toFixed(100); // the double's exact decimal expansion
  const dot = exact.indexOf(".");
  if (!/^50*$/.test(exact.slice(dot + 1 + digits))) return plain;
  const kept = exact.slice(0, digits === 0 ? dot : dot + 1 + digits);
  if (Number(kept.at(-1)) % 2 !== 0) return plain; // rounding up reaches the even digit
  return (x < 0 || Object.is(x, -0) ? "-" : "") + kept;
}

/** @internal Python's `str.center(width, fill)`: an odd margin puts the extra space by its rule. */
export function pyCenter(s: string, width: number, fill = " "): string {
  const margin = width - s.length;
  if (margin <= 0) return s;
  const left = Math.floor(margin / 2) + (margin & width & 1);
  return fill.repeat(left) + s + fill.repeat(margin - left);
}

/** @internal Python's `textwrap.indent(text, prefix)`: lines of only whitespace stay bare. */
export function indent(text: string, prefix: string): string {
  return text.split(/(?<=\n)/).map((l) => (l.trim() === "" ? l : prefix + l)).join("");
}

/** @internal Python's `textwrap.dedent`: removes the indentation every non-blank line shares. */
export function dedent(text: string): string {
  const lines = text.split("\n");
  let common: string | null = null;
  for (const l of lines) {
    if (l.trim() === "") continue;
    const lead = l.match(/^[ \t]*/)![0];
    if (common === null) common = lead;
    else {
      let i = 0;
      while (i < common.length && i < lead.length && common[i] === lead[i]) i++;
      common = common.slice(0, i);
    }
  }
  const cut = common?.length ?? 0;
  return lines.map((l) => (l.trim() === "" ? "" : l.slice(cut))).join("\n");
}
