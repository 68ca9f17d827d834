/**
 * A restricted Python unpickler: the one of `torch.load(path,
 * weights_only=True)`. It builds Python values (None, bools, ints, floats,
 * strings, lists, tuples, dicts, OrderedDicts) and tensors, and calls
 * nothing: a global is looked up in torch 1.13's allow-list
 * (`torch/_weights_only_unpickler.py`: OrderedDict, Parameter, torch.Size,
 * the dtypes, storage and tensor classes and the `torch._utils._rebuild_*`
 * functions) and anything else (a pickled nn.Module, a numpy array, a user
 * class) is refused by name; numpy scalars (sklearn's scores a notebook saves
 * beside its weights) are decoded to numbers (`pickle_numpy.ts`). Tensors come back as `TensorRef`s: a storage
 * (whatever the container's `persistentLoad` made of its persistent id), an
 * offset, sizes and strides.
 *
 * The opcodes are the binary ones of protocols 1 to 5 that only build data.
 * That is a few more than torch 1.13's (BINFLOAT, SHORT_BINUNICODE, FRAME,
 * MEMOIZE, STACK_GLOBAL, LONG4, ...: torch 1.13 cannot read a float in a
 * checkpoint with weights_only, torch 2 can), and none that runs code.
 *
 * @module
 */
import { ALLOWED, call, refusal } from "./pickle_torch.ts";
import { buildDtype, isNumpyScalarGlobal, Latin1Bytes, NumpyDtype } from "./pickle_numpy.ts";
import {
  PyDict,
  PyGlobal,
  PyList,
  PySet,
  PyTuple,
  pyTypeName,
  type PyValue,
  TensorRef,
} from "./pickle_values.ts";

// ------------------------------------------------------------------ opcodes

/** Opcode names, for messages. */
const NAMES: Record<number, string> = {
  0x80: "PROTO",
  0x95: "FRAME",
  0x2e: "STOP",
  0x28: "MARK",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x4e: "NONE",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4d: "BININT2",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x47: "BINFLOAT",
  0x58: "BINUNICODE",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x55: "SHORT_BINSTRING",
  0x54: "BINSTRING",
  0x29: "EMPTY_TUPLE",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x74: "TUPLE",
  0x5d: "EMPTY_LIST",
  0x6c: "LIST",
  0x7d: "EMPTY_DICT",
  0x64: "DICT",
  0x8f: "EMPTY_SET",
  0x61: "APPEND",
  0x65: "APPENDS",
  0x73: "SETITEM",
  0x75: "SETITEMS",
  0x68: "BINGET",
  0x6a: "LONG_BINGET",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x94: "MEMOIZE",
  0x63: "GLOBAL",
  0x93: "STACK_GLOBAL",
  0x52: "REDUCE",
  0x81: "NEWOBJ",
  0x62: "BUILD",
  0x51: "BINPERSID",
};
/** Opcodes that build bytearrays, which torch's weights-only reader refuses. */
const BYTES_OPS = new Set([0x96]);

/** An error that already names the file: passed on as it is. */
export class FileError extends Error {}

/** How `unpickle` resolves a persistent id (the container's storages). */
export interface UnpickleContext {
  /** The storage a persistent id names (torch's `persistent_load`). */
  persistentLoad: (pid: PyValue) => unknown;
  /** The element count of a storage `persistentLoad` made; null for any other value. */
  numelOf: (storage: unknown) => number | null;
  /** A FileError naming the file, for `msg`. */
  fail: (msg: string) => FileError;
}

/**
 * Unpickles one pickle starting at `bytes[start]`; returns the value and the
 * offset after its STOP. Malformed input throws `context.fail`'s Error.
 */
