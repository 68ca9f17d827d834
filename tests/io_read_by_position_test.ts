/**
 * Loading from a path reads the file by position (the zip directory, the
 * pickles or the safetensors header first, each storage then straight into
 * its tensor's memory): io.loadPth, io.loadSafetensors and io.load of a
 * file give exactly what decodePth, decodeSafetensors and io.load's bytes
 * form give from the file's bytes, for torch's fixtures and for every
 * truncated or flipped variant of them (values or the error message); a
 * storage is read once however many tensors view it; zip64 directories and
 * legacy pickles longer than the first read load; a record claiming bytes
 * past the file's end is refused before anything is allocated. And
 * `--weights` decodes the bytes it hashed: the file swapped right after its
 * one read changes neither the content nor the recorded SHA-256.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { io, models, optim, type Tensor, tensor, train } from "../mod.ts";
import { testDevice } from "./helpers.ts";
import { bytes, dict, glob, int, pth, rebuild, storage, str, tup } from "./pth_bytes.ts";
import { FileSource } from "../src/io/byte_source.ts";
import { readPth } from "../src/io/pth_read.ts";
import { readZipArchive } from "../src/io/zip_read.ts";
import { bufferSource } from "../src/io/byte_source.ts";
import { decodeSaved } from "../src/io/save_load.ts";
import { readPretrained } from "../src/train/weights.ts";

const DIR = new URL("./fixtures/pth/", import.meta.url).pathname;
const SAFETENSORS = new URL("./fixtures/torch_state.safetensors", import.meta.url).pathname;
const device = { device: testDevice };

/** A loaded value as plain data: tensors as { dtype, shape, device, values }. */
function plain(v: unknown, seen = new Map<object, unknown>()): unknown {
  if (v === null || typeof v !== "object") return v;
  if (seen.has(v)) return seen.get(v);
  if ("toArray" in v && "dispose" in v) {
    const t = v as Tensor;
    return { dtype: t.dtype, shape: t.shape, device: t.device, values: [...t.toArray()] };
  }
  const out = v instanceof Map
    ? [...v].map(([k, x]) => [k, plain(x, seen)])
    : Array.isArray(v)
    ? v.map((x) => plain(x, seen))
    : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x, seen)]));
  seen.set(v, out);
  return out;
}

/** Disposes every tensor in a loaded value. */
function disposeAll(v: unknown, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== "object" || seen.has(v)) return;
  seen.add(v);
  if ("dispose" in v && typeof v.dispose === "function") return void (v as Tensor).dispose();
  for (const x of v instanceof Map ? v.values() : Object.values(v)) disposeAll(x, seen);
}

