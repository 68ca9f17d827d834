"""Writes tests/fixtures/swin.json (tests/swin_test.ts) from torchvision 0.14's
Swin Transformer (V1).

  "full": swin_t, swin_s and swin_b with their defaults (3 channels, 1000
      classes), built without weights: the parameter count, the state-dict
      names (stored once per distinct list: swin_s and swin_b share theirs)
      and shapes in order, and every block's stochastic-depth probability.
      Also the parameter count of swin_t for 1 channel and 3 classes
      (features[0][0] replaced, as a CT user does: torchvision's stem takes 3).
  "small": a reduced Swin built through torchvision's own class,
      SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2],
      num_heads=[2, 4], window_size=[4, 4], mlp_ratio=2, num_classes=3)
      (stochastic depth
      0.1, the class's default), stem replaced by Conv2d(1, 8, 4, stride 4):
      every module with its class and hyper-parameters; its weights (the
      relative_position_index buffers once, as "index": all four are equal;
      random: fan-in scaled Linears, norms near 1, bias tables N(0, 1) so
      they count); eval logits for three inputs:
        "padded" [2, 1, 36, 20]: stage maps 9x5 (padded to 12x8, shifted)
            and, after an odd map's merging, 5x3 (padded to 8x4: covered
            along W, shift [2, 0]);
        "covered" [1, 1, 16, 16]: the window covers the map (shift set to 0);
        "half" [1, 1, 16, 36]: covered along H only (shift [0, 2]);
      for "padded": a random upstream gradient G, the gradients of
      sum(out * G) for x and every parameter, then one torch.optim.SGD step
      (lr 0.1, momentum 0.9, weight decay 1e-4): parameters and eval logits
      after it; and the same forward and gradients under
      torch.autocast("cpu", dtype=torch.bfloat16) (LayerNorm in fp32: 1.13's
      CPU autocast fails on a LayerNorm of bf16 activations; later releases
      run it in fp32).
  "window": a ShiftedWindowAttention(8, window [3, 5], shift [1, 2], 2 heads)
      with random weights on x [1, 5, 7, 8] (padded to 6 x 10): its relative_position_index,
      weights and eval output (a non-square window and shift).

The weights and inputs are rounded to 4 significant digits first (short to
store, and exactly the float32 values used); the other values are written
with 9 significant digits (exactly the float32 values). Deterministic
(torch.manual_seed). Run: /usr/bin/python3 scripts/make_swin_fixtures.py
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.swin_transformer import (
    PatchMerging,
    ShiftedWindowAttention,
    SwinTransformer,
    SwinTransformerBlock,
)
from torchvision.ops import StochasticDepth
from torchvision.ops.misc import Permute

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import enc, randn, ser  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "swin.json")
FULL = ["swin_t", "swin_s", "swin_b"]
# The parameters whose whole gradient and value after the step are stored: each kind of layer.
WHOLE = [
    "features.0.0.weight", "features.0.2.weight", "features.1.0.attn.relative_position_bias_table",
    "features.1.1.attn.relative_position_bias_table", "features.1.1.attn.qkv.bias",
    "features.1.1.attn.proj.weight", "features.2.norm.bias",
    "features.3.1.attn.relative_position_bias_table", "features.3.1.mlp.3.bias", "norm.weight",
    "head.weight",
]
# The gradients compared under autocast.
AUTOCAST = ["features.0.0.weight", "features.1.1.attn.relative_position_bias_table", "head.weight"]


def replace_stem(m, in_channels):
    """features[0][0] with `in_channels` inputs (same out channels, kernel, stride, bias)."""
    old = m.features[0][0]
    m.features[0][0] = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, old.stride)
    return m


def probabilities(m):
    return [enc(b.stochastic_depth.p) for b in m.modules() if isinstance(b, SwinTransformerBlock)]


def full_fixture():
    out, names = [], {}
    for name in FULL:
        m = getattr(torchvision.models, name)()
        keys = list(m.state_dict().keys())
        same = next((k for k, v in names.items() if v == keys), None)
        if same is None:
            names[name] = keys
        out.append({
            "model": name,
            "numParams": sum(p.numel() for p in m.parameters()),
            "keys": keys if same is None else same,
            "shapes": [list(v.shape) for v in m.state_dict().values()],
            "stochasticDepth": probabilities(m),
        })
        if name == "swin_t":
            ct = replace_stem(torchvision.models.swin_t(num_classes=3), 1)
            out[-1]["numParamsCT"] = sum(p.numel() for p in ct.parameters())
    return out


def describe(m):
    """A module's class and the hyper-parameters we compare."""
    t = type(m).__name__
    if isinstance(m, nn.Conv2d):
        return [t, m.in_channels, m.out_channels, list(m.kernel_size), list(m.stride), m.bias is not None]
    if isinstance(m, nn.LayerNorm):
        return [t, list(m.normalized_shape), enc(m.eps)]
    if isinstance(m, StochasticDepth):
        return [t, enc(m.p), m.mode]
    if isinstance(m, nn.Linear):
        return [t, m.in_features, m.out_features, m.bias is not None]
    if isinstance(m, Permute):
        return [t, list(m.dims)]
    if isinstance(m, nn.GELU):
        return [t, m.approximate]
    if isinstance(m, nn.Dropout):
        return [t, enc(m.p)]
    if isinstance(m, nn.Flatten):
        return [t, m.start_dim, m.end_dim]
    if isinstance(m, ShiftedWindowAttention):
        return [t, list(m.window_size), list(m.shift_size), m.num_heads]
    if isinstance(m, PatchMerging):
        return [t, m.dim]
    return [t]


