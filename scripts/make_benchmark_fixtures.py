"""Writes tests/fixtures/benchmark.json: what torch.utils.benchmark's
Measurement and Compare make of fixed lists of times, so that
utils.benchmark's statistics (median, mean, IQR, significant figures,
warnings), its printout and Compare's tables are checked against torch's own
code without timing anything.

Times are made with a seeded random generator and stored with Python's repr
(17 significant digits: the exact doubles). The printout's first line (the
object's address) is left out. Also stored: torch's select_unit and
trim_sigfig on chosen values (unit and rounding boundaries), and Python's
str.center, whose odd-padding rule the tables follow.

Run with /usr/bin/python3 scripts/make_benchmark_fixtures.py (PyTorch 1.13).
"""
import json
import os
import random

import torch
from torch.utils.benchmark import Compare, Timer
from torch.utils.benchmark.utils import common

torch.set_num_threads(1)
rng = random.Random(20260613)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "benchmark.json")

SPEC_KEYS = ("stmt", "setup", "label", "sub_label", "description", "env", "num_threads")


def times(n, base, spread, outliers=0):
    out = [base * (1 + spread * rng.gauss(0, 1)) for _ in range(n)]
    for i in range(outliers):
        out[rng.randrange(n)] *= 3 + i
    return [abs(t) for t in out]


def spec(**kw):
    kw.setdefault("setup", "")
    return common.TaskSpec(**kw)


def spec_json(s):
    return {k: getattr(s, k) for k in SPEC_KEYS}


def m_json(m):
    return {"number_per_run": m.number_per_run, "raw_times": m.raw_times,
            "task_spec": spec_json(m.task_spec)}


def stats(m):
    text = repr(m).split("\n", 1)[1]
    return {
        **m_json(m),
        "median": m.median, "mean": m.mean, "iqr": m.iqr,
        "significant_figures": m.significant_figures, "has_warnings": m.has_warnings,
        "meets_confidence": {str(t): m.meets_confidence(t) for t in (0.01, 0.05, 0.1, 0.25)},
        "title": m.title, "as_row_name": m.as_row_name, "repr": text,
    }


measurements = [
    common.Measurement(1, [3.2e-6], spec(stmt="x + 1")),
    common.Measurement(100, times(2, 4e-4, 0.02), spec(stmt="x + 1", label="add")),
    common.Measurement(10, times(3, 2e-5, 0.1), spec(stmt="x.mm(y)", num_threads=2)),
    common.Measurement(1000, [1e-3, 1.1e-3, 1.2e-3, 0.9e-3], spec(stmt="relu(x)")),
    common.Measurement(1, times(40, 1.5, 0.01), spec(stmt="model(x)", label="ResNet",
                                                      sub_label="fp32", description="bs=8")),
    common.Measurement(10000, times(25, 5e-3, 0.3, outliers=2),
                       spec(stmt="a = x * 2\nb = a.sum()", setup="x = torch.ones(8)")),
    common.Measurement(100, times(12, 7e-7, 0.15),
                       spec(stmt="x.add_(1)", setup="x = torch.zeros(4)\ny = x.clone()",
                            sub_label="in place", description="n=4", env="A/B")),
    common.Measurement(1, times(30, 2.5e-8, 0.001), spec(stmt="pass")),
    common.Measurement(7, times(9, 3e-2, 0.05), spec(stmt="f(x)", label="L", num_threads=4)),
    common.Measurement(50, times(100, 8.8e-5, 0.04, outliers=5), spec(stmt="conv(x, w)")),
    common.Measurement(3, times(5, 1.0, 0.0005), spec(stmt="sleep(1)")),
    common.Measurement(1, [1e-6, 1e-6, 1e-6, 1e-6, 1e-6], spec(stmt="same")),
]


def compare_case(name, ms, *, trim=False, color=None, warn=False):
    c = Compare(ms)
    if trim:
        c.trim_significant_figures()
    if color is not None:
        c.colorize(rowwise=(color == "rowwise"))
    if warn:
        c.highlight_warnings()
    return {"name": name, "measurements": [m_json(m) for m in ms], "trim": trim,
            "colorize": color, "highlight_warnings": warn, "text": str(c)}


def grid(label, threads, rows, cols, base, spread, npr=100, n=8, outliers=0, env=None):
    out = []
    for nt in threads:
        for ri, row in enumerate(rows):
            for ci, col in enumerate(cols):
                b = base * (1 + ri) * (1 + 0.7 * ci) / nt
                out.append(common.Measurement(npr, times(n, b, spread, outliers), spec(
                    stmt="op(x)", label=label, sub_label=row, description=col,
                    num_threads=nt, env=env)))
    return out


g1 = grid("Batched dot", [1, 2], ["mul/sum", "bmm"], ["[1, 64]", "[64, 64]", "[1024, 1]"],
          3e-6, 0.03)
