"""What the torch fixture generators share: numbers and tensors as JSON.

Floats are written with 9 significant digits (an exact float32 round trip);
NaN and the infinities, which JSON lacks, as the strings "nan", "inf" and
"-inf" (tests/helpers.ts's StoredNumber); bool tensors as 1 and 0; integer
tensors marked int32 (torch's int64 values all fit). `plain` is the sklearn
generators' form: any nesting of numpy values, floats at full precision.
"""
import math

import numpy as np
import torch


def enc(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    r = float("%.9g" % v)
    return int(r) if r == int(r) and abs(r) < 1e15 else r


def ser(t):
    t = t.detach()
    if t.dtype == torch.bool:
        t = t.to(torch.float32)
    out = {"shape": list(t.shape), "data": [enc(v) for v in t.reshape(-1).tolist()]}
    if not t.dtype.is_floating_point:
        out["dtype"] = "int32"
    return out


def plain(v):
    """JSON-able: numpy scalars and arrays to Python (floats at full precision), NaN / inf to
    strings, through dicts, lists and tuples."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def randn(*shape):
    """torch.randn rounded to 9 digits first, so the stored input is exactly the one used."""
    t = torch.randn(shape)
    return torch.tensor([float("%.9g" % v) for v in t.reshape(-1).tolist()]).reshape(shape)


def grads(out, inputs):
    """A random upstream gradient G (randn) and the gradients of sum(out * G) for `inputs`
    (None for those that need none), both serialised."""
    g = randn(*out.shape)
    wanted = [t for t in inputs if t.requires_grad]
    got = iter(torch.autograd.grad(out, wanted, g, allow_unused=True))
    return ser(g), [ser(next(got)) if t.requires_grad else None for t in inputs]
