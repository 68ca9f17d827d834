/**
 * Fine-tuning from pretrained weights, as torchvision and timm users do it
 * (`resnet50(weights=...)`, timm's `pretrained=True, in_chans=1,
 * num_classes=3`): `loadPretrained` loads an ImageNet state dict (or a
 * whole checkpoint) into a zoo model built for one-channel CT and three
 * classes, adapting the first convolution to the input channels with
 * timm's rule (`adaptInputConv`) and leaving a head of another class count
 * at its initialisation, and says what it did in a report.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { tensor } from "../tensor/ops/creation.ts";
import { Module } from "../layers/module.ts";
import { Conv1d } from "../layers/conv1d.ts";
import { Conv2d } from "../layers/conv.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { Linear } from "../layers/linear.ts";
import { checkArity, checkCall } from "../options.ts";
import { legacyMlpKey } from "./vit_blocks.ts";
import { VisionTransformer } from "./vit.ts";
import { Inception3 } from "./inception.ts";
import { GoogLeNet } from "./googlenet.ts";
import {
  absentAuxHeads,
  type AuxHeadSpec,
  builtAuxHeads,
  GOOGLENET_AUX_HEADS,
  INCEPTION_AUX_HEADS,
  keysUnder,
} from "./aux_heads.ts";
import { resizePosEmbedding } from "./vit_embeddings.ts";

const ADAPT_USAGE = "models.adaptInputConv(conv1Weight, 1)";

/**
 * A first convolution's weight [out, in, ...kernel] (float32, a 1-D, 2-D or
 * 3-D convolution's) adapted to `inChannels` input channels with timm's rule
 * (`adapt_input_conv`), as a new tensor on the weight's device (values only:
 * no gradient is recorded):
 *
 * - the same count: unchanged (a copy);
 * - 1 channel: the sum over the input channels (RGB filters summed, so a
 *   grey image gives what the RGB one of the same grey gave); from more than
 *   3 channels (a space-to-depth stem, `in` a multiple of 3) each run of 3
 *   is summed, giving in / 3 channels, as timm does;
 * - any other count from 3 channels: the RGB filters repeated cyclically
 *   (R, G, B, R, ...) to `inChannels` and scaled by 3 / inChannels, so the
 *   response to a uniform input keeps its size.
 *
 * Other conversions (4 channels to 2, 1 to 3) have no rule and throw, as
 * timm's does (the same count, which timm refuses outside 1 and 3, is
 * allowed here).
 *
 * @example
 * ```ts
 * import { models, tensor } from "@lits/vision";
 * const rgb = tensor([1, 2, 3], [1, 3, 1, 1]); // one 1x1 filter over R, G, B
 * console.log(models.adaptInputConv(rgb, 1).toList()); // [[[[6]]]]
 * console.log(models.adaptInputConv(rgb, 2).toList()); // [[[[1.5]], [[3]]]]
 * ```
 */
