/**
 * torch's keyword arguments ported as one options object where a function of
 * ours takes them in place: `F.normalize(x, dim=0)` written
 * `F.normalize(x, { dim: 0 })` put the object into `p`, and the error spoke
 * of `norm`'s p. `refuseKeywords` throws instead, spelling the call to write
 * with the user's own values in their places.
 *
 * @module
 */

/** `negative_slope` -> `negativeSlope`. */
const camel = (k: string) => k.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A value as the call to write shows it: a tensor by its option name. */
function show(name: string, v: unknown): string {
  if (v === undefined || v === null) return "null";
  if (typeof v === "number") return Object.is(v, -0) ? "0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "object" && "shape" in v) return name;
  return JSON.stringify(v) ?? String(v);
}

/**
 * @internal throws when `value`, the argument in the first of the slots
 * `names` (ours, in order, with their `defaults`), is a plain object: torch's
 * keywords given as options. `lead` is the call's text before that slot
 * (`x`, `x, [1, 2]`). With `optionsAfter` the op takes an options object
 * after those slots, and the other keys are shown in it. Other values pass,
 * for the function's own checks.
 */
export function refuseKeywords(
  where: string,
  value: unknown,
  lead: string,
  names: readonly string[],
  defaults: readonly unknown[],
  optionsAfter = false,
): void {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return;
  const given = value as Record<string, unknown>;
  // torch's keepdim is our keepDim: names match without regard to case.
  const ours = (k: string) => names.find((n) => n.toLowerCase() === camel(k).toLowerCase()) ?? k;
  const byName = new Map(Object.keys(given).map((k) => [ours(k), given[k]]));
  const unknown = [...byName.keys()].filter((k) => !names.includes(k));
  const last = Math.max(-1, ...names.map((n, i) => byName.has(n) ? i : -1));
  // torch's training=self.training (the dropouts' idiom): the call to write says this.training,
  // not the mode it ran in now, which copied as a literal would fix dropout on or off for good.
  const training = typeof byName.get("training") === "boolean";
  const values = names.slice(0, last + 1).map((n, i) =>
    n === "training" && training
      ? "this.training"
      : show(n, byName.has(n) ? byName.get(n) : defaults[i])
  );
  // Keys past the positional ones go into the options object, where the op takes one, in our
  // spelling (ceil_mode -> ceilMode), so that the call written runs as it is.
  const rest = optionsAfter ? unknown.map((k) => `${camel(k)}: ${show(k, byName.get(k))}`) : [];
  const tail = rest.length ? [`{ ${rest.join(", ")} }`] : [];
  const call = `${where}(${[lead, ...values, ...tail].join(", ")})`;
  const list = names.length === 1
    ? names[0]
    : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  throw new Error(
    `${where}: takes ${list} as ${
      names.length === 1 ? "a positional argument" : "positional arguments"
    }, not in ` +
      `an options object (torch's keyword${names.length === 1 ? " is" : "s are"} positional here)` +
      (unknown.length && !optionsAfter
        ? `; torch's ${unknown.join(", ")} has no counterpart here`
        : "") +
      `: write ${call}` +
      (training ? ` (this.training in a module's forward; a literal true or false elsewhere)` : ""),
  );
}

/**
 * @internal throws when the bias slot of a convolution or `linear` holds a
 * plain object: torch's `F.conv2d(x, w, bias=b, padding=1)` or
 * `F.conv2d(x, w, padding=1)` ported as one options object. The bias is the
 * third argument here and the other options go fourth (`options` false: the
 * op takes none, as `linear`).
 */
export function refuseBiasOptions(where: string, bias: unknown, options = true): void {
  if (bias === null || typeof bias !== "object" || Array.isArray(bias)) return;
  const proto = Object.getPrototypeOf(bias);
  if (proto !== Object.prototype && proto !== null) return;
  const entries = Object.entries(bias as Record<string, unknown>);
  const hasBias = entries.some(([k]) => k === "bias");
  const rest = entries.filter(([k]) => k !== "bias")
    .map(([k, v]) => `${camel(k)}: ${show(camel(k), v)}`);
  const call = `${where}(x, weight, ${hasBias ? "bias" : "null"}` +
    (options && rest.length ? `, { ${rest.join(", ")} })` : ")");
  throw new Error(
    `${where}: the third argument is the bias (a Tensor or null), got an options object; ` +
      (options ? "the bias goes third and the other options fourth" : "the bias goes third") +
      (!options && rest.length ? ` (it takes no options: ${rest.join(", ")})` : "") +
      `: write ${call}`,
  );
}
