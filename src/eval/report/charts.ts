/**
 * Vega-Lite specs of the training charts (loss, accuracy, learning rate per
 * epoch) and of the confusion-matrix heat maps. Each builder is a pure
 * function of plain data; `render.ts` turns a spec into SVG.
 *
 * @module
 */
import type { Spec } from "./render.ts";
import { CHART_CONFIG, EMA_COLOR, SPLIT_COLORS } from "./theme.ts";
import type { EmaValidation, HistoryEntry } from "./types.ts";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** The epoch axis of the line charts: integer ticks, no padding past the ends. */
const epochAxis = {
  field: "epoch",
  type: "quantitative",
  title: "Epoch",
  axis: { format: "d", tickMinStep: 1 },
  scale: { nice: false, zero: false },
} as const;

/** What every per-epoch chart shares: schema, the theme, the page's column width, its rows. */
function epochChart(height: number, values: readonly object[]) {
  return { $schema: SCHEMA, config: CHART_CONFIG, width: 440, height, data: { values } };
}

/** Which history series a chart shows. */
export type HistoryMetric = "loss" | "accuracy";

/** A finite number, or undefined (NaN, infinity and null are not plotted). */
function finite(v: number | null | undefined): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The model EMA's series name in the charts' legend. */
export const EMA_SERIES = "EMA validation";

/**
 * Train and validation curves of one metric per epoch: lines with a point
 * per epoch, so that a run of one epoch still shows something. With `ema`
 * (the model EMA's validations), a third series, "EMA validation".
 */
export function historySpec(
  history: readonly HistoryEntry[],
  metric: HistoryMetric,
  ema: readonly EmaValidation[] = [],
): Spec {
  const values: { epoch: number; split: string; value: number }[] = [];
  for (const h of history) {
    const train = finite(metric === "loss" ? h.trainLoss : h.trainAcc);
    const val = finite(metric === "loss" ? h.valLoss : h.valAcc);
    if (train !== undefined) values.push({ epoch: h.epoch, split: "train", value: train });
    if (val !== undefined) values.push({ epoch: h.epoch, split: "validation", value: val });
  }
  for (const e of ema) {
    const val = finite(metric === "loss" ? e.valLoss : e.valAcc);
    if (val !== undefined) values.push({ epoch: e.epoch, split: EMA_SERIES, value: val });
  }
  const domain: string[] = ["train", "validation"];
  const range: string[] = [SPLIT_COLORS.train, SPLIT_COLORS.validation];
  if (ema.length > 0) {
    domain.push(EMA_SERIES);
    range.push(EMA_COLOR);
  }
  const isAcc = metric === "accuracy";
  return {
    ...epochChart(240, values),
    encoding: {
      x: epochAxis,
      y: {
        field: "value",
        type: "quantitative",
        title: isAcc ? "Accuracy" : "Loss",
        axis: isAcc ? { format: ".0%" } : {},
        scale: isAcc ? { zero: false, nice: true } : { zero: false },
      },
      color: {
        field: "split",
        type: "nominal",
        title: null,
        scale: { domain, range },
        legend: { orient: "top", direction: "horizontal" },
      },
    },
    // A point per epoch shows where the measurements are; past 40 epochs they
    // would merge into a thick line.
    layer: history.length <= 40
      ? [{ mark: { type: "line" } }, { mark: { type: "point" } }]
      : [{ mark: { type: "line" } }],
  };
}

