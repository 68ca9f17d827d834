/**
 * Four PyTorch habits: `x.view(shape)` on non-contiguous tensors (views
 * where torch views, with its strides, writes reaching the base and
 * gradients; torch's refusal elsewhere), DataLoader options that need
 * workers, the CLI's model options across the zoo, and torch's dtype
 * attributes on our string dtypes.
 * Fixture: tests/fixtures/habits_s10.json (scripts/make_habits_s10_fixtures.py).
 */
import assert from "node:assert/strict";
import { data, models, nn, scope, tensor } from "../mod.ts";
import { parseTrainArgs, trainHelp } from "../src/train/flags.ts";
import { DEFAULTS } from "../src/train/config.ts";
import { syncBatchNormWarning } from "../src/train/trainer.ts";
import { DROPOUT_FAMILIES, dropoutFamily } from "../src/train/dropout_help.ts";
import { loadFixture } from "./helpers.ts";
import { apply, base, flat, type Op } from "./view_ops.ts";

interface ViewCase {
  base: number[];
  ops: Op[];
  shape: number[];
  xShape: number[];
  xStrides: number[];
  error?: string;
  outShape?: number[];
  strides?: number[];
  offset?: number;
  values?: number[];
  baseAfterWrite?: number[];
  grad?: number[];
}
interface LoaderCase {
  options: Record<string, unknown>;
  error: string | null;
}
const fixture = loadFixture<{ view: ViewCase[]; loader: LoaderCase[] }>("habits_s10.json");

const label = (c: ViewCase) =>
  `[${c.xShape}] strides [${c.xStrides}] (${JSON.stringify(c.ops)}).view([${c.shape}])`;

Deno.test("view: views exactly where torch 1.13 views, with its strides and values", () => {
  let views = 0, refusals = 0;
  for (const c of fixture.view) {
    const x = apply(base(c.base), c.ops);
    assert.deepEqual([x.shape, x.stride()], [c.xShape, c.xStrides], `setup of ${label(c)}`);
    if (c.error !== undefined) {
      refusals++;
      assert.throws(
        () => x.view(c.shape),
        /cannot be viewed as .*use \.reshape\(\.\.\.\)/,
        label(c),
      );
      // reshape still gives torch's values (it copies).
      assert.deepEqual(flat(x.reshape(c.shape)), flat(x), label(c));
      continue;
    }
    views++;
    const v = x.view(c.shape);
    assert.deepEqual(
      [v.shape, v.stride(), v.storageOffset(), flat(v)],
      [c.outShape, c.strides, c.offset, c.values],
      label(c),
    );
    // A view shares memory: no copy was made.
    assert.equal(v.storage, x.storage, label(c));
  }
  assert.ok(views >= 30 && refusals >= 15, `${views} views, ${refusals} refusals`);
});

Deno.test("view: a write through a view of a non-contiguous tensor reaches its base", () => {
  for (const c of fixture.view.filter((c) => c.baseAfterWrite !== undefined)) {
    const b = base(c.base);
    apply(b, c.ops).view(c.shape).add_(100);
    assert.deepEqual(flat(b), c.baseAfterWrite, label(c));
  }
});

Deno.test("view: gradients flow through a view of a non-contiguous tensor as torch's", () => {
  for (const c of fixture.view.filter((c) => c.grad !== undefined)) {
    const b = base(c.base, true);
    const v = apply(b, c.ops).view(c.shape);
    const w = base(v.shape as number[]).add(1);
    v.mul(w).sum().backward();
    assert.deepEqual(flat(b.grad!), c.grad, label(c));
  }
});

Deno.test("view: the refusal names the shapes and strides and says what to write", () => {
  const x = base([3, 4]).t();
  assert.throws(
    () => x.view(-1),
    (e: Error) =>
      e.message.includes("[4,3] with strides [1,4] cannot be viewed as [12]") &&
      e.message.includes(".reshape(...)") && e.message.includes(".contiguous().view(...)"),
  );
  // Shape errors stay view's own.
  assert.throws(() => x.view(5), /view: cannot view \[4,3\] \(12 elements\) into \[5\]/);
  assert.throws(() => x.view(-1, -1), /view: invalid shape/);
});

// ---- 2. DataLoader options that need workers ----

