/**
 * io.savePth / io.encodePth: PyTorch's zip checkpoint format written without
 * Python. The objects below were written once with
 * `LITS_UPDATE_PTH_FIXTURES=1 deno test -A tests/pth_write_test.ts` to
 * tests/fixtures/pth/ours_*.pth, and scripts/make_pth_fixtures.py (PyTorch
 * 1.13) loaded those files with torch.load and asserted every value, type
 * and dtype. Here the writer must reproduce them byte for byte, loadPth must
 * read back what it wrote, io.save must pick the format by the name, and
 * bad input is refused before a byte is written.
 */
import assert from "node:assert/strict";
import { io, nn, optim, randn, type Tensor, tensor } from "../mod.ts";
import type { Saved } from "../src/io/mod.ts";
import { testDevice } from "./helpers.ts";

const DIR = new URL("./fixtures/pth/", import.meta.url).pathname;
const UPDATE = Deno.env.get("LITS_UPDATE_PTH_FIXTURES") === "1";
const device = testDevice;

const f32 = (values: number[], shape: number[]) =>
  tensor(new Float32Array(values), shape, { device });
const i32 = (values: number[], shape: number[]) =>
  tensor(new Int32Array(values), shape, { device });

/** The objects of ours_*.pth, and the options they were written with. */
function ours(): Record<string, { obj: Saved; options?: io.SavePthOptions }> {
  const shared = f32([1, 2, 3], [3]);
  return {
    state: {
      obj: new Map([
        ["conv.weight", f32([0.5, -1.25, 2, 3, -0, 1e-3, 7, -8.5], [2, 1, 2, 2])],
        ["bn.running_mean", f32([0.25, -0.75], [2])],
        ["bn.num_batches_tracked", i32([5], [])],
      ]),
    },
    i32: {
      obj: { labels: i32([0, 1, 2, -3, 2 ** 31 - 1, -(2 ** 31)], [2, 3]), count: 3 },
      options: { intType: "I32" },
    },
    checkpoint: {
      obj: {
        model: new Map([["weight", f32([1, 2, 3, 4], [2, 2])], ["bias", f32([0.5, -0.5], [2])]]),
        epoch: 7,
        lr: 0.001,
        nan: NaN,
        inf: Infinity,
        negzero: -0,
        big: 2 ** 40,
        negative: -70000,
        name: "ünïcode ✓",
        flag: false,
        none: null,
        nested: [1, [2.5, "x", [true]]],
        byNumber: new Map<string | number, Saved>([[2, "two"], [0.5, "half"], ["k", null]]),
        empty: {},
        emptyList: [],
        shared,
        again: { it: shared },
      },
    },
  };
}

/** Disposes every tensor in an object. */
function disposeAll(v: unknown, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== "object" || seen.has(v)) return;
  seen.add(v);
  if ("dispose" in v && typeof v.dispose === "function") return void (v as Tensor).dispose();
  for (const x of v instanceof Map ? v.values() : Object.values(v)) disposeAll(x, seen);
}

/** A loaded value as plain data (tensors as dtype, shape, values), Maps and objects apart. */
function plain(v: unknown): unknown {
  if (v instanceof Map) return { map: [...v].map(([k, x]) => [k, plain(x)]) };
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    if ("toArray" in v) {
      const t = v as Tensor;
      return { dtype: t.dtype, shape: t.shape, values: [...t.toArray()] };
    }
    return { object: Object.entries(v).map(([k, x]) => [k, plain(x)]) };
  }
  return v;
}

Deno.test("io.encodePth: reproduces, byte for byte, the files PyTorch read and checked", async () => {
  for (const [name, { obj, options }] of Object.entries(ours())) {
    const bytes = io.encodePth(obj, options);
    const path = `${DIR}ours_${name}.pth`;
    if (UPDATE) await Deno.writeFile(path, bytes);
    const want = await Deno.readFile(path);
    assert.equal(bytes.length, want.length, `ours_${name}.pth length`);
    assert.ok(bytes.every((b, i) => b === want[i]), `ours_${name}.pth bytes`);
    disposeAll(obj);
  }
});

Deno.test("io.encodePth: records lie at multiples of 64 bytes, as torch aligns them", () => {
  const { obj } = ours().checkpoint;
  const bytes = io.encodePth(obj);
  const view = new DataView(bytes.buffer);
  let count = 0;
  for (let at = 0; view.getUint32(at, true) === 0x04034b50; count++) {
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    const data = at + 30 + nameLength + extraLength;
    assert.equal(data % 64, 0, `record ${count} data at ${data}`);
    at = data + view.getUint32(at + 18, true);
  }
  assert.equal(count, 6); // data.pkl, 3 tensors (one saved twice), version, byteorder
  disposeAll(obj);
});

