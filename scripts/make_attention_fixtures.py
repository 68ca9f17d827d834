"""Writes tests/fixtures/attention.json: PyTorch 1.13's numbers for
nn.MultiheadAttention, scaled dot-product attention and torchvision's ViT
EncoderBlock (tests/attention_test.ts).

Each MultiheadAttention case stores the constructor options under this
library's names (camelCase), the module's state dict (biases made nonzero,
so that they are tested), the distinct input tensors and which of query,
key and value share one ("self": one tensor x given three times, "kv": key
is value, "sep": three), the forward options (bool masks as int32, this
library's boolean mask; float masks as float32), the output and weights,
fixed random upstream gradients G (output) and GW (weights), and the
gradients of L = sum(out * G) + sum(weights * GW) for every input, every
parameter and a float mask that requires one.

Scaled dot-product attention has no public function in torch 1.13; its
cases use torch 2's documented definition, softmax(q k^T * scale + mask) v,
written out here with torch's ops (bool masks: true = may attend), and the
bool and causal cases are checked against 1.13's private
F._scaled_dot_product_attention before they are written.

Run with /usr/bin/python3 scripts/make_attention_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torchvision.models.vision_transformer import EncoderBlock

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "attention.json")
E, L, S, N = 8, 5, 6, 3
NEG = float("-inf")


def mask_ser(m):
    """A bool mask as int32 (this library's boolean mask), a float one as is."""
    return ser(m.to(torch.int32)) if m.dtype == torch.bool else ser(m)


def grads_of(tensors):
    return [None if t.grad is None else ser(t.grad) for t in tensors]


def mha_case(name, heads, opts=None, qkv="self", batched=True, fwd=None, train=False,
             float_mask_grad=False):
    """One MultiheadAttention forward and backward; opts in this library's names."""
    opts = dict(opts or {})
    fwd = dict(fwd or {})
    kdim, vdim = opts.get("kdim"), opts.get("vdim")
    m = torch.nn.MultiheadAttention(
        E, heads, dropout=opts.get("dropout", 0.0), bias=opts.get("bias", True),
        add_bias_kv=opts.get("addBiasKv", False), add_zero_attn=opts.get("addZeroAttn", False),
        kdim=kdim, vdim=vdim, batch_first=opts.get("batchFirst", False))
    with torch.no_grad():
        for n, p in m.named_parameters():
            if "bias" in n:
                p.copy_(torch.randn_like(p) * 0.3)
    m.train(train)
    bf = opts.get("batchFirst", False) and batched

    def shape(seq, dim):
        if not batched:
            return (seq, dim)
        return (N, seq, dim) if bf else (seq, N, dim)

    if qkv == "self":
        x = torch.randn(shape(L, E), requires_grad=True)
        inputs, (q, k, v) = [x], (x, x, x)
    elif qkv == "kv":
        q = torch.randn(shape(L, E), requires_grad=True)
        kv = torch.randn(shape(S, kdim or E), requires_grad=True)
        inputs, k, v = [q, kv], kv, kv
    else:
        q = torch.randn(shape(L, E), requires_grad=True)
        k = torch.randn(shape(S, kdim or E), requires_grad=True)
        v = torch.randn(shape(S, vdim or E), requires_grad=True)
        inputs = [q, k, v]
    src = q.shape[-2] if qkv == "self" else S
    tgt = L
    if "attnMask" in fwd and float_mask_grad:
        fwd["attnMask"].requires_grad_(True)
    out, w = m(q, k, v, key_padding_mask=fwd.get("keyPaddingMask"),
               need_weights=fwd.get("needWeights", True), attn_mask=fwd.get("attnMask"),
               average_attn_weights=fwd.get("averageAttnWeights", True))
    g = torch.randn(out.shape)
    loss = (out * g).sum()
    gw = None
    if w is not None:
        gw = torch.randn(w.shape)
        loss = loss + (w * gw).sum()
    loss.backward()
    params = list(m.named_parameters())
    c = {
        "name": name, "numHeads": heads, "opts": opts, "train": train, "qkv": qkv,
        "state": [[n, ser(t)] for n, t in m.state_dict().items()],
        "inputs": [ser(t) for t in inputs],
        "fwd": {k2: (mask_ser(v2) if torch.is_tensor(v2) else v2) for k2, v2 in fwd.items()},
        "out": ser(out), "weights": None if w is None else ser(w),
        "G": ser(g), "GW": None if gw is None else ser(gw),
        "inputGrads": grads_of(inputs),
        "paramGrads": [[n, ser(p.grad)] for n, p in params],
        "maskGrad": ser(fwd["attnMask"].grad) if float_mask_grad else None,
        "L": tgt, "S": src,
    }
    CASES.append(c)


def causal_bool(tgt, src):
    """True above the diagonal shifted by one: masked (torch's MHA bool mask)."""
    i = torch.arange(tgt).unsqueeze(1)
    j = torch.arange(src).unsqueeze(0)
    return j > i + 1


CASES = []
mha_case("self h2 seq-first", 2)
mha_case("self h4 batchFirst", 4, {"batchFirst": True})
mha_case("self h1", 1)
mha_case("cross kv h1", 1, qkv="kv")
mha_case("sep float 2-D mask grad", 2, qkv="sep", fwd={"attnMask": torch.randn(L, S)},
         float_mask_grad=True)
mha_case("sep bool 2-D mask", 2, qkv="sep", fwd={"attnMask": causal_bool(L, S)})
m3 = torch.randn(N * 2, L, S)
m3[torch.rand(N * 2, L, S) < 0.3] = NEG
m3[:, :, 0] = 0.0  # no row fully masked
mha_case("sep float 3-D mask with -inf", 2, qkv="sep", fwd={"attnMask": m3})
b3 = torch.rand(N * 2, L, S) < 0.4
b3[:, :, 1] = False
mha_case("kv bool 3-D mask", 2, qkv="kv", fwd={"attnMask": b3})
kpm = torch.zeros(N, L, dtype=torch.bool)
kpm[0, 3:] = True
kpm[2, 1] = True
mha_case("self bool key padding batchFirst", 2, {"batchFirst": True},
         fwd={"keyPaddingMask": kpm})
mha_case("kv float key padding", 2, qkv="kv", fwd={"keyPaddingMask": torch.randn(N, S)})
kpm_s = torch.zeros(N, S, dtype=torch.bool)
kpm_s[1, 4:] = True
kpm_s[2, 0] = True
mha_case("sep bool key padding + float mask", 2, qkv="sep",
         fwd={"keyPaddingMask": kpm_s, "attnMask": torch.randn(L, S)})
mha_case("sep bool key padding + bool mask", 4, qkv="sep",
         fwd={"keyPaddingMask": kpm_s, "attnMask": causal_bool(L, S)})
mha_case("kdim vdim batchFirst key padding", 2, {"kdim": 5, "vdim": 7, "batchFirst": True},
         qkv="sep", fwd={"keyPaddingMask": kpm_s})
mha_case("kdim = vdim, kv shared", 2, {"kdim": 6, "vdim": 6}, qkv="kv")
mha_case("unbatched self", 2, batched=False)
mha_case("unbatched sep, key padding, 3-D mask", 2, {"batchFirst": True}, qkv="sep",
         batched=False,
         fwd={"keyPaddingMask": torch.tensor([False, False, True, False, False, True]),
              "attnMask": torch.randn(2, L, S)})
mha_case("unbatched kdim vdim", 4, {"kdim": 3, "vdim": 5}, qkv="sep", batched=False)
mha_case("needWeights false", 2, {"batchFirst": True}, fwd={"needWeights": False})
mha_case("averageAttnWeights false", 4, qkv="sep",
         fwd={"averageAttnWeights": False, "keyPaddingMask": kpm_s})
mha_case("unbatched per-head weights", 2, qkv="kv", batched=False,
         fwd={"averageAttnWeights": False})
mha_case("bias false", 2, {"bias": False}, qkv="sep")
mha_case("addBiasKv + addZeroAttn, masks", 2, {"addBiasKv": True, "addZeroAttn": True},
         qkv="sep", fwd={"keyPaddingMask": kpm_s, "attnMask": causal_bool(L, S)})
mha_case("addBiasKv batchFirst float mask", 2, {"addBiasKv": True, "batchFirst": True},
         qkv="kv", fwd={"attnMask": torch.randn(L, S)})
mha_case("addZeroAttn unbatched", 2, {"addZeroAttn": True}, qkv="sep", batched=False,
         fwd={"keyPaddingMask": torch.tensor([False, True, False, False, False, False])})
mha_case("dropout in eval is off", 2, {"dropout": 0.5}, qkv="sep", train=False)


def sdpa_ref(q, k, v, mask=None, causal=False, scale=None):
    """torch 2's definition (bool mask: true = may attend)."""
    sc = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-2, -1) * sc
    if causal:
        keep = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril()
        s = s.masked_fill(~keep, NEG)
    if mask is not None:
        s = s.masked_fill(~mask, NEG) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


