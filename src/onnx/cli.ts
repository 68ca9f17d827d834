/**
 * `deno task export --checkpoint FILE [--format onnx] [--out FILE]`: the
 * model of a checkpoint (checkpoint.safetensors, best.safetensors, or a
 * state dict with `--model` and `--image-size`) as an ONNX file that takes
 * images as the run's dataset gave them (scaled to [0, 1]: over 255 where
 * the run has an input window, else min-max; `train.sliceScaling`) and
 * applies the checkpoint's input window and standardisation itself. The file is written atomically:
 * a failed export leaves nothing at `--out`.
 *
 * @module
 */
import { join, parse } from "node:path";
import { Command } from "../train/command.ts";
import { UsageError } from "../train/errors.ts";
import { reportError } from "../train/cli.ts";
import { checkImageSizeFlag, WEIGHTS_FLAGS as W, weightsSpec } from "../train/flag_specs.ts";
import { loadWeights } from "../train/checkpoint.ts";
import { CLASS_NAMES, type ModelSpec } from "../train/setup.ts";
import { inferenceModel } from "../train/inference_model.ts";
import { builtSizeOnly } from "../models/registry.ts";
import { writeFileAtomic } from "../train/atomic.ts";
import { checkOutFile } from "../train/out_file.ts";
import { exportOnnx, type ExportOnnxOptions } from "./export.ts";
import type { TransformSpec } from "../data/transforms/transform.ts";

const FORMATS = ["onnx"] as const;

const COMMAND = new Command({
  usage: "deno task export --checkpoint FILE [flags]: writes a trained model as an ONNX file",
  flags: {
    checkpoint: W.checkpoint,
    format: {
      kind: "string",
      value: "NAME",
      choices: FORMATS,
      default: "onnx",
      help: "output format",
    },
    out: {
      kind: "string",
      value: "FILE",
      help: "file to write (its folder must exist)",
      shownDefault: "the checkpoint's name with .onnx",
    },
    model: W.model,
    "image-size": {
      ...W["image-size"],
      help: "input side (for a state dict without lits metadata; resnets and alexnet take any)",
      shownDefault: "the checkpoint's",
    },
  },
  footer: "The graph's input is `image` [N, 1, S, S] in [0, 1] (N dynamic), its output `logits`.",
});

type InGraph = Pick<ExportOnnxOptions, "inputWindow" | "normalize">;

/**
 * The run's recorded evaluation transforms as graph options: its input
 * window, then its standardisation (a checkpoint from before the record:
 * its `normalize`). Another recorded transform has no ONNX form: an Error,
 * never a graph that silently skips it.
 */
function graphPreprocessing(spec: ModelSpec, checkpoint: string): InGraph {
  const recorded = spec.preprocessing?.transforms;
  if (!recorded) return spec.normalize ? { normalize: spec.normalize } : {};
  const out: InGraph = {};
  for (const t of recorded) {
    const p = t as TransformSpec & Record<string, unknown>;
    if (
      p.name === "ScaleIntensityRange" && p.bMin === 0 && p.bMax === 1 && p.clip === true &&
      !out.inputWindow && !out.normalize
    ) {
      out.inputWindow = { aMin: p.aMin as number, aMax: p.aMax as number };
    } else if (p.name === "Normalize" && !out.normalize) {
      out.normalize = { mean: p.mean as number, std: p.std as number };
    } else {
      throw new Error(
        `${checkpoint}: its evaluation transform ${JSON.stringify(t)} has no ONNX form here ` +
          "(an input window to [0, 1] with clip, then Normalize, do)",
      );
    }
  }
  return out;
}

/**
 * Runs `deno task export` with `args`; returns the exit code (2 for a bad
 * command line, 1 for any other failure).
 */
export function exportMain(args: readonly string[]): Promise<number> {
  return COMMAND.run(args, async (p) => {
    const v = p.values as {
      checkpoint: string;
      format: (typeof FORMATS)[number];
      out?: string;
      model?: string;
      "image-size"?: number;
    };
    const { dir, name } = parse(v.checkpoint);
    const out = v.out ?? join(dir, `${name}.${v.format}`);
    await checkOutFile(out, `.${v.format}`, [v.checkpoint]);
    const start = performance.now();
    const weights = await loadWeights(v.checkpoint);
    try {
      const spec = weightsSpec(weights.spec, v, "--model and --image-size", {
        required: ["model", "image-size"],
      });
      const size = v["image-size"] ?? spec.options.imageSize;
      if (!size) {
        throw new UsageError(`${v.checkpoint} does not record the image size; give --image-size`);
      }
      checkExportSide(spec, size, weights.spec !== null ? v.checkpoint : null);
      // Without Inception's and GoogLeNet's auxiliary heads, which the eval-mode graph never runs.
      using model = inferenceModel(spec, weights.state, `checkpoint ${v.checkpoint}`);
      const channels = spec.options.inChannels ?? 1;
      const pre = graphPreprocessing(spec, v.checkpoint);
      const bytes = exportOnnx(model.eval(), {
        inputShape: ["N", channels, size, size],
        ...pre,
        metadata: {
          "lits.model": JSON.stringify(spec),
          "lits.classes": JSON.stringify(CLASS_NAMES),
        },
      });
      await writeFileAtomic(out, bytes);
      const w = pre.inputWindow;
      const norm = (w ? `, clipped inside to [${w.aMin.toFixed(4)}, ${w.aMax.toFixed(4)}]` : "") +
        (pre.normalize
          ? `, standardised inside with mean ${pre.normalize.mean}, std ${pre.normalize.std}`
          : "");
      console.log(
        `${out}: ${spec.name}, ${(bytes.length / 2 ** 20).toFixed(1)} MiB, ONNX opset 17, ` +
          `in ${((performance.now() - start) / 1000).toFixed(1)} s\n` +
          `  input  image [N, ${channels}, ${size}, ${size}] float32 in [0, 1]${norm}\n` +
          `  output logits [N, ${CLASS_NAMES.length}] (${CLASS_NAMES.join(", ")})`,
      );
    } finally {
      weights.dispose();
    }
  }).catch(reportError);
}

/**
 * A graph input side the model cannot take is a bad flag (exit 2), said
 * before the export traces the model: below its smallest side, off its
 * patch grid, or, for a run's checkpoint (`recordedBy`) of a model built for
 * its side only (the small CNN, the ViTs), another side than it was built
 * for.
 */
function checkExportSide(spec: ModelSpec, size: number, recordedBy: string | null): void {
  checkImageSizeFlag(spec.name, size);
  const built = spec.options.imageSize;
  if (recordedBy !== null && built !== undefined && size !== built && builtSizeOnly(spec.name)) {
    throw new UsageError(
      `--image-size ${size}: checkpoint ${recordedBy} records its model, ${spec.name} built for ` +
        `${built}x${built} images, which takes no other side; leave --image-size out to export ` +
        `it at ${built}`,
    );
  }
}
