/**
 * What `fit` owns and must give back or report: the model's weights and
 * the optimizer's state are freed when a run ends (done or failed), so
 * run after run in one process (an experiment's arms) keeps nothing; a
 * failed append to metrics.jsonl (a full disk) ends the run with an error
 * that names the file, never as an unhandled rejection; early stopping's
 * bookkeeping.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { memoryStats, train } from "../mod.ts";
import { EarlyStopping } from "../src/train/early_stopping.ts";
import { quickFlags, trainTestData } from "./train_data.ts";

async function config(overrides: Partial<train.TrainConfig> = {}): Promise<train.TrainConfig> {
  return train.checkConfig({
    ...train.DEFAULTS,
    data: await trainTestData(),
    out: join(await Deno.makeTempDir(), "run"),
    epochs: 1,
    imageSize: 16,
    batchSize: 16,
    augment: "none",
    seed: 7,
    logEvery: 2,
    ...overrides,
  });
}

Deno.test("fit frees the model and the optimizer's state: bytes in use are flat over runs, failed ones too", async () => {
  await train.fit(await config(), { report: false }); // made once per process: the pools, the data
  const before = memoryStats().bytesInUse;
  const after: number[] = [];
  for (const optimizer of train.OPTIMIZERS) {
    await train.fit(await config({ optimizer, epochs: 2 }), { report: false });
    after.push(memoryStats().bytesInUse);
  }
  // MixUp / CutMix batches and their soft labels are freed with each step.
  const mixing = { mixupAlpha: 0.4, cutmixAlpha: 1, labelSmoothing: 0.1, epochs: 2 };
  await train.fit(await config(mixing), { report: false });
  after.push(memoryStats().bytesInUse);
  Deno.env.set("LITS_TRAIN_FAULT", "nan-loss=7");
  try {
    await assert.rejects(train.fit(await config({ epochs: 3 }), { report: false }), /NaN/);
  } finally {
    Deno.env.delete("LITS_TRAIN_FAULT");
  }
  after.push(memoryStats().bytesInUse);
  assert.deepEqual(
    after,
    after.map(() => before),
    `bytes in use: ${before} -> ${after}`,
  );
});

Deno.test("a failed metrics.jsonl append rejects fit with the file's name, not an unhandled rejection", async () => {
  const unhandled: unknown[] = [];
  const listener = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    unhandled.push(e.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    const c = await config({ epochs: 2 });
    // A real failure: once the run has started, metrics.jsonl becomes a folder.
    const log = (line: string) => {
      if (!line.startsWith("training")) return;
      Deno.removeSync(join(c.out, "metrics.jsonl"));
      Deno.mkdirSync(join(c.out, "metrics.jsonl"));
    };
    await assert.rejects(
      train.fit(c, { report: false, log }),
      /cannot append to .*metrics\.jsonl: Is a directory/,
    );
    await new Promise((r) => setTimeout(r, 50)); // give a stray rejection the time to surface
    assert.deepEqual(unhandled, []);
    // The step line's failure stopped the run before its first checkpoint.
    await assert.rejects(Deno.stat(join(c.out, "checkpoint.safetensors")), Deno.errors.NotFound);
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
});

Deno.test("deno task train on a full disk for metrics.jsonl: exit 1 and the reason", async () => {
  const out = join(await Deno.makeTempDir(), "run");
  const p = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../scripts/train.ts", import.meta.url).pathname,
      ...quickFlags(await trainTestData(), out, 2),
      "--log-every",
      "2",
    ],
    env: { LITS_TRAIN_FAULT: "metrics-write=3" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(p.stderr);
  assert.equal(p.code, 1, stderr);
  assert.match(
    stderr,
    /^error: cannot append to .*metrics\.jsonl: No space left on device/m,
  );
  assert.doesNotMatch(stderr, /Uncaught/);
  // Steps 2 and 4 were logged; the epoch line failed, so nothing after it was written.
  const lines = (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n");
  assert.deepEqual(lines.map((l) => JSON.parse(l).type), ["step", "step"]);
});

Deno.test("early stopping: the best loss, the patience count, and whether the best weights come back", () => {
  const state = { history: [], bestValLoss: Infinity, bestEpoch: 0, badValidations: 0, seconds: 0 };
  const es = new EarlyStopping(2, state);
  assert.deepEqual([es.observe(1, 0.9), es.observe(2, 0.8), es.observe(3, 0.85)], [
    "best",
    "best",
    null,
  ]);
  assert.equal(es.restoresBest(3), true);
  assert.equal(es.stopped, false);
  assert.equal(es.observe(4, 0.8), "stop"); // not lower: the second validation without progress
  assert.equal(es.note("stop"), "early stop: no lower val loss for 2 validations");
  assert.deepEqual(state, {
    history: [],
    bestValLoss: 0.8,
    bestEpoch: 2,
    badValidations: 2,
    seconds: 0,
    stopped: true,
  });
  const off = new EarlyStopping(0, {
    ...state,
    bestValLoss: 0.5,
    badValidations: 0,
    stopped: undefined,
  });
  assert.equal(off.observe(5, 0.9), null);
  assert.equal(off.state.badValidations, 0); // counted only when early stopping is on
  assert.equal(off.restoresBest(5), false);
});
