/**
 * PyTorch's Tensor attribute names that this library spells otherwise:
 * reading one threw nothing and gave undefined (`params.filter((p) =>
 * !p.requires_grad)` counted every parameter frozen, `x.max(1).values` was
 * undefined), and assigning one added a property nothing read
 * (`p.requires_grad = false` froze nothing). Each now throws, naming what to
 * write.
 *
 * @module
 */

/** Attribute -> what to write instead (reading). */
const READ: Record<string, string> = {
  values: "x.max(dim) and x.min(dim) return the values themselves; x.argmax(dim) gives the " +
    "indices",
  indices: "x.argmax(dim) gives the indices of x.max(dim)",
  requires_grad: "write x.requiresGrad (or x.requiresGrad_(false))",
  data: "x.detach() is the same memory outside the graph; p.data.mul_(0.5) is written " +
    "noGrad(() => p.mul_(0.5))",
  is_leaf: "write x.isLeaf",
  grad_fn: "write x.gradFn",
  is_cuda: 'write x.device === "cuda"',
  T: "write x.t() (2-D) or x.transpose(0, 1)",
};

/** Attribute -> what to write instead (assigning). */
const WRITE: Record<string, string> = {
  requires_grad: "write x.requiresGrad = false (or x.requiresGrad_(false))",
  data: "write into a parameter with noGrad(() => p.copy_(values)), replace it with " +
    "module.loadStateDict, or assign a new nn.Parameter to the module's field",
};

/**
 * @internal puts the throwing accessors on Tensor's prototype (not
 * enumerable: they are no fields of a tensor).
 */
export function addTorchNameHints(proto: object): void {
  for (const [name, read] of Object.entries(READ)) {
    const write = WRITE[name] ?? read;
    Object.defineProperty(proto, name, {
      configurable: true,
      enumerable: false,
      get() {
        throw new Error(`Tensor has no .${name}: ${read}`);
      },
      set(_: unknown) {
        throw new Error(`Tensor has no .${name} to assign: ${write}`);
      },
    });
  }
}
