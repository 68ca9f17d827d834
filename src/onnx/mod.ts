/**
 * ONNX export (`torch.onnx.export`'s job): a zoo model, in eval mode, as an
 * ONNX graph that ONNX Runtime (onnxruntime-node, onnxruntime-web) runs.
 *
 * @module
 */
export { exportOnnx, type ExportOnnxOptions } from "./export.ts";
export type { Dim } from "./proto.ts";
