/**
 * Reading and writing tensors: safetensors files for state dicts shared with
 * PyTorch.
 *
 * @module
 */
export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  type LoadSafetensorsOptions,
  type NamedTensors,
  saveSafetensors,
  type SaveSafetensorsOptions,
} from "./safetensors.ts";