export function adaptInputConv(weight: Tensor, inChannels: number): Tensor {
  checkArity("models.adaptInputConv", arguments.length, 2, ADAPT_USAGE);
  if (typeof weight === "number" && (inChannels as unknown) instanceof Tensor) {
    throw new Error(
      "models.adaptInputConv: the weight comes first (timm's adapt_input_conv(in_chans, " +
        `weight) is the other way round); write ${ADAPT_USAGE}`,
    );
  }
  if (!(weight instanceof Tensor)) {
    throw new Error(
      `models.adaptInputConv: weight must be a Tensor [out, in, ...kernel], got ${
        weight === null ? "null" : typeof weight
      }; write ${ADAPT_USAGE}`,
    );
  }
  if (!Number.isInteger(inChannels) || inChannels < 1) {
    throw new Error(
      `models.adaptInputConv: inChannels must be an integer >= 1, got ${String(inChannels)}; ` +
        `write ${ADAPT_USAGE}`,
    );
  }
  if (weight.dtype !== "float32" || weight.ndim < 3 || weight.ndim > 5) {
    throw new Error(
      `models.adaptInputConv: expected a float32 convolution weight [out, in, ...kernel] with ` +
        `1 to 3 kernel dimensions, got ${weight.dtype} [${weight.shape}]`,
    );
  }
  const [out, from] = weight.shape;
  const kernel = weight.shape.slice(2);
  const k = kernel.reduce((a, b) => a * b, 1);
  const src = weight.toArray() as Float32Array;
  // to: the result's channel count; value(o, c, i): its element [o, c, i] (i: the kernel offset).
  let to: number;
  let value: (o: number, c: number, i: number) => number;
  const at = (o: number, c: number, i: number) => src[(o * from + c) * k + i];
  if (inChannels === from) {
    to = from;
    value = at;
  } else if (inChannels === 1) {
    if (from > 3 && from % 3 !== 0) {
      throw new Error(
        `models.adaptInputConv: ${from} input channels are neither RGB nor a multiple of 3 ` +
          "(a space-to-depth stem); there is no rule to sum them to 1",
      );
    }
    const group = from > 3 ? 3 : from;
    to = from > 3 ? from / 3 : 1;
    value = (o, c, i) => {
      let s = 0;
      for (let g = 0; g < group; g++) s = Math.fround(s + at(o, c * group + g, i));
      return s;
    };
  } else if (from === 3) {
    to = inChannels;
    const scale = Math.fround(3 / inChannels);
    value = (o, c, i) => Math.fround(at(o, c % 3, i) * scale);
  } else {
    throw new Error(
      `models.adaptInputConv: cannot adapt ${from} input channels to ${inChannels}: timm's rule ` +
        "sums any filters to 1 channel and repeats RGB (3-channel) filters to others; adapt " +
        "the weight yourself, or leave the layer at its initialisation",
    );
  }
  const data = new Float32Array(out * to * k);
  for (let o = 0; o < out; o++) {
    for (let c = 0; c < to; c++) {
      for (let i = 0; i < k; i++) data[(o * to + c) * k + i] = value(o, c, i);
    }
  }
  return tensor(data, [out, to, ...kernel], { device: weight.device });
}

/** Options of `loadPretrained`. */
export interface LoadPretrainedOptions {
  /**
   * Fail on any key the weights lack, any key the model lacks and any shape
   * that does not fit (besides the first convolution's input channels and
   * the classifier's classes); default true. With false those are left at
   * their initialisation and listed in the report.
   */
  strict?: boolean;
  /**
   * Adapt the first convolution's weight to the model's input channels with
   * `adaptInputConv` when they differ (default true; timm's `in_chans`).
   */
  adaptInputChannels?: boolean;
  /**
   * The module path of the first convolution (timm's `first_conv`); default:
   * the model's first Conv1d, Conv2d or Conv3d in module order (`conv1`,
   * `features.conv0`, `features.0`, `features.0.0`).
   */
  firstConv?: string;
  /**
   * The module path of the classifier (timm's `classifier`), whose weights
   * are left at their initialisation when they are absent or their class
   * count differs; default: the model's last Linear in module order (`fc`,
   * `classifier`, `classifier.6`, `classifier.1`), or without one its last
   * 2-D convolution (SqueezeNet's `classifier.1`); null: no classifier rule.
   * Unless null, the auxiliary classifiers follow the same rule (Inception
   * v3's `AuxLogits.fc`, GoogLeNet's `aux1.fc2` and `aux2.fc2`).
   */
  classifier?: string | null;
}

