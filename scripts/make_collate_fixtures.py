"""Writes tests/fixtures/collate.json: PyTorch 1.13's default_collate on nested samples,
and the batches its DataLoader makes of an IterableDataset (drop_last both ways,
batch_size=None with a collate_fn).

A sample is written in a small tagged form that tests/collate_test.ts decodes into this
library's samples and this script into PyTorch's:

- {"tensor": {shape, data, dtype?}}: a tensor (int32 here for torch's int64);
- {"image": {shape: [1, H, W] or [C, D, H, W], data}}: an image { data, width, height }
  (a volume with depth, channels) here, a float32 tensor of that shape for torch;
- {"f32": [...]}, {"i32": [...]}, {"u8": [...]}: a typed array here, a numpy array for torch;
- {"tuple": [...]}: an array here, a tuple for torch; {"dict": {...}}: an object / a dict;
- JSON numbers, strings, booleans and lists as they are. Floats are never whole numbers
  (a whole float is an integer in JavaScript: int32 here, float64 in torch).

Outputs: {"tensor": ser(t), "torch_dtype": "torch.int64"}, lists, {"dict": {...}}, strings.
Inputs are float32 values written with 9 significant digits (exact round trip).

Run with /usr/bin/python3 scripts/make_collate_fixtures.py (PyTorch 1.13).
"""
import json
import os
import sys

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset
from torch.utils.data._utils.collate import default_collate

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import randn, ser  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(20260701)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "collate.json")


def image(*shape):
    return {"image": {"shape": list(shape), "data": ser(randn(*shape))["data"]}}


def f32(n):
    return {"f32": ser(randn(n))["data"]}


def to_torch(v):
    """The tagged form as the sample PyTorch's dataset would return."""
    if isinstance(v, dict) and len(v) == 1:
        (tag, x), = v.items()
        if tag == "tensor":
            dtype = torch.int64 if x.get("dtype") == "int32" else torch.float32
            return torch.tensor(x["data"], dtype=dtype).reshape(x["shape"])
        if tag == "image":
            return torch.tensor(x["data"], dtype=torch.float32).reshape(x["shape"])
        if tag == "f32":
            return np.array(x, dtype=np.float32)
        if tag == "i32":
            return np.array(x, dtype=np.int32)
        if tag == "u8":
            return np.array(x, dtype=np.uint8)
        if tag == "tuple":
            return tuple(to_torch(e) for e in x)
        if tag == "dict":
            return {k: to_torch(e) for k, e in x.items()}
    if isinstance(v, list):
        return [to_torch(e) for e in v]
    return v


def out(v):
    """PyTorch's collated value in the tagged output form."""
    if isinstance(v, torch.Tensor):
        return {"tensor": ser(v), "torch_dtype": str(v.dtype)}
    if isinstance(v, dict):
        return {"dict": {k: out(e) for k, e in v.items()}}
    if isinstance(v, (list, tuple)):
        return [out(e) for e in v]
    if isinstance(v, float):
        return float("%.9g" % v)
    return v


def tensor(*shape, integer=False):
    if integer:
        t = torch.randint(-50, 50, shape)
        return {"tensor": ser(t)}
    return {"tensor": ser(randn(*shape))}


def flt():
    """A float that is not a whole number (x.yyy5)."""
    return torch.randint(-10000, 10000, ()).item() / 1000 + 0.0005


def case(name, samples):
    collated = default_collate([to_torch(s) for s in samples])
    return {"name": name, "samples": samples, "collated": out(collated)}


cases = [
    case("dict samples: image, label, id, weight, flag, features, tags", [
        {"dict": {"image": image(1, 3, 2), "label": i % 3, "id": f"p{i}", "weight": flt(),
                  "flag": i % 2 == 0, "features": f32(4), "tags": {"i32": [i, -i, 7]}}}
        for i in range(3)
    ]),
    case("tuples (tensor, int): transposed to [stacked, labels]", [
        {"tuple": [tensor(3), i * 5 - 4]} for i in range(4)
    ]),
    case("nested dicts, lists, tuples and a two-channel volume", [
        {"dict": {"meta": {"dict": {"ids": [i, i + 10], "name": f"case{i}"}},
                  "pair": {"tuple": [tensor(2, 2), tensor(2, integer=True)]},
                  "vol": image(2, 2, 2, 3)}}
        for i in range(2)
    ]),
    case("lists of floats, transposed", [[flt(), flt()] for _ in range(3)]),
    case("plain integers", [3, -1, 7, 0]),
    case("plain floats", [flt() for _ in range(3)]),
    case("an integer then floats (torch: float32)", [2, flt(), flt()]),
    case("strings", ["a", "bb", "ccc"]),
    case("uint8 arrays", [{"u8": [i, 255 - i, 128]} for i in range(3)]),
    case("int tensors", [tensor(2, 3, integer=True) for _ in range(2)]),
    case("one sample", [{"dict": {"x": tensor(2), "y": 1}}]),
]


class Stream(IterableDataset):
    """n samples { x: [2] float tensor, y: int, name: str } (fixed values)."""

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter([to_torch(s) for s in self.items])


stream_items = [{"dict": {"x": tensor(2), "y": i, "name": f"s{i}"}} for i in range(7)]
image_items = [{"tuple": [image(1, 2, 2), i % 3]} for i in range(5)]


def batches(loader):
    return [out(b) for b in loader]


streams = {
    "items": stream_items,
    "image_items": image_items,
    "batch3": batches(DataLoader(Stream(stream_items), batch_size=3)),
    "batch3_drop_last": batches(DataLoader(Stream(stream_items), batch_size=3, drop_last=True)),
    "batch7_drop_last": batches(DataLoader(Stream(stream_items), batch_size=7, drop_last=True)),
    "batch8_drop_last": batches(DataLoader(Stream(stream_items), batch_size=8, drop_last=True)),
    "unbatched_y_times_10": batches(
        DataLoader(Stream(stream_items), batch_size=None, collate_fn=lambda s: s["y"] * 10)),
    "images_batch2": batches(DataLoader(Stream(image_items), batch_size=2)),
}

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases, "streams": streams}, f)
    f.write("\n")
print(f"wrote {OUT}: {len(cases)} collate cases, {len(streams) - 2} stream runs")
