/**
 * io.loadPth on hostile and unusual files, built here from a few bytes of
 * pickle (tests/pth_bytes.ts): strided tensors of every element size at
 * every alignment (the running-offset gather, checked against the elements
 * computed here), and what a small file must not do: make gigabytes of
 * expanded tensors (stride 0), expand shared lists for ever (a "billion
 * laughs"), hash a tuple key of 2^40 values, inflate a zip record nobody
 * reads, or fail with a bare TypeError that does not name the file.
 */
import assert from "node:assert/strict";
import { io, type Tensor } from "../mod.ts";
import { testDevice } from "./helpers.ts";
import { bytes, dict, glob, int, laughs, pth, rebuild, storage, str, tup } from "./pth_bytes.ts";

const decode = (b: Uint8Array, name = "bad.pth") => io.decodePth(b, name, { device: testDevice });

/** Asserts decoding fails fast with an error naming the file and matching `pattern`. */
function assertRefused(b: Uint8Array, pattern: RegExp): void {
  const t0 = performance.now();
  assert.throws(() => decode(b), (e: Error) => {
    assert.match(e.message, /^pth bad\.pth: /);
    assert.match(e.message, pattern);
    return true;
  });
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
}

/** float16 bits of a small integer (exact). */
function half(v: number): number {
  if (v === 0) return 0;
  const e = Math.floor(Math.log2(v));
  return ((e + 15) << 10) | ((v / 2 ** e - 1) * 1024);
}

Deno.test("io.loadPth: strided and expanded tensors of every element size, at every alignment", () => {
  // Element i of each storage is i (bool: i % 2), 24 of them; the views read [i, j, k] at
  // 1 + i + 8j + 2k (a permuted, strided view) and [i, j] at j (expanded).
  const n = 24;
  const kinds = [
    { cls: "FloatStorage", es: 4, put: (v: DataView, i: number) => v.setFloat32(i * 4, i, true) },
    {
      cls: "HalfStorage",
      es: 2,
      put: (v: DataView, i: number) => v.setUint16(i * 2, half(i), true),
    },
    {
      cls: "LongStorage",
      es: 8,
      put: (v: DataView, i: number) => v.setBigInt64(i * 8, BigInt(i), true),
    },
    { cls: "BoolStorage", es: 1, put: (v: DataView, i: number) => v.setUint8(i, i % 2) },
  ];
  for (const { cls, es, put } of kinds) {
    const data = new Uint8Array(n * es);
    for (let i = 0; i < n; i++) put(new DataView(data.buffer), i);
    const value = (i: number) => (cls === "BoolStorage" ? i % 2 : i);
    const want = [];
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        for (let k = 0; k < 3; k++) want.push(value(1 + i + 8 * j + 2 * k));
      }
    }
    const pkl = dict([
      ["view", rebuild(storage("0", n, cls), 1, [2, 2, 3], [1, 8, 2])],
      ["expanded", rebuild(storage("0", n, cls), 0, [3, 5], [0, 1])],
    ]);
    // A record before the storage's shifts it: aligned to its element size or not.
    for (let pad = 0; pad < 8; pad++) {
      const got = decode(pth(pkl, { "0": data }, pad)) as Record<string, Tensor>;
      try {
        assert.deepEqual(got.view.shape, [2, 2, 3]);
        assert.deepEqual([...got.view.toArray()], want, `${cls} pad ${pad}`);
        const row = [0, 1, 2, 3, 4].map(value);
        assert.deepEqual([...got.expanded.toArray()], [...row, ...row, ...row]);
        const float = cls === "FloatStorage" || cls === "HalfStorage";
        assert.equal(got.view.dtype, float ? "float32" : "int32");
        assert.equal(got.view.device, testDevice);
      } finally {
        got.view.dispose();
        got.expanded.dispose();
      }
    }
  }
});

Deno.test("io.loadPth: expanded tensors may not make much more than the file holds", () => {
  // One float, viewed as 2^28 of them (stride 0): 1 GB from a 4-byte storage.
  const one = { "0": new Uint8Array(4) };
  assertRefused(
    pth(dict([["big", rebuild(storage("0", 1), 0, [2 ** 28], [0])]]), one),
    /tensor 'big' of size \[268435456\] would take 1024\.0 MB, past what a file of 4 bytes of storages may make \(16x that plus 64\.0 MB\).*save t\.clone\(\)/,
  );
  // 16 MB each, together past the budget: the fifth is refused (the four made are freed).
  const many = bytes(
    "(",
    ...Array.from({ length: 8 }, () => rebuild(storage("0", 1), 0, [2 ** 22], [0])),
    "l",
  );
  assertRefused(pth(many, one), /tensor '4' of size \[4194304\] would take 16\.0 MB/);
  // Within it: loads, every element the storage's one.
  const few = decode(pth(dict([["w", rebuild(storage("0", 1), 0, [1000], [0])]]), {
    "0": new Uint8Array(new Float32Array([2.5]).buffer),
  })) as Record<string, Tensor>;
  assert.deepEqual([...few.w.toArray()], new Array(1000).fill(2.5));
  few.w.dispose();
});

