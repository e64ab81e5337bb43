"""Random expressions against finite differences, the edges of float64 included (issue 22).

Hypothesis builds an expression of one variable x from the rule table's scalar ops (with fan-out:
x may appear many times) and a point x from the usual range, the subnormal range (|x| < 2.2e−308),
the tiny and the huge ranges (1e−300, 1e300) and the ranges where exp and σ leave float64
(|x| ≈ 700). The oracle is independent of the engine: the same expression evaluated with mpmath
at 60 digits, and its derivative by a central finite difference there (step 1e−25·|x|; the one-sided ones must agree, or x is a kink and skipped).

What is asserted, where the engine's forward pass computed the true function (every node's value
agrees with mpmath's to 1e−9, or to a few subnormal steps) and every local derivative it used
agrees with mpmath's at those values (a local too large for a float may be ±inf): the gradient
agrees with the finite difference, to 1e−6 of the sum over paths of |product of locals|, plus twice
what the locals' own errors (measured against mpmath's) move it by (`path_size`), plus twice the
difference's own error (against one of a thousandth of the step). So a 0 × ∞ that should be 0, or an inf between two locals
whose product fits, fails here. Points where the function is not smooth (relu at 0), where the
engine refuses an input (log of a negative number) or where the forward value is not finite are
skipped, and so are points where a local on a path that reaches the output is infinite (√a at a = 0,
as in √(x − x), where ∞ − ∞ is all the chain rule can say), and points where the product of an
upstream gradient and a local, both of which fit in a float, does not, or underflows on its way to x
(float64 reverse mode, PyTorch's too, has only inf or 0 for it; a local too large for a float is kept
exact: that is what is tested).
"""

import math

import mpmath
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from microreg import Value, grad
from microreg import ops
from microreg.engine import MathDomainError

mp = mpmath.mp
FLOAT_MAX = mpmath.mpf(1.7976931348623157e308)
SUBNORMAL_STEP = mpmath.mpf(2) ** -1074
FLOAT_MIN = mpmath.mpf(2) ** -1022          # the smallest normal float

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


def hard(tree, x):
    """Whether each local of the node is one the engine keeps as a hard zero: relu left of 0, a⁰."""
    kind = tree[0]
    if kind == "relu":
        return [value(tree[1], x) <= 0]
    if kind == "pow":
        return [tree[2] == 0]
    return [False] * (len(tree) - 1)


def path_size(tree, x, errors, position=None, infinite_above=False):
    """(S, E, sure) for the paths from x up to the root of ``tree``: S = Σ over paths |product of locals|
    (a hard zero ends a path), E = what the engine's errors in its locals (``errors``: one list per
    node, in the order the engine made them) can change the gradient by, to first order: a local whose
    true value is −1e−400 is 0 in float64, and its path (times 1e200, say) moves by 1e−200;
    σ(744)(1 − σ(744)) is 0 in float64 (σ rounds to 1), its true value 5e−324, and times 2e323 from
    1/x that is 1. ``sure`` is False where an infinite local meets a 0 that is not a hard zero below it
    (√(0·x), √(tanh x − tanh x) at 1e200): ∞ · 0, which no float arithmetic can settle."""
    position = [0] if position is None else position
    kind = tree[0]
    if kind == "x":
        return mpmath.mpf(1), mpmath.mpf(0), True
    if kind == "const":
        return mpmath.mpf(0), mpmath.mpf(0), True
    locals_here, hard_here = locals_(tree, x), hard(tree, x)
    sure = True
    below = []
    for child, local, is_hard in zip(tree[1:], locals_here, hard_here):
        if not isinstance(child, tuple):
            below.append((0, 0, True))
            continue
        if infinite_above and local == 0 and not is_hard:
            sure = False
        below.append(path_size(child, x, errors, position,
                               infinite_above=not is_hard and (infinite_above or mpmath.isinf(local))))
    mine = errors[position[0]]
    position[0] += 1
    S = E = mpmath.mpf(0)
    for (S_c, E_c, sure_c), local, error, is_hard in zip(below, locals_here, mine, hard_here):
        sure = sure and sure_c
        if is_hard:
            continue
        if local != 0:                # ∞ times a path of size 0 is 0 here (where it is sure)
            S += abs(local) * S_c if S_c else 0
            E += abs(local) * E_c if E_c else 0
        E += error * S_c if S_c and error else 0
    return S, E, sure


