"""Writes tests/fixtures/layer_attribution.json: Captum's layer attributions
(LayerGradCam, LayerAttribution.interpolate, LayerActivation,
LayerIntegratedGradients) computed with PyTorch 1.13 on a tiny residual
convolutional classifier, for src/eval/attribution/layer_*.ts.

Captum itself is not installed here, so its algorithms are written out
below from its source (captum.attr, 0.6/0.7):

- The layer's value and gradient (captum._utils.gradient.
  compute_layer_gradients_and_eval): a forward hook on the layer (a forward
  pre-hook for attribute_to_layer_input=True) keeps the layer's output (or
  input) and hands a clone of it on; the gradient of the sum of the
  targets' scores is taken with respect to the kept tensor. For the layer's
  input that gradient is the whole of d score / d input, through every use
  of that tensor (here conv2's input also feeds the skip connection).
- LayerGradCam: the gradient averaged over the dims after the channel one
  (none for a 2-D layer output), times the value, summed over the channels
  with keepdim (attr_dim_summation=True, the default) or not; ReLU only
  with relu_attributions=True.
- LayerAttribution.interpolate: F.interpolate(attr, dims, mode=mode),
  mode "nearest" by default.
- LayerActivation: the layer's output (or input) under no_grad.
- LayerIntegratedGradients: the layer's values at the inputs and at the
  baselines (the baseline tensorized to the batch first); Integrated
  Gradients on those values, the model run on the inputs repeated once per
  step (alpha major) with the layer's output (or input) replaced by the
  scaled values through a hook; the convergence delta in input space,
  sum(attributions) - (F(x)[t] - F(baseline)[t]).

The network (Net below, and its twin in tests/layer_attribution_test.ts):
conv1(1 -> 4) -> bn1 (eval, stored running statistics) -> relu;
relu2(conv2(h) + h); max_pool2d(2); relu3(conv3(4 -> 6)); avg_pool2d(2);
flatten; fc(54 -> 3). Inputs: two 1 x 12 x 12 images. Inputs and weights
are written with 9 significant digits (float32 round trip), results with 7.

Run with /usr/bin/python3 scripts/make_layer_attribution_fixtures.py (PyTorch 1.13).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261208)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "layer_attribution.json")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.fc = nn.Linear(54, 3)

    def forward(self, x):
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.relu2(self.conv2(h) + h)
        h = F.max_pool2d(h, 2)
        h = self.relu3(self.conv3(h))
        h = F.avg_pool2d(h, 2)
        return self.fc(torch.flatten(h, 1))


model = Net()
with torch.no_grad():
    model.conv1.weight.mul_(1.5)
    model.bn1.weight.copy_(torch.rand(4) + 0.5)
    model.bn1.bias.copy_(torch.randn(4) * 0.1)
    model.bn1.running_mean.copy_(torch.randn(4) * 0.2)
    model.bn1.running_var.copy_(torch.rand(4) + 0.5)
    model.fc.weight.mul_(3.0)
model.eval()

x = torch.randn(2, 1, 12, 12)
base_one = torch.randn(1, 1, 12, 12) * 0.3


def select(out, target):
    """Captum's _select_targets for 2-D outputs: a class for all, or one per example."""
    if target is None:
        return out
    if isinstance(target, int):
        return out[:, target]
    return torch.gather(out, 1, torch.tensor(target).reshape(len(out), 1))


def layer_grads_and_eval(inp, layer, target, to_input=False):
    """Captum's compute_layer_gradients_and_eval (one device, one tensor)."""
    saved = []

    def hook(_m, inputs, output=None):
        t = inputs[0] if to_input else output
        saved.append(t)
        return (t.clone(),) if to_input else t.clone()

    inp = inp.detach().requires_grad_()
    with torch.enable_grad():
        h = layer.register_forward_pre_hook(hook) if to_input else layer.register_forward_hook(
            hook)
        try:
            out = select(model(inp), target)
        finally:
            h.remove()
        (g,) = torch.autograd.grad(torch.unbind(out), saved[-1])
    return g, saved[-1].detach()


def layer_grad_cam(inp, layer, target, relu=False, to_input=False, dim_sum=True):
    g, a = layer_grads_and_eval(inp, layer, target, to_input)
    w = torch.mean(g, dim=tuple(range(2, g.dim())), keepdim=True) if g.dim() > 2 else g
    r = torch.sum(w * a, dim=1, keepdim=True) if dim_sum else w * a
    return F.relu(r) if relu else r


def layer_eval(inp, layer, to_input=False):
    """Captum's _forward_layer_eval under no_grad (LayerActivation)."""
    saved = []

    def hook(_m, inputs, output=None):
        saved.append((inputs[0] if to_input else output).clone())

    with torch.no_grad():
        h = layer.register_forward_pre_hook(hook) if to_input else layer.register_forward_hook(
            hook)
        try:
            model(inp)
        finally:
            h.remove()
    return saved[-1]


def approximation(method, n):
    """(step_sizes, alphas) of Captum's approximation_methods."""
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return list(0.5 * weights), list(0.5 * (1 + nodes))
    kind = method.split("_")[-1]
    deltas = [1 / n] * n
    if kind == "trapezoid":
        deltas[0] /= 2
        deltas[-1] /= 2
        alphas = np.linspace(0, 1, n)
    elif kind == "left":
        alphas = np.linspace(0, 1 - 1 / n, n)
    elif kind == "middle":
        alphas = np.linspace(1 / (2 * n), 1 - 1 / (2 * n), n)
    else:
        alphas = np.linspace(1 / n, 1, n)
    return deltas, list(alphas)


