/**
 * Text widths for Vega's layout when it runs without a canvas. Vega then
 * guesses 0.8 em per character, about 40% too wide for a sans-serif font:
 * labels get truncated ("liver + lesi…") and axis titles drift away from
 * their labels. These are the advance widths of DejaVu Sans (Debian's
 * default sans-serif, and wider than Arial, Helvetica or Segoe UI, so a
 * label measured with it fits in those as well), in 1/1000 em, for ASCII
 * 32..126, read from the font files' hmtx tables.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm package; deno.json has no import map
import * as vega from "npm:vega@6";

const REGULAR = [
  318,
  401,
  460,
  838,
  636,
  950,
  780,
  275,
  390,
  390,
  500,
  838,
  318,
  361,
  318,
  337,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  636,
  337,
  337,
  838,
  838,
  838,
  531,
  1000,
  684,
  686,
  698,
  770,
  632,
  575,
  775,
  752,
  295,
  295,
  656,
  557,
  863,
  748,
  787,
  603,
  787,
  695,
  635,
  611,
  732,
  684,
  989,
  685,
  611,
  685,
  390,
  337,
  390,
  838,
  500,
  500,
  613,
  635,
  550,
  635,
  615,
  352,
  635,
  634,
  278,
  278,
  579,
  278,
  974,
  634,
  612,
  635,
  635,
  411,
  521,
  392,
  634,
  592,
  818,
  592,
  592,
  525,
  636,
  337,
  636,
  838,
];

const BOLD = [
  348,
  456,
  521,
  838,
  696,
  1002,
  872,
  306,
  457,
  457,
  523,
  838,
  380,
  415,
  380,
  365,
  696,
  696,
  696,
  696,
  696,
  696,
  696,
  696,
  696,
  696,
  400,
  400,
  838,
  838,
  838,
  580,
  1000,
  774,
  762,
  734,
  830,
  683,
  683,
  821,
  837,
  372,
  372,
  775,
  637,
  995,
  837,
  850,
  733,
  850,
  770,
  720,
  682,
  812,
  774,
  1103,
  771,
  724,
  725,
  457,
  365,
  457,
  838,
  500,
  500,
  675,
  716,
  593,
  716,
  678,
  435,
  716,
  712,
  343,
  343,
  665,
  343,
  1042,
  712,
  687,
  716,
  716,
  493,
  595,
  478,
  712,
  652,
  924,
  645,
  652,
  582,
  712,
  365,
  712,
  838,
];

/** The width of `text` in pixels at `size` px, bold or not. */
export function textWidth(text: string, size: number, bold = false): number {
  const table = bold ? BOLD : REGULAR;
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    // Outside ASCII: about an "n" for Latin, a full em for wide scripts.
    w += c >= 32 && c <= 126 ? table[c - 32] : c < 0x2e80 ? table[78] : 1000;
  }
  return (w * size) / 1000;
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  text?: unknown;
}

/** vega re-exports vega-scenegraph's `textMetrics`; its typings leave it out. */
const { textMetrics } = vega as unknown as {
  textMetrics: { width: (item: TextItem, text?: unknown) => number };
};

function measure(item: TextItem, text?: unknown): number {
  const t = text ?? item.text;
  const s = Array.isArray(t) ? t.join(" ") : t == null ? "" : String(t);
  const weight = item.fontWeight;
  const bold = weight === "bold" || weight === "bolder" || Number(weight) >= 600;
  return textWidth(s, item.fontSize ?? 11, bold);
}

/**
 * Makes Vega measure text with `textWidth` (the hook vl-convert uses too).
 * Vega keeps the measure in a module-level object, so this is global to the
 * process; it only replaces Vega's canvas-less estimate.
 */
export function installTextWidth(): void {
  textMetrics.width = measure;
}
