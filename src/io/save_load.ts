/**
 * `io.save` and `io.load`: torch.save / torch.load of the dicts a training
 * loop keeps, `{ model: model.stateDict(), optimizer: opt.stateDict(),
 * scheduler: sched.stateDict(), epoch }`, in one safetensors file.
 *
 * The tensors are stored by their path ("model/conv1.weight",
 * "optimizer/state/0/tensors/exp_avg"), so PyTorch's safetensors reader
 * sees them under readable names; everything else (the nesting, Maps with
 * their key types, numbers including NaN and the infinities, strings,
 * booleans, null) goes as one JSON tree in the file's metadata. A tensor
 * that appears twice is stored once and comes back as one tensor. Anything
 * else (a Module, a function, a cycle) is refused by its path, before a
 * byte is written.
 *
 * A path ending in `.pth`, `.pt`, `.tar` (torch's tutorials' checkpoint
 * name), `.ckpt` or `.bin` is written in PyTorch's own format instead
 * (`io.savePth`: `torch.load` opens it), and `io.load` reads a PyTorch
 * checkpoint, recognised by its content, as `io.loadPth`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { checkArity } from "../options.ts";
import {
  type LoadSafetensorsOptions,
  readSafetensors,
  safetensorsMetadata,
  saveSafetensors,
} from "./safetensors.ts";
import { checkLoadOptions, HEAD_BYTES, isPth, readPth } from "./pth_read.ts";
import { bufferSource, type ByteSource, openSource } from "./byte_source.ts";
import { savePth } from "./pth_write.ts";
import { torchFormOf } from "./torch_form.ts";

/**
 * Names `io.save` writes in PyTorch's own format (torch.load reads them):
 * torch's `.pth` and `.pt`, the `.tar` its tutorials name checkpoints
 * (`.pth.tar` too), Lightning's `.ckpt` and Hugging Face's `.bin`.
 */
const PTH_NAME = /\.(pth|pt|tar|ckpt|bin)$/i;

/** What `io.save` stores and `io.load` gives back. */
export type Saved =
  | Tensor
  | number
  | string
  | boolean
  | null
  | Saved[]
  | Map<string | number, Saved>
  | { [key: string]: Saved };

/** The metadata key of the tree, and its format. */
const TREE_KEY = "lits.tree";
const FORMAT_KEY = "lits.save";
const FORMAT = "1";

/** One node of the stored tree: a tag and its content, so no user key is ever mistaken for one. */
export type Node =
  | { t: string }
  | { n: number | "NaN" | "Infinity" | "-Infinity" | "-0" }
  | { s: string }
  | { b: boolean }
  | { z: null }
  | { a: Node[] }
  | { m: [Node, Node][] }
  | { o: Record<string, Node> };

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A number as JSON keeps it: NaN, the infinities and -0 as text (JSON writes null and 0). */
function numberText(v: number): number | "NaN" | "Infinity" | "-Infinity" | "-0" {
  if (Object.is(v, -0)) return "-0";
  return Number.isFinite(v) ? v : (String(v) as "NaN");
}

/**
 * Walks `value`, naming its tensors by path; returns the tree. `who` names
 * the caller in errors (pth_write.ts walks with it too, with `torch` set:
 * a state dict that carries its PyTorch layout is written in that layout,
 * see torch_form.ts).
 */
