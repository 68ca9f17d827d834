/**
 * Reading PyTorch's own checkpoint files (`.pth`, `.pt`): what
 * `torch.load(path, weights_only=True)` gives, with library tensors, and no
 * Python.
 *
 * Two containers: the zip format of torch >= 1.6 (`<dir>/data.pkl`, the
 * storages as `<dir>/data/<key>`) and the legacy one (torch < 1.6, or
 * `_use_new_zipfile_serialization=False`: a magic-number pickle, a protocol
 * pickle, a system-info pickle, the object's pickle, the list of storage
 * keys, then each storage as an 8-byte count and its raw little-endian
 * bytes). The object pickle is read by the restricted unpickler of
 * pickle_read.ts. Tensors honour storage offsets, sizes and strides (a view
 * is copied out; two tensors over one storage both come out right); their
 * elements are decoded by safetensors.ts's rules: float64/32/16 and bfloat16
 * become float32, int64/32/16/8, uint8 and bool become int32, and a value
 * that does not fit is an error.
 *
 * Python values map to `Saved`: None to null, bool, int and float to
 * boolean and number (an int beyond 2^53 is an error), str to string, list
 * and tuple to arrays, an OrderedDict (what `state_dict()` gives) to a Map,
 * and a dict to a plain object when all its keys are strings a JS object
 * keeps in order (not integer-like), else to a Map with number and string
 * keys.
 *
 * @module
 */
import type { DeviceName } from "../tensor/device.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { checkArity, checkOptions } from "../options.ts";
import { ELEMENT_SIZE } from "./safetensors.ts";
import type { Saved } from "./save_load.ts";
import { FileError, unpickle, type UnpickleContext } from "./pickle_read.ts";
import {
  PyDict,
  PyGlobal,
  PyList,
  PyTuple,
  pyTypeName,
  type PyValue,
  TensorRef,
} from "./pickle_values.ts";
import { materialize, Storage, TensorBudget } from "./pth_tensor.ts";
import { Latin1Bytes, NumpyDtype } from "./pickle_numpy.ts";
import { readZipArchive, type ZipArchive } from "./zip_read.ts";
import { bufferSource, type ByteSource, openSource } from "./byte_source.ts";

/** Options of `loadPth` and `decodePth`. */
export interface LoadPthOptions {
  /** Where the tensors are created (default cpu), as torch.load's map_location. */
  device?: DeviceName;
}
const LOAD_KEYS: (keyof LoadPthOptions)[] = ["device"];

/** The legacy format's magic number 0x1950a86a20f9469cfc6c, as its LONG1 opcode writes it. */
const MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const PROTOCOL_VERSION = 1001;
/** Storage class (torch.FloatStorage, torch.cuda.FloatStorage) to safetensors.ts's dtype. */
const STORAGE_DTYPES: Record<string, string> = {
  Double: "F64",
  Float: "F32",
  Half: "F16",
  BFloat16: "BF16",
  Long: "I64",
  Int: "I32",
  Short: "I16",
  Char: "I8",
  Byte: "U8",
  Bool: "BOOL",
};

const startsWith = (bytes: Uint8Array, at: number, prefix: number[]) =>
  prefix.every((b, i) => bytes[at + i] === b);

/** Whether the bytes open with the legacy format's magic number (after PROTO and FRAME). */
function isLegacy(bytes: Uint8Array): boolean {
  let at = 0;
  if (bytes[at] === 0x80) at += 2; // PROTO n
  if (bytes[at] === 0x95) at += 9; // FRAME n
  return startsWith(bytes, at, MAGIC);
}

/**
 * Whether `bytes` are a PyTorch checkpoint (zip or legacy format), by their
 * content: what `io.load` asks before it reads safetensors.
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * using w = tensor([1, 2]);
 * console.log(io.isPth(io.encodePth({ w })), io.isPth(io.encodeSafetensors({ w }))); // true false
 * ```
 */
