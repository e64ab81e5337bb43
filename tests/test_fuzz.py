"""Random expressions against finite differences, the edges of float64 included (issue 22).

Hypothesis builds an expression of one variable x from the rule table's scalar ops (with fan-out:
x may appear many times) and a point x from the usual range, the subnormal range (|x| < 2.2e−308),
the tiny and the huge ranges (1e−300, 1e300) and the ranges where exp and σ leave float64
(|x| ≈ 700). The oracle is independent of the engine: the same expression evaluated with mpmath
at 60 digits, and its derivative by a central finite difference there (step 1e−25·|x|).

What is asserted, where the engine's forward pass computed the true function (every node's value
agrees with mpmath's to 1e−9, or to a few subnormal steps) and every local derivative it used
agrees with mpmath's at those values (a local too large for a float may be ±inf): the gradient
agrees with the finite difference, to 1e−6 of the sum over paths of |product of locals| (the size
the rounding of the locals can reach). So a 0 × ∞ that should be 0, or an inf between two locals
whose product fits, fails here. Points where the function is not smooth (relu at 0), where the
engine refuses an input (log of a negative number) or where the forward value is not finite are
skipped.
"""

import math

import mpmath
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from microreg import Value, grad
from microreg.engine import MathDomainError

mp = mpmath.mp
FLOAT_MAX = mpmath.mpf(1.7976931348623157e308)
SUBNORMAL_STEP = mpmath.mpf(2) ** -1074

UNARY = ("exp", "log", "tanh", "sigmoid", "relu")
BINARY = ("add", "sub", "mul", "div")
POWERS = (0.0, 0.25, 0.5, 1.5, 2.0, 3.0, -1.0, -2.0)
CONSTANTS = (2.0, -3.0, 0.5, 1e-200, 1e200, 5e-324, -1e-310, 700.0)


def expressions():
    leaves = st.one_of(st.just(("x",)), st.sampled_from(CONSTANTS).map(lambda c: ("const", c)))

    def grow(inner):
        return st.one_of(
            st.tuples(st.sampled_from(UNARY), inner),
            st.tuples(st.sampled_from(BINARY), inner, inner),
            st.tuples(st.just("pow"), inner, st.sampled_from(POWERS)))
    return st.recursive(leaves, grow, max_leaves=6)


points = st.one_of(
    st.floats(-4.0, 4.0),
    st.floats(-800.0, 800.0),
    st.floats(-2.2e-308, 2.2e-308),                      # subnormals (and 0)
    st.floats(1e-300, 1e-200).map(lambda v: v),
    st.floats(1e200, 1.7e308), st.floats(-1.7e308, -1e200),
    st.sampled_from([0.0, 1.0, -1.0, 5e-324, -5e-324, -710.0, -745.0]))


# --- the engine: the expression as Values, with every node it made and the ops' locals ---------

def build(tree, x, nodes):
    kind = tree[0]
    if kind == "x":
        return x
    if kind == "const":
        return tree[1]
    if kind == "pow" or kind in UNARY:
        a = build(tree[1], x, nodes)
        a = a if isinstance(a, Value) else Value(a)
        out = a ** tree[2] if kind == "pow" else getattr(a, kind)()
    else:
        a, b = build(tree[1], x, nodes), build(tree[2], x, nodes)
        if not isinstance(a, Value) and not isinstance(b, Value):
            a = Value(a)
        out = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div": lambda: a / b}[kind]()
    nodes.append((tree, out))
    return out


# --- the oracle: mpmath, with the local derivatives written out again ----------------------------

def sigmoid(v):
    return 1 / (1 + mpmath.exp(-v))


def value(tree, x):
    kind = tree[0]
    if kind == "x":
        return x
    if kind == "const":
        return mpmath.mpf(tree[1])
    a = value(tree[1], x)
    if kind == "pow":
        k = mpmath.mpf(tree[2])
        if a == 0:
            return mpmath.mpf(1) if k == 0 else mpmath.mpf(0) if k > 0 else mpmath.inf
        return a ** k
    if kind in UNARY:
        return {"exp": mpmath.exp, "log": mpmath.log, "tanh": mpmath.tanh, "sigmoid": sigmoid,
                "relu": lambda v: max(v, mpmath.mpf(0))}[kind](a)
    b = value(tree[2], x)
    return {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b if b != 0 else mpmath.inf}[kind]


def locals_(tree, x):
    """∂node/∂input for each input that is an expression (not a constant), by hand, in mpmath."""
    kind = tree[0]
    a = value(tree[1], x)
    if kind == "pow":
        k = mpmath.mpf(tree[2])
        if k == 0:
            return [0]                                        # a⁰ is constant: a hard 0
        return [mpmath.inf if a == 0 and k < 1 else k * a ** (k - 1)]
    if kind in UNARY:
        t = value(tree, x)
        return [{"exp": t, "log": 1 / a if a else mpmath.inf, "tanh": 1 - t * t, "sigmoid": t * (1 - t),
                 "relu": mpmath.mpf(1 if a > 0 else 0)}[kind]]
    b = value(tree[2], x)
    return {"add": [1, 1], "sub": [1, -1], "mul": [b, a], "div": [1 / b, -a / b ** 2]}[kind]


