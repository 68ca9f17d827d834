/**
 * `deno task export`: from a run's checkpoint (with its standardisation),
 * from best.safetensors and from a plain state dict to an ONNX file whose
 * logits in ONNX Runtime equal the checkpoint's model's on dataset-range
 * images; and every bad command line or file gives its exit code and a
 * message, with nothing (not even a temporary file) left in the out folder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// deno-lint-ignore no-import-prefix -- test-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import { io, manualSeed, models, noGrad, optim, rand, tensor, train } from "../mod.ts";
import { exportMain } from "../src/onnx/cli.ts";
import { decodeModel } from "../src/onnx/proto.ts";
import { assertClose } from "./helpers.ts";

/** Calls exportMain in-process, capturing what it prints. */
async function capture(args: string[]) {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await exportMain(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const NORMALIZE = { mean: 0.18, std: 0.23 };

/** A run's checkpoint of a simple CNN (32 x 32, batch norm) standardised with NORMALIZE. */
async function checkpoint(dir: string): Promise<{ path: string; model: models.SimpleCNN }> {
  manualSeed(3);
  const spec = {
    name: "simple",
    options: { inChannels: 1, numClasses: 3, imageSize: 32, batchNorm: true },
    normalize: NORMALIZE,
  };
  const model = models.create(spec.name, spec.options) as models.SimpleCNN;
  const path = join(dir, "checkpoint.safetensors");
  await train.saveCheckpoint(path, model, new optim.Adam(model.parameters()), {
    model: spec,
    epoch: 1,
    step: 10,
    scheduler: null,
    rng: { seed: "3", counter: "0" },
    loader: { epoch: 1, seed: 3 },
    config: train.DEFAULTS,
    trainer: { history: [], bestValLoss: 1, bestEpoch: 1, badValidations: 0, seconds: 1 },
  });
  return { path, model };
}

/** ONNX Runtime's logits for `pixels` [n, 1, size, size]. */
async function ortLogits(file: string, pixels: Float32Array, n: number, size: number) {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({
      image: new ort.Tensor("float32", pixels, [n, 1, size, size]),
    });
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

Deno.test("export: a checkpoint's model runs in ONNX Runtime with its standardisation inside", async () => {
  const dir = await Deno.makeTempDir();
  const { path, model } = await checkpoint(dir);
  const r = await capture(["--checkpoint", path, "--format", "onnx"]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(dir, "checkpoint.onnx"); // the default --out
  assert.match(r.stdout, /checkpoint\.onnx: simple, .* MiB, ONNX opset 17/);
  assert.match(r.stdout, /image \[N, 1, 32, 32\] float32 in \[0, 1\], standardised inside/);
  const pixels = rand([4, 1, 32, 32]).toArray() as Float32Array;
  const standardised = pixels.map((v) => v * (1 / NORMALIZE.std) - NORMALIZE.mean / NORMALIZE.std);
  const ours = noGrad(() => model.eval().forward(tensor(standardised, [4, 1, 32, 32]))).toArray();
  assertClose(await ortLogits(file, pixels, 4, 32), ours, { atol: 1e-4, rtol: 0 });
  const meta = Object.fromEntries(
    decodeModel(await Deno.readFile(file)).metadataProps.map((p) => [p.key, p.value]),
  );
  assert.equal(JSON.parse(meta["lits.model"]).options.imageSize, 32);
  assert.deepEqual(JSON.parse(meta["lits.classes"]), ["no liver", "liver", "liver + lesion"]);
  model.dispose();
});

Deno.test("export: best.safetensors and a plain state dict (with --model, --image-size)", async () => {
  const dir = await Deno.makeTempDir();
  manualSeed(4);
  using net = models.resnet18({ inChannels: 1, numClasses: 3 });
  const spec = { name: "resnet18", options: { inChannels: 1, numClasses: 3, imageSize: 40 } };
  await train.saveWeights(join(dir, "best.safetensors"), net, spec);
  const best = await capture([
    "--checkpoint",
    join(dir, "best.safetensors"),
    "--out",
    `${dir}/a.onnx`,
  ]);
  assert.equal(best.code, 0, best.stderr);
  // A ResNet takes any side: its checkpoint exports a graph for another one.
  const other = await capture([
    "--checkpoint",
    join(dir, "best.safetensors"),
    "--image-size",
    "64",
    "--out",
    `${dir}/c.onnx`,
  ]);
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stdout, /input {2}image \[N, 1, 64, 64\]/);
  await io.saveSafetensors(join(dir, "plain.safetensors"), net.stateDict());
  const plain = ["--checkpoint", join(dir, "plain.safetensors"), "--out", `${dir}/b.onnx`];
  const refused = await capture(plain);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /no lits model metadata .* give --model and --image-size/);
  const given = await capture([...plain, "--model", "resnet18", "--image-size", "48"]);
  assert.equal(given.code, 0, given.stderr);
  const pixels = rand([1, 1, 48, 48]).toArray() as Float32Array;
  const ours = noGrad(() => net.eval().forward(tensor(pixels, [1, 1, 48, 48]))).toArray();
  assertClose(await ortLogits(`${dir}/b.onnx`, pixels, 1, 48), ours, { atol: 1e-4, rtol: 0 });
  const small = await capture([...plain, "--model", "simple", "--image-size", "8"]);
  assert.equal(small.code, 2, small.stderr);
  assert.match(small.stderr, /--image-size 8: model simple needs images of at least 16 pixels/);
  const wrong = await capture([...plain, "--model", "resnet34", "--image-size", "48"]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /does not fit model resnet34/);
});

Deno.test("export: bad command lines and files fail with a message and write nothing", async () => {
  const dir = await Deno.makeTempDir();
  const { path, model } = await checkpoint(dir);
  model.dispose();
  const outDir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "dir.onnx"));
  const junk = join(dir, "junk.safetensors");
  await Deno.writeFile(junk, new Uint8Array(64).fill(7));
  const cases: [string[], number, RegExp][] = [
    [["--out", `${outDir}/m.onnx`], 2, /--checkpoint FILE is required/],
    [["--checkpoint", path, "--format", "torchscript", "--out", `${outDir}/m.onnx`], 2, /onnx/],
    [["--checkpoint", junk, "--out", `${outDir}/m.onnx`], 1, /junk\.safetensors is corrupt/],
    [["--checkpoint", `${dir}/none.safetensors`, "--out", `${outDir}/m.onnx`], 1, /does not exist/],
    [["--checkpoint", path, "--out", `${outDir}/no/such/m.onnx`], 2, /folder .* does not exist/],
    [["--checkpoint", path, "--out", outDir], 2, /the output is a \.onnx file; give a name ending/],
    [["--checkpoint", path, "--out", `${dir}/dir.onnx`], 2, /is a folder; give a file name/],
    // It once replaced the weights it read with the ONNX file.
    [["--checkpoint", path, "--out", path], 2, /the output is a \.onnx file/],
    [
      ["--checkpoint", path, "--model", "resnet18", "--out", `${outDir}/m.onnx`],
      1,
      /holds a simple/,
    ],
    // The checkpoint's small CNN is built for 32 x 32: another side is a bad flag, said first.
    [
      ["--checkpoint", path, "--image-size", "64", "--out", `${outDir}/m.onnx`],
      2,
      /simple built for 32x32 images, which takes no other side; leave --image-size out/,
    ],
  ];
  for (const [args, code, message] of cases) {
    const r = await capture(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.deepEqual(await Array.fromAsync(Deno.readDir(outDir)), [], args.join(" "));
  }
});

Deno.test("export: the script's exit code and --help", async () => {
  const script = new URL("../scripts/export.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0);
  const help = new TextDecoder().decode(out.stdout);
  for (const flag of ["--checkpoint", "--format", "--out", "--model", "--image-size"]) {
    assert.ok(help.includes(flag), flag);
  }
  const bad = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "--checkpoint"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
});
