"""Writes tests/fixtures/layer_options.json: PyTorch's numbers for two layer
options, `return_indices` of the adaptive max pools (1-D, 2-D, 3-D) and
`scale_grad_by_freq` of embedding and embedding_bag
(tests/adaptive_max_indices_test.ts, tests/embedding_grad_freq_test.ts).

Adaptive cases ("pools") store the input, the output size under this
library's names (null for torch's None), the values and int32 indices, a
fixed random upstream gradient G and the input's gradient of
L = sum(values * G). Their sizes are drawn at random (bins unequal and
overlapping, output sizes above the input's, batched and unbatched); some
inputs hold ties (few distinct values), several NaNs in a bin, or -inf.
"unpools" feed such indices to max_unpool with a kernel and stride whose
default size is within a stride of the input's.

Embedding cases ("embeddings", "bags") store the weight before the call,
the int32 indices, the options, the output, the weight after (maxNorm
renormalises it in place), G and the gradients of the weight and of the
per-sample weights.

torch 1.13's CPU embedding_bag backward divides by the wrong count under
scale_grad_by_freq (pytorch/pytorch#190063, fixed by #190264: it reads
counts[sorted_indices[i]], i the unique group's rank, so an index that
sorts after a repeated one takes that one's count); its CUDA backward and
F.embedding divide by the index's own count, as documented. A bag's "grad"
is therefore the documented one, computed in torch as F.embedding with the
flag followed by the bag's sum or mean (whose output and per-sample weight
gradient are checked here against embedding_bag's); "gradTorchCpu" keeps
1.13's CPU numbers and "cpuBug" says where the two differ.

Run with /usr/bin/python3 scripts/make_layer_options_fixtures.py (PyTorch 1.13).
"""
import json
import os
import random

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260801)
rng = random.Random(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "layer_options.json")
NAN, INF = float("nan"), float("inf")
POOL = {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d}
UNPOOL = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}


def upstream(shape):
    return torch.rand(shape) * 2 + 0.5  # in [0.5, 2.5): no cancellation to 0


