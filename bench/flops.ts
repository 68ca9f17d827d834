/**
 * The work of a model's forward pass for the benchmarks' GFLOP/s: the
 * multiply-adds of its `Conv2d` and `Linear` layers for one input shape,
 * counted on the real layer calls (a forward hook on each, one forward on
 * zeros at batch 1, in eval mode without gradients), so that every stride,
 * padding, group and feature-map size is what the model really uses.
 * Batch norm, activations, pooling and the loss are left out, as in the
 * usual counts (torchvision's "GFLOPS" column, fvcore, ptflops).
 *
 * FLOPs = 2 per multiply-add. A training step is counted as 3x the forward's
 * (the forward, then input and weight gradients of the same size), the usual
 * convention, less the input gradient of the layers that read the model's
 * input (the stem): the image needs none, and neither library computes it.
 *
 * @module
 */
import { nn, noGrad, type Tensor, zeros } from "../mod.ts";

type Module = nn.Module;

/** Multiply-adds and FLOPs of one forward (and training step) at a batch. */
export interface ForwardWork {
  /** Multiply-adds of the Conv2d layers. */
  convMacs: number;
  /** Multiply-adds of the Linear layers. */
  linearMacs: number;
  /** Their sum. */
  macs: number;
  /** 2 * macs. */
  forwardFlops: number;
  /** Multiply-adds of the layers whose input is the model's input (their input gradient is not computed). */
  inputMacs: number;
  /** 3 * forwardFlops (forward, input gradient and weight gradient) - 2 * inputMacs. */
  trainStepFlops: number;
  /** Conv2d and Linear calls counted (per sample). */
  layerCalls: number;
}

/**
 * Counts the Conv2d and Linear multiply-adds of `model.forward` on an input
 * of `inputShape` ([N, C, H, W]): one forward on zeros of [1, C, H, W], the
 * counts then times N (they are linear in the batch). The model's training
 * flags are restored after.
 */
export function countForward(model: Module, inputShape: readonly number[]): ForwardWork {
  if (inputShape.length < 2 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(
      `countForward: inputShape must be positive integers [N, C, ...], got [${inputShape}]`,
    );
  }
  let convMacs = 0, linearMacs = 0, inputMacs = 0, layerCalls = 0;
  let input: Tensor | null = null;
  const handles: { remove(): void }[] = [];
  const modes = new Map<Module, boolean>();
  for (const m of model.modules()) {
    modes.set(m, m.training);
    if (m instanceof nn.Conv2d) {
      // weight [out, in / groups, kh, kw]: each output element is in / groups * kh * kw MACs.
      const [, cin, kh, kw] = m.weight.shape;
      handles.push(m.registerForwardHook((_m, inputs: Tensor[], out: Tensor) => {
        convMacs += out.numel() * cin * kh * kw;
        if (inputs[0] === input) inputMacs += out.numel() * cin * kh * kw;
        layerCalls++;
      }));
    } else if (m instanceof nn.Linear) {
      // weight [out, in]: each output element is `in` MACs.
      const inFeatures = m.weight.shape[1];
      handles.push(m.registerForwardHook((_m, inputs: Tensor[], out: Tensor) => {
        linearMacs += out.numel() * inFeatures;
        if (inputs[0] === input) inputMacs += out.numel() * inFeatures;
        layerCalls++;
      }));
    }
  }
  try {
    model.eval();
    noGrad(() => {
      using x = zeros([1, ...inputShape.slice(1)]);
      input = x;
      model.forward(x).dispose();
    });
  } finally {
    for (const h of handles) h.remove();
    for (const [m, training] of modes) m.training = training;
  }
  const n = inputShape[0];
  const macs = n * (convMacs + linearMacs);
  return {
    convMacs: n * convMacs,
    linearMacs: n * linearMacs,
    macs,
    inputMacs: n * inputMacs,
    forwardFlops: 2 * macs,
    trainStepFlops: 6 * macs - 2 * n * inputMacs,
    layerCalls,
  };
}
