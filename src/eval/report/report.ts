/**
 * `renderReport` and `writeReport`: metrics, charts and thumbnails put
 * together into one self-contained `report.html`.
 *
 * @module
 */
import { classificationReport } from "../metrics/report.ts";
import { formatClassificationReport } from "../metrics/text.ts";
import { confusionSpec, epochTimeSpec, historySpec, learningRateSpec } from "./charts.ts";
import { precisionRecallSpec, rocSpec } from "./curve_charts.ts";
import { type ChartFigure, escapeHtml, figure, page, section } from "./html.ts";
import { renderSvg, type Spec } from "./render.ts";
import { oneVsRest } from "./one_vs_rest.ts";
import { classTable, configTable, type Kpi, kpiTiles, misclassifiedGrid } from "./sections.ts";
import type { ReportData, ReportEma } from "./types.ts";
import { EMA_COLOR } from "./theme.ts";
import { checkArity, checkOptions } from "../../options.ts";

const USAGE = "evaluation.renderReport(data, { maxMisclassified: 48 })";

/** Options of `renderReport` and `writeReport`. */
export interface ReportOptions {
  /** How many misclassified images the grid shows at most (default 24). */
  maxMisclassified?: number;
}

/** A chart before rendering. */
interface PlannedChart {
  id: string;
  title: string;
  caption?: string;
  spec: Spec;
}

/** Changes a chart spec before it is rendered; the tests break charts with it. */
export type SpecHook = (id: string, spec: Spec) => Spec;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function checkData(d: ReportData): void {
  const k = d.classNames.length;
  if (k < 2) throw new RangeError(`renderReport: need at least 2 classNames, got ${k}`);
  const n = d.yTrue.length;
  if (d.yPred.length !== n) {
    throw new RangeError(`renderReport: yTrue has ${n} entries but yPred has ${d.yPred.length}`);
  }
  if (d.scores.length !== n * k) {
    throw new RangeError(
      `renderReport: scores has ${d.scores.length} entries, expected N x C = ${n} x ${k}`,
    );
  }
  d.misclassified?.forEach((m, i) => {
    for (const [what, v] of [["trueLabel", m.trueLabel], ["predLabel", m.predLabel]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= k) {
        throw new RangeError(
          `renderReport: misclassified[${i}].${what} = ${v} is not in [0, ${k})`,
        );
      }
    }
  });
}

/** A finite number (not NaN, infinite, null or absent). */
function finiteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Checks `data.ema`: null or absent, or { history, test? } of numbers. */
function checkEma(ema: unknown): ReportEma | null {
  if (ema === undefined || ema === null) return null;
  const where = "renderReport data.ema";
  const o = checkOptions<ReportEma>(
    where,
    ema as ReportEma,
    ["history", "test"],
    "{ history: [{ epoch: 1, valLoss: 0.4, valAcc: 0.9 }], test: { accuracy: 0.91 } }",
  );
  if (!Array.isArray(o.history)) {
    throw new TypeError(
      `${where}.history must be a list of { epoch, valLoss, valAcc } (the "ema" lines of ` +
        `metrics.jsonl: evaluation.emaFromMetrics), got ${typeof o.history}`,
    );
  }
  o.history.forEach((e, i) => {
    const ok = e !== null && typeof e === "object" && finiteNumber(e.epoch) &&
      [e.valLoss, e.valAcc].every((v) => v === undefined || v === null || typeof v === "number");
    if (!ok) {
      throw new TypeError(
        `${where}.history[${i}] must be { epoch: number, valLoss: number | null, ` +
          `valAcc: number | null }, got ${JSON.stringify(e)}`,
      );
    }
  });
  const t = o.test as unknown;
  if (t !== undefined && t !== null) {
    const keys = ["accuracy", "loss", "macroF1", "balancedAccuracy", "macroAuc"] as const;
    const r = t as Record<string, unknown>;
    const key = typeof t !== "object"
      ? undefined
      : !finiteNumber(r.accuracy)
      ? "accuracy"
      : keys.find((k) => r[k] !== undefined && typeof r[k] !== "number");
    if (typeof t !== "object" || key !== undefined) {
      throw new TypeError(
        `${where}.test${key ? `.${key}` : ""} must be ${key ? "a number" : "an object"} ` +
          `(the "ema_test" line of metrics.jsonl: { accuracy, loss, macroF1, ` +
          `balancedAccuracy, macroAuc }), got ${JSON.stringify(key ? r[key] : t)}`,
      );
    }
  }
  return o;
}

/**
 * Renders the report page, with `hook` applied to every chart spec. The
 * public `renderReport` passes none; tests pass one to break a chart and
 * check that the screenshot check notices.
 */