export function encodeTree(
  value: unknown,
  path: string[],
  tensors: Map<string, Tensor>,
  names: Map<Tensor, string>,
  open: Set<object>,
  who = "io.save",
  torch = false,
): Node {
  if (torch) value = torchFormOf(value);
  const where = () => (path.length ? `'${path.join("/")}'` : "the saved object");
  if (value instanceof Tensor) {
    let name = names.get(value);
    if (name === undefined) {
      const base = path.join("/") || "tensor";
      name = base;
      // Paths can meet ("a/b" as a key and as a nesting): a free name, never an overwrite.
      for (let i = 2; tensors.has(name); i++) name = `${base}#${i}`;
      names.set(value, name);
      tensors.set(name, value);
    }
    return { t: name };
  }
  if (typeof value === "number") return { n: numberText(value) };
  if (typeof value === "string") return { s: value };
  if (typeof value === "boolean") return { b: value };
  if (value === null) return { z: null };
  // A Module is callable (a function object), and torch.save(model) is a habit: say what to save.
  if (
    typeof value === "function" &&
    typeof (value as { stateDict?: unknown }).stateDict === "function"
  ) {
    throw new Error(
      `${who}: ${where()} is a ${value.constructor?.name ?? "Module"}; save its state dict ` +
        "(model.stateDict()), not the module",
    );
  }
  if (typeof value !== "object") {
    throw new Error(
      `${who}: ${where()} is ${
        typeof value === "undefined" ? "undefined" : `a ${typeof value}`
      }; ` +
        "save tensors, numbers, strings, booleans, null, arrays, Maps and plain objects",
    );
  }
  if (open.has(value)) throw new Error(`${who}: ${where()} contains itself`);
  open.add(value);
  try {
    const child = (v: unknown, key: string | number) =>
      encodeTree(v, [...path, String(key)], tensors, names, open, who, torch);
    if (Array.isArray(value)) return { a: value.map(child) };
    if (value instanceof Map) {
      const entries: [Node, Node][] = [];
      for (const [k, v] of value) {
        if (typeof k !== "string" && typeof k !== "number") {
          throw new Error(
            `${who}: ${where()} is a Map with a ${typeof k} key; keys must be strings or numbers`,
          );
        }
        // Keys as nodes: 1 and "1" stay apart, and NaN, the infinities and -0 survive.
        entries.push([typeof k === "number" ? { n: numberText(k) } : { s: k }, child(v, k)]);
      }
      return { m: entries };
    }
    if (!isPlainObject(value)) {
      const kind = value.constructor?.name ?? "object";
      throw new Error(
        `${who}: ${where()} is a ${kind}; save its state dict (model.stateDict(), ` +
          "opt.stateDict(), sched.stateDict()), not the object",
      );
    }
    const fields: Record<string, Node> = {};
    // An undefined field is left out, as JSON leaves it (an optional field not set).
    for (const [k, v] of Object.entries(value)) if (v !== undefined) fields[k] = child(v, k);
    return { o: fields };
  } finally {
    open.delete(value);
  }
}

/**
 * Saves `obj` (tensors, state dicts, numbers, strings, booleans, null, in
 * arrays, Maps and plain objects, nested) to one safetensors file, as
 * `torch.save(obj, path)` does for a training loop's checkpoint. The file
 * is written whole or not at all. A path ending in `.pth`, `.pt`, `.tar`
 * (the name torch's tutorials give checkpoints), `.ckpt` or `.bin` gets
 * PyTorch's own format instead, as `io.savePth` writes it, so that
 * `torch.load(path)` opens it.
 *
 * @example
 * ```ts
 * import { io, nn, optim, randn } from "@lits/vision";
 * const model = new nn.Linear(4, 2);
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 * model.forward(randn([3, 4])).sum().backward();
 * opt.step();
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await io.save(path, { model: model.stateDict(), optimizer: opt.stateDict(), epoch: 3 });
 * const ckpt = await io.load(path) as { epoch: number };
 * console.log(ckpt.epoch); // 3
 * await Deno.remove(path);
 * ```
 */
export async function save(path: string, obj: unknown): Promise<void> {
  if (arguments.length !== 2) {
    throw new Error(`io.save: takes (path, obj), got ${arguments.length} arguments`);
  }
  if (typeof path !== "string") {
    throw new Error(`io.save: the first argument is the path; write io.save(path, obj)`);
  }
  if (PTH_NAME.test(path)) return await savePth(path, obj);
  const tensors = new Map<string, Tensor>();
  const tree = encodeTree(obj, [], tensors, new Map(), new Set());
  await saveSafetensors(path, tensors, {
    metadata: { [FORMAT_KEY]: FORMAT, [TREE_KEY]: JSON.stringify(tree) },
  });
}