def make_input(shape, kind):
    if kind == "ties":
        return torch.randint(0, 3, shape).float()
    x = torch.randn(shape)
    flat = x.view(-1)
    n = flat.numel()
    if kind == "nan":
        for i in rng.sample(range(n), max(2, n // 6)):
            flat[i] = NAN
    elif kind == "inf":
        for i in rng.sample(range(n), max(2, n // 3)):
            flat[i] = -INF
        flat[rng.randrange(n)] = INF
    elif kind == "allneginf":
        flat.fill_(-INF)
    return x


POOLS = []


def pool_case(name, dim, shape, size, kind="randn"):
    x = make_input(shape, kind).requires_grad_(True)
    torch_size = size if isinstance(size, int) else tuple(size)
    values, indices = POOL[dim](x, torch_size, return_indices=True)
    g = upstream(values.shape)
    (values * g).sum().backward()
    POOLS.append({"name": name, "dim": dim, "outputSize": size, "input": ser(x),
                  "values": ser(values), "indices": ser(indices), "G": ser(g),
                  "grad": ser(x.grad)})


# Random configurations: each dimension 1 to 9, its output 1 to 10 (None at times).
for dim in (1, 2, 3):
    count = {1: 10, 2: 12, 3: 10}[dim]
    for k in range(count):
        sizes = [rng.randint(1, 9 if dim < 3 else 6) for _ in range(dim)]
        outs = [rng.randint(1, s + 2) for s in sizes]
        if dim > 1 and rng.random() < 0.3:
            outs[rng.randrange(dim)] = None
        lead = [rng.randint(1, 3), rng.randint(1, 3)] if rng.random() < 0.7 \
            else [rng.randint(1, 3)]
        kind = ["randn", "randn", "ties", "nan", "inf"][k % 5]
        size = outs[0] if dim == 1 else outs
        if dim > 1 and all(o == outs[0] for o in outs) and rng.random() < 0.5:
            size = outs[0]
        pool_case(f"{dim}d random {k}: {lead + sizes} to {size} ({kind})", dim, lead + sizes,
                  size, kind)
pool_case("2d global, ties", 2, [2, 3, 4, 5], 1, "ties")
pool_case("2d even bins", 2, [1, 2, 6, 8], [3, 4])
pool_case("2d overlapping bins 7 to 5", 2, [2, 2, 7, 7], [5, 5])
pool_case("2d output larger than input", 2, [1, 2, 3, 2], [5, 4])
pool_case("2d many NaNs", 2, [1, 1, 6, 6], [2, 3], "nan")
pool_case("2d all -inf", 2, [1, 1, 3, 3], 2, "allneginf")
pool_case("3d all -inf", 3, [1, 1, 2, 3, 3], 2, "allneginf")
pool_case("3d None depth", 3, [2, 2, 3, 5, 4], [None, 2, 3])
pool_case("1d unbatched", 1, [3, 7], 3)
pool_case("3d ties", 3, [1, 2, 4, 5, 3], [3, 2, 2], "ties")

UNPOOLS = []


def unpool_case(name, dim, shape, size, kernel, stride):
    x = torch.randn(shape)
    values, indices = POOL[dim](x, size, return_indices=True)
    v = values.detach().requires_grad_(True)
    y = UNPOOL[dim](v, indices, kernel, stride, output_size=list(shape[-dim:]))
    g = upstream(y.shape)
    (y * g).sum().backward()
    UNPOOLS.append({"name": name, "dim": dim, "outputSize": size, "kernel": kernel,
                    "stride": stride, "input": ser(x), "out": ser(y), "G": ser(g),
                    "grad": ser(v.grad)})


unpool_case("2d 8x8 to 4x4, kernel 2", 2, [1, 2, 8, 8], 4, 2, 2)
unpool_case("2d 7x7 to 3x3 (overlapping), kernel 3 stride 2", 2, [2, 1, 7, 7], 3, 3, 2)
unpool_case("1d 9 to 4, kernel 3 stride 2", 1, [2, 3, 9], 4, 3, 2)
unpool_case("3d 4x5x5 to 2x2x2, kernel 2 stride 2", 3, [1, 2, 4, 5, 5], 2, 2, 2)

EMBEDDINGS = []


def embedding_case(name, rows, dim, ids, opts):
    w = (torch.randn(rows, dim) * 1.5).requires_grad_(True)
    before = w.detach().clone()
    ids = torch.tensor(ids)
    out = F.embedding(ids, w, padding_idx=opts.get("paddingIdx"), max_norm=opts.get("maxNorm"),
                      norm_type=opts.get("normType", 2.0),
                      scale_grad_by_freq=opts.get("scaleGradByFreq", False))
    g = upstream(out.shape)
    (out * g).sum().backward()
    EMBEDDINGS.append({"name": name, "weight": ser(before), "ids": ser(ids), "opts": opts,
                       "out": ser(out), "weightAfter": ser(w.detach()), "G": ser(g),
                       "grad": ser(w.grad)})


def random_ids(rows, shape):
    return torch.randint(0, rows, shape).tolist()


embedding_case("repeats", 6, 3, [1, 4, 1, 1, 0, 4, 5], {"scaleGradByFreq": True})
embedding_case("2-D ids", 7, 4, random_ids(7, (3, 5)), {"scaleGradByFreq": True})
embedding_case("paddingIdx", 5, 3, [[0, 2, 2], [2, 0, 4]],
               {"scaleGradByFreq": True, "paddingIdx": 2})
embedding_case("negative paddingIdx", 5, 3, [4, 4, 1, 3, 4, 1],
               {"scaleGradByFreq": True, "paddingIdx": -1})
embedding_case("maxNorm", 6, 4, [0, 3, 3, 5, 0, 3],
               {"scaleGradByFreq": True, "maxNorm": 1.5})
embedding_case("maxNorm p=1, paddingIdx", 6, 4, [[1, 2], [2, 2], [5, 1]],
               {"scaleGradByFreq": True, "maxNorm": 2.0, "normType": 1.0, "paddingIdx": 1})
embedding_case("without scaleGradByFreq", 5, 3, [1, 1, 1, 3], {})
embedding_case("3-D ids, random", 9, 2, random_ids(9, (2, 3, 4)), {"scaleGradByFreq": True})

BAGS = []


def bag_reference(ids, w_after, opts, weights, g):
    """The documented scale_grad_by_freq of a bag (each row's gradient divided by its index's
    count in the input, as torch's CUDA backward and F.embedding on the CPU): F.embedding with
    the flag, then each bag's sum or mean of its rows that are not paddingIdx. Returns the
    output and the gradients of the weight and the per-sample weights."""
    flat = ids.reshape(-1)
    n, rows = flat.numel(), w_after.shape[0]
    if ids.dim() == 2:
        length = ids.shape[1]
        bounds = [(i * length, (i + 1) * length) for i in range(ids.shape[0])]
    else:
        offs = opts["offsets"]
        if opts.get("includeLastOffset", False):
            bounds = list(zip(offs[:-1], offs[1:]))
        else:
            bounds = list(zip(offs, offs[1:] + [n]))
    pad = opts.get("paddingIdx")
    if pad is not None and pad < 0:
        pad += rows
    w2 = w_after.clone().requires_grad_(True)
    p2 = None if weights is None else weights.detach().clone().requires_grad_(True)
    e = F.embedding(flat, w2, padding_idx=pad,
                    scale_grad_by_freq=opts.get("scaleGradByFreq", False))
    out = []
    for s, t in bounds:
        keep = [i for i in range(s, t) if flat[i].item() != pad]
        if not keep:
            out.append(torch.zeros(w2.shape[1]))
            continue
        r = e[keep]
        if p2 is not None:
            r = r * p2[keep].unsqueeze(1)
        out.append(r.sum(0) if opts.get("mode", "mean") == "sum" else r.mean(0))
    out = torch.stack(out)
    (out * g).sum().backward()
    return out, w2.grad, None if p2 is None else p2.grad


def bag_case(name, rows, dim, ids, opts, psw=False):
    w = (torch.randn(rows, dim) * 1.5).requires_grad_(True)
    before = w.detach().clone()
    ids_t = torch.tensor(ids)
    offsets = opts.get("offsets")
    weights = None
    if psw:
        weights = (torch.rand(ids_t.shape) * 2 - 0.5).requires_grad_(True)
    out = F.embedding_bag(ids_t, w, None if offsets is None else torch.tensor(offsets),
                          max_norm=opts.get("maxNorm"), norm_type=opts.get("normType", 2.0),
                          scale_grad_by_freq=opts.get("scaleGradByFreq", False),
                          mode=opts.get("mode", "mean"), per_sample_weights=weights,
                          include_last_offset=opts.get("includeLastOffset", False),
                          padding_idx=opts.get("paddingIdx"))
    g = upstream(out.shape)
    (out * g).sum().backward()
    ref_out, ref_grad, ref_psw = bag_reference(ids_t, w.detach(), opts, weights, g)
    assert torch.allclose(ref_out, out, rtol=1e-5, atol=1e-6), name
    if psw:
        assert torch.allclose(ref_psw, weights.grad, rtol=1e-5, atol=1e-6), name
    c = {"name": name, "weight": ser(before), "ids": ser(ids_t), "opts": opts, "out": ser(out),
         "weightAfter": ser(w.detach()), "G": ser(g), "grad": ser(ref_grad),
         "gradTorchCpu": ser(w.grad),
         "cpuBug": not torch.allclose(ref_grad, w.grad, rtol=1e-5, atol=1e-6)}
    if psw:
        c["perSampleWeights"] = ser(weights)
        c["pswGrad"] = ser(weights.grad)
    BAGS.append(c)


SG = {"scaleGradByFreq": True}
bag_case("sum, offsets", 6, 3, [1, 4, 1, 1, 0, 4, 5], {**SG, "mode": "sum", "offsets": [0, 3]})
bag_case("mean, offsets", 6, 3, [1, 4, 1, 1, 0, 4, 5], {**SG, "offsets": [0, 2, 5]})
bag_case("mean, 2-D", 5, 4, [[1, 2, 1], [3, 1, 1]], {**SG, "mode": "mean"})
bag_case("sum, 2-D", 5, 4, random_ids(5, (4, 3)), {**SG, "mode": "sum"})
bag_case("mean, paddingIdx", 6, 3, [1, 2, 1, 1, 0, 2, 2], {**SG, "offsets": [0, 3],
                                                              "paddingIdx": 2})
bag_case("sum, paddingIdx, an empty bag", 6, 3, [1, 2, 1, 1, 0, 2],
         {**SG, "mode": "sum", "offsets": [0, 3, 3], "paddingIdx": 1})
bag_case("sum, perSampleWeights", 6, 3, [1, 4, 1, 1, 0, 4, 5],
         {**SG, "mode": "sum", "offsets": [0, 4]}, psw=True)
bag_case("sum, perSampleWeights, paddingIdx", 6, 3, [1, 4, 1, 3, 0, 4, 5],
         {**SG, "mode": "sum", "offsets": [0, 4], "paddingIdx": 4}, psw=True)
bag_case("mean, includeLastOffset", 6, 2, [5, 5, 0, 1, 5, 2],
         {**SG, "offsets": [0, 2, 6], "includeLastOffset": True})
bag_case("mean, maxNorm", 6, 4, [0, 3, 3, 5, 0, 3],
         {**SG, "offsets": [0, 1, 4], "maxNorm": 1.5})
bag_case("sum, without scaleGradByFreq", 6, 3, [1, 1, 1, 2], {"mode": "sum", "offsets": [0, 2]})
bag_case("mean, counts where 1.13's CPU is right", 6, 3, [0, 5, 2, 5, 5, 3],
         {**SG, "offsets": [0, 2, 4]})

# The bad-input case whose message the tests echo (torch's words).
try:
    F.embedding_bag(torch.tensor([0, 1]), torch.randn(3, 2), torch.tensor([0]), mode="max",
                    scale_grad_by_freq=True)
    MAX_ERROR = None
except ValueError as e:
    MAX_ERROR = str(e)

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "pools": POOLS, "unpools": UNPOOLS,
               "embeddings": EMBEDDINGS, "bags": BAGS, "maxModeError": MAX_ERROR}, f,
              separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(POOLS)} pools, {len(UNPOOLS)} unpools, {len(EMBEDDINGS)} embeddings, "
      f"{len(BAGS)} bags to {os.path.relpath(OUT)}")
