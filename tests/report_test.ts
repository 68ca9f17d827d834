/**
 * report.html: rendered from synthetic results (tests/report_data.ts), it is
 * one self-contained page whose charts Vega drew in Deno; in headless
 * Chromium every chart has visible marks, and charts broken on purpose fail
 * that check (tests/report_check.ts says how it looks). The Chromium tests
 * are ignored, with a message, where `chromium` is not installed
 * (`apt-get install -y chromium`; .ci/run installs it as root). Set
 * LITS_REPORT_OUT=DIR to keep the pages and screenshots.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- pinned npm package; deno.json has no import map
import { decode } from "npm:fast-png@8";
import { evaluation } from "../mod.ts";
import { renderReportWith, type SpecHook } from "../src/eval/report/report.ts";
import { renderSvg, type Spec } from "../src/eval/report/render.ts";
import { confusionSpec } from "../src/eval/report/charts.ts";
import { checkReport, findChromium } from "./report_check.ts";
import { syntheticReportData } from "./report_data.ts";

const CHARTS = [
  "loss",
  "accuracy",
  "lr",
  "epoch-time",
  "confusion-counts",
  "confusion-normalized",
  "pr",
  "roc",
];

const chromium = findChromium();
if (!chromium) {
  console.warn(
    "report_test: chromium not found on PATH (or $CHROMIUM): the screenshot checks are " +
      "ignored. Install it with `apt-get install -y chromium`.",
  );
}

/** A folder for pages and screenshots: LITS_REPORT_OUT/<name>, or a temporary one. */
async function outDir(name: string): Promise<{ dir: string; done: () => Promise<void> }> {
  const keep = Deno.env.get("LITS_REPORT_OUT");
  if (keep) {
    const dir = `${keep}/${name}`;
    await Deno.mkdir(dir, { recursive: true });
    return { dir, done: async () => {} };
  }
  const dir = await Deno.makeTempDir({ prefix: `lits-report-${name}-` });
  return { dir, done: () => Deno.remove(dir, { recursive: true }) };
}

/** The figures of a page: id -> inner HTML. */
function figures(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (
    const m of html.matchAll(
      /<figure class="chart"[^>]*data-chart="([^"]+)"[^>]*>(.*?)<\/figure>/gs,
    )
  ) {
    out.set(m[1], m[2]);
  }
  return out;
}

