"""A fixed, deterministic workload of the engine's hot path, for counting instructions.

    python benchmarks/hotpath.py --count [REPO ...]      # needs valgrind; prints a table
    python benchmarks/hotpath.py --time [REPO ...]       # wall clock: a batch epoch at N = 100,000
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python benchmarks/hotpath.py [REPO]

Timings on a shared machine are noisy; the instruction count of the same workload is not, so a
change to the engine (``Value`` ops, ``backward()``) is compared before and after with this script
run under callgrind (REPO: a checkout, or any folder holding a ``microreg`` package, to measure;
by default the one holding this file). The workloads:

- ``per_sample``: per-sample epochs of a 1-16-1 net on 200 samples (scalar graphs, the ``affine``
  rule; forward, backward, SGD after each sample);
- ``backward``: ``backward()`` alone, called again and again on that net's one-sample graph
  (35 nodes, 66 edges into leaves);
- ``chain``: build and backward a tanh chain;
- ``batch``: full-batch epochs of TwoLayerNet(1, 16) at N = 1,000 (the batch walk).

``--count`` runs each workload under callgrind at two sizes (``HOTPATH_SCALE`` = 1 and 6) and
prints the difference divided by 5: the cost of one more unit of work (an epoch, a backward call,
a node), so the interpreter's start-up and the imports cancel. String hashing is seeded
(``PYTHONHASHSEED``, 0 unless ``HOTPATH_HASHSEED`` says otherwise): the seed moves dict lookups
and so the counts by a few per cent, so compare runs made with the same seed.
``HOTPATH_NOGC=1`` turns Python's cyclic garbage collector off in the measured runs: in the
``chain`` workload its full collections are about a third of the count and, as they fall at
different points for the two sizes, move the per-node figure by several per cent either way.
"""

import math
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCALE = int(os.environ.get("HOTPATH_SCALE", "5"))
UNITS = {"per_sample": "per epoch", "backward": "per backward() call", "chain": "per node",
         "batch": "per epoch"}


def per_sample(n=200, hidden=16, lr=0.01):
    from microreg.nn import TwoLayerNet
    rng = random.Random(0)
    xs = [rng.uniform(-3, 3) for _ in range(n)]
    net = TwoLayerNet(1, hidden, seed=0)
    params = net.parameters()
    for _ in range(SCALE):
        for x in xs:
            loss = (net([x]) - math.sin(x)) ** 2
            net.zero_grad()
            loss.backward()
            for p in params:
                p.data -= lr * p.grad
    return loss.data


def backward(calls=1000, hidden=16):
    from microreg.nn import TwoLayerNet
    net = TwoLayerNet(1, hidden, seed=0)
    loss = (net([0.7]) - math.sin(0.7)) ** 2
    for _ in range(calls * SCALE):
        net.zero_grad()
        loss.backward()


def chain(n=20_000):
    from microreg import Value
    v = Value(0.3)
    for _ in range(n * SCALE):
        v = v.tanh()
    v.backward()


def batch(epochs=4, N=1_000, hidden=16, lr=0.1):
    import numpy as np
    from microreg.nn import SGD, TwoLayerNet, half_mse
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (N, 1))
    y = np.sin(X[:, 0])
    net = TwoLayerNet(1, hidden, seed=0)
    opt = SGD(net.parameters(), lr=lr)
    for _ in range(epochs * SCALE):
        loss = half_mse(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.data


PARTS = {"per_sample": (per_sample, 1), "backward": (backward, 1000), "chain": (chain, 20_000),
         "batch": (batch, 4)}


def instructions(repo, part, scale):
    """Instructions callgrind counts for one workload at one size (start-up included)."""
    env = dict(os.environ, HOTPATH_PART=part, HOTPATH_SCALE=str(scale),
               PYTHONHASHSEED=os.environ.get("HOTPATH_HASHSEED", "0"))
    env.setdefault("OPENBLAS_NUM_THREADS", "1")     # BLAS worker threads spin: counts vary ±10 % run to run
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          sys.executable, os.path.abspath(__file__), repo],
                         env=env, capture_output=True, text=True, check=True)
    return int(re.search(r"Collected\s*:\s*(\d+)", run.stderr).group(1))


def count(repos, parts):
    """Print, for each workload and repo, the instructions of one unit of work."""
    print("| workload | " + " | ".join(repos) + " |")
    print("|---|" + "---|" * len(repos))
    for part in parts:
        cells = []
        for repo in repos:
            per = (instructions(repo, part, 6) - instructions(repo, part, 1)) / (5 * PARTS[part][1])
            cells.append(f"{per / 1e6:.2f} M" if per >= 1e6 else f"{per:,.0f}")
        print(f"| {part} ({UNITS[part]}) | " + " | ".join(cells) + " |", flush=True)


def batch_time(N=100_000, repeats=15):
    """Best of ``repeats`` full-batch epochs of TwoLayerNet(1, 16) at N samples, in seconds."""
    import time
    import numpy as np
    from microreg.nn import SGD, TwoLayerNet, half_mse
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, (N, 1))
    y = np.sin(X[:, 0])
    net = TwoLayerNet(1, 16, seed=0)
    opt = SGD(net.parameters(), lr=0.1)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        loss = half_mse(net(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        best = min(best, time.perf_counter() - start)
    return best


def timing(repos, rounds=3):
    """Wall clock of ``batch_time`` for each repo, the repos alternating, one BLAS thread."""
    env = dict(os.environ, HOTPATH_PART="batch_time", OPENBLAS_NUM_THREADS="1")
    for r in range(rounds):
        for repo in repos:
            run = subprocess.run([sys.executable, os.path.abspath(__file__), repo], env=env,
                                 capture_output=True, text=True, check=True)
            print(f"round {r + 1}: {repo}: {float(run.stdout) * 1e3:.2f} ms", flush=True)


if __name__ == "__main__":
    if "--time" in sys.argv[1:]:
        timing([a for a in sys.argv[1:] if a != "--time"] or [os.path.dirname(HERE)])
        sys.exit()
    if "--count" in sys.argv[1:]:
        repos = [a for a in sys.argv[1:] if a != "--count"] or [os.path.dirname(HERE)]
        count(repos, os.environ.get("HOTPATH_PART", ",".join(PARTS)).split(","))
        sys.exit()
    sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(HERE))
    if os.environ.get("HOTPATH_NOGC"):
        import gc
        gc.disable()
    part = os.environ.get("HOTPATH_PART")
    if part == "batch_time":
        print(batch_time())
        sys.exit()
    for name, (fn, _) in PARTS.items():
        if part in (None, name):
            fn()
