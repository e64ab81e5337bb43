"""How long ``verify`` takes to check (and explain) one formula at 5 points on a ~100-node graph.

    PYTHONPATH=$PWD python benchmarks/verify_speed.py

A 1 → 8 → 8 → 1 tanh net (labelled z1[j], h1[j], …) on one sample; the formula for ∂L/∂w3
is checked at 1 given + 4 nearby points, once right and once with a forgotten local derivative
(which runs the whole search for the mistake), and the 8×8 w2 with (1 − h2²) left out. Prints the graph size and the best of 5 runs.
"""

import time

import numpy as np

from microreg import Value
from microreg.check import verify
from microreg.engine import affine, topological_order

H = 8
X, T = 0.4, 0.3


def loss(w1, b1, w2, b2, w3, b3):
    h1 = []
    for j in range(H):
        z = affine([w1[j]], [X], b1[j])
        z.label = f"z1[{j}]"
        h1.append(z.tanh())
        h1[-1].label = f"h1[{j}]"
    h2 = []
    for j in range(H):
        z = affine(list(w2[j]), h1, b2[j])
        z.label = f"z2[{j}]"
        h2.append(z.tanh())
        h2[-1].label = f"h2[{j}]"
    out = affine(list(w3), h2, b3)
    out.label = "y_hat"
    return (out - T) ** 2


rng = np.random.default_rng(0)
point = {"w1": rng.normal(size=H), "b1": rng.normal(size=H), "w2": rng.normal(size=(H, H)) / 3,
         "b2": rng.normal(size=H), "w3": rng.normal(size=H), "b3": float(rng.normal())}
values = {k: (np.array([Value(v) for v in np.ravel(a)], dtype=object).reshape(np.shape(a)) if np.ndim(a) else Value(a))
          for k, a in point.items()}
nodes = len(topological_order(loss(**values)))


def best(formula, name="w3"):
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        report = verify(loss, {name: formula}, at=point, data={"t": T})
        times.append(time.perf_counter() - t0)
    return min(times), report[name]


right, v = best("2 * (y_hat - t) * h2")
assert v.ok, v.diagnosis
wrong, v = best("2 * (y_hat - t) * z2")       # h2 = tanh(z2) confused with z2: no single mistake
forgot, f = best("outer(2 * (y_hat - t) * w3, h1)", "w2")   # the 8×8 w2, (1 − h2²) left out
assert f.explanation.kind == "forgotten derivative", f.diagnosis
print(f"graph: {nodes} nodes; 5 points each")
print(f"right formula   : {right * 1000:.0f} ms")
print(f"wrong formula   : {wrong * 1000:.0f} ms  ({v.diagnosis[:60]}…)")
print(f"w2 (64 elements), explained: {forgot * 1000:.0f} ms  ({f.diagnosis[:70]}…)")
