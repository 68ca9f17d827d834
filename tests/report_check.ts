/**
 * Checks a rendered report.html in headless Chromium, the way a person
 * would find a broken chart: is there something drawn?
 *
 * 1. Chromium loads a copy of the page with a small probe script appended
 *    and dumps the DOM (`--dump-dom`). The probe writes, onto every chart
 *    figure, its box on the page, the box of its plot area, the boxes of
 *    its legends, and how many data marks (Vega's `role-mark` elements)
 *    have non-zero geometry (`getBBox`).
 * 2. Chromium screenshots the original page (no script) at the same width
 *    and the full page height.
 * 3. Each chart passes when it has data marks with geometry AND its plot
 *    area, legends masked out, holds enough coloured pixels: axes, grid
 *    lines and text are grey, every data mark of these charts is coloured,
 *    so an empty, all-NaN or invisible chart fails even with its axes drawn.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm package; deno.json has no import map
import { decode } from "npm:fast-png@8";

/** The Chromium binary (`$CHROMIUM`, else `chromium` on PATH), or undefined. */
export function findChromium(): string | undefined {
  const env = Deno.env.get("CHROMIUM");
  if (env) return env;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of ["chromium", "chromium-browser"]) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch { /* not in this directory */ }
    }
  }
  return undefined;
}

type Box = [number, number, number, number]; // x, y, width, height in CSS pixels

/** What the check found for one chart. */
export interface ChartResult {
  /** The chart id (`data-chart`). */
  id: string;
  /** Data marks with non-zero geometry. */
  marks: number;
  /** Coloured pixels in the plot area, legends masked out. */
  colored: number;
  /** Plot area in CSS pixels. */
  plot: Box;
  /** Why it failed; empty when it passed. */
  problems: string[];
}

/** The result of checking a page. */
export interface PageCheck {
  /** One entry per chart figure found. */
  charts: ChartResult[];
  /** Screenshot path. */
  screenshot: string;
  /** Page height in CSS pixels. */
  height: number;
  /** All problems, each prefixed with its chart id. */
  problems: string[];
}

const WIDTH = 1200;
/** Enough coloured pixels for a thin line across a plot; an empty plot has 0. */
const MIN_COLORED = 150;

const PROBE = `<script>
for (const fig of document.querySelectorAll("[data-chart]")) {
  const box = (r) => [r.left + scrollX, r.top + scrollY, r.width, r.height].map(Math.round).join(",");
  fig.dataset.box = box(fig.getBoundingClientRect());
  const svg = fig.querySelector("svg");
  if (!svg) continue;
  const frame = svg.querySelector(".role-frame > g > path.background");
  fig.dataset.plot = frame ? box(frame.getBoundingClientRect()) : "";
  fig.dataset.legends = [...svg.querySelectorAll("g.role-legend")]
    .map((g) => box(g.getBoundingClientRect())).join(";");
  let marks = 0;
  for (const el of svg.querySelectorAll("g.role-mark path, g.role-mark rect, g.role-mark line, g.role-mark text, g.role-mark circle")) {
    const b = el.getBBox();
    if (b.width > 0 || b.height > 0) marks++;
  }
  fig.dataset.marks = String(marks);
}
document.documentElement.dataset.height = String(document.documentElement.scrollHeight);
</script>`;

async function chromium(binary: string, args: string[]): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "lits-chromium-" });
  try {
    const { success, stdout, stderr } = await new Deno.Command(binary, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        `--user-data-dir=${profile}`,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(`chromium ${args.join(" ")} failed:\n${new TextDecoder().decode(stderr)}`);
    }
    return new TextDecoder().decode(stdout);
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

function parseBox(s: string | undefined): Box | undefined {
  if (!s) return undefined;
  const v = s.split(",").map(Number);
  return v.length === 4 && v.every(Number.isFinite) ? v as Box : undefined;
}

function attr(tag: string, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];
}

/**
 * Renders `html` in headless Chromium and checks every chart. Writes the
 * page and the screenshot into `dir`.
 */
export async function checkReport(binary: string, html: string, dir: string): Promise<PageCheck> {
  const page = `${dir}/report.html`, probed = `${dir}/probed.html`;
  const screenshot = `${dir}/report.png`;
  await Deno.writeTextFile(page, html);
  await Deno.writeTextFile(probed, html.replace("</body>", `${PROBE}</body>`));

  const dom = await chromium(binary, [
    `--window-size=${WIDTH},3000`,
    "--dump-dom",
    `file://${probed}`,
  ]);
  const height = Number(/<html[^>]*data-height="(\d+)"/.exec(dom)?.[1]);
  if (!(height > 0)) throw new Error("chromium: the probe did not run (no page height)");
  await chromium(binary, [
    `--window-size=${WIDTH},${Math.min(height, 16000)}`,
    `--screenshot=${screenshot}`,
    `file://${page}`,
  ]);
  const png = decode(await Deno.readFile(screenshot));
  const ch = png.channels ?? 4;
  const px = png.data as Uint8Array;

  const charts: ChartResult[] = [];
  for (const m of dom.matchAll(/<figure[^>]*data-chart="[^"]*"[^>]*>/g)) {
    const tag = m[0];
    const id = attr(tag, "data-chart")!;
    const problems: string[] = [];
    const box = parseBox(attr(tag, "data-box"));
    const plot = parseBox(attr(tag, "data-plot"));
    const marks = Number(attr(tag, "data-marks") ?? 0);
    const legends = (attr(tag, "data-legends") ?? "").split(";").map(parseBox)
      .filter((b): b is Box => b !== undefined);
    if (!box || box[2] < 100 || box[3] < 80) problems.push(`figure box ${box} is too small`);
    if (!plot || plot[2] < 40 || plot[3] < 40) problems.push("no plot area (no Vega <svg>?)");
    if (marks === 0) problems.push("no data mark with non-zero geometry");
    let colored = 0;
    if (plot) {
      const inLegend = (x: number, y: number) =>
        legends.some(([lx, ly, lw, lh]) => x >= lx && x < lx + lw && y >= ly && y < ly + lh);
      for (let y = Math.max(0, plot[1]); y < Math.min(png.height, plot[1] + plot[3]); y++) {
        for (let x = Math.max(0, plot[0]); x < Math.min(png.width, plot[0] + plot[2]); x++) {
          const o = (y * png.width + x) * ch;
          const r = px[o], g = px[o + 1], b = px[o + 2];
          if (Math.max(r, g, b) - Math.min(r, g, b) > 40 && !inLegend(x, y)) colored++;
        }
      }
      if (colored < MIN_COLORED) {
        problems.push(`only ${colored} coloured pixels in the plot area (blank chart)`);
      }
    }
    charts.push({ id, marks, colored, plot: plot ?? [0, 0, 0, 0], problems });
  }
  return {
    charts,
    screenshot,
    height,
    problems: charts.flatMap((c) => c.problems.map((p) => `${c.id}: ${p}`)),
  };
}
