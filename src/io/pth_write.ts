/**
 * Writing PyTorch's checkpoint format (`.pth` / `.pt`, the zip format of
 * torch >= 1.6) without Python: `torch.load(path)` reads what `savePth`
 * writes, and with `weights_only=True` too where the object holds no float
 * (torch 1.13's weights-only reader knows no float opcode; torch 2's does).
 *
 * The archive holds `archive/data.pkl` (a protocol-2 pickle, as torch.save
 * writes it), one record `archive/data/<key>` per tensor (its elements,
 * little-endian, starting at a multiple of 64 bytes as torch aligns them),
 * `archive/version` and `archive/byteorder`. Plain objects become dicts,
 * Maps OrderedDicts (what `state_dict()` gives; `loadPth` turns them back
 * into Maps), arrays lists, integral numbers ints and other numbers floats,
 * null None. float32 tensors are stored as torch.float32, int32 ones as
 * torch.int64 (PyTorch's integer type) or, with `intType: "I32"`, as
 * torch.int32. A tensor that appears twice is stored once and comes back as
 * one tensor, in PyTorch too.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned, as the project's other npm imports; no import map
import { type Zippable, zipSync } from "npm:fflate@0.8.3";
import type { Tensor } from "../tensor/tensor.ts";
import { checkCall } from "../options.ts";
import { elementBytes } from "./safetensors.ts";
import { encodeTree, type Node } from "./save_load.ts";
import { Pickler } from "./pickle_write.ts";
import { writeReplacing } from "./write_file.ts";

/** Options of `savePth` and `encodePth`. */
export interface SavePthOptions {
  /** How int32 tensors are stored: "I64" (default, torch.int64) or "I32" (torch.int32). */
  intType?: "I64" | "I32";
}
const SAVE_KEYS: (keyof SavePthOptions)[] = ["intType"];

/** The archive's folder, as torch.save names it for a file object. */
const DIR = "archive";
/** torch's alignment of record data, and its padding extra field ("FB", 'Z' bytes). */
const ALIGN = 64;
const PAD_FIELD = 0x4246;
/** A fixed time stamp (local 1980-01-01): the same object gives the same bytes. */
const MTIME = new Date(1980, 0, 1);
/** The zip format without zip64 counts sizes and offsets in 32 bits. */
const MAX_ZIP_BYTES = 2 ** 32 - 1;

/** Whether `s` holds a lone UTF-16 surrogate (which UTF-8 cannot carry). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A tensor's record: its storage key, shape and storage class. */
interface Stored {
  key: number;
  shape: number[];
  storage: string;
}

/** Pickles the tree; tensors by their storage key, each written once. */
function pickleTree(tree: Node, stored: Map<string, Stored>, who: string): Uint8Array {
  const p = new Pickler();
  const memo = new Map<string, number>();
  const str = (s: string, where: () => string) => {
    if (LONE_SURROGATE.test(s)) {
      throw new Error(`${who}: ${where()} holds a lone UTF-16 surrogate, which UTF-8 cannot store`);
    }
    p.str(s);
  };
  const number = (n: number | string) => {
    const v = Number(n); // "NaN", "Infinity", "-Infinity", "-0" as io.save's tree writes them
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) p.int(v);
    else p.float(v);
  };
  const tuple = (items: number[]) => {
    if (items.length === 0) return p.tuple(true);
    p.mark();
    items.forEach((i) => p.int(i));
    p.tuple();
  };
  const walk = (node: Node, path: string[]): void => {
    const where = () => (path.length ? `'${path.join("/")}'` : "the saved object");
    if ("t" in node) {
      const seen = memo.get(node.t);
      if (seen !== undefined) return p.get(seen);
      const { key, shape, storage } = stored.get(node.t)!;
      const numel = shape.reduce((a, d) => a * d, 1);
      p.global("torch._utils", "_rebuild_tensor_v2");
      p.mark();
      p.mark(); // the persistent id: ('storage', type, key, location, numel)
      p.str("storage");
      p.global("torch", storage);
      p.str(String(key));
      p.str("cpu");
      p.int(numel);
      p.tuple();
      p.persid();
      p.int(0);
      tuple(shape);
      tuple(shape.map((_, i) => shape.slice(i + 1).reduce((a, d) => a * d, 1)));
      p.bool(false);
      p.global("collections", "OrderedDict");
      p.tuple(true);
      p.reduce();
      p.tuple();
      p.reduce();
      memo.set(node.t, p.put());
      return;
    }
    if ("n" in node) return number(node.n);
    if ("s" in node) return str(node.s, where);
    if ("b" in node) return p.bool(node.b);
    if ("z" in node) return p.none();
    if ("a" in node) {
      p.emptyList();
      if (node.a.length === 0) return;
      p.mark();
      node.a.forEach((v, i) => walk(v, [...path, String(i)]));
      return p.appends();
    }
    const entries: [Node, Node][] = "m" in node
      ? node.m
      : Object.entries(node.o).map(([k, v]) => [{ s: k }, v]);
    if ("m" in node) {
      p.global("collections", "OrderedDict");
      p.tuple(true);
      p.reduce();
    } else {
      p.emptyDict();
    }
    if (entries.length === 0) return;
    p.mark();
    for (const [k, v] of entries) {
      walk(k, path);
      walk(v, [...path, "s" in k ? k.s : String("n" in k ? k.n : "")]);
    }
    p.setitems();
  };
  p.proto();
  walk(tree, []);
  return p.stop();
}