Deno.test("vega renders SVG in Deno, with no DOM", async () => {
  assert.equal(typeof (globalThis as { document?: unknown }).document, "undefined");
  const svg = await renderSvg({
    data: { values: [{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 2 }] },
    mark: "line",
    encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
  });
  assert.match(svg, /^<svg[^>]*width="\d+"/);
  const line = /class="mark-line role-mark[^"]*"[^>]*><path[^>]*d="(M[^"]+)"/.exec(svg);
  assert.ok(line, "no line path in the SVG");
  assert.ok(line[1].split(/[ML]/).filter(Boolean).length >= 3, `path ${line[1]}`);
});

Deno.test("report.html is one self-contained page with every chart drawn", async () => {
  const data = syntheticReportData();
  const html = await evaluation.renderReport(data);
  assert.ok(html.startsWith("<!doctype html>"));
  for (const bad of [/<script/i, /<link/i, /<iframe/i, /@import/i, /@font-face/i]) {
    assert.doesNotMatch(html, bad);
  }
  // No resource is fetched: every src/href is a data: URI or a fragment.
  for (const m of html.matchAll(/\b(?:src|href|xlink:href)="([^"]*)"/g)) {
    assert.ok(m[1].startsWith("data:") || m[1].startsWith("#"), `external resource ${m[1]}`);
  }
  assert.doesNotMatch(html, /url\((?!#)/);

  const figs = figures(html);
  assert.deepEqual([...figs.keys()], CHARTS);
  for (const [id, inner] of figs) {
    assert.match(inner, /<svg[^>]*viewBox="0 0 \d+ \d+"/, `${id}: no <svg>`);
    // Data marks with real paths (Vega's role-mark groups; axes are role-axis).
    const paths = [...inner.matchAll(/class="mark-\w+ role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)]
      .flatMap((g) => [...g[1].matchAll(/\bd="([^"]+)"/g)].map((d) => d[1]));
    assert.ok(paths.some((d) => /\d/.test(d) && d !== "M0,0h0v0h0Z"), `${id}: no drawn path`);
  }

  const imgs = [...html.matchAll(/<img[^>]*src="data:image\/png;base64,([^"]+)"/g)];
  assert.equal(imgs.length, Math.min(24, data.misclassified!.length));
  // The caption counts every mistake of the split, not only those kept with their images.
  let wrong = 0;
  for (let i = 0; i < data.yTrue.length; i++) if (data.yTrue[i] !== data.yPred[i]) wrong++;
  const kept = await evaluation.renderReport({
    ...data,
    misclassified: data.misclassified!.slice(0, 3),
  });
  assert.match(kept, new RegExp(`The 3 of ${wrong} misclassified test images`));
  const png = decode(Uint8Array.from(atob(imgs[0][1]), (c) => c.charCodeAt(0)));
  assert.deepEqual([png.width, png.height, png.channels], [64, 64, 1]);
  assert.match(html, /liver \+ lesion \(AUC 0\.\d{3}\)/);
  assert.match(html, /classification_report/);
  // Vega's clip ids, renumbered per chart: deterministic and unique in the page.
  assert.match(html, /<clipPath id="pr-clip1">/);
  assert.match(html, /clip-path="url\(#pr-clip1\)"/);
  const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, "duplicate ids");
});

Deno.test("an evaluation-only report: no history, a class without samples", async () => {
  const html = await evaluation.renderReport({
    title: "eval <only>",
    classNames: ["no liver", "liver", "liver + lesion"],
    history: [],
    yTrue: [0, 1, 1, 0, 1],
    yPred: [0, 1, 2, 0, 0],
    scores: [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.3, 0.6, 0.6, 0.3, 0.1, 0.5, 0.4, 0.1],
    split: "validation",
  });
  assert.deepEqual([...figures(html).keys()], CHARTS.slice(4));
  assert.match(html, /<title>eval &#60;only&#62;<\/title>/);
  assert.match(html, /No curve for liver \+ lesion/);
  assert.match(html, /validation split · 5 images/);
});

Deno.test("an empty row of the normalised confusion matrix stays at 0", () => {
  const spec = confusionSpec([[2, 0], [0, 0]], ["a", "b"], "normalized") as {
    data: { values: { value: number }[] };
  };
  assert.deepEqual(spec.data.values.map((v) => v.value), [1, 0, 0, 0]);
});

Deno.test("writeReport writes the page through a temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = syntheticReportData();
    await evaluation.writeReport(`${dir}/report.html`, data);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(names, ["report.html"]);
    assert.equal(
      await Deno.readTextFile(`${dir}/report.html`),
      await evaluation.renderReport(data),
    );
    await assert.rejects(evaluation.writeReport(`${dir}/missing/report.html`, data), /missing/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad report input fails loudly", async () => {
  const data = syntheticReportData();
  await assert.rejects(
    evaluation.renderReport({ ...data, scores: Array.from(data.scores).slice(1) }),
    /scores has 899 entries, expected N x C = 300 x 3/,
  );
  await assert.rejects(
    evaluation.renderReport({ ...data, yPred: [0, 1] }),
    /yTrue has 300 entries but yPred has 2/,
  );
  const bad = [{ ...data.misclassified![0], predLabel: 3 }];
  await assert.rejects(
    evaluation.renderReport({ ...data, misclassified: bad }),
    /misclassified\[0\]\.predLabel = 3/,
  );
  await assert.rejects(
    evaluation.renderReport({
      ...data,
      yTrue: Int32Array.from(data.yTrue, (y) => y === 0 ? 5 : y),
    }),
    /yTrue\[\d+\] = 5/,
  );
});

Deno.test({
  name: "screenshot: every chart of the report is drawn (headless Chromium)",
  ignore: !chromium,
  async fn() {
    const { dir, done } = await outDir("good");
    try {
      const html = await evaluation.renderReport(syntheticReportData());
      const result = await checkReport(chromium!, html, dir);
      assert.deepEqual(result.charts.map((c) => c.id), CHARTS);
      assert.deepEqual(result.problems, []);
      const png = decode(await Deno.readFile(result.screenshot));
      assert.equal(png.width, 1200);
      assert.ok(
        png.height >= result.height - 1,
        `screenshot ${png.height} < page ${result.height}`,
      );
    } finally {
      await done();
    }
  },
});

/** Breaks three charts in three ways that still compile and render. */
const breakCharts: SpecHook = (id: string, spec: Spec): Spec => {
  // deno-lint-ignore no-explicit-any
  const s: any = structuredClone(spec);
  if (id === "loss") s.encoding.y.field = "no_such_field"; // every point invalid: no line
  if (id === "roc") s.layer[1].data.values = []; // curves gone, the chance diagonal stays
  if (id === "confusion-counts") { for (const l of s.layer) l.mark.opacity = 0; // invisible cells
   }
  return s;
};

Deno.test({
  name: "screenshot: charts broken on purpose fail the check (negative control)",
  ignore: !chromium,
  async fn() {
    const { dir, done } = await outDir("broken");
    try {
      const html = await renderReportWith(syntheticReportData(), {}, breakCharts);
      const result = await checkReport(chromium!, html, dir);
      const failed = result.charts.filter((c) => c.problems.length).map((c) => c.id);
      assert.deepEqual(failed.sort(), ["confusion-counts", "loss", "roc"]);
      const byId = new Map(result.charts.map((c) => [c.id, c]));
      // The field typo leaves no drawn mark at all.
      assert.equal(byId.get("loss")!.marks, 0);
      // These two still have marks in the DOM (the diagonal; transparent
      // cells): only the pixels show that nothing useful is drawn.
      assert.ok(byId.get("roc")!.marks > 0 && byId.get("roc")!.colored < 150);
      assert.ok(byId.get("confusion-counts")!.marks > 0);
      assert.match(result.problems.join("\n"), /confusion-counts: only \d+ coloured pixels/);
    } finally {
      await done();
    }
  },
});
