/**
 * What `--dropout` sets in each family of the zoo, and each model's own
 * probability: the help line said "before the last layer" for every model,
 * which is wrong for the ViTs and Swins (dropout inside the encoder, 0 by
 * default), and for AlexNet and the VGGs (two dropouts). A test checks that
 * every model that takes `dropout` is in exactly one family here.
 *
 * @module
 */
import { canonicalName, names, takesOption } from "../models/registry.ts";

/** A family of models and what their `dropout` option does. */
export interface DropoutFamily {
  /** The family's name in the help text. */
  readonly label: string;
  /** Its models (registry names). */
  readonly models: RegExp;
  /** Where the dropout acts. */
  readonly where: string;
  /** Each model's own probability (torchvision's defaults). */
  readonly defaults: Readonly<Record<string, number>>;
}

const each = (models: string[], p: number) => Object.fromEntries(models.map((m) => [m, p]));
const VGGS = ["11", "13", "16", "19"].flatMap((d) => [`vgg${d}`, `vgg${d}bn`]);

/** The families, in the zoo's order. */
export const DROPOUT_FAMILIES: readonly DropoutFamily[] = [
  {
    label: "simple",
    models: /^simple$/,
    where: "before the last layer",
    defaults: { simple: 0.5 },
  },
  {
    label: "alexnet, the vggs",
    models: /^(alexnet|vgg\d+(bn)?)$/,
    where: "both dropouts of the classifier",
    defaults: each(["alexnet", ...VGGS], 0.5),
  },
  {
    label: "the squeezenets",
    models: /^squeezenet/,
    where: "before the final convolution",
    defaults: each(["squeezenet1_0", "squeezenet1_1"], 0.5),
  },
  {
    label: "the mobilenets and efficientnets",
    models: /^(mobilenetv[23]|efficientnet)/,
    where: "before the last linear layer",
    defaults: {
      mobilenetv2: 0.2,
      mobilenetv3large: 0.2,
      mobilenetv3small: 0.2,
      efficientnetb0: 0.2,
      efficientnetb1: 0.2,
      efficientnetb2: 0.3,
      efficientnetb3: 0.3,
      efficientnetb4: 0.4,
      efficientnetb5: 0.4,
      efficientnetb6: 0.5,
      efficientnetb7: 0.5,
      efficientnetv2s: 0.2,
      efficientnetv2m: 0.3,
      efficientnetv2l: 0.4,
    },
  },
  {
    label: "inception_v3, googlenet",
    models: /^(inception_v3|googlenet)$/,
    where: "before the last linear layer (googlenet's auxiliary heads keep their 0.7)",
    defaults: { inception_v3: 0.5, googlenet: 0.2 },
  },
  {
    label: "the vits",
    models: /^vit_/,
    where: "in the encoder: after the position embedding, after each attention, in each MLP",
    defaults: each(["vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32", "vit_h_14"], 0),
  },
  {
    label: "the swins",
    models: /^swin_/,
    where: "in the blocks: after each attention's projection, in each MLP",
    defaults: each(["swin_t", "swin_s", "swin_b"], 0),
  },
];

/** The family of model `name` (any spelling), or null when it takes no dropout. */
export function dropoutFamily(name: string): DropoutFamily | null {
  const key = canonicalName(name);
  if (key === null || !takesOption(key, "dropout")) return null;
  return DROPOUT_FAMILIES.find((f) => f.models.test(key)) ?? null;
}

/**
 * The `--dropout` help line: where it acts in each family.
 *
 * @example
 * ```ts
 * import { dropoutHelp } from "./dropout_help.ts";
 * console.log(dropoutHelp().includes("the vits: in the encoder")); // true
 * ```
 */
export function dropoutHelp(): string {
  const families = DROPOUT_FAMILIES.map((f) => `${f.label}: ${f.where}`).join("; ");
  return `dropout probability (${families}; the other models have none and refuse it)`;
}

/**
 * The `--dropout` default shown in `--help`: the models' own
 * probabilities, grouped by value.
 *
 * @example
 * ```ts
 * import { dropoutDefaultHelp } from "./dropout_help.ts";
 * console.log(dropoutDefaultHelp().startsWith("the model's own: 0.5 for simple")); // true
 * ```
 */
export function dropoutDefaultHelp(): string {
  const byValue = new Map<number, string[]>();
  for (const m of names()) {
    const p = dropoutFamily(m)?.defaults[m];
    if (p !== undefined) byValue.set(p, [...(byValue.get(p) ?? []), m]);
  }
  const groups = [...byValue].map(([p, ms]) => `${p} for ${ms.join(", ")}`);
  return `the model's own: ${groups.join("; ")}`;
}
