/**
 * `deno task evaluate --checkpoint FILE [--data DIR] [--split test]`: the
 * model of a checkpoint (checkpoint.safetensors, best.safetensors, or any
 * safetensors state dict with `--model`) on one split: sklearn's
 * classification report on the terminal, and a report.html.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { DataLoader } from "../data/loader.ts";
import { writeReport } from "../eval/report/report.ts";
import { classificationReport } from "../eval/metrics/report.ts";
import { formatClassificationReport } from "../eval/metrics/text.ts";
import { defaultDevice, device } from "../tensor/device.ts";
import { DEVICES, MODEL_NAMES, type TrainConfig } from "./config.ts";
import { UsageError } from "./errors.ts";
import { loadModelState, loadWeights } from "./checkpoint.ts";
import { checkDataLayout, defaultSyntheticData, openSplit, runTransforms } from "./data.ts";
import { evaluateModel, summarize } from "./evaluate.ts";
import { buildModel, CLASS_NAMES, type ModelSpec } from "./setup.ts";
import { reportError } from "./cli.ts";

const HELP = `deno task evaluate --checkpoint FILE [flags]: evaluates a trained model on one split

  --checkpoint FILE   checkpoint.safetensors or best.safetensors of a run, or a state dict (required)
  --data DIR          data folder (default: the run's data, from its config)
  --split NAME        split to evaluate (default: test)
  --out FILE          report page (default: report-<split>.html beside the checkpoint)
  --model NAME        model, for a state dict without lits metadata (${MODEL_NAMES.join(", ")})
  --image-size N      input side, for a state dict without lits metadata (default: the data's)
  --batch-size N      batch size (default: 64)
  --device NAME       ${DEVICES.join(", ")} (default: auto)
  --workers N         loader worker threads (default: 0)
  --help              show this help`;

function positiveInt(flag: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) {
    throw new UsageError(`--${flag} ${JSON.stringify(raw)}: must be an integer >= ${min}`);
  }
  return v;
}

async function runConfigBeside(path: string): Promise<TrainConfig | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dirname(path), "config.json")));
  } catch {
    return null; // not inside a run folder
  }
}

function parse(args: readonly string[]) {
  try {
    return parseArgs({
      args: [...args],
      strict: true,
      options: {
        checkpoint: { type: "string" },
        data: { type: "string" },
        split: { type: "string", default: "test" },
        out: { type: "string" },
        model: { type: "string" },
        "image-size": { type: "string" },
        "batch-size": { type: "string" },
        device: { type: "string", default: "auto" },
        workers: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split("\n")[0]}; see --help`);
  }
}

/**
 * Runs `deno task evaluate` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * console.log(await train.evaluateMain(["--split", "test"])); // 2 (no --checkpoint)
 * ```
 */
export async function evaluateMain(args: readonly string[]): Promise<number> {
  try {
    const v = parse(args);
    if (v.help) {
      console.log(HELP);
      return 0;
    }
    if (!v.checkpoint) throw new UsageError("--checkpoint FILE is required; see --help");
    if (v.model !== undefined && !MODEL_NAMES.includes(v.model as never)) {
      throw new UsageError(
        `--model ${JSON.stringify(v.model)}: must be one of ${MODEL_NAMES.join(", ")}`,
      );
    }
    if (!DEVICES.includes(v.device as never)) {
      throw new UsageError(
        `--device ${JSON.stringify(v.device)}: must be one of ${DEVICES.join(", ")}`,
      );
    }
    const batchSize = positiveInt("batch-size", v["batch-size"], 64);
    const workers = positiveInt("workers", v.workers, 0, 0);
    const imageSizeFlag = positiveInt("image-size", v["image-size"], 0);
    const dev = v.device === "auto" ? defaultDevice() : device(v.device!);

    const weights = await loadWeights(v.checkpoint);
    try {
      const runConfig = weights.config ?? await runConfigBeside(v.checkpoint);
      if (weights.spec && v.model && weights.spec.name !== v.model) {
        throw new Error(
          `checkpoint ${v.checkpoint} holds a ${weights.spec.name} model, not ${v.model}`,
        );
      }
      const root = v.data ?? runConfig?.data ?? await defaultSyntheticData(console.log);
      checkDataLayout(root, [v.split!]);
      const ds = openSplit(root, v.split!);
      try {
        let spec: ModelSpec | null = weights.spec;
        if (!spec) {
          if (!v.model) {
            throw new UsageError(
              `${v.checkpoint} has no lits model metadata (a plain state dict); give --model`,
            );
          }
          spec = {
            name: v.model,
            options: { inChannels: 1, numClasses: 3, imageSize: imageSizeFlag || ds.width },
          };
        }
        const size = spec.options.imageSize ?? ds.width;
        const model = buildModel(spec).to(dev);
        try {
          loadModelState(model, weights.state, `checkpoint ${v.checkpoint}`, spec);
          const t = runTransforms("none", size, ds.width, ds.height, spec.normalize ?? null);
          const loader = new DataLoader(ds, { batchSize, transform: t.eval, workers, device: dev });
          const evaluation = await evaluateModel(model, loader, {
            keepMistakes: 24,
            names: (i) => ds.filename(i),
          });
          const s = summarize(evaluation, CLASS_NAMES.length);
          console.log(`${spec.name} on ${root} (${v.split}, ${ds.length} slices)`);
          console.log(
            formatClassificationReport(
              classificationReport(evaluation.yTrue, evaluation.yPred, { classNames: CLASS_NAMES }),
              { digits: 3 },
            ),
          );
          console.log(
            `macro-F1 ${s.macroF1.toFixed(3)}  macro ROC AUC ${s.macroAuc.toFixed(3)}  loss ${
              s.loss.toFixed(4)
            }`,
          );
          const out = v.out ?? join(dirname(v.checkpoint), `report-${v.split}.html`);
          await writeReport(out, {
            title: `${spec.name} on ${v.split}`,
            classNames: CLASS_NAMES,
            history: [],
            yTrue: evaluation.yTrue,
            yPred: evaluation.yPred,
            scores: evaluation.scores,
            misclassified: evaluation.misclassified,
            config: { checkpoint: v.checkpoint, data: root, split: v.split, ...spec.options },
            split: v.split,
          });
          console.log(`report: ${out}`);
        } finally {
          model.dispose();
        }
      } finally {
        ds.close();
      }
    } finally {
      weights.dispose();
    }
    return 0;
  } catch (e) {
    return reportError(e);
  }
}
