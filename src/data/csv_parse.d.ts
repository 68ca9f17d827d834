// The part of csv-parse's synchronous API that csv_labels.ts uses. The
// package's own typings begin with `/// <reference types="node" />`, which
// `deno doc` cannot resolve (it warns on every run); these need nothing.

/** Options of `parse` used here (csv-parse's snake_case names). */
export interface ParseOptions {
  bom?: boolean;
  info?: boolean;
  skip_empty_lines?: boolean;
  relax_column_count?: boolean;
}

/** Parses CSV text into records (with `info: true`, `{ record, info }` objects). */
export declare function parse(input: string, options: ParseOptions): unknown[];