export function isPth(bytes: Uint8Array): boolean {
  return startsWith(bytes, 0, [0x50, 0x4b, 0x03, 0x04]) || isLegacy(bytes);
}

/** The safetensors dtype of a storage class, or an error saying why it is not read. */
function storageDtype(cls: unknown): string {
  if (!(cls instanceof PyGlobal)) {
    throw new Error(`a storage's type is a ${pyTypeName(cls as PyValue)}, not a storage class`);
  }
  if (cls.name === "torch.storage.UntypedStorage") return "U8";
  const kind = /^torch(?:\.cuda)?\.(\w+)Storage$/.exec(cls.name)?.[1] ?? "";
  if (Object.hasOwn(STORAGE_DTYPES, kind)) return STORAGE_DTYPES[kind];
  if (kind.startsWith("Complex")) {
    throw new Error(
      `it holds a complex tensor (${cls.name}), which this library does not read; save ` +
        "t.real and t.imag (or torch.view_as_real(t)) in PyTorch",
    );
  }
  if (kind.startsWith("Q")) {
    throw new Error(
      `it holds a quantized tensor (${cls.name}), which this library does not read; save ` +
        "t.dequantize() in PyTorch",
    );
  }
  throw new Error(`it holds a storage of type ${cls.name}, which this library does not read`);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The fields of a persistent id ('storage', type, key, location, numel, ...), checked. */
function storageId(pid: PyTuple, fields: number): { dtype: string; key: string; numel: number } {
  const [, cls, key, , numel] = pid.items;
  if (pid.items.length !== fields) {
    throw new Error(`a storage id has ${pid.items.length} fields, expected ${fields}`);
  }
  if (typeof key !== "string") throw new Error("a storage key is not a string");
  if (!isCount(numel)) throw new Error(`storage '${key}' has no element count`);
  return { dtype: storageDtype(cls), key, numel };
}

/** What a container gives: the object's Python value, and its storages' bytes all told. */
interface Read {
  value: PyValue;
  storageBytes: number;
}

/**
 * The element count of a storage `persistentLoad` made, or null for anything
 * else; called once per tensor the pickle builds, so it counts each root's
 * tensors (a root alone under one tensor is read straight into it).
 */
const numelOf = (s: unknown) => {
  if (!(s instanceof Storage)) return null;
  (s.root ?? s).uses++;
  return s.numel;
};

/**
 * The zip format: `<dir>/data.pkl` over `<dir>/data/<key>` records. Only the
 * records torch reads are read: data.pkl and byteorder now, and the storages
 * the pickle names placed (their sizes checked against the file), to be read
 * when their tensors are made.
 */
function readZip(source: ByteSource, fail: (m: string) => FileError): Read {
  let zip: ZipArchive;
  try {
    zip = readZipArchive(source);
  } catch (e) {
    throw fail(`not a readable zip archive (${(e as Error).message})`);
  }
  const record = <T>(name: string, get: (name: string) => T): T => {
    try {
      return get(name);
    } catch (e) {
      throw fail((e as Error).message);
    }
  };
  const names = zip.names;
  const pickles = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (names.some((n) => /^[^/]+\/constants\.pkl$/.test(n))) {
    throw fail(
      "a TorchScript archive (torch.jit.save); load it in PyTorch with torch.jit.load and " +
        "save its state_dict() with torch.save",
    );
  }
  if (pickles.length !== 1) {
    throw fail(
      pickles.length === 0
        ? "a zip archive without <dir>/data.pkl, so not a torch.save checkpoint"
        : `a zip archive with ${pickles.length} data.pkl records (${pickles.join(", ")})`,
    );
  }
  const dir = pickles[0].slice(0, -"/data.pkl".length);
  const order = record(`${dir}/byteorder`, zip.read);
  if (order && new TextDecoder().decode(order).trim() !== "little") {
    throw fail("written on a big-endian machine; load and save it again in PyTorch on this one");
  }
  const storages = new Map<string, Storage>();
  let storageBytes = 0;
  const persistentLoad = (pid: PyValue): Storage => {
    const { dtype, key, numel } = storageId(pid as PyTuple, 5);
    let s = storages.get(key);
    if (s === undefined) {
      const name = `${dir}/data/${key}`;
      const data = record(name, zip.find);
      if (data === undefined) throw fail(`storage '${key}' has no record ${name} in the archive`);
      const size = numel * ELEMENT_SIZE[dtype];
      if (data.size !== size) {
        throw fail(
          `record ${name} has ${data.size} bytes; storage '${key}' of ${numel} ${dtype} ` +
            `elements needs ${size} (a damaged file)`,
        );
      }
      s = new Storage(key, dtype, numel);
      s.place(source, data.offset);
      storages.set(key, s);
      storageBytes += size;
    }
    return s;
  };
  const pkl = record(pickles[0], zip.read)!;
  const { value, end } = unpickle(pkl, 0, { persistentLoad, numelOf, fail });
  if (end !== pkl.length) throw fail(`${pkl.length - end} bytes after the pickle in data.pkl`);
  return { value, storageBytes };
}

/** The first bytes read of a legacy file for its pickles (more when they do not fit). */
const LEGACY_HEAD_BYTES = 1 << 20;

/** A legacy file's pickles: the object, its storages by key, and where the storage list starts. */
interface LegacyPickles {
  value: PyValue;
  roots: Map<string, Storage>;
  keys: string[];
  at: number;
}

/** The five pickles of a legacy file, from `bytes`, its first bytes. */
function legacyPickles(bytes: Uint8Array, fail: (m: string) => FileError): LegacyPickles {
  const roots = new Map<string, Storage>();
  const views = new Map<string, Storage>();
  const persistentLoad = (pid: PyValue): Storage => {
    const view = (pid as PyTuple).items[5];
    const { dtype, key, numel } = storageId(pid as PyTuple, 6);
    let root = roots.get(key);
    if (root === undefined) roots.set(key, root = new Storage(key, dtype, numel));
    if (view === null) return root;
    const [viewKey, offset, size] = view instanceof PyTuple ? view.items : [];
    if (typeof viewKey !== "string" || !isCount(offset) || !isCount(size)) {
      throw new Error("a storage view is not (key, offset, size)");
    }
    if (offset + size > root.numel) {
      throw fail(
        `storage view '${viewKey}' [${offset}, ${offset + size}) lies past the end of ` +
          `storage '${key}' (${root.numel} elements)`,
      );
    }
    let s = views.get(viewKey);
    if (s === undefined) views.set(viewKey, s = new Storage(viewKey, dtype, size, root, offset));
    return s;
  };
  const plain: UnpickleContext = {
    persistentLoad: () => {
      throw new Error("a persistent id outside the object's pickle");
    },
    numelOf,
    fail,
  };
  let at = 0;
  const next = (context = plain) => {
    const r = unpickle(bytes, at, context);
    at = r.end;
    return r.value;
  };
  next(); // the magic number, checked by isPth
  const protocol = next();
  if (protocol !== PROTOCOL_VERSION) {
    throw fail(
      `legacy protocol version ${String(protocol)}, this reader knows ${PROTOCOL_VERSION}`,
    );
  }
  const info = next();
  const little = info instanceof PyDict
    ? info.values[info.keys.indexOf("little_endian")]
    : undefined;
  if (little === false) {
    throw fail("written on a big-endian machine; load and save it again in PyTorch on this one");
  }
  const value = next({ persistentLoad, numelOf, fail });
  const keys = next();
  if (!(keys instanceof PyList) || !keys.items.every((k) => typeof k === "string")) {
    throw fail("the list of storage keys after the object is not a list of strings");
  }
  return { value, roots, keys: keys.items as string[], at };
}

/**
 * The legacy format: five pickles, then each storage's element count and
 * bytes (placed, their sizes checked against the file, to be read when
 * their tensors are made). How far the pickles reach is known only by
 * reading them: from a file they are read from its first MB, and again
 * from more of it when they do not fit (or fail: the error is then the
 * whole file's, as from its bytes).
 */
function readLegacy(source: ByteSource, fail: (m: string) => FileError): Read {
  let pickles: LegacyPickles;
  for (let length = source.reads ? LEGACY_HEAD_BYTES : source.size;; length *= 8) {
    const whole = length >= source.size;
    try {
      pickles = legacyPickles(source.bytes(0, Math.min(length, source.size)), fail);
      break;
    } catch (e) {
      if (whole) throw e;
    }
  }
  const { value, roots, keys } = pickles;
  let at = pickles.at;
  for (const key of keys) {
    const s = roots.get(key);
    if (s === undefined) throw fail(`storage '${key}' is listed but no tensor uses it`);
    if (source.size - at < 8) throw fail(`truncated: storage '${key}' has no element count`);
    const count = new DataView(source.bytes(at, 8).slice().buffer).getBigInt64(0, true);
    if (count !== BigInt(s.numel)) {
      throw fail(`storage '${key}' holds ${count} elements, its tensors say ${s.numel}`);
    }
    const size = s.byteLength;
    if (source.size - at - 8 < size) {
      throw fail(
        `truncated: storage '${key}' needs ${size} bytes, the file has ${
          source.size - at - 8
        } left`,
      );
    }
    s.place(source, at + 8);
    at += 8 + size;
  }
  let storageBytes = 0;
  for (const s of roots.values()) {
    if (s.source === null) throw fail(`storage '${s.key}' has no data in the file`);
    storageBytes += s.byteLength;
  }
  return { value, storageBytes };
}

/** Whether a JS object keeps `key` where it was inserted (an array index moves first). */
function keepsOrder(key: string): boolean {
  return key !== "__proto__" && !(/^(0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1);
}

/**
 * How many values a walk of the loaded object may visit, beyond the values
 * it holds: EXPANSION_FACTOR times them plus EXPANSION_SLACK. A container
 * the pickle refers to from many places (its memo) comes out shared, and
 * shares of shares multiply: ten lists of ten references each, 30 deep, are
 * 10^30 paths in a 1 KB file, which torch.load shares but every walk
 * (disposing the tensors, io.save, a search for the state dict) would
 * follow for ever.
 */
const EXPANSION_FACTOR = 16;
const EXPANSION_SLACK = 2 ** 20;

/** Python values to `Saved`, creating the tensors (disposed again if anything fails). */
function toSaved(
  read: Read,
  device: DeviceName | undefined,
  fail: (m: string) => FileError,
): Saved {
  const root = read.value;
  const done = new Map<object, Saved>();
  // Per container: the values a walk from it visits (shared ones once per path).
  const walked = new Map<object, number>();
  let distinct = 0;
  const open = new Set<object>();
  const created: Tensor[] = [];
  const budget = new TensorBudget(read.storageBytes);
  const convert = (v: PyValue, path: string[]): Saved => {
    const where = () => (path.length ? `'${path.join("/")}'` : "the loaded object");
    if (v === null || typeof v === "boolean" || typeof v === "string") return v;
    if (typeof v === "number") return v;
    if (typeof v === "bigint") {
      throw fail(`${where()} is the integer ${v}, beyond what a JS number holds exactly (2^53)`);
    }
    const seen = done.get(v);
    if (seen !== undefined) return seen;
    if (open.has(v)) throw fail(`${where()} contains itself`);
    open.add(v);
    let out: Saved;
    if (v instanceof TensorRef) {
      out = materialize(v, path.join("/") || "tensor", device, budget, fail);
      created.push(out);
    } else if (v instanceof PyList || v instanceof PyTuple) {
      out = v.items.map((x, i) => convert(x, [...path, String(i)]));
    } else if (v instanceof PyDict) {
      const keys = v.keys.map((k) => {
        if (typeof k === "string" || typeof k === "number") return k;
        throw fail(
          `${where()} is a dict with a key of type ${
            pyTypeName(k)
          }; keys must be str, int or float`,
        );
      });
      const child = (i: number) => convert(v.values[i], [...path, String(keys[i])]);
      if (!v.ordered && keys.every((k) => typeof k === "string" && keepsOrder(k))) {
        const o: Record<string, Saved> = {};
        keys.forEach((k, i) => o[k] = child(i));
        out = o;
      } else {
        out = new Map(keys.map((k, i) => [k, child(i)]));
      }
    } else {
      if (v instanceof Latin1Bytes) {
        throw fail(
          `${where()} is a Python bytes object, which torch.load(weights_only=True) refuses; ` +
            "save a string or a tensor instead",
        );
      }
      const what = v instanceof PyGlobal
        ? `${v.name} (not data)`
        : v instanceof NumpyDtype
        ? `numpy.dtype('${v.code}')`
        : `a ${pyTypeName(v)}`;
      throw fail(`${where()} is ${what}, which this library does not load`);
    }
    open.delete(v);
    done.set(v, out);
    const items = v instanceof PyDict ? v.values : v instanceof TensorRef ? [] : v.items;
    distinct += 1 + items.length;
    walked.set(v, items.reduce((a: number, x) => a + (walked.get(x as object) ?? 1), 1));
    return out;
  };
  try {
    const out = convert(root, []);
    const paths = walked.get(root as object) ?? 1;
    if (paths > EXPANSION_FACTOR * distinct + EXPANSION_SLACK) {
      throw fail(
        `it holds ${distinct} values but refers to its lists, tuples and dicts from so many ` +
          `places that a walk through it visits ${paths.toPrecision(3)} (a "billion laughs" ` +
          "file); torch.load shares them, but disposing the tensors, io.save or any code that " +
          "walks a checkpoint would not end: load it in PyTorch and save what you need",
      );
    }
    return out;
  } catch (e) {
    for (const t of created) t.dispose();
    if (e instanceof RangeError && /call stack/.test(e.message)) {
      throw fail(`nested too deeply to load (${e.message})`);
    }
    throw e;
  }
}

/**
 * What `torch.load(bytes, weights_only=True)` gives, from the bytes of a
 * `.pth` / `.pt` file (zip or legacy format), with the tensors on
 * `options.device`. `source` names the bytes in errors.
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * using w = tensor([1, 2, 3]);
 * const bytes = io.encodePth({ w, epoch: 3 });
 * const back = io.decodePth(bytes, "ckpt.pth") as { w: typeof w; epoch: number };
 * console.log(back.w.toArray(), back.epoch); // Float32Array [1, 2, 3] 3
 * back.w.dispose();
 * ```
 */
export function decodePth(
  bytes: Uint8Array,
  source = "<bytes>",
  options: LoadPthOptions = {},
): Saved {
  const usage = 'io.decodePth(bytes, "model.pth", { device: "cuda" })';
  checkArity("io.decodePth", arguments.length, 3, usage);
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(`io.decodePth: the first argument is the file's bytes; write ${usage}`);
  }
  if (typeof source !== "string") {
    throw new Error(`io.decodePth: the second argument is the source name; write ${usage}`);
  }
  options = checkLoadOptions("io.decodePth", options, usage);
  return readPth(bufferSource(bytes), source, options);
}

/** The first bytes of a file that say which format it is (the tar magic lies at 257). */
export const HEAD_BYTES = 512;

/**
 * @internal What `torch.load` gives from the bytes of `source` (a file's,
 * read by position, or a buffer's), named `name` in errors: `io.decodePth`,
 * `io.loadPth` and `io.load` read through it, with options already checked.
 */
export function readPth(source: ByteSource, name: string, options: LoadPthOptions): Saved {
  const fail = (msg: string) => new FileError(`pth ${name}: ${msg}`);
  try {
    let read: Read;
    const head = source.bytes(0, Math.min(source.size, HEAD_BYTES));
    if (startsWith(head, 0, [0x50, 0x4b])) {
      read = readZip(source, fail);
    } else if (isLegacy(head)) {
      read = readLegacy(source, fail);
    } else if (startsWith(head, 257, [0x75, 0x73, 0x74, 0x61, 0x72])) {
      throw fail(
        "a tar-format checkpoint of PyTorch < 0.4, which this library does not read; load it " +
          "in PyTorch and save it again with torch.save",
      );
    } else {
      throw fail("not a PyTorch checkpoint (neither the zip nor the legacy torch.save format)");
    }
    return toSaved(read, options.device, fail);
  } catch (e) {
    if (e instanceof FileError) throw e;
    // Not foreseen here: still an error about this file, whatever it says.
    throw new FileError(`pth ${name}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

/**
 * The options of a torch.load-like call, checked: torch's own names
 * (`map_location`, `weights_only`) get what to write instead, and anything
 * else unknown the usual error. Shared by io.loadPth, io.decodePth and
 * io.load.
 */
export function checkLoadOptions(where: string, options: unknown, usage: string): LoadPthOptions {
  if (options !== null && typeof options === "object") {
    for (const key of Object.keys(options)) {
      if (key === "map_location" || key === "mapLocation") {
        throw new Error(
          `${where}: torch's map_location is { device } here (where the tensors are made); ` +
            `write ${usage}`,
        );
      }
      if (key === "weights_only" || key === "weightsOnly") {
        throw new Error(
          `${where}: loading is always weights-only here (torch 1.13's allow-list of ` +
            "weights_only=True: tensors, numbers, strings, lists, tuples and dicts; nothing " +
            `is executed), so leave ${key} out; write ${usage}`,
        );
      }
    }
  }
  return checkOptions<LoadPthOptions>(where, options, LOAD_KEYS, usage);
}