/** Four samples of one pixel, labels 0..3. */
const fourSamples = () =>
  new data.TensorDataset(
    tensor([0, 1, 2, 3], [4, 1, 1, 1]),
    tensor(Int32Array.from([0, 1, 2, 3]), [4], { dtype: "int32" }),
  );
/** torch's option names -> ours. */
const OURS: Record<string, string> = {
  persistent_workers: "persistentWorkers",
  num_workers: "workers",
  prefetch_factor: "prefetch",
  timeout: "timeout",
};
const ported = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [OURS[k], v]));

async function labelsOf(options: Record<string, unknown>): Promise<number[]> {
  const loader = new data.DataLoader(fourSamples(), { batchSize: 2, ...options });
  const out: number[] = [];
  for await (using b of loader) out.push(...b.labels.toArray());
  return out;
}

Deno.test("DataLoader: persistentWorkers without workers is refused, as torch's", async () => {
  const cases = fixture.loader.filter((c) => "persistent_workers" in c.options);
  assert.equal(cases.length, 2);
  for (const c of cases) {
    assert.match(c.error!, /persistent_workers option needs num_workers > 0/); // torch's
    await assert.rejects(
      () => labelsOf(ported(c.options)),
      /persistentWorkers: true needs workers > 0 .*write \{ workers: 2, persistentWorkers: true \}/,
      JSON.stringify(c.options),
    );
  }
  assert.deepEqual(await labelsOf({ persistentWorkers: false }), [0, 1, 2, 3]);
  // torch takes any truthy value; a string "false" would have kept workers.
  assert.throws(
    () => new data.DataLoader(fourSamples(), { workers: 1, persistentWorkers: "false" as never }),
    /persistentWorkers must be true or false, got string "false"/,
  );
});

Deno.test("DataLoader: prefetch with 0 workers is the main thread's read-ahead (torch refuses)", async () => {
  const [four, two] = fixture.loader.filter((c) => "prefetch_factor" in c.options);
  assert.match(four.error!, /prefetch_factor option could only be specified in multiprocessing/);
  assert.equal(two.error, null);
  // Ours acts on it (batches in flight while one is used), so it is no ignored option.
  const loader = new data.DataLoader(fourSamples(), { batchSize: 1, prefetch: 4 });
  assert.equal(loader.prefetch, 4);
  assert.deepEqual(await labelsOf({ prefetch: 4 }), await labelsOf({}));
});

Deno.test("DataLoader: a timeout given as a string or a negative number names what to write", () => {
  const byKind = Object.fromEntries(fixture.loader.map((c) => [JSON.stringify(c.options), c]));
  assert.match(byKind['{"timeout":"1"}'].error!, /TypeError/); // torch refuses it too
  assert.match(byKind['{"timeout":-1}'].error!, /timeout option should be non-negative/);
  const make = (timeout: unknown) => () =>
    new data.DataLoader(fourSamples(), { timeout: timeout as number });
  // It said "got 1", which read as a valid value.
  assert.throws(make("1"), /timeout must be .* got string "1"; write \{ timeout: 1 \}$/);
  assert.throws(make("soon"), /timeout must be .* got string "soon"$/);
  assert.throws(make(-1), /timeout must be a finite number of seconds >= 0 .* got -1$/);
  // torch 1.13 asserts timeout == 0 without workers; ours waits that long on the main thread too.
  assert.match(byKind['{"timeout":1.5}'].error!, /AssertionError/);
  assert.equal(make(1.5)().timeout, 1.5);
});

// ---- 3. the training command's model options across the zoo ----

