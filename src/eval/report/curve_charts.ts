/**
 * Vega-Lite specs of the one-vs-rest precision-recall and ROC curves: one
 * line per class, its AP or AUC in the legend, drawn in the order the
 * points come (the curves are not functions of x, so sorting by x would be
 * wrong).
 *
 * @module
 */
import type { Spec } from "./render.ts";
import { CHART_CONFIG, INK } from "./theme.ts";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** One class's curve as plotted: points in drawing order. */
export interface ClassCurve {
  /** Legend entry, e.g. "liver  AP 0.93". */
  label: string;
  /** Line colour. */
  color: string;
  /** Abscissae (recall, or false positive rate). */
  x: readonly number[];
  /** Ordinates (precision, or true positive rate). */
  y: readonly number[];
}

/**
 * Drops points closer than `tol` to the last kept one in both coordinates
 * (always keeping the ends): with thousands of test images a curve has
 * thousands of points that differ by less than a pixel.
 */
export function thin(x: readonly number[], y: readonly number[], tol = 1e-3): [number[], number[]] {
  const xs: number[] = [], ys: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const last = xs.length - 1;
    const isEnd = i === 0 || i === x.length - 1;
    if (isEnd || Math.abs(x[i] - xs[last]) > tol || Math.abs(y[i] - ys[last]) > tol) {
      xs.push(x[i]);
      ys.push(y[i]);
    }
  }
  return [xs, ys];
}

function curveValues(curves: readonly ClassCurve[]) {
  const values: { label: string; i: number; x: number; y: number }[] = [];
  for (const c of curves) {
    const [xs, ys] = thin(c.x, c.y);
    xs.forEach((x, i) => values.push({ label: c.label, i, x, y: ys[i] }));
  }
  return values;
}

function curveSpec(
  curves: readonly ClassCurve[],
  axes: { x: string; y: string },
  interpolate: "linear" | "step-after",
  extra: Spec[],
  legendCorner: "bottom-left" | "bottom-right",
): Spec {
  // A few pixels of padding so that a curve running along 0 or 1 is not
  // hidden under the frame.
  const unit = {
    type: "quantitative",
    scale: { domain: [0, 1], nice: false, padding: 4 },
  } as const;
  return {
    $schema: SCHEMA,
    config: CHART_CONFIG,
    width: 330,
    height: 330,
    layer: [
      ...extra,
      {
        data: { values: curveValues(curves) },
        mark: { type: "line", interpolate, strokeWidth: 2.5, clip: true },
        encoding: {
          x: { ...unit, field: "x", title: axes.x, axis: { format: ".1f", tickCount: 5 } },
          y: { ...unit, field: "y", title: axes.y, axis: { format: ".1f", tickCount: 5 } },
          order: { field: "i", type: "quantitative" },
          color: {
            field: "label",
            type: "nominal",
            title: null,
            scale: { domain: curves.map((c) => c.label), range: curves.map((c) => c.color) },
            legend: {
              orient: legendCorner,
              fillColor: "rgba(255,255,255,0.88)",
              padding: 6,
              cornerRadius: 4,
              strokeColor: INK.grid,
            },
          },
        },
      },
    ] as Spec[],
  } as Spec;
}

/**
 * Precision against recall per class, as a step function (precision held
 * from one recall to the next), the shape average precision integrates.
 */
export function precisionRecallSpec(curves: readonly ClassCurve[]): Spec {
  return curveSpec(curves, { x: "Recall", y: "Precision" }, "step-after", [], "bottom-left");
}

/** True against false positive rate per class, over the dashed chance diagonal. */
export function rocSpec(curves: readonly ClassCurve[]): Spec {
  const chance = {
    data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
    mark: { type: "line", strokeDash: [5, 4], color: INK.domain, strokeWidth: 1.25 },
    encoding: {
      x: { field: "x", type: "quantitative" },
      y: { field: "y", type: "quantitative" },
    },
  } as unknown as Spec;
  return curveSpec(
    curves,
    { x: "False positive rate", y: "True positive rate" },
    "linear",
    [chance],
    "bottom-right",
  );
}
