/**
 * ONNX nodes for torchvision's Vision Transformer (models/vit.ts): the patch
 * embedding, class token and position embedding, the encoder blocks, and
 * their `nn.MultiheadAttention` as self-attention (batch first, as the ViT
 * builds it) written out in MatMul, Softmax and Reshape nodes (opset 17 has
 * no attention op). Each reads as the module's own forward in eval mode.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { MultiheadAttention } from "../layers/attention.ts";
import { VisionTransformer } from "../models/vit.ts";
import { Encoder, EncoderBlock } from "../models/vit_blocks.ts";
import { checkInput } from "../models/input.ts";
import { type Emitter, type Scope, shapeText, type Value } from "./graph.ts";
import { where } from "./shapes.ts";

const visionTransformer: Emitter<VisionTransformer> = (s, m, x) => {
  // The model's own input check (channels, exact size), on the shape alone.
  checkInput({ shape: x.shape, ndim: x.shape.length } as unknown as Tensor, m.inputSpec);
  const g = s.graph, D = m.hiddenDim, P = (m.imageSize / m.patchSize) ** 2;
  const [n] = x.shape;
  x = s.child("conv_proj", m.conv_proj, x);
  // [N, D, h, w] -> [N, D, h * w] -> [N, h * w, D]; 0 keeps the (symbolic) batch.
  x = g.node("Reshape", s.at("tokens"), [x.name, g.int64s(s.at("tokens.shape"), [0, D, P])], [
    n,
    D,
    P,
  ]);
  x = g.node("Transpose", s.at("tokens_t"), [x.name], [n, P, D], { perm: [0, 2, 1] });
  // class_token.expand(N, -1, -1): the batch read from the tokens' shape.
  const batch = g.node("Shape", s.at("batch"), [x.name], [1], { start: 0, end: 1 });
  const rest = g.int64s(s.at("class_shape.rest"), [1, D]);
  const target = g.node("Concat", s.at("class_shape"), [batch.name, rest], [3], { axis: 0 });
  const token = g.floats(s.at("class_token"), m.class_token);
  const cls = g.node("Expand", s.at("class_tokens"), [token, target.name], [n, 1, D]);
  x = g.node("Concat", s.at("with_class"), [cls.name, x.name], [n, P + 1, D], { axis: 1 });
  x = s.child("encoder", m.encoder, x);
  // x[:, 0]: the class token's output.
  const first = g.node("Gather", s.at("class_out"), [x.name, g.int64s(s.at("index0"), [0])], [
    n,
    1,
    D,
  ], { axis: 1 });
  x = g.node("Reshape", s.at("class_flat"), [first.name, g.int64s(s.at("flat"), [0, D])], [n, D]);
  return s.child("heads", m.heads, x);
};

const encoder: Emitter<Encoder> = (s, m, x) => {
  const pos = m.pos_embedding;
  if (x.shape.length !== 3 || x.shape[1] !== pos.shape[1] || x.shape[2] !== pos.shape[2]) {
    throw new Error(
      `exportOnnx: ${where(s, m)}: tokens ${shapeText(x.shape)} do not fit pos_embedding ` +
        `[${pos.shape}]`,
    );
  }
  const g = s.graph;
  x = g.node("Add", s.at("add_pos"), [x.name, g.floats(s.at("pos_embedding"), pos)], x.shape);
  x = s.child("dropout", m.dropout, x);
  return s.child("ln", m.ln, s.child("layers", m.layers, x));
};

const encoderBlock: Emitter<EncoderBlock> = (s, m, input) => {
  const g = s.graph;
  let x = s.child("ln_1", m.ln_1, input);
  x = s.child("self_attention", m.self_attention, x);
  x = s.child("dropout", m.dropout, x);
  x = g.node("Add", s.at("residual_1"), [x.name, input.name], input.shape);
  const y = s.child("mlp", m.mlp, s.child("ln_2", m.ln_2, x));
  return g.node("Add", s.at("residual_2"), [x.name, y.name], input.shape);
};

/** Slice [from, from + size) of the last axis of `x` ([N, L, 3E]). */
function lastAxis(s: Scope, name: string, x: Value, from: number, size: number): Value {
  const g = s.graph;
  const inputs = [
    x.name,
    g.int64s(s.at(`${name}.starts`), [from]),
    g.int64s(s.at(`${name}.ends`), [from + size]),
    g.int64s(s.at(`${name}.axes`), [2]),
  ];
  return g.node("Slice", s.at(name), inputs, [...x.shape.slice(0, 2), size]);
}

