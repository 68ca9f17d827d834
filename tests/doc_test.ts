import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

async function run(args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("deno doc reads mod.ts without a type-resolution warning", async () => {
  const { code, text } = await run(["doc", "mod.ts"]);
  assert.equal(code, 0, text);
  assert.doesNotMatch(text, /Warning|Failed resolving/);
});

Deno.test("deno task doc finds a namespaced class by the name a user writes", async () => {
  for (const [name, expected] of [["nn.Conv2d", "class Conv2d"], ["optim.AdamW", "class AdamW"]]) {
    const { code, text } = await run(["run", "-A", "scripts/doc.ts", name]);
    assert.equal(code, 0, text);
    assert.match(text, new RegExp(expected));
  }
  const unknown = await run(["run", "-A", "scripts/doc.ts", "nn.NoSuchLayer"]);
  assert.notEqual(unknown.code, 0);
});
