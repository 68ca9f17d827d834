/**
 * SimpleCNN's `globalPool` and `--global-pool`: the pooled model equals its
 * parts (features, a max or mean over the last map, classifier), its state
 * dict keeps the course's names with a 128-input first Linear, the flag and
 * config checks, a resumed old run keeping the flattening head, and a run
 * whose checkpoint rebuilds the pooled model for `evaluate`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { manualSeed, models, type nn, noGrad, randn, tensor, train } from "../mod.ts";
import { resumeConfig } from "../src/train/cli.ts";
import { buildModel } from "../src/train/setup.ts";
import { capture, fitAndEvaluateTestLoss, quickFlags, trainTestData } from "./train_data.ts";

/** Max or mean over each [H, W] map of x [N, C, H, W], in float64: [N, C]. */
function poolByHand(x: Float32Array, shape: number[], how: "max" | "avg"): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n * c; i++) {
    const map = x.subarray(i * h * w, (i + 1) * h * w);
    out[i] = how === "max" ? Math.max(...map) : map.reduce((s, v) => s + v, 0) / (h * w);
  }
  return out;
}

for (const how of ["max", "avg"] as const) {
  Deno.test(`SimpleCNN globalPool "${how}": features, the ${how === "max" ? "max" : "mean"} of each map, then the classifier`, () => {
    manualSeed(3);
    using net = models.simpleCNN({ imageSize: 48, batchNorm: true, globalPool: how }).eval();
    using x = randn([3, 1, 48, 48]);
    noGrad(() => {
      using logits = net.forward(x);
      using feats = net.features.forward(x);
      assert.deepEqual(feats.shape, [3, 128, 3, 3]);
      const pooled = poolByHand(feats.toArray() as Float32Array, feats.shape, how);
      using byHand = net.classifier.forward(tensor(pooled, [3, 128]));
      const a = logits.toArray() as Float32Array, b = byHand.toArray() as Float32Array;
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `${a[i]} vs ${b[i]}`);
      }
    });
  });
}

Deno.test("SimpleCNN globalPool: the course's state dict names, a 128-input first Linear", () => {
  using flat = models.simpleCNN({ imageSize: 64 });
  using pooled = models.simpleCNN({ imageSize: 64, globalPool: "max" });
  assert.deepEqual([...pooled.stateDict().keys()], [...flat.stateDict().keys()]);
  assert.deepEqual((pooled.classifier[0] as nn.Linear).weight.shape, [256, 128]);
  assert.deepEqual((flat.classifier[0] as nn.Linear).weight.shape, [256, 128 * 4 * 4]);
  assert.equal(flat.pool, null);
  assert.equal(pooled.numParameters(), flat.numParameters() - 256 * 128 * 15);
  assert.throws(
    () => models.simpleCNN({ globalPool: "min" as never }),
    /globalPool must be one of none, max, avg, got "min"/,
  );
  // A spec without the option (every checkpoint before it) rebuilds the flattening head.
  using old = buildModel({ name: "simple", options: { imageSize: 32 } });
  assert.equal((old as models.SimpleCNN).pool, null);
});

Deno.test("--global-pool: max by default for simple, none for the other models, checked", () => {
  assert.equal(train.DEFAULTS.globalPool, "max");
  assert.equal(train.parseTrainArgs([]).config.globalPool, "max");
  assert.equal(train.parseTrainArgs(["--global-pool", "none"]).config.globalPool, "none");
  assert.equal(train.parseTrainArgs(["--model", "resnet18"]).config.globalPool, "none");
  assert.throws(
    () => train.parseTrainArgs(["--model", "resnet18", "--global-pool", "max"]),
    (e: Error) => e.name === "UsageError" && /--global-pool.*only the simple model/.test(e.message),
  );
  assert.throws(
    () => train.parseTrainArgs(["--global-pool", "sum"]),
    (e: Error) => e.name === "UsageError" && e.message.includes("--global-pool"),
  );
});

Deno.test("--resume of a run from before --global-pool keeps the flattening head", async () => {
  const out = await Deno.makeTempDir();
  const old: Record<string, unknown> = { ...train.DEFAULTS, out };
  delete old.globalPool;
  await Deno.writeTextFile(join(out, "config.json"), JSON.stringify(old));
  const config = await resumeConfig({ ...train.DEFAULTS, out }, new Set(["out"]));
  assert.equal(config.globalPool, "none");
});

Deno.test("a pooled run's checkpoint records globalPool; evaluate rebuilds it (same test loss)", async () => {
  const data = await trainTestData();
  const out = join(await Deno.makeTempDir(), "run");
  const r = await capture(train.trainMain, [...quickFlags(data, out, 1), "--global-pool", "avg"]);
  assert.equal(r.code, 0, r.stderr);
  const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
  assert.equal(config.globalPool, "avg");
  const loss = await fitAndEvaluateTestLoss(out);
  assert.ok(Math.abs(loss.evaluate - loss.fit) < 1e-4, JSON.stringify(loss));
});
