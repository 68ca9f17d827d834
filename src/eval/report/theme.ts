/**
 * The report's look in one place: fonts, colours and the Vega-Lite config
 * every chart shares, so the charts and the HTML around them agree.
 *
 * @module
 */

/** System fonts only: the page must not fetch a web font. */
export const FONT =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans", Arial, sans-serif';

/** Train and validation series colours (Tableau blue and orange). */
export const SPLIT_COLORS = { train: "#4c78a8", validation: "#f58518" } as const;

/** The model EMA's validation series (Tableau green), beside the model's. */
export const EMA_COLOR = "#54a24b";

/**
 * Class colours: grey-blue for "no liver", green for liver, red for lesion,
 * then the rest of Tableau 10 for datasets with more classes.
 */
const CLASS_COLORS = [
  "#5b7a99",
  "#3a9e5c",
  "#d6443f",
  "#9467bd",
  "#e08e0b",
  "#17becf",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
];

/** The colour of class `i` (cycling past ten classes). */
export function classColor(i: number): string {
  return CLASS_COLORS[i % CLASS_COLORS.length];
}

/** Ink and grid greys shared with the page's CSS. */
export const INK = { text: "#1f2933", muted: "#616e7c", grid: "#e4e7eb", domain: "#9aa5b1" };

/** Vega-Lite config applied to every chart. */
export const CHART_CONFIG = {
  font: FONT,
  background: "#ffffff",
  padding: 8,
  view: { stroke: INK.grid },
  axis: {
    labelColor: INK.muted,
    titleColor: INK.text,
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 600,
    gridColor: INK.grid,
    domainColor: INK.domain,
    tickColor: INK.domain,
    titlePadding: 8,
  },
  legend: {
    labelColor: INK.text,
    labelFontSize: 12,
    titleFontSize: 11,
    titleColor: INK.muted,
    symbolStrokeWidth: 3,
    labelLimit: 260,
  },
  line: { strokeWidth: 2.25 },
  point: { size: 36, filled: true },
} as const;
