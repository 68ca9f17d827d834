"""Converts a PyTorch .pth / .pt file into a safetensors state dict that
@lits/vision loads with `io.loadSafetensors` and `model.loadStateDict`.

    /usr/bin/python3 scripts/export_pth.py resnet50.pth resnet50.safetensors
    /usr/bin/python3 scripts/export_pth.py ckpt.pt model.safetensors --key model --strip-prefix module.

The input may be a state dict, a whole pickled nn.Module, or a checkpoint
dict holding the state dict under a key (`--key`; by default the first of
state_dict, model_state_dict, model, net that is present). Names and their
order are kept as PyTorch saved them (torchvision names are the library's
names). Floating tensors are written as F32 (the library computes in
float32), integer tensors as I64 (`num_batches_tracked`), booleans as BOOL.

Needs only PyTorch: the safetensors format is written here by hand, an
8-byte little-endian header length, a JSON header padded with spaces to a
multiple of 8, then the raw little-endian data. `read_safetensors` reads it
back, also without the safetensors package.
"""
import argparse
import json
import struct
import sys

import torch

STATE_KEYS = ("state_dict", "model_state_dict", "model", "net")
DTYPE_NAMES = {torch.float32: "F32", torch.int64: "I64", torch.bool: "BOOL"}
TORCH_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}


def as_stored(t):
    """The tensor in the dtype it is written with: F32, I64 or BOOL."""
    t = t.detach().cpu()
    if t.dtype == torch.bool:
        return t.contiguous()
    if t.is_floating_point():
        return t.to(torch.float32).contiguous()
    if t.is_complex():
        raise ValueError("complex tensors are not supported")
    return t.to(torch.int64).contiguous()


def raw_bytes(t):
    """Little-endian bytes of a contiguous F32, I64 or BOOL tensor."""
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (in its order) to `path` in the safetensors format."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"'{name}' is a {type(t).__name__}, not a tensor")
        t = as_stored(t)
        data = raw_bytes(t)
        header[name] = {
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def read_safetensors(path):
    """{name: tensor} of a safetensors file, in file order, and its metadata."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = TORCH_DTYPES[info["dtype"]]
        raw = bytearray(data[8 + n + begin : 8 + n + end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(info["shape"]).clone()
    return out, metadata


def state_dict_of(obj, key=None):
    """The state dict inside whatever torch.load returned."""
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if not isinstance(obj, dict):
        raise ValueError(f"expected a state dict, a checkpoint dict or a module, got {type(obj).__name__}")
    if key is not None:
        if key not in obj:
            raise ValueError(f"no key '{key}' in the checkpoint; it has {', '.join(map(str, obj))}")
        return state_dict_of(obj[key])
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    for k in STATE_KEYS:
        if k in obj:
            return state_dict_of(obj[k])
    raise ValueError(
        f"cannot find the state dict: keys are {', '.join(map(str, obj))}; name it with --key"
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input", help=".pth / .pt file saved by torch.save")
    p.add_argument("output", help="safetensors file to write")
    p.add_argument("--key", help="checkpoint key holding the state dict")
    p.add_argument("--strip-prefix", default="", help="prefix to remove from names (e.g. module.)")
    args = p.parse_args(argv)
    try:
        obj = torch.load(args.input, map_location="cpu")
        state = state_dict_of(obj, args.key)
        if args.strip_prefix:
            state = {
                (k[len(args.strip_prefix) :] if k.startswith(args.strip_prefix) else k): v
                for k, v in state.items()
            }
        write_safetensors(args.output, state, {"format": "pt", "source": args.input})
    except Exception as e:  # one clear line for the user, and a failing exit code
        print(f"export_pth: {args.input}: {e}", file=sys.stderr)
        return 1
    count = sum(t.numel() for t in state.values() if t.is_floating_point())
    print(f"wrote {args.output}: {len(state)} tensors, {count:,} float values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
