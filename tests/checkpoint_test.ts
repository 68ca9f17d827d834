/**
 * Checkpoints: a full round trip (model, Adam moments and step counts, RNG),
 * refusal of corrupt, truncated and foreign files, and the real thing: a
 * training process killed with SIGKILL at random moments (and once in the
 * middle of writing a checkpoint) and resumed with --resume ends with
 * exactly the metrics and weights of an uninterrupted run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { io, manualSeed, models, nn, optim, rand, tensor, train } from "../mod.ts";
import { capture, quickFlags, trainTestData } from "./train_data.ts";
import { safetensorsMetadata } from "../src/io/safetensors.ts";

const SCRIPT = new URL("../scripts/train.ts", import.meta.url).pathname;

/** Spawns `deno task train` (the script) with `args`; extra env optional. */
function spawnTrain(args: string[], env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** The run's metrics without wall-clock numbers, for comparing runs. */
async function metricsOf(dir: string): Promise<unknown[]> {
  const lines = (await Deno.readTextFile(join(dir, "metrics.jsonl"))).trim().split("\n");
  return lines.map((l) => {
    const { seconds: _s, imagesPerSecond: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}

/** The lines of a byte stream as they arrive. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest) yield rest;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

function spec() {
  return { name: "simple", options: { inChannels: 1, numClasses: 3, imageSize: 16, dropout: 0.3 } };
}

function fields(model: { name: string; options: Record<string, unknown> }) {
  return {
    model,
    epoch: 2,
    step: 6,
    scheduler: { lastEpoch: 2, baseLrs: [0.01] },
    rng: { seed: "5", counter: "12345" },
    loader: { epoch: 2, seed: 5 },
    config: train.DEFAULTS,
    trainer: { history: [], bestValLoss: Infinity, bestEpoch: 0, badValidations: 0, seconds: 1 },
  };
}

Deno.test("a checkpoint round-trips model, Adam state with step counts, and everything else", async () => {
  manualSeed(5);
  const s = spec();
  using model = models.create(s.name, s.options);
  const opt = new optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 1e-4 });
  const lossFn = new nn.CrossEntropyLoss();
  using x = rand([4, 1, 16, 16]);
  using y = tensor(new Int32Array([0, 1, 2, 1]), [4], { dtype: "int32" });
  for (let i = 0; i < 3; i++) {
    opt.zeroGrad();
    lossFn.forward(model.forward(x), y).backward();
    opt.step();
  }
  opt.zeroGrad();
  const dir = await Deno.makeTempDir();
  const path = join(dir, "checkpoint.safetensors");
  await train.saveCheckpoint(path, model, opt as never, fields(s));
  const c = await train.loadCheckpoint(path);
  try {
    assert.equal(c.info.epoch, 2);
    assert.equal(c.info.optimizer, "Adam");
    assert.equal(c.info.trainer.bestValLoss, Infinity);
    assert.deepEqual(c.info.rng, { seed: "5", counter: "12345" });
    for (const [name, t] of model.stateDict()) {
      assert.deepEqual(c.modelState.get(name)!.toArray(), t.toArray(), name);
    }
    const saved = opt.stateDict();
    assert.equal(c.optimizerState.state.size, saved.state.size);
    for (const [i, s] of saved.state) {
      const r = c.optimizerState.state.get(i)!;
      assert.equal(r.step, 3);
      for (const [k, t] of s.tensors) assert.deepEqual(r.tensors.get(k)!.toArray(), t.toArray());
    }
    // Into a fresh optimizer: the next step equals the original's next step.
    manualSeed(9);
    using other = models.create(s.name, s.options);
    other.loadStateDict(c.modelState);
    const opt2 = new optim.Adam(other.parameters(), { lr: 0.01, weightDecay: 1e-4 });
    opt2.loadStateDict(c.optimizerState);
    for (const [m, o] of [[model, opt], [other, opt2]] as const) {
      o.zeroGrad();
      lossFn.forward(m.eval().forward(x), y).backward();
      o.step();
      o.zeroGrad();
    }
    assert.deepEqual(
      other.stateDict().get("features.0.weight")!.toArray(),
      model.stateDict().get("features.0.weight")!.toArray(),
    );
  } finally {
    c.dispose();
  }
});

Deno.test("corrupt, truncated, altered and foreign checkpoints are refused with a reason", async () => {
  const s = spec();
  using model = models.create(s.name, s.options);
  const opt = new optim.Adam(model.parameters());
  const dir = await Deno.makeTempDir();
  const path = join(dir, "checkpoint.safetensors");
  await train.saveCheckpoint(path, model, opt as never, fields(s));
  const bytes = await Deno.readFile(path);
  const write = async (name: string, content: Uint8Array) => {
    const p = join(dir, name);
    await Deno.writeFile(p, content);
    return p;
  };
  const refuse = async (name: string, content: Uint8Array, pattern: RegExp) => {
    await assert.rejects(train.loadCheckpoint(await write(name, content)), pattern, name);
  };
  await refuse(
    "half.safetensors",
    bytes.subarray(0, bytes.length >> 1),
    /corrupt.*(truncated|data|bytes)/,
  );
  await refuse("tiny.safetensors", bytes.subarray(0, 5), /corrupt.*too short/);
  const flipped = bytes.slice();
  flipped[flipped.length - 3] ^= 0x55;
  await refuse("flipped.safetensors", flipped, /corrupt.*checksum/);
  await refuse(
    "text.safetensors",
    new TextEncoder().encode("hello world, not a checkpoint"),
    /corrupt/,
  );
  using w = tensor(new Float32Array([1]), [1]);
  await refuse("plain.safetensors", io.encodeSafetensors({ w }), /no lits.checkpoint metadata/);
  // The JSON part: the tensors' checksum does not cover it, its own does.
  const rewritten = (edit: (meta: Record<string, string>) => void) => {
    const meta = { ...safetensorsMetadata(bytes, path) };
    edit(meta);
    const tensors = io.decodeSafetensors(bytes);
    const out = io.encodeSafetensors(tensors, { metadata: meta });
    tensors.forEach((t) => t.dispose());
    return out;
  };
  const text = safetensorsMetadata(bytes, path)["lits.checkpoint"];
  assert.match(text, /"epoch":2,/);
  await refuse(
    "epoch.safetensors",
    rewritten((m) => m["lits.checkpoint"] = text.replace(/"epoch":2,/, '"epoch":3,')),
    /corrupt.*metadata checksum mismatch/,
  );
  // A file without that checksum (written before it) is still checked field by field.
  const old = (edit: (info: Record<string, unknown>) => void) =>
    rewritten((m) => {
      const info = JSON.parse(text);
      edit(info);
      m["lits.checkpoint"] = JSON.stringify(info);
      delete m["lits.checkpoint.checksum"];
    });
  await refuse("no-rng.safetensors", old((i) => delete i.rng), /metadata field 'rng' should be/);
  await refuse(
    "bad-trainer.safetensors",
    old((i) => i.trainer = { history: [] }),
    /metadata field 'trainer' should be/,
  );
  await refuse(
    "cut-json.safetensors",
    rewritten((m) => m["lits.checkpoint"] = text.slice(0, 100)),
    /corrupt.*metadata checksum mismatch/,
  );
  await refuse(
    "null.safetensors",
    old((i) => Object.keys(i).forEach((k) => delete i[k])),
    /format undefined/,
  );
  const ok = await train.loadCheckpoint(await write("old.safetensors", old(() => {})));
  assert.equal(ok.info.epoch, 2);
  ok.dispose();
  await train.saveWeights(join(dir, "best.safetensors"), model, s);
  await assert.rejects(train.loadCheckpoint(join(dir, "best.safetensors")), /model weights only/);
  await assert.rejects(train.loadCheckpoint(join(dir, "missing.safetensors")), /does not exist/);
});

Deno.test("kill -9 at random moments and --resume: the same final metrics and weights as one uninterrupted run", async () => {
  const data = await trainTestData();
  const tmp = await Deno.makeTempDir();
  // Dropout (the manualSeed stream), augmentation and balanced sampling (the
  // loader's streams), a schedule and Adam's moments all have to resume exactly.
  const flags = (out: string) => [
    ...quickFlags(data, out, 8),
    "--augment",
    "RandomAffine,RandomGaussianNoise",
    "--dropout",
    "0.3",
    "--scheduler",
    "cosine",
    "--balanced",
    "--log-every",
    "2",
    // All 8 epochs (room for kills), whatever the default patience.
    "--early-stopping",
    "0",
  ];
  const reference = join(tmp, "reference");
  const ref = await spawnTrain(flags(reference)).output();
  assert.equal(ref.code, 0, new TextDecoder().decode(ref.stderr));

  // 1. Killed from outside at random moments (after a random number of epoch
  // lines, plus a random delay: mid-epoch, mid-validation or mid-write),
  // resumed each time until it ends.
  const killed = join(tmp, "killed");
  let kills = 0, epochsSeen = 0;
  const killedAt: number[] = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const child = spawnTrain(attempt === 0 ? flags(killed) : [...flags(killed), "--resume"]);
    const target = epochsSeen + 1 + Math.floor(Math.random() * 3);
    let timer: ReturnType<typeof setTimeout> | undefined;
    for await (const line of lines(child.stdout)) {
      const m = line.match(/^epoch +(\d+)\//);
      if (m) epochsSeen = Number(m[1]);
      if (m && epochsSeen >= target && timer === undefined) {
        timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* it ended first */ }
        }, Math.random() * 60);
      }
    }
    const status = await child.status;
    clearTimeout(timer);
    await child.stderr.cancel();
    if (status.success) break;
    assert.equal(status.signal, "SIGKILL");
    kills++;
    killedAt.push(epochsSeen);
  }
  assert.ok(kills >= 2, `the run was killed ${kills} times: make it longer`);
  console.log(`killed ${kills} times, after epoch lines ${killedAt.join(", ")}; resumed each time`);
  assert.ok(await exists(join(killed, "report.html")), "the resumed runs finished");
  assert.deepEqual(await metricsOf(killed), await metricsOf(reference));
  assert.deepEqual(
    await Deno.readFile(join(killed, "best.safetensors")),
    await Deno.readFile(join(reference, "best.safetensors")),
  );

  // 2. Killed by itself half-way through writing the third checkpoint.
  const torn = join(tmp, "torn");
  const died = await spawnTrain(flags(torn), { LITS_TRAIN_FAULT: "kill-in-checkpoint=3" }).output();
  assert.equal(died.signal, "SIGKILL");
  const leftovers = [...Deno.readDirSync(torn)].map((e) => e.name);
  assert.ok(leftovers.some((n) => n.startsWith("checkpoint.safetensors.tmp-")), String(leftovers));
  const c = await train.loadCheckpoint(join(torn, "checkpoint.safetensors"));
  assert.equal(c.info.epoch, 2, "the complete checkpoint is epoch 2's; the torn one is never read");
  c.dispose();
  const resumed = await spawnTrain([...flags(torn), "--resume"]).output();
  const said = new TextDecoder().decode(resumed.stdout);
  assert.equal(resumed.code, 0, new TextDecoder().decode(resumed.stderr));
  assert.match(said, /resuming .* after epoch 2/);
  assert.ok(![...Deno.readDirSync(torn)].some((e) => e.name.includes(".tmp-")));
  assert.deepEqual(await metricsOf(torn), await metricsOf(reference));
});

