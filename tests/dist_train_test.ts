/**
 * `deno task train --nproc 2`: the same logged losses as one process with the
 * same global batch and seed (no dropout, no batch norm, no augmentation),
 * only rank 0 writing the run folder, a resumed 2-rank run matching an
 * uninterrupted one, and the errors of a bad global batch or --nproc without
 * mpirun.
 */
import assert from "node:assert/strict";
import { data, train as train_ } from "../mod.ts";
import { ensureMpi } from "../src/dist/setup.ts";
import { quickFlags } from "./train_data.ts";

const script = new URL("../scripts/train.ts", import.meta.url).pathname;

async function dataDir(): Promise<string> {
  // 48 training and 16 validation slices: both split evenly over 2 ranks, so no padding.
  const out = `${Deno.env.get("TMPDIR") ?? "/tmp"}/lits-vision-dist-train-data`;
  await data.synthesizeLiTS({ out, preset: "easy", patients: 10, slicesPerPatient: 8, seed: 3 });
  return out;
}

async function train(args: string[], env: Record<string, string> = {}) {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    text: dec.decode(out.stdout) + dec.decode(out.stderr),
    seconds: (performance.now() - start) / 1000,
  };
}

type Line = {
  type: string;
  epoch: number;
  step?: number;
  loss?: number;
  trainLoss?: number;
  valLoss?: number;
};

async function lines(dir: string): Promise<Line[]> {
  return (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
}

/** train's quick-run flags, without batch norm and dropout (so one process and two ranks agree). */
async function flags(out: string, epochs = 2): Promise<string[]> {
  return [
    ...quickFlags(await dataDir(), out, epochs),
    "--no-batch-norm",
    "--dropout",
    "0",
    "--device",
    "cpu",
    "--log-every",
    "1",
  ];
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

Deno.test("train --nproc 2 logs the losses of one process with the same global batch and seed; rank 0 alone writes", async () => {
  ensureMpi();
  const tmp = await Deno.makeTempDir();
  const one = await train(await flags(`${tmp}/one`));
  assert.equal(one.code, 0, one.text);
  const two = await train([...await flags(`${tmp}/two`), "--nproc", "2"]);
  assert.equal(two.code, 0, two.text);
  const a = await lines(`${tmp}/one`), b = await lines(`${tmp}/two`);
  // One line per step and epoch: rank 1 wrote none.
  assert.deepEqual(b.map((l) => l.type), a.map((l) => l.type));
  assert.equal(a.filter((l) => l.type === "step").length, 6); // 48 / 16 x 2 epochs
  for (const [i, l] of a.entries()) {
    for (const key of ["loss", "trainLoss", "valLoss"] as const) {
      if (l[key] === undefined) continue;
      assert.ok(
        rel(b[i][key]!, l[key]!) <= 1e-3,
        `${l.type} ${l.epoch} ${key}: ${b[i][key]} vs ${l[key]}`,
      );
    }
  }
  const config = JSON.parse(await Deno.readTextFile(`${tmp}/two/config.json`));
  assert.equal(config.nproc, 2);
  assert.equal((two.text.match(/^epoch 1\/2/gm) ?? []).length, 1); // rank 0 alone prints
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("train --nproc 2 --augment ct: each sample is augmented as in one process (its global position's stream)", async () => {
  ensureMpi();
  const tmp = await Deno.makeTempDir();
  const withAugment = async (out: string) =>
    (await flags(out, 1)).map((f, i, a) => a[i - 1] === "--augment" ? "ct" : f);
  const one = await train(await withAugment(`${tmp}/one`));
  assert.equal(one.code, 0, one.text);
  const two = await train([...await withAugment(`${tmp}/two`), "--nproc", "2"]);
  assert.equal(two.code, 0, two.text);
  const steps = async (dir: string) =>
    (await lines(dir)).filter((l) => l.type === "step").map((l) => l.loss!);
  const a = await steps(`${tmp}/one`), b = await steps(`${tmp}/two`);
  assert.equal(a.length, 3);
  a.forEach((l, i) => assert.ok(rel(b[i], l) <= 1e-3, `step ${i + 1}: ${b[i]} vs ${l}`));
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("train --nproc 2: a run killed in its second checkpoint resumes to the numbers of an uninterrupted one", async () => {
  ensureMpi();
  const tmp = await Deno.makeTempDir();
  const whole = await train([...await flags(`${tmp}/whole`, 3), "--nproc", "2"]);
  assert.equal(whole.code, 0, whole.text);
  const killed = await train([...await flags(`${tmp}/cut`, 3), "--nproc", "2"], {
    LITS_TRAIN_FAULT: "kill-in-checkpoint=2",
  });
  assert.notEqual(killed.code, 0);
  assert.ok(killed.seconds < 60, `${killed.seconds} s`);
  assert.match(killed.text, /rank 0 .*(exited on signal 9|has exited)/s);
  const resumed = await train(["--resume", "--out", `${tmp}/cut`]);
  assert.equal(resumed.code, 0, resumed.text);
  assert.match(resumed.text, /resuming .* after epoch 1/);
  const a = (await lines(`${tmp}/whole`)).filter((l) => l.type === "epoch");
  const b = (await lines(`${tmp}/cut`)).filter((l) => l.type === "epoch");
  assert.equal(b.length, 3);
  for (const [i, l] of a.entries()) {
    assert.ok(
      rel(b[i].trainLoss!, l.trainLoss!) <= 1e-6,
      `epoch ${l.epoch}: ${b[i].trainLoss} vs ${l.trainLoss}`,
    );
    assert.ok(rel(b[i].valLoss!, l.valLoss!) <= 1e-6);
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("train --nproc: a global batch that does not split, and --nproc under a plain process, are errors", async () => {
  ensureMpi();
  const tmp = await Deno.makeTempDir();
  const odd = await train([
    ...(await flags(`${tmp}/odd`)).map((f, i, a) => a[i - 1] === "--batch-size" ? "15" : f),
    "--nproc",
    "2",
  ]);
  assert.equal(odd.code, 2);
  assert.match(
    odd.text,
    /--batch-size 15 is the global batch and must split evenly over 2 processes/,
  );
  const bad = await train([...await flags(`${tmp}/bad`), "--nproc", "0"]);
  assert.equal(bad.code, 2);
  assert.match(bad.text, /--nproc 0: must be an integer >= 1/);
  await assert.rejects(
    train_.fit({ ...train_.DEFAULTS, data: await dataDir(), out: `${tmp}/plain`, nproc: 2 }),
    /--nproc 2: this process was not started by mpirun; run 'deno task train --nproc 2'/,
  );
  await Deno.remove(tmp, { recursive: true });
});
