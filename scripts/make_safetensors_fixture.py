"""Writes tests/fixtures/torch_state.safetensors and tests/fixtures/torch_state.json.

The file holds a small PyTorch state dict (Conv2d(1, 2, 3) + BatchNorm2d(2)
after one training-mode forward, so the running statistics and the int64
num_batches_tracked are non-trivial), then one small tensor of each other
dtype that @lits/vision reads ("dtypes.*"). It is written in the safetensors
format by hand, so the safetensors package is not needed: an 8-byte
little-endian header length, the JSON header padded with spaces to a multiple
of 8, then the raw little-endian data.

The JSON lists, in file order, each tensor's name, safetensors dtype, shape
and flat values as PyTorch converts them to float (float dtypes) or int.

Run: /usr/bin/python3 scripts/make_safetensors_fixture.py
"""
import json
import os
import struct

import torch

DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}
METADATA = {"format": "pt", "source": "scripts/make_safetensors_fixture.py"}


def raw_bytes(t):
    """The tensor's elements as little-endian bytes."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: take the 16-bit patterns
        t = t.view(torch.int16)
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def encode(tensors, metadata):
    """Bytes of a safetensors file, metadata first as the reference writer does."""
    entries = [("__metadata__", metadata)]
    chunks = []
    offset = 0
    for name, t in tensors.items():
        raw = raw_bytes(t)
        info = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        entries.append((name, info))
        chunks.append(raw)
        offset += len(raw)
    header = json.dumps(dict(entries), separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + b"".join(chunks)


def main():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    model.train()
    with torch.no_grad():
        model(torch.randn(2, 1, 5, 5))
    tensors = dict(model.state_dict())

    values = torch.tensor([-2.5, 0.1, 1e-5, 65504.0, -0.0, 3.0e38])
    tensors["dtypes.f64"] = values.double().reshape(2, 3) / 3
    tensors["dtypes.f16"] = values[:4].half()
    tensors["dtypes.bf16"] = values.bfloat16()
    tensors["dtypes.i64"] = torch.tensor([-2147483648, 2147483647, -1, 0], dtype=torch.int64)
    tensors["dtypes.i32"] = torch.tensor([[-7, 8], [2**31 - 1, -(2**31)]], dtype=torch.int32)
    tensors["dtypes.i16"] = torch.tensor([-32768, 32767, 5], dtype=torch.int16)
    tensors["dtypes.i8"] = torch.tensor([-128, 127, -1], dtype=torch.int8)
    tensors["dtypes.u8"] = torch.tensor([0, 255, 128], dtype=torch.uint8)
    tensors["dtypes.bool"] = torch.tensor([True, False, True])
    tensors["dtypes.scalar"] = torch.tensor(1.5)
    tensors["dtypes.empty"] = torch.zeros(0, 3)

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "torch_state.safetensors"), "wb") as f:
        f.write(encode(tensors, METADATA))

    def as_number(t):
        return t.float() if t.is_floating_point() else t.long()

    lines = [
        json.dumps({
            "name": name,
            "dtype": DTYPES[t.dtype],
            "shape": list(t.shape),
            "values": as_number(t).flatten().tolist(),
        })
        for name, t in tensors.items()
    ]
    with open(os.path.join(root, "torch_state.json"), "w") as f:
        f.write('{\n "metadata": ' + json.dumps(METADATA) + ',\n "tensors": [\n  ')
        f.write(",\n  ".join(lines) + "\n ]\n}\n")


if __name__ == "__main__":
    main()