Deno.test("--dropout help: each model that takes dropout is in one family, with its own default", () => {
  const takers = models.names().filter((m) => models.takesOption(m, "dropout"));
  for (const m of models.names()) {
    const families = DROPOUT_FAMILIES.filter((f) => f.models.test(m) && m in f.defaults);
    if (models.takesOption(m, "dropout")) {
      assert.equal(families.length, 1, `${m}: add it to one family in src/train/dropout_help.ts`);
      assert.equal(dropoutFamily(m), families[0]);
    } else {
      assert.equal(families.length, 0, `${m} takes no dropout`);
      assert.equal(dropoutFamily(m), null);
    }
  }
  const help = trainHelp();
  const line = help.split("\n").find((l) => l.trimStart().startsWith("--dropout"))!;
  // It said "dropout before the last layer" for all, and a default of 0.5 or 0.2.
  assert.doesNotMatch(line, /\(dropout before the last layer/);
  assert.match(line, /the vits: in the encoder: after the position embedding/);
  assert.match(line, /0 for vit_b_16, vit_b_32, vit_l_16, vit_l_32, vit_h_14/);
  for (const m of takers) assert.ok(line.includes(m), `${m}'s default is in the help`);
});

Deno.test("--dropout help: the defaults are the models' own (torchvision's)", () => {
  const dropouts = (net: nn.Module) =>
    [...net.modules()].filter((x) => x instanceof nn.Dropout).map((x) => (x as nn.Dropout).p);
  // The cheaper members of each family (vit_b_32 takes a few seconds to build).
  for (const m of ["simple", "squeezenet1_1", "mobilenetv3small", "efficientnetb2", "vit_b_32"]) {
    scope(() => {
      const net = models.create(m, { inChannels: 1, numClasses: 3 });
      assert.deepEqual([...new Set(dropouts(net))], [dropoutFamily(m)!.defaults[m]], m);
      for (const p of net.parameters()) p.dispose();
      if (m === "vit_b_32") return;
      const set = models.create(m, { inChannels: 1, numClasses: 3, dropout: 0.3 });
      assert.deepEqual([...new Set(dropouts(set))], [0.3], `${m}: --dropout sets its dropouts`);
      for (const p of set.parameters()) p.dispose();
    });
  }
  // A model without dropout refuses the flag rather than ignoring it.
  assert.throws(
    () => parseTrainArgs(["--model", "convnexttiny", "--dropout", "0.3"]),
    /has no dropout/,
  );
});

Deno.test("--sync-batch-norm that changes nothing is warned about (torchvision is silent)", () => {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const config = { ...DEFAULTS, syncBatchNorm: true };
    const withBn = models.create("simple", { inChannels: 1, numClasses: 3, batchNorm: true });
    const noBn = models.create("simple", { inChannels: 1, numClasses: 3, batchNorm: false });
    syncBatchNormWarning(config, withBn, 2);
    assert.deepEqual(warnings, []);
    syncBatchNormWarning(config, withBn, 1);
    assert.match(warnings.pop()!, /acts only with several processes \(--nproc N, or mpirun\)/);
    syncBatchNormWarning(config, noBn, 2);
    assert.match(warnings.pop()!, /acts on no layer: simple has no batch norm/);
    syncBatchNormWarning({ ...config, syncBatchNorm: false }, noBn, 2);
    assert.deepEqual(warnings, []);
    for (const p of [...withBn.parameters(), ...noBn.parameters()]) p.dispose();
  } finally {
    console.warn = warn;
  }
});

// ---- 4. torch's dtype attributes ----

Deno.test("dtype stays a plain string; torch's attributes are methods of the tensor", () => {
  const x = tensor([1.5]), i = tensor(Int32Array.from([1]), [1], { dtype: "int32" });
  assert.equal(typeof x.dtype, "string");
  assert.equal(JSON.stringify({ dtype: x.dtype }), '{"dtype":"float32"}');
  assert.deepEqual([x.dtype === "float32", x.isFloatingPoint(), i.isFloatingPoint()], [
    true,
    true,
    false,
  ]);
  assert.equal(x.elementSize(), 4);
  // TypeScript refuses torch's spellings (deno check, deno test, the editor); unchecked they
  // read undefined, which is why DType's documentation names the methods.
  // @ts-expect-error torch's x.dtype.is_floating_point is x.isFloatingPoint()
  assert.equal(x.dtype.is_floating_point, undefined);
  // @ts-expect-error torch's x.dtype.itemsize is x.elementSize()
  assert.equal(x.dtype.itemsize, undefined);
  // The tensor itself names the methods for torch's names.
  assert.throws(
    () => (x as unknown as { is_floating_point: unknown }).is_floating_point,
    /x\.isFloatingPoint\(\)/,
  );
  assert.throws(() => (x as unknown as { itemsize: unknown }).itemsize, /x\.elementSize\(\)/);
});
