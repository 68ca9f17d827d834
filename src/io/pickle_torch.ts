/**
 * What torch 1.13's weights-only unpickler lets a pickle name and call
 * (`torch/_weights_only_unpickler.py`): the allow-list of globals, the
 * refusal message for any other, and the calls of allowed globals
 * (OrderedDict, `_rebuild_tensor_v2`, `_rebuild_parameter`, torch.Size),
 * which build data and run nothing; and newer torch's `collections.Counter`.
 *
 * @module
 */
import {
  PyDict,
  PyGlobal,
  PyList,
  PyTuple,
  pyTypeName,
  type PyValue,
  TensorRef,
} from "./pickle_values.ts";
import { callNumpy, isNumpyScalarGlobal } from "./pickle_numpy.ts";

// ------------------------------------------------------------ the allow-list

const REBUILD = "torch._utils._rebuild_";
/** torch 1.13's `_get_allowed_globals()`, by dotted name. */
export const ALLOWED = new Set<string>([
  "collections.OrderedDict",
  // Not in 1.13's list, in torch >= 2.1's: MultiStepLR's milestones in a
  // scheduler's state_dict. Built as a plain dict (data only).
  "collections.Counter",
  "torch.nn.parameter.Parameter",
  "torch.serialization._get_layout",
  "torch.Size",
  "torch.Tensor",
  "torch.storage.TypedStorage",
  "torch.storage.UntypedStorage",
  ...["parameter", "tensor", "tensor_v2", "sparse_tensor", "meta_tensor_no_storage"]
    .map((f) => REBUILD + f),
  `${REBUILD}sparse_csr_tensor`,
  ...["complex32", "complex64", "complex128", "float16", "float32", "float64"]
    .map((t) => `torch.${t}`),
  ...["int8", "int16", "int32", "int64"].map((t) => `torch.${t}`),
  ...["QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8"].map((t) => `torch.${t}Storage`),
]);
for (const t of ["BFloat16", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short"]) {
  for (const m of ["torch", "torch.cuda", "torch.sparse", "torch.cuda.sparse"]) {
    ALLOWED.add(`${m}.${t}Tensor`);
  }
}
for (const t of ["Bool", "BFloat16", "Byte", "Char", "Double", "Float", "Half", "Int", "Long"]) {
  for (const m of ["torch", "torch.cuda"]) ALLOWED.add(`${m}.${t}Storage`);
}
for (const t of ["Bool", "Short", "ComplexDouble", "ComplexFloat"]) {
  for (const m of ["torch", "torch.cuda"]) {
    ALLOWED.add(`${m}.${t}Storage`);
    if (t === "Bool") ALLOWED.add(`${m}.${t}Tensor`);
  }
}

/** What to do instead, for a global torch.load(weights_only=True) refuses. */
export function refusal(name: string): string {
  const fix = "save model.state_dict() in PyTorch (torch.save(model.state_dict(), path)), or " +
    "convert the file with scripts/export_pth.py";
  if (name.startsWith("torch.nn.modules.") || name.startsWith("torchvision.models.")) {
    return `a pickled nn.Module (${name}), which torch.load(weights_only=True) refuses; ${fix}`;
  }
  if (name === `${REBUILD}qtensor`) {
    return `a quantized tensor (${name}), which this library does not read; save ` +
      "t.dequantize() in PyTorch";
  }
  if (name.startsWith("numpy.")) {
    return `a numpy value (${name}), which torch.load(weights_only=True) refuses; save a ` +
      "Python number, list or a torch tensor instead";
  }
  return `the Python global ${name}, which torch.load(weights_only=True) refuses (only ` +
    `tensors, numbers, strings, lists, tuples and dicts load); ${fix}`;
}

const isCount = (v: PyValue): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** A tuple (or torch.Size) of counts, checked. */
function counts(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple) || !v.items.every(isCount)) {
    throw new Error(`a tensor's ${what} is not a tuple of non-negative integers`);
  }
  return v.items as number[];
}