Deno.test("io.loadPth: a 'billion laughs' of shared lists is refused, not walked for ever", () => {
  // L0 = [], L_i = [L_{i-1}] * 10 through the memo (BINPUT/BINGET), 30 deep: 10^30 paths.
  assertRefused(
    pth(laughs()),
    /it holds \d+ values .* visits 1\.11e\+30 \(a "billion laughs" file\)/,
  );
  // A few shares are fine: one list under two keys comes back as one array.
  const shared = bytes("}(", str("a"), "](", int(1), int(2), "eq", [0], str("b"), "h", [0], "u");
  const back = decode(pth(shared)) as Record<string, number[]>;
  assert.deepEqual(back.a, [1, 2]);
  assert.equal(back.a, back.b);
});

Deno.test("io.loadPth: a tuple key of 2^40 values is refused before it is hashed", () => {
  // T0 = (), T_i = (T_{i-1}, T_{i-1}), 40 deep, as a dict key.
  const parts = [bytes(")q", [0], "0")];
  for (let i = 1; i <= 40; i++) parts.push(bytes("(h", [i - 1], "h", [i - 1], "tq", [i], "0"));
  assertRefused(
    pth(bytes(...parts, "}h", [40], str("v"), "s")),
    /a dict key is a tuple of more than 10000 values.*\(pickle opcode SETITEM at byte \d+\)/,
  );
  // A small one is hashed, then refused as a key io.load does not give, by its path.
  assertRefused(
    pth(bytes("}", tup(int(1), int(2)), str("v"), "s")),
    /a dict with a key of type tuple/,
  );
});

Deno.test("io.loadPth: a tensor rebuilt from something other than a storage names the file", () => {
  const bad = (first: Uint8Array) =>
    bytes(
      glob("torch._utils", "_rebuild_tensor_v2"),
      tup(
        first,
        int(0),
        tup(int(1)),
        tup(int(1)),
        [0x89],
        glob("collections", "OrderedDict"),
        ")R",
      ),
      "R",
    );
  assertRefused(pth(bad(str("notastorage"))), /_rebuild_tensor_v2 is given a str where a storage/);
  assertRefused(pth(bad(tup(int(1)))), /_rebuild_tensor_v2 is given a tuple where a storage/);
  assertRefused(pth(bad(bytes("N"))), /_rebuild_tensor_v2 is given a None where a storage/);
});

/** Sets the zip method of record `name` (its directory entry and local header) to deflate. */
function markDeflated(zip: Uint8Array, name: string, inflatedSize?: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let at = 0; at + 46 < zip.length; at++) {
    if (view.getUint32(at, true) !== 0x02014b50) continue;
    const length = view.getUint16(at + 28, true);
    if (new TextDecoder().decode(zip.subarray(at + 46, at + 46 + length)) !== name) continue;
    view.setUint16(at + 10, 8, true);
    if (inflatedSize !== undefined) view.setUint32(at + 24, inflatedSize, true);
    view.setUint16(view.getUint32(at + 42, true) + 8, 8, true);
  }
}

Deno.test("io.loadPth: zip records torch does not read are never inflated", () => {
  // A record marked deflated whose bytes are no deflate stream, claiming 4 GB: nothing asks
  // for it, so the file loads.
  const zip = pth(dict([["n", int(7)]]), { junk: new Uint8Array(64).fill(0xff) });
  markDeflated(zip, "archive/data/junk", 0xfffffff0);
  assert.deepEqual(decode(zip), { n: 7 });
  // The same record as a storage the pickle reads: refused by name.
  const used = pth(dict([["w", rebuild(storage("junk", 16), 0, [16], [1])]]), {
    junk: new Uint8Array(64).fill(0xff),
  });
  markDeflated(used, "archive/data/junk");
  assertRefused(
    used,
    /record archive\/data\/junk is compressed \(zip method 8\); torch\.save stores/,
  );
});