g2 = grid("Conv", [1], ["fp32", "bf16"], ["8x8", "64x64"], 2.5e-4, 0.2, n=20, outliers=2)
g3 = grid("Tiny", [1], ["a"], ["n=1", "n=2"], 9.87654e-7, 0.001, npr=1000)
rep = [common.Measurement(10, times(4, 1.2e-5, 0.05), spec(stmt="op(x)", label="Rep",
                                                            sub_label="r", description="d"))
       for _ in range(3)]
missing = g1[:5]  # the last cell of the 2-thread block is absent
envs = (grid("Env", [1], ["x"], ["c"], 1e-4, 0.01, env="before") +
        grid("Env", [1], ["x"], ["c"], 1.3e-4, 0.01, env="after"))
wide = grid("Wide", [1], ["short", "a much longer row name"], ["n=1", "n=10000000"],
            4.2e-3, 0.02, npr=1)

compares = [
    compare_case("grid", g1),
    compare_case("grid trimmed", g1, trim=True),
    compare_case("grid colour columnwise", g1, color="columnwise"),
    compare_case("grid colour rowwise", g1, trim=True, color="rowwise"),
    compare_case("noisy highlighted", g2, trim=True, warn=True),
    compare_case("noisy plain", g2),
    compare_case("two labels", g3 + g2, trim=True),
    compare_case("replicates merged", rep),
    compare_case("missing cell", missing, trim=True),
    compare_case("envs", envs),
    compare_case("wide", wide, trim=True),
]

units = [1e-10, 9.99e-10, 1e-9, 1.5e-9, 9.99e-7, 1e-6, 1e-5, 9.9999e-4, 1e-3, 0.5, 0.999, 1.0,
         12.0, 3e-8, 2.5e-7]
sigfig = [[3.14159, 1], [3.14159, 2], [3.14159, 4], [12.5, 2], [12.5, 3], [0.125, 2],
          [99.96, 3], [1234.5678, 3], [0.00123456, 2], [1.0, 1], [250.0, 1], [7.35, 2]]



class FakeClock:
    """A clock that moves only when read (by `overhead`) and when stmt runs
    (by the next of `costs`): torch's Timer on it gives exact, repeatable
    block sizes and times."""

    def __init__(self, costs, overhead):
        self.costs, self.overhead = costs, overhead
        self.now, self.calls, self.setups = 0.0, 0, 0

    def tick(self):
        self.now += self.costs[self.calls % len(self.costs)]
        self.calls += 1

    def read(self):
        self.now += self.overhead
        return self.now


def fake_case(name, costs, overhead, method, kwargs):
    clock = FakeClock(costs, overhead)
    timer = Timer(stmt="clock.tick()", setup="clock.setups += 1", timer=clock.read,
                  globals={"clock": clock})
    m = getattr(timer, method)(**kwargs)
    return {"name": name, "costs": costs, "overhead": overhead, "method": method,
            "kwargs": kwargs, "number_per_run": m.number_per_run, "raw_times": m.raw_times,
            "stmt_calls": clock.calls, "setup_calls": clock.setups, "now": clock.now}


fakes = [
    fake_case("blocked 1us", [1e-6], 5e-8, "blocked_autorange", {"min_run_time": 0.02}),
    fake_case("blocked slow stmt", [0.03], 1e-6, "blocked_autorange", {"min_run_time": 0.1}),
    fake_case("blocked huge overhead", [1e-5], 1e-3, "blocked_autorange", {"min_run_time": 0.05}),
    fake_case("blocked stmt longer than min", [0.7], 1e-7, "blocked_autorange", {}),
    fake_case("blocked ns stmt", [2e-9, 3e-9], 2e-8, "blocked_autorange", {"min_run_time": 0.003}),
    fake_case("timeit", [2e-6, 1e-6, 4e-6], 3e-8, "timeit", {"number": 250}),
    fake_case("timeit 1", [5e-3], 0.0, "timeit", {"number": 1}),
    fake_case("adaptive steady", [1e-5], 1e-7, "adaptive_autorange", {}),
    fake_case("adaptive noisy", [1e-5, 3e-5, 1e-5, 9e-5, 2e-5, 1e-5, 7e-5], 1e-7,
              "adaptive_autorange", {"threshold": 0.02, "max_run_time": 0.5}),
    fake_case("adaptive zigzag", [1e-3, 3e-3], 0.0, "adaptive_autorange",
              {"threshold": 0.3, "min_run_time": 0.2, "max_run_time": 1.0}),
]

fixture = {
    "fake_clock": fakes,
    "measurements": [stats(m) for m in measurements],
    "merged": [m_json(m) for m in common.Measurement.merge(rep + g3)],
    "compares": compares,
    "select_unit": [[t, *common.select_unit(t)] for t in units],
    "trim_sigfig": [[x, n, common.trim_sigfig(x, n)] for x, n in sigfig],
    "center": [[s, w, s.center(w), s.center(w, "-")]
               for s, w in [("abc", 6), ("ab", 5), ("ab", 6), ("a", 4), ("abcd", 7), ("", 3)]],
}

with open(OUT, "w") as f:
    json.dump(fixture, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")