/** What `f` gives (as plain data) or throws (its message), disposing what it loaded. */
async function outcome(f: () => unknown): Promise<unknown> {
  try {
    const v = await f();
    try {
      return { value: plain(v) };
    } finally {
      disposeAll(v);
    }
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Truncations and byte flips of `good` (every `stride`-th byte). */
function variants(good: Uint8Array, stride: number): Uint8Array[] {
  const out = [good];
  for (const n of [0, 1, 7, 8, 30, good.length >> 1, good.length - 22, good.length - 1]) {
    if (n >= 0 && n < good.length) out.push(good.slice(0, n));
  }
  for (let i = 0; i < good.length; i += stride) {
    const bad = good.slice();
    bad[i] ^= 0xff;
    out.push(bad);
  }
  return out;
}

/** Asserts that reading each variant from a file gives what decoding its bytes gives. */
async function assertSameAsBytes(
  good: Uint8Array,
  stride: number,
  fromFile: (path: string) => unknown,
  fromBytes: (b: Uint8Array, path: string) => unknown,
): Promise<number> {
  const path = await Deno.makeTempFile({ suffix: ".bin" });
  let loaded = 0;
  try {
    for (const [i, b] of variants(good, stride).entries()) {
      await Deno.writeFile(path, b);
      const want = await outcome(() => fromBytes(b, path));
      const got = await outcome(() => fromFile(path));
      assert.deepEqual(got, want, `variant ${i}`);
      if ("value" in (want as object)) loaded++;
    }
  } finally {
    await Deno.remove(path);
  }
  return loaded;
}

const PTH = [
  "state_zip.pth",
  "state_legacy.pth",
  "views_zip.pth",
  "views_legacy.pth",
  "dtypes_zip.pth",
  "dtypes_legacy.pth",
  "checkpoint_zip.pth",
  "checkpoint_legacy.pth",
  "ours_state.pth",
  "complex.pth",
  "module.pth",
];

Deno.test("io.loadPth of a file gives what io.decodePth gives of its bytes, damaged ones too", async () => {
  for (const name of PTH) {
    const good = await Deno.readFile(`${DIR}${name}`);
    const loaded = await assertSameAsBytes(
      good,
      Math.max(1, Math.floor(good.length / 150)),
      (p) => io.loadPth(p, device),
      (b, p) => io.decodePth(b, p, device),
    );
    if (!/complex|module/.test(name)) assert.ok(loaded > 1, `${name}: ${loaded} loaded`);
  }
});

Deno.test("io.loadSafetensors and io.load of a file give what decoding its bytes gives", async () => {
  const good = await Deno.readFile(SAFETENSORS);
  const stride = Math.max(1, Math.floor(good.length / 200));
  const loadSt = (p: string) => io.loadSafetensors(p, device);
  await assertSameAsBytes(good, stride, loadSt, (b, p) => io.decodeSafetensors(b, p, device));
  await assertSameAsBytes(
    good,
    stride,
    (p) => io.load(p, device),
    (b, p) => decodeSaved(b, p, device),
  );
  // Every dtype the reader widens (F64, F16, BF16, I64, I16, I8, U8, BOOL) beside F32 / I32.
  const w = tensor([[1.5, -2], [3, 0.25]]);
  const n = tensor(new Int32Array([-7, 0, 9]), [3]);
  const sd = io.encodeSafetensors({ w, n }, { intType: "I64" });
  w.dispose();
  n.dispose();
  await assertSameAsBytes(sd, 3, loadSt, (b, p) => io.decodeSafetensors(b, p, device));
  // An io.save tree and a .pth, through io.load.
  const dir = await Deno.makeTempDir();
  try {
    using a = tensor([1, 2, 3]);
    await io.save(join(dir, "t.safetensors"), { a, again: a, epoch: 3, m: new Map([[1, "x"]]) });
    await io.save(join(dir, "t.pth"), { a, epoch: 3 });
    for (const f of ["t.safetensors", "t.pth"]) {
      const b = await Deno.readFile(join(dir, f));
      await assertSameAsBytes(b, 5, (p) => io.load(p, device), (x, p) => decodeSaved(x, p, device));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A file opened as a FileSource that records each read's [start, end). */
async function countingSource(path: string): Promise<{ source: FileSource; reads: number[][] }> {
  const source = (await FileSource.open(path))!;
  const reads: number[][] = [];
  const readInto = source.readInto.bind(source);
  source.readInto = (at, into) => {
    reads.push([at, at + into.length]);
    readInto(at, into);
  };
  return { source, reads };
}

Deno.test("io.loadPth reads each storage of a file once, however many tensors view it", async () => {
  // views_zip.pth: several views (rows, a transpose, a slice) of shared storages.
  for (const name of ["views_zip.pth", "state_zip.pth", "checkpoint_zip.pth"]) {
    const path = `${DIR}${name}`;
    const zip = readZipArchive(bufferSource(await Deno.readFile(path)));
    const records = zip.names.filter((n) => /\/data\/\d+$/.test(n)).map((n) => zip.find(n)!)
      .filter((r) => r.size > 0);
    assert.ok(records.length > 0);
    const { source, reads } = await countingSource(path);
    let value;
    try {
      value = readPth(source, name, device);
    } finally {
      source.close();
    }
    disposeAll(value);
    for (const r of records) {
      // Reads of its bytes (the directory, headers and pickle lie outside them).
      const hits = reads.filter(([a, b]) => a >= r.offset && b <= r.offset + r.size && b > a);
      assert.equal(hits.length, 1, `${name}: record at ${r.offset} read ${hits.length} times`);
    }
  }
});

Deno.test("io.loadPth reads a tensor alone on its storage from its offset (torch.save of t[3:7])", async () => {
  const data = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer);
  const ints = new Uint8Array(new Int32Array([10, 11, 12, 13]).buffer);
  const b = pth(
    dict([
      ["slice", rebuild(storage0(8), 3, [4], [1])],
      ["rows", rebuild(storage("1", 4, "IntStorage"), 2, [1, 2], [2, 1])],
    ]),
    { "0": data, "1": ints },
  );
  const path = await Deno.makeTempFile({ suffix: ".pth" });
  try {
    await Deno.writeFile(path, b);
    const got = await io.loadPth(path, device) as Record<string, Tensor>;
    try {
      assert.deepEqual([...got.slice.toArray()], [3, 4, 5, 6]);
      assert.deepEqual([...got.rows.toArray()], [12, 13]);
      assert.deepEqual(got.rows.shape, [1, 2]);
    } finally {
      disposeAll(got);
    }
  } finally {
    await Deno.remove(path);
  }
});

/** `records` as a zip64 archive (sizes and offsets only in zip64 fields), stored. */
function zip64(records: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let at = 0;
  const u16 = (v: DataView, o: number, x: number) => v.setUint16(o, x, true);
  const u32 = (v: DataView, o: number, x: number) => v.setUint32(o, x, true);
  const u64 = (v: DataView, o: number, x: number) => v.setBigUint64(o, BigInt(x), true);
  for (const [name, data] of records) {
    const n = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + n.length + 20);
    const l = new DataView(local.buffer);
    u32(l, 0, 0x04034b50), u16(l, 4, 45), u32(l, 18, 0xffffffff), u32(l, 22, 0xffffffff);
    u16(l, 26, n.length), u16(l, 28, 20), local.set(n, 30);
    u16(l, 30 + n.length, 1), u16(l, 32 + n.length, 16);
    u64(l, 34 + n.length, data.length), u64(l, 42 + n.length, data.length);
    const entry = new Uint8Array(46 + n.length + 28);
    const c = new DataView(entry.buffer);
    u32(c, 0, 0x02014b50), u16(c, 4, 45), u16(c, 6, 45);
    u32(c, 20, 0xffffffff), u32(c, 24, 0xffffffff), u16(c, 28, n.length), u16(c, 30, 28);
    u32(c, 42, 0xffffffff), entry.set(n, 46);
    u16(c, 46 + n.length, 1), u16(c, 48 + n.length, 24);
    u64(c, 50 + n.length, data.length), u64(c, 58 + n.length, data.length);
    u64(c, 66 + n.length, at);
    parts.push(local, data);
    central.push(entry);
    at += local.length + data.length;
  }
  const dirSize = central.reduce((a, e) => a + e.length, 0);
  const end = new Uint8Array(56 + 20 + 22);
  const e = new DataView(end.buffer);
  u32(e, 0, 0x06064b50), u64(e, 4, 44), u16(e, 12, 45), u16(e, 14, 45);
  u64(e, 24, records.length), u64(e, 32, records.length), u64(e, 40, dirSize), u64(e, 48, at);
  u32(e, 56, 0x07064b50), u64(e, 64, at + dirSize), u32(e, 72, 1);
  u32(e, 76, 0x06054b50), u16(e, 84, 0xffff), u16(e, 86, 0xffff);
  u32(e, 88, 0xffffffff), u32(e, 92, 0xffffffff);
  return bytes(...parts, ...central, end);
}

Deno.test("io.loadPth reads a zip64 directory (torch.save's past 4 GB) as the plain one", async () => {
  for (const name of ["views_zip.pth", "checkpoint_zip.pth"]) {
    const plainZip = await Deno.readFile(`${DIR}${name}`);
    const zip = readZipArchive(bufferSource(plainZip));
    const wide = zip64(zip.names.map((n) => [n, zip.read(n)!]));
    assert.notDeepEqual(wide, plainZip);
    const want = await outcome(() => io.decodePth(plainZip, "a.pth", device));
    assert.ok("value" in (want as object), JSON.stringify(want).slice(0, 200));
    assert.deepEqual(await outcome(() => io.decodePth(wide, "a.pth", device)), want);
    const path = await Deno.makeTempFile({ suffix: ".pth" });
    try {
      await Deno.writeFile(path, wide);
      assert.deepEqual(await outcome(() => io.loadPth(path, device)), want);
    } finally {
      await Deno.remove(path);
    }
  }
});

/** The legacy format by hand: the five pickles (the object's holds `text`), then storage "0". */
function legacy(text: string, values: number[]): Uint8Array {
  const P = [0x80, 0x02];
  const MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  const id = bytes(
    tup(
      str("storage"),
      glob("torch", "FloatStorage"),
      str("0"),
      str("cpu"),
      int(values.length),
      "N",
    ),
    "Q",
  );
  const count = new Uint8Array(8);
  new DataView(count.buffer).setBigInt64(0, BigInt(values.length), true);
  return bytes(
    P,
    MAGIC,
    ".",
    P,
    int(1001),
    ".",
    P,
    "}(",
    str("little_endian"),
    [0x88],
    "u.",
    P,
    dict([["text", str(text)], ["w", rebuild(id, 0, [values.length], [1])]]),
    ".",
    P,
    "](",
    str("0"),
    "e.",
    count,
    new Uint8Array(new Float32Array(values).buffer),
  );
}

Deno.test("io.loadPth reads a legacy file whose pickles reach past the first MB it reads", async () => {
  const text = "x".repeat(3 * 2 ** 20);
  const b = legacy(text, [1.5, -2, 4]);
  const path = await Deno.makeTempFile({ suffix: ".pth" });
  try {
    await Deno.writeFile(path, b);
    const got = await io.loadPth(path, device) as { text: string; w: Tensor };
    assert.equal(got.text, text);
    assert.deepEqual([...got.w.toArray()], [1.5, -2, 4]);
    got.w.dispose();
    // Cut inside the pickle, or inside the storage: the error the bytes give.
    for (const n of [2 ** 20 + 5, b.length - 3]) {
      await Deno.writeFile(path, b.subarray(0, n));
      const want = await outcome(() => io.decodePth(b.subarray(0, n), path, device));
      assert.ok("error" in (want as object));
      assert.deepEqual(await outcome(() => io.loadPth(path, device)), want);
    }
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("io.loadPth: a record or storage claiming bytes past the file's end is refused first", async () => {
  const path = await Deno.makeTempFile({ suffix: ".pth" });
  try {
    // Zip: the directory says storage '0' holds 3.75 GB (and the pickle agrees).
    const zip = pth(dict([["w", rebuild(storage0(2 ** 30 - 2 ** 26), 0, [4], [1])]]), {
      "0": new Uint8Array(16),
    });
    const view = new DataView(zip.buffer);
    for (let at = 0; at + 46 < zip.length; at++) {
      if (view.getUint32(at, true) !== 0x02014b50) continue;
      const length = view.getUint16(at + 28, true);
      if (new TextDecoder().decode(zip.subarray(at + 46, at + 46 + length)) !== "archive/data/0") {
        continue;
      }
      view.setUint32(at + 20, 0xf0000000, true);
      view.setUint32(at + 24, 0xf0000000, true);
    }
    await Deno.writeFile(path, zip);
    const t0 = performance.now();
    await assert.rejects(
      () => io.loadPth(path, device),
      /^Error: pth .*: record archive\/data\/0 \[\d+, 40265\d+\) lies past the end of the file \(\d+ bytes\)$/,
    );
    // Legacy: storage '0' of 2^31 floats, with its count, in a file of a few hundred bytes.
    const big = legacy("x", [1, 2, 3, 4]);
    const at = big.length - 16 - 8;
    const text = new TextDecoder("latin1").decode(big);
    // The persistent id's numel (BININT 4 after "cpu"): the pickle says 2^31 too.
    const numel = text.indexOf("cpu") + 3 + 1;
    new DataView(big.buffer).setInt32(numel, 2 ** 31 - 1, true);
    new DataView(big.buffer).setBigInt64(at, BigInt(2 ** 31 - 1), true);
    await Deno.writeFile(path, big);
    await assert.rejects(
      () => io.loadPth(path, device),
      /truncated: storage '0' needs 8589934588 bytes, the file has 16 left/,
    );
    assert.ok(performance.now() - t0 < 2000);
  } finally {
    await Deno.remove(path);
  }
});

/** A persistent id of FloatStorage '0' of `numel` elements (zip format), loaded. */
function storage0(numel: number): Uint8Array {
  return bytes(
    tup(str("storage"), glob("torch", "FloatStorage"), str("0"), str("cpu"), int(numel)),
    "Q",
  );
}

Deno.test("loaded tensors are yours and kept: a big checkpoint is no pile of forgotten temporaries", async () => {
  const sd = await io.loadPth(`${DIR}state_zip.pth`) as Map<string, Tensor>;
  const st = await io.loadSafetensors(SAFETENSORS);
  try {
    for (const t of [...sd.values(), ...st.values()]) {
      const lease = (t as unknown as { lease: { kept: boolean } | null }).lease;
      assert.equal(lease?.kept, true);
    }
  } finally {
    disposeAll(sd);
    disposeAll(st);
  }
  await assert.rejects(() => io.loadPth(DIR), /^Error: pth .*: cannot read: /);
  await assert.rejects(() => io.load(DIR), /^Error: io\.load .*: cannot read: /);
});

/** SHA-256 of `b`, in hex. */
async function sha256(b: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Runs readPretrained(path) with Deno's file reads watched: the first read of
 * `path` gets its bytes, and the file is then replaced by `swap`; any other
 * read or open of it counts. Returns the weights and the count of reads.
 */
async function readWithSwap(path: string, swap: Uint8Array) {
  const saved = {
    readFile: Deno.readFile,
    readFileSync: Deno.readFileSync,
    open: Deno.open,
    openSync: Deno.openSync,
  };
  let reads = 0;
  const mine = (p: string | URL) => String(p) === path;
  Deno.readFile = async (p, o) => {
    const b = await saved.readFile(p, o);
    if (mine(p) && ++reads === 1) await Deno.writeFile(path, swap);
    return b;
  };
  Deno.readFileSync = (p) => (mine(p) && reads++, saved.readFileSync(p));
  Deno.open = (p, o) => (mine(p) && reads++, saved.open(p, o));
  Deno.openSync = (p, o) => (mine(p) && reads++, saved.openSync(p, o));
  try {
    return { weights: await readPretrained(path), reads };
  } finally {
    Object.assign(Deno, saved);
  }
}

Deno.test("--weights decodes the bytes it hashed: the file swapped after its one read changes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spec = { name: "simple", options: { imageSize: 16 } };
    const make = async (kind: string, path: string, scale: number) => {
      using model = models.create(spec.name, spec.options).to(testDevice);
      const scaled = new Map(
        [...model.stateDict()].map((
          [k, t],
        ) => [k, t.dtype === "float32" ? t.mul(scale) : t.clone()]),
      );
      try {
        if (kind === "pth") await io.savePth(path, scaled);
        else if (kind === "safetensors") await io.saveSafetensors(path, scaled);
        else if (kind === "tree") await io.save(path, { model: scaled, epoch: scale });
        else {
          model.loadStateDict(scaled);
          const opt = new optim.Adam(model.parameters());
          await train.saveCheckpoint(path, model, opt, {
            model: spec,
            epoch: scale,
            step: 0,
            scheduler: null,
            rng: { seed: "0", counter: "0" },
            loader: { epoch: 0, seed: 0 },
            config: train.DEFAULTS,
            trainer: {
              history: [],
              bestValLoss: Infinity,
              bestEpoch: 0,
              badValidations: 0,
              seconds: 0,
            },
          });
        }
      } finally {
        scaled.forEach((t) => t.dispose());
      }
    };
    /** What the file holds, read the ordinary way. */
    const expected = async (kind: string, path: string) => {
      if (kind === "pth") return await io.loadPth(path);
      if (kind === "tree") return await io.load(path);
      if (kind === "safetensors") return await io.loadSafetensors(path);
      return (await train.loadWeights(path)).state;
    };
    for (const kind of ["pth", "safetensors", "tree", "checkpoint"]) {
      const path = join(dir, kind === "pth" ? "w.pth" : "w.safetensors");
      const other = join(dir, kind === "pth" ? "other.pth" : "other.safetensors");
      await make(kind, path, 1);
      await make(kind, other, 3);
      const original = await Deno.readFile(path);
      const want = await expected(kind, path);
      const { weights, reads } = await readWithSwap(path, await Deno.readFile(other));
      try {
        assert.equal(reads, 1, `${kind}: ${reads} reads`);
        assert.equal(weights.sha256, await sha256(original), kind);
        assert.deepEqual(plain(weights.content), plain(want), kind);
        // The swap did happen: the file now holds the other weights.
        assert.notDeepEqual(await Deno.readFile(path), original);
      } finally {
        weights[Symbol.dispose]();
        disposeAll(want);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
