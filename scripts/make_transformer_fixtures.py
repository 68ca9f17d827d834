"""Writes tests/fixtures/transformer.json: PyTorch 1.13's numbers for
nn.TransformerEncoderLayer, nn.TransformerEncoder, nn.TransformerDecoderLayer,
nn.TransformerDecoder and nn.Transformer (tests/transformer_test.ts).

Each case stores the module kind, the constructor options under this
library's names (camelCase; the activation as "relu" or "gelu"), the module's
state dict (stored once for the encoder and once for the decoder stack, every
parameter moved off its initial value by fixed random noise, so that each copy
of a layer and every bias is tested; the single layers and nn.Transformer take
theirs from those two, see state_of), the inputs, the
forward's masks (bool masks as int32, this library's boolean mask; float
masks as float32), the output in eval mode (dropout off), a fixed random
upstream gradient G, and the gradients of L = sum(out * G) for every input and
every parameter. The "nested" cases are run under torch.no_grad() in eval mode,
where TransformerEncoder's enable_nested_tensor path gives zeros at padded
positions; they store the output only.

Sizes: dModel 8, nhead 2, dimFeedforward 16, 2 layers (nn.Transformer: 1
encoder and 1 decoder layer), sequences of 5 (tgt 4), batch 3.

Run with /usr/bin/python3 scripts/make_transformer_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260815)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "transformer.json")
E, H, FF, LAYERS, S, T, N = 8, 2, 16, 2, 5, 4, 3


def mask_ser(m):
    """A bool mask as int32 (this library's boolean mask), a float one as is."""
    return ser(m.to(torch.int32)) if m.dtype == torch.bool else ser(m)


def layer_kwargs(opts):
    return dict(dim_feedforward=FF, dropout=0.1, activation=opts.get("activation", "relu"),
                batch_first=opts.get("batchFirst", False),
                norm_first=opts.get("normFirst", False))


def build(kind, opts):
    """The module of a case; opts in this library's names."""
    if kind == "encoderLayer":
        return nn.TransformerEncoderLayer(E, H, **layer_kwargs(opts))
    if kind == "encoder":
        layer = nn.TransformerEncoderLayer(E, H, **layer_kwargs(opts))
        return nn.TransformerEncoder(layer, LAYERS, norm=nn.LayerNorm(E))
    if kind == "decoderLayer":
        return nn.TransformerDecoderLayer(E, H, **layer_kwargs(opts))
    if kind == "decoder":
        layer = nn.TransformerDecoderLayer(E, H, **layer_kwargs(opts))
        return nn.TransformerDecoder(layer, LAYERS, norm=nn.LayerNorm(E))
    assert kind == "transformer"
    kw = layer_kwargs(opts)
    return nn.Transformer(d_model=E, nhead=H, num_encoder_layers=1,
                          num_decoder_layers=1, **kw)


def perturbed(kind):
    """The state dict of a fresh `kind`, every parameter moved by fixed noise."""
    m = build(kind, {})
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return {n: t.clone() for n, t in m.state_dict().items()}


def state_of(kind):
    """A kind's state dict, from the two stored ones (the test maps the keys the same way):
    a layer is the stack's layers.0, nn.Transformer is encoder.layers.0 + encoder.norm and
    decoder.layers.0 + decoder.norm."""
    if kind in STATES:
        return STATES[kind]
    stack = {"encoderLayer": "encoder", "decoderLayer": "decoder"}.get(kind)
    if stack:
        return {n[len("layers.0."):]: t for n, t in STATES[stack].items()
                if n.startswith("layers.0.")}
    return {f"{part}.{n}": t for part in ("encoder", "decoder")
            for n, t in STATES[part].items() if not n.startswith("layers.1.")}


def seq(length, batched=True, batch_first=False):
    if not batched:
        return torch.randn(length, E)
    return torch.randn(N, length, E) if batch_first else torch.randn(length, N, E)


def case(name, kind, opts=None, masks=None, batched=True, nested=False):
    """One forward (eval) and backward; `masks` keyed by this library's option names."""
    opts = dict(opts or {})
    masks = dict(masks or {})
    m = build(kind, opts)
    m.load_state_dict(state_of(kind))
    m.eval()
    bf = opts.get("batchFirst", False)
    src = seq(S, batched, bf).requires_grad_(not nested)
    inputs = [src]
    if kind in ("decoderLayer", "decoder", "transformer"):
        tgt = seq(T, batched, bf).requires_grad_(True)
        inputs = [tgt, src] if kind != "transformer" else [src, tgt]
    torch_names = {
        "srcMask": "src_mask" if kind != "encoder" else "mask",
        "srcKeyPaddingMask": "src_key_padding_mask",
        "mask": "mask",
        "tgtMask": "tgt_mask",
        "memoryMask": "memory_mask",
        "tgtKeyPaddingMask": "tgt_key_padding_mask",
        "memoryKeyPaddingMask": "memory_key_padding_mask",
    }
    kw = {torch_names[k]: v for k, v in masks.items()}
    c = {
        "name": name, "kind": kind, "opts": opts, "nested": nested,
        "inputs": [ser(t) for t in inputs],
        "masks": {k: mask_ser(v) for k, v in masks.items()},
    }
    if nested:
        with torch.no_grad():
            out = m(*inputs, **kw)
        # The same call with gradients on takes torch's plain path: padded rows differ.
        plain = m(*inputs, **kw).detach()
        c["out"] = ser(out)
        c["plainOut"] = ser(plain)
        CASES.append(c)
        return
    out = m(*inputs, **kw)
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    c.update({
        "out": ser(out), "G": ser(g),
        "inputGrads": [ser(t.grad) for t in inputs],
        "paramGrads": [[n, ser(p.grad)] for n, p in m.named_parameters()],
    })
    CASES.append(c)


def padding(length, rows):
    """[N, length] bool, True = padding: row i pads its last rows[i] positions."""
    m = torch.zeros(N, length, dtype=torch.bool)
    for i, k in enumerate(rows):
        if k:
            m[i, length - k:] = True
    return m


causal = nn.Transformer.generate_square_subsequent_mask(S)
causal_bool = torch.triu(torch.ones(S, S, dtype=torch.bool), diagonal=1)
pad = padding(S, [0, 2, 1])

CASES = []
STATES = {"encoder": perturbed("encoder"), "decoder": perturbed("decoder")}
case("layer post-norm relu seq-first", "encoderLayer")
case("layer pre-norm gelu batchFirst padding", "encoderLayer",
     {"normFirst": True, "activation": "gelu", "batchFirst": True},
     {"srcKeyPaddingMask": pad})
case("layer unbatched float padding", "encoderLayer", {},
     {"srcKeyPaddingMask": torch.tensor([0.0, 0.0, -0.5, 0.0, float("-inf")])}, batched=False)
case("encoder post-norm relu seq-first", "encoder")
case("encoder post-norm relu batchFirst causal float", "encoder", {"batchFirst": True},
     {"mask": causal})
case("encoder pre-norm gelu seq-first causal bool + padding", "encoder",
     {"normFirst": True, "activation": "gelu"},
     {"mask": causal_bool, "srcKeyPaddingMask": pad})
case("encoder post-norm gelu batchFirst padding", "encoder",
     {"batchFirst": True, "activation": "gelu"}, {"srcKeyPaddingMask": pad})
case("encoder pre-norm relu batchFirst 3-D float mask", "encoder",
     {"normFirst": True, "batchFirst": True},
     {"mask": torch.randn(N * H, S, S)})
case("encoder nested path (eval, no grad, padding)", "encoder",
     {"batchFirst": True}, {"srcKeyPaddingMask": pad}, nested=True)
case("encoder nested path, gelu, float padding", "encoder",
     {"batchFirst": True, "activation": "gelu"},
     {"srcKeyPaddingMask": torch.where(pad, float("-inf"), 0.0)}, nested=True)
case("decoderLayer post-norm relu causal + memory padding", "decoderLayer", {},
     {"tgtMask": nn.Transformer.generate_square_subsequent_mask(T),
      "memoryKeyPaddingMask": pad})
case("decoder pre-norm gelu batchFirst all masks", "decoder",
     {"normFirst": True, "activation": "gelu", "batchFirst": True},
     {"tgtMask": nn.Transformer.generate_square_subsequent_mask(T),
      "memoryMask": torch.rand(T, S) < 0.3,
      "tgtKeyPaddingMask": padding(T, [1, 0, 0]),
      "memoryKeyPaddingMask": pad})
case("transformer batchFirst causal tgt + src padding", "transformer", {"batchFirst": True},
     {"tgtMask": nn.Transformer.generate_square_subsequent_mask(T),
      "srcKeyPaddingMask": pad, "memoryKeyPaddingMask": pad})

ref = nn.Transformer.generate_square_subsequent_mask(4)
states = {k: [[n, ser(t)] for n, t in v.items()] for k, v in STATES.items()}

with open(OUT, "w") as f:
    json.dump({"E": E, "H": H, "FF": FF, "layers": LAYERS, "states": states, "cases": CASES,
               "causal4": ser(ref)}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(CASES)} cases")
