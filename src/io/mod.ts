/**
 * Reading and writing tensors: safetensors files for state dicts shared with
 * PyTorch, PyTorch's own `.pth` / `.pt` files (`loadPth` / `savePth`, no
 * Python needed), and `save` / `load` for a training loop's checkpoint dict
 * (torch.save / torch.load: PyTorch's format for `.pth` / `.pt` names,
 * safetensors for the rest; `load` reads either by its content).
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
