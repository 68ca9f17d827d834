"""Writes tests/fixtures/autograd_grad.json: PyTorch's numbers for
torch.autograd.grad and torch.autograd.backward (several outputs,
grad_outputs / grad_tensors, inputs=), on a small convolutional network
written with functional ops so that the test builds the same graph from the
stored weights.

The network: conv2d(1 -> 4, 3x3, padding 1) -> batch_norm (training) ->
relu ("act", the activation Grad-CAM differentiates to) -> max_pool2d(2) ->
flatten -> linear(4*4*4 -> 3) = logits; loss = cross_entropy(logits, y).

Run with /usr/bin/python3 scripts/make_autograd_grad_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261206)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "autograd_grad.json")

x = torch.randn(2, 1, 8, 8)
y = torch.tensor([2, 0])
conv_w = torch.randn(4, 1, 3, 3) * 0.5
conv_b = torch.randn(4) * 0.1
bn_w = torch.rand(4) + 0.5
bn_b = torch.randn(4) * 0.1
fc_w = torch.randn(3, 64) * 0.2
fc_b = torch.randn(3) * 0.1
G = torch.randn(2, 3)  # a gradient for the logits


def leaves():
    return [t.clone().requires_grad_() for t in (x, conv_w, conv_b, bn_w, bn_b, fc_w, fc_b)]


def net(xx, cw, cb, bw, bb, fw, fb):
    h = F.conv2d(xx, cw, cb, padding=1)
    h = F.batch_norm(h, None, None, bw, bb, training=True)
    act = F.relu(h)
    p = F.max_pool2d(act, 2)
    logits = F.linear(p.flatten(1), fw, fb)
    return act, logits


cases = {}

# grad of the loss with respect to the input, a weight and the activation.
L = leaves()
act, logits = net(*L)
loss = F.cross_entropy(logits, y)
gx, gcw, gact = torch.autograd.grad(loss, [L[0], L[1], act])
assert all(t.grad is None for t in L)
cases["loss"] = {"loss": ser(loss), "input": ser(gx), "conv_w": ser(gcw), "act": ser(gact)}

# Grad-CAM: the class score of sample 0 with respect to the activation.
L = leaves()
act, logits = net(*L)
(gcam,) = torch.autograd.grad(logits[0, 1], act)
cases["score"] = {"act": ser(gcam)}

# Several outputs with grad_outputs (a None for the one-element one).
L = leaves()
act, logits = net(*L)
loss = F.cross_entropy(logits, y)
g_multi = torch.autograd.grad([logits, loss], [L[5], L[6]], grad_outputs=[G, None])
cases["multi"] = {"fc_w": ser(g_multi[0]), "fc_b": ser(g_multi[1])}

# autograd.backward with grad_tensors, into chosen inputs only.
L = leaves()
act, logits = net(*L)
loss = F.cross_entropy(logits, y)
torch.autograd.backward([logits, loss], [G, torch.tensor(2.0)], inputs=[L[1], act])
assert L[0].grad is None and L[5].grad is None
cases["backward_inputs"] = {"conv_w": ser(L[1].grad), "act": ser(act.grad)}

with open(OUT, "w") as f:
    json.dump({
        "torch": torch.__version__,
        "x": ser(x), "y": ser(y), "conv_w": ser(conv_w), "conv_b": ser(conv_b),
        "bn_w": ser(bn_w), "bn_b": ser(bn_b), "fc_w": ser(fc_w), "fc_b": ser(fc_b), "G": ser(G),
        "cases": cases,
    }, f)
print("wrote", OUT)