/**
 * Self-attention as `forward(x, x, x, { needWeights: false })` computes it
 * for a batch-first [N, L, E]: the packed projection, heads, scaled dot
 * products, softmax, the heads merged and `out_proj`.
 */
const multiheadAttention: Emitter<MultiheadAttention> = (s, m, x) => {
  const at = where(s, m);
  const refuse = (why: string) =>
    new Error(`exportOnnx: cannot export ${at}: ${why}; the ViT's self-attention is exported`);
  if (!m.batchFirst) throw refuse("it is not batchFirst");
  if (m.in_proj_weight === null) throw refuse("it has separate q, k, v weights (kdim, vdim)");
  if (m.bias_k !== null || m.addZeroAttn) throw refuse("addBiasKv and addZeroAttn are not");
  const E = m.embedDim, H = m.numHeads, D = m.headDim;
  if (x.shape.length !== 3 || x.shape[2] !== E) {
    throw new Error(`exportOnnx: ${at} expects [N, L, ${E}], got ${shapeText(x.shape)}`);
  }
  const g = s.graph;
  const [n, L] = x.shape;
  const w = g.floats(s.at("in_proj_weight"), m.in_proj_weight);
  const wT = g.node("Transpose", s.at("in_proj_weight_t"), [w], [E, 3 * E], { perm: [1, 0] });
  let qkv = g.node("MatMul", s.at("in_proj"), [x.name, wT.name], [n, L, 3 * E]);
  if (m.in_proj_bias) {
    const b = g.floats(s.at("in_proj_bias"), m.in_proj_bias);
    qkv = g.node("Add", s.at("in_proj_add"), [qkv.name, b], qkv.shape);
  }
  // [N, L, E] -> [N, L, H, D] -> [N, H, L, D] (keys: [N, H, D, L]).
  const heads = (name: string, v: Value, perm: number[]) => {
    const r = g.node("Reshape", s.at(`${name}.heads`), [
      v.name,
      g.int64s(s.at(`${name}.heads.shape`), [0, 0, H, D]),
    ], [n, L, H, D]);
    const shape = perm.map((p) => r.shape[p]);
    return g.node("Transpose", s.at(`${name}.t`), [r.name], shape, { perm });
  };
  const q = heads("q", lastAxis(s, "q", qkv, 0, E), [0, 2, 1, 3]);
  const k = heads("k", lastAxis(s, "k", qkv, E, E), [0, 2, 3, 1]);
  const v = heads("v", lastAxis(s, "v", qkv, 2 * E, E), [0, 2, 1, 3]);
  const scale = g.scalar(s.at("scale"), 1 / Math.sqrt(D));
  const qs = g.node("Mul", s.at("q.scaled"), [q.name, scale], q.shape);
  const scores = g.node("MatMul", s.at("scores"), [qs.name, k.name], [n, H, L, L]);
  const weights = g.node("Softmax", s.at("softmax"), [scores.name], scores.shape, { axis: -1 });
  const out = g.node("MatMul", s.at("attend"), [weights.name, v.name], [n, H, L, D]);
  const merged = g.node("Transpose", s.at("merge.t"), [out.name], [n, L, H, D], {
    perm: [0, 2, 1, 3],
  });
  const flat = g.node("Reshape", s.at("merge"), [
    merged.name,
    g.int64s(s.at("merge.shape"), [0, 0, E]),
  ], [n, L, E]);
  return s.child("out_proj", m.out_proj, flat);
};

/** The ViT emitters, by class. */
export const VIT = new Map<abstract new (...args: never[]) => Module, Emitter<never>>([
  [VisionTransformer, visionTransformer],
  [Encoder, encoder],
  [EncoderBlock, encoderBlock],
  [MultiheadAttention, multiheadAttention],
]);
