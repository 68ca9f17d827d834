/**
 * io.loadPth: PyTorch 1.13's own checkpoint files (scripts/make_pth_fixtures.py
 * wrote them with torch.save, in the zip and the legacy format) load as
 * torch.load(weights_only=True) gives them: a state dict into a model that
 * then computes torch's output, every dtype by safetensors' rules, views and
 * shared storages, a training checkpoint with an optimizer's state dict; and
 * the refusals (a pickled module, complex, numpy, big ints, damaged files)
 * with errors that name the file.
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- pinned, as the library's own import of it
import { unzipSync, zipSync } from "npm:fflate@0.8.3";
import { io, nn, type Tensor, tensor } from "../mod.ts";
import { assertClose, storedNumber, type StoredRecord, testDevice } from "./helpers.ts";

const DIR = new URL("./fixtures/pth/", import.meta.url).pathname;
const FORMATS = ["zip", "legacy"] as const;

interface Expected {
  state: {
    names: string[];
    tensors: Record<string, StoredRecord>;
    input: StoredRecord;
    output: StoredRecord;
  };
  dtypes: Record<string, StoredRecord>;
  views: Record<string, StoredRecord>;
  checkpoint: {
    model: string[];
    optimizer: {
      state: Record<string, Record<string, StoredRecord | number>>;
      param_groups: Record<string, unknown>[];
    };
    param: StoredRecord;
  };
}
const expected: Expected = JSON.parse(Deno.readTextFileSync(`${DIR}expected.json`));

/** Asserts a loaded tensor is torch's, exactly: dtype, shape and every element. */
function assertTensor(t: unknown, want: StoredRecord, what: string): void {
  assert.ok(t !== null && typeof t === "object" && "toArray" in t, `${what} is not a tensor`);
  const x = t as Tensor;
  assert.equal(x.dtype, want.dtype, `${what} dtype`);
  assert.deepEqual(x.shape, want.shape, `${what} shape`);
  assert.equal(x.device, testDevice, `${what} device`);
  assert.deepEqual(Array.from(x.toArray()), want.data.map(storedNumber), `${what} values`);
}

/** Disposes every tensor in a loaded object. */
function disposeAll(v: unknown, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== "object" || seen.has(v)) return;
  seen.add(v);
  if ("dispose" in v && typeof v.dispose === "function") return void (v as Tensor).dispose();
  const items = v instanceof Map ? v.values() : Object.values(v);
  for (const x of items) disposeAll(x, seen);
}

/** Bytes as a string of the same length (byte i is char i), to search them. */
const latin1 = (bytes: Uint8Array) => Array.from(bytes, (b) => String.fromCharCode(b)).join("");

const load = (name: string) => io.loadPth(`${DIR}${name}`, { device: testDevice });

