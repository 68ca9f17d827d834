"""The PyTorch side of bench/transformer_ops.ts: a worker that times the
transformer ops (GELU, layer norm, softmax over the last dimension, one
nn.TransformerEncoderLayer) on the same shapes, one request at a time, so
that the two libraries' runs alternate in time.

Each request is one JSON line on stdin:
  {"case": "gelu", "shape": [2, 56, 56, 384], "reps": 5}
and its answer one JSON line on stdout: {"fwd": [ms...], "both": [ms...]}
(forward without gradients; forward + backward of out.backward(G)). The
first line out is {"torch": version, "threads": n}.

Usage: /usr/bin/python3 bench/transformer_ops_torch.py THREADS
"""
import sys

import torch
import torch.nn.functional as F

from torch_timing import serve, time_runs


def op(case, shape):
    """The function a case times, and its inputs."""
    x = torch.randn(*shape)
    if case == "gelu":
        return F.gelu, [x]
    if case == "gelu_tanh":
        return (lambda t: F.gelu(t, approximate="tanh")), [x]
    if case == "layer_norm":
        c = shape[-1]
        w, b = torch.randn(c), torch.randn(c)
        return (lambda t, u, v: F.layer_norm(t, [c], u, v)), [x, w, b]
    if case == "softmax":
        return (lambda t: torch.softmax(t, -1)), [x]
    if case == "encoder_layer":
        layer = torch.nn.TransformerEncoderLayer(shape[-1], 12)
        return layer, [x]
    raise ValueError(case)


def answer(q):
    f, inputs = op(q["case"], q["shape"])
    with torch.no_grad():
        g = torch.randn(*f(*inputs).shape)
    out = time_runs(f, inputs, g, q["reps"])
    if isinstance(f, torch.nn.Module):
        f.zero_grad(set_to_none=True)
    return out


def main():
    serve(int(sys.argv[1]), answer)


if __name__ == "__main__":
    main()