SDPA = []


def sdpa_case(name, qs, ks, vs, mask=None, causal=False, scale=None):
    q = torch.randn(qs, requires_grad=True)
    k = torch.randn(ks, requires_grad=True)
    v = torch.randn(vs, requires_grad=True)
    out = sdpa_ref(q, k, v, mask, causal, scale)
    if (mask is None or mask.dtype == torch.bool) and scale is None and q.ndim == 3:
        old, _ = F._scaled_dot_product_attention(q, k, v, mask, 0.0, False, causal)
        assert torch.allclose(old, out, atol=1e-6), name
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    SDPA.append({"name": name, "inputs": [ser(q), ser(k), ser(v)],
                 "attnMask": None if mask is None else mask_ser(mask), "isCausal": causal,
                 "scale": scale, "out": ser(out), "G": ser(g),
                 "grads": [ser(q.grad), ser(k.grad), ser(v.grad)]})


keep = torch.rand(L, S) < 0.7
keep[:, 0] = True
sdpa_case("3-D plain", (2, L, 4), (2, S, 4), (2, S, 3))
sdpa_case("3-D bool keep mask", (2, L, 4), (2, S, 4), (2, S, 3), mask=keep)
sdpa_case("3-D causal", (2, L, 4), (2, S, 4), (2, S, 4), causal=True)
sdpa_case("4-D float mask, scale", (2, 3, L, 4), (2, 3, S, 4), (2, 3, S, 5),
          mask=torch.randn(L, S), scale=0.3)
