/**
 * numpy scalars in a PyTorch checkpoint, read as plain numbers. A training
 * notebook's `torch.save({..., "best_f1": f1_score(y, p, average="macro")})`
 * pickles sklearn's `numpy.float64` as `numpy.core.multiarray.scalar(dtype,
 * raw bytes)`, the bytes written (protocol 2) as `_codecs.encode(text,
 * "latin1")`. torch 1.13's `torch.load` (weights_only=False, its default)
 * gives the number back; these three calls only describe data, so they are
 * decoded here rather than refused, and nothing in the file is run. Any
 * other numpy object (arrays, strings, dates) stays refused.
 *
 * @module
 */
import { PyTuple, pyTypeName, type PyValue } from "./pickle_values.ts";

/** numpy's module before and after numpy 2 renamed `numpy.core` to `numpy._core`. */
const SCALAR = new Set(["numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar"]);
const DTYPE = "numpy.dtype";
const ENCODE = "_codecs.encode";

/** The globals a pickled numpy scalar names. */
export function isNumpyScalarGlobal(name: string): boolean {
  return SCALAR.has(name) || name === DTYPE || name === ENCODE;
}

/** `numpy.dtype("f8", False, True)`; BUILD then sets its byte order. */
export class NumpyDtype {
  /** "<" little, ">" big, "|" not applicable (one byte), "=" native. */
  order = "=";
  /** `code`: numpy's dtype string ("f8", "i4", "b1", ...). */
  constructor(readonly code: string) {}
}

/**
 * A Python bytes object: what `_codecs.encode(text, "latin1")` makes
 * (protocol 2) or a bytes opcode holds (protocol 3+). A numpy scalar's raw
 * value; anywhere else the loader refuses it, as torch's weights-only reader.
 */
export class Latin1Bytes {
  /** The raw bytes. */
  constructor(readonly bytes: Uint8Array) {}
}

/** Kinds and sizes of the scalars read: bool, signed and unsigned ints, floats. */
const CODES = /^([biuf])(1|2|4|8)$/;

/** BUILD on a dtype: numpy's state tuple (version, byte order, ...). */
export function buildDtype(dtype: NumpyDtype, state: PyValue): void {
  const order = state instanceof PyTuple ? state.items[1] : undefined;
  if (typeof order !== "string" || !["<", ">", "|", "="].includes(order)) {
    throw new Error(`numpy.dtype('${dtype.code}') has an unknown state`);
  }
  dtype.order = order;
}

/** Calls one of the numpy-scalar globals on its arguments. */
export function callNumpy(name: string, a: PyValue[]): PyValue {
  if (name === ENCODE) {
    const [text, encoding] = a;
    if (typeof text !== "string" || encoding !== "latin1") {
      throw new Error("_codecs.encode is called other than on a latin1 string");
    }
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 255) throw new Error("_codecs.encode of a character outside latin1");
      bytes[i] = c;
    }
    return new Latin1Bytes(bytes);
  }
  if (name === DTYPE) {
    if (typeof a[0] !== "string") throw new Error(`numpy.dtype of a ${pyTypeName(a[0])}`);
    return new NumpyDtype(a[0]);
  }
  const [dtype, raw] = a;
  if (!(dtype instanceof NumpyDtype) || !(raw instanceof Latin1Bytes)) {
    throw new Error("numpy scalar built from something other than a dtype and its bytes");
  }
  return scalarValue(dtype, raw.bytes);
}

/** The number (or boolean) of a numpy scalar's bytes. */
function scalarValue(dtype: NumpyDtype, bytes: Uint8Array): PyValue {
  const m = CODES.exec(dtype.code);
  const size = m ? Number(m[2]) : 0;
  if (!m || (m[1] === "f" && size === 1) || (m[1] === "b" && size !== 1)) {
    throw new Error(
      `a numpy scalar of dtype '${dtype.code}', which this reader does not decode; save ` +
        "float(x) or int(x) in PyTorch instead",
    );
  }
  if (bytes.length !== size) {
    throw new Error(`a numpy '${dtype.code}' scalar has ${bytes.length} bytes, not ${size}`);
  }
  const le = dtype.order !== ">"; // "=" is the writer's native order: every x86 and ARM is little
  const v = new DataView(bytes.buffer, bytes.byteOffset, size);
  switch (m[1] + m[2]) {
    case "b1":
      return bytes[0] !== 0;
    case "i1":
      return v.getInt8(0);
    case "u1":
      return v.getUint8(0);
    case "i2":
      return v.getInt16(0, le);
    case "u2":
      return v.getUint16(0, le);
    case "i4":
      return v.getInt32(0, le);
    case "u4":
      return v.getUint32(0, le);
    case "f2":
      return half(v.getUint16(0, le));
    case "f4":
      return v.getFloat32(0, le);
    case "f8":
      return v.getFloat64(0, le);
    default: { // i8, u8: a number where it is exact, else a bigint (as the pickle's own ints)
      const big = m[1] === "i" ? v.getBigInt64(0, le) : v.getBigUint64(0, le);
      const safe = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER);
      return safe ? Number(big) : big;
    }
  }
}

/** IEEE half-precision bits to a number. */
function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