/** What `loadPretrained` did. */
export interface LoadPretrainedReport {
  /** The model's keys loaded from the weights (the adapted one included), in state-dict order. */
  loaded: string[];
  /** Keys whose weights were adapted (the first convolution's), with the shapes before and after. */
  adapted: { name: string; from: number[]; to: number[] }[];
  /**
   * A ViT's `encoder.pos_embedding` resized to the model's image size
   * (`interpolateEmbeddings`, bicubic), with the shapes before and after.
   */
  interpolated: { name: string; from: number[]; to: number[]; mode: "bicubic" }[];
  /**
   * The model's keys left at their initialisation: the classifier's (and an
   * auxiliary classifier's) when its class count differs or the weights have
   * none, an auxiliary classifier's whole when the weights have none of it,
   * and with `strict: false`
   * those whose shape does not fit; `reason` says why, `from` is the
   * weights' shape (null when they lack it), `to` the model's.
   */
  skipped: { name: string; reason: string; from: number[] | null; to: number[] }[];
  /**
   * The weights' keys of auxiliary classifiers the model was built without
   * (Inception v3's `AuxLogits`, GoogLeNet's `aux1` and `aux2`, with
   * `auxLogits: false`), not loaded, as torchvision's
   * `inception_v3(weights=..., aux_logits=False)` drops them; `shape` is the
   * weights'.
   */
  dropped: { name: string; reason: string; shape: number[] }[];
  /** With `strict: false`: the model's keys the weights lack (left at their initialisation). */
  missingKeys: string[];
  /** With `strict: false`: the weights' keys the model lacks (ignored). */
  unexpectedKeys: string[];
  /**
   * torchvision's legacy names renamed: DenseNet's (`norm.1.weight` to
   * `norm1.weight`) and the ViTs' MLP (`mlp.linear_1.weight` to `mlp.0.weight`).
   */
  renamed: { from: string; to: string }[];
  /** The prefix taken off the weights' keys (`module.` of DistributedDataParallel), or null. */
  strippedPrefix: string | null;
  /** The checkpoint key that held the state dict ("state_dict", "model"...), or null for a state dict. */
  stateKey: string | null;
}

const LOAD_USAGE = "models.loadPretrained(model, stateDict, { strict: true })";
const LOAD_KEYS = ["strict", "adaptInputChannels", "firstConv", "classifier"] as const;
/** Where checkpoints keep the state dict, in the order looked for (scripts/export_pth.py's). */
const STATE_KEYS = ["state_dict", "model_state_dict", "model", "net"] as const;
/** torchvision's DenseNet `_load_state_dict` pattern: `denselayer1.norm.1.weight` is `norm1`'s. */
const LEGACY_DENSE =
  /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$/;
const PREFIX = "module.";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function entriesOf(v: Map<unknown, unknown> | Record<string, unknown>): [string, unknown][] {
  return v instanceof Map ? [...v.entries()].map(([k, t]) => [String(k), t]) : Object.entries(v);
}

/**
 * The state dict in `value` (a Map or object of tensors, or a checkpoint
 * holding one under state_dict / model_state_dict / model / net) and the
 * key path it was under.
 */
function findStateDict(
  value: unknown,
  path: string[] = [],
): { state: Map<string, Tensor>; key: string | null } {
  const where = path.length ? `the checkpoint's '${path.join(".")}'` : "the second argument";
  if (!(value instanceof Map) && !isPlainObject(value)) {
    const what = value instanceof Module
      ? `a ${value.constructor.name} (a module); pass its stateDict()`
      : value instanceof Tensor
      ? "a Tensor"
      : value === null
      ? "null"
      : typeof value === "function"
      ? "a function"
      : Array.isArray(value)
      ? "an array"
      : typeof value;
    throw new Error(
      `models.loadPretrained: ${where} must be a state dict (a Map or object of tensors, as ` +
        `io.loadSafetensors and io.load give) or a checkpoint holding one, got ${what}; write ` +
        LOAD_USAGE,
    );
  }
  const entries = entriesOf(value);
  if (entries.every(([, t]) => t instanceof Tensor)) {
    return {
      state: new Map(entries as [string, Tensor][]),
      key: path.length ? path.join(".") : null,
    };
  }
  const has = new Map(entries);
  for (const key of STATE_KEYS) {
    if (has.has(key)) return findStateDict(has.get(key), [...path, key]);
  }
  const keys = entries.map(([k]) => k);
  throw new Error(
    `models.loadPretrained: cannot find the state dict in ${where}: it holds ` +
      `${keys.slice(0, 12).join(", ")}${keys.length > 12 ? ", ..." : ""} and none of ` +
      `${STATE_KEYS.join(", ")}; pass the state dict itself (ckpt.yourKey)`,
  );
}

/** The first convolution's module path, by module order. */
function firstConvOf(model: Module): string | null {
  for (const [name, m] of model.namedModules()) {
    if (m instanceof Conv2d || m instanceof Conv3d || m instanceof Conv1d) return name;
  }
  return null;
}

