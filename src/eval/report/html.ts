/**
 * The page shell: one HTML document with its CSS inline, no scripts, no
 * external fonts or images, so `report.html` opens the same anywhere
 * (offline, attached to an email, years later).
 *
 * @module
 */
import { FONT, INK } from "./theme.ts";

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A chart: an `<svg>` rendered by Vega inside a captioned figure. */
export interface ChartFigure {
  /** Stable id (`chart-<id>` in the page), used by tests and links. */
  id: string;
  /** Heading above the chart. */
  title: string;
  /** One sentence under the chart on how to read it. */
  caption?: string;
  /** The SVG markup. */
  svg: string;
}

/** A figure element around a rendered chart. */
export function figure(chart: ChartFigure): string {
  const caption = chart.caption ? `<figcaption>${escapeHtml(chart.caption)}</figcaption>` : "";
  return `<figure class="chart" id="chart-${escapeHtml(chart.id)}" data-chart="${
    escapeHtml(chart.id)
  }"><h3>${escapeHtml(chart.title)}</h3>${chart.svg}${caption}</figure>`;
}

/** A titled card section. */
export function section(id: string, title: string, body: string, note?: string): string {
  const sub = note ? `<p class="note">${escapeHtml(note)}</p>` : "";
  return `<section class="card" id="${escapeHtml(id)}"><h2>${
    escapeHtml(title)
  }</h2>${sub}${body}</section>`;
}

const CSS = `
*{box-sizing:border-box}
html{background:#eef1f5}
body{margin:0;font-family:${FONT};color:${INK.text};font-size:14px;line-height:1.45;
  -webkit-font-smoothing:antialiased}
header{background:linear-gradient(120deg,#1d3a5f,#2c5d8a);color:#fff;padding:28px 0 30px}
.wrap{max-width:1160px;margin:0 auto;padding:0 24px}
header h1{margin:0 0 4px;font-size:26px;font-weight:650;letter-spacing:-.01em}
header .sub{margin:0;color:#c9d8ea;font-size:14px}
main{padding:4px 0 40px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;margin:-18px 0 8px}
.kpi{background:#fff;border-radius:10px;padding:12px 16px 13px;box-shadow:0 1px 3px rgba(16,24,40,.1);
  border-top:3px solid var(--c,#4c78a8)}
.kpi .v{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;letter-spacing:-.01em}
.kpi .l{font-size:11.5px;color:${INK.muted};text-transform:uppercase;letter-spacing:.05em}
.kpi .d{font-size:12px;color:${INK.muted}}
.card{background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(16,24,40,.1);padding:20px 24px 22px;
  margin:18px 0}
.card h2{margin:0 0 4px;font-size:18px;font-weight:650}
.card .note{margin:0 0 10px;color:${INK.muted}}
.charts{display:flex;flex-wrap:wrap;gap:12px 28px;justify-content:space-around;align-items:flex-start}
figure.chart{margin:8px 0 0;min-width:0}
figure.chart h3{margin:0 0 2px;font-size:13.5px;font-weight:600;color:${INK.muted}}
figure.chart svg{display:block;max-width:100%;height:auto}
figcaption{font-size:12.5px;color:${INK.muted};max-width:520px;margin-top:2px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:7px 10px;text-align:right;border-bottom:1px solid ${INK.grid};white-space:nowrap}
th{font-size:11.5px;text-transform:uppercase;letter-spacing:.04em;color:${INK.muted};font-weight:600}
th:first-child,td:first-child{text-align:left}
td.bar{background-repeat:no-repeat;background-size:calc((100% - 20px) * var(--w) / 100) 3px;
  background-position:right 10px bottom 3px}
tr.avg td{color:${INK.muted};font-weight:600;background-color:#f8fafc}
tr.sep td{border-top:2px solid ${INK.grid}}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:8px;vertical-align:0}
.na{color:#b0b8c1}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:14px}
.shot{margin:0;border:1px solid ${INK.grid};border-radius:10px;overflow:hidden;background:#fff}
.shot img{display:block;width:100%;height:auto;background:#000;image-rendering:auto}
.pair{position:relative}
.pair .cam{position:absolute;inset:0;transition:opacity .15s}
.pair:hover .cam{opacity:0}
.shot figcaption{padding:7px 9px 9px;margin:0;color:${INK.text};font-size:12.5px}
.pill{display:inline-block;padding:0 7px;border-radius:999px;color:#fff;font-size:11.5px;font-weight:600;
  line-height:18px}
.lab{display:flex;align-items:center;gap:6px;margin-bottom:3px}
.lab .k{width:30px;color:${INK.muted};font-size:11px;text-transform:uppercase;letter-spacing:.04em}
.conf{display:flex;align-items:center;gap:6px;margin-top:5px;color:${INK.muted};font-size:12px}
.conf .track{flex:1;height:5px;border-radius:3px;background:${INK.grid};overflow:hidden}
.conf .fill{display:block;height:100%;background:#d6443f}
.id{color:${INK.muted};font-size:11px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;margin-top:3px}
details summary{cursor:pointer;color:${INK.muted};font-weight:600;margin-top:8px}
pre{background:#f5f7fa;border-radius:8px;padding:12px 14px;overflow:auto;font-size:12.5px}
table.config td{text-align:left;font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12.5px}
table.config td:first-child{color:${INK.muted};width:30%}
footer{color:${INK.muted};font-size:12px;text-align:center;padding:8px 0 28px}
`;

/** The whole document around the given body. */
export function page(title: string, subtitle: string, kpis: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><div class="wrap"><h1>${escapeHtml(title)}</h1><p class="sub">${
    escapeHtml(subtitle)
  }</p></div></header>
<main><div class="wrap">
${kpis}
${body}
</div></main>
<footer>Generated by @lits/vision</footer>
</body>
</html>
`;
}
