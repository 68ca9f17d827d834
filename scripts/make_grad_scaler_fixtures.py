"""Fixtures for tests/grad_scaler_test.ts: torch 1.13's GradScaler driving SGD.

torch 1.13 runs GradScaler on CUDA only (on the CPU it disables itself, and
its two kernels, _amp_foreach_non_finite_check_and_unscale_ and
_amp_update_scale_, have no CPU implementation). So this script runs torch's
own GradScaler class (its state machine, skipping, update rules, state_dict)
on CPU tensors (its CUDA assertions left out) with those two kernels written out as their CUDA code reads:
gradients multiplied by the float32 inverse scale, found_inf set where a
gradient holds inf or NaN; the scale times backoff on found_inf, times growth
(unless that overflows) after growth_interval clean steps.

Two models, each with its own SGD (momentum 0.9), one summed loss, the
second model's input made infinite at some iterations (its step is skipped,
the first's is not, and the scale backs off); one iteration unscales and
clips before stepping.

Usage: /usr/bin/python3 scripts/make_grad_scaler_fixtures.py
"""
import json
import os

import torch
import torch.cuda.amp.grad_scaler as gs

from fixture_json import enc, ser


def non_finite_check_and_unscale_(grads, found_inf, inv_scale):
    for g in grads:
        if not torch.isfinite(g).all():
            found_inf.fill_(1.0)
        g.mul_(inv_scale)


def update_scale_(scale, tracker, found_inf, growth, backoff, interval):
    if found_inf.item() > 0:
        scale.mul_(backoff)
        tracker.fill_(0)
    else:
        successful = int(tracker.item()) + 1
        if successful == interval:
            grown = scale * growth
            if torch.isfinite(grown).all():
                scale.copy_(grown)
            tracker.fill_(0)
        else:
            tracker.fill_(successful)
    return scale


torch._amp_foreach_non_finite_check_and_unscale_ = non_finite_check_and_unscale_
torch._amp_update_scale_ = update_scale_
gs.amp_definitely_not_available = lambda: False


def replicator_init(self, master_tensor):
    # torch's, without its assertion that the master tensor is on CUDA.
    self.master = master_tensor
    self._per_device_tensors = {}


gs._MultiDeviceReplicator.__init__ = replicator_init


class CpuScaler(gs.GradScaler):
    """torch's GradScaler with scale() taking a CPU tensor (1.13 asserts CUDA there)."""

    def scale(self, outputs):
        if self._scale is None:
            self._lazy_init_scale_growth_tracker(outputs.device)
        return outputs * self._scale


torch.manual_seed(0)
m1, m2 = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
init = {k: ser(v) for k, v in list(m1.state_dict().items())}
init2 = {k: ser(v) for k, v in list(m2.state_dict().items())}
o1 = torch.optim.SGD(m1.parameters(), lr=0.1, momentum=0.9)
o2 = torch.optim.SGD(m2.parameters(), lr=0.1, momentum=0.9)
scaler = CpuScaler(init_scale=2.0 ** 10, growth_interval=3)
INF_AT = {2, 6}  # the second model's input holds inf
CLIP_AT = {4}  # unscale_ both, clip, then step
steps = []
for it in range(9):
    x1, x2 = torch.randn(5, 4), torch.randn(5, 4)
    y1, y2 = torch.randint(0, 3, (5,)), torch.randint(0, 3, (5,))
    if it in INF_AT:
        x2[1, 2] = float("inf")
    loss = torch.nn.functional.cross_entropy(m1(x1), y1) + torch.nn.functional.cross_entropy(
        m2(x2), y2)
    scaled = scaler.scale(loss)
    scaled.backward()
    norm = None
    if it in CLIP_AT:
        scaler.unscale_(o1)
        scaler.unscale_(o2)
        norm = float(torch.nn.utils.clip_grad_norm_(m1.parameters(), 0.5))
    scaler.step(o1)
    scaler.step(o2)
    scaler.update()
    o1.zero_grad()
    o2.zero_grad()
    steps.append({
        "x1": ser(x1), "x2": ser(x2), "y1": ser(y1), "y2": ser(y2),
        "scaled": enc(float(scaled)),
        "clipNorm": None if norm is None else enc(norm),
        "scale": enc(scaler.get_scale()),
        "tracker": scaler._get_growth_tracker(),
        "m1": {k: ser(v) for k, v in m1.state_dict().items()},
        "m2": {k: ser(v) for k, v in m2.state_dict().items()},
    })

out = {
    "init1": init, "init2": init2, "initScale": 2.0 ** 10, "growthInterval": 3,
    "clipAt": sorted(CLIP_AT), "steps": steps,
    "stateDict": {k: enc(v) for k, v in scaler.state_dict().items()},
}
path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "grad_scaler.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path, os.path.getsize(path), "bytes")
for s in steps:
    print(s["scaled"], s["scale"], s["tracker"], s["clipNorm"])