function decodeTree(node: Node, tensors: Map<string, Tensor>, used: Set<string>): Saved {
  if ("t" in node) {
    const t = tensors.get(node.t);
    if (t === undefined) throw new Error(`its tree names a tensor '${node.t}' the file lacks`);
    used.add(node.t);
    return t;
  }
  if ("n" in node) return typeof node.n === "number" ? node.n : Number(node.n);
  if ("s" in node) return node.s;
  if ("b" in node) return node.b;
  if ("z" in node) return null;
  const child = (n: Node) => decodeTree(n, tensors, used);
  if ("a" in node) return node.a.map(child);
  if ("m" in node) {
    return new Map(
      node.m.map(([k, v]) => [decodeTree(k, tensors, used) as string | number, child(v)]),
    );
  }
  if ("o" in node) {
    const out: Record<string, Saved> = {};
    for (const [k, v] of Object.entries(node.o)) out[k] = child(v);
    return out;
  }
  throw new Error(`its tree has a node of no known kind: ${JSON.stringify(node).slice(0, 80)}`);
}

/**
 * Reads what `io.save` wrote, as `torch.load(path)`: the same nesting, Maps,
 * numbers and strings, with the tensors on `device` (default cpu). A
 * safetensors file from elsewhere (PyTorch's `save_file`, `saveSafetensors`)
 * gives its tensors as a Map by name. A PyTorch checkpoint (`.pth` / `.pt`
 * from torch.save, recognised by its content) is read as `io.loadPth`
 * reads it. The type parameter says what the file
 * holds, as torch.load's caller knows (`io.load<{ model: Map<string,
 * Tensor>; epoch: number }>(path)`): it is not checked, as torch's is not.
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await io.save(path, { steps: [1, 2], best: { loss: 0.25, w: tensor([1, 2]) } });
 * const back = await io.load(path) as { best: { loss: number } };
 * console.log(back.best.loss); // 0.25
 * await Deno.remove(path);
 * ```
 */
export async function load<T = Saved>(
  path: string,
  options: LoadSafetensorsOptions = {},
): Promise<T> {
  const usage = 'io.load(path, { device: "cuda" })';
  checkArity("io.load", arguments.length, 2, usage);
  options = checkLoadOptions("io.load", options, usage);
  let source: ByteSource & Disposable;
  try {
    source = await openSource(path);
  } catch (e) {
    throw new Error(`io.load ${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  using _ = source;
  return readSaved(source, path, options) as T;
}

/**
 * @internal What `io.load(path, options)` gives, from the file's bytes read
 * already: `--weights` (src/train/weights.ts) decodes the bytes it hashed,
 * never the path a second time.
 */
export function decodeSaved(
  bytes: Uint8Array,
  path: string,
  options: LoadSafetensorsOptions = {},
): Saved {
  const usage = 'io.load(path, { device: "cuda" })';
  return readSaved(bufferSource(bytes), path, checkLoadOptions("io.load", options, usage));
}

/** The bytes of a safetensors header (or all there are, when it claims more), for its metadata. */
function headerBytes(source: ByteSource, head: Uint8Array): Uint8Array {
  if (head.length < 8) return head;
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  return n <= BigInt(source.size - 8) ? source.bytes(0, 8 + Number(n)) : head;
}

/** `io.load`'s reading of `source` (a file's bytes, or a buffer's), named `path` in errors. */
function readSaved(source: ByteSource, path: string, options: LoadSafetensorsOptions): Saved {
  const head = source.bytes(0, Math.min(source.size, HEAD_BYTES));
  if (isPth(head)) return readPth(source, path, options);
  const meta = safetensorsMetadata(headerBytes(source, head), path);
  const tensors = readSafetensors(source, path, options);
  if (meta[TREE_KEY] === undefined) return tensors;
  try {
    if (meta[FORMAT_KEY] !== FORMAT) {
      throw new Error(`it is format ${meta[FORMAT_KEY]}, this library reads ${FORMAT}`);
    }
    let tree: Node;
    try {
      tree = JSON.parse(meta[TREE_KEY]);
    } catch (e) {
      throw new Error(`its tree is not JSON: ${(e as Error).message}`);
    }
    const used = new Set<string>();
    const out = decodeTree(tree, tensors, used);
    for (const [name, t] of tensors) if (!used.has(name)) t.dispose();
    return out;
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw new Error(`io.load ${path}: ${(e as Error).message}`);
  }
}
