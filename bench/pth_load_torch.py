"""The PyTorch side of bench/pth_load_bench.ts: a worker that times
torch.load of checkpoint files, one request at a time, so that the two
libraries' loads alternate in time.

Requests, one JSON line each on stdin:
  {"case": "make", "dir": path}: writes torchvision's ResNet-50 state dict
    as resnet50.pth (zip format) and resnet50_legacy.pth
    (_use_new_zipfile_serialization=False); answers {"files": [...]}.
  {"case": "load", "path": path, "reps": n}: answers {"load": [ms...]},
    n timed torch.load(path) calls (each result dropped, untimed).
The first line out is {"torch": version, "threads": n}.

Usage: /usr/bin/python3 bench/pth_load_torch.py THREADS
"""
import os
import sys
import time

import torch

from torch_timing import serve


def make(folder):
    import torchvision

    sd = torchvision.models.resnet50().state_dict()
    zip_path = os.path.join(folder, "resnet50.pth")
    legacy_path = os.path.join(folder, "resnet50_legacy.pth")
    torch.save(sd, zip_path)
    torch.save(sd, legacy_path, _use_new_zipfile_serialization=False)
    return {"files": [zip_path, legacy_path]}


def load(path, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        sd = torch.load(path)
        times.append((time.perf_counter() - t0) * 1e3)
        del sd
    return {"load": times}


def answer(q):
    if q["case"] == "make":
        return make(q["dir"])
    return load(q["path"], q["reps"])


if __name__ == "__main__":
    serve(int(sys.argv[1]), answer)