/**
 * The classifier's module path: the last Linear by module order, or in a
 * model without one the last 2-D convolution (SqueezeNet's `classifier.1`).
 */
function classifierOf(model: Module): string | null {
  let linear: string | null = null, conv: string | null = null;
  for (const [name, m] of model.namedModules()) {
    if (m instanceof Linear) linear = name;
    else if (m instanceof Conv2d) conv = name;
  }
  return linear ?? conv;
}

/**
 * The auxiliary classifiers that end in the class count as the main one
 * does (torchvision's Inception v3 `AuxLogits.fc`, GoogLeNet's `aux1.fc2`
 * and `aux2.fc2`), those the model was built with.
 */
function auxClassifiersOf(model: Module): string[] {
  const paths = model instanceof Inception3
    ? ["AuxLogits.fc"]
    : model instanceof GoogLeNet
    ? ["aux1.fc2", "aux2.fc2"]
    : [];
  const modules = new Map(model.namedModules());
  return paths.filter((p) => modules.get(p) instanceof Linear);
}

/**
 * @internal The auxiliary classifiers of the model's architecture (built
 * or not): Inception v3's and GoogLeNet's, else null.
 */
export function auxHeadsOf(model: Module): AuxHeadSpec | null {
  return model instanceof Inception3
    ? INCEPTION_AUX_HEADS
    : model instanceof GoogLeNet
    ? GOOGLENET_AUX_HEADS
    : null;
}

/** A classifier's own keys (its weight and bias), not its submodules'. */
function headKeys(own: Map<string, Tensor>, path: string): string[] {
  return [...own.keys()].filter((k) =>
    k.startsWith(`${path}.`) && !k.slice(path.length + 1).includes(".")
  );
}

/**
 * Whether a classifier is new to the weights, so left whole at its
 * initialisation: they have none of its keys, or one of another class count
 * (dim 0) that fits otherwise. A part missing from a classifier of this
 * count is a missing key, and one that fits loads.
 */
function isNewHead(keys: string[], src: Map<string, Tensor>, own: Map<string, Tensor>): boolean {
  const fits = keys.every((k) => {
    const t = src.get(k);
    return t !== undefined && sameShape(t.shape, own.get(k)!.shape);
  });
  const present = keys.filter((k) => src.has(k));
  return !fits && (present.length === 0 || (
    present.some((k) => src.get(k)!.shape[0] !== own.get(k)!.shape[0]) &&
    present.every((k) => {
      const t = src.get(k)!, d = own.get(k)!;
      return t.ndim === d.ndim && sameShape(t.shape.slice(1), d.shape.slice(1));
    })
  ));
}

/** A module path option: must name a submodule of the model. */
function checkPath(model: Module, option: string, path: unknown): string {
  if (typeof path !== "string") {
    throw new Error(
      `models.loadPretrained: ${option} must be a module path (a string such as "conv1"), got ` +
        `${path === null ? "null" : typeof path}`,
    );
  }
  try {
    model.getSubmodule(path);
  } catch (e) {
    throw new Error(`models.loadPretrained: ${option} '${path}': ${(e as Error).message}`);
  }
  return path;
}

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;
const sameShape = (a: readonly number[], b: readonly number[]) => a.join() === b.join();

/** A list for a message: up to 12 names, then how many more. */
function listed(names: string[]): string {
  const shown = names.slice(0, 12).join(", ");
  return `[${shown}${names.length > 12 ? `, ... ${names.length - 12} more` : ""}]`;
}

/**
 * A ViT's weights for another image size: their `encoder.pos_embedding`
 * (in `src`) resized to the model's grid, as torchvision's
 * `interpolate_embeddings` (bicubic); the new tensor goes to `made`.
 */
