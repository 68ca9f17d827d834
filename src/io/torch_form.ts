/**
 * What PyTorch's own file format stores for a state dict whose layout here
 * differs from torch's (an optimizer's `{ state, paramGroups }`, a
 * schedule's camelCase position). `opt.stateDict()` carries its torch form
 * under a hidden key, and `io.save("ckpt.pt", ...)` / `io.savePth` write that
 * form, so that PyTorch's `optimizer.load_state_dict(ckpt[...])` reads the
 * file (it raised KeyError 'param_groups' on this library's layout). Our own
 * `loadStateDict` takes either layout, so a `.pt` checkpoint still resumes
 * here; safetensors checkpoints keep this library's layout.
 *
 * @module
 */

/** The hidden key: its value gives the torch form of the object it sits on. */
const TORCH_FORM: unique symbol = Symbol("lits.torchForm");

/**
 * @internal attaches `form` (the same state in PyTorch's layout, sharing its
 * tensors) to `obj` under a key no walk or JSON sees; returns `obj`.
 */
export function withTorchForm<T extends object>(obj: T, form: unknown): T {
  return Object.defineProperty(obj, TORCH_FORM, { value: form });
}

/** @internal the torch form attached to `value`, or `value` itself when it has none. */
export function torchFormOf(value: unknown): unknown {
  if (value !== null && typeof value === "object" && TORCH_FORM in value) {
    return (value as { [TORCH_FORM]: unknown })[TORCH_FORM];
  }
  return value;
}
