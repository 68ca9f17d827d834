"""Writes tests/fixtures/dataset_utils.json: the split lengths PyTorch 1.13's
torch.utils.data.random_split gives for a dataset of n samples and the
lengths asked (fractions or counts), which splits it warns are empty, or
that it refuses them (tests/dataset_utils_test.ts).

Only the lengths are compared: the permutation comes from torch's generator,
which the library does not reproduce (it uses its own seeded Rng). Floats
are written by json (shortest round trip), so the test reads the same
doubles torch summed.

Run with /usr/bin/python3 scripts/make_dataset_utils_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch
from torch.utils.data import random_split

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "dataset_utils.json")

CASES = [
    (10, [0.8, 0.2]),
    (7, [0.5, 0.5]),
    (11, [0.7, 0.2, 0.1]),
    (5, [0.3, 0.3, 0.4]),
    (3, [0.25, 0.25, 0.25, 0.25]),
    (100, [0.1, 0.2, 0.7]),
    (9, [1 / 3, 1 / 3, 1 / 3]),
    (10, [1 / 3, 1 / 3, 1 / 3]),
    (2, [0.1, 0.9]),
    (5, [1, 0]),
    (1, [0.5, 0.5]),
    (13, [0.6, 0.2, 0.2]),
    (131, [0.7, 0.15, 0.15]),
    (1000, [0.05] * 20),
    (17, [0.0, 1.0]),
    (10, [3, 7]),
    (10, [10]),
    (0, [0, 0]),
    # Fractions whose float sum is 1.0000000000000002: torch refuses them.
    (10, [0.33, 0.56, 0.11]),
]

records = []
for n, lengths in CASES:
    rec = {"n": n, "lengths": lengths}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parts = random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
            rec["split"] = [len(p) for p in parts]
            rec["emptyWarned"] = [i for i, p in enumerate(parts)
                                  if any(f"index {i} is 0" in str(w.message) for w in caught)]
        except ValueError as e:
            rec["error"] = str(e)
    records.append(rec)

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": records}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(records)} cases to {os.path.relpath(OUT)}")
