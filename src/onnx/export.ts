/**
 * `exportOnnx`: a model as an ONNX file, by walking its module tree rather
 * than tracing a forward. Every module must be of a class with an emitter
 * (layers.ts, activations.ts, norms.ts, pooling.ts, resize.ts, models.ts,
 * activations_more.ts, padding.ts, norms_more.ts, layers_more.ts, densenet.ts,
 * mobile.ts, mobile_more.ts, layers_1d.ts, layers_3d.ts, resnet3d.ts, densenet3d.ts,
 * vgg_squeezenet.ts, convnext.ts, vit.ts, swin.ts),
 * or a subclass of one that keeps its forward; any other, a user's own
 * `nn.Module` with its own `forward` included, is an Error that names it,
 * since its forward cannot be read.
 *
 * @module
 */
import { Module } from "../layers/module.ts";
import { ModuleDict, ModuleList } from "../layers/containers.ts";
import { checkArity, checkOptions } from "../options.ts";
import { type Emitter, OnnxGraph, type Scope, shapeText, type Value } from "./graph.ts";
import { LAYERS } from "./layers.ts";
import { ACTIVATIONS } from "./activations.ts";
import { NORMS } from "./norms.ts";
import { POOLING } from "./pooling.ts";
import { RESIZE } from "./resize.ts";
import { MODELS } from "./models.ts";
import { ACTIVATIONS_MORE } from "./activations_more.ts";
import { PADDING } from "./padding.ts";
import { NORMS_MORE } from "./norms_more.ts";
import { LAYERS_MORE, REFUSED } from "./layers_more.ts";
import { DENSENET } from "./densenet.ts";
import { MOBILE } from "./mobile.ts";
import { MOBILE_MORE } from "./mobile_more.ts";
import { REGNET } from "./regnet.ts";
import { VGG_SQUEEZENET } from "./vgg_squeezenet.ts";
import { LAYERS_3D } from "./layers_3d.ts";
import { RESNET3D } from "./resnet3d.ts";
import { DENSENET3D } from "./densenet3d.ts";
import { CONVNEXT } from "./convnext.ts";
import { VIT } from "./vit.ts";
import { SWIN } from "./swin.ts";
import { INCEPTION } from "./inception.ts";
import { LAYERS_1D, REFUSED_1D } from "./layers_1d.ts";
import { type Dim, encodeModel, IR_VERSION, OPSET, valueInfo } from "./proto.ts";
import { describe } from "./shapes.ts";
import { prunedNames } from "../layers/prune/base.ts";
import { weightNormedNames } from "../layers/weight_norm.ts";
import { spectralNormedNames } from "../layers/spectral_norm.ts";

/** Options of `exportOnnx`. */
export interface ExportOnnxOptions {
  /**
   * The input's shape `[batch, channels, height, width]` (volumes: `[batch,
   * channels, depth, height, width]`): a string batch ("N") makes it a
   * dynamic dimension of that name, a number fixes it.
   */
  inputShape:
    | readonly [Dim, number, number, number]
    | readonly [Dim, number, number, number, number];
  /**
   * Input standardisation to put inside the graph, `(x - mean) / std`, so
   * the graph takes images as the dataset gives them (a checkpoint's
   * `model.normalize`).
   */
  normalize?: { mean: number; std: number };
  /**
   * The run's input window, before standardisation: `(x - aMin) / (aMax -
   * aMin)` clipped to [0, 1], in the image's [0, 1] units (a checkpoint's
   * recorded `ScaleIntensityRange`; see `train.windowTransform`).
   */
  inputWindow?: { aMin: number; aMax: number };
  /** Extra `metadata_props` entries (the CLI stores the model spec and class names). */
  metadata?: Record<string, string>;
}

