/**
 * Evaluation reports: `renderReport` and `writeReport` turn a run's history,
 * labels, softmax probabilities and mistakes into one self-contained HTML
 * page (Vega-Lite charts as inline SVG, thumbnails as PNG data URIs). The
 * numbers come from `metrics`. Explanations: `gradCam`, and Captum's
 * attribution methods `Saliency`, `InputXGradient`, `IntegratedGradients`,
 * `Occlusion` and `NoiseTunnel` (`new evaluation.Saliency(model)
 * .attribute(x, { target })`), and its layer attributions `LayerGradCam`
 * (Captum's raw Grad-CAM; `gradCam` is pytorch-grad-cam's heat map),
 * `LayerActivation`, `LayerIntegratedGradients`, `LayerConductance` and
 * `LayerAttribution.interpolate`; `GuidedBackprop`, `Deconvolution` and
 * `GuidedGradCam` (nn.ReLU modules' gradients overridden), and the
 * perturbation methods `FeatureAblation`, `ShapleyValueSampling` and
 * `ShapleyValues`.
 *
 * @example
 * ```ts
 * import { evaluation } from "@lits/vision";
 *
 * const html = await evaluation.renderReport({
 *   title: "Quick look",
 *   classNames: ["no liver", "liver"],
 *   history: [],
 *   yTrue: [0, 1, 1, 0],
 *   yPred: [0, 1, 0, 0],
 *   scores: [0.9, 0.1, 0.3, 0.7, 0.6, 0.4, 0.8, 0.2],
 * });
 * console.log(html.startsWith("<!doctype html>"));
 * ```
 *
 * @module
 */
export { renderReport, type ReportOptions, writeReport } from "./report/report.ts";
export { emaFromMetrics } from "./report/ema.ts";
export type {
  EmaTest,
  EmaValidation,
  HistoryEntry,
  Misclassified,
  ReportData,
  ReportEma,
  ReportImage,
} from "./report/types.ts";
export {
  gradCam,
  gradCamLayer,
  gradCamLayers,
  type GradCamMethod,
  type GradCamOptions,
} from "./gradcam.ts";
export { Attribution, type ForwardFunc, type Target } from "./attribution/common.ts";
export { Saliency, type SaliencyOptions } from "./attribution/saliency.ts";
export {
  InputXGradient,
  type InputXGradientInit,
  type InputXGradientOptions,
} from "./attribution/input_x_gradient.ts";
export {
  IntegratedGradients,
  type IntegratedGradientsInit,
  type IntegratedGradientsOptions,
} from "./attribution/integrated_gradients.ts";
export type { IntegrationMethod } from "./attribution/approximation.ts";
export { Occlusion, type OcclusionOptions } from "./attribution/occlusion.ts";
export { LayerAttribution, type LayerInit, type LayerRef } from "./attribution/layer.ts";
export { LayerGradCam, type LayerGradCamOptions } from "./attribution/layer_grad_cam.ts";
export { LayerActivation, type LayerActivationOptions } from "./attribution/layer_activation.ts";
export {
  LayerIntegratedGradients,
  type LayerIntegratedGradientsInit,
  type LayerIntegratedGradientsOptions,
} from "./attribution/layer_integrated_gradients.ts";
export {
  Deconvolution,
  GuidedBackprop,
  type GuidedBackpropOptions,
} from "./attribution/guided_backprop.ts";
export { GuidedGradCam, type GuidedGradCamOptions } from "./attribution/guided_grad_cam.ts";
export { LayerConductance, type LayerConductanceOptions } from "./attribution/layer_conductance.ts";
export { FeatureAblation, type FeatureAblationOptions } from "./attribution/feature_ablation.ts";
export {
  ShapleyValues,
  ShapleyValueSampling,
  type ShapleyValueSamplingOptions,
  type ShapleyValuesOptions,
} from "./attribution/shapley_value.ts";
export {
  NoiseTunnel,
  type NoiseTunnelOptions,
  type NoiseTunnelOwnOptions,
  type NoiseTunnelType,
} from "./attribution/noise_tunnel.ts";
