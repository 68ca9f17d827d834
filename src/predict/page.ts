/**
 * `predictions.html`: one self-contained page (inline CSS, PNG data URIs,
 * no scripts) in the report's style. Each 2-D image is a card with its
 * prediction, the three probabilities and its Grad-CAM overlay (hover shows
 * the plain slice); each volume is a strip of all its slices, coloured by
 * prediction, with the slice ranges predicted to hold liver and lesion.
 *
 * @module
 */
import { basename } from "node:path";
import { escapeHtml, page, section } from "../eval/report/html.ts";
import { pngDataUri } from "../eval/report/images.ts";
import { overlayHeatmap } from "../eval/report/overlay.ts";
import { classColor } from "../eval/report/theme.ts";
import { type InputPrediction, type SlicePrediction, sliceRanges } from "./run.ts";

const CSS = `<style>
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:14px}
.shot{margin:0;border:1px solid #e4e7eb;border-radius:10px;overflow:hidden;background:#fff}
.shot img{display:block;width:100%;height:auto;background:#000}
.pair{position:relative}
.pair .cam{position:absolute;inset:0;transition:opacity .15s}
.pair:hover .cam{opacity:0}
.shot figcaption{padding:7px 9px 9px;margin:0;font-size:12.5px}
.pill{display:inline-block;padding:0 7px;border-radius:999px;color:#fff;font-size:11.5px;
  font-weight:600;line-height:18px}
.prob{display:flex;align-items:center;gap:6px;font-size:11.5px;color:#616e7c}
.prob .n{width:92px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.prob .track{flex:1;height:5px;border-radius:3px;background:#e4e7eb;overflow:hidden}
.prob .fill{display:block;height:100%}
.strip{display:flex;gap:4px;overflow-x:auto;padding-bottom:6px}
.strip figure{margin:0;flex:0 0 88px;border-top:4px solid;background:#fff}
.strip img{display:block;width:88px;height:auto;background:#000}
.strip figcaption{font-size:11px;color:#616e7c;text-align:center}
.id{color:#616e7c;font-size:11px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
</style>`;

/** The plain slice with its Grad-CAM overlay on top (fading on hover). */
function shot(s: SlicePrediction, size: number, maxSide: number, what: string): string {
  const img = { data: s.view, width: size, height: size };
  const cam = overlayHeatmap(img, { data: s.heat, width: size, height: size });
  return `<div class="pair"><img alt="${escapeHtml(what)}" src="${
    pngDataUri(img, maxSide)
  }"><img class="cam" alt="Grad-CAM" title="${escapeHtml(what)}; hover for the plain slice" src="${
    pngDataUri(cam, maxSide, [0, 1])
  }"></div>`;
}

function pill(label: number, classNames: readonly string[]): string {
  return `<span class="pill" style="background:${classColor(label)}">${
    escapeHtml(classNames[label] ?? String(label))
  }</span>`;
}

function probBars(s: SlicePrediction, classNames: readonly string[]): string {
  return s.probs.map((p, c) =>
    `<div class="prob"><span class="n">${escapeHtml(classNames[c] ?? String(c))}</span>` +
    `<span class="track"><span class="fill" style="width:${(100 * p).toFixed(1)}%;background:${
      classColor(c)
    }"></span></span>${(100 * p).toFixed(1)}%</div>`
  ).join("");
}

function probText(s: SlicePrediction, classNames: readonly string[]): string {
  return s.probs.map((p, c) => `${classNames[c] ?? c} ${(100 * p).toFixed(1)}%`).join(", ");
}

/** The page's settings: model, checkpoint, preprocessing, notes. */
export interface PageContext {
  /** Page title. */
  title: string;
  /** Class names by label. */
  classNames: readonly string[];
  /** Side of the model input (the images' size in the results). */
  size: number;
  /** One line under the title (model, checkpoint, preprocessing). */
  subtitle: string;
  /** Notes and warnings, shown at the top. */
  notes: string[];
}

/** The whole page. */
export function renderPredictions(results: InputPrediction[], ctx: PageContext): string {
  const { classNames, size } = ctx;
  const images = results.filter((r) => r.kind === "image");
  const volumes = results.filter((r) => r.kind === "volume");
  const parts: string[] = [CSS];
  if (ctx.notes.length > 0) {
    parts.push(
      section(
        "notes",
        "Notes",
        `<ul>${ctx.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`,
      ),
    );
  }
  for (const [i, v] of volumes.entries()) {
    const liver = sliceRanges(v.slices, (p) => p >= 1) || "none";
    const lesion = sliceRanges(v.slices, (p) => p === 2) || "none";
    const strip = v.slices.map((s) =>
      `<figure style="border-color:${classColor(s.prediction)}" title="slice ${s.slice}: ${
        escapeHtml(probText(s, classNames))
      }">${
        shot(s, size, 96, `slice ${s.slice}: ${classNames[s.prediction]}`)
      }<figcaption>${s.slice}</figcaption></figure>`
    ).join("");
    parts.push(section(
      `volume-${i}`,
      v.input,
      `<p>Liver (liver or liver + lesion) on slices <b>${
        escapeHtml(liver)
      }</b>; lesion on slices <b>${escapeHtml(lesion)}</b>.</p><div class="strip">${strip}</div>`,
      `${v.detail}; ${v.slices.length} slices from inferior (0) to superior, each bordered in its ` +
        "predicted class's colour with its Grad-CAM overlay (hover for the plain slice, hold the " +
        "pointer for the probabilities).",
    ));
  }
  if (images.length > 0) {
    const cards = images.map((r) => {
      const s = r.slices[0];
      return `<figure class="shot">${
        shot(s, size, 200, `${r.input}: ${classNames[s.prediction]}`)
      }<figcaption><div>${pill(s.prediction, classNames)}</div>${
        probBars(s, classNames)
      }<div class="id" title="${escapeHtml(r.input)}">${
        escapeHtml(basename(r.input))
      }</div><div class="id">${escapeHtml(r.detail)}</div></figcaption></figure>`;
    }).join("");
    parts.push(section(
      "images",
      "Slices",
      `<div class="cards">${cards}</div>`,
      "Each slice with its predicted class, the softmax probabilities and the Grad-CAM heat map " +
        "of the predicted class (red: the regions that raised its score; hover for the plain slice).",
    ));
  }
  return page(ctx.title, ctx.subtitle, "", parts.join("\n"));
}
