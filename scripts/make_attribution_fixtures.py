"""Writes tests/fixtures/attribution.json: Captum's attribution methods
(Saliency, InputXGradient, IntegratedGradients, Occlusion) computed with
PyTorch 1.13 on a tiny convolutional classifier, for
src/eval/attribution/.

Captum itself is not installed here, so its algorithms are written out
below from its documented definitions (captum.attr, 0.6/0.7):

- Saliency: the gradient of the target's score with respect to the input
  (torch.autograd.grad of the selected outputs), its absolute value when
  abs=True (the default).
- InputXGradient: that gradient times the input.
- IntegratedGradients: the inputs baseline + alpha (x - baseline) for every
  alpha of the approximation method, concatenated along the batch (alpha
  major), one forward and backward pass with the target repeated per step;
  the gradients scaled by the step sizes (a float32 tensor), summed over
  the steps and multiplied by (x - baseline). Gauss-Legendre ("gausslegendre",
  the default) takes numpy.polynomial.legendre.leggauss(n) scaled from
  [-1, 1] to [0, 1]; the Riemann rules take step sizes 1/n (halved at both
  ends for the trapezoid) and alphas from numpy.linspace. internal_batch_size
  runs max(1, internal_batch_size // N) steps at a time and adds the
  attributions of each chunk. The convergence delta is, per example,
  sum(attributions) - (F(x)[target] - F(baseline)[target]).
- Occlusion: windows of sliding_window_shapes placed at multiples of the
  strides (ceil((dim - window) / stride) + 1 positions per dimension, the
  last one cut off at the border); each window replaced by the baseline,
  the drop of the target's score added to every element it covers, then
  divided by the number of windows that covered it.

The network: conv2d(1 -> 4, 3x3, padding 1) -> batch_norm (eval, stored
running statistics) -> relu -> max_pool2d(2) -> conv2d(4 -> 6, 3x3,
padding 1) -> relu -> avg_pool2d(2) -> flatten -> linear(96 -> 3), as an
nn.Sequential whose state dict the test loads. Inputs: a batch of two
1 x 16 x 16 images. Inputs and weights are written with 9 significant
digits (float32 round trip), results with 7 (the tests compare to 2e-5).

Run with /usr/bin/python3 scripts/make_attribution_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import numpy as np
import torch
from torch import nn

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "attribution.json")

model = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1),
    nn.BatchNorm2d(4),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(4, 6, 3, padding=1),
    nn.ReLU(),
    nn.AvgPool2d(2),
    nn.Flatten(),
    nn.Linear(96, 3),
)
with torch.no_grad():
    model[0].weight.mul_(1.5)
    model[1].weight.copy_(torch.rand(4) + 0.5)
    model[1].bias.copy_(torch.randn(4) * 0.1)
    model[1].running_mean.copy_(torch.randn(4) * 0.2)
    model[1].running_var.copy_(torch.rand(4) + 0.5)
    model[8].weight.mul_(3.0)
model.eval()

x = torch.randn(2, 1, 16, 16)
base_one = torch.randn(1, 1, 16, 16) * 0.3
base_batch = torch.randn(2, 1, 16, 16) * 0.3


def select(out, target):
    """Captum's _select_targets for 2-D outputs: a class for all, or one per example."""
    if target is None:
        return out
    if isinstance(target, int):
        return out[:, target]
    return torch.gather(out, 1, torch.tensor(target).reshape(len(out), 1))


def gradients(inp, target):
    """Captum's compute_gradients: d sum(selected outputs) / d inp."""
    inp = inp.detach().requires_grad_()
    with torch.enable_grad():
        out = select(model(inp), target)
        (g,) = torch.autograd.grad(torch.unbind(out), inp)
    return g


def saliency(inp, target, abs_=True):
    g = gradients(inp, target)
    return g.abs() if abs_ else g


def input_x_gradient(inp, target):
    return gradients(inp, target) * inp


def approximation(method, n):
    """(step_sizes, alphas) of Captum's approximation_methods."""
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return list(0.5 * weights), list(0.5 * (1 + nodes))
    assert n > 1
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


def ig_chunk(inp, baseline, target, step_sizes, alphas, multiply):
    steps = len(alphas)
    scaled = torch.cat([baseline + a * (inp - baseline) for a in alphas], dim=0)
    g = gradients(scaled, expand_target(target, steps))
    scaled_g = g.contiguous().view(steps, -1) * torch.tensor(step_sizes).view(steps, 1)
    total = torch.sum(scaled_g.reshape((steps, inp.shape[0]) + tuple(g.shape[1:])), dim=0)
    return total * (inp - baseline) if multiply else total