sdpa_case("2-D", (L, 4), (S, 4), (S, 2))


def vit_block():
    """torchvision 0.14's ViT EncoderBlock (ln_1 -> MHA -> residual -> ln_2 -> MLP)."""
    blk = EncoderBlock(num_heads=2, hidden_dim=E, mlp_dim=16, dropout=0.0, attention_dropout=0.0)
    with torch.no_grad():
        for n, p in blk.named_parameters():
            if "ln_" in n or "bias" in n:
                p.add_(torch.randn_like(p) * 0.3)
    x = torch.randn(N, L, E, requires_grad=True)
    out = blk(x)
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    blk.eval()
    with torch.no_grad():
        fast = blk(x.detach())  # eval, no grad: torch's fused fast path
    return {"state": [[n, ser(t)] for n, t in blk.state_dict().items()], "input": ser(x),
            "out": ser(out), "outEval": ser(fast), "G": ser(g), "inputGrad": ser(x.grad),
            "paramGrads": [[n, ser(p.grad)] for n, p in blk.named_parameters()]}


VIT = vit_block()

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "E": E, "mha": CASES, "sdpa": SDPA, "vit": VIT}, f)
print(f"wrote {len(CASES)} MultiheadAttention cases, {len(SDPA)} SDPA cases and the ViT block"
      f" to {os.path.relpath(OUT)}")
