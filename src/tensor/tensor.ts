/**
 * `Tensor`: a shaped, typed view of native memory on a device, with the
 * autograd fields. Ops live in `ops/`; the methods here forward to them.
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { NativeSymbols } from "../ffi/symbols.ts";
import {
  backend,
  checkToArguments,
  type Device,
  type DeviceName,
  deviceName,
  type DType,
  dtypeCastError,
} from "./device.ts";
import { adopt, forget, keptCopy, keptForm, type Owned, release } from "./ownership.ts";
import { type Lease, rewatch } from "./collector.ts";
import { Storage } from "./storage.ts";
import { checkDims, MAX_ELEMENTS, shapeCount, tooLarge } from "./sizes.ts";
import type { GradNode } from "./autograd.ts";
import * as autograd from "./autograd.ts";
import { backwardInputs } from "./autograd_grad.ts";
import * as ew from "./ops/elementwise.ts";
import * as red from "./ops/reduce.ts";
import * as shp from "./ops/shape.ts";
import { viewAsShape } from "./ops/view.ts";
import * as sm from "./ops/softmax.ts";
import * as mm from "./ops/matmul.ts";
import { moveInPlace, toDevice } from "./transfer.ts";
import { claimGrad, dropGrad, replacedGrad } from "./grad_store.ts";
import * as hooksOf from "./tensor_hooks.ts";
import type { GradHook } from "./tensor_hooks.ts";
import type { HookHandle } from "./grad_hooks.ts";
import * as cmp from "./ops/compare.ts";
import { clamp, clampMax, clampMin } from "./ops/clamp.ts";
import { pow } from "./ops/pow.ts";
import { lerp as lerpOp } from "./ops/lerp.ts";
import * as rounding from "./ops/rounding.ts";
import * as trig from "./ops/trig.ts";
import * as trigMore from "./ops/trig_more.ts";
import { cumsum as cumsumOp } from "./ops/cumsum.ts";
import * as lse from "./ops/logsumexp.ts";
import * as med from "./ops/median.ts";
import { mode as modeOp } from "./ops/mode.ts";
import * as bern from "./ops/bernoulli.ts";
import { full } from "./ops/creation.ts";
import * as vnorm from "./ops/vector_norm.ts";
import type { NormOrder } from "./ops/vector_norm.ts";
import { maskedFill, where } from "./ops/where.ts";
import * as stats from "./ops/stats.ts";
import * as nonfinite from "./ops/nonfinite.ts";
import * as splits from "./ops/split.ts";
import * as gth from "./ops/gather.ts";
import * as reorder from "./ops/reorder.ts";
import * as sorting from "./ops/sort.ts";
import * as redMore from "./ops/reduce_more.ts";
import * as logical from "./ops/logical.ts";
import * as divmod from "./ops/divmod.ts";
import { type DivOptions, divRounded } from "./ops/div_rounding.ts";
import * as masked from "./ops/masked_select.ts";
import * as uq from "./ops/unique.ts";
import * as close from "./ops/closeness.ts";
import * as tri from "./ops/tri.ts";
import * as shpMore from "./ops/shape_more.ts";
import { repeatInterleave } from "./ops/repeat_interleave.ts";
import * as scat from "./ops/scatter.ts";
import * as scatRed from "./ops/scatter_reduce.ts";
import * as diagOps from "./ops/diagonal_ops.ts";
import { squeezeInPlace, unsqueezeInPlace } from "./ops/in_place_shape.ts";
import * as stackMore from "./ops/stack_more.ts";
import * as linSmall from "./ops/linalg_small.ts";
import * as nanRed from "./ops/nan_reduce.ts";
import * as statPairs from "./ops/stats_pairs.ts";
import { histc as histcOp } from "./ops/histc.ts";
import * as mOps from "./ops/method_ops.ts";
import * as ewMore from "./ops/elementwise_more.ts";
import { formatTensor } from "./inspect.ts";
import { addTorchNameHints } from "./torch_names.ts";
import { fillIn, inPlace } from "./ops/in_place_ops.ts";
import { atMost, checkAssignedGrad, operand, scaled, tensorOperand } from "./method_args.ts";
import { checkArity, checkOptions } from "../options.ts";

export { Storage };

/**
 * `detach()` outside a scope is always the user's: it is a view (no memory
 * of its own), and PyTorch code detaches what it keeps past the step
 * (`probs.push(out.softmax(1).detach())`, `losses.push(loss.detach())`).
 */
const DETACHED = { gradFn: null };
/**
 * Row-major (contiguous) strides of a shape, as torch's: a size-0 dimension
 * counts as 1 in the product (`zeros([2, 0]).stride()` is [1, 1], not [0, 1]).
 */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= Math.max(shape[i], 1);
  }
  return strides;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether reading a non-leaf's .grad was warned about (once per process, as torch's). */
let nonLeafGradWarned = false;

/** @internal arms the non-leaf .grad warning again (tests). */
export function rearmNonLeafGradWarning(): void {
  nonLeafGradWarned = false;
}

/** Checks that a shape is a list of non-negative integers. */
export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    // Each size as written ("3" quoted), and what came instead of a list.
    const got = Array.isArray(shape)
      ? `[${shape.map((d) => (typeof d === "number" ? String(d) : JSON.stringify(d))).join(", ")}]`
      : `${typeof shape} ${JSON.stringify(shape) ?? String(shape)}`;
    throw new Error(`${what}: shape must be non-negative integers, got ${got}`);
  }
  if (shape.length > 8) throw new Error(`${what}: at most 8 dimensions, got ${shape.length}`);
}

/** Options of tensors made by creation functions. */
export interface TensorOptions {
  /** Element type (default float32, or int32 for an Int32Array). */
  dtype?: DType;
  /** Device (default cpu). */
  device?: DeviceName;
  /** Record operations on it for `backward()` (default false). */
  requiresGrad?: boolean;
}

/**
 * `shape[-1]` .. `shape[-8]` as Python's: read from the end. A plain
 * array gives undefined there, and `q.mul(q.shape[-1] ** -0.5)` (the
 * attention scale, ported as written) turned silently into NaN.
 */
const NEGATIVE_INDEX: PropertyDescriptorMap[] = Array.from({ length: 9 }, (_, ndim) => {
  const map: PropertyDescriptorMap = {};
  for (let k = 1; k <= ndim; k++) {
    map[`-${k}`] = {
      get(this: readonly number[]) {
        return this[this.length - k];
      },
    };
  }
  return map;
});

/** Frozen shapes by their text: a training step makes thousands of tensors of a few shapes. */
const SHAPES = new Map<string, readonly number[]>();

/**
 * A frozen copy of `shape` that also reads negative indices (non-enumerable,
 * so printing and deepEqual see a plain array), shared by the tensors of
 * that shape: defining the indices costs more than the rest of a small op.
 */
function frozenShape(shape: readonly number[]): readonly number[] {
  const key = shape.join();
  const known = SHAPES.get(key);
  if (known !== undefined) return known;
  const out = [...shape];
  if (out.length < NEGATIVE_INDEX.length) Object.defineProperties(out, NEGATIVE_INDEX[out.length]);
  Object.freeze(out);
  if (SHAPES.size >= 4096) SHAPES.clear(); // bounded: sweeps of sizes do not grow it
  SHAPES.set(key, out);
  return out;
}

/**
 * A multi-dimensional array on a device, with reverse-mode autograd.
 *
 * @example
 * ```ts
 * import { tensor } from "@lits/vision";
 * const x = tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward();
 * console.log(x.grad!.toArray()); // Float32Array [2, 4, 6, 8]
 * ```
 */
export class Tensor implements Owned {
  /** Size of each dimension. */
  readonly shape: readonly number[];
  /** Element type: the string "float32" or "int32" (`DType` says what torch's attributes are). */
  readonly dtype: DType;
  #requiresGrad = false;
  #grad: Tensor | null = null;
  /** The operation that made it, when recorded; null for leaves. */
  gradFn: GradNode | null = null;
  /** @internal the scope or step that frees it. */
  owner: Set<Owned> | null = null;
  /** @internal the collector's lease while nobody owns it (collector.ts). */
  lease: Lease | null = null;
  #storage: Storage | null;
  #ptr: Deno.PointerObject | null = null;
  #kept = false;
  // Private so that only _replaceStorage (module.to) can change them.
  #strides: readonly number[];
  #offset: number;
  #device: Device;

  /** @internal use the creation functions (`tensor`, `zeros`, ...). */
  constructor(
    storage: Storage,
    shape: readonly number[],
    dtype: DType,
    strides?: readonly number[],
    offset = 0,
  ) {
    this.#storage = storage;
    this.shape = frozenShape(shape);
    this.#strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.#offset = offset;
    this.dtype = dtype;
    this.#device = storage.device;
  }