/** `_rebuild_tensor(_v2)(storage, offset, size, stride, ...)`, checked against the storage. */
function rebuildTensor(
  fn: string,
  args: PyValue[],
  numelOf: (s: unknown) => number | null,
): TensorRef {
  const [storage, offset, size, stride] = args;
  const numel = numelOf(storage);
  if (numel === null) {
    throw new Error(
      `${fn} is given a ${pyTypeName(storage)} where a storage of the file belongs (a ` +
        "damaged or hand-made file)",
    );
  }
  if (!isCount(offset)) throw new Error("a tensor's storage offset is not a non-negative integer");
  const shape = counts(size, "size");
  const strides = counts(stride, "stride");
  if (strides.length !== shape.length) {
    throw new Error(`a tensor has size [${shape}] but stride [${strides}]`);
  }
  if (!shape.includes(0)) {
    const last = shape.reduce((a, d, i) => a + (d - 1) * strides[i], offset);
    if (last >= numel) {
      throw new Error(
        `a tensor of size [${shape}], stride [${strides}] at offset ${offset} reads element ` +
          `${last} of a storage of ${numel} elements (a damaged file)`,
      );
    }
  }
  return new TensorRef(storage, offset, shape, strides);
}

/** Calls an allowed global on `args` (REDUCE or NEWOBJ): data only, never code. */
export function call(
  fn: PyValue,
  args: PyValue,
  numelOf: (s: unknown) => number | null,
): PyValue {
  if (!(fn instanceof PyGlobal)) {
    throw new Error(`REDUCE calls a ${pyTypeName(fn)}, not an allowed function`);
  }
  if (!(args instanceof PyTuple)) throw new Error(`${fn.name} is called with a non-tuple`);
  const a = args.items;
  if (isNumpyScalarGlobal(fn.name)) return callNumpy(fn.name, a);
  switch (fn.name) {
    case "collections.OrderedDict": {
      const d = new PyDict(true);
      const pairs = a[0];
      if (a.length === 1 && (pairs instanceof PyList || pairs instanceof PyTuple)) {
        for (const p of pairs.items) {
          if (!(p instanceof PyTuple) || p.items.length !== 2) {
            throw new Error("OrderedDict is built from something other than (key, value) pairs");
          }
          d.set(p.items[0], p.items[1]);
        }
      } else if (a.length !== 0) throw new Error("OrderedDict is built from an unknown argument");
      return d;
    }
    case "collections.Counter": {
      const d = new PyDict(false);
      const from = a[0];
      if (a.length === 1 && from instanceof PyDict) {
        from.keys.forEach((k, i) => d.set(k, from.values[i]));
      } else if (a.length !== 0) {
        throw new Error("Counter is built from something other than a dict");
      }
      return d;
    }
    case `${REBUILD}tensor`:
    case `${REBUILD}tensor_v2`:
      if (a.length < 4) throw new Error(`${fn.name} has ${a.length} arguments`);
      return rebuildTensor(fn.name, a, numelOf);
    case `${REBUILD}parameter`:
    case "torch.nn.parameter.Parameter":
      // requires_grad is dropped, as safetensors loading drops it.
      if (!(a[0] instanceof TensorRef)) throw new Error(`${fn.name} of a ${pyTypeName(a[0])}`);
      return a[0];
    case "torch.Size":
      if (!(a[0] instanceof PyTuple)) throw new Error("torch.Size of something not a tuple");
      return a[0];
    case `${REBUILD}sparse_tensor`:
    case `${REBUILD}sparse_csr_tensor`:
    case "torch.serialization._get_layout":
      throw new Error(
        "it holds a sparse tensor, which this library does not read; save " +
          "t.to_dense() in PyTorch",
      );
    case `${REBUILD}meta_tensor_no_storage`:
      throw new Error("it holds a meta tensor, which has no data");
    default:
      throw new Error(
        `it calls ${fn.name}(...), which this reader does not rebuild (an old or unusual ` +
          "format); load the file in PyTorch and save it again with torch.save",
      );
  }
}
