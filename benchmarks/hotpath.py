"""A fixed, deterministic workload of the engine's hot path, for counting instructions.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python benchmarks/hotpath.py [REPO]

Timings on a shared machine are noisy; the instruction count of the same workload is not, so a
change to the engine (``Value`` ops, ``backward()``) is compared before and after with this script
run under callgrind (REPO: the checkout to measure, by default the one holding this file).
It runs: five per-sample epochs of a 1-16-1 net on 200 samples (scalar graphs, the ``affine``
rule), the backward pass of a 100,000-node tanh chain, and twenty full-batch epochs of
TwoLayerNet(1, 16) at N = 1,000 (the batch walk).
"""

import math
import os
import random
import sys

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from microreg import Value  # noqa: E402
from microreg.nn import SGD, TwoLayerNet, half_mse  # noqa: E402


def per_sample(epochs=5, n=200, hidden=16, lr=0.01):
    rng = random.Random(0)
    xs = [rng.uniform(-3, 3) for _ in range(n)]
    net = TwoLayerNet(1, hidden, seed=0)
    params = net.parameters()
    for _ in range(epochs):
        for x in xs:
            loss = (net([x]) - math.sin(x)) ** 2
            net.zero_grad()
            loss.backward()
            for p in params:
                p.data -= lr * p.grad
    return loss.data


def chain(n=100_000):
    v = Value(0.3)
    for _ in range(n):
        v = v.tanh()
    v.backward()


def batch(epochs=20, N=1_000, hidden=16, lr=0.1):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (N, 1))
    y = np.sin(X[:, 0])
    net = TwoLayerNet(1, hidden, seed=0)
    opt = SGD(net.parameters(), lr=lr)
    for _ in range(epochs):
        loss = half_mse(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.data


if __name__ == "__main__":
    part = os.environ.get("HOTPATH_PART")
    for name, fn in (("per_sample", per_sample), ("chain", chain), ("batch", batch)):
        if part in (None, name):
            fn()
