/**
 * What the transformer layers (transformer_encoder.ts, transformer_decoder.ts,
 * transformer.ts) share: their options and the check of those options, the
 * feed-forward activation, the forward's masks (torch's positional order or
 * an options object, checked at torch's shapes under torch's names), and
 * torch's `_get_clones` (a stack of deep copies of one layer).
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { relu } from "../tensor/ops/elementwise.ts";
import { gelu } from "../tensor/ops/activation.ts";
import { checkOptions } from "../options.ts";
import { Module } from "./module.ts";
import { ReLU } from "./basic.ts";
import { GELU } from "./activation.ts";
import { ModuleList } from "./containers.ts";

/** The feed-forward activation: torch's "relu" or "gelu", or a function of a tensor (a module too). */
export type TransformerActivation = "relu" | "gelu" | ((x: Tensor) => Tensor);

/** Options of the transformer layers (torch's keyword arguments, camelCase). */
export interface TransformerLayerOptions {
  /** Hidden size of the feed-forward network (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability everywhere in the layer, attention weights included (default 0.1). */
  dropout?: number;
  /** Feed-forward activation (default "relu"). */
  activation?: TransformerActivation;
  /** The layer norms' eps (default 1e-5). */
  layerNormEps?: number;
  /** Inputs and output are [N, seq, E] instead of [seq, N, E] (default false). */
  batchFirst?: boolean;
  /** Pre-norm: normalise before attention and feed-forward (default false: after). */
  normFirst?: boolean;
}

/** The option names of `TransformerLayerOptions`. */
export const LAYER_OPTIONS = [
  "dimFeedforward",
  "dropout",
  "activation",
  "layerNormEps",
  "batchFirst",
  "normFirst",
] as const;

/** @internal `TransformerLayerOptions` checked, defaults filled in. */
export interface LayerConfig {
  dimFeedforward: number;
  dropout: number;
  activation: TransformerActivation;
  layerNormEps: number;
  batchFirst: boolean;
  normFirst: boolean;
}

/** @internal checks a layer's sizes and options; `usage` is a right call. */
export function layerConfig(
  where: string,
  dModel: unknown,
  nhead: unknown,
  o: TransformerLayerOptions,
  usage: string,
): LayerConfig {
  for (const [name, v] of [["dModel", dModel], ["nhead", nhead]] as const) {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new Error(
        `${where}: ${name} must be a positive integer, got ${JSON.stringify(v)}; write ${usage}`,
      );
    }
  }
  if ((dModel as number) % (nhead as number) !== 0) {
    throw new Error(
      `${where}: dModel ${dModel} must be divisible by nhead ${nhead} (each head gets ` +
        `dModel / nhead features); write e.g. ${usage}`,
    );
  }
  const ff = o.dimFeedforward ?? 2048;
  if (!Number.isInteger(ff) || ff < 1) {
    throw new Error(
      `${where}: dimFeedforward must be a positive integer, got ${JSON.stringify(ff)}`,
    );
  }
  const p = o.dropout ?? 0.1;
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(`${where}: dropout must be in [0, 1], got ${JSON.stringify(p)}`);
  }
  const eps = o.layerNormEps ?? 1e-5;
  if (typeof eps !== "number" || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`${where}: layerNormEps must be a finite number >= 0, got ${String(eps)}`);
  }
  const flag = (name: string, v: unknown) => {
    if (v === undefined) return false;
    if (typeof v !== "boolean") throw new Error(`${where}: ${name} must be a boolean, got ${v}`);
    return v;
  };
  return {
    dimFeedforward: ff,
    dropout: p,
    activation: checkActivation(where, o.activation ?? "relu", CONSTRUCTOR_HINT),
    layerNormEps: eps,
    batchFirst: flag("batchFirst", o.batchFirst),
    normFirst: flag("normFirst", o.normFirst),
  };
}

const CONSTRUCTOR_HINT = '{ activation: "gelu" } or { activation: (x) => F.silu(x) }';

function checkActivation(where: string, a: unknown, hint: string): TransformerActivation {
  if (a === "relu" || a === "gelu" || typeof a === "function") {
    return a as TransformerActivation;
  }
  throw new Error(
    `${where}: activation must be "relu", "gelu" or a function of a tensor, got ` +
      `${JSON.stringify(a) ?? String(a)}; write ${hint}`,
  );
}

