"""Writes tests/fixtures/nn_utils2.json: PyTorch 1.13's torch.nn.utils beyond
prune: weight_norm / remove_weight_norm (weight_g and weight_v, dims 0, 1, 2 and
None, forward and gradients wrt g and v, a changed g seen by the next forward),
spectral_norm / remove_spectral_norm (weight_orig, weight_u and weight_v; three
training steps of power iteration and an eval step, outputs, gradients and the
updated u and v; ConvTranspose2d's default dim 1), fuse_conv_bn_eval and
fuse_conv_bn_weights (the fused weights and the fused conv's output),
stateless.functional_call (outputs, gradients wrt the substituted tensors, a
batch norm's running statistics written into the substituted buffers), and the
buffer order after prune.remove and pruning again.

Weights are set from stored values (float32, 9 significant digits).

Run with /usr/bin/python3 scripts/make_nn_utils2_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.utils.prune as prune
from torch.nn.utils import (fuse_conv_bn_eval, fuse_conv_bn_weights, remove_spectral_norm,
                            remove_weight_norm, spectral_norm, weight_norm)
from torch.nn.utils.stateless import functional_call
from fixture_json import randn, ser

torch.set_num_threads(1)
torch.manual_seed(20260702)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "nn_utils2.json")


def filled(m):
    """The module with every parameter set from stored values."""
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(randn(*p.shape))
    return m


def state(m):
    return {"keys": list(m.state_dict().keys()), "values": [ser(t) for t in m.state_dict().values()],
            "parameters": [k for k, _ in m.named_parameters()],
            "buffers": [k for k, _ in m.named_buffers()]}


def grads_case(m, x):
    m.zero_grad()
    x = x.clone().requires_grad_(True)
    y = m(x)
    g = randn(*y.shape)
    (y * g).sum().backward()
    return {"x": ser(x), "y": ser(y), "g": ser(g),
            "grads": {k: ser(p.grad) for k, p in m.named_parameters()}, "gx": ser(x.grad)}


cases = {}

# weight_norm: each case a fresh module from stored weights, normalised on (name, dim).
wn = []
for kind, name, dim in [("linear", "weight", 0), ("linear", "weight", 1), ("linear", "bias", 0),
                        ("conv", "weight", 0), ("conv", "weight", None), ("conv", "weight", -2)]:
    m = filled(torch.nn.Linear(5, 4) if kind == "linear" else torch.nn.Conv2d(2, 3, 3))
    before = state(m)
    weight_norm(m, name, dim)
    x = randn(3, 5) if kind == "linear" else randn(1, 2, 4, 4)
    case = {"kind": kind, "name": name, "dim": dim, "before": before, "state": state(m),
            "forward": grads_case(m, x)}
    # A new g is seen by the next forward (the hook recomputes the weight).
    with torch.no_grad():
        getattr(m, name + "_g").mul_(1.5)
    case["y2"] = ser(m(x))
    remove_weight_norm(m, name)
    case["removed"] = state(m)
    wn.append(case)
cases["weight_norm"] = wn



def sgd(m):
    with torch.no_grad():
        for p in m.parameters():
            p.sub_(0.1 * p.grad)
    m.zero_grad()


def sn_outputs(m, name, weight=False):
    out = {"u": ser(getattr(m, name + "_u")), "v": ser(getattr(m, name + "_v")),
           "grads": {k: ser(p.grad) for k, p in m.named_parameters()}}
    if weight:
        out["weight"] = ser(getattr(m, name))
    return out


# spectral_norm: torch's u and v are loaded by the test; three training steps (the second
# two forwards before one backward, as a GAN's D(real) + D(fake)) with an SGD step after
# each, then an eval step; then remove.
sn = []
for kind, args, xshape in [("linear", {}, (3, 5)), ("linear", {"dim": 1}, (3, 5)),
                           ("conv", {"n_power_iterations": 2}, (1, 2, 4, 4)),
                           ("convT", {}, (1, 3, 2, 2)),
                           ("bn", {"eps": 1e-6}, (2, 3, 2, 2))]:
    m = {"linear": lambda: torch.nn.Linear(5, 4), "conv": lambda: torch.nn.Conv2d(2, 3, 3),
         "convT": lambda: torch.nn.ConvTranspose2d(3, 2, 3),
         "bn": lambda: torch.nn.BatchNorm2d(3)}[kind]()
    filled(m)
    spectral_norm(m, **args)
    case = {"kind": kind, "args": args, "state": state(m), "steps": []}
    for step in range(3):
        xs = [randn(*xshape) for _ in range(2 if step == 1 else 1)]
        ys = [m(x) for x in xs]
        gs = [randn(*y.shape) for y in ys]
        sum((y * g).sum() for y, g in zip(ys, gs)).backward()
        case["steps"].append({"xs": [ser(x) for x in xs], "ys": [ser(y) for y in ys],
                              "gs": [ser(g) for g in gs], **sn_outputs(m, "weight")})
        sgd(m)
    m.eval()
    x = randn(*xshape)
    y = m(x)
    g = randn(*y.shape)
    (y * g).sum().backward()
    case["eval"] = {"xs": [ser(x)], "ys": [ser(y)], "gs": [ser(g)],
                    **sn_outputs(m, "weight", weight=True)}
    remove_spectral_norm(m)
    case["removed"] = state(m)
    sn.append(case)
cases["spectral_norm"] = sn



def bn_filled(bn):
    with torch.no_grad():
        bn.running_mean.copy_(randn(bn.num_features))
        bn.running_var.copy_(randn(bn.num_features).abs() + 0.5)
        if bn.affine:
            bn.weight.copy_(randn(bn.num_features))
            bn.bias.copy_(randn(bn.num_features))
    return bn.eval()


# fuse_conv_bn_eval: geometries the options alone cannot copy ("same" padding of an even
# kernel: one more after), a padding mode, groups, no bias, a batch norm without affine.
fuse = []
for i, (conv_args, opts, bn_opts) in enumerate([
        ((3, 4, 3), {"stride": 2, "padding": 1}, {"eps": 1e-3}),
        ((3, 4, 2), {"padding": "same", "bias": False, "padding_mode": "reflect"},
         {"affine": False}),
        ((4, 4, 3), {"groups": 2, "dilation": 2, "padding": "same"}, {})]):
    conv = filled(torch.nn.Conv2d(*conv_args, **opts)).eval()
    bn = bn_filled(torch.nn.BatchNorm2d(conv_args[1], **bn_opts))
    fused = fuse_conv_bn_eval(conv, bn)
    x = randn(1, conv_args[0], 4, 5)
    fuse.append({"conv": {"args": conv_args, **opts}, "bn": bn_opts,
                 "conv_state": {k: ser(v) for k, v in conv.state_dict().items()},
                 "bn_state": {k: ser(v) for k, v in bn.state_dict().items()},
                 "fused": {k: ser(v) for k, v in fused.state_dict().items()},
                 "x": ser(x), "y": ser(fused(x)), "y_unfused": ser(bn(conv(x)))})
cases["fuse"] = fuse
# fuse_conv_bn_weights with transpose (a ConvTranspose2d's [in, out, kh, kw] weight).
wt, bt = randn(3, 2, 3, 3), randn(2)
bn = bn_filled(torch.nn.BatchNorm2d(2))
fw, fb = fuse_conv_bn_weights(wt, bt, bn.running_mean, bn.running_var, bn.eps, bn.weight,
                              bn.bias, transpose=True)
cases["fuse_transpose"] = {"w": ser(wt), "b": ser(bt),
                           "bn_state": {k: ser(v) for k, v in bn.state_dict().items()},
                           "fw": ser(fw), "fb": ser(fb)}
lin = filled(torch.nn.Linear(4, 3)).eval()
bn = bn_filled(torch.nn.BatchNorm1d(3))
fl = torch.nn.utils.fusion.fuse_linear_bn_eval(lin, bn)
x = randn(2, 4)
cases["fuse_linear"] = {"lin_state": {k: ser(v) for k, v in lin.state_dict().items()},
                        "bn_state": {k: ser(v) for k, v in bn.state_dict().items()},
                        "fused": {k: ser(v) for k, v in fl.state_dict().items()},
                        "x": ser(x), "y": ser(fl(x))}

# functional_call: a training-mode net with a conv weight, a linear bias and a batch norm's
# running mean substituted: output, gradients wrt the given tensors (none reach the module's),
# the given running mean written by the batch norm, the module's own tensors unchanged.
net = filled(torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3),
                                 torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(12, 2)))
before = state(net)
given = {"0.weight": randn(3, 2, 3, 3), "4.bias": randn(2), "1.running_mean": randn(3)}
given_in = {k: ser(v) for k, v in given.items()}
for k in ("0.weight", "4.bias"):
    given[k].requires_grad_(True)
x = randn(2, 2, 4, 4)
y = functional_call(net, given, (x,))
g = randn(*y.shape)
(y * g).sum().backward()
cases["functional_call"] = {
    "before": before, "given": given_in, "x": ser(x), "y": ser(y), "g": ser(g),
    "given_grads": {k: ser(given[k].grad) for k in ("0.weight", "4.bias")},
    "module_grads": {k: ser(p.grad) for k, p in net.named_parameters() if p.grad is not None},
    "given_after": {k: ser(v) for k, v in given.items()}, "after": state(net)}

# prune.remove deletes the mask buffer: pruning again appends it after the other masks.
m = filled(torch.nn.Linear(5, 4))
before = state(m)
prune.l1_unstructured(m, "weight", 0.5)
prune.l1_unstructured(m, "bias", 1)
prune.remove(m, "weight")
after_remove = state(m)
prune.l1_unstructured(m, "weight", 0.25)
bn = filled(torch.nn.BatchNorm1d(4))
prune.l1_unstructured(bn, "weight", 1)
prune.remove(bn, "weight")
prune.random_unstructured(bn, "bias", 0.0)
cases["prune_order"] = {"before": before, "linear_removed": after_remove, "linear": state(m), "bn_buffers": [k for k, _ in bn.named_buffers()],
                        "bn_keys": list(bn.state_dict().keys())}

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
