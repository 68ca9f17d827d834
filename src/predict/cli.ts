/**
 * `deno task predict --checkpoint FILE [--out DIR] INPUT...`: a trained
 * model on scans as they come (PNG/JPEG slices, folders of them, NIfTI
 * volumes, DICOM files and series), prepared as its training images were
 * made. Writes `predictions.csv` and `predictions.html` and prints a short
 * summary. Every input is read and checked before anything is written, so a
 * bad file leaves `--out` as it was.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { loadWeights, runConfigOf } from "../train/checkpoint.ts";
import { CLASS_NAMES } from "../train/setup.ts";
import { inferenceModel } from "../train/inference_model.ts";
import type { TrainConfig } from "../train/config.ts";
import { Command } from "../train/command.ts";
import { SHARED_FLAGS as S, WEIGHTS_FLAGS as W, weightsSpec } from "../train/flag_specs.ts";
import { reportError } from "../train/cli.ts";
import { UsageError } from "../train/errors.ts";
import { resolveDevice } from "../train/session.ts";
import { checkPrecision, inPrecision } from "../train/precision.ts";
import { removeStaleTemporaries, writeFileAtomic } from "../train/atomic.ts";
import { parseWindow, type PredictPreprocessing, resolvePreprocessing } from "./preprocess.ts";
import { loadInputs } from "./inputs.ts";
import { type InputPrediction, predictionsCsv, predictItems, sliceRanges } from "./run.ts";
import { renderPredictions } from "./page.ts";
import type { GradCamMethod } from "../eval/gradcam.ts";

const COMMAND = new Command({
  usage: "deno task predict --checkpoint FILE [--out DIR] INPUT...: classifies the slices of " +
    "PNG/JPEG images, NIfTI volumes (.nii, .nii.gz), DICOM files and folders of them " +
    "(a folder's DICOM files are read as one series)",
  inputs: { what: "INPUT (a PNG/JPEG slice, a NIfTI volume, a DICOM file, or a folder)" },
  flags: {
    checkpoint: { ...W.checkpoint, help: `${W.checkpoint.help} (with --model)` },
    out: { kind: "string", value: "DIR", help: "output folder", default: "predictions" },
    window: {
      kind: "string",
      value: "LO,HI",
      help: "HU window of the training images",
      shownDefault: "the checkpoint's; required when it records none",
    },
    "image-size": {
      ...W["image-size"],
      help: "side of the training images",
      shownDefault: "the checkpoint's; required when it records none",
    },
    model: W.model,
    layer: {
      kind: "string",
      value: "NAME",
      help: "Grad-CAM layer",
      shownDefault: "the last convolutional block",
    },
    cam: {
      kind: "string",
      value: "METHOD",
      choices: ["gradcam", "gradcam++"],
      help: "heat map method: gradcam, gradcam++",
      default: "gradcam",
    },
    "batch-size": {
      ...S["batch-size"],
      help: "slices per pass (forward and Grad-CAM backward)",
      default: 8,
    },
    device: { ...S.device, default: "auto" },
    precision: { ...S.precision, shownDefault: "the run's, else fp32" },
  },
});

/** Which of `CLASS_NAMES` each slice got, counted. */
function counts(results: InputPrediction[]): number[] {
  const n = CLASS_NAMES.map(() => 0);
  for (const r of results) for (const s of r.slices) n[s.prediction]++;
  return n;
}

/** The summary lines printed after the run. */
function summary(results: InputPrediction[]): string[] {
  const lines: string[] = [];
  const images = results.filter((r) => r.kind === "image");
  for (const r of results.filter((r) => r.kind === "volume")) {
    lines.push(
      `${r.input} (${r.slices.length} slices): liver on slices ${
        sliceRanges(r.slices, (p) => p >= 1) || "none"
      }; lesion on slices ${sliceRanges(r.slices, (p) => p === 2) || "none"}`,
    );
  }
  for (const r of images.slice(0, 20)) {
    const s = r.slices[0];
    lines.push(
      `${r.input}: ${CLASS_NAMES[s.prediction]} (${(100 * s.probs[s.prediction]).toFixed(1)}%)`,
    );
  }
  if (images.length > 20) lines.push(`... and ${images.length - 20} more images`);
  const n = counts(results);
  lines.push(
    `${n.reduce((a, b) => a + b, 0)} slices: ${
      CLASS_NAMES.map((c, i) => `${n[i]} ${c}`).join(", ")
    }`,
  );
  return lines;
}

