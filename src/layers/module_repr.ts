/**
 * `String(model)`, like PyTorch's `print(model)`: the module tree, each
 * child under its name with its class and settings (the sizes, flags and
 * names it was made with, read from its fields and getters, under this
 * library's camelCase names), weights left out (`console.log(model)` shows
 * the values).
 *
 * ```text
 * Sequential(
 *   (0): Conv2d(inChannels=1, outChannels=6, kernelSize=[3, 3], stride=[1, 1], ...)
 *   (1): ReLU(inplace=false)
 * )
 * ```
 *
 * @module
 */

/** What the repr reads of a module. */
interface Tree {
  namedChildren(): Iterable<[string, Tree]>;
}

/** Not settings: the mode, a container's length, a count of batches seen, an instance norm's input ranks. */
const SKIP = new Set(["training", "length", "numBatchesTracked", "ranks", "padsInput"]);

/** A number, flag, name or short list of numbers (a kernel size, a padding). */
function isSetting(v: unknown): boolean {
  return typeof v === "number" || typeof v === "boolean" || typeof v === "string" ||
    (Array.isArray(v) && v.length <= 8 && v.every((x) => typeof x === "number"));
}

function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.join(", ")}]`;
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/**
 * `m`'s settings: its own fields, then the getters of its classes below
 * `stop` (Module's prototype), a base class's first (a pool's stride and
 * padding, then MaxPool2d's dilation and ceilMode, torch's order). A getter
 * that throws is one of torch's snake_case names (a hint), so it is
 * skipped, as are tensors and modules.
 */
function settings(m: object, children: Set<string>, stop: object): string[] {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(m)) {
    if (!SKIP.has(k) && !children.has(k) && isSetting(v)) out.set(k, show(v));
  }
  const protos: object[] = [];
  for (let p = Object.getPrototypeOf(m); p !== null && p !== stop; p = Object.getPrototypeOf(p)) {
    protos.unshift(p);
  }
  for (const p of protos) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get === undefined || out.has(k) || SKIP.has(k) || k.includes("_")) continue;
      let v: unknown;
      try {
        v = d.get.call(m);
      } catch {
        continue;
      }
      if (isSetting(v)) out.set(k, show(v));
    }
  }
  // A layer's optional bias, last, as torch's repr gives it (bias=False).
  if (Object.hasOwn(m, "bias")) {
    // A parametrized weight (an accessor) is there: reading it would compute it.
    const weight = Object.getOwnPropertyDescriptor(m, "weight");
    const hasWeight = weight !== undefined && (weight.get !== undefined || weight.value != null);
    if (out.has("eps") && weight !== undefined) normSettings(m, out, hasWeight);
    else out.set("bias", String((m as { bias: unknown }).bias != null));
  }
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/**
 * A normalisation's (eps, and weight beside bias) flags as torch prints
 * them, where its class has no getters of its own: `affine=` for weight and
 * bias together (`elementwiseAffine=` for a LayerNorm, which has
 * `normalizedShape`), and `trackRunningStats=` where it has momentum and
 * running statistics.
 */
function normSettings(m: object, out: Map<string, string>, affine: boolean): void {
  if (!out.has("affine") && !out.has("elementwiseAffine")) {
    out.set(out.has("normalizedShape") ? "elementwiseAffine" : "affine", String(affine));
  }
  if (out.has("momentum") && !out.has("trackRunningStats") && "runningMean" in m) {
    out.set("trackRunningStats", String((m as { runningMean: unknown }).runningMean != null));
  }
}

/**
 * @internal `m`'s own settings as its line of `String(m)` shows them
 * (`kernelSize=3, stride=2, ...`), children left out: what a copy of `m`
 * must agree on; `stop` is Module's prototype.
 */
export function settingsText(m: Tree, stop: object): string {
  return settings(m, new Set([...m.namedChildren()].map(([k]) => k)), stop).join(", ");
}

/** @internal torch's `print(model)` text of `m` (see the module doc); `stop` is Module's prototype. */
export function moduleRepr(m: Tree, stop: object): string {
  const kids = [...m.namedChildren()];
  const own = settings(m, new Set(kids.map(([k]) => k)), stop).join(", ");
  const name = (m as { constructor: { name: string } }).constructor.name;
  if (kids.length === 0) return `${name}(${own})`;
  const lines = kids.map(([k, c]) => `  (${k}): ${moduleRepr(c, stop).replaceAll("\n", "\n  ")}`);
  return `${name}(${own === "" ? "" : `\n  ${own}`}\n${lines.join("\n")}\n)`;
}
