"""What the torch fixture generators share: numbers and tensors as JSON.

Floats are written with 9 significant digits (an exact float32 round trip);
NaN and the infinities, which JSON lacks, as the strings "nan", "inf" and
"-inf" (tests/helpers.ts's StoredNumber); bool tensors as 1 and 0; integer
tensors marked int32 (torch's int64 values all fit).
"""
import math

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
