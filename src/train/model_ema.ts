/**
 * The model EMA of a training run (torchvision's `--model-ema`): validated
 * beside the model after each validation (an "ema" line in metrics.jsonl,
 * best_ema.safetensors at its lowest loss), and tested at the end (a
 * "ema_test" line), without moving the `manualSeed` stream the
 * model's training draws from.
 *
 * @module
 */
import type { Position } from "./resume.ts";
import type { Run } from "./trainer.ts";
import type { TestSummary } from "./evaluate.ts";
import { evaluateModel } from "./evaluate.ts";
import { saveWeights } from "./checkpoint.ts";
import { evalLoader, testSplit } from "./test_report.ts";
import { inPrecision } from "./precision.ts";
import { syncBuffers } from "./distributed.ts";
import { generatorState, setGeneratorState } from "../tensor/ops/random.ts";

/**
 * Validates the model EMA as torchvision does after the model: an "ema"
 * line in metrics.jsonl, and best_ema.safetensors at its lowest loss.
 */
export async function validateEma(run: Run, position: Position, epoch: number): Promise<void> {
  const { data: { config, spec, val }, session, paths, group } = run;
  const ema = session.ema!;
  syncBuffers(group, ema); // every rank evaluates rank 0's average
  const v = await aside(() =>
    inPrecision(
      config.precision,
      async () => await evaluateModel(ema.module, evalLoader(val, session.evalLoading)),
    )
  );
  const s = position.state;
  const best = v.loss < (s.bestEmaValLoss ?? Infinity);
  if (best) {
    s.bestEmaValLoss = v.loss;
    s.bestEmaEpoch = epoch;
    if (group.writer) {
      await saveWeights(paths.bestEma, ema.module, spec, {
        epoch: String(epoch),
        valLoss: String(v.loss),
        weights: "ema",
      });
    }
  }
  await run.metrics.write({
    type: "ema",
    epoch,
    step: position.step,
    valLoss: v.loss,
    valAcc: v.accuracy,
  });
  run.log(
    `  EMA val loss ${v.loss.toFixed(4)} acc ${(100 * v.accuracy).toFixed(1)}%` +
      (best ? "  best (best_ema.safetensors)" : ""),
  );
}

/**
 * Runs `f` with the `manualSeed` stream put back after it: an evaluation's
 * loader draws its seed from the stream, and the EMA's must not move the
 * model's dropout and order (a run trains the same with and without it).
 */
async function aside<T>(f: () => Promise<T>): Promise<T> {
  const state = generatorState();
  try {
    return await f();
  } finally {
    setGeneratorState(state);
  }
}

/** With `--model-ema`, the test split on the EMA's last weights: an "ema_test" line. */
export async function testEma(run: Run, position: Position): Promise<TestSummary | null> {
  const { data, session } = run;
  if (!session.ema) return null;
  syncBuffers(run.group, session.ema);
  const { summary } = await aside(() =>
    inPrecision(
      data.config.precision,
      async () => await testSplit(session.ema!.module, data.test, session.evalLoading),
    )
  );
  // A type of its own: a reader of the last "test" line keeps reading the model's.
  await run.metrics.write({
    type: "ema_test",
    epoch: position.epoch,
    weightsEpoch: position.epoch,
    ...summary,
  });
  return summary;
}
