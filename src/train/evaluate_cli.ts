/**
 * `deno task evaluate --checkpoint FILE [--data DIR] [--split test]`: the
 * model of a checkpoint (checkpoint.safetensors, best.safetensors, or any
 * safetensors state dict with `--model`) on one split: sklearn's
 * classification report on the terminal, and a report.html.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { classificationReport } from "../eval/metrics/report.ts";
import { formatClassificationReport } from "../eval/metrics/text.ts";
import type { TrainConfig } from "./config.ts";
import { loadWeights, runConfigOf } from "./checkpoint.ts";
import { checkDataLayout, defaultSyntheticData, evalTransforms } from "./data.ts";
import { ResizedSplit } from "./resized_split.ts";
import { CLASS_NAMES } from "./setup.ts";
import { inferenceModel } from "./inference_model.ts";
import { UsageError } from "./errors.ts";
import { reportError } from "./cli.ts";
import { Command } from "./command.ts";
import { checkDataSide, SHARED_FLAGS as S, WEIGHTS_FLAGS as W, weightsSpec } from "./flag_specs.ts";
import { resolveDevice } from "./session.ts";
import { testSplit, writeSplitReport } from "./test_report.ts";
import { checkPrecision, inPrecision } from "./precision.ts";
import { sliceScaling } from "./intensity_window.ts";
import { checkOutFile } from "./out_file.ts";

const COMMAND = new Command({
  usage: "deno task evaluate --checkpoint FILE [flags]: evaluates a trained model on one split",
  flags: {
    checkpoint: W.checkpoint,
    data: { ...S.data, help: "data folder", shownDefault: "the run's data, from its config" },
    split: { kind: "string", value: "NAME", help: "split to evaluate", default: "test" },
    out: {
      kind: "string",
      value: "FILE",
      help: "report page",
      shownDefault: "report-<split>.html beside the checkpoint",
    },
    model: W.model,
    "image-size": {
      ...W["image-size"],
      help: "input side, for a state dict without lits metadata",
      shownDefault: "the data's",
    },
    "batch-size": { ...S["batch-size"], help: "batch size", default: 64 },
    device: { ...S.device, default: "auto" },
    precision: { ...S.precision, shownDefault: "the run's, else fp32" },
    workers: { ...S.workers, help: "loader worker threads", default: 0 },
  },
});

/**
 * Runs `deno task evaluate` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(await train.evaluateMain(["--split", "test"])); // 2 (no --checkpoint)
 * ```
 */
export function evaluateMain(args: readonly string[]): Promise<number> {
  return COMMAND.run(args, async (p) => {
    const v = p.values as {
      checkpoint: string;
      data?: string;
      split: string;
      out?: string;
      model?: string;
      "image-size"?: number;
      "batch-size": number;
      device: TrainConfig["device"];
      precision?: TrainConfig["precision"];
      workers: number;
    };
    const dev = resolveDevice(v.device);
    const weights = await loadWeights(v.checkpoint);
    // best_ema.safetensors holds the model EMA's weights: said, and its own report name.
    const ema = weights.metadata.weights === "ema";
    const out = v.out ?? join(dirname(v.checkpoint), `report-${v.split}${ema ? "-ema" : ""}.html`);
    try {
      await checkOutFile(out, ".html", [v.checkpoint]); // before the work, not after
      const runConfig = await runConfigOf(weights, v.checkpoint);
      // The run's own precision by default, so that its test figures come out again.
      const precision = v.precision ?? runConfig?.precision ?? "fp32";
      checkPrecision(precision, dev);
      // Before the data is read, so a wrong or missing --model fails at once.
      const spec = weightsSpec(weights.spec, v, "--model");
      const side = v["image-size"];
      if (weights.spec && side !== undefined && side !== weights.spec.options.imageSize) {
        // The recorded side builds the model and sizes the images: the flag would be ignored.
        const recorded = weights.spec.options.imageSize;
        throw new UsageError(
          `--image-size ${side}: checkpoint ${v.checkpoint} records its model, ${spec.name} ` +
            `on ${recorded ? `${recorded}x${recorded}` : "the data's"} images (those of ` +
            "another size are resized to it); --image-size is for a state dict without lits " +
            "metadata: leave it out",
        );
      }
      const root = v.data ?? runConfig?.data ?? await defaultSyntheticData(console.log);
      checkDataLayout(root, [v.split]);
      // Images of another size than the split's first are resized to it, not refused.
      const scaling = sliceScaling(spec.preprocessing?.transforms ?? []);
      const ds = new ResizedSplit({ root, split: v.split, normalize: scaling });
      try {
        // A plain state dict's model takes the data's side unless --image-size says otherwise
        // (a side it cannot take is a bad flag, as --image-size's).
        if (!weights.spec && spec.options.imageSize === undefined) {
          checkDataSide(spec.name, ds.width, ds.height);
          spec.options.imageSize = ds.width;
        }
        // Without Inception's and GoogLeNet's auxiliary heads, which evaluation never runs.
        using model = inferenceModel(spec, weights.state, `checkpoint ${v.checkpoint}`).to(dev);
        const transform = evalTransforms(spec, ds.width, ds.height);
        const loading = {
          batchSize: v["batch-size"],
          transform,
          workers: v.workers,
          device: dev,
        };
        const { evaluation, summary: s } = await inPrecision(
          precision,
          async () => await testSplit(model, ds, loading),
        );
        console.log(`${spec.name} on ${root} (${v.split}, ${ds.length} slices, ${precision})`);
        if (ema) {
          const { epoch, valLoss } = weights.metadata;
          console.log(
            `weights: the model EMA (epoch ${epoch ?? "?"}, val loss ` +
              `${valLoss === undefined ? "?" : Number(valLoss).toFixed(4)})`,
          );
        }
        console.log(
          formatClassificationReport(
            classificationReport(evaluation.yTrue, evaluation.yPred, {
              classNames: CLASS_NAMES,
              zeroDivision: 0, // a class never predicted reads 0.000, without sklearn's warning
            }),
            { digits: 3 },
          ),
        );
        console.log(
          `macro-F1 ${s.macroF1.toFixed(3)}  macro ROC AUC ${s.macroAuc.toFixed(3)}  loss ${
            s.loss.toFixed(4)
          }`,
        );
        await writeSplitReport(out, evaluation, {
          title: `${spec.name}${ema ? " (model EMA)" : ""} on ${v.split}`,
          split: v.split,
          history: [],
          config: {
            checkpoint: v.checkpoint,
            data: root,
            split: v.split,
            device: dev,
            precision,
            ...spec.options,
          },
        });
        console.log(`report: ${out}`);
      } finally {
        ds.close();
      }
    } finally {
      weights.dispose();
    }
  }).catch(reportError);
}
