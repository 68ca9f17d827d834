/**
 * MobileNetV2's inverted residual block in evaluation as one kernel
 * (`lits_inverted_residual_f32`): the 1x1 expansion, the depthwise
 * convolution and the 1x1 projection, each with its batch norm (the first
 * two with ReLU6), and the residual, computed a band of rows at a time so
 * that the expanded activation (six times the block's input) and the
 * depthwise output are never written to memory. The bits are those of
 * the three fused convolutions (`conv2dBatchNormAct`) one by one.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { isGradEnabled } from "../autograd.ts";
import { matrixOpInBf16 } from "../autocast.ts";
import { type Conv2dOptions, convGeometry, convGeometryOf } from "./conv.ts";
import type { EpilogueActivation } from "./conv_epilogue.ts";
import { preparedWeights } from "./conv_prepared.ts";
import * as fusion from "./fusion.ts";
import { type EvalStats, inferCoef } from "./norm.ts";
import { contiguous } from "./shape.ts";

/** @internal A convolution without bias followed by a batch norm on its running statistics. */
export interface ConvBnStage {
  /** The convolution's weight. */
  weight: Tensor;
  /** The convolution's options (stride, padding, groups...). */
  options: Conv2dOptions;
  /** The batch norm's statistics and affine parameters. */
  bn: EvalStats;
}

const ACT_CODE: Record<EpilogueActivation, number> = { none: 0, relu: 1, relu6: 2, silu: 3 };

/**
 * @internal project(act(dw(act(expand(x))))) (+ residual), each stage with
 * its batch norm, as one kernel; `expand` null for a block without
 * expansion (t = 1). Null where the kernel cannot do it (a backend without
 * it, a gradient to record, bf16 autocast, dtypes other than float32,
 * shapes that do not chain, a depthwise layer of another form): the
 * caller then runs the modules, which also report any error.
 */
export function invertedResidualEval(
  x: Tensor,
  expand: ConvBnStage | null,
  depthwise: ConvBnStage,
  project: ConvBnStage,
  act: EpilogueActivation,
  residual: Tensor | null,
): Tensor | null {
  const lib = x.lib;
  const stages = expand ? [expand, depthwise, project] : [depthwise, project];
  const tensors = [
    x,
    residual,
    ...stages.flatMap((s) => [
      s.weight,
      s.bn.runningMean,
      s.bn.runningVar,
      s.bn.weight,
      s.bn.bias,
    ]),
  ];
  if (
    !lib.lits_inverted_residual_f32 || !fusion.canFuse(x) || matrixOpInBf16(x) ||
    tensors.some((t) => t !== null && (t.dtype !== "float32" || t.device !== x.device)) ||
    (isGradEnabled() && tensors.some((t) => t?.requiresGrad)) ||
    fusion.fusedOf(x) !== null || (residual !== null && fusion.fusedOf(residual) !== null)
  ) {
    return null;
  }
  const geometry = () => {
    const ge = expand ? convGeometry(x, expand.weight, null, expand.options) : null;
    const dwIn = ge ? [ge.n, ge.k, ge.oh, ge.ow] : x.shape;
    const gd = convGeometryOf(dwIn, depthwise.weight, null, depthwise.options);
    return {
      ge,
      gd,
      gp: convGeometryOf([gd.n, gd.k, gd.oh, gd.ow], project.weight, null, project.options),
    };
  };
  let g: ReturnType<typeof geometry>;
  try {
    g = geometry();
  } catch {
    return null; // shapes that do not chain: the modules say how
  }
  const { ge, gd, gp } = g;
  const [, , r, s] = depthwise.weight.shape;
  const [stride, , pad, , dil, , groups] = Array.from(gd.params.subarray(7));
  const one = (p: Int32Array) =>
    p[5] === 1 && p[6] === 1 && p[7] === 1 && p[8] === 1 && p[9] === 0 && p[10] === 0 &&
    p[11] === 1 && p[12] === 1 && p[13] === 1;
  if (
    (ge && !one(ge.params)) || !one(gp.params) || groups !== gd.c || gd.k !== gd.c ||
    r !== s || r % 2 !== 1 || pad !== (r - 1) / 2 || gd.params[10] !== pad ||
    gd.params[8] !== stride || (stride !== 1 && stride !== 2) || dil !== 1 ||
    gd.params[12] !== 1 || stages.some((st) => st.bn.runningMean.numel() !== st.weight.shape[0])
  ) {
    return null;
  }
  const shape = [gp.n, gp.k, gp.oh, gp.ow];
  if (residual && (residual.ndim !== 4 || residual.shape.some((d, i) => d !== shape[i]))) {
    return null;
  }
  const cx = contiguous(x), cr = residual ? contiguous(residual) : null;
  const ws = stages.map((st) => contiguous(st.weight));
  const coefs = stages.map((st) => inferCoef(st.bn));
  const [we, wd, wp] = expand ? ws : [null, ...ws];
  const [ce, cd, cp] = expand ? coefs : [null, ...coefs];
  const prepE = ge && we === expand!.weight ? preparedWeights(we!, ge.params) : null;
  const prepP = wp === project.weight ? preparedWeights(wp!, gp.params) : null;
  const y = Tensor.empty(shape, "float32", x.device);
  const status = lib.lits_inverted_residual_f32(
    ge?.params ?? null,
    gd.params,
    gp.params,
    cx.ptr,
    we?.ptr ?? null,
    ce?.ptr ?? null,
    wd!.ptr,
    cd!.ptr,
    wp!.ptr,
    cp!.ptr,
    cr?.ptr ?? null,
    ACT_CODE[act],
    y.ptr,
    prepE?.ptr ?? null,
    prepE?.bytes ?? 0n,
    prepP?.ptr ?? null,
    prepP?.bytes ?? 0n,
  );
  for (const c of coefs) c.dispose();
  ws.forEach((w, i) => {
    if (w !== stages[i].weight) w.dispose();
  });
  if (cx !== x) cx.dispose();
  if (cr && cr !== residual) cr.dispose();
  if (status !== 0) y.dispose();
  check(lib, status, () => `invertedResidual x [${x.shape}] -> [${shape}]`);
  return y;
}