def path_size(tree, x):
    """Σ over the paths from x of |product of locals| (a 0 local ends a path, whatever follows)."""
    kind = tree[0]
    if kind == "x":
        return mpmath.mpf(1)
    if kind == "const":
        return mpmath.mpf(0)
    total = mpmath.mpf(0)
    for child, local in zip(tree[1:], locals_(tree, x)):
        if isinstance(child, tuple):
            below = path_size(child, x)
            if local != 0 and below != 0:
                total += abs(local) * below
    return total


def finite_difference(tree, x, step):
    h = step * (abs(x) if x else SUBNORMAL_STEP)
    return (value(tree, x + h) - value(tree, x - h)) / (2 * h)


def agrees(engine, exact, rel=mpmath.mpf(10) ** -9, overflow=True):
    """An engine number against mpmath's: within ``rel`` (and a few subnormal steps), or (with
    ``overflow``) ±inf where the exact number is too large for a float."""
    engine = float(engine)
    if not isinstance(exact, mpmath.mpf) and not isinstance(exact, int):
        return False                                          # complex: outside the real domain
    if abs(exact) > FLOAT_MAX and overflow:
        return math.isinf(engine) and (engine > 0) == (exact > 0)
    return math.isfinite(engine) and abs(engine - exact) <= rel * abs(exact) + 4 * SUBNORMAL_STEP


def check(tree, point, require=assume):
    """The assertion above for one expression at one point; ``require`` skips the point (hypothesis's
    ``assume``) or, for a chosen point, fails."""
    mp.dps = 800       # enough for a difference of step 1e−28·5e−324 beside values up to 1.8e308
    x = Value(point, label="x")
    nodes = []
    try:
        y = build(tree, x, nodes)
    except (MathDomainError, ZeroDivisionError):
        require(False)                                         # the engine refused it, by name
    require(isinstance(y, Value) and y is not x and math.isfinite(y.data))
    X = mpmath.mpf(point)
    try:
        for t, node in nodes:                                 # the forward pass computed the true function
            require(agrees(node.data, value(t, X), overflow=False))
            exact = locals_(t, X)
            mine = node._rule.locals([c.data for c in node._prev], node.data)
            inputs = [c for c in t[1:] if isinstance(c, tuple) and c[0] != "const"]
            require(all(agrees(m, e) for m, e, c in zip(mine, exact, t[1:]) if c in inputs))
        d, d_fine = finite_difference(tree, X, mpmath.mpf(10) ** -25), finite_difference(tree, X, mpmath.mpf(10) ** -28)
        size = path_size(tree, X)
    except (ZeroDivisionError, ValueError, TypeError):
        require(False)
    require(isinstance(d, mpmath.mpf) and mpmath.isfinite(d) and abs(d) < FLOAT_MAX / 2)
    require(abs(d - d_fine) <= mpmath.mpf(10) ** -20 * (abs(d) + size))     # smooth at x
    y.backward()
    tol = mpmath.mpf(10) ** -6 * size + 4 * SUBNORMAL_STEP
    assert math.isfinite(x.grad) and abs(x.grad - d) <= tol, \
        f"{tree} at x = {point!r}: engine {x.grad!r}, finite difference {mpmath.nstr(d, 12)} (tolerance {mpmath.nstr(tol, 3)})"
    again = grad(y, [x])[0]                                   # the walk of grad() agrees with backward()
    assert again == x.grad or (again != again and x.grad != x.grad), f"grad() {again!r}, backward() {x.grad!r}"


@settings(max_examples=300)
@given(expressions(), points)
@example(("log", ("sigmoid", ("x",))), -710.0)                   # 1/σ too large, 1/σ · σ(1 − σ) = 1
@example(("pow", ("relu", ("x",)), 0.5), -1.0)                   # 0 × ∞ where relu is constant
@example(("pow", ("x",), 0.0), 1e-310)                           # 0 · x^(−1) at a subnormal x
@example(("mul", ("div", ("x",), ("const", 5e-324)), ("const", 5e-324)), 0.1)   # (x/b)·b, 1/b too large
@example(("relu", ("log", ("x",))), 5e-324)                      # relu(ln x): 0 × (1/x = ∞)
def test_random_expressions_agree_with_finite_differences(tree, point):
    check(tree, point)


@pytest.mark.parametrize("tree, point", [
    (("log", ("sigmoid", ("x",))), -720.0),
    (("mul", ("pow", ("x",), -2.0), ("const", 1e-200)), 1e-110),     # −2x^(−3) = −2e330, times 1e−200
    (("tanh", ("mul", ("x",), ("const", 2.0))), 0.3),                # an ordinary point, for scale
])
def test_chosen_expressions_agree_with_finite_differences(tree, point):
    check(tree, point, require=must)


def must(condition):
    assert condition, "a chosen point must be one where the comparison applies"