def expand_target(target, n):
    """Captum's _expand_target (repeat): the list tiled once per step."""
    return target * n if isinstance(target, list) else target


def lig_chunk(inp, layer, in_l, base_l, target, step_sizes, alphas, multiply, to_input):
    steps = len(alphas)
    scaled = torch.cat([base_l + a * (in_l - base_l) for a in alphas], dim=0).requires_grad_()

    def hook(_m, inputs, output=None):
        return (scaled,) if to_input else scaled

    with torch.enable_grad():
        h = layer.register_forward_pre_hook(hook) if to_input else layer.register_forward_hook(
            hook)
        try:
            out = select(model(torch.cat([inp] * steps)), expand_target(target, steps))
        finally:
            h.remove()
        (g,) = torch.autograd.grad(torch.unbind(out), scaled)
    scaled_g = g.contiguous().view(steps, -1) * torch.tensor(step_sizes).view(steps, 1)
    total = torch.sum(scaled_g.reshape((steps, in_l.shape[0]) + tuple(g.shape[1:])), dim=0)
    return total * (in_l - base_l) if multiply else total


def layer_integrated_gradients(inp, layer, target, baseline=0, n_steps=50,
                               method="gausslegendre", internal_batch_size=None,
                               multiply=True, to_input=False):
    if isinstance(baseline, (int, float)):
        base = torch.full_like(inp, baseline)
    else:
        base = torch.cat([baseline] * inp.shape[0]) if baseline.shape[0] == 1 else baseline
    in_l = layer_eval(inp, layer, to_input)
    base_l = layer_eval(base, layer, to_input)
    step_sizes, alphas = approximation(method, n_steps)
    count = n_steps if internal_batch_size is None else max(1, internal_batch_size //
                                                             inp.shape[0])
    attr, start = None, 0
    while start < n_steps:
        end = min(start + count, n_steps)
        part = lig_chunk(inp, layer, in_l, base_l, target, step_sizes[start:end],
                         alphas[start:end], multiply, to_input)
        attr = part if attr is None else attr + part
        start = end
    with torch.no_grad():
        s = select(model(base), target).reshape(inp.shape[0], -1).sum(1)
        e = select(model(inp), target).reshape(inp.shape[0], -1).sum(1)
        delta = attr.reshape(inp.shape[0], -1).sum(1) - (e - s)
    return attr, delta


def out(t):
    """A result: 7 significant digits (the tests compare to 2e-5), keeping the file small."""
    r = ser(t)
    r["data"] = [float("%.7g" % v) for v in r["data"]]
    return r


gc = {}
for name, layer, target, kw in [
    ("conv3", "conv3", [2, 0], {}),
    ("conv3_relu", "conv3", 1, {"relu": True}),
    ("relu2", "relu2", [0, 2], {}),
    ("conv2_input", "conv2", 1, {"to_input": True}),
    ("bn1", "bn1", 2, {"relu": True}),
    ("fc", "fc", [1, 2], {}),
    ("conv3_no_sum", "conv3", 0, {"dim_sum": False}),
]:
    a = layer_grad_cam(x, getattr(model, layer), target, **kw)
    gc[name] = {"layer": layer, "target": target, "relu": kw.get("relu", False),
                "toInput": kw.get("to_input", False), "dimSum": kw.get("dim_sum", True),
                "attr": out(a)}

cam = layer_grad_cam(x, model.conv3, [2, 0])
interp = {}
for name, dims, mode in [("nearest", [12, 12], None), ("bilinear", [12, 12], "bilinear"),
                         ("nearest_odd", [13, 11], None), ("bicubic", [9, 9], "bicubic"),
                         ("area", [4, 4], "area")]:
    r = F.interpolate(cam, dims, mode=mode or "nearest")
    interp[name] = {"dims": dims, "mode": mode, "attr": out(r)}

act = {}
for name, layer, to_input in [("conv3", "conv3", False), ("conv3_input", "conv3", True),
                              ("fc", "fc", False)]:
    act[name] = {"layer": layer, "toInput": to_input,
                 "attr": out(layer_eval(x, getattr(model, layer), to_input))}

lig = {}
for name, layer, target, kw, opts in [
    ("conv3", "conv3", [2, 0], {}, {}),
    ("conv3_input_trapezoid", "conv3", 1,
     {"baseline": base_one, "n_steps": 12, "method": "riemann_trapezoid", "to_input": True},
     {"baselines": "base_one", "nSteps": 12, "method": "riemann_trapezoid", "toInput": True}),
    ("relu3_batched", "relu3", [0, 1],
     {"baseline": 0.25, "n_steps": 9, "method": "riemann_middle", "internal_batch_size": 7},
     {"baselines": 0.25, "nSteps": 9, "method": "riemann_middle", "internalBatchSize": 7}),
    ("fc_no_multiply", "fc", 2, {"n_steps": 6, "method": "riemann_right", "multiply": False},
     {"nSteps": 6, "method": "riemann_right", "multiplyByInputs": False}),
]:
    a, d = layer_integrated_gradients(x, getattr(model, layer), target, **kw)
    lig[name] = {"layer": layer, "target": target, **opts, "attr": out(a), "delta": out(d)}

with torch.no_grad():
    logits = model(x)

fixture = {
    "state_dict": {k: ser(v) for k, v in model.state_dict().items()
                   if not k.endswith("num_batches_tracked")},
    "x": ser(x),
    "base_one": ser(base_one),
    "logits": ser(logits),
    "grad_cam": gc,
    "interpolate": interp,
    "activation": act,
    "integrated_gradients": lig,
}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")
