"""Writes tests/fixtures/data_review.json: torch.save'd checkpoints (base64 of the
.pth bytes) for tests/data_review_test.ts, the review of io.load's numpy scalars:

- "numpy_p3": {"best_f1": numpy.float64(0.8125), "epoch": numpy.int64(3)} saved
  with pickle_protocol=3, where a numpy scalar's raw value is a bytes opcode
  (SHORT_BINBYTES) instead of protocol 2's _codecs.encode(text, "latin1");
  torch.load gives the numbers back.
- "bytes_p2" / "bytes_p3": {"b": b"abc"}, a Python bytes object (written as
  _codecs.encode under protocol 2, SHORT_BINBYTES under 3), which
  torch.load(weights_only=True) refuses.

Deterministic. Run with /usr/bin/python3 scripts/make_data_review_fixtures.py
(PyTorch 1.13, numpy 1.x).
"""
import base64
import io
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "data_review.json")


def pth(obj, protocol):
    buf = io.BytesIO()
    torch.save(obj, buf, pickle_protocol=protocol)
    return base64.b64encode(buf.getvalue()).decode()


scalars = {"best_f1": np.float64(0.8125), "epoch": np.int64(3)}
loaded = torch.load(io.BytesIO(base64.b64decode(pth(scalars, 3))))
assert loaded == {"best_f1": 0.8125, "epoch": 3}
fx = {
    "numpy_p3": pth(scalars, 3),
    "numpy_p3_values": {"best_f1": float(loaded["best_f1"]), "epoch": int(loaded["epoch"])},
    "bytes_p2": pth({"b": b"abc"}, 2),
    "bytes_p3": pth({"b": b"abc"}, 3),
}
with open(OUT, "w") as f:
    json.dump(fx, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
