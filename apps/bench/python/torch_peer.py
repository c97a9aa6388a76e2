#!/usr/bin/python3
"""PyTorch CPU as a benchmark peer for `pnpm bench --peers pytorch-cpu` (never needed by CI).

Reads {"threads", "iters", "warmup", "budget_s", "cases": [...]} as JSON on stdin, the cases as
apps/bench/src/cases.ts builds them, and prints {"version", "threads", "results": [...]} with the
median milliseconds per case. The work per case matches softpool's runner (apps/bench/src/ours.ts):
same shapes, same modes, SoftPool composed from PyTorch ops (softpool's models in PyTorch as in
tools/pytorch/recipe.py), Adam for training steps.
Run with Debian's interpreter: /usr/bin/python3 (python3-torch).
"""
import json
import os
import sys
import time

config = json.load(sys.stdin)
threads = int(config["threads"])
# OpenBLAS and OpenMP read these when loaded: set them before importing torch, so both use the
# thread count asked for rather than the cores they detect.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(threads)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

torch.set_num_threads(threads)
torch.manual_seed(0)


def unfold_windows(x, k, s):
    """[N, C, *spatial] -> [N, C, *out, k**d]: every pooling window's values in the last dim."""
    d = x.dim() - 2
    for axis in range(2, 2 + d):
        x = x.unfold(axis, k, s)
    return x.flatten(-d)


def soft_pool(x, k, s):
    """SoftPool, stably (each window's maximum subtracted before the exponent)."""
    w = unfold_windows(x, k, s)
    e = torch.exp(w - w.amax(dim=-1, keepdim=True))
    return (e * w).sum(-1) / e.sum(-1)


def pool_fn(method, d, k, s):
    if method == "soft":
        return lambda x: soft_pool(x, k, s)
    builtin = {
        "max": {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d},
        "avg": {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d},
    }.get(method, {}).get(d)
    return (lambda x: builtin(x, k, s)) if builtin else None


class Pool(nn.Module):
    def __init__(self, method):
        super().__init__()
        self.fn = pool_fn(method, 2, 2, 2)

    def forward(self, x):
        return self.fn(x)


def lenet(method):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), Pool(method),
        nn.Conv2d(6, 16, 5), nn.ReLU(), Pool(method),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def vgg(method, w=16):
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(1, w), *block(w, w), Pool(method),
        *block(w, 2 * w), *block(2 * w, 2 * w), Pool(method),
        *block(2 * w, 4 * w),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(4 * w * 7 * 7, 10),
    )


def runner(case):
    """A function doing one call of the case, or a string saying why the case is skipped."""
    kind = case["kind"]
    if kind == "pool":
        d = len(case["shape"]) - 2
        fn = pool_fn(case["method"], d, case["kernel"], case["stride"])
        if fn is None:
            return f"no PyTorch counterpart for {case['method']}"
        x = torch.randn(case["shape"])
        if case["mode"] == "fwd":
            return lambda: fn(x)

        def fwd_bwd():
            xi = x.detach().requires_grad_()
            y = fn(xi)
            y.backward(torch.ones_like(y))
            return xi.grad

        return fwd_bwd
    if kind == "matmul":
        a, b = torch.randn(case["n"], case["n"]), torch.randn(case["n"], case["n"])
        return lambda: a @ b
    if kind == "op":
        x = torch.randn(case["shape"])
        bias, zero = torch.randn(case["shape"][1], 1, 1), torch.zeros(())
        fn = {"exp": torch.exp, "tanh": torch.tanh, "gelu": F.gelu,
              "softmax": lambda t: F.softmax(t, -1), "logSoftmax": lambda t: F.log_softmax(t, -1),
              "maxChannels": lambda t: torch.amax(t, 1), "argmax": lambda t: torch.argmax(t, -1),
              "where": lambda t: torch.where(t > 0, t, zero), "addBias": lambda t: t + bias}[case["op"]]
        return lambda: fn(x)
    if kind == "conv":
        x = torch.randn(case["input"])
        groups = case["input"][1] if case.get("depthwise") else 1
        w = 0.1 * torch.randn(case["filters"], case["input"][1] // groups, case["k"], case["k"])
        if case["mode"] == "fwd":
            return lambda: F.conv2d(x, w, padding=1, groups=groups)

        def conv_fwd_bwd():
            wi, xi = w.detach().requires_grad_(), x.detach().requires_grad_()
            F.conv2d(xi, wi, padding=1, groups=groups).sum().backward()
            return wi.grad.sum() + xi.grad.sum()

        return conv_fwd_bwd
    if kind == "train":
        model = (lenet if case["model"] == "lenet5" else vgg)(case["pool"])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randn(case["batch"], 1, 28, 28)
        y = torch.randint(0, 10, (case["batch"],))

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return step
    return f"unknown case kind {kind}"


def measure(fn, iters, warmup, budget_s):
    """The bench harness's rule (apps/bench/src/harness.ts): fewer calls when one would blow the budget."""
    first = 0.0
    for _ in range(warmup):
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
    n = max(1, int(budget_s / max(first, 1e-6))) if first * iters > budget_s else iters
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"median": times[n // 2], "min": times[0], "max": times[-1], "n": n, "truncated": n < iters}


results = []
for case in config["cases"]:
    try:
        r = runner(case)
        if isinstance(r, str):
            results.append({"case": case["id"], "skipped": r})
            continue
        results.append({"case": case["id"], **measure(r, config["iters"], config["warmup"], config["budget_s"])})
    except Exception as e:  # a case PyTorch cannot run is reported, not fatal
        results.append({"case": case["id"], "skipped": f"error: {e}".split("\n")[0]})
json.dump({"version": torch.__version__, "threads": torch.get_num_threads(), "results": results}, sys.stdout)
