/**
 * `deno task train --weights FILE`: one-epoch runs on the shared small data
 * set (tests/train_data.ts) starting from a simple CNN's weights made for 3
 * channels and 10 classes: the line the command prints, the weights in the
 * model (the stem summed to one channel, the head at init), config.json's
 * path and SHA-256, the file kinds it reads (safetensors state dict, .pth,
 * io.save dict, a run's checkpoint), `--resume` (the checkpoint's weights,
 * never the file's again; before the first checkpoint the file's, unchanged),
 * and the refusals with exit code 2.
 *
 * Models are made on `LITS_TEST_DEVICE`; the runs themselves use --device auto.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { io, models, type Tensor, train, zeros } from "../mod.ts";
import { capture, quickFlags, trainTestData } from "./train_data.ts";
import { assertClose, testDevice } from "./helpers.ts";
import { laughs, pth } from "./pth_bytes.ts";
import { readPretrained, tensorsIn } from "../src/train/weights.ts";
import { UsageError } from "../src/train/errors.ts";

/** The simple CNN as `deno task train --model simple` builds it, for 3 channels and 10 classes. */
const SOURCE = { imageSize: 16, batchNorm: true, globalPool: "max" as const };
const LINE = "weights: 30 tensors from simple.safetensors; features.0.weight summed over 3 " +
  "input channels to 1; classifier.3.weight, classifier.3.bias left at init ([10, 256] vs [3, 256])";

/** Writes the source weights to `dir`; returns the file and the stem timm's rule makes of them. */
async function sourceWeights(dir: string): Promise<{ file: string; stem: Float32Array }> {
  using src = models.create("simple", { inChannels: 3, numClasses: 10, ...SOURCE }).to(testDevice);
  const file = join(dir, "simple.safetensors");
  await io.saveSafetensors(file, src.stateDict());
  using stem = models.adaptInputConv(src.stateDict().get("features.0.weight")!, 1);
  return { file, stem: stem.toArray() as Float32Array };
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const readConfig = async (run: string) =>
  JSON.parse(await Deno.readTextFile(join(run, "config.json"))) as train.TrainConfig;

/** The weights of a run's best.safetensors, by name. */
async function bestWeights(run: string): Promise<Map<string, Float32Array>> {
  const w = await train.loadWeights(join(run, "best.safetensors"));
  try {
    return new Map([...w.state].map(([k, t]) => [k, t.toArray() as Float32Array]));
  } finally {
    w.dispose();
  }
}

/** A one-epoch run at a learning rate too small to move the weights: they stay what was loaded. */
const run = (data: string, out: string, ...more: string[]) =>
  capture(train.trainMain, [...quickFlags(data, out, 1), "--lr", "1e-9", ...more]);

Deno.test("--weights: loads the file into the model, says so in one line, records it in config.json", async () => {
  const data = await trainTestData();
  const dir = await Deno.makeTempDir();
  const { file, stem } = await sourceWeights(dir);
  const out = join(dir, "run");
  const r = await run(data, out, "--weights", file);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.split("\n").includes(LINE), r.stdout);
  const config = await readConfig(out);
  assert.equal(config.weights, file);
  assert.equal(config.weightsSha256, await sha256(file));
  const best = await bestWeights(out);
  assertClose(best.get("features.0.weight")!, stem, { rtol: 1e-5, atol: 1e-6, what: "stem" });
  // Without --weights: the model's own init, and null in config.json.
  const plain = join(dir, "plain");
  const p = await run(data, plain);
  assert.equal(p.code, 0, p.stderr);
  assert.ok(!p.stdout.includes("weights:"), p.stdout);
  const pc = await readConfig(plain);
  assert.equal(pc.weights, null);
  assert.equal(pc.weightsSha256, null);
  const own = (await bestWeights(plain)).get("features.0.weight")!;
  assert.ok(own.some((v, i) => Math.abs(v - stem[i]) > 1e-3));
  assert.ok(train.trainHelp().includes("--weights FILE"));
});

Deno.test("--weights: a PyTorch .pth (torch.save's format, as io.savePth writes it)", async () => {
  const data = await trainTestData();
  const dir = await Deno.makeTempDir();
  const { file, stem } = await sourceWeights(dir);
  const state = await io.loadSafetensors(file);
  try {
    const pth = join(dir, "simple.pth");
    await io.savePth(pth, state);
    const r = await run(data, join(dir, "run"), "--weights", pth);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(LINE.replace("simple.safetensors", "simple.pth")), r.stdout);
    assertClose((await bestWeights(join(dir, "run"))).get("features.0.weight")!, stem);
  } finally {
    state.forEach((t: Tensor) => t.dispose());
  }
});