  /**
   * Whether operations on it are recorded for `backward()`. Setting it is
   * `requiresGrad_`: on a leaf only, float32 only, as PyTorch (turning it off
   * on an op's result would silently cut the graph).
   */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }
  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }

  /**
   * The gradient accumulated by `backward()` (leaf tensors), added into in
   * place by later passes as PyTorch does. Assigning one checks it as
   * PyTorch does: the tensor's shape, dtype and device, or null. The
   * gradient backward made that an assignment replaces (`w.grad = null`
   * after a manual update) is freed at the next backward(), zeroGrad() or
   * endStep(), as zeroGrad frees it; one you assigned or `keep()` stays yours.
   */
  get grad(): Tensor | null {
    // torch warns once: a non-leaf's .grad stays None unless retain_grad() was called.
    if (this.#grad === null && this.gradFn !== null && !nonLeafGradWarned && !this.retainsGrad) {
      nonLeafGradWarned = true;
      console.warn(
        `lits: the .grad of a tensor that is not a leaf ([${this.shape}], made by ` +
          `'${this.gradFn.name}') is read: backward() fills the .grad of leaves only, so it ` +
          "is null; call x.retainGrad() before backward() to keep it (torch's retain_grad())",
      );
    }
    return this.#grad;
  }
  set grad(g: Tensor | null) {
    if (g !== null) {
      checkAssignedGrad(this, g);
      // The user's from now on: no scope or step frees it under the leaf.
      release(g);
      claimGrad(g);
    }
    const old = this.#grad;
    this.#grad = g;
    // One backward made goes at the next boundary (`w.grad = null`), as zeroGrad's.
    if (old !== null && old !== g) replacedGrad(old);
  }

  /**
   * Runs `hook(grad)` each time backward computes this tensor's gradient,
   * as torch's `register_hook`: the hook gets a copy that is yours to keep
   * (Grad-CAM's `grads.push(g)`), and a tensor it returns replaces the
   * gradient that flows on. `remove()` on the handle takes it off.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * const x = tensor([1, 2], undefined, { requiresGrad: true });
   * const y = x.mul(3);
   * let seen: number[] = [];
   * y.registerHook((g) => { seen = [...g.toArray()]; });
   * y.sum().backward();
   * console.log(seen, x.grad!.toList()); // [1, 1] [3, 3]
   * ```
   */
  registerHook(hook: GradHook): HookHandle {
    atMost("registerHook", arguments.length, 1, "x.registerHook((g) => { ... })");
    return hooksOf.registerHook(this, hook);
  }

  /**
   * Keeps this op result's gradient in `.grad` after backward, as a leaf's
   * (torch's `retain_grad`); nothing to do on a leaf.
   */
  retainGrad(): void {
    atMost("retainGrad", arguments.length, 0, "x.retainGrad()");
    hooksOf.retainGrad(this);
  }

  /** Whether backward keeps this op result's `.grad` (`retainGrad`): torch's `retains_grad`. */
  get retainsGrad(): boolean {
    return hooksOf.retainsGrad(this);
  }

  /** Whether it is a leaf of the graph (no `gradFn`): PyTorch's `is_leaf`. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Step in elements along each dimension. */
  get strides(): readonly number[] {
    return this.#strides;
  }

  /** First element's position in the storage, in elements. */
  get offset(): number {
    return this.#offset;
  }

  /** Where the memory lives. */
  get device(): Device {
    return this.#device;
  }

  /**
   * @internal puts this tensor's elements into `storage` (dense, this shape,
   * possibly on another device) and lets go of the old storage. The object
   * stays the same, so optimizers and modules that hold it keep working
   * (`Module.to`). Its gradient moves to the new device with it.
   */
  _replaceStorage(storage: Storage): void {
    if (storage.bytes !== numel(this.shape) * 4) {
      throw new Error(
        `_replaceStorage: ${storage.bytes} bytes do not hold tensor [${this.shape}] (${this.dtype})`,
      );
    }
    const old = this.storage;
    // A new version: what autograd saved of the old memory is not this.
    storage.version = old.version + 1;
    this.#storage = storage;
    this.#ptr = null;
    this.#strides = Object.freeze(contiguousStrides(this.shape));
    this.#offset = 0;
    this.#device = storage.device;
    rewatch(this);
    old.drop();
    // The gradient moves along, as PyTorch's Module._apply moves param.grad.
    const g = this.#grad;
    if (g !== null && g.device !== storage.device) moveInPlace(g, storage.device);
  }

  /**
   * @internal gives this tensor a new shape and strides over the same
   * elements (`unsqueeze_` / `squeeze_`, ops/in_place_shape.ts, which
   * decide when that is sound).
   */
  _restride(shape: readonly number[], strides: readonly number[]): void {
    (this as { shape: readonly number[] }).shape = frozenShape(shape);
    this.#strides = Object.freeze([...strides]);
  }

  /** @internal a fresh dense tensor; `isOpResult` decides its owner. */
  static empty(
    shape: readonly number[],
    dtype: DType = "float32",
    device: DeviceName = "cpu",
    isOpResult = true,
  ): Tensor {
    const dev = deviceName(device); // torch's "cuda:0" is "cuda"
    const count = numel(shape);
    // Checked before the bytes are computed: past 2^53 they stop being exact.
    if (!(count <= MAX_ELEMENTS)) throw tooLarge(`a tensor [${shape}]`, shapeCount(shape));
    const t = new Tensor(new Storage(backend(dev), dev, count * 4), shape, dtype);
    adopt(t, isOpResult);
    return t;
  }

  /** @internal a view sharing this tensor's storage (no checks, no autograd). */
  _view(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    const t = new Tensor(this.storage.retain(), shape, this.dtype, strides, offset);
    adopt(t, true);
    return t;
  }

  /** @internal the storage, or an Error when the tensor was released. */
  get storage(): Storage {
    if (this.#storage === null) {
      throw new Error(
        `tensor [${this.shape}] was released (disposed, or freed at a step boundary such as ` +
          "optimizer.zeroGrad() or the end of a scope; the step is the process's, so a " +
          "zeroGrad() in another async task running meanwhile ends it too); keep a number " +
          "with .item() (losses.push(loss.item())), or call .keep() on tensors you hold longer",
      );
    }
    return this.#storage;
  }

  /** @internal pointer to the first element, for native calls. */
  get ptr(): Deno.PointerObject {
    if (this.#ptr === null) {
      const s = this.storage;
      this.#ptr = this.offset === 0 ? s.ptr : Deno.UnsafePointer.offset(s.ptr, this.offset * 4)!;
    }
    return this.#ptr;
  }

  /** @internal the device's library. */
  get lib(): NativeSymbols {
    return this.storage.lib;
  }

  /**
   * The shape, as torch's `x.size()` (a new array; `x.shape` is the same,
   * frozen), or with `dim` one dimension's size, negative counting from
   * the end: `x.view(x.size(0), -1)` ports as written. The number of
   * elements is `numel()`.
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * const x = zeros([2, 3, 4]);
   * console.log(x.size(), x.size(0), x.size(-1)); // [2, 3, 4] 2 4
   * ```
   */
  size(): number[];
  /** One dimension's size (negative counts from the end), as torch's `x.size(dim)`. */
  size(dim: number): number;
  size(dim?: number): number | number[] {
    atMost("size", arguments.length, 1, "x.size(0)");
    if (dim === undefined) {
      // A copy of its own that also reads x.size()[-1], as torch.Size.
      const copy = [...this.shape];
      if (copy.length < NEGATIVE_INDEX.length) {
        Object.defineProperties(copy, NEGATIVE_INDEX[copy.length]);
      }
      return copy;
    }
    if (!Number.isInteger(dim)) {
      throw new Error(`x.size: dim must be an integer, got ${JSON.stringify(dim)}`);
    }
    if (this.ndim === 0) {
      // torch: "dimension specified as 0 but tensor has no dimensions".
      throw new Error(`x.size: a 0-d tensor has no dimension ${dim}; x.size() is []`);
    }
    return this.shape[shp.normDim(dim, this.ndim, "x.size")];
  }

  /**
   * Number of elements (torch's `numel()`).
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * console.log(zeros([2, 3]).numel()); // 6
   * ```
   */
  numel(): number {
    return numel(this.shape);
  }

  /**
   * How many in-place writes its memory has had (PyTorch's `_version`,
   * shared with its views): `optimizer.step()`, `loadStateDict`, the
   * `nn.init` fills and a training batch norm's running statistics (which
   * PyTorch's kernel writes without counting) each add one. `backward()`
   * refuses a graph whose ops saved a tensor that was written since, as
   * PyTorch does, instead of mixing old and new values.
   *
   * @example
   * ```ts
   * import { nn, zeros } from "@lits/vision";
   * const w = zeros([2]);
   * nn.init.constant_(w, 1);
   * console.log(w.version); // 1
   * ```
   */
  get version(): number {
    return this.storage.version;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** False once disposed or freed by its owner. */
  get isAlive(): boolean {
    return this.#storage !== null;
  }

  /** Whether the elements are dense in row-major order (always, with no elements: torch's rule). */
  get isContiguous(): boolean {
    if (this.shape.includes(0)) return true;
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  /**
   * Each dimension's step in elements, as torch's `x.stride()` (a new
   * array; `strides` is the same, frozen), or one dimension's with `dim`.
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * const x = zeros([2, 3]);
   * console.log(x.stride(), x.t().stride(), x.stride(-1)); // [3, 1] [1, 3] 1
   * ```
   */
  stride(): number[];
  /** One dimension's step (negative counts from the end), as torch's `x.stride(dim)`. */
  stride(dim: number): number;
  stride(dim?: number): number | number[] {
    atMost("stride", arguments.length, 1, "x.stride() or x.stride(0)");
    if (dim === undefined) return [...this.strides];
    if (!Number.isInteger(dim)) {
      throw new Error(`x.stride: dim must be an integer, got ${JSON.stringify(dim)}`);
    }
    return this.strides[shp.normDim(dim, this.ndim, "x.stride")];
  }

  /**
   * The first element's position in the storage, in elements (torch's
   * `storage_offset()`; also `offset`).
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * console.log(zeros([2, 3]).narrow(1, 1, 2).storageOffset()); // 1
   * ```
   */
  storageOffset(): number {
    atMost("storageOffset", arguments.length, 0, "x.storageOffset()");
    return this.offset;
  }

  /**
   * Bytes per element (torch's `element_size()`): 4, float32 and int32 alike.
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * console.log(zeros([2]).elementSize()); // 4
   * ```
   */
  elementSize(): number {
    atMost("elementSize", arguments.length, 0, "x.elementSize()");
    return 4;
  }

  /**
   * Number of elements: torch's `nelement()`, the alias of `numel()`.
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * console.log(zeros([2, 3]).nelement()); // 6
   * ```
   */
  nelement(): number {
    atMost("nelement", arguments.length, 0, "x.nelement()");
    return this.numel();
  }

  /**
   * Whether the dtype is a floating-point one (torch's `is_floating_point()`):
   * float32 yes, int32 no.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * console.log(tensor([1.5]).isFloatingPoint(), tensor([1], undefined, { dtype: "int32" }).isFloatingPoint()); // true false
   * ```
   */
  isFloatingPoint(): boolean {
    atMost("isFloatingPoint", arguments.length, 0, "x.isFloatingPoint()");
    return this.dtype === "float32";
  }

  /** Frees the native memory now (a view frees its storage with the last view). */
  dispose(): void {
    if (this.#storage === null) return;
    forget(this);
    this.#storage.drop();
    this.#storage = null;
    this.#ptr = null;
    // A backward still to reach it says so instead of taking it for a leaf.
    if (this.gradFn !== null) this.gradFn = autograd.releasedNode(this.gradFn.name, this.shape);
    if (this.#grad !== null) dropGrad(this);
  }

  /** Frees the tensor at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Takes the tensor out of automatic freeing (scopes and steps); returns it. */
  keep(): this {
    claimGrad(this); // a .grad kept is the user's: zeroGrad only unlinks it
    release(this);
    this.#kept = true;
    return this;
  }

  /** Copies the elements to a new host array (Float32Array or Int32Array). */
  toArray(): Float32Array | Int32Array {
    const src = this.isContiguous ? this : shp.contiguous(this);
    const out = this.dtype === "int32"
      ? new Int32Array(this.numel())
      : new Float32Array(this.numel());
    if (out.length > 0) {
      check(
        this.lib,
        this.lib.lits_copy_d2h(out, src.ptr, out.byteLength),
        () => `toArray [${this.shape}]`,
      );
    }
    if (src !== this) src.dispose();
    return out;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel() !== 1) {
      throw new Error(`item: tensor has ${this.numel()} elements, expected 1`);
    }
    return this.toArray()[0];
  }

  /** Nested arrays of the values, like `torch.Tensor.tolist()`. */
  toList(): unknown {
    const flat = Array.from(this.toArray());
    const build = (dim: number, start: number): unknown => {
      if (dim === this.shape.length) return flat[start];
      const step = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }

  /**
   * The values as PyTorch prints them (large tensors elided), then shape,
   * dtype, device and autograd state; a CUDA tensor's values are copied to
   * the host, a freed tensor says `<disposed>`. `console.log(t)` prints it.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * console.log(String(tensor([1.5, 2]))); // "tensor([1.5000, 2.0000], shape=[2], dtype=float32, device=cpu)"
   * console.log(String(tensor([[1, 2], [3, 4]])).split("\n")[1]); // "        [3., 4.]], shape=[2, 2], dtype=float32, device=cpu)"
   * ```
   */
  toString(): string {
    return formatTensor({
      shape: this.shape,
      dtype: this.dtype,
      device: this.device,
      values: this.isAlive ? this.toArray() : null,
      requiresGrad: this.requiresGrad,
      gradFn: this.gradFn?.name ?? null,
    });
  }

  /**
   * `JSON.stringify` of a tensor (in a metrics record, a log line): its
   * values as `toList()` gives them (NaN and infinities become null, as
   * JSON's numbers); a released tensor is its description. It gave the
   * tensor's internal fields without a value, or overflowed the stack.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * console.log(JSON.stringify({ loss: tensor(0.5), pred: tensor([1, 2]) })); // "{\"loss\":0.5,\"pred\":[1,2]}"
   * ```
   */
  toJSON(): unknown {
    return this.isAlive ? this.toList() : `<released tensor [${this.shape}]>`;
  }

  /** `console.log(t)` and `Deno.inspect(t)`: the same text as `toString()`. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /**
   * A tensor where JavaScript wants a primitive. Text (`${t}`, `String(t)`)
   * is `toString()`. Arithmetic and comparison (`running += loss`,
   * `acc > best`, `Number(t)`, `"loss " + loss`) get the value of a
   * one-element tensor, as torch's Python numbers from `loss.item()` or
   * `float(t)`; they gave a string or NaN (a ported transfer-learning loop
   * summed `"0tensor(3., ...)"` and never kept its best weights). A tensor
   * of more elements there throws, naming what to write.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * let correct = 0;
   * correct += tensor([1, 0, 1]).sum() as unknown as number; // torch's correct += (pred == y).sum()
   * console.log(correct, `${tensor([2])}`); // 2 "tensor([2.], shape=[1], dtype=float32, device=cpu)"
   * ```
   */
  [Symbol.toPrimitive](hint: "string" | "number" | "default"): string | number {
    if (hint === "string") return this.toString();
    const n = this.numel();
    if (n !== 1) {
      throw new Error(
        `a tensor [${this.shape}] of ${n} elements used as a ${
          hint === "number" ? "number" : "primitive (+ or ==)"
        }: ` +
          "only a one-element tensor converts (torch's float(t)); reduce it first " +
          "(t.sum().item()), use the tensor ops (t.add(u), t.gt(u)), or write `${t}` for text",
      );
    }
    return this.item();
  }

  // ---- autograd ----

  /**
   * Computes gradients of this tensor (a scalar unless `gradient` is given)
   * into the `.grad` of the leaves it depends on; `{ inputs }` (torch's
   * `inputs=`) into those tensors' `.grad` only, leaves or op results.
   */
  backward(
    gradient?: Tensor,
    options: { retainGraph?: boolean; inputs?: Tensor | readonly Tensor[] } = {},
  ): void {
    // PyTorch's loss.backward(retain_graph=True) ports as backward({ retainGraph: true }).
    const usage = "loss.backward(undefined, { retainGraph: true })";
    checkArity("backward", arguments.length, 2, usage);
    if (gradient !== undefined && !(gradient instanceof Tensor)) {
      // torch's Q.backward(gradient=g) ports as backward({ gradient: g }): say backward(g).
      const keys = gradient !== null && typeof gradient === "object" ? Object.keys(gradient) : [];
      const write = !keys.includes("gradient")
        ? usage
        : keys.includes("retainGraph") || keys.includes("retain_graph")
        ? "Q.backward(gradient, { retainGraph: true })"
        : "Q.backward(gradient) (torch's gradient= keyword is the first argument here)";
      throw new Error(`backward: the first argument is the gradient tensor; write ${write}`);
    }
    const o = checkOptions<{ retainGraph?: boolean; inputs?: Tensor | readonly Tensor[] }>(
      "backward",
      options,
      ["retainGraph", "inputs"],
      usage,
    );
    const inputs = o.inputs === undefined ? undefined : backwardInputs("backward", o.inputs);
    autograd.backward(this, gradient, { retainGraph: o.retainGraph, inputs });
  }

  /** The same data without autograd history (shares memory). */
  detach(): Tensor {
    atMost("detach", arguments.length, 0, "x.detach()");
    return keptCopy(shp.detach(this), DETACHED);
  }

  /** Sets `requiresGrad` in place; returns this. */
  requiresGrad_(flag = true): this {
    if (typeof flag !== "boolean") {
      throw new Error(`requiresGrad_: flag must be true or false, got ${String(flag)}`);
    }
    if (flag && this.dtype !== "float32") {
      throw new Error(
        `requiresGrad_: only float32 tensors can require gradients, got ${this.dtype}`,
      );
    }
    if (this.gradFn !== null && this.requiresGrad !== flag) {
      // As torch: turning it off here would cut the graph it belongs to.
      throw new Error(
        "requiresGrad_: only leaf tensors can change it (this one was made by " +
          `'${this.gradFn.name}'); use .detach() for a copy outside the graph`,
      );
    }
    this.#requiresGrad = flag;
    return this;
  }

  // ---- elementwise ----

  /**
   * Adds a tensor (broadcasting) or a number; `{ alpha }` scales it first
   * (torch's `x.add(y, alpha=2)`).
   */
  add(other: Tensor | number, options: { alpha?: number } = {}): Tensor {
    atMost("add", arguments.length, 2, "x.add(y, { alpha: 2 })");
    return ew.add(this, scaled("add", operand("add", other), options, this));
  }
  /** start + weight (end - start) (torch's `lerp`). */
  lerp(end: Tensor, weight: Tensor | number): Tensor {
    atMost("lerp", arguments.length, 2, "x.lerp(end, 0.1)");
    return lerpOp(this, end, weight);
  }
  /** Subtracts a tensor (broadcasting) or a number; `{ alpha }` scales it first. */
  sub(other: Tensor | number, options: { alpha?: number } = {}): Tensor {
    atMost("sub", arguments.length, 2, "x.sub(y, { alpha: 2 })");
    return ew.sub(this, scaled("sub", operand("sub", other), options, this));
  }
  /** Multiplies by a tensor (broadcasting) or a number. */
  mul(other: Tensor | number): Tensor {
    atMost("mul", arguments.length, 1, "x.mul(y)");
    return ew.mul(this, operand("mul", other));
  }
  /**
   * Divides by a tensor (broadcasting) or a number: true division, or
   * rounded with `{ roundingMode: "trunc" | "floor" }` (torch's
   * `rounding_mode=`; int32 operands then give int32).
   */
  div(other: Tensor | number, options?: DivOptions): Tensor {
    atMost("div", arguments.length, 2, 'x.div(y) or x.div(y, { roundingMode: "floor" })');
    if (options === undefined) return ew.div(this, operand("div", other));
    return divRounded("x.div", this, operand("div", other), options);
  }
  /** Raises to a number power. */
  pow(exponent: Tensor | number): Tensor {
    atMost("pow", arguments.length, 1, "x.pow(2)");
    return pow(this, exponent);
  }
  /** Elementwise maximum with broadcasting. */
  maximum(other: Tensor): Tensor {
    atMost("maximum", arguments.length, 1, "x.maximum(y)");
    tensorOperand("maximum", other, "x.clampMin(0)");
    return ew.maximum(this, other);
  }
  /** Elementwise minimum with broadcasting. */
  minimum(other: Tensor): Tensor {
    atMost("minimum", arguments.length, 1, "x.minimum(y)");
    tensorOperand("minimum", other, "x.clampMax(1)");
    return ew.minimum(this, other);
  }
  /** 1 where equal, else 0 (float32, no gradient). */
  eq(other: Tensor | number): Tensor {
    atMost("eq", arguments.length, 1, "x.eq(y)");
    return cmp.eq(this, operand("eq", other));
  }
  /** 1 where greater, else 0 (float32, no gradient). */
  gt(other: Tensor | number): Tensor {
    atMost("gt", arguments.length, 1, "x.gt(y)");
    return cmp.gt(this, operand("gt", other));
  }
  /** 1 where less, else 0 (float32, no gradient). */
  lt(other: Tensor | number): Tensor {
    atMost("lt", arguments.length, 1, "x.lt(y)");
    return cmp.lt(this, operand("lt", other));
  }
  /** 1 where greater or equal, else 0 (float32, no gradient). */
  ge(other: Tensor | number): Tensor {
    atMost("ge", arguments.length, 1, "x.ge(y)");
    return cmp.ge(this, operand("ge", other));
  }
  /** 1 where less or equal, else 0 (float32, no gradient). */
  le(other: Tensor | number): Tensor {
    atMost("le", arguments.length, 1, "x.le(y)");
    return cmp.le(this, operand("le", other));
  }
  /** 1 where not equal (NaN included), else 0 (float32, no gradient). */
  ne(other: Tensor | number): Tensor {
    atMost("ne", arguments.length, 1, "x.ne(y)");
    return cmp.ne(this, operand("ne", other));
  }
  /** Limited to [min, max]; leave one bound out with null (see `clamp`). */
  clamp(min?: number | null, max?: number | null): Tensor {
    atMost("clamp", arguments.length, 2, "x.clamp(0, 1)");
    return clamp(this, min, max);
  }
  /** Limited from below (`clamp(min)`). */
  clampMin(min: number): Tensor {
    atMost("clampMin", arguments.length, 1, "x.clampMin(0)");
    return clampMin(this, min);
  }
  /** Limited from above (`clamp(null, max)`). */
  clampMax(max: number): Tensor {
    atMost("clampMax", arguments.length, 1, "x.clampMax(1)");
    return clampMax(this, max);
  }
  /** This tensor where `condition` is nonzero, `other` elsewhere (`where(condition, this, other)`). */
  where(condition: Tensor, other: Tensor | number): Tensor {
    atMost("where", arguments.length, 2, "x.where(condition, other)");
    return where(condition, this, other);
  }
  /** 1 where NaN, else 0 (float32, no gradient). */
  isnan(): Tensor {
    atMost("isnan", arguments.length, 0, "x.isnan()");
    return nonfinite.isnan(this);
  }
  /** 1 where +inf or -inf, else 0 (float32, no gradient). */
  isinf(): Tensor {
    atMost("isinf", arguments.length, 0, "x.isinf()");
    return nonfinite.isinf(this);
  }
  /** 1 where neither NaN nor infinite, else 0 (float32, no gradient). */
  isfinite(): Tensor {
    atMost("isfinite", arguments.length, 0, "x.isfinite()");
    return nonfinite.isfinite(this);
  }
  /** NaN, +inf and -inf replaced (`torch.nan_to_num`; see `functional.nanToNum`). */
  nanToNum(options?: nonfinite.NanToNumOptions): Tensor {
    atMost("nanToNum", arguments.length, 1, "x.nanToNum({ nan: 0, posinf: 1, neginf: -1 })");
    return nonfinite.nanToNum(this, options);
  }
  /** Negation. */
  neg(): Tensor {
    atMost("neg", arguments.length, 0, "x.neg()");
    return ew.neg(this);
  }
  /** e to the power of each element. */
  exp(): Tensor {
    atMost("exp", arguments.length, 0, "x.exp()");
    return ew.exp(this);
  }
  /** Natural logarithm. */
  log(): Tensor {
    atMost("log", arguments.length, 0, "x.log()");
    return ew.log(this);
  }
  /** Square root. */
  sqrt(): Tensor {
    atMost("sqrt", arguments.length, 0, "x.sqrt()");
    return ew.sqrt(this);
  }
  /** Absolute value. */
  abs(): Tensor {
    atMost("abs", arguments.length, 0, "x.abs()");
    return ew.abs(this);
  }
  /** max(x, 0). */
  relu(): Tensor {
    atMost("relu", arguments.length, 0, "x.relu()");
    return ew.relu(this);
  }
  /** 1 / (1 + e^-x). */
  sigmoid(): Tensor {
    atMost("sigmoid", arguments.length, 0, "x.sigmoid()");
    return ew.sigmoid(this);
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    atMost("tanh", arguments.length, 0, "x.tanh()");
    return ew.tanh(this);
  }

  // ---- reductions ----

  /** Sum over `dims` (all when omitted). */
  sum(dims?: number | number[], keepDim = false): Tensor {
    atMost("sum", arguments.length, 2, "x.sum(dims, keepDim)");
    return red.sum(this, dims, keepDim);
  }
  /** Mean over `dims` (all when omitted). */
  mean(dims?: number | number[], keepDim = false): Tensor {
    atMost("mean", arguments.length, 2, "x.mean(dims, keepDim)");
    return red.mean(this, dims, keepDim);
  }
  /**
   * Maximum over `dims` (all when omitted). Over one dim it is
   * `torch.max(x, dim).values`, the gradient going to the first maximum;
   * over all or several dims ties share it (`amax` shares it always).
   */
  max(dims?: number | number[], keepDim = false): Tensor {
    atMost("max", arguments.length, 2, "x.max(dims, keepDim) (values; x.argmax(dim) the indices)");
    return red.max(this, dims, keepDim);
  }
  /** Minimum over `dims` (all when omitted); the gradient as `max`'s. */
  min(dims?: number | number[], keepDim = false): Tensor {
    atMost("min", arguments.length, 2, "x.min(dims, keepDim)");
    return red.min(this, dims, keepDim);
  }

  /** Maximum over `dims`, a tie sharing the gradient (`torch.amax`). */
  amax(dims?: number | number[], keepDim = false): Tensor {
    atMost("amax", arguments.length, 2, "x.amax(dims, keepDim)");
    return red.amax(this, dims, keepDim);
  }

  /** Minimum over `dims`, a tie sharing the gradient (`torch.amin`). */
  amin(dims?: number | number[], keepDim = false): Tensor {
    atMost("amin", arguments.length, 2, "x.amin(dims, keepDim)");
    return red.amin(this, dims, keepDim);
  }
  /**
   * Variance over `dims` (all when omitted), in torch's positional order
   * `(dim, unbiased, keepdim)`: unbiased (N - 1) unless `unbiased` is false,
   * so a ported `x.var(1, False)` is `x.var(1, false)` (`torch.var`).
   */
  var(dims?: number | number[], unbiased = true, keepDim = false): Tensor {
    atMost("var", arguments.length, 3, "x.var(dims, unbiased, keepDim)");
    return stats.variance(this, dims, unbiased, keepDim);
  }
  /** Standard deviation over `dims`; the arguments as `var`'s (`torch.std`). */
  std(dims?: number | number[], unbiased = true, keepDim = false): Tensor {
    atMost("std", arguments.length, 3, "x.std(dims, unbiased, keepDim)");
    return stats.std(this, dims, unbiased, keepDim);
  }
  /** Index of the first maximum along `dim` (int32); all elements when omitted. */
  argmax(dim?: number, keepDim = false): Tensor {
    atMost("argmax", arguments.length, 2, "x.argmax(dim, keepDim)");
    return red.argmax(this, dim, keepDim);
  }
  /** Softmax along `dim`. */
  softmax(dim: number): Tensor {
    atMost("softmax", arguments.length, 1, "x.softmax(dim)");
    return sm.softmax(this, dim);
  }
  /** Log of the softmax along `dim`, computed stably. */
  logSoftmax(dim: number): Tensor {
    atMost("logSoftmax", arguments.length, 1, "x.logSoftmax(dim)");
    return sm.logSoftmax(this, dim);
  }

  // ---- indexing and ordering ----

  /** Values at int32 `index` along `dim` (`torch.gather`; see `gather`). */
  gather(dim: number, index: Tensor): Tensor {
    atMost("gather", arguments.length, 2, "x.gather(dim, index)");
    return gth.gather(this, dim, index);
  }
  /** Slices along `dim` at a 1-D int32 `index` (`torch.index_select`). */
  indexSelect(dim: number, index: Tensor): Tensor {
    atMost("indexSelect", arguments.length, 2, "x.indexSelect(dim, index)");
    return gth.indexSelect(this, dim, index);
  }
  /** Reversed along `dims` (`torch.flip`): `x.flip([3])` mirrors [N, C, H, W] left to right. */
  flip(dims: number | number[]): Tensor {
    atMost("flip", arguments.length, 1, "x.flip([2, 3])");
    return reorder.flip(this, dims);
  }
  /** Shifted circularly along `dims` (`torch.roll`; flattened without dims). */
  roll(shifts: number | number[], dims?: number | number[]): Tensor {
    atMost("roll", arguments.length, 2, "x.roll([1, -1], [2, 3])");
    return reorder.roll(this, shifts, dims);
  }
  /** Sorted along `dim` (default the last): values and int32 indices (`torch.sort`). */
  sort(dim = -1, descending = false): sorting.ValuesIndices {
    atMost(
      "sort",
      arguments.length,
      2,
      "x.sort(dim, descending) (always stable: torch's stable=True)",
    );
    return sorting.sort(this, dim, descending);
  }
  /** The int32 indices that sort along `dim` (`torch.argsort`). */
  argsort(dim = -1, descending = false): Tensor {
    atMost("argsort", arguments.length, 2, "x.argsort(dim, descending) (always stable)");
    return sorting.argsort(this, dim, descending);
  }
  /** The k largest (or smallest) along `dim`, in order, with int32 indices (`torch.topk`). */
  topk(k: number, dim = -1, largest = true, sorted = true): sorting.ValuesIndices {
    atMost("topk", arguments.length, 4, "x.topk(5, 1)");
    return sorting.topk(this, k, dim, largest, sorted);
  }
  /** `value` where `mask` is nonzero, x elsewhere (`torch.masked_fill`). */
  maskedFill(mask: Tensor, value: number | Tensor): Tensor {
    atMost("maskedFill", arguments.length, 2, "x.maskedFill(mask, 0)");
    return maskedFill(this, mask, value);
  }
  /**
   * `maskedFill` in place (torch's `masked_fill_`: `scores.masked_fill_(mask,
   * -Infinity)`); inside `noGrad` where autograd records.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * const x = tensor([1, -2, 3]);
   * x.maskedFill_(x.lt(0), 0);
   * console.log(x.toList()); // [1, 0, 3]
   * ```
   */
  maskedFill_(mask: Tensor, value: number | Tensor): this {
    atMost("maskedFill_", arguments.length, 2, "x.maskedFill_(mask, 0)");
    const inputs = value instanceof Tensor ? [mask, value] : [mask];
    return inPlace(this, "maskedFill_", inputs, () => maskedFill(this, mask, value)) as this;
  }
  /**
   * The slices at int32 `index` along `dim` set to `value`, x elsewhere
   * (torch's `index_fill`; negative indices count from the end).
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * const i = tensor([0, 2], undefined, { dtype: "int32" });
   * console.log(tensor([[1, 2, 3], [4, 5, 6]]).indexFill(1, i, -1).toList()); // [[-1, 2, -1], [-1, 5, -1]]
   * ```
   */
  indexFill(dim: number, index: Tensor, value: number | Tensor): Tensor {
    atMost("indexFill", arguments.length, 3, "x.indexFill(1, index, -1)");
    return mOps.indexFill(this, dim, index, value);
  }
  /** `indexFill` in place (torch's `index_fill_`); inside `noGrad` where autograd records. */
  indexFill_(dim: number, index: Tensor, value: number | Tensor): this {
    atMost("indexFill_", arguments.length, 3, "x.indexFill_(1, index, -1)");
    const inputs = value instanceof Tensor ? [value] : [];
    return inPlace(
      this,
      "indexFill_",
      inputs,
      () => mOps.indexFill(this, dim, index, value),
    ) as this;
  }
  /**
   * The elements of x read as if flattened, at int32 `index` (any shape,
   * negative counting from the end), in index's shape (torch's `take`).
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * const x = tensor([[4, 3, 5], [6, 7, 8]]);
   * console.log(x.take(tensor([0, 2, -1], undefined, { dtype: "int32" })).toList()); // [4, 5, 8]
   * ```
   */
  take(index: Tensor): Tensor {
    atMost("take", arguments.length, 1, "x.take(index)");
    return mOps.take(this, index);
  }
  /**
   * Every window of `size` elements along `dim`, `step` apart, as a view
   * with the windows' elements in a new last dimension (torch's
   * `x.unfold(dimension, size, step)`; `F.unfold` is the image patches').
   *
   * @example
   * ```ts
   * import { arange } from "@lits/vision";
   * console.log(arange(1, 8).unfold(0, 2, 2).toList()); // [[1, 2], [3, 4], [5, 6]]
   * ```
   */
  unfold(dim: number, size: number, step: number): Tensor {
    atMost("unfold", arguments.length, 3, "x.unfold(dim, size, step)");
    if (arguments.length < 3) {
      throw new Error(
        `x.unfold: takes (dim, size, step), got ${arguments.length} arguments; write ` +
          "x.unfold(0, 2, 1) (F.unfold(x, kernelSize) for image patches)",
      );
    }
    return keptForm(mOps.unfoldView(this, dim, size, step), this);
  }
  /**
   * Uniform numbers in [from, to) written into x (torch's `uniform_`, float32
   * only); inside `noGrad` where autograd records.
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * const v = zeros([100]).uniform_(-1, 1).toArray();
   * console.log(v.every((e) => e >= -1 && e < 1)); // true
   * ```
   */
  uniform_(from = 0, to = 1): this {
    atMost("uniform_", arguments.length, 2, "x.uniform_(-0.1, 0.1)");
    return mOps.uniformIn(this, from, to) as this;
  }
  /**
   * Normal numbers N(mean, std^2) written into x (torch's `normal_`, float32
   * only); inside `noGrad` where autograd records.
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * console.log(zeros([3]).normal_(0, 0).toList()); // [0, 0, 0]
   * ```
   */
  normal_(mean = 0, std = 1): this {
    atMost("normal_", arguments.length, 2, "x.normal_(0, 0.02)");
    return mOps.normalIn(this, mean, std) as this;
  }

  // ---- linear algebra ----

  /**
   * Matrix product with `torch.matmul`'s rules: vectors (a dot product, a
   * row or a column), matrices, and batches whose leading dimensions
   * broadcast.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * console.log(tensor([[1, 2], [3, 4]]).matmul(tensor([1, 1])).toList()); // [3, 7]
   * ```
   */
  matmul(other: Tensor): Tensor {
    atMost("matmul", arguments.length, 1, "x.matmul(other)");
    return mm.matmul(this, other);
  }
  /** Matrix product of two 2-D tensors (torch's `mm`). */
  mm(other: Tensor): Tensor {
    atMost("mm", arguments.length, 1, "a.mm(b)");
    return mm.mm(this, other);
  }
  /** Batched matrix product of two 3-D tensors (torch's `bmm`). */
  bmm(other: Tensor): Tensor {
    atMost("bmm", arguments.length, 1, "a.bmm(b)");
    return mm.bmm(this, other);
  }

  // ---- shape ----

  /** Same elements in a new shape (-1 infers one size); a view when possible. */
  reshape(...shape: number[] | [number[]]): Tensor {
    return keptForm(shp.reshape(this, shape.flat()), this);
  }

  /**
   * The same memory seen with another shape (torch's `view`; -1 infers one
   * size; writes through it reach `x`). Non-contiguous tensors view where
   * torch's do (a transposed, sliced or expanded tensor whose dimensions
   * are merged only where memory steps evenly, or split); elsewhere it
   * throws, as torch's, and `reshape` copies.
   *
   * @example
   * ```ts
   * import { arange } from "@lits/vision";
   * const nhwc = arange(48).reshape(2, 2, 3, 4).permute(0, 2, 3, 1);
   * console.log(nhwc.view(2, 12, 2).stride()); // [24, 1, 12]
   * ```
   */
  view(...shape: number[] | [number[]]): Tensor {
    if (typeof (shape as unknown[])[0] === "string") {
      // torch's x.view(torch.int32) reinterprets the bytes; it said "invalid shape [int32]".
      throw new Error(
        `view: takes a shape, got the dtype ${JSON.stringify(shape[0])}; torch's ` +
          "x.view(dtype) reinterprets the bits, which has no counterpart here: x.int() or " +
          "x.float() converts the values",
      );
    }
    return keptForm(viewAsShape(this, shp.inferShape(this, shape.flat(), "view")), this);
  }

  /**
   * Repeats the tensor along each dimension (torch's `repeat`; more counts
   * than dimensions add leading ones): `x.repeat(1, 3, 1, 1)` makes a grey
   * [N, 1, H, W] batch three-channel.
   */
  repeat(...counts: number[] | [number[]]): Tensor {
    const reps = counts.flat();
    if (reps.length < this.ndim || !reps.every((r) => Number.isInteger(r) && r >= 0)) {
      throw new Error(
        `repeat: needs one count >= 0 per dimension of [${this.shape}] (or more), got [${reps}]`,
      );
    }
    checkDims(reps.length, "repeat");
    const shape = [...Array(reps.length - this.ndim).fill(1), ...this.shape];
    // torch's repeat always copies: counts of 1 made a view, and a write into it reached x.
    if (reps.every((r) => r === 1)) return shp.clone(shp.reshape(this, shape));
    if (2 * shape.length > 8) {
      // The interleaved form below would have more than 8 dimensions: one
      // dimension at a time, each as [before, 1, s, after] expanded.
      let out: Tensor = shp.reshape(this, shape);
      for (let i = 0; i < shape.length; i++) {
        if (reps[i] === 1) continue;
        const before = numel(shape.slice(0, i)), after = numel(shape.slice(i + 1));
        const wide = shp.expand(shp.reshape(out, [before, 1, shape[i], after]), [
          before,
          reps[i],
          shape[i],
          after,
        ]);
        shape[i] *= reps[i];
        out = shp.reshape(wide, [...shape]);
      }
      return out;
    }
    // [s0, s1, ...] -> [1, s0, 1, s1, ...] -> expanded [r0, s0, r1, s1, ...] -> [r0 s0, r1 s1, ...]
    const spread = shp.reshape(this, shape.flatMap((s) => [1, s]));
    const wide = shp.expand(spread, shape.flatMap((s, i) => [reps[i], s]));
    return shp.reshape(wide, shape.map((s, i) => s * reps[i]));
  }

  /** Number of dimensions (torch's `dim()`; also `ndim`). */
  dim(): number {
    return this.ndim;
  }

  /**
   * torch 1.13's `x.T`: `x.t()` for at most 2 dimensions (a matrix
   * transposed, fewer dimensions: itself), all dimensions reversed for more
   * (a view; torch deprecates that use in later releases: write
   * `x.permute(...)` or `x.transpose(-2, -1)` for batches of matrices).
   *
   * @example
   * ```ts
   * import { tensor, zeros } from "@lits/vision";
   * console.log(tensor([[1, 2, 3], [4, 5, 6]]).T.toList()); // [[1, 4], [2, 5], [3, 6]]
   * console.log(zeros([2, 3, 4]).T.shape); // [4, 3, 2]
   * ```
   */
  get T(): Tensor {
    return this.ndim <= 2 ? this.t() : this.permute([...this.shape.keys()].reverse());
  }

  /**
   * The last two dimensions swapped (torch's `x.mT`, a view): a batch of
   * matrices transposed.
   *
   * @example
   * ```ts
   * import { zeros } from "@lits/vision";
   * console.log(zeros([5, 2, 3]).mT.shape); // [5, 3, 2]
   * ```
   */
  get mT(): Tensor {
    if (this.ndim < 2) {
      throw new Error(`x.mT: expects a tensor of at least 2 dimensions, got [${this.shape}]`);
    }
    return this.transpose(-2, -1);
  }

  /** A 2-D tensor transposed (torch's `t()`; fewer dimensions: itself). */
  t(): Tensor {
    if (this.ndim > 2) {
      throw new Error(`t: expects a tensor of at most 2 dimensions, got [${this.shape}]`);
    }
    return this.ndim < 2 ? this : this.transpose(0, 1);
  }

  /** On the CPU (`to("cpu")`). */
  cpu(): Tensor {
    return this.to("cpu");
  }
  /** Flattens dimensions `startDim..endDim` into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    atMost("flatten", arguments.length, 2, "x.flatten(startDim, endDim)");
    return keptForm(shp.flatten(this, startDim, endDim), this);
  }
  /** Reorders dimensions (a view). */
  permute(...dims: number[] | [number[]]): Tensor {
    return keptForm(shp.permute(this, dims.flat()), this);
  }
  /** Swaps two dimensions (a view). */
  transpose(dim0: number, dim1: number): Tensor {
    atMost("transpose", arguments.length, 2, "x.transpose(dim0, dim1) (x.permute(...) for more)");
    return keptForm(shp.transpose(this, dim0, dim1), this);
  }
  /** A dense copy when the layout is not row-major, else itself. */
  contiguous(): Tensor {
    // torch's memory_format (channels_last) has no counterpart: tensors are row-major.
    atMost("contiguous", arguments.length, 0, "x.contiguous() (row-major; no memory_format)");
    return keptForm(shp.contiguous(this), this);
  }
  /**
   * Elements `start..end` along the first dimension (a view), as Python's
   * `x[start:end]`: negative indices count from the end, and both are
   * clamped to the dimension (`x.slice(-2)` is the last two).
   */
  slice(start: number, end?: number): Tensor {
    // torch's C++ slice(dim, start, end) would silently cut the first dimension.
    atMost(
      "slice",
      arguments.length,
      2,
      "x.slice(start, end), torch's x[start:end]; " +
        "for another dimension x.narrow(dim, start, length)",
    );
    if (this.ndim === 0) throw new Error("slice: a 0-d tensor has no dimension to slice");
    const n = this.shape[0];
    const at = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
    const a = at(start), b = at(end ?? n);
    // x0 = X[0:1] of a tensor in no graph is the user's piece, as torch's (the step freed it).
    return keptCopy(shp.narrow(this, 0, a, Math.max(0, b - a)), this, false);
  }
  /** `length` elements from `start` along `dim` (a view). */
  narrow(dim: number, start: number, length: number): Tensor {
    atMost("narrow", arguments.length, 3, "x.narrow(dim, start, length)");
    return keptCopy(shp.narrow(this, dim, start, length), this, false);
  }

  /**
   * The slice at `index` along `dim`, that dimension removed (torch's
   * `select`, and its `x[:, c]`): `logits.select(1, c)` is class c's scores.
   */
  select(dim: number, index: number): Tensor {
    atMost("select", arguments.length, 2, "x.select(dim, index)");
    const d = shp.normDim(dim, this.ndim, "select");
    const n = this.shape[d];
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new Error(`select: index ${index} is out of range for dimension ${d} of size ${n}`);
    }
    const piece = shp.squeeze(shp.narrow(this, d, index < 0 ? index + n : index, 1), d);
    return keptCopy(piece, this, false);
  }
  /** Views cut along `dim`: pieces of `splitSize`, or of the given sizes (`torch.split`). */
  split(splitSizeOrSections: number | number[], dim = 0): Tensor[] {
    atMost("split", arguments.length, 2, "x.split(2, dim) or x.split([1, 3], dim)");
    return splits.split(this, splitSizeOrSections, dim).map((v) => keptCopy(v, this, false));
  }
  /** At most `chunks` views cut along `dim`, of size ceil(n / chunks) (`torch.chunk`). */
  chunk(chunks: number, dim = 0): Tensor[] {
    atMost("chunk", arguments.length, 2, "x.chunk(chunks, dim)");
    return splits.chunk(this, chunks, dim).map((v) => keptCopy(v, this, false));
  }
  /** Inserts a dimension of size 1. */
  unsqueeze(dim: number): Tensor {
    atMost("unsqueeze", arguments.length, 1, "x.unsqueeze(dim)");
    return keptForm(shp.unsqueeze(this, dim), this);
  }
  /**
   * Removes dimensions of size 1: all, `dim` only, or those of a list
   * (torch 2's `x.squeeze((0, 2))`; listed dimensions of another size stay).
   */
  squeeze(dim?: number | number[]): Tensor {
    atMost("squeeze", arguments.length, 1, "x.squeeze(dim) or x.squeeze([0, 2])");
    if (Array.isArray(dim)) {
      const dims = dim.map((d) => shp.normDim(d, this.ndim, "squeeze"));
      if (new Set(dims).size !== dims.length) {
        throw new Error(`squeeze: dimension repeated in [${dim}]`);
      }
      // From the last, so that the earlier dimensions keep their numbers.
      let out = shp.permute(this, [...this.shape.keys()]); // a view, an empty list too
      for (const d of dims.sort((a, b) => b - a)) out = shp.squeeze(out, d);
      return keptForm(out, this);
    }
    return keptForm(shp.squeeze(this, dim), this);
  }
  /**
   * `unsqueeze` in place: this tensor takes the new shape (torch's
   * `unsqueeze_`); refused in the autograd graph, where `x = x.unsqueeze(0)`
   * is written (see ops/in_place_shape.ts).
   */
  unsqueeze_(dim: number): this {
    atMost("unsqueeze_", arguments.length, 1, "x.unsqueeze_(dim)");
    return unsqueezeInPlace(this, dim) as this;
  }
  /** `squeeze` in place (torch's `squeeze_`; as `unsqueeze_`). */
  squeeze_(dim?: number): this {
    atMost("squeeze_", arguments.length, 1, "x.squeeze_(dim)");
    return squeezeInPlace(this, dim) as this;
  }
  /** Broadcasts to a larger shape (a view with zero strides). */
  expand(...shape: number[] | [number[]]): Tensor {
    return keptForm(shp.expand(this, shape.flat()), this);
  }
  // ---- in place (outside autograd; see ops/in_place_ops.ts) ----

  /** `x += other * alpha` in place (torch's `add_`); inside `noGrad` where autograd is on. */
  add_(other: Tensor | number, options: { alpha?: number } = {}): this {
    atMost("add_", arguments.length, 2, "x.add_(y, { alpha: 0.01 })");
    return inPlace(this, "add_", [other], () => this.add(other, options)) as this;
  }
  /** `x -= other * alpha` in place (torch's `sub_`). */
  sub_(other: Tensor | number, options: { alpha?: number } = {}): this {
    atMost("sub_", arguments.length, 2, "x.sub_(y, { alpha: 0.01 })");
    return inPlace(this, "sub_", [other], () => this.sub(other, options)) as this;
  }
  /** `x *= other` in place (torch's `mul_`). */
  mul_(other: Tensor | number): this {
    atMost("mul_", arguments.length, 1, "x.mul_(0.99)");
    return inPlace(this, "mul_", [other], () => this.mul(other)) as this;
  }
  /** `x /= other` in place (torch's `div_`). */
  div_(other: Tensor | number, options?: DivOptions): this {
    atMost("div_", arguments.length, 2, 'x.div_(2) or x.div_(2, { roundingMode: "floor" })');
    return inPlace(this, "div_", [other], () => this.div(other, options)) as this;
  }
  /** Moves toward `end` by `weight` in place (torch's `lerp_`): `ema.lerp_(p, 1 - decay)`. */
  lerp_(end: Tensor, weight: Tensor | number): this {
    atMost("lerp_", arguments.length, 2, "x.lerp_(end, 0.1)");
    return inPlace(this, "lerp_", [end, weight], () => lerpOp(this, end, weight)) as this;
  }
  /**
   * 1 with probability `p` (a number, or a tensor of probabilities), else 0,
   * written in place (torch's `bernoulli_`: a dropout or drop-path mask,
   * `x.newEmpty([n, 1, 1, 1]).bernoulli_(keep)`).
   */
  bernoulli_(p: Tensor | number = 0.5): this {
    atMost("bernoulli_", arguments.length, 1, "x.bernoulli_(0.8)");
    const draws = () =>
      p instanceof Tensor
        ? bern.bernoulli(p.shape.join() === this.shape.join() ? p : p.expand([...this.shape]))
        : bern.bernoulliMask([...this.shape], p, this.device);
    return inPlace(this, "bernoulli_", [], draws) as this;
  }
  /** max(x, 0) in place (torch's `relu_`). */
  relu_(): this {
    atMost("relu_", arguments.length, 0, "x.relu_()");
    return inPlace(this, "relu_", [], () => this.relu()) as this;
  }
  /** `x.exp()` in place (torch's `exp_`). */
  exp_(): this {
    atMost("exp_", arguments.length, 0, "x.exp_()");
    return inPlace(this, "exp_", [], () => this.exp()) as this;
  }
  /** `x.log()` in place (torch's `log_`). */
  log_(): this {
    atMost("log_", arguments.length, 0, "x.log_()");
    return inPlace(this, "log_", [], () => this.log()) as this;
  }
  /** `x.sqrt()` in place (torch's `sqrt_`). */
  sqrt_(): this {
    atMost("sqrt_", arguments.length, 0, "x.sqrt_()");
    return inPlace(this, "sqrt_", [], () => this.sqrt()) as this;
  }
  /** `x.rsqrt()` in place (torch's `rsqrt_`). */
  rsqrt_(): this {
    atMost("rsqrt_", arguments.length, 0, "x.rsqrt_()");
    return inPlace(this, "rsqrt_", [], () => this.rsqrt()) as this;
  }
  /** `x.abs()` in place (torch's `abs_`). */
  abs_(): this {
    atMost("abs_", arguments.length, 0, "x.abs_()");
    return inPlace(this, "abs_", [], () => this.abs()) as this;
  }
  /** `x.neg()` in place (torch's `neg_`). */
  neg_(): this {
    atMost("neg_", arguments.length, 0, "x.neg_()");
    return inPlace(this, "neg_", [], () => this.neg()) as this;
  }
  /** `x.sigmoid()` in place (torch's `sigmoid_`). */
  sigmoid_(): this {
    atMost("sigmoid_", arguments.length, 0, "x.sigmoid_()");
    return inPlace(this, "sigmoid_", [], () => this.sigmoid()) as this;
  }
  /** `x.tanh()` in place (torch's `tanh_`). */
  tanh_(): this {
    atMost("tanh_", arguments.length, 0, "x.tanh_()");
    return inPlace(this, "tanh_", [], () => this.tanh()) as this;
  }
  /** `x.sin()` in place (torch's `sin_`). */
  sin_(): this {
    atMost("sin_", arguments.length, 0, "x.sin_()");
    return inPlace(this, "sin_", [], () => this.sin()) as this;
  }
  /** `x.cos()` in place (torch's `cos_`). */
  cos_(): this {
    atMost("cos_", arguments.length, 0, "x.cos_()");
    return inPlace(this, "cos_", [], () => this.cos()) as this;
  }
  /** `x.floor()` in place (torch's `floor_`). */
  floor_(): this {
    atMost("floor_", arguments.length, 0, "x.floor_()");
    return inPlace(this, "floor_", [], () => this.floor()) as this;
  }
  /** `x.ceil()` in place (torch's `ceil_`). */
  ceil_(): this {
    atMost("ceil_", arguments.length, 0, "x.ceil_()");
    return inPlace(this, "ceil_", [], () => this.ceil()) as this;
  }
  /** `x.round()` in place (torch's `round_`). */
  round_(options?: rounding.RoundOptions): this {
    atMost("round_", arguments.length, 1, "x.round_() or x.round_({ decimals: 2 })");
    return inPlace(this, "round_", [], () => this.round(options)) as this;
  }
  /** `x.trunc()` in place (torch's `trunc_`). */
  trunc_(): this {
    atMost("trunc_", arguments.length, 0, "x.trunc_()");
    return inPlace(this, "trunc_", [], () => this.trunc()) as this;
  }
  /** `x.sign()` in place (torch's `sign_`). */
  sign_(): this {
    atMost("sign_", arguments.length, 0, "x.sign_()");
    return inPlace(this, "sign_", [], () => this.sign()) as this;
  }
  /** `x.reciprocal()` in place (torch's `reciprocal_`). */
  reciprocal_(): this {
    atMost("reciprocal_", arguments.length, 0, "x.reciprocal_()");
    return inPlace(this, "reciprocal_", [], () => this.reciprocal()) as this;
  }
  /** `x.log1p()` in place (torch's `log1p_`). */
  log1p_(): this {
    atMost("log1p_", arguments.length, 0, "x.log1p_()");
    return inPlace(this, "log1p_", [], () => this.log1p()) as this;
  }
  /** `x.expm1()` in place (torch's `expm1_`). */
  expm1_(): this {
    atMost("expm1_", arguments.length, 0, "x.expm1_()");
    return inPlace(this, "expm1_", [], () => this.expm1()) as this;
  }
  /** `x.square()` in place (torch's `square_`). */
  square_(): this {
    atMost("square_", arguments.length, 0, "x.square_()");
    return inPlace(this, "square_", [], () => this.square()) as this;
  }
  /** `x.frac()` in place (torch's `frac_`). */
  frac_(): this {
    atMost("frac_", arguments.length, 0, "x.frac_()");
    return inPlace(this, "frac_", [], () => this.frac()) as this;
  }
  /** `x.pow(exponent)` in place (torch's `pow_`). */
  pow_(exponent: Tensor | number): this {
    atMost("pow_", arguments.length, 1, "x.pow_(2)");
    const inputs = exponent instanceof Tensor ? [exponent] : [];
    return inPlace(this, "pow_", inputs, () => this.pow(exponent)) as this;
  }
  /** `clamp_` under numpy's name (torch's `clip_`). */
  clip_(min?: number | null, max?: number | null): this {
    atMost("clip_", arguments.length, 2, "x.clip_(0, 1)");
    return inPlace(this, "clip_", [], () => this.clamp(min, max)) as this;
  }
  /** Limited to [min, max] in place (torch's `clamp_`). */
  clamp_(min?: number | null, max?: number | null): this {
    atMost("clamp_", arguments.length, 2, "x.clamp_(0, 1)");
    return inPlace(this, "clamp_", [], () => this.clamp(min, max)) as this;
  }
  /** `other`'s values (broadcast to this shape) in place (torch's `copy_`). */
  copy_(other: Tensor): this {
    atMost("copy_", arguments.length, 1, "x.copy_(y)");
    if (!(other instanceof Tensor)) throw new Error("x.copy_: takes a Tensor");
    // As torch's copy_, the values convert to x's dtype (float to int32 truncates).
    const value = () =>
      other.dtype === this.dtype ? other : this.dtype === "int32" ? other.int() : other.float();
    return inPlace(this, "copy_", [other], value) as this;
  }
  /** Every element set to `value` (torch's `fill_`). */
  fill_(value: number): this {
    atMost("fill_", arguments.length, 1, "x.fill_(0)");
    return fillIn(this, "fill_", value) as this;
  }
  /** Every element set to 0 (torch's `zero_`). */
  zero_(): this {
    atMost("zero_", arguments.length, 0, "x.zero_()");
    return fillIn(this, "zero_", 0) as this;
  }

  /** The views along `dim`, one per index, without that dimension (torch's `unbind`). */
  unbind(dim = 0): Tensor[] {
    atMost("unbind", arguments.length, 1, "x.unbind(0)");
    const d = shp.normDim(dim, this.ndim, "unbind");
    return Array.from({ length: this.shape[d] }, (_, i) => this.select(d, i));
  }
  /** Zeros of `shape` with this tensor's dtype and device (torch's `new_zeros`). */
  newZeros(shape: number[]): Tensor {
    atMost("newZeros", arguments.length, 1, "x.newZeros([2, 3])");
    return full(shape, 0, { dtype: this.dtype, device: this.device });
  }
  /** Ones of `shape` with this tensor's dtype and device (torch's `new_ones`). */
  newOnes(shape: number[]): Tensor {
    atMost("newOnes", arguments.length, 1, "x.newOnes([2, 3])");
    return full(shape, 1, { dtype: this.dtype, device: this.device });
  }
  /** `value` everywhere in `shape`, this tensor's dtype and device (torch's `new_full`). */
  newFull(shape: number[], value: number): Tensor {
    atMost("newFull", arguments.length, 2, "x.newFull([2, 3], 0.5)");
    return full(shape, value, { dtype: this.dtype, device: this.device });
  }
  /**
   * A tensor of `shape` with this tensor's dtype and device (torch's
   * `new_empty`; zeros here, never uninitialised memory).
   */
  newEmpty(shape: number[]): Tensor {
    atMost("newEmpty", arguments.length, 1, "x.newEmpty([2, 3])");
    return full(shape, 0, { dtype: this.dtype, device: this.device });
  }
  /** Converted to `other`'s dtype (torch's `type_as`). */
  typeAs(other: Tensor): Tensor {
    atMost("typeAs", arguments.length, 1, "x.typeAs(y)");
    if (!(other instanceof Tensor)) throw new Error("x.typeAs: takes a Tensor");
    return other.dtype === this.dtype ? this : shp.cast(this, other.dtype);
  }
  /** Broadcast to `other`'s shape (torch's `expand_as`). */
  expandAs(other: Tensor): Tensor {
    atMost("expandAs", arguments.length, 1, "x.expandAs(y)");
    if (!(other instanceof Tensor)) throw new Error("x.expandAs: takes a Tensor");
    return shp.expand(this, [...other.shape]);
  }
  /** x * x (torch's `square`). */
  square(): Tensor {
    atMost("square", arguments.length, 0, "x.square()");
    return ew.mul(this, this);
  }
  /** 1 / sqrt(x) (torch's `rsqrt`). */
  rsqrt(): Tensor {
    atMost("rsqrt", arguments.length, 0, "x.rsqrt()");
    return ew.pow(this, -0.5);
  }
  /** log(1 + x), exact near 0 (torch's `log1p`). */
  log1p(): Tensor {
    atMost("log1p", arguments.length, 0, "x.log1p()");
    return ew.log1p(this);
  }
  /** e^x - 1, exact near 0 (torch's `expm1`). */
  expm1(): Tensor {
    atMost("expm1", arguments.length, 0, "x.expm1()");
    return ew.expm1(this);
  }
  /** sin x (torch's `sin`). */
  sin(): Tensor {
    atMost("sin", arguments.length, 0, "x.sin()");
    return trig.sin(this);
  }
  /** cos x (torch's `cos`). */
  cos(): Tensor {
    atMost("cos", arguments.length, 0, "x.cos()");
    return trig.cos(this);
  }
  /** 1 / x (torch's `reciprocal`). */
  reciprocal(): Tensor {
    atMost("reciprocal", arguments.length, 0, "x.reciprocal()");
    return trig.reciprocal(this);
  }
  /** tan x (torch's `tan`). */
  tan(): Tensor {
    atMost("tan", arguments.length, 0, "x.tan()");
    return trigMore.tan(this);
  }
  /** The arcsine, NaN outside [-1, 1] (torch's `asin`). */
  asin(): Tensor {
    atMost("asin", arguments.length, 0, "x.asin()");
    return trigMore.asin(this);
  }
  /** The arccosine, NaN outside [-1, 1] (torch's `acos`). */
  acos(): Tensor {
    atMost("acos", arguments.length, 0, "x.acos()");
    return trigMore.acos(this);
  }
  /** The arctangent (torch's `atan`). */
  atan(): Tensor {
    atMost("atan", arguments.length, 0, "x.atan()");
    return trigMore.atan(this);
  }
  /** The hyperbolic sine (torch's `sinh`). */
  sinh(): Tensor {
    atMost("sinh", arguments.length, 0, "x.sinh()");
    return trigMore.sinh(this);
  }
  /** The hyperbolic cosine (torch's `cosh`). */
  cosh(): Tensor {
    atMost("cosh", arguments.length, 0, "x.cosh()");
    return trigMore.cosh(this);
  }
  /** The inverse hyperbolic sine (torch's `asinh`). */
  asinh(): Tensor {
    atMost("asinh", arguments.length, 0, "x.asinh()");
    return trigMore.asinh(this);
  }
  /** The inverse hyperbolic cosine, NaN below 1 (torch's `acosh`). */
  acosh(): Tensor {
    atMost("acosh", arguments.length, 0, "x.acosh()");
    return trigMore.acosh(this);
  }
  /** The inverse hyperbolic tangent, ±inf at ±1 (torch's `atanh`). */
  atanh(): Tensor {
    atMost("atanh", arguments.length, 0, "x.atanh()");
    return trigMore.atanh(this);
  }
  /** The error function (torch's `erf`). */
  erf(): Tensor {
    atMost("erf", arguments.length, 0, "x.erf()");
    return trigMore.erf(this);
  }
  /** 1 - erf x, exact where erf x rounds to ±1 (torch's `erfc`). */
  erfc(): Tensor {
    atMost("erfc", arguments.length, 0, "x.erfc()");
    return trigMore.erfc(this);
  }
  /** The inverse error function, ±inf at ±1 (torch's `erfinv`). */
  erfinv(): Tensor {
    atMost("erfinv", arguments.length, 0, "x.erfinv()");
    return trigMore.erfinv(this);
  }
  /** torch's alias `arcsin` of `asin`. */
  arcsin(): Tensor {
    atMost("arcsin", arguments.length, 0, "x.arcsin()");
    return trigMore.arcsin(this);
  }
  /** torch's alias `arccos` of `acos`. */
  arccos(): Tensor {
    atMost("arccos", arguments.length, 0, "x.arccos()");
    return trigMore.arccos(this);
  }
  /** torch's alias `arctan` of `atan`. */
  arctan(): Tensor {
    atMost("arctan", arguments.length, 0, "x.arctan()");
    return trigMore.arctan(this);
  }
  /** torch's alias `arcsinh` of `asinh`. */
  arcsinh(): Tensor {
    atMost("arcsinh", arguments.length, 0, "x.arcsinh()");
    return trigMore.arcsinh(this);
  }
  /** torch's alias `arccosh` of `acosh`. */
  arccosh(): Tensor {
    atMost("arccosh", arguments.length, 0, "x.arccosh()");
    return trigMore.arccosh(this);
  }
  /** torch's alias `arctanh` of `atanh`. */
  arctanh(): Tensor {
    atMost("arctanh", arguments.length, 0, "x.arctanh()");
    return trigMore.arctanh(this);
  }
  /** The angle of the point (other, x) in (-pi, pi] (torch's `atan2`), broadcasting. */
  atan2(other: Tensor | number): Tensor {
    atMost("atan2", arguments.length, 1, "x.atan2(other)");
    return trigMore.atan2(this, other);
  }
  /** torch's alias `arctan2` of `atan2`. */
  arctan2(other: Tensor | number): Tensor {
    atMost("arctan2", arguments.length, 1, "x.arctan2(other)");
    return trigMore.arctan2(this, other);
  }
  /** Dimensions `dim0` and `dim1` swapped (torch's `swapaxes` / `swapdims`: `transpose`). */
  swapaxes(dim0: number, dim1: number): Tensor {
    atMost("swapaxes", arguments.length, 2, "x.swapaxes(1, 2)");
    return this.transpose(dim0, dim1);
  }
  /** Dimensions `dim0` and `dim1` swapped (torch's `swapdims`). */
  swapdims(dim0: number, dim1: number): Tensor {
    atMost("swapdims", arguments.length, 2, "x.swapdims(1, 2)");
    return this.transpose(dim0, dim1);
  }
  /**
   * Dimension `source` moved to `destination`, the others keeping their
   * order (torch's `movedim`; lists move several): channels-last is
   * `x.movedim(1, -1)`.
   */
  movedim(source: number | number[], destination: number | number[]): Tensor {
    atMost("movedim", arguments.length, 2, "x.movedim(1, -1)");
    const src = (Array.isArray(source) ? source : [source]).map((d) =>
      shp.normDim(d, this.ndim, "movedim")
    );
    const dst = (Array.isArray(destination) ? destination : [destination]).map((d) =>
      shp.normDim(d, this.ndim, "movedim")
    );
    if (src.length !== dst.length) {
      throw new Error(
        `movedim: source [${source}] and destination [${destination}] differ in length`,
      );
    }
    if (new Set(src).size !== src.length || new Set(dst).size !== dst.length) {
      throw new Error(`movedim: repeated dimension in [${source}] or [${destination}]`);
    }
    const order = new Array<number>(this.ndim).fill(-1);
    src.forEach((s, i) => (order[dst[i]] = s));
    const rest = [...this.shape.keys()].filter((d) => !src.includes(d));
    for (let i = 0, r = 0; i < order.length; i++) if (order[i] < 0) order[i] = rest[r++];
    return this.permute(order);
  }
  /** Rounded down (torch's `floor`; gradient 0). */
  floor(): Tensor {
    atMost("floor", arguments.length, 0, "x.floor()");
    return rounding.floor(this);
  }
  /** Rounded up (torch's `ceil`; gradient 0). */
  ceil(): Tensor {
    atMost("ceil", arguments.length, 0, "x.ceil()");
    return rounding.ceil(this);
  }
  /**
   * Rounded to the nearest integer, halves to even, or to `{ decimals }`
   * places (torch's `round`; gradient 0).
   */
  round(options?: rounding.RoundOptions): Tensor {
    atMost("round", arguments.length, 1, "x.round() or x.round({ decimals: 2 })");
    return options === undefined ? rounding.round(this) : rounding.round(this, options);
  }
  /** Rounded toward 0 (torch's `trunc`; gradient 0). */
  trunc(): Tensor {
    atMost("trunc", arguments.length, 0, "x.trunc()");
    return rounding.trunc(this);
  }
  /** -1, 0 or 1 (torch's `sign`; 0 for NaN; gradient 0). */
  sign(): Tensor {
    atMost("sign", arguments.length, 0, "x.sign()");
    return rounding.sign(this);
  }
  /** The median of all elements, or along `dim` with its indices (torch's `median`). */
  median(): Tensor;
  /** The median along `dim`, with the indices of the values (torch's `median(dim)`). */
  median(dim: number, keepDim?: boolean): sorting.ValuesIndices;
  median(dim?: number, keepDim = false): Tensor | sorting.ValuesIndices {
    atMost("median", arguments.length, 2, "x.median(1)");
    return dim === undefined ? med.median(this) : med.median(this, dim, keepDim);
  }
  /** The median of the values that are not NaN (torch's `nanmedian`; see `nanmedian`). */
  nanmedian(): Tensor;
  /** The NaN-ignoring median along `dim`, with the indices of the values. */
  nanmedian(dim: number, keepDim?: boolean): sorting.ValuesIndices;
  nanmedian(dim?: number, keepDim = false): Tensor | sorting.ValuesIndices {
    atMost("nanmedian", arguments.length, 2, "x.nanmedian(1)");
    return dim === undefined ? med.nanmedian(this) : med.nanmedian(this, dim, keepDim);
  }
  /** The k-th smallest value along `dim` and its index (torch's `kthvalue`). */
  kthvalue(k: number, dim = -1, keepDim = false): sorting.ValuesIndices {
    atMost("kthvalue", arguments.length, 3, "x.kthvalue(k, 1)");
    return med.kthvalue(this, k, dim, keepDim);
  }
  /** The most frequent value along `dim` and its int32 index (`torch.mode`; see `mode`). */
  mode(dim = -1, keepDim = false): sorting.ValuesIndices {
    atMost("mode", arguments.length, 2, "x.mode(dim, keepDim)");
    return modeOp(this, dim, keepDim);
  }
  /** Running sums along `dim` (torch's `cumsum`). */
  cumsum(dim: number): Tensor {
    atMost("cumsum", arguments.length, 1, "x.cumsum(1)");
    return cumsumOp(this, dim);
  }
  /** log(sum(exp(x))) over `dim`, stably (torch's `logsumexp`). */
  logsumexp(dim?: number | number[], keepDim = false): Tensor {
    atMost("logsumexp", arguments.length, 2, "x.logsumexp(1)");
    return lse.logsumexp(this, dim, keepDim);
  }
  /** 1 where every element over `dim` is nonzero (torch's `all`; a float32 mask). */
  all(dim?: number, keepDim = false): Tensor {
    atMost("all", arguments.length, 2, "x.all(1)");
    return lse.all(this, dim, keepDim);
  }
  /** 1 where some element over `dim` is nonzero (torch's `any`; a float32 mask). */
  any(dim?: number, keepDim = false): Tensor {
    atMost("any", arguments.length, 2, "x.any(1)");
    return lse.any(this, dim, keepDim);
  }
  /** The p-norm over `dim` (torch's `norm`; all elements when left out). */
  norm(p: NormOrder = 2, dim?: number | number[] | null, keepDim = false): Tensor {
    atMost("norm", arguments.length, 3, "x.norm(2, 1)");
    return vnorm.norm(this, p, dim, keepDim);
  }

  // ---- more of torch's tensor functions (ops/reduce_more.ts, logical.ts, divmod.ts, ...) ----

  /** Index of the first minimum along `dim` (int32); all elements when omitted (`torch.argmin`). */
  argmin(dim?: number, keepDim = false): Tensor {
    atMost("argmin", arguments.length, 2, "x.argmin(dim, keepDim)");
    return redMore.argmin(this, dim, keepDim);
  }
  /** Product of all elements, or along one `dim` (`torch.prod`; see `prod`). */
  prod(dim?: number, keepDim = false): Tensor {
    atMost("prod", arguments.length, 2, "x.prod(dim, keepDim)");
    return redMore.prod(this, dim, keepDim);
  }
  /** Running products along `dim` (`torch.cumprod`). */
  cumprod(dim: number): Tensor {
    atMost("cumprod", arguments.length, 1, "x.cumprod(1)");
    return redMore.cumprod(this, dim);
  }
  /** How many elements are nonzero over `dim` (int32; `torch.count_nonzero`). */
  countNonzero(dim?: number | number[]): Tensor {
    atMost("countNonzero", arguments.length, 1, "x.countNonzero(1)");
    return redMore.countNonzero(this, dim);
  }
  /** 1 where both are nonzero (a float32 mask; `torch.logical_and`). */
  logicalAnd(other: Tensor): Tensor {
    atMost("logicalAnd", arguments.length, 1, "x.logicalAnd(y)");
    return logical.logicalAnd(this, other);
  }
  /** 1 where either is nonzero (a float32 mask; `torch.logical_or`). */
  logicalOr(other: Tensor): Tensor {
    atMost("logicalOr", arguments.length, 1, "x.logicalOr(y)");
    return logical.logicalOr(this, other);
  }
  /** 1 where exactly one is nonzero (a float32 mask; `torch.logical_xor`). */
  logicalXor(other: Tensor): Tensor {
    atMost("logicalXor", arguments.length, 1, "x.logicalXor(y)");
    return logical.logicalXor(this, other);
  }
  /** 1 where zero (a float32 mask; `torch.logical_not`, torch's `~mask`). */
  logicalNot(): Tensor {
    atMost("logicalNot", arguments.length, 0, "x.logicalNot()");
    return logical.logicalNot(this);
  }
  /** Remainder with the divisor's sign, Python's `%` (`torch.remainder`). */
  remainder(other: Tensor | number): Tensor {
    atMost("remainder", arguments.length, 1, "x.remainder(2)");
    return divmod.remainder(this, other);
  }
  /** Remainder with the dividend's sign, C's fmod (`torch.fmod`). */
  fmod(other: Tensor | number): Tensor {
    atMost("fmod", arguments.length, 1, "x.fmod(2)");
    return divmod.fmod(this, other);
  }
  /** Division rounded toward minus infinity, Python's `//` (torch 1.13's `floor_divide`). */
  floorDivide(other: Tensor | number): Tensor {
    atMost("floorDivide", arguments.length, 1, "x.floorDivide(2)");
    return divmod.floorDivide(this, other);
  }
  /** The elements where `mask` is 1, as a 1-D tensor (`torch.masked_select`, `x[mask]`). */
  maskedSelect(mask: Tensor): Tensor {
    atMost("maskedSelect", arguments.length, 1, "x.maskedSelect(x.gt(0))");
    return masked.maskedSelect(this, mask);
  }
  /** The int32 indices [n, ndim] of the nonzero elements (`torch.nonzero`). */
  nonzero(): Tensor;
  /** One 1-D int32 index tensor per dimension (torch's `as_tuple=True`). */
  nonzero(options: { asTuple: true }): Tensor[];
  /** Either form, by `options.asTuple`. */
  nonzero(options?: masked.NonzeroOptions): Tensor | Tensor[];
  nonzero(options?: masked.NonzeroOptions): Tensor | Tensor[] {
    atMost("nonzero", arguments.length, 1, "x.nonzero()");
    return masked.nonzero(this, options);
  }
  /** Counts of each value of a 1-D int32 tensor (`torch.bincount`; see `bincount`). */
  bincount(options?: uq.BincountOptions): Tensor {
    atMost("bincount", arguments.length, 1, "x.bincount({ minlength: 3 })");
    return uq.bincount(this, options);
  }
  /** The distinct values, ascending (`torch.unique`; see `unique` for the tuple forms). */
  unique(options?: uq.UniqueOptions & { returnInverse?: false; returnCounts?: false }): Tensor;
  /** `[values, inverse, counts]`. */
  unique(
    options: uq.UniqueOptions & { returnInverse: true; returnCounts: true },
  ): [Tensor, Tensor, Tensor];
  /** `[values, inverse]` or `[values, counts]`. */
  unique(
    options: uq.UniqueOptions & ({ returnInverse: true } | { returnCounts: true }),
  ): [Tensor, Tensor];
  /** A tensor, or the array of what was asked for. */
  unique(options?: uq.UniqueOptions): Tensor | Tensor[];
  unique(options?: uq.UniqueOptions): Tensor | Tensor[] {
    atMost("unique", arguments.length, 1, "x.unique({ returnCounts: true })");
    return uq.unique(this, options);
  }
  /** Each run of equal consecutive values as one (`torch.unique_consecutive`; see `uniqueConsecutive`). */
  uniqueConsecutive(
    options?: uq.UniqueConsecutiveOptions & { returnInverse?: false; returnCounts?: false },
  ): Tensor;
  /** `[values, inverse, counts]`. */
  uniqueConsecutive(
    options: uq.UniqueConsecutiveOptions & { returnInverse: true; returnCounts: true },
  ): [Tensor, Tensor, Tensor];
  /** `[values, inverse]` or `[values, counts]`. */
  uniqueConsecutive(
    options: uq.UniqueConsecutiveOptions & ({ returnInverse: true } | { returnCounts: true }),
  ): [Tensor, Tensor];
  /** A tensor, or the array of what was asked for. */
  uniqueConsecutive(options?: uq.UniqueConsecutiveOptions): Tensor | Tensor[];
  uniqueConsecutive(options?: uq.UniqueConsecutiveOptions): Tensor | Tensor[] {
    atMost("uniqueConsecutive", arguments.length, 1, "x.uniqueConsecutive({ returnCounts: true })");
    return uq.uniqueConsecutive(this, options);
  }
  /** 1 where close to `other` (a float32 mask; `torch.isclose`). */
  isclose(other: Tensor, options?: close.CloseOptions): Tensor {
    atMost("isclose", arguments.length, 2, "x.isclose(y, { rtol: 1e-5, atol: 1e-8 })");
    return close.isclose(this, other, options);
  }
  /** Whether every element is close to `other`'s (a boolean; `torch.allclose`). */
  allclose(other: Tensor, options?: close.CloseOptions): boolean {
    atMost("allclose", arguments.length, 2, "x.allclose(y, { rtol: 1e-5, atol: 1e-8 })");
    return close.allclose(this, other, options);
  }
  /** Whether `other` has this shape and these values (a boolean; `torch.equal`). */
  equal(other: Tensor): boolean {
    atMost("equal", arguments.length, 1, "x.equal(y)");
    return close.equal(this, other);
  }
  /** The lower triangle of the last two dimensions (`torch.tril`). */
  tril(diagonal = 0): Tensor {
    atMost("tril", arguments.length, 1, "x.tril(0)");
    return tri.tril(this, diagonal);
  }
  /** The upper triangle of the last two dimensions (`torch.triu`). */
  triu(diagonal = 0): Tensor {
    atMost("triu", arguments.length, 1, "x.triu(1)");
    return tri.triu(this, diagonal);
  }
  /** Repeated along each dimension, ones put in front of short `dims` (`torch.tile`). */
  tile(...dims: number[] | [number[]]): Tensor {
    return shpMore.tile(this, dims.flat());
  }
  /** Each element (or slice along `dim`) repeated in place (`torch.repeat_interleave`). */
  repeatInterleave(repeats: number | Tensor, dim?: number): Tensor {
    atMost("repeatInterleave", arguments.length, 2, "x.repeatInterleave(2, 0)");
    return repeatInterleave(this, repeats, dim);
  }
  /** The same memory seen with `other`'s shape (`torch.view_as`; contiguous only, as `view`). */
  viewAs(other: Tensor): Tensor {
    atMost("viewAs", arguments.length, 1, "x.viewAs(y)");
    if (!(other instanceof Tensor)) throw new Error("x.viewAs: takes a Tensor");
    return this.view([...other.shape]);
  }
  /** The same elements in `other`'s shape (`torch.reshape_as`). */
  reshapeAs(other: Tensor): Tensor {
    atMost("reshapeAs", arguments.length, 1, "x.reshapeAs(y)");
    if (!(other instanceof Tensor)) throw new Error("x.reshapeAs: takes a Tensor");
    return shp.reshape(this, [...other.shape]);
  }
  /** The n-th forward difference along `dim` (`torch.diff`; see `diff`). */
  diff(options?: shpMore.DiffOptions): Tensor {
    atMost("diff", arguments.length, 1, "x.diff({ n: 1, dim: -1 })");
    return shpMore.diff(this, options);
  }
  // ---- torch_ops_more (ops/scatter.ts, stack_more.ts, linalg_small.ts, nan_reduce.ts,
  // stats_pairs.ts, histc.ts, elementwise_more.ts) ----

  /** `src` (or a number) written along `dim` at `index` (`torch.scatter`; see `scatter`). */
  scatter(
    dim: number,
    index: Tensor,
    src: Tensor | number | { value: number },
    options?: { reduce?: string },
  ): Tensor {
    atMost("scatter", arguments.length, 4, "x.scatter(1, index, src)");
    return scat.scatter(this, dim, index, src, options);
  }
  /** `scatter` in place (torch's `scatter_`: `zeros([n, c]).scatter_(1, y.unsqueeze(1), 1)`). */
  scatter_(
    dim: number,
    index: Tensor,
    src: Tensor | number | { value: number },
    options?: { reduce?: string },
  ): this {
    atMost("scatter_", arguments.length, 4, "x.scatter_(1, index, src)");
    return inPlace(
      this,
      "scatter_",
      [index, src],
      () => scat.scatter(this, dim, index, src, options),
    ) as this;
  }
  /** `src` added along `dim` at `index` (`torch.scatter_add`; see `scatterAdd`). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    atMost("scatterAdd", arguments.length, 3, "x.scatterAdd(1, index, src)");
    return scat.scatterAdd(this, dim, index, src);
  }
  /** `scatterAdd` in place (torch's `scatter_add_`). */
  scatterAdd_(dim: number, index: Tensor, src: Tensor): this {
    atMost("scatterAdd_", arguments.length, 3, "x.scatterAdd_(1, index, src)");
    return inPlace(
      this,
      "scatterAdd_",
      [index, src],
      () => scat.scatterAdd(this, dim, index, src),
    ) as this;
  }
  /** `alpha * source`'s slices added at `index` along `dim` (`torch.index_add`). */
  indexAdd(dim: number, index: Tensor, source: Tensor, options?: { alpha?: number }): Tensor {
    atMost("indexAdd", arguments.length, 4, "x.indexAdd(0, index, source, { alpha: 1 })");
    return scat.indexAdd(this, dim, index, source, options);
  }
  /** `indexAdd` in place (torch's `index_add_`). */
  indexAdd_(dim: number, index: Tensor, source: Tensor, options?: { alpha?: number }): this {
    atMost("indexAdd_", arguments.length, 4, "x.indexAdd_(0, index, source, { alpha: 1 })");
    return inPlace(
      this,
      "indexAdd_",
      [index, source],
      () => scat.indexAdd(this, dim, index, source, options),
    ) as this;
  }
  /** `src` combined along `dim` at `index` by `reduce` (`torch.scatter_reduce`; see `scatterReduce`). */
  scatterReduce(
    dim: number,
    index: Tensor,
    src: Tensor,
    reduce: scatRed.ScatterReduction,
    options?: scatRed.ScatterReduceOptions,
  ): Tensor {
    atMost("scatterReduce", arguments.length, 5, 'x.scatterReduce(0, index, src, "sum")');
    return scatRed.scatterReduce(this, dim, index, src, reduce, options);
  }
  /** `scatterReduce` in place (torch's `scatter_reduce_`). */
  scatterReduce_(
    dim: number,
    index: Tensor,
    src: Tensor,
    reduce: scatRed.ScatterReduction,
    options?: scatRed.ScatterReduceOptions,
  ): this {
    atMost("scatterReduce_", arguments.length, 5, 'x.scatterReduce_(0, index, src, "sum")');
    return inPlace(
      this,
      "scatterReduce_",
      [index, src],
      () => scatRed.scatterReduce(this, dim, index, src, reduce, options),
    ) as this;
  }
  /** `source`'s slices copied at `index` along `dim` (`torch.index_copy`; see `indexCopy`). */
  indexCopy(dim: number, index: Tensor, source: Tensor): Tensor {
    atMost("indexCopy", arguments.length, 3, "x.indexCopy(0, index, source)");
    return scatRed.indexCopy(this, dim, index, source);
  }
  /** `indexCopy` in place (torch's `index_copy_`). */
  indexCopy_(dim: number, index: Tensor, source: Tensor): this {
    atMost("indexCopy_", arguments.length, 3, "x.indexCopy_(0, index, source)");
    return inPlace(
      this,
      "indexCopy_",
      [index, source],
      () => scatRed.indexCopy(this, dim, index, source),
    ) as this;
  }
  /** The sum of the main diagonal of a matrix (`torch.trace`; see `trace`). */
  trace(): Tensor {
    atMost("trace", arguments.length, 0, "x.trace()");
    return diagOps.trace(this);
  }
  /**
   * `value` on the main diagonal, in place (torch's `fill_diagonal_(value,
   * wrap=False)`; `{ wrap: true }` or `true` restarts it on a tall matrix).
   *
   * @example
   * ```ts
   * import { ones } from "@lits/vision";
   * const sim = ones([3, 3]);
   * sim.fillDiagonal_(-Infinity);
   * console.log(sim.toList()); // [[-Infinity, 1, 1], [1, -Infinity, 1], [1, 1, -Infinity]]
   * ```
   */
  fillDiagonal_(value: number, wrap: boolean | { wrap?: boolean } = false): this {
    atMost("fillDiagonal_", arguments.length, 2, "x.fillDiagonal_(value, { wrap: true })");
    return diagOps.fillDiagonal_(this, value, wrap) as this;
  }
  /** Values at `indices` along `dim`, broadcasting (`torch.take_along_dim`). */
  takeAlongDim(indices: Tensor, dim?: number | null): Tensor {
    atMost("takeAlongDim", arguments.length, 2, "x.takeAlongDim(indices, 1)");
    return scat.takeAlongDim(this, indices, dim);
  }
  /** Limited to [min, max] (torch's `clip`, an alias of `clamp`). */
  clip(min?: number | null, max?: number | null): Tensor {
    atMost("clip", arguments.length, 2, "x.clip(0, 1)");
    return ewMore.clip(this, min, max);
  }
  /** Broadcast to `shape`, a view (`torch.broadcast_to`). */
  broadcastTo(shape: number[]): Tensor {
    atMost("broadcastTo", arguments.length, 1, "x.broadcastTo([2, 3])");
    return keptForm(stackMore.broadcastTo(this, shape), this);
  }
  /** Dimension `dim` split into `sizes` (one may be -1) (`torch.unflatten`). */
  unflatten(dim: number, sizes: number[]): Tensor {
    atMost("unflatten", arguments.length, 2, "x.unflatten(1, [3, 4])");
    return keptForm(stackMore.unflatten(this, dim, sizes), this);
  }
  /** Views cut along `dim` into n parts or at indices (`torch.tensor_split`). */
  tensorSplit(indicesOrSections: number | number[], dim = 0): Tensor[] {
    atMost("tensorSplit", arguments.length, 2, "x.tensorSplit(3, 0)");
    return stackMore.tensorSplit(this, indicesOrSections, dim).map((v) => keptCopy(v, this, false));
  }
  /** Rotated by 90° `k` times in the plane of `dims` (`torch.rot90`). */
  rot90(k = 1, dims: number[] = [0, 1]): Tensor {
    atMost("rot90", arguments.length, 2, "x.rot90(1, [2, 3])");
    return stackMore.rot90(this, k, dims);
  }
  /** A 1-D tensor as a diagonal matrix, or a matrix's diagonal (`torch.diag`). */
  diag(diagonal = 0): Tensor {
    atMost("diag", arguments.length, 1, "x.diag(0)");
    return linSmall.diag(this, diagonal);
  }
  /** The diagonal `offset` of dims `dim1`, `dim2`, last (`torch.diagonal`; a view, as torch's). */
  diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor {
    atMost("diagonal", arguments.length, 3, "x.diagonal(0, 0, 1)");
    return keptCopy(linSmall.diagonal(this, offset, dim1, dim2), this, false);
  }
  /** The outer product with a 1-D `vec2` (`torch.outer`). */
  outer(vec2: Tensor): Tensor {
    atMost("outer", arguments.length, 1, "x.outer(y)");
    return linSmall.outer(this, vec2);
  }
  /** The dot product with a 1-D `other` (`torch.dot`). */
  dot(other: Tensor): Tensor {
    atMost("dot", arguments.length, 1, "x.dot(y)");
    return linSmall.dot(this, other);
  }
  /** This matrix times a vector (`torch.mv`). */
  mv(vec: Tensor): Tensor {
    atMost("mv", arguments.length, 1, "m.mv(v)");
    return linSmall.mv(this, vec);
  }
  /** The inner product over the last dimensions (`torch.inner`). */
  inner(other: Tensor): Tensor {
    atMost("inner", arguments.length, 1, "x.inner(y)");
    return linSmall.inner(this, other);
  }
  /** beta * x + alpha * (mat1 @ mat2) (`torch.addmm`). */
  addmm(mat1: Tensor, mat2: Tensor, options?: { beta?: number; alpha?: number }): Tensor {
    atMost("addmm", arguments.length, 3, "x.addmm(m1, m2, { beta: 1, alpha: 1 })");
    return linSmall.addmm(this, mat1, mat2, options);
  }
  /** beta * x + alpha * (batch1 @ batch2) (`torch.baddbmm`). */
  baddbmm(batch1: Tensor, batch2: Tensor, options?: { beta?: number; alpha?: number }): Tensor {
    atMost("baddbmm", arguments.length, 3, "x.baddbmm(b1, b2, { beta: 1, alpha: 1 })");
    return linSmall.baddbmm(this, batch1, batch2, options);
  }
  /** The sum with NaN counted as 0 (`torch.nansum`). */
  nansum(dims?: number | number[], keepDim = false): Tensor {
    atMost("nansum", arguments.length, 2, "x.nansum(1, true)");
    return nanRed.nansum(this, dims, keepDim);
  }
  /** The mean of the values that are not NaN (`torch.nanmean`). */
  nanmean(dims?: number | number[], keepDim = false): Tensor {
    atMost("nanmean", arguments.length, 2, "x.nanmean(1, true)");
    return nanRed.nanmean(this, dims, keepDim);
  }
  /** `{ min, max }` over everything or one `dim` (`torch.aminmax`). */
  aminmax(options?: { dim?: number; keepDim?: boolean }): nanRed.MinMax {
    atMost("aminmax", arguments.length, 1, "x.aminmax({ dim: 1 })");
    return nanRed.aminmax(this, options);
  }
  /** The running maximum along `dim` and its indices (`torch.cummax`). */
  cummax(dim: number): sorting.ValuesIndices {
    atMost("cummax", arguments.length, 1, "x.cummax(1)");
    return statPairs.cummax(this, dim);
  }
  /** The running minimum along `dim` and its indices (`torch.cummin`). */
  cummin(dim: number): sorting.ValuesIndices {
    atMost("cummin", arguments.length, 1, "x.cummin(1)");
    return statPairs.cummin(this, dim);
  }
  /** The histogram in `bins` bins over [min, max] (`torch.histc`). */
  histc(bins = 100, min = 0, max = 0): Tensor {
    atMost("histc", arguments.length, 3, "x.histc(100, -1000, 1000)");
    return histcOp(this, bins, min, max);
  }
  /** The base-2 logarithm (`torch.log2`). */
  log2(): Tensor {
    atMost("log2", arguments.length, 0, "x.log2()");
    return ewMore.log2(this);
  }
  /** The base-10 logarithm (`torch.log10`). */
  log10(): Tensor {
    atMost("log10", arguments.length, 0, "x.log10()");
    return ewMore.log10(this);
  }
  /** log(x / (1 - x)), x clamped to [eps, 1 - eps] when given (`torch.logit`). */
  logit(eps?: number | null): Tensor {
    atMost("logit", arguments.length, 1, "x.logit(1e-6)");
    return ewMore.logit(this, eps);
  }
  /** x * log(other), 0 where x is 0 (`torch.xlogy`). */
  xlogy(other: Tensor | number): Tensor {
    atMost("xlogy", arguments.length, 1, "x.xlogy(y)");
    return ewMore.xlogy(this, other);
  }
  /** x - trunc(x) (`torch.frac`). */
  frac(): Tensor {
    atMost("frac", arguments.length, 0, "x.frac()");
    return ewMore.frac(this);
  }
  /** Degrees to radians (`torch.deg2rad`). */
  deg2rad(): Tensor {
    atMost("deg2rad", arguments.length, 0, "x.deg2rad()");
    return ewMore.deg2rad(this);
  }
  /** Radians to degrees (`torch.rad2deg`). */
  rad2deg(): Tensor {
    atMost("rad2deg", arguments.length, 0, "x.rad2deg()");
    return ewMore.rad2deg(this);
  }
  /** The NaN-ignoring elementwise maximum (`torch.fmax`). */
  fmax(other: Tensor): Tensor {
    atMost("fmax", arguments.length, 1, "x.fmax(y)");
    return ewMore.fmax(this, other);
  }
  /** The NaN-ignoring elementwise minimum (`torch.fmin`). */
  fmin(other: Tensor): Tensor {
    atMost("fmin", arguments.length, 1, "x.fmin(y)");
    return ewMore.fmin(this, other);
  }
  /** |x| with the sign of `other` (`torch.copysign`). */
  copysign(other: Tensor | number): Tensor {
    atMost("copysign", arguments.length, 1, "x.copysign(y)");
    return ewMore.copysign(this, other);
  }
  /** 1 where the sign bit is set, else 0 (`torch.signbit`; a float32 mask). */
  signbit(): Tensor {
    atMost("signbit", arguments.length, 0, "x.signbit()");
    return ewMore.signbit(this);
  }
  /** The step function with `values` at 0 (`torch.heaviside`). */
  heaviside(values: Tensor): Tensor {
    atMost("heaviside", arguments.length, 1, "x.heaviside(values)");
    return ewMore.heaviside(this, values);
  }
  /** sqrt(x² + other²) (`torch.hypot`). */
  hypot(other: Tensor): Tensor {
    atMost("hypot", arguments.length, 1, "x.hypot(y)");
    return ewMore.hypot(this, other);
  }
  /** log(exp(x) + exp(other)) (`torch.logaddexp`). */
  logaddexp(other: Tensor): Tensor {
    atMost("logaddexp", arguments.length, 1, "x.logaddexp(y)");
    return ewMore.logaddexp(this, other);
  }
  /** log2(2^x + 2^other) (`torch.logaddexp2`). */
  logaddexp2(other: Tensor): Tensor {
    atMost("logaddexp2", arguments.length, 1, "x.logaddexp2(y)");
    return ewMore.logaddexp2(this, other);
  }

  /** A dense copy with its own memory. */
  clone(): Tensor {
    atMost("clone", arguments.length, 0, "x.clone() (a row-major copy; no memory_format)");
    return keptCopy(shp.clone(this), this);
  }
  /**
   * Converted to float32; itself when it is float32, as torch's (so do not
   * `dispose()` or `using` the result of a tensor you still use).
   */
  float(): Tensor {
    atMost("float", arguments.length, 0, "x.float()");
    if (this.dtype === "float32") return this;
    return keptForm(shp.cast(this, "float32"), this);
  }
  /**
   * Converted to int32 (truncating toward zero); itself when it is int32, as
   * torch's (so do not `dispose()` or `using` the result of a tensor you
   * still use).
   */
  int(): Tensor {
    atMost("int", arguments.length, 0, "x.int()");
    if (this.dtype === "int32") return this;
    this.#checkFitsInt32("int()");
    return keptForm(shp.cast(this, "int32"), this);
  }
  /**
   * Converted to int32, this library's integer type: torch's `long()`
   * gives int64, which class labels never need (`labels.long()` ports as is).
   * Itself when it is int32, as torch's `long()` of a long.
   */
  long(): Tensor {
    atMost("long", arguments.length, 0, "x.long()");
    if (this.dtype === "int32") return this; // torch's long() of a long: itself
    this.#checkFitsInt32("long()");
    return keptForm(shp.cast(this, "int32"), this);
  }
  /**
   * Throws where a float32 value cannot become int32: NaN, infinite or
   * beyond its range (torch gives an arbitrary integer there; int32 also
   * stands in for torch's int64 here), where a cast would saturate.
   */
  #checkFitsInt32(where: string): void {
    if (this.dtype !== "float32") return;
    const bad = (this.toArray() as Float32Array).find((v) => !(v > -(2 ** 31) - 1 && v < 2 ** 31));
    if (bad !== undefined) {
      throw new Error(
        `${where}: ${bad} does not fit int32, this library's integer type (torch's long is int64)`,
      );
    }
  }
  /**
   * torch's `x.bool()`: 1 where x is nonzero (NaN too), else 0, as the
   * float32 mask that comparisons give here (there is no bool dtype);
   * `x.ne(0)`.
   *
   * @example
   * ```ts
   * import { tensor } from "@lits/vision";
   * console.log(tensor([0, 2, -0.5]).bool().toList()); // [0, 1, 1]
   * ```
   */
  bool(): Tensor {
    atMost("bool", arguments.length, 0, "x.bool()");
    return this.ne(0);
  }
  /** Throws: PyTorch's `x.half()`; tensors stay float32 (bfloat16 is `autocast`'s). */
  half(): never {
    throw dtypeCastError("half()");
  }
  /** Throws: PyTorch's `x.bfloat16()`; tensors stay float32 (bfloat16 is `autocast`'s). */
  bfloat16(): never {
    throw dtypeCastError("bfloat16()");
  }
  /** Throws: PyTorch's `x.double()`; tensors stay float32. */
  double(): never {
    throw dtypeCastError("double()");
  }

  // ---- devices ----

  /**
   * This tensor on `device`: itself when it is already there, else a copy
   * (through host memory), through which gradients flow back. The copy of a
   * tensor you own is yours; the copy of an op result is an op result.
   * Only devices: PyTorch's `x.to("cpu", torch.bfloat16)` throws (tensors
   * stay float32; bfloat16 mixed precision is `autocast`).
   *
   * @example
   * ```ts
   * import { cudaAvailable, tensor } from "@lits/vision";
   * using x = tensor([1, 2, 3]);
   * if (cudaAvailable()) {
   *   using y = x.to("cuda");
   *   console.log(y.device, y.to("cpu").toArray()); // "cuda" Float32Array [1, 2, 3]
   * }
   * console.log(x.to("cpu") === x); // true
   * ```
   */
  to(device: DeviceName): Tensor {
    checkToArguments("Tensor.to", arguments);
    return toDevice(this, device);
  }
}

addTorchNameHints(Tensor.prototype);