export function unpickle(
  bytes: Uint8Array,
  start: number,
  context: UnpickleContext,
): { value: PyValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const memo = new Map<number, PyValue>();
  const marks: PyValue[][] = [];
  let stack: PyValue[] = [];
  let pos = start;
  let op = 0;
  let at = start;
  const { fail, numelOf } = context;
  const need = (n: number) => {
    if (n > bytes.length - pos) {
      throw fail(`truncated: the data ends inside ${NAMES[op] ?? "an opcode"} at byte ${at}`);
    }
    const p = pos;
    pos += n;
    return p;
  };
  // Reads `stack` when called (after its argument, which may pop a MARK and replace it).
  const push = (v: PyValue) => {
    stack.push(v);
  };
  const pop = (): PyValue => {
    if (stack.length === 0) throw new Error("the stack is empty (a damaged file)");
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) throw new Error("the stack is empty (a damaged file)");
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const outer = marks.pop();
    if (outer === undefined) throw new Error("no MARK to pop to (a damaged file)");
    stack = outer;
    return items;
  };
  const text = (n: number) => {
    const p = need(n);
    try {
      return utf8.decode(bytes.subarray(p, p + n));
    } catch {
      throw new Error("a string is not valid UTF-8");
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) need(bytes.length - pos + 1); // throws: truncated
    const s = text(end - pos);
    pos++; // the newline
    return s;
  };
  const long = (n: number): number | bigint => {
    const p = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]);
    if (n > 0 && bytes[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const global = (name: string) => {
    // numpy scalars (sklearn's scores saved in a checkpoint) are decoded, never run: pickle_numpy.ts
    if (!ALLOWED.has(name) && !isNumpyScalarGlobal(name)) throw new Error(refusal(name));
    push(new PyGlobal(name));
  };
  try {
    for (;;) {
      at = pos;
      op = bytes[need(1)];
      switch (op) {
        case 0x80: // PROTO
          need(1);
          break;
        case 0x95: // FRAME: a length hint
          need(8);
          break;
        case 0x2e: // STOP
          return { value: pop(), end: pos };
        case 0x28: // MARK
          marks.push(stack);
          stack = [];
          break;
        case 0x30: // POP
          pop();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: // DUP
          push(top());
          break;
        case 0x4e: // NONE
          push(null);
          break;
        case 0x88: // NEWTRUE
        case 0x89: // NEWFALSE
          push(op === 0x88);
          break;
        case 0x4a: // BININT
          push(view.getInt32(need(4), true));
          break;
        case 0x4b: // BININT1
          push(bytes[need(1)]);
          break;
        case 0x4d: // BININT2
          push(view.getUint16(need(2), true));
          break;
        case 0x8a: // LONG1
          push(long(bytes[need(1)]));
          break;
        case 0x8b: { // LONG4
          const n = view.getInt32(need(4), true);
          if (n < 0 || n > 64) throw new Error(`a LONG4 of ${n} bytes (a damaged file)`);
          push(long(n));
          break;
        }
        case 0x47: // BINFLOAT (big-endian)
          push(view.getFloat64(need(8), false));
          break;
        case 0x58: // BINUNICODE
        case 0x54: // BINSTRING (Python 2 str, decoded as torch.load decodes it: UTF-8)
          push(text(view.getUint32(need(4), true)));
          break;
        case 0x8c: // SHORT_BINUNICODE
        case 0x55: // SHORT_BINSTRING
          push(text(bytes[need(1)]));
          break;
        case 0x8d: { // BINUNICODE8
          const n = view.getBigUint64(need(8), true);
          if (n > BigInt(bytes.length)) need(bytes.length + 1);
          push(text(Number(n)));
          break;
        }
        case 0x42: // BINBYTES
        case 0x43: // SHORT_BINBYTES
        case 0x8e: { // BINBYTES8
          // Protocol 3+'s bytes: a numpy scalar's raw value; anywhere else pth_read refuses them.
          const n = op === 0x43
            ? bytes[need(1)]
            : op === 0x42
            ? view.getUint32(need(4), true)
            : view.getBigUint64(need(8), true);
          if (n > BigInt(bytes.length)) need(bytes.length + 1);
          const p = need(Number(n));
          push(new Latin1Bytes(bytes.slice(p, p + Number(n))));
          break;
        }
        case 0x29: // EMPTY_TUPLE
          push(new PyTuple([]));
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: { // TUPLE3
          const n = op - 0x84;
          if (stack.length < n) throw new Error("the stack is empty (a damaged file)");
          push(new PyTuple(stack.splice(stack.length - n, n)));
          break;
        }
        case 0x74: // TUPLE
          push(new PyTuple(popMark()));
          break;
        case 0x5d: // EMPTY_LIST
          push(new PyList());
          break;
        case 0x6c: // LIST
          push(new PyList(popMark()));
          break;
        case 0x7d: // EMPTY_DICT
          push(new PyDict(false));
          break;
        case 0x64: { // DICT
          const items = popMark();
          if (items.length % 2 !== 0) throw new Error("DICT with an odd number of items");
          const d = new PyDict(false);
          for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
          push(d);
          break;
        }
        case 0x8f: // EMPTY_SET
          push(new PySet());
          break;
        case 0x61: // APPEND
        case 0x65: { // APPENDS
          const items = op === 0x61 ? [pop()] : popMark();
          const list = top();
          if (!(list instanceof PyList)) {
            throw new Error(`APPEND to a ${pyTypeName(list)}; only lists are appended to`);
          }
          list.items.push(...items);
          break;
        }
        case 0x73: // SETITEM
        case 0x75: { // SETITEMS
          const items = op === 0x73
            ? (() => {
              const v = pop();
              return [pop(), v];
            })()
            : popMark();
          const d = top();
          if (!(d instanceof PyDict)) throw new Error(`SETITEM on a ${pyTypeName(d)}`);
          if (items.length % 2) throw new Error("SETITEMS with an odd number of items");
          for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
          break;
        }
        case 0x68: // BINGET
        case 0x6a: { // LONG_BINGET
          const i = op === 0x68 ? bytes[need(1)] : view.getUint32(need(4), true);
          if (!memo.has(i)) throw new Error(`memo entry ${i} is read before it is written`);
          push(memo.get(i)!);
          break;
        }
        case 0x71: // BINPUT
        case 0x72: // LONG_BINPUT
          memo.set(op === 0x71 ? bytes[need(1)] : view.getUint32(need(4), true), top());
          break;
        case 0x94: // MEMOIZE
          memo.set(memo.size, top());
          break;
        case 0x63: // GLOBAL
          global(`${line()}.${line()}`);
          break;
        case 0x93: { // STACK_GLOBAL
          const name = pop();
          const module = pop();
          if (typeof name !== "string" || typeof module !== "string") {
            throw new Error("STACK_GLOBAL of something other than two strings");
          }
          global(`${module}.${name}`);
          break;
        }
        case 0x52: { // REDUCE
          const args = pop();
          push(call(pop(), args, numelOf));
          break;
        }
        case 0x81: { // NEWOBJ: only Parameter(data, requires_grad)
          const args = pop();
          const cls = pop();
          if (!(cls instanceof PyGlobal) || cls.name !== "torch.nn.parameter.Parameter") {
            throw new Error(`it instantiates ${pyTypeName(cls)}; only Parameter is allowed`);
          }
          push(call(cls, args, numelOf));
          break;
        }
        case 0x62: { // BUILD: an OrderedDict's attributes or a Parameter's state, both dropped
          const state = pop();
          const inst = top();
          if (inst instanceof NumpyDtype) { // a numpy scalar's dtype: its byte order
            buildDtype(inst, state);
            break;
          }
          if (!(inst instanceof TensorRef) && !(inst instanceof PyDict && inst.ordered)) {
            throw new Error(`BUILD of a ${pyTypeName(inst)}; only tensors and OrderedDicts`);
          }
          break;
        }
        case 0x51: { // BINPERSID
          const pid = pop();
          if (!(pid instanceof PyTuple) || pid.items[0] !== "storage") {
            const what = pid instanceof PyTuple ? String(pid.items[0]) : pyTypeName(pid);
            throw new Error(
              `it holds a persistent object '${what}' (a pickled nn.Module in the legacy ` +
                "format?); only storages load: save model.state_dict() in PyTorch",
            );
          }
          push(context.persistentLoad(pid) as PyValue);
          break;
        }
        default:
          if (BYTES_OPS.has(op)) {
            throw new Error(
              "it holds a Python bytes object, which torch.load(weights_only=True) refuses; " +
                "save a string or a tensor instead",
            );
          }
          throw new Error(
            `unknown or unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")}` +
              ` ('${String.fromCharCode(op)}')`,
          );
      }
    }
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw fail(`${(e as Error).message} (pickle opcode ${NAMES[op] ?? op} at byte ${at})`);
  }
}