Deno.test("--weights: an io.save dict and a run's checkpoint.safetensors", async () => {
  const data = await trainTestData();
  const dir = await Deno.makeTempDir();
  const { file, stem } = await sourceWeights(dir);
  const state = await io.loadSafetensors(file);
  try {
    const saved = join(dir, "ckpt.safetensors");
    await io.save(saved, { model: state, epoch: 90 });
    const b = await run(data, join(dir, "b"), "--weights", saved);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /weights: 30 tensors from ckpt\.safetensors; state dict under 'model';/);
    assertClose((await bestWeights(join(dir, "b"))).get("features.0.weight")!, stem);
  } finally {
    state.forEach((t: Tensor) => t.dispose());
  }
  // A run's checkpoint (1 channel, 3 classes already): all of it loads as it is.
  const c = await run(data, join(dir, "c"), "--weights", join(dir, "b", "checkpoint.safetensors"));
  assert.equal(c.code, 0, c.stderr);
  assert.ok(
    c.stdout.split("\n").includes("weights: 32 tensors from checkpoint.safetensors"),
    c.stdout,
  );
  const [bw, cw] = [await bestWeights(join(dir, "b")), await bestWeights(join(dir, "c"))];
  for (const k of ["features.0.weight", "classifier.3.weight"]) assertClose(cw.get(k)!, bw.get(k)!);
});

Deno.test("--weights with --resume: the checkpoint's weights, the file's only before the first", async () => {
  const data = await trainTestData();
  const dir = await Deno.makeTempDir();
  const { file } = await sourceWeights(dir);
  const out = join(dir, "run");
  assert.equal((await run(data, out, "--weights", file)).code, 0);
  const original = await Deno.readFile(file);
  // The file changes: a resumed run does not read it again over its checkpoint.
  await Deno.writeTextFile(file, "not weights any more");
  const resumed = await capture(train.trainMain, ["--resume", "--out", out]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(!resumed.stdout.includes("weights:"), resumed.stdout);
  assert.match(resumed.stdout, /resuming .* after epoch 1/);
  // Another file on the command line is another configuration.
  const other = await capture(train.trainMain, ["--resume", "--out", out, "--weights", "x.pth"]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--weights "x\.pth" differs from the run's/);
  // Before its first checkpoint a run starts from the file again: the one it began with.
  await Deno.remove(join(out, "checkpoint.safetensors"));
  await Deno.copyFile(join(out, "best.safetensors"), file); // weights, but not the run's
  const changed = await capture(train.trainMain, ["--resume", "--out", out]);
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /--weights .*simple\.safetensors changed since the run began/);
  await Deno.writeFile(file, original);
  const again = await capture(train.trainMain, ["--resume", "--out", out]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no complete checkpoint yet, starting at epoch 1/);
  assert.ok(again.stdout.split("\n").includes(LINE), again.stdout);
});

Deno.test("--weights refuses a missing file, an unreadable one and a model they do not fit (exit 2)", async () => {
  const data = await trainTestData();
  const dir = await Deno.makeTempDir();
  const text = join(dir, "notes.txt");
  await Deno.writeTextFile(text, "hello");
  // A simple CNN without batch norm: another architecture than --model simple's.
  using other = models.create("simple", { inChannels: 3, numClasses: 10, imageSize: 16 });
  const bare = join(dir, "bare.safetensors");
  await io.saveSafetensors(bare, other.stateDict());
  const cases: [string, RegExp][] = [
    [join(dir, "missing.safetensors"), /--weights .*missing\.safetensors: no such file/],
    [dir, /--weights .*: cannot read it/],
    [text, /notes\.txt: neither a PyTorch checkpoint .* nor a safetensors file/],
    [
      bare,
      /--weights .*bare\.safetensors does not fit --model simple: the weights do not fit this SimpleCNN: missing keys \[features\.1\.weight, .*unexpected keys \[features\.3\.weight/,
    ],
  ];
  for (const [path, want] of cases) {
    const out = join(dir, "run");
    const r = await run(data, out, "--weights", path);
    assert.equal(r.code, 2, `${path}: ${r.stderr}`);
    assert.match(r.stderr, want);
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound); // no run folder left behind
  }
  const empty = await capture(train.trainMain, [
    ...quickFlags(data, join(dir, "e"), 1),
    "--weights",
    " ",
  ]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /--weights " ": needs a value/);
  // train.fit's config is checked as the flags are.
  for (const weights of ["", 3]) {
    assert.throws(
      () => train.checkConfig({ ...train.DEFAULTS, weights } as never),
      /--weights .*: must be a weights file \(a \.pth/,
    );
  }
  assert.throws(
    () => train.checkConfig({ ...train.DEFAULTS, weightsSha256: "abc" }),
    /weightsSha256 "abc": must be null or 64 hex digits/,
  );
});

Deno.test("--weights: shared values are walked once, and a billion laughs is refused fast", async () => {
  // Ten references to the one list below, 30 deep (10^30 paths), a Map and an object among them.
  using a = zeros([2], { device: testDevice });
  using b = zeros([3], { device: testDevice });
  let level: unknown = [a, new Map([["b", b]])];
  for (let i = 0; i < 30; i++) level = i % 2 ? Array(10).fill(level) : { x: level, y: level };
  const t0 = performance.now();
  assert.deepEqual([...tensorsIn({ arch: "resnet18", lol: level })].map((t) => t.shape), [
    [3],
    [2],
  ]);
  assert.ok(performance.now() - t0 < 1000);
  // The file of such lists: refused by its reading, naming it (exit 2 from the command).
  const dir = await Deno.makeTempDir();
  const file = join(dir, "laughs.pth");
  await Deno.writeFile(file, pth(laughs()));
  await assert.rejects(
    () => readPretrained(file),
    (e: Error) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(e.message, /^--weights .*laughs\.pth: pth .*laughs\.pth: .*"billion laughs"/);
      return true;
    },
  );
  await Deno.remove(dir, { recursive: true });
});
