/**
 * The report's HTML parts that are tables and images rather than charts:
 * headline numbers, the per-class table, the grid of confident mistakes and
 * the configuration.
 *
 * @module
 */
import type { ClassificationReport } from "../metrics/report.ts";
import { escapeHtml } from "./html.ts";
import { pngDataUri, THUMBNAIL_MAX } from "./images.ts";
import { overlayHeatmap } from "./overlay.ts";
import { classColor } from "./theme.ts";
import type { Misclassified } from "./types.ts";

/** A headline number. */
export interface Kpi {
  /** Small caps label. */
  label: string;
  /** The number as text. */
  value: string;
  /** A detail line under it. */
  detail?: string;
  /** Accent colour. */
  color?: string;
}

/** A row of headline tiles. */
export function kpiTiles(kpis: readonly Kpi[]): string {
  const tiles = kpis.map((k) =>
    `<div class="kpi"${k.color ? ` style="--c:${k.color}"` : ""}><div class="l">${
      escapeHtml(k.label)
    }</div><div class="v">${escapeHtml(k.value)}</div>${
      k.detail ? `<div class="d">${escapeHtml(k.detail)}</div>` : ""
    }</div>`
  );
  return `<div class="kpis">${tiles.join("")}</div>`;
}

/** `x` as a fixed-decimals string, or a grey dash where undefined. */
function num(x: number | undefined, digits = 3): string {
  return x === undefined || Number.isNaN(x) ? `<span class="na">–</span>` : x.toFixed(digits);
}

/** A cell with a data bar under the number (`x` in [0, 1]). */
function barCell(x: number | undefined, color: string): string {
  if (x === undefined || Number.isNaN(x)) return `<td>${num(x)}</td>`;
  const w = Math.round(Math.max(0, Math.min(1, x)) * 100);
  return `<td class="bar" style="--w:${w};background-image:linear-gradient(${color}99,${color}99)">${
    num(x)
  }</td>`;
}

/** Per-class ranking scores, undefined where a class has no positives. */
export interface ClassScores {
  /** Average precision per class. */
  ap: (number | undefined)[];
  /** ROC AUC per class. */
  auc: (number | undefined)[];
}

/** Mean of the defined entries, weighted by `w` (default 1), or undefined. */
function mean(xs: (number | undefined)[], w?: number[]): number | undefined {
  let sum = 0, total = 0;
  xs.forEach((x, i) => {
    const wi = w ? w[i] : 1;
    if (x !== undefined && wi > 0) [sum, total] = [sum + wi * x, total + wi];
  });
  return total === 0 ? undefined : sum / total;
}

/** The per-class table with macro and weighted averages. */
export function classTable(r: ClassificationReport, s: ClassScores): string {
  const head = ["Class", "Precision", "Recall", "Specificity", "F1", "AP", "ROC AUC", "Support"]
    .map((h) => `<th>${h}</th>`).join("");
  const rows = r.classes.map((c, i) => {
    const color = classColor(i);
    return `<tr><td><span class="dot" style="background:${color}"></span>${
      escapeHtml(c.name)
    }</td>${barCell(c.precision, color)}${barCell(c.recall, color)}${
      barCell(c.specificity, color)
    }${barCell(c.f1, color)}${barCell(s.ap[i], color)}${
      barCell(s.auc[i], color)
    }<td>${c.support}</td></tr>`;
  });
  const grey = "#7b8794";
  const support = r.classes.map((c) => c.support);
  const avg = (name: string, a: ClassificationReport["macroAvg"], ap?: number, auc?: number) =>
    `<tr class="avg"><td>${name}</td>${barCell(a.precision, grey)}${
      barCell(a.recall, grey)
    }<td></td>${barCell(a.f1, grey)}${barCell(ap, grey)}${
      barCell(auc, grey)
    }<td>${a.support}</td></tr>`;
  return `<table class="metrics"><thead><tr>${head}</tr></thead><tbody>${rows.join("")}${
    avg("Macro average", r.macroAvg, mean(s.ap), mean(s.auc)).replace(
      'class="avg"',
      'class="avg sep"',
    )
  }${
    avg("Weighted average", r.weightedAvg, mean(s.ap, support), mean(s.auc, support))
  }</tbody></table>`;
}

/** The most confident mistakes first, at most `max` of them, as a grid of thumbnails. */
export function misclassifiedGrid(
  items: readonly Misclassified[],
  classNames: readonly string[],
  max: number,
): string {
  const shown = [...items].sort((a, b) => b.confidence - a.confidence).slice(0, max);
  const pill = (label: number) =>
    `<span class="pill" style="background:${classColor(label)}">${
      escapeHtml(classNames[label] ?? String(label))
    }</span>`;
  const cards = shown.map((m) => {
    const pct = Math.max(0, Math.min(1, m.confidence)) * 100;
    const id = m.id ? `<div class="id" title="${escapeHtml(m.id)}">${escapeHtml(m.id)}</div>` : "";
    const alt = `true ${escapeHtml(classNames[m.trueLabel] ?? "")}, predicted ${
      escapeHtml(classNames[m.predLabel] ?? "")
    }`;
    const plain = `<img alt="${alt}" src="${pngDataUri(m.image)}">`;
    // The overlay sits on the plain slice and fades on hover to show it.
    const shot = m.heatmap
      ? `<div class="pair">${plain}<img class="cam" alt="Grad-CAM of ${
        escapeHtml(classNames[m.predLabel] ?? "")
      }" title="Grad-CAM of the predicted class; hover for the plain slice" src="${
        pngDataUri(overlayHeatmap(m.image, m.heatmap), THUMBNAIL_MAX, [0, 1])
      }"></div>`
      : plain;
    return `<figure class="shot">${shot}<figcaption><div class="lab"><span class="k">true</span>${
      pill(m.trueLabel)
    }</div><div class="lab"><span class="k">pred</span>${
      pill(m.predLabel)
    }</div><div class="conf"><span class="track"><span class="fill" style="width:${
      pct.toFixed(1)
    }%"></span></span>${pct.toFixed(1)}%</div>${id}</figcaption></figure>`;
  });
  return `<div class="grid">${cards.join("")}</div>`;
}

/** Flattens nested configuration objects to dotted keys. */
function flatten(obj: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? flatten(v as Record<string, unknown>, `${prefix}${k}.`)
      : [[`${prefix}${k}`, v] as [string, unknown]]
  );
}

/** The resolved configuration as a two-column table. */
export function configTable(config: Record<string, unknown>): string {
  const rows = flatten(config).map(([k, v]) =>
    `<tr><td>${escapeHtml(k)}</td><td>${
      escapeHtml(typeof v === "string" ? v : JSON.stringify(v) ?? String(v))
    }</td></tr>`
  );
  return `<table class="config"><tbody>${rows.join("")}</tbody></table>`;
}
