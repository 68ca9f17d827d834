"""Writes tests/fixtures/attribution3.json: Captum's GuidedBackprop,
Deconvolution, GuidedGradCam, LayerConductance, FeatureAblation,
ShapleyValueSampling and ShapleyValues computed with PyTorch 1.13 on two
tiny networks, for src/eval/attribution/ (guided_backprop.ts,
guided_grad_cam.ts, layer_conductance.ts, feature_ablation.ts,
shapley_value.ts).

Captum itself is not installed here, so its algorithms are written out
below from its source (captum.attr, 0.6/0.7):

- GuidedBackprop / Deconvolution (ModifiedReluGradientAttribution with
  captum._utils.common._register_backward_hook): every nn.ReLU module gets
  a forward pre-hook, which registers a tensor hook on the module's input
  and hands the module a clone of it, and a forward hook, which starts a
  new record of output gradients and registers a tensor hook on the output
  that stores its gradient there. The input's hook (on the whole gradient
  of the input tensor) returns relu(its gradient) (guided) or relu(the
  stored output gradient) (deconvolution), and nothing when no output
  gradient was stored. Then the plain input gradient (compute_gradients:
  torch.autograd.grad of the unbound selected outputs).
- GuidedGradCam: LayerGradCam with relu_attributions=True (optionally to
  the layer's input), upsampled with F.interpolate(cam, x.shape[2:], mode)
  (interpolate_mode, "nearest" by default), times GuidedBackprop.
- LayerConductance: the alphas of the method for n_steps + 1 points (the
  step sizes are not used); the inputs baseline + alpha (x - baseline),
  alpha major, one pass keeping the layer's value and its gradient
  (compute_layer_gradients_and_eval); the sum over consecutive points of
  (L(k + 1) - L(k)) * dF/dL(k). internal_batch_size: whole points,
  max(2, internal_batch_size // N) at a time, consecutive chunks sharing
  their end point (captum.attr._utils.batching._batch_attribution with
  include_endpoint=True). The delta: sum(attributions) - (F(x) - F(baseline)).
- FeatureAblation: the features min(mask) .. max(mask); for each, the
  input with the feature's elements replaced by the baseline,
  x * (1 - m) + baseline * m, perturbations_per_eval features per pass
  (feature major); the attribution of each element F(x) - F(ablated).
  Without a mask every element of an example is a feature.
- ShapleyValueSampling / ShapleyValues: the baseline tensorized to the
  batch; features 0 .. max(mask); for each permutation, starting from the
  baseline, the features added one at a time (current * (mask != f) +
  x * (mask == f)), perturbations_per_eval at a time; each feature gets
  F(with it) - F(before it); the sums over permutations divided by their
  count. ShapleyValues takes every permutation (itertools order), the
  sampling one n_samples of torch.randperm: here each permutation's own
  attributions are stored, so the test averages those its own generator
  draws.

The networks (and their twins in tests/attribution3_test.ts):
- Net: conv1(1 -> 4) -> bn1 (eval, stored running statistics) -> relu;
  relu(conv2(h) + h) with the same nn.ReLU module (called twice, as
  torchvision's blocks do); max_pool2d(2); a = conv3(4 -> 6), relu3(a) +
  0.25 a (the ReLU's input used elsewhere too); avg_pool2d(2); flatten;
  fc1(54 -> 8), then head_relu (an nn.ReLU, or F.relu with functional=True);
  fc2(8 -> 3). Inputs: two 1 x 12 x 12 images.
- Block: nn.Sequential(conv 1 -> 8, bn, ReLU, torchvision's Bottleneck(8, 2)
  (its relu module called three times, inplace, out += identity),
  AdaptiveAvgPool2d(1), Flatten, Linear(8 -> 3)). Inputs: two 1 x 8 x 8.

Inputs and weights are written with 9 significant digits (float32 round
trip), results with 7 (the tests compare to 2e-5).

Run with /usr/bin/python3 scripts/make_attribution3_fixtures.py (PyTorch 1.13).
"""
import itertools
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import Bottleneck

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261209)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "attribution3.json")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.conv3 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.fc1 = nn.Linear(54, 8)
        self.head_relu = nn.ReLU()
        self.fc2 = nn.Linear(8, 3)
        self.functional = False

    def forward(self, x):
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.relu(self.conv2(h) + h)
        h = F.max_pool2d(h, 2)
        a = self.conv3(h)
        h = self.relu3(a) + 0.25 * a
        h = torch.flatten(F.avg_pool2d(h, 2), 1)
        h = self.fc1(h)
        h = F.relu(h) if self.functional else self.head_relu(h)
        return self.fc2(h)


