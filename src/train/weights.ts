/**
 * `deno task train --weights FILE`: fine-tuning from pretrained weights, as
 * torchvision's train.py `--weights` (here a local file). The file is read
 * once and hashed before the run folder is made (config.json records its
 * path and SHA-256), its weights decoded from those same bytes (never from
 * the path again: a file replaced meanwhile cannot be recorded under the
 * old hash), loaded into the model right after it is built (before the
 * optimizer and the model EMA take it) with `models.loadPretrained`, and
 * never applied over a resumed checkpoint.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { decodeSafetensors, safetensorsMetadata } from "../io/safetensors.ts";
import { decodeSaved } from "../io/save_load.ts";
import { decodePth, isPth } from "../io/pth_read.ts";
import type { Module } from "../layers/module.ts";
import { loadPretrained, type LoadPretrainedReport } from "../models/pretrained.ts";
import { Tensor } from "../tensor/tensor.ts";
import { decodeWeights } from "./checkpoint.ts";
import { UsageError } from "./errors.ts";
import { exists } from "./exists.ts";
import { runPaths } from "./run_folder.ts";
import type { RunData } from "./session.ts";

/** Weights read for `--weights`: what they hold, where from, and their hash. */
export interface PretrainedWeights extends Disposable {
  /** The file, as an absolute path. */
  path: string;
  /** SHA-256 of the file's bytes, in hex. */
  sha256: string;
  /** What the file holds: a state dict, or a checkpoint dict holding one. */
  content: unknown;
}

/**
 * @internal Every tensor in a loaded value, for disposal: each array, Map and object
 * visited once (a checkpoint may share them, and shares of shares are
 * exponentially many paths), with a stack of its own (any depth).
 */
export function tensorsIn(v: unknown): Set<Tensor> {
  const out = new Set<Tensor>();
  const seen = new Set<object>();
  const todo = [v];
  while (todo.length > 0) {
    const x = todo.pop();
    if (x instanceof Tensor) out.add(x);
    else if (x !== null && typeof x === "object" && !seen.has(x)) {
      seen.add(x);
      if (x instanceof Map) { for (const y of x.values()) todo.push(y); }
      else for (const y of Object.values(x)) todo.push(y);
    }
  }
  return out;
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether the bytes start as a safetensors file does: a header length, then "{". */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n <= BigInt(bytes.length - 8) && bytes[8] === 0x7b;
}

/**
 * Reads `--weights FILE`, recognised by its content: a PyTorch `.pth` / `.pt`
 * (torchvision's weights, `torch.save` of a state dict or of a checkpoint
 * dict holding one; `io.loadPth`'s reading), a safetensors state dict
 * (scripts/export_pth.py's, PyTorch's `save_file`), a run's best.safetensors
 * or checkpoint.safetensors (its model's weights), or a checkpoint dict
 * written by `io.save`. The file is read once: its SHA-256 is of the bytes
 * decoded. A missing or unreadable file is a `UsageError` (exit 2) naming
 * it.
 */
export async function readPretrained(path: string): Promise<PretrainedWeights> {
  const flag = `--weights ${path}`;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new UsageError(
      e instanceof Deno.errors.NotFound
        ? `${flag}: no such file`
        : `${flag}: cannot read it: ${(e as Error).message}`,
    );
  }
  const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
  const pth = isPth(bytes);
  if (!pth && !looksLikeSafetensors(bytes)) {
    throw new UsageError(
      `${flag}: neither a PyTorch checkpoint (.pth / .pt from torch.save) nor a safetensors ` +
        "file (a state dict, a run's best.safetensors or checkpoint.safetensors, an io.save dict)",
    );
  }
  let content: unknown;
  try {
    const meta = pth ? {} : safetensorsMetadata(bytes, path);
    if (pth) content = decodePth(bytes, path);
    else if (meta["lits.tree"] !== undefined) content = decodeSaved(bytes, path);
    else if (meta["lits.checkpoint"] !== undefined) {
      content = decodeWeights(bytes, path).state; // the model's tensors; the rest is freed
    } else content = decodeSafetensors(bytes, path);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
  let open = true;
  return {
    path: resolve(path),
    sha256,
    content,
    [Symbol.dispose]: () => {
      if (open) tensorsIn(content).forEach((t) => t.dispose());
      open = false;
    },
  };
}

