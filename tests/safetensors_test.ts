import assert from "node:assert/strict";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
} from "../src/io/mod.ts";
import { tensor } from "../src/tensor/ops/creation.ts";
import type { Tensor } from "../src/tensor/tensor.ts";

const FIXTURE = new URL("./fixtures/torch_state.safetensors", import.meta.url).pathname;
const EXPECTED = new URL("./fixtures/torch_state.json", import.meta.url).pathname;

interface Expected {
  metadata: Record<string, string>;
  tensors: { name: string; dtype: string; shape: number[]; values: number[] }[];
}

function disposeAll(tensors: Map<string, Tensor>): void {
  for (const t of tensors.values()) t.dispose();
}

/** The header length stored in a safetensors file's first 8 bytes. */
function headerLengthOf(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
}

/** The JSON header of a safetensors file. */
function headerOf(bytes: Uint8Array): Record<string, unknown> & Record<string, { dtype: string }> {
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLengthOf(bytes))));
}

/** A file from header text and data bytes (the header length taken from the text). */
function build(header: string | object, data: number[] = []): Uint8Array {
  const text = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

Deno.test("safetensors: a file written by PyTorch loads with its names, shapes, dtypes and values", async () => {
  const expected: Expected = JSON.parse(await Deno.readTextFile(EXPECTED));
  const loaded = await loadSafetensors(FIXTURE);
  try {
    assert.deepEqual([...loaded.keys()], expected.tensors.map((t) => t.name));
    for (const e of expected.tensors) {
      const t = loaded.get(e.name)!;
      const isFloat = e.dtype.startsWith("F") || e.dtype === "BF16";
      assert.equal(t.dtype, isFloat ? "float32" : "int32", e.name);
      assert.deepEqual(t.shape, e.shape, e.name);
      assert.deepEqual(Array.from(t.toArray()), e.values, e.name);
    }
    const steps = loaded.get("1.num_batches_tracked")!;
    assert.equal(steps.dtype, "int32");
    assert.equal(steps.item(), 1);
  } finally {
    disposeAll(loaded);
  }
});

Deno.test("safetensors: the PyTorch state dict re-encodes to the same header entries and bytes", async () => {
  const expected: Expected = JSON.parse(await Deno.readTextFile(EXPECTED));
  const original = await Deno.readFile(FIXTURE);
  const loaded = decodeSafetensors(original, FIXTURE);
  try {
    // The state dict (F32 and I64) comes first in the fixture; "dtypes.*" follow it.
    const state = new Map([...loaded].filter(([name]) => !name.startsWith("dtypes.")));
    const bytes = encodeSafetensors(state, { metadata: expected.metadata });
    const header = headerOf(bytes);
    const fixtureHeader = headerOf(original);
    assert.deepEqual(Object.keys(header), ["__metadata__", ...state.keys()]);
    assert.deepEqual(header["__metadata__"], fixtureHeader["__metadata__"]);
    for (const name of state.keys()) assert.deepEqual(header[name], fixtureHeader[name], name);
    assert.equal(header["1.num_batches_tracked"].dtype, "I64");
    const data = bytes.subarray(8 + headerLengthOf(bytes));
    const fixtureStart = 8 + headerLengthOf(original);
    assert.deepEqual(data, original.subarray(fixtureStart, fixtureStart + data.length));
  } finally {
    disposeAll(loaded);
  }
});

Deno.test("safetensors: save and load round-trip float32 and int32 exactly", async () => {
  const dir = await Deno.makeTempDir();
  const floats = new Float32Array([
    0,
    -0,
    1.5,
    -2.25,
    1e-45,
    3.4028234663852886e38,
    Infinity,
    -Infinity,
    NaN,
  ]);
  const ints = new Int32Array([0, 1, -1, 2147483647, -2147483648, 123456]);
  using f = tensor(floats, [3, 3]);
  using i = tensor(ints, [2, 3], { dtype: "int32" });
  using s = tensor(new Float32Array([42]), []);
  using e = tensor(new Float32Array(0), [0, 4]);
  // Integer-like names keep their place (a plain JS object would move them first).
  const state = new Map<string, Tensor>([["b.float", f], ["10", i], ["2", s], ["a.empty", e]]);
  try {
    for (const intType of ["I64", "I32"] as const) {
      const path = `${dir}/state-${intType}.safetensors`;
      await saveSafetensors(path, state, intType === "I64" ? {} : { intType });
      const header = headerOf(await Deno.readFile(path));
      assert.equal(header["10"].dtype, intType);
      assert.equal(header["b.float"].dtype, "F32");
      const loaded = await loadSafetensors(path);
      try {
        assert.deepEqual([...loaded.keys()], ["b.float", "10", "2", "a.empty"]);
        for (const [name, t] of state) {
          const back = loaded.get(name)!;
          assert.equal(back.dtype, t.dtype, name);
          assert.deepEqual(back.shape, t.shape, name);
          assert.deepEqual(back.toArray(), t.toArray(), name);
        }
      } finally {
        disposeAll(loaded);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: a file we write is byte-identical when re-encoded after loading", async () => {
  using w = tensor(new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), [2, 3]);
  using n = tensor(new Int32Array([5, -6]), [2]);
  const metadata = { format: "pt", note: "ünïcode ✓" };
  const dir = await Deno.makeTempDir();
  try {
    for (const intType of ["I64", "I32"] as const) {
      const path = `${dir}/model.safetensors`;
      await saveSafetensors(path, { "conv.weight": w, "bn.num_batches_tracked": n }, {
        metadata,
        intType,
      });
      const bytes = await Deno.readFile(path);
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLengthOf(bytes)));
      assert.equal(headerLengthOf(bytes) % 8, 0, "header padded to a multiple of 8");
      assert.match(header, /^\{"__metadata__":\{"format":"pt",.*\} *$/);
      const loaded = await loadSafetensors(path);
      try {
        assert.deepEqual(encodeSafetensors(loaded, { metadata, intType }), bytes);
      } finally {
        disposeAll(loaded);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: F16 and BF16 special values, BOOL; gaps, duplicate names, F64 overflow", () => {
  const values = [0x00, 0x7c, 0x00, 0xfc, 0x00, 0x7e, 0x01, 0x00, 0x80, 0x3f, 0x80, 0xff, 2, 0];
  // Bytes 8..10 unused: the reference reader refuses a hole, and a name listed
  // twice leaves one (JSON keeps its last entry), so it is refused here too.
  const gap = build(
    {
      h: { dtype: "F16", shape: [4], data_offsets: [0, 8] },
      b: { dtype: "BF16", shape: [2], data_offsets: [10, 14] },
      ok: { dtype: "BOOL", shape: [2], data_offsets: [14, 16] },
    },
    [...values.slice(0, 8), 0xff, 0xff, ...values.slice(8)],
  );
  assert.throws(
    () => decodeSafetensors(gap, "gap.safetensors"),
    /gap\.safetensors: data bytes \[8, 10\) belong to no tensor \(a name listed twice/,
  );
  const twice = build(
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    [0, 0, 128, 63, 0, 0, 0, 64],
  );
  assert.throws(() => decodeSafetensors(twice, "twice"), /data bytes \[0, 4\) belong to no tensor/);
  const trailing = build({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, [
    0,
    0,
    128,
    63,
    1,
  ]);
  assert.throws(() => decodeSafetensors(trailing, "t"), /1 data bytes after the last tensor/);
  // F64 narrowed to float32: a finite value beyond its range is refused, not made Infinity.
  const big = new Uint8Array(new Float64Array([0.5, 1e300]).buffer);
  assert.throws(
    () =>
      decodeSafetensors(
        build({ d: { dtype: "F64", shape: [2], data_offsets: [0, 16] } }, [...big]),
        "f64",
      ),
    /tensor 'd': F64 value 1e\+300 at index 1 is beyond float32's range/,
  );
  const bytes = build(
    {
      h: { dtype: "F16", shape: [4], data_offsets: [0, 8] },
      b: { dtype: "BF16", shape: [2], data_offsets: [8, 12] },
      ok: { dtype: "BOOL", shape: [2], data_offsets: [12, 14] },
    },
    values,
  );
  const loaded = decodeSafetensors(bytes, "special.safetensors");
  try {
    const h = loaded.get("h")!.toArray();
    assert.deepEqual(Array.from(h.slice(0, 2)), [Infinity, -Infinity]);
    assert.ok(Number.isNaN(h[2]));
    assert.equal(h[3], 2 ** -24);
    assert.deepEqual(Array.from(loaded.get("b")!.toArray()), [1, -Infinity]);
    assert.deepEqual(Array.from(loaded.get("ok")!.toArray()), [1, 0]);
  } finally {
    disposeAll(loaded);
  }
});

Deno.test("safetensors: malformed files throw errors naming the source and the problem", () => {
  const src = "bad.safetensors";
  const f32 = (extra: object) => ({
    w: { dtype: "F32", shape: [2], data_offsets: [0, 8], ...extra },
  });
  const data8 = [0, 0, 0, 0, 0, 0, 0, 0];
  const cases: [string, Uint8Array, RegExp][] = [
    ["short file", new Uint8Array(5), /5 bytes, too short/],
    [
      "header past end",
      build("{}").slice(0, 9),
      /header length 2 runs past the end of the file \(9 bytes\)/,
    ],
    [
      "absurd header length",
      (() => {
        const b = build("{}");
        new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true);
        return b;
      })(),
      /header length 9223372036854775808 is larger than the 100000000-byte limit/,
    ],
    ["invalid JSON", build("{not json"), /header is not valid JSON/],
    ["array header", build("[1, 2]"), /header is not a JSON object/],
    ["null header", build("null"), /header is not a JSON object/],
    ["entry not an object", build({ w: 3 }), /tensor 'w': entry is not an object/],
    [
      "missing dtype",
      build({ w: { shape: [2], data_offsets: [0, 8] } }, data8),
      /tensor 'w': entry has no dtype/,
    ],
    [
      "missing shape",
      build({ w: { dtype: "F32", data_offsets: [0, 8] } }, data8),
      /tensor 'w': entry has no shape/,
    ],
    [
      "missing offsets",
      build({ w: { dtype: "F32", shape: [2] } }, data8),
      /tensor 'w': entry has no data_offsets/,
    ],
    ["dtype not a string", build(f32({ dtype: 4 }), data8), /tensor 'w': dtype is not a string/],
    [
      "unknown dtype",
      build(f32({ dtype: "F8_E4M3" }), data8),
      /tensor 'w': unknown or unsupported dtype 'F8_E4M3'/,
    ],
    ["prototype dtype", build(f32({ dtype: "toString" }), data8), /unsupported dtype 'toString'/],
    ["shape not a list", build(f32({ shape: "2" }), data8), /tensor 'w': shape "2" is not a list/],
    [
      "negative shape",
      build(f32({ shape: [-2] }), data8),
      /tensor 'w': shape \[-2\] is not a list of non-negative/,
    ],
    ["fractional shape", build(f32({ shape: [1.5] }), data8), /tensor 'w': shape \[1.5\] is not/],
    [
      "offsets of wrong type",
      build(f32({ data_offsets: ["0", 8] }), data8),
      /tensor 'w': data_offsets/,
    ],
    [
      "one offset",
      build(f32({ data_offsets: [0] }), data8),
      /tensor 'w': data_offsets \[0\] is not two/,
    ],
    [
      "negative offset",
      build(f32({ data_offsets: [-8, 0] }), data8),
      /data_offsets \[-8,0\] is not two/,
    ],
    [
      "end before begin",
      build(f32({ data_offsets: [8, 0] }), data8),
      /tensor 'w': data_offsets \[8, 0\] end before/,
    ],
    [
      "offsets outside the data",
      build(f32({ data_offsets: [4, 12] }), data8),
      /tensor 'w': data_offsets \[4, 12\] lie outside the data section \(8 bytes\)/,
    ],
    [
      "wrong byte length",
      build(f32({ shape: [3] }), data8),
      /tensor 'w': 8 bytes of data, but shape \[3\] of F32 needs 12/,
    ],
    [
      "overlapping tensors",
      build({
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
      }, data8),
      /tensors 'a' \[0, 8\] and 'b' \[4, 8\] overlap/,
    ],
    [
      "I64 value out of int32 range",
      build({ n: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, [
        ...[1, 0, 0, 0, 0, 0, 0, 0],
        ...[0, 0, 0, 0, 1, 0, 0, 0],
      ]),
      /tensor 'n': I64 value 4294967296 at index 1 does not fit in int32/,
    ],
    [
      "non-string metadata",
      build({ __metadata__: { epoch: 3 }, ...f32({}) }, data8),
      /metadata value for 'epoch' is not a string/,
    ],
    ["metadata not an object", build({ __metadata__: "x" }), /__metadata__ is not an object/],
    [
      "too many dimensions for a tensor",
      build({ w: { dtype: "U8", shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], data_offsets: [0, 1] } }, [7]),
      /tensor 'w': .*dimensions/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    assert.throws(() => decodeSafetensors(bytes, src), (e: unknown) => {
      assert.ok(e instanceof Error, what);
      assert.match(e.message, /^safetensors bad\.safetensors: /, what);
      assert.match(e.message, message, what);
      return true;
    });
  }
});

Deno.test("safetensors: invalid UTF-8 in the header is an error, not a crash", () => {
  const bytes = build("{}");
  bytes[8] = 0xff;
  assert.throws(
    () => decodeSafetensors(bytes, "utf.safetensors"),
    /safetensors utf\.safetensors: header is not valid UTF-8/,
  );
  assert.throws(() => decodeSafetensors(new Uint8Array(0)), /safetensors <bytes>: file is 0 bytes/);
});

Deno.test("safetensors: saving checks names, tensors and metadata", async () => {
  using w = tensor(new Float32Array([1]), [1]);
  const gone = tensor(new Float32Array([1]), [1]);
  gone.dispose();
  assert.throws(() => encodeSafetensors({ "": w }), /tensor names must be non-empty strings/);
  assert.throws(
    () => encodeSafetensors(new Map([[3 as unknown as string, w]])),
    /non-empty strings/,
  );
  assert.throws(() => encodeSafetensors({ __metadata__: w }), /'__metadata__' is reserved/);
  assert.throws(() => encodeSafetensors({ w: 3 as unknown as Tensor }), /'w' is not a Tensor/);
  assert.throws(
    () => encodeSafetensors({ w, "layer.weight": gone }),
    /safetensors <bytes>: tensor 'layer\.weight' was disposed/,
  );
  assert.throws(
    () => encodeSafetensors({ w }, { metadata: { epoch: 3 as unknown as string } }),
    /metadata value for 'epoch' is not a string/,
  );
  assert.throws(
    () => encodeSafetensors({ w }, { intType: "I16" as "I32" }),
    /intType must be "I64" or "I32", got "I16"/,
  );
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/model.safetensors`;
    await assert.rejects(
      saveSafetensors(path, { gone }),
      /safetensors .*model\.safetensors: tensor 'gone' was disposed/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("safetensors: writes are atomic and leave no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/model.safetensors`;
    using a = tensor(new Float32Array([1, 2]), [2]);
    using b = tensor(new Float32Array([3, 4, 5]), [3]);
    await saveSafetensors(path, { a });
    await saveSafetensors(path, { b }); // replaces the file
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]);
    const loaded = await loadSafetensors(path);
    assert.deepEqual([...loaded.keys()], ["b"]);
    disposeAll(loaded);
    // A directory that does not exist: an error naming the path, and nothing left behind.
    const missing = `${dir}/no/such/dir/model.safetensors`;
    await assert.rejects(
      saveSafetensors(missing, { a }),
      /safetensors .*no\/such\/dir\/model\.safetensors: cannot write/,
    );
    await assert.rejects(
      loadSafetensors(missing),
      /safetensors .*no\/such\/dir\/model\.safetensors: cannot read/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