Deno.test("io.decodePth reads back what io.encodePth wrote: Maps, objects, numbers, one tensor once", () => {
  for (const { obj, options } of Object.values(ours())) {
    const back = io.decodePth(io.encodePth(obj, options), "ours.pth", { device });
    assert.deepEqual(plain(back), plain(obj));
    disposeAll(back);
    disposeAll(obj);
  }
  const { obj } = ours().checkpoint;
  const back = io.decodePth(io.encodePth(obj)) as { shared: Tensor; again: { it: Tensor } };
  assert.equal(back.shared, back.again.it);
  assert.ok(Object.is((back as unknown as { negzero: number }).negzero, -0));
  disposeAll(back);
  disposeAll(obj);
});

Deno.test("io.savePth: an optimizer's state dict resumes training, as with io.save", async () => {
  const path = await Deno.makeTempFile({ suffix: ".pth" });
  try {
    const model = new nn.Linear(4, 3);
    const opt = new optim.Adam(model.parameters(), { lr: 1e-2, weightDecay: 1e-3 });
    const x = randn([5, 4]);
    const step = (m: nn.Linear, o: optim.Adam) => {
      o.zeroGrad();
      m.forward(x).pow(2).sum().backward();
      o.step();
    };
    step(model, opt);
    step(model, opt);
    await io.savePth(path, { model: model.stateDict(), optimizer: opt.stateDict(), epoch: 2 });
    const ckpt = await io.loadPth(path) as Record<string, unknown>;
    assert.equal(ckpt.epoch, 2);
    const model2 = new nn.Linear(4, 3);
    const opt2 = new optim.Adam(model2.parameters(), { lr: 1e-2, weightDecay: 1e-3 });
    model2.loadStateDict(ckpt.model as Map<string, Tensor>);
    opt2.loadStateDict(ckpt.optimizer as ReturnType<typeof opt.stateDict>);
    step(model, opt);
    step(model2, opt2);
    assert.deepEqual([...model2.weight.toArray()], [...model.weight.toArray()]);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("io.save writes PyTorch's format for torch's names (.pth .pt .tar .ckpt .bin), safetensors for the rest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    using w = tensor([1, 2]);
    const names = ["m.pth", "m.pt", "M.PTH", "best.pth.tar", "ckpt.tar", "m.pt.tar", "m.ckpt"];
    for (const name of [...names, "pytorch_model.bin", "m.safetensors", "m.st", "m"]) {
      const path = `${dir}/${name}`;
      await io.save(path, { w, epoch: 1 });
      const bytes = await Deno.readFile(path);
      const zip = bytes[0] === 0x50 && bytes[1] === 0x4b;
      assert.equal(zip, names.includes(name) || name.endsWith(".bin"), name);
      const back = await io.load(path) as { w: Tensor; epoch: number };
      assert.deepEqual([...back.w.toArray()], [1, 2], name);
      assert.equal(back.epoch, 1, name);
      back.w.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("io.savePth: a module, a function, a cycle or a disposed tensor is refused, and nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/bad.pth`;
    const model = new nn.Linear(2, 2);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    const gone = tensor([1]);
    gone.dispose();
    const cases: [unknown, RegExp][] = [
      [model, /io\.savePth: the saved object is a Linear; save its state dict/],
      [{ net: model }, /'net' is a Linear; save its state dict \(model\.stateDict\(\)\)/],
      [{ f: () => 1 }, /'f' is a function/],
      [{ u: undefined, a: [undefined] }, /'a\/0' is undefined/],
      [loop, /'self' contains itself/],
      [{ gone }, /tensor 'gone' was disposed/],
      [{ bad: "\ud800" }, /'bad' holds a lone UTF-16 surrogate/],
      [new Map([[true, 1]]), /a Map with a boolean key/],
    ];
    for (const [obj, pattern] of cases) {
      await assert.rejects(() => io.savePth(path, obj), pattern);
      await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
    }
    await assert.rejects(() => io.save(`${dir}/m.pt`, model), /the saved object is a Linear/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("io.savePth: bad arguments say what to write", async () => {
  using w = tensor([1]);
  await assert.rejects(
    () => io.savePth("x.pth", { w }, { intType: "I16" } as never),
    /intType must be "I64" or "I32", got "I16"/,
  );
  await assert.rejects(
    () => io.savePth("x.pth", { w }, { int_type: "I32" } as never),
    /unknown option 'int_type' \(write 'intType'\)/,
  );
  await assert.rejects(() => io.savePth({ w } as never, "x.pth"), /the first argument is the path/);
  await assert.rejects(
    () => (io.savePth as (p: string) => Promise<void>)("x.pth"),
    /nothing to save/,
  );
  assert.throws(
    () => io.encodePth({ w }, { intType: "I8" } as never),
    /^Error: io\.encodePth: intType/,
  );
  await assert.rejects(
    () => io.savePth("/nonexistent-dir/x.pth", { w }),
    /io\.savePth \/nonexistent-dir\/x\.pth: cannot write/,
  );
});