function resizeVitEmbedding(
  model: Module,
  src: Map<string, Tensor>,
  own: Map<string, Tensor>,
  report: LoadPretrainedReport,
  made: Tensor[],
): void {
  const name = "encoder.pos_embedding";
  const pos = src.get(name), ownPos = own.get(name);
  if (
    !(model instanceof VisionTransformer) || !(pos instanceof Tensor) || ownPos === undefined ||
    pos.dtype !== "float32" || pos.ndim !== 3 || pos.shape[0] !== 1 ||
    pos.shape[2] !== ownPos.shape[2] || pos.shape[1] === ownPos.shape[1] ||
    !Number.isInteger(Math.sqrt(pos.shape[1] - 1))
  ) return; // nothing to resize, or a shape the strict check reports
  const grid = model.imageSize / model.patchSize;
  const resized = resizePosEmbedding("models.loadPretrained", pos, grid, "bicubic");
  made.push(resized);
  src.set(name, resized);
  report.interpolated.push({ name, from: [...pos.shape], to: [...resized.shape], mode: "bicubic" });
}

/**
 * Loads pretrained weights into `model` the way fine-tuning needs, as
 * torchvision's `weights=` plus timm's `in_chans` / `num_classes` do:
 *
 * - `stateDict` is a state dict (Map or object of tensors, what
 *   `io.loadSafetensors` and `io.load` give) or a checkpoint dict holding one
 *   under `state_dict`, `model_state_dict`, `model` or `net` (the first
 *   present, as scripts/export_pth.py looks); a `module.` prefix
 *   (DistributedDataParallel's) is taken off, and torchvision's legacy
 *   DenseNet names (`denselayer1.norm.1.weight`) and ViT MLP names
 *   (`mlp.linear_1.weight`) are renamed as torchvision's own loaders rename
 *   them (`norm1.weight`, `mlp.0.weight`);
 * - the first convolution's weight is adapted to the model's input channels
 *   with `adaptInputConv` (timm's rule: RGB summed to one channel) where
 *   they differ (`adaptInputChannels`, default true);
 * - into a `VisionTransformer` built for another image size than the
 *   weights' (224 weights, 256 or 512 CT slices), `encoder.pos_embedding`
 *   is resized as torchvision's `interpolate_embeddings` resizes it
 *   (`models.interpolateEmbeddings`: bicubic, align_corners=True, the class
 *   token's entry kept) and listed in `interpolated`; for bilinear, call
 *   `interpolateEmbeddings` on the weights first;
 * - the classifier (default: the model's last Linear, so `fc` of a ResNet
 *   and `classifier` of a DenseNet; in a model without one its last
 *   convolution, SqueezeNet's `classifier.1`) stays at its initialisation when its
 *   class count differs from the weights' or the weights have none, and so
 *   do the auxiliary classifiers (Inception v3's `AuxLogits.fc`, GoogLeNet's
 *   `aux1.fc2` and `aux2.fc2`);
 * - into an Inception v3 or GoogLeNet built without its auxiliary
 *   classifiers (`auxLogits: false`), the weights' `AuxLogits.*` (`aux1.*`,
 *   `aux2.*`) are dropped and listed in `dropped`, as torchvision's
 *   `inception_v3(weights=..., aux_logits=False)` drops the head after
 *   loading; into one built with them, weights that have none of a head
 *   (saved from torchvision's `googlenet(weights=...)`, which drops them)
 *   leave it whole at its initialisation (`skipped`; not with
 *   `classifier: null`);
 * - any other missing key, unexpected key or shape that does not fit
 *   throws one Error listing them, unless `strict: false`; buffers (batch
 *   norm running statistics, `num_batches_tracked`) load as
 *   `loadStateDict` loads them.
 *
 * Everything is checked before anything is written: when it throws, the
 * model is as it was. The weights' tensors are copied, not taken.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * using imagenet = models.resnet18(); // stands in for torchvision's weights (3 channels, 1000 classes)
 * using net = models.resnet18({ inChannels: 1, numClasses: 3 });
 * const report = models.loadPretrained(net, imagenet.stateDict());
 * console.log(report.adapted[0]); // { name: "conv1.weight", from: [64, 3, 7, 7], to: [64, 1, 7, 7] }
 * console.log(report.skipped.map((s) => s.name)); // ["fc.weight", "fc.bias"]
 * ```
 */