Deno.test("--resume refuses a config.json edited since the checkpoint, an invalid one, and changed data", async () => {
  const tmp = await Deno.makeTempDir();
  const data = join(tmp, "data"); // a copy: one of its labels changes below
  await new Deno.Command("cp", { args: ["-r", await trainTestData(), data] }).output();
  const out = join(tmp, "run");
  const first = await capture(train.trainMain, quickFlags(data, out, 2));
  assert.equal(first.code, 0, first.stderr);
  // The test line says whose weights it measured (best.safetensors holds the best epoch's).
  assert.match(
    first.stdout,
    /^test \(weights of epoch 2(, the last; best\.safetensors is epoch 1's)?\): accuracy/m,
  );
  const configPath = join(out, "config.json");
  const original = await Deno.readTextFile(configPath);
  const edit = (patch: Record<string, unknown>) =>
    Deno.writeTextFile(configPath, JSON.stringify({ ...JSON.parse(original), ...patch }));
  // Two more epochs "by editing config.json" once resumed a cosine schedule at its end:
  // both epochs trained at learning rate 0 without a word.
  await edit({ epochs: 4 });
  const longer = await capture(train.trainMain, ["--out", out, "--resume"]);
  assert.equal(longer.code, 1);
  assert.match(
    longer.stderr,
    /checkpoint .* was written with epochs 2, but .*config.json now says epochs 4; a resumed run continues/,
  );
  await edit({ lr: "0.001" });
  const typo = await capture(train.trainMain, ["--out", out, "--resume"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /config.json: --lr "0.001": must be a number > 0/);
  // The data changed under the run (regenerated, a slice moved): refused.
  await Deno.writeTextFile(configPath, original);
  const csv = join(data, "train_classes.csv");
  const labels = await Deno.readTextFile(csv);
  const rows = labels.trimEnd().split("\n");
  rows.splice(1, 1); // the first slice leaves the training split
  await Deno.writeTextFile(csv, rows.join("\n") + "\n");
  const moved = await capture(train.trainMain, ["--out", out, "--resume"]);
  assert.equal(moved.code, 1);
  assert.match(moved.stderr, /was written over other data: the slices or labels of .* changed/);
  await Deno.writeTextFile(csv, labels);
  // Settings that do not change the numbers may differ.
  await edit({ logEvery: 7 });
  const same = await capture(train.trainMain, ["--out", out, "--resume"]);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /resuming .* after epoch 2/);
});