/**
 * @internal the function the feed-forward network applies; `where` names
 * the forward (`layer.activation` is a field a user may assign).
 */
export function activationFn(where: string, a: TransformerActivation): (x: Tensor) => Tensor {
  if (a === "relu") return (x) => relu(x);
  if (a === "gelu") return (x) => gelu(x);
  return checkActivation(where, a, 'layer.activation = F.silu or "gelu"') as (x: Tensor) => Tensor;
}

/**
 * @internal whether `a` is what torch 1.13 counts as relu or gelu for its
 * fast path (`activation_relu_or_gelu`): the names, F.relu, F.gelu, nn.ReLU, nn.GELU.
 */
export function reluOrGelu(a: TransformerActivation): boolean {
  return a === "relu" || a === "gelu" || a === relu || a === gelu || a instanceof ReLU ||
    a instanceof GELU;
}

/**
 * @internal reads a forward's masks: torch's positional order after the
 * inputs (`names`, each a tensor or null), then an options object with the
 * same names; a mask given both ways is an Error. Returns name -> mask or null.
 */
export function maskArgs(
  where: string,
  names: readonly string[],
  rest: unknown[],
  usage: string,
): Record<string, Tensor | null> {
  const args = [...rest];
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  const last = args[args.length - 1];
  const options = last !== null && typeof last === "object" && !(last instanceof Tensor)
    ? checkOptions<Record<string, Tensor | null>>(where, args.pop(), names, usage)
    : {};
  if (args.length > names.length) {
    throw new Error(
      `${where}: takes at most ${names.length} masks after the inputs (${names.join(", ")}), ` +
        `got ${args.length}; write ${usage}`,
    );
  }
  const out: Record<string, Tensor | null> = {};
  names.forEach((name, i) => {
    const positional = args[i] ?? null;
    if (positional !== null && !(positional instanceof Tensor)) {
      throw new Error(
        `${where}: ${name} (argument ${i + 2}) must be a tensor or null, got ` +
          `${typeof positional}; write ${usage}`,
      );
    }
    const named = options[name] ?? null;
    if (positional !== null && named !== null) {
      throw new Error(`${where}: ${name} given twice, in place and in the options object`);
    }
    out[name] = positional ?? named;
  });
  return out;
}

/**
 * @internal checks an input sequence [seq, N, E] ([N, seq, E] with
 * batchFirst, [seq, E] unbatched); returns { batched, N, seq }.
 */
export function checkSequence(
  where: string,
  name: string,
  x: unknown,
  dModel: number,
  batchFirst: boolean,
): { batched: boolean; N: number; seq: number } {
  const layout = batchFirst ? "[N, seq, dModel]" : "[seq, N, dModel]";
  if (!(x instanceof Tensor)) {
    throw new Error(`${where}: ${name} must be a tensor ${layout}, got ${typeof x}`);
  }
  if ((x.ndim !== 3 && x.ndim !== 2) || x.shape[x.ndim - 1] !== dModel) {
    throw new Error(
      `${where}: ${name} must be ${layout} (batchFirst: ${batchFirst}) or [seq, dModel] ` +
        `unbatched, with dModel = ${dModel}; got [${x.shape}]`,
    );
  }
  if (x.ndim === 2) return { batched: false, N: 1, seq: x.shape[0] };
  return batchFirst
    ? { batched: true, N: x.shape[0], seq: x.shape[1] }
    : { batched: true, N: x.shape[1], seq: x.shape[0] };
}

function checkMaskDtype(where: string, name: string, m: Tensor): void {
  if (m.dtype !== "int32" && m.dtype !== "float32") {
    throw new Error(
      `${where}: ${name} must be int32 (torch's bool mask, nonzero = masked) or float32 ` +
        `(added to the scores), got ${m.dtype}`,
    );
  }
}

/**
 * @internal checks an attention mask against torch's shapes: [L, S] or
 * [N * nhead, L, S] ([nhead, L, S] unbatched).
 */
