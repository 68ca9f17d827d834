/**
 * What Inception v3 and GoogLeNet return in training: the logits with their
 * auxiliary classifiers' logits, as torchvision's `InceptionOutputs(logits,
 * aux_logits)` and `GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`
 * namedtuples, which users unpack (`outputs, aux = model(x)`) or read by
 * name (`outputs.logits`). Here they are objects with `logits` and the
 * auxiliary logits in camelCase, iterable in the tuple's order so that
 * `const [out, aux] = model.forward(x)` works. In evaluation the models
 * return the logits tensor alone, as torchvision's.
 *
 * A training output is not a tensor, and what people do with a tensor
 * fails on it with a message saying what to write: reading a Tensor
 * method or property (`out.argmax(1)`, `out.shape`), torch's snake_case
 * names (`out.aux_logits`), and passing it to a loss or an op.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { TENSOR_HINT } from "../tensor/tensor_hint.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/**
 * Inception v3's training output (torchvision's `InceptionOutputs`): the
 * logits and AuxLogits' logits. The common fine-tuning recipe (PyTorch's
 * fine-tuning tutorial) trains on `loss(logits) + 0.4 * loss(auxLogits)`.
 *
 * @example
 * ```ts
 * import { models, nn, tensor, zeros } from "@lits/vision";
 * const out = new models.InceptionOutputs(zeros([2, 3]), zeros([2, 3]));
 * const [logits, aux] = out;
 * const lossFn = new nn.CrossEntropyLoss(), y = tensor(Int32Array.from([0, 2]), [2]);
 * const loss = lossFn.forward(logits, y).add(lossFn.forward(aux, y).mul(0.4));
 * console.log(out.logits === logits, loss.item().toFixed(4)); // true "1.5381"
 * ```
 */
export class InceptionOutputs {
  /** The main classifier's logits [N, K] (torchvision's `logits`). */
  readonly logits: Tensor;
  /** AuxLogits' logits [N, K] (torchvision's `aux_logits`). */
  readonly auxLogits: Tensor;

  /** The two heads' logits, as torchvision's `InceptionOutputs(logits, aux_logits)`. */
  constructor(logits: Tensor, auxLogits: Tensor) {
    this.logits = logits;
    this.auxLogits = auxLogits;
  }

  /** `[logits, auxLogits]`, the namedtuple's order: `const [out, aux] = model.forward(x)`. */
  *[Symbol.iterator](): IterableIterator<Tensor> {
    yield this.logits;
    yield this.auxLogits;
  }

  /** 2, the namedtuple's length. */
  get length(): number {
    return 2;
  }

  /** Frees both tensors. */
  dispose(): void {
    this.logits.dispose();
    this.auxLogits.dispose();
  }

  /** `using out = model.forward(x)` frees both tensors. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * GoogLeNet's training output (torchvision's `GoogLeNetOutputs(logits,
 * aux_logits2, aux_logits1)`): the logits and the two auxiliary heads'
 * logits, `auxLogits2` from `aux2` (after inception4d) and `auxLogits1`
 * from `aux1` (after inception4a), iterated in the namedtuple's order
 * `[logits, auxLogits2, auxLogits1]`. The paper (Szegedy et al. 2015,
 * section 5) trains on `loss(logits) + 0.3 * (loss(auxLogits1) +
 * loss(auxLogits2))`.
 *
 * torchvision 0.14 fills the namedtuple crosswise (its `aux_logits2` holds
 * aux1's output and `aux_logits1` aux2's; pytorch/vision#8736, fixed in
 * 2024): here each name holds its own head's logits, as in torchvision
 * since that fix. A loss that weighs both heads alike is the same either way.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const out = new models.GoogLeNetOutputs(zeros([2, 3]), zeros([2, 3]), zeros([2, 3]));
 * const [logits, aux2, aux1] = out;
 * console.log(logits === out.logits, aux2 === out.auxLogits2, aux1 === out.auxLogits1); // true true true
 * ```
 */
export class GoogLeNetOutputs {
  /** The main classifier's logits [N, K] (torchvision's `logits`). */
  readonly logits: Tensor;
  /** `aux2`'s logits [N, K], the head after inception4d (torchvision's `aux_logits2`). */
  readonly auxLogits2: Tensor;
  /** `aux1`'s logits [N, K], the head after inception4a (torchvision's `aux_logits1`). */
  readonly auxLogits1: Tensor;