def product_leaves_float64(tree, x, upstream=mpmath.mpf(1)):
    """Whether, walking back from the output, an upstream gradient that fits in a float times a local
    that fits does not fit (∂L/∂node = 1e155 · 7.9e231), or falls below the normal floats before the
    walk reaches x (an upstream of 1.98e−401 is 0, 4e−320 has three digits left): float64 reverse mode
    has only inf, 0 or a few digits for it. (A *local* too large for a float, or an upstream that
    already was, is kept exact.)"""
    if tree[0] in ("x", "const"):
        return False
    wide = abs(upstream) > FLOAT_MAX / 4
    for child, local in zip(tree[1:], locals_(tree, x)):
        if not isinstance(child, tuple) or child[0] == "const" or local == 0:
            continue
        product = upstream * local
        if not wide and abs(local) <= FLOAT_MAX and abs(product) > FLOAT_MAX / 4:
            return True
        if not wide and abs(product) < FLOAT_MIN and child[0] != "x":
            return True
        if product_leaves_float64(child, x, product):
            return True
    return False


def finite_differences(tree, x, step=mpmath.mpf(10) ** -25):
    """(central, from the left, from the right) differences of step ``step``·|x| at x."""
    h = step * (abs(x) if x else SUBNORMAL_STEP)
    below, here, above = value(tree, x - h), value(tree, x), value(tree, x + h)
    return (above - below) / (2 * h), (here - below) / h, (above - here) / h


def exactly(local):
    """An engine local as mpmath holds it: a `Wide` (a local too large for a float) as its m·2^e."""
    if isinstance(local, getattr(ops, "Wide", ())):
        return mpmath.ldexp(mpmath.mpf(local.m), local.e)
    return mpmath.mpf(float(local))


def agrees(engine, exact, rel=mpmath.mpf(10) ** -9, overflow=True):
    """An engine number against mpmath's: within ``rel`` (and a few subnormal steps), or (with
    ``overflow``, for a local derivative) ±inf where the exact number is too large for a float; without
    it (a node's value), a value that underflowed to 0 does not agree."""
    engine = float(engine)
    if not isinstance(exact, mpmath.mpf) and not isinstance(exact, int):
        return False                                          # complex: outside the real domain
    if abs(exact) > FLOAT_MAX and overflow:
        return math.isinf(engine) and (engine > 0) == (exact > 0)
    if engine == 0 and exact != 0 and not overflow:
        return False                      # a value that underflowed to 0: the forward pass lost it
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
        errors = []
        for t, node in nodes:                                 # the forward pass computed the true function
            require(agrees(node.data, value(t, X), overflow=False))
            exact = locals_(t, X)
            mine = node._rule.locals([c.data for c in node._prev], node.data)
            inputs = [c for c in t[1:] if isinstance(c, tuple) and c[0] != "const"]
            require(all(agrees(m, e) for m, e, c in zip(mine, exact, t[1:]) if c in inputs))
            errors.append([abs(exactly(m) - e) if mpmath.isfinite(e) else mpmath.mpf(0) for m, e in zip(mine, exact)])
        d, left, right = finite_differences(tree, X)
        d_fine = finite_differences(tree, X, mpmath.mpf(10) ** -28)[0]    # its own error: about |d − d_fine|
        size, slack, sure = path_size(tree, X, errors)
    except (ZeroDivisionError, ValueError, TypeError):
        require(False)
    require(isinstance(d, mpmath.mpf) and mpmath.isfinite(d) and abs(d) < FLOAT_MAX / 2)
    require(abs(left - right) <= mpmath.mpf(10) ** -12 * (abs(d) + size))     # smooth at x (no kink: relu at 0)
    require(sure and mpmath.isfinite(size))    # an infinite local (√a at a = 0) on a live path: no answer
    require(not product_leaves_float64(tree, X))
    y.backward()
    tol = mpmath.mpf(10) ** -6 * size + 2 * slack + 2 * abs(d - d_fine) + 4 * SUBNORMAL_STEP
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
@example(("div", ("x",), ("mul", ("x",), ("const", 1e200))), 1.0)   # ∂/∂b = −a/b² = −1e−400 underflows to 0
@example(("pow", ("pow", ("sub", ("x",), ("x",)), 0.25), 0.0), 1.0)  # a hard zero above an infinite local
@example(("mul", ("x",), ("mul", ("x",), ("pow", ("x",), -1.0))), 4.453455229533895e-201)   # an upstream underflows
@example(("pow", ("log", ("x",)), 3.0), 1.0)                       # the difference's own error, h² = 1e−50
@example(("pow", ("sub", ("tanh", ("x",)), ("tanh", ("x",))), 0.25), 1e200)   # ∞ · (a 0 that is not hard): skipped
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
