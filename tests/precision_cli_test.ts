/**
 * `--precision` on the commands. Where the device cannot run bf16 (here:
 * LITS_BF16=off), autocast would run float32 while the run folder, the
 * report and the figures said bf16, so every command refuses it before it
 * writes anything. evaluate and predict take the run's own precision by
 * default, and say which one ran.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { train } from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { capture, quickFlags, trainTestData } from "./train_data.ts";

const script = (name: string) => new URL(`../scripts/${name}.ts`, import.meta.url).pathname;

/** `scripts/<name>.ts args` with LITS_BF16=off: its exit code and stderr. */
async function withoutBf16(name: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script(name), ...args],
    env: { LITS_BF16: "off" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const REFUSED =
  /--precision bf16: this CPU has no AVX512_BF16 \(or LITS_BF16=off\).*use --precision fp32/;

Deno.test("--precision bf16 where bf16 cannot run: train and experiment refuse, and make no folder", async () => {
  const dataDir = await trainTestData(), tmp = await Deno.makeTempDir();
  const run = join(tmp, "run");
  const t = await withoutBf16("train", [...quickFlags(dataDir, run, 1), "--precision", "bf16"]);
  assert.notEqual(t.code, 0);
  assert.match(t.stderr, REFUSED);
  assert.ok(!existsSync(run), "the run folder was made");
  const exp = join(tmp, "exp");
  const e = await withoutBf16("experiment", [
    "regularization",
    "--data",
    dataDir,
    "--out",
    exp,
    "--epochs",
    "1",
    "--image-size",
    "16",
    "--precision",
    "bf16",
  ]);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, REFUSED);
  assert.ok(!existsSync(exp), "the experiment folder was made");
});

/** Whether this CPU runs bf16 products. */
function cpuHasBf16(): boolean {
  const lib = cpuLib(), level = new Int32Array(1);
  return lib.lits_bf16_support !== null && lib.lits_bf16_support(level) === 0 && level[0] > 0;
}

Deno.test({
  name:
    "evaluate and predict: a bf16 run's precision by default, said in the output; refused where bf16 cannot run",
  ignore: !cpuHasBf16(),
  fn: async () => {
    const dataDir = await trainTestData();
    const run = join(await Deno.makeTempDir(), "run");
    const r = await capture(train.trainMain, [
      ...quickFlags(dataDir, run, 1),
      "--precision",
      "bf16",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ckpt = join(run, "best.safetensors");
    const report = join(run, "eval.html");
    for (const [flags, precision] of [[[], "bf16"], [["--precision", "fp32"], "fp32"]] as const) {
      const args = ["--checkpoint", ckpt, "--split", "val", "--out", report, ...flags];
      const ev = await capture(train.evaluateMain, args);
      assert.equal(ev.code, 0, ev.stderr);
      assert.match(ev.stdout, new RegExp(`\\(val, \\d+ slices, ${precision}\\)`));
      assert.match(
        await Deno.readTextFile(report),
        new RegExp(`precision</t[dh]><td>${precision}<`),
      );
    }
    const ev = await withoutBf16("evaluate", [
      "--checkpoint",
      ckpt,
      "--split",
      "val",
      "--out",
      report,
    ]);
    assert.notEqual(ev.code, 0);
    assert.match(ev.stderr, REFUSED);
    const slice = join(
      dataDir,
      "val",
      (await Array.fromAsync(Deno.readDir(join(dataDir, "val"))))
        .map((e) => e.name).find((n) => n.endsWith(".png"))!,
    );
    const pred = join(run, "pred");
    const p = await withoutBf16("predict", ["--checkpoint", ckpt, "--out", pred, slice]);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, REFUSED);
    assert.ok(!existsSync(pred), "predict wrote its folder");
  },
});
