/**
 * A model's state dict and module tree as lines, the form in which
 * scripts/make_mobile_fixtures.py and make_mobile2_fixtures.py store
 * torchvision's (gzip'd, base64): "name shape dtype" per state-dict entry,
 * "name class hyper-parameters" per module (its `describe`), and the
 * comparison that names the first line that differs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { nn } from "../mod.ts";

/** Lines the generator gzip'd and base64-encoded. */
export async function unpack(packed: string): Promise<string[]> {
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return (await new Response(stream).text()).split("\n");
}

/** A float hyper-parameter as the generator's `scaled`. */
const scaled = (v: number) => Math.floor(v * 1e9 + 0.5);
const pair = (v: unknown) => (Array.isArray(v) ? v : [v, v]) as number[];

/** Our classes under torchvision's names (both libraries call their units InvertedResidual). */
const TORCH_CLASS: Record<string, string> = {
  InvertedResidualV3: "InvertedResidual",
  ShuffleInvertedResidual: "InvertedResidual",
};

/** A module as the generator's `describe`: "name class hyper-parameters". */
export function describe(name: string, m: nn.Module): string {
  const t = TORCH_CLASS[m.constructor.name] ?? m.constructor.name;
  let f: unknown[] = [];
  if (m instanceof nn.Conv2d) {
    const [out, inPerGroup, kh, kw] = m.weight.shape, o = m.options;
    f = [
      inPerGroup * o.groups,
      out,
      kh,
      kw,
      ...pair(o.stride ?? 1),
      ...pair(o.padding ?? 0),
      ...pair(o.dilation ?? 1),
      o.groups,
      m.bias !== null ? 1 : 0,
    ];
  } else if (m instanceof nn.BatchNorm2d) {
    f = [m.numFeatures, scaled(m.eps), scaled(m.momentum!)];
  } else if (m instanceof nn.Dropout) f = [scaled(m.p)];
  else if (m instanceof nn.StochasticDepth) f = [scaled(m.p), m.mode];
  else if (m instanceof nn.Linear) f = [m.inFeatures, m.outFeatures];
  else if (m instanceof nn.MaxPool2d) f = [m.kernelSize, m.stride, m.padding];
  return [name || "-", t, ...f].join(" ");
}

/** The state dict as the generator's `state_line`s. */
export const stateLines = (model: nn.Module): string[] =>
  [...model.stateDict()].map(([k, v]) =>
    `${k} ${v.shape.join(",")} ${v.dtype === "int32" ? "int64" : v.dtype}`
  );

/** The module tree as the generator's `describe` lines. */
export const moduleLines = (model: nn.Module): string[] =>
  [...model.namedModules()].map(([k, m]) => describe(k, m));

/** Compares line lists, naming the first line that differs. */
export function assertLines(ours: string[], theirs: string[], what: string): void {
  const i = ours.findIndex((l, j) => l !== theirs[j]);
  if (i >= 0 || ours.length !== theirs.length) {
    const at = i >= 0 ? i : Math.min(ours.length, theirs.length);
    assert.fail(
      `${what}: line ${at} is '${ours[at]}', torchvision's '${theirs[at]}' ` +
        `(${ours.length} lines, torchvision ${theirs.length})`,
    );
  }
}