for (const format of FORMATS) {
  Deno.test(`io.loadPth (${format}): a state dict loads into the model, which computes torch's output`, async () => {
    const sd = await load(`state_${format}.pth`);
    try {
      // torch's OrderedDict comes back as a Map, in its order, as model.stateDict() gives one.
      assert.ok(sd instanceof Map);
      assert.deepEqual([...sd.keys()], expected.state.names);
      for (const [name, want] of Object.entries(expected.state.tensors)) {
        assertTensor(sd.get(name), want, name);
      }
      assert.equal((sd.get("1.num_batches_tracked") as Tensor).item(), 2);
      const model = new nn.Sequential(
        new nn.Conv2d(3, 4, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(4),
        new nn.ReLU(),
        new nn.AdaptiveAvgPool2d(1),
        new nn.Flatten(),
        new nn.Linear(4, 3),
      ).to(testDevice);
      const result = model.loadStateDict(sd as Map<string, Tensor>);
      assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
      model.eval();
      const { input, output } = expected.state;
      const x = tensor(Float32Array.from(input.data, storedNumber), input.shape, {
        device: testDevice,
      });
      const y = model.forward(x);
      assert.deepEqual(y.shape, output.shape);
      assertClose(y, output.data.map(storedNumber), { rtol: 1e-5, atol: 1e-6, what: "output" });
    } finally {
      disposeAll(sd);
    }
  });

  Deno.test(`io.loadPth (${format}): every dtype becomes float32 or int32 as safetensors' are`, async () => {
    const d = await load(`dtypes_${format}.pth`) as Map<string, Tensor>;
    try {
      assert.ok(d instanceof Map); // an OrderedDict
      assert.deepEqual([...d.keys()], Object.keys(expected.dtypes));
      for (const [name, want] of Object.entries(expected.dtypes)) {
        assertTensor(d.get(name), want, name);
      }
    } finally {
      disposeAll(d);
    }
  });

  Deno.test(`io.loadPth (${format}): views, offsets, strides and shared storages come out right`, async () => {
    const v = await load(`views_${format}.pth`) as Record<string, Tensor>;
    try {
      assert.equal(Object.getPrototypeOf(v), Object.prototype); // a dict of string keys
      assert.deepEqual(Object.keys(v), Object.keys(expected.views));
      for (const [name, want] of Object.entries(expected.views)) assertTensor(v[name], want, name);
      assert.equal(v.same, v.base, "one tensor saved twice comes back as one");
      assert.notEqual(v.block, v.base, "two tensors over one storage are two tensors");
    } finally {
      disposeAll(v);
    }
  });

  Deno.test(`io.loadPth (${format}): a training checkpoint keeps its Python values`, async () => {
    const c = await load(`checkpoint_${format}.pth`) as Record<string, unknown>;
    try {
      const want = expected.checkpoint;
      assert.deepEqual([...(c.model as Map<string, Tensor>).keys()], want.model);
      assert.equal(c.epoch, 3);
      assert.equal(c.loss, 0.25);
      assert.equal(c.name, "run-1 é");
      assert.equal(c.none, null);
      assert.equal(c.flag, true);
      assert.deepEqual(c.pair, [1, 2.5]); // a tuple is an array
      assert.deepEqual(c.nested, [[1, 2], [3, [4, "x"]]]);
      assert.equal(c.big, 2 ** 40);
      assert.equal(c.negative, -70000);
      assertTensor(c.param, want.param, "param"); // a Parameter is a tensor
      // Keys a JS object would reorder (numbers, integer-like strings) keep theirs in a Map.
      assert.deepEqual([...(c.by_number as Map<number, string>)], [[1, "one"], [
        2.5,
        "two and a half",
      ]]);
      assert.deepEqual([...(c.digits as Map<string, number>)], [["10", 1], ["2", 2]]);
      // torch's optimizer state dict: state by parameter index (a Map), param_groups as saved.
      const opt = c.optimizer as {
        state: Map<number, Record<string, unknown>>;
        param_groups: Record<string, unknown>[];
      };
      assert.ok(opt.state instanceof Map);
      assert.deepEqual([...opt.state.keys()], Object.keys(want.optimizer.state).map(Number));
      for (const [i, s] of Object.entries(want.optimizer.state)) {
        const got = opt.state.get(Number(i))!;
        assert.deepEqual(Object.keys(got), Object.keys(s));
        for (const [k, v] of Object.entries(s)) {
          if (typeof v === "number") assert.equal(got[k], v);
          else assertTensor(got[k], v, `state ${i} ${k}`);
        }
      }
      assert.deepEqual(opt.param_groups, want.optimizer.param_groups);
    } finally {
      disposeAll(c);
    }
  });
}

Deno.test("io.load reads a PyTorch checkpoint by its content, whatever its name", async () => {
  const path = await Deno.makeTempFile({ suffix: ".bin" });
  try {
    await Deno.copyFile(`${DIR}state_legacy.pth`, path);
    const sd = await io.load(path, { device: testDevice }) as Map<string, Tensor>;
    assert.deepEqual([...sd.keys()], expected.state.names);
    disposeAll(sd);
  } finally {
    await Deno.remove(path);
  }
});

/** Asserts loading `bytes` (or the named fixture) fails with a message matching `pattern`. */
function assertRefused(source: string | Uint8Array, pattern: RegExp): void {
  const bytes = typeof source === "string" ? Deno.readFileSync(`${DIR}${source}`) : source;
  const name = typeof source === "string" ? source : "bad.pth";
  assert.throws(() => io.decodePth(bytes, name, { device: testDevice }), (e: Error) => {
    assert.match(e.message, new RegExp(`^pth ${name.replace(".", "\\.")}: `));
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("io.loadPth: what torch.load(weights_only=True) refuses is refused by name", () => {
  assertRefused("module.pth", /nn\.Module \(torch\.nn\.modules\.linear\.Linear\).*state_dict\(\)/);
  assertRefused("module.pth", /scripts\/export_pth\.py/);
  assertRefused("set.pth", /Python global __builtin__\.set/);
  assertRefused("script.pt", /TorchScript archive.*torch\.jit\.load/);
});

Deno.test("io.loadPth: a numpy scalar (sklearn's score in a checkpoint) reads as its number", () => {
  // torch.load(weights_only=True) refuses it; decoding its dtype and bytes runs nothing.
  const bytes = Deno.readFileSync(`${DIR}numpy.pth`);
  assert.deepEqual(io.decodePth(bytes, "numpy.pth", { device: testDevice }), { x: 1.5 });
});

Deno.test("io.loadPth: values this library cannot hold are refused, not bent", () => {
  assertRefused("complex.pth", /complex tensor \(torch\.ComplexFloatStorage\)/);
  assertRefused("bigint.pth", /'n' is the integer 1152921504606846976, beyond .*2\^53/);
  assertRefused("f64_range.pth", /tensor 'w': F64 value 1e\+300 .* beyond float32's range/);
  assertRefused("i64_range.pth", /tensor 'w': I64 value 1099511627776 .* does not fit in int32/);
});

Deno.test("io.loadPth: truncated and damaged files give errors that name the file", () => {
  for (const format of FORMATS) {
    const good = Deno.readFileSync(`${DIR}state_${format}.pth`);
    for (const n of [0, 1, 5, 20, 200, good.length >> 1, good.length - 1]) {
      assert.throws(() => io.decodePth(good.subarray(0, n), "cut.pth"), /^Error: pth cut\.pth: /);
    }
    // Every byte flipped in turn: an error or a load, never a crash or a hang.
    for (let i = 0; i < good.length; i += 7) {
      const bad = good.slice();
      bad[i] ^= 0xff;
      try {
        disposeAll(io.decodePth(bad, "flip.pth"));
      } catch (e) {
        assert.match(
          (e as Error).message,
          /^pth flip\.pth: /,
          `byte ${i}: ${(e as Error).message}`,
        );
      }
    }
  }
  assertRefused(new Uint8Array([1, 2, 3]), /not a PyTorch checkpoint/);
});

Deno.test("io.loadPth: a legacy file's storage that is missing, short or from a big-endian machine", () => {
  const good = Deno.readFileSync(`${DIR}views_legacy.pth`);
  const text = latin1(good);
  // The sys-info pickle: 'little_endian' NEWTRUE -> NEWFALSE.
  const at = text.indexOf("little_endian") + "little_endian".length + 2;
  assert.equal(good[at], 0x88);
  const big = good.slice();
  big[at] = 0x89;
  assertRefused(big, /big-endian machine/);
  // The last storage cut short, and its element count changed.
  assertRefused(good.subarray(0, good.length - 4), /truncated: storage '\d+' needs \d+ bytes/);
  const keysAt = text.lastIndexOf("\x80\x02]"); // the storage-key list
  const count = good.slice();
  const first = keysAt + text.slice(keysAt).indexOf(".") + 1; // after its STOP
  count[first] += 1;
  assertRefused(count, /storage '\d+' holds \d+ elements, its tensors say \d+/);
});

Deno.test("io.loadPth: a zip whose record is missing or short", () => {
  const files = unzipSync(Deno.readFileSync(`${DIR}views_zip.pth`));
  const stored = (f: typeof files) => zipSync(f, { level: 0 }); // as torch.save writes records
  const without = { ...files };
  delete without["views_zip/data/0"];
  assertRefused(stored(without), /storage '0' has no record views_zip\/data\/0/);
  const short = { ...files, "views_zip/data/0": files["views_zip/data/0"].subarray(4) };
  assertRefused(stored(short), /record views_zip\/data\/0 has \d+ bytes; storage '0' of/);
  const none = { "a/other.txt": new Uint8Array(1) };
  assertRefused(stored(none), /without <dir>\/data\.pkl/);
  // Re-zipped by another tool (deflate): torch.save never compresses, so it is refused by name.
  assertRefused(
    zipSync(files),
    /record views_zip\/data\.pkl is compressed \(zip method 8\).*zip -0/,
  );
});

Deno.test("io.loadPth: a view past its storage's end is refused", () => {
  const good = Deno.readFileSync(`${DIR}views_legacy.pth`);
  // 'row' is base[2]: offset 12 (BININT1 12) -> 23 reads past the 24-element storage.
  const text = latin1(good);
  const row = text.indexOf("row");
  const at = row + text.slice(row).indexOf("Q\x4b\x0c") + 2; // BINPERSID, BININT1 12
  const bad = good.slice();
  bad[at] = 23;
  assertRefused(bad, /reads element 28 of a storage of 24 elements/);
});

Deno.test("io.loadPth: bad arguments say what to write", async () => {
  // torch.load's own options say what they are here.
  for (const key of ["map_location", "mapLocation"]) {
    await assert.rejects(
      () => io.loadPth(`${DIR}state_zip.pth`, { [key]: "cpu" } as never),
      /^Error: io\.loadPth: torch's map_location is \{ device \} here .*write io\.loadPth\(path, \{ device: "cuda" \}\)/,
    );
  }
  // io.load (torch.load's habit) says the same.
  await assert.rejects(
    () => io.load(`${DIR}state_zip.pth`, { map_location: "cpu" } as never),
    /^Error: io\.load: torch's map_location is \{ device \} here/,
  );
  await assert.rejects(
    () => io.load(`${DIR}state_zip.pth`, { weights_only: true } as never),
    /^Error: io\.load: loading is always weights-only/,
  );
  for (const key of ["weights_only", "weightsOnly"]) {
    assert.throws(
      () => io.decodePth(new Uint8Array(), "a.pth", { [key]: true } as never),
      new RegExp(`^Error: io\\.decodePth: loading is always weights-only .* leave ${key} out`),
    );
  }
  await assert.rejects(
    () => io.loadPth(`${DIR}state_zip.pth`, { devise: "cpu" } as never),
    /unknown option 'devise' \(did you mean 'device'\?\)/,
  );
  await assert.rejects(
    () => io.loadPth(42 as never),
    /io\.loadPth: the first argument is the path/,
  );
  await assert.rejects(() => io.loadPth(`${DIR}nope.pth`), /^Error: pth .*nope\.pth: cannot read/);
  assert.throws(() => io.decodePth("x" as never), /the first argument is the file's bytes/);
  assert.throws(
    () => io.decodePth(new Uint8Array(), { device: "cpu" } as never),
    /second argument is the source name/,
  );
  assert.throws(
    () => (io.decodePth as (...a: unknown[]) => unknown)(new Uint8Array(), "a", {}, 1),
    /takes at most 3 arguments/,
  );
});
