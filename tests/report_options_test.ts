/**
 * classificationReport's sklearn options: `labels` (order, classes absent
 * from both lists, a seen class left out and the "micro avg" row),
 * `targetNames`, `zeroDivision` ("warn", 0, 1), `digits`, `outputDict`
 * and `sampleWeight` with them, for class labels and multilabel
 * indicators, against scikit-learn 1.2.1's text and dict reports
 * (tests/fixtures/report_options.json, written by
 * scripts/make_report_options_fixtures.py). Then the bad options, each
 * with an error that says what to write.
 *
 * The inputs are given as Tensors on `LITS_TEST_DEVICE` too (the report
 * reads them once).
 */
import assert from "node:assert/strict";
import { metrics, tensor } from "../mod.ts";
import { resetWarnings } from "../src/eval/metrics/pairs.ts";
import { loadFixture, testDevice } from "./helpers.ts";

type Options = Record<string, unknown>;
interface Case {
  name: string;
  yTrue: number[] | number[][];
  yPred: number[] | number[][];
  options: Options;
  text: string;
  dict: Record<string, number | Record<string, number>>;
  warned: boolean;
}
const fx = loadFixture<{ sklearn: string; cases: Case[] }>("report_options.json");

/** Runs `fn` and returns it with the warnings it printed. */
function warnings<T>(fn: () => T): [T, string[]] {
  const seen: string[] = [], warn = console.warn;
  resetWarnings();
  console.warn = (m: string) => void seen.push(m);
  try {
    return [fn(), seen];
  } finally {
    console.warn = warn;
  }
}

const asTensor = (y: number[] | number[][]) =>
  Array.isArray(y[0])
    ? tensor((y as number[][]).flat(), [y.length, (y[0] as number[]).length], {
      device: testDevice,
    })
    : tensor(Int32Array.from(y as number[]), [y.length], { dtype: "int32", device: testDevice });

for (const c of fx.cases) {
  Deno.test(`report_options: ${c.name}, as sklearn ${fx.sklearn}`, () => {
    const o = c.options as metrics.ClassificationReportOptions & { outputDict?: false };
    const [report, warned] = warnings(() => metrics.classificationReport(c.yTrue, c.yPred, o));
    assert.equal(metrics.formatClassificationReport(report), c.text);
    const zero = o.zeroDivision ?? "warn";
    assert.equal(warned.length > 0, zero === "warn" && c.warned, `warnings: ${warned}`);
    const [dict] = warnings(() =>
      metrics.classificationReport(asTensor(c.yTrue), asTensor(c.yPred), {
        ...o,
        outputDict: true,
      })
    );
    assert.deepEqual(Object.keys(dict).sort(), Object.keys(c.dict).sort());
    for (const [key, want] of Object.entries(c.dict)) {
      const got = dict[key];
      if (typeof want === "number") {
        assert.ok(Math.abs((got as number) - want) < 1e-12, `${key}: ${got} vs ${want}`);
        continue;
      }
      for (const [m, v] of Object.entries(want)) {
        const g = (got as unknown as Record<string, number>)[m];
        assert.ok(Math.abs(g - v) < 1e-12, `${key} ${m}: ${g} vs ${v}`);
      }
    }
  });
}

Deno.test("report_options: labels set the rows' order, and the confusion matrix follows them", () => {
  const r = metrics.classificationReport([0, 1, 2, 2, 1], [0, 2, 2, 1, 1], {
    labels: [2, 0, 4],
    zeroDivision: 0,
  });
  assert.deepEqual(r.classes.map((c) => c.label), [2, 0, 4]);
  assert.deepEqual(r.confusion, [[1, 0, 0], [0, 1, 0], [0, 0, 0]]);
  // Samples of class 1, left out, still count as negatives of class 2.
  assert.equal(r.classes[0].specificity, 2 / 3);
  assert.equal(r.accuracy, 3 / 5);
  assert.equal(r.balancedAccuracy, (1 + 0.5 + 0.5) / 3); // over every class of yTrue
  assert.equal(r.microAvg?.precision, 2 / 3);
  const text = metrics.formatClassificationReport(
    metrics.classificationReport([0, 1], [0, 1], { digits: 3 }),
  );
  assert.match(text, /1\.000/);
});

Deno.test("report_options: bad options are refused with what to write", () => {
  const t = [0, 1, 1], p = [0, 1, 0];
  // deno-lint-ignore no-explicit-any
  const report = (o: any) => metrics.classificationReport(t, p, o);
  assert.throws(() => report({ labels: [0, 0] }), /labels\[1\] = 0 is repeated/);
  assert.throws(() => report({ labels: [] }), /labels is empty/);
  assert.throws(() => report({ labels: [-1] }), /labels\[0\] = -1 is not a class label/);
  assert.throws(
    () => metrics.classificationReport(["cat", "dog"] as never, ["cat", "cat"] as never),
    /yTrue\[0\] = "cat" is not a class label \(a non-negative integer\); labels are class indices/,
  );
  assert.throws(() => report({ labels: "0,1" }), /labels must be an array/);
  assert.throws(() => report({ labels: [3], numClasses: 3 }), /labels has 3, outside the 3/);
  assert.throws(() => report({ zeroDivision: "1" }), /zeroDivision must be "warn", 0 or 1/);
  assert.throws(() => report({ zeroDivision: NaN }), /zeroDivision must be "warn", 0 or 1/);
  assert.throws(() => report({ targetNames: ["a"] }), /1 targetNames for the 2 reported/);
  assert.throws(
    () => report({ labels: [0, 1, 2], targetNames: ["a", "b"] }),
    /2 targetNames for the 3 reported classes \[0,1,2\]; give one name per row \(per entry/,
  );
  assert.throws(() => report({ targetNames: [0, 1] }), /targetNames must be an array of strings/);
  assert.throws(
    () => report({ targetNames: ["a", "b"], classNames: ["a", "b"] }),
    /give classNames .* or targetNames .*, not both/,
  );
  assert.throws(() => report({ digits: 2.5 }), /digits must be an integer in 0\.\.20/);
  assert.throws(() => report({ digits: NaN }), /digits must be an integer in 0\.\.20/);
  assert.throws(() => report({ outputDict: "yes" }), /outputDict must be true or false/);
  assert.throws(
    () => report({ outputDict: false }),
    /outputDict false is sklearn's text.*formatClassificationReport/,
  );
  assert.throws(() => report({ target_names: ["a", "b"] }), /targetNames/);
  assert.throws(
    () => metrics.classificationReport([[1, 0]], [[1, 0]], { labels: [2] }),
    /labels must be column indices in \[0, 2\)/,
  );
});
