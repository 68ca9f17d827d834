/**
 * report.html and the model EMA (`deno task train --model-ema`): the EMA's
 * validation curve on the loss and accuracy charts beside the model's (a
 * third series of the same chart), and its test numbers among the headline
 * numbers, read from the run's metrics.jsonl ("ema" and "ema_test" lines,
 * `emaFromMetrics`). A run without EMA renders exactly as before. Then the
 * bad `ema` data and metrics.jsonl lines, each an Error that says what to
 * write. With `chromium` installed, the page with the EMA passes the
 * screenshot check of tests/report_check.ts. (Pure host code: no tensors.)
 */
import assert from "node:assert/strict";
import { evaluation } from "../mod.ts";
import { renderReportWith } from "../src/eval/report/report.ts";
import { emaFromMetrics } from "../src/eval/report/ema.ts";
import { EMA_SERIES, historySpec } from "../src/eval/report/charts.ts";
import { EMA_COLOR, SPLIT_COLORS } from "../src/eval/report/theme.ts";
import type { Spec } from "../src/eval/report/render.ts";
import { toJson } from "../src/train/checkpoint.ts";
import { syntheticReportData } from "./report_data.ts";
import { checkReport, findChromium } from "./report_check.ts";

/** metrics.jsonl as a --model-ema run writes it: epoch and ema lines, test and ema_test last. */
function metricsJsonl(): string {
  const data = syntheticReportData();
  const lines: object[] = [];
  for (const h of data.history) {
    lines.push({ type: "epoch", ...h, step: h.epoch * 10 });
    lines.push({
      type: "ema",
      epoch: h.epoch,
      step: h.epoch * 10,
      valLoss: (h.valLoss as number) - 0.05,
      valAcc: (h.valAcc as number) + 0.02,
    });
  }
  lines.push({ type: "test", epoch: 14, weightsEpoch: 14, loss: 0.4, accuracy: 0.81 });
  lines.push({
    type: "ema_test",
    epoch: 14,
    weightsEpoch: 14,
    loss: 0.38,
    accuracy: 0.834,
    macroF1: 0.8123,
    balancedAccuracy: 0.8,
    macroAuc: NaN,
    f1: [0.9, 0.8, 0.7],
  });
  return lines.map((l) => toJson(l) + "\n").join("");
}

/** The chart specs a page was rendered from, by id. */
async function specsOf(data: evaluation.ReportData): Promise<[string, Map<string, Spec>]> {
  const specs = new Map<string, Spec>();
  const html = await renderReportWith(data, {}, (id, spec) => {
    specs.set(id, structuredClone(spec));
    return spec;
  });
  return [html, specs];
}

/** The figure of chart `id` in a page. */
function figure(html: string, id: string): string {
  const m = new RegExp(`<figure class="chart"[^>]*data-chart="${id}"[^>]*>(.*?)</figure>`, "s")
    .exec(html);
  assert.ok(m, `no figure ${id}`);
  return m[1];
}

Deno.test("emaFromMetrics: the ema lines per epoch and the last ema_test line", () => {
  const ema = emaFromMetrics(metricsJsonl())!;
  const history = syntheticReportData().history;
  assert.equal(ema.history.length, 14);
  assert.deepEqual(ema.history[2], {
    epoch: 3,
    valLoss: (history[2].valLoss as number) - 0.05,
    valAcc: (history[2].valAcc as number) + 0.02,
  });
  // NaN, written as { "$number": "NaN" }, reads back as NaN; f1 and epoch are not kept.
  assert.deepEqual(ema.test, {
    accuracy: 0.834,
    loss: 0.38,
    macroF1: 0.8123,
    balancedAccuracy: 0.8,
    macroAuc: NaN,
  });
  // A run without --model-ema: no EMA.
  const plain = metricsJsonl().split("\n").filter((l) => !l.includes('"ema')).join("\n");
  assert.equal(emaFromMetrics(plain), null);
  assert.equal(emaFromMetrics(""), null);
  // An EMA validated but not tested (a run stopped before its test): history only.
  const noTest = metricsJsonl().split("\n").filter((l) => !l.includes("ema_test")).join("\n");
  assert.equal(emaFromMetrics(noTest)!.test, null);
});