/**
 * Reads a PyTorch checkpoint file (`.pth` / `.pt`, zip or legacy format):
 * the object `torch.load(path, weights_only=True)` gives, with library
 * tensors. A torchvision weights file or `torch.save(model.state_dict())`
 * gives a Map of tensors by name for `model.loadStateDict`. A pickled
 * nn.Module, a numpy value or any other class is refused by name (save
 * `model.state_dict()` in PyTorch, or convert with scripts/export_pth.py);
 * nothing in the file is ever executed. The file is read by position, as
 * torch.load reads it: the zip directory (or the legacy pickles) first,
 * then each storage, its size checked against the file's first, straight
 * into its tensor's memory (once, however many tensors view it).
 *
 * @example
 * ```ts
 * import { io, nn } from "@lits/vision";
 * const model = new nn.Linear(4, 2);
 * const path = await Deno.makeTempFile({ suffix: ".pth" });
 * await io.savePth(path, model.stateDict()); // torch.load(path) reads it too
 * const sd = await io.loadPth(path) as Map<string, import("@lits/vision").Tensor>;
 * console.log([...sd.keys()]); // ["weight", "bias"]
 * model.loadStateDict(sd);
 * await Deno.remove(path);
 * ```
 */
export async function loadPth(path: string, options: LoadPthOptions = {}): Promise<Saved> {
  const usage = 'io.loadPth(path, { device: "cuda" })';
  checkArity("io.loadPth", arguments.length, 2, usage);
  options = checkLoadOptions("io.loadPth", options, usage);
  if (typeof path !== "string") {
    throw new Error(`io.loadPth: the first argument is the path; write ${usage}`);
  }
  let source: ByteSource & Disposable;
  try {
    source = await openSource(path);
  } catch (e) {
    throw new Error(`pth ${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  using _ = source;
  return readPth(source, path, options);
}
