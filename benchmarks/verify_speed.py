"""How long ``verify`` takes to check (and explain) one formula at 5 points on a ~150-node graph.

    PYTHONPATH=$PWD python benchmarks/verify_speed.py

A 1 → 8 → 8 → 1 tanh net (141 nodes, labelled z1[j], h1[j], …) on one sample; the formula for
∂L/∂w3 is checked at 1 given + 4 nearby points, once right and once with z2 where h2 belongs
(the whole search for the mistake), and the 8×8 w2 with (1 − h2²) left out.

Then the 150-node case of the mistake search (issue 19): the same net with 3 inputs (x[0], x[1],
x[2]: 152 nodes), one slip of each family planted in a formula, each explained at 5 points; and a garbled
formula, where every candidate of every kind is tried and none fits (the search's worst case).
Then numpy code (issue 20): a learner's course-style 2-layer net (4 features, 8 tanh hidden units, a
sigmoid output, cross-entropy, m = 64 samples as columns) traced by `microreg.trace`, its backward
pass checked at 5 points by `verify(cost, grads, at=parameters)`, once right and once with tanh'
written as 1 − A1 (explained on every element of A1).

Prints the graph sizes and the best of 5 runs of each (3 for the numpy code).
"""

import time

import numpy as np

from microreg import Value
from microreg.check import verify
from microreg.engine import affine, data, topological_order

H = 8
X, T = 0.4, 0.3
X2 = np.array([0.4, -0.7, 1.1])


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


def loss2(w1, b1, w2, b2, w3, b3):
    """3 → 8 → 8 → 1: x[0], x[1], x[2] as labelled data, w1 an 8×3 matrix."""
    x = [data(float(X2[k]), f"x[{k}]") for k in range(3)]
    h1 = []
    for j in range(H):
        z = affine(list(w1[j]), x, b1[j])
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
point2 = dict(point, w1=rng.normal(size=(H, 3)))


def size(fn, at):
    values = {k: (np.array([Value(v) for v in np.ravel(a)], dtype=object).reshape(np.shape(a)) if np.ndim(a)
                  else Value(a)) for k, a in at.items()}
    return len(topological_order(fn(**values)))


def best(formula, name="w3", fn=loss, at=point):
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        report = verify(fn, {name: formula}, at=at, data={"t": T})
        times.append(time.perf_counter() - t0)
    return min(times), report[name]


# δ2 = 2(ŷ − t)·w3 ⊙ (1 − h2²), δ1 = (w2ᵀ δ2) ⊙ (1 − h1²): the right rules, as strings
D2 = "(2 * (y_hat - t) * w3 * (1 - h2**2))"
D1 = f"((w2.T @ {D2}) * (1 - h1**2))"

XN = rng.normal(size=(4, 64))                           # 4 features, m = 64 samples as columns
YN = (rng.uniform(size=(1, 64)) > 0.5) * 1.0
PN = {"W1": rng.normal(size=(8, 4)) * 0.5, "b1": np.zeros((8, 1)), "W2": rng.normal(size=(1, 8)) * 0.5,
      "b2": np.zeros((1, 1))}


def forward_propagation(X, parameters):
    Z1 = np.dot(parameters["W1"], X) + parameters["b1"]
    A1 = np.tanh(Z1)
    Z2 = np.dot(parameters["W2"], A1) + parameters["b2"]
    A2 = 1 / (1 + np.exp(-Z2))
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def cost_of(X, Y, parameters):
    A2, _ = forward_propagation(X, parameters)
    m = Y.shape[1]
    return float(np.squeeze(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m))


def backward_of(slip):
    def backward_propagation(X, Y, parameters):
        A2, cache = forward_propagation(X, parameters)
        m, A1 = X.shape[1], cache["A1"]
        dZ2 = A2 - Y
        dZ1 = np.dot(parameters["W2"].T, dZ2) * ((1 - A1) if slip else (1 - A1 ** 2))
        return {"dW1": np.dot(dZ1, X.T) / m, "db1": np.sum(dZ1, axis=1, keepdims=True) / m,
                "dW2": np.dot(dZ2, A1.T) / m, "db2": np.sum(dZ2, axis=1, keepdims=True) / m}
    return backward_propagation


def best_code(slip, runs=3):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        report = verify(cost_of, backward_of(slip), at=PN, args=(XN, YN))
        times.append(time.perf_counter() - t0)
    return min(times), report


if __name__ == "__main__":
    right, v = best("2 * (y_hat - t) * h2")
    assert v.ok, v.diagnosis
    wrong, v = best("2 * (y_hat - t) * z2")       # h2 = tanh(z2) confused with z2, on every element
    forgot, f = best("outer(2 * (y_hat - t) * w3, h1)", "w2")   # the 8×8 w2, (1 − h2²) left out
    assert f.explanation.kind == "forgotten derivative", f.diagnosis
    print(f"graph: {size(loss, point)} nodes; 5 points each")
    print(f"right formula   : {right * 1000:.0f} ms")
    print(f"wrong formula   : {wrong * 1000:.0f} ms  ({v.diagnosis[:60]}…)")
    print(f"w2 (64 elements), explained: {forgot * 1000:.0f} ms  ({f.diagnosis[:70]}…)")

    print(f"\n150-node case: graph of {size(loss2, point2)} nodes; 5 points each")
    cases = [
        ("right: ∂L/∂w1 (24 elements)", "w1", f"outer({D1}, x)", None),
        ("wrong quantity: h1 where x belongs", "w1", f"outer({D1}, h1[:3])", "wrong quantity"),
        ("wrong node: (1 − h2²) for (1 − h1²)", "w1",
         f"outer((w2.T @ {D2}) * (1 - h2**2), x)", "wrong node"),
        ("wrong derivative: tanh' as 1 − h1", "w1", f"outer((w2.T @ {D2}) * (1 - h1), x)", "wrong derivative"),
        ("forgotten derivative: (1 − h2²), ∂L/∂w2", "w2", "outer(2 * (y_hat - t) * w3, h1)", "forgotten derivative"),
        ("garbled: every candidate tried, none fits", "w2", f"outer({D2}, h1) * h1[0] + w2", None),
    ]
    for title, name, formula, kind in cases:
        if "h1[:3]" in formula:        # a formula string has no slices: a function of the same names
            t, v = best(lambda y_hat, w2, w3, h1, h2, t: np.outer(
                (w2.T @ (2 * (y_hat - t) * w3 * (1 - h2 ** 2))) * (1 - h1 ** 2), h1[:3]), name, loss2, point2)
        else:
            t, v = best(formula, name, loss2, point2)
        got = v.explanation.kind if v.explanation else None
        assert (v.ok if title.startswith("right") else got == kind), f"{title}: {v.diagnosis}"
        print(f"{title:<44}: {t * 1000:4.0f} ms  ({v.diagnosis[:64]}…)")

    from microreg.trace import trace
    nodes = len(topological_order(trace(cost_of, PN, XN, YN).loss))
    print(f"\nnumpy code: 4 features, 8 hidden, m = 64: a graph of {nodes} nodes; 5 points, best of 3")
    t, r = best_code(False)
    assert r.ok, str(r)
    print(f"{'right backward_propagation (4 gradients)':<44}: {t * 1000:4.0f} ms")
    t, r = best_code(True)
    assert r["W1"].explanation.kind == "wrong derivative" and r["b1"].explanation.kind == "wrong derivative", str(r)
    print(f"{'tanh' + chr(39) + ' as 1 − A1, W1 and b1 explained':<44}: {t * 1000:4.0f} ms  ({r['W1'].diagnosis[:60]}…)")