/** Writes both files atomically; a failure takes back what this call wrote. */
async function writeOutputs(out: string, csv: string, html: string): Promise<string[]> {
  let created = false;
  try {
    const s = await Deno.stat(out);
    if (!s.isDirectory) throw new UsageError(`--out ${out} is a file, not a folder`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    await Deno.mkdir(out, { recursive: true });
    created = true;
  }
  const paths = [join(out, "predictions.csv"), join(out, "predictions.html")];
  const before = await Promise.all(paths.map((p) => Deno.stat(p).catch(() => null)));
  // Checked before either is written: a failed second write once took back
  // the first by deleting it, and with it the user's earlier predictions.
  before.forEach((s, i) => {
    if (s?.isDirectory) throw new UsageError(`--out ${out}: ${paths[i]} is a folder`);
  });
  for (const p of paths) await removeStaleTemporaries(p); // a killed earlier run's
  const written: string[] = [];
  try {
    const enc = new TextEncoder();
    for (const [i, text] of [csv, html].entries()) {
      await writeFileAtomic(paths[i], enc.encode(text));
      written.push(paths[i]);
    }
  } catch (e) {
    // Only what this call made anew: a file it replaced keeps its new content.
    for (const p of written) if (!before[paths.indexOf(p)]) await Deno.remove(p).catch(() => {});
    if (created) await Deno.remove(out).catch(() => {});
    throw e;
  }
  return paths;
}

/**
 * Runs `deno task predict` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(await train.predictMain(["--checkpoint", "missing.safetensors"])); // 2 (no INPUT)
 * ```
 */
export function predictMain(args: readonly string[]): Promise<number> {
  return COMMAND.run(args, async (p) => {
    const v = p.values as {
      checkpoint: string;
      out: string;
      window?: string;
      "image-size"?: number;
      model?: string;
      layer?: string;
      cam: GradCamMethod;
      "batch-size": number;
      device: TrainConfig["device"];
      precision?: TrainConfig["precision"];
    };
    const window = v.window === undefined ? undefined : parseWindow(v.window);
    const dev = resolveDevice(v.device);
    const weights = await loadWeights(v.checkpoint);
    try {
      // The run's own precision by default, as evaluate's.
      const precision = v.precision ?? (await runConfigOf(weights, v.checkpoint))?.precision ??
        "fp32";
      checkPrecision(precision, dev);
      const spec = weightsSpec(weights.spec, v, "--model, --image-size and --window");
      const notes: string[] = [];
      const prep: PredictPreprocessing = resolvePreprocessing(
        spec,
        v.checkpoint,
        { window, imageSize: v["image-size"] },
        notes,
      );
      const items = await loadInputs(p.inputs, prep, notes);
      // Without Inception's and GoogLeNet's auxiliary heads, which prediction never runs.
      using model = inferenceModel(spec, weights.state, `checkpoint ${v.checkpoint}`).to(dev);
      // The forward and Grad-CAM's backward, as `evaluate --precision` runs its forward.
      const results = inPrecision(precision, () =>
        predictItems(model, items, prep.imageSize, {
          device: dev,
          batchSize: v["batch-size"],
          layer: v.layer,
          method: v.cam,
        }));
      const how = `window [${prep.window.join(", ")}] HU, training images ${
        prep.dataSize.join("x")
      }, model input ${prep.imageSize}x${prep.imageSize}${
        prep.transforms.map((t) => {
          const args = Object.entries(t).filter(([k]) => k !== "name");
          return `, then ${t.name}(${
            args.map(([k, x]) =>
              `${k} ${typeof x === "number" ? Number(x.toFixed(4)) : JSON.stringify(x)}`
            ).join(", ")
          })`;
        }).join("")
      }, ${precision === "bf16" ? "bf16 autocast" : "fp32"}, ${
        v.cam === "gradcam++" ? "Grad-CAM++" : "Grad-CAM"
      } heat maps`;
      const html = renderPredictions(results, {
        title: `${spec.name} predictions`,
        classNames: CLASS_NAMES,
        size: prep.imageSize,
        subtitle: `${resolve(v.checkpoint)} · ${how}`,
        notes,
      });
      const [csvPath, htmlPath] = await writeOutputs(v.out, predictionsCsv(results), html);
      console.log(`${spec.name} from ${v.checkpoint} (${how})`);
      for (const n of notes) console.log(`note: ${n}`);
      for (const line of summary(results)) console.log(line);
      console.log(`wrote ${csvPath} and ${htmlPath}`);
    } finally {
      weights.dispose();
    }
  }).catch(reportError);
}
