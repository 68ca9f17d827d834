/**
 * An experiment's results as a Markdown file (per-epoch train and
 * validation loss and accuracy of every arm, and their final test metrics)
 * and as an HTML page with the same tables under one overlay plot of the
 * loss curves, drawn with Vega-Lite as the evaluation report draws its
 * charts (same renderer, theme and page shell).
 *
 * @module
 */
import { renderSvg, type Spec } from "../eval/report/render.ts";
import { escapeHtml, figure, page, section } from "../eval/report/html.ts";
import { CHART_CONFIG } from "../eval/report/theme.ts";
import type { VariantResult } from "./experiment.ts";

const f4 = (x: number | null | undefined) =>
  typeof x === "number" && Number.isFinite(x) ? x.toFixed(4) : "-";
const pct = (x: number | null | undefined) =>
  typeof x === "number" && Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "-";

/** Rows of a table: a header row, then data rows. */
type Table = string[][];

function perEpochTable(results: readonly VariantResult[]): Table {
  const rows: Table = [["variant", "epoch", "train loss", "train acc", "val loss", "val acc"]];
  for (const { variant, result } of results) {
    for (const h of result.history) {
      rows.push([
        variant.label,
        String(h.epoch),
        f4(h.trainLoss),
        pct(h.trainAcc),
        f4(h.valLoss),
        pct(h.valAcc),
      ]);
    }
  }
  return rows;
}

function finalTable(results: readonly VariantResult[]): Table {
  const rows: Table = [[
    "variant",
    "train loss",
    "val loss",
    "best epoch",
    "test acc",
    "test macro-F1",
    "test bal. acc",
    "test AUC",
    "time (s)",
  ]];
  for (const { variant, result } of results) {
    const last = result.history[result.history.length - 1];
    const t = result.test;
    rows.push([
      variant.label,
      f4(last?.trainLoss),
      f4(last?.valLoss),
      String(result.bestEpoch),
      pct(t.accuracy),
      t.macroF1.toFixed(3),
      pct(t.balancedAccuracy),
      Number.isFinite(t.macroAuc) ? t.macroAuc.toFixed(3) : "-",
      result.seconds.toFixed(0),
    ]);
  }
  return rows;
}

function markdown(table: Table): string {
  const [head, ...rows] = table;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)]
    .join("\n");
}

function html(table: Table): string {
  const [head, ...rows] = table;
  return `<div style="overflow-x:auto"><table><thead><tr>${
    head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")
  }</tr></thead>` +
    `<tbody>${
      rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("")
    }</tbody></table></div>`;
}

/**
 * The experiment's tables as Markdown.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(train.experimentMarkdown("regularization", []).startsWith("# Experiment")); // true
 * ```
 */
export function experimentMarkdown(name: string, results: readonly VariantResult[]): string {
  const base = results[0]?.result.config;
  return [
    `# Experiment: ${name}`,
    "",
    base
      ? `Model ${base.model}, ${base.epochs} epochs, ${base.imageSize}x${base.imageSize}, ` +
        `${base.optimizer} lr ${base.lr}, batch ${base.batchSize}, seed ${base.seed}, ` +
        `${base.precision ?? "fp32"}, data ${base.data}.`
      : "",
    "",
    "## Final test metrics",
    "",
    markdown(finalTable(results)),
    "",
    "## Per epoch",
    "",
    markdown(perEpochTable(results)),
    "",
  ].join("\n");
}

/** Loss per epoch of every arm: validation solid, training dashed. */
function overlaySpec(results: readonly VariantResult[]): Spec {
  const values: { variant: string; epoch: number; split: string; loss: number }[] = [];
  for (const { variant, result } of results) {
    for (const h of result.history) {
      values.push({ variant: variant.label, epoch: h.epoch, split: "train", loss: h.trainLoss });
      if (typeof h.valLoss === "number" && Number.isFinite(h.valLoss)) {
        values.push({
          variant: variant.label,
          epoch: h.epoch,
          split: "validation",
          loss: h.valLoss,
        });
      }
    }
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: CHART_CONFIG,
    width: 720,
    height: 360,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: {
        field: "epoch",
        type: "quantitative",
        title: "Epoch",
        axis: { format: "d", tickMinStep: 1 },
      },
      y: {
        field: "loss",
        type: "quantitative",
        title: "Cross-entropy loss",
        scale: { zero: false },
      },
      color: {
        field: "variant",
        type: "nominal",
        title: "Variant",
        sort: results.map((r) => r.variant.label),
        scale: { scheme: "tableau10" },
      },
      strokeDash: {
        field: "split",
        type: "nominal",
        title: "Split",
        scale: { domain: ["validation", "train"], range: [[1, 0], [5, 4]] },
      },
      detail: { field: "split" },
    },
  } as Spec;
}

/**
 * The experiment's page: the overlay plot and both tables.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const html = await train.experimentHtml("regularization", []);
 * console.log(html.startsWith("<!doctype html>")); // true
 * ```
 */
export async function experimentHtml(
  name: string,
  results: readonly VariantResult[],
): Promise<string> {
  const svg = await renderSvg(overlaySpec(results), "overlay");
  const plot = figure({
    id: "overlay",
    title: "Loss per epoch",
    caption: "Solid: validation loss; dashed: training loss. A widening gap between a variant's " +
      "two lines is overfitting; regularisation narrows it.",
    svg,
  });
  const base = results[0]?.result.config;
  return page(
    `Experiment: ${name}`,
    base
      ? `${base.model}, ${base.epochs} epochs at ${base.imageSize}x${base.imageSize}, seed ${base.seed}, ` +
        `${base.precision ?? "fp32"}, same data for every variant`
      : "no runs",
    "",
    section("plot", "Loss curves", `<div class="charts">${plot}</div>`) +
      section("final", "Final test metrics", html(finalTable(results))) +
      section("epochs", "Per epoch", html(perEpochTable(results))),
  );
}
