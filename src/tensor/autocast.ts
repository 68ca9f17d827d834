/**
 * Mixed precision: `autocast("bfloat16", fn)` runs the matrix ops that `fn`
 * calls (convolutions, linear layers, matmuls) as PyTorch's CPU autocast
 * does: their inputs rounded to bfloat16, products and sums in fp32. Every
 * other op (batch norm and its statistics, softmax, losses, reductions, the
 * optimizer) stays in fp32, and so do weights, gradients and optimizer state.
 * PyTorch 1.13's list decides at the edges: `matmul`, `mm`, `bmm`, `addmm`,
 * `baddbmm`, `inner`, `F.linear`, conv1d/2d/3d and einsum's products that
 * sum over a letter (its `bmm`) round; `dot`, `mv`, `outer`, `F.bilinear`,
 * the transposed convolutions, `F.prelu` and einsum's products that sum
 * over none (its `mul`) stay fp32. The GPU follows the same list (PyTorch's
 * CUDA autocast lowers `mv`, all of einsum, the transposed convolutions and
 * `prelu` too: there ours are the more exact).
 *
 * What differs from PyTorch, and why:
 * - Outputs have dtype float32; PyTorch's are bfloat16 tensors. On the CPU
 *   they keep the fp32 sums (the more exact, by up to bf16's 2^-8 relative
 *   step); on the GPU cuDNN rounds convolution results to bf16, as
 *   PyTorch's, and they are widened. There is no bfloat16 dtype to hold
 *   activations yet; but ResNet's evaluation (no gradient recorded) runs its
 *   four stages as one chain whose activations stay bf16 (channels-last)
 *   from one convolution to the next, rounded once after each
 *   convolution's batch norm, residual and ReLU, wherever the CPU has bf16
 *   products (`models/resnet_chain.ts`). In training, a batch norm's
 *   gradient for a 1x1 convolution before it is held in bf16 (the
 *   convolution rounds it so anyway: the same results, half the bytes;
 *   `ops/bf16_grad.ts`), and so is a residual block's output whose first
 *   reader is a 1x1 stride-1 convolution (a bottleneck's conv1, which
 *   rounds it so anyway; the next block's residual add then reads the
 *   rounded values, as PyTorch's does: `ops/fusion.ts`).
 * - In training the weights are rounded as each kernel packs them (a pass
 *   it makes anyway) instead of into a bf16 copy made once per step: no
 *   extra pass, and no second copy of the weights in memory. The
 *   evaluation chain keeps each layer's rounded weights between calls,
 *   checked against a hash of the weights on every call.
 *
 * bfloat16 needs no loss scaling (PyTorch's GradScaler is for float16): it
 * keeps fp32's 8-bit exponent, so small gradients do not underflow; only
 * the mantissa is shorter.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { NativeSymbols } from "../ffi/symbols.ts";
import type { Tensor } from "./tensor.ts";
import { checkCall } from "../options.ts";
import { AsyncFunction, reportLateRejection } from "./ownership.ts";

/** The lower precisions `autocast` offers. */
export type AutocastDtype = "bfloat16";

/** Options of `autocast`. */
export interface AutocastOptions {
  /** false: run `fn` in fp32, also inside an outer autocast (PyTorch's `enabled=False`). */
  enabled?: boolean;
}

/** The autocast dtype of synchronous code now (null: fp32). */
let current: AutocastDtype | null = null;
/** Async autocast regions: the dtype follows each one's call chain through its awaits. */
const chains = new AsyncLocalStorage<{ dtype: AutocastDtype | null }>();
let openChains = 0;

/**
 * Runs `fn` with bf16 autocast on (or off, with `{ enabled: false }`), and
 * returns what it returns. Wrap the forward pass and the loss, as in
 * PyTorch; call `backward()` outside: each op's backward runs in the
 * precision its forward ran in. An async `fn` gets a promise, and autocast
 * holds through its awaits, in its own call chain only.
 *
 * Needs a CPU with AVX512_BF16 (Intel Cooper Lake and later, AMD Zen 4 and
 * later), or a GPU of compute capability 8.0 or later; elsewhere the ops
 * print one line and run in fp32.
 *
 * @example
 * ```ts
 * import { autocast, nn, randn } from "@lits/vision";
 * const fc = new nn.Linear(8, 3);
 * const y = autocast("bfloat16", () => fc.forward(randn([4, 8])));
 * console.log(y.shape, y.dtype); // [4, 3] "float32"
 * ```
 */