def short(t):
    """t rounded to 4 significant digits: stored short, and read back as the same float32."""
    return torch.tensor([float("%.4g" % v) for v in t.reshape(-1).tolist()]).reshape(t.shape)


def ser_short(t):
    """A tensor that `short` made (or an integer one), written with its 4 digits."""
    if not t.dtype.is_floating_point:
        return ser(t)
    data = [float("%.4g" % v) for v in t.detach().reshape(-1).tolist()]
    return {"shape": list(t.shape), "data": [int(v) if v == int(v) else v for v in data]}


def randomize(m):
    """Weights that make every part count: fan-in scaled Linears and conv, norms near 1, bias tables N(0, 1)."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                b = (3.0 / mod.weight[0].numel()) ** 0.5
                mod.weight.uniform_(-b, b)
                if mod.bias is not None:
                    mod.bias.normal_(0, 0.1)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.1)
            elif isinstance(mod, ShiftedWindowAttention):
                mod.relative_position_bias_table.normal_(0, 1)
        for p in m.parameters():
            p.copy_(short(p))


def small_model():
    m = SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2], num_heads=[2, 4],
                        window_size=[4, 4], mlp_ratio=2.0, num_classes=3)
    m = replace_stem(m, 1)
    randomize(m)
    return m


def small_fixture():
    m = small_model()
    state = m.state_dict()
    index = state["features.1.0.attn.relative_position_index"]
    assert all(torch.equal(v, index) for k, v in state.items() if k.endswith("relative_position_index"))
    weights = {k: ser_short(v) for k, v in state.items() if not k.endswith("relative_position_index")}
    m.eval()
    inputs = {"padded": [2, 1, 36, 20], "covered": [1, 1, 16, 16], "half": [1, 1, 16, 36]}
    cases = {}
    for name, shape in inputs.items():
        x = short(torch.randn(shape))
        with torch.no_grad():
            cases[name] = {"input": ser_short(x), "evalLogits": ser(m(x))}
    x = torch.tensor(cases["padded"]["input"]["data"], dtype=torch.float32).reshape(inputs["padded"])
    xg = x.clone().requires_grad_(True)
    out = m(xg)
    g = randn(*out.shape)
    params = list(m.named_parameters())
    grads = torch.autograd.grad((out * g).sum(), [xg] + [p for _, p in params])
    # bf16 autocast, as PyTorch's CPU autocast runs it; 1.13's cannot run a LayerNorm on the
    # bf16 output of a Linear ("expected scalar type BFloat16 but found Float"), so LayerNorm
    # runs in fp32 here, as later releases' CPU autocast runs it.
    xa = x.clone().requires_grad_(True)
    plain_forward = nn.LayerNorm.forward
    nn.LayerNorm.forward = lambda self, t: F.layer_norm(
        t.float(), self.normalized_shape, self.weight, self.bias, self.eps)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out_a = m(xa)
    finally:
        nn.LayerNorm.forward = plain_forward
    agrads = torch.autograd.grad((out_a.float() * g).sum(), [p for k, p in params if k in AUTOCAST])
    autocast = {
        "logits": ser(out_a.float()),
        "grads": {k: ser(gr) for k, gr in zip(AUTOCAST, agrads)},
    }
    # The step, from the same loss (its gradients recomputed by backward).
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    opt.zero_grad()
    (m(x) * g).sum().backward()
    opt.step()
    with torch.no_grad():
        after = m(x)
    return {
        "config": {"name": "Swin tiny", "patchSize": [4, 4], "embedDim": 8, "depths": [2, 2],
                   "numHeads": [2, 4], "windowSize": [4, 4], "stochasticDepthProb": 0.1},
        "options": {"inChannels": 1, "numClasses": 3, "mlpRatio": 2},
        "modules": [[k, *describe(v)] for k, v in m.named_modules()],
        "weights": weights,
        "index": ser(index),
        "cases": cases,
        "upstream": ser(g),
        "inputGrad": ser(grads[0]),
        "gradAbsSums": {k: enc(gr.abs().sum().item()) for (k, _), gr in zip(params, grads[1:])},
        "grads": {k: ser(gr) for (k, _), gr in zip(params, grads[1:]) if k in WHOLE},
        "sgd": {"lr": 0.1, "momentum": 0.9, "weightDecay": 1e-4},
        "paramsAfter": {k: ser(p) for k, p in m.named_parameters() if k in WHOLE},
        "logitsAfter": ser(after),
        "autocast": autocast,
    }


def window_fixture():
    a = ShiftedWindowAttention(8, [3, 5], [1, 2], 2)
    with torch.no_grad():
        for lin in (a.qkv, a.proj):
            b = (3.0 / lin.in_features) ** 0.5
            lin.weight.copy_(short(torch.empty_like(lin.weight).uniform_(-b, b)))
            lin.bias.copy_(short(torch.randn_like(lin.bias) * 0.1))
        a.relative_position_bias_table.copy_(short(torch.randn_like(a.relative_position_bias_table)))
    x = short(torch.randn(1, 5, 7, 8))
    a.eval()
    with torch.no_grad():
        y = a(x)
    return {
        "weights": {k: ser_short(v) for k, v in a.state_dict().items()},
        "input": ser_short(x),
        "output": ser(y),
    }


def main():
    torch.manual_seed(20260714)
    fixture = {"full": full_fixture(), "small": small_fixture(), "window": window_fixture()}
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