def randomize_bn(bn):
    with torch.no_grad():
        bn.weight.copy_(torch.rand(bn.num_features) + 0.5)
        bn.bias.copy_(torch.randn(bn.num_features) * 0.1)
        bn.running_mean.copy_(torch.randn(bn.num_features) * 0.2)
        bn.running_var.copy_(torch.rand(bn.num_features) + 0.5)


model = Net()
randomize_bn(model.bn1)
with torch.no_grad():
    model.conv1.weight.mul_(1.5)
    model.fc2.weight.mul_(2.0)
model.eval()

block = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                      Bottleneck(8, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
for m in block.modules():
    if isinstance(m, nn.BatchNorm2d):
        randomize_bn(m)
block.eval()

x = torch.randn(2, 1, 12, 12)
xb = torch.randn(2, 1, 8, 8)
base_one = torch.randn(1, 1, 12, 12) * 0.3
base_each = torch.randn(2, 1, 12, 12) * 0.3


def select(out, target):
    """Captum's _select_targets for 2-D outputs: a class for all, or one per example."""
    if target is None:
        return out
    if isinstance(target, int):
        return out[:, target]
    return torch.gather(out, 1, torch.tensor(target).reshape(len(out), 1))


def expand_target(target, n):
    """Captum's _expand_target (repeat): the list tiled once per copy of the batch."""
    return target * n if isinstance(target, list) else target


def modified_relu_grads(net, inp, target, use_grad_output):
    """Captum's ModifiedReluGradientAttribution.attribute."""
    handles = []

    def register(module):
        if not isinstance(module, nn.ReLU):
            return
        state = {"grad_out": {}}

        def forward_hook(_m, _inp, out):
            state["grad_out"] = {}

            def keep(g):
                state["grad_out"][g.device] = g

            out.register_hook(keep)

        def pre_hook(_m, inp):
            def on_input(g):
                if len(state["grad_out"]) == 0:
                    return None
                return F.relu(state["grad_out"][g.device] if use_grad_output else g)

            inp[0].register_hook(on_input)
            return inp[0].clone()

        handles.append(module.register_forward_pre_hook(pre_hook))
        handles.append(module.register_forward_hook(forward_hook))

    net.apply(register)
    try:
        leaf = inp.detach().requires_grad_()
        with torch.enable_grad():
            out = select(net(leaf), target)
            (g,) = torch.autograd.grad(torch.unbind(out), leaf)
    finally:
        for h in handles:
            h.remove()
    return g


def layer_grads_and_eval(net, inp, layer, target, to_input=False):
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
            out = select(net(inp), target)
        finally:
            h.remove()
        (g,) = torch.autograd.grad(torch.unbind(out), saved[-1])
    return g, saved[-1].detach()


def guided_grad_cam(net, inp, layer, target, mode="nearest", to_input=False):
    g, a = layer_grads_and_eval(net, inp, layer, target, to_input)
    w = torch.mean(g, dim=tuple(range(2, g.dim())), keepdim=True)
    cam = F.relu(torch.sum(w * a, dim=1, keepdim=True))
    guided = modified_relu_grads(net, inp, target, False)
    return guided * F.interpolate(cam, inp.shape[2:], mode=mode)


def alphas_of(method, n):
    """The alphas of Captum's approximation_methods for n points."""
    if method == "gausslegendre":
        return list(0.5 * (1 + np.polynomial.legendre.leggauss(n)[0]))
    kind = method.split("_")[-1]
    if kind == "trapezoid":
        return list(np.linspace(0, 1, n))
    if kind == "left":
        return list(np.linspace(0, 1 - 1 / n, n))
    if kind == "middle":
        return list(np.linspace(1 / (2 * n), 1 - 1 / (2 * n), n))
    return list(np.linspace(1 / n, 1, n))


def layer_conductance(net, inp, layer, target, baseline=0, n_steps=50, method="gausslegendre",
                      internal_batch_size=None, to_input=False):
    n = inp.shape[0]
    alphas = alphas_of(method, n_steps + 1)
    total = n_steps + 1
    if internal_batch_size is None:
        chunks = [alphas]
    else:
        count = max(2, max(1, internal_batch_size // n))
        chunks, start = [], 0
        while start < total:
            end = min(start + count, total)
            chunks.append(alphas[start:end])
            start = end - 1 if end < total else end
    attr = None
    for part in chunks:
        k = len(part)
        scaled = torch.cat([baseline + a * (inp - baseline) for a in part], dim=0)
        g, ev = layer_grads_and_eval(net, scaled, layer, expand_target(target, k), to_input)
        diffs = ev[n:] - ev[:-n]
        s = torch.sum((diffs * g[:-n]).reshape((k - 1, n) + tuple(ev.shape[1:])), dim=0)
        attr = s if attr is None else attr + s.detach()
    with torch.no_grad():
        base = baseline if torch.is_tensor(baseline) else torch.full_like(inp, baseline)
        if base.shape[0] == 1:
            base = torch.cat([base] * n)
        s0 = select(net(base), target).reshape(n, -1).sum(1)
        s1 = select(net(inp), target).reshape(n, -1).sum(1)
        delta = attr.reshape(n, -1).sum(1) - (s1 - s0)
    return attr, delta


def default_mask(inp):
    return torch.arange(inp[0].numel()).reshape(inp[0:1].shape)


def feature_ablation(net, inp, target, baseline=0, mask=None, per_eval=1):
    n = inp.shape[0]
    mask = default_mask(inp) if mask is None else mask
    lo, hi = int(mask.min()), int(mask.max()) + 1
    per_eval = min(per_eval, hi - lo)
    base = baseline.reshape((1,) + baseline.shape) if torch.is_tensor(baseline) else baseline
    with torch.no_grad():
        initial = select(net(inp), target).reshape(1, -1)
        total = torch.zeros_like(inp)
        f = lo
        while f < hi:
            k = min(per_eval, hi - f)
            rep = torch.cat([inp] * k).reshape((k, n) + tuple(inp.shape[1:]))
            m = torch.stack([mask == j for j in range(f, f + k)], dim=0).long()
            ablated = rep * (1 - m).to(inp.dtype) + base * m.to(inp.dtype)
            mod = select(net(ablated.reshape((-1,) + tuple(inp.shape[1:]))),
                         expand_target(target, k))
            diff = (initial - mod.reshape(-1, n)).reshape((k, n) + (1,) * (inp.dim() - 1))
            total += (diff * m.to(inp.dtype)).sum(dim=0)
            f += k
    return total


def shapley(net, inp, target, perms, baseline=0, mask=None, per_eval=1):
    n = inp.shape[0]
    if torch.is_tensor(baseline):
        base = torch.cat([baseline] * n) if baseline.shape[0] == 1 else baseline
    else:
        base = torch.full_like(inp, baseline)
    mask = default_mask(inp) if mask is None else mask
    with torch.no_grad():
        initial = select(net(base), target)
        total = torch.zeros_like(inp)
        count = 0
        for perm in perms:
            count += 1
            prev = initial
            current = base
            pending, masks = [], []

            def flush(prev):
                mod = select(net(torch.cat(pending)), expand_target(target, len(pending)))
                every = torch.cat((prev, mod), dim=0)
                diff = every[n:] - every[:-n]
                diff = diff.reshape((-1, n) + (1,) * (inp.dim() - 1))
                total.add_((diff * torch.stack(masks).float()).sum(dim=0))
                return every[-n:]

            for f in perm:
                current = current * (~(mask == f)).to(inp.dtype) + inp * (mask == f).to(inp.dtype)
                pending.append(current)
                masks.append(mask == f)
                if len(pending) == per_eval:
                    prev = flush(prev)
                    pending, masks = [], []
            if pending:
                prev = flush(prev)
        return total / count


def out(t):
    """A result: 7 significant digits (the tests compare to 2e-5), keeping the file small."""
    r = ser(t)
    r["data"] = [float("%.7g" % v) for v in r["data"]]
    return r


# Guided backprop and deconvolution: the net, its functional-ReLU variant, the Bottleneck.
modified = {}
for name, net, inp, target, functional in [
    ("net", model, x, [2, 0], False),
    ("net_one_target", model, x, 1, False),
    ("functional", model, x, [1, 2], True),
    ("bottleneck", block, xb, [0, 2], False),
]:
    model.functional = functional
    modified[name] = {
        "net": "block" if net is block else "net",
        "functional": functional,
        "target": target,
        "guided": out(modified_relu_grads(net, inp, target, False)),
        "deconv": out(modified_relu_grads(net, inp, target, True)),
    }
model.functional = False
with torch.no_grad():
    plain = {"net": out(model(x)), "block": out(block(xb))}

ggc = {}
for name, layer, target, kw in [
    ("conv3", "conv3", [2, 0], {}),
    ("conv3_bilinear", "conv3", 1, {"mode": "bilinear"}),
    ("conv3_input", "conv3", [0, 1], {"to_input": True}),
    ("conv2_bicubic", "conv2", 2, {"mode": "bicubic"}),
]:
    a = guided_grad_cam(model, x, getattr(model, layer), target, **kw)
    ggc[name] = {"layer": layer, "target": target, "mode": kw.get("mode"),
                 "toInput": kw.get("to_input", False), "attr": out(a)}

lc = {}
for name, layer, target, kw, opts in [
    ("conv3", "conv3", [2, 0], {}, {}),
    ("conv3_input_trapezoid", "conv3", 1,
     {"baseline": base_one, "n_steps": 12, "method": "riemann_trapezoid", "to_input": True},
     {"baselines": "base_one", "nSteps": 12, "method": "riemann_trapezoid", "toInput": True}),
    ("relu3_batched", "relu3", [0, 1],
     {"baseline": 0.25, "n_steps": 9, "method": "riemann_middle", "internal_batch_size": 7},
     {"baselines": 0.25, "nSteps": 9, "method": "riemann_middle", "internalBatchSize": 7}),
    ("fc1_left_one_step", "fc1", 2, {"n_steps": 1, "method": "riemann_left",
                                     "baseline": base_each},
     {"nSteps": 1, "method": "riemann_left", "baselines": "base_each"}),
    ("conv3_small_batch", "conv3", [1, 1], {"n_steps": 5, "internal_batch_size": 2},
     {"nSteps": 5, "internalBatchSize": 2}),
]:
    a, d = layer_conductance(model, x, getattr(model, layer), target, **kw)
    lc[name] = {"layer": layer, "target": target, **opts, "attr": out(a), "delta": out(d)}

quads = torch.zeros(1, 1, 12, 12, dtype=torch.long)
quads[..., :6, 6:] = 1
quads[..., 6:, :6] = 2
quads[..., 6:, 6:] = 3
blocks = ((torch.arange(12).reshape(12, 1) // 3) * 4 +
          torch.arange(12).reshape(1, 12) // 3).reshape(1, 1, 12, 12)
per_example = torch.stack([quads[0], 5 + (torch.arange(144).reshape(1, 12, 12) // 48)])
thirds = (torch.arange(144).reshape(1, 1, 12, 12) % 12) // 4

fa = {}
for name, target, kw, opts in [
    ("default", [2, 0], {}, {}),
    ("blocks", 1, {"mask": blocks, "per_eval": 5, "baseline": 0.5},
     {"mask": "blocks", "perturbationsPerEval": 5, "baselines": 0.5}),
    ("per_example", [0, 2], {"mask": per_example, "baseline": base_each, "per_eval": 3},
     {"mask": "per_example", "baselines": "base_each", "perturbationsPerEval": 3}),
    ("quads_base_one", 2, {"mask": quads, "baseline": base_one},
     {"mask": "quads", "baselines": "base_one"}),
]:
    fa[name] = {"target": target, **opts,
                "attr": out(feature_ablation(model, x, target, **kw))}

sv = {}
for name, target, mask_name, mask, kw, opts in [
    ("quads", [2, 0], "quads", quads, {"per_eval": 3}, {"perturbationsPerEval": 3}),
    ("quads_base_each", 1, "quads", quads, {"baseline": base_each}, {"baselines": "base_each"}),
]:
    perms = list(itertools.permutations(range(4)))
    sv[name] = {"target": target, "mask": mask_name, **opts,
                "attr": out(shapley(model, x, target, perms, mask=mask, **kw))}

# Each permutation of three features alone, for ShapleyValueSampling's draws.
per_perm = {}
for perm in itertools.permutations(range(3)):
    per_perm["".join(map(str, perm))] = out(
        shapley(model, x, [1, 2], [perm], mask=thirds, baseline=base_one, per_eval=2))

fixture = {
    "state_dict": {k: ser(v) for k, v in model.state_dict().items()
                   if not k.endswith("num_batches_tracked")},
    "block_state_dict": {k: ser(v) for k, v in block.state_dict().items()
                         if not k.endswith("num_batches_tracked")},
    "x": ser(x),
    "xb": ser(xb),
    "base_one": ser(base_one),
    "base_each": ser(base_each),
    "masks": {"quads": ser(quads), "blocks": ser(blocks), "per_example": ser(per_example),
              "thirds": ser(thirds)},
    "logits": plain,
    "modified_relu": modified,
    "guided_grad_cam": ggc,
    "conductance": lc,
    "ablation": fa,
    "shapley": sv,
    "shapley_per_permutation": {"target": [1, 2], "mask": "thirds", "baselines": "base_one",
                                "perturbationsPerEval": 2, "attr": per_perm},
}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")
