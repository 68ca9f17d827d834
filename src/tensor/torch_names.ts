/**
 * PyTorch's Tensor attribute names that this library spells otherwise:
 * reading one threw nothing and gave undefined (`params.filter((p) =>
 * !p.requires_grad)` counted every parameter frozen, `x.max(1).values` was
 * undefined), and assigning one added a property nothing read
 * (`p.requires_grad = false` froze nothing). Each now throws, naming what to
 * write.
 *
 * @module
 */

/** Attribute -> what to write instead (reading). */
const READ: Record<string, string> = {
  values: "x.max(dim) and x.min(dim) return the values themselves; x.argmax(dim) gives the " +
    "indices",
  indices: "x.argmax(dim) gives the indices of x.max(dim)",
  requires_grad: "write x.requiresGrad (or x.requiresGrad_(false))",
  data: "x.detach() is the same memory outside the graph; p.data.mul_(0.5) is written " +
    "noGrad(() => p.mul_(0.5))",
  is_leaf: "write x.isLeaf",
  grad_fn: "write x.gradFn",
  is_cuda: 'write x.device === "cuda"',
  retain_grad: "write x.retainGrad()",
  retains_grad: "write x.retainsGrad",
  register_hook: "write x.registerHook((g) => { ... })",
  requires_grad_: "write x.requiresGrad_(flag)",
  masked_fill: "write x.maskedFill(mask, value)",
  index_select: "write x.indexSelect(dim, index)",
  nan_to_num: "write x.nanToNum({ nan, posinf, neginf })",
  log_softmax: "write x.logSoftmax(dim)",
  clamp_min: "write x.clampMin(min)",
  clamp_max: "write x.clampMax(max)",
  new_zeros: "write x.newZeros(shape)",
  new_ones: "write x.newOnes(shape)",
  new_full: "write x.newFull(shape, value)",
  new_empty: "write x.newEmpty(shape)",
  new_tensor: "write tensor(data, shape, { dtype: x.dtype, device: x.device })",
  type_as: "write x.typeAs(other)",
  expand_as: "write x.expandAs(other)",
  masked_fill_: "write x.maskedFill_(mask, value) (inside noGrad where autograd records)",
  masked_select: "write x.maskedSelect(mask)",
  repeat_interleave: "write x.repeatInterleave(repeats, dim)",
  floor_divide: "write x.floorDivide(other)",
  view_as: "write x.viewAs(other)",
  reshape_as: "write x.reshapeAs(other)",
  count_nonzero: "write x.countNonzero(dim)",
  logical_and: "write x.logicalAnd(other)",
  logical_or: "write x.logicalOr(other)",
  logical_xor: "write x.logicalXor(other)",
  logical_not: "write x.logicalNot()",
  scatter_add: "write x.scatterAdd(dim, index, src)",
  scatter_add_: "write x.scatterAdd_(dim, index, src) (inside noGrad where autograd records)",
  index_add: "write x.indexAdd(dim, index, source, { alpha })",
  index_add_: "write x.indexAdd_(dim, index, source, { alpha })",
  take_along_dim: "write x.takeAlongDim(indices, dim)",
  scatter_reduce: 'write x.scatterReduce(dim, index, src, "sum", { includeSelf })',
  scatter_reduce_: 'write x.scatterReduce_(dim, index, src, "sum", { includeSelf })',
  index_copy: "write x.indexCopy(dim, index, source)",
  index_copy_: "write x.indexCopy_(dim, index, source)",
  fill_diagonal_: "write x.fillDiagonal_(value, { wrap })",
  broadcast_to: "write x.broadcastTo(shape)",
  tensor_split: "write x.tensorSplit(indicesOrSections, dim)",
  tolist: "write x.toList() (nested arrays; x.item() for one number)",
  type: "torch's x.type(torch.float) is x.float() here (x.int() or x.long() for labels); " +
    "x.dtype reads the type",
  index_fill: "write x.indexFill(dim, index, value)",
  index_fill_: "write x.indexFill_(dim, index, value)",
  is_contiguous: "write x.isContiguous (a property: no call)",
  storage_offset: "write x.storageOffset()",
  element_size: "write x.elementSize() (4: float32 and int32)",
  itemsize: "write x.elementSize() (4: float32 and int32)",
  nbytes: "write x.numel() * x.elementSize()",
  is_floating_point: 'write x.isFloatingPoint() (x.dtype is the string "float32" or "int32")',
  ndimension: "write x.dim() (or x.ndim)",
  data_ptr: "no memory address is exposed; x.storageOffset() and x.stride() describe a view, and " +
    "the views of a tensor share its memory",
  detach_: "write x = x.detach() (the same memory outside the graph); torch's detach_ changes x " +
    "itself",
  apply_: "no JavaScript callback runs per element: write the function with tensor ops " +
    "(x.mul(2).add(1)), or on the host: tensor(Array.from(x.toArray(), f), [...x.shape])",
  map_: "no JavaScript callback runs per element: write it with tensor ops (x.add(y), " +
    "x.where(cond, y)), or on the host with x.toArray() and tensor(values, shape)",
  pin_memory: 'there is no pinned host memory: x.to("cuda") copies from ordinary memory (a ' +
    'DataLoader makes its batches on its device: { device: "cuda" })',
  is_pinned: "there is no pinned host memory here (x.device says where x lives)",
  share_memory_: "tensors are not shared between processes: a DataLoader's workers send samples " +
    "as arrays",
  is_shared: "tensors are not shared between processes here",
  cuda: 'write x.to("cuda")',
  get_device: 'write x.device ("cpu" or "cuda")',
  _version: "write x.version",
  mH: "tensors are real here: write x.mT",
  H: "tensors are real here: write x.t() (x.mT for a batch)",
  exponential_: "write x.uniform_().neg_().log1p_().mul_(-1 / lambd) (inside noGrad where " +
    "autograd records)",
  random_: "write randint(low, high, shape) (int32; .float() for float32)",
  cauchy_: "write noGrad(() => x.copy_(randLike(x).sub(0.5).mul(Math.PI).tan().mul(sigma)" +
    ".add(median)))",
  log_normal_: "write x.normal_(mean, std).exp_() (inside noGrad where autograd records)",
  addcmul_: "write x.add_(t1.mul(t2), { alpha: value }) (inside noGrad where autograd records)",
  addcdiv_: "write x.add_(t1.div(t2), { alpha: value }) (inside noGrad where autograd records)",
  addcmul: "write x.add(t1.mul(t2), { alpha: value })",
  addcdiv: "write x.add(t1.div(t2), { alpha: value })",
  as_strided: "no arbitrary strides here: x.unfold(dim, size, step) gives sliding windows, " +
    "x.expand, x.narrow, x.diagonal and x.permute the other views",
  resize_: "write x = x.reshape(shape) (the same number of elements) or x = x.newZeros(shape)",
  bernoulli: "write bernoulli(x) (x the probabilities), or x.newEmpty(shape).bernoulli_(p)",
  msort: "write x.sort(0).values",
  ravel: "write x.flatten() (or x.reshape(-1))",
  fliplr: "write x.flip([1])",
  flipud: "write x.flip([0])",
  greater: "write x.gt(other)",
  greater_equal: "write x.ge(other)",
  less: "write x.lt(other)",
  less_equal: "write x.le(other)",
  not_equal: "write x.ne(other)",
  multiply: "write x.mul(other)",
  divide: "write x.div(other) (x.div(other, { roundingMode }))",
  true_divide: "write x.div(other)",
  subtract: "write x.sub(other)",
  absolute: "write x.abs()",
  negative: "write x.neg()",
  sgn: "write x.sign()",
  clamp_min_: "write x.clamp_(min)",
  clamp_max_: "write x.clamp_(null, max)",
  numpy: "write x.toArray() (a Float32Array or Int32Array, on the host) or x.toList() " +
    "(nested arrays); both are copies, where torch's x.numpy() shares the tensor's memory: " +
    "writing the tensor afterwards does not change the array (read it again after the write)",
  // torch's len(x), ported as x.length, gave undefined: an accuracy's count became NaN.
  length: "torch's len(x) is x.shape[0] here (x.numel() counts every element)",
};