export function autocast<T>(dtype: AutocastDtype, fn: () => T, options?: AutocastOptions): T {
  const usage = 'autocast("bfloat16", () => model.forward(x), { enabled: true })';
  // PyTorch's spelling, torch.autocast("cpu", dtype=torch.bfloat16), names the
  // device first and the dtype as an option: say so before the option check.
  const isOptions = typeof dtype === "object" && dtype !== null;
  if (
    (dtype as string) === "cpu" || (dtype as string) === "cuda" || typeof dtype === "function" ||
    isOptions
  ) {
    const got = typeof dtype === "function"
      ? "a function"
      : isOptions
      ? `an options object (torch.autocast's keywords are not options here)`
      : `the device '${dtype}' (the tensors say the device)`;
    throw new Error(`autocast: the first argument is the dtype, got ${got}; write ${usage}`);
  }
  pytorchOptions(options, usage);
  const o = checkCall<AutocastOptions>(
    "autocast",
    arguments.length,
    3,
    options,
    ["enabled"],
    usage,
  );
  if (dtype !== "bfloat16") {
    const hint = (dtype as string) === "float16"
      ? "float16 autocast is not offered (it needs loss scaling); use bfloat16"
      : "the one offered is bfloat16";
    throw new Error(`autocast: unknown dtype ${JSON.stringify(dtype)}; ${hint}`);
  }
  if (typeof fn !== "function") {
    throw new Error(`autocast: expected a function, got ${typeof fn}; write ${usage}`);
  }
  if (o.enabled !== undefined && typeof o.enabled !== "boolean") {
    throw new Error(`autocast: enabled must be true or false, got ${JSON.stringify(o.enabled)}`);
  }
  const state = o.enabled === false ? null : dtype;
  if (fn instanceof AsyncFunction) {
    openChains++;
    return (chains.run({ dtype: state }, fn) as Promise<unknown>).finally(() => {
      openChains--;
    }) as T;
  }
  const was = current;
  current = state;
  let result: T;
  try {
    result = chains.getStore() === undefined ? fn() : chains.run({ dtype: state }, fn);
  } finally {
    current = was;
  }
  if (result instanceof Promise) {
    reportLateRejection("autocast", result);
    throw new Error(
      "autocast: fn returned a Promise but is not an async function, so the ops after its " +
        'first await would run in fp32; write `await autocast("bfloat16", async () => { ... })`',
    );
  }
  return result;
}

/**
 * @internal Runs `fn` with autocast off: for the ops that PyTorch 1.13's CPU
 * autocast leaves in fp32 although they are built here from ones it lowers
 * (`dot`, `mv`, `F.bilinear`, einsum's products that sum over no letter).
 */
export function inFloat32<T>(fn: () => T): T {
  return autocastDtype() === null ? fn() : autocast("bfloat16", fn, { enabled: false });
}

/**
 * torch.autocast's other keyword arguments, each with what to write instead:
 * the generic "did you mean" would offer `enabled` for `cache_enabled`, which
 * turns autocast off.
 */
function pytorchOptions(options: unknown, usage: string): void {
  if (options === null || typeof options !== "object") return;
  const has = (...keys: string[]) => keys.find((k) => Object.hasOwn(options, k));
  const cache = has("cache_enabled", "cacheEnabled");
  if (cache) {
    throw new Error(
      `autocast: there is no '${cache}' option: no bf16 copy of a weight is cached across ` +
        "calls to turn off (kernels round the weights as they pack them); remove it and " +
        `write ${usage}`,
    );
  }
  const dev = has("device_type", "deviceType", "device");
  if (dev) {
    throw new Error(
      `autocast: there is no '${dev}' option: the tensors say the device; write ${usage}`,
    );
  }
  if (has("dtype")) {
    throw new Error(`autocast: the dtype is the first argument, not an option; write ${usage}`);
  }
}

/**
 * The autocast dtype in force here (null: none), as PyTorch's
 * `torch.is_autocast_enabled()` asks.
 *
 * @example
 * ```ts
 * import { autocast, autocastDtype } from "@lits/vision";
 * console.log(autocastDtype(), autocast("bfloat16", () => autocastDtype())); // null "bfloat16"
 * ```
 */
export function autocastDtype(): AutocastDtype | null {
  if (openChains > 0) {
    const chain = chains.getStore();
    if (chain !== undefined) return chain.dtype;
  }
  return current;
}

/** Per library: the level of its bf16 kernels here (asked once). */
const support = new WeakMap<NativeSymbols, number>();
const warned = new Set<string>();

/**
 * @internal What `lib`'s bf16 kernels run on here: 0 none (or no bf16
 * kernels), 1 vdpbf16ps (AVX512_BF16; on a GPU, compute capability 8.0+),
 * 2 AMX tiles (`lits_bf16_support`'s levels).
 */
export function bf16Level(lib: NativeSymbols): number {
  let level = support.get(lib);
  if (level === undefined) {
    const out = new Int32Array(1);
    const ok = lib.lits_bf16_support !== null && lib.lits_gemm_bf16_f32 !== null &&
      lib.lits_conv2d_forward_bf16_f32 !== null && lib.lits_bf16_support(out) === 0;
    level = ok ? out[0] : 0;
    support.set(lib, level);
  }
  return level;
}

/** Whether `lib` has bf16 kernels that this device can run. */
const hasBf16 = (lib: NativeSymbols): boolean => bf16Level(lib) > 0;

/**
 * @internal Why `device`'s library `lib` cannot run bf16 here, or null when
 * it can.
 */
export function bf16Unavailable(lib: NativeSymbols, device: string): string | null {
  if (hasBf16(lib)) return null;
  return device === "cpu"
    ? "this CPU has no AVX512_BF16 (or LITS_BF16=off)"
    : `the ${device} library has no bf16 kernels for this device ` +
      "(before compute capability 8.0, a build without them, or LITS_BF16=off)";
}

/**
 * @internal Whether the matrix op `op` on `x` runs in bf16: autocast is on
 * and the backend can. Where it is on but cannot, says so once per reason
 * and device (the op then runs in fp32).
 */
export function matrixOpInBf16(x: Tensor): boolean {
  if (autocastDtype() === null) return false;
  const why = bf16Unavailable(x.lib, x.device);
  if (why === null) return true;
  if (!warned.has(why)) {
    warned.add(why);
    console.warn(`autocast(bfloat16): ${why}; convolutions and matmuls run in float32`);
  }
  return false;
}