const USAGE = 'exportOnnx(model, { inputShape: ["N", 1, 128, 128], normalize: { mean, std } })';
const EMITTERS = new Map<unknown, Emitter>([
  ...LAYERS,
  ...ACTIVATIONS,
  ...NORMS,
  ...POOLING,
  ...RESIZE,
  ...MODELS,
  ...ACTIVATIONS_MORE,
  ...PADDING,
  ...NORMS_MORE,
  ...LAYERS_MORE,
  ...DENSENET,
  ...MOBILE,
  ...MOBILE_MORE,
  ...REGNET,
  ...VGG_SQUEEZENET,
  ...LAYERS_3D,
  ...LAYERS_1D,
  ...RESNET3D,
  ...DENSENET3D,
  ...CONVNEXT,
  ...VIT,
  ...SWIN,
  ...INCEPTION,
] as [unknown, Emitter][]);

/** Names of the exportable module classes, for the error message. */
function exportable(): string {
  return [...EMITTERS.keys()].map((c) => (c as { name: string }).name).join(", ");
}

/**
 * The emitter of `m`'s class, or of the nearest class with one that it
 * extends, provided no class in between defines its own forward: an
 * emitter writes its class's forward, so a subclass that keeps it
 * (UpsamplingBilinear2d, a ResNet subclass with other defaults) is read
 * as its parent, and one that replaces it cannot be read at all.
 */
function emitterFor(path: string, m: Module): Emitter {
  const at = describe(path, m);
  for (let c = m.constructor; c && c !== Module; c = Object.getPrototypeOf(c)) {
    const refused = REFUSED.get(c) ?? REFUSED_1D.get(c);
    if (refused) throw new Error(`exportOnnx: cannot export ${at}: ${refused}`);
    const emitter = EMITTERS.get(c);
    if (emitter) return emitter;
    if (!Object.hasOwn(c.prototype, "forward")) continue;
    if (c === ModuleList || c === ModuleDict) {
      throw new Error(
        `exportOnnx: cannot export ${at}: an nn.${c.name} has no forward (the forward of ` +
          "the model holding it decides how its modules are called), so there is no " +
          "computation to export; to run layers one after another, use nn.Sequential",
      );
    }
    throw new Error(
      `exportOnnx: cannot export ${at}: ${c.name} defines its own forward, and exportOnnx ` +
        "builds the graph by walking the module tree, so it cannot read that code; build " +
        "the model as an nn.Sequential of exportable layers (or zoo models). Exportable: " +
        exportable(),
    );
  }
  throw new Error(
    `exportOnnx: cannot export ${at}: no ONNX mapping for this module type; exportable: ` +
      exportable(),
  );
}

/**
 * Runs `fn` with every module of `model` in eval mode, their own modes back
 * after, as torch.onnx.export's default: a parametrized weight is read in
 * eval mode (a spectral norm's training-mode read would run a power
 * iteration, changing the model's u and v and the exported weight).
 */
