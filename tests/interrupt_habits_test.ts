/**
 * What stopping, damage and odd folders leave: an optimizer over disposed
 * parameters, a cache folder that cannot be written, an --out that is a
 * file, and the temporaries a killed run left in its folder.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data, nn, optim, randn, train } from "../mod.ts";
import { openSplit } from "../src/train/data.ts";
import { trainTestData } from "./train_data.ts";

Deno.test("optimizer.step over a disposed parameter is an Error, not a skipped update", () => {
  const m = new nn.Linear(2, 1);
  const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
  m.forward(randn([3, 2])).sum().backward();
  m.bias!.dispose();
  assert.throws(() => opt.step(), /parameter 1 of group 0 \[1\] was disposed/);
  m.dispose();
});

Deno.test("a cache folder that cannot be written: the split opens without its cache, said once", async () => {
  const root = await Deno.makeTempDir();
  await data.synthesizeLiTS({ out: root, preset: "easy", patients: 2, slicesPerPatient: 4 });
  const blocker = await Deno.makeTempFile(); // a file where the cache folder would go
  const was = Deno.env.get("XDG_CACHE_HOME");
  Deno.env.set("XDG_CACHE_HOME", blocker);
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const ds = openSplit(root, "train");
    assert.ok(ds.length > 0);
    assert.ok((await ds.get(0)).image.data.length > 0);
    ds.close();
  } finally {
    console.warn = warn;
    if (was === undefined) Deno.env.delete("XDG_CACHE_HOME");
    else Deno.env.set("XDG_CACHE_HOME", was);
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /the train split runs without its cache .* set XDG_CACHE_HOME/);
});

Deno.test("--out naming a file is refused in one line; a resumed run removes a killed run's temporaries", async () => {
  const file = await Deno.makeTempFile();
  const root = await trainTestData();
  await assert.rejects(
    () => train.fit({ ...train.DEFAULTS, data: root, epochs: 1, imageSize: 16, out: file }),
    /--out .* is a file; a run needs a folder/,
  );
  const out = join(await Deno.makeTempDir(), "run");
  const config = { ...train.DEFAULTS, data: root, epochs: 1, imageSize: 16, out };
  await train.fit(config, { report: false });
  const left = [join(out, "report.html.tmp-123"), join(out, "metrics.jsonl.tmp-4")];
  for (const p of left) await Deno.writeTextFile(p, "half");
  await train.fit(config, { resume: true, report: false });
  for (const p of left) await assert.rejects(() => Deno.stat(p), Deno.errors.NotFound);
});
