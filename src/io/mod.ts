/**
 * Reading and writing tensors: safetensors files for state dicts shared with
 * PyTorch, and `save` / `load` for a training loop's checkpoint dict
 * (torch.save / torch.load).
 *
 * @module
 */
export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  type LoadSafetensorsOptions,
  type NamedTensors,
  safetensorsMetadata,
  saveSafetensors,
  type SaveSafetensorsOptions,
} from "./safetensors.ts";
export { load, save, type Saved } from "./save_load.ts";
export { decodePth, isPth, loadPth, type LoadPthOptions } from "./pth_read.ts";
export { encodePth, savePth, type SavePthOptions } from "./pth_write.ts";
