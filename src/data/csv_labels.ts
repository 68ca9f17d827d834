// deno-lint-ignore-file no-import-prefix -- a pinned npm parser; deno.json has no import map
/**
 * The course's label files (`train_classes.csv`, ...): one row per slice with
 * at least `filename`, `liver_visible` and `lesion_visible`; other columns
 * (a pandas index, patient ids) are ignored.
 *
 * @module
 */
// @ts-types="./csv_parse.d.ts"
import { parse } from "npm:csv-parse@6/sync";
import type { LiTSLabel } from "./types.ts";

/** One validated row of a labels CSV. */
export interface LabelRow {
  /** Path of the image relative to the split folder. */
  filename: string;
  /** Whether liver is visible in the slice. */
  liver: boolean;
  /** Whether a lesion is visible in the slice. */
  lesion: boolean;
  /** 0 = no liver, 1 = liver, 2 = liver + lesion. */
  label: LiTSLabel;
  /** 1-based line of the CSV file the row ends on (the header is line 1). */
  line: number;
}

const REQUIRED = ["filename", "liver_visible", "lesion_visible"] as const;

/**
 * Reads a boolean as the course's CSVs write it: `True`/`False` in any case,
 * or `1`/`0` (also `1.0`/`0.0`, as pandas writes float columns). Anything
 * else throws an Error that says where (`where`) and what was found.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * console.log(data.parseBoolean("True", "x.csv line 2"), data.parseBoolean("0", "x.csv line 3"));
 * // true false
 * ```
 */
export function parseBoolean(value: string, where: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "1" || v === "1.0") return true;
  if (v === "false" || v === "0" || v === "0.0") return false;
  throw new Error(
    `${where}: cannot read ${JSON.stringify(value)} as a boolean (True/False or 1/0)`,
  );
}

/**
 * The class of a slice: no liver -> 0, liver -> 1, liver + lesion -> 2. A
 * lesion without liver is impossible and throws, naming `where`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * console.log(data.labelOf(true, true, "row 1")); // 2
 * ```
 */
export function labelOf(liver: boolean, lesion: boolean, where: string): LiTSLabel {
  if (lesion && !liver) {
    throw new Error(`${where}: lesion_visible is true but liver_visible is false (invalid label)`);
  }
  return lesion ? 2 : liver ? 1 : 0;
}

/**
 * Checks that a CSV filename stays inside its split folder: relative, with no
 * `..` segment, not empty. Returns it with backslashes made forward slashes.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * console.log(data.checkRelativePath("p001/s010.png", "row 1")); // "p001/s010.png"
 * ```
 */
export function checkRelativePath(name: string, where: string): string {
  const path = name.trim().replaceAll("\\", "/");
  if (path === "") throw new Error(`${where}: empty filename`);
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) {
    throw new Error(`${where}: filename ${JSON.stringify(name)} is absolute; it must be relative`);
  }
  if (path.split("/").some((segment) => segment === "..")) {
    throw new Error(`${where}: filename ${JSON.stringify(name)} escapes the split folder (..)`);
  }
  return path;
}

/**
 * Parses and validates a labels CSV. `source` (the file's path) prefixes
 * every error together with the line: missing columns, unreadable booleans,
 * a lesion without liver, filenames that leave the split folder.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const rows = data.parseLabelsCsv(
 *   ",filename,liver_visible,lesion_visible\n0,a.png,True,False\n1,b.png,True,True\n",
 *   "train_classes.csv",
 * );
 * console.log(rows.map((r) => r.label)); // [1, 2]
 * ```
 */
export function parseLabelsCsv(text: string, source: string): LabelRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    throw new Error(`${source}: unreadable CSV (${(e as Error).message})`, { cause: e });
  }
  if (records.length === 0) throw new Error(`${source}: empty CSV (no header row)`);
  const header = records[0].record.map((h) => h.trim().toLowerCase());
  const [iName, iLiver, iLesion] = REQUIRED.map((name) => header.indexOf(name));
  const missing = REQUIRED.filter((_, k) => [iName, iLiver, iLesion][k] < 0);
  if (missing.length > 0) {
    throw new Error(
      `${source}: missing column(s) ${missing.join(", ")} (found: ${records[0].record.join(", ")})`,
    );
  }
  const rows: LabelRow[] = [];
  const seen = new Map<string, LabelRow>();
  for (let r = 1; r < records.length; r++) {
    const { record, info } = records[r];
    const where = `${source} line ${info.lines}`;
    const width = Math.max(iName, iLiver, iLesion) + 1;
    if (record.length < width) {
      throw new Error(`${where}: ${record.length} fields, expected at least ${width}`);
    }
    const liver = parseBoolean(record[iLiver], where);
    const lesion = parseBoolean(record[iLesion], where);
    const row = {
      filename: checkRelativePath(record[iName], where),
      liver,
      lesion,
      label: labelOf(liver, lesion, where),
      line: info.lines,
    };
    // One slice with two labels would train on both at once.
    const before = seen.get(row.filename);
    if (before && before.label !== row.label) {
      throw new Error(
        `${where}: ${row.filename} is listed again with another label (class ${row.label}; ` +
          `line ${before.line} says class ${before.label})`,
      );
    }
    seen.set(row.filename, row);
    rows.push(row);
  }
  return rows;
}