Deno.test("report.html draws the EMA's validation beside the model's, and its test numbers", async () => {
  const data = syntheticReportData();
  const ema = emaFromMetrics(metricsJsonl())!;
  const [html, specs] = await specsOf({ ...data, ema });
  for (const id of ["loss", "accuracy"]) {
    const spec = specs.get(id) as {
      data: { values: { split: string; epoch: number; value: number }[] };
      encoding: { color: { scale: { domain: string[]; range: string[] } } };
    };
    assert.deepEqual(spec.encoding.color.scale.domain, ["train", "validation", EMA_SERIES]);
    assert.deepEqual(spec.encoding.color.scale.range, [
      SPLIT_COLORS.train,
      SPLIT_COLORS.validation,
      EMA_COLOR,
    ]);
    const points = spec.data.values.filter((v) => v.split === EMA_SERIES);
    assert.deepEqual(
      points.map((p) => [p.epoch, p.value]),
      ema.history.map((e) => [e.epoch, id === "loss" ? e.valLoss : e.valAcc]),
      id,
    );
    // Drawn: three line paths (train, validation, EMA) and the EMA in the legend.
    const fig = figure(html, id);
    const lines = [...fig.matchAll(/class="mark-line role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)]
      .flatMap((g) => [...g[1].matchAll(/<path[^>]*\bd="(M[^"]+)"/g)]);
    assert.equal(lines.length, 3, `${id}: line paths`);
    assert.match(fig, />EMA validation</);
    assert.ok(fig.toLowerCase().includes(EMA_COLOR), `${id}: the EMA's colour`);
  }
  // The learning-rate and time charts are the model's only.
  assert.doesNotMatch(JSON.stringify(specs.get("lr")), /EMA/);
  // The EMA's test line among the headline numbers (its AUC is NaN: left out).
  assert.match(
    html,
    /<div class="l">EMA test accuracy<\/div><div class="v">83\.4%<\/div><div class="d">the model EMA · macro F1 0\.812<\/div>/,
  );
  assert.match(html, /and the model EMA&#39;s validation\.|and the model EMA's validation\./);
  // A test with an AUC shows it; another split name is used in the label.
  const withAuc = await evaluation.renderReport({
    ...data,
    split: "validation",
    ema: { history: [], test: { accuracy: 0.5, macroAuc: 0.75 } },
  });
  assert.match(withAuc, /EMA validation accuracy<\/div><div class="v">50\.0%.*AUC 0\.750/);
  // History only (no ema_test): the curves, no tile.
  const [curvesOnly] = await specsOf({ ...data, ema: { history: ema.history } });
  assert.doesNotMatch(curvesOnly, /EMA test accuracy/);
  assert.match(figure(curvesOnly, "loss"), />EMA validation</);
});

Deno.test("report.html without EMA is unchanged: no third series, no EMA tile", async () => {
  const data = syntheticReportData();
  const [plain, specs] = await specsOf(data);
  for (const ema of [null, undefined]) {
    const [again] = await specsOf({ ...data, ema });
    assert.equal(again, plain);
  }
  assert.doesNotMatch(plain, /EMA/);
  for (const id of ["loss", "accuracy"]) {
    const metric = id as "loss" | "accuracy";
    assert.deepEqual(specs.get(id), historySpec(data.history, metric));
    assert.deepEqual(
      (specs.get(id) as { encoding: { color: { scale: unknown } } }).encoding.color.scale,
      { domain: ["train", "validation"], range: [SPLIT_COLORS.train, SPLIT_COLORS.validation] },
    );
  }
  assert.match(plain, /Per epoch, train and validation\./);
});

Deno.test("bad ema data and metrics.jsonl lines are Errors that say what to write", async () => {
  const data = syntheticReportData();
  const bad: [unknown, RegExp][] = [
    [[], /renderReport data\.ema: expected an options object/],
    [{ history: [], best: 3 }, /renderReport data\.ema: unknown option 'best'/],
    [{ history: {} }, /data\.ema\.history must be a list of \{ epoch, valLoss, valAcc \}/],
    [{ history: [{ valLoss: 1 }] }, /data\.ema\.history\[0\] must be \{ epoch: number/],
    [{ history: [{ epoch: 1, valAcc: "0.9" }] }, /history\[0\] must be/],
    [{ history: [], test: { loss: 1 } }, /data\.ema\.test\.accuracy must be a number/],
    [{ history: [], test: { accuracy: 0.9, macroF1: "x" } }, /data\.ema\.test\.macroF1 must be/],
    [{ history: [], test: 0.9 }, /data\.ema\.test must be an object .*\{ accuracy, loss/],
  ];
  for (const [ema, re] of bad) {
    await assert.rejects(() => evaluation.renderReport({ ...data, ema } as never), re);
  }
  await assert.rejects(
    () => evaluation.renderReport({ ...data, emaHistory: [] } as never),
    /unknown option 'emaHistory'/,
  );
  assert.throws(
    () => emaFromMetrics('{"type":"epoch","epoch":1}\n{"type":"ema","epo'),
    /emaFromMetrics: line 2 of metrics\.jsonl is not JSON/,
  );
  assert.throws(() => emaFromMetrics(42 as never), /expected the text of metrics\.jsonl/);
});

Deno.test({
  name: "screenshot: the report with the EMA has every chart drawn (headless Chromium)",
  ignore: !findChromium(),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lits-report-ema-" });
    try {
      const ema = emaFromMetrics(metricsJsonl())!;
      const html = await evaluation.renderReport({ ...syntheticReportData(), ema });
      const result = await checkReport(findChromium()!, html, dir);
      assert.deepEqual(result.problems, []);
      assert.ok(result.charts.some((c) => c.id === "loss" && c.marks > 0));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