def integrated_gradients(inp, target, baseline=0, n_steps=50, method="gausslegendre",
                         internal_batch_size=None, multiply=True):
    step_sizes, alphas = approximation(method, n_steps)
    if internal_batch_size is None:
        attr = ig_chunk(inp, baseline, target, step_sizes, alphas, multiply)
    else:
        count = max(1, internal_batch_size // inp.shape[0])
        attr, start = None, 0
        while start < n_steps:
            end = min(start + count, n_steps)
            part = ig_chunk(inp, baseline, target, step_sizes[start:end], alphas[start:end],
                            multiply)
            attr = part if attr is None else attr + part.detach()
            start = end
    # Captum's compute_convergence_delta.
    start_point = torch.full_like(inp, baseline) if isinstance(baseline, (int, float)) else (
        torch.cat([baseline] * inp.shape[0]) if baseline.shape[0] == 1 else baseline)
    with torch.no_grad():
        s = select(model(start_point), target).reshape(inp.shape[0], -1).sum(1)
        e = select(model(inp), target).reshape(inp.shape[0], -1).sum(1)
        delta = attr.reshape(inp.shape[0], -1).sum(1) - (e - s)
    return attr, delta


def occlusion(inp, target, window, strides, baseline=0, perturbations_per_eval=1):
    dims = inp.shape[1:]
    if isinstance(strides, int):
        strides = (strides,) * len(dims)
    counts = [int(math.ceil((d - w) / s)) + 1 for d, w, s in zip(dims, window, strides)]
    features = int(np.prod(counts))
    with torch.no_grad():
        initial = select(model(inp), target).reshape(-1)
        total = torch.zeros_like(inp)
        weights = torch.zeros((1,) + tuple(dims))
        for first in range(0, features, perturbations_per_eval):
            last = min(first + perturbations_per_eval, features)
            masks = []
            for k in range(first, last):
                rest, start = k, []
                for c, s in zip(counts, strides):  # the first dimension counts fastest
                    start.append((rest % c) * s)
                    rest //= c
                m = torch.zeros((1,) + tuple(dims))
                m[(slice(None),) + tuple(slice(a, a + w) for a, w in zip(start, window))] = 1
                masks.append(m)
            mask = torch.stack(masks)  # [p, 1, ...]
            expanded = inp.unsqueeze(0).expand((last - first,) + tuple(inp.shape))
            ablated = expanded * (1 - mask) + baseline * mask
            batch = ablated.reshape((-1,) + tuple(dims))
            t = expand_target(target, last - first)
            modified = select(model(batch), t).reshape(-1, inp.shape[0])
            diff = (initial - modified).reshape((last - first, inp.shape[0]) + (1,) * len(dims))
            weights += mask.sum(dim=0)
            total += (diff * mask).sum(dim=0)
        return total / weights


def out(t):
    """A result: 7 significant digits (the tests compare to 1e-5), keeping the file small."""
    r = ser(t)
    r["data"] = [float("%.7g" % v) for v in r["data"]]
    return r


cases = {}
cases["saliency_abs"] = {"target": 1, "abs": True, "attr": out(saliency(x, 1))}
cases["saliency_signed"] = {"target": [2, 0], "abs": False,
                            "attr": out(saliency(x, [2, 0], False))}
cases["input_x_gradient"] = {"target": [2, 0], "attr": out(input_x_gradient(x, [2, 0]))}

ig = {}
# Every approximation method, each with another kind of baseline.
for m, base, name in [("gausslegendre", base_one, "base_one"),
                      ("riemann_right", 0, None),
                      ("riemann_left", base_batch, "base_batch"),
                      ("riemann_middle", 0, None),
                      ("riemann_trapezoid", 0.5, 0.5)]:
    a, d = integrated_gradients(x, [2, 0], baseline=base, n_steps=8, method=m)
    ig[m] = {"method": m, "nSteps": 8, "target": [2, 0], "baselines": name, "attr": out(a),
             "delta": out(d)}
a, d = integrated_gradients(x, 1)
ig["default"] = {"target": 1, "attr": out(a), "delta": out(d)}
a, d = integrated_gradients(x, [2, 0], n_steps=7, internal_batch_size=5)
ig["internal_batch"] = {"nSteps": 7, "target": [2, 0], "internalBatchSize": 5, "attr": out(a),
                        "delta": out(d)}
a, d = integrated_gradients(x, 2, n_steps=5, method="riemann_right", multiply=False)
ig["no_multiply"] = {"method": "riemann_right", "nSteps": 5, "target": 2,
                     "multiplyByInputs": False, "attr": out(a), "delta": out(d)}
cases["integrated_gradients"] = ig

occ = {}
occ["window4_stride2"] = {"slidingWindowShapes": [1, 4, 4], "strides": [1, 2, 2],
                          "target": [2, 0],
                          "attr": out(occlusion(x, [2, 0], (1, 4, 4), (1, 2, 2)))}
occ["cut_off"] = {"slidingWindowShapes": [1, 3, 3], "strides": 2, "baselines": 0.25,
                  "target": 1, "perturbationsPerEval": 3,
                  "attr": out(occlusion(x, 1, (1, 3, 3), 2, 0.25, 3))}
occ["baseline_tensor"] = {"slidingWindowShapes": [1, 5, 5], "strides": [1, 3, 3],
                          "baselines": "base_one", "target": [0, 1], "perturbationsPerEval": 4,
                          "attr": out(occlusion(x, [0, 1], (1, 5, 5), (1, 3, 3), base_one, 4))}
cases["occlusion"] = occ

with torch.no_grad():
    logits = model(x)

fixture = {
    "state_dict": {k: ser(v) for k, v in model.state_dict().items()
                   if not k.endswith("num_batches_tracked")},
    "x": ser(x),
    "base_one": ser(base_one),
    "base_batch": ser(base_batch),
    "logits": ser(logits),
    "cases": cases,
}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")