/** The learning rate per epoch (log scale when it spans more than a factor of 20). */
export function learningRateSpec(history: readonly HistoryEntry[]): Spec {
  const values = history.filter((h) => finite(h.lr) !== undefined && h.lr > 0)
    .map((h) => ({ epoch: h.epoch, lr: h.lr }));
  let lo = Infinity, hi = -Infinity;
  for (const v of values) [lo, hi] = [Math.min(lo, v.lr), Math.max(hi, v.lr)];
  const log = hi / lo > 20;
  // Ticks only at powers of ten on a log axis: Vega's default adds 2..9 too.
  const decades: number[] = [];
  if (log) {
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      decades.push(10 ** e);
    }
  }
  return {
    ...epochChart(130, values),
    mark: {
      type: "line",
      point: history.length <= 40,
      color: "#7b6cb3",
      interpolate: "step-after",
    },
    encoding: {
      x: epochAxis,
      y: {
        field: "lr",
        type: "quantitative",
        title: "Learning rate",
        axis: log ? { format: ".0e", values: decades } : { format: ".1e", tickCount: 4 },
        scale: log ? { type: "log", domain: [decades[0], decades.at(-1)!] } : { zero: false },
      },
    },
  };
}

/** Seconds of training per epoch as bars (its steps: validation and checkpoints not included), to spot slow epochs. */
export function epochTimeSpec(history: readonly HistoryEntry[]): Spec {
  const values = history.filter((h) => finite(h.seconds) !== undefined)
    .map((h) => ({ epoch: h.epoch, seconds: h.seconds }));
  return {
    ...epochChart(130, values),
    mark: { type: "bar", color: "#9ab8d8", cornerRadiusTopLeft: 2, cornerRadiusTopRight: 2 },
    encoding: {
      // "parity" drops every other label until they no longer overlap (long runs).
      x: {
        field: "epoch",
        type: "ordinal",
        title: "Epoch",
        axis: { labelAngle: 0, labelOverlap: "parity" },
      },
      y: { field: "seconds", type: "quantitative", title: "Seconds", axis: { tickCount: 4 } },
    },
  };
}

const BLUES = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];

/** Which confusion heat map: raw counts or rows normalised to sum to one. */
export type ConfusionView = "counts" | "normalized";

/**
 * A confusion-matrix heat map: true labels down, predictions across, each
 * cell coloured by its value and labelled with it (white text on dark cells).
 * Normalised rows are recall per true class; an empty row stays at 0.
 */
export function confusionSpec(
  matrix: number[][],
  classNames: readonly string[],
  view: ConfusionView,
): Spec {
  const normalized = view === "normalized";
  const values: { truth: string; pred: string; value: number; text: string }[] = [];
  let max = 0;
  matrix.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, p) => {
      const value = normalized ? (total === 0 ? 0 : count / total) : count;
      max = Math.max(max, value);
      const text = normalized ? `${(100 * value).toFixed(1)}%` : String(count);
      values.push({ truth: classNames[t], pred: classNames[p], value, text });
    });
  });
  const top = normalized ? 1 : Math.max(1, max);
  const cell = classNames.length <= 4 ? 92 : Math.max(36, Math.floor(368 / classNames.length));
  const order = [...classNames];
  return {
    $schema: SCHEMA,
    config: { ...CHART_CONFIG, view: { stroke: null } },
    width: cell * classNames.length,
    height: cell * classNames.length,
    data: { values },
    encoding: {
      x: {
        field: "pred",
        type: "nominal",
        sort: order,
        title: "Predicted",
        axis: {
          orient: "top",
          labelAngle: classNames.length > 4 ? -35 : 0,
          domain: false,
          ticks: false,
          labelLimit: classNames.length > 4 ? 140 : cell - 4,
        },
      },
      y: {
        field: "truth",
        type: "nominal",
        sort: order,
        title: "True",
        axis: { domain: false, ticks: false, labelLimit: 160 },
      },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 2 },
        encoding: {
          color: {
            field: "value",
            type: "quantitative",
            title: normalized ? "Row share" : "Count",
            // The "blues" scheme's stops, but starting near white so that
            // empty cells read as empty.
            scale: { range: BLUES, domain: [0, top] },
            legend: {
              orient: "right",
              gradientLength: cell * classNames.length - 20,
              format: normalized ? ".0%" : "d",
            },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 14, fontWeight: 600 },
        encoding: {
          text: { field: "text", type: "nominal" },
          color: {
            condition: { test: `datum.value > ${top * 0.55}`, value: "#ffffff" },
            value: "#1f2933",
          },
        },
      },
    ],
  };
}