export async function renderReportWith(
  data: ReportData,
  options: ReportOptions = {},
  hook?: SpecHook,
): Promise<string> {
  options = checkOptions<ReportOptions>("renderReport", options, ["maxMisclassified"], USAGE);
  // The data is a full record: a misspelled optional field would drop its section silently.
  checkOptions<ReportData>("renderReport data", data, [
    "title",
    "classNames",
    "history",
    "yTrue",
    "yPred",
    "scores",
    "misclassified",
    "config",
    "split",
    "ema",
  ], "evaluation.renderReport({ title, classNames, history, yTrue, yPred, scores })");
  checkData(data);
  const ema = checkEma(data.ema);
  const { classNames, history, yTrue, yPred, scores } = data;
  const k = classNames.length, n = yTrue.length;
  const report = classificationReport(yTrue, yPred, { classNames, zeroDivision: 0 });

  const { prCurves, rocCurves, scores: s, macroAp, macroAuc } = oneVsRest(
    yTrue,
    scores,
    report,
    classNames,
  );

  const training: PlannedChart[] = history.length === 0 ? [] : [
    { id: "loss", title: "Loss", spec: historySpec(history, "loss", ema?.history) },
    { id: "accuracy", title: "Accuracy", spec: historySpec(history, "accuracy", ema?.history) },
    { id: "lr", title: "Learning rate", spec: learningRateSpec(history) },
    { id: "epoch-time", title: "Time per epoch", spec: epochTimeSpec(history) },
  ];
  const confusion: PlannedChart[] = [
    {
      id: "confusion-counts",
      title: "Counts",
      caption: "Rows are true classes, columns predictions; the diagonal is correct.",
      spec: confusionSpec(report.confusion, classNames, "counts"),
    },
    {
      id: "confusion-normalized",
      title: "Normalised by row",
      caption: "Each row sums to 100%: the diagonal is the recall of that class.",
      spec: confusionSpec(report.confusion, classNames, "normalized"),
    },
  ];
  const curves: PlannedChart[] = prCurves.length === 0 ? [] : [
    {
      id: "pr",
      title: "Precision–recall (one vs rest)",
      caption: "Precision at each recall; AP is the area under this step curve.",
      spec: precisionRecallSpec(prCurves),
    },
    {
      id: "roc",
      title: "ROC (one vs rest)",
      caption: "True against false positive rate; the dashed diagonal is chance.",
      spec: rocSpec(rocCurves),
    },
  ];
  const render = (charts: PlannedChart[]) =>
    Promise.all(charts.map(async (c): Promise<ChartFigure> => ({
      ...c,
      svg: await renderSvg(hook ? hook(c.id, c.spec) : c.spec, c.id),
    })));
  const [trainFigs, confusionFigs, curveFigs] = await Promise.all(
    [training, confusion, curves].map(render),
  );
  const charts = (figs: ChartFigure[]) => `<div class="charts">${figs.map(figure).join("")}</div>`;

  const split = data.split ?? "test";
  const totalSeconds = history.reduce(
    (a, h) => a + (Number.isFinite(h.seconds) ? h.seconds : 0),
    0,
  );
  const withVal = history.filter((h) => typeof h.valAcc === "number" && Number.isFinite(h.valAcc));
  const best = withVal.reduce<typeof withVal[number] | undefined>(
    (b, h) => (b === undefined || (h.valAcc as number) > (b.valAcc as number) ? h : b),
    undefined,
  );
  const kpis: Kpi[] = [
    { label: `${split} accuracy`, value: pct(report.accuracy), detail: `${n} images` },
    { label: "Balanced accuracy", value: pct(report.balancedAccuracy), detail: "mean recall" },
    { label: "Macro F1", value: report.macroAvg.f1.toFixed(3), color: "#3a9e5c" },
    {
      label: "Macro ROC AUC",
      value: Number.isNaN(macroAuc) ? "–" : macroAuc.toFixed(3),
      detail: `AP ${Number.isNaN(macroAp) ? "–" : macroAp.toFixed(3)}`,
      color: "#7b6cb3",
    },
  ];
  if (ema?.test) {
    const t = ema.test;
    kpis.push({
      label: `EMA ${split} accuracy`,
      value: pct(t.accuracy),
      detail: [
        "the model EMA",
        ...(finiteNumber(t.macroF1) ? [`macro F1 ${t.macroF1.toFixed(3)}`] : []),
        ...(finiteNumber(t.macroAuc) ? [`AUC ${t.macroAuc.toFixed(3)}`] : []),
      ].join(" · "),
      color: EMA_COLOR,
    });
  }
  if (best) {
    kpis.push({
      label: "Best val. accuracy",
      value: pct(best.valAcc as number),
      detail: `epoch ${best.epoch} of ${history.length}`,
      color: "#f58518",
    });
  }
  if (history.length) {
    kpis.push({
      label: "Training time",
      value: duration(totalSeconds),
      detail: `${history.length} epochs`,
      color: "#7b8794",
    });
  }

  const missing = report.classes.filter((c) => c.support === 0 || c.support === n)
    .map((c) => c.name);
  const mistakes = data.misclassified ?? [];
  const maxShown = options.maxMisclassified ?? 24;
  // All the split's mistakes, not only those kept with their images (an
  // evaluation keeps the most confident few): "All 24" of 79 was wrong.
  let wrong = 0;
  for (let i = 0; i < n; i++) if (data.yTrue[i] !== data.yPred[i]) wrong++;
  const shown = Math.min(maxShown, mistakes.length);
  const parts = [
    trainFigs.length
      ? section(
        "training",
        "Training",
        charts(trainFigs),
        ema?.history.length
          ? "Per epoch, train and validation, and the model EMA's validation."
          : "Per epoch, train and validation.",
      )
      : "",
    section("confusion", "Confusion matrix", charts(confusionFigs), `On the ${split} split.`),
    section(
      "per-class",
      "Per-class metrics",
      classTable(report, s) +
        `<details><summary>As text (sklearn's classification_report)</summary><pre>${
          escapeHtml(formatClassificationReport(report, { digits: 3 }))
        }</pre></details>`,
      `Accuracy ${pct(report.accuracy)} · balanced accuracy ${
        pct(report.balancedAccuracy)
      } · recall is sensitivity; specificity is one class against the rest.`,
    ),
    curveFigs.length
      ? section(
        "curves",
        "Ranking quality",
        charts(curveFigs),
        missing.length
          ? `No curve for ${missing.join(", ")}: the class needs both positives and negatives.`
          : "Each class against the rest, from its softmax probability.",
      )
      : "",
    mistakes.length
      ? section(
        "mistakes",
        "Most confident mistakes",
        misclassifiedGrid(mistakes, classNames, maxShown),
        (shown >= wrong
          ? `All ${wrong} misclassified ${split} images, the most confident first`
          : `The ${shown} of ${wrong} misclassified ${split} images the model was ` +
            `surest about`) +
          ": true class, predicted class and the predicted probability" +
          (mistakes.some((m) => m.heatmap)
            ? "; over each slice its Grad-CAM heat map of the predicted class (red: the " +
              "regions that raised that class's score; hover for the plain slice)."
            : "."),
      )
      : "",
    data.config ? section("config", "Configuration", configTable(data.config)) : "",
  ];
  const subtitle = [
    `${split} split`,
    `${n} images`,
    `${k} classes (${classNames.join(", ")})`,
    ...(history.length ? [`${history.length} epochs in ${duration(totalSeconds)}`] : []),
  ].join(" · ");
  return page(data.title, subtitle, kpiTiles(kpis), parts.join("\n"));
}