function inEvalMode<T>(model: Module, fn: () => T): T {
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  model.eval();
  try {
    return fn();
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}

function emit(graph: OnnxGraph, path: string, m: Module, x: Value): Value {
  const emitter = emitterFor(path, m);
  if (Object.hasOwn(m, "forward")) {
    // A hook (it wraps forward) or an instance's own forward: the emitter
    // writes the class's computation, so the graph would silently differ.
    const pruned = prunedNames(m);
    if (pruned.length > 0) {
      throw new Error(
        `exportOnnx: cannot export ${describe(path, m)}: it is pruned (${pruned.join(", ")}: ` +
          "a forward pre-hook recomputes them from _orig and _mask); make the pruning " +
          `permanent first: nn.utils.prune.remove(layer, "${pruned[0]}")`,
      );
    }
    // weightNorm / spectralNorm: removing them bakes the weight eval computes, so the graph is the same.
    for (
      const [names, what, from, remove] of [
        [weightNormedNames(m), "weight-normalised", "_g and _v", "removeWeightNorm"],
        [spectralNormedNames(m), "spectrally normalised", "_orig, _u and _v", "removeSpectralNorm"],
      ] as const
    ) {
      if (names.length === 0) continue;
      throw new Error(
        `exportOnnx: cannot export ${describe(path, m)}: it is ${what} (${names.join(", ")}: ` +
          `a forward pre-hook recomputes them from ${from}); make the weight plain first ` +
          `(the same values in eval): nn.utils.${remove}(layer, "${names[0]}")`,
      );
    }
    throw new Error(
      `exportOnnx: cannot export ${describe(path, m)}: it has a ` +
        "forward hook or a forward of its own, which the ONNX graph would leave out; remove " +
        "the hook (handle.remove()) or the override before exporting",
    );
  }
  const scope: Scope = {
    graph,
    path,
    at: (name) => path ? `${path}.${name}` : name,
    child: (name, child, v) => emit(graph, scope.at(name), child, v),
  };
  return emitter(scope, m, x);
}

function checkShape(shape: unknown): readonly Dim[] {
  const bad = (why: string) =>
    new Error(`exportOnnx: inputShape ${JSON.stringify(shape)} ${why}; write ${USAGE}`);
  if (!Array.isArray(shape) || (shape.length !== 4 && shape.length !== 5)) {
    throw bad("must be [batch, C, H, W] (or [batch, C, D, H, W] for volumes)");
  }
  const [n, ...rest] = shape;
  const dynamic = typeof n === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(n);
  if (!dynamic && !(Number.isInteger(n) && n >= 1)) {
    throw bad('needs a batch that is a positive integer or a name such as "N"');
  }
  if (!rest.every((d) => Number.isInteger(d) && d >= 1)) {
    throw bad("needs positive integer channels, height and width");
  }
  return shape as Dim[];
}

function checkWindow(w: unknown): { aMin: number; aMax: number } | undefined {
  if (w === undefined) return undefined;
  const o = checkOptions<{ aMin: number; aMax: number }>("exportOnnx inputWindow", w, [
    "aMin",
    "aMax",
  ], USAGE);
  if (!(Number.isFinite(o.aMin) && Number.isFinite(o.aMax) && o.aMin < o.aMax)) {
    throw new Error(
      `exportOnnx: inputWindow needs finite aMin < aMax, got ${JSON.stringify(w)}`,
    );
  }
  return o;
}

function checkNormalize(n: unknown): { mean: number; std: number } | undefined {
  if (n === undefined) return undefined;
  const o = checkOptions<{ mean: number; std: number }>("exportOnnx normalize", n, [
    "mean",
    "std",
  ], USAGE);
  if (!Number.isFinite(o.mean) || !(Number.isFinite(o.std) && o.std > 0)) {
    throw new Error(
      `exportOnnx: normalize needs a finite mean and std > 0, got ${JSON.stringify(n)}`,
    );
  }
  return o;
}

/**
 * The model as ONNX protobuf bytes (opset 17, IR version 8), computing what
 * the model computes in eval mode whatever its `training` flag (Dropout is
 * the identity, batch norm uses its running statistics and is exported as
 * BatchNormalization, not folded into the convolution). The graph's input is
 * `image` (float32, `inputShape`), its output `logits` ([batch, classes]);
 * weights are initializers named as in the state dict. Works for every zoo
 * model and for `nn.Sequential` stacks of the layers listed in the error for
 * an unknown one (convolution, linear, pooling, batch, instance, group and
 * layer norm, `LocalResponseNorm`, the activations, the padding layers,
 * `Unflatten`, `Upsample`), and for their subclasses that keep their
 * forward; a class with a forward of its own is refused, and so are the
 * two-input `CosineSimilarity` and `PairwiseDistance` (the graph has one
 * input).
 *
 * @example
 * ```ts
 * import { models, onnx } from "@lits/vision";
 * using net = models.simpleCNN({ imageSize: 32 });
 * const bytes = onnx.exportOnnx(net, {
 *   inputShape: ["N", 1, 32, 32],
 *   normalize: { mean: 0.2, std: 0.25 },
 * });
 * await Deno.writeFile(`${await Deno.makeTempDir()}/simple.onnx`, bytes);
 * console.log(bytes.length > 4 * net.numParameters()); // true
 * ```
 */
export function exportOnnx(model: Module, options: ExportOnnxOptions): Uint8Array {
  checkArity("exportOnnx", arguments.length, 2, USAGE);
  if (!(model instanceof Module)) {
    throw new Error(`exportOnnx: the first argument must be an nn.Module; write ${USAGE}`);
  }
  const o = checkOptions<ExportOnnxOptions>("exportOnnx", options, [
    "inputShape",
    "normalize",
    "inputWindow",
    "metadata",
  ], USAGE);
  if (o.inputShape === undefined) throw new Error(`exportOnnx: inputShape is required; ${USAGE}`);
  const shape = checkShape(o.inputShape);
  const normalize = checkNormalize(o.normalize);
  const window = checkWindow(o.inputWindow);
  const metadata = Object.entries(o.metadata ?? {});
  if (metadata.some(([, v]) => typeof v !== "string")) {
    throw new Error("exportOnnx: metadata values must be strings");
  }

  const graph = new OnnxGraph();
  const input = graph.input("image", shape);
  let x = input;
  if (window) {
    // As ScaleIntensityRange computes it: (x - aMin) * (1 / (aMax - aMin)), clipped to [0, 1].
    const lo = graph.floats("window.low", new Float32Array([window.aMin]), []);
    const scale = graph.floats(
      "window.scale",
      new Float32Array([1 / (window.aMax - window.aMin)]),
      [],
    );
    const zero = graph.floats("window.zero", new Float32Array([0]), []);
    const one = graph.floats("window.one", new Float32Array([1]), []);
    x = graph.node("Sub", "window.sub", [x.name, lo], x.shape);
    x = graph.node("Mul", "window.mul", [x.name, scale], x.shape);
    x = graph.node("Clip", "window", [x.name, zero, one], x.shape);
  }
  if (normalize) {
    // As the Normalize transform computes it: x * (1 / std) + (-mean / std).
    const { mean, std } = normalize;
    const scale = graph.floats("normalize.scale", new Float32Array([1 / std]), []);
    const shift = graph.floats("normalize.shift", new Float32Array([-mean / std]), []);
    x = graph.node("Mul", "normalize.mul", [x.name, scale], x.shape);
    x = graph.node("Add", "normalize", [x.name, shift], x.shape);
  }
  const out = inEvalMode(model, () => emit(graph, "", model, x));
  // Checked first: a rank-2 output of a rank-4 input is always some node's output.
  if (out.shape.length !== 2) {
    throw new Error(
      `exportOnnx: the model's output would be ${shapeText(out.shape)}, not logits ` +
        "[N, classes]: the graph is a classifier's, whose output `logits` has one row of " +
        "class scores per image (what the export CLI labels with class names and ONNX " +
        "serving code reads); end the model with a layer that gives [N, classes], such as " +
        "nn.Flatten() and nn.Linear",
    );
  }
  const logits = graph.rename(out, "logits");
  if (graph.weightBytes >= 2 ** 31) {
    throw new Error(
      `exportOnnx: ${graph.weightBytes} bytes of weights exceed protobuf's 2 GiB limit ` +
        "(ONNX's external-data files are not written)",
    );
  }
  const props = [
    ...(window ? [["lits.inputWindow", JSON.stringify(window)]] : []),
    ...(normalize ? [["lits.normalize", JSON.stringify(normalize)]] : []),
    ...metadata,
  ];
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "@lits/vision",
    docString: "CT slice classifier: image [N, C, H, W] in [0, 1] -> logits",
    metadataProps: props.map(([key, value]) => ({ key, value })),
    graph: {
      name: model.constructor.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(input.name, input.shape)],
      output: [valueInfo(logits.name, logits.shape)],
    },
  });
}