export function loadPretrained(
  model: Module,
  stateDict: Map<string, unknown> | Record<string, unknown>,
  options: LoadPretrainedOptions = {},
): LoadPretrainedReport {
  const o = checkCall<LoadPretrainedOptions>(
    "models.loadPretrained",
    arguments.length,
    3,
    options,
    LOAD_KEYS,
    LOAD_USAGE,
  );
  if (!(model instanceof Module)) {
    throw new Error(
      `models.loadPretrained: the first argument is the model (an nn.Module), got ${
        model === null ? "null" : typeof model
      }; write ${LOAD_USAGE}`,
    );
  }
  for (const k of ["strict", "adaptInputChannels"] as const) {
    if (o[k] !== undefined && typeof o[k] !== "boolean") {
      throw new Error(`models.loadPretrained: ${k} must be true or false, got ${String(o[k])}`);
    }
  }
  const strict = o.strict ?? true;
  const adapt = o.adaptInputChannels ?? true;
  const firstConv = o.firstConv === undefined
    ? firstConvOf(model)
    : checkPath(model, "firstConv", o.firstConv);
  const classifier = o.classifier === undefined
    ? classifierOf(model)
    : o.classifier === null
    ? null
    : checkPath(model, "classifier", o.classifier);

  const found = findStateDict(stateDict);
  const own = model.stateDict();
  const report: LoadPretrainedReport = {
    loaded: [],
    adapted: [],
    interpolated: [],
    skipped: [],
    dropped: [],
    missingKeys: [],
    unexpectedKeys: [],
    renamed: [],
    strippedPrefix: null,
    stateKey: found.key,
  };
  // The weights under the model's names: DDP's prefix off, legacy DenseNet names renamed.
  const ownPrefixed = [...own.keys()].some((k) => k.startsWith(PREFIX));
  const anyPrefixed = [...found.state.keys()].some((k) => k.startsWith(PREFIX));
  if (anyPrefixed && !ownPrefixed) report.strippedPrefix = PREFIX;
  const src = new Map<string, Tensor>();
  for (const [key, t] of found.state) {
    let name = report.strippedPrefix && key.startsWith(PREFIX) ? key.slice(PREFIX.length) : key;
    const legacy = LEGACY_DENSE.exec(name);
    const renamed = legacy ? legacy[1] + legacy[2] : legacyMlpKey(name);
    if (renamed !== null) {
      report.renamed.push({ from: name, to: renamed });
      name = renamed;
    }
    if (src.has(name)) {
      throw new Error(
        `models.loadPretrained: the weights hold '${name}' twice (as '${key}' and another ` +
          "spelling); pass one",
      );
    }
    src.set(name, t);
  }
  // Auxiliary classifiers the model was built without: their weights are
  // dropped, as torchvision's builders drop the heads after loading.
  const aux = auxHeadsOf(model);
  for (const head of aux === null ? [] : absentAuxHeads(model, aux)) {
    const reason = `the model was built without its auxiliary classifier ${head} ` +
      `(auxLogits: false); torchvision's ${aux?.torchDrop} drops it too`;
    for (const name of keysUnder(src.keys(), [head])) {
      report.dropped.push({ name, shape: [...src.get(name)!.shape], reason });
      src.delete(name);
    }
  }
  // Auxiliary classifiers the weights have none of (saved from a model
  // without them) stay whole at their initialisation, as a new classifier.
  const untrained = classifier === null || aux === null
    ? []
    : builtAuxHeads(model, aux).filter((p) => keysUnder(src.keys(), [p]).length === 0);

  const convKey = firstConv === null ? null : `${firstConv}.weight`;
  // The classifier, and the auxiliary ones that end in the same class count.
  const heads = classifier === null ? [] : [
    { path: classifier, what: "the classifier" },
    ...auxClassifiersOf(model).filter((p) => p !== classifier).map((p) => ({
      path: p,
      what: `the auxiliary classifier ${p}`,
    })),
  ].map((h) => ({ ...h, keys: headKeys(own, h.path) }));
  const problems: string[] = [];
  const missing: string[] = [];
  const mismatched: LoadPretrainedReport["skipped"] = [];
  const load = new Map<string, Tensor>();
  const made: Tensor[] = [];
  const consumed = new Set<string>();
  try {
    resizeVitEmbedding(model, src, own, report, made);
    // Each classifier: loaded when it fits, else left whole at its initialisation.
    const newHeads = heads.filter((h) => isNewHead(h.keys, src, own));
    for (const [name, dst] of own) {
      const t = src.get(name);
      const noHead = untrained.find((p) => name.startsWith(`${p}.`));
      if (noHead !== undefined) {
        report.skipped.push({
          name,
          from: null,
          to: [...dst.shape],
          reason: `the auxiliary classifier ${noHead}: none of it in the weights (saved ` +
            `without it, as torchvision's ${aux?.torchDrop} state dict is)`,
        });
        continue;
      }
      const newHead = newHeads.find((h) => h.keys.includes(name));
      if (newHead) {
        if (t) consumed.add(name);
        report.skipped.push({
          name,
          from: t ? [...t.shape] : null,
          to: [...dst.shape],
          reason: t
            ? `${newHead.what}: ${shapeText(t.shape)} in the weights, ${
              shapeText(dst.shape)
            } in the model (another class count)`
            : `${newHead.what}: not in the weights`,
        });
        continue;
      }
      if (t === undefined) {
        // A batch norm's step count the weights lack is set to 0 by loadStateDict, as torch's.
        if (!name.endsWith("num_batches_tracked")) missing.push(name);
        continue;
      }
      consumed.add(name);
      if (sameShape(t.shape, dst.shape)) {
        if (t.dtype === "float32" && dst.dtype === "int32") {
          mismatched.push({
            name,
            from: [...t.shape],
            to: [...dst.shape],
            reason: "float32 in the weights, int32 in the model",
          });
          continue;
        }
        load.set(name, t);
        continue;
      }
      const channelsOnly = t.ndim === dst.ndim && t.ndim >= 3 && t.shape[0] === dst.shape[0] &&
        sameShape(t.shape.slice(2), dst.shape.slice(2));
      if (name === convKey && adapt && channelsOnly && t.dtype === "float32") {
        let adapted: Tensor;
        try {
          adapted = adaptInputConv(t, dst.shape[1]);
        } catch (e) {
          const reason = `${shapeText(t.shape)} in the weights, ${shapeText(dst.shape)} in ` +
            `the model: ${(e as Error).message.replace(/^models\.\w+: /, "")}`;
          mismatched.push({ name, from: [...t.shape], to: [...dst.shape], reason });
          continue;
        }
        made.push(adapted);
        if (sameShape(adapted.shape, dst.shape)) {
          load.set(name, adapted);
          report.adapted.push({ name, from: [...t.shape], to: [...dst.shape] });
          continue;
        }
      }
      const hint = name === convKey && channelsOnly && !adapt
        ? " (the first convolution's input channels: adaptInputChannels: true adapts them)"
        : "";
      mismatched.push({
        name,
        from: [...t.shape],
        to: [...dst.shape],
        reason: `${shapeText(t.shape)} in the weights, ${shapeText(dst.shape)} in the model${hint}`,
      });
    }
    const unexpected = [...src.keys()].filter((k) => !own.has(k) && !consumed.has(k));
    if (strict) {
      if (missing.length > 0) problems.push(`missing keys ${listed(missing)}`);
      if (unexpected.length > 0) problems.push(`unexpected keys ${listed(unexpected)}`);
      if (mismatched.length > 0) {
        const shown = mismatched.slice(0, 12).map((m) => `'${m.name}' ${m.reason}`);
        if (mismatched.length > 12) shown.push(`... ${mismatched.length - 12} more`);
        problems.push(`shapes that do not fit: ${shown.join("; ")}`);
      }
      if (problems.length > 0) {
        throw new Error(
          `models.loadPretrained: the weights do not fit this ${model.constructor.name}: ` +
            `${problems.join("; ")}. Check that the weights are of this architecture; ` +
            "{ strict: false } loads what fits and leaves the rest at its initialisation",
        );
      }
    } else {
      report.missingKeys = missing;
      report.unexpectedKeys = unexpected;
      report.skipped.push(...mismatched);
    }
    model.loadStateDict(load, { strict: false });
    report.loaded = [...own.keys()].filter((k) => load.has(k));
    return report;
  } finally {
    for (const t of made) t.dispose();
  }
}