/**
 * Renders the evaluation report as one self-contained HTML page: headline
 * numbers; loss, accuracy and learning-rate curves; the confusion matrix as
 * counts and row-normalised heat maps; the per-class table (precision,
 * recall, specificity, F1, AP, ROC AUC, support); one-vs-rest
 * precision-recall and ROC curves; the most confidently misclassified
 * images; and the configuration. Charts are Vega-Lite specs rendered to
 * inline SVG; images are PNG `data:` URIs; there are no scripts and no
 * external resources.
 *
 * Asynchronous because Vega renders asynchronously.
 *
 * @param data History, labels, probabilities, mistakes and configuration.
 * @param options How many mistakes to show.
 * @returns The HTML document.
 * @throws {RangeError} When the lengths disagree or a label is out of range.
 *
 * @example
 * ```ts
 * import { evaluation } from "@lits/vision";
 *
 * const html = await evaluation.renderReport({
 *   title: "SimpleCNN on synthetic LiTS",
 *   classNames: ["no liver", "liver", "liver + lesion"],
 *   history: [
 *     { epoch: 1, trainLoss: 0.9, trainAcc: 0.6, valLoss: 0.8, valAcc: 0.65, lr: 1e-3, seconds: 12 },
 *     { epoch: 2, trainLoss: 0.6, trainAcc: 0.75, valLoss: 0.7, valAcc: 0.7, lr: 1e-3, seconds: 11 },
 *   ],
 *   yTrue: [0, 1, 2, 1],
 *   yPred: [0, 1, 1, 1],
 *   scores: new Float32Array([0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.5, 0.4, 0.3, 0.6, 0.1]),
 * });
 * console.log(html.length > 0);
 * ```
 */
export function renderReport(data: ReportData, options: ReportOptions = {}): Promise<string> {
  checkArity("evaluation.renderReport", arguments.length, 2, USAGE);
  return renderReportWith(data, options);
}

/**
 * Renders the report and writes it to `path`, through a temporary file and
 * a rename, so that a reader never sees half a page.
 *
 * @param path Where to write, e.g. `runs/<name>/report.html`.
 * @param data What to report.
 * @param options How many mistakes to show.
 *
 * @example
 * ```ts
 * import { evaluation } from "@lits/vision";
 *
 * const dir = await Deno.makeTempDir();
 * await evaluation.writeReport(`${dir}/report.html`, {
 *   title: "Evaluation",
 *   classNames: ["no liver", "liver"],
 *   history: [],
 *   yTrue: [0, 1, 1, 0],
 *   yPred: [0, 1, 0, 0],
 *   scores: [0.9, 0.1, 0.3, 0.7, 0.6, 0.4, 0.8, 0.2],
 * });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeReport(
  path: string,
  data: ReportData,
  options: ReportOptions = {},
): Promise<void> {
  checkArity(
    "evaluation.writeReport",
    arguments.length,
    3,
    "evaluation.writeReport(path, data, { maxMisclassified: 48 })",
  );
  const html = await renderReport(data, options);
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeTextFile(tmp, html);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
