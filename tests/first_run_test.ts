import assert from "node:assert/strict";
import { join } from "node:path";
import { quickFlags, trainTestData } from "./train_data.ts";

const root = new URL("../", import.meta.url).pathname;

async function run(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("every task that uses the native library runs the setup step first", () => {
  const { tasks } = JSON.parse(Deno.readTextFileSync(join(root, "deno.json"))) as {
    tasks: Record<string, string>;
  };
  for (const name of ["train", "evaluate", "experiment", "synth", "bench", "bench:step", "test"]) {
    assert.match(tasks[name], /^deno run -A scripts\/setup\.ts && /, `task ${name}`);
  }
});

Deno.test("setup says nothing and returns at once when the library is up to date", async () => {
  await run(["run", "-A", "scripts/build.ts"]); // built and fresh
  const { code, stdout, stderr } = await run(["run", "-A", "scripts/setup.ts"]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout + stderr, "");
});

Deno.test("a training run that cannot start leaves no run folder behind", async () => {
  const dataDir = await trainTestData();
  const out = join(await Deno.makeTempDir(), "run");
  const { code, stderr } = await run(
    ["run", "-A", "scripts/train.ts", ...quickFlags(dataDir, out)],
    {
      LITS_NATIVE_LIB: join(root, "native/build/no-such-library.so"),
    },
  );
  assert.equal(code, 1, stderr);
  assert.match(stderr, /LITS_NATIVE_LIB points to .*no-such-library\.so/);
  assert.throws(() => Deno.statSync(out), Deno.errors.NotFound);
});

Deno.test("a run that cannot start in an existing --out folder keeps the folder's other files", async () => {
  const dataDir = await trainTestData();
  const out = await Deno.makeTempDir();
  await Deno.writeTextFile(join(out, "notes.txt"), "mine");
  const { code, stderr } = await run(
    ["run", "-A", "scripts/train.ts", ...quickFlags(dataDir, out)],
    {
      LITS_NATIVE_LIB: join(root, "native/build/no-such-library.so"),
    },
  );
  assert.equal(code, 1, stderr);
  assert.equal(await Deno.readTextFile(join(out, "notes.txt")), "mine");
  assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), ["notes.txt"]);
});
