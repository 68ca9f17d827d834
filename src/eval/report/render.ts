/**
 * Vega-Lite spec -> SVG text, server-side in Deno. Vega-Lite compiles the
 * spec to a Vega spec; a Vega `View` with renderer "none" runs the dataflow
 * headlessly (no DOM, no canvas) and `toSVG()` serialises the scenegraph.
 * Without a canvas Vega would guess text widths crudely; `text_width.ts`
 * gives it real font metrics.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm package; deno.json has no import map
import * as vega from "npm:vega@6";
// deno-lint-ignore no-import-prefix -- pinned npm package; deno.json has no import map
import { compile, type TopLevelSpec } from "npm:vega-lite@6";
import { installTextWidth } from "./text_width.ts";

/** A Vega-Lite specification (the one place that names the vega-lite types). */
export type Spec = TopLevelSpec;

/**
 * Renders a Vega-Lite spec to a standalone `<svg>` string.
 *
 * Vega numbers clip paths and gradients from a process-wide counter, so the
 * ids would change from one render to the next and could collide between
 * SVGs inlined in one page; they are renumbered per SVG as
 * `<idPrefix>-<name><n>`, which makes the output deterministic and the ids
 * unique per chart.
 *
 * @param spec A complete Vega-Lite spec with inline data.
 * @param idPrefix Prefix of the SVG's internal ids (default "chart").
 * @returns The SVG markup, with its own width, height and viewBox.
 * @throws When Vega-Lite cannot compile the spec or Vega cannot run it.
 */
export async function renderSvg(spec: Spec, idPrefix = "chart"): Promise<string> {
  installTextWidth();
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  // Renumber in order of first use: "clip17" -> "<prefix>-clip1".
  const ids = new Map<string, string>();
  return svg.replace(/(\bid="|url\(#|href="#)([^")]+)/g, (_, lead: string, id: string) => {
    let local = ids.get(id);
    if (local === undefined) {
      local = `${idPrefix}-${id.replace(/\d+$/, "")}${ids.size + 1}`;
      ids.set(id, local);
    }
    return lead + local;
  });
}
