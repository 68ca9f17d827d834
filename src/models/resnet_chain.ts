/**
 * ResNet's four stages in evaluation under bf16 autocast as one chain of
 * channels-last bf16 convolutions (`tensor/ops/conv_nhwc_bf16.ts`): each
 * block's convolutions with their batch norms, residual and ReLUs as they
 * are written, the activations kept in bf16 from one to the next, as
 * PyTorch's autocast keeps them. The stages' input is rounded to bf16 once
 * and their output widened back to float32 once.
 *
 * It applies where the modules are the ones ResNet builds (no hooks, no
 * overridden forward, batch norms in evaluation on running statistics), no
 * gradient is recorded, the CPU has bf16 products (`chainWins`), and the
 * CPU library runs every convolution this way (oneDNN, and our 1x1
 * kernel); elsewhere the stages run module by module.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { autocastDtype, bf16Level, matrixOpInBf16 } from "../tensor/autocast.ts";
import type { NativeSymbols } from "../ffi/symbols.ts";
import {
  type ChainConv,
  convNhwcBf16,
  fromNhwcBf16,
  hasNhwcBf16,
  type NhwcBf16,
  nhwcBf16Takes,
  toNhwcBf16,
} from "../tensor/ops/conv_nhwc_bf16.ts";
import type { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { Sequential } from "../layers/sequential.ts";
import { BasicBlock, Bottleneck } from "./resnet_blocks.ts";
import { isPlain } from "./plain.ts";

/** One convolution of a block and whether a residual and a ReLU follow it. */
interface Step {
  conv: ChainConv;
  residual: boolean;
  relu: boolean;
}

/** A block as the chain runs it: the main path, then the shortcut's convolution (if any). */
interface Block {
  main: Step[];
  shortcut: Step | null;
}

function convOf(conv: Conv2d, bn: BatchNorm2d): ChainConv | null {
  if (!isPlain(conv, Conv2d) || !isPlain(bn, BatchNorm2d) || bn.training) return null;
  const { runningMean, runningVar } = bn;
  if (runningMean === null || runningVar === null) return null;
  return {
    weight: conv.weight,
    bias: conv.bias,
    options: conv.options,
    bn: { runningMean, runningVar, weight: bn.weight, bias: bn.bias, eps: bn.eps },
  };
}

/** The block's steps, or null where it is not one the chain runs as its forward would. */
function blockOf(m: Module): Block | null {
  let pairs: [Conv2d, BatchNorm2d][];
  if (isPlain(m, Bottleneck)) {
    const b = m as Bottleneck;
    if (!isPlain(b.relu, ReLU)) return null;
    pairs = [[b.conv1, b.bn1], [b.conv2, b.bn2], [b.conv3, b.bn3]];
  } else if (isPlain(m, BasicBlock)) {
    const b = m as BasicBlock;
    if (!isPlain(b.relu, ReLU)) return null;
    pairs = [[b.conv1, b.bn1], [b.conv2, b.bn2]];
  } else {
    return null;
  }
  const main: Step[] = [];
  for (const [i, [conv, bn]] of pairs.entries()) {
    const c = convOf(conv, bn);
    if (c === null) return null;
    const last = i === pairs.length - 1;
    main.push({ conv: c, residual: last, relu: true });
  }
  const ds = (m as Bottleneck | BasicBlock).downsample;
  if (ds === null) return { main, shortcut: null };
  if (!isPlain(ds, Sequential) || ds.length !== 2) return null;
  const c = ds[0] instanceof Conv2d && ds[1] instanceof BatchNorm2d ? convOf(ds[0], ds[1]) : null;
  return c === null ? null : { main, shortcut: { conv: c, residual: false, relu: false } };
}

/** Every step's output shape follows from x's; null where the library would decline one. */
function planned(x: Tensor, blocks: Block[]): boolean {
  let shape: readonly number[] = x.shape;
  for (const b of blocks) {
    const input = shape;
    if (b.shortcut && !nhwcBf16Takes(x.lib, input, b.shortcut.conv, false, false)) return false;
    for (const s of b.main) {
      const out = nhwcBf16Takes(x.lib, shape, s.conv, s.residual, s.relu);
      if (out === null) return false;
      shape = out;
    }
  }
  return true;
}

/**
 * Whether the chain runs: by default wherever the CPU has bf16 products,
 * where it measured faster than module by module. On AMX, oneDNN's kernels
 * need channels-last bf16, which module by module converts to and from at
 * every convolution. On vdpbf16ps CPUs (where module by module runs the
 * larger stride-1 3x3 layers as float32 Winograd, conv_bf16_rounded.c, and
 * the chain cannot) it lost with oneDNN's 1x1 kernels and weight reorders,
 * and wins or ties with ours (conv_nhwc_bf16_pointwise.c; conv_nhwc_bf16.c's
 * write_weights): ResNet-50's evaluation, AMD EPYC Zen 4, 2 threads,
 * alternating in one process, chain against module by module (ms): batch
 * 16 at 256^2 403.1 and 440.3, batch 1 40.5 and 50.0; at 128^2, batch 2
 * 31.2 and 31.3; batch 1 at 64^2 17.3 and 18.5. `LITS_BF16_CHAIN=on` runs
 * the chain wherever the library can, `=off` nowhere.
 */
function chainWins(lib: NativeSymbols): boolean {
  const env = Deno.env.get("LITS_BF16_CHAIN");
  if (env === "on" || env === "off") return env === "on";
  return bf16Level(lib) > 0;
}

/**
 * @internal `stages` (ResNet's layer1..layer4) applied to `x` as one
 * channels-last bf16 chain, or null where it does not apply (see the
 * module's text): the caller then runs them module by module.
 */
export function stagesInBf16(stages: readonly Sequential[], x: Tensor): Tensor | null {
  if (autocastDtype() !== "bfloat16" || x.device !== "cpu" || x.dtype !== "float32") return null;
  if (x.ndim !== 4 || x.shape[1] % 16 !== 0 || x.numel() === 0 || !hasNhwcBf16(x.lib)) return null;
  if (!chainWins(x.lib)) return null;
  if (!stages.every((s) => isPlain(s, Sequential))) return null;
  const modules = stages.flatMap((s) => Array.from({ length: s.length }, (_, i) => s[i]));
  const blocks = modules.map(blockOf);
  // (No blocks: nothing to chain, and x must not be rounded.)
  if (blocks.length === 0 || blocks.some((b) => b === null)) return null;
  const grads = isGradEnabled() &&
    (x.requiresGrad || stages.some((s) => s.parameters().some((p) => p.requiresGrad)));
  if (grads || !matrixOpInBf16(x) || !planned(x, blocks as Block[])) return null;
  let cur: NhwcBf16 = toNhwcBf16(x);
  const live = new Set<NhwcBf16>([cur]);
  const made = (t: NhwcBf16) => (live.add(t), t);
  const free = (t: NhwcBf16) => (live.delete(t), t.dispose());
  try {
    for (const b of blocks as Block[]) {
      const input: NhwcBf16 = cur;
      // The shortcut's output, or the input itself: the block's output is written over it.
      const residual = b.shortcut
        ? made(convNhwcBf16(input, b.shortcut.conv, null, b.shortcut.relu))
        : input;
      let t = input;
      for (const s of b.main) {
        const next = made(convNhwcBf16(t, s.conv, s.residual ? residual : null, s.relu));
        if (t !== input) free(t);
        t = next;
      }
      if (residual !== input) free(input);
      cur = t;
    }
    return fromNhwcBf16(cur);
  } finally {
    for (const t of live) t.dispose();
  }
}
