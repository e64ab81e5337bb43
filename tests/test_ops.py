"""Every rule of the table against central finite differences of its own forward function.

The test is parametrised over ``ops.TABLE``: an op added to the table without a domain here
fails `test_every_op_has_a_test`.
"""

import math

import numpy as np
import pytest

from microreg import Value, affine, ops


def fd(f, xs, i, eps=1e-6):
    """Central finite difference ∂f/∂x_i at xs (floats)."""
    up, down = list(xs), list(xs)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


# For each op: how to draw valid inputs, and how to build the node from Values.
DOMAINS = {
    "add": (lambda r: [r.uniform(-3, 3), r.uniform(-3, 3)], lambda a, b: a + b),
    "mul": (lambda r: [r.uniform(-3, 3), r.uniform(-3, 3)], lambda a, b: a * b),
    "pow": (lambda r: [r.uniform(0.2, 3), r.uniform(-2, 2)], lambda a, b: a ** b),
    "exp": (lambda r: [r.uniform(-3, 3)], lambda a: a.exp()),
    "log": (lambda r: [r.uniform(0.1, 5)], lambda a: a.log()),
    "tanh": (lambda r: [r.uniform(-3, 3)], lambda a: a.tanh()),
    "sigmoid": (lambda r: [r.uniform(-6, 6)], lambda a: a.sigmoid()),
    "relu": (lambda r: [r.choice([-1, 1]) * r.uniform(0.1, 3)], lambda a: a.relu()),
    "sum": (lambda r: [r.uniform(-3, 3)], lambda a: a.sum()),
    "mean": (lambda r: [r.uniform(-3, 3)], lambda a: a.mean()),
    "affine": (lambda r: [r.uniform(-3, 3) for _ in range(5)],
               lambda w0, w1, x0, x1, b: affine([w0, w1], [x0, x1], b)),
}


def test_every_op_has_a_test():
    assert set(ops.TABLE) == set(DOMAINS), f"untested ops: {set(ops.TABLE) - set(DOMAINS)}"


def _forward(name, *xs):
    return DOMAINS[name][1](*[Value(x) for x in xs]).data


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_rule_matches_finite_difference(name):
    import random
    r = random.Random(name)
    draw, build = DOMAINS[name]
    for _ in range(20):
        xs = draw(r)
        nodes = [Value(x) for x in xs]
        out = build(*nodes)
        out.backward()
        for i, node in enumerate(nodes):
            numeric = fd(lambda *v: _forward(name, *v), xs, i)
            assert math.isclose(node.grad, numeric, rel_tol=1e-6, abs_tol=1e-7), \
                f"{name} at {xs}: ∂/∂input{i} autograd {node.grad} vs finite difference {numeric}"


@pytest.mark.parametrize("k", [2.0, 3.0, -1.0, 0.5, -2.5, 0.0, 1.0])
def test_pow_with_a_number_exponent(k):
    for a in (0.3, 1.7, 2.9):
        x = Value(a)
        (x ** k).backward()
        numeric = fd(lambda v: v ** k, [a], 0)
        assert math.isclose(x.grad, numeric, rel_tol=1e-6, abs_tol=1e-8), f"d(a^{k})/da at {a}: {x.grad} vs {numeric}"


def test_number_to_a_value_power():
    # d(2^x)/dx = 2^x ln 2; at x = 3: 8 ln 2 = 5.545177444479562
    x = Value(3.0)
    (2 ** x).backward()
    assert math.isclose(x.grad, 8 * math.log(2)), f"{x.grad} vs {8 * math.log(2)}"


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "relu"])
def test_unary_rules_on_batches_match_finite_differences(name):
    rng = np.random.default_rng(5)
    draw, build = DOMAINS[name]
    import random
    xs = np.array([draw(random.Random(i))[0] for i in range(7)])
    x = Value(xs)
    build(x).sum().backward()
    for i in range(len(xs)):
        numeric = fd(lambda v: _forward(name, v), [xs[i]], 0)
        assert math.isclose(x.grad[i], numeric, rel_tol=1e-6, abs_tol=1e-7), \
            f"{name} sample {i} at {xs[i]}: {x.grad[i]} vs {numeric}"
    assert rng is not None


def test_batch_reductions():
    xs = np.array([1.0, -2.0, 4.0, 0.5])
    x = Value(xs)
    x.mean().backward()
    assert np.allclose(x.grad, 0.25), f"∂mean/∂x = 1/N = 0.25 each, got {x.grad}"
    y = Value(xs)
    (y * y).sum().backward()
    assert np.allclose(y.grad, 2 * xs), f"∂Σx²/∂x = 2x = {2 * xs}, got {y.grad}"


@pytest.mark.parametrize("name,text", [
    ("add", "∂(a + b)/∂a = 1"),
    ("mul", "∂(a·b)/∂b = a"),
    ("sigmoid", "∂(σ(a))/∂a = σ(a)(1 − σ(a))"),
    ("tanh", "∂(tanh(a))/∂a = 1 − tanh²(a)"),
    ("log", "∂(ln(a))/∂a = 1/a"),
    ("exp", "∂(exp(a))/∂a = exp(a)"),
])
def test_formula_text(name, text):
    i = 1 if name == "mul" else 0
    assert ops.TABLE[name].formula(i) == text


def test_formulas_with_node_names_and_latex():
    assert ops.pow_const(2.0).formula(0, names=["e"]) == "∂(e^2)/∂e = 2·e^1"
    assert ops.TABLE["affine"].formula(3, names=["w2[0]", "w2[1]", "a1[0]", "a1[1]", "b2"]) == \
        "∂(w2[0]·a1[0] + w2[1]·a1[1] + b2)/∂a1[1] = w2[1]"
    assert ops.TABLE["sigmoid"].formula(0, latex=True) == \
        r"\frac{\partial (\sigma(a))}{\partial a} = \sigma(a)\,(1 - \sigma(a))"
    for name, op in ops.TABLE.items():
        n = op.arity or 3
        for i in range(n):
            assert op.formula(i) and op.formula(i, latex=True), f"{name} input {i} has no formula"


def test_batch_sigmoid_is_accurate_and_warning_free_everywhere():
    import warnings

    import mpmath
    a = np.concatenate([np.linspace(-700, 700, 2801), [-1e308, 1e308, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow warning leaks out
        s = Value(a).sigmoid().data
    exact = np.array([float(1 / (1 + mpmath.exp(-mpmath.mpf(float(x))))) for x in a])
    rel = np.abs(s - exact) / np.maximum(exact, 1e-300)
    assert rel.max() < 1e-14, f"max relative error {rel.max()} at a = {a[np.argmax(rel)]}"
    assert s[-3:].tolist() == [0.0, 1.0, 0.5]


def test_relu_of_nan_is_nan_as_in_a_batch():
    # scalar and batch agree (numpy's maximum and PyTorch's relu keep nan): a nan is never hidden
    assert math.isnan(Value(math.nan).relu().data), Value(math.nan).relu().data
    assert np.isnan(Value(np.array([math.nan, 1.0])).relu().data[0])
    assert Value(-0.0).relu().data == 0.0 and Value(-2.0).relu().data == 0.0 and Value(2.5).relu().data == 2.5
