/**
 * The Python values the restricted unpickler (pickle_read.ts) builds:
 * tuples, lists, dicts with Python's key equality, allowed globals and
 * tensors to rebuild.
 *
 * @module
 */

/** A Python value as the unpickler builds it (ints beyond 2^53 as bigint). */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyTuple
  | PyList
  | PyDict
  | PySet
  | PyGlobal
  | TensorRef
  | object;

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A Python list. */
export class PyList {
  constructor(readonly items: PyValue[] = []) {}
}

/** A Python set (only an empty one can be built, as in torch's unpickler). */
export class PySet {}

/** A dict (`ordered`: a collections.OrderedDict), keys in insertion order. */
export class PyDict {
  readonly keys: PyValue[] = [];
  readonly values: PyValue[] = [];
  readonly #index = new Map<string, number>();
  constructor(readonly ordered: boolean) {}

  /** d[key] = value, with Python's key equality (1 == 1.0 == True). */
  set(key: PyValue, value: PyValue): void {
    const h = hashKey(key);
    const i = this.#index.get(h);
    if (i !== undefined) {
      this.values[i] = value;
      return;
    }
    this.#index.set(h, this.keys.length);
    this.keys.push(key);
    this.values.push(value);
  }
}

/** An allowed global, by its dotted name ("torch.FloatStorage"). */
export class PyGlobal {
  constructor(readonly name: string) {}
}

/** A tensor to rebuild: elements [offset + sum(i_k * stride_k)] of `storage`. */
export class TensorRef {
  constructor(
    readonly storage: unknown,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/**
 * The most values a tuple key may hold, nested ones counted at every place
 * they appear: a tuple of a tuple twice, 40 deep, is 2^40 values in a few
 * hundred bytes, and its key string would be as long. torch's checkpoints
 * have no tuple keys (io.load refuses them anyway, naming the key).
 */
const MAX_KEY_ITEMS = 10_000;

/** A dict key as a string, equal where Python's keys are equal. */
function hashKey(k: PyValue): string {
  let items = 0;
  const hash = (k: PyValue): string => {
    if (typeof k === "string") return `s${k}`;
    if (typeof k === "boolean") return `n${k ? 1 : 0}`;
    if (typeof k === "bigint") return `n${k}`;
    if (typeof k === "number") return Number.isInteger(k) ? `n${BigInt(k)}` : `f${k}`;
    if (k === null) return "none";
    if (k instanceof PyTuple) {
      items += k.items.length;
      if (items > MAX_KEY_ITEMS) {
        throw new Error(
          `a dict key is a tuple of more than ${MAX_KEY_ITEMS} values, nested ones counted ` +
            "where they appear; checkpoint keys are str or int",
        );
      }
      return `t(${k.items.map(hash).join(",")})`;
    }
    if (k instanceof PyGlobal) return `g${k.name}`;
    throw new Error(`a dict key is an unhashable ${pyTypeName(k)}`);
  };
  return hash(k);
}

/** The Python type name of a value, for messages. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "int or float";
  if (typeof v === "string") return "str";
  if (v instanceof PyTuple) return "tuple";
  if (v instanceof PyList) return "list";
  if (v instanceof PyDict) return v.ordered ? "OrderedDict" : "dict";
  if (v instanceof PySet) return "set";
  if (v instanceof PyGlobal) return v.name;
  if (v instanceof TensorRef) return "Tensor";
  return "storage";
}