export function checkAttnMask(
  where: string,
  name: string,
  m: Tensor | null,
  s: { batched: boolean; N: number; H: number; L: number; S: number },
): void {
  if (m === null) return;
  checkMaskDtype(where, name, m);
  const two = [s.L, s.S], three = [s.batched ? s.N * s.H : s.H, s.L, s.S];
  if (m.shape.join() !== two.join() && m.shape.join() !== three.join()) {
    throw new Error(
      `${where}: ${name} must be [${two}] or [${three}] (${
        s.batched ? "N * nhead" : "nhead"
      }, L, S), got [${m.shape}]; a causal mask is ` +
        `nn.Transformer.generateSquareSubsequentMask(${s.L})`,
    );
  }
}

/** @internal checks a key padding mask: [N, S] ([S] unbatched). */
export function checkPaddingMask(
  where: string,
  name: string,
  m: Tensor | null,
  s: { batched: boolean; N: number; S: number },
): void {
  if (m === null) return;
  checkMaskDtype(where, name, m);
  const want = s.batched ? [s.N, s.S] : [s.S];
  if (m.shape.join() !== want.join()) {
    throw new Error(
      `${where}: ${name} must be [${want}] (${s.batched ? "N, " : ""}S; nonzero = padding), ` +
        `got [${m.shape}]`,
    );
  }
}

/** A layer that can build another of its configuration (the transformer layers). */
export interface Rebuildable extends Module {
  /** @internal a fresh layer of the same configuration (fresh weights). */
  rebuild(): Module;
}

/**
 * @internal torch's `_get_clones`: `n` deep copies of `layer` in a
 * ModuleList: each rebuilt from the layer's configuration, then given its
 * values, each module's mode, each parameter's requiresGrad and the
 * settings assigned since it was built (a dropout's p, a norm's eps,
 * MultiheadAttention's dropout: what copy.deepcopy keeps).
 */
export function cloneLayers(where: string, layer: unknown, n: unknown, usage: string): ModuleList {
  if (!Number.isInteger(n) || (n as number) < 1) {
    throw new Error(`${where}: numLayers must be a positive integer, got ${n}; write ${usage}`);
  }
  if (!(layer instanceof Module) || typeof (layer as Rebuildable).rebuild !== "function") {
    const got = layer instanceof Module ? `a ${layer.constructor.name}` : typeof layer;
    throw new Error(
      `${where}: copies its layer as torch's deepcopy does, which this library can do for ` +
        `its own transformer layers only; got ${got}. For another layer class, build the ` +
        `copies yourself: new nn.ModuleList([new MyLayer(), new MyLayer()])`,
    );
  }
  const src = layer as Rebuildable;
  const modules = [...src.namedModules()];
  const params = new Map(src.namedParameters());
  const copies: Module[] = [];
  for (let i = 0; i < (n as number); i++) {
    const copy = src.rebuild();
    copy.loadStateDict(src.stateDict());
    const theirs = new Map(copy.namedModules());
    for (const [k, m] of modules) {
      const c = theirs.get(k)!;
      c.training = m.training;
      copySettings(m, c);
    }
    for (const [k, p] of copy.namedParameters()) p.requiresGrad = params.get(k)!.requiresGrad;
    copies.push(copy);
  }
  return new ModuleList(copies);
}

/**
 * Gives `to` the settings of `from` (a module of the same class): its own
 * fields that hold a number, flag, name, null or a list of numbers (a
 * dropout's p, a norm's eps, an activation's slope), each assigned, so a
 * setting's check runs and a value a user changed after construction is
 * kept.
 */
function copySettings(from: Module, to: Module): void {
  const target = to as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(from)) {
    // Equal ones stay as built (a frozen shape stays frozen).
    if (k === "training" || JSON.stringify(target[k]) === JSON.stringify(v)) continue;
    const list = Array.isArray(v) && v.every((x) => typeof x === "number");
    if (v === null || list || ["number", "boolean", "string"].includes(typeof v)) {
      target[k] = list ? [...v] : v;
    }
  }
}

/**
 * @internal the activation module a layer copy may share: a parameterless
 * one (ReLU, GELU, ...) is shared; one with parameters or buffers (PReLU)
 * cannot be deep-copied here, so the copy is refused.
 */
export function sharedActivation(where: string, a: TransformerActivation): TransformerActivation {
  if (a instanceof Module && a.stateDict().size > 0) {
    throw new Error(
      `${where}: the activation ${a.constructor.name} has parameters, and this library ` +
        `cannot deep-copy a module as torch's _get_clones does; build the layers yourself ` +
        `(new nn.ModuleList([...])) or use an activation without parameters`,
    );
  }
  return a;
}