/** Attribute -> what to write instead (assigning). */
const WRITE: Record<string, string> = {
  requires_grad: "write x.requiresGrad = false (or x.requiresGrad_(false))",
  data: "write into a parameter with noGrad(() => p.copy_(values)), replace it with " +
    "module.loadStateDict, or assign a new nn.Parameter to the module's field",
};

/** Why `x.max(dim)[1]` and `const [v, i] = x.max(dim)` read no indices here. */
const TUPLES = "x.max(dim) and x.min(dim) give the values alone (x.argmax(dim) the indices), " +
  "while sort, topk and median(dim) give { values, indices }, which [0] and [1] also read";

/** Why `for (const row of x)` and `const [v, i] = x.max(1)` read nothing here. */
const ITERATE = "torch's `for row in x` is x.unbind(0) here (an array of the rows; " +
  "x.select(0, i) for one)";

/**
 * @internal puts the throwing accessors on Tensor's prototype (not
 * enumerable: they are no fields of a tensor), and makes `x[0]` and `x[1]`
 * (`x.max(1)[1]`, torch's row `x[0]`) throw, naming what to write: they
 * gave undefined. Iterating a tensor throws too, naming what to write: a
 * row-by-row iterator would make torch's `_, preds = outputs.max(1)`,
 * ported as `const [_, preds] = outputs.max(1)`, silently read two rows of
 * the values. A check for an iterable argument that has its own message
 * (a DataLoader's dataset, updateBn's loader, an optimizer's params) tests
 * `instanceof Tensor` first.
 */
export function addTorchNameHints(proto: object): void {
  addNameHints(proto, "Tensor", READ, WRITE);
  for (const i of ["0", "1"]) {
    Object.defineProperty(proto, i, {
      configurable: true,
      enumerable: false,
      get() {
        throw new Error(
          `Tensor has no [${i}]: torch's x[i] is x.select(0, i) (x.narrow(dim, start, length) for ` +
            `a slice); ${TUPLES}`,
        );
      },
    });
  }
  Object.defineProperty(proto, Symbol.iterator, {
    configurable: true,
    enumerable: false,
    value() {
      throw new Error(`Tensor is not iterable: ${ITERATE}; ${TUPLES}`);
    },
  });
}

/**
 * @internal puts an accessor on `proto` for each of torch's names in
 * `read` that throws, naming what to write (`write[name]` when assigned).
 * `owner` names the class in the message ("nn.Module has no .state_dict").
 */
export function addNameHints(
  proto: object,
  owner: string,
  read: Record<string, string>,
  write: Record<string, string> = {},
): void {
  for (const [name, say] of Object.entries(read)) {
    const assign = write[name] ?? say;
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get() {
        throw new Error(`${owner} has no .${name}: ${say}`);
      },
      set(_: unknown) {
        throw new Error(`${owner} has no .${name} to assign: ${assign}`);
      },
    });
  }
}