  /** In the namedtuple's order: `GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`. */
  constructor(logits: Tensor, auxLogits2: Tensor, auxLogits1: Tensor) {
    this.logits = logits;
    this.auxLogits2 = auxLogits2;
    this.auxLogits1 = auxLogits1;
  }

  /** `[logits, auxLogits2, auxLogits1]`, the namedtuple's order. */
  *[Symbol.iterator](): IterableIterator<Tensor> {
    yield this.logits;
    yield this.auxLogits2;
    yield this.auxLogits1;
  }

  /** 3, the namedtuple's length. */
  get length(): number {
    return 3;
  }

  /** Frees the three tensors. */
  dispose(): void {
    this.logits.dispose();
    this.auxLogits2.dispose();
    this.auxLogits1.dispose();
  }

  /** `using out = model.forward(x)` frees the three tensors. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** What each output is and how its parts combine into a loss, for the messages. */
const WHAT = {
  InceptionOutputs: {
    is: "Inception v3's training output { logits, auxLogits } (torchvision's InceptionOutputs)",
    loss: "lossFn.forward(out.logits, y).add(lossFn.forward(out.auxLogits, y).mul(0.4))",
    unpack: "const [out, aux] = model.forward(x)",
  },
  GoogLeNetOutputs: {
    is: "GoogLeNet's training output { logits, auxLogits2, auxLogits1 } (torchvision's " +
      "GoogLeNetOutputs)",
    loss: "lossFn.forward(out.logits, y).add(lossFn.forward(out.auxLogits1, y).add(" +
      "lossFn.forward(out.auxLogits2, y)).mul(0.3))",
    unpack: "const [out, aux2, aux1] = model.forward(x)",
  },
} as const;

/** The text an op refusing the output shows (elementwise.ts requireFloat, loss_args.ts openLoss). */
function hint(owner: keyof typeof WHAT): string {
  const w = WHAT[owner];
  return `${w.is}, which a model returns in training mode; take its logits: ${w.loss}, ` +
    "or call model.eval() for the logits tensor alone";
}

/** Reading a Tensor member on an output: what to write instead. */
function tensorMembers(owner: keyof typeof WHAT, own: object): Record<string, string> {
  const w = WHAT[owner];
  const names = new Set([
    ...Object.getOwnPropertyNames(Tensor.prototype),
    "shape",
    "dtype",
  ]);
  const out: Record<string, string> = {};
  for (const name of names) {
    // Object's own (toString, constructor...) and the output's own members stay.
    if (name in Object.prototype || Object.hasOwn(own, name)) continue;
    out[name] = `it is ${w.is}, not a tensor, as models return in training mode; write ` +
      `out.logits.${name} (${w.unpack}), and train on ${w.loss}`;
  }
  return out;
}

for (
  const [cls, owner] of [[InceptionOutputs, "InceptionOutputs"], [
    GoogLeNetOutputs,
    "GoogLeNetOutputs",
  ]] as const
) {
  Object.defineProperty(cls.prototype, TENSOR_HINT, { value: hint(owner), enumerable: false });
  addNameHints(cls.prototype, owner, tensorMembers(owner, cls.prototype));
}
addNameHints(InceptionOutputs.prototype, "InceptionOutputs", {
  aux_logits: "write out.auxLogits",
});
addNameHints(GoogLeNetOutputs.prototype, "GoogLeNetOutputs", {
  aux_logits1: "write out.auxLogits1 (aux1's logits, after inception4a)",
  aux_logits2: "write out.auxLogits2 (aux2's logits, after inception4d)",
});
