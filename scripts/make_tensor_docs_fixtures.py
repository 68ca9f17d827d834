"""Writes tests/fixtures/tensor_docs.json: PyTorch's numbers for the torch.Tensor
methods as the "torch.Tensor", "Tensor Attributes" and "Tensor Views" pages use
them (the tensor_docs audit), for tests/tensor_docs_test.ts:

- x.unfold(dim, size, step): values, strides, a write through the view, and the
  gradient (overlapping windows add);
- x.take(index) with negative indices; x.index_fill(dim, index, value);
- x.stride() and x.storage_offset() of views (transpose, narrow, unsqueeze,
  expand, a size-1 dimension);
- x.repeat(1, 1): a copy (a write into it leaves x alone);
- x.copy_(src) across dtypes (float to int64 truncates);
- x.masked_fill_(mask, value); x.bool(); x.mT;
- reductions as methods with keepdim and dim tuples; sort/argsort with
  stable=True and descending on ties; unique with return_inverse,
  return_counts and dim.

Inputs are float32 written with 9 significant digits (an exact round trip);
int64 tensors are stored as int32.

Run with /usr/bin/python3 scripts/make_tensor_docs_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch

from fixture_json import randn, ser

torch.set_num_threads(1)
torch.manual_seed(20260811)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "tensor_docs.json")

cases = {}

# ---- unfold: a strided view with its gradient -------------------------------------
unfold = []
for shape, dim, size, step in [([7], 0, 2, 1), ([7], 0, 3, 2), ([2, 5, 3], 1, 2, 2),
                               ([3, 4], -1, 4, 1), ([4, 3], 0, 1, 3), ([2, 6], 1, 3, 1)]:
    x = randn(*shape).requires_grad_()
    out = x.unfold(dim, size, step)
    g = randn(*out.shape)
    (gx,) = torch.autograd.grad(out, [x], g)
    written = x.detach().clone()
    written.unfold(dim, size, step).select(-1, 0).fill_(7.5)
    unfold.append({"x": ser(x), "dim": dim, "size": size, "step": step, "out": ser(out),
                   "stride": list(out.stride()), "g": ser(g), "grad": ser(gx),
                   "written": ser(written)})
cases["unfold"] = unfold

# ---- take and index_fill -------------------------------------------------------------
x = randn(3, 4)
take = []
for idx in [[0, 5, -1, -12], [[1, 2], [11, -3]], [7]]:
    i = torch.tensor(idx)
    take.append({"x": ser(x), "index": ser(i), "out": ser(x.take(i))})
cases["take"] = take
index_fill = []
for dim, idx, value in [(1, [0, 2], -1.0), (0, [-1], 2.5), (1, [3, 3, 0], 0.0), (-1, [], 9.0)]:
    i = torch.tensor(idx, dtype=torch.int64)
    index_fill.append({"x": ser(x), "dim": dim, "index": ser(i), "value": value,
                       "out": ser(x.index_fill(dim, i, value))})
cases["index_fill"] = index_fill

# ---- stride and storage_offset of views ----------------------------------------------
base = torch.zeros(2, 3, 4)
views = {
    "x": base,
    "x.transpose(0, 2)": base.transpose(0, 2),
    "x.narrow(2, 1, 2)": base.narrow(2, 1, 2),
    "x.narrow(1, 2, 1)": base.narrow(1, 2, 1),
    "x.unsqueeze(1)": base.unsqueeze(1),
    "x.permute(2, 0, 1).unsqueeze(0)": base.permute(2, 0, 1).unsqueeze(0),
    "x.select(1, 1)": base.select(1, 1),
    "zeros(2, 1, 3)": torch.zeros(2, 1, 3),
    "x.mT": base.mT,
    "x.unfold(2, 2, 1)": base.unfold(2, 2, 1),
}
cases["strides"] = [{"what": k, "shape": list(v.shape), "stride": list(v.stride()),
                     "offset": v.storage_offset()} for k, v in views.items()]
expanded = torch.zeros(3, 1).expand(3, 4)
cases["expand_stride"] = list(expanded.stride())

# ---- copies and conversions ------------------------------------------------------------
x = randn(2, 3) * 3
rep = x.clone()
r = rep.repeat(1, 1)
r.fill_(0.0)
cases["repeat_copy"] = {"x": ser(x), "after": ser(rep)}
copy_cases = []
for dst_dtype, src in [(torch.int64, randn(2, 3) * 5), (torch.float32, torch.tensor([[1, -2, 3]])),
                       (torch.int64, torch.tensor([2.7, -2.7, 0.5, -0.5, 100.9, -100.9]))]:
    dst = torch.zeros(*([2, 3] if src.dim() == 2 else [src.numel()]), dtype=dst_dtype)
    dst.copy_(src)
    copy_cases.append({"src": ser(src), "out": ser(dst)})
cases["copy_dtype"] = copy_cases
v = torch.tensor([0.0, 2.0, -0.5, float("nan"), -0.0, float("inf")])
cases["bool"] = {"x": ser(v), "out": ser(v.bool())}
x = randn(2, 3, 4)
mask = torch.rand(2, 3, 4) > 0.5
masked = x.clone()
masked.masked_fill_(mask, -1.25)
cases["masked_fill_"] = {"x": ser(x), "mask": ser(mask), "out": ser(masked)}
cases["mT"] = {"x": ser(x), "out": ser(x.mT)}

# ---- reductions as methods: keepdim and dim tuples -------------------------------------
x = randn(2, 3, 4)
red = []
for name, dims, keep in [("sum", [0, 2], True), ("sum", [-1, 0], False), ("mean", [1, 2], True),
                         ("amax", [0, 1], False), ("amin", [2, 0], True),
                         ("logsumexp", [0, 2], True), ("nansum", [1], True),
                         ("std", [0, 2], True), ("var", [1, 2], False)]:
    red.append({"op": name, "dims": dims, "keepdim": keep,
                "out": ser(getattr(x, name)(dims, keepdim=keep))})
for name, dim, keep in [("max", 1, True), ("min", -1, False), ("argmax", 2, True),
                        ("argmin", 0, True), ("prod", 1, True), ("median", 1, False),
                        ("cumsum", 2, None)]:
    out = getattr(x, name)(dim) if keep is None else getattr(x, name)(dim, keepdim=keep)
    if isinstance(out, tuple):
        out = out.values
    red.append({"op": name, "dims": dim, "keepdim": keep, "out": ser(out)})
red.append({"op": "std_biased", "dims": 1, "keepdim": True,
            "out": ser(x.std(1, unbiased=False, keepdim=True))})
red.append({"op": "norm", "dims": [1, 2], "keepdim": True,
            "out": ser(x.norm(2, dim=[1, 2], keepdim=True))})
cases["reductions"] = {"x": ser(x), "cases": red}

# ---- sort / argsort with ties ----------------------------------------------------------
t = torch.tensor([[2.0, 1.0, 2.0, 1.0, 3.0, 2.0], [0.0, 0.0, -1.0, 5.0, 0.0, -1.0]])
srt = []
for dim, desc in [(-1, False), (-1, True), (0, True), (0, False)]:
    s = t.sort(dim=dim, descending=desc, stable=True)
    srt.append({"dim": dim, "descending": desc, "values": ser(s.values),
                "indices": ser(s.indices),
                "argsort": ser(t.argsort(dim=dim, descending=desc, stable=True))})
cases["sort"] = {"x": ser(t), "cases": srt}

# ---- unique with its options ------------------------------------------------------------
u = torch.tensor([3.0, 1.0, 3.0, 2.0, 1.0, 3.0])
vals, inv, cnt = u.unique(return_inverse=True, return_counts=True)
m = torch.tensor([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0], [0.0, 5.0], [0.0, 1.0]])
mv, mi, mc = m.unique(dim=0, return_inverse=True, return_counts=True)
cv, ci, cc = m.unique(dim=1, return_inverse=True, return_counts=True)
cases["unique"] = {"x": ser(u), "values": ser(vals), "inverse": ser(inv), "counts": ser(cnt),
                   "m": ser(m), "dim0": [ser(mv), ser(mi), ser(mc)],
                   "dim1": [ser(cv), ser(ci), ser(cc)]}

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