/**
 * The `--weights` of a run, read for it, with `data.config` set to record
 * the file's absolute path and SHA-256 (config.json), or null: none given,
 * or a resumed run whose checkpoint holds its weights. A run resumed before
 * its first checkpoint starts from the weights again, refusing a file that
 * changed since the run began.
 */
export async function runWeights(
  data: RunData,
  resume: boolean,
): Promise<PretrainedWeights | null> {
  const { weights: path, weightsSha256: recorded, out } = data.config;
  if (path === null) return null;
  if (resume && await exists(runPaths(out).checkpoint)) return null;
  const weights = await readPretrained(path);
  if (resume && recorded !== null && recorded !== weights.sha256) {
    weights[Symbol.dispose]();
    throw new UsageError(
      `--weights ${path} changed since the run began (SHA-256 ${weights.sha256}, the run's ` +
        `config.json says ${recorded}); restore the file, or start a new run`,
    );
  }
  data.config = { ...data.config, weights: weights.path, weightsSha256: weights.sha256 };
  return weights;
}

/**
 * Loads `weights` into `model` (strict: only the first convolution's input
 * channels and a classifier of another class count may differ) and returns
 * the line the command prints; a model they do not fit is a `UsageError`
 * (exit 2) naming the file and `--model`.
 */
export function applyPretrained(model: Module, weights: PretrainedWeights, name: string): string {
  let report: LoadPretrainedReport;
  try {
    report = loadPretrained(model, weights.content as Map<string, Tensor>);
  } catch (e) {
    const why = (e as Error).message.replace(/^models\.loadPretrained: /, "");
    throw new UsageError(`--weights ${weights.path} does not fit --model ${name}: ${why}`);
  }
  return weightsLine(report, basename(weights.path));
}

/**
 * One plain line of what `loadPretrained` did: `weights: 120 tensors from
 * resnet18.safetensors; conv1.weight summed over 3 input channels to 1;
 * fc.weight, fc.bias left at init ([1000, 512] vs [3, 512])`.
 */
export function weightsLine(report: LoadPretrainedReport, file: string): string {
  const parts = [`weights: ${report.loaded.length} tensors from ${file}`];
  if (report.stateKey) parts.push(`state dict under '${report.stateKey}'`);
  if (report.strippedPrefix) parts.push(`'${report.strippedPrefix}' prefix removed`);
  if (report.renamed.length > 0) {
    const { from, to } = report.renamed[0];
    parts.push(`${report.renamed.length} legacy names renamed (${from} -> ${to}, ...)`);
  }
  for (const r of report.interpolated) {
    const side = (shape: number[]) => Math.round(Math.sqrt(shape[1] - 1));
    parts.push(
      `${r.name} interpolated (${r.mode}) from ${side(r.from)} x ${side(r.from)} patches to ` +
        `${side(r.to)} x ${side(r.to)}`,
    );
  }
  for (const a of report.adapted) {
    const [from, to] = [a.from[1], a.to[1]];
    parts.push(
      to === 1 || to * 3 === from
        ? `${a.name} summed over ${from} input channels to ${to}`
        : `${a.name} repeated from ${from} input channels to ${to}, scaled by 3/${to}`,
    );
  }
  // Those of another shape (the first's shown), then those the weights lack
  // (a whole auxiliary classifier of weights saved without it).
  const reshaped = report.skipped.filter((s) => s.from !== null);
  if (reshaped.length > 0) {
    const { from, to } = reshaped[0];
    parts.push(
      `${reshaped.map((s) => s.name).join(", ")} left at init ([${from!.join(", ")}] vs ` +
        `[${to.join(", ")}])`,
    );
  }
  const absent = report.skipped.filter((s) => s.from === null);
  if (absent.length > 0) {
    parts.push(`${absent.map((s) => s.name).join(", ")} left at init (not in the weights)`);
  }
  if (report.dropped.length > 0) {
    parts.push(
      `${report.dropped.length} tensors dropped (${report.dropped[0].name}, ...: auxiliary ` +
        "classifiers the model was built without)",
    );
  }
  return parts.join("; ");
}