/** Bytes of `text`. */
const utf8 = (text: string) => new TextEncoder().encode(text);

/** A zip of `records` in order, stored, each record's data at a multiple of ALIGN bytes. */
function zipAligned(records: [string, Uint8Array][]): Uint8Array {
  const files: Zippable = {};
  let offset = 0;
  for (const [name, data] of records) {
    // fflate writes a local header of 30 bytes, the name, then the extra field (4 + pad).
    const base = offset + 30 + utf8(name).length + 4;
    const pad = (ALIGN - (base % ALIGN)) % ALIGN;
    files[name] = [data, {
      level: 0,
      mtime: MTIME,
      extra: { [PAD_FIELD]: new Uint8Array(pad).fill(0x5a) },
    }];
    offset = base + pad + data.length;
  }
  if (offset > MAX_ZIP_BYTES) {
    throw new Error(`io.savePth: ${offset} bytes of tensors, more than a zip without zip64 holds`);
  }
  return zipSync(files);
}

/** The walk, the checks and the bytes, shared by encodePth and savePth. */
function encode(obj: unknown, options: SavePthOptions, who: string): Uint8Array {
  const intType = options.intType ?? "I64";
  if (intType !== "I64" && intType !== "I32") {
    throw new Error(`${who}: intType must be "I64" or "I32", got ${JSON.stringify(intType)}`);
  }
  const tensors = new Map<string, Tensor>();
  // torch: state dicts go in PyTorch's layout (torch_form.ts), as torch.load's readers expect.
  const tree = encodeTree(obj, [], tensors, new Map(), new Set(), who, true);
  const stored = new Map<string, Stored>();
  const data: [string, Uint8Array][] = [];
  for (const [name, t] of tensors) {
    if (!t.isAlive) throw new Error(`${who}: tensor '${name}' was disposed`);
    const dtype = t.dtype === "float32" ? "F32" : intType;
    const storage = { F32: "FloatStorage", I64: "LongStorage", I32: "IntStorage" }[dtype];
    stored.set(name, { key: stored.size, shape: [...t.shape], storage });
    data.push([`${DIR}/data/${stored.size - 1}`, elementBytes(t.toArray(), dtype)]);
  }
  const pkl = pickleTree(tree, stored, who);
  return zipAligned([
    [`${DIR}/data.pkl`, pkl],
    ...data,
    [`${DIR}/version`, utf8("3\n")],
    [`${DIR}/byteorder`, utf8("little")],
  ]);
}

/**
 * The bytes of a PyTorch checkpoint (zip format) holding `obj`: tensors,
 * numbers, strings, booleans and null in arrays, Maps and plain objects, as
 * `io.save` takes them (a pure function: `savePth` writes them to a file).
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * using steps = tensor(new Int32Array([3]), []);
 * const bytes = io.encodePth({ steps }, { intType: "I32" }); // torch.int32, not torch.int64
 * console.log(bytes[0] === 0x50 && bytes[1] === 0x4b); // true (a zip archive)
 * ```
 */
export function encodePth(obj: unknown, options: SavePthOptions = {}): Uint8Array {
  const usage = 'io.encodePth(obj, { intType: "I32" })';
  options = checkCall("io.encodePth", arguments.length, 2, options, SAVE_KEYS, usage);
  return encode(obj, options, "io.encodePth");
}

/**
 * Writes `obj` as `torch.save(obj, path)` does (the zip format), so that
 * PyTorch's `torch.load(path)` reads it: a state dict (`model.stateDict()`
 * comes back in PyTorch as an OrderedDict for `model.load_state_dict`), or a
 * checkpoint dict of them. A Module, a function or a cycle is refused by its
 * path before a byte is written; the file is replaced atomically (written to
 * `${path}.tmp-<pid>-<random>`, then renamed).
 *
 * @example
 * ```ts
 * import { io, nn } from "@lits/vision";
 * const model = new nn.Linear(4, 2);
 * const path = await Deno.makeTempFile({ suffix: ".pth" });
 * await io.savePth(path, { model: model.stateDict(), epoch: 3 });
 * const back = await io.loadPth(path) as { epoch: number };
 * console.log(back.epoch); // 3
 * await Deno.remove(path);
 * ```
 */
export async function savePth(
  path: string,
  obj: unknown,
  options: SavePthOptions = {},
): Promise<void> {
  const usage = 'io.savePth(path, obj, { intType: "I32" })';
  options = checkCall("io.savePth", arguments.length, 3, options, SAVE_KEYS, usage);
  if (typeof path !== "string") {
    throw new Error(`io.savePth: the first argument is the path; write ${usage}`);
  }
  if (arguments.length < 2) throw new Error(`io.savePth: nothing to save; write ${usage}`);
  const bytes = encode(obj, options, "io.savePth");
  await writeReplacing(path, bytes, "io.savePth");
}
