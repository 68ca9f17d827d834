"""Writes tests/fixtures/data_docs.json: what torch.utils.data in PyTorch 1.13
gives for the documented uses that a port of it must reproduce: the indices of
random_split with an explicit generator (counts and fractions, remainders
handed out round robin, a generator used twice), torch.randperm from a seeded
torch.Generator (the draw behind random_split), BatchSampler's batches,
len(DataLoader) with and without drop_last (also with a sampler, a
RandomSampler with num_samples above the dataset's length and a
batch_sampler), and ConcatDataset's cumulative_sizes and negative indices.

Every case is integers; no tensors of floats are stored.

Run with /usr/bin/python3 scripts/make_data_docs_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch
from torch.utils.data import (BatchSampler, ConcatDataset, DataLoader, RandomSampler,
                              SequentialSampler, Subset, TensorDataset, random_split)

torch.manual_seed(20260613)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "data_docs.json")


def split_case(n, lengths, seed, twice=False):
    """random_split(range(n), lengths, generator=torch.Generator().manual_seed(seed))."""
    g = torch.Generator().manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty split warns; the test checks our warning
        first = [list(s.indices) for s in random_split(range(n), lengths, generator=g)]
        second = ([list(s.indices) for s in random_split(range(n), lengths, generator=g)]
                  if twice else None)
    return {"n": n, "lengths": lengths, "seed": seed, "splits": first, "again": second}


splits = [
    split_case(10, [3, 7], 42),  # the docstring's example
    split_case(30, [0.3, 0.3, 0.4], 42),  # the docstring's fractions
    split_case(10, [0.8, 0.2], 42, twice=True),
    split_case(10, [0.25, 0.25, 0.25, 0.25], 0),  # remainder 2: [3, 3, 2, 2]
    split_case(7, [0.5, 0.5], 1),
    split_case(1000, [0.7, 0.2, 0.1], 1234),
    split_case(5, [0.1, 0.9], 3),  # floor 0 and 4, remainder to the first: [1, 4]
    split_case(3, [0.1, 0.1, 0.8], 7),  # [1, 0, 2] from [0, 0, 2]: an empty split
    split_case(100, [0.29, 0.71], 2**40 + 3),  # 100 * 0.29 = 28.999999999999996
]

perms = []
for n, seed in [(1, 0), (2, 5), (10, 42), (624, 1), (625, 1), (1500, 99), (100000, 1234)]:
    p = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    perms.append({
        "n": n, "seed": seed, "head": p[:40], "tail": p[-40:],
        "checksum": sum((i + 1) * v for i, v in enumerate(p)),
    })
default_gen = torch.randperm(12, generator=torch.Generator()).tolist()

batch_samplers = []
for n, bs, drop in [(10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False),
                    (2, 5, True), (0, 4, False)]:
    b = BatchSampler(SequentialSampler(range(n)), batch_size=bs, drop_last=drop)
    batch_samplers.append({"n": n, "batchSize": bs, "dropLast": drop, "batches": list(b),
                           "length": len(b)})

ds10 = TensorDataset(torch.zeros(10, 1, 2, 2), torch.arange(10))
lengths = []
for bs, drop in [(1, False), (3, False), (3, True), (4, False), (4, True), (10, True),
                 (11, False), (11, True)]:
    lengths.append({"what": "plain", "batchSize": bs, "dropLast": drop,
                    "length": len(DataLoader(ds10, batch_size=bs, drop_last=drop))})
for ns, drop in [(7, False), (7, True), (23, False), (23, True)]:
    s = RandomSampler(ds10, num_samples=ns)
    dl = DataLoader(ds10, batch_size=4, drop_last=drop, sampler=s)
    lengths.append({"what": "randomSampler", "numSamples": ns, "batchSize": 4, "dropLast": drop,
                    "length": len(dl), "samples": len(list(s))})
dl = DataLoader(ds10, batch_sampler=BatchSampler(SequentialSampler(ds10), 4, False))
lengths.append({"what": "batchSampler", "batchSize": 4, "dropLast": False, "length": len(dl),
                "batches": [b[1].tolist() for b in dl]})

parts = [Subset(range(100), list(range(3))), Subset(range(100), []),
         Subset(range(100), list(range(10, 15)))]
concat = ConcatDataset(parts)
concat_case = {
    "sizes": [3, 0, 5],
    "cumulativeSizes": concat.cumulative_sizes,
    "at": {str(i): concat[i] for i in range(-8, 8)},
}

with open(OUT, "w") as f:
    json.dump({"splits": splits, "perms": perms, "defaultGenerator": default_gen,
               "batchSamplers": batch_samplers, "loaderLengths": lengths,
               "concat": concat_case}, f, separators=(",", ":"))
print("wrote", OUT)
